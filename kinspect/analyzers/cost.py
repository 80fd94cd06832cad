"""Compute and memory cost of a model, from its layers' configs and propagated shapes.

Per layer: multiply-accumulates (MACs) and element-wise operations for ``batch`` samples, from
the cost rule its family module registers (:func:`kinspect.catalog.registry.layer_cost`) applied to
each of its calls; the bytes of its outputs by its dtype policy. Per model: parameter memory, an
estimate of peak inference memory (the weights plus the largest set of activations alive at once
along the graph, by a liveness walk in graph order) and of training memory (weights, gradients,
optimizer slots, every activation stored for the backward pass). Nothing is guessed: a layer
whose cost cannot be known (a custom class, an unknown dim) is unknown, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from kinspect.catalog.ops import BOOL_OUTPUT
from kinspect.catalog.optimizers import optimizer_slots
from kinspect.catalog.registry import Call, Cost, Unknown, is_builtin, layer_cost
from kinspect.model import DTYPE_BITS, LayerInfo, ModelInfo, ShapeTree

FLOPS_PER_MAC = 2  # the convention: one multiply-accumulate = two floating-point operations


@dataclass(frozen=True)
class LayerCost:
    """One layer's cost for ``batch`` samples: None where it cannot be known (``note`` says why)."""

    layer: LayerInfo
    path: str  # "outer/inner/dense"
    depth: int
    macs: int | None
    elementwise: int | None
    activation_bytes: int | None  # its outputs, every call
    note: str | None = None
    layers: tuple[LayerCost, ...] = ()  # a nested model's layers

    @property
    def flops(self) -> int | None:
        return None if self.macs is None else FLOPS_PER_MAC * self.macs


@dataclass(frozen=True)
class Memory:
    """Memory estimates in bytes (None: unknown, ``notes`` of the report say why)."""

    parameters: float
    trainable: float
    peak_activations: int | None  # the most activation bytes alive at once in inference
    peak_inference: float | None  # parameters + peak_activations
    gradients: float
    optimizer_slots: float | None
    optimizer_source: str | None  # how the slots were counted
    stored_activations: int | None  # every layer output, kept for the backward pass
    training: float | None  # parameters + gradients + optimizer slots + stored activations


@dataclass(frozen=True)
class CostReport:
    """The cost of every layer (nested layers under their model) and the model's totals."""

    batch: int
    seq_len: int | None
    layers: tuple[LayerCost, ...]
    total_macs: int  # of the layers whose cost is known
    total_elementwise: int
    activation_bytes: int  # sum of every known layer output
    memory: Memory
    unknown: tuple[str, ...]  # paths of the layers whose cost is unknown
    notes: tuple[str, ...] = ()

    @property
    def total_flops(self) -> int:
        return FLOPS_PER_MAC * self.total_macs

    @property
    def any_known(self) -> bool:
        """Whether any layer's cost is known (else the totals are unknown, not 0)."""
        return any(c.macs is not None for c in self.walk() if not c.layers)

    def walk(self) -> Iterator[LayerCost]:
        """Every layer cost, depth first."""

        def visit(items: Sequence[LayerCost]) -> Iterator[LayerCost]:
            for item in items:
                yield item
                yield from visit(item.layers)

        return visit(self.layers)

    def by_path(self) -> dict[str, LayerCost]:
        return {c.path: c for c in self.walk()}

    def most_expensive(self, count: int = 5) -> list[LayerCost]:
        """The top-level (or innermost) layers with the most MACs, most first."""
        leaves = [c for c in self.walk() if not c.layers and c.macs]
        return sorted(leaves, key=lambda c: -(c.macs or 0))[:count]


# --- per layer ------------------------------------------------------------------------------------


def compute_bits(policy: str | None, default: str | None = None) -> int:
    """Bits per activation value for a dtype policy: ``mixed_float16`` computes in float16, a
    plain policy (``float32``, ``int32``) in itself, an absent one in the model's (else float32,
    Keras's default floatx)."""
    name = policy or default or "float32"
    if name.startswith("mixed_"):
        name = name[len("mixed_") :]
    return DTYPE_BITS.get(name, 32)


