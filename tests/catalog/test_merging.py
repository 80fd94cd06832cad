"""Merge layers against Keras 3 and tf_keras (see oracle.py)."""

from __future__ import annotations

import json

import pytest

from kinspect.catalog import Call, ShapeUnknown, infer
from tests.catalog.oracle import check, check_keras2

ELEMWISE = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]

# Input lists for the elementwise merges (Subtract only takes the two-input ones).
ELEMWISE_INPUTS = [
    [(None, 4), (None, 4)],
    [(2, 3, 5), (2, 3, 5)],
    [(None, 1), (None, 5)],
    [(None, 3, 1), (None, 5)],
    [(None, 4), (None, 3, 4)],
    [(None, None), (None, 5)],
    [(None, None, 4), (None, 3, 1)],
    [(2, 3), (None, 3)],
    [(None, 8, 8, 3), (None, 8, 8, 3), (None, 1, 1, 3)],
    [(None, 6), (None, 6), (None, 6), (None, 1)],
]

# Cases where Keras 2 (TensorFlow) and Keras 3 agree even with unknown dims.
KERAS2_ELEMWISE_INPUTS = [
    [(None, 4), (None, 4)],
    [(None, 1), (None, 5)],
    [(None, 3, 1), (None, 5)],
    [(None, 4), (None, 3, 4)],
    [(2, 3), (None, 3)],
    [(None, 8, 8, 3), (None, 8, 8, 3), (None, 1, 1, 3)],
]


def _cases(names: list[str], inputs: list[list[tuple]]) -> list[tuple[str, list[tuple]]]:
    return [(n, s) for n in names for s in inputs if n != "Subtract" or len(s) == 2]


@pytest.mark.parametrize("name,shapes", _cases(ELEMWISE, ELEMWISE_INPUTS))
def test_elementwise(name: str, shapes: list[tuple]) -> None:
    import keras

    check(getattr(keras.layers, name)(), shapes)


@pytest.mark.parametrize("name,shapes", _cases(ELEMWISE, KERAS2_ELEMWISE_INPUTS))
def test_elementwise_keras2(name: str, shapes: list[tuple]) -> None:
    import tf_keras

    check_keras2(getattr(tf_keras.layers, name)(), shapes)


@pytest.mark.parametrize(
    "axis,shapes",
    [
        (-1, [(None, 4), (None, 6)]),
        (1, [(None, 4), (None, 6), (None, 1)]),
        (1, [(None, 3, 4), (None, 5, 4)]),
        (-2, [(None, 3, 4), (None, 5, 4)]),
        (2, [(2, 3, 4), (2, 3, 1)]),
        (1, [(None, 4, 3), (None, None, 3)]),
        (-1, [(None, None, 3), (None, 5, 2)]),
        (0, [(None, 4, 3), (2, 4, 3)]),
        (3, [(None, 8, 8, 16), (None, 8, 8, 32)]),
        (1, [(None, 16, 8, 8), (None, 32, 8, 8)]),
    ],
)
def test_concatenate(axis: int, shapes: list[tuple]) -> None:
    import keras

    check(keras.layers.Concatenate(axis=axis), shapes)


@pytest.mark.parametrize(
    "axis,shapes",
    [
        (-1, [(None, 4), (None, 6)]),
        (1, [(None, 3, 4), (None, 5, 4)]),
        (-2, [(None, 3, 4), (None, None, 4)]),
        (3, [(None, 8, 8, 16), (None, 8, 8, 32)]),
    ],
)
def test_concatenate_keras2(axis: int, shapes: list[tuple]) -> None:
    import tf_keras

    check_keras2(tf_keras.layers.Concatenate(axis=axis), shapes)


DOT_CASES = [
    (1, [(None, 4), (None, 4)]),
    (-1, [(None, 4), (None, 4)]),
    (-1, [(None, None, 3), (None, 5, 3)]),
    (1, [(None, 4, 3), (None, 4, 5)]),
    ([1, 2], [(None, 4, 3), (None, 5, 4)]),
    ([2, 1], [(None, 7, 3), (None, 3, 6)]),
    ([-1, -2], [(2, 7, 3), (2, 3, 6)]),
    ([1, 1], [(None, 4), (None, 4, 6)]),
    ([2, 1], [(None, 5, 4), (None, 4)]),
    ([2, 3], [(None, 5, 4), (None, 2, 3, 4)]),
]


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("axes,shapes", DOT_CASES)
def test_dot(axes: object, shapes: list[tuple], normalize: bool) -> None:
    import keras

    check(keras.layers.Dot(axes=axes, normalize=normalize), shapes)


@pytest.mark.parametrize("axes,shapes", DOT_CASES[:6])
def test_dot_keras2(axes: object, shapes: list[tuple]) -> None:
    import tf_keras

    check_keras2(tf_keras.layers.Dot(axes=axes), shapes)


def test_mixed_precision_keras2_merges_like_tensorflow() -> None:
    """A Keras 2 'Policy' dict identifies the version, so TensorFlow's merged dims apply."""
    import tf_keras

    check_keras2(tf_keras.layers.Add(dtype="mixed_float16"), [(None, None), (None, 5)])
    check_keras2(tf_keras.layers.Concatenate(dtype="mixed_float16"), [(None, None, 3), (None, 5, 2)])


def test_version_ambiguous_disagreement_is_unknown() -> None:
    """A dtype string is written by Keras 2 and early Keras 3, whose answers differ here."""
    config = json.loads('{"name": "add", "trainable": true, "dtype": "float32"}')
    with pytest.raises(ShapeUnknown):
        infer("Add", config, Call(([(None, None), (None, 5)],)))
    assert infer("Add", config, Call(([(None, 5), (None, 5)],))) == (None, 5)


@pytest.mark.parametrize(
    "name,config,shapes",
    [
        ("Add", {}, (None, 4)),
        ("Subtract", {}, [(None, 4)] * 3),
        ("Multiply", {}, [(None, 4), (None, 5)]),
        ("Concatenate", {"axis": 3}, [(None, 4), (None, 5)]),
        ("Concatenate", {"axis": "1"}, [(None, 4), (None, 5)]),
        ("Concatenate", {"axis": 1}, [(None, 4), (None, 5, 1)]),
        ("Dot", {"axes": "x"}, [(None, 4), (None, 4)]),
        ("Dot", {"axes": [1, 2, 3]}, [(None, 4), (None, 4)]),
        ("Dot", {"axes": 0}, [(None, 4), (None, 4)]),
        ("Dot", {"axes": 1}, [(None, 4), (None, 5)]),
    ],
)
def test_bad_inputs_are_unknown(name: str, config: dict, shapes: object) -> None:
    with pytest.raises(ShapeUnknown):
        infer(name, config, Call((shapes,)))
