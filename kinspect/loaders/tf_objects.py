"""Which tensor of a TensorFlow checkpoint belongs to which layer: the checkpoint's object graph.

A TF2 checkpoint (``tf.train.Checkpoint``, tf.keras ``save_weights`` in TF format, a SavedModel's
``variables/``) keys each tensor by the *local names* of the objects on a path from its root
(``layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE``), and stores the whole object graph as a
serialized ``TrackableObjectGraph`` under ``_CHECKPOINTABLE_OBJECT_GRAPH``: each object's children
by local name, its tensors (``attributes``: the variable's ``full_name`` such as ``dense/kernel``,
and its checkpoint key) and the optimizer's slot variables. A variable reachable by several paths
is stored once, under the first path found (breadth first; tensorflow/python/checkpoint/
graph_view.py), which is why a Keras 3 model's weights can sit under ``optimizer/...``: objects are
classified here by where they are reachable from, never by the key they happen to be stored under.

tf.keras containers (tf_keras/src/engine/functional.py ``_layer_checkpoint_dependencies``) name
their layers ``layer-N`` (N: the index in ``model.layers``) and, for layers with weights, also
``layer_with_weights-M``; Keras 3 (TensorFlow backend) tracks ``_functional`` and ``_operations``
lists; subclassed models and plain ``tf.Module``s name children by attribute. Real layer names are
not in the graph: they are recovered from the variables' ``full_name`` (``lstm/lstm_cell/kernel``
reached by the path ``cell/kernel`` belongs to a layer named ``lstm``), and class names are unknown
without an architecture.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import struct
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kinspect.catalog.architecture import ModelSpec
from kinspect.catalog.weightnames import is_trainable_name
from kinspect.errors import InputError
from kinspect.loaders.assemble import Assignment, saved_layers
from kinspect.loaders.common import Arch, build_model
from kinspect.model import CompileInfo, Format, LayerInfo, ModelInfo, WeightInfo

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
WALK_STEPS_PER_NODE = 64
VARIABLE_VALUE = "VARIABLE_VALUE"
MAX_OBJECT_GRAPH_BYTES = 256 << 20  # a serialized graph larger than this is refused

# Children that hold training state, not the model: the optimizer (its variables and slots),
# compiled metrics and loss trackers, traced functions.
OPTIMIZER_NAMES = ("optimizer", "_optimizer")
NOT_MODEL = {
    *OPTIMIZER_NAMES, "keras_api", "_compiled_trainable_state", "train_function", "train_tf_function",
    "test_function", "predict_function", "_inbound_nodes", "_outbound_nodes", "root", "signatures",
    "_default_save_signature", "_self_unconditional_checkpoint_dependencies", "compiled_loss",
    "compiled_metrics", "_metrics", "_tracked",
}  # fmt: skip
# Lists that repeat a layer's variables (tf_keras SavedModels, Keras 3 layers): followed last.
LISTS = {"variables", "trainable_variables", "non_trainable_variables", "_trainable_variables",
         "_non_trainable_variables", "weights", "trainable_weights", "non_trainable_weights",
         "_all_variables"}  # fmt: skip
# Children holding the state of compiled metrics and losses (a SavedModel's keras_api/metrics/0/total).
METRICS = ("keras_api", "compiled_metrics", "compiled_loss", "_metrics")
# Root variables that count saves and steps (tf.train.Checkpoint's own, training loops').
BOOKKEEPING = {"save_counter", "step", "global_step", "epoch", "iteration", "iterations", "steps"}
_LAYER = re.compile(r"^layer-(\d+)$")
_WEIGHTED = re.compile(r"^layer_with_weights-(\d+)$")


@dataclass(frozen=True)
class Var:
    """A variable stored in the checkpoint."""

    node: int
    key: str  # its checkpoint key
    full_name: str  # the variable's own name, e.g. "dense/kernel"
    dtype: str
    shape: tuple[int, ...]
    sliced: bool  # a partitioned variable, stored in slices

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass
class Obj:
    """A layer (or nested model) found in the object graph."""

    local: str  # its local name in its parent: "layer_with_weights-1", "conv1", "3"
    node: int
    index: int | None = None  # N of "layer-N": its index in the parent's model.layers
    container: bool = False  # a model whose children are layers
    variables: list[tuple[str, Var]] = field(default_factory=list)  # (path below it, variable)
    children: list[Obj] = field(default_factory=list)
    scope: str | None = None  # the name scope its variables were created in ("outer/dense")
    name: str = ""
    class_name: str | None = None  # when something names it (SavedModel metadata)
    trainable: bool = True
    path: tuple[str, ...] = ()  # local names from the checkpoint's root
    weightless: int = 0  # layers of this container that hold no variables (not listed)

    def all_variables(self) -> Iterator[Var]:
        for _, var in self.variables:
            yield var
        for child in self.children:
            yield from child.all_variables()


@dataclass
class Tree:
    """The checkpoint split the way Keras counts it: the model, optimizer state, the rest."""

    model: Obj
    optimizer: list[Var] = field(default_factory=list)
    # Optimizer variables Keras does not list in ``optimizer.variables`` (tf_keras's learning rate).
    optimizer_hidden: list[Var] = field(default_factory=list)
    optimizer_names: dict[int, str] = field(default_factory=dict)  # node → display name
    bookkeeping: list[Var] = field(default_factory=list)
    unclaimed: list[Var] = field(default_factory=list)  # variables outside model and optimizer
    other_state: list[str] = field(default_factory=list)  # non-variable saved values (lookup tables)
    path: tuple[str, ...] = ()  # local names from the checkpoint root to the model
    notes: list[str] = field(default_factory=list)


# ---- reading ---------------------------------------------------------------------------------


def object_graph(path: str, bundle: Any) -> tuple[Any, ...] | None:
    """The bundle's TrackableObjectGraph nodes, or None for a name-based (TF1) checkpoint."""
    from kinspect.tfio.bundle import read_strings
    from kinspect.tfio.objectgraph import read_object_graph

    entry = bundle.entries.get(OBJECT_GRAPH_KEY)
    if entry is None:
        return None
    if entry.dtype != "string" or entry.shape not in ((), (1,)):
        raise InputError(path, f"{OBJECT_GRAPH_KEY} is not a string scalar ({entry.dtype} {entry.shape})")
    if entry.size > MAX_OBJECT_GRAPH_BYTES:
        raise InputError(path, f"object graph of {entry.size:,} bytes is larger than kinspect reads")
    values = read_strings(bundle, entry, MAX_OBJECT_GRAPH_BYTES)
    if len(values) != 1:
        raise InputError(path, f"{OBJECT_GRAPH_KEY} holds {len(values)} values, not one")
    return read_object_graph(values[0])  # bounded, every node id checked (kinspect.tfio.objectgraph)


