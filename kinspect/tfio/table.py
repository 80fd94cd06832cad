"""The LevelDB-style table of a checkpoint's ``.index`` file, read block by block.

Layout (TensorFlow's copy of LevelDB: ``tensorflow/core/lib/io/format.{h,cc}``, ``block.cc``,
``block_builder.cc``, ``table_builder.cc``)::

    [data block 0] … [data block N-1] [metaindex block] [index block] [footer: 48 bytes]

- footer: the metaindex and index block handles (two varint64s each: offset, size), zero-padded
  to 40 bytes, then the magic ``0xdb4775248b80fb57`` as two little-endian ``fixed32`` (low first);
- every block is followed by a 5-byte trailer: a type byte (0 = raw, 1 = Snappy) and the masked
  CRC32C of the block and its type byte;
- a block is a run of prefix-compressed entries (``varint32`` shared key bytes, non-shared key
  bytes, value length; the key's tail; the value), then ``fixed32`` restart offsets (entries whose
  key is stored whole) and their ``fixed32`` count;
- the index block maps a separator key (≥ every key of its data block) to that block's handle.

:func:`entries` yields every entry of every data block in key order: no block is skipped. Block
CRCs are always checked. TensorFlow writes these tables uncompressed (``TableBuilderOptions``),
so a Snappy block is refused rather than decoded.

Caps (a :class:`TFIOError` past them): a block of at most :data:`MAX_BLOCK_BYTES`, at most
:data:`MAX_ENTRIES` entries; data blocks must lie in file order without overlapping (as the
builder writes them), so no byte is read twice and the time is linear in the file size.
"""

from __future__ import annotations

import itertools
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from kinspect.tfio.crc import crc32c, unmask
from kinspect.tfio.errors import TFIOError, open_binary
from kinspect.tfio.protowire import read_varint, read_varint32

MAGIC = 0xDB4775248B80FB57
FOOTER_BYTES = 48  # 2 block handles of at most 20 bytes each, padded, + the 8-byte magic
TRAILER_BYTES = 5  # block type byte + masked CRC32C
NO_COMPRESSION, SNAPPY = 0, 1

MAX_BLOCK_BYTES = 64 << 20  # TensorFlow's blocks are ~256 KiB (table_options.h block_size)
MAX_ENTRIES = 1_000_000  # keys in one table (a bundle holds ~0.5 KB of Python objects per key)


@dataclass(frozen=True)
class BlockHandle:
    offset: int
    size: int


@dataclass(frozen=True)
class Footer:
    metaindex: BlockHandle
    index: BlockHandle


def read_footer(tail: bytes) -> Footer:
    """The footer from the last :data:`FOOTER_BYTES` of a table."""
    if len(tail) != FOOTER_BYTES:
        raise TFIOError(f"too short for a table ({len(tail)} bytes)")
    magic = int.from_bytes(tail[40:44], "little") | int.from_bytes(tail[44:48], "little") << 32
    if magic != MAGIC:
        raise TFIOError("not a TensorFlow checkpoint index (bad table magic number)")
    handles, pos = [], 0
    for _ in range(2):
        offset, pos = read_varint(tail, pos, 40)
        size, pos = read_varint(tail, pos, 40)
        handles.append(BlockHandle(offset, size))
    return Footer(*handles)


def decode_handle(value: bytes) -> BlockHandle:
    """A block handle (an index block's value)."""
    offset, pos = read_varint(value, 0, len(value))
    size, pos = read_varint(value, pos, len(value))
    return BlockHandle(offset, size)


