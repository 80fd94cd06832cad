"""Writes ``tf213_functional.keras``, ``tf213_sequential.keras`` and ``tf213.oracle.json`` (what
tf.keras 2.13 reports for them) with TensorFlow 2.13.1, which the test environment does not have:

    python3.11 -m venv /tmp/tf213 && /tmp/tf213/bin/pip install tensorflow-cpu==2.13.1
    /tmp/tf213/bin/python tests/data/make_tf2_13.py tests/data

tf.keras 2.12-2.13 saved a ``.keras`` archive's weights under ``_layer_checkpoint_dependencies/``
(numbering a second layer of a class with weights ``dense_2``); tf_keras 2.15+ and Keras 3
cannot load these files. tests/test_fidelity.py reads them and checks its crafted copies
of that layout against them.
"""

import json
import os
import sys
from typing import Any

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import tensorflow as tf
from tensorflow import keras

L = keras.layers


def describe(layer: Any) -> dict[str, Any]:
    return {
        "name": layer.name,
        "params": layer.count_params(),
        "trainable_params": int(sum(tf.size(w) for w in layer.trainable_weights)),
        "non_trainable_params": int(sum(tf.size(w) for w in layer.non_trainable_weights)),
        "layers": [describe(c) for c in getattr(layer, "layers", [])],
    }


def main(out: str) -> None:
    x = keras.Input((8,), name="x")
    h = L.Dense(4, name="d1")(x)
    h = L.Dropout(0.1, name="drop")(h)
    h = L.Dense(4, name="d2")(h)
    h = L.BatchNormalization(name="bn")(h)
    inner = keras.Sequential([L.Dense(3, input_shape=(4,), name="i1"), L.Dense(3, name="i2")], name="inner")
    functional = keras.Model(x, L.Dense(2, name="d3")(inner(h)), name="tf213_functional")
    layers = [L.Dense(5, input_shape=(3,), name="s1"), L.Dense(5, name="s2"), L.Activation("relu", name="a")]
    sequential = keras.Sequential([*layers, L.Dense(1, name="s3")], name="tf213_sequential")
    t = keras.Input((7,), name="tok")
    h = L.Bidirectional(L.LSTM(4, return_sequences=True), name="bi_lstm")(L.Embedding(50, 8, name="emb")(t))
    h = L.Bidirectional(L.GRU(3), name="bi_gru")(h)
    i = keras.Input((6,), name="i")
    nested = keras.Model(i, L.Dense(5, name="n2")(L.Dense(5, name="n1")(i)), name="nested")
    h = L.LayerNormalization(name="norm")(nested(h))
    recurrent = keras.Model(t, L.Dense(2, name="r2")(L.Dense(3, name="r1")(h)), name="tf213_recurrent")
    oracle = {}
    for model in (functional, sequential, recurrent):
        model.save(os.path.join(out, model.name + ".keras"))
        oracle[model.name] = {
            "tensorflow": tf.__version__,
            "total_params": model.count_params(),
            "layers": [describe(layer) for layer in model.layers],
        }
    with open(os.path.join(out, "tf213.oracle.json"), "w") as f:
        json.dump(oracle, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