def read_scalar(bundle: Any, var: Var) -> float | int | None:
    """The value of a small numeric scalar (a step count, a learning rate), read in place."""
    formats = {"int64": "q", "int32": "i", "float32": "f", "float64": "d", "int16": "h", "uint8": "B"}
    entry = bundle.entries.get(var.key)
    if entry is None or var.shape not in ((), (1,)) or entry.dtype not in formats or entry.sliced:
        return None
    fmt = (">" if bundle.endianness == "big" else "<") + formats[entry.dtype]
    if entry.size != struct.calcsize(fmt):
        return None
    try:
        with open(bundle.shard_path(entry.shard), "rb") as fh:
            fh.seek(entry.offset)
            data = fh.read(entry.size)
    except OSError:
        return None
    if len(data) != entry.size:
        return None
    value = struct.unpack(fmt, data)[0]
    return value if math.isfinite(value) else None


# ---- the walk --------------------------------------------------------------------------------


class _Graph:
    """Node lookups over the decoded object graph and the bundle's entries.

    Walking a graph costs at most :data:`WALK_STEPS_PER_NODE` visits per node in all (a crafted
    graph where every layer reaches every other would otherwise take quadratic time)."""

    def __init__(self, nodes: Sequence[Any], bundle: Any) -> None:
        self.nodes = nodes
        self.vars: dict[int, Var] = {}
        self.other: list[str] = []
        self.budget = WALK_STEPS_PER_NODE * len(nodes) + 100_000
        for number, node in enumerate(nodes):
            for attr in node.attributes:
                entry = bundle.entries.get(attr.checkpoint_key)
                if attr.name == VARIABLE_VALUE and entry is not None:
                    self.vars.setdefault(
                        number,
                        Var(number, attr.checkpoint_key, attr.full_name, entry.dtype, tuple(entry.shape),
                            bool(entry.sliced)),
                    )  # fmt: skip
                elif entry is not None:
                    self.other.append(attr.checkpoint_key)
        # Which nodes lead to a variable (not through optimizer, metrics…): one reverse walk.
        parents: dict[int, list[int]] = {}
        for number, node in enumerate(nodes):
            for name, child in node.children:
                if name not in NOT_MODEL:
                    parents.setdefault(child, []).append(number)
        self.leads: set[int] = set()
        stack = list(self.vars)
        while stack:
            node = stack.pop()
            if node not in self.leads:
                self.leads.add(node)
                stack.extend(parents.get(node, ()))

    def step(self) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise InputError(
                "", "the object graph is too entangled to walk (every object reaches every other)"
            )

    def children(self, node: int) -> tuple[tuple[str, int], ...]:
        return tuple(self.nodes[node].children)

    def child(self, node: int, name: str) -> int | None:
        return next((c for n, c in self.children(node) if n == name), None)

    def is_container(self, node: int) -> bool:
        names = [n for n, _ in self.children(node)]
        return any(_LAYER.match(n) or _WEIGHTED.match(n) for n in names) or any(
            n in ("_functional", "_operations") for n in names
        )

    def reachable(self, starts: Sequence[int]) -> set[int]:
        seen: set[int] = set()
        stack = list(starts)
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(c for _, c in self.children(node))
        return seen

    def has_variables(self, node: int) -> bool:
        return node in self.leads


