"""TensorFlow's tensor bundle: a checkpoint's ``P.index`` table and ``P.data-*`` shards.

Sources: ``tensorflow/core/protobuf/tensor_bundle.proto``, ``core/util/tensor_bundle/tensor_bundle.cc``
(``BundleWriter``/``BundleReader``), ``core/util/saved_tensor_slice_util.cc`` and
``core/lib/strings/ordered_code.cc`` (the keys of stored slices).

The table's first key, ``""``, holds a ``BundleHeaderProto`` (num_shards, endianness, version);
every other key a ``BundleEntryProto``: the tensor's dtype and shape, and where its bytes are
(shard, offset, size) with their masked CRC32C. A partitioned ("sliced") tensor has an entry with
its full dtype and shape and the extents of its slices; each slice is stored under a binary key
(OrderedCode: 0, the tensor's name, the rank, then start and length per dimension) with its own
entry: :attr:`Bundle.pieces`.

Data layout in a shard (little-endian unless the header says BIG; TensorFlow then byte-swaps):
a numeric tensor is its ``size`` raw bytes, C order, and its CRC covers those bytes. A string
tensor is ``[varint64 length]*n`` + the masked CRC32C of the lengths + the string bytes; its CRC
covers the lengths *as uint32* (uint64 for a string over 4 GiB), the 4 stored checksum bytes and
the string bytes. A variant tensor is ``[varint64 length][bytes][masked CRC]`` per element.

Caps (a :class:`TFIOError` past them): :data:`MAX_SHARDS` shards, :data:`MAX_RANK` dimensions,
:data:`MAX_SLICES` slices of one tensor and the table's caps
(:mod:`kinspect.tfio.table`). Every offset and size is checked against the shard's real size, and
the size of every fixed-width tensor against its dtype and shape, when the bundle is read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

from kinspect.tfio import table
from kinspect.tfio.crc import crc32c, mask, unmask
from kinspect.tfio.errors import TFIOError, open_binary
from kinspect.tfio.protowire import Schema, decode, iter_fields, read_varint, signed32, signed64

MAX_SHARDS = 100_000
MAX_RANK = 254  # TensorShape::kMaxDims
MAX_SLICES = 100_000  # stored slices of one partitioned tensor
MAX_ELEMENTS = (1 << 63) - 1  # TensorShape's limit on the element count
BUNDLE_VERSION = 1  # kTensorBundleVersion: what a consumer of this code understands
CHUNK_BYTES = 1 << 20

# DataType enum (tensorflow/core/framework/types.proto) → (numpy-style name, bytes per element;
# None where the size is not fixed per element or not known for sure).
DTYPES: dict[int, tuple[str, int | None]] = {
    1: ("float32", 4),
    2: ("float64", 8),
    3: ("int32", 4),
    4: ("uint8", 1),
    5: ("int16", 2),
    6: ("int8", 1),
    7: ("string", None),
    8: ("complex64", 8),
    9: ("int64", 8),
    10: ("bool", 1),
    11: ("qint8", 1),
    12: ("quint8", 1),
    13: ("qint32", 4),
    14: ("bfloat16", 2),
    15: ("qint16", 2),
    16: ("quint16", 2),
    17: ("uint16", 2),
    18: ("complex128", 16),
    19: ("float16", 2),
    20: ("resource", None),
    21: ("variant", None),
    22: ("uint32", 4),
    23: ("uint64", 8),
    24: ("float8_e5m2", 1),
    25: ("float8_e4m3fn", 1),
    26: ("float8_e4m3fnuz", 1),
    27: ("float8_e4m3b11fnuz", 1),
    28: ("float8_e5m2fnuz", 1),
    29: ("int4", 1),
    30: ("uint4", 1),
    31: ("int2", 1),
    32: ("uint2", 1),
    33: ("float4_e2m1fn", 1),
}


def dtype_name(enum: int) -> str:
    """The numpy-style name of a ``DataType`` value (``unknown(N)`` for one this table lacks)."""
    if enum in DTYPES:
        return DTYPES[enum][0]
    if enum == 0:
        return "invalid"
    if 100 < enum < 200 and enum - 100 in DTYPES:
        return DTYPES[enum - 100][0] + "_ref"
    return f"unknown({enum})"


def itemsize(dtype: str) -> int | None:
    """Bytes per element of a fixed-width dtype, None for string, variant, resource and unknown ones."""
    return _ITEMSIZE.get(dtype)


_ITEMSIZE = {name: size for name, size in DTYPES.values() if size is not None}

SHAPE: Schema = {
    2: ("dim", "message", True, {1: ("size", "int64", False, None), 2: ("name", "string", False, None)}),
    3: ("unknown_rank", "bool", False, None),
}
VERSION: Schema = {
    1: ("producer", "int32", False, None),
    2: ("min_consumer", "int32", False, None),
    3: ("bad_consumers", "int32", True, None),
}
HEADER: Schema = {
    1: ("num_shards", "int32", False, None),
    2: ("endianness", "enum", False, None),
    3: ("version", "message", False, VERSION),
}
ENTRY: Schema = {
    1: ("dtype", "enum", False, None),
    2: ("shape", "message", False, SHAPE),
    3: ("shard_id", "int32", False, None),
    4: ("offset", "int64", False, None),
    5: ("size", "int64", False, None),
    6: ("crc32c", "fixed32", False, None),
    7: ("slices", "bytes", True, None),  # TensorSliceProto: decoded by _extent (length is a oneof)
}

# (start, length) per dimension; length None = the whole dimension.
Extent = tuple[tuple[int, int | None], ...]


@dataclass(frozen=True)
class Entry:
    """One tensor of a bundle (or one stored slice of a partitioned tensor)."""

    key: str  # checkpoint key, e.g. "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"
    dtype: str  # numpy-style: float32 … bfloat16 … int64 uint8 … bool string (see DTYPES)
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int  # bytes in the shard
    crc32c: int  # as stored: *masked* CRC32C (crc.unmask gives the CRC of the data)
    sliced: bool = False  # a partitioned tensor: its data is in Bundle.pieces[key], not here
    slices: tuple[Extent, ...] = ()  # of a partitioned tensor: each stored slice's extent
    extent: Extent | None = None  # of a stored slice (in Bundle.pieces): where it sits in the full tensor

    @property
    def num_elements(self) -> int:
        count = 1
        for dim in self.shape:
            count *= dim
        return count


@dataclass(frozen=True)
class Bundle:
    prefix: str
    num_shards: int
    entries: dict[str, Entry]  # every key but the header "" and the stored slices, in table order
    endianness: str = "little"  # of the tensor bytes ("big": swap before use)
    version: int = BUNDLE_VERSION  # the header's producer version
    pieces: dict[str, tuple[Entry, ...]] = field(default_factory=dict)  # slices of each partitioned key

    def shard_path(self, shard: int) -> str:
        return f"{self.prefix}.data-{shard:05d}-of-{self.num_shards:05d}"


def read_bundle(prefix: str | os.PathLike[str]) -> Bundle:
    """The bundle whose table is ``prefix + ".index"``, every entry checked against its dtype, shape
    and data shard (present, long enough). The shards are not read."""
    prefix = os.fspath(prefix)
    rows = table.entries(prefix + ".index")
    first = next(rows, None)
    if first is None or first[0] != b"":
        raise TFIOError("checkpoint index has no header entry")
    header = decode(HEADER, first[1], max_items=10_000)
    num_shards = header["num_shards"]
    if not 1 <= num_shards <= MAX_SHARDS:
        raise TFIOError(f"checkpoint header claims {num_shards} data shards")
    version = header["version"] or {"producer": 0, "min_consumer": 0, "bad_consumers": []}
    if version["min_consumer"] > BUNDLE_VERSION:
        raise TFIOError(f"checkpoint format version {version['min_consumer']} is newer than this reader's")
    if BUNDLE_VERSION in version["bad_consumers"]:
        raise TFIOError(f"checkpoint format refuses readers of version {BUNDLE_VERSION}")
    if version["producer"] < 0:
        raise TFIOError(f"checkpoint producer version {version['producer']} is invalid")
    if header["endianness"] not in (0, 1):
        raise TFIOError(f"checkpoint header has unknown endianness {header['endianness']}")
    bundle = Bundle(prefix, num_shards, {}, ("little", "big")[header["endianness"]], version["producer"])
    shard_sizes: dict[int, int] = {}
    pieces: dict[str, list[Entry]] = {}
    for raw_key, value in rows:
        if raw_key[:1] == b"\0":
            name, extent = _slice_key(raw_key)
            entry = _entry(bundle, name, value, shard_sizes, extent)
            pieces.setdefault(name, []).append(entry)
            continue
        try:
            key = raw_key.decode("utf-8")
        except UnicodeDecodeError:
            raise TFIOError("checkpoint key is not UTF-8") from None
        bundle.entries[key] = _entry(bundle, key, value, shard_sizes, None)
    bundle.pieces.update((name, tuple(items)) for name, items in pieces.items())
    for entry in bundle.entries.values():
        if entry.sliced:
            _check_pieces(entry, bundle.pieces.get(entry.key, ()))
    return bundle


def _check_pieces(entry: Entry, pieces: tuple[Entry, ...]) -> None:
    """Each slice of a partitioned tensor is stored once, with the dtype and shape its extent says."""
    by_extent = {piece.extent: piece for piece in pieces}
    for extent in entry.slices:
        piece = by_extent.get(extent)
        if piece is None:
            raise TFIOError(f"partitioned tensor {entry.key!r} lacks its slice {_spec(extent)}")
        shape = tuple(dim if n is None else n for (_, n), dim in zip(extent, entry.shape, strict=True))
        if piece.dtype != entry.dtype or piece.shape != shape:
            raise TFIOError(
                f"slice {_spec(extent)} of {entry.key!r} is {piece.dtype} {list(piece.shape)}, "
                f"not {entry.dtype} {list(shape)}"
            )


def _spec(extent: Extent) -> str:
    """TensorFlow's slice notation: ``0,5:-`` (start,length per dimension, ``-`` for all of it)."""
    return ":".join("-" if n is None else f"{start},{n}" for start, n in extent)


