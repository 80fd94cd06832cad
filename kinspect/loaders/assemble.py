"""Build the data model from a parsed architecture and the tensors a weights file lists.

Matching weights to layers reproduces how Keras wrote them:

* Keras 3 (``layers/<path>/vars/<i>``): a container's entries are named by the
  snake_case class name made unique in order (keras/src/saving/saving_lib.py
  ``_save_container_state``), not by the layer's name; tf.keras 2.12-2.14 kept the
  layers under ``_layer_checkpoint_dependencies`` instead (see :class:`_Layout`).
* Keras 2 (``layer_names``/``weight_names``): a group per top-level layer, named
  as the layer; a nested model's group holds all its sub-layers' weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from kinspect.catalog.architecture import LayerSpec, ModelSpec
from kinspect.catalog.legacy import keras1_expected
from kinspect.catalog.propagate import Address, ShapeResult
from kinspect.catalog.registry import WEIGHTLESS, Expected, expected_weights, is_builtin
from kinspect.catalog.weightnames import (
    is_trainable_name,
    keras1_owner,
    keras3_name,
    legacy_name,
    short_legacy_name,
    to_snake_case,
)
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
    notes: list[str] = field(default_factory=list)  # how the weights were matched, when unusual


def _plain(name: str) -> str:
    """tf.keras names private sub-objects with a leading underscore (``_query_dense``)."""
    return "/".join(part.lstrip("_") for part in name.split("/"))


def natural(path: str) -> list[tuple[int, str]]:
    """``vars/2`` before ``vars/10``: HDF5 lists names alphabetically, Keras numbers them."""
    return [(int(p), "") if p.isdigit() else (-1, p) for p in path.split("/")]


def _segment(class_name: str) -> str:
    """The path segment Keras names a layer's weights by: its Python class's name in snake_case.
    tf.keras writes a registered class inside a nested model as ``package>Class``; the segment
    comes from ``Class`` alone (saving_lib uses ``trackable.__class__.__name__``)."""
    return to_snake_case(class_name.rsplit(">", 1)[-1])


def saved_layers(spec: ModelSpec) -> list[LayerSpec]:
    """The layers Keras's ``model.layers`` gives: no ops; Sequential hides its InputLayer."""
    layers = [layer for layer in spec.layers if not layer.is_operation]
    if spec.sequential and layers and layers[0].class_name == "InputLayer":
        layers = layers[1:]
    return layers


# tf.keras 2.12-2.14 walked ``dir(model)`` in ascending order, so it reached a model's layers
# through ``_layer_checkpoint_dependencies`` before ``layers`` (2.15 skips that attribute:
# keras-team/keras bd465a78); Keras 3 reads such files by renaming the container
# (keras/src/saving/saving_lib.py ``H5IOStore.get``, "Fix for 2.13 compatibility").
CONTAINERS = ("layers", "_layer_checkpoint_dependencies")


@dataclass(frozen=True)
class _Layout:
    """How a Keras 3 layout file names a model's layers.

    ``container``: the attribute holding them. ``wasteful``: tf.keras 2.12-2.13 numbered
    every entry of ``_layer_checkpoint_dependencies``, whose dict lists a layer with weights
    twice (``layer_with_weights-i`` and ``layer-j``), before skipping the second one
    (the skip came first from 2.14 on: keras-team/keras 0454a403), so such a layer uses up
    two numbers: ``dense``, ``dense_2``, ``dense_4``.
    """

    container: str = "layers"
    wasteful: bool = False


def _layouts(datasets: Mapping[str, Dataset], keras_version: str | None) -> list[_Layout]:
    legacy = CONTAINERS[1]
    if any(key.startswith("layers/") for key in datasets) or not any(
        key.startswith(f"{legacy}/") for key in datasets
    ):
        return [_Layout()]
    old = isinstance(keras_version, str) and keras_version.startswith(("2.12.", "2.13."))
    return [_Layout(legacy, old), _Layout(legacy, not old)]


def assign_keras3(
    spec: ModelSpec,
    datasets: Mapping[str, Dataset],
    trainable: bool = True,
    keras_version: str | None = None,
) -> Assignment:
    """Match the datasets of a Keras 3 layout file (keyed by ``/`` paths) to ``spec``'s layers.

    Where the file could follow more than one naming (tf.keras 2.12-2.14), the first one
    that explains every tensor wins, else the one that explains the most: a wrong naming
    always leaves some tensor unexplained. ``keras_version`` says which to try first.
    """
    best: Assignment | None = None
    for layout in _layouts(datasets, keras_version):
        out = _assign_layout(spec, datasets, trainable, layout)
        if not out.unmatched:
            return out
        if best is None or len(out.unmatched) < len(best.unmatched):
            best = out
    assert best is not None
    return best