def build_tree(nodes: Sequence[Any], bundle: Any, prefix_name: str) -> Tree:
    """Split the checkpoint into the model's layers, optimizer state and bookkeeping."""
    graph = _Graph(nodes, bundle)
    root = 0
    # The optimizer: everything reachable from an "optimizer" child anywhere, and slot variables.
    opt_starts = [c for node in range(len(nodes)) for n, c in graph.children(node) if n in OPTIMIZER_NAMES]
    opt_nodes = graph.reachable(opt_starts)
    # tf_keras (2.11+) and Keras 3 optimizers keep what ``optimizer.variables`` lists in ``_variables``;
    # tf_keras tracks its learning rate variable beside it, and does not count it. Legacy optimizers
    # (OptimizerV2) list their ``iter`` and slots, not their hyperparameters (beta_1, decay…).
    listed = [c for s in opt_starts for n, c in graph.children(s) if n == "_variables"]
    hypers = {c for s in opt_starts for n, c in graph.children(s) if c in graph.vars and n != "iter"}
    hidden = opt_nodes - graph.reachable(listed) if listed else hypers
    slot_names: dict[int, str] = {}
    for node in nodes:
        for slot in node.slots:
            opt_nodes.add(slot.slot_node)
            original = graph.vars.get(slot.original_node)
            slot_var = graph.vars.get(slot.slot_node)
            if slot_var is not None and not slot_var.full_name and original is not None:
                slot_names[slot.slot_node] = f"{original.full_name}/{slot.slot_name}"
    metric_starts = [c for node in range(len(nodes)) for n, c in graph.children(node) if n in METRICS]
    metric_nodes = graph.reachable(metric_starts)
    model_node, path = _model_root(graph, root)
    # Counters on the checkpoint itself (save_counter, a training loop's step) are not the model's.
    booked = {c for n, c in graph.children(root) if c in graph.vars and n in BOOKKEEPING}
    claimed: set[int] = set(booked)
    model = _object(graph, model_node, "", None, claimed, set(), path, top=True)
    _name(model)
    model.name = model.name if model.scope else prefix_name
    tree = Tree(model=model, path=path, other_state=graph.other)
    for number, var in graph.vars.items():
        if number in booked:
            tree.bookkeeping.append(var)
            continue
        if number in claimed:
            continue
        if number in opt_nodes:
            (tree.optimizer_hidden if number in hidden else tree.optimizer).append(var)
            tree.optimizer_names[number] = slot_names.get(number) or var.full_name or var.key
        elif number in metric_nodes:
            tree.bookkeeping.append(var)
        else:
            tree.unclaimed.append(var)
    tree.optimizer.sort(key=lambda v: v.node)
    tree.optimizer_hidden.sort(key=lambda v: v.node)
    return tree


def _model_root(graph: _Graph, root: int) -> tuple[int, tuple[str, ...]]:
    """The object that is the model: the root itself (``save_weights``, a SavedModel), or the one
    object a ``tf.train.Checkpoint`` holds besides its optimizer and counters (``model=...``)."""
    if graph.is_container(root):
        return root, ()
    candidates = [
        (name, child)
        for name, child in graph.children(root)
        if name not in NOT_MODEL and child not in graph.vars and child != root and graph.has_variables(child)
    ]
    if len(candidates) != 1:
        return root, ()
    name, child = candidates[0]
    direct = any(c in graph.vars for _, c in graph.children(child))
    compiled = graph.child(child, "optimizer") is not None
    spread = sum(1 for n, c in graph.children(child) if n not in NOT_MODEL and graph.has_variables(c)) > 1
    if graph.is_container(child) or compiled or (spread and not direct):
        return child, (name,)
    return root, ()


