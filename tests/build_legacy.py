"""Build the old-layout fixtures: Keras <= 2.2.0 and Keras 1.x ``.h5`` files, each with its oracle.

Run as ``python tests/build_legacy.py OUTDIR``. Neither Keras 1 nor Keras <= 2.2 installs
here, so:

* ``k22_*``: a model built and saved with tf_keras, whose ``model_config`` is then rewritten into
  the form Keras <= 2.2.0's ``Sequential.get_config`` wrote (a bare list of ``{class_name,
  config}`` entries, no InputLayer, the input shape on the first layer, ``keras_version``
  '2.2.0'). tf_keras must load the rewritten file (else the build fails): the loaded model is the
  oracle, and Keras 3's summary of it, where Keras 3 loads it, is the text oracle.
* ``k1_*``: files crafted with h5py as Keras 1.2.2 wrote them (keras/models.py ``save_model``,
  keras/engine/topology.py ``save_weights_to_hdf5_group``, each layer's ``get_config`` and
  ``build``): Keras 1 class names, arguments, layer names and weight names and layouts (Theano
  ordered kernels, per-gate LSTM/GRU weights). The oracle is the Keras 2 equivalent model built
  with tf_keras, loading those very weights with tf_keras's own Keras 1 converter
  (``load_weights`` on the file: a ``model_weights`` group without ``keras_version`` is Keras 1):
  a layout crafted wrong fails the build.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import h5py
import numpy as np
from build_zoo import TEXT_VARIANTS, _size, keras2_layer, keras3_summary

RNG = np.random.default_rng(0)


def oracle_of(model: Any, **extra: Any) -> dict[str, Any]:
    return {
        "name": model.name,
        "total_params": model.count_params(),
        "trainable_params": _size(model.trainable_weights),
        "non_trainable_params": _size(model.non_trainable_weights),
        "layers": [keras2_layer(layer) for layer in model.layers],
        **extra,
    }


# --- Keras <= 2.2.0: tf_keras models with the config rewritten into a bare list -------------------


def k22_models() -> dict[str, Callable[[], Any]]:
    import tf_keras as keras
    from tf_keras import layers

    def mlp() -> Any:
        model = keras.Sequential(
            [
                layers.Dense(32, activation="relu", input_shape=(20,), name="dense_1"),
                layers.Dropout(0.2, name="dropout_1"),
                layers.Dense(10, activation="softmax", name="dense_2"),
            ],
        )
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        model.fit(RNG.normal(size=(8, 20)), np.eye(10)[RNG.integers(0, 10, 8)], epochs=1, verbose=0)
        return model

    def cnn() -> Any:
        return keras.Sequential(
            [
                layers.Conv2D(8, 3, activation="relu", input_shape=(28, 28, 1), name="conv2d_1"),
                layers.MaxPooling2D(name="max_pooling2d_1"),
                layers.BatchNormalization(name="batch_normalization_1"),
                layers.Conv2D(4, 3, strides=2, padding="same", name="conv2d_2"),
                layers.Flatten(name="flatten_1"),
                layers.Dense(10, name="dense_1"),
            ],
        )

    def rnn() -> Any:
        return keras.Sequential(
            [
                layers.Embedding(100, 8, input_length=12, name="embedding_1"),
                layers.LSTM(16, return_sequences=True, name="lstm_1"),
                layers.GRU(6, reset_after=False, name="gru_1"),
                layers.Dense(1, activation="sigmoid", name="dense_1"),
            ],
        )

    def nested() -> Any:
        inner = keras.Sequential(
            [layers.Dense(8, input_shape=(4,), name="dense_1"), layers.Dense(8, name="dense_2")],
            name="sequential_1",
        )
        return keras.Sequential([inner, layers.Dense(2, name="dense_3")])

    return {"k22_mlp": mlp, "k22_cnn": cnn, "k22_rnn": rnn, "k22_nested": nested}


K22_TRAINING = {
    "optimizer_config": {
        "class_name": "Adam",
        "config": {
            "lr": 0.001,
            "beta_1": 0.9,
            "beta_2": 0.999,
            "decay": 0.0,
            "epsilon": 1e-07,
            "amsgrad": False,
        },
    },
    "loss": "categorical_crossentropy",
    "metrics": ["accuracy"],
    "sample_weight_mode": None,
    "loss_weights": None,
}


def _strip(value: Any) -> Any:
    """Keras 2.2 configs have no ``module``/``registered_name`` keys (Keras 3 serialization)."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in ("module", "registered_name")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def bare_list(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Keras 2.2.0 ``Sequential.get_config``: ``[{"class_name", "config"}]`` for ``model.layers``
    (no InputLayer: its shape is the first layer's ``batch_input_shape``), nested ones alike."""
    layers = config["layers"]
    shape = None
    if layers and layers[0]["class_name"] == "InputLayer":
        shape = layers[0]["config"]["batch_input_shape"]
        layers = layers[1:]
    out = []
    for n, layer in enumerate(layers):
        cfg = _strip(layer["config"])
        if layer["class_name"] == "Sequential":
            cfg = bare_list(cfg)
        elif n == 0 and shape is not None:
            cfg["batch_input_shape"] = shape
        out.append({"class_name": layer["class_name"], "config": cfg})
    if shape is not None and out and out[0]["class_name"] == "Sequential":
        out[0]["config"][0]["config"]["batch_input_shape"] = shape
    return out


def build_k22(outdir: str) -> None:
    import keras
    import tf_keras

    for name, builder in k22_models().items():
        path = os.path.join(outdir, f"{name}.h5")
        original = os.path.join(outdir, f"{name}.tf_keras.h5")
        tf_keras.backend.clear_session()
        model = builder()
        model.save(original)
        optimizer = getattr(model, "optimizer", None)
        slots = _size(optimizer.variables) if optimizer is not None else 0
        shutil.copyfile(original, path)
        with h5py.File(path, "r+") as f:
            config = json.loads(f.attrs["model_config"])
            config = {"class_name": "Sequential", "config": bare_list(config["config"])}
            f.attrs["model_config"] = json.dumps(config).encode("utf8")
            if "training_config" in f.attrs:  # Keras 2.2.0 ``save_model``'s training_config
                f.attrs["training_config"] = json.dumps(K22_TRAINING).encode("utf8")
            f.attrs["keras_version"] = b"2.2.0"
            f.attrs["backend"] = b"tensorflow"
            if "model_weights" in f:
                f["model_weights"].attrs["keras_version"] = b"2.2.0"
                f["model_weights"].attrs["backend"] = b"tensorflow"
        tf_keras.backend.clear_session()
        loaded = tf_keras.models.load_model(path)  # the rewritten file must still load
        oracle = oracle_of(loaded, summary={}, optimizer_params=slots)
        # Keras 3 cannot load the bare list (its legacy loader pops keys off the config); the text
        # oracle is its summary of the same model saved the tf_keras way, which it loads (except
        # the optimizer's slots: Keras 3 keeps only the iteration count of a tf_keras optimizer).
        keras.utils.clear_session()
        try:
            live = keras.saving.load_model(original)
            for variant, kwargs in TEXT_VARIANTS.items():
                oracle["summary"][variant] = keras3_summary(live, **kwargs)
        except Exception as exc:  # e.g. tf_keras RNN configs (time_major): no text oracle
            oracle["summary"]["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        os.remove(original)
        with open(os.path.join(outdir, f"{name}.oracle.json"), "w") as fh:
            json.dump(oracle, fh, indent=1)


# --- Keras 1.2.2: configs and weights as its get_config / build wrote them -------------------------

REG = {
    "W_regularizer": None,
    "b_regularizer": None,
    "activity_regularizer": None,
    "W_constraint": None,
    "b_constraint": None,
}


def base(name: str, shape: list[Any] | None = None, dtype: str = "float32") -> dict[str, Any]:
    """keras/engine/topology.py ``Layer.get_config`` (+ the input shape a first layer keeps)."""
    config: dict[str, Any] = {"name": name, "trainable": True}
    if shape is not None:
        config["batch_input_shape"] = shape
        config["input_dtype"] = dtype
    return config


def entry(class_name: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"class_name": class_name, "config": config}


def dense(name: str, units: int, input_dim: int, activation: str = "linear", **kw: Any) -> dict[str, Any]:
    return entry(
        "Dense",
        {
            **base(name, **kw),
            "output_dim": units,
            "init": "glorot_uniform",
            "activation": activation,
            **REG,
            "bias": True,
            "input_dim": input_dim,
        },
    )


def activation(name: str, fn: str) -> dict[str, Any]:
    return entry("Activation", {**base(name), "activation": fn})


def dropout(name: str, p: float) -> dict[str, Any]:
    return entry("Dropout", {**base(name), "p": p})


def conv2d(
    name: str,
    filters: int,
    rows: int,
    cols: int,
    ordering: str,
    cls: str = "Convolution2D",
    border: str = "valid",
    subsample: tuple[int, int] = (1, 1),
    **kw: Any,
) -> dict[str, Any]:
    extra = {"atrous_rate": list(kw.pop("atrous_rate"))} if "atrous_rate" in kw else {}
    return entry(
        cls,
        {
            **base(name, **kw),
            "nb_filter": filters,
            "nb_row": rows,
            "nb_col": cols,
            "init": "glorot_uniform",
            "activation": kw.get("act", "linear"),
            "border_mode": border,
            "subsample": list(subsample),
            "dim_ordering": ordering,
            **REG,
            "bias": True,
            **extra,
        },
    )


def recurrent(
    cls: str, name: str, units: int, input_dim: int, consume_less: str, **kw: Any
) -> dict[str, Any]:
    config = {
        **base(name),
        "output_dim": units,
        "init": "glorot_uniform",
        "inner_init": "orthogonal",
        "activation": "tanh",
        "inner_activation": "hard_sigmoid",
        "W_regularizer": None,
        "U_regularizer": None,
        "b_regularizer": None,
        "dropout_W": kw.get("dropout_W", 0.0),
        "dropout_U": kw.get("dropout_U", 0.0),
        "return_sequences": kw.get("return_sequences", False),
        "go_backwards": False,
        "stateful": False,
        "unroll": False,
        "consume_less": consume_less,
        "input_dim": input_dim,
        "input_length": kw.get("input_length"),
    }
    if cls == "LSTM":
        config["forget_bias_init"] = "one"
    return entry(cls, config)


def embedding(name: str, vocab: int, dim: int, length: int, dropout: float = 0.0) -> dict[str, Any]:
    return entry(
        "Embedding",
        {
            **base(name, [None, length], "int32"),
            "input_dim": vocab,
            "output_dim": dim,
            "init": "uniform",
            "input_length": length,
            "mask_zero": False,
            "activity_regularizer": None,
            "W_regularizer": None,
            "W_constraint": None,
            "dropout": dropout,
        },
    )


def merge(name: str, mode: str, concat_axis: int = -1) -> dict[str, Any]:
    return entry(
        "Merge",
        {
            "name": name,
            "mode": mode,
            "mode_type": "raw",
            "concat_axis": concat_axis,
            "dot_axes": -1,
            "output_shape": None,
            "output_shape_type": "raw",
            "output_mask": None,
            "output_mask_type": "raw",
            "arguments": {},
        },
    )


def arrays(*shapes: tuple[int, ...]) -> list[np.ndarray]:
    return [RNG.normal(size=s).astype("float32") for s in shapes]


def lstm_gates(inputs: int, units: int, gates: str = "icfo") -> list[tuple[str, np.ndarray]]:
    """Keras 1 LSTM/GRU with consume_less 'cpu'/'mem': W_g, U_g, b_g per gate, in this order."""
    out = []
    for gate in gates:
        w, u, b = arrays((inputs, units), (units, units), (units,))
        out += [(f"W_{gate}", w), (f"U_{gate}", u), (f"b_{gate}", b)]
    return out


class Keras1File:
    """A Keras 1.2.2 HDF5 file: ``model_config`` and ``model_weights`` as ``save_model`` wrote them."""

    def __init__(
        self,
        model_config: Any,
        weights: list[tuple[str, list[tuple[str, np.ndarray]]]],
        theano: bool = False,
        version: str | None = "1.2.2",
    ) -> None:
        self.config = model_config
        self.weights = weights  # (layer name, [(short weight name, value)]) in layer order
        self.suffix = "" if theano else ":0"  # TensorFlow variables are named "<name>:0"
        self.version = version

    def _group(self, group: h5py.Group, weights: list[tuple[str, list[tuple[str, np.ndarray]]]]) -> None:
        group.attrs["layer_names"] = [name.encode("utf8") for name, _ in weights]
        for layer, values in weights:
            g = group.create_group(layer)
            names = [f"{_variable(layer, w)}{self.suffix}" for w, _ in values]
            g.attrs["weight_names"] = [n.encode("utf8") for n in names]
            for n, (_, value) in zip(names, values, strict=True):
                g.create_dataset(n, value.shape, dtype=value.dtype)[:] = value

    def save(self, path: str, training: dict[str, Any] | None = None) -> None:
        with h5py.File(path, "w") as f:
            if self.version is not None:
                f.attrs["keras_version"] = self.version.encode("utf8")
            f.attrs["model_config"] = json.dumps(self.config).encode("utf8")
            self._group(f.create_group("model_weights"), self.weights)
            if training is not None:
                f.attrs["training_config"] = json.dumps(training).encode("utf8")
                group = f.create_group("optimizer_weights")
                values = [v for _, ws in self.weights for _, v in ws]
                names = [f"Variable_{i}{self.suffix}" for i in range(len(values))]
                group.attrs["weight_names"] = [n.encode("utf8") for n in names]
                for n, v in zip(names, values, strict=True):
                    group.create_dataset(n, v.shape, dtype=v.dtype)[:] = np.zeros_like(v)

    def save_weights(self, path: str) -> None:
        """keras/engine/topology.py ``Container.save_weights``: the layout at the file's root."""
        with h5py.File(path, "w") as f:
            self._group(f, self.weights)


def _variable(layer: str, weight: str) -> str:
    """The name Keras 1 gave a variable, ``<layer>_<weight>`` (``name='{}_W'.format(self.name)``).
    Weights of a nested model or of a Bidirectional's halves were created by their own layer:
    written ``<that layer>:<weight>`` here."""
    owner, _, short = weight.rpartition(":")
    return f"{owner or layer}_{short}"


def k1_models() -> dict[str, tuple[Keras1File, Callable[[], Any], dict[str, Any]]]:
    """name → (the Keras 1 file, its tf_keras equivalent, save options)."""
    import tf_keras as keras
    from tf_keras import layers

    models: dict[str, tuple[Keras1File, Callable[[], Any], dict[str, Any]]] = {}

    # An MLP (keras/examples/mnist_mlp.py), TensorFlow backend, compiled, and also saved weights-only.
    mlp_config = {
        "class_name": "Sequential",
        "config": [
            dense("dense_1", 64, 100, "relu", shape=[None, 100]),
            dropout("dropout_1", 0.2),
            dense("dense_2", 10, 64),
            activation("activation_1", "softmax"),
        ],
    }
    mlp_weights = [
        ("dense_1", list(zip(["W", "b"], arrays((100, 64), (64,)), strict=True))),
        ("dropout_1", []),
        ("dense_2", list(zip(["W", "b"], arrays((64, 10), (10,)), strict=True))),
        ("activation_1", []),
    ]
    training = {
        "optimizer_config": {
            "class_name": "SGD",
            "config": {"lr": 0.01, "momentum": 0.0, "decay": 0.0, "nesterov": False},
        },
        "loss": "categorical_crossentropy",
        "metrics": ["accuracy"],
        "sample_weight_mode": None,
        "loss_weights": None,
    }

    def mlp() -> Any:
        return keras.Sequential(
            [
                layers.Dense(64, activation="relu", input_shape=(100,), name="dense_1"),
                layers.Dropout(0.2, name="dropout_1"),
                layers.Dense(10, name="dense_2"),
                layers.Activation("softmax", name="activation_1"),
            ]
        )

    models["k1_mlp"] = (
        Keras1File(mlp_config, mlp_weights),
        mlp,
        {"training": training, "weights_only": True},
    )

    # A Theano-ordered CNN (keras/examples/mnist_cnn.py, dim_ordering 'th'), Theano variable names,
    # and no keras_version (Keras 1.0 wrote none).
    th_config = {
        "class_name": "Sequential",
        "config": [
            conv2d("convolution2d_1", 8, 3, 3, "th", shape=[None, 1, 12, 12]),
            activation("activation_1", "relu"),
            conv2d("convolution2d_2", 8, 3, 3, "th"),
            activation("activation_2", "relu"),
            entry(
                "MaxPooling2D",
                {
                    **base("maxpooling2d_1"),
                    "pool_size": [2, 2],
                    "border_mode": "valid",
                    "strides": [2, 2],
                    "dim_ordering": "th",
                },
            ),
            dropout("dropout_1", 0.25),
            entry("Flatten", base("flatten_1")),
            dense("dense_1", 16, 128, "relu"),
            dropout("dropout_2", 0.5),
            dense("dense_2", 10, 16),
            activation("activation_3", "softmax"),
        ],
    }
    th_weights = [
        ("convolution2d_1", list(zip(["W", "b"], arrays((8, 1, 3, 3), (8,)), strict=True))),
        ("activation_1", []),
        ("convolution2d_2", list(zip(["W", "b"], arrays((8, 8, 3, 3), (8,)), strict=True))),
        *[(n, []) for n in ("activation_2", "maxpooling2d_1", "dropout_1", "flatten_1")],
        ("dense_1", list(zip(["W", "b"], arrays((128, 16), (16,)), strict=True))),
        ("dropout_2", []),
        ("dense_2", list(zip(["W", "b"], arrays((16, 10), (10,)), strict=True))),
        ("activation_3", []),
    ]

    def cnn_th() -> Any:
        cf = "channels_first"
        return keras.Sequential(
            [
                layers.Conv2D(8, 3, data_format=cf, input_shape=(1, 12, 12), name="convolution2d_1"),
                layers.Activation("relu", name="activation_1"),
                layers.Conv2D(8, 3, data_format=cf, name="convolution2d_2"),
                layers.Activation("relu", name="activation_2"),
                layers.MaxPooling2D(2, data_format=cf, name="maxpooling2d_1"),
                layers.Dropout(0.25, name="dropout_1"),
                layers.Flatten(name="flatten_1"),
                layers.Dense(16, activation="relu", name="dense_1"),
                layers.Dropout(0.5, name="dropout_2"),
                layers.Dense(10, name="dense_2"),
                layers.Activation("softmax", name="activation_3"),
            ]
        )

    models["k1_cnn_th"] = (
        Keras1File(th_config, th_weights, theano=True, version=None),
        cnn_th,
        {"json": True},
    )

    # A TensorFlow-ordered CNN: strides, 'same', BatchNormalization, separable and atrous convolutions.
    sep = {
        **base("separableconvolution2d_1"),
        "nb_filter": 6,
        "nb_row": 3,
        "nb_col": 3,
        "init": "glorot_uniform",
        "activation": "linear",
        "border_mode": "same",
        "subsample": [1, 1],
        "depth_multiplier": 2,
        "dim_ordering": "tf",
        "depthwise_regularizer": None,
        "pointwise_regularizer": None,
        "b_regularizer": None,
        "activity_regularizer": None,
        "depthwise_constraint": None,
        "pointwise_constraint": None,
        "b_constraint": None,
        "bias": True,
    }
    tf_config = {
        "class_name": "Sequential",
        "config": [
            conv2d(
                "convolution2d_1", 4, 3, 3, "tf", border="same", subsample=(2, 2), shape=[None, 16, 16, 3]
            ),
            entry(
                "BatchNormalization",
                {
                    **base("batchnormalization_1"),
                    "epsilon": 0.001,
                    "mode": 0,
                    "axis": -1,
                    "gamma_regularizer": None,
                    "beta_regularizer": None,
                    "momentum": 0.99,
                },
            ),
            activation("activation_1", "relu"),
            entry(
                "MaxPooling2D",
                {
                    **base("maxpooling2d_1"),
                    "pool_size": [2, 2],
                    "border_mode": "valid",
                    "strides": [2, 2],
                    "dim_ordering": "tf",
                },
            ),
            entry("SeparableConvolution2D", sep),
            conv2d("atrousconvolution2d_1", 5, 2, 2, "tf", cls="AtrousConvolution2D", atrous_rate=(2, 2)),
            entry("GlobalAveragePooling2D", {**base("globalaveragepooling2d_1"), "dim_ordering": "tf"}),
            dense("dense_1", 3, 5),
        ],
    }
    tf_weights = [
        ("convolution2d_1", list(zip(["W", "b"], arrays((3, 3, 3, 4), (4,)), strict=True))),
        (
            "batchnormalization_1",
            list(
                zip(
                    ["gamma", "beta", "running_mean", "running_std"],
                    arrays((4,), (4,), (4,), (4,)),
                    strict=True,
                )
            ),
        ),
        ("activation_1", []),
        ("maxpooling2d_1", []),
        (
            "separableconvolution2d_1",
            list(
                zip(
                    ["depthwise_kernel", "pointwise_kernel", "b"],
                    arrays((3, 3, 4, 2), (1, 1, 8, 6), (6,)),
                    strict=True,
                )
            ),
        ),
        ("atrousconvolution2d_1", list(zip(["W", "b"], arrays((2, 2, 6, 5), (5,)), strict=True))),
        ("globalaveragepooling2d_1", []),
        ("dense_1", list(zip(["W", "b"], arrays((5, 3), (3,)), strict=True))),
    ]

    def cnn_tf() -> Any:
        return keras.Sequential(
            [
                layers.Conv2D(
                    4, 3, strides=2, padding="same", input_shape=(16, 16, 3), name="convolution2d_1"
                ),
                layers.BatchNormalization(name="batchnormalization_1"),
                layers.Activation("relu", name="activation_1"),
                layers.MaxPooling2D(2, name="maxpooling2d_1"),
                layers.SeparableConv2D(
                    6, 3, padding="same", depth_multiplier=2, name="separableconvolution2d_1"
                ),
                layers.Conv2D(5, 2, dilation_rate=2, name="atrousconvolution2d_1"),
                layers.GlobalAveragePooling2D(name="globalaveragepooling2d_1"),
                layers.Dense(3, name="dense_1"),
            ]
        )

    models["k1_cnn_tf"] = (Keras1File(tf_config, tf_weights), cnn_tf, {})

    # Embedding + LSTM (per-gate weights, consume_less 'cpu') + TimeDistributedDense + GRU ('gpu').
    tdd = {
        **base("timedistributeddense_1"),
        "output_dim": 4,
        "init": "glorot_uniform",
        "activation": "linear",
        **REG,
        "bias": True,
        "input_dim": 6,
        "input_length": None,
    }
    rnn_config = {
        "class_name": "Sequential",
        "config": [
            embedding("embedding_1", 100, 8, 10, dropout=0.2),
            recurrent("LSTM", "lstm_1", 6, 8, "cpu", return_sequences=True, dropout_W=0.2, dropout_U=0.2),
            entry("TimeDistributedDense", tdd),
            recurrent("GRU", "gru_1", 5, 4, "gpu"),
            dense("dense_1", 1, 5),
            activation("activation_1", "sigmoid"),
        ],
    }
    rnn_weights = [
        ("embedding_1", [("W", arrays((100, 8))[0])]),
        ("lstm_1", lstm_gates(8, 6)),
        ("timedistributeddense_1", list(zip(["W", "b"], arrays((6, 4), (4,)), strict=True))),
        ("gru_1", list(zip(["W", "U", "b"], arrays((4, 15), (5, 15), (15,)), strict=True))),
        ("dense_1", list(zip(["W", "b"], arrays((5, 1), (1,)), strict=True))),
        ("activation_1", []),
    ]

    def rnn() -> Any:
        return keras.Sequential(
            [
                layers.Embedding(100, 8, input_length=10, name="embedding_1"),
                layers.LSTM(6, return_sequences=True, dropout=0.2, recurrent_dropout=0.2, name="lstm_1"),
                layers.TimeDistributed(layers.Dense(4), name="timedistributeddense_1"),
                layers.GRU(5, reset_after=False, name="gru_1"),
                layers.Dense(1, name="dense_1"),
                layers.Activation("sigmoid", name="activation_1"),
            ]
        )

    models["k1_rnn"] = (Keras1File(rnn_config, rnn_weights), rnn, {})

    # keras/examples/imdb_cnn_lstm.py: Convolution1D, MaxPooling1D, and a Bidirectional LSTM.
    bidi = {
        **base("bidirectional_1"),
        "merge_mode": "concat",
        "layer": recurrent("LSTM", "lstm_1", 3, 4, "mem"),
    }
    conv1d = {
        **base("convolution1d_1"),
        "nb_filter": 4,
        "filter_length": 3,
        "init": "glorot_uniform",
        "activation": "relu",
        "border_mode": "valid",
        "subsample_length": 1,
        **REG,
        "bias": True,
        "input_dim": 8,
        "input_length": None,
    }
    cnn_lstm_config = {
        "class_name": "Sequential",
        "config": [
            embedding("embedding_1", 50, 8, 20, dropout=0.2),
            dropout("dropout_1", 0.25),
            entry("Convolution1D", conv1d),
            entry(
                "MaxPooling1D",
                {**base("maxpooling1d_1"), "stride": 2, "pool_length": 2, "border_mode": "valid"},
            ),
            entry("Bidirectional", bidi),
            dense("dense_1", 1, 6),
            activation("activation_1", "sigmoid"),
        ],
    }
    bidi_weights = [(f"forward_lstm_1:{w}", v) for w, v in lstm_gates(4, 3)]
    bidi_weights += [(f"backward_lstm_1:{w}", v) for w, v in lstm_gates(4, 3)]
    cnn_lstm_weights = [
        ("embedding_1", [("W", arrays((50, 8))[0])]),
        ("dropout_1", []),
        ("convolution1d_1", list(zip(["W", "b"], arrays((3, 1, 8, 4), (4,)), strict=True))),
        ("maxpooling1d_1", []),
        ("bidirectional_1", bidi_weights),
        ("dense_1", list(zip(["W", "b"], arrays((6, 1), (1,)), strict=True))),
        ("activation_1", []),
    ]

    def cnn_lstm() -> Any:
        return keras.Sequential(
            [
                layers.Embedding(50, 8, input_length=20, name="embedding_1"),
                layers.Dropout(0.25, name="dropout_1"),
                layers.Conv1D(4, 3, activation="relu", name="convolution1d_1"),
                layers.MaxPooling1D(2, name="maxpooling1d_1"),
                layers.Bidirectional(layers.LSTM(3), name="bidirectional_1"),
                layers.Dense(1, name="dense_1"),
                layers.Activation("sigmoid", name="activation_1"),
            ]
        )

    models["k1_cnn_lstm"] = (Keras1File(cnn_lstm_config, cnn_lstm_weights), cnn_lstm, {})

    # A Keras 1 functional Model: two inputs, a nested Sequential, merge() in concat and sum modes,
    # two outputs (keras/engine/topology.py ``Container.get_config``).
    def node(*refs: str) -> list[list[list[Any]]]:
        # A container (the nested Sequential) starts with a node of its own, never serialized:
        # its calls are numbered from 1 (keras/engine/topology.py ``Container.get_config``).
        return [[[r, 1 if r.startswith("sequential") else 0, 0] for r in refs]]

    seq = [dense("dense_2", 16, 8, shape=[None, 8]), dense("dense_3", 16, 16, "relu")]
    fn_layers = [
        {
            "name": "input_1",
            "class_name": "InputLayer",
            "inbound_nodes": [],
            "config": {
                "batch_input_shape": [None, 10],
                "input_dtype": "float32",
                "sparse": False,
                "name": "input_1",
            },
        },
        {
            "name": "input_2",
            "class_name": "InputLayer",
            "inbound_nodes": [],
            "config": {
                "batch_input_shape": [None, 8],
                "input_dtype": "float32",
                "sparse": False,
                "name": "input_2",
            },
        },
        {**dense("dense_1", 16, 10, "relu"), "name": "dense_1", "inbound_nodes": node("input_1")},
        {"name": "sequential_1", "class_name": "Sequential", "config": seq, "inbound_nodes": node("input_2")},
        {**merge("merge_1", "concat"), "name": "merge_1", "inbound_nodes": node("dense_1", "sequential_1")},
        {**merge("merge_2", "sum"), "name": "merge_2", "inbound_nodes": node("dense_1", "sequential_1")},
        {**dense("dense_4", 4, 32, "softmax"), "name": "dense_4", "inbound_nodes": node("merge_1")},
        {**dense("dense_5", 1, 16), "name": "dense_5", "inbound_nodes": node("merge_2")},
    ]
    fn_config = {
        "class_name": "Model",
        "config": {
            "name": "model_1",
            "layers": fn_layers,
            "input_layers": [["input_1", 0, 0], ["input_2", 0, 0]],
            "output_layers": [["dense_4", 0, 0], ["dense_5", 0, 0]],
        },
    }
    fn_weights = [
        ("input_1", []),
        ("input_2", []),
        ("dense_1", list(zip(["W", "b"], arrays((10, 16), (16,)), strict=True))),
        (
            "sequential_1",
            [
                (f"dense_{i}:{w}", v)
                for i, shapes in ((2, ((8, 16), (16,))), (3, ((16, 16), (16,))))
                for w, v in zip(["W", "b"], arrays(*shapes), strict=True)
            ],
        ),
        ("merge_1", []),
        ("merge_2", []),
        ("dense_4", list(zip(["W", "b"], arrays((32, 4), (4,)), strict=True))),
        ("dense_5", list(zip(["W", "b"], arrays((16, 1), (1,)), strict=True))),
    ]

    def functional() -> Any:
        a, b = keras.Input((10,), name="input_1"), keras.Input((8,), name="input_2")
        inner = keras.Sequential(
            [
                layers.Dense(16, input_shape=(8,), name="dense_2"),
                layers.Dense(16, activation="relu", name="dense_3"),
            ],
            name="sequential_1",
        )
        x, y = layers.Dense(16, activation="relu", name="dense_1")(a), inner(b)
        m1 = layers.Concatenate(name="merge_1")([x, y])
        m2 = layers.Add(name="merge_2")([x, y])
        out = [layers.Dense(4, activation="softmax", name="dense_4")(m1), layers.Dense(1, name="dense_5")(m2)]
        return keras.Model([a, b], out, name="model_1")

    models["k1_functional"] = (Keras1File(fn_config, fn_weights), functional, {})

    # A Sequential whose first layer merges two Sequential branches (Keras 1's Merge([left, right])).
    left = [dense("dense_1", 8, 4, shape=[None, 4])]
    right = [dense("dense_2", 8, 6, shape=[None, 6]), activation("activation_1", "relu")]
    merged = merge("merge_1", "concat")
    merged["config"]["layers"] = [entry("Sequential", left), entry("Sequential", right)]
    ms_config = {"class_name": "Sequential", "config": [merged, dense("dense_3", 1, 16)]}
    ms_weights = [  # Sequential.flattened_layers: the branches' layers, then the rest
        ("dense_1", list(zip(["W", "b"], arrays((4, 8), (8,)), strict=True))),
        ("dense_2", list(zip(["W", "b"], arrays((6, 8), (8,)), strict=True))),
        ("activation_1", []),
        ("dense_3", list(zip(["W", "b"], arrays((16, 1), (1,)), strict=True))),
    ]

    def merge_seq() -> Any:
        a, b = keras.Input((4,), name="dense_1_input"), keras.Input((6,), name="dense_2_input")
        x = layers.Dense(8, name="dense_1")(a)
        y = layers.Activation("relu", name="activation_1")(layers.Dense(8, name="dense_2")(b))
        z = layers.Concatenate(name="merge_1")([x, y])
        return keras.Model([a, b], layers.Dense(1, name="dense_3")(z), name="sequential")

    models["k1_merge_seq"] = (Keras1File(ms_config, ms_weights), merge_seq, {})
    return models


def build_k1(outdir: str) -> None:
    import tf_keras

    for name, (k1file, equivalent, options) in k1_models().items():
        path = os.path.join(outdir, f"{name}.h5")
        k1file.save(path, training=options.get("training"))
        if options.get("weights_only"):
            k1file.save_weights(os.path.join(outdir, f"{name}.weights.hdf5"))
        if options.get("json"):  # keras/engine/topology.py ``Container.to_json``
            with open(os.path.join(outdir, f"{name}.json"), "w") as fh:
                json.dump({**k1file.config, "keras_version": "1.2.2"}, fh)
        tf_keras.backend.clear_session()
        model = equivalent()
        # tf_keras's Keras 1 converter must accept the crafted layouts, for every layer with weights.
        model.load_weights(path, by_name=True)
        stored = {layer for layer, values in k1file.weights if values}
        assert stored == {layer.name for layer in model.layers if layer.weights}, name
        with open(os.path.join(outdir, f"{name}.oracle.json"), "w") as fh:
            json.dump(oracle_of(model), fh, indent=1)


def main() -> int:
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    build_k22(outdir)
    build_k1(outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
