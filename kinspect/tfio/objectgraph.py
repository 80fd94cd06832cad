"""The ``_CHECKPOINTABLE_OBJECT_GRAPH`` entry of a checkpoint: a serialized ``TrackableObjectGraph``.

Source: ``tensorflow/core/protobuf/trackable_object_graph.proto``. Node 0 is the root object (the
``tf.train.Checkpoint`` or the Keras model of ``save_weights``); each node lists its children by
local name (``layer_with_weights-0``, ``kernel``, ``optimizer``…), its serialized tensors
(``name`` such as ``VARIABLE_VALUE``, the variable's ``full_name`` such as ``dense/kernel``, and the
``checkpoint_key`` of its bundle entry) and, for an optimizer, its slot variables (which variable
of which node holds slot ``m`` of which other variable).

Caps: at most :data:`MAX_NODES` nodes and :data:`MAX_ITEMS` decoded fields; every node id must
name a node of the graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from kinspect.tfio.errors import TFIOError
from kinspect.tfio.protowire import Buffer, Schema, decode

MAX_NODES = 1_000_000
MAX_ITEMS = 5_000_000

OBJECT_REFERENCE: Schema = {1: ("node_id", "int32", False, None), 2: ("local_name", "string", False, None)}
SERIALIZED_TENSOR: Schema = {
    1: ("name", "string", False, None),
    2: ("full_name", "string", False, None),
    3: ("checkpoint_key", "string", False, None),
}
SLOT_VARIABLE_REFERENCE: Schema = {
    1: ("original_variable_node_id", "int32", False, None),
    2: ("slot_name", "string", False, None),
    3: ("slot_variable_node_id", "int32", False, None),
}
REGISTERED_SAVER: Schema = {1: ("name", "string", False, None), 2: ("object_name", "string", False, None)}
TRACKABLE_OBJECT: Schema = {
    1: ("children", "message", True, OBJECT_REFERENCE),
    2: ("attributes", "message", True, SERIALIZED_TENSOR),
    3: ("slot_variables", "message", True, SLOT_VARIABLE_REFERENCE),
    4: ("registered_saver", "message", False, REGISTERED_SAVER),
    5: ("has_checkpoint_values", "message", False, {1: ("value", "bool", False, None)}),
}
TRACKABLE_OBJECT_GRAPH: Schema = {1: ("nodes", "message", True, TRACKABLE_OBJECT)}


@dataclass(frozen=True)
class Attribute:
    name: str  # "VARIABLE_VALUE" for a variable
    full_name: str  # the variable's name when saved, e.g. "dense/kernel" (may be "")
    checkpoint_key: str  # its bundle key


@dataclass(frozen=True)
class SlotRef:
    original_node: int  # the variable the slot belongs to
    slot_name: str  # "m", "v", "momentum"…
    slot_node: int  # the slot variable


@dataclass(frozen=True)
class Node:
    children: tuple[tuple[str, int], ...]  # (local name, node id)
    attributes: tuple[Attribute, ...]
    slots: tuple[SlotRef, ...]
    registered_saver: str = ""  # the name of a registered saver that saves this object, if any


def read_object_graph(data: Buffer) -> tuple[Node, ...]:
    """The nodes of a serialized ``TrackableObjectGraph``; node 0 is the root."""
    proto = decode(TRACKABLE_OBJECT_GRAPH, data, max_items=MAX_ITEMS)
    raw = proto["nodes"]
    if not raw:
        raise TFIOError("object graph has no nodes")
    if len(raw) > MAX_NODES:
        raise TFIOError(f"object graph of {len(raw)} nodes (more than {MAX_NODES})")
    count = len(raw)

    def node_id(value: int, what: str) -> int:
        if not 0 <= value < count:
            raise TFIOError(f"object graph {what} names node {value} of {count}")
        return value

    nodes = []
    for item in raw:
        children = tuple((c["local_name"], node_id(c["node_id"], "child")) for c in item["children"])
        attributes = tuple(
            Attribute(a["name"], a["full_name"], a["checkpoint_key"]) for a in item["attributes"]
        )
        slots = tuple(
            SlotRef(
                node_id(s["original_variable_node_id"], "slot variable"),
                s["slot_name"],
                node_id(s["slot_variable_node_id"], "slot variable"),
            )
            for s in item["slot_variables"]
        )
        saver = item["registered_saver"]["name"] if item["registered_saver"] else ""
        nodes.append(Node(children, attributes, slots, saver))
    return tuple(nodes)
