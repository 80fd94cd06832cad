"""Write the TensorBoard event files ``tests/tfio/test_events.py`` reads, and what TensorFlow reads.

Run as ``python tests/build_events.py OUTDIR`` (TensorFlow runs in this child process only):

- ``tf2/``: ``tf.summary.scalar`` / ``histogram`` (TF2), rank-0 tensors of other dtypes written
  with ``tf.summary.write`` and the ``scalars`` plugin's metadata, a float32 ``[k, 3]`` histogram,
  a value with no plugin, and summaries to skip (text, image, a rank-1 tensor);
- ``keras3/``: Keras 3's ``TensorBoard(histogram_freq=1)`` during a short ``fit`` (``train/``,
  ``validation/``), with the ``History`` it returned;
- ``tf_keras/``: the same with tf_keras's callback;
- ``tf1/``: ``tf.compat.v1.summary.FileWriter`` with summaries of the TF1 ops (``simple_value``,
  ``HistogramProto`` with TensorFlow's default buckets) and hand-made ``Summary`` protos
  (histograms with empty end buckets, all empty, an image), a graph and a session log.

For every event file, ``<OUTDIR>/oracle.json`` lists what TensorFlow's own reader
(``tf.compat.v1.train.summary_iterator``, ``tf.make_ndarray``) and tensorboard (``make_ndarray``,
``data_compat.migrate_value``) make of it: every scalar ``[tag, step, wall_time, value]`` and every
histogram ``[tag, step, wall_time, buckets, buckets_float32, stats]``, under the rules of the
events contract (a tag's plugin is the one of its first metadata).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np
import tensorflow as tf
from tensorboard import data_compat
from tensorboard.util import tensor_util

OUT = Path(sys.argv[1])
RNG = np.random.default_rng(12)


def plugin_metadata(name: str) -> Any:
    meta = tf.compat.v1.SummaryMetadata()
    meta.plugin_data.plugin_name = name
    return meta


def write_tf2() -> None:
    writer = tf.summary.create_file_writer(str(OUT / "tf2"))
    values = [0.5, -1.25, float("nan"), float("inf"), -float("inf"), 3.0e38, 1.0e-40, 0.0]
    with writer.as_default():
        for step, x in enumerate(values):
            tf.summary.scalar("loss", x, step=step)
            tf.summary.scalar("big_step", x, step=2**40 + step)
        for dtype in (tf.float64, tf.float16, tf.bfloat16, tf.int32, tf.int64, tf.int8, tf.uint8):
            for step in range(3):
                value = tf.constant(-7 + 5 * step if dtype.is_integer else 0.1 + step, dtype=dtype)
                if dtype == tf.uint8:
                    value = tf.constant(200 + step, dtype=dtype)
                tf.summary.write(f"dtype/{dtype.name}", value, step=step, metadata=plugin_metadata("scalars"))
        tf.summary.write("no_plugin", tf.constant(2.5, tf.float32), step=1)
        tf.summary.write("vector", tf.constant([1.0, 2.0]), step=1)
        tf.summary.write("other_plugin", tf.constant(1.5), step=1, metadata=plugin_metadata("hparams"))
        for step in range(4):
            tf.summary.histogram("weights", RNG.normal(size=200) * (step + 1), step=step)
            tf.summary.histogram("five", RNG.uniform(-3, 3, size=50), step=step, buckets=5)
            tf.summary.histogram("constant", np.full(10, 2.5), step=step)
            tf.summary.histogram("empty", np.zeros(0), step=step)
            buckets = np.stack([np.arange(4.0), np.arange(4.0) + 1, RNG.integers(0, 9, 4)], axis=1)
            tf.summary.write("hist32", tf.constant(buckets, tf.float32), step=step,
                             metadata=plugin_metadata("histograms"))  # fmt: skip
            tf.summary.text("notes", f"step {step}", step=step)
            tf.summary.image("picture", RNG.uniform(size=(1, 4, 4, 3)), step=step)
    writer.close()


def small_data() -> tuple[np.ndarray, np.ndarray]:
    x = RNG.normal(size=(64, 6)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    return x, y


def write_keras3() -> dict[str, list[float]]:
    import keras

    x, y = small_data()
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])  # fmt: skip
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    callback = keras.callbacks.TensorBoard(str(OUT / "keras3"), histogram_freq=1)
    history = model.fit(x, y, validation_split=0.25, epochs=3, batch_size=16, verbose=0, callbacks=[callback])
    return {k: [float(v) for v in vs] for k, vs in history.history.items()}


def write_tf_keras() -> dict[str, list[float]]:
    import tf_keras

    x, y = small_data()
    model = tf_keras.Sequential([tf_keras.layers.Dense(4, activation="relu", input_shape=(6,)),
                                 tf_keras.layers.Dense(1, activation="sigmoid")])  # fmt: skip
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    callback = tf_keras.callbacks.TensorBoard(str(OUT / "tf_keras"), histogram_freq=1, profile_batch=0)
    history = model.fit(x, y, validation_split=0.25, epochs=3, batch_size=16, verbose=0, callbacks=[callback])
    return {k: [float(v) for v in vs] for k, vs in history.history.items()}


def histogram_proto(limits: list[float], counts: list[float]) -> Any:
    h = tf.compat.v1.HistogramProto()
    h.min, h.max = -4.5, 9.25
    h.num, h.sum, h.sum_squares = float(sum(counts)), 12.5, 99.0
    h.bucket_limit.extend(limits)
    h.bucket.extend(counts)
    return h


def write_tf1() -> None:
    summary = tf.compat.v1.Summary
    picture = summary.Image(height=1, width=1, encoded_image_string=b"png")
    with tf.Graph().as_default():
        data = tf.compat.v1.placeholder(tf.float32, [None])
        ops = [tf.compat.v1.summary.scalar("op_scalar", tf.reduce_mean(data)),
               tf.compat.v1.summary.histogram("op_histogram", data)]  # fmt: skip
        merged = tf.compat.v1.summary.merge(ops)
        writer = tf.compat.v1.summary.FileWriter(str(OUT / "tf1"), graph=tf.compat.v1.get_default_graph())
        writer.add_session_log(tf.compat.v1.SessionLog(status=tf.compat.v1.SessionLog.START), 0)
        with tf.compat.v1.Session() as session:
            for step in range(5):
                sample = RNG.normal(size=100 + 50 * step).astype("float32") * (step + 1)
                writer.add_summary(session.run(merged, {data: sample}), step)
                writer.add_summary(session.run(merged, {data: np.zeros(0, "float32")}), 100 + step)
                values = [summary.Value(tag="simple", simple_value=float(step) / 3),
                          summary.Value(tag="simple_negative", simple_value=-float(step) ** 3),
                          summary.Value(tag="edges", histo=histogram_proto(
                              [-1.0, 0.0, 1.0, 2.0, 3.0, 1e300], [0.0, 0.0, 3.0, 0.0, 4.0 + step, 0.0])),
                          summary.Value(tag="all_empty", histo=histogram_proto([0.0, 1.0], [0.0, 0.0])),
                          summary.Value(tag="one_bucket", histo=histogram_proto([5.0], [7.0])),
                          summary.Value(tag="picture", image=picture)]  # fmt: skip
                writer.add_summary(summary(value=values), step)
        writer.close()


def finite(x: float) -> Any:
    return x if np.isfinite(x) else repr(float(x))  # "nan", "inf", "-inf": JSON has no such numbers


def oracle_of(path: Path) -> dict[str, Any]:
    plugins: dict[str, str] = {}
    scalars, histograms, skipped = [], [], set()
    for event in tf.compat.v1.train.summary_iterator(str(path)):
        if event.WhichOneof("what") != "summary":
            continue
        for value in event.summary.value:
            tag = value.tag
            if value.HasField("metadata") and tag not in plugins:
                plugins[tag] = value.metadata.plugin_data.plugin_name
            kind = value.WhichOneof("value")
            head = [tag, event.step, event.wall_time]
            if kind == "simple_value":
                scalars.append([*head, finite(value.simple_value)])
            elif kind == "histo":
                h = value.histo
                counts, limits = list(h.bucket), list(h.bucket_limit)
                nonzero = [i for i, c in enumerate(counts) if c > 0]
                rows = []
                if nonzero:  # data_compat._migrate_histogram_value, in float64
                    start, end = nonzero[0], nonzero[-1]
                    lefts, rights = [h.min, *limits[start:end]], [*limits[start:end], h.max]
                    rows = [list(r) for r in zip(lefts, rights, counts[start : end + 1], strict=True)]
                migrated = tensor_util.make_ndarray(data_compat.migrate_value(value).tensor)
                stats = [h.min, h.max, h.num, h.sum, h.sum_squares]
                histograms.append([*head, rows, migrated.astype(float).tolist(), stats])
            elif kind == "tensor":
                plugin = plugins.get(tag, "")
                array = tf.make_ndarray(value.tensor)
                numeric = array.dtype.kind in "fiu" or array.dtype.name == "bfloat16"
                if plugin in ("scalars", "") and array.ndim == 0 and numeric:
                    scalars.append([*head, finite(float(array))])
                elif plugin == "histograms" and array.ndim == 2 and array.shape[1] == 3:
                    histograms.append([*head, array.astype(float).tolist(), None, None])
                else:
                    skipped.add(tag)
            else:
                skipped.add(tag)
    return {"scalars": scalars, "histograms": histograms, "plugins": plugins, "skipped": sorted(skipped)}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    write_tf2()
    histories = {"keras3": write_keras3(), "tf_keras": write_tf_keras()}
    write_tf1()
    files = {}
    for path in sorted(OUT.rglob("events.out.tfevents.*")):
        files[str(path.relative_to(OUT))] = oracle_of(path)
    (OUT / "oracle.json").write_text(json.dumps({"files": files, "histories": histories}, indent=1))


if __name__ == "__main__":
    main()