def _entry(
    bundle: Bundle, key: str, value: bytes, shard_sizes: dict[int, int], extent: Extent | None
) -> Entry:
    proto = _parse_entry(value)
    where = f"tensor {key!r}"
    dtype = dtype_name(proto["dtype"])
    if dtype == "invalid":
        raise TFIOError(f"{where} has no dtype")
    shape = _shape(proto["dims"], proto["unknown_rank"], where)
    if proto["slices"]:
        if extent is not None:
            raise TFIOError(f"a stored slice of {where} is itself partitioned")
        slices = tuple(_extent(raw, shape, where) for raw in proto["slices"])
        return Entry(key, dtype, shape, 0, 0, 0, proto["crc32c"], True, slices)
    shard, offset, size = proto["shard_id"], proto["offset"], proto["size"]
    if not 0 <= shard < bundle.num_shards:
        raise TFIOError(f"{where} is in shard {shard} of a checkpoint of {bundle.num_shards}")
    if offset < 0 or size < 0:
        raise TFIOError(f"{where} has a negative offset or size")
    elements = 1
    for dim in shape:
        elements *= dim
    width = itemsize(dtype)
    if width is not None and elements * width != size:
        raise TFIOError(
            f"{where}: {dtype} {list(shape)} takes {elements * width} bytes, the index says {size}"
        )
    if dtype == "string" and elements and size < elements + 4:
        raise TFIOError(f"{where}: {elements} strings cannot fit in {size} bytes")
    if shard not in shard_sizes:
        path = bundle.shard_path(shard)
        try:
            shard_sizes[shard] = os.stat(path).st_size
        except OSError:
            raise TFIOError(f"missing data shard {os.path.basename(path)}", path) from None
    if offset + size > shard_sizes[shard]:
        path = bundle.shard_path(shard)
        raise TFIOError(
            f"{where} ends at byte {offset + size} of {os.path.basename(path)}, "
            f"which has {shard_sizes[shard]}",
            path,
        )
    return Entry(key, dtype, shape, shard, offset, size, proto["crc32c"], extent=extent)


