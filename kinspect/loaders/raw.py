"""What ``kinspect check`` needs before (or instead of) a full load: the raw config and
the archive's member names, read with the same bounds as the loaders.

The full loader refuses a hostile archive (a member path escaping it) or a model whose
weights contradict its config; a check run still wants to scan that file's config and
report the problem as a finding. Nothing here is executed or imported.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from kinspect.errors import InputError
from kinspect.loaders.archive import ArchiveError, read_small, unsafe_members

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


@dataclass(frozen=True)
class RawFile:
    """The parsed config (None when absent or unreadable), metadata and archive members."""

    config: Any = None
    metadata: Any = None
    members: tuple[str, ...] = ()
    unsafe: tuple[str, ...] = ()
    is_archive: bool = False
    problem: str | None = None  # why the config could not be read, when it could not


def _json(data: bytes | str, what: str) -> tuple[Any, str | None]:
    try:
        return json.loads(data), None
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
        return None, f"{what} is not valid JSON ({str(exc)[:100]})"
    except RecursionError:
        return None, f"{what} is nested too deeply"


def _archive(path: str) -> RawFile:
    try:
        with zipfile.ZipFile(path) as zf:
            names = tuple(zf.namelist())
            unsafe = tuple(unsafe_members(zf))
            config = metadata = None
            problem = None
            if "config.json" in names:
                config, problem = _json(read_small(zf, "config.json"), "config.json")
            if "metadata.json" in names:
                metadata, _ = _json(read_small(zf, "metadata.json"), "metadata.json")
    except (ArchiveError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError) as exc:
        return RawFile(is_archive=True, problem=f"unreadable archive ({str(exc)[:100]})")
    return RawFile(config, metadata, names, unsafe, True, problem)


def _hdf5(path: str) -> RawFile:
    from kinspect.loaders.snapshot import read

    try:
        snap = read(path)
    except InputError as exc:
        return RawFile(problem=exc.problem)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        return RawFile(problem=str(exc)[:200])
    raw = snap.attr("", "model_config")
    if raw is None:
        return RawFile()
    config, problem = _json(raw, "model_config")
    return RawFile(config=config, problem=problem)


def read_raw(path: str, hdf5: bool = True, limit: int = 64 * 1024 * 1024) -> RawFile:
    """Raw config and members of a ``.keras`` archive, HDF5 model (when ``hdf5``) or JSON file."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        return RawFile(problem=f"cannot read file ({exc.strerror or exc})")
    if head.startswith(b"PK"):
        return _archive(path)
    if head.startswith(HDF5_SIGNATURE):
        return _hdf5(path) if hdf5 else RawFile()
    if head.lstrip()[:1] == b"{":
        try:
            with open(path, "rb") as fh:
                data = fh.read(limit + 1)
        except OSError as exc:
            return RawFile(problem=f"cannot read file ({exc.strerror or exc})")
        if len(data) > limit:
            return RawFile(problem="JSON file too large")
        config, problem = _json(data, "JSON file")
        return RawFile(config=config, problem=problem)
    return RawFile()
