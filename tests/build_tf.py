"""Build the TensorFlow checkpoints and SavedModels the tests read, and record their oracles.

Run as ``python tests/build_tf.py OUTDIR`` (TensorFlow, tf_keras and Keras run in this child process,
never in the test process). For every fixture ``NAME`` it writes the files and ``NAME.oracle.json``:

- ``keys``: every tensor ``tf.train.load_checkpoint`` lists (shape, dtype), and ``NAME.values.npz``
  their values (``values[i]`` is ``keys``' i-th numeric key; bfloat16 widened to float32, exactly);
- ``model``: what the live tf_keras model reports (totals, per-layer parameters, output shapes);
- ``optimizer``/``step``: the optimizer's iterations and learning rate, the training loop's counter.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ["KERAS_BACKEND"] = "tensorflow"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
import tensorflow as tf
import tf_keras as keras
from build_zoo import _size, keras2_layer
from tf_keras import layers

OUT = sys.argv[1] if len(sys.argv) > 1 else "."
RNG = np.random.default_rng(0)


def path(*parts: str) -> str:
    return os.path.join(OUT, *parts)


def checkpoint_keys(prefix: str, name: str) -> dict[str, Any]:
    """The oracle of a checkpoint: every key with shape and dtype; values in NAME.values.npz."""
    reader = tf.train.load_checkpoint(prefix)
    shapes, dtypes = reader.get_variable_to_shape_map(), reader.get_variable_to_dtype_map()
    keys = {k: {"shape": list(shapes[k]), "dtype": dtypes[k].name} for k in sorted(shapes)}
    numeric = [k for k in keys if dtypes[k] not in (tf.string, tf.variant, tf.resource)]
    values = {}
    for i, key in enumerate(numeric):
        value = np.asarray(reader.get_tensor(key))
        if dtypes[key] == tf.bfloat16:
            value = value.astype(np.float32)  # exact: every bfloat16 is a float32
        values[f"v{i}"] = value
    np.savez(path(f"{name}.values.npz"), **values)
    return {"keys": keys, "numeric": numeric}


def live(model: Any) -> dict[str, Any]:
    return {
        "name": model.name,
        "class_name": type(model).__name__,
        "total_params": model.count_params(),
        "trainable_params": _size(model.trainable_weights),
        "non_trainable_params": _size(model.non_trainable_weights),
        "layers": [keras2_layer(layer) for layer in model.layers],
        "weights": [w.name.removesuffix(":0") for w in model.weights],
    }


def optimizer_state(model: Any) -> dict[str, Any]:
    opt = model.optimizer
    lr = opt.learning_rate
    return {
        "class": type(opt).__name__,
        "iterations": int(opt.iterations.numpy()),
        "learning_rate": float(lr.numpy() if hasattr(lr, "numpy") else lr),
        "variables": len(opt.variables()) if callable(opt.variables) else len(opt.variables),
    }


def write(name: str, oracle: dict[str, Any]) -> None:
    with open(path(f"{name}.oracle.json"), "w") as fh:
        json.dump(oracle, fh, indent=1)


def train(model: Any, optimizer: Any = "adam", epochs: int = 1, tokens: bool = False) -> Any:
    """Compile and fit briefly on random data, so that optimizer state and BatchNorm statistics exist
    (``tokens``: integer inputs, for an Embedding)."""
    model.compile(optimizer=optimizer, loss="mse")
    inputs = [RNG.normal(size=(16, *t.shape[1:])).astype("float32") for t in model.inputs]
    if tokens:
        inputs = [RNG.integers(0, 40, size=(16, *t.shape[1:])) for t in model.inputs]
    outputs = RNG.normal(size=(16, *model.outputs[0].shape[1:])).astype("float32")
    model.fit(inputs if len(inputs) > 1 else inputs[0], outputs, epochs=epochs, batch_size=8, verbose=0)
    return model


# ---- tf_keras models, each saved as a TF checkpoint, a SavedModel, an .h5 and a config.json ------


def seq() -> Any:
    return keras.Sequential(
        [
            layers.Dense(16, activation="relu", input_shape=(8,)),
            layers.BatchNormalization(),
            layers.Dropout(0.1),
            layers.Dense(3, name="out"),
        ],
        name="seq",
    )


def functional_nested() -> Any:
    inner = keras.Sequential(
        [layers.Dense(6, input_shape=(4,)), layers.ReLU(), layers.Dense(4)], name="inner"
    )
    frozen_in = keras.Input((4,))
    frozen = keras.Model(frozen_in, layers.Dense(4, name="frozen_dense")(frozen_in), name="frozen")
    frozen.trainable = False
    x, y = keras.Input((4,), name="x"), keras.Input((4,), name="y")
    a, b = inner(x), inner(y)  # a shared sub-model
    c = frozen(layers.Add()([a, b]))
    out = layers.Dense(2, name="head")(layers.Concatenate()([a, c]))
    return keras.Model([x, y], out, name="functional_nested")


def rnn() -> Any:
    inp = keras.Input((10,))
    x = layers.Embedding(40, 8)(inp)
    x = layers.Bidirectional(layers.LSTM(6, return_sequences=True))(x)
    x = layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
    x = layers.TimeDistributed(layers.Dense(5))(x)
    x = layers.GRU(5)(x)
    return keras.Model(inp, layers.Dense(2)(x), name="rnn")


def cnn_bn() -> Any:
    inp = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 3, padding="same")(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.DepthwiseConv2D(3)(x)
    x = layers.SeparableConv2D(8, 3)(x)
    x = layers.BatchNormalization(center=False)(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, layers.Dense(4)(x), name="cnn_bn")


def mobilenet() -> Any:
    return keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), alpha=0.35, classes=5)


MODELS = {"seq": seq, "functional_nested": functional_nested, "rnn": rnn, "cnn_bn": cnn_bn,
          "MobileNetV2": mobilenet}  # fmt: skip


def build_models() -> None:
    for name, build in MODELS.items():
        keras.backend.clear_session()
        tf.random.set_seed(1)
        model = train(build(), tokens=name == "rnn")
        model.save_weights(path(name, "ckpt"))  # no .h5 suffix: TensorFlow format
        model.save(path(f"{name}.h5"))
        model.save(path(f"{name}_savedmodel"))  # tf_keras 2.x default: a SavedModel directory
        with open(path(f"{name}.config.json"), "w") as fh:
            fh.write(model.to_json())
        oracle = checkpoint_keys(path(name, "ckpt"), name)
        saved = checkpoint_keys(path(f"{name}_savedmodel", "variables", "variables"), f"{name}_savedmodel")
        write(name, {**oracle, "model": live(model), "optimizer": optimizer_state(model)})
        write(f"{name}_savedmodel", {**saved, "model": live(model), "optimizer": optimizer_state(model)})


# ---- other ways TensorFlow writes checkpoints -------------------------------------------------


def build_manager() -> None:
    """tf.train.Checkpoint with a legacy optimizer (slot variables) and a step counter, saved by a
    CheckpointManager keeping the last two of three checkpoints."""
    keras.backend.clear_session()
    model = seq()
    optimizer = keras.optimizers.legacy.Adam(learning_rate=0.005)
    train(model, optimizer)
    step = tf.Variable(0, dtype=tf.int64)
    ckpt = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step)
    manager = tf.train.CheckpointManager(ckpt, path("manager"), max_to_keep=2)
    for _ in range(3):
        step.assign_add(5)
        model.fit(RNG.normal(size=(8, 8)), RNG.normal(size=(8, 3)), verbose=0)
        saved = manager.save()
    oracle = checkpoint_keys(saved, "manager")
    oracle.update(
        latest=os.path.basename(saved),
        listed=[os.path.basename(p) for p in manager.checkpoints],
        step=int(step.numpy()),
        save_counter=int(ckpt.save_counter.numpy()),
        model=live(model),
        optimizer=optimizer_state(model),
        slots=sorted(
            f"{v.name.removesuffix(':0')}" for v in optimizer.variables() if "/m" in v.name or "/v" in v.name
        ),
    )
    write("manager", oracle)


def build_tutorial() -> None:
    """The TensorFlow tutorials' ModelCheckpoint(save_weights_only=True) into training_1/cp.ckpt."""
    keras.backend.clear_session()
    model = seq()
    model.compile("adam", "mse")
    callback = keras.callbacks.ModelCheckpoint(path("training_1", "cp.ckpt"), save_weights_only=True)
    model.fit(RNG.normal(size=(16, 8)), RNG.normal(size=(16, 3)), epochs=2, callbacks=[callback], verbose=0)
    oracle = checkpoint_keys(path("training_1", "cp.ckpt"), "training_1")
    write("training_1", {**oracle, "model": live(model), "optimizer": optimizer_state(model)})


