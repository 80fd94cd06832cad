"""The order in which a group's members were created, read from the HDF5 structures.

h5py lists a group's members alphabetically, but the order in which Keras wrote them is
its traversal order (``model.layers`` order for a ``layers`` container, keras/src/saving/
saving_lib.py ``_save_container_state``). HDF5 keeps that order only where nobody asks for
it: h5py writes "old-style" groups (a symbol table: a B-tree sorted by name, plus a local
heap of link names) unless the file tracks creation order, and the local heap receives the
names in insertion order, each at the next 8-byte aligned offset (HDF5 ``H5HL_insert``;
format: HDF5 File Format Specification, sections III.D "Disk Format: Local Heaps" and
IV.A.2.r "Symbol Table Message"). Reading the heap's names by offset gives the creation
order exactly. A group that tracks creation order is asked for it directly.

Runs in the reader child (it is handed h5py objects and a raw reader over the same bytes).
Every read is bounded and every answer is checked against h5py's own listing: anything
unexpected yields ``None`` (order unknown), never a wrong order.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

Read = Callable[[int, int], bytes]  # (address relative to the HDF5 base address, size) -> bytes

MAX_HEADER_BYTES = 1 << 20  # an object header block larger than this is not one Keras wrote
MAX_HEAP_BYTES = 64 << 20  # a local heap larger than this is refused (order unknown)
MAX_BLOCKS = 64  # continuation blocks followed per object header
MAX_FREE = 100_000  # free-list entries followed per heap
SYMBOL_TABLE = 0x11  # object header message types
CONTINUATION = 0x10
FREE_NULL = 1  # H5HL_FREE_NULL: the end of a local heap's free list


def _uint(data: bytes, at: int, size: int) -> int:
    return int.from_bytes(data[at : at + size], "little")


def creation_order(group: Any, names: Sequence[str], read: Read, sizes: tuple[int, int]) -> list[str] | None:
    """``names`` (the members h5py lists in ``group``) in the order they were created, or None.

    ``sizes`` are the file's sizes of addresses and lengths (``get_create_plist().get_sizes()``).
    """
    import h5py

    wanted = set(names)
    try:
        if group.id.get_create_plist().get_link_creation_order():
            found: list[str] = []

            def take(raw: bytes) -> None:
                found.append(raw.decode("utf-8", "replace"))

            group.id.links.iterate(take, idx_type=h5py.h5.INDEX_CRT_ORDER)
            return found if set(found) == wanted and len(found) == len(wanted) else None
        address = h5py.h5o.get_info(group.id).addr
    except (KeyError, ValueError, RuntimeError, AttributeError, TypeError):
        return None
    try:
        heap = _heap_address(read, address, sizes)
        in_heap = _heap_names(read, heap, sizes) if heap is not None else None
    except (struct.error, ValueError, OSError, OverflowError):
        return None
    if in_heap is None:
        return None
    order = [n for n in in_heap if n in wanted]
    return order if len(order) == len(wanted) and set(order) == wanted else None


def _heap_address(read: Read, address: int, sizes: tuple[int, int]) -> int | None:
    """The local heap of an old-style group, from its version 1 object header."""
    so, sl = sizes
    head = read(address, 16)
    if len(head) < 16 or head[0] != 1:
        return None  # a version 2 header ("OHDR"): a new-style group has no local heap
    count = struct.unpack_from("<H", head, 2)[0]
    blocks = [(address + 16, struct.unpack_from("<I", head, 8)[0])]
    seen = 0
    while blocks and seen <= MAX_BLOCKS:
        start, size = blocks.pop(0)
        seen += 1
        if size > MAX_HEADER_BYTES:
            return None
        data = read(start, size)
        pos = 0
        while pos + 8 <= len(data) and count > 0:
            kind, length = struct.unpack_from("<HH", data, pos)
            body = data[pos + 8 : pos + 8 + length]
            count -= 1
            if kind == SYMBOL_TABLE and len(body) >= 2 * so:
                return _uint(body, so, so)
            if kind == CONTINUATION and len(body) >= so + sl:
                blocks.append((_uint(body, 0, so), _uint(body, so, sl)))
            pos += 8 + length
    return None


def _heap_names(read: Read, address: int, sizes: tuple[int, int]) -> list[str] | None:
    """The names a local heap holds, by offset (the order they were inserted)."""
    so, sl = sizes
    head = read(address, 8 + 2 * sl + so)
    if len(head) < 8 + 2 * sl + so or head[:4] != b"HEAP" or head[4] != 0:
        return None
    size = _uint(head, 8, sl)
    free = _uint(head, 8 + sl, sl)
    data_at = _uint(head, 8 + 2 * sl, so)
    if size > MAX_HEAP_BYTES:
        return None
    data = read(data_at, size)
    if len(data) != size:
        return None
    holes: dict[int, int] = {}
    while free != FREE_NULL and len(holes) < MAX_FREE:
        if free in holes or free + 2 * sl > size:
            return None
        holes[free] = _uint(data, free + sl, sl)
        free = _uint(data, free, sl)
    names: list[str] = []
    pos = 0
    while pos < size:
        if pos in holes:
            if holes[pos] <= 0:
                return None
            pos += holes[pos]
            continue
        end = data.find(b"\0", pos)
        if end < 0:
            return None
        names.append(data[pos:end].decode("utf-8", "replace"))
        pos = (end + 1 + 7) // 8 * 8  # every insertion is aligned to 8 bytes (H5HL_ALIGN)
    return names
