"""HDF5 files: legacy full models, Keras 2 weights-only and Keras 3 weights-only.

Everything is read from a :class:`~kinspect.loaders.snapshot.Snapshot` (plain data
taken by libhdf5 in a child process); nothing here touches h5py.
"""

from __future__ import annotations

from typing import Any

from kinspect.assemble import assign_legacy
from kinspect.catalog.architecture import ModelSpec
from kinspect.catalog.weightnames import is_trainable_name, legacy_name
from kinspect.errors import InputError
from kinspect.loaders.common import (
    build_model,
    compile_info,
    decode_json,
    is_keras2,
    parse_architecture,
    weights_only_model,
)
from kinspect.loaders.isolate import Pending
from kinspect.loaders.keras3_weights import keras3_weights_only
from kinspect.loaders.snapshot import Dataset, Snapshot, read
from kinspect.model import Format, ModelInfo, WeightInfo

SIGNATURE = b"\x89HDF\r\n\x1a\n"
Arch = tuple[ModelSpec, bool, dict[str, Any]]


def matches(head: bytes) -> bool:
    return head.startswith(SIGNATURE)


def legacy_groups(snap: Snapshot, group: str) -> dict[str, list[tuple[str, Dataset]]]:
    """layer name → [(weight name, dataset)] from ``layer_names``/``weight_names`` attributes."""
    out: dict[str, list[tuple[str, Dataset]]] = {}
    prefix = f"{group}/" if group else ""
    for name in snap.names(group, "layer_names"):
        where = f"{prefix}{name}"
        if where not in snap.groups:
            raise InputError("", f"layer_names lists {name!r} but there is no such group")
        entries = []
        for weight in snap.names(where, "weight_names"):
            ds = snap.datasets.get(f"{where}/{weight}")
            if ds is None:
                raise InputError("", f"layer {name!r} lists weight {weight!r} that is not stored")
            entries.append((weight, ds))
        out[name] = entries
    return out


def kind(snap: Snapshot) -> Format | None:
    root = snap.attrs.get("", {})
    if "model_config" in root:
        return Format.H5
    if "layer_names" in root or "layer_names0" in root:
        return Format.LEGACY_WEIGHTS_H5
    if "layers" in snap.groups or "vars" in snap.groups:
        return Format.WEIGHTS_H5
    return None


def model_config(path: str, snap: Snapshot, name: str = "model_config") -> Any:
    return decode_json(path, snap.attr("", name), f"attribute {name}")


def load(path: str, arch: Arch | None = None, pending: Pending | None = None) -> ModelInfo:
    """Read an HDF5 Keras file; ``arch`` pairs a weights-only file with an architecture.
    ``pending`` is the snapshot read if it was already started."""
    snap = Snapshot.from_json(pending()) if pending is not None else read(path)
    fmt = kind(snap)
    try:
        if fmt is Format.H5:
            return _full_model(path, snap)
        if fmt is Format.LEGACY_WEIGHTS_H5:
            return _legacy_weights(path, snap, arch)
        if fmt is Format.WEIGHTS_H5:
            return keras3_weights_only(path, Format.WEIGHTS_H5, snap.datasets, arch)
    except InputError as exc:
        if exc.path:
            raise
        raise InputError(path, exc.problem) from None
    raise InputError(path, "HDF5 file is neither a Keras model nor a Keras weights file")


def _version(snap: Snapshot, name: str) -> str | None:
    value = snap.attr("", name) or snap.attr("model_weights", name)
    return value if isinstance(value, str) else None


def _full_model(path: str, snap: Snapshot) -> ModelInfo:
    config = model_config(path, snap)
    spec = parse_architecture(path, config)
    keras2 = is_keras2(config)
    weights = (
        assign_legacy(spec, legacy_groups(snap, "model_weights")) if "model_weights" in snap.groups else None
    )
    training = model_config(path, snap, "training_config") if snap.attr("", "training_config") else None
    optimizer = tuple(
        WeightInfo(legacy_name(rel), ds.path, ds.shape, ds.dtype, False)
        for rel, ds in snap.under("optimizer_weights").items()
    )
    return build_model(
        path, Format.H5, spec, keras2, weights,
        keras_version=_version(snap, "keras_version"),
        backend=_version(snap, "backend"),
        compile=compile_info(training),
        optimizer_weights=optimizer,
    )  # fmt: skip


def _legacy_weights(path: str, snap: Snapshot, arch: Arch | None) -> ModelInfo:
    groups = legacy_groups(snap, "")
    meta = {"keras_version": _version(snap, "keras_version"), "backend": _version(snap, "backend")}
    if arch is not None:
        spec, keras2, arch_meta = arch
        return build_model(path, Format.LEGACY_WEIGHTS_H5, spec, keras2, assign_legacy(spec, groups),
                           **{**arch_meta, **meta})  # fmt: skip
    layers = [
        (name, None, [WeightInfo(_short(name, w), ds.path, ds.shape, ds.dtype, is_trainable_name("", w))
                      for w, ds in entries])
        for name, entries in groups.items()
    ]  # fmt: skip
    return weights_only_model(path, Format.LEGACY_WEIGHTS_H5, layers, **meta)


def _short(layer: str, weight: str) -> str:
    name = legacy_name(weight)
    return name[len(layer) + 1 :] if name.startswith(f"{layer}/") else name
