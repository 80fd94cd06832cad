"""Protobuf wire decoding and CRC32C: known values, bounds, and protobuf itself as the oracle."""

from __future__ import annotations

import contextlib
import math
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinspect.tfio import TFIOError
from kinspect.tfio import protowire as pw
from kinspect.tfio.crc import crc32c, mask, unmask
from tests.tfio.craft import field, varint

# -- CRC32C ------------------------------------------------------------------------------------


def test_crc32c_known_values() -> None:
    """RFC 3720 B.4 and LevelDB's crc32c_test.cc."""
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert crc32c(b"world", crc32c(b"hello ")) == crc32c(b"hello world")


@given(st.integers(0, 2**32 - 1))
def test_mask_round_trip(crc: int) -> None:
    assert unmask(mask(crc)) == crc
    assert mask(crc) == ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def test_mask_differs() -> None:
    crc = crc32c(b"foo")
    assert mask(crc) != crc and mask(mask(crc)) != mask(crc)


# -- wire decoding -----------------------------------------------------------------------------

SCALARS: pw.Schema = {
    1: ("i32", "int32", False, None),
    2: ("i64", "int64", False, None),
    3: ("u32", "uint32", False, None),
    4: ("u64", "uint64", False, None),
    5: ("s32", "sint32", False, None),
    6: ("s64", "sint64", False, None),
    7: ("b", "bool", False, None),
    8: ("e", "enum", False, None),
    9: ("f32", "fixed32", False, None),
    10: ("f64", "fixed64", False, None),
    11: ("sf32", "sfixed32", False, None),
    12: ("sf64", "sfixed64", False, None),
    13: ("fl", "float", False, None),
    14: ("d", "double", False, None),
    15: ("s", "string", False, None),
    16: ("by", "bytes", False, None),
}
INNER: pw.Schema = {1: ("s", "string", False, None), 2: ("n", "int64", True, None)}
OUTER: pw.Schema = {
    **SCALARS,
    17: ("inner", "message", False, INNER),
    18: ("ri64", "int64", True, None),
    19: ("rs", "string", True, None),
    20: ("rinner", "message", True, INNER),
    21: ("rf32", "fixed32", True, None),
    22: ("rd", "double", True, None),
}


def test_defaults() -> None:
    out = pw.decode(OUTER, b"")
    assert out["i32"] == 0 and out["s"] == "" and out["by"] == b"" and out["b"] is False
    assert out["inner"] is None and out["ri64"] == [] and out["fl"] == 0.0


def test_negative_ints_are_ten_bytes() -> None:
    minus_one = b"\xff" * 9 + b"\x01"
    assert varint(-1) == minus_one
    data = field(1, -5) + field(2, -(2**63)) + field(8, -1)
    assert len(field(1, -5)) == 11
    out = pw.decode(OUTER, data)
    assert (out["i32"], out["i64"], out["e"]) == (-5, -(2**63), -1)
    assert pw.decode(OUTER, field(4, -1))["u64"] == 2**64 - 1
    assert pw.decode(OUTER, field(3, -1))["u32"] == 2**32 - 1


def test_zigzag_and_fixed() -> None:
    data = field(5, 3) + field(6, 4) + field(11, 2**32 - 2, wire=5)
    data += varint(12 << 3 | 1) + struct.pack("<q", -7) + varint(13 << 3 | 5) + struct.pack("<f", 1.5)
    data += varint(14 << 3 | 1) + struct.pack("<d", -2.25)
    out = pw.decode(OUTER, data)
    assert (out["s32"], out["s64"], out["sf32"], out["sf64"], out["fl"], out["d"]) == (
        -2,
        2,
        -2,
        -7,
        1.5,
        -2.25,
    )


def test_packed_and_unpacked_repeated() -> None:
    packed = field(18, b"".join(varint(v) for v in (1, 300, -2)))
    unpacked = field(18, 5) + field(18, 6)
    assert pw.decode(OUTER, packed + unpacked)["ri64"] == [1, 300, -2, 5, 6]
    assert pw.decode(OUTER, field(21, struct.pack("<3I", 1, 2, 3)))["rf32"] == [1, 2, 3]
    with pytest.raises(TFIOError, match="packed fixed32 field of 5 bytes"):
        pw.decode(OUTER, field(21, b"12345"))