def _object(
    graph: _Graph,
    node: int,
    local: str,
    index: int | None,
    claimed: set[int],
    active: set[int],
    path: tuple[str, ...] = (),
    top: bool = False,
) -> Obj:
    """The layer or model at ``node``: a container's layers in Keras's order, or a layer's variables
    (everything below it: a Bidirectional's two RNNs, an LSTM's cell, attention's projections)."""
    obj = Obj(local=local, node=node, index=index, path=(*path, *local.split("/")) if local else path)
    if node in active:  # a model that contains itself: stop
        return obj
    active = active | {node}
    entries = _keras_entries(graph, node)
    if entries is None and top:
        entries = _generic_entries(graph, node)
    if entries is None:
        obj.variables = _gather(graph, node, claimed)
        return obj
    obj.container = True
    for name, child, idx in entries:
        sub = _object(graph, child, name, idx, claimed, active, obj.path)
        if sub.variables or sub.children:
            obj.children.append(sub)
        else:
            obj.weightless += 1
    # Variables of the container itself (a subclassed model's own tf.Variable).
    obj.variables = _gather(graph, node, claimed, direct_only=True)
    return obj


def _keras_entries(graph: _Graph, node: int) -> list[tuple[str, int, int | None]] | None:
    """A Keras model's layers as (local name, node, index in model.layers), or None for a layer."""
    children = graph.children(node)
    functional = graph.child(node, "_functional")
    if functional is not None:  # Keras 3 Sequential: a Functional inside
        return _keras_entries(graph, functional) or []
    ops = graph.child(node, "_operations")
    if ops is not None:  # Keras 3 Functional: its operations, in order
        return [(n, c, None) for n, c in graph.children(ops) if c not in graph.vars]
    indexed = sorted((int(m.group(1)), n, c) for n, c in children if (m := _LAYER.match(n)))
    if indexed:
        # A layer with weights is also "layer_with_weights-M", the name its checkpoint keys use.
        alias = {c: n for n, c in children if _WEIGHTED.match(n)}
        return [(alias.get(c, n), c, i) for i, n, c in indexed if c not in graph.vars]
    weighted = sorted((int(m.group(1)), n, c) for n, c in children if (m := _WEIGHTED.match(n)))
    if weighted:
        return [(n, c, None) for _, n, c in weighted if c not in graph.vars]
    return None


def _generic_entries(graph: _Graph, node: int) -> list[tuple[str, int, int | None]] | None:
    """The parts of a subclassed model or a plain module: each child that leads to variables (a
    list-like child, ``blocks`` → ``0``, ``1``…, gives one part per item); None when the object is
    one layer with sub-objects rather than a model."""
    out: list[tuple[str, int, int | None]] = []
    for name, child in graph.children(node):
        if name in NOT_MODEL or child in graph.vars or not graph.has_variables(child):
            continue
        grand = graph.children(child)
        if grand and all(n.isdigit() for n, _ in grand) and not graph.is_container(child):
            out += [(f"{name}/{n}", c, None) for n, c in grand if c not in graph.vars]
        else:
            out.append((name, child, None))
    direct = any(c in graph.vars for n, c in graph.children(node) if n not in NOT_MODEL)
    if not out or (len(out) == 1 and direct):
        return None
    return out


def _gather(graph: _Graph, node: int, claimed: set[int], direct_only: bool = False) -> list[tuple[str, Var]]:
    """Every variable below ``node`` (depth first, children in order) not yet claimed by another
    layer, with its path of local names from ``node``. Lists of a layer's variables (a SavedModel
    tracks ``variables`` and ``trainable_variables`` before ``kernel``) are followed last, so that
    a variable is found by the attribute that names it."""
    out: list[tuple[str, Var]] = []
    for late in (False, True):
        seen: set[int] = {node}
        stack = [(c, n) for n, c in reversed(graph.children(node)) if _follow(n, late)]
        while stack:
            current, where = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            graph.step()
            var = graph.vars.get(current)
            if var is not None:
                if current not in claimed:
                    claimed.add(current)
                    out.append((where, var))
                continue
            if direct_only:
                continue
            below = reversed(graph.children(current))
            stack.extend((c, f"{where}/{n}") for n, c in below if _follow(n, late))
    return out