def _assign_layout(
    spec: ModelSpec, datasets: Mapping[str, Dataset], trainable: bool, layout: _Layout
) -> Assignment:
    out = Assignment()
    if layout.container != "layers":
        versions, keras3 = (
            ("2.12-2.13", ", nor does Keras 3 where a class has several layers with weights (it numbers "
             "them as 2.14 did)")
            if layout.wasteful
            else ("2.14", " (Keras 3 finds them)")
        )  # fmt: skip
        out.notes.append(
            f"weights stored as tf.keras {versions} saved them (under {layout.container}/, not layers/) "
            f"and matched to the layers in that order; tf_keras 2.15+ does not read this layout{keras3}"
        )
    claimed: set[str] = set()
    index: dict[str, list[str]] = {}
    for key in sorted(datasets, key=natural):
        parts = key.split("/")
        for i, part in enumerate(parts[:-1]):
            if part == layout.container and i + 1 < len(parts) - 1:
                index.setdefault("/".join(parts[: i + 2]), []).append(key)
    _assign_container(spec, layout.container, (), datasets, index, trainable, out, claimed, layout)
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
    layout: _Layout,
) -> None:
    used: dict[str, int] = {}

    def unique(base: str) -> str:  # keras/src/saving/saving_lib.py _get_unique_name
        if base in used:
            used[base] += 1
            return f"{base}_{used[base]}"
        used[base] = 0
        return base

    for layer in saved_layers(spec):
        base = _segment(layer.class_name)
        path = f"{prefix}/{unique(base)}"
        if layout.wasteful and index.get(path):
            unique(base)  # the layer's second entry in the dict (it has weights)
        here = (*address, layer.name)
        live = trainable and layer.trainable
        if layer.model is not None:
            inner = f"{path}/{layout.container}"
            _assign_container(layer.model, inner, here, datasets, index, live, out, claimed, layout)
        weights = out.by_layer.setdefault(here, [])
        for key in index.get(path, ()):
            if key not in claimed:
                ds = datasets[key]
                rel = key[len(path) + 1 :]
                name = keras3_name(layer.class_name, layer.config, rel)
                train = live and is_trainable_name(layer.class_name, name)
                weights.append(WeightInfo(name, ds.path, ds.shape, ds.dtype, train))
                claimed.add(key)


# Variable dtypes of the float dtype policies (keras/src/dtype_policies/dtype_policy.py: a
# ``mixed_*`` policy keeps its variables in float32). Any other policy (quantized, custom) is
# left to the file.
VARIABLE_DTYPES = {
    "float16": "float16", "bfloat16": "bfloat16", "float32": "float32", "float64": "float64",
    "mixed_float16": "float32", "mixed_bfloat16": "float32",
}  # fmt: skip
# Variables whose dtype is fixed by the class, not by the policy (keras/src/layers/preprocessing/
# normalization.py: ``count`` is added with ``dtype="int"``, stored as int64).
FIXED_DTYPES = {("Normalization", "count"): "int64"}


def assign_from_config(spec: ModelSpec, shapes: ShapeResult) -> Assignment | None:
    """The weights a Keras 3 ``.keras`` archive holds when it agrees with its own config: named,
    shaped and placed (``layers/<segment>/vars/<i>``) as Keras's saving_lib writes them, without
    reading the file. None when the config alone does not decide every tensor: a class kinspect
    does not know the build of, a sub-object's variables, a dtype policy other than a float one.
    """
    out = Assignment()
    return out if _config_container(spec, "layers", (), shapes, True, out) else None


def _config_container(
    spec: ModelSpec, prefix: str, address: Address, shapes: ShapeResult, trainable: bool, out: Assignment
) -> bool:
    used: dict[str, int] = {}
    for layer in saved_layers(spec):
        base = _segment(layer.class_name)
        used[base] = used.get(base, -1) + 1  # keras/src/saving/saving_lib.py _get_unique_name
        path = f"{prefix}/{base}" if not used[base] else f"{prefix}/{base}_{used[base]}"
        here = (*address, layer.name)
        live = trainable and layer.trainable
        if layer.model is not None:
            if not _config_container(layer.model, f"{path}/layers", here, shapes, live, out):
                return False
            out.by_layer.setdefault(here, [])
            continue
        variables = _config_variables(layer, here, shapes)
        if variables is None:
            return False
        index = {keras3_name(layer.class_name, layer.config, f"vars/{i}"): i for i in range(len(variables))}
        if set(index) != {e.name for e, _ in variables}:
            return False  # a sub-object's variables (``cell/kernel``), or names not known
        out.by_layer[here] = [
            WeightInfo(e.name, f"{path}/vars/{index[e.name]}", e.shape, dtype, live) for e, dtype in variables
        ]
    return True


