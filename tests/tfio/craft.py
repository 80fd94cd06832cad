"""Write LevelDB tables and protobuf messages the way TensorFlow does, to craft bad inputs.

A faithful, small copy of ``tensorflow/core/lib/io/table_builder.cc`` and ``block_builder.cc``
(prefix-compressed entries, a restart point every 16 entries, 5-byte trailers with the masked
CRC32C, a metaindex block, an index block with a restart at every entry, the 48-byte footer),
so a test can change one thing in an otherwise valid table.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

from kinspect.tfio import table
from kinspect.tfio.crc import crc32c, mask


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(number: int, value: int | bytes, wire: int | None = None) -> bytes:
    """One protobuf field: an int as a varint (or fixed32 with ``wire=5``), bytes length-delimited."""
    if isinstance(value, bytes):
        return varint(number << 3 | 2) + varint(len(value)) + value
    if wire == 5:
        return varint(number << 3 | 5) + struct.pack("<I", value)
    return varint(number << 3) + varint(value)


class BlockBuilder:
    """``block_builder.cc``: prefix-compressed entries, a restart point every ``restart_interval``."""

    def __init__(self, restart_interval: int = 16) -> None:
        self.interval = restart_interval
        self.out, self.restarts, self.last, self.count = bytearray(), [0], b"", 0

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.count and self.count % self.interval == 0:
            self.restarts.append(len(self.out))
        elif self.count:
            while shared < min(len(key), len(self.last)) and key[shared] == self.last[shared]:
                shared += 1
        self.out += varint(shared) + varint(len(key) - shared) + varint(len(value)) + key[shared:] + value
        self.last, self.count = key, self.count + 1

    def size_estimate(self) -> int:
        return len(self.out) + 4 * len(self.restarts) + 4

    def finish(self) -> bytes:
        restarts = struct.pack(f"<{len(self.restarts)}I", *self.restarts)
        return bytes(self.out) + restarts + struct.pack("<I", len(self.restarts))


def block(items: list[tuple[bytes, bytes]], restart_interval: int = 16) -> bytes:
    builder = BlockBuilder(restart_interval)
    for key, value in items:
        builder.add(key, value)
    return builder.finish()


def trailer(contents: bytes, kind: int = 0) -> bytes:
    return bytes([kind]) + struct.pack("<I", mask(crc32c(contents + bytes([kind]))))


def shortest_separator(start: bytes, limit: bytes) -> bytes:
    """``FindShortestSeparator``: a short key in ``[start, limit)``."""
    common = 0
    while common < min(len(start), len(limit)) and start[common] == limit[common]:
        common += 1
    if common < min(len(start), len(limit)) and start[common] < 0xFF and start[common] + 1 < limit[common]:
        return start[:common] + bytes([start[common] + 1])
    return start


def short_successor(key: bytes) -> bytes:
    """``FindShortSuccessor``: a short key ≥ ``key``."""
    for i, byte in enumerate(key):
        if byte != 0xFF:
            return key[:i] + bytes([byte + 1])
    return key


def write_table(path: Path, items: list[tuple[bytes, bytes]], block_bytes: int = 262_144) -> Path:
    """A table of ``items`` (sorted by key) at ``path``, byte for byte as ``TableBuilder`` writes it."""
    out = bytearray()
    index: list[tuple[bytes, bytes]] = []
    data = BlockBuilder()
    handle = b""  # of the last flushed block, until the next key gives its separator

    def flush() -> None:
        nonlocal data, handle
        if data.count:
            contents = data.finish()
            handle = varint(len(out)) + varint(len(contents))
            out.extend(contents + trailer(contents))
            data = BlockBuilder()

    last, added = b"", 0
    for key, value in items:
        if added and len(key) + len(value) >= 2 * block_bytes:
            flush()
        if handle:
            index.append((shortest_separator(last, key), handle))
            handle = b""
        data.add(key, value)
        last, added = key, added + 1
        if data.size_estimate() >= block_bytes:
            flush()
    flush()
    if handle:
        index.append((short_successor(last), handle))
    handles = []
    for contents in (block([]), block(index, restart_interval=1)):
        handles.append(varint(len(out)) + varint(len(contents)))
        out.extend(contents + trailer(contents))
    footer = b"".join(handles).ljust(40, b"\0") + struct.pack("<Q", table.MAGIC)
    path.write_bytes(bytes(out) + footer)
    return path


def shape(*dims: int) -> bytes:
    return b"".join(field(2, field(1, d)) for d in dims)


def entry(dtype: int, dims: tuple[int, ...], shard: int, offset: int, size: int, crc: int = 0) -> bytes:
    """A ``BundleEntryProto``."""
    return (
        field(1, dtype)
        + field(2, shape(*dims))
        + (field(3, shard) if shard else b"")
        + (field(4, offset) if offset else b"")
        + (field(5, size) if size else b"")
        + field(6, crc, wire=5)
    )


def header(num_shards: int = 1, endianness: int = 0, min_consumer: int = 0, bad_consumer: int = 0) -> bytes:
    """A ``BundleHeaderProto``."""
    version = field(1, 1) + (field(2, min_consumer) if min_consumer else b"")
    version += field(3, bad_consumer) if bad_consumer else b""
    return field(1, num_shards) + (field(2, endianness) if endianness else b"") + field(3, version)


def mutate(rng: random.Random, data: bytes) -> bytes:
    """``data`` with one random fuzzing change: bits flipped, cut short, a stretch spliced in from
    elsewhere or zeroed, or a byte replaced by a huge or negative varint."""
    out = bytearray(data)
    op = rng.choice(("flip", "truncate", "splice", "zero", "flip", "int"))
    if op == "flip":
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
    elif op == "truncate":
        del out[rng.randrange(1, len(out)) :]
    elif op == "splice":
        i, j, n = rng.randrange(len(out)), rng.randrange(len(out)), rng.randint(1, 64)
        out[i : i + n] = data[j : j + n]
    elif op == "zero":
        i = rng.randrange(len(out))
        out[i : i + rng.randint(1, 16)] = bytes(rng.randint(1, 16))
    else:  # a huge or negative number where a small one was
        i = rng.randrange(len(out))
        out[i : i + 1] = rng.choice((b"\xff\xff\xff\xff\x0f", b"\xff" * 9 + b"\x01", b"\x80\x80\x80\x80\x08"))
    return bytes(out)
