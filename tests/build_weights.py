"""Build the models ``tests/test_weights.py`` diagnoses: clean, trained, and with planted defects.

Run as ``python tests/build_weights.py OUTDIR`` (Keras runs in this child process,
never in the test process). Each defect is planted with ``set_weights`` on a real Keras model.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import keras
import numpy as np
from keras import layers


def cnn(name: str) -> keras.Model:
    inp = keras.Input((16, 16, 3))
    x = layers.Conv2D(16, 3, activation="relu", name="conv")(inp)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Conv2D(32, 3, activation="relu", name="conv_2")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(64, activation="relu", name="hidden")(x)
    return keras.Model(inp, layers.Dense(4, name="out")(x), name=name)


def trained(name: str, epochs: int = 3) -> keras.Model:
    keras.utils.set_random_seed(1)
    model = cnn(name)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(256, 16, 16, 3)), rng.normal(size=(256, 4)), epochs=epochs, batch_size=32,
              verbose=0)  # fmt: skip
    return model


def plant(model: keras.Model, layer: str, index: int, fn: object) -> None:
    target = model.get_layer(layer)
    values = target.get_weights()
    values[index] = fn(values[index].copy())  # type: ignore[operator]
    target.set_weights(values)


def main() -> int:
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    def save(model: keras.Model, name: str, *, h5: bool = False) -> None:
        model.save(os.path.join(out, f"{name}.keras"))
        if h5:
            model.save(os.path.join(out, f"{name}.h5"))
            model.save_weights(os.path.join(out, f"{name}.weights.h5"))

    save(trained("trained"), "trained", h5=True)

    m = trained("nan_inf")
    plant(m, "hidden", 0, lambda k: np.where(np.arange(k.size).reshape(k.shape) % 97 == 0, np.nan, k))
    plant(m, "out", 1, lambda b: np.array([np.inf, 0.0, -np.inf, 1.0], dtype=b.dtype))
    save(m, "nan_inf", h5=True)

    m = trained("dead_units")
    plant(m, "hidden", 0, lambda k: (k.__setitem__((slice(None), [2, 5, 40]), 0.0), k)[1])
    plant(m, "conv_2", 0, lambda k: (k.__setitem__((..., 7), 0.0), k)[1])
    save(m, "dead_units")

    m = trained("bn_variance")
    plant(m, "bn", 3, lambda v: (v.__setitem__(1, -0.5), v.__setitem__(4, 0.0), v)[2])
    save(m, "bn_variance")

    m = trained("bn_never_moved")
    plant(m, "bn", 2, np.zeros_like)
    plant(m, "bn", 3, np.ones_like)
    save(m, "bn_never_moved")

    m = trained("exploding")
    plant(m, "hidden", 0, lambda k: k * 1e6)  # also beyond float16's range
    save(m, "exploding")

    keras.utils.set_random_seed(2)
    save(cnn("untrained"), "untrained", h5=True)

    inp = keras.Input((32,))
    x = layers.Dense(64, dtype="bfloat16", name="bf16")(inp)
    x = layers.Dense(48, dtype="float16", name="f16")(x)
    save(keras.Model(inp, layers.Dense(8, name="f32")(x), name="dtypes"), "dtypes", h5=True)

    q = keras.Sequential(
        [keras.Input((32,)), layers.Dense(64, name="q1"), layers.Dense(8, name="q2")], name="q"
    )
    q.quantize("int8")
    save(q, "int8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
