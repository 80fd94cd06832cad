"""Build the TensorFlow files ``tests/tfio/`` reads, and what TensorFlow itself reads from them.

Run as ``python tests/build_tfio.py OUTDIR`` (TensorFlow runs in this child process only). For
each checkpoint ``OUTDIR/<name>/<prefix>`` it writes ``OUTDIR/<name>.oracle.json``: every key
``tf.train.load_checkpoint`` lists with its dtype, shape and a SHA-256 of its values' bytes (the
strings themselves for a string tensor), and the ``_CHECKPOINTABLE_OBJECT_GRAPH`` parsed by
TensorFlow's own ``trackable_object_graph_pb2``. For each SavedModel it writes the signatures
parsed by ``saved_model_pb2`` and the Keras metadata parsed by tf_keras's ``saved_metadata_pb2``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np
import tensorflow as tf
import tf_keras
from tensorflow.core.protobuf import saved_model_pb2, trackable_object_graph_pb2
from tf_keras.protobuf import saved_metadata_pb2

OUT = Path(sys.argv[1])
RNG = np.random.default_rng(11)


def checkpoint_oracle(name: str, prefix: Path, **extra: Any) -> None:
    reader = tf.train.load_checkpoint(str(prefix))
    dtypes = reader.get_variable_to_dtype_map()
    shapes = reader.get_variable_to_shape_map()
    keys: dict[str, Any] = {}
    for key in sorted(shapes):
        record: dict[str, Any] = {"dtype": dtypes[key].name, "shape": list(shapes[key])}
        if dtypes[key] == tf.string:
            value = reader.get_tensor(key)  # bytes for a scalar (numpy's "S" arrays drop trailing NULs)
            items = [value] if isinstance(value, bytes) else np.asarray(value, dtype=object).ravel()
            record["strings"] = [bytes(s).hex() for s in items]
        elif dtypes[key] != tf.variant:
            value = np.ascontiguousarray(reader.get_tensor(key))
            record["sha256"] = hashlib.sha256(value.tobytes()).hexdigest()
        keys[key] = record
    oracle: dict[str, Any] = {"prefix": str(prefix.relative_to(OUT)), "keys": keys, **extra}
    if "_CHECKPOINTABLE_OBJECT_GRAPH" in shapes:
        graph = trackable_object_graph_pb2.TrackableObjectGraph()
        graph.ParseFromString(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
        oracle["object_graph"] = [
            {
                "children": [[c.local_name, c.node_id] for c in node.children],
                "attributes": [[a.name, a.full_name, a.checkpoint_key] for a in node.attributes],
                "slots": [
                    [s.original_variable_node_id, s.slot_name, s.slot_variable_node_id]
                    for s in node.slot_variables
                ],
                "registered_saver": node.registered_saver.name,
            }
            for node in graph.nodes
        ]
    (OUT / f"{name}.oracle.json").write_text(json.dumps(oracle, indent=1))


def savedmodel_oracle(name: str, directory: Path) -> None:
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((directory / "saved_model.pb").read_bytes())

    def spec(info: Any) -> dict[str, Any]:
        kind = info.WhichOneof("encoding")
        shape = None
        if info.HasField("tensor_shape") and not info.tensor_shape.unknown_rank:
            shape = [d.size if d.size >= 0 else None for d in info.tensor_shape.dim]
        elif not info.HasField("tensor_shape"):
            shape = []
        return {
            "name": info.coo_sparse.values_tensor_name if kind == "coo_sparse" else info.name,
            "dtype": tf.as_dtype(info.dtype).name if info.dtype else "invalid",
            "shape": shape,
            "encoding": {"name": "dense", "coo_sparse": "coo_sparse", "composite_tensor": "composite"}[kind],
        }

    graphs = []
    for graph in proto.meta_graphs:
        graphs.append(
            {
                "tags": list(graph.meta_info_def.tags),
                "tensorflow_version": graph.meta_info_def.tensorflow_version,
                "signatures": {
                    key: {
                        "method": sig.method_name,
                        "inputs": {k: spec(v) for k, v in sig.inputs.items()},
                        "outputs": {k: spec(v) for k, v in sig.outputs.items()},
                    }
                    for key, sig in graph.signature_def.items()
                },
            }
        )
    oracle: dict[str, Any] = {"meta_graphs": graphs}
    if (directory / "keras_metadata.pb").exists():
        metadata = saved_metadata_pb2.SavedMetadata()
        metadata.ParseFromString((directory / "keras_metadata.pb").read_bytes())
        oracle["keras_metadata"] = [
            [n.node_id, n.node_path, n.identifier, n.metadata] for n in metadata.nodes
        ]
    (OUT / f"{name}.savedmodel.json").write_text(json.dumps(oracle, indent=1))
    checkpoint_oracle(name, directory / "variables" / "variables")


def save_raw(name: str, tensors: dict[str, Any], slices: dict[str, str] | None = None) -> Path:
    """A bundle written by the SaveV2 op itself: any dtype, no object graph."""
    (OUT / name).mkdir()
    prefix = OUT / name / "raw"
    names, specs, values = [], [], []
    for key, value in tensors.items():
        names.append(key.split("#")[0])
        specs.append((slices or {}).get(key, ""))
        values.append(value)
    tf.raw_ops.SaveV2(prefix=str(prefix), tensor_names=names, shape_and_slices=specs, tensors=values)
    return prefix


def dtypes() -> None:
    """Every dtype a Keras or TensorFlow checkpoint holds, scalars and empty tensors."""
    floats = RNG.normal(size=(3, 5))
    tensors = {
        "f16": tf.constant(floats, tf.float16),
        "f32": tf.constant(floats, tf.float32),
        "f64": tf.constant(floats, tf.float64),
        "bf16": tf.constant(floats, tf.bfloat16),
        "i8": tf.constant(RNG.integers(-128, 128, (4, 2)), tf.int8),
        "i16": tf.constant(RNG.integers(-(2**15), 2**15, (4, 2)), tf.int16),
        "i32": tf.constant(RNG.integers(-(2**31), 2**31, (4, 2)), tf.int32),
        "i64": tf.constant(RNG.integers(-(2**62), 2**62, (4, 2)), tf.int64),
        "u8": tf.constant(RNG.integers(0, 256, (7,)), tf.uint8),
        "u16": tf.constant(RNG.integers(0, 2**16, (7,)), tf.uint16),
        "u32": tf.constant(RNG.integers(0, 2**32, (7,)), tf.uint32),
        "u64": tf.constant(RNG.integers(0, 2**63, (7,)), tf.uint64),
        "c64": tf.complex(tf.constant(floats, tf.float32), tf.constant(-floats, tf.float32)),
        "bool": tf.constant(RNG.integers(0, 2, (2, 3)).astype(bool)),
        "scalar_f32": tf.constant(3.25, tf.float32),
        "scalar_i64": tf.constant(-(2**40), tf.int64),
        "scalar_bool": tf.constant(True),
        "empty_f32": tf.zeros((0, 4), tf.float32),
        "empty_str": tf.constant([], tf.string),
        "str": tf.constant([[b"", b"kernel"], [b"\xff\x00\x80 not utf-8", "ünïcode".encode()]]),
        "scalar_str": tf.constant(b"x" * 300),  # a 2-byte varint length
        "long_str": tf.constant([b"y" * 70_000, b"z"]),
    }
    checkpoint_oracle("dtypes", save_raw("dtypes", tensors))

    # The same through tf.train.Checkpoint: variables of each dtype a variable can have.
    variables = {
        name: tf.Variable(value)
        for name, value in tensors.items()
        if name not in ("u16", "u32", "u64", "c64", "empty_str", "long_str")
    }
    ckpt = tf.train.Checkpoint(**variables)
    checkpoint_oracle("dtypes_ckpt", Path(ckpt.write(str(OUT / "dtypes_ckpt" / "ckpt"))))


def small() -> None:
    ckpt = tf.train.Checkpoint(
        step=tf.Variable(7, dtype=tf.int64), w=tf.Variable(RNG.normal(size=(4, 3)).astype("float32"))
    )
    checkpoint_oracle("small", Path(ckpt.write(str(OUT / "small" / "ckpt"))))


def many() -> None:
    """Indexes far over one 256 KiB table block: 40 000 raw tensors, and 5 000 variables."""
    tensors = {
        f"model/layer_with_weights-{i}/sub_{i % 13}/kernel/.ATTRIBUTES/VARIABLE_VALUE": tf.constant(
            np.full((i % 5 + 1,), i, np.float32)
        )
        for i in range(40_000)
    }
    checkpoint_oracle("many_raw", save_raw("many_raw", tensors))
    layers = {
        f"encoder_block_{i:04d}_attention_query_kernel": tf.Variable(
            np.full((i % 4 + 1, 2), i, np.float32), name=f"encoder/block_{i}/attention/query/kernel"
        )
        for i in range(5_000)
    }
    ckpt = tf.train.Checkpoint(layers=layers, step=tf.Variable(0, dtype=tf.int64))
    checkpoint_oracle("many_ckpt", Path(ckpt.write(str(OUT / "many_ckpt" / "ckpt"))))


def sliced() -> None:
    """Partitioned variables: slices written by SaveV2, by a TF1 Saver with a partitioner, and by
    TF2's maximum-shard-size policy splitting a large variable across data shards."""
    full = RNG.normal(size=(10, 4)).astype("float32")
    tensors = {"w#0": tf.constant(full[:5]), "w#1": tf.constant(full[5:]), "b": tf.constant([1.0, 2.0])}
    slices = {"w#0": "10 4 0,5:-", "w#1": "10 4 5,5:-"}
    checkpoint_oracle("sliced_raw", save_raw("sliced_raw", tensors, slices))

    with tf.Graph().as_default():
        tf.compat.v1.get_variable(
            "emb", shape=(10, 6), partitioner=tf.compat.v1.fixed_size_partitioner(3), dtype=tf.float32
        )
        tf.compat.v1.get_variable("bias", shape=(6,), dtype=tf.float32)
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            prefix = saver.save(session, str(OUT / "sliced_v1" / "model"))
    checkpoint_oracle("sliced_v1", Path(prefix))

    ckpt = tf.train.Checkpoint(
        big=tf.Variable(np.arange(2_000, dtype=np.float32).reshape(200, 10)),
        small=tf.Variable(np.ones((3,), np.float32)),
        other=tf.Variable(np.zeros((50,), np.float64)),
    )
    policy = tf.train.experimental.MaxShardSizePolicy(max_shard_size=2_000)
    options = tf.train.CheckpointOptions(experimental_sharding_callback=policy)
    prefix = ckpt.write(str(OUT / "sharded" / "ckpt"), options=options)
    checkpoint_oracle("sharded", Path(prefix))


