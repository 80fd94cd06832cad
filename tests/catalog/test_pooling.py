"""Pooling shape rules against Keras 3 and tf_keras (the oracle)."""

from __future__ import annotations

from typing import Any

import pytest

from kinspect.catalog import Call, ShapeUnknown, infer
from tests.catalog.oracle import check, check_keras2, stored_config

CF = "channels_first"
CL = "channels_last"

SHAPES = {
    1: {CL: [(None, 13, 3), (2, None, 3)], CF: [(None, 3, 13)]},
    2: {CL: [(None, 13, 8, 3), (4, None, 7, 2)], CF: [(None, 3, 13, 8)]},
    3: {CL: [(None, 7, 8, 9, 2)], CF: [(1, 2, 7, None, 9)]},
}


def _window_cases() -> list[tuple[str, dict[str, Any], tuple]]:
    cases = []
    for rank in (1, 2, 3):
        for kind in ("MaxPooling", "AveragePooling"):
            for pool, strides in ((2, None), (3, None), (3, 1), (2, 3), (4, 2)):
                for padding in ("valid", "same"):
                    for fmt, shapes in SHAPES[rank].items():
                        kw = dict(pool_size=pool, strides=strides, padding=padding, data_format=fmt)
                        cases += [(f"{kind}{rank}D", kw, shape) for shape in shapes]
        # Non-square windows.
        pool = tuple(range(1, rank + 1))
        strides = tuple(range(rank, 0, -1))
        cases.append((f"MaxPooling{rank}D", dict(pool_size=pool, strides=strides), SHAPES[rank][CL][0]))
    return cases


def _global_cases() -> list[tuple[str, dict[str, Any], tuple]]:
    cases = []
    for rank in (1, 2, 3):
        for kind in ("GlobalMaxPooling", "GlobalAveragePooling"):
            for keepdims in (False, True):
                for fmt, shapes in SHAPES[rank].items():
                    kw = dict(keepdims=keepdims, data_format=fmt)
                    cases += [(f"{kind}{rank}D", kw, shape) for shape in shapes]
    return cases


def _adaptive_cases() -> list[tuple[str, dict[str, Any], tuple]]:
    cases = []
    for rank in (1, 2, 3):
        for kind in ("AdaptiveMaxPooling", "AdaptiveAveragePooling"):
            for size in (4, tuple(range(2, rank + 2))):
                for fmt, shapes in SHAPES[rank].items():
                    kw = dict(output_size=size, data_format=fmt)
                    cases += [(f"{kind}{rank}D", kw, shape) for shape in shapes]
    return cases


CASES = _window_cases() + _global_cases() + _adaptive_cases()


@pytest.mark.parametrize(
    ("cls", "kwargs", "shape"), CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)]
)
def test_keras3(cls: str, kwargs: dict[str, Any], shape: tuple) -> None:
    import keras

    check(getattr(keras.layers, cls)(**kwargs), shape)


KERAS2_CASES = [
    ("MaxPooling1D", dict(pool_size=3, strides=2), (None, 10, 3)),
    ("MaxPooling1D", dict(pool_size=3, strides=2), (None, None, 3)),
    ("AveragePooling1D", dict(pool_size=2, padding="same", data_format=CF), (None, 3, 11)),
    ("MaxPooling2D", dict(pool_size=(3, 2), padding="same"), (None, 11, None, 3)),
    ("AveragePooling2D", dict(pool_size=2, strides=1, data_format=CF), (None, 3, 11, 7)),
    ("MaxPooling3D", dict(pool_size=2, strides=(1, 2, 3)), (None, 6, 7, 8, 1)),
    ("AveragePooling3D", dict(pool_size=3, padding="same"), (None, 6, 7, 8, 1)),
    ("GlobalMaxPooling1D", dict(keepdims=True, data_format=CF), (None, 3, 11)),
    ("GlobalAveragePooling1D", dict(), (None, None, 3)),
    ("GlobalMaxPooling2D", dict(keepdims=True), (None, 5, 6, 3)),
    ("GlobalAveragePooling2D", dict(data_format=CF), (None, 3, 5, 6)),
    ("GlobalMaxPooling3D", dict(), (2, 4, 5, 6, 3)),
    ("GlobalAveragePooling3D", dict(keepdims=True, data_format=CF), (2, 3, 4, 5, 6)),
]


@pytest.mark.parametrize(("cls", "kwargs", "shape"), KERAS2_CASES, ids=[c for c, _, _ in KERAS2_CASES])
def test_keras2(cls: str, kwargs: dict[str, Any], shape: tuple) -> None:
    import tf_keras

    check_keras2(getattr(tf_keras.layers, cls)(**kwargs), shape)


REJECTED = [
    ("MaxPooling2D", dict(pool_size=4), (None, 3, 8, 2)),
    ("AveragePooling1D", dict(pool_size=2), (None, 8, 8, 2)),
    ("GlobalMaxPooling2D", dict(), (None, 8, 2)),
]


@pytest.mark.parametrize(("cls", "kwargs", "shape"), REJECTED, ids=[c for c, _, _ in REJECTED])
def test_rejected_like_keras(cls: str, kwargs: dict[str, Any], shape: tuple) -> None:
    """Where Keras refuses the call, the rule says ShapeUnknown rather than guessing."""
    import keras

    layer = getattr(keras.layers, cls)(**kwargs)
    with pytest.raises(ValueError):
        layer(keras.Input(batch_shape=shape))
    with pytest.raises(ShapeUnknown):
        infer(cls, stored_config(layer), Call((shape,)))


@pytest.mark.parametrize(
    ("cls", "config"),
    [
        ("MaxPooling2D", {"pool_size": [2, 2], "padding": "causal"}),
        ("MaxPooling2D", {"pool_size": [2, 2], "strides": [0, 1]}),
        ("AveragePooling2D", {"pool_size": "2"}),
        ("GlobalMaxPooling2D", {"keepdims": "yes"}),
        ("AdaptiveMaxPooling2D", {"output_size": [2]}),
        ("AdaptiveMaxPooling2D", {}),
    ],
)
def test_bad_configs(cls: str, config: dict[str, Any]) -> None:
    with pytest.raises(ShapeUnknown):
        infer(cls, config, Call(((None, 8, 8, 3),)))
