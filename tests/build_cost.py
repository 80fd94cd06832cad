"""Builds the models of tests/test_cost.py in a child, with TensorFlow's float-operation count beside them.

``k2``: small tf_keras models of every layer family, and keras.applications ResNet50 and
MobileNetV2 (architecture only, ``<name>.json``: kinspect reads a config alone). For each, the
inference function at batch 1 is frozen (``convert_variables_to_constants_v2``) and profiled with
``tf.compat.v1.profiler`` and ``ProfileOptionBuilder.float_operation()`` (the usual recipe for
"FLOPs of a Keras model"); ``<name>.profile.json`` holds the profiler's float operations per op
type (each node of the ``scope`` view by its op type) and in total. RNNs are unrolled
(``unroll=True``): the profiler counts the body of a ``while`` loop once, not once per step.
``k3``: keras.applications.VGG16 as a config alone (``VGG16.config.json``; its weights would
be half a gigabyte), and a sequence model saved with an unknown length and with length 10.
"""

import json
import os
import sys
import warnings

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.simplefilter("ignore")
if len(sys.argv) == 2:  # tests/keras_build.py: both flavours, each in a process of its own
    import subprocess

    for name in ("k3", "k2"):
        subprocess.run([sys.executable, __file__, sys.argv[1], name], check=True)
    sys.exit(0)
out, flavour = sys.argv[1], sys.argv[2]

if flavour == "k3":
    import keras

    model = keras.applications.VGG16(weights=None)
    with open(f"{out}/VGG16.config.json", "w") as fh:
        json.dump(keras.saving.serialize_keras_object(model), fh)

    def sequence(steps):
        x = keras.Input((steps, 4))
        y = keras.layers.Conv1D(6, 3, padding="same", name="conv")(x)
        y = keras.layers.LSTM(3, name="lstm")(y)
        return keras.Model(x, keras.layers.Dense(2, name="out")(y), name="sequence")

    sequence(None).save(f"{out}/sequence_free.keras")
    sequence(10).save(f"{out}/sequence_10.keras")
    sys.exit(0)

import tensorflow as tf  # noqa: E402  (after the Keras 3 flavour has exited)
import tf_keras as keras  # noqa: E402
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2  # noqa: E402

layers = keras.layers


def profile(model: keras.Model) -> dict:
    """The profiler's float operations of the frozen inference graph at batch 1, per op type."""
    specs = [tf.TensorSpec((1, *t.shape[1:]), t.dtype) for t in model.inputs]
    fn = tf.function(lambda *xs: model(list(xs) if len(xs) > 1 else xs[0], training=False))
    frozen = convert_variables_to_constants_v2(fn.get_concrete_function(*specs))
    graph_def = frozen.graph.as_graph_def()
    with tf.Graph().as_default() as graph:
        tf.graph_util.import_graph_def(graph_def, name="")
        options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        options["output"] = "none"
        found = tf.compat.v1.profiler.profile(
            graph, run_meta=tf.compat.v1.RunMetadata(), cmd="scope", options=options
        )
        kinds = {op.name: op.type for op in graph.get_operations()}
    ops: dict = {}

    def visit(node) -> None:
        if node.float_ops:
            kind = kinds.get(node.name, "?")
            ops[kind] = ops.get(kind, 0) + int(node.float_ops)
        for child in node.children:
            visit(child)

    visit(found)
    return {"ops": ops, "total": int(found.total_float_ops)}


MODELS = {}


def model(fn):
    MODELS[fn.__name__] = fn
    return fn


@model
def dense():
    x = keras.Input((20,))
    y = layers.Dense(30, activation="relu", name="hidden")(x)
    y = layers.Dense(12, use_bias=False, name="nobias")(y)
    return keras.Model(x, layers.Dense(5, activation="softmax", name="out")(y), name="dense")


@model
def conv2d():
    x = keras.Input((32, 32, 3))
    y = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="c1")(x)
    y = layers.Conv2D(16, (3, 5), padding="valid", use_bias=False, name="c2")(y)
    y = layers.MaxPooling2D(2, name="maxpool")(y)
    y = layers.Conv2D(16, 1, groups=4, name="grouped")(y)
    y = layers.AveragePooling2D(2, strides=1, name="avgpool")(y)
    y = layers.GlobalAveragePooling2D(name="gap")(y)
    return keras.Model(x, layers.Dense(4, name="out")(y), name="conv2d")