def variant() -> None:
    """A dataset iterator's state: a variant tensor."""
    iterator = iter(tf.data.Dataset.range(10))
    next(iterator)
    ckpt = tf.train.Checkpoint(iterator=iterator)
    checkpoint_oracle("variant", Path(ckpt.write(str(OUT / "variant" / "ckpt"))))


def keras_model(optimizer: Any = None) -> tf_keras.Model:
    inputs = tf_keras.Input((8,), name="x")
    hidden = tf_keras.layers.Dense(16, activation="relu", name="hidden")(inputs)
    hidden = tf_keras.layers.BatchNormalization(name="bn")(hidden)
    outputs = tf_keras.layers.Dense(3, name="out")(hidden)
    model = tf_keras.Model(inputs, outputs, name="tiny")
    model.compile(optimizer=optimizer or tf_keras.optimizers.Adam(1e-3), loss="mse")
    model.fit(RNG.normal(size=(32, 8)), RNG.normal(size=(32, 3)), epochs=1, verbose=0)
    return model


def keras() -> None:
    model = keras_model()
    model.save_weights(str(OUT / "keras_weights" / "ckpt"))  # no .h5 suffix: the TF format
    checkpoint_oracle("keras_weights", OUT / "keras_weights" / "ckpt")
    model.save(str(OUT / "keras_savedmodel"), save_format="tf")
    # The legacy optimizer keeps its state in slot variables (".OPTIMIZER_SLOT" keys).
    legacy = keras_model(tf_keras.optimizers.legacy.Adam(1e-3))
    legacy.save_weights(str(OUT / "keras_weights_legacy" / "ckpt"))
    checkpoint_oracle("keras_weights_legacy", OUT / "keras_weights_legacy" / "ckpt")
    savedmodel_oracle("keras_savedmodel", OUT / "keras_savedmodel")


