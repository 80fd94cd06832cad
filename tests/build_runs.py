"""Small Keras 3 training runs for the diagnostics' edge cases, with what Keras said about them.

Run as ``python tests/build_runs.py OUTDIR``; each run directory ``OUTDIR/<run>/`` holds a
``training.csv`` (CSVLogger), ``history.json`` (the oracle: ``{"history": History.history,
"params": History.params}`` as ``fit()`` returned it) and ``oracle.json`` (``classes``: each output
layer's last dimension as the live model reports it, by output name), and a saved model when the
run says so:

- ``chance``: four balanced classes whose labels are random, inputs of noise: accuracy stays at
  chance; ``model.keras`` saved. ``chance_weights``: the same, but only ``final.weights.h5``
  (no architecture: the class count is unknown). ``chance_binary``: one sigmoid unit on random
  binary labels.
- ``learns``: four classes that a linear model separates: accuracy far above chance;
  ``resumed``: that model trained on at a learning rate too small to move it (a converged run
  resumed): a flat loss at an accuracy far above chance.
- ``multi``: a two-output model (``cls``: three classes, ``reg``: a regression), whose History
  names each output's loss and metrics with the output's name; ``model.keras`` saved.
- ``converged``: a regression the model fits exactly: the loss falls to near zero and jitters.
- ``short``: one epoch; ``two``: two epochs, with validation; ``noval``: no validation.
- ``growth``: TensorBoard weight histograms of a healthy run whose biases start at zero and grow
  many times their first epoch's size; ``oracle.json`` also holds ``absmax``: each weight's
  largest magnitude after every epoch, as the live model held it.
- ``unfreeze``: Keras's transfer-learning recipe in two stages: ``stage1.keras`` (the ``base``
  layer frozen, the head trained), then ``stage2.keras`` and ``stage2.weights.h5`` (``base``
  unfrozen and fine-tuned); ``unfreeze.json``: each layer's ``trainable`` flag in both stages and
  the layers whose weights differ between them (numpy on the live model's weights).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ["KERAS_BACKEND"] = "tensorflow"

import keras
import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else "."


def main() -> None:
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)

    def run(
        name: str, model: Any, x: Any, y: Any, save: str | None = None, extra: Any = (), **fit: Any
    ) -> None:
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        logger = keras.callbacks.CSVLogger(os.path.join(d, "training.csv"))
        h = model.fit(x, y, verbose=0, callbacks=[logger, *extra], **fit)
        history = {k: [float(v) for v in vs] for k, vs in h.history.items()}
        with open(os.path.join(d, "history.json"), "w") as f:
            json.dump({"history": history, "params": h.params}, f)
        names = list(model.output_names)
        classes = {n: int(t.shape[-1]) for n, t in zip(names, model.outputs, strict=True)}
        with open(os.path.join(d, "oracle.json"), "w") as f:
            json.dump({"classes": classes}, f)
        if save == "model":
            model.save(os.path.join(d, "model.keras"))
        elif save == "weights":
            model.save_weights(os.path.join(d, "final.weights.h5"))

    def classifier(classes: int, lr: float = 0.01, hidden: int = 0) -> Any:
        inputs = keras.Input((8,))
        x = keras.layers.Dense(hidden, activation="relu", name="hidden")(inputs) if hidden else inputs
        act = "sigmoid" if classes == 1 else "softmax"
        out = keras.layers.Dense(classes, activation=act, name="out")(x)
        model = keras.Model(inputs, out)
        loss = "binary_crossentropy" if classes == 1 else "sparse_categorical_crossentropy"
        model.compile(keras.optimizers.Adam(lr), loss, metrics=["accuracy"])
        return model

    n = 2048
    noise = rng.normal(size=(n, 8)).astype("float32")
    random4 = rng.permutation(np.repeat(np.arange(4), n // 4))
    fit = {"validation_split": 0.25, "epochs": 8, "batch_size": 64}
    run("chance", classifier(4), noise, random4, "model", **fit)
    run("chance_weights", classifier(4), noise, random4, "weights", **fit)
    random2 = rng.permutation(np.repeat(np.arange(2), n // 2)).astype("float32")
    run("chance_binary", classifier(1), noise, random2, "model", **fit)
    separable = np.argmax(noise @ rng.normal(size=(8, 4)), axis=1)
    learner = classifier(4)
    run("learns", learner, noise, separable, "model", **fit)
    learner.compile(keras.optimizers.Adam(1e-6), "sparse_categorical_crossentropy", metrics=["accuracy"])
    run("resumed", learner, noise, separable, "model", **{**fit, "epochs": 5})

    inputs = keras.Input((8,))
    h = keras.layers.Dense(16, activation="relu", name="trunk")(inputs)
    cls = keras.layers.Dense(3, activation="softmax", name="cls")(h)
    reg = keras.layers.Dense(1, name="reg")(h)
    multi = keras.Model(inputs, [cls, reg])
    multi.compile(
        keras.optimizers.Adam(0.01),
        loss=["sparse_categorical_crossentropy", "mse"],
        metrics=[["accuracy"], ["mae"]],
    )
    labels3 = np.argmax(noise @ rng.normal(size=(8, 3)), axis=1)
    target = (noise @ rng.normal(size=(8, 1))).astype("float32")
    run("multi", multi, noise, [labels3, target], "model", **{**fit, "epochs": 12})

    inputs = keras.Input((8,))
    exact = keras.Model(inputs, keras.layers.Dense(1, name="out")(inputs))
    exact.compile(keras.optimizers.Adam(0.05), "mse")
    run("converged", exact, noise, noise @ rng.normal(size=(8, 1)), None, epochs=40, batch_size=64)

    run("short", classifier(4, hidden=16), noise, separable, None, validation_split=0.25, epochs=1)
    run("two", classifier(4, hidden=16), noise, separable, None, validation_split=0.25, epochs=2)
    run("noval", classifier(4, hidden=16), noise, separable, None, epochs=10, batch_size=64)

    class Magnitudes(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.absmax: dict[str, list[float]] = {}

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            for w in self.model.weights:
                self.absmax.setdefault(w.path, []).append(float(np.abs(np.asarray(w)).max()))

    d = os.path.join(OUT, "growth")
    model = classifier(4, lr=1e-3, hidden=16)
    seen = Magnitudes()
    board = keras.callbacks.TensorBoard(os.path.join(d, "logs"), histogram_freq=1)
    run("growth", model, noise[:512], separable[:512], None, epochs=30, batch_size=64,
        validation_split=0.25, extra=[board, seen])  # fmt: skip
    with open(os.path.join(d, "oracle.json")) as f:
        doc = json.load(f)
    with open(os.path.join(d, "oracle.json"), "w") as f:
        json.dump({**doc, "absmax": seen.absmax}, f)

    d = os.path.join(OUT, "unfreeze")
    os.makedirs(d, exist_ok=True)
    inputs = keras.Input((8,))
    base = keras.layers.Dense(16, activation="relu", name="base")
    head = keras.layers.Dense(4, activation="softmax", name="head")
    model = keras.Model(inputs, head(base(inputs)))
    stages = []
    for stage, trainable in ((1, False), (2, True)):
        base.trainable = trainable
        model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(noise, separable, epochs=2, batch_size=64, verbose=0)
        model.save(os.path.join(d, f"stage{stage}.keras"))
        if stage == 2:
            model.save_weights(os.path.join(d, "stage2.weights.h5"))
        stages.append(
            {layer.name: (layer.trainable, [np.asarray(w) for w in layer.weights]) for layer in model.layers}
        )
    changed = [
        name
        for name, (_, weights) in stages[1].items()
        if any(not np.array_equal(a, b) for a, b in zip(stages[0][name][1], weights, strict=True))
    ]
    trainable = [{name: flag for name, (flag, _) in s.items()} for s in stages]
    with open(os.path.join(d, "unfreeze.json"), "w") as f:
        json.dump({"trainable": trainable, "changed": changed}, f)


if __name__ == "__main__":
    main()
