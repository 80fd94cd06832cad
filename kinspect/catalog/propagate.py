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

READ = "output shape read from the file, not inferred:"
UNKNOWN = "output shape unknown:"


@dataclass
class ShapeResult:
    """Output shapes by layer address (Keras's summary shows a layer's last call) and notes."""

    shapes: dict[Address, ShapeTree] = field(default_factory=dict)
    notes: dict[Address, list[str]] = field(default_factory=dict)
    # Each layer's first call with its input shapes: what its weights were built from.
    calls: dict[Address, Call] = field(default_factory=dict)
    # Every call of each layer, with its input shapes and its outputs: what its cost is counted on.
    history: dict[Address, list[tuple[Call, ShapeTree]]] = field(default_factory=dict)
    keras_major: int | None = None

    def note(self, address: Address, text: str) -> None:
        items = self.notes.setdefault(address, [])
        if text not in items:
            items.append(text)

    def shape_note(self, address: Address, text: str) -> None:
        """A note on how the output shape was found: the shape shown is the last call's (a
        shared layer's), so is the note; one replaces what an earlier call said."""
        items = self.notes.setdefault(address, [])
        items[:] = [n for n in items if not n.startswith((READ, UNKNOWN))]
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
        # Calls whose outputs are unknown only because one of their inputs is: the note goes
        # on the first call after the layer whose own output is unknown, not on every later one.
        self.derived: set[tuple[str, int]] = set()
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

    missing: list[TensorArg] = []

    def resolve(arg: TensorArg) -> Shape | None:
        shape = graph.tensor_shape(arg, use_recorded)
        if shape is None:
            missing.append(arg)
        return shape

    args = _substitute(node.args, resolve)
    kwargs = _substitute(node.kwargs, resolve)
    tree: ShapeTree = None
    if missing:
        graph.derived.add((layer.name, i))
        causes = [a.ref.layer for a in missing if graph.position(a) not in graph.derived]
        if causes:
            graph.result.note(address, _unknown_input(graph.by_name, causes))
    else:
        call = Call(tuple(args), kwargs, keras_major=graph.major)
        graph.result.calls.setdefault(address, call)
        why = None
        try:
            tree = _call_layer(layer, call, graph.result, address, graph.keras2)
        except ShapeUnknown as exc:
            why = str(exc)
        if use_recorded and not _known(tree):
            # What the consumers of this call recorded as their inputs (Keras 3 files).
            filled = _fill(tree, graph.recorded_outputs(layer.name, i))
            if filled is not tree:
                tree = filled
                if why is not None:
                    graph.result.shape_note(address, f"{READ} {why}")
                if layer.model is not None:
                    backfill(layer.model, address, tree, graph.result)
        if why is not None and tree is None:
            graph.result.shape_note(address, f"{UNKNOWN} {why}")
        graph.result.history.setdefault(address, []).append((call, tree))
    graph.outputs[(layer.name, i)] = flatten(tree)
    graph.trees[(layer.name, i)] = tree
    graph.result.shapes[address] = tree  # the last call wins, as in Keras's summary


def _unknown_input(layers: Mapping[str, LayerSpec], names: list[str]) -> str:
    named = [f"{n} ({layers[n].class_name})" if n in layers else n for n in dict.fromkeys(names)]
    return f"input shape unknown: the output of {', '.join(named)} is unknown"


def _known(tree: ShapeTree) -> bool:
    return all(shape is not None for shape in flatten(tree))


def _fill(tree: ShapeTree, recorded: ShapeTree) -> ShapeTree:
    """``tree`` with its unknown outputs taken from ``recorded`` (the same outputs as the file
    recorded them); ``tree`` itself when that tells nothing more."""
    if recorded is None:
        return tree
    if tree is None:
        return recorded
    have, seen = flatten(tree), flatten(recorded)
    if isinstance(tree, list) and len(tree) == len(have) == len(seen):
        merged = [h if h is not None else r for h, r in zip(have, seen, strict=True)]
        return merged if merged != have else tree
    return tree


def backfill(spec: ModelSpec, address: Address, tree: ShapeTree, result: ShapeResult) -> None:
    """Give a nested model's inner layers the outputs its call is now known to produce.

    A nested model whose last layer's output is unknown (a Lambda) has an unknown output
    too, until a consumer's recorded input says what it is: then the layer producing each
    model output is that shape, at every depth of nesting (iteratively).
    """
    work = [(spec, address, tree)]
    while work:
        spec, address, tree = work.pop()
        outs = flatten(tree)
        by_name = {layer.name: layer for layer in spec.layers}
        if spec.sequential:
            inner = [layer for layer in spec.layers if layer.class_name != "InputLayer"]
            refs = [(inner[-1].name, 0)] if inner else []
        else:
            refs = [(ref.layer, ref.tensor) for ref in spec.outputs]
        if len(refs) != len(outs):
            continue
        for (name, tensor), shape in zip(refs, outs, strict=True):
            here = (*address, name)
            producer = by_name.get(name)
            if shape is None or producer is None or tensor != 0 or result.shapes.get(here) is not None:
                continue
            if sum(1 for ref, _ in refs if ref == name) > 1:
                continue  # a layer giving several outputs: which is which is not known here
            result.shapes[here] = shape
            notes = result.notes.get(here, [])
            result.notes[here] = [f"{READ} {n[len(UNKNOWN) :].strip()}" if n.startswith(UNKNOWN) else n
                                  for n in notes]  # fmt: skip
            if producer.model is not None:
                work.append((producer.model, here, shape))


def _run_sequential(
    spec: ModelSpec,
    result: ShapeResult,
    prefix: Address,
    input_shape: Shape | None,
    use_recorded: bool,
    major: int | None,
) -> ShapeTree:
    shape: ShapeTree = input_shape if input_shape is not None else spec.input_shape
    previous: LayerSpec | None = None  # the layer before, when its own output is unknown
    first = True
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
            # Said once: on the first layer, or on the one after the layer whose output is unknown.
            if first:
                result.note(address, "input shape unknown (the model was saved without an input shape)")
            elif previous is not None:
                result.note(address, _unknown_input({previous.name: previous}, [previous.name]))
            first, previous = False, None
            continue
        first = False
        call = Call((shape,), {}, major)
        result.calls.setdefault(address, call)
        why = None
        try:
            shape = _call_layer(layer, call, result, address, keras2=False)
        except ShapeUnknown as exc:
            shape, why = None, str(exc)
        nxt = spec.layers[n + 1].build_input_shape if n + 1 < len(spec.layers) else None
        if shape is None and use_recorded and nxt is not None:
            try:
                shape = as_shape(nxt)  # the next layer recorded its input: this layer's output
            except ShapeUnknown:
                shape = None
            if shape is not None:
                if why is not None:
                    result.shape_note(address, f"{READ} {why}")
                if layer.model is not None:
                    backfill(layer.model, address, shape, result)
        if shape is None and why is not None:
            result.shape_note(address, f"{UNKNOWN} {why}")
        previous = layer if shape is None else None
        result.history.setdefault(address, []).append((call, shape))
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