def _parse_entry(value: bytes) -> dict[str, Any]:
    """A ``BundleEntryProto`` (the schema :data:`ENTRY`), decoded by hand: this runs once per key.
    Same semantics as :func:`~kinspect.tfio.protowire.decode` (a wrong wire type is an unknown
    field, the last scalar wins, repeated ``shape`` messages merge)."""
    out: dict[str, Any] = {"dtype": 0, "dims": [], "unknown_rank": False, "shard_id": 0, "offset": 0,
                           "size": 0, "crc32c": 0, "slices": []}  # fmt: skip
    for number, wire, raw in iter_fields(value):
        if wire == 0 and number in _ENTRY_VARINTS:
            name, convert = _ENTRY_VARINTS[number]
            out[name] = convert(raw)
        elif number == 6 and wire == 5:
            out["crc32c"] = raw
        elif number == 2 and wire == 2:
            _parse_shape(value, raw[0], raw[1], out)
        elif number == 7 and wire == 2:
            out["slices"].append(value[raw[0] : raw[1]])
            if len(out["slices"]) > MAX_SLICES:
                raise TFIOError(f"partitioned tensor of more than {MAX_SLICES} slices")
    return out


def _parse_shape(value: bytes, pos: int, end: int, out: dict[str, Any]) -> None:
    """A ``TensorShapeProto`` into ``out["dims"]`` and ``out["unknown_rank"]``. The usual encoding,
    a run of ``dim { size: n }`` with one-byte tags and lengths, is read inline; from the first
    field that is not, the rest goes through :func:`iter_fields`."""
    dims = out["dims"]
    while pos + 2 < end and value[pos] == 0x12 and value[pos + 1] < 0x80 and value[pos + 2] == 0x08:
        stop = pos + 2 + value[pos + 1]
        if stop > end:
            break
        size, after = read_varint(value, pos + 3, stop)
        if after != stop:
            break
        dims.append(signed64(size))
        pos = stop
        if len(dims) > MAX_RANK:
            raise TFIOError(f"tensor shape of more than {MAX_RANK} dimensions")
    for number, wire, raw in iter_fields(value, pos, end):
        if number == 2 and wire == 2:
            size = 0
            for dim_field, dim_wire, dim_raw in iter_fields(value, *raw):
                if dim_field == 1 and dim_wire == 0:
                    size = signed64(dim_raw)
            dims.append(size)
            if len(dims) > MAX_RANK:
                break
        elif number == 3 and wire == 0:
            out["unknown_rank"] = raw != 0
    if len(dims) > MAX_RANK:
        raise TFIOError(f"tensor shape of more than {MAX_RANK} dimensions")


