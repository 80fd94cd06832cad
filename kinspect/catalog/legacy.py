"""Keras 1 configs and weights, read the way Keras 2.0–2.2 read them.

Keras 1.x (and Keras <= 2.2.0) saved a ``Sequential`` config as a bare list of layers; Keras 1
also used other class names (``Convolution2D``), other arguments (``output_dim``, ``nb_filter``,
``border_mode``, ``dim_ordering``…) and other weight layouts (Theano-ordered kernels, one
weight per LSTM gate). Keras 2 loaded such files by translating every layer's arguments in its
constructor (keras/legacy/interfaces.py, ``legacy_*_support``), by aliasing the old class names
(keras/layers/convolutional.py: ``Convolution2D = Conv2D``…), by rebuilding a Sequential whose
first layer is a ``Merge`` of branch models (keras/models.py ``Sequential.legacy_from_config``,
Keras 2.0–2.1) and by converting weights on load (``preprocess_weights_for_loading``, kept in
tf_keras/src/saving/legacy/hdf5_format.py). This module does the same, statically:

* :func:`sequential_layers` turns a bare-list Sequential config into a ``layers`` config (a
  functional graph when its first layer is a Keras 1 ``Merge`` of branch models);
* :func:`translate_layer` maps one Keras 1 layer config to its Keras 2 class and arguments, so
  the shape rules and expected weights of the family modules apply unchanged;
* :func:`keras1_expected` derives the layout Keras 1 stored a layer's weights in from the
  Keras 2 expected weights, so they are checked without false contradictions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from kinspect.catalog.registry import KERAS1, Expected

# keras/layers/convolutional.py (Keras 2.0–2.2) aliases, and keras/legacy/layers.py
# AtrousConvolution1D/2D, which build a Conv1D/Conv2D with ``dilation_rate=atrous_rate``.
RENAMED = {
    "Convolution1D": "Conv1D",
    "Convolution2D": "Conv2D",
    "Convolution3D": "Conv3D",
    "AtrousConvolution1D": "Conv1D",
    "AtrousConvolution2D": "Conv2D",
    "SeparableConvolution2D": "SeparableConv2D",
    "Deconvolution2D": "Conv2DTranspose",
}

# Keras 1 class names no Keras 2 class has, known as Keras's own (not custom): the renamed ones and
# TimeDistributedDense. Not ``Merge``, a name custom tf.keras layers use too (a Keras 1 Merge is
# told by its config, see translate_layer), nor the classes Keras 2 dropped (Highway, MaxoutDense,
# SReLU, ParametricSoftplus), which no Keras since 2.2 loads without their code: kinspect reads
# their weights from the file and shows their shape as unknown.
KERAS1.update(RENAMED, {"TimeDistributedDense"})

# keras/legacy/interfaces.py: (Keras 1 argument, Keras 2 argument) per Keras 2 class.
_REGULARIZED = [
    ("init", "kernel_initializer"),
    ("W_regularizer", "kernel_regularizer"),
    ("b_regularizer", "bias_regularizer"),
    ("W_constraint", "kernel_constraint"),
    ("b_constraint", "bias_constraint"),
    ("bias", "use_bias"),
]
_DENSE = [("output_dim", "units"), *_REGULARIZED]
_CONV1D = [
    ("nb_filter", "filters"),
    ("filter_length", "kernel_size"),
    ("subsample_length", "strides"),
    ("border_mode", "padding"),
    ("atrous_rate", "dilation_rate"),
    *_REGULARIZED,
]
_CONV = [
    ("nb_filter", "filters"),
    ("subsample", "strides"),
    ("border_mode", "padding"),
    ("dim_ordering", "data_format"),
    ("atrous_rate", "dilation_rate"),
    *_REGULARIZED,
]
_SEPARABLE = [
    ("nb_filter", "filters"),
    ("subsample", "strides"),
    ("border_mode", "padding"),
    ("dim_ordering", "data_format"),
    ("b_regularizer", "bias_regularizer"),
    ("b_constraint", "bias_constraint"),
    ("bias", "use_bias"),
]
_RECURRENT = [
    ("output_dim", "units"),
    ("init", "kernel_initializer"),
    ("inner_init", "recurrent_initializer"),
    ("inner_activation", "recurrent_activation"),
    ("W_regularizer", "kernel_regularizer"),
    ("b_regularizer", "bias_regularizer"),
    ("U_regularizer", "recurrent_regularizer"),
    ("dropout_W", "dropout"),
    ("dropout_U", "recurrent_dropout"),
    ("consume_less", "implementation"),
]
_CONVLSTM = [
    ("nb_filter", "filters"),
    ("subsample", "strides"),
    ("border_mode", "padding"),
    ("dim_ordering", "data_format"),
    ("init", "kernel_initializer"),
    ("inner_init", "recurrent_initializer"),
    ("W_regularizer", "kernel_regularizer"),
    ("U_regularizer", "recurrent_regularizer"),
    ("b_regularizer", "bias_regularizer"),
    ("inner_activation", "recurrent_activation"),
    ("dropout_W", "dropout"),
    ("dropout_U", "recurrent_dropout"),
    ("bias", "use_bias"),
]
_ORDERING = [("dim_ordering", "data_format")]
_POOL1D = [("pool_length", "pool_size"), ("stride", "strides"), ("border_mode", "padding")]
_POOL = [("border_mode", "padding"), ("dim_ordering", "data_format")]

CONVERSIONS: dict[str, list[tuple[str, str]]] = {
    "Dense": _DENSE,
    "Dropout": [("p", "rate")],
    "SpatialDropout1D": [("p", "rate")],
    "SpatialDropout2D": [("p", "rate"), *_ORDERING],
    "SpatialDropout3D": [("p", "rate"), *_ORDERING],
    "GaussianDropout": [("p", "rate")],
    "GaussianNoise": [("sigma", "stddev")],
    "Embedding": [
        ("init", "embeddings_initializer"),
        ("W_regularizer", "embeddings_regularizer"),
        ("W_constraint", "embeddings_constraint"),
    ],
    "PReLU": [("init", "alpha_initializer")],
    "BatchNormalization": [("beta_init", "beta_initializer"), ("gamma_init", "gamma_initializer")],
    **dict.fromkeys(["SimpleRNN", "GRU", "LSTM"], _RECURRENT),
    "ConvLSTM2D": _CONVLSTM,
    **dict.fromkeys(["Conv1D", "LocallyConnected1D"], _CONV1D),
    **dict.fromkeys(["Conv2D", "Conv3D", "Conv2DTranspose", "LocallyConnected2D"], _CONV),
    "SeparableConv2D": _SEPARABLE,
    **dict.fromkeys(["MaxPooling1D", "AveragePooling1D"], _POOL1D),
    **dict.fromkeys(["MaxPooling2D", "AveragePooling2D", "MaxPooling3D", "AveragePooling3D"], _POOL),
    **dict.fromkeys(
        ["GlobalMaxPooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling3D", "GlobalAveragePooling3D",
         "UpSampling2D", "UpSampling3D", "ZeroPadding2D", "ZeroPadding3D", "Cropping2D", "Cropping3D"],
        _ORDERING,
    ),
    "UpSampling1D": [("length", "size")],
}  # fmt: skip

VALUES: dict[str, dict[Any, Any]] = {
    "dim_ordering": {"tf": "channels_last", "th": "channels_first", "default": None},
    "consume_less": {"cpu": 0, "mem": 1, "gpu": 2},
}

# Keras 1 Merge modes and the Keras 2 merge layer computing the same thing
# (keras/legacy/layers.py ``Merge.call``/``compute_output_shape``, Keras 2.0–2.1).
MERGE_MODES = {
    "sum": "Add",
    "mul": "Multiply",
    "ave": "Average",
    "max": "Maximum",
    "concat": "Concatenate",
    "dot": "Dot",
    "cos": "Dot",
}


class LegacyError(ValueError):
    """A Keras 1 config kinspect cannot translate (the parser turns it into a ConfigError)."""


def translate_layer(class_name: str, config: Mapping[str, Any]) -> tuple[str, Mapping[str, Any], bool]:
    """``(class_name, config, translated)``: a Keras 1 layer in its Keras 2 form.

    A config with nothing Keras 1 about it comes back unchanged with ``translated`` False.
    """
    if class_name == "Merge" and "mode" in config and "mode_type" in config:  # Keras 1.0–1.2 get_config
        merged_class, merged = _merge(config)
        return merged_class, merged, True
    if class_name == "TimeDistributedDense" and "output_dim" in config:
        # Keras 1's TimeDistributedDense is Keras 2's TimeDistributed(Dense): same shapes and weights.
        outer = ("name", "trainable", "batch_input_shape", "input_dtype", "input_dim", "input_length")
        _, base, _ = translate_layer("Layer", {k: config[k] for k in outer if k in config})
        wrapper = dict(base)
        if "batch_input_shape" not in wrapper and isinstance(config.get("input_dim"), int):
            wrapper["batch_input_shape"] = [None, config.get("input_length"), config["input_dim"]]
        wrapper.pop("input_dim", None)
        wrapper.pop("input_length", None)
        inner = {k: v for k, v in config.items() if k not in outer}
        dense_class, dense, _ = translate_layer("Dense", {**inner, "name": f"{config.get('name')}_dense"})
        return "TimeDistributed", {**wrapper, "layer": {"class_name": dense_class, "config": dense}}, True
    new_class = RENAMED.get(class_name, class_name)
    changed = new_class != class_name
    cfg = dict(config)
    if "input_dtype" in cfg:  # keras/engine/topology.py Layer: the legacy name of ``dtype``
        value = cfg.pop("input_dtype")
        cfg.setdefault("dtype", value)
        changed = True
    for old, new in CONVERSIONS.get(new_class, ()):
        if old in cfg:
            value = cfg.pop(old)
            if old in VALUES:
                value = VALUES[old].get(value, value) if isinstance(value, (str, int)) else value
            cfg.setdefault(new, value)
            changed = True
    changed |= _preprocess(new_class, class_name, cfg)
    if changed and new_class == "GRU":
        # Keras 1 GRUs (and Keras 2 standalone's) have one bias per gate: reset_after=False.
        cfg.setdefault("reset_after", False)
    if new_class in ("TimeDistributed", "Bidirectional") and isinstance(cfg.get("layer"), Mapping):
        inner = cfg["layer"]
        inner_class, inner_config = inner.get("class_name"), inner.get("config")
        if isinstance(inner_class, str) and isinstance(inner_config, Mapping):
            inner_class, inner_config, inner_changed = translate_layer(inner_class, inner_config)
            if inner_changed:
                cfg["layer"] = {**inner, "class_name": inner_class, "config": inner_config}
                changed = True
    return (new_class, cfg, True) if changed else (class_name, config, False)


def _input_shape(cfg: dict[str, Any], length_key: str | None) -> bool:
    """``input_dim``/``input_length`` → the layer's input shape (interfaces.py
    ``recurrent_args_preprocessor``, ``conv1d_args_preprocessor``); a stored
    ``batch_input_shape`` wins, as in Keras 2's ``Layer.__init__``."""
    if "input_dim" not in cfg:
        return False
    dim = cfg.pop("input_dim")
    shape: list[Any] = [None, dim]
    if length_key is not None:
        shape = [None, cfg.pop(length_key, None), dim]
    if "batch_input_shape" not in cfg and isinstance(dim, int) and not isinstance(dim, bool):
        cfg["batch_input_shape"] = shape
    return True