@model
def conv_ranks():
    a = keras.Input((50, 4))
    x = layers.Conv1D(8, 5, padding="causal", dilation_rate=2, name="c1d")(a)
    x = layers.Conv1DTranspose(6, 3, strides=2, padding="same", name="t1d")(x)
    x = layers.GlobalMaxPooling1D(name="gmp")(x)
    b = keras.Input((8, 8, 8, 2))
    y = layers.Conv3D(4, 3, name="c3d")(b)
    y = layers.Flatten(name="flat")(y)
    c = keras.Input((7, 7, 5))
    z = layers.Conv2DTranspose(3, 3, strides=2, padding="same", name="t2d")(c)
    z = layers.Flatten(name="flat2")(z)
    merged = layers.Concatenate(name="concat")([x, y, z])
    return keras.Model([a, b, c], layers.Dense(2, name="out")(merged), name="conv_ranks")


@model
def depthwise():
    x = keras.Input((16, 16, 6))
    y = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw")(x)
    y = layers.SeparableConv2D(10, 3, depth_multiplier=1, strides=2, name="sep")(y)
    y = layers.BatchNormalization(name="bn")(y)
    y = layers.ReLU(name="relu")(y)
    y = layers.Reshape((7 * 7, 10), name="reshape")(y)
    y = layers.SeparableConv1D(4, 3, depth_multiplier=2, name="sep1d")(y)
    return keras.Model(x, y, name="depthwise")


@model
def norms():
    x = keras.Input((10, 12))
    y = layers.LayerNormalization(name="ln")(x)
    y = layers.Conv1D(12, 1, name="pw")(y)
    y = layers.GroupNormalization(groups=3, center=False, name="gn")(y)
    y = layers.UnitNormalization(name="un")(y)
    y = layers.Activation("tanh", name="act")(y)
    y = layers.LeakyReLU(name="leaky")(y)
    return keras.Model(x, layers.Softmax(name="softmax")(y), name="norms")


@model
def merges():
    a, b, c = keras.Input((6, 4)), keras.Input((6, 4)), keras.Input((6, 4))
    s = layers.Add(name="add")([a, b, c])
    m = layers.Multiply(name="mul")([a, b])
    v = layers.Average(name="avg")([s, m])
    d = layers.Subtract(name="sub")([v, c])
    e = layers.Maximum(name="max")([d, a])
    dot = layers.Dot(axes=(2, 2), name="dot")([e, b])
    return keras.Model([a, b, c], dot, name="merges")


@model
def recurrent():
    tokens = keras.Input((12,), dtype="int32")
    x = layers.Embedding(100, 16, name="emb")(tokens)
    x = layers.LSTM(8, return_sequences=True, unroll=True, name="lstm")(x)
    x = layers.GRU(6, return_sequences=True, unroll=True, name="gru")(x)
    x = layers.Bidirectional(layers.SimpleRNN(5, return_sequences=True, unroll=True), name="bi")(x)
    x = layers.TimeDistributed(layers.Dense(3), name="td")(x)
    x = layers.GRU(4, reset_after=False, unroll=True, name="gru_v1")(x)
    return keras.Model(tokens, x, name="recurrent")


@model
def attention():
    q = keras.Input((9, 16))
    v = keras.Input((7, 12))
    x = layers.MultiHeadAttention(num_heads=3, key_dim=5, value_dim=4, name="mha")(q, v)
    y = layers.MultiHeadAttention(num_heads=2, key_dim=8, output_shape=10, use_bias=False, name="self")(x, x)
    z = layers.Attention(name="luong")([y, layers.Dense(10, name="proj")(v)])
    return keras.Model([q, v], z, name="attention")


@model
def einsum():
    x = keras.Input((6, 8))
    y = layers.EinsumDense("abc,cd->abd", output_shape=(None, 5), bias_axes="d", name="ed")(x)
    y = layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), name="ed2")(y)
    return keras.Model(x, y, name="einsum")


@model
def ResNet50():
    return keras.applications.ResNet50(weights=None)


@model
def MobileNetV2():
    return keras.applications.MobileNetV2(weights=None)


APPLICATIONS = {"ResNet50", "MobileNetV2"}

for name, build in MODELS.items():
    m = build()
    if name in APPLICATIONS:
        with open(f"{out}/{name}.json", "w") as fh:
            fh.write(m.to_json())
    else:
        m.save(f"{out}/{name}.h5")
        m.save(f"{out}/{name}.keras")
    with open(f"{out}/{name}.profile.json", "w") as fh:
        json.dump(profile(m), fh, indent=1, sort_keys=True)