_ENTRY_VARINTS = {
    1: ("dtype", signed32),
    3: ("shard_id", signed32),
    4: ("offset", signed64),
    5: ("size", signed64),
}


def _shape(dims: list[int], unknown_rank: bool, where: str) -> tuple[int, ...]:
    if unknown_rank:
        raise TFIOError(f"{where} has a shape of unknown rank")
    shape = tuple(dims)
    elements = 1
    for dim in shape:
        if dim < 0:
            raise TFIOError(f"{where} has a negative dimension in shape {list(shape)}")
        elements *= dim
        if elements > MAX_ELEMENTS:
            raise TFIOError(f"{where}: shape {list(shape)} has too many elements")
    return shape


def _extent(raw: bytes, shape: tuple[int, ...], where: str) -> Extent:
    """A ``TensorSliceProto`` (repeated Extent{int64 start = 1; oneof {int64 length = 2}})."""
    dims: list[tuple[int, int | None]] = []
    for number, wire, value in iter_fields(raw):
        if number != 1 or wire != 2:
            continue
        start, length = 0, None
        for inner, inner_wire, scalar in iter_fields(raw, *value):
            if inner_wire == 0 and inner == 1:
                start = signed64(scalar)
            elif inner_wire == 0 and inner == 2:
                length = signed64(scalar)
        dims.append((start, length))
    return _check_extent(tuple(dims), shape, where)