def _dims(value: Any) -> bool:
    """Whether ``value`` is a shape (a tuple of ints and Nones), checked cheaply."""
    return type(value) is tuple and all(d is None or type(d) is int for d in value)


def _tensor_sizes(tree: ShapeTree) -> list[int | None]:
    """Elements per sample of each output tensor (None when a dim other than the batch is unknown)."""
    if tree is None:
        return [None]
    if _dims(tree):
        size = 1
        for d in tree[1:]:
            if d is None:
                return [None]
            size *= d
        return [size]
    if isinstance(tree, Mapping):
        return [s for v in tree.values() for s in _tensor_sizes(v)]
    if isinstance(tree, (list, tuple)):
        return [s for v in tree for s in _tensor_sizes(v)]
    return [None]


def _output_bytes(tree: ShapeTree, bits: int, batch: int) -> int | None:
    sizes = _tensor_sizes(tree)
    if any(s is None for s in sizes):
        return None
    return sum(s for s in sizes if s is not None) * batch * bits // 8


def _is_custom(layer: LayerInfo) -> bool:
    """A class that is not one of Keras's own: a foreign module, or a name Keras has not."""
    module = layer.module
    if module is not None and not module.startswith(("keras", "tf_keras")):
        return True
    return not layer.is_operation and not is_builtin(layer.class_name)


def _one_layer(layer: LayerInfo, major: int | None) -> tuple[Cost | None, str | None]:
    """A layer's cost per sample over all its calls, or None and why."""
    if layer.is_model:
        return None, None  # summed from its layers by the caller
    if layer.class_name == "InputLayer" and not layer.is_operation:
        return Cost(), None
    if _is_custom(layer):
        if layer.module:
            return None, f"custom class {layer.class_name} (module {layer.module}): its cost is in its code"
        return (
            None,
            f"class {layer.class_name} is not a Keras layer kinspect knows (custom?): its cost is unknown",
        )
    if not layer.calls:
        return None, "cost unknown: the layer's input shapes are unknown"
    key = f"ops.{layer.class_name}" if layer.is_operation else layer.class_name
    total = Cost()
    for call, output in layer.calls:
        if not isinstance(call, Call):
            return None, "cost unknown: the call is not recorded"
        if call.keras_major is None and major is not None:
            call = replace(call, keras_major=major)
        try:
            total += layer_cost(key, layer.config, call, output)
        except Unknown as exc:
            return None, f"cost unknown: {exc}"
    return total, None


def _layer_costs(
    layers: Sequence[LayerInfo], prefix: str, depth: int, batch: int, major: int | None, dtype: str | None
) -> list[LayerCost]:
    out = []
    for layer in layers:
        path = f"{prefix}{layer.name}"
        bits = compute_bits(layer.dtype, dtype)
        if layer.is_operation and f"ops.{layer.class_name}" in BOOL_OUTPUT:
            bits = 8  # a boolean output
        outputs = [o for _, o in layer.calls] or [layer.output_shape]
        sizes = [_output_bytes(o, bits, batch) for o in outputs]
        act = None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)
        if layer.is_model:
            children = _layer_costs(layer.layers, f"{path}/", depth + 1, batch, major, layer.dtype or dtype)
            calls = max(1, len(layer.inbound))  # a shared nested model runs its layers per call
            known = all(c.macs is not None for c in children)
            macs = sum(c.macs or 0 for c in children) * calls
            ops = sum(c.elementwise or 0 for c in children) * calls
            note = None if known else "cost partly unknown: some of its layers' costs are unknown"
            out.append(LayerCost(layer, path, depth, macs if known else None, ops if known else None,
                                 act, note, tuple(children)))  # fmt: skip
            continue
        cost, note = _one_layer(layer, major)
        if cost is None:
            out.append(LayerCost(layer, path, depth, None, None, act, note))
        else:
            out.append(LayerCost(layer, path, depth, cost.macs * batch, cost.elementwise * batch, act))
    return out


