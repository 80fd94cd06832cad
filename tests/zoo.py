"""Models built with Keras 3: the fixtures every parity test compares kinspect against.

Each builder returns a live model. ``tests/build_zoo.py`` saves it in every format
and records what Keras itself reports, which is the oracle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import layers

BUILDERS: dict[str, Callable[[], Any]] = {}
APPLICATIONS: set[str] = set()


def model(fn: Callable[[], Any]) -> Callable[[], Any]:
    BUILDERS[fn.__name__] = fn
    return fn


@keras.saving.register_keras_serializable(package="zoo")
class ScaledDense(layers.Layer):
    """A registered custom layer: kinspect knows nothing of it but its stored weights."""

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape: Any) -> None:
        self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale", trainable=False)

    def call(self, x: Any) -> Any:
        return keras.ops.matmul(x, self.w) * self.scale

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


@model
def sequential_mlp() -> Any:
    return keras.Sequential(
        [keras.Input((20,)), layers.Dense(64, activation="relu"), layers.Dropout(0.1), layers.Dense(10)],
        name="mlp",
    )


@model
def mnist_cnn() -> Any:
    inp = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(32, 3, activation="relu")(inp)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, padding="same", strides=2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    out = layers.Dense(10, activation="softmax", name="cls")(x)
    return keras.Model(inp, out, name="mnist_cnn")


@model
def branches() -> Any:
    inp = keras.Input((32, 32, 3))
    a = layers.Conv2D(8, 3, padding="same")(inp)
    b = layers.SeparableConv2D(8, 5, padding="same")(inp)
    c = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(inp)
    x = layers.Concatenate()([a, b, c])
    y = layers.Conv2D(22, 1)(x)
    x = layers.Add()([x, y])
    x = layers.UpSampling2D()(x)
    x = layers.ZeroPadding2D(1)(x)
    x = layers.Cropping2D(2)(x)
    x = layers.Conv2DTranspose(4, 3, strides=2)(x)
    x = layers.Flatten()(x)
    return keras.Model(inp, layers.Dense(3)(x), name="branches")


@model
def nested() -> Any:
    inner_in = keras.Input((16,))
    inner = keras.Model(inner_in, layers.Dense(8, name="inner_dense")(inner_in), name="encoder")
    frozen = keras.Sequential(
        [keras.Input((8,)), layers.Dense(8), layers.BatchNormalization()], name="frozen_head"
    )
    frozen.trainable = False
    inp = keras.Input((16,))
    x = inner(inp)
    x = frozen(x)
    return keras.Model(inp, layers.Dense(2)(x), name="nested")


@model
def shared() -> Any:
    left, right = keras.Input((10,), name="left"), keras.Input((10,), name="right")
    embed = layers.Dense(16, activation="relu", name="shared_embed")
    diff = layers.Subtract()([embed(left), embed(right)])
    return keras.Model([left, right], layers.Dense(1, activation="sigmoid")(diff), name="siamese")


@model
def multi_io() -> Any:
    text = keras.Input((None,), dtype="int32", name="text")
    meta = keras.Input((5,), name="meta")
    x = layers.Embedding(1000, 16)(text)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Concatenate()([x, meta])
    x = layers.Dense(32, activation="relu")(x)
    priority = layers.Dense(1, name="priority")(x)
    dept = layers.Dense(4, activation="softmax", name="dept")(x)
    return keras.Model({"text": text, "meta": meta}, {"priority": priority, "dept": dept}, name="multi_io")


@model
def frozen_layers() -> Any:
    inp = keras.Input((12,))
    x = layers.Dense(32, trainable=False)(inp)
    x = layers.LayerNormalization()(x)
    x = layers.Dense(32)(x)
    x = layers.BatchNormalization(trainable=False)(x)
    return keras.Model(inp, layers.Dense(1)(x), name="frozen_layers")


@model
def custom_layer() -> Any:
    inp = keras.Input((6,))
    x = ScaledDense(4, name="scaled")(inp)
    return keras.Model(inp, ScaledDense(3, name="scaled_out")(layers.Activation("tanh")(x)), name="custom")


@model
def lambda_layer() -> Any:
    inp = keras.Input((8,))
    x = layers.Dense(4)(inp)
    x = layers.Lambda(lambda t: t * 2.0, name="double")(x)
    return keras.Model(inp, layers.Dense(2)(x), name="with_lambda")


@model
def rnn_stack() -> Any:
    inp = keras.Input((20,), dtype="int32")
    x = layers.Embedding(500, 24, mask_zero=True)(inp)
    x = layers.Bidirectional(layers.LSTM(16, return_sequences=True))(x)
    x = layers.GRU(12, return_sequences=True)(x)
    x = layers.TimeDistributed(layers.Dense(6))(x)
    x = layers.SimpleRNN(5)(x)
    return keras.Model(inp, x, name="rnn_stack")


@model
def rnn_states() -> Any:
    inp = keras.Input((7, 3))
    seq, h, c = layers.LSTM(4, return_sequences=True, return_state=True)(inp)
    x = layers.GRU(4)(seq, initial_state=h)
    return keras.Model(inp, [x, c], name="rnn_states")


@model
def attention() -> Any:
    inp = keras.Input((10, 32))
    att = layers.MultiHeadAttention(num_heads=4, key_dim=8)(inp, inp)
    x = layers.LayerNormalization()(layers.Add()([inp, att]))
    q = layers.Dense(32)(x)
    x = layers.Attention()([q, x])
    x = layers.GlobalMaxPooling1D()(x)
    return keras.Model(inp, layers.Dense(2)(x), name="attention")


@model
def mixed_precision() -> Any:
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        inp = keras.Input((16,))
        x = layers.Dense(32, activation="relu")(inp)
        x = layers.BatchNormalization()(x)
        out = layers.Dense(2, dtype="float32")(x)
        return keras.Model(inp, out, name="mixed")
    finally:
        keras.mixed_precision.set_global_policy("float32")


@model
def ops_graph() -> Any:
    inp = keras.Input((4, 6))
    x = layers.Dense(6)(inp)
    y = x + 1.0
    y = keras.ops.mean(y, axis=1)
    z = keras.ops.concatenate([y, keras.ops.max(x, axis=1)], axis=-1)
    return keras.Model(inp, layers.Dense(3)(z), name="ops_graph")


@model
def compiled_trained() -> Any:
    import numpy as np

    m = keras.Sequential(
        [keras.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(1)], name="trained"
    )
    m.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", metrics=["mae"])
    rng = np.random.default_rng(0)
    m.fit(rng.normal(size=(64, 4)), rng.normal(size=(64, 1)), epochs=2, verbose=0)
    return m


@model
def conv1d_3d() -> Any:
    a = keras.Input((50, 4))
    x = layers.Conv1D(8, 5, padding="causal", dilation_rate=2)(a)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Conv1DTranspose(4, 3, strides=2)(x)
    x = layers.GlobalAveragePooling1D()(x)
    b = keras.Input((8, 8, 8, 2))
    y = layers.Conv3D(4, 3)(b)
    y = layers.AveragePooling3D(2)(y)
    y = layers.Flatten()(y)
    x = layers.Concatenate()([x, y])
    return keras.Model([a, b], layers.Dense(2)(x), name="conv1d_3d")


def _app(name: str, **kwargs: Any) -> Callable[[], Any]:
    def build() -> Any:
        return getattr(keras.applications, name)(weights=None, **kwargs)

    build.__name__ = name
    APPLICATIONS.add(name)
    return model(build)


for _name in ("MobileNetV2", "ResNet50", "DenseNet121", "EfficientNetB0", "NASNetMobile", "InceptionV3",
              "ConvNeXtTiny"):  # fmt: skip
    _app(_name)
