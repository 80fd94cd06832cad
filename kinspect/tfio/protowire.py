"""Protocol buffer wire decoding, without protobuf's runtime, bounded on hostile input.

Enough of https://protobuf.dev/programming-guides/encoding/ for TensorFlow's metadata protos:
varints (a negative ``int32``/``int64`` is the 10-byte two's complement), ``fixed32``/``fixed64``,
length-delimited fields, packed repeated scalars, and unknown fields skipped (groups included).
A field whose wire type disagrees with the schema is an unknown field, as protobuf treats it.

Messages are described by a small declarative schema, ``{field_number: (name, kind, repeated,
sub_schema)}``, and decode to plain dicts: every field of the schema is present, absent ones with
their proto3 default (``0``, ``""``, ``b""``, ``False``, ``[]``, ``None`` for a message). A map is
a repeated message of ``key``/``value`` entries (:func:`as_map`). Repeated occurrences of a
singular field follow protobuf: the last scalar wins, messages merge.

Bounds: a length past its buffer, a varint over 10 bytes, nesting over :data:`MAX_DEPTH`, more
than ``max_items`` decoded values, or invalid UTF-8 in a ``string`` → :class:`TFIOError`. Nothing is
allocated before its length has been checked against the bytes that hold it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any, BinaryIO

from kinspect.tfio.errors import TFIOError

# Wire types.
VARINT, FIXED64, LEN, START_GROUP, END_GROUP, FIXED32 = 0, 1, 2, 3, 4, 5

MAX_DEPTH = 64  # nested messages (and groups) inside one another
MAX_ITEMS = 10_000_000  # decoded values in one decode() call, by default

_U64 = (1 << 64) - 1
_U32 = (1 << 32) - 1

Schema = dict[int, tuple[str, str, bool, "Schema | None"]]

_VARINT_KINDS = frozenset({"int32", "int64", "uint32", "uint64", "sint32", "sint64", "bool", "enum"})
_FIXED32_KINDS = frozenset({"fixed32", "sfixed32", "float"})
_FIXED64_KINDS = frozenset({"fixed64", "sfixed64", "double"})
_LEN_KINDS = frozenset({"string", "bytes", "message"})
KINDS = _VARINT_KINDS | _FIXED32_KINDS | _FIXED64_KINDS | _LEN_KINDS
_DEFAULTS: dict[str, Any] = {"string": "", "bytes": b"", "bool": False, "float": 0.0, "double": 0.0}

Buffer = bytes | bytearray | memoryview


def read_varint(data: Buffer, pos: int, end: int) -> tuple[int, int]:
    """(value as an unsigned 64-bit int, position after it) of the varint at ``data[pos:end]``."""
    if pos < end:
        byte = data[pos]
        if byte < 0x80:
            return byte, pos + 1
    result = shift = 0
    while True:
        if pos >= end:
            raise TFIOError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & _U64, pos
        shift += 7
        if shift >= 70:
            raise TFIOError("varint longer than 10 bytes")


def read_varint32(data: Buffer, pos: int, end: int) -> tuple[int, int]:
    """A LevelDB ``varint32`` (at most 5 bytes, at most 2³² − 1)."""
    result = shift = 0
    while True:
        if pos >= end:
            raise TFIOError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            if result > _U32:
                raise TFIOError("varint32 out of range")
            return result, pos
        shift += 7
        if shift >= 35:
            raise TFIOError("varint32 longer than 5 bytes")


def signed64(value: int) -> int:
    value &= _U64
    return value - (1 << 64) if value >> 63 else value


def signed32(value: int) -> int:
    value &= _U32
    return value - (1 << 32) if value >> 31 else value


def iter_fields(data: Buffer, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) for each field of the message ``data[start:end]``.

    The value is the raw unsigned int of a varint or fixed field, and ``(begin, stop)`` offsets
    into ``data`` for a length-delimited one (nothing is copied). Groups are skipped.
    """
    end = len(data) if end is None else end
    if not 0 <= start <= end <= len(data):
        raise TFIOError("message bounds outside the buffer")
    pos = start
    value: Any
    while pos < end:
        tag, pos = read_varint(data, pos, end)
        field, wire = tag >> 3, tag & 7
        if field == 0 or field > 0x1FFFFFFF:
            raise TFIOError(f"invalid field number {field}")
        if wire == VARINT:
            value, pos = read_varint(data, pos, end)
        elif wire == LEN:
            length, pos = read_varint(data, pos, end)
            if length > end - pos:
                raise TFIOError(f"field {field}: length {length} past the end of its message")
            value = (pos, pos + length)
            pos += length
        elif wire == FIXED32:
            if end - pos < 4:
                raise TFIOError("truncated fixed32")
            value = int.from_bytes(data[pos : pos + 4], "little")
            pos += 4
        elif wire == FIXED64:
            if end - pos < 8:
                raise TFIOError("truncated fixed64")
            value = int.from_bytes(data[pos : pos + 8], "little")
            pos += 8
        elif wire == START_GROUP:
            pos = _skip_group(data, pos, end, field, 1)
            continue
        else:  # END_GROUP without its start, or wire types 6 and 7
            raise TFIOError(f"field {field}: invalid wire type {wire}")
        yield field, wire, value


