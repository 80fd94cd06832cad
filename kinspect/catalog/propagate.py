"""Propagate shapes through a model's graph, one call (node) at a time.

Keras 3 configs record the shape of every tensor passed to a call; those
recorded shapes are the truth and are used as inputs to the rules. Rules give
each call's outputs, which is what the model's own outputs need and all that
Keras 2 configs (which record only input layers' shapes) can offer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kinspect.catalog.architecture import LayerSpec, ModelSpec, NodeSpec, TensorArg
from kinspect.catalog.registry import (
    Call,
    Shape,
    ShapeTree,
    ShapeUnknown,
    as_shape,
    infer,
    is_shape,
    keras_major,
)

Address = tuple[str, ...]  # layer names from the top model down


@dataclass
class ShapeResult:
    """Output shapes by layer address (Keras's summary shows a layer's last call) and notes."""

    shapes: dict[Address, ShapeTree] = field(default_factory=dict)
    notes: dict[Address, list[str]] = field(default_factory=dict)
    # Each layer's first call with its input shapes: what its weights were built from.
    calls: dict[Address, Call] = field(default_factory=dict)
    keras_major: int | None = None

    def note(self, address: Address, text: str) -> None:
        items = self.notes.setdefault(address, [])
        if text not in items:
            items.append(text)


def flatten(tree: ShapeTree) -> list[Shape | None]:
    """Output tensors in order: a shape is one tensor, lists/dicts hold several."""
    if tree is None or is_shape(tree):
        return [tree]
    if isinstance(tree, Mapping):
        return [s for v in tree.values() for s in flatten(v)]
    if isinstance(tree, (list, tuple)):
        return [s for v in tree for s in flatten(v)]
    return [None]


def input_layer_shape(spec: LayerSpec) -> Shape | None:
    cfg = spec.config
    raw = cfg.get("batch_shape", cfg.get("batch_input_shape"))
    try:
        return as_shape(raw)
    except ShapeUnknown:
        return None


class _Graph:
    """Shape state of one functional model being propagated."""

    def __init__(
        self, spec: ModelSpec, result: ShapeResult, prefix: Address, keras2: bool, major: int | None
    ) -> None:
        self.spec = spec
        self.result = result
        self.prefix = prefix
        self.keras2 = keras2
        self.major = major  # the file's Keras major version, given to every rule
        self.by_name = {layer.name: layer for layer in spec.layers}
        # (layer, node position) -> flattened output shapes of that call
        self.outputs: dict[tuple[str, int], list[Shape | None]] = {}
        self.trees: dict[tuple[str, int], ShapeTree] = {}
        # Shapes that consumers recorded for each call's outputs (Keras 3 configs only).
        self.recorded: dict[tuple[str, int], dict[int, Shape]] = {}
        for layer in spec.layers:
            for node in layer.nodes:
                for t in node.tensors():
                    if t.shape is not None:
                        self.recorded.setdefault(self.position(t), {})[t.ref.tensor] = t.shape

    def recorded_outputs(self, layer: str, position: int) -> ShapeTree:
        """A call's outputs as its consumers recorded them, when all of them are known."""
        seen = self.recorded.get((layer, position))
        if not seen or sorted(seen) != list(range(len(seen))):
            return None
        return seen[0] if len(seen) == 1 else [seen[i] for i in range(len(seen))]

    def position(self, arg: TensorArg) -> tuple[str, int]:
        """Keras 2 counts a nested Functional's own (never serialized) first node."""
        producer = self.by_name.get(arg.ref.layer)
        offset = producer.node_offset if (producer is not None and self.keras2) else 0
        return arg.ref.layer, arg.ref.node - offset

    def tensor_shape(self, arg: TensorArg, use_recorded: bool) -> Shape | None:
        if use_recorded and arg.shape is not None:
            return arg.shape
        key = self.position(arg)
        outs = self.outputs.get(key)
        if outs is not None and 0 <= arg.ref.tensor < len(outs):
            return outs[arg.ref.tensor]
        if key[1] < 0 and (producer := self.by_name.get(key[0])) and producer.model is not None:
            own = self.result.shapes.get((*self.prefix, producer.name))
            flat = flatten(own)
            if 0 <= arg.ref.tensor < len(flat):
                return flat[arg.ref.tensor]
        return None

    def ready(self, node: NodeSpec) -> bool:
        return all(
            self.position(t) in self.outputs or t.shape is not None or self.position(t)[1] < 0
            for t in node.tensors()
        )


