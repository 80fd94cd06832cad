"""Keras 2 weights layout (``layer_names``/``weight_names`` attributes): legacy full-model
``.h5`` files, and ``save_weights`` files with or without an architecture."""

from __future__ import annotations

import re
from typing import Any

from kinspect.catalog.architecture import ModelSpec
from kinspect.catalog.propagate import ShapeResult
from kinspect.catalog.weightnames import is_trainable_name, legacy_name, short_legacy_name
from kinspect.errors import InputError
from kinspect.loaders.assemble import assign_legacy
from kinspect.loaders.base import decode_json
from kinspect.loaders.common import (
    Arch,
    build_model,
    compile_info,
    is_keras2,
    parse_architecture,
    propagate_shapes,
    weights_only_model,
)
from kinspect.loaders.snapshot import Dataset, Snapshot
from kinspect.model import Format, ModelInfo, WeightInfo


def resolve(name: str) -> str:
    """A relative HDF5 path as h5py resolves it: ``res_net//conv2d_1/kernel:0`` names
    ``res_net/conv2d_1/kernel:0`` (libhdf5 treats a run of ``/`` as one separator).

    tf.keras wrote such weight names for some subclassed models, and reads them back with
    ``f[weight_name]`` (tf_keras/saving/legacy/hdf5_format.py
    ``load_subset_weights_from_hdf5_group``), so they are valid.
    """
    return re.sub("/{2,}", "/", name)


def legacy_groups(snap: Snapshot, group: str) -> dict[str, list[tuple[str, Dataset]]]:
    """layer name → [(weight name, dataset)] from ``layer_names``/``weight_names`` attributes.

    Weight names are given as h5py resolves them (see :func:`resolve`)."""
    out: dict[str, list[tuple[str, Dataset]]] = {}
    prefix = f"{group}/" if group else ""
    for name in snap.names(group, "layer_names"):
        where = f"{prefix}{name}"
        if where not in snap.groups:
            raise InputError("", f"layer_names lists {name!r} but there is no such group")
        entries = []
        for weight in snap.names(where, "weight_names"):
            ds = snap.datasets.get(f"{where}/{resolve(weight)}")
            if ds is None:
                raise InputError("", f"layer {name!r} lists weight {weight!r} that is not stored")
            entries.append((resolve(weight), ds))
        out[name] = entries
    return out


def _version(snap: Snapshot, name: str) -> str | None:
    value = snap.attr("", name) or snap.attr("model_weights", name)
    return value if isinstance(value, str) else None


# The architecture parsed from ``model_config`` while the reader child lists the weights:
# the attribute's text, the config, its spec and its output shapes.
Parsed = tuple[str, Any, ModelSpec, ShapeResult]


def parse_early(path: str, config_text: Any) -> Parsed | None:
    """The architecture of a ``model_config`` handed over before the snapshot; None when there is
    none or it does not parse (the snapshot's reading then reports what is wrong, as ever)."""
    if not isinstance(config_text, str):
        return None
    try:
        config = decode_json(path, config_text, "attribute model_config")
        spec = parse_architecture(path, config)
        return config_text, config, spec, propagate_shapes(path, spec, is_keras2(config))
    except InputError:
        return None


def full_model(path: str, snap: Snapshot, parsed: Parsed | None = None) -> ModelInfo:
    """A legacy ``model.save("m.h5")`` file: ``model_config``, weights under ``model_weights``.
    ``parsed``: its architecture, when it was parsed from the same text before the snapshot."""
    shapes: ShapeResult | None = None
    if parsed is not None and snap.attr("", "model_config") == parsed[0]:  # the same text, read once
        _, config, spec, shapes = parsed
    else:
        config = snap.json_attr(path, "model_config")
        spec = parse_architecture(path, config)
    keras2 = is_keras2(config)
    weights = (
        assign_legacy(spec, legacy_groups(snap, "model_weights")) if "model_weights" in snap.groups else None
    )
    training = snap.json_attr(path, "training_config") if snap.attr("", "training_config") else None
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
        shapes=shapes,
    )  # fmt: skip


def weights_only(path: str, snap: Snapshot, arch: Arch | None) -> ModelInfo:
    """A Keras 2 ``save_weights`` file; ``arch`` gives it an architecture."""
    groups = legacy_groups(snap, "")
    meta = {"keras_version": _version(snap, "keras_version"), "backend": _version(snap, "backend")}
    if arch is not None:
        spec, keras2, arch_meta = arch
        return build_model(path, Format.LEGACY_WEIGHTS_H5, spec, keras2, assign_legacy(spec, groups),
                           **{**arch_meta, **meta})  # fmt: skip
    layers = [
        (name, None, [WeightInfo(short, ds.path, ds.shape, ds.dtype, is_trainable_name("", short))
                      for w, ds in entries for short in [short_legacy_name(name, w)]])
        for name, entries in groups.items()
    ]  # fmt: skip
    return weights_only_model(path, Format.LEGACY_WEIGHTS_H5, layers, **meta)
