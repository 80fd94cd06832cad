"""Build the data model from a parsed architecture and the tensors a weights file lists.

Matching weights to layers reproduces how Keras wrote them:

* Keras 3 (``layers/<path>/vars/<i>``): a container's entries are named by the
  snake_case class name made unique in order (keras/src/saving/saving_lib.py
  ``_save_container_state``), not by the layer's name.
* Keras 2 (``layer_names``/``weight_names``): a group per top-level layer, named
  as the layer; a nested model's group holds all its sub-layers' weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kinspect.catalog.architecture import LayerSpec, ModelSpec
from kinspect.catalog.propagate import Address, ShapeResult
from kinspect.catalog.registry import expected_weights, is_builtin
from kinspect.catalog.weightnames import is_trainable_name, keras3_name, legacy_name, to_snake_case
from kinspect.loaders.snapshot import Dataset
from kinspect.model import IssueKind, LayerInfo, WeightInfo, WeightIssue

# Keras 3 layout paths of what is saved beside the weights: the optimizer's variables, and
# (tf.keras) the state of compiled metrics, ``metrics/mean/vars/0``.
NOT_WEIGHTS = ("optimizer/", "metrics/")


@dataclass
class Assignment:
    """Weights by layer address, and those that no layer explains."""

    by_layer: dict[Address, list[WeightInfo]] = field(default_factory=dict)
    unmatched: list[WeightInfo] = field(default_factory=list)


def _plain(name: str) -> str:
    """tf.keras names private sub-objects with a leading underscore (``_query_dense``)."""
    return "/".join(part.lstrip("_") for part in name.split("/"))


def natural(path: str) -> list[tuple[int, str]]:
    """``vars/2`` before ``vars/10``: HDF5 lists names alphabetically, Keras numbers them."""
    return [(int(p), "") if p.isdigit() else (-1, p) for p in path.split("/")]


def saved_layers(spec: ModelSpec) -> list[LayerSpec]:
    """The layers Keras's ``model.layers`` gives: no ops; Sequential hides its InputLayer."""
    layers = [layer for layer in spec.layers if not layer.is_operation]
    if spec.sequential and layers and layers[0].class_name == "InputLayer":
        layers = layers[1:]
    return layers


def assign_keras3(spec: ModelSpec, datasets: Mapping[str, Dataset], trainable: bool = True) -> Assignment:
    """Match ``layers/...`` datasets of a Keras 3 weights file to ``spec``'s layers."""
    out = Assignment()
    claimed: set[str] = set()
    index: dict[str, list[str]] = {}
    for key in sorted(datasets, key=natural):
        parts = key.split("/")
        for i, part in enumerate(parts[:-1]):
            if part == "layers" and i + 1 < len(parts) - 1:
                index.setdefault("/".join(parts[: i + 2]), []).append(key)
    _assign_container(spec, "layers", (), datasets, index, trainable, out, claimed)
    for path, ds in datasets.items():
        if path not in claimed and not path.startswith(NOT_WEIGHTS):
            out.unmatched.append(WeightInfo(path, ds.path, ds.shape, ds.dtype, True))
    return out


def _assign_container(
    spec: ModelSpec,
    prefix: str,
    address: Address,
    datasets: Mapping[str, Dataset],
    index: Mapping[str, list[str]],
    trainable: bool,
    out: Assignment,
    claimed: set[str],
) -> None:
    used: dict[str, int] = {}
    for layer in saved_layers(spec):
        base = to_snake_case(layer.class_name)
        if base in used:
            used[base] += 1
            base = f"{base}_{used[base]}"
        else:
            used[base] = 0
        path = f"{prefix}/{base}"
        here = (*address, layer.name)
        live = trainable and layer.trainable
        if layer.model is not None:
            _assign_container(layer.model, f"{path}/layers", here, datasets, index, live, out, claimed)
        weights = out.by_layer.setdefault(here, [])
        for key in index.get(path, ()):
            if key not in claimed:
                ds = datasets[key]
                rel = key[len(path) + 1 :]
                name = keras3_name(layer.class_name, layer.config, rel)
                train = live and is_trainable_name(layer.class_name, name)
                weights.append(WeightInfo(name, ds.path, ds.shape, ds.dtype, train))
                claimed.add(key)


def assign_legacy(
    spec: ModelSpec, groups: Mapping[str, list[tuple[str, Dataset]]], trainable: bool = True
) -> Assignment:
    """Match Keras 2 layout groups (layer name → [(weight name, dataset)]) to ``spec``'s layers."""
    out = Assignment()
    seen: set[str] = set()
    for layer in saved_layers(spec):
        entries = groups.get(layer.name)
        if entries is None:
            continue
        seen.add(layer.name)
        _assign_legacy_layer(layer, (layer.name,), entries, trainable, out)
    for name, entries in groups.items():
        if name not in seen:
            out.unmatched.extend(
                WeightInfo(legacy_name(w), ds.path, ds.shape, ds.dtype, True) for w, ds in entries
            )
    return out