def _substitute(value: Any, resolve: Any) -> Any:
    if isinstance(value, TensorArg):
        return resolve(value)
    if isinstance(value, list):
        return [_substitute(v, resolve) for v in value]
    if isinstance(value, tuple):
        return tuple(_substitute(v, resolve) for v in value)
    if isinstance(value, Mapping):
        return {k: _substitute(v, resolve) for k, v in value.items()}
    return value


def _call_layer(
    layer: LayerSpec, call: Call, result: ShapeResult, address: Address, keras2: bool
) -> ShapeTree:
    """Output of one call: a nested model runs its own graph; a layer or op applies its rule."""
    if layer.model is not None:
        return _nested_call(layer, call, result, address, keras2)
    key = f"ops.{layer.class_name}" if layer.is_operation else layer.class_name
    return infer(key, layer.config, call)


def _nested_call(
    layer: LayerSpec, call: Call, result: ShapeResult, address: Address, keras2: bool
) -> ShapeTree:
    model = layer.model
    assert model is not None
    own = result.shapes.get(address)
    inputs = [s for s in flatten(list(call.args)) if s is not None] if call.args else []
    major = call.keras_major
    if model.sequential:
        return _run_sequential(model, ShapeResult(), address, inputs[0] if inputs else None, False, major)
    sub = ShapeResult()
    outs = _run_functional(model, sub, address, keras2, major, inputs or None, use_recorded=False)
    return outs if outs is not None else own


def _run_functional(
    spec: ModelSpec,
    result: ShapeResult,
    prefix: Address,
    keras2: bool,
    major: int | None,
    input_shapes: list[Shape] | None = None,
    use_recorded: bool = True,
) -> ShapeTree:
    graph = _Graph(spec, result, prefix, keras2, major)
    overrides: dict[str, Shape] = {}
    if input_shapes is not None and len(input_shapes) == len(spec.inputs):
        overrides = {ref.layer: s for ref, s in zip(spec.inputs, input_shapes, strict=True)}
    for layer in spec.layers:
        if layer.class_name == "InputLayer" and layer.model is None:
            shape = overrides.get(layer.name, input_layer_shape(layer))
            graph.outputs[(layer.name, 0)] = [shape]
            graph.trees[(layer.name, 0)] = shape
            result.shapes[(*prefix, layer.name)] = shape
            if shape is None:
                result.note((*prefix, layer.name), "input layer without a valid batch shape")

    pending = [(layer, i, node) for layer in spec.layers for i, node in enumerate(layer.nodes)]
    # Keras 2 lists a shared layer once, so a later call may wait on layers listed after it:
    # sweep until nothing moves (bounded by the number of calls, so cycles cannot hang).
    for _ in range(len(pending) + 1):
        waiting = []
        for layer, i, node in pending:
            if not graph.ready(node):
                waiting.append((layer, i, node))
                continue
            _run_node(graph, layer, i, node, use_recorded)
        if len(waiting) == len(pending):
            break
        pending = waiting
    else:
        pending = []
    for layer, _, _ in pending:
        result.note(
            (*prefix, layer.name), "call depends on a tensor no layer produces (dangling or cyclic graph)"
        )
        result.shapes.setdefault((*prefix, layer.name), None)

    outs = [graph.tensor_shape(TensorArg(ref), False) for ref in spec.outputs]
    if not outs:
        return None
    return outs[0] if len(outs) == 1 else outs


