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
from kinspect.tfio.protowire import Buffer, Schema, decode, read_varint, signed32

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
    """The nodes of a serialized ``TrackableObjectGraph``; node 0 is the root.

    The layout TensorFlow writes is decoded by a specialised loop (:func:`fast_nodes`); anything
    else it meets (unknown or repeated fields, wire types, malformed bytes) makes it give up, and
    the generic schema decoder, which also says what is wrong, reads the graph instead."""
    raw = fast_nodes(data)
    if raw is None:
        raw = generic_nodes(data)
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
    for children, attributes, slots, saver in raw:
        for _, child in children:
            if not 0 <= child < count:
                node_id(child, "child")
        for original, _, slot in slots:
            node_id(original, "slot variable")
            node_id(slot, "slot variable")
        nodes.append(
            Node(
                tuple(children),
                tuple([Attribute(*a) for a in attributes]) if attributes else (),
                tuple([SlotRef(*s) for s in slots]) if slots else (),
                saver,
            )
        )
    return tuple(nodes)


# One node as plain values: children (local name, node id), attributes (name, full name, key),
# slot variables (original node, slot name, slot node) and the registered saver's name.
RawNode = tuple[list[tuple[str, int]], list[tuple[str, str, str]], list[tuple[int, str, int]], str]


def generic_nodes(data: Buffer) -> list[RawNode]:
    """The nodes as the schema decoder reads them (:data:`TRACKABLE_OBJECT_GRAPH`)."""
    proto = decode(TRACKABLE_OBJECT_GRAPH, data, max_items=MAX_ITEMS)
    return [
        (
            [(c["local_name"], c["node_id"]) for c in item["children"]],
            [(a["name"], a["full_name"], a["checkpoint_key"]) for a in item["attributes"]],
            [
                (s["original_variable_node_id"], s["slot_name"], s["slot_variable_node_id"])
                for s in item["slot_variables"]
            ],
            item["registered_saver"]["name"] if item["registered_saver"] else "",
        )
        for item in proto["nodes"]
    ]


class _Unusual(Exception):
    """A layout the fast path leaves to the generic decoder."""


def fast_nodes(data: Buffer) -> list[RawNode] | None:
    """The nodes, decoded by a loop specialised for the fields TensorFlow writes (every
    ``TrackableObject`` field known, one-byte tags, each value inside its message); None, for the
    generic decoder, at anything else. Where it answers it equals :func:`generic_nodes` (tested
    on every fixture and on generated graphs, tests/tfio/test_objectgraph.py)."""
    if not isinstance(data, bytes):
        data = bytes(data)
    end = len(data)
    if end > 2 * MAX_ITEMS:  # every field takes 2 bytes at least: below this the budget holds
        return None
    nodes: list[RawNode] = []
    pos = 0
    try:
        while pos < end:
            if data[pos] != 0x0A:  # TrackableObjectGraph.nodes
                return None
            start, pos = _span(data, pos + 1, end)
            nodes.append(_node(data, start, pos))
    except (_Unusual, TFIOError, UnicodeDecodeError):
        return None
    return nodes


def _span(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """The (start, stop) of the length-delimited value whose length is at ``pos``."""
    if pos >= end:
        raise _Unusual
    length = data[pos]
    if length < 0x80:
        pos += 1
    elif pos + 1 < end and data[pos + 1] < 0x80:  # two bytes: up to 16 KiB
        length = (length & 0x7F) | data[pos + 1] << 7
        pos += 2
    else:
        length, pos = read_varint(data, pos, end)
    if length > end - pos:
        raise _Unusual
    return pos, pos + length


def _int32(data: bytes, pos: int, end: int) -> tuple[int, int]:
    if pos < end and data[pos] < 0x80:
        return data[pos], pos + 1
    if pos + 1 < end and data[pos + 1] < 0x80:  # two bytes: node ids up to 16383
        return (data[pos] & 0x7F) | data[pos + 1] << 7, pos + 2
    raw, pos = read_varint(data, pos, end)
    return signed32(raw), pos


def _node(data: bytes, pos: int, end: int) -> RawNode:
    children: list[tuple[str, int]] = []
    attributes: list[tuple[str, str, str]] = []
    slots: list[tuple[int, str, int]] = []
    saver: str | None = None
    span = _span
    while pos < end:
        tag = data[pos]
        start, pos = span(data, pos + 1, end)
        q = start
        if tag == 0x0A:  # children: ObjectReference {node_id = 1, local_name = 2}
            node, name = 0, ""
            while q < pos:
                inner = data[q]
                if inner == 0x08:
                    node, q = _int32(data, q + 1, pos)
                elif inner == 0x12:
                    a, q = span(data, q + 1, pos)
                    name = data[a:q].decode()
                else:
                    raise _Unusual
            children.append((name, node))
        elif tag == 0x12:  # attributes: SerializedTensor {name, full_name, checkpoint_key}
            texts = ["", "", ""]
            while q < pos:
                inner = data[q]
                if inner not in (0x0A, 0x12, 0x1A):
                    raise _Unusual
                a, q = span(data, q + 1, pos)
                texts[(inner >> 3) - 1] = data[a:q].decode()
            attributes.append((texts[0], texts[1], texts[2]))
        elif tag == 0x1A:  # slot_variables: {original node = 1, slot_name = 2, slot node = 3}
            original, slot_name, slot = 0, "", 0
            while q < pos:
                inner = data[q]
                if inner == 0x08:
                    original, q = _int32(data, q + 1, pos)
                elif inner == 0x18:
                    slot, q = _int32(data, q + 1, pos)
                elif inner == 0x12:
                    a, q = span(data, q + 1, pos)
                    slot_name = data[a:q].decode()
                else:
                    raise _Unusual
            slots.append((original, slot_name, slot))
        elif tag == 0x22 and saver is None:  # registered_saver {name = 1, object_name = 2}, once
            saver = ""
            while q < pos:
                inner = data[q]
                if inner not in (0x0A, 0x12):
                    raise _Unusual
                a, q = span(data, q + 1, pos)
                text = data[a:q].decode()
                if inner == 0x0A:
                    saver = text
        elif tag == 0x2A:  # has_checkpoint_values: BoolValue {value = 1}, a one-byte varint or empty
            if not (q == pos or (pos - q == 2 and data[q] == 0x08 and data[q + 1] < 0x80)):
                raise _Unusual
        else:
            raise _Unusual
    return children, attributes, slots, saver or ""