# --- memory ---------------------------------------------------------------------------------------


def _peak(layers: Sequence[LayerInfo], costs: Sequence[LayerCost], sequential: bool) -> int | None:
    """The most activation bytes alive at once while running ``layers`` in graph order: a layer's
    outputs live from its call until its last consumer has run (the model's outputs to the end);
    a nested model's step counts its own peak in place of its inputs and outputs."""
    act = {c.layer.name: c.activation_bytes for c in costs}
    if any(v is None for v in act.values()):
        return None
    order = [layer.name for layer in layers]
    position = {name: i for i, name in enumerate(order)}
    if sequential:
        consumers = {name: [order[i + 1]] if i + 1 < len(order) else [] for i, name in enumerate(order)}
    else:
        consumers = {name: [] for name in order}
        for layer in layers:
            for ref in layer.connections:
                if ref.layer in consumers and ref.layer != layer.name:
                    consumers[ref.layer].append(layer.name)
    last = {name: max((position[c] for c in users), default=len(order)) for name, users in consumers.items()}
    inner = {c.layer.name: _nested_peak(c) for c in costs if c.layers}
    ending: dict[int, list[str]] = {}
    for name, step in last.items():
        ending.setdefault(step, []).append(name)
    peak = alive = 0
    for i, layer in enumerate(layers):
        alive += act[layer.name] or 0  # its outputs, from now until their last consumer
        here = alive
        if layer.name in inner:
            own = inner[layer.name]
            if own is None:
                return None
            if sequential:
                inputs = {order[i - 1]} if i else set()
            else:
                inputs = {ref.layer for ref in layer.connections}
            here = max(0, here + own - sum(act.get(n) or 0 for n in inputs) - (act[layer.name] or 0))
        peak = max(peak, here)
        for name in ending.get(i, ()):
            alive -= act[name] or 0
    return peak


def _nested_peak(cost: LayerCost) -> int | None:
    """A nested model's own peak (a nested Sequential's input is not one of its layers: the
    caller counts it, alive outside)."""
    sequential = not any(child.inbound for child in cost.layer.layers)
    return _peak(cost.layer.layers, cost.layers, sequential)


def _optimizer(model: ModelInfo, trainable_bytes: float) -> tuple[float | None, str | None]:
    if model.optimizer_weights:
        stored = sum(w.nbytes for w in model.optimizer_weights)
        return stored, "the optimizer variables stored in the file"
    info = model.compile
    if info is None or info.optimizer is None:
        return None, None
    raw = info.config.get("optimizer", info.config.get("optimizer_config")) if info.config else None
    config = raw.get("config") if isinstance(raw, Mapping) else None
    slots = optimizer_slots(info.optimizer, config)
    if slots is None:
        return None, f"optimizer {info.optimizer}: its slots are not known"
    name = info.optimizer.rsplit(">", 1)[-1]
    return slots * trainable_bytes, f"{name}: {slots} slot{'s' if slots != 1 else ''} per trainable parameter"


