"""TensorBoard event files (``events.out.tfevents.*``): every scalar and histogram, streamed.

An event file is a TFRecord file (``tensorflow/core/lib/io/record_writer.cc``): each record is a
``uint64`` little-endian length, the masked CRC32C of those 8 bytes, the data, and the masked
CRC32C of the data. Each record's data is an ``Event`` (``tensorboard/compat/proto/event.proto``)
whose ``summary`` holds ``Summary.Value``\\ s (``summary.proto``): a ``tag``, optional
``SummaryMetadata`` naming the plugin, and one of ``simple_value`` (TF1, tf.keras, tensorboardX),
``histo`` (a ``HistogramProto``), ``tensor`` (a ``TensorProto``, TF2's ``tf.summary``) or an
image/audio summary. Writers may put the metadata on a tag's first value only, so the plugin of
a tag is remembered from its first value that has metadata, as TensorBoard's accumulators do.

What is read:

- :class:`Scalar`: a ``simple_value``, or a rank-0 float/double/half/bfloat16/integer ``tensor``
  whose tag's plugin is ``scalars`` (Keras's ``epoch_loss``, ``tf.summary.scalar``) or unset.
- :class:`Histogram`: a ``histo``, turned into ``(left, right, count)`` buckets as TensorBoard's
  ``data_compat.py`` does (empty buckets at both ends dropped, ``min``/``max`` as the outer
  edges; kept in float64 where data_compat rounds to float32), or a rank-2 ``[k, 3]`` float
  ``tensor`` whose tag's plugin is ``histograms`` (``tf.summary.histogram``, Keras's
  ``<weight>/histogram``), whose rows are the buckets.
- Anything else (images, audio, text, graph defs, run metadata, other plugins' tensors) is
  skipped without decoding it. A value its plugin calls a scalar or a histogram that is not one
  (a tensor of the wrong shape, content of the wrong size) is a :class:`Problem` and skipped.

Framing (the checks of ``record_reader.cc``; what follows each is kinspect's, for a log that may
be damaged or still being written): a record cut short at the end of the file is a file still
being written (a :class:`Problem`, then the end); a length whose CRC does not match (the file is
not a TFRecord, or the damage makes every later offset unknowable) or a length over
``max_record`` (refused before anything is read) is a :class:`Problem` and the end; a data CRC
mismatch or a record that is not a valid ``Event`` (protobuf would refuse it) is a
:class:`Problem` and the next record is read. The file is read in chunks of :data:`CHUNK`;
memory is bounded by ``max_record``. Only a file that cannot be opened raises
(:class:`~kinspect.tfio.errors.TFIOError`).
"""

from __future__ import annotations

import os
import re
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import google_crc32c

from kinspect.tfio.bundle import SHAPE  # TensorShapeProto, as the checkpoint index stores it
from kinspect.tfio.crc import unmask
from kinspect.tfio.errors import TFIOError, open_binary
from kinspect.tfio.protowire import (
    END_GROUP,
    FIXED32,
    FIXED64,
    LEN,
    START_GROUP,
    VARINT,
    Schema,
    _skip_group,
    decode,
    read_varint,
    signed32,
    signed64,
)

__all__ = ["Histogram", "Problem", "Scalar", "read_events"]

CHUNK = 1 << 20  # bytes read at a time
MAX_RECORD = 64 << 20  # default cap on one record's length

# -- the protos, as far as they are read (tensorboard/compat/proto/*.proto) ----------------------