def _run_node(graph: _Graph, layer: LayerSpec, i: int, node: NodeSpec, use_recorded: bool) -> None:
    address = (*graph.prefix, layer.name)

    missing = []

    def resolve(arg: TensorArg) -> Shape | None:
        shape = graph.tensor_shape(arg, use_recorded)
        if shape is None:
            missing.append(arg.ref)
        return shape

    args = _substitute(node.args, resolve)
    kwargs = _substitute(node.kwargs, resolve)
    if missing:
        tree: ShapeTree = None
        graph.result.note(address, "input shape unknown")
    else:
        call = Call(tuple(args), kwargs, keras_major=graph.major)
        graph.result.calls.setdefault(address, call)
        try:
            tree = _call_layer(layer, call, graph.result, address, graph.keras2)
        except ShapeUnknown as exc:
            tree = graph.recorded_outputs(layer.name, i) if use_recorded else None
            if tree is None:
                graph.result.note(address, f"output shape unknown: {exc}")
            else:
                graph.result.note(address, f"output shape read from the file, not inferred: {exc}")
    graph.outputs[(layer.name, i)] = flatten(tree)
    graph.trees[(layer.name, i)] = tree
    graph.result.shapes[address] = tree  # the last call wins, as in Keras's summary


def _run_sequential(
    spec: ModelSpec,
    result: ShapeResult,
    prefix: Address,
    input_shape: Shape | None,
    use_recorded: bool,
    major: int | None,
) -> ShapeTree:
    shape: ShapeTree = input_shape if input_shape is not None else spec.input_shape
    for n, layer in enumerate(spec.layers):
        address = (*prefix, layer.name)
        if layer.class_name == "InputLayer":
            result.shapes[address] = shape
            continue
        if use_recorded and layer.build_input_shape is not None:
            try:
                recorded = as_shape(layer.build_input_shape)
                shape = recorded
            except ShapeUnknown:
                pass
        if shape is None:
            result.shapes[address] = None
            result.note(address, "input shape unknown (the model was saved without an input shape)")
            continue
        call = Call((shape,), {}, major)
        result.calls.setdefault(address, call)
        try:
            shape = _call_layer(layer, call, result, address, keras2=False)
        except ShapeUnknown as exc:
            shape = None
            nxt = spec.layers[n + 1].build_input_shape if n + 1 < len(spec.layers) else None
            if use_recorded and nxt is not None:
                try:
                    shape = as_shape(nxt)
                except ShapeUnknown:
                    shape = None
            if shape is None:
                result.note(address, f"output shape unknown: {exc}")
        result.shapes[address] = shape
    return shape


def _models(spec: ModelSpec) -> Iterator[ModelSpec]:
    """``spec`` and every model nested in it."""
    yield spec
    for layer in spec.layers:
        if layer.model is not None:
            yield from _models(layer.model)


def file_keras_major(spec: ModelSpec, keras2: bool) -> int | None:
    """The Keras major version that wrote the file: 2, 3, or None when nothing tells.

    ``keras2`` (list-style call nodes) is certain once the graph records calls. A model without
    any (Sequential) is judged by its layers instead: Keras 3 writes an InputLayer's
    ``batch_shape``, tf.keras ``batch_input_shape``, and the dtype policy may tell too. (tf.keras
    ``.keras`` Sequential archives carry Keras 3 style ``module`` keys; Keras 3 ``.h5`` files none.)
    """
    models = list(_models(spec))
    if any(layer.nodes for model in models for layer in model.layers):
        return 2 if keras2 else 3
    seen: set[int] = set()
    for model in models:
        for layer in model.layers:
            if "batch_input_shape" in layer.config:
                seen.add(2)
            elif layer.class_name == "InputLayer" and "batch_shape" in layer.config:
                seen.add(3)
            if (major := keras_major(layer.config)) is not None:
                seen.add(major)
    return seen.pop() if len(seen) == 1 else None


def propagate(spec: ModelSpec, keras2: bool) -> ShapeResult:
    """Output shapes of every layer of ``spec`` and of its nested models, by address."""
    result = ShapeResult(keras_major=file_keras_major(spec, keras2))
    _propagate_into(spec, result, (), keras2, result.keras_major)
    return result


def _propagate_into(
    spec: ModelSpec, result: ShapeResult, prefix: Address, keras2: bool, major: int | None
) -> None:
    # Nested models first: their own layers' shapes come from their own graphs.
    for layer in spec.layers:
        if layer.model is not None:
            _propagate_into(layer.model, result, (*prefix, layer.name), keras2, major)
    if spec.sequential:
        _run_sequential(spec, result, prefix, None, True, major)
    else:
        _run_functional(spec, result, prefix, keras2, major)
