"""Loaders: sniff a file by content, then read it into a ModelInfo.

Each format module offers ``matches(head) -> bool`` on the first bytes; only the
loaders touch zipfile and h5py.
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib
from typing import TYPE_CHECKING

from kinspect.errors import InputError
from kinspect.loaders.isolate import Pending
from kinspect.loaders.snapshot import begin

if TYPE_CHECKING:
    from kinspect.model import ModelInfo

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

TRIED = ".keras archive, HDF5 model or weights, Keras config.json"
MAX_CONFIG_BYTES = 64 * 1024 * 1024
MAX_PROBLEM = 300  # characters of a problem description

# What zipfile, zlib, json and h5py raise on damaged input: h5py maps HDF5 errors to
# OSError, KeyError, ValueError or RuntimeError; NotImplementedError (a zip compression
# method Python lacks) is a RuntimeError. TypeError is left out: it would hide our bugs.
READ_ERRORS = (OSError, KeyError, ValueError, RuntimeError, EOFError, zipfile.BadZipFile, zlib.error)


def _head(path: str) -> bytes:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError(path, f"cannot read file ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(path, "is a directory, not a model file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(path, "is not a regular file")
    if st.st_size == 0:
        raise InputError(path, "file is empty")
    try:
        with open(path, "rb") as fh:
            return fh.read(16)
    except OSError as exc:
        raise InputError(path, f"cannot read file ({exc.strerror or exc})") from None


def load(path: str | os.PathLike[str], arch: str | os.PathLike[str] | None = None) -> ModelInfo:
    """Read a saved Keras model or weights file into a :class:`ModelInfo`.

    Nothing in the file is executed or imported. ``arch`` names a ``.keras``,
    ``.h5`` or ``config.json`` whose architecture explains a weights-only file.
    libhdf5 reads run in a child process with a deadline and a memory ceiling
    (see :mod:`kinspect.loaders.snapshot`); files are only ever opened read-only.
    """
    path = os.fspath(path)
    arch = os.fspath(arch) if arch is not None else None
    head = _head(path)
    if arch is not None:
        _head(arch)
    # Start the libhdf5 reader child first, so that it reads while this process imports
    # and parses the rest; make sure it never outlives a refusal.
    pending = _prefetch(path, head)
    try:
        return _load(path, head, arch, pending)
    except InputError as exc:
        # Messages come from libraries too: keep the promise of one line.
        problem = " ".join(exc.problem.split()) or "unreadable"
        raise type(exc)(exc.path, problem[:MAX_PROBLEM]) from None  # keep the kind of refusal


def _prefetch(path: str, head: bytes) -> Pending | None:
    """The weights listing of an archive or an HDF5 file, started in a child."""
    if head.startswith(HDF5_SIGNATURE):
        return begin(path)
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as zf:
                if "model.weights.h5" in zf.namelist():
                    return begin(path, "model.weights.h5")
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return None  # the loader reports what is wrong with the archive
    return None


def _load(path: str, head: bytes, arch: str | None, pending: Pending | None) -> ModelInfo:
    from kinspect.loaders import hdf5, keras_zip
    from kinspect.loaders.common import one_line

    try:
        if keras_zip.matches(head):
            if arch is not None:
                raise InputError(path, "--arch applies to weights-only files; this archive has its own")
            return keras_zip.load(path, pending)
        if hdf5.matches(head):
            return hdf5.load(path, _architecture(arch) if arch is not None else None, pending)
        if head.lstrip()[:1] == b"{":
            return _json_file(path, arch)
    except InputError:
        raise
    except RecursionError:
        raise InputError(path, "structure nested too deeply") from None
    except READ_ERRORS as exc:
        raise InputError(path, f"corrupt or unsupported file ({one_line(exc)})") from None
    finally:
        if pending is not None:
            pending.cancel()  # a no-op once collected
    raise InputError(path, f"not a Keras model file (tried: {TRIED})")


def _read_json(path: str) -> object:
    if os.path.getsize(path) > MAX_CONFIG_BYTES:
        raise InputError(path, f"JSON file larger than {MAX_CONFIG_BYTES:,} bytes")
    from kinspect.loaders.common import decode_json

    with open(path, "rb") as fh:
        return decode_json(path, fh.read(), "the file")


def _json_file(path: str, arch: str | None) -> ModelInfo:
    """A ``config.json`` architecture, or the index of sharded Keras 3 weights."""
    from kinspect.loaders.common import build_model, is_keras2, parse_architecture
    from kinspect.loaders.keras3_weights import keras3_weights_only
    from kinspect.model import Format

    data = _read_json(path)
    if isinstance(data, dict) and "weight_map" in data:
        return keras3_weights_only(path, Format.SHARDED_WEIGHTS, _shards(path, data),
                                   _architecture(arch) if arch is not None else None)  # fmt: skip
    spec = parse_architecture(path, data)
    return build_model(path, Format.CONFIG_JSON, spec, is_keras2(data), None)


def _shards(path: str, index: dict) -> dict:
    """Datasets of every shard an index names (files beside it, never outside its folder)."""
    from kinspect.loaders import snapshot
    from kinspect.loaders.keras_zip import weight_map

    folder = os.path.dirname(os.path.abspath(path))
    found: dict = {}
    for shard in sorted({v for vs in weight_map(index).values() for v in vs}):
        if os.path.basename(shard) != shard or shard in (".", ".."):
            raise InputError(path, f"sharded weights name a shard outside their folder: {shard!r:.100}")
        where = os.path.join(folder, shard)
        _head(where)
        found.update(snapshot.read(where).datasets)
    return found


def _architecture(arch: str) -> tuple:
    """(spec, keras2, metadata) of the file named by --arch."""
    from kinspect.loaders import hdf5, keras_zip
    from kinspect.loaders.common import is_keras2, parse_architecture
    from kinspect.model import Format

    head = _head(arch)
    meta: dict = {"paired": True}  # weights checked against an architecture: report, do not refuse
    if keras_zip.matches(head):
        config, _ = keras_zip.archive_config(arch)
    elif hdf5.matches(head):
        from kinspect.loaders.snapshot import read

        snap = read(arch)
        if hdf5.kind(snap) is not Format.H5:
            raise InputError(arch, "--arch file holds no model architecture")
        config = hdf5.model_config(arch, snap)
    else:
        config = _read_json(arch)
    return parse_architecture(arch, config), is_keras2(config), meta