def _skip_group(data: Buffer, pos: int, end: int, field: int, depth: int) -> int:
    if depth > MAX_DEPTH:
        raise TFIOError("groups nested too deeply")
    while True:
        tag, pos = read_varint(data, pos, end)
        inner, wire = tag >> 3, tag & 7
        if inner == 0:
            raise TFIOError("invalid field number 0")
        if wire == VARINT:
            _, pos = read_varint(data, pos, end)
        elif wire == LEN:
            length, pos = read_varint(data, pos, end)
            if length > end - pos:
                raise TFIOError(f"field {inner}: length {length} past the end of its message")
            pos += length
        elif wire in (FIXED32, FIXED64):
            pos += 4 if wire == FIXED32 else 8
            if pos > end:
                raise TFIOError("truncated fixed field")
        elif wire == START_GROUP:
            pos = _skip_group(data, pos, end, inner, depth + 1)
        elif wire == END_GROUP and inner == field:
            return pos
        else:
            raise TFIOError(f"field {inner}: invalid wire type {wire} in a group")


def new_message(schema: Schema) -> dict[str, Any]:
    """A message of ``schema`` with every field at its default."""
    return {name: [] if rep else (None if kind == "message" else _DEFAULTS.get(kind, 0))
            for name, kind, rep, _ in schema.values()}  # fmt: skip


def decode(schema: Schema, data: Buffer, *, max_items: int = MAX_ITEMS) -> dict[str, Any]:
    """The message ``data`` decoded by ``schema`` (see the module docstring)."""
    out = new_message(schema)
    _decode_into(schema, data, 0, len(data), out, 0, [max_items])
    return out


def _decode_into(
    schema: Schema, data: Buffer, start: int, end: int, out: dict[str, Any], depth: int, budget: list[int]
) -> None:
    if depth > MAX_DEPTH:
        raise TFIOError("messages nested too deeply")
    for field, wire, raw in iter_fields(data, start, end):
        spec = schema.get(field)
        if spec is None:
            continue
        name, kind, repeated, sub = spec
        budget[0] -= 1
        if budget[0] < 0:
            raise TFIOError("too many fields in a message")
        if repeated and wire == LEN and kind not in _LEN_KINDS:
            out[name].extend(_packed(kind, data, raw[0], raw[1], budget))
            continue
        if not _wire_matches(kind, wire):
            continue  # an unknown field to protobuf
        if kind == "message":
            assert sub is not None
            if repeated:
                message = new_message(sub)
                out[name].append(message)
            else:
                message = out[name] if out[name] is not None else new_message(sub)
                out[name] = message
            _decode_into(sub, data, raw[0], raw[1], message, depth + 1, budget)
            continue
        value = _scalar(kind, data, raw)
        if repeated:
            out[name].append(value)
        else:
            out[name] = value


def _wire_matches(kind: str, wire: int) -> bool:
    if wire == VARINT:
        return kind in _VARINT_KINDS
    if wire == LEN:
        return kind in _LEN_KINDS
    if wire == FIXED32:
        return kind in _FIXED32_KINDS
    return kind in _FIXED64_KINDS


