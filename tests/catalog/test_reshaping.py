"""Reshaping-layer shape rules against Keras 3 and tf_keras (the oracle)."""

from __future__ import annotations

from typing import Any

import pytest

from kinspect.catalog import Call, ShapeUnknown, infer
from tests.catalog.oracle import check, check_keras2, stored_config

CF = "channels_first"
CL = "channels_last"

CASES: list[tuple[str, dict[str, Any], tuple]] = [
    # Zero padding: int, pair, per-axis ints and per-axis pairs; both layouts; unknown dims.
    ("ZeroPadding1D", dict(padding=2), (None, 5, 3)),
    ("ZeroPadding1D", dict(padding=(0, 3)), (2, None, 3)),
    ("ZeroPadding1D", dict(padding=(1, 2), data_format=CF), (None, 3, 5)),
    ("ZeroPadding2D", dict(padding=1), (None, 5, 6, 3)),
    ("ZeroPadding2D", dict(padding=(2, 0)), (None, None, 6, 3)),
    ("ZeroPadding2D", dict(padding=((1, 2), (3, 0)), data_format=CF), (4, 3, 5, None)),
    ("ZeroPadding3D", dict(padding=1), (None, 2, 3, 4, 1)),
    ("ZeroPadding3D", dict(padding=(1, 0, 2), data_format=CF), (None, 1, 2, None, 4)),
    ("ZeroPadding3D", dict(padding=((0, 1), (2, 3), (4, 0))), (1, 2, 3, 4, 5)),
    # Cropping.
    ("Cropping1D", dict(cropping=2), (None, 5, 3)),
    ("Cropping1D", dict(cropping=(0, 3)), (None, 9, 3)),
    ("Cropping1D", dict(cropping=(1, 1)), (4, None, 3)),
    ("Cropping2D", dict(cropping=1), (None, 5, 6, 3)),
    ("Cropping2D", dict(cropping=(2, 0)), (None, None, 6, 3)),
    ("Cropping2D", dict(cropping=((1, 2), (3, 0)), data_format=CF), (4, 3, 5, None)),
    ("Cropping3D", dict(cropping=1), (None, 3, 4, 5, 1)),
    ("Cropping3D", dict(cropping=(1, 0, 2), data_format=CF), (None, 1, 3, None, 5)),
    ("Cropping3D", dict(cropping=((0, 1), (2, 3), (1, 0))), (1, 2, 6, 4, 5)),
    # Up sampling.
    ("UpSampling1D", dict(size=3), (None, 5, 2)),
    ("UpSampling1D", dict(), (None, None, 2)),
    ("UpSampling2D", dict(size=(2, 3)), (None, 5, 4, 2)),
    ("UpSampling2D", dict(size=2, data_format=CF, interpolation="bilinear"), (None, 2, None, 4)),
    ("UpSampling3D", dict(size=(1, 2, 3)), (None, 2, 3, 4, 1)),
    ("UpSampling3D", dict(data_format=CF), (2, 1, 2, None, 4)),
    # Flatten.
    ("Flatten", dict(), (None, 4, 5, 6)),
    ("Flatten", dict(data_format=CF), (3, 4, 5)),
    ("Flatten", dict(), (None, 4, None)),
    ("Flatten", dict(), (7,)),
    ("Flatten", dict(), (None, 8)),
    # Reshape, with and without -1, known and unknown dims.
    ("Reshape", dict(target_shape=(6, 4)), (None, 24)),
    ("Reshape", dict(target_shape=(-1, 4)), (None, 3, 8)),
    ("Reshape", dict(target_shape=(2, -1, 3)), (5, 4, 9)),
    ("Reshape", dict(target_shape=(-1,)), (None, 2, 3, 4)),
    ("Reshape", dict(target_shape=(-1, 4)), (None, None, 8)),
    ("Reshape", dict(target_shape=(3, 4)), (None, None)),
    ("Reshape", dict(target_shape=(1, 1, 12)), (None, 12)),
    # Permute and RepeatVector.
    ("Permute", dict(dims=(2, 1)), (None, 3, 4)),
    ("Permute", dict(dims=(3, 1, 2)), (2, 3, None, 5)),
    ("Permute", dict(dims=(1,)), (None, 3)),
    ("RepeatVector", dict(n=3), (None, 4)),
    ("RepeatVector", dict(n=1), (2, None)),
]


@pytest.mark.parametrize(
    ("cls", "kwargs", "shape"), CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)]
)
def test_keras3(cls: str, kwargs: dict[str, Any], shape: tuple) -> None:
    import keras

    check(getattr(keras.layers, cls)(**kwargs), shape)


