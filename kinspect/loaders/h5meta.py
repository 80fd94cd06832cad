"""Text attributes and group members of an HDF5 file, read from its bytes without libhdf5.

A plain ``summary`` of a legacy ``.h5`` needs the ``model_config`` root attribute and the weight
names Keras lists on ``model_weights``; reading them through h5py costs a reader child that
imports h5py and numpy (:mod:`kinspect.loaders.snapshot`). This module reads those few
structures itself, in the kinspect process, with the standard library only: the superblock
(versions 0-3, after a user block), object headers (versions 1 and 2, with continuation
blocks), attribute messages (versions 1-3) of fixed-length or variable-length strings (the
latter in a global heap collection), and the members of "old-style" groups (a symbol table: a
version 1 B-tree of symbol nodes plus a local heap of names) or compact "new-style" ones (link
messages). Format: HDF5 File Format Specification version 3.0, sections II (superblock), III.A
(B-trees), III.D-E (local and global heaps), IV.A (object headers and their messages).

Every read is bounded (size caps, a cap on continuation blocks and B-tree nodes, no address
visited twice) and every checksum the format has is verified. Anything this module does not
understand (shared or dense attribute storage, dense link storage, other datatypes, an odd
string, a checksum mismatch, a truncated file) makes it answer ``None``: the caller then reads
the file with h5py in the reader child, as before. A ``None`` is never wrong; a value is the
one the reader child's :func:`kinspect.loaders.h5tree.text` / ``strings`` would give.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Collection, Iterator, Mapping

MAX_ATTR_BYTES = 64 << 20  # as kinspect.loaders.h5tree.MAX_ATTR_BYTES: a larger attribute is refused
MAX_TEXT_BYTES = 64 << 10  # as h5tree.MAX_TEXT_BYTES, for short text (keras_version, backend)
MAX_HEADER_BYTES = 1 << 20  # one object header chunk
MAX_BLOCKS = 64  # continuation blocks followed per object header
MAX_MESSAGES = 65_536  # messages read per object header
MAX_NODES = 100_000  # B-tree and symbol nodes visited per group
MAX_MEMBERS = 200_000  # members listed per group
MAX_DEPTH = 64  # B-tree levels
MAX_HEAP_BYTES = 64 << 20  # a local heap's data segment
MAX_COLLECTION = MAX_ATTR_BYTES + (1 << 20)  # a global heap collection
MAX_ELEMENTS = 1 << 20  # strings in one list attribute
SUPERBLOCK_LIMIT = 1 << 40  # where the superblock search stops (libhdf5 H5FD_locate_signature)
MAX_READ_BYTES = 256 << 20  # read from one file in all (overlapping structures cannot multiply it)
MAX_CHECKSUMMED = 2 << 20  # bytes checksummed in all (lookup3 in Python: about 0.25 s per MiB)

SIGNATURE = b"\x89HDF\r\n\x1a\n"

# Object header message types (spec IV.A.2).
NIL, DATASPACE, LINK_INFO, DATATYPE, LINK, ATTRIBUTE, CONTINUATION, SYMBOL_TABLE, ATTRIBUTE_INFO = (
    0x00, 0x01, 0x02, 0x03, 0x06, 0x0C, 0x10, 0x11, 0x15,
)  # fmt: skip
LAYOUT = 0x08  # a dataset's data layout message
SHARED = 0x02  # message flag: the message is stored elsewhere (a shared object header message)

# Datatype classes and string paddings (spec IV.A.2.d).
FLOAT, STRING, VLEN = 1, 3, 9
NULLTERM, NULLPAD, SPACEPAD = 0, 1, 2

Value = str | list[str]


class _Unsupported(Exception):
    """Something this reader does not understand: the answer is None."""


def _uint(data: bytes, at: int, size: int) -> int:
    if at < 0 or at + size > len(data):
        raise _Unsupported("short structure")
    return int.from_bytes(data[at : at + size], "little")


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & 0xFFFFFFFF


def lookup3(data: bytes, initval: int = 0) -> int:
    """Bob Jenkins's lookup3 ``hashlittle``, the checksum of HDF5's newer structures
    (libhdf5 ``H5_checksum_lookup3``)."""
    m = 0xFFFFFFFF
    length = len(data)
    a = b = c = (0xDEADBEEF + length + initval) & m
    if length == 0:
        return c
    padded = data + bytes(-length % 12)
    words = struct.unpack(f"<{len(padded) // 4}I", padded)
    last = len(words) - 3
    for i in range(0, last, 3):
        a, b, c = (a + words[i]) & m, (b + words[i + 1]) & m, (c + words[i + 2]) & m
        a = ((a - c) & m) ^ _rot(c, 4)
        c = (c + b) & m
        b = ((b - a) & m) ^ _rot(a, 6)
        a = (a + c) & m
        c = ((c - b) & m) ^ _rot(b, 8)
        b = (b + a) & m
        a = ((a - c) & m) ^ _rot(c, 16)
        c = (c + b) & m
        b = ((b - a) & m) ^ _rot(a, 19)
        a = (a + c) & m
        c = ((c - b) & m) ^ _rot(b, 4)
        b = (b + a) & m
    a, b, c = (a + words[last]) & m, (b + words[last + 1]) & m, (c + words[last + 2]) & m
    c = ((c ^ b) - _rot(b, 14)) & m
    a = ((a ^ c) - _rot(c, 11)) & m
    b = ((b ^ a) - _rot(a, 25)) & m
    c = ((c ^ b) - _rot(b, 16)) & m
    a = ((a ^ c) - _rot(c, 4)) & m
    b = ((b ^ a) - _rot(a, 14)) & m
    c = ((c ^ b) - _rot(b, 24)) & m
    return c


class H5Meta:
    """An HDF5 file opened for its metadata; every method answers None when in doubt."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.size = os.fstat(fd).st_size
        self.base = 0
        self.so = self.sl = 8
        self.root = 0
        self.headers: dict[int, list[tuple[int, int, bytes]]] = {}
        self.collections: dict[int, dict[int, bytes]] = {}
        self.groups: dict[int, dict[str, int | None]] = {}
        self.budget = MAX_READ_BYTES + MAX_COLLECTION
        self.checksum_budget = MAX_CHECKSUMMED
        self._superblock()

    # -- raw reads -------------------------------------------------------------------------
    def _read(self, address: int, size: int) -> bytes:
        """``size`` bytes at ``address`` (relative to the base address), all of them or refused."""
        at = self.base + address
        if address < 0 or size < 0 or at + size > self.size:
            raise _Unsupported("beyond the end of the file")
        self.budget -= size
        if self.budget < 0:
            raise _Unsupported("more metadata than a Keras file has")
        data = os.pread(self.fd, size, at)
        if len(data) != size:
            raise _Unsupported("short read")
        return data

    def _undefined(self, address: int) -> bool:
        return address == (1 << (8 * self.so)) - 1

    # -- superblock ------------------------------------------------------------------------
    def _superblock(self) -> None:
        at = 0
        while at + 8 <= self.size and at < SUPERBLOCK_LIMIT:  # 0, 512, 1024, 2048…
            if os.pread(self.fd, 8, at) == SIGNATURE:
                break
            at = 512 if at == 0 else at * 2
        else:
            raise _Unsupported("no HDF5 signature")
        head = os.pread(self.fd, 256, at)
        version = _uint(head, 8, 1)
        if version in (0, 1):
            self.so, self.sl = _uint(head, 13, 1), _uint(head, 14, 1)
            fixed = 24 if version == 0 else 28
            self._sizes_ok()
            base = _uint(head, fixed, self.so)
            # the root group's symbol table entry: link name offset, object header address…
            entry = fixed + 4 * self.so
            root = _uint(head, entry + self.so, self.so)
        elif version in (2, 3):
            self.so, self.sl = _uint(head, 9, 1), _uint(head, 10, 1)
            self._sizes_ok()
            end = 12 + 4 * self.so
            if _uint(head, end, 4) != lookup3(head[:end]):
                raise _Unsupported("superblock checksum")
            base = _uint(head, 12, self.so)
            root = _uint(head, 12 + 3 * self.so, self.so)
        else:
            raise _Unsupported("superblock version")
        if base != at:  # libhdf5 would relocate the file; not a case Keras writes
            raise _Unsupported("base address elsewhere than the superblock")
        self.base, self.root = base, root

    def _sizes_ok(self) -> None:
        if self.so not in (2, 4, 8) or self.sl not in (2, 4, 8):
            raise _Unsupported("sizes of offsets and lengths")

    # -- object headers --------------------------------------------------------------------
    def messages(self, address: int) -> list[tuple[int, int, bytes]]:
        """(type, flags, body) of every message of the object header at ``address``."""
        found = self.headers.get(address)
        if found is None:
            found = list(self._messages(address))
            self.headers[address] = found
        return found

    def _messages(self, address: int) -> Iterator[tuple[int, int, bytes]]:
        prefix = self._read(address, 16)
        seen = {address}
        count = 0
        if prefix[:4] == b"OHDR":
            v2, blocks = True, [self._chunk0_v2(address)]
            total = MAX_MESSAGES
        elif prefix[0] == 1:
            v2 = False
            total = _uint(prefix, 2, 2)
            size = _uint(prefix, 8, 4)
            if size > MAX_HEADER_BYTES:
                raise _Unsupported("object header too large")
            blocks = [self._read(address + 16, size)]
        else:
            raise _Unsupported("object header version")
        flags = prefix[5] if v2 else 0
        followed = 0
        while blocks:
            data = blocks.pop(0)
            pos = 0
            width = (6 if flags & 0x04 else 4) if v2 else 8
            while pos + width <= len(data) and count < total:
                if v2:
                    kind, size, mflags = data[pos], _uint(data, pos + 1, 2), data[pos + 3]
                else:
                    kind, size, mflags = _uint(data, pos, 2), _uint(data, pos + 2, 2), data[pos + 4]
                body = data[pos + width : pos + width + size]
                if len(body) != size:
                    raise _Unsupported("message beyond its block")
                pos += width + size
                count += 1
                if kind == CONTINUATION:
                    where, length = _uint(body, 0, self.so), _uint(body, self.so, self.sl)
                    followed += 1
                    if where in seen or followed > MAX_BLOCKS or length > MAX_HEADER_BYTES:
                        raise _Unsupported("continuation blocks")
                    seen.add(where)
                    blocks.append(self._continuation(where, length, v2))
                elif kind != NIL:
                    yield kind, mflags, body
        if not v2 and count != total:
            raise _Unsupported("fewer messages than the header says")

    def _chunk0_v2(self, address: int) -> bytes:
        head = self._read(address, 6)
        if head[4] != 2:
            raise _Unsupported("object header version")
        flags = head[5]
        at = 6 + (16 if flags & 0x20 else 0) + (4 if flags & 0x10 else 0)
        width = 1 << (flags & 0x03)
        size = _uint(self._read(address + at, width), 0, width)
        if size > MAX_HEADER_BYTES:
            raise _Unsupported("object header too large")
        whole = self._read(address, at + width + size + 4)
        if not self._checksum_ok(whole):
            raise _Unsupported("object header checksum")
        return whole[at + width : -4]

    def _checksum_ok(self, block: bytes) -> bool:
        """Whether a block's last 4 bytes are the lookup3 checksum of the rest."""
        self.checksum_budget -= len(block)
        if self.checksum_budget < 0:
            raise _Unsupported("more checksummed metadata than a Keras file has")
        return lookup3(block[:-4]) == _uint(block, len(block) - 4, 4)

    def _continuation(self, address: int, length: int, v2: bool) -> bytes:
        data = self._read(address, length)
        if not v2:
            return data
        if data[:4] != b"OCHK" or length < 8 or not self._checksum_ok(data):
            raise _Unsupported("continuation block signature or checksum")
        return data[4:-4]

    # -- groups -----------------------------------------------------------------------------
    def is_group(self, address: int) -> bool:
        """Whether the object is a group: a symbol table, or links, and no dataset layout."""
        kinds = {kind for kind, _, _ in self.messages(address)}
        return bool(kinds & {SYMBOL_TABLE, LINK_INFO, LINK}) and LAYOUT not in kinds

    def members(self, address: int) -> dict[str, int | None]:
        """A group's members: name → object header address (None: not a hard link)."""
        found = self.groups.get(address)
        if found is None:
            found = self._members(address)
            self.groups[address] = found
        return found

    def _members(self, address: int) -> dict[str, int | None]:
        out: dict[str, int | None] = {}
        table = None
        for kind, flags, body in self.messages(address):
            if kind in (LINK, LINK_INFO, SYMBOL_TABLE) and flags & SHARED:
                raise _Unsupported("shared group message")
            if kind == SYMBOL_TABLE:
                table = (_uint(body, 0, self.so), _uint(body, self.so, self.so))
            elif kind == LINK_INFO:
                at = 2 + (8 if body[1] & 0x01 else 0)
                if not self._undefined(_uint(body, at, self.so)):
                    raise _Unsupported("dense link storage")
            elif kind == LINK:
                name, target = self._link(body)
                out[name] = target  # messages are bounded by the header's size
        if table is not None:
            if out:
                raise _Unsupported("both a symbol table and links")
            out = self._symbol_table(*table)
        if len(out) > MAX_MEMBERS:
            raise _Unsupported("too many members")
        return out

    def _link(self, body: bytes) -> tuple[str, int | None]:
        if body[0] != 1:
            raise _Unsupported("link message version")
        flags = body[1]
        pos = 2
        kind = 0
        if flags & 0x08:
            kind = body[pos]
            pos += 1
        if flags & 0x04:
            pos += 8
        if flags & 0x10:
            pos += 1
        width = 1 << (flags & 0x03)
        length = _uint(body, pos, width)
        pos += width
        raw = body[pos : pos + length]
        if len(raw) != length:
            raise _Unsupported("link name")
        pos += length
        return raw.decode("utf-8"), _uint(body, pos, self.so) if kind == 0 else None

    def _symbol_table(self, btree: int, heap: int) -> dict[str, int | None]:
        names = self._local_heap(heap)
        out: dict[str, int | None] = {}
        seen: set[int] = set()
        todo = [(btree, MAX_DEPTH)]
        while todo:
            node, depth = todo.pop()
            if node in seen or len(seen) >= MAX_NODES or depth <= 0:
                raise _Unsupported("B-tree")
            seen.add(node)
            head = self._read(node, 8 + 2 * self.so)
            if head[:4] != b"TREE" or head[4] != 0:
                raise _Unsupported("group B-tree node")
            level, used = head[5], _uint(head, 6, 2)
            step = self.sl + self.so
            body = self._read(node + 8 + 2 * self.so, used * step + self.sl)
            children = [_uint(body, self.sl + i * step, self.so) for i in range(used)]
            if level > 0:
                todo.extend((child, depth - 1) for child in reversed(children))
                continue
            for child in children:
                if child in seen or len(seen) >= MAX_NODES:
                    raise _Unsupported("symbol nodes")
                seen.add(child)
                for offset, target in self._symbol_node(child):
                    out[self._heap_name(names, offset)] = target
                if len(out) > MAX_MEMBERS:
                    raise _Unsupported("too many members")
        return out

    def _symbol_node(self, address: int) -> list[tuple[int, int]]:
        head = self._read(address, 8)
        if head[:4] != b"SNOD" or head[4] != 1:
            raise _Unsupported("symbol table node")
        count = _uint(head, 6, 2)
        size = 2 * self.so + 24
        body = self._read(address + 8, count * size)
        return [
            (_uint(body, i * size, self.so), _uint(body, i * size + self.so, self.so)) for i in range(count)
        ]

    def _local_heap(self, address: int) -> bytes:
        head = self._read(address, 8 + 2 * self.sl + self.so)
        if head[:4] != b"HEAP" or head[4] != 0:
            raise _Unsupported("local heap")
        size = _uint(head, 8, self.sl)
        if size > MAX_HEAP_BYTES:
            raise _Unsupported("local heap too large")
        return self._read(_uint(head, 8 + 2 * self.sl, self.so), size)

    @staticmethod
    def _heap_name(heap: bytes, offset: int) -> str:
        end = heap.find(b"\0", offset)
        if offset >= len(heap) or end < 0:
            raise _Unsupported("link name outside the local heap")
        return heap[offset:end].decode("utf-8")

    def lookup(self, path: str) -> int:
        """The object header address of a group path (``""`` is the root)."""
        address = self.root
        for part in [p for p in path.split("/") if p]:
            target = self.members(address).get(part)
            if target is None:
                raise _Unsupported(f"no hard link {part!r}")
            address = target
        return address

    # -- attributes ---------------------------------------------------------------------------
    def attributes(
        self,
        address: int,
        names: Collection[str],
        limits: Mapping[str, int] | None = None,
        chunked: Collection[str] = (),
    ) -> dict[str, Value]:
        """The named attributes of an object that are text (a scalar string) or a list of text
        (a one-dimensional array of strings, or an empty numeric array). ``chunked``: names also
        wanted with a number after them (Keras splits long name lists: ``layer_names0``…)."""
        wanted = _Wanted(names, chunked)
        limits = limits or {}
        out: dict[str, Value] = {}
        for kind, flags, body in self.messages(address):
            if kind == ATTRIBUTE_INFO:
                at = 2 + (2 if body[1] & 0x01 else 0)
                if not self._undefined(_uint(body, at, self.so)):
                    raise _Unsupported("dense attribute storage")
            if kind != ATTRIBUTE:
                continue
            if flags & SHARED:
                raise _Unsupported("shared attribute message")
            name, value = self._attribute(body, wanted, limits)
            if value is not None:
                if name in out:
                    raise _Unsupported("attribute stored twice")
                out[name] = value
        return out

    def _attribute(self, body: bytes, wanted: _Wanted, limits: Mapping[str, int]) -> tuple[str, Value | None]:
        version = body[0]
        name_size, type_size, space_size = _uint(body, 2, 2), _uint(body, 4, 2), _uint(body, 6, 2)
        if version == 1:
            pad = lambda n: (n + 7) // 8 * 8  # noqa: E731
            pos = 8
        elif version in (2, 3):
            if body[1] & 0x03:
                raise _Unsupported("shared datatype or dataspace")
            pad = lambda n: n  # noqa: E731
            pos = 8 if version == 2 else 9
        else:
            raise _Unsupported("attribute message version")
        raw = body[pos : pos + name_size]
        if len(raw) != name_size or not raw.endswith(b"\0"):
            raise _Unsupported("attribute name")
        name = raw[:-1]
        if name not in wanted:
            return "", None
        text = name.decode("utf-8")
        pos += pad(name_size)
        dtype = body[pos : pos + type_size]
        pos += pad(type_size)
        space = body[pos : pos + space_size]
        pos += pad(space_size)
        if len(dtype) != type_size or len(space) != space_size:
            raise _Unsupported("attribute message")
        scalar, count = self._dataspace(space)
        return text, self._value(dtype, scalar, count, body[pos:], limits.get(text, MAX_ATTR_BYTES))

    def _dataspace(self, space: bytes) -> tuple[bool, int]:
        """(scalar, number of elements) of a scalar or one-dimensional dataspace."""
        version, rank = space[0], space[1]
        if version == 1:
            dims = 8
            scalar = rank == 0
        elif version == 2:
            kind = space[3]
            if kind == 2:
                raise _Unsupported("null dataspace")
            dims = 4
            scalar = kind == 0
            if scalar != (rank == 0):
                raise _Unsupported("dataspace")
        else:
            raise _Unsupported("dataspace version")
        if scalar:
            return True, 1
        if rank != 1:
            raise _Unsupported("dataspace rank")
        return False, _uint(space, dims, self.sl)

    def _value(self, dtype: bytes, scalar: bool, count: int, data: bytes, limit: int) -> Value:
        cls, version = dtype[0] & 0x0F, dtype[0] >> 4
        bits = _uint(dtype, 1, 3)
        size = _uint(dtype, 4, 4)
        if count > MAX_ELEMENTS or version not in (1, 2, 3):
            raise _Unsupported("attribute too large or odd")
        if cls == FLOAT and not scalar and count == 0:
            return []  # Keras's empty name list: h5py stores [] as an empty float64 array
        if cls == STRING:
            pad, charset = bits & 0x0F, (bits >> 4) & 0x0F
            if size * count > limit:
                raise _Unsupported("attribute too large")
            if len(data) < size * count:
                raise _Unsupported("attribute data")
            items = [_fixed(data[i * size : (i + 1) * size], pad, charset) for i in range(count)]
        elif cls == VLEN and bits & 0x0F == 1:  # a variable-length string
            charset = (bits >> 8) & 0x0F
            width = 4 + self.so + 4
            if len(data) < width * count:
                raise _Unsupported("attribute data")
            items, total = [], 0
            for i in range(count):
                length = _uint(data, i * width, 4)
                total += length
                if total > limit:
                    raise _Unsupported("attribute too large")
                raw = self._heap_object(
                    _uint(data, i * width + 4, self.so), _uint(data, i * width + 4 + self.so, 4)
                )
                if len(raw) < length:
                    raise _Unsupported("global heap object too short")
                items.append(_checked(raw[:length], charset))
        else:
            raise _Unsupported("not a string attribute")
        return items[0] if scalar else items

    def _heap_object(self, collection: int, index: int) -> bytes:
        objects = self.collections.get(collection)
        if objects is None:
            objects = self._collection(collection)
            self.collections[collection] = objects
        found = objects.get(index)
        if found is None:
            raise _Unsupported("no such global heap object")
        return found

    def _collection(self, address: int) -> dict[int, bytes]:
        head = self._read(address, 8 + self.sl)
        if head[:4] != b"GCOL" or head[4] != 1:
            raise _Unsupported("global heap collection")
        size = _uint(head, 8, self.sl)
        if size > MAX_COLLECTION or size < 8 + self.sl:
            raise _Unsupported("global heap collection size")
        data = self._read(address, size)
        objects: dict[int, bytes] = {}
        pos = 8 + self.sl
        while pos + 8 + self.sl <= size:
            index = _uint(data, pos, 2)
            length = _uint(data, pos + 8, self.sl)
            if index == 0:  # the free space: the rest of the collection
                break
            start = pos + 8 + self.sl
            if start + length > size or index in objects:
                raise _Unsupported("global heap object")
            objects[index] = data[start : start + length]
            pos = start + (length + 7) // 8 * 8
        return objects


