"""Activation, regularization (dropout/noise) and Masking layers against Keras 3 and tf_keras."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kinspect.catalog import Call, ShapeUnknown, infer
from tests.catalog.oracle import check, check_keras2, stored_config

SHAPES = [(None, 5), (2, None, 3), (None, 4, 4, 3), (None, None, None, 2, 6)]

# Constructors taking the keras.layers module, valid for Keras 3 and tf_keras alike.
LAYERS: dict[str, Callable[[Any], Any]] = {
    "activation": lambda m: m.Activation("tanh"),
    "activation_softmax": lambda m: m.Activation("softmax"),
    "relu": lambda m: m.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5),
    "elu": lambda m: m.ELU(alpha=0.5),
    "leaky_relu": lambda m: m.LeakyReLU(),
    "prelu": lambda m: m.PReLU(),
    "prelu_shared": lambda m: m.PReLU(shared_axes=[1, 2]),
    "softmax": lambda m: m.Softmax(axis=1),
    "dropout": lambda m: m.Dropout(0.3),
    "dropout_noise_shape": lambda m: m.Dropout(0.3, noise_shape=(None, 1, 3)),
    "gaussian_dropout": lambda m: m.GaussianDropout(0.2),
    "gaussian_noise": lambda m: m.GaussianNoise(0.1),
    "alpha_dropout": lambda m: m.AlphaDropout(0.2),
    "activity_regularization": lambda m: m.ActivityRegularization(l1=0.01, l2=0.1),
    "masking": lambda m: m.Masking(mask_value=0.0),
}


def _applies(name: str, shape: tuple) -> bool:
    if name == "prelu":
        return None not in shape[1:]
    if name == "prelu_shared":
        return len(shape) == 4 and None not in shape[3:]
    if name == "softmax":
        return len(shape) >= 2
    if name == "dropout_noise_shape":
        return len(shape) == 3
    return True


@pytest.mark.parametrize("name,shape", [(n, s) for n in LAYERS for s in SHAPES if _applies(n, s)])
def test_same_shape(name: str, shape: tuple) -> None:
    import keras

    check(LAYERS[name](keras.layers), shape)


@pytest.mark.parametrize("name", list(LAYERS))
def test_same_shape_keras2(name: str) -> None:
    import tf_keras

    check_keras2(LAYERS[name](tf_keras.layers), (None, 7, 3))


@pytest.mark.parametrize("shared_axes,shape", [(None, (None, None, 3)), ([1], (None, 4, None))])
def test_prelu_unknown_alpha_shape(shared_axes: Any, shape: tuple) -> None:
    """Keras cannot build alpha with an unknown dim; the rule gives no shape either."""
    import keras

    config = stored_config(keras.layers.PReLU(shared_axes=shared_axes))
    with pytest.raises(ShapeUnknown):
        infer("PReLU", config, Call((shape,)))


@pytest.mark.parametrize("shape", [(None, 5), (2, 4, 6)])
def test_thresholded_relu_keras2(shape: tuple) -> None:
    import tf_keras

    check_keras2(tf_keras.layers.ThresholdedReLU(theta=0.5), shape)


SPATIAL = {
    "SpatialDropout1D": (None, 8, 3),
    "SpatialDropout2D": (None, 6, 5, 3),
    "SpatialDropout3D": (2, 4, 5, 6, 3),
}


@pytest.mark.parametrize("name", list(SPATIAL))
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_spatial_dropout(name: str, data_format: str) -> None:
    import keras

    layer = getattr(keras.layers, name)(0.2, **({} if name.endswith("1D") else {"data_format": data_format}))
    check(layer, SPATIAL[name])


@pytest.mark.parametrize("name", list(SPATIAL))
def test_spatial_dropout_keras2(name: str) -> None:
    import tf_keras

    check_keras2(getattr(tf_keras.layers, name)(0.2), SPATIAL[name])


@pytest.mark.parametrize("name", list(SPATIAL))
def test_spatial_dropout_wrong_rank(name: str) -> None:
    """Keras's InputSpec rejects other ranks; the rule gives no shape for them."""
    import keras

    config = stored_config(getattr(keras.layers, name)(0.2))
    with pytest.raises(ShapeUnknown):
        infer(name, config, Call(((None, 3, 3, 3, 3, 3)[: len(SPATIAL[name]) - 1],)))
