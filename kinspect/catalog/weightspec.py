"""The weights a built-in Keras layer must have, derived from its stored config and input shape.

``expected_weights(class_name, config, input_shape)`` reproduces the layer's ``build``: one
:class:`Expected` per variable, in ``layer.weights`` order (keras/src/layers/layer.py ``weights``:
the layer's own trainable then non-trainable variables, then each sub-layer's in tracking order),
which is also the order Keras 3 numbers them in a file (``save_own_variables``: ``vars/0``…).

``None`` means "not known": a class not covered here (custom, or a built-in whose build is not
ported), a config that cannot be read, an input shape that leaves a weight dim unknown, or a
layout that differs between what Keras stores and ``layer.weights`` (LoRA, quantized policies).

Names follow the Keras 3 file layout (``kinspect.catalog.weightnames.keras3_name``): the variable name,
prefixed by the attribute path of the sub-object that owns it (``cell/kernel``,
``forward_layer/cell/bias``, ``query_dense/kernel``, ``layer/kernel``). ``trainable`` is the
variable's own flag; a frozen layer (``trainable: false`` in its config) makes all of them
non-trainable in Keras, which the caller applies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kinspect.catalog.registry import Call, Shape, is_shape

__all__ = ["Expected", "covered", "einsum_weights", "expected_weights"]


@dataclass(frozen=True)
class Expected:
    """One variable a layer creates in ``build``."""

    name: str  # "kernel", "moving_mean", "cell/recurrent_kernel", "forward_layer/cell/bias"
    shape: tuple[int, ...]
    trainable: bool = True


class _Unknown(Exception):
    """The weights cannot be derived (bad config, unknown dim, uncovered layout)."""


Spec = Callable[[Mapping[str, Any], Call, "int | None"], list[Expected]]
_SPECS: dict[str, Spec] = {}


def _spec(*names: str) -> Callable[[Spec], Spec]:
    def register(fn: Spec) -> Spec:
        for name in names:
            _SPECS[name] = fn
        return fn

    return register


def covered(class_name: str) -> bool:
    """Whether :func:`expected_weights` knows ``class_name`` at all."""
    return class_name in _SPECS or class_name in _WEIGHTLESS


def expected_weights(
    class_name: str, config: Mapping[str, Any], input_shape: Any, keras_major: int | None = None
) -> list[Expected] | None:
    """The variables a built-in layer of ``class_name`` builds for ``input_shape``, or None.

    ``input_shape`` is a :class:`kinspect.catalog.Call`, one shape (tuple, ``None`` for unknown
    dims), or a list of shapes (a multi-input layer's first argument; for MultiHeadAttention
    ``[query, value]`` or ``[query, value, key]``). ``keras_major`` (2 or 3) settles the few
    version-dependent details; otherwise the Call's or config's hints are used.
    """
    if class_name in _WEIGHTLESS:
        return []
    fn = _SPECS.get(class_name)
    if fn is None or not isinstance(config, Mapping):
        return None
    call = input_shape if isinstance(input_shape, Call) else Call((input_shape,))
    major = keras_major if keras_major in (2, 3) else _major(config, call)
    try:
        return fn(config, call, major)
    except (_Unknown, KeyError, TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError):
        # Configs come from untrusted files: anything unreadable is "unknown", never a crash.
        return None


# --- helpers --------------------------------------------------------------------------------------


def _major(config: Mapping[str, Any], call: Call) -> int | None:
    """Which Keras wrote the config (see ``kinspect.catalog.common.keras_major``)."""
    from kinspect.catalog.common import keras_major

    hinted = getattr(call, "keras_major", None)
    return hinted if hinted in (2, 3) else keras_major(config)


def _int(value: Any, what: str, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise _Unknown(f"{what}={value!r} is not an integer >= {minimum}")
    return value


def _w(name: str, shape: Sequence[Any], trainable: bool = True) -> Expected:
    """An Expected whose dims must all be known."""
    return Expected(name, tuple(_int(d, f"{name} dim", 0) for d in shape), trainable)


def _flag(config: Mapping[str, Any], key: str, default: bool) -> bool:
    value = config.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _Unknown(f"{key}={value!r} is not a boolean")
    return value


def _one(call: Call) -> Shape:
    x = call.x
    if not is_shape(x) or not x:
        raise _Unknown("expected one input tensor of rank >= 1")
    return x


def _tuple(value: Any) -> Any:
    """Undo Keras 3's ``{"class_name": "__tuple__", "config": {"value": [...]}}`` wrapping."""
    if isinstance(value, Mapping) and value.get("class_name") == "__tuple__":
        return value["config"]["value"]
    return value