def _preprocess(new_class: str, old_class: str, cfg: dict[str, Any]) -> bool:
    """The argument preprocessors of keras/legacy/interfaces.py, per class; True if any applied."""
    changed = False
    two_d = ("Conv2D", "SeparableConv2D", "Conv2DTranspose", "LocallyConnected2D", "ConvLSTM2D")
    if new_class in two_d and "nb_row" in cfg and "nb_col" in cfg:
        cfg.setdefault("kernel_size", [cfg.pop("nb_row"), cfg.pop("nb_col")])
        changed = True
    if new_class == "Conv3D" and all(f"kernel_dim{i}" in cfg for i in (1, 2, 3)):
        cfg.setdefault("kernel_size", [cfg.pop(f"kernel_dim{i}") for i in (1, 2, 3)])
        changed = True
    if new_class == "Conv2DTranspose" and old_class == "Deconvolution2D":
        cfg.pop("output_shape", None)  # deconv2d_args_preprocessor drops it
        changed = True
    if new_class == "SeparableConv2D" and "init" in cfg:
        init = cfg.pop("init")
        cfg.setdefault("depthwise_initializer", init)
        cfg.setdefault("pointwise_initializer", init)
        changed = True
    if new_class in ("Conv1D", "LocallyConnected1D"):
        changed |= _input_shape(cfg, "input_length")
    if new_class in ("SimpleRNN", "GRU", "LSTM", "ConvLSTM2D"):
        if "forget_bias_init" in cfg:
            if cfg.pop("forget_bias_init") == "one":
                cfg.setdefault("unit_forget_bias", True)
            changed = True
        if new_class != "ConvLSTM2D":
            changed |= _input_shape(cfg, "input_length")
    if new_class == "Dense":
        changed |= _input_shape(cfg, None)
    if new_class == "Embedding" and "dropout" in cfg:  # embedding_kwargs_preprocessor drops it
        cfg.pop("dropout")
        changed = True
    if new_class == "BatchNormalization" and "mode" in cfg:  # batchnorm_args_preprocessor
        cfg.pop("mode")
        changed = True
    if new_class == "ZeroPadding2D" and isinstance(cfg.get("padding"), Mapping):
        pad = cfg["padding"]
        cfg["padding"] = [
            [pad.get("top_pad", 0), pad.get("bottom_pad", 0)],
            [pad.get("left_pad", 0), pad.get("right_pad", 0)],
        ]
        changed = True
    return changed


