"""Build real training runs with Keras 3 and tf_keras, and record what Keras said about them.

Run as ``python tests/build_history.py OUTDIR``: it runs itself once per flavour (``keras3``,
``tf_keras``) in a child process, each writing ``OUTDIR/<flavour>/<run>/``:

- ``training.csv`` (CSVLogger), ``logs/`` (TensorBoard, ``histogram_freq=1``), checkpoints;
- ``history.json``: the oracle, ``{"history": History.history, "params": History.params}`` as
  ``fit()`` returned it, and ``oracle.json``: what the callbacks did (EarlyStopping's
  ``stopped_epoch`` and ``best``, the epochs each checkpoint file was written at, the optimizer's
  iterations after each epoch);
- ``columnar.json``: the same history in pandas' columnar form; ``history.pkl``: pickled.

Runs: ``main`` (CSVLogger + TensorBoard + ModelCheckpoint per epoch and save_best_only +
EarlyStopping + ReduceLROnPlateau, on data it overfits, with one layer frozen), ``diverge``
(a learning rate growing until it is far too high, stopped by TerminateOnNaN), ``overfit``
(40 epochs on random labels), ``append`` (one CSVLogger file with ``append=True`` over two
fits), ``collapse`` (a strong L2 regularizer).
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ["KERAS_BACKEND"] = "tensorflow"

OUT = sys.argv[1] if len(sys.argv) > 1 else "."
FLAVOUR = sys.argv[2] if len(sys.argv) > 2 else None


def main() -> None:
    if FLAVOUR is None:
        for flavour in ("keras3", "tf_keras"):
            subprocess.run([sys.executable, __file__, OUT, flavour], check=True)
        return
    import numpy as np

    if FLAVOUR == "keras3":
        import keras
    else:
        import tf_keras as keras
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    root = os.path.join(OUT, FLAVOUR)
    ext = ".keras" if FLAVOUR == "keras3" else ".h5"

    def run_dir(name: str) -> str:
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        return d

    def plain(history: Any) -> dict[str, list[float]]:
        return {k: [float(v) for v in vs] for k, vs in history.history.items()}  # tf_keras: numpy floats

    def save(d: str, history: Any, oracle: dict[str, Any]) -> None:
        doc = {"history": plain(history), "params": history.params}
        with open(os.path.join(d, "history.json"), "w") as f:
            json.dump(doc, f)
        columnar = {k: {str(i): v for i, v in enumerate(vs)} for k, vs in plain(history).items()}
        with open(os.path.join(d, "columnar.json"), "w") as f:
            json.dump(columnar, f)
        with open(os.path.join(d, "history.pkl"), "wb") as f:
            pickle.dump(plain(history), f)
        with open(os.path.join(d, "oracle.json"), "w") as f:
            json.dump(oracle, f)

    class Recorder(keras.callbacks.Callback):
        """Records the optimizer's iterations after each epoch and when each file was written."""

        def __init__(self, files: list[str]) -> None:
            super().__init__()
            self.files = files
            self.iterations: list[int] = []
            self.written: dict[str, list[int]] = {}
            self.stamps: dict[str, float] = {}

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.iterations.append(int(np.asarray(self.model.optimizer.iterations)))
            for pattern in self.files:
                d = os.path.dirname(pattern)
                for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
                    p = os.path.join(d, name)
                    if not p.endswith(ext):
                        continue
                    stamp = os.stat(p).st_mtime_ns
                    if self.stamps.get(p) != stamp:
                        self.stamps[p] = stamp
                        self.written.setdefault(
                            os.path.relpath(p, os.path.dirname(d) if d else "."), []
                        ).append(epoch + 1)

    def dense_model(hidden: int, frozen: bool = False, l2: float = 0.0, lr: float = 0.01) -> Any:
        reg = keras.regularizers.l2(l2) if l2 else None
        inputs = keras.Input((8,))
        x = keras.layers.Dense(hidden, activation="relu", kernel_regularizer=reg, name="hidden")(inputs)
        mid = keras.layers.Dense(hidden, activation="relu", name="frozen" if frozen else "middle")
        mid.trainable = not frozen
        x = mid(x)
        outputs = keras.layers.Dense(3, activation="softmax", kernel_regularizer=reg, name="out")(x)
        model = keras.Model(inputs, outputs)
        model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    # main: random labels the model can memorise: validation loss rises, the rate is cut, training stops.
    d = run_dir("main")
    x, y = rng.normal(size=(64, 8)).astype("float32"), rng.integers(0, 3, 64)
    xv, yv = rng.normal(size=(64, 8)).astype("float32"), rng.integers(0, 3, 64)
    model = dense_model(64, frozen=True)
    os.makedirs(os.path.join(d, "ckpt"), exist_ok=True)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)
    recorder = Recorder([os.path.join(d, "ckpt", "x"), os.path.join(d, "best", "x")])
    os.makedirs(os.path.join(d, "best"), exist_ok=True)
    callbacks = [
        keras.callbacks.TensorBoard(os.path.join(d, "logs"), histogram_freq=1),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1),
        stop,
        keras.callbacks.ModelCheckpoint(os.path.join(d, "ckpt", "epoch{epoch:02d}" + ext)),
        keras.callbacks.ModelCheckpoint(
            os.path.join(d, "best", "weights.best" + ext), monitor="val_loss", save_best_only=True
        ),
        keras.callbacks.CSVLogger(os.path.join(d, "training.csv")),
        recorder,
    ]
    h = model.fit(x, y, validation_data=(xv, yv), epochs=40, batch_size=16, verbose=0, callbacks=callbacks)
    save(d, h, {"stopped_epoch": stop.stopped_epoch, "best": float(stop.best), "patience": 3,
                "iterations": recorder.iterations, "written": recorder.written})  # fmt: skip

    # diverge: a learning rate growing 4x per epoch on a regression; TerminateOnNaN stops it.
    d = run_dir("diverge")
    xr = rng.normal(size=(64, 8)).astype("float32")
    yr = (xr @ rng.normal(size=(8, 1))).astype("float32") * 10
    inputs = keras.Input((8,))
    out = keras.layers.Dense(1, name="out")(keras.layers.Dense(32, name="hidden")(inputs))
    model = keras.Model(inputs, out)
    model.compile(keras.optimizers.SGD(0.002), "mse")
    callbacks = [
        keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.002 * 4.0**epoch),  # diverges soon
        keras.callbacks.TensorBoard(os.path.join(d, "logs"), histogram_freq=1),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.CSVLogger(os.path.join(d, "training.csv")),
    ]
    h = model.fit(xr, yr, validation_split=0.25, epochs=30, batch_size=8, verbose=0, callbacks=callbacks)
    save(d, h, {})

    # overfit: a wide model memorises random labels for 40 epochs; validation loss climbs.
    d = run_dir("overfit")
    model = dense_model(256)
    callbacks = [keras.callbacks.CSVLogger(os.path.join(d, "training.csv"))]
    h = model.fit(x, y, validation_data=(xv, yv), epochs=40, batch_size=16, verbose=0, callbacks=callbacks)
    save(d, h, {})

    # append: one CSVLogger file over two fits (the second restarts at epoch 0).
    d = run_dir("append")
    histories = []
    for epochs in (3, 4):
        model = dense_model(16)
        logger = keras.callbacks.CSVLogger(os.path.join(d, "training.csv"), append=True)
        histories.append(
            model.fit(
                x, y, validation_data=(xv, yv), epochs=epochs, batch_size=16, verbose=0, callbacks=[logger]
            )
        )
    with open(os.path.join(d, "histories.json"), "w") as f:
        json.dump([plain(hh) for hh in histories], f)

    # collapse: a strong L2 penalty pulls the weights towards zero.
    d = run_dir("collapse")
    model = dense_model(32, l2=1.0, lr=0.05)
    callbacks = [keras.callbacks.TensorBoard(os.path.join(d, "logs"), histogram_freq=1)]
    h = model.fit(x, y, validation_data=(xv, yv), epochs=25, batch_size=16, verbose=0, callbacks=callbacks)
    save(d, h, {})


if __name__ == "__main__":
    main()
