"""Reading members of a ``.keras`` zip archive without trusting its headers."""

from __future__ import annotations

import io
import os
import struct
import zipfile
from typing import IO, BinaryIO

MAX_JSON_BYTES = 64 * 1024 * 1024  # config.json / metadata.json larger than this is refused
MAX_RATIO = 1000  # compressed members declaring more than this expansion are zip bombs


class ArchiveError(ValueError):
    """The archive is damaged, hostile or lacks what a .keras file holds."""


def read_small(zf: zipfile.ZipFile, name: str | zipfile.ZipInfo, limit: int = MAX_JSON_BYTES) -> bytes:
    """Read a small member, refusing absurd declared or actual sizes before allocating.

    A name reads the last member of that name, as zipfile (and so Keras) does; a ZipInfo reads
    that very member, also one that a later member of the same name hides."""
    info = zf.getinfo(name) if isinstance(name, str) else name
    name = info.filename
    if info.file_size > limit:
        raise ArchiveError(f"{name} declares {info.file_size:,} bytes (limit {limit:,})")
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise ArchiveError(f"{name} declares an expansion ratio typical of a zip bomb")
    with zf.open(info) as fh:
        data = fh.read(limit + 1)  # headers may lie: never read more than the limit
    if len(data) > limit:
        raise ArchiveError(f"{name} expands beyond {limit:,} bytes")
    return data


def stored_data_offset(fh: BinaryIO, info: zipfile.ZipInfo) -> int | None:
    """Absolute offset of an uncompressed member's bytes, from its local header."""
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        return None
    fh.seek(info.header_offset)
    header = fh.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise ArchiveError(f"bad local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len


class Window(io.RawIOBase):
    """A read-only, seekable view of ``length`` bytes at ``offset`` of a file.

    h5py reads an uncompressed archive member through this at native speed,
    instead of through zipfile's slower member object.
    """

    def __init__(self, path: str, offset: int, length: int) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115 (closed by close())
        self._offset = offset
        self._length = length
        self._pos = 0
        if offset + length > os.fstat(self._fh.fileno()).st_size:
            self._fh.close()
            raise ArchiveError("member extends past the end of the archive (truncated file?)")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self._length - self._pos)
        if n <= 0:
            return 0
        self._fh.seek(self._offset + self._pos)
        got = self._fh.readinto(memoryview(buffer)[:n])
        self._pos += got or 0
        return got or 0

    def close(self) -> None:
        self._fh.close()
        super().close()


def open_member(path: str, zf: zipfile.ZipFile, name: str) -> IO[bytes]:
    """A seekable binary file for a member: a direct window when stored, else zipfile's stream."""
    return open_info(path, zf, zf.getinfo(name))


def open_info(path: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    """:func:`open_member` for one member entry (of several with the same name, any)."""
    name = info.filename
    with open(path, "rb") as fh:
        offset = stored_data_offset(fh, info)
    if offset is not None:
        return io.BufferedReader(Window(path, offset, info.file_size), buffer_size=16 * 1024)
    if info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise ArchiveError(f"{name} declares an expansion ratio typical of a zip bomb")
    return zf.open(info)


def duplicate_members(zf: zipfile.ZipFile) -> list[str]:
    """Names that several members share: zipfile (and so Keras) reads the last of them, other
    zip readers the first, so a scanner may be shown one file and the loader another."""
    seen: dict[str, int] = {}
    for name in zf.namelist():
        seen[name] = seen.get(name, 0) + 1
    return [name for name, count in seen.items() if count > 1]


def unsafe_members(zf: zipfile.ZipFile) -> list[str]:
    """Member names that are absolute or climb out of the archive with ``..``."""
    bad = []
    for name in zf.namelist():
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
            bad.append(name)
    return bad