def _check_extent(extent: Extent, shape: tuple[int, ...], where: str) -> Extent:
    if len(extent) != len(shape):
        raise TFIOError(f"{where}: a slice of rank {len(extent)} of a tensor of rank {len(shape)}")
    out = []
    for (start, length), dim in zip(extent, shape, strict=True):
        if length is not None and length < 0:  # -1 is "the whole dimension" in a slice key
            if length != -1 or start != 0:
                raise TFIOError(f"{where}: invalid slice extent {start}:{length}")
            length = None
        if start < 0 or (length is not None and start + length > dim) or (length is None and start):
            raise TFIOError(f"{where}: slice {start}:{length} outside dimension {dim}")
        out.append((start, length))
    return tuple(out)


# -- stored slice keys (OrderedCode) ---------------------------------------------------------


def _slice_key(key: bytes) -> tuple[str, Extent]:
    """(tensor name, extent) from the key of a stored slice: OrderedCode of 0, the name, the rank
    and (start, length) per dimension (``checkpoint::EncodeTensorNameSlice``)."""
    pos = 1  # the leading 0 (WriteNumIncreasing(0) is the single byte 0)
    name, pos = _ordered_string(key, pos)
    rank, pos = _ordered_unsigned(key, pos)
    if rank > MAX_RANK:
        raise TFIOError(f"stored slice key of rank {rank}")
    dims = []
    for _ in range(rank):
        start, pos = _ordered_signed(key, pos)
        length, pos = _ordered_signed(key, pos)
        dims.append((start, length))
    if pos != len(key):
        raise TFIOError("stored slice key has trailing bytes")
    try:
        text = name.decode("utf-8")
    except UnicodeDecodeError:
        raise TFIOError("checkpoint key is not UTF-8") from None
    for start, length in dims:
        if start < 0 or length < -1 or (length == -1 and start):
            raise TFIOError(f"stored slice of {text!r} has an invalid extent {start}:{length}")
    return text, tuple((start, None if length == -1 else length) for start, length in dims)


def _ordered_string(key: bytes, pos: int) -> tuple[bytes, int]:
    out = bytearray()
    while pos + 1 < len(key):
        byte = key[pos]
        if byte == 0x00:  # escape 1: 00 01 ends the string, 00 FF is a 00 byte
            if key[pos + 1] == 0x01:
                return bytes(out), pos + 2
            if key[pos + 1] != 0xFF:
                raise TFIOError("bad escape in a stored slice key")
            out.append(0)
            pos += 2
        elif byte == 0xFF:  # escape 2: FF 00 is an FF byte
            if key[pos + 1] != 0x00:
                raise TFIOError("bad escape in a stored slice key")
            out.append(0xFF)
            pos += 2
        else:
            out.append(byte)
            pos += 1
    raise TFIOError("unterminated name in a stored slice key")


