"""Build the model pairs ``tests/test_diff.py`` compares, and record their oracles.

Run as ``python tests/build_diff.py OUTDIR`` (Keras 3 and tf_keras run in this child process, never
in the test process). For every file ``NAME`` it writes ``NAME.oracle.npz``: each weight's values as
the live (or reloaded) Keras model holds them (``get_weights()`` order), keyed ``layer path/weight``
(nested models as ``outer/inner``), and ``NAME.oracle.json``: those keys in order, each layer's
effective ``trainable`` flag, and the live model's ``get_config()``.

- ``base``: a functional model with a nested ``backbone`` (Conv2D, BatchNormalization…) and a head,
  trained two epochs; ``run-01``/``run-02``: its ModelCheckpoint files of each epoch (``.keras`` and
  ``.weights.h5``); ``base.weights.h5``, ``base.h5``; ``copy.keras`` (the same bytes) and
  ``resaved.keras`` (loaded and saved again: other bytes, the same weights).
- ``finetuned``: ``base`` with the backbone frozen, trained two more epochs (only the head moves;
  a frozen BatchNormalization keeps its statistics in Keras 3).
- ``edited``: ``finetuned`` with one backbone kernel edited in the file with h5py (``.weights.h5``
  and ``.keras``); ``nan``: NaN and Inf planted in the head; ``retyped``: ``base.weights.h5`` with
  one tensor rewritten as float64.
- ``changed``: the architecture changed: ``hidden`` widened, ``pre_out`` removed, ``inserted``
  added, the dropout renamed.
- ``tfk``: a tf_keras model saved as ``.h5`` and, in the same state, as a TF-format checkpoint
  (``tfk_ckpt/ckpt``); ``tfk_ckpt2/ckpt`` after one more epoch.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import zipfile
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ["KERAS_BACKEND"] = "tensorflow"

import h5py
import keras
import numpy as np
from keras import layers

OUT = sys.argv[1] if len(sys.argv) > 1 else "."
RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 16, 16, 3)).astype("float32")
Y = RNG.normal(size=(64, 4)).astype("float32")


def path(*parts: str) -> str:
    return os.path.join(OUT, *parts)


def backbone() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            layers.Conv2D(8, 3, name="conv1"),
            layers.BatchNormalization(name="bn1"),
            layers.ReLU(name="relu1"),
            layers.Conv2D(16, 3, name="conv2"),
            layers.GlobalAveragePooling2D(name="gap"),
        ],
        name="backbone",
    )


def make(changed: bool = False) -> keras.Model:
    inp = keras.Input((16, 16, 3), name="image")
    x = backbone()(inp)
    x = layers.Dense(48 if changed else 32, activation="relu", name="hidden")(x)
    x = layers.Dropout(0.1, name="head_drop" if changed else "drop")(x)
    if changed:
        x = layers.Dense(24, activation="relu", name="inserted")(x)
    else:
        x = layers.Dense(16, activation="relu", name="pre_out")(x)
    return keras.Model(inp, layers.Dense(4, name="out")(x), name="classifier")


def entries(model: Any, prefix: str = "", frozen: bool = False) -> list[tuple[str, bool, Any]]:
    """(layer path/weight name, effective trainable, variable) in get_weights() order."""
    out = []
    for layer in model.layers:
        off = frozen or not layer.trainable
        if hasattr(layer, "layers") and layer.layers:
            out += entries(layer, f"{prefix}{layer.name}/", off)
            continue
        for w in layer.weights:
            name = w.name.rsplit("/", 1)[-1].removesuffix(":0")
            out.append((f"{prefix}{layer.name}/{name}", not off, w))
    return out


def oracle(model: Any, name: str) -> None:
    found = entries(model)
    values = {key: np.asarray(w.numpy() if hasattr(w, "numpy") else w) for key, _, w in found}
    np.savez(path(f"{name}.oracle.npz"), **{f"v{i}": v for i, v in enumerate(values.values())})
    layer_trainable: dict[str, bool] = {}
    for key, trainable, _ in found:
        layer_trainable[key.rsplit("/", 1)[0]] = trainable
    doc = {"keys": list(values), "trainable": layer_trainable, "config": model.get_config()}
    with open(path(f"{name}.oracle.json"), "w") as fh:
        json.dump(doc, fh, indent=1, default=repr)


class Epochs(keras.callbacks.Callback):
    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        oracle(self.model, f"run-{epoch + 1:02d}")


def find_dataset(file: str, shape: tuple[int, ...]) -> str:
    """The one model dataset (not an optimizer slot) of ``shape`` in a Keras 3 weights file."""
    hits: list[str] = []
    with h5py.File(file, "r") as f:
        f["layers"].visititems(
            lambda n, o: (
                hits.append(f"layers/{n}") if isinstance(o, h5py.Dataset) and o.shape == shape else None
            )
        )
    assert len(hits) == 1, (file, shape, hits)
    return hits[0]


def rezip(src: str, dst: str, weights: str) -> None:
    """A copy of the archive ``src`` whose model.weights.h5 is the file ``weights``."""
    with open(weights, "rb") as fh:
        new = fh.read()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = new if item.filename == "model.weights.h5" else zin.read(item)
            zout.writestr(item, data)


def reloaded(archive: str, weights: str | None = None) -> keras.Model:
    model = keras.saving.load_model(archive, compile=False)
    if weights:
        model.load_weights(weights)
    return model


def build_keras3() -> None:
    keras.utils.set_random_seed(1)
    base = make()
    base.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    callbacks = [
        keras.callbacks.ModelCheckpoint(path("run-{epoch:02d}.keras")),
        keras.callbacks.ModelCheckpoint(path("run-{epoch:02d}.weights.h5"), save_weights_only=True),
        Epochs(),
    ]
    base.fit(X, Y, epochs=2, batch_size=16, verbose=0, callbacks=callbacks)
    base.save(path("base.keras"))
    base.save_weights(path("base.weights.h5"))
    base.save(path("base.h5"))
    oracle(base, "base")
    shutil.copy(path("base.keras"), path("copy.keras"))
    again = keras.saving.load_model(path("base.keras"))
    again.save(path("resaved.keras"))
    oracle(again, "resaved")

    tuned = keras.saving.load_model(path("base.keras"))
    tuned.get_layer("backbone").trainable = False
    tuned.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    tuned.fit(X, Y, epochs=2, batch_size=16, verbose=0)
    tuned.save(path("finetuned.keras"))
    tuned.save_weights(path("finetuned.weights.h5"))
    oracle(tuned, "finetuned")

    # One backbone tensor edited in the file, as a bad merge or a stray script would.
    shutil.copy(path("finetuned.weights.h5"), path("edited.weights.h5"))
    key = find_dataset(path("edited.weights.h5"), (3, 3, 3, 8))  # backbone/conv1/kernel
    with h5py.File(path("edited.weights.h5"), "r+") as f:
        values = f[key][...]
        values[0, 0, 0, :] += 0.5
        values[1, 1, 1, 1] *= 2.0
        f[key][...] = values
    rezip(path("finetuned.keras"), path("edited.keras"), path("edited.weights.h5"))
    oracle(reloaded(path("edited.keras")), "edited")

    shutil.copy(path("finetuned.weights.h5"), path("nan.weights.h5"))
    hidden = find_dataset(path("nan.weights.h5"), (16, 32))  # hidden/kernel
    with h5py.File(path("nan.weights.h5"), "r+") as f:
        values = f[hidden][...]
        values[0, :3] = np.nan
        values[1, 0] = np.inf
        f[hidden][...] = values
    oracle(reloaded(path("finetuned.keras"), path("nan.weights.h5")), "nan")

    shutil.copy(path("base.weights.h5"), path("retyped.weights.h5"))
    key = find_dataset(path("retyped.weights.h5"), (16, 4))  # out/kernel
    with h5py.File(path("retyped.weights.h5"), "r+") as f:
        values = f[key][...].astype(np.float64)
        del f[key]
        f.create_dataset(key, data=values)
    with open(path("retyped.key.json"), "w") as fh:
        json.dump(key, fh)

    keras.utils.set_random_seed(2)
    changed = make(changed=True)
    changed.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    changed.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    changed.save(path("changed.keras"))
    oracle(changed, "changed")


def build_tf_keras() -> None:
    import tensorflow as tf
    import tf_keras

    tf.random.set_seed(3)
    model = tf_keras.Sequential(
        [
            tf_keras.layers.Dense(16, activation="relu", input_shape=(8,), name="dense"),
            tf_keras.layers.BatchNormalization(name="bn"),
            tf_keras.layers.Dense(3, name="out"),
        ],
        name="tfk",
    )
    model.compile(optimizer="adam", loss="mse")
    x, y = RNG.normal(size=(32, 8)).astype("float32"), RNG.normal(size=(32, 3)).astype("float32")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(path("tfk.h5"))
    model.save_weights(path("tfk_ckpt", "ckpt"))  # no .h5 suffix: TensorFlow format
    oracle(model, "tfk")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save_weights(path("tfk_ckpt2", "ckpt"))
    oracle(model, "tfk2")


def main() -> int:
    os.makedirs(OUT, exist_ok=True)
    build_keras3()
    build_tf_keras()
    return 0


if __name__ == "__main__":
    sys.exit(main())