def _follow(name: str, late: bool) -> bool:
    return name not in NOT_MODEL and (late or name not in LISTS)


# ---- names -----------------------------------------------------------------------------------


def _scope(full_name: str, depth: int) -> str | None:
    """The name scope a variable was created in: its full name without the last ``depth`` parts."""
    parts = full_name.split("/")
    return "/".join(parts[:-depth]) if len(parts) > depth else None


def _common(values: list[str | None]) -> str | None:
    known = [v for v in values if v]
    if not known:
        return None
    value, count = Counter(known).most_common(1)[0]
    return value if count * 2 > len(known) or len(set(known)) == 1 else None


def _name(obj: Obj) -> None:
    """Recover real names from the variables' full names, bottom up."""
    for child in obj.children:
        _name(child)
    if obj.children:
        parents = [c.scope.rpartition("/")[0] if c.scope else None for c in obj.children]
        known = [p for p in parents if p is not None]
        obj.scope = known[0] if known and all(p == known[0] for p in known) and known[0] else None
    if obj.variables and obj.scope is None:
        obj.scope = _common([_scope(v.full_name, len(where.split("/"))) for where, v in obj.variables])
    if obj.variables and obj.scope is None and not obj.container:
        # A wrapper whose inner layer was built in the wrapper's scope: TimeDistributed's
        # "layer/kernel" is "time_distributed/kernel".
        obj.scope = _common([_scope(v.full_name, 1) for _, v in obj.variables])
    obj.name = obj.scope.rsplit("/", 1)[-1] if obj.scope else obj.local


def weight_name(obj: Obj, where: str, var: Var) -> str:
    """A variable's name inside its layer, as Keras 2 ``.h5`` files name it: its full name without
    the layer's scope (``kernel``, ``lstm_cell/kernel``, ``forward_lstm/lstm_cell/kernel``), or
    its path of local names when the full name does not start with the scope."""
    if obj.scope and var.full_name.startswith(obj.scope + "/"):
        return var.full_name[len(obj.scope) + 1 :]
    return where


# ---- TF1 name-based checkpoints --------------------------------------------------------------

_TF1_SLOTS = re.compile(
    r"/(Adam(_\d+)?|Momentum|RMSProp(_\d+)?|Adagrad|Ftrl(_\d+)?|ExponentialMovingAverage)$"
)
_TF1_OPTIMIZER = {"beta1_power", "beta2_power"}


def name_based_tree(bundle: Any, prefix_name: str) -> Tree:
    """A checkpoint without an object graph (``tf.compat.v1.train.Saver``, Estimators): tensors
    are keyed by variable name; layers are their name scopes."""
    model = Obj(local="", node=-1, container=True, name=prefix_name)
    tree = Tree(model=model)
    layers: dict[str, Obj] = {}
    for number, (key, entry) in enumerate(bundle.entries.items()):
        var = Var(number, key, key, entry.dtype, tuple(entry.shape), bool(entry.sliced))
        leaf = key.rsplit("/", 1)[-1]
        if _TF1_SLOTS.search(key) or key in _TF1_OPTIMIZER:
            tree.optimizer.append(var)
            tree.optimizer_names[number] = key
        elif key in BOOKKEEPING or leaf == "global_step":
            tree.bookkeeping.append(var)
        elif "/" not in key:
            tree.unclaimed.append(var)
        else:
            scope = key.rsplit("/", 1)[0]
            layer = layers.get(scope)
            if layer is None:
                layer = layers[scope] = Obj(local=scope, node=-1, scope=scope, name=scope)
                model.children.append(layer)
            layer.variables.append((leaf, var))
    return tree


# ---- to the data model -----------------------------------------------------------------------


def weights_of(obj: Obj, trainable: bool = True, class_name: str = "") -> list[WeightInfo]:
    return [
        WeightInfo(
            weight_name(obj, where, var), var.key, var.shape, var.dtype,
            trainable and is_trainable_name(class_name, weight_name(obj, where, var)),
        )
        for where, var in obj.variables
    ]  # fmt: skip


def layer_infos(obj: Obj, trainable: bool = True) -> tuple[LayerInfo, ...]:
    """LayerInfos of a weights-only view: real names where the full names tell them, nesting, and
    classes and trainable flags where a SavedModel's metadata gives them."""
    out = []
    for child in obj.children:
        live = trainable and child.trainable
        cls = child.class_name or ""
        out.append(
            LayerInfo(
                name=child.name,
                class_name=cls or "?",
                trainable=child.trainable,
                weights=tuple(weights_of(child, live, cls)),
                layers=layer_infos(child, live) if child.container else (),
                is_model=child.container,
            )
        )
    return tuple(out)