def _merge(config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """A Keras 1 ``Merge`` as the Keras 2 layer that computes the same (same output shape)."""
    base = {k: config[k] for k in ("name", "trainable") if k in config}
    mode, mode_type = config.get("mode", "sum"), config.get("mode_type", "raw")
    if mode_type in ("lambda", "function"):
        # A function merge is a Lambda over the list of inputs (same config keys, renamed).
        return "Lambda", {
            **base,
            "function": mode,
            "function_type": mode_type,
            "output_shape": config.get("output_shape"),
            "output_shape_type": config.get("output_shape_type", "raw"),
            "arguments": config.get("arguments") or {},
        }
    if not isinstance(mode, str) or mode not in MERGE_MODES:
        return "Merge", dict(config)  # no Keras 2 equivalent: an unknown class, shape "?"
    target = MERGE_MODES[mode]
    if target == "Concatenate":
        return target, {**base, "axis": config.get("concat_axis", -1)}
    if target == "Dot":
        return target, {**base, "axes": config.get("dot_axes", -1), "normalize": mode == "cos"}
    return target, base


def _entry(layer: Any) -> Any:
    """Keras 0.x layer entries have no ``class_name``: ``{"name": "Dense", "custom_name": ...}``
    (keras/models.py ``normalize_legacy_config``, Keras 2.0–2.1)."""
    if isinstance(layer, Mapping) and "class_name" not in layer and isinstance(layer.get("name"), str):
        conf = {k: v for k, v in layer.items() if k not in ("name", "custom_name")}
        if isinstance(layer.get("custom_name"), str):
            conf["name"] = layer["custom_name"]
        return {"class_name": layer["name"], "config": conf}
    return layer


def sequential_layers(entries: list[Any], max_depth: int) -> dict[str, Any]:
    """The ``config`` mapping of a Sequential saved as a bare list of layer entries.

    A plain list becomes ``{"layers": entries}``. A Keras 1 list whose first entry is a ``Merge``
    of branch models becomes a functional graph, as Keras 2.0–2.1's ``legacy_from_config`` built
    it: each branch's layers chained from an input layer, the Merge joining the branch outputs,
    the remaining layers chained after it. The layers are the ones Keras 1 saved weights for
    (``Sequential.flattened_layers``): the branches' layers at the top level.
    """
    entries = [_entry(e) for e in entries]
    first = entries[0] if entries else None
    if not (
        isinstance(first, Mapping)
        and first.get("class_name") == "Merge"
        and isinstance(first.get("config"), Mapping)
        and isinstance(first["config"].get("layers"), list)
    ):
        return {"layers": entries}
    graph = _Flattener(max_depth)
    out = graph.sequential(entries, 0)
    return {
        "layers": graph.layers,
        "input_layers": [[name, 0, 0] for name in graph.inputs],
        "output_layers": [[out, 0, 0]],
    }


class _Flattener:
    """Builds the functional graph of a Sequential that starts with a Merge of branches."""

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.layers: list[dict[str, Any]] = []
        self.inputs: list[str] = []

    def sequential(self, entries: list[Any], depth: int, source: str | None = None) -> str:
        """Chain ``entries`` after ``source`` (a new input layer when None); the last layer's name."""
        if depth > self.max_depth:
            raise LegacyError(f"Merge branches nested more than {self.max_depth} levels deep")
        if not entries:
            raise LegacyError("a Keras 1 Sequential branch has no layers")
        previous = source
        for n, raw in enumerate(entries):
            entry = _entry(raw)
            if not isinstance(entry, Mapping) or not isinstance(entry.get("config"), Mapping):
                raise LegacyError("a layer entry of a Keras 1 Sequential has no config mapping")
            config = entry["config"]
            if n == 0 and entry.get("class_name") == "Merge" and isinstance(config.get("layers"), list):
                sources = [self.branch(b, depth + 1) for b in config["layers"]]
                merged = {k: v for k, v in config.items() if k != "layers"}
                self._add({**entry, "config": merged}, sources)
                previous = _name(merged)
                continue
            if previous is None:
                previous = self._input(config)
            self._add(entry, [previous])
            previous = _name(config)
        assert previous is not None
        return previous

    def branch(self, entry: Any, depth: int) -> str:
        entry = _entry(entry)
        if not isinstance(entry, Mapping):
            raise LegacyError("a branch of a Keras 1 Merge is not a layer entry")
        config = entry.get("config")
        if entry.get("class_name") == "Sequential":
            layers = config if isinstance(config, list) else (config or {}).get("layers")
            if isinstance(layers, list):
                return self.sequential(layers, depth)
        raise LegacyError(
            f"a branch of a Keras 1 Merge is a {entry.get('class_name')!r:.40}, not a Sequential model"
        )

    def _input(self, first: Mapping[str, Any]) -> str:
        """Keras 1 ``Layer.create_input_layer``: an InputLayer named ``<first layer>_input``."""
        name = f"{_name(first)}_input"
        config = {"name": name, "batch_input_shape": first.get("batch_input_shape"), "sparse": False}
        dtype = first.get("input_dtype", first.get("dtype"))
        if dtype is not None:
            config["input_dtype"] = dtype
        self.layers.append({"name": name, "class_name": "InputLayer", "config": config, "inbound_nodes": []})
        self.inputs.append(name)
        return name

    def _add(self, entry: Mapping[str, Any], sources: Sequence[str]) -> None:
        name = _name(entry["config"])
        node = [[source, 0, 0] for source in sources]
        self.layers.append({**entry, "name": name, "inbound_nodes": [node]})


def _name(config: Mapping[str, Any]) -> str:
    name = config.get("name")
    if not isinstance(name, str):
        raise LegacyError("a layer of a Keras 1 Sequential has no name")
    return name


# --- weights ----------------------------------------------------------------------------------------


def _size(shape: Sequence[int]) -> int:
    return math.prod(shape)


def _renamed(expected: list[Expected], names: Sequence[str]) -> list[Expected]:
    return [Expected(n, e.shape, e.trainable) for e, n in zip(expected, names, strict=False)] + expected[
        len(names) :
    ]


def _permuted(e: Expected, order: Sequence[int], name: str) -> Expected:
    return Expected(name, tuple(e.shape[i] for i in order), e.trainable)


def _gates(expected: list[Expected], gates: str) -> list[Expected] | None:
    """One (W, U, b) triple per gate, in Keras 1's stored order, from Keras 2's concatenated
    kernel, recurrent kernel and bias (Keras 1.2.2 ``LSTM.build``/``GRU.build`` with
    ``consume_less`` 'cpu' or 'mem'; tf_keras ``preprocess_weights_for_loading`` joins them)."""
    if len(expected) != 3 or len(expected[1].shape) != 2 or len(expected[2].shape) != 1:
        return None
    inputs, units = expected[0].shape[0], expected[1].shape[0]
    out = []
    for gate in gates:
        out += [
            Expected(f"W_{gate}", (inputs, units), expected[0].trainable),
            Expected(f"U_{gate}", (units, units), expected[1].trainable),
            Expected(f"b_{gate}", (units,), expected[2].trainable),
        ]
    return out


def keras1_layouts(
    class_name: str, config: Mapping[str, Any], expected: list[Expected]
) -> list[list[Expected]]:
    """The layouts Keras 1 may have stored a layer's weights in, given its Keras 2 expected weights.

    From Keras 1.2.2's ``build`` methods and tf_keras's ``preprocess_weights_for_loading``
    (which undoes each of them). An empty list: the layout is not derived here.
    """
    if not expected:
        return [expected]
    channels_first = config.get("data_format") == "channels_first"
    if class_name in ("Dense", "Embedding", "SimpleRNN", "BatchNormalization", "PReLU"):
        names = {
            "Dense": ["W", "b"],
            "Embedding": ["W"],
            "SimpleRNN": ["W", "U", "b"],
            "BatchNormalization": ["gamma", "beta", "running_mean", "running_std"],
            "PReLU": ["alphas"],
        }[class_name]
        return [_renamed(expected, names)] if len(expected) <= len(names) else []
    if class_name == "Conv1D":
        kernel = expected[0]  # (length, in, filters)
        if len(kernel.shape) != 3:
            return []
        k, c, f = kernel.shape
        rest = _renamed(expected[1:], ["b"])
        # Keras 1.2: (length, 1, in, filters); Keras 1.1 and before: (filters, in, length, 1).
        return [
            [Expected("W", (k, 1, c, f), kernel.trainable), *rest],
            [Expected("W", (f, c, k, 1), kernel.trainable), *rest],
        ]
    if class_name in ("Conv2D", "Conv3D", "Conv2DTranspose", "SeparableConv2D"):
        rank = len(expected[0].shape)
        if class_name == "SeparableConv2D":
            names = ["depthwise_kernel", "pointwise_kernel", "b"]
            kernels = 2
        else:
            names = ["W", "b"]
            kernels = 1
        out = list(_renamed(expected, names))
        for i in range(kernels):
            e = out[i]
            if class_name == "Conv2DTranspose":
                # Keras 2 (rows, cols, filters, in); Keras 1 'tf' (rows, cols, in, filters),
                # 'th' (filters, in, rows, cols).
                order = (2, 3, 0, 1) if channels_first else (0, 1, 3, 2)
            elif channels_first:
                # Keras 2 (*window, in, filters); Keras 1 'th' (filters, in, *window).
                order = (rank - 1, rank - 2, *range(rank - 2))
            else:
                continue
            out[i] = _permuted(e, order, e.name)
        return [out]
    if class_name == "LSTM":
        gates = _gates(expected, "icfo")  # Keras 1 stores i, c, f, o; Keras 2 joins i, f, c, o
        return [_renamed(expected, ["W", "U", "b"]), *([gates] if gates else [])]
    if class_name == "GRU":
        gates = _gates(expected, "zrh")
        return [_renamed(expected, ["W", "U", "b"]), *([gates] if gates else [])]
    if class_name == "TimeDistributed":
        inner = _inner(config)
        if inner is None:
            return []
        return keras1_layouts(inner[0], inner[1], _unprefixed(expected, "layer/"))
    if class_name == "Bidirectional":
        inner = _inner(config)
        half = len(expected) // 2
        if inner is None or half * 2 != len(expected):
            return []
        forward = keras1_layouts(inner[0], inner[1], _unprefixed(expected[:half], "forward_layer/"))
        backward = keras1_layouts(inner[0], inner[1], _unprefixed(expected[half:], "backward_layer/"))
        return [f + b for f, b in zip(forward, backward, strict=False)]
    return []


def _inner(config: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    layer = config.get("layer")
    if isinstance(layer, Mapping) and isinstance(layer.get("class_name"), str):
        inner = layer.get("config")
        if isinstance(inner, Mapping):
            return layer["class_name"], inner
    return None


def _unprefixed(expected: list[Expected], prefix: str) -> list[Expected]:
    out = []
    for e in expected:
        name = e.name[len(prefix) :] if e.name.startswith(prefix) else e.name
        out.append(Expected(name.removeprefix("cell/"), e.shape, e.trainable))
    return out


def keras1_expected(
    class_name: str,
    config: Mapping[str, Any],
    expected: list[Expected],
    stored: Sequence[tuple[int, ...]],
) -> tuple[list[Expected] | None, str | None]:
    """What to check a translated Keras 1 layer's stored weights against.

    ``(layout, None)``: the Keras 1 layout that matches the stored shapes, or, when none does
    and the parameter counts differ too, the first candidate (a real contradiction).
    ``(None, note)``: the weights hold as many parameters as the layer needs but in a layout not
    derived here; the check is skipped and the note says so.
    """
    candidates = keras1_layouts(class_name, config, expected)
    shapes = [tuple(s) for s in stored]
    for layout in candidates:
        if [e.shape for e in layout] == shapes:
            return layout, None
    if sum(_size(e.shape) for e in expected) == sum(_size(s) for s in shapes):
        return None, (
            f"Keras 1 weights: stored in a layout kinspect does not derive for {class_name};"
            " their shapes were not checked (the parameter count matches)"
        )
    return (candidates[0] if candidates else expected), None
