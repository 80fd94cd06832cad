"""Parse a serialized Keras model config (Keras 3 or Keras 2 style) into plain specs.

Nothing here is executed or imported from the config: class names, modules and
functions are kept as strings. The parser accepts both serializations:

* Keras 3: ``inbound_nodes`` are ``{"args": [...], "kwargs": {...}}`` holding
  ``{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history"}}``
  (keras/src/models/functional.py ``serialize_node``).
* Keras 2: ``inbound_nodes`` are lists of ``[layer, node_index, tensor_index, kwargs]``
  (tf_keras/src/engine/functional.py), tensors in kwargs as ``[layer, node, tensor]``.
* Keras 1 and Keras <= 2.2.0: a ``Sequential`` config is a bare list of layers, and Keras 1
  layers are translated to their Keras 2 form (:mod:`kinspect.catalog.legacy`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kinspect.catalog.legacy import LegacyError, sequential_layers, translate_layer
from kinspect.model import TensorRef

MODEL_CLASSES = {"Functional", "Model", "Sequential"}
MAX_DEPTH = 64  # nesting of models inside models; deeper is refused as hostile


class ConfigError(ValueError):
    """The config does not have the structure of a Keras model config."""


@dataclass(frozen=True)
class TensorArg:
    """A tensor argument of a call: where it comes from, and its shape if recorded."""

    ref: TensorRef
    shape: tuple[int | None, ...] | None = None


@dataclass(frozen=True)
class NodeSpec:
    """One call of a layer: positional and keyword arguments, tensors as TensorArg."""

    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]

    def tensors(self) -> list[TensorArg]:
        """Every tensor argument, flattened in order (Keras's ``node.input_tensors``)."""
        found: list[TensorArg] = []

        def visit(value: Any) -> None:
            if isinstance(value, TensorArg):
                found.append(value)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    visit(item)
            elif isinstance(value, Mapping):
                for item in value.values():
                    visit(item)

        visit(self.args)
        visit(self.kwargs)
        return found


@dataclass(frozen=True)
class LayerSpec:
    """A layer entry of a model config, with nested model specs as children."""

    name: str
    class_name: str
    config: Mapping[str, Any]
    module: str | None = None
    registered_name: str | None = None
    nodes: tuple[NodeSpec, ...] = ()
    build_input_shape: Any = None
    model: ModelSpec | None = None  # set for nested Functional/Sequential models
    keras1: str | None = None  # the Keras 1 class name, when the entry was translated from Keras 1

    @property
    def is_operation(self) -> bool:
        return bool(self.module and self.module.startswith("keras.src.ops"))

    @property
    def trainable(self) -> bool:
        return self.config.get("trainable", True) is not False

    @property
    def dtype(self) -> str | None:
        return dtype_policy_name(self.config.get("dtype"))

    @property
    def node_offset(self) -> int:
        """Keras 2 graph networks have a pre-existing node linking their own inputs to outputs
        that is never serialized, so a serialized node index is one more than the position.
        That includes a Sequential built with an input shape (tf_keras makes it a graph
        network); a deferred Sequential has no such node."""
        if self.model is None:
            return 0
        return 1 if not self.model.sequential or self.model.input_shape is not None else 0


@dataclass(frozen=True)
class ModelSpec:
    """A Functional or Sequential model config."""

    name: str
    class_name: str
    layers: tuple[LayerSpec, ...]
    inputs: tuple[TensorRef, ...] = ()
    outputs: tuple[TensorRef, ...] = ()
    sequential: bool = False
    trainable: bool = True
    dtype: str | None = None
    # Sequential: the input shape, from its InputLayer or first layer's batch_input_shape.
    input_shape: Any = None
    config: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    notes: tuple[str, ...] = ()  # how the config was read (a bare list, Keras 1 translated)
    named: bool = True  # False when the config stores no name (a bare-list Sequential)


def dtype_policy_name(value: Any) -> str | None:
    """Keras 2 stores a dtype string; Keras 3 a DTypePolicy object config."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        inner = value.get("config")
        if isinstance(inner, Mapping) and isinstance(inner.get("name"), str):
            return inner["name"]
    return None


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{what} is not a string: {type(value).__name__}")
    return value


def _refs(value: Any) -> tuple[TensorRef, ...]:
    """``input_layers``/``output_layers``: one [name, node, tensor] or a list (or dict) of them."""
    if isinstance(value, Mapping):
        value = list(value.values())
    if not isinstance(value, list):
        raise ConfigError("input_layers/output_layers is not a list")
    if len(value) == 3 and isinstance(value[0], str):
        value = [value]
    refs: list[TensorRef] = []
    for item in value:
        if isinstance(item, Mapping):  # nested dict structures of outputs
            refs.extend(_refs(item))
            continue
        if not (isinstance(item, list) and len(item) >= 3 and isinstance(item[0], str)):
            raise ConfigError(f"bad tensor reference {item!r:.80}")
        refs.append(TensorRef(item[0], _int(item[1]), _int(item[2])))
    return tuple(refs)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"expected an integer, got {value!r:.40}")
    return value


def _shape(value: Any) -> tuple[int | None, ...] | None:
    if isinstance(value, list) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in value
    ):
        return tuple(value)
    return None


def _keras3_value(value: Any) -> Any:
    """Replace serialized KerasTensors by TensorArg, recursively."""
    if isinstance(value, Mapping):
        if value.get("class_name") == "__keras_tensor__":
            cfg = value.get("config")
            if not isinstance(cfg, Mapping):
                raise ConfigError("a __keras_tensor__ has no config")
            history = cfg.get("keras_history")
            if not (isinstance(history, list) and len(history) == 3 and isinstance(history[0], str)):
                raise ConfigError("a __keras_tensor__ has no valid keras_history")
            ref = TensorRef(history[0], _int(history[1]), _int(history[2]))
            return TensorArg(ref, _shape(cfg.get("shape")))
        return {k: _keras3_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keras3_value(v) for v in value]
    return value


def _keras2_kwarg(value: Any, names: set[str]) -> Any:
    """Keras 2 serializes tensors in call kwargs as [layer, node, tensor] lists."""
    if (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and value[0] in names
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:])
    ):
        return TensorArg(TensorRef(value[0], value[1], value[2]))
    if isinstance(value, list):
        return [_keras2_kwarg(v, names) for v in value]
    if isinstance(value, Mapping):
        return {k: _keras2_kwarg(v, names) for k, v in value.items()}
    return value


def _node(data: Any, names: set[str]) -> NodeSpec:
    if isinstance(data, Mapping):  # Keras 3
        args = _keras3_value(data.get("args", []))
        named = _keras3_value(data.get("kwargs", {}))
        if not isinstance(args, list) or not isinstance(named, Mapping):
            raise ConfigError("inbound node args/kwargs have the wrong type")
        return NodeSpec(tuple(args), dict(named))
    if isinstance(data, list):  # Keras 2: one entry per input tensor
        if data and isinstance(data[0], str):  # tf_keras TFOpLambda: a single bare entry
            data = [data]
        tensors: list[Any] = []
        kwargs: dict[str, Any] = {}
        for entry in data:
            if not (isinstance(entry, list) and len(entry) in (3, 4) and isinstance(entry[0], str)):
                raise ConfigError(f"bad inbound node entry {entry!r:.80}")
            if entry[0] == "_CONSTANT_VALUE":  # tf_keras: a constant passed in the tensor slot
                tensors.append(entry[2])
            else:
                tensors.append(TensorArg(TensorRef(entry[0], _int(entry[1]), _int(entry[2]))))
            if len(entry) == 4:
                if not isinstance(entry[3], Mapping):
                    raise ConfigError("inbound node kwargs are not a mapping")
                kwargs = {k: _keras2_kwarg(v, names) for k, v in entry[3].items()}
        first = tensors[0] if len(tensors) == 1 else tensors
        return NodeSpec((first,), kwargs)
    raise ConfigError("inbound node is neither a list nor a mapping")


def _layer(
    entry: Any, depth: int, names: set[str] | None = None, auto: dict[str, int] | None = None
) -> LayerSpec:
    if not isinstance(entry, Mapping):
        raise ConfigError("layer entry is not a mapping")
    class_name = _str(entry.get("class_name"), "layer class_name")
    config = entry.get("config")
    model = None
    if isinstance(config, list) and class_name in MODEL_CLASSES:  # a nested bare-list Sequential
        model = parse_model(entry, depth + 1, auto)
        config = model.config
    if not isinstance(config, Mapping):
        raise ConfigError(f"layer of class {class_name} has no config mapping")
    keras1 = None
    # Keras 1 (and 2) entries have no ``module``; a Keras 3 entry is never a Keras 1 one, and a
    # custom class that happens to be called Merge or Dense is not translated.
    if model is None and entry.get("module") is None and not is_model_entry(class_name, config):
        original = class_name
        class_name, config, translated = translate_layer(class_name, config)
        keras1 = original if translated else None
    name = entry.get("name", config.get("name"))
    name = _str(name, f"name of a {class_name} layer")
    nodes_data = entry.get("inbound_nodes", [])
    if not isinstance(nodes_data, list):
        raise ConfigError(f"inbound_nodes of {name} is not a list")
    nodes = tuple(_node(n, names or set()) for n in nodes_data)
    build = entry.get("build_config")
    build_shape = build.get("input_shape") if isinstance(build, Mapping) else None
    if model is None and is_model_entry(class_name, config):
        model = parse_model(entry, depth + 1, auto)
    module = entry.get("module")
    registered = entry.get("registered_name")
    return LayerSpec(
        name=name,
        class_name=class_name,
        config=config,
        module=module if isinstance(module, str) else None,
        registered_name=registered if isinstance(registered, str) else None,
        nodes=nodes,
        build_input_shape=build_shape,
        model=model,
        keras1=keras1,
    )


def is_model_entry(class_name: str, config: Any) -> bool:
    """A nested model: a Functional/Sequential config, or a model subclass saved with one."""
    if isinstance(config, list):  # a bare-list Sequential (Keras 1, Keras <= 2.2.0)
        return class_name in MODEL_CLASSES
    return (
        isinstance(config, Mapping)
        and isinstance(config.get("layers"), list)
        and (class_name in MODEL_CLASSES or "input_layers" in config)
    )


def parse_model(entry: Any, depth: int = 0, auto: dict[str, int] | None = None) -> ModelSpec:
    """Parse ``{"class_name": ..., "config": {...}}`` of a Functional or Sequential model.

    ``auto`` counts the names given to models whose config stores none, across one parse."""
    auto = {} if auto is None else auto
    if depth > MAX_DEPTH:
        raise ConfigError(f"models nested more than {MAX_DEPTH} levels deep")
    if not isinstance(entry, Mapping):
        raise ConfigError("model config is not a JSON object")
    class_name = _str(entry.get("class_name"), "model class_name")
    config = entry.get("config")
    notes: list[str] = []
    named = True
    if isinstance(config, list) and class_name in MODEL_CLASSES:
        # Keras 1 and Keras <= 2.2.0 ``Sequential.get_config`` return the bare list of layers.
        try:
            config = sequential_layers(config, MAX_DEPTH - depth)
        except LegacyError as exc:
            raise ConfigError(str(exc)) from None
        if isinstance(entry.get("name"), str):
            config["name"] = entry["name"]
        else:  # named as Keras names a new model: sequential, sequential_1, ...
            named = False
            prefix = class_name.lower()
            count = auto[prefix] = auto.get(prefix, -1) + 1
            config["name"] = f"{prefix}_{count}" if count else prefix
        notes.append(
            "Sequential config stored as a bare list of layers (Keras 1, Keras <= 2.2.0): "
            "the file does not store the model's name"
        )
    if not isinstance(config, Mapping) or not isinstance(config.get("layers"), list):
        raise ConfigError(f"model of class {class_name} has no list of layers")
    raw_layers = config["layers"]
    names = {
        layer.get("name", (layer.get("config") or {}).get("name"))
        for layer in raw_layers
        if isinstance(layer, Mapping) and isinstance(layer.get("config"), Mapping)
    }
    names = {n for n in names if isinstance(n, str)}
    layers = tuple(_layer(layer, depth, names, auto) for layer in raw_layers)
    if depth == 0:
        notes.extend(_keras1_notes(layers))
    name = config.get("name")
    sequential = "input_layers" not in config and "output_layers" not in config
    spec = ModelSpec(
        name=name if isinstance(name, str) else class_name.lower(),
        class_name=class_name,
        layers=layers,
        sequential=sequential,
        trainable=config.get("trainable", True) is not False,
        dtype=dtype_policy_name(config.get("dtype")),
        config=config,
        notes=tuple(notes),
        named=named,
    )
    if sequential:
        return _sequential(spec, raw_layers)
    spec = ModelSpec(
        **{**spec.__dict__, "inputs": _refs(config.get("input_layers", [])),
           "outputs": _refs(config.get("output_layers", []))}
    )  # fmt: skip
    check_graph(spec, keras2=any(isinstance(n, list) for n in _raw_nodes(raw_layers)))
    return spec


def _keras1_notes(layers: tuple[LayerSpec, ...]) -> list[str]:
    """One note saying that Keras 1 layers were translated, and which classes were renamed."""
    translated, renamed = 0, set()
    stack = list(layers)
    while stack:
        layer = stack.pop()
        if layer.model is not None:
            stack.extend(layer.model.layers)
        if layer.keras1 is not None:
            translated += 1
            if layer.keras1 != layer.class_name:
                renamed.add((layer.keras1, layer.class_name))
    if not translated:
        return []
    classes = ", ".join(f"{old} → {new}" for old, new in sorted(renamed))
    return [
        f"Keras 1 config: {translated} layer(s) translated to their Keras 2 form, as Keras 2 loaded "
        f"them ({classes + '; ' if classes else ''}Keras 1 arguments such as output_dim, nb_filter, "
        "border_mode, dim_ordering renamed); weights are read in Keras 1's layout"
    ]


def _raw_nodes(raw_layers: list[Any]) -> list[Any]:
    return [
        node
        for layer in raw_layers
        if isinstance(layer, Mapping) and isinstance(layer.get("inbound_nodes"), list)
        for node in layer["inbound_nodes"]
    ]


def check_graph(spec: ModelSpec, keras2: bool) -> None:
    """Refuse a functional graph whose references name no layer or no call, or that loops.

    Every tensor a call consumes (and every model input and output) must come from a
    call that exists: a serialized node, an InputLayer's implicit node 0, or (Keras 2)
    a nested Functional's own unserialized node. Then the calls must form a DAG;
    shared layers make layer-level cycles legitimate, so cycles are looked for per call.
    """
    by_name: dict[str, LayerSpec] = {}
    for layer in spec.layers:
        if layer.name in by_name:
            raise ConfigError(f"two layers named {layer.name!r} in model {spec.name!r}")
        by_name[layer.name] = layer

    def source(ref: TensorRef, user: str) -> tuple[str, int]:
        producer = by_name.get(ref.layer)
        if producer is None:
            raise ConfigError(f"{user} uses a tensor of layer {ref.layer!r:.80}, which is not in the model")
        calls = len(producer.nodes) + producer.node_offset
        if producer.class_name == "InputLayer":
            calls = max(calls, 1)
        if not 0 <= ref.node < calls:
            raise ConfigError(
                f"{user} uses call {ref.node} of layer {ref.layer!r}, which has {calls} call(s)"
            )
        offset = producer.node_offset if keras2 else 0
        return ref.layer, ref.node - offset

    for ref in (*spec.inputs, *spec.outputs):
        source(ref, f"model {spec.name!r} input/output")
    deps: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for layer in spec.layers:
        for i, node in enumerate(layer.nodes):
            deps[(layer.name, i)] = [source(t.ref, f"layer {layer.name!r}") for t in node.tensors()]
    _refuse_cycles(deps)


def _refuse_cycles(deps: Mapping[tuple[str, int], list[tuple[str, int]]]) -> None:
    """Iterative depth-first search: no recursion limit, each call and edge visited once."""
    state: dict[tuple[str, int], bool] = {}  # False while on the stack, True when done
    for start in deps:
        if start in state:
            continue
        state[start] = False
        stack = [(start, iter(deps[start]))]
        while stack:
            key, edges = stack[-1]
            nxt = next(edges, None)
            if nxt is None:
                state[key] = True
                stack.pop()
            elif nxt not in deps or state.get(nxt) is True:
                continue
            elif nxt in state:
                names = [k[0] for k, _ in stack[[k for k, _ in stack].index(nxt) :]]
                loop = " -> ".join([*names[:8], *(["..."] if len(names) > 8 else []), nxt[0]])
                raise ConfigError(f"the layer graph has a cycle: {loop}")
            else:
                state[nxt] = False
                stack.append((nxt, iter(deps[nxt])))


def _sequential(spec: ModelSpec, raw_layers: list[Any]) -> ModelSpec:
    """Sequential configs list layers in call order; the input shape is on an InputLayer
    (Keras 3, tf_keras) or on the first layer as ``batch_input_shape`` (Keras 2)."""
    input_shape = None
    layers = spec.layers
    if layers and layers[0].class_name == "InputLayer":
        cfg = layers[0].config
        input_shape = cfg.get("batch_shape", cfg.get("batch_input_shape"))
    elif layers:
        input_shape = layers[0].config.get("batch_input_shape")
        if input_shape is None and layers[0].model is not None:  # a nested model comes first
            input_shape = layers[0].model.input_shape
        if input_shape is None:
            build = spec.config.get("build_input_shape")
            input_shape = build
    shape = _shape(list(input_shape)) if isinstance(input_shape, (list, tuple)) else None
    return ModelSpec(**{**spec.__dict__, "input_shape": shape})