def _ints(value: Any, rank: int, what: str) -> tuple[int, ...]:
    """An int-or-sequence config value (kernel_size) as ``rank`` ints."""
    value = _tuple(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value] * rank
    if not isinstance(value, (list, tuple)) or len(value) != rank:
        raise _Unknown(f"{what}={value!r} is not {rank} integers")
    return tuple(_int(v, what) for v in value)


def _axes(value: Any, rank: int) -> list[int]:
    """An int-or-list ``axis`` as a list, each checked against ``rank`` (kept as given)."""
    value = _tuple(value)
    axes = [value] if isinstance(value, int) else list(value)
    for a in axes:
        _int(a, "axis", -rank)
        if a >= rank:
            raise _Unknown(f"axis {a} out of range for rank {rank}")
    return axes


def _refuse_variants(config: Mapping[str, Any]) -> None:
    """LoRA and quantized layers store other variables than ``layer.weights`` lists
    (keras/src/layers/core/dense.py ``save_own_variables``, ``enable_lora``)."""
    if config.get("lora_rank"):
        raise _Unknown("LoRA layer: stored and live variables differ")
    dtype = config.get("dtype")
    if isinstance(dtype, Mapping) and "Quantized" in str(dtype.get("class_name", "")):
        raise _Unknown("quantized layer")


def _kernel_bias(config: Mapping[str, Any], kernel: Sequence[Any], bias: Sequence[Any]) -> list[Expected]:
    out = [_w("kernel", kernel)]
    if _flag(config, "use_bias", True):
        out.append(_w("bias", bias))
    return out


def _prefixed(prefix: str, weights: list[Expected]) -> list[Expected]:
    return [Expected(f"{prefix}/{w.name}", w.shape, w.trainable) for w in weights]


def _nested(value: Any) -> tuple[str, Mapping[str, Any]]:
    """A layer serialized inside a config (Keras 3 or 2 form); custom classes are refused."""
    if not isinstance(value, Mapping):
        raise _Unknown("not a serialized layer")
    name, config, module = value.get("class_name"), value.get("config"), value.get("module")
    if not isinstance(name, str) or not isinstance(config, Mapping):
        raise _Unknown("not a serialized layer")
    if module is not None and not (isinstance(module, str) and module.split(".")[0] in ("keras", "tf_keras")):
        raise _Unknown(f"custom class {name} (module {module!r})")
    return name, config


def _inner(value: Any, call: Call, major: int | None) -> list[Expected]:
    name, config = _nested(value)
    fn = _SPECS.get(name)
    if name in _WEIGHTLESS:
        return []
    if fn is None:
        raise _Unknown(f"wrapped layer {name} is not covered")
    return fn(config, call, major)


# --- core -----------------------------------------------------------------------------------------


