"""A test-side writer of TF1-style TensorBoard event files (``simple_value`` scalars and
``HistogramProto`` histograms, as tf.compat.v1 summaries, tensorboardX and PyTorch write them),
encoded by hand from tensorboard/compat/proto/{event,summary}.proto, independent of kinspect's
reader."""

from __future__ import annotations

import struct
from collections.abc import Sequence

from kinspect.tfio.crc import crc32c, mask


def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _len(field: int, data: bytes) -> bytes:
    return _key(field, 2) + _varint(len(data)) + data


def _double(field: int, v: float) -> bytes:
    return _key(field, 1) + struct.pack("<d", v)


def scalar_value(tag: str, value: float) -> bytes:
    """Summary.Value{tag=1, simple_value=2 (float)}."""
    return _len(1, tag.encode()) + _key(2, 5) + struct.pack("<f", value)


def histo_value(tag: str, values: Sequence[float], limits: Sequence[float]) -> bytes:
    """Summary.Value{tag=1, histo=5: HistogramProto{min=1, max=2, num=3, sum=4, sum_squares=5,
    bucket_limit=6, bucket=7}}."""
    counts = [0.0] * len(limits)
    for v in values:
        counts[next(i for i, lim in enumerate(limits) if v <= lim)] += 1
    proto = (
        _double(1, min(values)) + _double(2, max(values)) + _double(3, float(len(values)))
        + _double(4, float(sum(values))) + _double(5, float(sum(v * v for v in values)))
        + _len(6, struct.pack(f"<{len(limits)}d", *limits))
        + _len(7, struct.pack(f"<{len(counts)}d", *counts))
    )  # fmt: skip
    return _len(1, tag.encode()) + _len(5, proto)


def event(step: int, wall_time: float, *values: bytes) -> bytes:
    """Event{wall_time=1, step=2, summary=5{value=1...}}."""
    summary = b"".join(_len(1, v) for v in values)
    return _double(1, wall_time) + _key(2, 0) + _varint(step) + _len(5, summary)


def version_event() -> bytes:
    return _double(1, 1.0) + _len(3, b"brain.Event:2")


def record(data: bytes) -> bytes:
    """TFRecord framing: length, masked CRC32C of the length, data, masked CRC32C of the data."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", mask(crc32c(length))) + data + struct.pack("<I", mask(crc32c(data)))


def write(path: str, events: Sequence[bytes]) -> None:
    with open(path, "wb") as f:
        f.write(record(version_event()))
        for e in events:
            f.write(record(e))