def analyze(model: ModelInfo, batch: int = 1, seq_len: int | None = None) -> CostReport:
    """The cost of ``model`` for ``batch`` samples (its layers' ``calls`` carry the shapes)."""
    major = 3 if (model.keras_version or "").startswith("3") else 2 if model.keras_version else None
    report_notes: list[str] = []
    if not model.has_architecture:
        return _weights_only(model, batch, seq_len)
    layers = _layer_costs(model.layers, "", 0, batch, major, model.dtype)
    walk = list(_walk(layers))
    leaves = [c for c in walk if not c.layers]
    unknown = tuple(c.path for c in leaves if c.macs is None)
    total_macs, total_ops = _known_totals(layers)
    if unknown:
        report_notes.append(
            f"the totals leave out {len(unknown)} layer{'s' if len(unknown) > 1 else ''} whose cost is "
            f"unknown: {', '.join(unknown[:5])}{' …' if len(unknown) > 5 else ''}"
        )
    acts = [c.activation_bytes for c in layers]
    stored = None if any(a is None for a in acts) else sum(a or 0 for a in acts)
    sequential = model.class_name == "Sequential" or not any(layer.inbound for layer in model.layers)
    peak = _peak(model.layers, layers, sequential)
    if sequential and model.layers and peak is not None and model.layers[0].class_name != "InputLayer":
        # The model's input is not one of a Sequential model's layers: it is alive for the first one.
        first = model.layers[0]
        inputs = [call.args[0] for call, _ in first.calls if isinstance(call, Call) and call.args]
        size = _output_bytes(inputs[0], compute_bits(model.dtype), batch) if inputs else None
        peak = None if size is None else max(peak, size + (layers[0].activation_bytes or 0))
        stored = None if size is None or stored is None else stored + size  # kept for training too
    if peak is None or stored is None:
        report_notes.append("activation memory unknown: some output shapes are unknown")
    params = trainable = 0.0
    if model.params_known:
        for w in model.all_weights():
            params += w.nbytes
            trainable += w.nbytes if w.trainable else 0.0
    slots, source = _optimizer(model, trainable)
    if source is None:
        report_notes.append("training memory unknown: the model was saved without an optimizer")
    elif slots is None:
        report_notes.append(f"training memory unknown: {source}")
    training = None
    if slots is not None and stored is not None:
        training = params + trainable + slots + stored
    memory = Memory(
        parameters=params,
        trainable=trainable,
        peak_activations=peak,
        peak_inference=None if peak is None else params + peak,
        gradients=trainable,
        optimizer_slots=slots,
        optimizer_source=source,
        stored_activations=stored,
        training=training,
    )
    total_act = sum(c.activation_bytes or 0 for c in layers)
    return CostReport(batch, seq_len, tuple(layers), total_macs, total_ops, total_act, memory, unknown,
                      tuple(report_notes))  # fmt: skip


def _known_totals(costs: Sequence[LayerCost]) -> tuple[int, int]:
    """MACs and element-wise ops of the layers whose cost is known; a nested model's layers count
    once per call of the model (a shared model runs them each time)."""
    macs = ops = 0
    for c in costs:
        if c.layers:
            inner_macs, inner_ops = _known_totals(c.layers)
            calls = max(1, len(c.layer.inbound))
            macs, ops = macs + inner_macs * calls, ops + inner_ops * calls
        else:
            macs, ops = macs + (c.macs or 0), ops + (c.elementwise or 0)
    return macs, ops


def _weights_only(model: ModelInfo, batch: int, seq_len: int | None) -> CostReport:
    """A file without an architecture: only the parameter memory is known."""

    def unknown(layers: Sequence[LayerInfo], prefix: str, depth: int) -> list[LayerCost]:
        return [
            LayerCost(
                layer,
                f"{prefix}{layer.name}",
                depth,
                None,
                None,
                None,
                None,
                tuple(unknown(layer.layers, f"{prefix}{layer.name}/", depth + 1)),
            )
            for layer in layers
        ]

    layers = unknown(model.layers, "", 0)
    params = sum(w.nbytes for w in model.all_weights()) if model.params_known else 0.0
    trainable = sum(w.nbytes for w in model.all_weights() if w.trainable) if model.params_known else 0.0
    memory = Memory(params, trainable, None, None, trainable, None, None, None, None)
    note = "weights only: without an architecture the compute cost is unknown (pair the file with --arch)"
    paths = tuple(c.path for c in _walk(layers) if not c.layers)
    return CostReport(batch, seq_len, tuple(layers), 0, 0, 0, memory, paths, (note,))


def _walk(items: Sequence[LayerCost]) -> Iterator[LayerCost]:
    for item in items:
        yield item
        yield from _walk(item.layers)