def _scalar(kind: str, data: Buffer, raw: Any) -> Any:
    if kind == "string":
        try:
            return bytes(data[raw[0] : raw[1]]).decode("utf-8")
        except UnicodeDecodeError:
            raise TFIOError("invalid UTF-8 in a string field") from None
    if kind == "bytes":
        return bytes(data[raw[0] : raw[1]])
    return convert(kind, raw)


def convert(kind: str, raw: int) -> Any:
    """A raw varint or fixed value as the ``kind`` of its field."""
    if kind in ("int32", "enum"):
        return signed32(raw)
    if kind == "int64" or kind == "sfixed64":
        return signed64(raw)
    if kind == "uint32":
        return raw & _U32
    if kind == "bool":
        return raw != 0
    if kind == "sint32":
        raw &= _U32
        return (raw >> 1) ^ -(raw & 1)
    if kind == "sint64":
        return (raw >> 1) ^ -(raw & 1)
    if kind == "sfixed32":
        return signed32(raw)
    if kind == "float":
        return struct.unpack("<f", raw.to_bytes(4, "little"))[0]
    if kind == "double":
        return struct.unpack("<d", raw.to_bytes(8, "little"))[0]
    return raw  # uint64, fixed32, fixed64


def _packed(kind: str, data: Buffer, start: int, end: int, budget: list[int]) -> list[Any]:
    values: list[Any] = []
    if kind in _VARINT_KINDS:
        pos = start
        while pos < end:
            raw, pos = read_varint(data, pos, end)
            values.append(convert(kind, raw))
            if len(values) > budget[0]:
                raise TFIOError("too many fields in a message")
    else:
        width = 4 if kind in _FIXED32_KINDS else 8
        if (end - start) % width:
            raise TFIOError(f"packed {kind} field of {end - start} bytes")
        if (end - start) // width > budget[0]:
            raise TFIOError("too many fields in a message")
        values = [
            convert(kind, int.from_bytes(data[p : p + width], "little")) for p in range(start, end, width)
        ]
    budget[0] -= len(values)
    if budget[0] < 0:
        raise TFIOError("too many fields in a message")
    return values


def as_map(entries: list[dict[str, Any]]) -> dict[Any, Any]:
    """A protobuf map field (repeated ``key``/``value`` entries) as a dict; the last key wins."""
    return {entry["key"]: entry["value"] for entry in entries}


# -- streaming: fields of a message in a file, skipped by seeking -------------------------------


def read_file_varint(f: BinaryIO, pos: int, end: int) -> tuple[int, int]:
    """The varint at ``pos`` of file ``f`` (not past ``end``), and the position after it."""
    f.seek(pos)
    head = f.read(min(10, end - pos))
    value, used = read_varint(head, 0, len(head))
    return value, pos + used


def iter_file_fields(f: BinaryIO, start: int, end: int) -> Iterator[tuple[int, int, Any]]:
    """:func:`iter_fields` over the message at ``[start, end)`` of a seekable file: a
    length-delimited value is ``(begin, stop)`` file offsets, read by nobody until asked."""
    pos = start
    while pos < end:
        tag, pos = read_file_varint(f, pos, end)
        field, wire = tag >> 3, tag & 7
        if field == 0 or field > 0x1FFFFFFF:
            raise TFIOError(f"invalid field number {field}")
        value: Any
        if wire == VARINT:
            value, pos = read_file_varint(f, pos, end)
        elif wire == LEN:
            length, pos = read_file_varint(f, pos, end)
            if length > end - pos:
                raise TFIOError(f"field {field}: length {length} past the end of its message")
            value = (pos, pos + length)
            pos += length
        elif wire in (FIXED32, FIXED64):
            width = 4 if wire == FIXED32 else 8
            if end - pos < width:
                raise TFIOError("truncated fixed field")
            f.seek(pos)
            value = int.from_bytes(f.read(width), "little")
            pos += width
        else:
            raise TFIOError(f"field {field}: wire type {wire} where a message field was expected")
        yield field, wire, value
