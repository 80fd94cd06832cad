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
from dataclasses import dataclass, field, replace

from kinspect.catalog.architecture import LayerSpec, ModelSpec
from kinspect.catalog.propagate import Address, ShapeResult
from kinspect.catalog.registry import expected_weights, is_builtin
from kinspect.catalog.weightnames import is_trainable_name, keras3_name, legacy_name, to_snake_case
from kinspect.loaders.snapshot import Dataset
from kinspect.model import IssueKind, LayerInfo, WeightInfo, WeightIssue


@dataclass
class Assignment:
    """Weights by layer address, and those that no layer explains."""

    by_layer: dict[Address, list[WeightInfo]] = field(default_factory=dict)
    unmatched: list[WeightInfo] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how the weights were matched, when unusual


def _plain(name: str) -> str:
    """tf.keras names private sub-objects with a leading underscore (``_query_dense``)."""
    return "/".join(part.lstrip("_") for part in name.split("/"))


def _natural(path: str) -> list[tuple[int, str]]:
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


def assign_keras3(spec: ModelSpec, datasets: Mapping[str, Dataset], trainable: bool = True) -> Assignment:
    """Match ``layers/...`` datasets of a Keras 3 weights file to ``spec``'s layers (or the
    ``_layer_checkpoint_dependencies/...`` ones of tf.keras 2.12-2.14, see :func:`tf2_layout`).

    Datasets are matched by key; a weight's ``path`` is its dataset's own path in the file."""
    out = Assignment()
    datasets, note = tf2_layout(spec, datasets)
    if note:
        out.notes.append(note)
    claimed: set[str] = set()
    index: dict[str, list[str]] = {}
    for key in sorted(datasets, key=_natural):
        parts = key.split("/")
        for i, part in enumerate(parts[:-1]):
            if part == "layers" and i + 1 < len(parts) - 1:
                index.setdefault("/".join(parts[: i + 2]), []).append(key)
    _assign_container(spec, "layers", (), datasets, index, trainable, out, claimed)
    for key, ds in datasets.items():
        if key not in claimed and not key.startswith("optimizer/"):
            out.unmatched.append(WeightInfo(ds.path, ds.path, ds.shape, ds.dtype, True))
    return out


# tf.keras 2.12-2.14 ``.keras`` files: keras/saving/saving_lib.py walked ``dir(model)`` in
# sorted order, which reaches the model's ``_layer_checkpoint_dependencies`` (an OrderedDict
# ``layer_with_weights-<i>``/``layer-<i>`` → layer, tf.keras engine/functional.py) before
# ``layers``; tf.keras 2.15 skips it. Up to 2.13, ``_save_container_state`` counted every
# entry when numbering, also a layer met twice (a layer with weights is in the dict twice), so
# the second Dense with weights is ``dense_2``; 2.14 skips visited layers (``dense_1``).
TF2_CONTAINER = "_layer_checkpoint_dependencies"


def tf2_layout(spec: ModelSpec, datasets: Mapping[str, Dataset]) -> tuple[Mapping[str, Dataset], str | None]:
    """Datasets stored as tf.keras 2.12-2.14 laid them out, re-keyed to the ``layers/...`` key
    Keras 3 gives the same layer (each keeps its real ``path``), and a note saying so.

    Both numberings are tried; the one that places more of the stored tensors is taken (a tie
    is the 2.14 one, also Keras 3's). Other datasets keep their keys.
    """
    if not any(key.startswith(f"{TF2_CONTAINER}/") for key in datasets):
        return datasets, None
    index: dict[str, list[str]] = {}
    for key in datasets:
        parts = key.split("/")
        for i, part in enumerate(parts[:-2]):
            if part == TF2_CONTAINER:
                index.setdefault("/".join(parts[: i + 2]), []).append(key)
    moves: dict[bool, tuple[dict[str, str], list[tuple[str, str]]]] = {}
    for doubled in (False, True):
        moved: dict[str, str] = {}
        renamed: list[tuple[str, str]] = []  # (stored at, where Keras 3 looks) for layers with weights
        _tf2_container(spec, TF2_CONTAINER, "layers", doubled, index, moved, renamed)
        moves[doubled] = (moved, renamed)
    doubled = len(moves[True][0]) > len(moves[False][0])
    moved, renamed = moves[doubled]
    if not moved:
        return datasets, None
    out = {moved.get(key, key): ds for key, ds in datasets.items()}
    versions = "2.12-2.13" if doubled else "2.14"
    note = (
        f"weights stored as tf.keras {versions} saved them (under {TF2_CONTAINER}/, not layers/) and "
        "matched to the layers in that order; tf_keras 2.15+ does not read this layout"
    )
    shim = [
        (stored, keras3) for stored, keras3 in renamed if stored != keras3.replace("layers", TF2_CONTAINER)
    ]
    if shim:
        stored, keras3 = shim[0]
        note += (
            f", nor does Keras 3, which looks for them at other paths (e.g. the weights stored in "
            f"{stored} at {keras3.replace('layers', TF2_CONTAINER)})"
        )
    else:
        note += " (Keras 3 finds them)"
    return out, note


def _tf2_container(
    spec: ModelSpec,
    old: str,
    new: str,
    doubled: bool,
    index: Mapping[str, list[str]],
    moved: dict[str, str],
    renamed: list[tuple[str, str]],
) -> None:
    seen: dict[str, int] = {}  # entries of each class name so far, as tf.keras counted them
    count: dict[str, int] = {}  # layers of each class name so far, as Keras 3 counts them
    for layer in saved_layers(spec):
        base = _segment(layer.class_name)
        k, j = seen.get(base, 0), count.get(base, 0)
        count[base] = j + 1
        stored = f"{old}/{base}" if k == 0 else f"{old}/{base}_{k}"
        keras3 = f"{new}/{base}" if j == 0 else f"{new}/{base}_{j}"
        keys = index.get(stored, [])
        # Only a layer with weights is in the dependencies twice, and only such a layer has
        # tensors at its path (its own, or its nested layers').
        seen[base] = k + (2 if doubled and keys else 1)
        if keys:
            renamed.append((stored, keras3))
        inner = f"{stored}/{TF2_CONTAINER}/"
        if layer.model is not None:
            _tf2_container(layer.model, inner[:-1], f"{keras3}/layers", doubled, index, moved, renamed)
        for key in keys:
            if not key.startswith(inner):
                moved[key] = keras3 + key[len(stored) :]


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
        base = _segment(layer.class_name)
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
            )
        )
    return tuple(infos)