PLUGIN_DATA: Schema = {1: ("plugin_name", "string", False, None), 2: ("content", "bytes", False, None)}
SUMMARY_METADATA: Schema = {
    1: ("plugin_data", "message", False, PLUGIN_DATA),
    2: ("display_name", "string", False, None),
    3: ("summary_description", "string", False, None),
    4: ("data_class", "enum", False, None),
}
HISTOGRAM_PROTO: Schema = {
    1: ("min", "double", False, None),
    2: ("max", "double", False, None),
    3: ("num", "double", False, None),
    4: ("sum", "double", False, None),
    5: ("sum_squares", "double", False, None),
    6: ("bucket_limit", "double", True, None),
    7: ("bucket", "double", True, None),
}
TENSOR_PROTO: Schema = {
    1: ("dtype", "enum", False, None),
    2: ("tensor_shape", "message", False, SHAPE),
    4: ("tensor_content", "bytes", False, None),
    5: ("float_val", "float", True, None),
    6: ("double_val", "double", True, None),
    7: ("int_val", "int32", True, None),
    10: ("int64_val", "int64", True, None),
    13: ("half_val", "int32", True, None),
    16: ("uint32_val", "uint32", True, None),
    17: ("uint64_val", "uint64", True, None),
}
# Summary.Value's fields (the oneof ``value`` is 2-6 and 8) and Event's (the oneof ``what`` is 3-9).
_TAG, _SIMPLE, _OLD_HISTO, _IMAGE, _HISTO, _AUDIO, _TENSOR, _METADATA = 1, 2, 3, 4, 5, 6, 8, 9
_VALUE_ONEOF_LEN = frozenset({_OLD_HISTO, _IMAGE, _HISTO, _AUDIO, _TENSOR})  # and simple_value, a float
_EVENT_SUMMARY = 5
_EVENT_ONEOF = frozenset({3, 4, 5, 6, 7, 8, 9})

# TensorFlow's DataType (types.proto): struct format of one element in tensor_content, and the
# repeated field that holds the values otherwise.
_DTYPES: dict[int, tuple[str, str]] = {
    1: ("f", "float_val"),  # DT_FLOAT
    2: ("d", "double_val"),  # DT_DOUBLE
    3: ("i", "int_val"),  # DT_INT32
    4: ("B", "int_val"),  # DT_UINT8
    5: ("h", "int_val"),  # DT_INT16
    6: ("b", "int_val"),  # DT_INT8
    9: ("q", "int64_val"),  # DT_INT64
    14: ("H", "half_val"),  # DT_BFLOAT16: the upper 16 bits of a float32
    17: ("H", "int_val"),  # DT_UINT16
    19: ("e", "half_val"),  # DT_HALF
    22: ("I", "uint32_val"),  # DT_UINT32
    23: ("Q", "uint64_val"),  # DT_UINT64
}
_FLOAT_DTYPES = frozenset({1, 2, 14, 19})
_DOUBLE = 2
_BFLOAT16 = 14

_HEADER = struct.Struct("<QI")
_U32 = struct.Struct("<I")
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_ROWS = struct.Struct("<3d").iter_unpack
# The usual rank-0 tensors (dtype, an empty tensor_shape, tensor_content), as tf.summary writes them.
_FLOAT_SCALAR = b'\x08\x01\x12\x00"\x04'
_DOUBLE_SCALAR = b'\x08\x02\x12\x00"\x08'


@dataclass(frozen=True)
class Scalar:
    tag: str
    step: int
    wall_time: float
    value: float


@dataclass(frozen=True)
class Histogram:
    """One histogram value: a TF2 ``[k, 3]`` tensor or a TF1/tensorboardX ``HistogramProto``."""

    tag: str
    step: int
    wall_time: float
    buckets: tuple[tuple[float, float, float], ...]  # (left edge, right edge, count)
    min: float | None = None  # the HistogramProto's own statistics; None for a tensor
    max: float | None = None
    num: float | None = None
    sum: float | None = None
    sum_squares: float | None = None


@dataclass(frozen=True)
class Problem:
    offset: int  # of the record at fault, in bytes from the start of the file
    message: str  # one line, e.g. "record at byte 1234: data CRC mismatch (skipped)"


class _BadValue(ValueError):
    """A value that cannot be what its metadata says (skipped with a Problem)."""