def optimizer_weights(tree: Tree) -> tuple[WeightInfo, ...]:
    return tuple(
        WeightInfo(tree.optimizer_names.get(v.node, v.key), v.key, v.shape, v.dtype, False)
        for v in tree.optimizer
    )


def optimizer_class(tree: Tree) -> str | None:
    """The optimizer's name as its variables carry it (``Adam/m/dense/kernel``, ``Adam/iter``)."""
    heads = [n.split("/", 1)[0] for n in tree.optimizer_names.values() if "/" in n]
    return Counter(heads).most_common(1)[0][0] if heads else None


def step_and_rate(tree: Tree, bundle: Any) -> tuple[int | None, float | None]:
    """The optimizer's iteration count and learning rate, when stored as plain variables."""
    step = rate = None
    for var in (*tree.optimizer, *tree.optimizer_hidden):
        leaf = tree.optimizer_names.get(var.node, var.key).rsplit("/", 1)[-1]
        key_leaf = var.key.replace("/.ATTRIBUTES/VARIABLE_VALUE", "").rsplit("/", 1)[-1].lstrip("_")
        if step is None and (
            leaf in ("iter", "iteration", "iterations") or key_leaf in ("iter", "iterations")
        ):
            value = read_scalar(bundle, var)
            step = int(value) if isinstance(value, (int, float)) else None
        elif rate is None and (leaf in ("learning_rate", "lr") or key_leaf in ("learning_rate", "lr")):
            value = read_scalar(bundle, var)
            rate = float(value) if isinstance(value, (int, float)) else None
    return step, rate


def bookkeeping_note(tree: Tree, bundle: Any) -> str | None:
    if not tree.bookkeeping:
        return None
    parts = []
    for var in tree.bookkeeping:
        value = read_scalar(bundle, var)
        label = var.key.replace("/.ATTRIBUTES/VARIABLE_VALUE", "")
        parts.append(f"{label} = {value:g}" if isinstance(value, (int, float)) else label)
    return (
        "bookkeeping variables, not counted as parameters: "
        + ", ".join(parts[:8])
        + (f" and {len(parts) - 8} more" if len(parts) > 8 else "")
    )


# ---- pairing with an architecture ------------------------------------------------------------


def assign(spec: ModelSpec, tree: Tree) -> Assignment:
    """Match the checkpoint's layers to ``spec``'s as tf.keras restores them: ``layer-N`` is the
    N-th of ``model.layers`` (functional.py ``_layer_checkpoint_dependencies``); where the graph
    has no such index (Keras 3, subclassed models), layers are matched by their recovered names."""
    out = Assignment()
    _assign(spec, tree.model, (), True, out)
    claimed = {w.path for ws in out.by_layer.values() for w in ws}
    for var in (*tree.model.all_variables(), *tree.unclaimed):
        if var.key not in claimed:
            out.unmatched.append(WeightInfo(var.key, var.key, var.shape, var.dtype, True))
    return out


def _assign(spec: ModelSpec, obj: Obj, address: tuple[str, ...], trainable: bool, out: Assignment) -> None:
    layers = saved_layers(spec)
    by_index = {c.index: c for c in obj.children if c.index is not None}
    by_name = {c.name: c for c in obj.children}
    for i, layer in enumerate(layers):
        found = by_index.get(i) if by_index else by_name.get(layer.name)
        if found is None:
            continue
        here = (*address, layer.name)
        live = trainable and layer.trainable
        if layer.model is not None and found.container:
            _assign(layer.model, found, here, live, out)
            if found.variables:
                out.by_layer.setdefault(here, []).extend(weights_of(found, live, layer.class_name))
        elif layer.model is None and not found.container:
            out.by_layer.setdefault(here, []).extend(weights_of(found, live, layer.class_name))


# ---- where a checkpoint is -------------------------------------------------------------------


def file_size(bundle: Any, index: str) -> int:
    """Bytes of the index and every data shard."""
    total = 0
    for where in (index, *(bundle.shard_path(s) for s in range(bundle.num_shards))):
        with contextlib.suppress(OSError):
            total += os.path.getsize(where)
    return total