class _Wanted:
    """Attribute names asked for, as bytes: exact names, and chunked names followed by digits."""

    def __init__(self, names: Collection[str], chunked: Collection[str]) -> None:
        self.names = {n.encode("utf-8") for n in names}
        self.chunked = tuple(n.encode("utf-8") for n in chunked)

    def __contains__(self, name: bytes) -> bool:
        if name in self.names:
            return True
        return any(name.startswith(c) and name[len(c) :].isdigit() for c in self.chunked)


def _checked(raw: bytes, charset: int) -> str:
    """Text as h5py gives it decoded (kinspect decodes bytes as UTF-8); an embedded NUL (h5py
    reads up to it, or keeps it, depending on the type) is not a case worth guessing."""
    if charset not in (0, 1) or b"\0" in raw:
        raise _Unsupported("string charset or NUL")
    return raw.decode("utf-8")


def _fixed(raw: bytes, pad: int, charset: int) -> str:
    """A fixed-length string as h5py reads it: libhdf5 converts it to a null-padded string
    (ending at the first NUL, or trailing spaces removed for space padding), and numpy drops
    the trailing NULs."""
    if pad in (NULLTERM, NULLPAD):
        cut = raw.find(b"\0")
        text = raw if cut < 0 else raw[:cut]
        if raw[len(text) :].strip(b"\0"):
            raise _Unsupported("bytes after a string's NUL")
    elif pad == SPACEPAD:
        text = raw.rstrip(b" ").rstrip(b"\0")
    else:
        raise _Unsupported("string padding")
    return _checked(text, charset)