def read_events(
    path: str | os.PathLike[str], *, max_record: int = MAX_RECORD
) -> Iterator[Scalar | Histogram | Problem]:
    """Every scalar and histogram of the event file ``path`` in file order, and its problems.

    Opens the file now (:class:`TFIOError` if it cannot be, or is no regular file: a FIFO would
    block, a device never end), reads it as the iterator is consumed. A read error of the
    operating system midway is a :class:`Problem` and the end.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = stat.S_IFREG  # open_binary says what is wrong
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        name = os.path.basename(os.fspath(path))
        raise TFIOError(f"cannot open event file {name}: not a regular file", os.fspath(path))
    f = open_binary(path, "event file")
    return _read(f, max_record)


def _read(f: BinaryIO, max_record: int) -> Iterator[Scalar | Histogram | Problem]:
    """The records of ``f`` in turn (``record_reader.cc``), read in chunks of :data:`CHUNK`."""
    plugins: dict[str, str] = {}  # tag → plugin name, from the tag's first metadata
    header, u32, crc = _HEADER.unpack_from, _U32.unpack_from, google_crc32c.value
    buf = b""
    pos = 0  # of the next record in buf
    base = 0  # file offset of buf[0]
    eof = False
    with f:
        while True:
            if len(buf) - pos < 12:
                buf, base, pos = buf[pos:], base + pos, 0
                while len(buf) < 12 and not eof:
                    more = _read_some(f, CHUNK)
                    if isinstance(more, OSError):
                        yield _unreadable(base, more)
                        return
                    eof = not more
                    buf += more
                if len(buf) < 12:
                    if buf:
                        yield Problem(base, f"record at byte {base}: {_PARTIAL}")
                    return
            offset = base + pos
            length, length_crc = header(buf, pos)
            if crc(buf[pos : pos + 8]) != unmask(length_crc):
                what = "not a TFRecord file" if offset == 0 else "damaged"
                yield Problem(offset, f"record at byte {offset}: length CRC mismatch, {what} ({_REST})")
                return
            if length > max_record:
                yield Problem(offset, f"record at byte {offset}: length {length} over the limit ({_REST})")
                return
            end = pos + 16 + length
            if end > len(buf):
                buf, base, pos, end = buf[pos:], offset, 0, end - pos
                while len(buf) < end and not eof:
                    more = _read_some(f, max(CHUNK, end - len(buf)))
                    if isinstance(more, OSError):
                        yield _unreadable(offset, more)
                        return
                    eof = not more
                    buf += more
                if len(buf) < end:
                    yield Problem(offset, f"record at byte {offset}: {_PARTIAL}")
                    return
            data = buf[pos + 12 : end - 4]
            data_crc = u32(buf, end - 4)[0]
            pos = end
            if crc(data) != unmask(data_crc):
                yield Problem(offset, f"record at byte {offset}: data CRC mismatch (skipped)")
                continue
            try:
                values = _event_values(data, offset, plugins)
            except (ValueError, IndexError, struct.error, OverflowError) as exc:
                why = " ".join(str(exc).split()) or type(exc).__name__
                yield Problem(offset, f"record at byte {offset}: not a valid Event: {why} (skipped)")
                continue
            yield from values


def _read_some(f: BinaryIO, size: int) -> bytes | OSError:
    try:
        return f.read(size)
    except OSError as exc:  # EIO, a file on a vanished network share…
        return exc


def _unreadable(offset: int, exc: OSError) -> Problem:
    return Problem(offset, f"record at byte {offset}: cannot read: {exc.strerror or exc} ({_REST})")


_PARTIAL = "partial record (file still being written?) ignored"
_REST = "rest of the file ignored"


# -- Event → Summary → Summary.Value, walked by hand: the fields read are few and the records many.
# A short read (struct.error, IndexError) is a damaged record, as every TFIOError here.


def _skip(d: bytes, pos: int, end: int, key: int) -> int:
    """The position after the value of an unread field ``key`` at ``pos``."""
    wire = key & 7
    if key >> 3 == 0:
        raise TFIOError("invalid field number 0")
    if wire == VARINT:
        return read_varint(d, pos, end)[1]
    if wire == LEN:
        length, pos = read_varint(d, pos, end)
        pos += length
    elif wire in (FIXED64, FIXED32):
        pos += 8 if wire == FIXED64 else 4
    elif wire == START_GROUP:
        return _skip_group(d, pos, end, key >> 3, 1)
    else:
        what = "an unopened group end" if wire == END_GROUP else f"invalid wire type {wire}"
        raise TFIOError(f"field {key >> 3}: {what}")
    if pos > end:
        raise TFIOError(f"field {key >> 3} past the end of its message")
    return pos


# The event of one scalar exactly as TensorFlow writes it (fields in order, lengths under 128):
# wall_time, step (absent when 0), summary { value { tag, tensor { DT_FLOAT, shape {}, 4 bytes of
# content } or simple_value, metadata? } }. A match whose lengths add up is that event; anything
# else takes the general walk.
_SCALAR_EVENT = re.compile(
    rb"\x09(.{8})(?:\x10([\x80-\xff]{0,9}[\x00-\x7f]))?\x2a([\x00-\x7f])\x0a([\x00-\x7f])\x0a([\x00-\x7f])"
    rb"(.*?)(?:\x42\x0a\x08\x01\x12\x00\x22\x04(.{4})|\x15(.{4}))(?:\x4a([\x00-\x7f]).*)?",
    re.DOTALL,
)


def _event_values(d: bytes, offset: int, plugins: dict[str, str]) -> list[Scalar | Histogram | Problem]:
    m = _SCALAR_EVENT.fullmatch(d)
    if m is not None:
        wall, raw_step, l_summary, l_value, l_tag, tag, tensor, simple, l_meta = m.groups()
        tag_end = m.end(6)
        if (
            l_summary[0] == len(d) - m.end(3)
            and l_value[0] == len(d) - m.end(4)
            and l_tag[0] == len(tag)
            and (l_meta is None or l_meta[0] == len(d) - tag_end - (5 if tensor is None else 12) - 2)
        ):
            name = tag.decode("utf-8")
            if l_meta is None or name in plugins:
                step = 0 if raw_step is None else signed64(read_varint(raw_step, 0, len(raw_step))[0])
                if simple is not None:
                    return [Scalar(name, step, _F64.unpack(wall)[0], _F32.unpack(simple)[0])]
                plugin = plugins.get(name, "")
                if plugin == "scalars" or plugin == "":
                    return [Scalar(name, step, _F64.unpack(wall)[0], _F32.unpack(tensor)[0])]
                return []
    return _walk_event(d, offset, plugins)


def _walk_event(d: bytes, offset: int, plugins: dict[str, str]) -> list[Scalar | Histogram | Problem]:
    end = len(d)
    pos = 0
    wall_time = 0.0
    step = 0
    summaries: list[tuple[int, int]] = []  # occurrences of Event.summary (protobuf merges them)
    while pos < end:
        key = d[pos]
        pos += 1
        if key == 0x09:  # wall_time
            wall_time = _F64.unpack_from(d, pos)[0]
            pos += 8
        elif key == 0x10:  # step
            step = d[pos]
            if step < 0x80:
                pos += 1
            else:
                step, pos = read_varint(d, pos, end)
                if step >> 63:
                    step = signed64(step)
        elif key == 0x2A:  # summary
            length = d[pos]
            if length < 0x80:
                pos += 1
            else:
                length, pos = read_varint(d, pos, end)
            summaries.append((pos, pos + length))
            pos += length
        else:
            if key >= 0x80:
                key, pos = read_varint(d, pos - 1, end)
            if key & 7 == LEN and key >> 3 in _EVENT_ONEOF:
                summaries = []  # another member of the oneof ``what`` replaces the summary
            pos = _skip(d, pos, end, key)
    if pos > end:
        raise TFIOError("a field past the end of the event")
    out: list[Scalar | Histogram | Problem] = []
    for start, stop in summaries:
        pos = start
        while pos < stop:
            key = d[pos]
            pos += 1
            if key == 0x0A:  # Summary.value
                length = d[pos]
                if length < 0x80:
                    pos += 1
                else:
                    length, pos = read_varint(d, pos, stop)
                begin, pos = pos, pos + length
                if pos > stop:
                    break
                try:
                    value = _value(d, begin, pos, wall_time, step, plugins)
                except _BadValue as exc:
                    out.append(Problem(offset, f"record at byte {offset}: {exc} (skipped)"))
                    continue
                if value is not None:
                    out.append(value)
            else:
                if key >= 0x80:
                    key, pos = read_varint(d, pos - 1, stop)
                pos = _skip(d, pos, stop, key)
        if pos > stop:
            raise TFIOError("a field past the end of the summary")
    return out


def _value(
    d: bytes, pos: int, end: int, wall_time: float, step: int, plugins: dict[str, str]
) -> Scalar | Histogram | None:
    tag = b""
    kind = 0  # the field of the oneof ``value`` set last
    payload: list[tuple[int, int]] = []  # its occurrences (a repeated message merges)
    metadata: list[tuple[int, int]] = []
    simple = 0.0
    while pos < end:
        key = d[pos]
        pos += 1
        if key >= 0x80:
            key, pos = read_varint(d, pos - 1, end)
        if key & 7 == LEN:
            length = d[pos]
            if length < 0x80:
                pos += 1
            else:
                length, pos = read_varint(d, pos, end)
            start, pos = pos, pos + length
            if pos > end:
                break
            field = key >> 3
            if field == _TAG:
                tag = d[start:pos]
            elif field == _METADATA:
                metadata.append((start, pos))
            elif field in _VALUE_ONEOF_LEN:
                if kind != field:
                    kind, payload = field, []
                payload.append((start, pos))
        elif key == 0x15:  # simple_value
            kind, simple = _SIMPLE, _F32.unpack_from(d, pos)[0]
            pos += 4
        else:
            pos = _skip(d, pos, end, key)
    if pos > end:
        raise TFIOError("a field past the end of a summary value")
    name = tag.decode("utf-8")
    if metadata and name not in plugins:
        meta = decode(SUMMARY_METADATA, _join(d, metadata))
        plugins[name] = meta["plugin_data"]["plugin_name"] if meta["plugin_data"] else ""
    if kind == _SIMPLE:
        return Scalar(name, step, wall_time, simple)
    if kind == _HISTO:
        return _histo(name, step, wall_time, _join(d, payload))
    if kind != _TENSOR:
        return None
    plugin = plugins.get(name, "")
    if plugin == "scalars" or plugin == "":
        if len(payload) == 1:
            start, stop = payload[0]
            if stop - start == 10 and d[start : start + 6] == _FLOAT_SCALAR:
                return Scalar(name, step, wall_time, _F32.unpack_from(d, start + 6)[0])
            if stop - start == 14 and d[start : start + 6] == _DOUBLE_SCALAR:
                return Scalar(name, step, wall_time, _F64.unpack_from(d, start + 6)[0])
        dtype, dims, values = _tensor(_join(d, payload), 0)
        if dims == [] and len(values) == 1:
            return Scalar(name, step, wall_time, values[0])
        if plugin == "scalars":
            raise _BadValue(f"tag {name!r}: a scalars value that is not one number")
        return None
    if plugin == "histograms":
        t = _join(d, payload)
        head = _tensor_head(t)
        content = head[2] if head is not None and head[0] == _DOUBLE else b""
        if content and len(content) % 24 == 0 and head is not None and head[1] == [len(content) // 24, 3]:
            return Histogram(name, step, wall_time, tuple(_ROWS(content)))  # as tf.summary writes it
        dtype, dims, values = _tensor(t, 2)
        if dtype not in _FLOAT_DTYPES or dims is None or len(dims) != 2 or dims[1] != 3:
            raise _BadValue(f"tag {name!r}: a histograms value that is not a [k, 3] float tensor")
        rows = tuple(zip(values[0::3], values[1::3], values[2::3], strict=True))
        return Histogram(name, step, wall_time, rows)
    return None


def _join(d: bytes, spans: list[tuple[int, int]]) -> bytes:
    if len(spans) == 1:
        start, stop = spans[0]
        return d[start:stop]
    return b"".join(d[start:stop] for start, stop in spans)


def _histo(tag: str, step: int, wall_time: float, data: bytes) -> Histogram:
    """A ``HistogramProto`` as tensorboard's ``data_compat._migrate_histogram_value`` converts it."""
    h = decode(HISTOGRAM_PROTO, data)
    limits, counts = h["bucket_limit"], h["bucket"]
    n = len(counts)
    start = next((i for i in range(n) if counts[i] > 0), n)
    stop = next((i for i in range(n - 1, -1, -1) if counts[i] > 0), -1)
    lefts, rights = limits[start:stop], limits[start:stop]
    if start <= stop:
        lefts, rights = [h["min"], *lefts], [*rights, h["max"]]
    kept = counts[start : stop + 1]
    if not len(lefts) == len(rights) == len(kept):
        raise _BadValue(f"tag {tag!r}: a histogram of {n} buckets and {len(limits)} bucket limits")
    buckets = tuple(zip(lefts, rights, kept, strict=True))
    return Histogram(tag, step, wall_time, buckets, h["min"], h["max"], h["num"], h["sum"], h["sum_squares"])


