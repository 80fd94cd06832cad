"""The layer graph ``keras.utils.plot_model`` draws, as a plain value: nodes, clusters, edges.

Mirrors ``model_to_dot`` in keras/src/utils/model_visualization.py: one node per entry of
``model._operations`` (Functional) or ``model.layers`` (Sequential, whose InputLayer is not a
layer), an edge per tensor a call consumes, deduplicated; with ``expand_nested`` a nested model
becomes a cluster and edges are routed to the InputLayer it is fed through (a Sequential: its
first layer) and out of the layer producing the output used. Beyond Keras, wrappers
(Bidirectional, TimeDistributed, ...) expand too, and ``layer_range`` (dropped in Keras 3)
works as in Keras 2. Nothing here formats text: that is the DOT renderer's job.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from kinspect.analyzers.summary import layer_range
from kinspect.model import LayerInfo, ModelInfo, ShapeTree, TensorRef

Path = tuple[str, ...]  # layer names from the top model down


@dataclass(frozen=True)
class Node:
    """One box: a layer (or operation, or an unexpanded nested model)."""

    id: str  # "n0", "n1", ...: file-derived text never becomes a DOT identifier
    path: Path
    class_name: str
    cluster: str | None  # id of the innermost enclosing cluster
    input_shape: ShapeTree  # of the first call, as Keras's ``layer.input``; None if unknown
    output_shape: ShapeTree
    has_input: bool  # Keras shows no input shape on InputLayer boxes
    dtype: str | None  # output dtype
    activation: str | None  # None: the layer has no activation
    trainable: bool | None  # None: the layer has no weights (Keras shows nothing)
    params: int
    family: str

    @property
    def name(self) -> str:
        return self.path[-1]


@dataclass(frozen=True)
class Cluster:
    """An expanded nested model or wrapper."""

    id: str
    path: Path
    class_name: str
    parent: str | None


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str


@dataclass(frozen=True)
class Graph:
    name: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    clusters: tuple[Cluster, ...]
    total_params: int
    has_connections: bool  # False for weights-only files: layers are drawn without edges
    notes: tuple[str, ...] = ()


# Layer families for --color-by family: first match of a class name fragment wins.
FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("input", ("InputLayer",)),
    ("attention", ("Attention",)),
    ("recurrent", ("LSTM", "GRU", "RNN", "Bidirectional")),
    ("convolution", ("Conv",)),
    ("pooling", ("Pool",)),
    ("normalization", ("Normalization", "BatchNorm")),
    ("merge", ("Add", "Concatenate", "Multiply", "Subtract", "Average", "Maximum", "Minimum", "Dot")),
    ("embedding", ("Embedding",)),
    ("dense", ("Dense",)),
    ("regularization", ("Dropout", "Noise")),
    ("activation", ("Activation", "ReLU", "Softmax", "ELU", "PReLU")),
    ("reshaping", ("Reshape", "Flatten", "Permute", "RepeatVector", "Padding", "Cropping", "UpSampling")),
)


def family(layer: LayerInfo) -> str:
    if layer.is_model:
        return "model"
    if layer.is_operation:
        return "operation"
    name = layer.class_name.rsplit(">", 1)[-1]
    for fam, fragments in FAMILIES:
        if any(f in name for f in fragments):
            return fam
    return "other"


def _refs(value: Any) -> list[TensorRef]:
    """A nested model's ``input_layers``/``output_layers``, tolerant of every serialization."""
    if isinstance(value, Mapping):
        value = list(value.values())
    if not isinstance(value, list):
        return []
    if len(value) >= 3 and isinstance(value[0], str):
        value = [value]
    refs: list[TensorRef] = []
    for item in value:
        if isinstance(item, Mapping):
            refs.extend(_refs(item))
        elif isinstance(item, list) and len(item) >= 3 and isinstance(item[0], str):
            node, tensor = (v if isinstance(v, int) else 0 for v in item[1:3])
            refs.append(TensorRef(item[0], node, tensor))
    return refs


def _wrapped(layer: LayerInfo) -> list[tuple[str, str]]:
    """(name, class) of the layers a wrapper holds (``layer``, Bidirectional's ``backward_layer``)."""
    if layer.is_model or layer.layers:
        return []
    found = []
    for key in ("layer", "forward_layer", "backward_layer"):
        inner = layer.config.get(key)
        if isinstance(inner, Mapping) and isinstance(inner.get("class_name"), str):
            cfg = inner.get("config")
            name = cfg.get("name") if isinstance(cfg, Mapping) else None
            found.append((name if isinstance(name, str) else f"{layer.name}_{key}", inner["class_name"]))
    if "backward_layer" not in layer.config and layer.class_name.endswith("Bidirectional") and found:
        name, cls = found[0]
        found = [(f"forward_{name}", cls), (f"backward_{name}", cls)]
    return found