def open_meta(path: str) -> tuple[int, H5Meta] | None:
    """The file's descriptor and reader, or None when it is not a file this module reads."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return fd, H5Meta(fd)
    except UNSUPPORTED:
        os.close(fd)
        return None


# Everything a malformed file can make the reader raise: all mean "not understood".
UNSUPPORTED = (_Unsupported, struct.error, ValueError, IndexError, OverflowError, OSError, RecursionError)


def group_attributes(
    path: str, wanted: Mapping[str, Collection[str]], limits: Mapping[str, int] | None = None
) -> dict[str, dict[str, Value]] | None:
    """For each group path of ``wanted`` (``""`` is the root), those of the named attributes it
    has that are text or lists of text; None when anything is not understood."""
    opened = open_meta(path)
    if opened is None:
        return None
    fd, meta = opened
    try:
        return {group: meta.attributes(meta.lookup(group), names, limits) for group, names in wanted.items()}
    except UNSUPPORTED:
        return None
    finally:
        os.close(fd)


def root_text_attributes(path: str, names: Collection[str]) -> dict[str, str] | None:
    """The named text attributes of the root group (those it has), as the reader child reads
    them; None when the file is not one this module understands, or one of them is not text."""
    found = group_attributes(path, {"": names})
    if found is None:
        return None
    root = found[""]
    if not all(isinstance(v, str) for v in root.values()):
        return None
    return {k: v for k, v in root.items() if isinstance(v, str)}
