"""Builds the models of tests/test_fidelity.py with Keras 3 (``k3``) or tf_keras (``k2``), in a child.

Run as ``python tests/fidelity_build.py OUTDIR k3|k2``. Each model is saved in the formats its
tests read, with ``<name>.oracle.json``: what the live Keras model reports (totals, trainable
split, every layer's parameters and output shape, nested layers included), the oracle the
tests compare kinspect with.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from build_zoo import _size, keras2_layer, keras3_layer, keras3_rows, keras3_summary

DEEP_PAIRS = 1_500  # Dense + Activation pairs: 3,001 layers with the input


def oracle(model: Any, k3: bool) -> dict[str, Any]:
    rows = keras3_rows(model) if k3 else model.layers
    return {
        "name": model.name,
        "total_params": model.count_params(),
        "trainable_params": _size(model.trainable_weights),
        "non_trainable_params": _size(model.non_trainable_weights),
        "layers": [keras3_layer(r) if k3 else keras2_layer(r) for r in rows],
    }


def save(model: Any, out: str, formats: tuple[str, ...], k3: bool, text: bool = False) -> None:
    base = os.path.join(out, model.name)
    for fmt in formats:
        model.save(f"{base}.{fmt}")
    found = oracle(model, k3)
    if text:  # model.summary() at line length 150, as tests/build_zoo.py records it
        found["summary"] = keras3_summary(model)
    with open(f"{base}.oracle.json", "w") as fh:
        json.dump(found, fh)


def custom_objects(keras: Any) -> tuple[Any, Any]:
    """A registered custom layer with a trainable and a non-trainable weight, and a registered
    custom loss function, for Keras 3 or tf_keras (``keras``: the module)."""
    register = keras.utils.register_keras_serializable
    ops = keras.ops if hasattr(keras, "ops") else keras.backend

    @register(package="fid")
    class Scaler(keras.layers.Layer):
        def __init__(self, units: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.units = units

        def build(self, shape: Any) -> None:
            self.w = self.add_weight(shape=(shape[-1], self.units), name="w")
            self.b = self.add_weight(shape=(self.units,), name="b", initializer="zeros")
            self.seen = self.add_weight(
                shape=(self.units,), name="seen", trainable=False, initializer="zeros"
            )

        def call(self, t: Any) -> Any:
            return t @ self.w + self.b + self.seen

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "units": self.units}

    @register(package="fid")
    def scaled_mse(y_true: Any, y_pred: Any) -> Any:
        return ops.mean(ops.square(y_true - y_pred))

    return Scaler, scaled_mse


def build_k3(out: str) -> None:
    import keras

    L = keras.layers

    # Lambdas whose output only the next layer's recorded input shape tells.
    def dense_lambda(n_in: int, fn: Any, name: str) -> Any:
        layers = [keras.Input((n_in,)), L.Dense(5, name="d"), L.Lambda(fn, name="lam")]
        return keras.Sequential(layers, name=name)

    def with_head(inner: Any, name: str) -> Any:
        x = keras.Input((8,), name="x")
        return keras.Model(x, L.Dense(3, name="head")(inner(x)), name=name)

    save(with_head(dense_lambda(8, lambda t: t * 2.0, "inner"), "nested_seq_lambda"), out, ("keras",), True)

    i = keras.Input((8,), name="i")
    inner = keras.Model(i, L.Lambda(lambda t: t + 1.0, name="lam")(L.Dense(5, name="d")(i)), name="inner")
    save(with_head(inner, "nested_functional_lambda"), out, ("keras",), True)

    deepest = dense_lambda(6, lambda t: t - 1.0, "deepest")
    middle = keras.Sequential([keras.Input((8,)), L.Dense(6, name="m"), deepest], name="middle")
    save(with_head(middle, "doubly_nested_lambda"), out, ("keras",), True)

    inner = dense_lambda(8, lambda t: t * 3.0, "inner")
    top = keras.Sequential([keras.Input((8,)), inner, L.Dense(3, name="head")], name="sequential_lambda")
    save(top, out, ("keras",), True)

    # A registered custom layer (a trainable and a non-trainable weight), a frozen copy of it,
    # and a registered custom loss function.
    Scaler, scaled_mse = custom_objects(keras)
    x = keras.Input((12,), name="x")
    alone = keras.Model(x, Scaler(3, name="scaler")(x), name="custom_alone")  # Keras: 39 / 3
    alone.compile(optimizer="sgd", loss=scaled_mse)
    save(alone, out, ("keras", "h5"), True)
    x = keras.Input((12,), name="x")
    frozen = Scaler(3, name="frozen")
    frozen.trainable = False
    h = frozen(Scaler(3, name="scaler")(x))
    save(keras.Model(x, L.Dense(2, name="head")(h), name="custom_mixed"), out, ("keras", "h5"), True)
    x = keras.Input((12,), name="x")
    shared = Scaler(12, name="shared")  # called twice: the summary shows its last call
    save(keras.Model(x, shared(shared(x)), name="custom_shared"), out, ("keras", "h5"), True)

    # A plain model to plant contradicting weights in.
    x = keras.Input((8,), name="x")
    plain = keras.Model(x, L.Dense(2, name="d2")(L.Dense(4, name="d1")(x)), name="plain")
    save(plain, out, ("keras", "h5"), True)

    # Deep: Keras itself needs a raised recursion limit to build and save it.
    sys.setrecursionlimit(100_000)
    x = h = keras.Input((4,), name="x")
    for n in range(DEEP_PAIRS):
        h = L.Activation("relu", name=f"act_{n}")(L.Dense(4, name=f"dense_{n}")(h))
    save(keras.Model(x, h, name="deep_chain"), out, ("keras", "h5"), True, text=True)


def build_k2(out: str) -> None:
    import tf_keras as keras

    L = keras.layers
    lam = L.Lambda(lambda t: t * 2.0, input_shape=(8,), name="lam")
    first = keras.Sequential([lam, L.Dense(4, name="d1"), L.Dense(2, name="d2")], name="k2_lambda_first")
    save(first, out, ("h5",), False)
    x = keras.Input((8,), name="x")
    h = L.Dense(2, name="d2")(L.Dense(4, name="d1")(L.Lambda(lambda t: t * 2.0, name="lam")(x)))
    save(keras.Model(x, h, name="k2_lambda_first_functional"), out, ("h5",), False)

    Scaler, scaled_mse = custom_objects(keras)

    model = keras.Sequential([Scaler(3, input_shape=(12,), name="scaler"), L.Dense(2, name="head")],
                             name="k2_custom")  # fmt: skip
    model.compile(optimizer="sgd", loss=scaled_mse)
    save(model, out, ("h5", "keras"), False)
    # tf.keras names a registered class inside a nested model "fid>Scaler" in the config; its
    # weights are under the Python class's name (``scaler``).
    inner = keras.Sequential([Scaler(3, input_shape=(8,), name="sc"), L.Dense(2, name="dd")], name="inner")
    x = keras.Input((8,), name="x")
    nested = keras.Model(x, Scaler(2, name="outer")(inner(x)), name="k2_nested_custom")
    save(nested, out, ("keras", "h5"), False)

    # The architecture of tests/data/tf213_functional.keras, saved in today's layout.
    x = keras.Input((8,), name="x")
    h = L.Dense(4, name="d1")(x)
    h = L.Dropout(0.1, name="drop")(h)
    h = L.Dense(4, name="d2")(h)
    h = L.BatchNormalization(name="bn")(h)
    inner = keras.Sequential([L.Dense(3, input_shape=(4,), name="i1"), L.Dense(3, name="i2")], name="inner")
    save(keras.Model(x, L.Dense(2, name="d3")(inner(h)), name="tf213_functional"), out, ("keras",), False)


if __name__ == "__main__":
    if len(sys.argv) == 2:  # tests/keras_build.py: both flavours, each in a process of its own
        import subprocess

        for flavour in ("k3", "k2"):
            subprocess.run([sys.executable, __file__, sys.argv[1], flavour], check=True)
    else:
        (build_k3 if sys.argv[2] == "k3" else build_k2)(sys.argv[1])
