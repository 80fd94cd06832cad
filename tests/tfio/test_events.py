"""TensorBoard event files: every value TensorFlow reads, the framing errors, hostile bytes.

Oracles: the files ``tests/build_events.py`` writes with TensorFlow, Keras 3 and tf_keras, read by
TensorFlow's ``summary_iterator`` and tensorboard's ``data_compat`` in the builder; for crafted
records, tensorboard's own protos (pure protobuf, no TensorFlow) parse what the test encoder
wrote, and hypothesis builds values with tensorboard's ``make_tensor_proto``.
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
import random
import struct
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.util import tensor_util

from kinspect.tfio import TFIOError
from kinspect.tfio import events as ev
from kinspect.tfio.crc import crc32c, mask
from kinspect.tfio.events import Histogram, Problem, Scalar, read_events
from tests.conftest import deadline
from tests.eventcraft import (
    FILE_VERSION,
    event,
    f32,
    f64,
    histo_value,
    histogram_value,
    ld,
    metadata,
    record,
    scalar_value,
    simple,
    tensor,
    vi,
)
from tests.keras_build import built
from tests.tfio.craft import mutate, varint

# -- what TensorFlow wrote, and read ------------------------------------------------------------

RUNS = ["tf2", "keras3/train", "keras3/validation", "tf_keras/train", "tf_keras/validation", "tf1"]


@pytest.fixture(scope="session")
def event_files() -> Path:
    return built("build_events.py")


def oracle(root: Path) -> dict[str, Any]:
    return json.loads((root / "oracle.json").read_text())


def event_file(root: Path, run: str) -> tuple[Path, dict[str, Any]]:
    (name,) = [n for n in oracle(root)["files"] if n.rsplit("/", 1)[0] == run]
    return root / name, oracle(root)["files"][name]


def number(x: float | str) -> Any:
    """The oracle's spelling of a float (JSON has no NaN or infinities)."""
    return repr(x) if isinstance(x, float) and not math.isfinite(x) else x


def rows(buckets: tuple[tuple[float, float, float], ...]) -> list[list[float]]:
    return [list(b) for b in buckets]


@pytest.mark.parametrize("run", RUNS)
def test_every_value_is_what_tensorflow_reads(event_files: Path, run: str) -> None:
    path, want = event_file(event_files, run)
    got = list(read_events(str(path)))
    assert [v for v in got if isinstance(v, Problem)] == []
    scalars = [[v.tag, v.step, v.wall_time, number(v.value)] for v in got if isinstance(v, Scalar)]
    assert scalars == want["scalars"]
    histograms = [v for v in got if isinstance(v, Histogram)]
    assert [[h.tag, h.step, h.wall_time, rows(h.buckets)] for h in histograms] == [
        w[:4] for w in want["histograms"]
    ]
    for h, (*_, float32, stats) in zip(histograms, want["histograms"], strict=True):
        if stats is None:  # a tensor: no statistics of its own
            assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (None,) * 5
        else:  # a HistogramProto: tensorboard's data_compat makes the same buckets, in float32
            assert [h.min, h.max, h.num, h.sum, h.sum_squares] == stats
            assert np.array_equal(
                np.array(rows(h.buckets), np.float32).reshape(-1, 3), np.array(float32).reshape(-1, 3)
            )
    assert scalars or histograms  # the oracle is not empty: the test can fail


def test_the_files_hold_what_the_contract_names(event_files: Path) -> None:
    """The builder wrote every kind of value the reader must handle, and values it must skip."""
    files = oracle(event_files)["files"]
    kinds = {(run, tag) for run in RUNS for tag in event_file(event_files, run)[1]["skipped"]}
    assert {("tf2", "notes"), ("tf2", "picture"), ("tf2", "vector"), ("tf1", "picture")} <= kinds
    tf2 = event_file(event_files, "tf2")[1]
    assert {s[0] for s in tf2["scalars"]} >= {
        f"dtype/{t}" for t in ("float64", "float16", "bfloat16", "int64")
    }
    assert {"nan", "inf", "-inf"} <= {s[3] for s in tf2["scalars"]}
    tf1 = event_file(event_files, "tf1")[1]
    assert any(h[5] is not None and h[3] == [] for h in tf1["histograms"])  # all buckets empty
    assert all(f["plugins"].get("epoch_loss", "scalars") == "scalars" for f in files.values())


