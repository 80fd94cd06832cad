"""What changed between two models or checkpoints: the architecture, layer by layer, and the
weights, tensor by tensor and rolled up per layer, with the findings a user wants stated plainly.

Pure functions of two ModelInfos and the plain sums a loader's pair reader returns
(:data:`PairReader`): no arrays and no file access here. :func:`compare` is the one flow: pair the
tensors, read, then rows, layers and findings. Findings have stable ids KIN6xx, each declared with
``@RULES.rule`` beside the function that finds it.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kinspect.analyzers.tensorstats import OPTIMIZER_LAYER, Entry
from kinspect.analyzers.weights import plan, total_bytes
from kinspect.errors import UsageError
from kinspect.findings import Finding, Rule, Severity
from kinspect.model import Format, LayerInfo, ModelInfo

# Given ``(path in A, path in B)`` per pair, ``atol``, ``rtol`` and the bytes to read, a loader
# starts reading both files and returns a function that waits for each pair's sums, keyed by the
# pair's index as a string (see kinspect.loaders.pairs).
PairReader = Callable[[Sequence[tuple[str, str]], float, float, int], Callable[[], Mapping[str, Any]]]

STATUSES = ("unchanged", "changed", "added", "removed", "reshaped", "retyped")
MOST_MOVED = 3  # layers named by KIN604
# Config keys compared elsewhere (name, trainable, dtype, nested layers, shapes), that vary between
# saves of one model (Keras 3's shared_object_id), or that only say how a format serializes a
# class it names anyway (module, registered_name: Keras 3 writes them, tf.keras SavedModels not).
SKIP_CONFIG = {"name", "trainable", "dtype", "layers", "shared_object_id", "build_input_shape",
               "input_layers", "output_layers", "batch_input_shape", "batch_shape", "module",
               "registered_name"}  # fmt: skip


# ---- the values ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One field that differs: its name and the value in A and in B."""

    field: str
    a: Any
    b: Any


@dataclass(frozen=True)
class LayerChange:
    """A layer added, removed or changed (``renamed_from`` set: the same class, position and config
    under another name)."""

    name: str  # path from the top model, "outer/inner"
    class_name: str
    changes: tuple[Change, ...] = ()
    renamed_from: str | None = None


@dataclass(frozen=True)
class ArchitectureDiff:
    added: tuple[LayerChange, ...]
    removed: tuple[LayerChange, ...]
    changed: tuple[LayerChange, ...]
    model: tuple[Change, ...]  # inputs, outputs, optimizer and compile config, Keras version…

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.model)


@dataclass(frozen=True)
class TensorDiff:
    """One stored tensor of A against its pair in B (or alone: added, removed)."""

    layer: str
    name: str
    status: str
    shape_a: tuple[int, ...] | None
    shape_b: tuple[int, ...] | None
    dtype_a: str | None
    dtype_b: str | None
    paired_by: str | None = None  # "name" or "structure"
    max_abs: float | None = None
    rel_l2: float | None = None
    cosine: float | None = None
    changed_fraction: float | None = None
    nan_appeared: int = 0
    inf_appeared: int = 0
    error: str | None = None
    optimizer: bool = False
    path_a: str | None = None
    path_b: str | None = None
    sums: Mapping[str, float] = field(default_factory=dict, compare=False, repr=False)

    @property
    def size(self) -> int:
        shape = self.shape_b if self.shape_b is not None else self.shape_a
        return math.prod(shape or ())


@dataclass(frozen=True)
class LayerDiff:
    """A layer's tensors rolled up: the figures over all of them together."""

    name: str
    status: str  # unchanged, changed, added, removed
    tensors: int
    changed_tensors: int
    max_abs: float | None
    rel_l2: float | None
    cosine: float | None
    changed_fraction: float | None
    frozen_a: bool | None = None  # None: the file has no architecture to tell
    frozen_b: bool | None = None
    renamed_from: str | None = None