class Net(keras.Model):
    """A subclassed model: children named by attribute, a list of layers."""

    def __init__(self) -> None:
        super().__init__(name="net")
        self.conv = layers.Conv2D(4, 3, name="conv")
        self.flat = layers.Flatten()
        self.blocks = [layers.Dense(8, name="block_a"), layers.Dense(6, name="block_b")]
        self.head = layers.Dense(2, name="head")

    def call(self, x: Any) -> Any:
        x = self.flat(self.conv(x))
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def build_subclassed() -> None:
    keras.backend.clear_session()
    model = Net()
    model.compile("adam", "mse")
    model.fit(RNG.normal(size=(8, 6, 6, 1)), RNG.normal(size=(8, 2)), verbose=0)
    model.save_weights(path("subclassed", "ckpt"))
    model.save(path("subclassed_savedmodel"))
    oracle = checkpoint_keys(path("subclassed", "ckpt"), "subclassed")
    write("subclassed", {**oracle, "model": live(model), "optimizer": optimizer_state(model)})


def build_dtypes() -> None:
    """Variables of every numeric dtype a checkpoint stores, and a multi-shard checkpoint."""
    values = {
        "f16": tf.Variable(RNG.normal(size=(7, 5)).astype(np.float16)),
        "bf16": tf.Variable(tf.cast(RNG.normal(size=(6, 4)), tf.bfloat16)),
        "f64": tf.Variable(RNG.normal(size=(5, 3))),
        "i8": tf.Variable(RNG.integers(-100, 100, size=(9,)).astype(np.int8)),
        "i32": tf.Variable(RNG.integers(-1000, 1000, size=(4, 4)).astype(np.int32)),
        "i64": tf.Variable(RNG.integers(-(10**12), 10**12, size=(3,))),
        "u8": tf.Variable(RNG.integers(0, 255, size=(8,)).astype(np.uint8)),
        "flags": tf.Variable(np.array([True, False, True])),
        "big": tf.Variable(RNG.normal(size=(300, 700)).astype(np.float32)),  # several read slices
    }
    tf.train.Checkpoint(**values).write(path("dtypes", "ckpt"))
    write("dtypes", checkpoint_keys(path("dtypes", "ckpt"), "dtypes"))
    try:
        options = tf.train.CheckpointOptions(
            experimental_sharding_callback=tf.train.experimental.MaxShardSizePolicy(max_shard_size=4000)
        )
        plain = {k: v for k, v in values.items() if k in ("f64", "i32", "i64", "big")}  # half: unsupported
        tf.train.Checkpoint(**plain).write(path("sharded", "ckpt"), options=options)
        write("sharded", checkpoint_keys(path("sharded", "ckpt"), "sharded"))
    except (AttributeError, TypeError, ValueError) as exc:  # an older TensorFlow without sharding policies
        print(f"no sharded checkpoint: {exc}")
        raise