def _assign_legacy_layer(
    layer: LayerSpec, address: Address, entries: list[tuple[str, Dataset]], trainable: bool, out: Assignment
) -> None:
    live = trainable and layer.trainable
    if layer.model is None:
        out.by_layer.setdefault(address, []).extend(
            WeightInfo(
                _short(layer.name, w),
                ds.path,
                ds.shape,
                ds.dtype,
                live and is_trainable_name(layer.class_name, w),
            )
            for w, ds in entries
        )
        return
    # A nested model's group holds its sub-layers' weights, named "<sublayer>/<weight>"
    # (Keras 2) or "<model>/<sublayer>/<weight>" (Keras 3): route each by the first
    # path segment that names a sub-layer.
    children = {child.name: child for child in saved_layers(layer.model)}
    routed: dict[str, list[tuple[str, Dataset]]] = {}
    own: list[tuple[str, Dataset]] = []
    for w, ds in entries:
        parts = legacy_name(w).split("/")
        hit = next((i for i, p in enumerate(parts[:-1]) if p in children), None)
        if hit is None:
            own.append((w, ds))
        else:
            routed.setdefault(parts[hit], []).append(("/".join(parts[hit + 1 :]), ds))
    for child in saved_layers(layer.model):
        _assign_legacy_layer(child, (*address, child.name), routed.get(child.name, []), live, out)
    out.by_layer.setdefault(address, []).extend(
        WeightInfo(
            legacy_name(w), ds.path, ds.shape, ds.dtype, live and is_trainable_name(layer.class_name, w)
        )
        for w, ds in own
    )


def _short(layer_name: str, weight_name: str) -> str:
    """``dense/kernel:0`` → ``kernel``; keeps sub-object paths (``forward_lstm/lstm_cell/kernel``)."""
    name = legacy_name(weight_name)
    parts = name.split("/")
    if len(parts) > 1 and parts[0] == layer_name:
        parts = parts[1:]
    return "/".join(parts)


def is_custom(layer: LayerSpec) -> bool:
    """A class that is not one of Keras's own (its weights' roles are unknown)."""
    if layer.model is not None or layer.is_operation:
        return False
    if layer.module is not None and not layer.module.startswith(("keras", "tf_keras")):
        return True
    return not is_builtin(layer.class_name)


def compare_weights(
    layer: LayerSpec, address: Address, stored: list[WeightInfo], shapes: ShapeResult
) -> tuple[list[WeightInfo], list[WeightIssue]]:
    """Check stored weights against what the layer builds from its config and first call.

    Where they agree, the names and trainable flags of the build replace the ones read
    from the file (Keras 3 files store neither). Unknown classes are not checked.
    """
    call = shapes.calls.get(address)
    if call is None or layer.model is not None or layer.is_operation or is_custom(layer):
        return stored, []
    expected = expected_weights(layer.class_name, layer.config, call, shapes.keras_major)
    if expected is None:
        return stored, []
    where = "/".join(address)
    # Keras 3 files name sub-objects by path (``query_dense/vars/0``), which HDF5 lists in
    # alphabetical order: match those by name. Keras 2 files keep layer.weights order.
    by_name = {_plain(w.name): w for w in stored}
    if len(by_name) == len(stored) and {_plain(e.name) for e in expected} == set(by_name):
        stored = [by_name[_plain(e.name)] for e in expected]
    issues = [
        WeightIssue(where, IssueKind.SHAPE, w.name, e.shape, w.shape)
        for e, w in zip(expected, stored, strict=False)
        if e.shape != w.shape
    ]
    issues += [
        WeightIssue(where, IssueKind.MISSING, e.name, expected=e.shape) for e in expected[len(stored) :]
    ]
    issues += [
        WeightIssue(where, IssueKind.UNEXPECTED, w.path, found=w.shape) for w in stored[len(expected) :]
    ]
    if issues:
        return stored, issues
    named = [
        WeightInfo(
            e.name if "/vars/" in w.path else w.name, w.path, w.shape, w.dtype, w.trainable and e.trainable
        )
        for e, w in zip(expected, stored, strict=True)
    ]
    return named, []


def build_layers(
    spec: ModelSpec,
    shapes: ShapeResult,
    weights: Assignment | None,
    keras2: bool,
    address: Address = (),
    issues: list[WeightIssue] | None = None,
) -> tuple[LayerInfo, ...]:
    """LayerInfo for every layer Keras's summary lists, nested models included."""
    shown = [layer for layer in spec.layers if not (spec.sequential and layer.class_name == "InputLayer")]
    infos = []
    for layer in shown:
        here = (*address, layer.name)
        children: tuple[LayerInfo, ...] = ()
        if layer.model is not None:
            children = build_layers(layer.model, shapes, weights, keras2, here, issues)
        inbound = tuple(tuple(t.ref for t in node.tensors()) for node in layer.nodes)
        own: tuple[WeightInfo, ...] = ()
        if weights is not None:
            stored, found = compare_weights(layer, here, weights.by_layer.get(here, []), shapes)
            own = tuple(stored)
            if issues is not None:
                issues.extend(found)
        notes = tuple(shapes.notes.get(here, []))
        if own and is_custom(layer):
            notes += (f"custom class {layer.class_name}: the file does not say which of its weights are "
                      "trainable; all are counted as trainable",)  # fmt: skip
        if weights is None:
            notes += ("no weights file: parameter counts unknown",)
        infos.append(
            LayerInfo(
                name=layer.name,
                class_name=layer.class_name,
                module=layer.module,
                registered_name=layer.registered_name,
                config=layer.config,
                trainable=layer.trainable,
                dtype=layer.dtype,
                output_shape=shapes.shapes.get(here),
                inbound=inbound,
                weights=own,
                layers=children,
                is_model=layer.model is not None,
                is_operation=layer.is_operation,
                notes=notes,
            )
        )
    return tuple(infos)
