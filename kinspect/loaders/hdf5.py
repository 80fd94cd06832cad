"""HDF5 files: legacy full models, Keras 2 weights-only and Keras 3 weights-only.

Everything is read from a :class:`~kinspect.loaders.snapshot.Snapshot` (plain data
taken by libhdf5 in a child process); nothing here touches h5py. Which layout a file
has is told by its attributes and groups, never by its name. Model building is
imported inside :func:`load`, once the reader child is already reading.
"""

from __future__ import annotations

import os
from typing import Any

from kinspect.errors import InputError
from kinspect.loaders.base import ArchFile, Source
from kinspect.loaders.isolate import Pending
from kinspect.loaders.raw import RawFile, parse_json
from kinspect.loaders.snapshot import Snapshot, begin, read
from kinspect.model import Format, ModelInfo

NAME = "HDF5 model or weights"
FORMATS = (Format.H5, Format.LEGACY_WEIGHTS_H5, Format.WEIGHTS_H5)
SUFFIXES = (".weights.hdf5", ".weights.h5", ".hdf5", ".h5")

SIGNATURE = b"\x89HDF\r\n\x1a\n"


def sniff(path: str, head: bytes) -> bool:
    return head.startswith(SIGNATURE)


def prefetch(path: str, *, verify: bool = True) -> Pending:
    """The file's snapshot, started in the reader child; its ``model_config`` comes first, so
    that ``load`` parses the architecture while the child lists the weights."""
    return begin(path, early="model_config")


# The last snapshot ``load`` read, by the file's identity: ``raw`` (the check rules' view of the
# same file, read right after) takes it instead of starting a second reader child.
_last: tuple[tuple[int, ...], Snapshot] | None = None


def _identity(path: str) -> tuple[int, ...] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _remember(path: str, snap: Snapshot) -> Snapshot:
    global _last
    key = _identity(path)
    _last = (key, snap) if key is not None else None
    return snap


def _recent(path: str) -> Snapshot | None:
    key = _identity(path)
    return _last[1] if _last is not None and key is not None and _last[0] == key else None


def kind(snap: Snapshot) -> Format | None:
    root = snap.attrs.get("", {})
    if "model_config" in root:
        return Format.H5
    if "layer_names" in root or "layer_names0" in root:
        return Format.LEGACY_WEIGHTS_H5
    # tf.keras on Windows wrote one root group per object path: ``layers\\dense``.
    if "layers" in snap.groups or "vars" in snap.groups or any(g.startswith("layers\\") for g in snap.groups):
        return Format.WEIGHTS_H5
    return None


def load(path: str, arch: ArchFile | None, pending: Pending | None, *, verify: bool = True) -> ModelInfo:
    """Read an HDF5 Keras file; ``arch`` pairs a weights-only file with an architecture.
    ``pending`` is the snapshot read if it was already started."""
    from kinspect.loaders import keras2_weights
    from kinspect.loaders.common import paired
    from kinspect.loaders.keras3_weights import keras3_weights_only, listing

    pair = paired(arch) if arch is not None else None
    parsed = keras2_weights.parse_early(path, pending.early()) if pending is not None else None
    snap = _remember(path, Snapshot.from_json(pending()) if pending is not None else read(path))
    fmt = kind(snap)
    try:
        if fmt is Format.H5:
            return keras2_weights.full_model(path, snap, parsed)
        if fmt is Format.LEGACY_WEIGHTS_H5:
            return keras2_weights.weights_only(path, snap, pair)
        if fmt is Format.WEIGHTS_H5:
            return keras3_weights_only(path, Format.WEIGHTS_H5, listing([snap]), pair)
    except InputError as exc:
        if exc.path:
            raise
        raise InputError(path, exc.problem) from None
    raise InputError(path, "HDF5 file is neither a Keras model nor a Keras weights file")


def architecture(path: str) -> Any:
    """The ``model_config`` of a full-model file (to pair weights with --arch)."""
    snap = read(path)
    if kind(snap) is not Format.H5:
        raise InputError(path, "--arch file holds no model architecture")
    return snap.json_attr(path, "model_config")


def raw(path: str) -> RawFile:
    """The ``model_config`` attribute as JSON, when the file has one."""
    try:
        snap = _recent(path) or read(path)
    except InputError as exc:
        return RawFile(problem=exc.problem)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        return RawFile(problem=str(exc)[:200])
    config = snap.attr("", "model_config")
    if config is None:
        return RawFile()
    parsed, problem = parse_json(config, "model_config")
    return RawFile(config=parsed, problem=problem)


def sources(info: ModelInfo) -> list[Source]:
    return [(info.path, None)]