KERAS2_CASES = [
    ("ZeroPadding1D", dict(padding=(1, 3)), (None, 5, 2)),
    ("ZeroPadding2D", dict(padding=((1, 2), (0, 3)), data_format=CF), (None, 2, 5, 6)),
    ("ZeroPadding3D", dict(padding=2), (None, 2, 3, None, 1)),
    ("Cropping1D", dict(cropping=(2, 1)), (None, 5, 2)),
    ("Cropping2D", dict(cropping=((1, 0), (2, 2))), (None, 5, 6, 2)),
    ("Cropping3D", dict(cropping=1, data_format=CF), (None, 2, 3, 4, 5)),
    ("UpSampling1D", dict(size=4), (None, 5, 2)),
    ("UpSampling2D", dict(size=(3, 2), interpolation="bilinear"), (None, 5, 4, 2)),
    ("UpSampling3D", dict(size=2, data_format=CF), (None, 2, 3, 4, 5)),
    # Keras 2 loses both spatial dims when one is unknown (a mixed-precision policy marks a Keras 2 config).
    ("UpSampling2D", dict(size=2, dtype="mixed_float16"), (None, None, 4, 2)),
    ("UpSampling2D", dict(size=(2, 3), dtype="mixed_float16", data_format=CF), (None, 2, 5, None)),
    ("UpSampling2D", dict(size=2), (None, 3, 4, 2)),
    # Keras 2 Cropping3D clamps an over-cropped dim to 0 instead of refusing.
    ("Cropping3D", dict(cropping=((0, 3), (1, 1), (0, 0)), dtype="mixed_float16"), (None, 2, 3, 4, 1)),
    ("Flatten", dict(), (None, 3, 4)),
    ("Flatten", dict(), (None, None, 4)),
    ("Reshape", dict(target_shape=(-1, 2)), (None, 3, 4)),
    ("Reshape", dict(target_shape=(2, -1)), (None, None, 4)),
    ("Permute", dict(dims=(3, 2, 1)), (None, 2, 3, 4)),
    ("RepeatVector", dict(n=5), (None, 3)),
]


@pytest.mark.parametrize(("cls", "kwargs", "shape"), KERAS2_CASES, ids=[c for c, _, _ in KERAS2_CASES])
def test_keras2(cls: str, kwargs: dict[str, Any], shape: tuple) -> None:
    import tf_keras

    check_keras2(getattr(tf_keras.layers, cls)(**kwargs), shape)


REJECTED = [
    ("Cropping1D", dict(cropping=(2, 3)), (None, 5, 3)),
    ("Cropping2D", dict(cropping=3), (None, 6, 9, 3)),
    ("Cropping3D", dict(cropping=(0, 2, 0)), (None, 3, 4, 5, 1)),
    ("Reshape", dict(target_shape=(5, -1)), (None, 12)),
    ("Reshape", dict(target_shape=(5, 2)), (None, 12)),
    ("Permute", dict(dims=(2, 1)), (None, 3, 4, 5)),
    ("RepeatVector", dict(n=2), (None, 3, 4)),
    ("UpSampling2D", dict(), (None, 3, 4)),
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
    ("cls", "kwargs", "shape"),
    [
        ("UpSampling2D", dict(size=2), (None, None, 4, 2)),
        ("Cropping3D", dict(cropping=((0, 3), (1, 1), (0, 0))), (None, 2, 3, 4, 1)),
    ],
)
def test_version_dependent(cls: str, kwargs: dict[str, Any], shape: tuple) -> None:
    """Keras 2 and 3 disagree here; a config that does not tell its version gets no answer."""
    import tf_keras

    config = tf_keras.layers.serialize(getattr(tf_keras.layers, cls)(**kwargs))["config"]
    assert isinstance(config["dtype"], str)
    with pytest.raises(ShapeUnknown):
        infer(cls, config, Call((shape,)))


@pytest.mark.parametrize(
    ("cls", "config", "shape"),
    [
        ("Reshape", {"target_shape": [-1, -1]}, (None, 4)),
        ("Reshape", {"target_shape": [2, -2]}, (None, 4)),
        ("Reshape", {"target_shape": "4"}, (None, 4)),
        ("Permute", {"dims": [1, 3]}, (None, 4, 5)),
        ("RepeatVector", {"n": 0}, (None, 4)),
        ("ZeroPadding2D", {"padding": [1, 2, 3]}, (None, 4, 4, 1)),
        ("Cropping2D", {"cropping": [[1, -1], [0, 0]]}, (None, 4, 4, 1)),
        ("UpSampling2D", {"size": [2, 2], "data_format": "NCHW"}, (None, 4, 4, 1)),
        ("Flatten", {}, ()),
    ],
)
def test_bad_configs(cls: str, config: dict[str, Any], shape: tuple) -> None:
    with pytest.raises(ShapeUnknown):
        infer(cls, config, Call((shape,)))
