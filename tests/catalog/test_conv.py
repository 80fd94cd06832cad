"""Convolution shape rules against Keras 3 and tf_keras (the oracle)."""

from __future__ import annotations

from typing import Any

import pytest

from kinspect.catalog import Call, ShapeUnknown, infer
from tests.catalog.oracle import check, check_keras2, stored_config

CF = "channels_first"
CL = "channels_last"


def _cases() -> list[tuple[str, dict[str, Any], tuple]]:
    cases: list[tuple[str, dict[str, Any], tuple]] = []
    # Conv1D: every padding (causal included) x strides x dilation, both layouts, unknown length.
    for padding in ("valid", "same", "causal"):
        for strides, dilation in ((1, 1), (2, 1), (3, 1), (1, 2), (1, 3)):
            for fmt, shape in ((CL, (2, 11, 3)), (CF, (None, 3, 11)), (CL, (None, None, 4))):
                kw = dict(filters=5, kernel_size=3, strides=strides, dilation_rate=dilation, padding=padding)
                cases.append(("Conv1D", {**kw, "data_format": fmt}, shape))
    # Conv2D / Conv3D.
    for padding in ("valid", "same"):
        for kernel, strides, dilation in (
            (3, 1, 1),
            ((3, 5), (2, 1), 1),
            ((1, 4), (3, 3), 1),
            (3, 1, (2, 3)),
            (2, 2, 1),
        ):
            kw = dict(filters=4, kernel_size=kernel, strides=strides, dilation_rate=dilation, padding=padding)
            cases.append(("Conv2D", {**kw, "data_format": CL}, (None, 17, 12, 3)))
            cases.append(("Conv2D", {**kw, "data_format": CF}, (4, 3, 17, 12)))
            cases.append(("Conv2D", {**kw, "data_format": CL}, (None, None, 12, 3)))
        cases.append(
            (
                "Conv3D",
                dict(filters=2, kernel_size=(3, 2, 1), strides=(2, 1, 3), padding=padding),
                (1, 9, 8, 7, 2),
            )
        )
        cases.append(
            (
                "Conv3D",
                dict(filters=2, kernel_size=3, dilation_rate=2, padding=padding, data_format=CF),
                (None, 2, 9, None, 10),
            )
        )
    cases.append(("Conv2D", dict(filters=6, kernel_size=3, groups=3, use_bias=False), (None, 10, 10, 6)))
    # Transposed convolutions, with and without output_padding.
    for padding in ("valid", "same"):
        for kernel, strides, out_pad, dilation in (
            (3, 1, None, 1),
            (3, 2, None, 1),
            (2, 3, None, 1),
            (4, 2, None, 1),
            (3, 2, 1, 1),
            (3, 3, 2, 1),
            (5, 3, 0, 1),
            (3, 1, None, 2),
            (2, 4, 3, 1),
        ):
            kw = dict(filters=3, kernel_size=kernel, strides=strides, output_padding=out_pad, padding=padding)
            kw["dilation_rate"] = dilation
            cases.append(("Conv1DTranspose", kw, (None, 7, 2)))
            cases.append(("Conv2DTranspose", {**kw, "data_format": CF}, (2, 2, 5, None)))
            cases.append(("Conv3DTranspose", kw, (None, 3, 4, 5, 1)))
    cases.append(
        (
            "Conv2DTranspose",
            dict(filters=3, kernel_size=(3, 4), strides=(2, 3), output_padding=(1, 0)),
            (1, 5, 6, 2),
        )
    )
    # Depthwise and separable convolutions.
    for padding in ("valid", "same"):
        for mult in (1, 3):
            for strides, dilation in ((1, 1), (2, 1), (1, 2)):
                kw = dict(kernel_size=3, strides=strides, dilation_rate=dilation, padding=padding)
                cases.append(("DepthwiseConv1D", {**kw, "depth_multiplier": mult}, (None, 12, 4)))
                cases.append(
                    ("DepthwiseConv2D", {**kw, "depth_multiplier": mult, "data_format": CF}, (2, 4, 9, 13))
                )
                cases.append(
                    ("SeparableConv1D", {**kw, "depth_multiplier": mult, "filters": 7}, (None, None, 4))
                )
                cases.append(
                    ("SeparableConv2D", {**kw, "depth_multiplier": mult, "filters": 7}, (3, 11, 10, 2))
                )
    return cases


CASES = _cases()


@pytest.mark.parametrize(
    ("cls", "kwargs", "shape"), CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)]
)
def test_keras3(cls: str, kwargs: dict[str, Any], shape: tuple) -> None:
    import keras

    check(getattr(keras.layers, cls)(**kwargs), shape)