class Module(tf.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = tf.Variable(RNG.normal(size=(3, 2)).astype("float32"), name="w")
        self.count = tf.Variable(0, dtype=tf.int64, name="count")

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def predict(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"y": tf.matmul(x, self.w), "rows": tf.shape(x)[0]}

    @tf.function(input_signature=[tf.TensorSpec(None, tf.string, name="s"), tf.TensorSpec([], tf.int64)])
    def lengths(self, s: tf.Tensor, k: tf.Tensor) -> tf.Tensor:
        return tf.cast(tf.strings.length(s), tf.int64) + k

    @tf.function(
        input_signature=[
            tf.TensorSpec([2, None, 4], tf.bfloat16, name="h"),
            tf.SparseTensorSpec([None, 5], tf.float64),
        ]
    )
    def mixed(self, h: tf.Tensor, sparse: tf.SparseTensor) -> dict[str, tf.Tensor]:
        return {"h": h * 2, "total": tf.sparse.reduce_sum(sparse), "flag": tf.constant(True)}


def module() -> None:
    m = Module()
    signatures = {"serving_default": m.predict, "lengths": m.lengths, "mixed": m.mixed}
    tf.saved_model.save(m, str(OUT / "module_savedmodel"), signatures=signatures)
    savedmodel_oracle("module_savedmodel", OUT / "module_savedmodel")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for build in (small, dtypes, many, sliced, variant, keras, module):
        build()