def _activation(layer: LayerInfo) -> str | None:
    value = layer.config.get("activation")
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):  # a serialized activation object or function
        for key in ("registered_name", "class_name"):
            if isinstance(value.get(key), str):
                inner = value.get("config")
                if value[key] == "function" and isinstance(inner, str):
                    return inner
                return value[key]
    return None


_COMPUTE = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


def _dtype(layer: LayerInfo, model_dtype: str | None) -> str | None:
    if layer.class_name == "InputLayer":
        value = layer.config.get("dtype")
        return value if isinstance(value, str) else layer.dtype
    policy = layer.dtype or model_dtype
    return _COMPUTE.get(policy, policy) if policy else None


def _is_shape(raw: Any) -> TypeGuard[list[int | None]]:
    return isinstance(raw, list) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in raw
    )


@dataclass
class _Scope:
    """The layers of one (nested) model while the graph is built."""

    path: Path
    layers: Sequence[LayerInfo]
    sequential: bool
    inputs: list[TensorRef]
    outputs: list[TensorRef]
    config: Mapping[str, Any]
    # Lookups by name and by identity: linear scans would make 10,000-layer graphs quadratic.
    by_name: dict[str, LayerInfo] = field(init=False, repr=False)
    positions: dict[int, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_name = {}
        for layer in self.layers:
            self.by_name.setdefault(layer.name, layer)  # the first of a (hostile) duplicate name
        self.positions = {id(layer): i for i, layer in reversed(list(enumerate(self.layers)))}

    def find(self, name: str) -> LayerInfo | None:
        return self.by_name.get(name)


class _Builder:
    def __init__(self, model: ModelInfo, expand_nested: bool) -> None:
        self.model = model
        self.expand = expand_nested
        self.nodes: list[Node] = []
        self.clusters: list[Cluster] = []
        self.edges: dict[Edge, None] = {}
        self.ids: dict[Path, str] = {}
        self.wrappers: dict[Path, list[Path]] = {}  # expanded wrapper -> its inner node paths
        self.shapes: dict[Path, ShapeTree] = {}

    # ---- nodes -------------------------------------------------------------------------
    def add_layers(self, scope: _Scope, cluster: str | None, select: Sequence[LayerInfo]) -> None:
        for layer in scope.layers:
            self.shapes[(*scope.path, layer.name)] = layer.output_shape
        for i, layer in enumerate(select):
            path = (*scope.path, layer.name)
            if self.expand and layer.is_model and layer.layers:
                cid = f"cluster_{len(self.clusters)}"
                self.clusters.append(Cluster(cid, path, layer.class_name, cluster))
                self.add_layers(self.scope(layer, path), cid, layer.layers)
            elif self.expand and _wrapped(layer):
                cid = f"cluster_{len(self.clusters)}"
                self.clusters.append(Cluster(cid, path, layer.class_name, cluster))
                inner = []
                for name, cls in _wrapped(layer):
                    inner_path = (*path, name)
                    inner.append(inner_path)
                    self.add_node(inner_path, layer, cid, self.input_shape(scope, layer, i), cls)
                self.wrappers[path] = inner
            else:
                self.add_node(path, layer, cluster, self.input_shape(scope, layer, i))

    def add_node(
        self, path: Path, layer: LayerInfo, cluster: str | None, input_shape: ShapeTree, cls: str = ""
    ) -> None:
        node_id = f"n{len(self.nodes)}"
        self.ids[path] = node_id
        weighted = any(True for _ in layer.all_weights())
        self.nodes.append(
            Node(
                id=node_id,
                path=path,
                class_name=cls or layer.class_name,
                cluster=cluster,
                input_shape=input_shape,
                output_shape=layer.output_shape,
                has_input=layer.class_name != "InputLayer",
                dtype=_dtype(layer, self.model.dtype),
                activation=None if cls else _activation(layer),
                trainable=layer.trainable if weighted else None,
                params=0 if cls else layer.params,
                family=family(layer),
            )
        )

    def scope(self, layer: LayerInfo, path: Path) -> _Scope:
        sequential = not layer.config.get("input_layers") and not any(c.inbound for c in layer.layers)
        return _Scope(
            path,
            layer.layers,
            sequential,
            _refs(layer.config.get("input_layers")),
            _refs(layer.config.get("output_layers")),
            layer.config,
        )

    def input_shape(self, scope: _Scope, layer: LayerInfo, index: int) -> ShapeTree:
        """Shapes of the first call's input tensors: one shape, or a list of several."""
        if scope.sequential:
            position = scope.positions.get(id(layer), index)
            if position == 0:
                return self.sequential_input(scope)
            return scope.layers[position - 1].output_shape
        if not layer.inbound:
            return None
        shapes = [self.tensor_shape(scope, ref) for ref in layer.inbound[0]]
        return shapes[0] if len(shapes) == 1 else shapes

    @staticmethod
    def sequential_input(scope: _Scope) -> ShapeTree:
        """A Sequential's input shape: its InputLayer's, the first layer's ``batch_input_shape``
        (Keras 2), or ``build_input_shape``."""
        config = scope.config
        layers = config.get("layers")
        for entry in layers if isinstance(layers, list) else []:
            cfg = entry.get("config") if isinstance(entry, Mapping) else None
            if isinstance(cfg, Mapping):
                raw = cfg.get("batch_shape", cfg.get("batch_input_shape"))
                if _is_shape(raw):
                    return tuple(raw)
                break
        raw = config.get("build_input_shape")
        return tuple(raw) if _is_shape(raw) else None

    def tensor_shape(self, scope: _Scope, ref: TensorRef) -> ShapeTree:
        producer = scope.find(ref.layer)
        if producer is None:
            return None
        shape = producer.output_shape
        if isinstance(shape, list):
            return shape[ref.tensor] if ref.tensor < len(shape) else None
        return shape

    # ---- edges -------------------------------------------------------------------------
    def connect(self, scope: _Scope, drawn: set[str]) -> None:
        layers = [layer for layer in scope.layers if layer.name in drawn]
        if scope.sequential:
            for prev, cur in itertools.pairwise(layers):
                self.edge(scope, prev, 0, cur, 0)
        else:
            for layer in layers:
                for call in layer.inbound:
                    for index, ref in enumerate(call):
                        source = scope.find(ref.layer)
                        if source is not None and source.name in drawn:
                            self.edge(scope, source, ref.tensor, layer, index)
        if self.expand:
            for layer in layers:
                if layer.is_model and layer.layers:
                    inner = self.scope(layer, (*scope.path, layer.name))
                    self.connect(inner, {child.name for child in layer.layers})

    def edge(self, scope: _Scope, src: LayerInfo, tensor: int, dst: LayerInfo, index: int) -> None:
        for a in self.resolve(scope, src, tensor, out=True):
            for b in self.resolve(scope, dst, index, out=False):
                if a in self.ids and b in self.ids:
                    self.edges[Edge(self.ids[a], self.ids[b])] = None

    def resolve(self, scope: _Scope, layer: LayerInfo, index: int, out: bool) -> list[Path]:
        """The drawn boxes an edge ends on: nested models are entered (keras model_to_dot's
        ``source.outputs[output_index]`` / ``destination.inputs[input_index]`` loops)."""
        path = (*scope.path, layer.name)
        if not self.expand:
            return [path]
        if path in self.wrappers:
            return self.wrappers[path]
        seen = 0
        while layer.is_model and layer.layers and seen < 64:  # bounded: configs may be hostile
            seen += 1
            inner = self.scope(layer, path)
            if inner.sequential:
                nxt = inner.layers[-1] if out else inner.layers[0]
                index = 0
            else:
                refs = inner.outputs if out else inner.inputs
                ref = refs[index] if index < len(refs) else (refs[0] if refs else None)
                found = inner.find(ref.layer) if ref else None
                if found is None or ref is None:
                    return [path]
                nxt, index = found, ref.tensor if out else 0
            layer, scope, path = nxt, inner, (*path, nxt.name)
            if path in self.wrappers:
                return self.wrappers[path]
        return [path]


def build_graph(
    model: ModelInfo, expand_nested: bool = False, bounds: tuple[str, str] | None = None
) -> Graph:
    """Nodes, clusters and edges of ``model`` as plot_model would draw them."""
    start, stop = layer_range(model.layers, bounds)
    select = model.layers[start:stop]
    builder = _Builder(model, expand_nested)
    top = _Scope(
        (),
        model.layers,
        model.class_name == "Sequential",
        list(model.inputs),
        list(model.outputs),
        model.config,
    )
    if (
        top.sequential is False
        and model.has_architecture
        and not any(layer.inbound for layer in model.layers)
    ):
        top.sequential = True  # a model class saved without functional nodes: layers in call order
    builder.add_layers(top, None, select)
    notes: list[str] = []
    if model.weights_mismatch is not None:
        notes.append(
            f"the stored weights contradict the model's own config (Keras cannot load this file): "
            f"{model.weights_mismatch}; 'kinspect summary' lists every disagreement"
        )
    if model.has_architecture:
        builder.connect(top, {layer.name for layer in select})
    else:
        notes.append("weights-only file: the layers are drawn without connections, which it does not record")
    return Graph(
        name=model.name,
        nodes=tuple(builder.nodes),
        edges=tuple(builder.edges),
        clusters=tuple(builder.clusters),
        total_params=model.params,
        has_connections=model.has_architecture,
        notes=tuple(notes),
    )
