"""A test-side writer of TensorBoard event files, encoded by hand from
tensorboard/compat/proto/{event,summary,tensor}.proto, independent of kinspect's reader: protobuf
fields, TFRecord framing, TF2 tensor summaries (``scalars`` and ``histograms`` plugins) and TF1
ones (``simple_value`` scalars and ``HistogramProto`` histograms, as tf.compat.v1 summaries,
tensorboardX and PyTorch write them)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

from kinspect.tfio.crc import crc32c, mask
from tests.tfio.craft import varint


def ld(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def vi(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def f64(number: int, value: float) -> bytes:
    return varint(number << 3 | 1) + struct.pack("<d", value)


def f32(number: int, value: float) -> bytes:
    return varint(number << 3 | 5) + struct.pack("<f", value)


def record(data: bytes) -> bytes:
    """TFRecord framing: length, masked CRC32C of the length, data, masked CRC32C of the data."""
    head = struct.pack("<Q", len(data))
    return head + struct.pack("<I", mask(crc32c(head))) + data + struct.pack("<I", mask(crc32c(data)))


def event(step: int, *values: bytes, wall: float = 1.5e9, extra: bytes = b"") -> bytes:
    """Event{wall_time=1, step=2, summary=5{value=1...}}."""
    return f64(1, wall) + vi(2, step) + ld(5, b"".join(ld(1, v) for v in values)) + extra


FILE_VERSION = f64(1, 1.0e9) + ld(3, b"brain.Event:2")


def metadata(plugin: str) -> bytes:
    return ld(9, ld(1, ld(1, plugin.encode())))


def simple(tag: str, x: float) -> bytes:
    """Summary.Value{tag=1, simple_value=2 (float)}: a TF1 scalar."""
    return ld(1, tag.encode()) + f32(2, x)


def tensor(dtype: int, dims: list[int], content: bytes = b"", extra: bytes = b"") -> bytes:
    return vi(1, dtype) + ld(2, b"".join(ld(2, vi(1, d)) for d in dims)) + ld(4, content) + extra


def scalar_value(tag: str, x: float, plugin: str | None = "scalars") -> bytes:
    """A TF2 scalar: a rank-0 float tensor."""
    meta = metadata(plugin) if plugin is not None else b""
    return ld(1, tag.encode()) + ld(8, tensor(1, [], struct.pack("<f", x))) + meta


def histogram_value(
    tag: str, buckets: list[tuple[float, float, float]], plugin: str | None = "histograms"
) -> bytes:
    """A TF2 histogram: a [k, 3] float64 tensor of (left, right, count)."""
    content = b"".join(struct.pack("<3d", *b) for b in buckets)
    meta = metadata(plugin) if plugin is not None else b""
    return ld(1, tag.encode()) + ld(8, tensor(2, [len(buckets), 3], content)) + meta


def histo_value(
    tag: str,
    limits: Sequence[float],
    counts: Sequence[float],
    lo: float,
    hi: float,
    total: float = 1.0,
    squares: float = 2.0,
) -> bytes:
    """Summary.Value{tag=1, histo=5: HistogramProto{min=1, max=2, num=3, sum=4, sum_squares=5,
    bucket_limit=6, bucket=7}}: a TF1 histogram."""
    proto = f64(1, lo) + f64(2, hi) + f64(3, sum(counts)) + f64(4, total) + f64(5, squares)
    proto += ld(6, struct.pack(f"<{len(limits)}d", *limits)) + ld(7, struct.pack(f"<{len(counts)}d", *counts))
    return ld(1, tag.encode()) + ld(5, proto)


def histo_of(tag: str, values: Sequence[float], limits: Sequence[float]) -> bytes:
    """The TF1 histogram of ``values``, bucketed by ``limits`` as TensorFlow's HistogramProto."""
    counts = [0.0] * len(limits)
    for v in values:
        counts[next(i for i, lim in enumerate(limits) if v <= lim)] += 1
    total, squares = float(sum(values)), float(sum(v * v for v in values))
    return histo_value(tag, limits, counts, min(values), max(values), total, squares)


def write_run(path: str | Path, events: Sequence[bytes]) -> None:
    """An event file: the file-version event, then ``events``."""
    Path(path).write_bytes(record(FILE_VERSION) + b"".join(record(e) for e in events))
