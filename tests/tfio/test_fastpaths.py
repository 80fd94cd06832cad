"""The specialised decoders equal the generic schema decoder: on every file TensorFlow wrote, on
generated messages (hypothesis: TensorFlow's layout and deviations from it), and on mutants.

A fast path may decline (None: the generic decoder then reads the bytes and says what is wrong),
but where it answers, its answer is the generic decoder's, and it never accepts bytes the generic
decoder refuses."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinspect.tfio import TFIOError, objectgraph, read_bundle, read_strings
from kinspect.tfio.objectgraph import fast_nodes, generic_nodes
from tests.tfio import craft
from tests.tfio.conftest import CHECKPOINTS, prefix
from tests.tfio.craft import mutate

GRAPHS = [name for name in CHECKPOINTS if not name.endswith("_raw") and name not in ("dtypes", "sliced_v1")]
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def graph_bytes(root: Path, name: str) -> bytes:
    b = read_bundle(prefix(root, name))
    [data] = read_strings(b, b.entries["_CHECKPOINTABLE_OBJECT_GRAPH"])
    return data


def generic_outcome(data: bytes) -> Any:
    """What the generic decoder makes of ``data``: its nodes, or the TFIOError it raises."""
    try:
        return generic_nodes(data)
    except TFIOError as exc:
        return exc


def same_as_generic(data: bytes) -> list[Any] | None:
    """The fast path's answer, checked against the generic decoder's."""
    fast = fast_nodes(data)
    expected = generic_outcome(data)
    if fast is not None:
        assert not isinstance(expected, TFIOError), f"fast path accepted refused bytes: {expected}"
        assert fast == expected
    return fast


@pytest.mark.parametrize("name", GRAPHS)
def test_tensorflow_graphs(tf_files: Path, name: str) -> None:
    """Every object graph TensorFlow and tf_keras wrote takes the fast path."""
    data = graph_bytes(tf_files, name)
    assert same_as_generic(data) is not None
    # and as a memoryview (what a caller slicing a shard without copying passes)
    assert fast_nodes(memoryview(data)) == generic_nodes(data)


@pytest.mark.parametrize("name", ["keras_weights_legacy", "keras_savedmodel", "many_ckpt"])
def test_mutated_graphs(tf_files: Path, name: str) -> None:
    data = graph_bytes(tf_files, name)
    rng = random.Random(f"fast {name}")
    taken = 0
    for _ in range(10 if name == "many_ckpt" else 300):
        taken += same_as_generic(mutate(rng, data)) is not None
    assert taken  # some mutants keep TensorFlow's layout (a changed name, id or length)


# -- generated graphs --------------------------------------------------------------------------

# Values that stress the decoder: multi-byte and negative varints, names of every length class.
ids = st.one_of(st.integers(0, 300), st.integers(-(2**31), 2**31 - 1), st.integers(0, 2**64 - 1))
texts = st.one_of(st.text(max_size=5), st.text(min_size=120, max_size=200), st.binary(max_size=4))


def text_bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value  # bytes: maybe invalid UTF-8


@st.composite
def fields(draw: Any, spec: list[tuple[int, str]]) -> bytes:
    """A message of the given (number, kind) fields in any order, some absent, some repeated."""
    chosen = draw(st.lists(st.sampled_from(spec), max_size=len(spec) + 2))
    out = b""
    for number, kind in chosen:
        out += craft.field(number, draw(ids) if kind == "int" else text_bytes(draw(texts)))
    return out


CHILD = [(1, "int"), (2, "text")]
ATTRIBUTE = [(1, "text"), (2, "text"), (3, "text")]
SLOT = [(1, "int"), (2, "text"), (3, "int")]
SAVER = [(1, "text"), (2, "text")]


@st.composite
def nodes(draw: Any, deviate: bool) -> bytes:
    parts = []
    for number, spec in ((1, CHILD), (2, ATTRIBUTE), (3, SLOT)):
        parts += [craft.field(number, m) for m in draw(st.lists(fields(spec), max_size=4))]
    if draw(st.booleans()):
        parts.append(craft.field(4, draw(fields(SAVER))))
    if draw(st.booleans()):
        parts.append(craft.field(5, draw(st.sampled_from([b"", b"\x08\x01", b"\x08\x00"]))))
    if deviate:  # what the fast path leaves to the generic decoder
        parts += draw(
            st.lists(
                st.sampled_from(
                    [
                        craft.field(4, craft.field(1, b"again")),  # a second registered_saver: merged
                        craft.field(6, b"unknown"),
                        craft.field(1, 7),  # children as a varint: an unknown field
                        craft.field(5, craft.field(1, 300)),
                        craft.field(1, craft.field(3, b"x")),
                        craft.field(2, craft.field(1, 5)),
                        b"\x0b\x0c",  # an empty group
                    ]
                ),
                max_size=2,
            )
        )
    draw(st.randoms()).shuffle(parts)
    return b"".join(parts)


@given(st.lists(nodes(deviate=False), max_size=6))
@SETTINGS
def test_generated_tensorflow_layout(graph: list[bytes]) -> None:
    data = b"".join(craft.field(1, n) for n in graph)
    fast = same_as_generic(data)
    if not isinstance(generic_outcome(data), TFIOError):
        assert fast is not None  # the layout TensorFlow writes is the fast path's


@given(st.lists(nodes(deviate=True), max_size=6), st.binary(max_size=3), st.integers(0, 400))
@SETTINGS
def test_generated_deviations(graph: list[bytes], junk: bytes, cut: int) -> None:
    data = b"".join(craft.field(1, n) for n in graph)
    same_as_generic(data)
    same_as_generic(data[:cut] + junk + data[cut:])
    same_as_generic(data[:cut])


@given(st.binary(max_size=400))
@settings(max_examples=400, deadline=None)
def test_any_bytes(data: bytes) -> None:
    same_as_generic(data)
    same_as_generic(b"\x0a" + bytes([len(data) & 0x7F]) + data)


def test_read_object_graph_uses_either(monkeypatch: pytest.MonkeyPatch) -> None:
    """read_object_graph gives the same nodes (or refusal) with the fast path switched off."""
    rng = random.Random(3)
    children = [craft.field(1, craft.field(1, i + 1) + craft.field(2, b"layer-%d" % i)) for i in range(20)]
    variable = craft.field(2, craft.field(1, b"VARIABLE_VALUE") + craft.field(3, b"k"))
    base = b"".join(craft.field(1, c) for c in [*children, variable])
    samples = [base] + [mutate(rng, base) for _ in range(200)]
    fast = []
    for data in samples:
        try:
            fast.append(objectgraph.read_object_graph(data))
        except TFIOError as exc:
            fast.append(str(exc))
    monkeypatch.setattr(objectgraph, "fast_nodes", lambda data: None)
    for data, answer in zip(samples, fast, strict=True):
        try:
            assert objectgraph.read_object_graph(data) == answer
        except TFIOError as exc:
            assert str(exc) == answer
    with contextlib.suppress(TFIOError):
        objectgraph.read_object_graph(b"")