KERAS2_CASES = [
    ("Conv1D", dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2), (None, 10, 3)),
    ("Conv1D", dict(filters=4, kernel_size=5, strides=2, data_format=CF), (None, 3, 20)),
    ("Conv2D", dict(filters=4, kernel_size=(3, 2), strides=2, padding="same"), (None, 15, None, 3)),
    # Keras 2 Conv accepts extra leading batch dims (squeeze_batch_dims).
    ("Conv2D", dict(filters=4, kernel_size=3), (None, 2, 9, 9, 3)),
    ("Conv2D", dict(filters=4, kernel_size=3, data_format=CF, use_bias=False), (None, 2, 3, 9, 8)),
    ("Conv3D", dict(filters=2, kernel_size=2, strides=(1, 2, 2)), (None, 5, 6, 7, 1)),
    ("Conv1DTranspose", dict(filters=3, kernel_size=3, strides=2, output_padding=1), (None, 6, 2)),
    ("Conv2DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same"), (None, 6, 5, 2)),
    ("Conv2DTranspose", dict(filters=3, kernel_size=4, strides=3, output_padding=(2, 1)), (None, 6, 5, 2)),
    ("Conv3DTranspose", dict(filters=3, kernel_size=2, strides=2, padding="valid"), (None, 3, 4, 5, 2)),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2, strides=2), (None, 9, 8, 3)),
    ("DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=4, padding="same"), (None, 9, 3)),
    ("SeparableConv1D", dict(filters=5, kernel_size=3, padding="causal", dilation_rate=2), (None, 12, 3)),
    ("SeparableConv2D", dict(filters=5, kernel_size=3, depth_multiplier=2), (None, 12, 10, 3)),
]


@pytest.mark.parametrize(("cls", "kwargs", "shape"), KERAS2_CASES, ids=[c for c, _, _ in KERAS2_CASES])
def test_keras2(cls: str, kwargs: dict[str, Any], shape: tuple) -> None:
    import tf_keras

    check_keras2(getattr(tf_keras.layers, cls)(**kwargs), shape)


REJECTED = [
    ("Conv1D", dict(filters=2, kernel_size=5), (None, 4, 3)),
    ("Conv2D", dict(filters=2, kernel_size=3, dilation_rate=3), (None, 6, 20, 3)),
    ("Conv2D", dict(filters=2, kernel_size=3), (None, 20, 3)),
    ("DepthwiseConv2D", dict(kernel_size=3), (None, 20, 20, None)),
]


@pytest.mark.parametrize(("cls", "kwargs", "shape"), REJECTED, ids=[c for c, _, _ in REJECTED])
def test_rejected_like_keras(cls: str, kwargs: dict[str, Any], shape: tuple) -> None:
    """Where Keras refuses the call, the rule says ShapeUnknown rather than guessing."""
    import keras

    layer = getattr(keras.layers, cls)(**kwargs)
    with pytest.raises(Exception):  # noqa: B017 (Keras raises ValueError or TypeError)
        layer(keras.Input(batch_shape=shape))
    with pytest.raises(ShapeUnknown):
        infer(cls, stored_config(layer), Call((shape,)))


@pytest.mark.parametrize(
    "config",
    [
        {"filters": 2, "kernel_size": "3"},
        {"filters": None, "kernel_size": 3},
        {"filters": 2, "kernel_size": 3, "padding": "full"},
        {"filters": 2, "kernel_size": 3, "strides": 0},
        {"filters": 2, "kernel_size": [3, 3]},
        {"filters": 2, "kernel_size": 3, "data_format": "NHWC"},
        {"filters": 2, "kernel_size": 3, "dilation_rate": [True]},
    ],
)
def test_bad_configs(config: dict[str, Any]) -> None:
    with pytest.raises(ShapeUnknown):
        infer("Conv1D", config, Call(((None, 10, 3),)))


def test_causal_only_where_keras_allows_it() -> None:
    config = {"kernel_size": [3], "padding": "causal", "depth_multiplier": 1}
    with pytest.raises(ShapeUnknown):
        infer("DepthwiseConv1D", config, Call(((None, 10, 3),)))
    with pytest.raises(ShapeUnknown):
        infer("Conv2D", {**config, "kernel_size": [3, 3], "filters": 2}, Call(((None, 10, 10, 3),)))


@pytest.mark.parametrize(
    "cls,kwargs,shape",
    [
        ("LocallyConnected1D", dict(filters=4, kernel_size=3), (None, 10, 2)),
        ("LocallyConnected1D", dict(filters=4, kernel_size=2, strides=3, implementation=2), (2, 11, 3)),
        (
            "LocallyConnected1D",
            dict(filters=2, kernel_size=3, padding="same", implementation=3),
            (None, 7, 2),
        ),
        ("LocallyConnected2D", dict(filters=3, kernel_size=(2, 3)), (None, 6, 7, 2)),
        ("LocallyConnected2D", dict(filters=3, kernel_size=2, strides=2, implementation=2), (None, 5, 6, 1)),
        (
            "LocallyConnected2D",
            dict(filters=3, kernel_size=3, data_format="channels_first", implementation=3),
            (None, 2, 6, 5),
        ),
    ],
)
def test_locally_connected_keras2(cls: str, kwargs: dict[str, Any], shape: tuple) -> None:
    """tf.keras 2 only."""
    import tf_keras

    check_keras2(getattr(tf_keras.layers, cls)(**kwargs), shape)


def test_locally_connected_needs_known_dims() -> None:
    config = {"filters": 2, "kernel_size": 3, "padding": "valid"}
    for shape in [(None, None, 3), (None, 5, None), (None, 2, 3)]:
        with pytest.raises(ShapeUnknown):
            infer("LocallyConnected1D", config, Call((shape,), keras_major=2))