@_spec("Dense")
def _dense(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/core/dense.py ``build``: kernel (in, units), bias (units,)."""
    _refuse_variants(config)
    units = _int(config["units"], "units")
    return _kernel_bias(config, (_one(call)[-1], units), (units,))


_EINSUM_FORMS = (
    (r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", False),
    (r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", True),
    (r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", False),
)


def einsum_weights(
    equation: str, bias_axes: str | None, input_shape: Shape, output_shape: Any
) -> tuple[list[Any], list[Any] | None]:
    """Port of ``_analyze_einsum_string`` (keras/src/layers/core/einsum_dense.py): (kernel, bias) shapes.

    A weight axis that is in both the input and the output takes the configured output dim
    (Keras 3) or the input dim (tf_keras); they agree whenever Keras can build the layer.
    """
    replaced = equation.replace("...", "0")
    found = next(((m, left) for p, left in _EINSUM_FORMS if (m := re.match(p, replaced))), None)
    if found is None:
        raise _Unknown(f"invalid einsum equation {equation!r}")
    match, left = found
    input_spec, weight_spec, output_spec = match.groups()
    rank = len(input_shape)
    elided = rank - len(input_spec)
    output = [output_shape] if isinstance(output_shape, int) else list(_tuple(output_shape))
    output.insert(0, input_shape[0])
    if elided > 0 and left:
        for i in range(1, elided):
            output.insert(1, input_shape[i])
    elif elided > 0:
        output.extend(input_shape[rank - elided :])
    if left:
        input_map = {d: i + elided - rank for i, d in enumerate(input_spec)}
        output_map = {d: i + elided for i, d in enumerate(output_spec)}
    else:
        input_map = {d: i for i, d in enumerate(input_spec)}
        output_map = {d: i for i, d in enumerate(output_spec)}
    kernel = []
    for d in weight_spec:
        out_dim = output[output_map[d]] if d in output_map else None
        in_dim = input_shape[input_map[d]] if d in input_map else None
        if d not in output_map and d not in input_map:
            raise _Unknown(f"einsum weight axis {d!r} is in neither input nor output")
        kernel.append(out_dim if out_dim is not None else in_dim)
    if not bias_axes:
        return kernel, None
    offset = elided if left else 0
    sizes = {c: output[i + offset] for i, c in enumerate(output_spec)}
    if any(c not in output_spec for c in bias_axes):
        raise _Unknown(f"bias axes {bias_axes!r} not in output {output_spec!r}")
    first = min(output_spec.find(c) for c in bias_axes)
    bias = [sizes[c] if c in bias_axes else 1 for c in output_spec[first:]]
    if not left:
        bias += [1] * max(elided, 0)
    return kernel, bias


@_spec("EinsumDense")
def _einsum_dense(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/core/einsum_dense.py ``build``."""
    _refuse_variants(config)
    equation, bias_axes = config["equation"], config.get("bias_axes")
    if not isinstance(equation, str) or not (bias_axes is None or isinstance(bias_axes, str)):
        raise _Unknown("equation/bias_axes are not strings")
    kernel, bias = einsum_weights(equation, bias_axes, _one(call), config["output_shape"])
    return [_w("kernel", kernel)] + ([] if bias is None else [_w("bias", bias)])


@_spec("Embedding")
def _embedding(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/core/embedding.py ``build``: embeddings (input_dim, output_dim)."""
    _refuse_variants(config)
    rows, cols = _int(config["input_dim"], "input_dim"), _int(config["output_dim"], "output_dim")
    return [_w("embeddings", (rows, cols))]


@_spec("PReLU")
def _prelu(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/activations/prelu.py ``build``: alpha is the input without its batch
    axis, with 1 on every ``shared_axes`` axis."""
    param = list(_one(call)[1:])
    shared = _tuple(config.get("shared_axes"))
    if shared is not None:
        for i in [shared] if isinstance(shared, int) else shared:
            param[_int(i, "shared_axes", -len(param)) - 1] = 1
    return [_w("alpha", param)]


# --- convolutions ---------------------------------------------------------------------------------


def _channels(config: Mapping[str, Any], shape: Shape, rank: int) -> int:
    if len(shape) != rank + 2:
        raise _Unknown(f"expected rank-{rank + 2} input, got {shape}")
    fmt = config.get("data_format")
    if fmt not in (None, "channels_last", "channels_first"):
        raise _Unknown(f"data_format {fmt!r}")
    return _int(shape[1] if fmt == "channels_first" else shape[-1], "input channels")


def _conv(rank: int) -> Spec:
    def spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
        """keras/src/layers/convolutional/base_conv.py ``build``: kernel
        kernel_size + (in // groups, filters), bias (filters,)."""
        _refuse_variants(config)
        channels = _channels(config, _one(call), rank)
        groups = _int(config.get("groups", 1), "groups")
        if channels % groups:
            raise _Unknown("input channels not divisible by groups")
        filters = _int(config["filters"], "filters")
        size = _ints(config["kernel_size"], rank, "kernel_size")
        return _kernel_bias(config, (*size, channels // groups, filters), (filters,))

    return spec


def _conv_transpose(rank: int) -> Spec:
    def spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
        """keras/src/layers/convolutional/base_conv_transpose.py ``build``: kernel
        kernel_size + (filters, in), bias (filters,)."""
        _refuse_variants(config)
        channels = _channels(config, _one(call), rank)
        filters = _int(config["filters"], "filters")
        size = _ints(config["kernel_size"], rank, "kernel_size")
        return _kernel_bias(config, (*size, filters, channels), (filters,))

    return spec


def _depthwise(rank: int) -> Spec:
    def spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
        """keras/src/layers/convolutional/base_depthwise_conv.py ``build``: kernel
        kernel_size + (in, depth_multiplier), bias (in * depth_multiplier,). tf_keras names
        the kernel ``depthwise_kernel``."""
        _refuse_variants(config)
        channels = _channels(config, _one(call), rank)
        multiplier = _int(config.get("depth_multiplier", 1), "depth_multiplier")
        size = _ints(config["kernel_size"], rank, "kernel_size")
        out = _kernel_bias(config, (*size, channels, multiplier), (channels * multiplier,))
        if major == 2:
            out[0] = Expected("depthwise_kernel", out[0].shape)
        return out

    return spec


def _separable(rank: int) -> Spec:
    def spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
        """keras/src/layers/convolutional/base_separable_conv.py ``build``."""
        _refuse_variants(config)
        channels = _channels(config, _one(call), rank)
        multiplier = _int(config.get("depth_multiplier", 1), "depth_multiplier")
        filters = _int(config["filters"], "filters")
        size = _ints(config["kernel_size"], rank, "kernel_size")
        out = [
            _w("depthwise_kernel", (*size, channels, multiplier)),
            _w("pointwise_kernel", ((1,) * rank + (channels * multiplier, filters))),
        ]
        if _flag(config, "use_bias", True):
            out.append(_w("bias", (filters,)))
        return out

    return spec


for _rank in (1, 2, 3):
    _spec(f"Conv{_rank}D", f"Convolution{_rank}D")(_conv(_rank))
    _spec(f"Conv{_rank}DTranspose", f"Convolution{_rank}DTranspose")(_conv_transpose(_rank))
for _rank in (1, 2):
    _spec(f"DepthwiseConv{_rank}D")(_depthwise(_rank))
    _spec(f"SeparableConv{_rank}D", f"SeparableConvolution{_rank}D")(_separable(_rank))


# --- normalization --------------------------------------------------------------------------------


@_spec("BatchNormalization", "SyncBatchNormalization")
def _batch_norm(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/normalization/batch_normalization.py ``build`` (one int axis: params
    ``(dim,)``) and tf_keras's, whose stored ``axis`` is a list; several axes give params of the
    input's rank with 1 on the other axes. ``renorm`` adds moving_stddev, renorm_mean and
    renorm_stddev. ``virtual_batch_size`` (tf_keras; it shifts the stored axes) is not covered."""
    if config.get("virtual_batch_size") is not None:
        raise _Unknown("virtual_batch_size")
    shape = _one(call)
    rank = len(shape)
    axes = sorted({a % rank for a in _axes(config.get("axis", -1), rank)})
    if len(axes) == 1:
        param: list[Any] = [shape[axes[0]]]
    else:
        param = [shape[i] if i in axes else 1 for i in range(rank)]
    out = []
    if _flag(config, "scale", True):
        out.append(_w("gamma", param))
    if _flag(config, "center", True):
        out.append(_w("beta", param))
    stats = ["moving_mean", "moving_variance"]
    if _flag(config, "renorm", False):
        stats += ["moving_stddev", "renorm_mean", "renorm_stddev"]
    return out + [_w(name, param, trainable=False) for name in stats]


def _kept_axes(config: Mapping[str, Any], shape: Shape, major: int | None, default: Any = -1) -> list[int]:
    """LayerNormalization/RMSNormalization axes in weight order: Keras 3 sorts the stored values
    as given (so ``[-1, 1]`` stays), tf_keras keeps the order given."""
    value = _tuple(config.get("axis", default))
    axes = _axes(value, len(shape))
    if isinstance(value, (list, tuple)) and axes != sorted(axes):
        if major is None:
            raise _Unknown("unsorted axis list and the Keras version is unknown")
        if major == 3:
            axes = sorted(axes)
    return axes


@_spec("LayerNormalization")
def _layer_norm(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/normalization/layer_normalization.py ``build``: gamma when scale (or
    rms_scaling), beta when center and not rms_scaling; shape the input's dims on ``axis``."""
    shape = _one(call)
    param = [shape[a] for a in _kept_axes(config, shape, major)]
    rms = _flag(config, "rms_scaling", False)
    out = []
    if _flag(config, "scale", True) or rms:
        out.append(_w("gamma", param))
    if _flag(config, "center", True) and not rms:
        out.append(_w("beta", param))
    return out


@_spec("RMSNormalization")
def _rms_norm(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/normalization/rms_normalization.py ``build``: one ``scale``."""
    shape = _one(call)
    return [_w("scale", [shape[a] for a in _kept_axes(config, shape, 3)])]


@_spec("GroupNormalization")
def _group_norm(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/normalization/group_normalization.py ``build``: gamma/beta ``(dim,)``."""
    shape = _one(call)
    dim = _int(shape[_axes(config.get("axis", -1), len(shape))[0]], "group axis")
    groups = config.get("groups", 32)
    groups = dim if groups == -1 else _int(groups, "groups")
    if dim < groups or dim % groups:
        raise _Unknown("groups do not divide the channels")
    out = []
    if _flag(config, "scale", True):
        out.append(_w("gamma", (dim,)))
    if _flag(config, "center", True):
        out.append(_w("beta", (dim,)))
    return out


@_spec("Normalization")
def _normalization(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/preprocessing/normalization.py ``build``: non-trainable mean and
    variance over the kept axes (sorted, made positive) and a scalar count, unless the config
    holds a fixed mean (then nothing is a variable)."""
    if config.get("mean") is not None:
        return []
    shape = _one(call)
    value = _tuple(config.get("axis", -1))
    axes = [] if value is None else _axes(value, len(shape))
    kept = [shape[a] for a in sorted(a % len(shape) for a in axes)]
    return [_w("mean", kept, False), _w("variance", kept, False), _w("count", (), False)]


@_spec("SpectralNormalization")
def _spectral_norm(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/normalization/spectral_normalization.py ``build``: ``self.kernel =
    self.layer.kernel`` (or ``.embeddings``) makes the wrapped kernel the wrapper's own trainable
    variable, then comes its non-trainable ``vector_u`` (1, kernel's last dim), then the wrapped
    layer's other weights (``layer.weights`` lists the shared kernel once; a Keras 3 file stores
    it twice, as ``vars/0`` and ``layer/vars/0``)."""
    inner = _prefixed("layer", _inner(config["layer"], call, major))
    kernel = next((w for w in inner if w.name in ("layer/kernel", "layer/embeddings")), None)
    if kernel is None or not kernel.shape:
        raise _Unknown("wrapped layer has no kernel")
    rest = [w for w in inner if w is not kernel]
    return [
        Expected(kernel.name.rpartition("/")[2], kernel.shape, kernel.trainable),
        _w("vector_u", (1, kernel.shape[-1]), False),
        *rest,
    ]


# --- recurrent ------------------------------------------------------------------------------------


def _units(config: Mapping[str, Any]) -> int:
    return _int(config["units"], "units")


def _simple_cell(config: Mapping[str, Any], step: Shape) -> list[Expected]:
    """keras/src/layers/rnn/simple_rnn.py ``SimpleRNNCell.build``."""
    u = _units(config)
    return _recurrent(config, (step[-1], u), (u, u), (u,))


def _lstm_cell(config: Mapping[str, Any], step: Shape) -> list[Expected]:
    """keras/src/layers/rnn/lstm.py ``LSTMCell.build``."""
    u = _units(config)
    return _recurrent(config, (step[-1], 4 * u), (u, 4 * u), (4 * u,))


def _gru_cell(config: Mapping[str, Any], step: Shape) -> list[Expected]:
    """keras/src/layers/rnn/gru.py ``GRUCell.build``: bias (2, 3 units) when ``reset_after``.
    The default changed (False in Keras 1/2.0-2.2, True since), so a config without it is unknown."""
    u = _units(config)
    if "reset_after" not in config:
        raise _Unknown("GRU config without reset_after")
    bias = (2, 3 * u) if _flag(config, "reset_after", True) else (3 * u,)
    return _recurrent(config, (step[-1], 3 * u), (u, 3 * u), bias)


def _recurrent(config: Mapping[str, Any], kernel: Any, recurrent: Any, bias: Any) -> list[Expected]:
    out = [_w("kernel", kernel), _w("recurrent_kernel", recurrent)]
    if _flag(config, "use_bias", True):
        out.append(_w("bias", bias))
    return out


_CELLS: dict[str, Callable[[Mapping[str, Any], Shape], list[Expected]]] = {
    "SimpleRNNCell": _simple_cell,
    "LSTMCell": _lstm_cell,
    "LSTMCellV2": _lstm_cell,
    "GRUCell": _gru_cell,
    "GRUCellV2": _gru_cell,
}
_LAYER_CELLS = {"SimpleRNN": _simple_cell, "LSTM": _lstm_cell, "GRU": _gru_cell}


def _sequence(call: Call) -> Shape:
    shape = _one(call)
    if len(shape) < 3:
        raise _Unknown("recurrent layer expects (batch, time, features)")
    return shape


def _layer_rnn(cell: Callable[[Mapping[str, Any], Shape], list[Expected]]) -> Spec:
    def spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
        """keras/src/layers/rnn/rnn.py ``build``: the cell is built on ``(batch, *input[2:])``;
        its variables live under ``cell/``."""
        seq = _sequence(call)
        return _prefixed("cell", cell(config, (seq[0], *seq[2:])))

    return spec


for _name, _cell_fn in _LAYER_CELLS.items():
    _spec(_name, f"{_name}V2")(_layer_rnn(_cell_fn))


def _cell_spec(cell: Callable[[Mapping[str, Any], Shape], list[Expected]]) -> Spec:
    def spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
        """A cell used as a layer on one time step ``(batch, features)``."""
        return cell(config, _one(call))

    return spec


for _name, _cell_fn in _CELLS.items():
    _spec(_name)(_cell_spec(_cell_fn))


def _snake(name: str) -> str:
    """keras/src/utils/naming.py ``to_snake_case`` (Keras 3 container entry names)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _any_cell(value: Any, step: Shape) -> tuple[list[Expected], int]:
    """(weights, output size) of a serialized cell, StackedRNNCells included."""
    name, config = _nested(value)
    if name == "StackedRNNCells":
        return _stacked(config, step)
    fn = _CELLS.get(name)
    if fn is None:
        raise _Unknown(f"cell {name} is not covered")
    return fn(config, step), _units(config)


def _stacked(config: Mapping[str, Any], step: Shape) -> tuple[list[Expected], int]:
    """keras/src/layers/rnn/stacked_rnn_cells.py ``build``: each cell is built on the previous
    cell's output size; a Keras 3 file keeps them under ``cells/<snake_case class>[_n]``."""
    cells = config["cells"]
    if not isinstance(cells, list) or not cells:
        raise _Unknown("StackedRNNCells without cells")
    out: list[Expected] = []
    used: dict[str, int] = {}
    size = 0
    for value in cells:
        weights, size = _any_cell(value, step)
        base = _snake(_nested(value)[0])
        used[base] = used.get(base, -1) + 1
        key = base if used[base] == 0 else f"{base}_{used[base]}"
        out += _prefixed(f"cells/{key}", weights)
        step = (step[0], size)
    return out, size


@_spec("RNN")
def _rnn(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/rnn/rnn.py with a built-in cell (or StackedRNNCells) as ``cell``."""
    seq = _sequence(call)
    return _prefixed("cell", _any_cell(config["cell"], (seq[0], *seq[2:]))[0])


@_spec("StackedRNNCells")
def _stacked_spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    return _stacked(config, _one(call))[0]


def _cudnn(gates: int, bias: int) -> Spec:
    def spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
        """tf_keras/src/layers/rnn/cudnn_lstm.py and cudnn_gru.py (TF 1 era): the weights are
        the layer's own, with separate input and recurrent biases."""
        u = _units(config)
        seq = _sequence(call)
        return [
            _w("kernel", (seq[-1], gates * u)),
            _w("recurrent_kernel", (u, gates * u)),
            _w("bias", (bias * u,)),
        ]

    return spec


_spec("CuDNNLSTM")(_cudnn(4, 8))
_spec("CuDNNGRU")(_cudnn(3, 6))


def _conv_lstm(rank: int) -> Spec:
    def spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
        """keras/src/layers/rnn/conv_lstm.py ``ConvLSTMCell.build`` on the step shape: kernel
        kernel_size + (in, 4 filters), recurrent kernel_size + (filters, 4 filters), bias (4 filters,)."""
        seq = _sequence(call)
        channels = _channels(config, (seq[0], *seq[2:]), rank)
        f = _int(config["filters"], "filters")
        size = _ints(config["kernel_size"], rank, "kernel_size")
        return _prefixed("cell", _recurrent(config, (*size, channels, 4 * f), (*size, f, 4 * f), (4 * f,)))

    return spec


for _rank in (1, 2, 3):
    _spec(f"ConvLSTM{_rank}D")(_conv_lstm(_rank))


# --- wrappers -------------------------------------------------------------------------------------


@_spec("Bidirectional")
def _bidirectional(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/rnn/bidirectional.py ``build``: the forward then the backward layer,
    both on the whole sequence (stored under ``forward_layer/`` and ``backward_layer/``).
    Without a stored ``backward_layer`` (tf_keras) the backward copy has the forward's config."""
    seq = Call((_one(call),))
    forward = _inner(config["layer"], seq, major)
    back = config.get("backward_layer")
    backward = forward if back is None else _inner(back, seq, major)
    return _prefixed("forward_layer", forward) + _prefixed("backward_layer", backward)


@_spec("TimeDistributed")
def _time_distributed(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/rnn/time_distributed.py ``build``: the inner layer is built on the input
    without its time axis, ``(batch, *input[2:])``; stored under ``layer/``."""
    shape = _one(call)
    if len(shape) < 3:
        raise _Unknown("TimeDistributed needs rank >= 3")
    return _prefixed("layer", _inner(config["layer"], Call(((shape[0], *shape[2:]),)), major))


# --- attention ------------------------------------------------------------------------------------


def _qvk(call: Call) -> tuple[Shape, Shape, Shape]:
    """``query, value, key`` (key defaults to value) from positional/keyword args or one list."""
    from kinspect.catalog.common import call_arg

    x = call.x
    if isinstance(x, list) and len(call.args) == 1 and "value" not in call.kwargs:
        parts = list(x)
    else:
        parts = [call_arg(call, "query", 0), call_arg(call, "value", 1), call_arg(call, "key", 2)]
    if len(parts) not in (2, 3):
        raise _Unknown("expected query, value and optionally key")
    query, value = parts[0], parts[1]
    key = parts[2] if len(parts) == 3 and parts[2] is not None else value
    for s in (query, value, key):
        if not is_shape(s) or len(s) < 2:
            raise _Unknown("attention inputs must be tensors of rank >= 2")
    return query, value, key


@_spec("MultiHeadAttention")
def _mha(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/attention/multi_head_attention.py ``build``: EinsumDense projections
    query (q_dim, heads, key_dim), key (k_dim, heads, key_dim), gate (Keras 3 ``use_gate``;
    q_dim, heads, value_dim), value (v_dim, heads, value_dim) and output (heads, value_dim,
    *output_shape), each with a bias over its output axes after the free ones."""
    query, value, key = _qvk(call)
    if value[1:-1] != key[1:-1]:
        raise _Unknown("value and key differ outside their last axis")
    heads = _int(config["num_heads"], "num_heads")
    key_dim = _int(config["key_dim"], "key_dim")
    value_dim = key_dim if config.get("value_dim") is None else _int(config["value_dim"], "value_dim")
    out_shape = _tuple(config.get("output_shape"))
    if not out_shape:
        out_shape = [query[-1]]
    elif isinstance(out_shape, int):
        out_shape = [out_shape]
    bias = _flag(config, "use_bias", True)

    def dense(name: str, kernel: Sequence[Any], bias_shape: Sequence[Any]) -> list[Expected]:
        return _prefixed(name, [_w("kernel", kernel)] + ([_w("bias", bias_shape)] if bias else []))

    out = dense("query_dense", (query[-1], heads, key_dim), (heads, key_dim))
    out += dense("key_dense", (key[-1], heads, key_dim), (heads, key_dim))
    if _flag(config, "use_gate", False):
        out += dense("_gate_dense", (query[-1], heads, value_dim), (heads, value_dim))
    out += dense("value_dense", (value[-1], heads, value_dim), (heads, value_dim))
    return out + dense("output_dense", (heads, value_dim, *out_shape), list(out_shape))


@_spec("GroupedQueryAttention", "GroupQueryAttention")
def _gqa(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/attention/grouped_query_attention.py ``build``."""
    query, value, key = _qvk(call)
    hd = _int(config["head_dim"], "head_dim")
    hq = _int(config["num_query_heads"], "num_query_heads")
    hkv = _int(config["num_key_value_heads"], "num_key_value_heads")
    bias = _flag(config, "use_bias", True)

    def dense(name: str, kernel: Sequence[Any], bias_shape: Sequence[Any]) -> list[Expected]:
        return _prefixed(name, [_w("kernel", kernel)] + ([_w("bias", bias_shape)] if bias else []))

    out = dense("_query_dense", (query[-1], hq, hd), (hq, hd))
    out += dense("_key_dense", (key[-1], hkv, hd), (hkv, hd))
    if _flag(config, "use_gate", False):
        out += dense("_gate_dense", (query[-1], hq, hd), (hq, hd))
    out += dense("_value_dense", (value[-1], hkv, hd), (hkv, hd))
    return out + dense("_output_dense", (hq, hd, query[-1]), (query[-1],))


@_spec("Attention")
def _attention(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/attention/attention.py ``build``: scalar ``scale`` (use_scale) and
    scalar ``concat_score_weight`` (score_mode "concat")."""
    out = [_w("scale", ())] if _flag(config, "use_scale", False) else []
    if config.get("score_mode", "dot") == "concat":
        out.append(_w("concat_score_weight", ()))
    return out


@_spec("AdditiveAttention")
def _additive_attention(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/attention/additive_attention.py ``build``: ``scale`` (dim,) when
    use_scale, dim being the query's last axis (Keras 3) or the value's (tf_keras)."""
    if not _flag(config, "use_scale", True):
        return []
    query, value, _ = _qvk(call)
    if query[-1] != value[-1] and major is None:
        raise _Unknown("query and value dims differ and the Keras version is unknown")
    return [_w("scale", (value[-1] if major == 2 else query[-1],))]


# --- layers without weights -----------------------------------------------------------------------

_WEIGHTLESS = frozenset(
    [
        "InputLayer", "Activation", "ReLU", "ELU", "LeakyReLU", "Softmax", "ThresholdedReLU",
        "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianDropout",
        "GaussianNoise", "AlphaDropout", "ActivityRegularization", "Masking", "Identity",
        "Flatten", "Reshape", "Permute", "RepeatVector", "UnitNormalization",
        "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
        "Rescaling", "Resizing", "CenterCrop", "CategoryEncoding", "Hashing",
        *(f"{kind}{r}D" for kind in ("ZeroPadding", "Cropping", "UpSampling") for r in (1, 2, 3)),
        *(
            f"{kind}Pooling{r}D"
            for kind in ("Max", "Average", "GlobalMax", "GlobalAverage", "AdaptiveMax", "AdaptiveAverage")
            for r in (1, 2, 3)
        ),
        *(f"{kind}Pool{r}D" for kind in ("Max", "Avg", "GlobalMax", "GlobalAvg") for r in (1, 2, 3)),
    ]
)  # fmt: skip