def reason(exc: BaseException) -> str:
    """The first line of an exception's message, bounded."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


_LAST_BUNDLE: list[Any] = []  # [identity of its files, bundle]: the load's, for the weight reader


def _files_identity(prefix: str, num_shards: int) -> tuple[Any, ...] | None:
    """What changes when a bundle's files do: the index file's identity and every shard's size."""
    try:
        st = os.stat(prefix + ".index")
        names = (f"{prefix}.data-{i:05d}-of-{num_shards:05d}" for i in range(num_shards))
        shards = tuple(os.path.getsize(name) for name in names)
    except OSError:
        return None
    return (prefix, st.st_ino, st.st_size, st.st_mtime_ns, shards)


def open_bundle(path: str, prefix: str) -> Any:
    """The tensor bundle at ``prefix``; its problems as a one-line InputError naming ``path``.

    The last bundle read is kept while its files are unchanged: the weight reader asks for the
    bundle the load has just read, and parsing the index again sat on its critical path."""
    from kinspect.tfio.bundle import read_bundle

    if _LAST_BUNDLE:
        identity, last = _LAST_BUNDLE
        if last.prefix == prefix and _files_identity(prefix, last.num_shards) == identity:
            return last
    try:
        bundle = read_bundle(prefix)
    except (ValueError, OSError, EOFError) as exc:  # kinspect.tfio.TFIOError is a ValueError
        raise InputError(path, f"corrupt or unsupported TensorFlow checkpoint ({reason(exc)})") from None
    identity = _files_identity(prefix, bundle.num_shards)
    _LAST_BUNDLE[:] = [identity, bundle] if identity is not None else []
    return bundle


# ---- the ModelInfo ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    """What a SavedModel's Keras metadata says of one object: its name, class and trainable flag."""

    name: str | None
    class_name: str | None
    trainable: bool = True


def apply_labels(tree: Tree, labels: Mapping[str, Label]) -> None:
    """Names and classes from ``labels`` keyed by dotted object path (``root.layer_with_weights-0``)."""

    def visit(obj: Obj) -> None:
        label = labels.get(".".join(("root", *obj.path)))
        if label is not None:
            obj.name = label.name or obj.name
            obj.class_name = label.class_name or obj.class_name
            obj.trainable = label.trainable
        for child in obj.children:
            visit(child)

    visit(tree.model)


def group_by_scope(tree: Tree) -> None:
    """When no object of the graph explains the variables (an exported module that tracks only lists
    of variables, a plain ``tf.Module``), group them by the name scope of their full names, as TF1
    checkpoints are; variables without a scope make one group named as the model. The same variable
    tracked twice as two objects (Keras 3 ``export()``: ``variables`` and ``_all_variables``) is
    stored twice: counted once."""
    model = tree.model
    loose = list(model.variables) + [(_key_path(v.key), v) for v in tree.unclaimed]
    if model.children or not loose:
        return
    layers: dict[str, Obj] = {}
    seen: set[tuple[str, tuple[int, ...], str]] = set()
    twice = []
    for where, var in loose:
        ident = (var.full_name, var.shape, var.dtype)
        if var.full_name and ident in seen:
            twice.append(var.key)
            continue
        seen.add(ident)
        scope = var.full_name.rpartition("/")[0]
        layer = layers.get(scope)
        if layer is None:
            layer = layers[scope] = Obj(local=scope or model.name, node=-1, scope=scope or None,
                                        name=scope.rsplit("/", 1)[-1] if scope else model.name)  # fmt: skip
            model.children.append(layer)
        # Unscoped names say little ("Variable"): their local names say which variable it is.
        leaf = var.full_name.rsplit("/", 1)[-1] if scope else where
        layer.variables.append((leaf, var))
    model.variables, tree.unclaimed = [], []
    model.container = True
    name = model.name
    _name(model)
    model.name = model.name if model.scope else name
    tree.notes.append(
        "no layer objects in the object graph: variables grouped by the name scopes of their names"
    )
    if twice:
        tree.notes.append(f"{len(twice)} variable(s) stored a second time under another key, counted once "
                          f"({twice[0]})")  # fmt: skip


def _key_path(key: str) -> str:
    return key.removesuffix("/.ATTRIBUTES/VARIABLE_VALUE")


def read_tree(path: str, bundle: Any, name: str, labels: Mapping[str, Label] | None = None) -> Tree:
    """The checkpoint's object graph split into model, optimizer and bookkeeping."""
    try:
        nodes = object_graph(path, bundle)
        if nodes is None:
            tree = name_based_tree(bundle, name)
            tree.notes.append(
                "no object graph (a name-based TF1 checkpoint): layers are the name scopes of the variables"
            )
            return tree
        tree = build_tree(nodes, bundle, name)
    except InputError as exc:
        if exc.path:
            raise
        raise InputError(path, exc.problem) from None
    except (ValueError, OSError, EOFError) as exc:  # kinspect.tfio.TFIOError is a ValueError
        raise InputError(path, f"corrupt or unsupported TensorFlow checkpoint ({reason(exc)})") from None
    if labels:
        apply_labels(tree, labels)
    group_by_scope(tree)
    return tree


