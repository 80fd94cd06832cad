"""Turning a parsed config and a weights listing into a ModelInfo: shared by every loader."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from kinspect.catalog.architecture import ConfigError, ModelSpec, parse_model
from kinspect.catalog.propagate import ShapeResult, propagate
from kinspect.errors import InputError, WeightsMismatchError
from kinspect.loaders.assemble import Assignment, build_layers
from kinspect.loaders.base import ArchFile
from kinspect.model import CompileInfo, Format, IssueKind, LayerInfo, ModelInfo, WeightInfo, WeightIssue

# An architecture to pair weights with: the spec, whether it is Keras 2 style, ModelInfo metadata.
Arch = tuple[ModelSpec, bool, dict[str, Any]]


def parse_architecture(path: str, config: Any) -> ModelSpec:
    """The model spec, or a one-line InputError naming what is wrong with the config."""
    try:
        return parse_model(config)
    except ConfigError as exc:
        raise InputError(path, f"invalid model config: {exc}") from None
    except RecursionError:
        raise InputError(path, "model config is nested too deeply") from None


def paired(arch: ArchFile) -> Arch:
    """The architecture of the ``--arch`` file; weights checked against it report, not refuse."""
    config = arch.config()
    return parse_architecture(arch.path, config), is_keras2(config), {"paired": True}


def is_keras2(config: Any) -> bool:
    """Keras 2 style graphs serialize calls as lists (``[[layer, node, tensor, kwargs]]``),
    Keras 3 as ``{"args", "kwargs"}`` mappings; tf.keras writes the list style even in
    ``.keras`` archives. A config with no calls at all is judged by its ``module`` keys."""
    stack = [config]
    while stack:
        item = stack.pop()
        if not isinstance(item, Mapping):
            continue
        inner = item.get("config")
        layers = inner.get("layers") if isinstance(inner, Mapping) else None
        for layer in layers if isinstance(layers, list) else []:
            nodes = layer.get("inbound_nodes") if isinstance(layer, Mapping) else None
            if isinstance(nodes, list) and nodes:
                return isinstance(nodes[0], list)
            stack.append(layer)
    return isinstance(config, Mapping) and "module" not in config


def compile_info(config: Any) -> CompileInfo | None:
    """Keras 3 ``compile_config`` or Keras 2 ``training_config``, reduced to names."""
    if not isinstance(config, Mapping):
        return None
    opt = config.get("optimizer", config.get("optimizer_config"))
    name = lr = None
    if isinstance(opt, Mapping):
        name = opt.get("class_name") if isinstance(opt.get("class_name"), str) else None
        inner = opt.get("config")
        if isinstance(inner, Mapping):
            value = inner.get("learning_rate", inner.get("lr"))
            lr = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    elif isinstance(opt, str):
        name = opt
    return CompileInfo(optimizer=name, learning_rate=lr, loss=_plain(config.get("loss")),
                       metrics=_plain(config.get("metrics")), config=config)  # fmt: skip


def _plain(value: Any) -> Any:
    """A loss or metric: a name, or the class name of a serialized object.

    Keras 3 serializes a function as ``class_name: "function"`` with its name in ``config``
    (``"fid>scaled_mse"`` for a registered one in 3.15) and, in earlier 3.x versions, its
    registry key in ``registered_name`` (``"Custom>my_loss"``): that name is shown, not
    "function" (keras/src/saving/serialization_lib.py ``serialize_keras_object``).
    """
    if isinstance(value, Mapping):
        if value.get("class_name") == "function":
            registered, config = value.get("registered_name"), value.get("config")
            if isinstance(registered, str) and registered not in ("function", ""):
                return registered
            if isinstance(config, str) and config:
                return config
        if "class_name" in value:
            return value.get("class_name")
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def propagate_shapes(path: str, spec: ModelSpec, keras2: bool) -> ShapeResult:
    """Output shapes of every layer (see :mod:`kinspect.catalog.propagate`)."""
    try:
        return propagate(spec, keras2)
    except RecursionError:
        raise InputError(path, "model graph is nested too deeply") from None


def build_model(
    path: str,
    fmt: Format,
    spec: ModelSpec,
    keras2: bool,
    weights: Assignment | None,
    **meta: Any,
) -> ModelInfo:
    """Propagate shapes, attach weights and collect notes into a ModelInfo."""
    paired = meta.pop("paired", False)
    size = meta.pop("file_size", None)  # formats whose path is a directory or a prefix give theirs
    shapes = meta.pop("shapes", None) or propagate_shapes(path, spec, keras2)
    issues: list[WeightIssue] = []
    try:
        layers = build_layers(spec, shapes, weights, keras2, issues=issues)
    except RecursionError:
        raise InputError(path, "model graph is nested too deeply") from None
    notes = [*spec.notes, *meta.pop("notes", ())]
    unmatched = tuple(weights.unmatched) if weights else ()
    mismatch = None
    if weights is not None:
        found, mismatch = weights_verdict(path, layers, weights, issues, paired)
        notes.extend([*weights.notes, *found])
    return ModelInfo(
        path=path,
        format=fmt,
        name=spec.name,
        class_name=spec.class_name,
        layers=layers,
        inputs=spec.inputs,
        outputs=spec.outputs,
        dtype=spec.dtype,
        unmatched_weights=unmatched,
        has_architecture=True,
        file_size=os.path.getsize(path) if size is None else size,
        config=spec.config,
        notes=tuple(notes),
        weight_issues=tuple(issues),
        weights_mismatch=mismatch,
        **meta,
    )


def weights_verdict(
    path: str, layers: tuple[LayerInfo, ...], weights: Assignment, issues: list[WeightIssue], paired: bool
) -> tuple[list[str], str | None]:
    """Notes on weights that do not fit the architecture, and the verdict on a broken model file.

    A model file whose weights contradict its own config (a tensor of the wrong shape, a
    layer with part of its weights, tensors that fit no layer at all) cannot be loaded by
    Keras either. It is still described in full, since that is when its user most needs to
    see it: the second value is the verdict in one line (``ModelInfo.weights_mismatch``;
    ``check`` reports it as KIN401), and each layer carries its disagreements as notes.
    A layer with no weights at all may simply never have been built: a note only.
    With ``--arch`` the disagreements are the answer the user asked for, so they are
    reported; weights of which not one tensor fits the paired architecture are refused.
    """
    assigned = sum(len(ws) for ws in weights.by_layer.values())
    mismatch = None
    if weights.unmatched and not assigned:
        problem = (
            f"the weights do not belong to this architecture: none of the {len(weights.unmatched)}"
            " stored tensor(s) matches a layer of the config"
        )
        if paired:
            raise WeightsMismatchError(path, problem)
        mismatch = problem
    notes = []
    empty = {layer.name for layer in _walk(layers) if not layer.weights}
    broken = [i for i in issues if not (i.kind is IssueKind.MISSING and i.layer.rsplit("/", 1)[-1] in empty)]
    if broken and not paired and mismatch is None:
        more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        mismatch = f"weights disagree with the architecture: {broken[0]}{more}"
    if mismatch is not None:
        notes.append(
            f"the stored weights contradict the model's own config, so Keras cannot load this file: "
            f"{mismatch}; the layers are shown as the config describes them, each with its disagreements"
        )
    if weights.unmatched:
        notes.append(f"{len(weights.unmatched)} stored tensor(s) that no layer of the architecture explains")
    if issues and (paired or mismatch is None):
        notes.append(f"{len(issues)} weight(s) disagree with the architecture; first: {issues[0]}")
    return notes, mismatch


def _walk(layers: tuple[LayerInfo, ...]) -> list[LayerInfo]:
    out, stack = [], list(layers)
    while stack:
        layer = stack.pop()
        out.append(layer)
        stack.extend(layer.layers)
    return out


def weights_only_model(
    path: str, fmt: Format, layers: Sequence[tuple[str, str | None, Sequence[WeightInfo]]], **meta: Any
) -> ModelInfo:
    """A model known only from its weights: layers in file order, shapes and connections unknown."""
    infos = tuple(
        LayerInfo(name=name, class_name=cls or "?", weights=tuple(ws))
        for name, cls, ws in layers
    )  # fmt: skip
    return weights_only_info(path, fmt, infos, **meta)


def weights_only_info(
    path: str,
    fmt: Format,
    layers: tuple[LayerInfo, ...],
    name: str | None = None,
    notes: Sequence[str] = (),
    **meta: Any,
) -> ModelInfo:
    """A ModelInfo without an architecture; ``name`` defaults to the file's name."""
    return ModelInfo(
        path=path,
        format=fmt,
        name=name or os.path.basename(path),
        class_name="?",
        layers=layers,
        has_architecture=False,
        file_size=os.path.getsize(path),
        notes=(
            "weights only: no architecture in the file, so output shapes and connections are unknown;"
            " pair it with --arch MODEL for a full summary",
            *notes,
        ),
        **meta,
    )