@dataclass(frozen=True)
class DiffResult:
    """Everything ``kinspect diff`` shows."""

    a: ModelInfo
    b: ModelInfo
    atol: float
    rtol: float
    identical: bool  # the same file, or the same bytes: nothing was read
    architecture: ArchitectureDiff | None  # None when a side is weights-only
    layers: tuple[LayerDiff, ...]
    tensors: tuple[TensorDiff, ...]
    optimizer_tensors: tuple[TensorDiff, ...]  # compared only when asked
    optimizer_counts: tuple[int, int]  # optimizer variables stored in A and B
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()
    weights_compared: bool = True  # False: the architecture alone was asked for (no value read)

    @property
    def weights_changed(self) -> bool:
        return any(t.status != "unchanged" for t in (*self.tensors, *self.optimizer_tensors))

    @property
    def architecture_changed(self) -> bool:
        return self.architecture is not None and not self.architecture.empty

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for t in self.tensors:
            out[t.status] = out.get(t.status, 0) + 1
        return out


# ---- rules -----------------------------------------------------------------------------------


class Rules:
    """The KIN6xx rules, each declared by ``@RULES.rule(...)`` above the function that finds it."""

    def __init__(self) -> None:
        self.rules: dict[str, Rule] = {}
        self.functions: list[Callable[[_Context], list[Finding]]] = []

    def rule(
        self, id: str, name: str, severity: Severity, summary: str, rationale: str
    ) -> Callable[[Callable[[_Context], list[Finding]]], Callable[[_Context], list[Finding]]]:
        def register(fn: Callable[[_Context], list[Finding]]) -> Callable[[_Context], list[Finding]]:
            self.rules[id] = Rule(id, name, severity, summary, rationale)
            self.functions.append(fn)
            return fn

        return register

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules.values())


RULES = Rules()


@dataclass(frozen=True)
class _Context:
    a: ModelInfo
    b: ModelInfo
    identical: bool
    tensors: tuple[TensorDiff, ...]
    layers: tuple[LayerDiff, ...]


@RULES.rule(
    "KIN601", "frozen-changed", Severity.ERROR, "a frozen layer whose weights changed",
    "A layer frozen in the config (trainable false, or inside a frozen nested model) should not move: "
    "weights that did are the classic transfer-learning bug (a BatchNormalization trained in training "
    "mode, a layer unfrozen by mistake, weights edited or loaded from elsewhere).",
)  # fmt: skip
def frozen_changed(ctx: _Context) -> list[Finding]:
    """Layers frozen in A or B (their own flag or a frozen parent) whose tensors moved; a layer
    frozen in A and trainable in B (unfrozen to fine-tune, as Keras's transfer-learning guide does
    after training the head) is information, not an error."""
    out = []
    for layer in ctx.layers:
        if layer.status != "changed" or not (layer.frozen_a or layer.frozen_b):
            continue
        if layer.frozen_a and layer.frozen_b is False:
            message = (
                f"unfrozen in B (frozen in A) and changed: {layer.changed_tensors} of {layer.tensors} "
                f"tensors moved (max |Δ| {_g(layer.max_abs)}, relative L2 {_g(layer.rel_l2)})"
            )
            hint = (
                "expected when fine-tuning after training the head; else set trainable=False before compile()"
            )
            out.append(Finding("KIN601", Severity.INFO, message, layer.name, None, hint))
            continue
        side = "A and B" if layer.frozen_a and layer.frozen_b else "A" if layer.frozen_a else "B"
        message = (
            f"frozen in {side} but changed: {layer.changed_tensors} of {layer.tensors} tensors moved "
            f"(max |Δ| {_g(layer.max_abs)}, relative L2 {_g(layer.rel_l2)})"
        )
        hint = (
            "check that the layer (or its nested model) is trainable=False before compile(), and what wrote B"
        )
        out.append(Finding("KIN601", Severity.ERROR, message, layer.name, None, hint))
    return out