def _config_variables(
    layer: LayerSpec, here: Address, shapes: ShapeResult
) -> list[tuple[Expected, str]] | None:
    """The variables a layer creates from its config and its first call, each with the dtype it is
    stored in; None when the config alone does not decide them (a Keras 1 layer, a custom class, a
    class whose build kinspect does not know, a dtype policy other than a float one)."""
    if layer.keras1 is not None or is_custom(layer):
        return None
    call = shapes.calls.get(here)
    if call is None:  # never called (an InputLayer): only a class without variables is known
        expected: list[Expected] | None = [] if layer.class_name in WEIGHTLESS else None
    else:
        expected = expected_weights(layer.class_name, layer.config, call, shapes.keras_major)
    dtype = VARIABLE_DTYPES.get(layer.dtype or "")
    if expected is None or (expected and dtype is None):
        return None
    return [(e, FIXED_DTYPES.get((layer.class_name, e.name), dtype or "float32")) for e in expected]


def assign_legacy_from_config(
    spec: ModelSpec, shapes: ShapeResult, names: Mapping[str, list[str]], prefix: str = "model_weights"
) -> Assignment | None:
    """The weights a legacy full-model ``.h5`` holds when it agrees with its own config, from the
    weight names it lists (``names``: each ``layer_names`` group → its ``weight_names``, as
    :func:`kinspect.loaders.keras2_weights.legacy_groups` gives them) and the config alone: named,
    placed and flagged as :func:`assign_legacy` does with the stored tensors, shaped and typed as
    Keras builds them. None unless the config decides every tensor: each layer a Keras class
    whose variables kinspect knows, each stored name one of them (so that names, not positions,
    match them), a float dtype policy, no tensor that no layer explains.
    """
    groups = {
        group: [(w, Dataset(f"{prefix}/{group}/{w}", (), "")) for w in weights]
        for group, weights in names.items()
    }
    placed = assign_legacy(spec, groups)
    if placed.unmatched or placed.notes:
        return None
    out = Assignment()
    return out if _legacy_config(spec, (), shapes, placed, out) else None


def _legacy_config(
    spec: ModelSpec, address: Address, shapes: ShapeResult, placed: Assignment, out: Assignment
) -> bool:
    for layer in saved_layers(spec):
        here = (*address, layer.name)
        stored = placed.by_layer.get(here, [])
        if layer.model is not None:
            if stored or not _legacy_config(layer.model, here, shapes, placed, out):
                return False  # a nested model's own tensors: not one of its layers'
            out.by_layer.setdefault(here, [])
            continue
        variables = None if layer.is_operation else _config_variables(layer, here, shapes)
        if variables is None:
            return False
        matched = _matched_by_name(stored, [e for e, _ in variables])
        if matched is None:
            return False  # stored names that are not the build's: matching them would be a guess
        out.by_layer[here] = [
            replace(w, shape=e.shape, dtype=dtype) for (e, dtype), w in zip(variables, matched, strict=True)
        ]
    return True


def _matched_by_name(stored: list[WeightInfo], expected: list[Expected]) -> list[WeightInfo] | None:
    """The stored weight of each expected one, matched by name, as :func:`compare_weights` matches
    them: by the whole name where the names are the build's; else in order (Keras 2 files keep
    ``layer.weights`` order), taken only where the order is the names' too: every variable's last
    name segment is unique in the layer and the same in both (``lstm_cell/kernel`` stored for
    the build's ``cell/kernel``, ``mlp/dense/kernel`` for ``kernel``). None otherwise."""
    by_name = {_plain(w.name): w for w in stored}
    if len(by_name) == len(stored) and set(by_name) == {_plain(e.name) for e in expected}:
        return [by_name[_plain(e.name)] for e in expected]
    leaves = [e.name.rsplit("/", 1)[-1] for e in expected]
    if len(set(leaves)) != len(leaves) or len(stored) != len(expected):
        return None
    if [_plain(w.name).rsplit("/", 1)[-1] for w in stored] != leaves:
        return None
    return stored