_MAX_REPEAT = 1 << 16  # elements one value may stand for ("a single value is repeated")


def _tensor(t: bytes, rank: int) -> tuple[int, list[int] | None, list[float]]:
    """(dtype, dims or None for an unknown rank, every value as a float) of a ``TensorProto``,
    as tensorboard's ``tensor_util.make_ndarray`` reads it: ``tensor_content`` if not empty, else
    the dtype's repeated field (a single value stands for every element). A tensor of another
    rank or a non-numeric dtype gives no values."""
    head = _tensor_head(t)
    dims: list[int] | None
    if head is None:
        proto = decode(TENSOR_PROTO, t)
        shape = proto["tensor_shape"] or {"dim": [], "unknown_rank": False}
        dtype, dims, content = proto["dtype"], [dim["size"] for dim in shape["dim"]], proto["tensor_content"]
        if shape["unknown_rank"]:
            dims = None
    else:
        proto, (dtype, dims, content) = {}, head
    if dtype not in _DTYPES or dims is None or len(dims) != rank:
        return dtype, dims, []
    count = 1
    for size in dims:
        if size < 0:
            raise _BadValue(f"a tensor of shape {dims}")
        count *= size
    fmt, field = _DTYPES[dtype]
    if content:
        width = struct.calcsize(fmt)
        if len(content) != count * width:
            raise _BadValue(f"a tensor of shape {dims} with {len(content)} bytes of content")
        values: list[Any] = list(struct.unpack(f"<{count}{fmt}", content))
    else:
        values = proto.get(field, [])
        if len(values) == 1 and count != 1:
            if count > _MAX_REPEAT:
                raise _BadValue(f"a tensor of shape {dims} from one value")
            values = values * count
        if len(values) != count:
            raise _BadValue(f"a tensor of shape {dims} with {len(values)} values")
        if field == "half_val":
            values = [v & 0xFFFF for v in values]
            if fmt == "e":
                values = list(struct.unpack(f"<{count}e", struct.pack(f"<{count}H", *values)))
    if dtype == _BFLOAT16:
        values = list(struct.unpack(f"<{count}f", struct.pack(f"<{count}I", *(v << 16 for v in values))))
    return dtype, dims, values if dtype in _FLOAT_DTYPES else [float(v) for v in values]


