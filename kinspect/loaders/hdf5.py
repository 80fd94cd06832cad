"""HDF5 files: legacy full models, Keras 2 weights-only and Keras 3 weights-only."""

from __future__ import annotations

from typing import Any

import h5py

from kinspect.architecture import ModelSpec
from kinspect.assemble import assign_legacy
from kinspect.errors import InputError
from kinspect.loaders.common import (
    build_model,
    compile_info,
    is_keras2,
    parse_architecture,
    weights_only_model,
)
from kinspect.loaders.h5tree import (
    Dataset,
    H5Error,
    attr_strings,
    dtype_name,
    json_attr,
    list_datasets,
    optional_text,
)
from kinspect.loaders.keras3_weights import keras3_weights_only
from kinspect.model import Format, ModelInfo, WeightInfo
from kinspect.weightnames import is_trainable_name, legacy_name

SIGNATURE = b"\x89HDF\r\n\x1a\n"


def matches(head: bytes) -> bool:
    return head.startswith(SIGNATURE)


def legacy_groups(group: h5py.Group) -> dict[str, list[tuple[str, Dataset]]]:
    """layer name → [(weight name, dataset)] from ``layer_names``/``weight_names`` attributes."""
    out: dict[str, list[tuple[str, Dataset]]] = {}
    for name in attr_strings(group, "layer_names"):
        sub = group.get(name)
        if not isinstance(sub, h5py.Group):
            raise H5Error(f"layer_names lists {name!r} but there is no such group")
        entries = []
        for weight in attr_strings(sub, "weight_names"):
            ds = sub.get(weight)
            if not isinstance(ds, h5py.Dataset):
                raise H5Error(f"layer {name!r} lists weight {weight!r} that is not stored")
            shape = tuple(int(d) for d in (ds.shape or ()))
            entries.append((weight, Dataset(ds.name, shape, dtype_name(ds))))
        out[name] = entries
    return out


def _optimizer_weights(f: h5py.File) -> tuple[WeightInfo, ...]:
    group = f.get("optimizer_weights")
    if not isinstance(group, h5py.Group):
        return ()
    return tuple(
        WeightInfo(legacy_name(name), f"optimizer_weights/{name}", ds.shape, ds.dtype, False)
        for name, ds in list_datasets(group).items()
    )


def kind(f: h5py.File) -> Format | None:
    attrs = f.attrs
    if "model_config" in attrs:
        return Format.H5
    if "layer_names" in attrs or "layer_names0" in attrs:
        return Format.LEGACY_WEIGHTS_H5
    if isinstance(f.get("layers"), h5py.Group) or isinstance(f.get("vars"), h5py.Group):
        return Format.WEIGHTS_H5
    return None


def load(path: str, arch: tuple[ModelSpec, bool, dict[str, Any]] | None = None) -> ModelInfo:
    """Read an HDF5 Keras file; ``arch`` pairs a weights-only file with an architecture."""
    try:
        with h5py.File(path, "r") as f:
            fmt = kind(f)
            if fmt is None:
                raise InputError(path, "HDF5 file is neither a Keras model nor a Keras weights file")
            if fmt is Format.H5:
                return _full_model(path, f)
            if fmt is Format.LEGACY_WEIGHTS_H5:
                return _legacy_weights(path, f, arch)
            return keras3_weights_only(path, Format.WEIGHTS_H5, list_datasets(f), arch)
    except H5Error as exc:
        raise InputError(path, str(exc)) from None


def _full_model(path: str, f: h5py.File) -> ModelInfo:
    config = json_attr(f, "model_config")
    spec = parse_architecture(path, config)
    keras2 = is_keras2(config)
    group = f.get("model_weights")
    weights = assign_legacy(spec, legacy_groups(group)) if isinstance(group, h5py.Group) else None
    training = json_attr(f, "training_config") if "training_config" in f.attrs else None
    where = group if isinstance(group, h5py.Group) else f
    return build_model(
        path, Format.H5, spec, keras2, weights,
        keras_version=optional_text(f, "keras_version") or optional_text(where, "keras_version"),
        backend=optional_text(f, "backend") or optional_text(where, "backend"),
        compile=compile_info(training),
        optimizer_weights=_optimizer_weights(f),
    )  # fmt: skip


def _legacy_weights(
    path: str, f: h5py.File, arch: tuple[ModelSpec, bool, dict[str, Any]] | None
) -> ModelInfo:
    groups = legacy_groups(f)
    meta = {
        "keras_version": optional_text(f, "keras_version"),
        "backend": optional_text(f, "backend"),
    }
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