def read_block(f: BinaryIO, handle: BlockHandle, limit: int, what: str = "block") -> bytes:
    """The contents of the block at ``handle`` of file ``f``, its CRC checked; its trailer must
    end at or before ``limit``."""
    if handle.size > MAX_BLOCK_BYTES:
        raise TFIOError(f"{what} of {handle.size} bytes (more than {MAX_BLOCK_BYTES})")
    if handle.offset + handle.size + TRAILER_BYTES > limit:
        raise TFIOError(f"{what} at offset {handle.offset} ({handle.size} bytes) past the end of the table")
    f.seek(handle.offset)
    raw = f.read(handle.size + TRAILER_BYTES)
    if len(raw) != handle.size + TRAILER_BYTES:
        raise TFIOError(f"truncated {what} at offset {handle.offset}")
    stored = unmask(int.from_bytes(raw[-4:], "little"))
    if crc32c(memoryview(raw)[: handle.size + 1]) != stored:
        raise TFIOError(f"{what} checksum mismatch at offset {handle.offset}: the table is corrupt")
    kind = raw[handle.size]
    if kind == SNAPPY:
        raise TFIOError(f"Snappy-compressed {what} at offset {handle.offset}: not supported")
    if kind != NO_COMPRESSION:
        raise TFIOError(f"{what} at offset {handle.offset} has unknown type {kind}")
    return raw[: handle.size]


def block_entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) for each entry of one block, checking the restart array and every length."""
    size = len(block)
    if size < 4:
        raise TFIOError(f"block of {size} bytes has no restart count")
    count = int.from_bytes(block[-4:], "little")
    if count == 0 or count > (size - 4) // 4:
        raise TFIOError(f"block of {size} bytes claims {count} restart points")
    limit = size - 4 * (count + 1)  # where the restart array starts
    restarts = struct.unpack_from(f"<{count}I", block, limit)
    if restarts[0] != 0 or any(b <= a for a, b in itertools.pairwise(restarts)) or restarts[-1] > limit:
        raise TFIOError("block restart points out of order or out of range")
    if limit == 0 and count > 1:
        raise TFIOError("empty block with several restart points")
    key = b""
    pos = 0
    next_restart = 0
    while pos < limit:
        at_restart = next_restart < count and restarts[next_restart] == pos
        if at_restart:
            next_restart += 1
        elif next_restart < count and restarts[next_restart] < pos:
            raise TFIOError("block restart point inside an entry")
        if limit - pos >= 3 and (block[pos] | block[pos + 1] | block[pos + 2]) < 0x80:
            shared, unshared, value_len = block[pos], block[pos + 1], block[pos + 2]
            pos += 3
        else:
            shared, pos = read_varint32(block, pos, limit)
            unshared, pos = read_varint32(block, pos, limit)
            value_len, pos = read_varint32(block, pos, limit)
        if shared > len(key) or (at_restart and shared):
            raise TFIOError("bad entry in block (shared key prefix)")
        if unshared + value_len > limit - pos:
            raise TFIOError("bad entry in block (lengths past the block)")
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        yield key, block[pos : pos + value_len]
        pos += value_len
    if next_restart != count and limit:
        raise TFIOError("block restart point past its last entry")


def entries(path: str | os.PathLike[str]) -> Iterator[tuple[bytes, bytes]]:
    """Every (key, value) of the table at ``path``, in key order, from every data block."""
    with open_binary(path, "checkpoint index") as f:
        size = os.fstat(f.fileno()).st_size
        if size < FOOTER_BYTES:
            raise TFIOError(f"too short for a table ({size} bytes)")
        f.seek(size - FOOTER_BYTES)
        footer = read_footer(f.read(FOOTER_BYTES))
        data_end = size - FOOTER_BYTES
        read_block(f, footer.metaindex, data_end, "metaindex block")  # checked, not used
        index = read_block(f, footer.index, data_end, "index block")
        last_key: bytes | None = None
        block_end = 0
        count = 0
        for separator, value in block_entries(index):
            handle = decode_handle(value)
            if handle.offset < block_end:
                raise TFIOError(f"data block at offset {handle.offset} overlaps the one before it")
            block = read_block(f, handle, data_end, "data block")
            block_end = handle.offset + handle.size + TRAILER_BYTES
            for key, item in block_entries(block):
                if last_key is not None and key <= last_key:
                    raise TFIOError("table keys out of order")
                if key > separator:
                    raise TFIOError("table key past its index entry")
                count += 1
                if count > MAX_ENTRIES:
                    raise TFIOError(f"table of more than {MAX_ENTRIES} entries")
                last_key = key
                yield key, item
