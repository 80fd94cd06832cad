"""Builds the models of tests/test_check*.py: ``python tests/build_check.py OUTDIR``.

Keras 3 writes ``nested_lambda``, ``wrapped_lambda``, ``lambda_activation``, ``clean``, ``other``;
tf_keras writes ``k2_nested_lambda``, ``k2_functional_lambda``; each in several formats.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def keras3(out: str) -> None:
    import keras

    L = keras.layers
    inner = keras.Sequential(
        [keras.Input((8,)), L.Dense(4, name="d"), L.Lambda(lambda t: t * 2.0, name="deep_lambda")],
        name="inner",
    )
    x = keras.Input((8,), name="x")
    m = keras.Model(x, L.Dense(2, name="head")(inner(x)), name="nested_lambda")
    m.save(f"{out}/nested_lambda.keras")
    m.save(f"{out}/nested_lambda.h5")
    x = keras.Input((3, 8), name="x")
    m = keras.Model(
        x, L.TimeDistributed(L.Lambda(lambda t: t + 1.0, name="inc"), name="td")(x), name="wrapped"
    )
    m.save(f"{out}/wrapped_lambda.keras")
    m.save(f"{out}/wrapped_lambda.h5")
    x = keras.Input((8,), name="x")
    keras.Model(x, L.Dense(2, activation=lambda t: t, name="act")(x)).save(f"{out}/lambda_activation.keras")
    x = keras.Input((8,), name="x")
    clean = keras.Model(x, L.Dense(2, name="out")(L.Dense(4, name="hidden")(x)), name="clean")
    clean.compile(optimizer="adam", loss="mse")
    clean.save(f"{out}/clean.keras")
    clean.save(f"{out}/clean.h5")
    clean.save_weights(f"{out}/clean.weights.h5")
    keras.Sequential([keras.Input((5,)), L.Dense(3, name="d")], name="other").save(f"{out}/other.keras")


def keras2(out: str) -> None:
    import tf_keras as keras

    L = keras.layers
    inner = keras.Sequential([L.Dense(4, input_shape=(8,)), L.Lambda(lambda t: t * 2.0, name="deep_lambda")])
    x = keras.Input((8,))
    m = keras.Model(x, L.Dense(2, name="head")(inner(x)), name="k2_nested_lambda")
    m.save(f"{out}/k2_nested_lambda.h5")
    m.save(f"{out}/k2_nested_lambda.keras")
    m.save_weights(f"{out}/k2_nested_lambda.weights.hdf5")
    # A nested functional model (the nested Sequential above is also reported while its
    # graph is refused by the loader: the rules read the raw config).
    i = keras.Input((8,))
    inner = keras.Model(i, L.Lambda(lambda t: t * 2.0, name="deep_lambda")(L.Dense(4)(i)), name="inner")
    x = keras.Input((8,))
    m = keras.Model(x, L.Dense(2, name="head")(inner(x)), name="k2_functional_lambda")
    m.save(f"{out}/k2_functional_lambda.h5")


if __name__ == "__main__":
    keras3(sys.argv[1])
    keras2(sys.argv[1])