def build_tf1() -> None:
    """A name-based TF1 checkpoint (tf.compat.v1.train.Saver) with a partitioned variable."""
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(1)
        tf.compat.v1.get_variable(
            "part/kernel", shape=[10, 4], partitioner=tf.compat.v1.fixed_size_partitioner(2),
            initializer=tf.compat.v1.random_normal_initializer(),
        )  # fmt: skip
        tf.compat.v1.get_variable("dense/bias", shape=[4], initializer=tf.compat.v1.ones_initializer())
        step = tf.compat.v1.train.get_or_create_global_step()
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            saved = saver.save(session, path("tf1", "model.ckpt"), global_step=step)
    write("tf1", {**checkpoint_keys(saved, "tf1"), "latest": os.path.basename(saved)})


def build_lambda() -> None:
    """A Keras SavedModel with a Lambda layer: its metadata config carries the bytecode."""
    keras.backend.clear_session()
    inp = keras.Input((4,))
    x = layers.Lambda(lambda t: t * 2.0, name="double")(inp)
    model = keras.Model(inp, layers.Dense(1)(x), name="lambda_model")
    model.save(path("lambda_savedmodel"))
    model.save(path("lambda.h5"))


def build_keras3() -> None:
    """Keras 3: ``model.export()`` (a SavedModel without Keras metadata), a tf.train.Checkpoint of
    the model, and a plain tf.Module saved with tf.saved_model.save."""
    import keras as keras3

    keras3.utils.set_random_seed(1)
    model = keras3.Sequential(
        [keras3.Input((5,)), keras3.layers.Dense(4, name="d1"), keras3.layers.Dense(2, name="d2")],
        name="k3seq",
    )
    model.export(path("k3_export"))
    model.save(path("k3seq.keras"))
    tf.train.Checkpoint(model=model).write(path("k3_ckpt", "ckpt"))
    live3 = {
        "total_params": model.count_params(),
        "layers": [{"name": layer.name, "params": layer.count_params()} for layer in model.layers],
    }
    write(
        "k3_export",
        {**checkpoint_keys(path("k3_export", "variables", "variables"), "k3_export"), "model": live3},
    )
    write("k3_ckpt", {**checkpoint_keys(path("k3_ckpt", "ckpt"), "k3_ckpt"), "model": live3})

    class Affine(tf.Module):
        def __init__(self) -> None:
            super().__init__(name="affine")
            self.w = tf.Variable(RNG.normal(size=(3, 2)).astype(np.float32), name="w")
            self.b = tf.Variable(np.zeros(2, np.float32), name="b")

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
        def __call__(self, x: Any) -> Any:
            return {"y": tf.matmul(x, self.w) + self.b}

    module = Affine()
    tf.saved_model.save(module, path("module_savedmodel"), signatures=module.__call__)
    write("module_savedmodel", checkpoint_keys(path("module_savedmodel", "variables", "variables"),
                                               "module_savedmodel"))  # fmt: skip


def main() -> int:
    os.makedirs(OUT, exist_ok=True)
    build_models()
    build_manager()
    build_tutorial()
    build_subclassed()
    build_dtypes()
    build_tf1()
    build_lambda()
    build_keras3()
    return 0


if __name__ == "__main__":
    sys.exit(main())
