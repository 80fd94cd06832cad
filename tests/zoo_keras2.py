"""Models built with tf_keras (Keras 2): the fixtures for Keras 2 style files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tf_keras as keras
from tf_keras import layers

BUILDERS: dict[str, Callable[[], Any]] = {}
APPLICATIONS: set[str] = set()


def model(fn: Callable[[], Any]) -> Callable[[], Any]:
    BUILDERS[fn.__name__] = fn
    return fn


@model
def k2_sequential() -> Any:
    return keras.Sequential(
        [
            layers.Dense(32, activation="relu", input_shape=(10,)),
            layers.BatchNormalization(),
            layers.Dense(3),
        ],
        name="k2_seq",
    )


@model
def k2_cnn() -> Any:
    inp = keras.Input((32, 32, 3))
    x = layers.Conv2D(16, 3, strides=2, padding="same")(inp)
    x = layers.BatchNormalization()(x)
    x = layers.SeparableConv2D(16, 3)(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    return keras.Model(inp, layers.Dense(5)(x), name="k2_cnn")


@model
def k2_nested_shared() -> Any:
    inner_in = keras.Input((8,))
    inner = keras.Model(inner_in, layers.Dense(4, name="inner_dense")(inner_in), name="inner")
    inner.trainable = False
    a, b = keras.Input((8,), name="a"), keras.Input((8,), name="b")
    shared = layers.Dense(8, name="shared")
    x = layers.Concatenate()([inner(shared(a)), inner(shared(b))])
    return keras.Model([a, b], layers.Dense(1)(x), name="k2_nested_shared")


@model
def k2_nested_sequential() -> Any:
    """tf_keras makes a Sequential built with an input shape a graph network, whose own
    (never serialized) first call shifts the node indices other layers refer to."""
    inner = keras.Sequential([layers.Dense(6, input_shape=(4,)), layers.ReLU()], name="inner_seq")
    x = keras.Input((4,))
    y = inner(x)
    z = inner(layers.Dense(4)(y))  # the same Sequential called twice
    return keras.Model(x, layers.Dense(2)(layers.Concatenate()([y, z])), name="k2_nested_sequential")


@model
def k2_rnn() -> Any:
    inp = keras.Input((12,))
    x = layers.Embedding(100, 8)(inp)
    x = layers.Bidirectional(layers.LSTM(6, return_sequences=True))(x)
    x = layers.TimeDistributed(layers.Dense(3))(x)
    x = layers.GRU(5)(x)
    return keras.Model(inp, x, name="k2_rnn")


@model
def k2_attention() -> Any:
    inp = keras.Input((6, 16))
    x = layers.MultiHeadAttention(num_heads=2, key_dim=4)(inp, inp)
    x = layers.LayerNormalization()(x)
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(inp, layers.Dense(2)(x), name="k2_attention")


@model
def k2_tfop() -> Any:
    inp = keras.Input((5,))
    x = layers.Dense(5)(inp)
    x = x * 2.0 + 1.0
    return keras.Model(inp, layers.Dense(1)(x), name="k2_tfop")


def _app(name: str) -> None:
    def build() -> Any:
        return getattr(keras.applications, name)(weights=None)

    build.__name__ = name
    APPLICATIONS.add(name)
    model(build)


for _name in ("MobileNetV2", "ResNet50"):
    _app(_name)
BUILDERS = {(k if k.startswith("k2_") else f"k2_{k}"): v for k, v in BUILDERS.items()}
APPLICATIONS = {f"k2_{n}" for n in APPLICATIONS}