def _ordered_unsigned(key: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(key) or key[pos] > 8 or pos + 1 + key[pos] > len(key):
        raise TFIOError("bad number in a stored slice key")
    length = key[pos]
    return int.from_bytes(key[pos + 1 : pos + 1 + length], "big"), pos + 1 + length


_SIGNED_MASK = (0, 0x80, 0xC000, 0xE00000, 0xF0000000, 0xF800000000, 0xFC0000000000, 0xFE000000000000,
                0xFF00000000000000, 0x8000000000000000, 0)  # fmt: skip
_U64 = (1 << 64) - 1


def _ordered_signed(key: bytes, pos: int) -> tuple[int, int]:
    """``OrderedCode::ReadSignedNumIncreasing``: sign bit, unary length bits, big-endian payload."""
    if pos >= len(key):
        raise TFIOError("bad number in a stored slice key")
    xor = 0 if key[pos] & 0x80 else _U64
    first = key[pos] ^ (xor & 0xFF)
    if first != 0xFF:
        length = 8 - (first ^ 0xFF).bit_length()
        if pos + length > len(key):
            raise TFIOError("bad number in a stored slice key")
        x = xor
        for byte in key[pos : pos + length]:
            x = ((x << 8) | byte) & _U64
    else:
        length = 8
        if pos + 8 > len(key):
            raise TFIOError("bad number in a stored slice key")
        second = key[pos + 1] ^ (xor & 0xFF)
        if second >= 0x80:
            third = key[pos + 2] ^ (xor & 0xFF)
            if second < 0xC0:
                length = 9
            elif second == 0xC0 and third < 0x80:
                length = 10
            else:
                raise TFIOError("bad number in a stored slice key")
            if pos + length > len(key):
                raise TFIOError("bad number in a stored slice key")
        x = int.from_bytes(key[pos + length - 8 : pos + length], "big")
    return signed64(x ^ _SIGNED_MASK[length]), pos + length


# -- tensor data ---------------------------------------------------------------------------------


class _Reader:
    """Sequential reads of ``[offset, offset + size)`` of a shard, buffered, never past the end."""

    def __init__(self, f: BinaryIO, offset: int, size: int) -> None:
        self.f, self.pos, self.end = f, offset, offset + size
        self.buf, self.at = b"", 0
        f.seek(offset)

    def read(self, n: int) -> bytes:
        if n > self.end - self.pos:
            raise TFIOError("tensor data runs past its size in the index")
        out = []
        while n:
            if self.at == len(self.buf):
                self.buf = self.f.read(min(CHUNK_BYTES, self.end - self.pos))
                self.at = 0
                if not self.buf:
                    raise TFIOError("data shard is shorter than its index says")
            piece = self.buf[self.at : self.at + n]
            self.at += len(piece)
            self.pos += len(piece)
            n -= len(piece)
            out.append(piece)
        return b"".join(out)

    def varint(self) -> int:
        head = bytearray()
        while True:
            byte = self.read(1)[0]
            head.append(byte)
            if byte < 0x80 or len(head) >= 10:
                return read_varint(head, 0, len(head))[0]


def _open_shard(bundle: Bundle, entry: Entry) -> BinaryIO:
    return open_binary(bundle.shard_path(entry.shard), "data shard")


def chunks(bundle: Bundle, entry: Entry, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The stored bytes of ``entry``, in pieces of at most ``chunk_bytes`` (bounded memory)."""
    if entry.sliced:
        raise TFIOError(f"tensor {entry.key!r} is partitioned: read its slices (Bundle.pieces)")
    with _open_shard(bundle, entry) as f:
        f.seek(entry.offset)
        left = entry.size
        while left:
            piece = f.read(min(chunk_bytes, left))
            if not piece:
                path = bundle.shard_path(entry.shard)
                raise TFIOError(f"data shard {os.path.basename(path)} is shorter than its index says", path)
            left -= len(piece)
            yield piece


def read_strings(bundle: Bundle, entry: Entry, limit: int = 64 << 20) -> list[bytes]:
    """The elements of a string tensor, flattened in C order; its length checksum is checked.
    A tensor of more than ``limit`` stored bytes is refused (the result is held in memory)."""
    if entry.dtype != "string" or entry.sliced:
        raise TFIOError(f"tensor {entry.key!r} is not a whole string tensor")
    if entry.size > limit:
        raise TFIOError(f"string tensor {entry.key!r} of {entry.size} bytes is over the {limit}-byte limit")
    count = entry.num_elements
    if entry.size == 0:
        if count:
            raise TFIOError(f"string tensor {entry.key!r} has no data")
        return []
    with _open_shard(bundle, entry) as f:
        reader = _Reader(f, entry.offset, entry.size)
        lengths, crc = _string_lengths(reader, count, _order(bundle))
        if unmask(int.from_bytes(reader.read(4), _order(bundle))) != crc:
            raise TFIOError(f"string tensor {entry.key!r}: length checksum mismatch")
        if sum(lengths) != reader.end - reader.pos:
            raise TFIOError(f"string tensor {entry.key!r}: string lengths disagree with its size")
        return [reader.read(n) for n in lengths]


def _order(bundle: Bundle) -> Literal["little", "big"]:
    return "big" if bundle.endianness == "big" else "little"


def _string_lengths(reader: _Reader, count: int, order: Literal["little", "big"]) -> tuple[list[int], int]:
    lengths, crc = [], 0
    for _ in range(count):
        n = reader.varint()
        lengths.append(n)
        crc = crc32c(n.to_bytes(4 if n <= 0xFFFFFFFF else 8, order), crc)
    return lengths, crc


def verify(bundle: Bundle, entry: Entry) -> bool:
    """Whether the stored bytes of ``entry`` match its CRC32C (streamed; a partitioned tensor:
    all of its slices). A shard too short or unreadable is a :class:`TFIOError`, not ``False``."""
    if entry.sliced:
        return all(verify(bundle, piece) for piece in bundle.pieces.get(entry.key, ()))
    expected = unmask(entry.crc32c)
    if entry.dtype in ("string", "resource"):  # TensorFlow reads both as strings
        return _verify_strings(bundle, entry, expected)
    if entry.dtype == "variant":
        return _verify_variant(bundle, entry, expected)
    crc = 0
    for piece in chunks(bundle, entry):
        crc = crc32c(piece, crc)
    return crc == expected


def _verify_strings(bundle: Bundle, entry: Entry, expected: int) -> bool:
    if entry.size == 0:
        return expected == 0
    order = _order(bundle)
    crc = total = 0
    with _open_shard(bundle, entry) as f:
        reader = _Reader(f, entry.offset, entry.size)
        for _ in range(entry.num_elements):
            n = reader.varint()
            total += n
            crc = crc32c(n.to_bytes(4 if n <= 0xFFFFFFFF else 8, order), crc)
        crc = crc32c(reader.read(4), crc)
        if total != reader.end - reader.pos:
            return False
        while reader.pos < reader.end:
            crc = crc32c(reader.read(min(CHUNK_BYTES, reader.end - reader.pos)), crc)
    return crc == expected


def _verify_variant(bundle: Bundle, entry: Entry, expected: int) -> bool:
    if entry.size == 0:
        return expected == 0
    crc = 0
    with _open_shard(bundle, entry) as f:
        reader = _Reader(f, entry.offset, entry.size)
        for _ in range(entry.num_elements):
            n = reader.varint()
            crc = crc32c(n.to_bytes(8, "little"), crc)
            while n:
                piece = reader.read(min(n, CHUNK_BYTES))
                crc = crc32c(piece, crc)
                n -= len(piece)
            stored = reader.read(4)
            if int.from_bytes(stored, "little") != mask(crc):
                return False
            crc = crc32c(stored, crc)
        return crc == expected and reader.pos == reader.end