@RULES.rule(
    "KIN602", "identical-weights", Severity.WARNING, "every paired tensor is bit-for-bit identical",
    "Two different files with the same weights: a checkpoint that did not train (learning rate 0, "
    "every layer frozen, the wrong file saved), or a copy under a new name.",
)  # fmt: skip
def identical_weights(ctx: _Context) -> list[Finding]:
    """Different files whose paired model tensors are all unchanged (and none added or removed);
    information only between two formats (a .keras against its .h5 or TF checkpoint: a faithful
    conversion is the hoped-for result)."""
    model = [t for t in ctx.tensors if not t.optimizer]
    if ctx.identical or not model or any(t.status != "unchanged" for t in model):
        return []
    message = f"identical weights: all {len(model)} tensors are bit-for-bit the same in both files"
    if ctx.a.format is not ctx.b.format:
        message += f" ({ctx.a.format.value} and {ctx.b.format.value}: a faithful conversion)"
        return [Finding("KIN602", Severity.INFO, message, None, None, None)]
    hint = "B did not train from A: check the learning rate, what is trainable, and which file was saved"
    return [Finding("KIN602", Severity.WARNING, message, None, None, hint)]


@RULES.rule(
    "KIN603", "nan-inf-appeared", Severity.ERROR, "NaN or Inf in B where A had a number",
    "Non-finite weights that appear between two checkpoints mark where training diverged.",
)  # fmt: skip
def nan_inf_appeared(ctx: _Context) -> list[Finding]:
    """Tensors with NaN or Inf values in B at elements that were finite numbers in A."""
    out = []
    for t in ctx.tensors:
        if t.nan_appeared or t.inf_appeared:
            message = (
                f"NaN or Inf appeared: {t.nan_appeared:,} NaN and {t.inf_appeared:,} Inf new in {t.name}"
            )
            hint = "training diverged between A and B: lower the learning rate, clip gradients"
            out.append(Finding("KIN603", Severity.ERROR, message, t.layer, t.name, hint))
    return out


@RULES.rule(
    "KIN604", "moved-most", Severity.INFO, "the layers whose weights moved most",
    "Information only: where training (or an edit) changed the model, by relative L2 change.",
)  # fmt: skip
def moved_most(ctx: _Context) -> list[Finding]:
    """The MOST_MOVED changed layers with the largest relative L2 change."""
    moved = [lay for lay in ctx.layers if lay.status == "changed" and (lay.rel_l2 or 0.0) > 0]
    moved.sort(key=lambda lay: -(lay.rel_l2 or 0.0))
    if not moved:
        return []
    top = ", ".join(f"{lay.name} ({_g(lay.rel_l2)})" for lay in moved[:MOST_MOVED])
    return [Finding("KIN604", Severity.INFO, f"moved most (relative L2 change): {top}", None, None, None)]


# ---- architecture ----------------------------------------------------------------------------


