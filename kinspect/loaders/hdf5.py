"""HDF5 files: legacy full models, Keras 2 weights-only and Keras 3 weights-only.

Everything is read from a :class:`~kinspect.loaders.snapshot.Snapshot` (plain data
taken by libhdf5 in a child process); nothing here touches h5py. Which layout a file
has is told by its attributes and groups, never by its name. Model building is
imported inside :func:`load`, once the reader child is already reading.

A plain summary (``verify=False``) of a legacy full model first tries without the child: its
``model_config`` and weight names read from the file's bytes (:mod:`kinspect.loaders.h5meta`),
the tensors' shapes from the config, where that decides them all (:func:`_config_only`).
"""

from __future__ import annotations

import os
from typing import Any

from kinspect.errors import InputError
from kinspect.loaders.base import ArchFile, Recent, Source
from kinspect.loaders.isolate import Pending
from kinspect.loaders.raw import RawFile, parse_json
from kinspect.loaders.snapshot import Snapshot, begin, joined_names, read
from kinspect.model import Format, ModelInfo

NAME = "HDF5 model or weights"
FORMATS = (Format.H5, Format.LEGACY_WEIGHTS_H5, Format.WEIGHTS_H5)
SUFFIXES = (".weights.hdf5", ".weights.h5", ".hdf5", ".h5")

SIGNATURE = b"\x89HDF\r\n\x1a\n"


def sniff(path: str, head: bytes) -> bool:
    return head.startswith(SIGNATURE)


def prefetch(path: str, *, verify: bool = True) -> Pending | None:
    """The file's snapshot, started in the reader child; its ``model_config`` comes first, so
    that ``load`` parses the architecture while the child lists the weights. Not when the
    summary need not verify the weights: ``load`` then starts it only if the config does not
    decide them."""
    return begin(path, early="model_config") if verify else None


# The last snapshot ``load`` read: ``raw`` (the check rules' view of the same file, read right
# after) takes it instead of starting a second reader child. And the last architecture parsed:
# the verified load that follows a config-only one of the same file (loaders.load_config_first,
# for the report) parses nothing again.
_snapshot: Recent[Snapshot] = Recent()
_parsed: Recent[Any] = Recent()


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
    parsed = None
    if not verify and arch is None:
        decided, parsed = _config_only(path)
        if decided is not None:
            return decided  # a listing already started (the verified load's) is left running
        if pending is None:  # the config does not decide: read the file after all
            pending = begin(path, early="model_config")
    if parsed is None and pending is not None:
        # keras2_weights.full_model checks that the snapshot's model_config is the text parsed.
        parsed = _parsed.get(path) or keras2_weights.parse_early(path, pending.early())
    snap = _snapshot.put(path, Snapshot.from_json(pending()) if pending is not None else read(path))
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


# What the reader child reads on the root, on model_weights and on its layer groups
# (kinspect.loaders.h5tree TEXT_ATTRS and LIST_ATTRS, the latter also chunked as name0, name1…).
TEXT_ATTRS = ("model_config", "training_config", "keras_version", "backend")
LIST_ATTRS = ("layer_names", "weight_names")
LIMITS = {"keras_version": 64 << 10, "backend": 64 << 10}  # h5tree.MAX_TEXT_BYTES


def _config_only(path: str) -> tuple[ModelInfo | None, Any]:
    """A legacy full model described by its config alone, where that decides every stored tensor
    (README "What a plain summary reads"): read without libhdf5 (:mod:`kinspect.loaders.h5meta`),
    the file's ``model_config`` and the weight names Keras listed, none of its tensors. (None,
    the parsed architecture or None) when the config does not decide or the file is not one
    h5meta reads: the caller reads it in the reader child as ever."""
    from kinspect.loaders import keras2_weights
    from kinspect.loaders.assemble import assign_legacy_from_config
    from kinspect.loaders.common import build_model, compile_info, is_keras2

    stored = _stored_names(path)
    if stored is None:
        return None, None
    config_text, versions, names = stored
    parsed = _parsed.put(path, keras2_weights.parse_early(path, config_text))
    if parsed is None:
        return None, None
    _, config, spec, shapes = parsed
    weights = assign_legacy_from_config(spec, shapes, names)
    if weights is None:
        return None, parsed
    info = build_model(
        path, Format.H5, spec, is_keras2(config), weights,
        keras_version=versions.get("keras_version"),
        backend=versions.get("backend"),
        compile=compile_info(None),
        optimizer_weights=(),
        shapes=shapes,
        weights_checked=False,
    )  # fmt: skip
    return info, parsed


def _stored_names(path: str) -> tuple[str, dict[str, str], dict[str, list[str]]] | None:
    """The root's ``model_config`` (and the versions, as ``keras2_weights`` takes them: the root's,
    else model_weights's), and each ``layer_names`` group's ``weight_names`` (as
    ``keras2_weights.legacy_groups`` resolves them); None unless the file is a legacy full model
    that Keras saved without a training config (so without optimizer weights)."""
    from kinspect.loaders import h5meta
    from kinspect.loaders.keras2_weights import resolve

    opened = h5meta.open_meta(path)
    if opened is None:
        return None
    fd, meta = opened
    try:
        top = meta.members(meta.root)
        root = _attributes(meta, meta.root)
        if root is None or set(top) != {"model_weights"} or top["model_weights"] is None:
            return None
        if not isinstance(root.get("model_config"), str) or "training_config" in root:
            return None
        weights = top["model_weights"]
        if not meta.is_group(weights):
            return None
        group = _attributes(meta, weights)
        layers = meta.members(weights)
        if group is None:
            return None
        names: dict[str, list[str]] = {}
        for layer in joined_names(group, "layer_names"):
            where = layers.get(layer)
            group_ok = where is not None and "/" not in layer and meta.is_group(where)
            found = _attributes(meta, where) if where is not None and group_ok else None
            if found is None:
                return None
            listed = [resolve(w) for w in joined_names(found, "weight_names")]
            if any("" in w.split("/") for w in listed):
                return None  # a name h5py would not find as written: the reader child tells
            names[layer] = listed
    except h5meta.UNSUPPORTED:
        return None
    finally:
        os.close(fd)
    versions = {
        n: v
        for n in ("keras_version", "backend")
        for v in [root.get(n) or group.get(n)]
        if isinstance(v, str)
    }
    return root["model_config"], versions, names


def _attributes(meta: Any, address: int) -> dict[str, Any] | None:
    """What the reader child reads of a group's attributes; None where it would find one odd."""
    found = meta.attributes(address, (*TEXT_ATTRS, *LIST_ATTRS), LIMITS, chunked=LIST_ATTRS)
    for name, value in found.items():
        if name in TEXT_ATTRS and not isinstance(value, str):
            return None
        if name not in TEXT_ATTRS:
            found[name] = [value] if isinstance(value, str) else value
    return found


def architecture(path: str) -> Any:
    """The ``model_config`` of a full-model file (to pair weights with --arch): read from the
    file's bytes where :mod:`kinspect.loaders.h5meta` understands them, else in the reader child."""
    from kinspect.loaders.base import decode_json
    from kinspect.loaders.h5meta import root_text_attributes

    found = root_text_attributes(path, ("model_config",))
    if found is not None and "model_config" in found:
        return decode_json(path, found["model_config"], "attribute model_config")
    snap = read(path)
    if kind(snap) is not Format.H5:
        raise InputError(path, "--arch file holds no model architecture")
    return snap.json_attr(path, "model_config")


def raw(path: str) -> RawFile:
    """The ``model_config`` attribute as JSON, when the file has one."""
    try:
        snap = _snapshot.get(path) or read(path)
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