@pytest.mark.parametrize("keras", ["keras3", "tf_keras"])
def test_keras_callback_epochs_are_the_history(event_files: Path, keras: str) -> None:
    """``epoch_<metric>`` of ``train/`` and ``validation/`` are what ``fit()`` returned, as float32."""
    history = oracle(event_files)["histories"][keras]
    for run, prefix in (("train", ""), ("validation", "val_")):
        values = list(read_events(str(event_file(event_files, f"{keras}/{run}")[0])))
        for metric in ("loss", "accuracy"):
            series = [
                (v.step, v.value) for v in values if isinstance(v, Scalar) and v.tag == f"epoch_{metric}"
            ]
            expected = [float(np.float32(x)) for x in history[prefix + metric]]
            assert series == list(enumerate(expected))
    train = list(read_events(str(event_file(event_files, f"{keras}/train")[0])))
    weights = {v.tag for v in train if isinstance(v, Histogram)}
    assert weights and all(tag.endswith("/histogram") for tag in weights)
    assert {v.step for v in train if isinstance(v, Histogram)} == {0, 1, 2}


# -- crafted files (tests/eventcraft.py encodes them) ---------------------------------------------


def write(path: Path, *records: bytes) -> str:
    path.write_bytes(b"".join(records))
    return str(path)


def split(items: list[Any]) -> tuple[list[Any], list[Problem]]:
    return [v for v in items if not isinstance(v, Problem)], [v for v in items if isinstance(v, Problem)]


def three_records() -> list[bytes]:
    return [record(FILE_VERSION)] + [record(event(s, scalar_value("loss", s / 4))) for s in range(3)]


# -- framing ------------------------------------------------------------------------------------


def test_a_clean_file(tmp_path: Path) -> None:
    got = list(read_events(write(tmp_path / "e", *three_records())))
    assert got == [Scalar("loss", s, 1.5e9, s / 4) for s in range(3)]


def test_empty_file_has_nothing(tmp_path: Path) -> None:
    assert list(read_events(write(tmp_path / "e"))) == []


def test_truncated_last_record_at_every_byte(tmp_path: Path) -> None:
    """A file still being written: the complete records, then one note about the partial one."""
    records = three_records()
    whole = b"".join(records)
    last = len(whole) - len(records[-1])
    for cut in range(last + 1, len(whole)):
        got = list(read_events(write(tmp_path / "e", whole[:cut])))
        values, problems = split(got)
        assert values == [Scalar("loss", s, 1.5e9, s / 4) for s in range(2)]
        assert len(problems) == 1 and problems[0].offset == last and got[-1] is problems[0]
        assert (
            problems[0].message
            == f"record at byte {last}: partial record (file still being written?) ignored"
        )


def test_length_crc_mismatch_stops(tmp_path: Path) -> None:
    records = three_records()
    bad = bytearray(records[2])
    bad[9] ^= 0x40  # the length's CRC
    offset = len(records[0]) + len(records[1])
    got = list(read_events(write(tmp_path / "e", records[0], records[1], bytes(bad), records[3])))
    assert got[:-1] == [Scalar("loss", 0, 1.5e9, 0.0)]
    assert got[-1].offset == offset
    assert got[-1].message == (
        f"record at byte {offset}: length CRC mismatch, damaged (rest of the file ignored)"
    )


def test_a_damaged_length_is_caught_by_its_crc(tmp_path: Path) -> None:
    records = three_records()
    bad = bytearray(records[1])
    bad[0] += 1
    got = list(read_events(write(tmp_path / "e", records[0], bytes(bad), *records[2:])))
    assert got == [Problem(len(records[0]), f"record at byte {len(records[0])}: length CRC mismatch, "
                                            "damaged (rest of the file ignored)")]  # fmt: skip


def test_data_crc_mismatch_skips_the_record(tmp_path: Path) -> None:
    records = three_records()
    for where in (12, len(records[2]) - 5, len(records[2]) - 1):  # first data byte, last, the CRC
        bad = bytearray(records[2])
        bad[where] ^= 0x01
        offset = len(records[0]) + len(records[1])
        got = list(read_events(write(tmp_path / "e", records[0], records[1], bytes(bad), records[3])))
        assert got == [
            Scalar("loss", 0, 1.5e9, 0.0),
            Problem(offset, f"record at byte {offset}: data CRC mismatch (skipped)"),
            Scalar("loss", 2, 1.5e9, 0.5),
        ]