def test_last_scalar_wins_and_messages_merge() -> None:
    data = (
        field(15, b"a") + field(15, b"b") + field(17, field(1, b"x") + field(2, 1)) + field(17, field(2, 2))
    )
    out = pw.decode(OUTER, data)
    assert out["s"] == "b" and out["inner"] == {"s": "x", "n": [1, 2]}


def test_unknown_fields_and_groups_are_skipped() -> None:
    group = (
        varint(30 << 3 | 3) + field(1, 5) + varint(31 << 3 | 3) + varint(31 << 3 | 4) + varint(30 << 3 | 4)
    )
    data = field(99, b"junk") + field(100, 7) + varint(101 << 3 | 5) + b"abcd" + group + field(15, b"ok")
    assert pw.decode(OUTER, data)["s"] == "ok"
    # a known field with the wrong wire type is an unknown field, as protobuf reads it
    assert pw.decode(OUTER, field(1, b"text") + field(15, 3))["i32"] == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x08", "truncated varint"),
        (b"\x08" + b"\xff" * 10 + b"\x01", "longer than 10 bytes"),
        (field(15, b"x")[:-1], "past the end of its message"),
        (varint(15 << 3 | 2) + varint(2**62), "past the end of its message"),
        (b"\x00\x01", "invalid field number 0"),
        (varint(1 << 3 | 6), "invalid wire type 6"),
        (varint(1 << 3 | 4), "invalid wire type 4"),
        (varint(30 << 3 | 3) + field(1, 1), "truncated varint"),
        (varint(9 << 3 | 5) + b"ab", "truncated fixed32"),
        (varint(10 << 3 | 1) + b"abc", "truncated fixed64"),
        (field(15, b"\xff\xfe"), "invalid UTF-8"),
    ],
)
def test_bad_wire_data(data: bytes, message: str) -> None:
    with pytest.raises(TFIOError, match=message):
        pw.decode(OUTER, data)


def test_depth_and_budget() -> None:
    nested: pw.Schema = {}
    nested[1] = ("child", "message", False, nested)
    data = b""
    for _ in range(pw.MAX_DEPTH + 2):
        data = field(1, data)
    with pytest.raises(TFIOError, match="nested too deeply"):
        pw.decode(nested, data)
    group = b""
    for _ in range(pw.MAX_DEPTH + 2):
        group = varint(1 << 3 | 3) + group + varint(1 << 3 | 4)
    with pytest.raises(TFIOError, match="groups nested too deeply"):
        pw.decode(OUTER, field(100, 1) + group)
    with pytest.raises(TFIOError, match="too many fields"):
        pw.decode(OUTER, field(18, 1) * 11, max_items=10)
    with pytest.raises(TFIOError, match="too many fields"):
        pw.decode(OUTER, field(18, bytes(50)), max_items=10)
    with pytest.raises(TFIOError, match="too many fields"):
        pw.decode(OUTER, field(21, bytes(400)), max_items=10)


@given(st.binary(max_size=300))
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_any_bytes_decode_or_refuse(data: bytes) -> None:
    with contextlib.suppress(TFIOError):
        pw.decode(OUTER, data)


# -- protobuf as the oracle --------------------------------------------------------------------


