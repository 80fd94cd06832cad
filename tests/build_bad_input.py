"""Builds the small models tests/test_bad_input.py damages: ``python tests/build_bad_input.py OUTDIR``.

``tiny`` (compiled, in every format), ``conv`` and ``wide``, with Keras 3.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras

out = sys.argv[1]
x = keras.Input((8,), name="x")
h = keras.layers.Dense(4, name="d1")(x)
h = keras.layers.BatchNormalization(name="bn")(h)
tiny = keras.Model(x, keras.layers.Dense(2, name="d2")(h), name="tiny")
tiny.compile(optimizer="adam", loss="mse")
tiny.save(f"{out}/tiny.keras")
tiny.save(f"{out}/tiny.h5")
tiny.save_weights(f"{out}/tiny.weights.h5")

x = keras.Input((6, 6, 1))
conv = keras.layers.Conv2D(2, 3)(x)
keras.Model(x, keras.layers.Flatten()(conv), name="conv").save(f"{out}/conv.keras")

wide = keras.Sequential([keras.Input((8,))] + [keras.layers.Dense(n) for n in (4, 3, 2, 1)], name="wide")
wide.save(f"{out}/wide.keras")