def _tensor_head(t: bytes) -> tuple[int, list[int] | None, bytes] | None:
    """(dtype, dims or None, tensor_content) of a ``TensorProto`` that holds nothing else, as
    TensorFlow writes one (``AsProtoTensorContent``); None for any other field (a slower,
    general decode follows)."""
    dtype, dims, unknown, content = 0, [], False, b""
    pos, end = 0, len(t)
    while pos < end:
        key = t[pos]
        pos += 1
        if key == 0x08:
            raw, pos = read_varint(t, pos, end)
            dtype = signed32(raw)
        elif key == 0x12 or key == 0x22:
            length, pos = read_varint(t, pos, end)
            start, pos = pos, pos + length
            if pos > end:
                raise TFIOError("a tensor field past the end of its message")
            if key == 0x22:
                content = t[start:pos]
                continue
            while start < pos:  # TensorShapeProto
                key = t[start]
                start += 1
                if key == 0x12:  # dim: its size alone, or nothing for a size of 0
                    length, start = read_varint(t, start, pos)
                    stop = start + length
                    if stop > pos:
                        raise TFIOError("a dimension past the end of its shape")
                    if length == 0:
                        dims.append(0)
                    elif t[start] == 0x08:
                        size, start = read_varint(t, start + 1, stop)
                        if start != stop:
                            return None
                        dims.append(signed64(size))
                    else:
                        return None
                    start = stop
                elif key == 0x18:
                    raw, start = read_varint(t, start, pos)
                    unknown = raw != 0
                else:
                    return None
        else:
            return None
    return dtype, None if unknown else dims, content