def protobuf_class() -> Any:
    """A message class for OUTER built by protobuf itself from a descriptor (no TensorFlow)."""
    descriptor_pb2 = pytest.importorskip("google.protobuf.descriptor_pb2")
    from google.protobuf import descriptor_pool, message_factory

    f = descriptor_pb2.FieldDescriptorProto
    types = {"int32": f.TYPE_INT32, "int64": f.TYPE_INT64, "uint32": f.TYPE_UINT32, "uint64": f.TYPE_UINT64,
             "sint32": f.TYPE_SINT32, "sint64": f.TYPE_SINT64, "bool": f.TYPE_BOOL, "enum": f.TYPE_ENUM,
             "fixed32": f.TYPE_FIXED32, "fixed64": f.TYPE_FIXED64, "sfixed32": f.TYPE_SFIXED32,
             "sfixed64": f.TYPE_SFIXED64, "float": f.TYPE_FLOAT, "double": f.TYPE_DOUBLE,
             "string": f.TYPE_STRING, "bytes": f.TYPE_BYTES, "message": f.TYPE_MESSAGE}  # fmt: skip
    proto = descriptor_pb2.FileDescriptorProto(name="kinspect_tfio_test.proto", package="kt", syntax="proto3")
    enum = proto.enum_type.add(name="E")
    enum.value.add(name="E0", number=0)
    for message, schema in (("Inner", INNER), ("Outer", OUTER)):
        m = proto.message_type.add(name=message)
        for number, (name, kind, repeated, _) in schema.items():
            added = m.field.add(name=name, number=number, type=types[kind])
            added.label = f.LABEL_REPEATED if repeated else f.LABEL_OPTIONAL
            if kind == "message":
                added.type_name = ".kt.Inner"
            if kind == "enum":
                added.type_name = ".kt.E"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("kt.Outer"))


def as_dict(message: Any, schema: pw.Schema) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, kind, repeated, sub in schema.values():
        value = getattr(message, name)
        if kind == "message" and repeated:
            out[name] = [as_dict(v, sub or {}) for v in value]
        elif kind == "message":
            out[name] = as_dict(value, sub or {}) if message.HasField(name) else None
        else:
            out[name] = list(value) if repeated else value
    return out


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


i32, i64 = st.integers(-(2**31), 2**31 - 1), st.integers(-(2**63), 2**63 - 1)
u32, u64 = st.integers(0, 2**32 - 1), st.integers(0, 2**64 - 1)
inner = st.fixed_dictionaries({"s": st.text(max_size=8), "n": st.lists(i64, max_size=4)})
VALUES = {
    "i32": i32, "i64": i64, "u32": u32, "u64": u64, "s32": i32, "s64": i64, "b": st.booleans(),
    "e": i32, "f32": u32, "f64": u64, "sf32": i32, "sf64": i64, "fl": st.floats(width=32),
    "d": st.floats(), "s": st.text(max_size=20), "by": st.binary(max_size=20), "inner": inner,
    "ri64": st.lists(i64, max_size=5), "rs": st.lists(st.text(max_size=5), max_size=4),
    "rinner": st.lists(inner, max_size=3), "rf32": st.lists(u32, max_size=4),
    "rd": st.lists(st.floats(), max_size=4),
}  # fmt: skip


@pytest.mark.keras  # protobuf is installed with TensorFlow (the test extras)
@given(st.fixed_dictionaries({}, optional=VALUES))
@settings(max_examples=300, deadline=None)
def test_same_as_protobuf(values: dict[str, Any]) -> None:
    cls = protobuf_class()
    message = cls()
    for name, value in values.items():
        if name == "inner":
            getattr(message, name).s = value["s"]
            getattr(message, name).n.extend(value["n"])
        elif name == "rinner":
            for item in value:
                getattr(message, name).add(s=item["s"], n=item["n"])
        elif isinstance(value, list):
            getattr(message, name).extend(value)
        else:
            setattr(message, name, value)
    data = message.SerializeToString()
    assert same(pw.decode(OUTER, data), as_dict(message, OUTER))
    # Fields this schema does not know are skipped, the others decoded alike.
    partial = {n: spec for n, spec in OUTER.items() if n % 3}
    assert same(pw.decode(partial, data), as_dict(message, partial))


@pytest.mark.keras
@given(st.binary(max_size=200))
@settings(max_examples=500, deadline=None)
def test_any_bytes_as_protobuf_reads_them(data: bytes) -> None:
    """Where protobuf parses arbitrary bytes, the result is the same (it may refuse more, e.g. a
    varint whose 10th byte overflows 64 bits; we refuse no message it accepts but those)."""
    message = protobuf_class()()
    try:
        message.ParseFromString(data)
    except Exception:
        return
    try:
        ours = pw.decode(OUTER, data)
    except TFIOError as exc:
        pytest.fail(f"protobuf parses {data.hex()} but we refuse it: {exc}")
    assert same(ours, as_dict(message, OUTER)), data.hex()