# --- sequence lengths -----------------------------------------------------------------------------


def _fill_lengths(value: Any, length: int) -> Any:
    """A config with every unknown non-batch dim of the input layers set to ``length``, and the
    shapes the file recorded for calls and builds dropped where they hold an unknown non-batch
    dim (so that the shape rules derive them again from the filled inputs)."""

    def unknown(shape: Any) -> bool:
        return isinstance(shape, list) and any(d is None for d in shape[1:])

    if isinstance(value, list):
        return [_fill_lengths(v, length) for v in value]
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in ("batch_shape", "batch_input_shape") and unknown(item):
            out[key] = [item[0], *(length if d is None else d for d in item[1:])]
        elif key == "shape" and value.get("dtype") is not None and unknown(item):
            continue  # a recorded __keras_tensor__ shape: derived again
        elif key == "build_config" and isinstance(item, Mapping) and unknown(item.get("input_shape")):
            continue
        else:
            out[key] = _fill_lengths(item, length)
    return out


def with_lengths(info: ModelInfo, length: int) -> ModelInfo:
    """``info`` with every unknown sequence length (a ``None`` dim of an input other than the
    batch) set to ``length``: the shapes are propagated again from the filled inputs."""
    if not info.has_architecture or not info.config:
        return info
    entry = {"class_name": info.class_name, "config": info.config}
    config = _fill_lengths(entry, length)
    if config == entry:
        return info  # no unknown length
    try:
        spec = parse_model(config)
    except ConfigError:
        return info
    shapes = propagate_shapes(info.path, spec, is_keras2(config))

    def redo(layers: tuple[LayerInfo, ...], address: tuple[str, ...]) -> tuple[LayerInfo, ...]:
        out = []
        for layer in layers:
            here = (*address, layer.name)
            out.append(
                replace(
                    layer,
                    output_shape=shapes.shapes.get(here, layer.output_shape),
                    calls=tuple(shapes.history.get(here, ())),
                    layers=redo(layer.layers, here),
                )
            )
        return tuple(out)

    filled = replace(info, layers=redo(info.layers, ()))
    before = [layer.output_shape for _, layer in info.walk()]
    if before == [layer.output_shape for _, layer in filled.walk()]:
        return info  # no shape depended on an unknown length (a config may store unused ones)
    return filled