@pytest.mark.parametrize("length", [2**63 + 5, 2**40, 65 << 20])
def test_absurd_length_is_refused_before_reading(tmp_path: Path, length: int) -> None:
    head = struct.pack("<Q", length)
    path = write(
        tmp_path / "e", record(FILE_VERSION), head, struct.pack("<I", mask(crc32c(head))), b"x" * 100
    )
    tracemalloc.start()
    got = list(read_events(path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    offset = len(record(FILE_VERSION))
    assert got == [Problem(offset, f"record at byte {offset}: length {length} over the limit "
                                   "(rest of the file ignored)")]  # fmt: skip
    assert peak < 4 * ev.CHUNK


def test_max_record_is_the_limit(tmp_path: Path) -> None:
    records = three_records()
    size = len(records[1]) - 16
    assert split(list(read_events(write(tmp_path / "e", *records), max_record=size)))[1] == []
    got = list(read_events(write(tmp_path / "e", *records), max_record=size - 1))
    assert got == [Problem(len(records[0]), f"record at byte {len(records[0])}: length {size} over the limit "
                                            "(rest of the file ignored)")]  # fmt: skip


@pytest.mark.parametrize(
    "garbage",
    [
        b"epoch,loss\n0,1.5\n1,1.25\n" * 10,
        bytes(range(256)) * 4,
        b"\x00" * 11,
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
    ],
)
def test_garbage_is_one_problem(tmp_path: Path, garbage: bytes) -> None:
    got = list(read_events(write(tmp_path / "e", garbage)))
    assert len(got) == 1 and isinstance(got[0], Problem) and got[0].offset == 0
    if len(garbage) >= 12:
        assert (
            got[0].message
            == "record at byte 0: length CRC mismatch, not a TFRecord file (rest of the file ignored)"
        )


def test_zero_bytes_is_an_empty_record_of_a_zero_length(tmp_path: Path) -> None:
    """Twelve zero bytes: length 0 and a CRC that is not the masked CRC of the length."""
    assert mask(crc32c(bytes(8))) != 0
    got = list(read_events(write(tmp_path / "e", bytes(64))))
    assert [p.offset for p in got] == [0]


def test_unopenable_files_raise_at_the_call(tmp_path: Path) -> None:
    with pytest.raises(TFIOError, match="cannot open event file missing"):
        read_events(str(tmp_path / "missing"))
    with pytest.raises(TFIOError, match="cannot open event file"):
        read_events(str(tmp_path))


def test_a_fifo_or_device_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "events.out.tfevents.1.fifo"
    os.mkfifo(fifo)
    with deadline(10, "opening a FIFO blocked"), pytest.raises(TFIOError, match="not a regular file"):
        read_events(fifo)
    with pytest.raises(TFIOError, match="zero: not a regular file"):
        read_events("/dev/zero")


class FailingFile(io.BytesIO):
    """A file whose second read fails, as on a vanished network share."""

    def read(self, size: int | None = -1) -> bytes:
        if self.tell():
            raise OSError(errno.EIO, "Input/output error")
        return super().read(size if size is None or size < 0 else min(size, 120))


def test_a_read_error_midway_is_the_last_problem() -> None:
    data = b"".join(three_records())
    got = list(ev._read(FailingFile(data), ev.MAX_RECORD))
    values, problems = split(got)
    assert values == [Scalar("loss", 0, 1.5e9, 0.0)]  # the records in the first read
    assert got[-1] == problems[0] and len(problems) == 1
    assert problems[0].message.endswith(": cannot read: Input/output error (rest of the file ignored)")


def test_records_across_chunk_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every chunk size gives the same values: records split anywhere, records over a chunk."""
    records = [record(FILE_VERSION)]
    for s in range(40):
        buckets = [(float(i), i + 1.0, float(s)) for i in range(1 + 7 * s)]
        records.append(record(event(s, scalar_value("loss", s), histogram_value("w", buckets))))
    path = write(tmp_path / "e", *records)
    want = list(read_events(path))
    assert len(want) == 80 and split(want)[1] == []
    for chunk in (1, 5, 12, 13, 100, 4096):
        monkeypatch.setattr(ev, "CHUNK", chunk)
        assert list(read_events(path)) == want


# -- what a record holds ------------------------------------------------------------------------


def parsed(data: bytes) -> event_pb2.Event:
    """The event as protobuf (tensorboard's own proto) parses it: the test encoder is honest."""
    return event_pb2.Event.FromString(data)


def test_unknown_fields_everywhere_are_skipped(tmp_path: Path) -> None:
    unknown = (
        vi(90, 7)
        + f64(91, 2.0)
        + f32(92, 3.0)
        + ld(93, b"xyz")
        + varint(94 << 3 | 3)
        + vi(1, 5)
        + varint(94 << 3 | 4)
    )
    value = ld(1, b"loss") + unknown + ld(8, tensor(1, [], struct.pack("<f", 0.25), extra=unknown))
    value += ld(9, ld(1, ld(1, b"scalars") + unknown) + unknown)
    histo = (
        f64(1, -1.0)
        + unknown
        + f64(2, 4.0)
        + ld(6, struct.pack("<2d", 0.0, 1.0))
        + ld(7, struct.pack("<2d", 2.0, 3.0))
    )
    data = (
        f64(1, 7.0) + unknown + vi(2, 3) + ld(5, ld(1, value) + unknown + ld(1, ld(1, b"h") + ld(5, histo)))
    )
    proto = parsed(data)
    assert proto.step == 3 and proto.summary.value[0].tensor.tensor_content == struct.pack("<f", 0.25)
    assert list(proto.summary.value[1].histo.bucket) == [2.0, 3.0]
    got = list(read_events(write(tmp_path / "e", record(data))))
    assert got == [
        Scalar("loss", 3, 7.0, 0.25),
        Histogram("h", 3, 7.0, ((-1.0, 0.0, 2.0), (0.0, 4.0, 3.0)), -1.0, 4.0, 0.0, 0.0, 0.0),
    ]


def test_a_record_that_is_no_event_is_skipped(tmp_path: Path) -> None:
    records = three_records()
    bad = record(b"\x0a\x05ab")  # a length past its message
    with pytest.raises(Exception):  # noqa: B017 - protobuf's own DecodeError
        parsed(b"\x0a\x05ab")
    got = list(read_events(write(tmp_path / "e", records[0], records[1], bad, records[2])))
    offset = len(records[0]) + len(records[1])
    assert got[0] == Scalar("loss", 0, 1.5e9, 0.0) and got[2] == Scalar("loss", 1, 1.5e9, 0.25)
    assert got[1].offset == offset and got[1].message.startswith(
        f"record at byte {offset}: not a valid Event: "
    )
    assert got[1].message.endswith(" (skipped)") and "\n" not in got[1].message


def test_plugin_comes_from_a_tags_first_metadata(tmp_path: Path) -> None:
    buckets = [(0.0, 1.0, 2.0), (1.0, 2.0, 0.0)]
    path = write(
        tmp_path / "e",
        record(event(0, histogram_value("w", buckets), scalar_value("img", 1.0, plugin="images"))),
        record(event(1, histogram_value("w", buckets, plugin=None), scalar_value("img", 2.0, plugin=None))),
        record(
            event(2, histogram_value("w", buckets, plugin="scalars"), scalar_value("free", 3.0, plugin=None))
        ),
    )
    got = list(read_events(path))
    assert got == [Histogram("w", s, 1.5e9, tuple(buckets)) for s in range(3)] + [
        Scalar("free", 2, 1.5e9, 3.0)
    ]


def test_simple_values_and_histogram_protos(tmp_path: Path) -> None:
    path = write(
        tmp_path / "e",
        record(
            event(
                4,
                simple("acc", 0.75),
                histo_value("h", [0.0, 1.0, 2.0, 9.0], [0.0, 3.0, 5.0, 0.0], -2.0, 3.0),
            )
        ),
        record(event(5, histo_value("none", [1.0], [0.0], 1.7e308, -1.7e308), simple("acc", -1.0))),
    )
    got = list(read_events(path))
    assert got == [
        Scalar("acc", 4, 1.5e9, 0.75),
        Histogram("h", 4, 1.5e9, ((-2.0, 1.0, 3.0), (1.0, 3.0, 5.0)), -2.0, 3.0, 8.0, 1.0, 2.0),
        Histogram("none", 5, 1.5e9, (), 1.7e308, -1.7e308, 0.0, 1.0, 2.0),
        Scalar("acc", 5, 1.5e9, -1.0),
    ]


def test_skipped_kinds_cost_nothing_and_say_nothing(tmp_path: Path) -> None:
    image = ld(1, b"img") + ld(4, vi(1, 1) + vi(2, 1) + ld(4, b"\x89PNG" * 1000))
    text = ld(1, b"txt") + ld(8, vi(1, 7) + ld(2, b"") + ld(8, b"hello")) + metadata("text")
    graph = f64(1, 1.0) + ld(4, b"\x0a\x03abc" * 1000)
    path = write(tmp_path / "e", record(graph), record(event(1, image, text, simple("x", 1.0))))
    assert list(read_events(path)) == [Scalar("x", 1, 1.5e9, 1.0)]


def test_a_later_oneof_member_replaces_the_summary(tmp_path: Path) -> None:
    data = event(1, simple("x", 1.0)) + ld(3, b"brain.Event:2")
    assert not parsed(data).HasField("summary")
    assert list(read_events(write(tmp_path / "e", record(data)))) == []


def test_malformed_values_are_problems_not_values(tmp_path: Path) -> None:
    short = ld(1, b"w") + ld(8, tensor(2, [2, 3], struct.pack("<5d", *range(5)))) + metadata("histograms")
    vector = ld(1, b"s") + ld(8, tensor(1, [2], struct.pack("<2f", 1, 2))) + metadata("scalars")
    path = write(tmp_path / "e", record(event(1, short, vector, simple("ok", 1.0))))
    values, problems = split(list(read_events(path)))
    assert values == [Scalar("ok", 1, 1.5e9, 1.0)]
    assert [p.message for p in problems] == [
        "record at byte 0: a tensor of shape [2, 3] with 40 bytes of content (skipped)",
        "record at byte 0: tag 's': a scalars value that is not one number (skipped)",
    ]


# Values built by tensorboard's own make_tensor_proto (tensor_content for arrays, the typed
# *_val fields for Python numbers) and read back by its make_ndarray: the reader agrees.
DTYPES = ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "uint16"]


@st.composite
def summary_values(draw: st.DrawFn) -> tuple[summary_pb2.Summary.Value, Any]:
    kind = draw(st.sampled_from(["simple", "scalar", "scalar_val", "histogram", "histo"]))
    tag = draw(st.text(min_size=0, max_size=12))
    value = summary_pb2.Summary.Value(tag=tag)
    if kind == "simple":
        x = float(np.float32(draw(st.floats(width=32, allow_nan=False))))
        value.simple_value = x
        return value, ("scalar", x)
    if kind in ("scalar", "scalar_val"):
        dtype = draw(st.sampled_from(DTYPES))
        info = np.finfo(dtype) if dtype.startswith("float") else np.iinfo(dtype)
        if dtype.startswith("float"):
            x = np.array(draw(st.floats(float(info.min), float(info.max), allow_nan=False, width=64)), dtype)
        else:
            x = np.array(draw(st.integers(int(info.min), int(info.max))), dtype)
        proto = tensor_util.make_tensor_proto(x if kind == "scalar" else x.item(), dtype=dtype)
        value.tensor.CopyFrom(proto)
        value.metadata.plugin_data.plugin_name = "scalars"
        return value, ("scalar", float(tensor_util.make_ndarray(value.tensor)))
    if kind == "histogram":
        k = draw(st.integers(0, 40))
        data = draw(st.lists(st.floats(allow_nan=False), min_size=3 * k, max_size=3 * k))
        value.tensor.CopyFrom(tensor_util.make_tensor_proto(np.array(data, np.float64).reshape(k, 3)))
        value.metadata.plugin_data.plugin_name = "histograms"
        return value, ("histogram", tensor_util.make_ndarray(value.tensor).tolist())
    n = draw(st.integers(0, 12))
    counts = draw(st.lists(st.sampled_from([0.0, 0.0, 1.0, 7.0]), min_size=n, max_size=n))
    limits = sorted(draw(st.lists(st.floats(-1e6, 1e6), min_size=n, max_size=n)))
    value.histo.min, value.histo.max = draw(st.floats(allow_nan=False)), draw(st.floats(allow_nan=False))
    value.histo.bucket.extend(counts)
    value.histo.bucket_limit.extend(limits)
    nonzero = [i for i, c in enumerate(counts) if c > 0]
    buckets = []
    if nonzero:  # tensorboard's data_compat._migrate_histogram_value, in float64
        a, b = nonzero[0], nonzero[-1]
        lefts, rights = [value.histo.min, *limits[a:b]], [*limits[a:b], value.histo.max]
        buckets = [list(r) for r in zip(lefts, rights, counts[a : b + 1], strict=True)]
    return value, ("histogram", buckets)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(summary_values(), min_size=1, max_size=6), st.integers(-(2**63), 2**63 - 1))
def test_values_tensorboard_makes(tmp_path: Path, items: list[tuple[Any, Any]], step: int) -> None:
    events = []
    for i, (value, _) in enumerate(items):  # one tag per event, so that each has its metadata
        value.tag = f"{i}:{value.tag}"
        events.append(
            event_pb2.Event(wall_time=0.5 + i, step=step, summary=summary_pb2.Summary(value=[value]))
        )
    path = write(tmp_path / "e", *(record(e.SerializeToString()) for e in events))
    got = list(read_events(path))
    assert len(got) == len(items)
    for v, (value, (kind, want)) in zip(got, items, strict=True):
        assert (v.tag, v.step) == (value.tag, step)
        if kind == "scalar":
            assert isinstance(v, Scalar) and v.value == want
        else:
            assert isinstance(v, Histogram) and rows(v.buckets) == want


# -- hostile bytes: only the contract's behaviour, in bounded time and memory --------------------


@pytest.fixture
def _deadline() -> Iterator[None]:
    with deadline(120, "reading event files ran longer than 120 s: it hangs"):
        yield


def refix_crcs(data: bytes) -> bytes:
    """Recompute the CRCs of every record whose framing still holds, so damage reaches the protos."""
    out, pos = bytearray(data), 0
    while pos + 12 <= len(out):
        length = struct.unpack_from("<Q", out, pos)[0]
        out[pos + 8 : pos + 12] = struct.pack("<I", mask(crc32c(bytes(out[pos : pos + 8]))))
        if length > len(out) - pos - 16:
            break
        body = bytes(out[pos + 12 : pos + 12 + length])
        out[pos + 12 + length : pos + 16 + length] = struct.pack("<I", mask(crc32c(body)))
        pos += 16 + length
    return bytes(out)


def check_contract(got: list[Any]) -> None:
    for v in got:
        assert isinstance(v, Scalar | Histogram | Problem)
        if isinstance(v, Problem):
            assert "\n" not in v.message and v.message.startswith(f"record at byte {v.offset}: ")
        else:
            assert isinstance(v.tag, str) and isinstance(v.step, int) and isinstance(v.wall_time, float)
    stops = [i for i, v in enumerate(got) if isinstance(v, Problem) and "(skipped)" not in v.message]
    assert stops in ([], [len(got) - 1])  # a problem that ends the reading is the last thing


@pytest.mark.usefixtures("_deadline")
@pytest.mark.parametrize("run", ["tf2", "keras3/train", "tf1"])
def test_mutated_files(event_files: Path, tmp_path: Path, run: str) -> None:
    original = event_file(event_files, run)[0].read_bytes()
    rng = random.Random(f"events-{run}")
    outcomes = {"problems": 0, "clean": 0}
    for i in range(200):
        data = mutate(rng, original)
        if i % 2:
            data = refix_crcs(data)
        got = list(read_events(write(tmp_path / "e", data)))
        check_contract(got)
        outcomes["problems" if any(isinstance(v, Problem) for v in got) else "clean"] += 1
    assert outcomes["problems"] > 50, outcomes


def records_of(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        length = struct.unpack_from("<Q", data, pos)[0]
        out.append(data[pos + 12 : pos + 12 + length])
        pos += 16 + length
    return out


def key(x: float) -> Any:
    return repr(x) if math.isnan(x) else x


def proto_histogram(h: Any) -> list[list[float]]:
    """tensorboard's data_compat._migrate_histogram_value, in float64 (ragged input: its error)."""
    counts, limits = list(h.bucket), list(h.bucket_limit)
    nonzero = [i for i, c in enumerate(counts) if c > 0]
    if not nonzero:
        return []
    a, b = nonzero[0], nonzero[-1]
    lefts, rights = [h.min, *limits[a:b]], [*limits[a:b], h.max]
    return [[key(x) for x in r] for r in zip(lefts, rights, counts[a : b + 1], strict=True)]


def what_protobuf_reads(events: list[Any]) -> list[Any]:
    """The values of the events, as parsed by protobuf and made numbers by tensorboard, under the
    contract's rules; ``("bad", tag)`` where tensorboard cannot make the value what its plugin says."""
    plugins: dict[str, str] = {}
    out: list[Any] = []
    for e in events:
        if e.WhichOneof("what") != "summary":
            continue
        for v in e.summary.value:
            if v.HasField("metadata") and v.tag not in plugins:
                plugins[v.tag] = v.metadata.plugin_data.plugin_name
            kind, head = v.WhichOneof("value"), (v.tag, e.step, e.wall_time)
            plugin = plugins.get(v.tag, "")
            if kind == "simple_value":
                out.append(("s", *head, key(v.simple_value)))
            elif kind == "histo":
                try:
                    out.append(("h", *head, proto_histogram(v.histo)))
                except ValueError:
                    out.append(("bad", v.tag))
            elif kind == "tensor" and plugin in ("scalars", "histograms", ""):
                try:
                    array = tensor_util.make_ndarray(v.tensor)
                except (ValueError, TypeError):  # numpy cannot shape the values
                    array = None
                if (
                    array is not None
                    and plugin != "histograms"
                    and array.ndim == 0
                    and array.dtype.kind in "fiu"
                ):
                    out.append(("s", *head, key(float(array))))
                elif (
                    array is not None
                    and plugin == "histograms"
                    and array.shape[1:] == (3,)
                    and array.ndim == 2
                ):
                    out.append(("h", *head, [[key(x) for x in r] for r in array.astype(float).tolist()]))
                elif plugin != "" and (array is None or plugin == "scalars" or array.dtype.kind in "fiu"):
                    out.append(("bad", v.tag))
    return out


def what_kinspect_reads(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if isinstance(v, Scalar):
            out.append(("s", v.tag, v.step, v.wall_time, key(v.value)))
        elif isinstance(v, Histogram):
            out.append(("h", v.tag, v.step, v.wall_time, [[key(x) for x in b] for b in v.buckets]))
        else:
            out.append(("bad", v.message))
    return out


@pytest.mark.usefixtures("_deadline")
@pytest.mark.parametrize("run", ["keras3/train", "tf1", "tf_keras/validation"])
def test_mutated_events_read_as_protobuf_reads_them(event_files: Path, tmp_path: Path, run: str) -> None:
    """Damaged events in sound records: whenever protobuf parses them, the same values."""
    bodies = records_of(event_file(event_files, run)[0].read_bytes())
    rng = random.Random(f"events-proto-{run}")
    compared = 0
    for _ in range(300):
        mutants = list(bodies)
        i = rng.randrange(1, len(bodies))
        mutants[i] = mutate(rng, bodies[i])
        got = list(read_events(write(tmp_path / "e", *(record(b) for b in mutants))))
        check_contract(got)
        try:
            events = [event_pb2.Event.FromString(b) for b in mutants]
        except DecodeError:  # protobuf refuses the bytes: only the contract holds
            continue
        want = what_protobuf_reads(events)
        mine = what_kinspect_reads(got)
        assert [w for w in mine if w[0] != "bad"] == [w for w in want if w[0] != "bad"]
        assert len([w for w in mine if w[0] == "bad"]) == len([w for w in want if w[0] == "bad"]), mine
        compared += 1
    assert compared > 30


@pytest.mark.usefixtures("_deadline")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=80), max_size=6), st.binary(max_size=20))
def test_any_records(tmp_path: Path, bodies: list[bytes], tail: bytes) -> None:
    """Random bytes as well-framed records (the CRCs right) and a random tail: only the contract."""
    got = list(read_events(write(tmp_path / "e", *(record(b) for b in bodies), tail)))
    check_contract(got)


def test_memory_is_bounded_while_streaming(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 3 MB file read value by value in 64 KiB chunks: peak memory stays a few chunks."""
    monkeypatch.setattr(ev, "CHUNK", 1 << 16)
    buckets = [(float(i), i + 1.0, 3.0) for i in range(60)]
    image = ld(1, b"img") + ld(4, vi(1, 1) + vi(2, 1) + ld(4, bytes(range(256)) * 80))
    one = record(event(1, histogram_value("w", buckets), scalar_value("loss", 0.5), image))
    path = tmp_path / "big"
    with open(path, "wb") as f:
        for _ in range(3_000_000 // len(one)):
            f.write(one)
    tracemalloc.start()
    started = time.perf_counter()
    count = sum(1 for _ in read_events(str(path)))
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 2 * (3_000_000 // len(one))
    assert peak < 4 * ev.CHUNK, peak
    assert elapsed < 60