def _layer_map(model: ModelInfo) -> dict[str, tuple[LayerInfo, str, int]]:
    """Every layer by path, with its parent path and position in its parent."""
    out: dict[str, tuple[LayerInfo, str, int]] = {}

    def visit(layers: tuple[LayerInfo, ...], prefix: str) -> None:
        for i, layer in enumerate(layers):
            path = f"{prefix}{layer.name}"
            out[path] = (layer, prefix, i)
            visit(layer.layers, f"{path}/")

    visit(model.layers, "")
    return out


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """A config as dotted keys, dropping what is compared elsewhere or varies between saves."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if str(k) in SKIP_CONFIG:
                continue
            out.update(_flat(v, f"{prefix}{k}."))
        return out if out or not prefix else {prefix[:-1]: {}}
    return {prefix[:-1]: value}


def _plain(value: Any) -> Any:
    """A value as JSON can hold it (tuples as lists, anything odd as its text)."""
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return str(value)


def _shape(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_shape(v) for v in value]
    return value


def _class(name: str) -> str:
    """A class name without the package a format may prefix it with (``zoo>ScaledDense``)."""
    return name.rsplit(">", 1)[-1]


def _layer_changes(
    la: LayerInfo, lb: LayerInfo, a: ModelInfo, b: ModelInfo, moved: Mapping[str, str]
) -> list[Change]:
    """What differs between one layer in A and in B (``moved``: A's names of renamed layers → B's,
    so that a connection to a renamed layer is not a change)."""
    out = []
    if _class(la.class_name) != _class(lb.class_name):
        out.append(Change("class_name", la.class_name, lb.class_name))
    ca, cb = _flat(dict(la.config)), _flat(dict(lb.config))
    for key in sorted(set(ca) | set(cb)):
        va, vb = _plain(ca.get(key)), _plain(cb.get(key))
        if va != vb:
            out.append(Change(f"config.{key}", va, vb))
    if la.trainable != lb.trainable:
        out.append(Change("trainable", la.trainable, lb.trainable))
    if la.dtype != lb.dtype:
        out.append(Change("dtype", la.dtype, lb.dtype))
    if _shape(la.output_shape) != _shape(lb.output_shape):
        out.append(Change("output_shape", _shape(la.output_shape), _shape(lb.output_shape)))
    if a.params_known and b.params_known and la.params != lb.params:
        out.append(Change("params", la.params, lb.params))
    ia = [f"{moved.get(r.layer, r.layer)}[{r.node}][{r.tensor}]" for r in la.connections]
    ib = [str(r) for r in lb.connections]
    if ia != ib:
        out.append(Change("connections", ia, ib))
    return out


def _renames(only_a: list[str], only_b: list[str], ma: dict[str, Any], mb: dict[str, Any]) -> dict[str, str]:
    """B path → A path of layers that look renamed: same class, parent, position and config."""
    found: dict[str, str] = {}
    for pb in only_b:
        lb, parent_b, ib = mb[pb]
        for pa in only_a:
            la, parent_a, ia = ma[pa]
            if pa in found.values() or _class(la.class_name) != _class(lb.class_name) or ia != ib:
                continue
            if parent_a != parent_b and found.get(parent_b.rstrip("/")) != parent_a.rstrip("/"):
                continue
            if _flat(dict(la.config)) == _flat(dict(lb.config)) and la.is_model == lb.is_model:
                found[pb] = pa
                break
    return found


def architecture_diff(a: ModelInfo, b: ModelInfo) -> tuple[ArchitectureDiff, dict[str, str]]:
    """Layers added, removed, renamed-looking and changed (nested models compared layer by layer),
    and the model-level changes; with the renames (B path → A path)."""
    ma, mb = _layer_map(a), _layer_map(b)
    only_a = [p for p in ma if p not in mb]
    only_b = [p for p in mb if p not in ma]
    renames = _renames(only_a, only_b, ma, mb)
    moved = {pa.rsplit("/", 1)[-1]: pb.rsplit("/", 1)[-1] for pb, pa in renames.items()}
    changed = []
    for path, (lb, _, _) in mb.items():
        source = renames.get(path, path)
        if source not in ma:
            continue
        la = ma[source][0]
        changes = _layer_changes(la, lb, a, b, moved)
        if changes or source != path:
            changed.append(
                LayerChange(path, lb.class_name, tuple(changes), source if source != path else None)
            )
    added = tuple(LayerChange(p, mb[p][0].class_name) for p in only_b if p not in renames)
    removed = tuple(LayerChange(p, ma[p][0].class_name) for p in only_a if p not in renames.values())
    return ArchitectureDiff(added, removed, tuple(changed), tuple(_model_changes(a, b))), renames


def _model_changes(a: ModelInfo, b: ModelInfo) -> Iterator[Change]:
    pairs: list[tuple[str, Any, Any]] = [
        ("name", a.name, b.name),
        ("class_name", a.class_name, b.class_name),
        ("inputs", [str(r) for r in a.inputs], [str(r) for r in b.inputs]),
        ("outputs", [str(r) for r in a.outputs], [str(r) for r in b.outputs]),
        ("keras_version", a.keras_version, b.keras_version),
        ("backend", a.backend, b.backend),
        ("dtype", a.dtype, b.dtype),
    ]
    if a.params_known and b.params_known:
        pairs += [
            ("total_params", a.params, b.params),
            ("trainable_params", a.trainable_params, b.trainable_params),
        ]
    ca, cb = a.compile, b.compile
    pairs += [
        ("compile.optimizer", ca.optimizer if ca else None, cb.optimizer if cb else None),
        ("compile.learning_rate", ca.learning_rate if ca else None, cb.learning_rate if cb else None),
        ("compile.loss", _plain(ca.loss) if ca else None, _plain(cb.loss) if cb else None),
        ("compile.metrics", _plain(ca.metrics) if ca else None, _plain(cb.metrics) if cb else None),
    ]
    unknown_is_no_change = {"keras_version", "backend", "dtype"}  # a format that does not record it
    for name, va, vb in pairs:
        if va != vb and not (name in unknown_is_no_change and (va is None or vb is None)):
            yield Change(name, va, vb)
    if a.format is not b.format:  # each format records the compile config its own way
        return
    oa, ob = _flat(dict(ca.config)) if ca else {}, _flat(dict(cb.config)) if cb else {}
    for key in sorted(set(oa) | set(ob)):
        if key.startswith("optimizer.") and _plain(oa.get(key)) != _plain(ob.get(key)):
            yield Change(f"compile.{key}", _plain(oa.get(key)), _plain(ob.get(key)))


# ---- pairing ---------------------------------------------------------------------------------


def _frozen(model: ModelInfo) -> dict[str, bool]:
    """Layer path → frozen (its own trainable flag false, or a parent's)."""
    out: dict[str, bool] = {}

    def visit(layers: tuple[LayerInfo, ...], prefix: str, off: bool) -> None:
        for layer in layers:
            path = f"{prefix}{layer.name}"
            out[path] = off or not layer.trainable
            visit(layer.layers, f"{path}/", out[path])

    visit(model.layers, "", False)
    return out


def _relative(entries: Sequence[Entry]) -> dict[str, Entry]:
    """A layer's tensors by their storage path below the layer's own (``forward_layer/cell/vars/0``,
    or ``0``): the same in every Keras 3 file of the same layer, whatever its name or counter."""
    parts = [e.weight.path.split("/") for e in entries]
    common = 0
    while parts and all(len(p) > common + 1 and p[common] == parts[0][common] for p in parts):
        common += 1
    return {"/".join(p[common:]): e for p, e in zip(parts, entries, strict=True)}


def pair_entries(
    ea: Sequence[Entry],
    eb: Sequence[Entry],
    renames: Mapping[str, str],
    structure: bool = True,
    by_position: bool = False,
) -> tuple[list[tuple[Entry, Entry, str]], list[Entry], list[Entry]]:
    """Pairs by layer and weight name (a renamed layer by its old name), then, for what is left and
    when ``structure`` (a side has no architecture to name its layers for sure), by structure: the
    same weight names and ranks in the same order. ``by_position``: both files are Keras 3 layouts
    and a side's weight names are inferred (a weights-only file stores ``vars/0``, ``vars/1``… by
    position): within a layer, tensors pair by their storage path below the layer's, as Keras
    loads them. Returns the pairs with how each was made, and the tensors of A
    and of B left alone."""
    used: set[int] = set()
    pairs: list[tuple[Entry, Entry, str]] = []
    if by_position:
        groups: dict[str, list[Entry]] = {}
        for e in ea:
            if not e.optimizer:
                groups.setdefault(e.layer, []).append(e)
        for layer in dict.fromkeys(e.layer for e in eb if not e.optimizer):
            rel_b = _relative([e for e in eb if e.layer == layer and not e.optimizer])
            rel_a = _relative(groups.get(renames.get(layer, layer), []))
            if set(rel_b) != set(rel_a) or all(rel_b[k].weight.name == rel_a[k].weight.name for k in rel_b):
                continue  # another layout, or the same names: paired by name below
            pairs += [(rel_a[k], rel_b[k], "structure") for k in rel_b]
            used |= {id(e) for e in (*rel_b.values(), *rel_a.values())}
    by_key = {(e.layer, e.weight.name): e for e in ea if id(e) not in used}
    left_b: list[Entry] = []
    for e in eb:
        if id(e) in used:
            continue
        hit = by_key.get((renames.get(e.layer, e.layer), e.weight.name))
        if hit is not None and id(hit) not in used:
            used.add(id(hit))
            pairs.append((hit, e, "name"))
        else:
            left_b.append(e)
    left_a = [e for e in ea if id(e) not in used]
    # Within one layer, the weights a format names differently (a custom layer's "vars/0" in one
    # file, "gamma" in the other) pair in order when their ranks agree.
    for layer in dict.fromkeys(e.layer for e in left_b):
        mine = [e for e in left_b if e.layer == layer]
        theirs = [e for e in left_a if e.layer == renames.get(layer, layer)]
        if (
            mine
            and len(mine) == len(theirs)
            and all(len(x.weight.shape) == len(y.weight.shape) for x, y in zip(theirs, mine, strict=True))
        ):
            pairs += [(x, y, "structure") for x, y in zip(theirs, mine, strict=True)]
            done = {id(e) for e in (*mine, *theirs)}
            left_a = [e for e in left_a if id(e) not in done]
            left_b = [e for e in left_b if id(e) not in done]
    if structure and left_a and left_b:
        sig_a = [(e.optimizer, e.leaf, len(e.weight.shape)) for e in left_a]
        sig_b = [(e.optimizer, e.leaf, len(e.weight.shape)) for e in left_b]
        matcher = difflib.SequenceMatcher(None, sig_a, sig_b, autojunk=False)
        took_a: set[int] = set()
        took_b: set[int] = set()
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                pairs.append((left_a[block.a + k], left_b[block.b + k], "structure"))
                took_a.add(block.a + k)
                took_b.add(block.b + k)
        left_a = [e for i, e in enumerate(left_a) if i not in took_a]
        left_b = [e for i, e in enumerate(left_b) if i not in took_b]
    order = {id(e): i for i, e in enumerate(eb)}
    pairs.sort(key=lambda p: order[id(p[1])])
    return pairs, left_a, left_b


# ---- figures ---------------------------------------------------------------------------------


def _figures(s: Mapping[str, float], size: int) -> dict[str, Any]:
    """max |Δ|, ‖B−A‖/‖A‖, cosine and the changed fraction from a pair's (or a layer's) sums."""
    aa, bb, ab, dd = s.get("aa", 0.0), s.get("bb", 0.0), s.get("ab", 0.0), s.get("dd", 0.0)
    rel = math.sqrt(dd) / math.sqrt(aa) if aa > 0 else (0.0 if dd == 0 else None)
    cos = ab / math.sqrt(aa * bb) if aa > 0 and bb > 0 else (1.0 if aa == bb == 0 else None)
    if cos is not None:
        cos = max(-1.0, min(1.0, cos))
    return {
        "max_abs": _finite(s.get("max_abs")),
        "rel_l2": _finite(rel),
        "cosine": _finite(cos),
        "changed_fraction": (s.get("changed", 0) / size) if size else 0.0,
    }


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _tensor(ea: Entry | None, eb: Entry | None, how: str | None, raw: Mapping[str, Any] | None) -> TensorDiff:
    wa, wb = ea.weight if ea else None, eb.weight if eb else None
    base: dict[str, Any] = {
        "layer": (eb or ea).layer,  # type: ignore[union-attr]
        "name": (eb or ea).weight.name,  # type: ignore[union-attr]
        "shape_a": wa.shape if wa else None,
        "shape_b": wb.shape if wb else None,
        "dtype_a": wa.dtype if wa else None,
        "dtype_b": wb.dtype if wb else None,
        "paired_by": how,
        "optimizer": (eb or ea).optimizer,  # type: ignore[union-attr]
        "path_a": wa.path if wa else None,
        "path_b": wb.path if wb else None,
    }
    if wa is None or wb is None:
        return TensorDiff(status="added" if wa is None else "removed", **base)
    if wa.shape != wb.shape:
        return TensorDiff(status="reshaped", **base)
    if raw is None or "error" in raw:
        error = raw.get("error") if raw else "not read"
        return TensorDiff(status="changed", error=str(error), **base)
    status = "unchanged" if raw.get("equal") else "retyped" if wa.dtype != wb.dtype else "changed"
    sums = {k: float(raw.get(k, 0.0)) for k in ("aa", "bb", "ab", "dd", "max_abs", "changed")}
    return TensorDiff(
        status=status,
        nan_appeared=int(raw.get("nan_new", 0)),
        inf_appeared=int(raw.get("inf_new", 0)),
        sums=sums,
        **base,
        **_figures(sums, wa.size),
    )


def _unchanged(ea: Entry, eb: Entry, how: str) -> TensorDiff:
    """A pair of the same file (or the same bytes), without reading it."""
    return _tensor(ea, eb, how, {"equal": True})


def _layers(
    tensors: Sequence[TensorDiff], frozen_a: Mapping[str, bool] | None, frozen_b: Mapping[str, bool] | None,
    renames: Mapping[str, str],
) -> tuple[LayerDiff, ...]:  # fmt: skip
    groups: dict[str, list[TensorDiff]] = {}
    for t in tensors:
        groups.setdefault(t.layer, []).append(t)
    out = []
    for name, rows in groups.items():
        statuses = {t.status for t in rows}
        status = (
            "unchanged" if statuses == {"unchanged"} else "added" if statuses == {"added"}
            else "removed" if statuses == {"removed"} else "changed"
        )  # fmt: skip
        compared = [t for t in rows if t.sums]
        sums = {k: sum(t.sums.get(k, 0.0) for t in compared) for k in ("aa", "bb", "ab", "dd", "changed")}
        sums["max_abs"] = max((t.sums.get("max_abs", 0.0) for t in compared), default=0.0)
        size = sum(t.size for t in compared)
        figures = _figures(sums, size) if compared else dict.fromkeys(("max_abs", "rel_l2", "cosine"), None)
        if not compared:
            figures["changed_fraction"] = None
        source = renames.get(name, name)
        out.append(
            LayerDiff(
                name=name,
                status=status,
                tensors=len(rows),
                changed_tensors=sum(1 for t in rows if t.status != "unchanged"),
                frozen_a=frozen_a.get(source) if frozen_a is not None and status != "added" else None,
                frozen_b=frozen_b.get(name) if frozen_b is not None and status != "removed" else None,
                renamed_from=source if source != name else None,
                **figures,
            )
        )
    return tuple(out)


# ---- the flow --------------------------------------------------------------------------------


def compare(
    a: ModelInfo,
    b: ModelInfo,
    read: PairReader,
    *,
    atol: float = 0.0,
    rtol: float = 0.0,
    optimizer: bool = False,
    identical: bool = False,
    weights: bool = True,
) -> Callable[[], DiffResult]:
    """Start comparing ``a`` with ``b`` (``read``: a loader's pair reader; ``identical``: the same
    file or bytes, so nothing is read; ``weights`` False: the architecture alone, no tensor paired
    or read); returns a function that waits and gives the result."""
    notes: list[str] = []
    arch: ArchitectureDiff | None = None
    renames: dict[str, str] = {}
    if a.has_architecture and b.has_architecture:
        arch, renames = architecture_diff(a, b)
    else:
        who = " and ".join(s for s, m in (("A", a), ("B", b)) if not m.has_architecture)
        notes.append(f"{who}: weights only, no architecture: the tensors are compared alone")
    ea, eb = plan(a, optimizer=optimizer), plan(b, optimizer=optimizer)
    if not weights:
        notes.append("weights not compared (--no-weights): the architecture only")
        ea, eb = [], []
    for side, model in (("A", a), ("B", b)):
        if not weights:
            break
        if not model.params_known:  # a config.json, or weights kinspect does not read
            why = model.weights_unread or "an architecture alone"
            notes.append(f"{side} holds no weights to compare ({why}): only the architecture is compared")
            ea, eb = [], []
    keras3 = (Format.KERAS, Format.WEIGHTS_H5, Format.SHARDED_WEIGHTS)
    inferred = all(m.format in keras3 for m in (a, b)) and not (a.has_architecture and b.has_architecture)
    pairs, only_a, only_b = pair_entries(ea, eb, renames, arch is None, inferred)
    if (ea or eb) and not pairs and not identical:
        raise UsageError(
            f"{a.path} and {b.path}: not one tensor pairs (by layer and weight name"
            f"{', or by structure' if arch is None else ''}): files of different models"
        )
    by_structure = sum(1 for _, _, how in pairs if how == "structure")
    if by_structure:
        notes.append(
            f"{by_structure} of {len(pairs)} tensor pairs were matched by structure (the same weight "
            "names and ranks in order), not by name: the files name them differently"
        )
    if identical:
        notes.append("the same file, or the same bytes: every tensor is unchanged (nothing was read)")
    count_opt = (
        sum(1 for e in ea if e.optimizer) or len(a.optimizer_weights),
        sum(1 for e in eb if e.optimizer) or len(b.optimizer_weights),
    )
    if weights and not optimizer and any(count_opt):
        notes.append(
            f"optimizer state ({count_opt[0]} variables in A, {count_opt[1]} in B) not compared: "
            "--optimizer compares it"
        )
    readable = [(x, y) for x, y, _ in pairs if x.weight.shape == y.weight.shape]
    wanted = [(x.weight.path, y.weight.path) for x, y in readable]
    if identical or not wanted:
        waiting: Callable[[], Mapping[str, Any]] = dict
    else:
        waiting = read(
            wanted, atol, rtol, total_bytes([x for x, _ in readable]) + total_bytes([y for _, y in readable])
        )
    index = {(id(x), id(y)): str(i) for i, (x, y) in enumerate(readable)}
    frozen_a = _frozen(a) if a.has_architecture else None
    frozen_b = _frozen(b) if b.has_architecture else None

    def result() -> DiffResult:
        raw = waiting()
        rows = []
        for x, y, how in pairs:
            rows.append(
                _unchanged(x, y, how)
                if identical
                else _tensor(x, y, how, raw.get(index.get((id(x), id(y)), "")))
            )
        rows += [_tensor(x, None, None, None) for x in only_a]
        rows += [_tensor(None, y, None, None) for y in only_b]
        model = tuple(t for t in rows if not t.optimizer)
        opt = tuple(t for t in rows if t.optimizer)
        layers = _layers(model, frozen_a, frozen_b, renames)
        ctx = _Context(a, b, identical, model, layers)
        findings = [f for fn in RULES.functions for f in fn(ctx)]
        return DiffResult(
            a=a, b=b, atol=atol, rtol=rtol, identical=identical, architecture=arch, layers=layers,
            tensors=model, optimizer_tensors=opt, optimizer_counts=count_opt, findings=tuple(findings),
            notes=tuple(notes), weights_compared=weights,
        )  # fmt: skip

    return result


def _g(x: float | None) -> str:
    return "?" if x is None else f"{x:.4g}"


__all__ = ["OPTIMIZER_LAYER", "RULES", "DiffResult", "PairReader", "compare"]