def checkpoint_notes(tree: Tree, bundle: Any) -> list[str]:
    """What the checkpoint holds besides the model, said plainly."""
    notes = list(tree.notes)
    if tree.path:
        notes.append(f"the model is the checkpoint's {'/'.join(tree.path)!r} object")
    if tree.optimizer:
        step, rate = step_and_rate(tree, bundle)
        cls = optimizer_class(tree)
        parts = [f"optimizer state: {len(tree.optimizer)} variable(s)" + (f" of {cls}" if cls else "")]
        if step is not None:
            parts.append(f"step {step:,}")
        if rate is not None:
            parts.append(f"learning rate {rate:g}")
        notes.append(", ".join(parts))
    if note := bookkeeping_note(tree, bundle):
        notes.append(note)
    if tree.other_state:
        notes.append(f"{len(tree.other_state)} saved value(s) that are not variables (lookup tables, "
                     f"configs), not counted: {tree.other_state[0]}")  # fmt: skip
    sliced = [v.key for v in tree.model.all_variables() if v.sliced]
    if sliced:
        notes.append(f"{len(sliced)} partitioned variable(s), stored in slices: shown whole, values read "
                     f"from their slices ({sliced[0]})")  # fmt: skip
    return notes


def compile_of(tree: Tree, bundle: Any) -> CompileInfo | None:
    """The optimizer as its stored state reveals it (name and learning rate), or None."""
    if not tree.optimizer:
        return None
    _, rate = step_and_rate(tree, bundle)
    return CompileInfo(optimizer=optimizer_class(tree), learning_rate=rate)


def checkpoint_model(
    path: str,
    fmt: Format,
    bundle: Any,
    tree: Tree,
    size: int,
    arch: Arch | None,
    notes: Sequence[str] = (),
    **meta: Any,
) -> ModelInfo:
    """A ModelInfo of a TensorFlow checkpoint: paired with ``arch``, or as the weights reveal it."""
    notes = [*notes, *checkpoint_notes(tree, bundle)]
    optimizer = optimizer_weights(tree)
    compile_info = meta.pop("compile", None) or compile_of(tree, bundle)
    if arch is not None:
        spec, keras2, arch_meta = arch
        return build_model(path, fmt, spec, keras2, assign(spec, tree), file_size=size,
                           optimizer_weights=optimizer, compile=compile_info, notes=notes,
                           **{**arch_meta, **meta})  # fmt: skip
    unnamed = [
        c.local for c in _walk_objs(tree.model) if c.container and c is not tree.model and c.name == c.local
    ]
    weightless = sum(c.weightless for c in _walk_objs(tree.model))
    lead = [
        "weights only: no architecture in the file, so output shapes and connections are unknown;"
        " pair it with --arch MODEL for a full summary",
    ]
    if not any(c.class_name for c in _walk_objs(tree.model)):
        lead.append("layer names come from the variables' names; a checkpoint does not store layer classes")
    if unnamed:
        lead.append(f"nested model(s) shown by their checkpoint names ({', '.join(unnamed[:3])}): the "
                    "checkpoint does not store their names")  # fmt: skip
    if weightless:
        lead.append(
            f"{weightless} layer(s) without weights are not listed (a checkpoint stores no trace of them)"
        )
    unmatched = [WeightInfo(v.key, v.key, v.shape, v.dtype, True) for v in tree.unclaimed]
    unmatched += [WeightInfo(weight_name(tree.model, w, v), v.key, v.shape, v.dtype, True)
                  for w, v in tree.model.variables]  # fmt: skip
    return ModelInfo(
        path=path,
        format=fmt,
        name=tree.model.name,
        class_name=tree.model.class_name or "?",
        layers=layer_infos(tree.model),
        has_architecture=False,
        file_size=size,
        optimizer_weights=optimizer,
        unmatched_weights=tuple(unmatched),
        compile=compile_info,
        notes=(*lead, *notes),
        **meta,
    )


def _walk_objs(obj: Obj) -> Iterator[Obj]:
    yield obj
    for child in obj.children:
        yield from _walk_objs(child)
