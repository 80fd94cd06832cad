"""The object graph of a checkpoint, against TensorFlow's own protobuf parse of the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from kinspect.tfio import TFIOError, read_bundle, read_object_graph, read_strings
from kinspect.tfio.objectgraph import Attribute, Node, SlotRef
from tests.tfio import craft
from tests.tfio.conftest import CHECKPOINTS, oracle, prefix

GRAPHS = [name for name in CHECKPOINTS if not name.endswith("_raw") and name not in ("dtypes", "sliced_v1")]


def graph_bytes(root: Path, name: str) -> bytes:
    b = read_bundle(prefix(root, name))
    [data] = read_strings(b, b.entries["_CHECKPOINTABLE_OBJECT_GRAPH"])
    return data


@pytest.mark.parametrize("name", GRAPHS)
def test_same_as_tensorflow(tf_files: Path, name: str) -> None:
    nodes = read_object_graph(graph_bytes(tf_files, name))
    expected = [
        Node(
            tuple((local, node) for local, node in n["children"]),
            tuple(Attribute(*a) for a in n["attributes"]),
            tuple(SlotRef(*s) for s in n["slots"]),
            n["registered_saver"],
        )
        for n in oracle(tf_files, name)["object_graph"]
    ]
    assert list(nodes) == expected


def test_keras_weights(tf_files: Path) -> None:
    """tf_keras save_weights: layers by position, variables with their Keras names; the optimizer's
    variables are its children (``_variables/N``), the legacy optimizer's slots slot variables."""
    nodes = read_object_graph(graph_bytes(tf_files, "keras_weights"))
    root = dict(nodes[0].children)
    optimizer = dict(nodes[root["optimizer"]].children)
    assert {"_iterations", "_learning_rate", "_variables"} <= set(optimizer)
    nodes = read_object_graph(graph_bytes(tf_files, "keras_weights_legacy"))
    root = dict(nodes[0].children)
    assert {"layer_with_weights-0", "layer_with_weights-1", "layer_with_weights-2", "optimizer"} <= set(root)
    dense = dict(nodes[root["layer_with_weights-0"]].children)
    [kernel] = nodes[dense["kernel"]].attributes
    assert kernel.full_name == "hidden/kernel"
    assert kernel.checkpoint_key == "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"
    slots = nodes[root["optimizer"]].slots
    assert {s.slot_name for s in slots} == {"m", "v"}
    assert any(s.original_node == dense["kernel"] for s in slots)
    keys = set(read_bundle(prefix(tf_files, "keras_weights_legacy")).entries)
    for slot in slots:
        [attribute] = nodes[slot.slot_node].attributes
        assert attribute.checkpoint_key in keys and ".OPTIMIZER_SLOT" in attribute.checkpoint_key


def test_big_graph(tf_files: Path) -> None:
    nodes = read_object_graph(graph_bytes(tf_files, "many_ckpt"))
    assert len(nodes) > 5_000
    [layers] = [node for name, node in nodes[0].children if name == "layers"]
    assert len(nodes[layers].children) == 5_000


def message(*nodes: bytes) -> bytes:
    return b"".join(craft.field(1, n) for n in nodes)


def child(node_id: int, name: bytes) -> bytes:
    return craft.field(1, craft.field(1, node_id) + craft.field(2, name))


def test_dangling_references() -> None:
    assert read_object_graph(message(child(1, b"a"), b"")) == (
        Node((("a", 1),), (), ()),
        Node((), (), ()),
    )
    with pytest.raises(TFIOError, match="child names node 2 of 2"):
        read_object_graph(message(child(2, b"a"), b""))
    with pytest.raises(TFIOError, match="child names node -1 of 1"):
        read_object_graph(message(child(-1, b"a")))
    slot = craft.field(3, craft.field(1, 0) + craft.field(2, b"m") + craft.field(3, 9))
    with pytest.raises(TFIOError, match="slot variable names node 9 of 1"):
        read_object_graph(message(slot))


def test_empty_and_garbage() -> None:
    with pytest.raises(TFIOError, match="no nodes"):
        read_object_graph(b"")
    with pytest.raises(TFIOError):
        read_object_graph(b"\x0a\xff\xff\xff\xff\x0f")
    with pytest.raises(TFIOError, match="invalid UTF-8"):
        read_object_graph(message(child(0, b"\xff")))


def test_node_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    from kinspect.tfio import objectgraph

    monkeypatch.setattr(objectgraph, "MAX_ITEMS", 50)
    with pytest.raises(TFIOError, match="too many fields"):
        read_object_graph(message(*[b""] * 60))
    monkeypatch.setattr(objectgraph, "MAX_NODES", 5)
    with pytest.raises(TFIOError, match="6 nodes"):
        read_object_graph(message(*[b""] * 6))