def assign_legacy(
    spec: ModelSpec, groups: Mapping[str, list[tuple[str, Dataset]]], trainable: bool = True
) -> Assignment:
    """Match Keras 2 layout groups (layer name → [(weight name, dataset)]) to ``spec``'s layers."""
    out = Assignment()
    seen: set[str] = set()
    layers = saved_layers(spec)
    by_position = _unnamed_groups(layers, groups)
    for layer in layers:
        group = by_position.get(layer.name, layer.name)
        entries = groups.get(group)
        if entries is None:
            continue
        seen.add(group)
        _assign_legacy_layer(layer, (layer.name,), entries, trainable, out)
    for name, entries in groups.items():
        if name not in seen:
            out.unmatched.extend(
                WeightInfo(legacy_name(w), ds.path, ds.shape, ds.dtype, True) for w, ds in entries
            )
    return out


def _unnamed_groups(
    layers: list[LayerSpec], groups: Mapping[str, list[tuple[str, Dataset]]]
) -> dict[str, str]:
    """Groups for nested models whose config stores no name (a Keras <= 2.2.0 bare-list Sequential
    inside another): matched by position among the groups no layer names, as Keras 2 loads legacy
    weights in order (keras/engine/saving.py ``load_weights_from_hdf5_group``)."""
    unnamed = [layer.name for layer in layers if layer.model is not None and not layer.model.named]
    if not unnamed:
        return {}
    names = {layer.name for layer in layers}
    spare = [g for g, entries in groups.items() if g not in names and entries]
    if any(n in groups for n in unnamed) or len(spare) != len(unnamed):
        return {}
    return dict(zip(unnamed, spare, strict=True))


def _assign_legacy_layer(
    layer: LayerSpec, address: Address, entries: list[tuple[str, Dataset]], trainable: bool, out: Assignment
) -> None:
    live = trainable and layer.trainable
    if layer.model is None:
        out.by_layer.setdefault(address, []).extend(
            WeightInfo(
                short, ds.path, ds.shape, ds.dtype, live and is_trainable_name(layer.class_name, short)
            )
            for w, ds in entries
            for short in [short_legacy_name(layer.name, w)]
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
        if hit is not None:
            routed.setdefault(parts[hit], []).append(("/".join(parts[hit + 1 :]), ds))
        elif (owner := keras1_owner(w, children)) is not None:  # Keras 1: "dense_1_W", no path
            routed.setdefault(owner, []).append((w, ds))
        else:
            own.append((w, ds))
    for child in saved_layers(layer.model):
        _assign_legacy_layer(child, (*address, child.name), routed.get(child.name, []), live, out)
    out.by_layer.setdefault(address, []).extend(
        WeightInfo(
            legacy_name(w), ds.path, ds.shape, ds.dtype, live and is_trainable_name(layer.class_name, w)
        )
        for w, ds in own
    )


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
    if layer.keras1 is not None:  # Keras 1 stored some weights in another layout
        layout, note = keras1_expected(layer.class_name, layer.config, expected, [w.shape for w in stored])
        if layout is None:
            shapes.note(address, note or "Keras 1 weights not checked")
            return stored, []
        expected = layout
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
    trainable: bool = True,
) -> tuple[LayerInfo, ...]:
    """LayerInfo for every layer Keras's summary lists, nested models included.

    ``trainable`` is False inside a frozen model: then every weight is non-trainable, known."""
    shown = [layer for layer in spec.layers if not (spec.sequential and layer.class_name == "InputLayer")]
    infos = []
    for layer in shown:
        here = (*address, layer.name)
        live = trainable and layer.trainable
        children: tuple[LayerInfo, ...] = ()
        if layer.model is not None:
            children = build_layers(layer.model, shapes, weights, keras2, here, issues, live)
        inbound = tuple(tuple(t.ref for t in node.tensors()) for node in layer.nodes)
        own: tuple[WeightInfo, ...] = ()
        found: list[WeightIssue] = []
        if weights is not None:
            stored, found = compare_weights(layer, here, weights.by_layer.get(here, []), shapes)
            own = tuple(stored)
            if issues is not None:
                issues.extend(found)
        notes = tuple(shapes.notes.get(here, []))
        notes += tuple(issue.detail for issue in found)  # expected against stored, on the layer itself
        if own and is_custom(layer) and live:
            # Keras stores no trainable flag and the class's code is not in the file: a live custom
            # layer's weights may be trainable or not. Counted as trainable, marked as unknown.
            own = tuple(replace(w, trainable_known=False) for w in own)
            size = sum(w.size for w in own)
            notes += (f"custom class {layer.class_name}: the file does not say which of its weights are "
                      f"trainable, so the trainable split is uncertain by its {size:,} params",)  # fmt: skip
        if weights is None:
            notes += ("no weights file: parameter counts unknown",)
        notes = tuple(dict.fromkeys(notes))  # one note per fact, however often it was found
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
                calls=tuple(shapes.history.get(here, ())),
            )
        )
    return tuple(infos)
