"""Normalization layers (keras/src/layers/normalization/, preprocessing/normalization.py): shape
rules and expected weights.

They all keep their input's shape; Keras only checks that ``axis`` lies within the input's rank.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinspect.catalog.common import (
    axis_list,
    flag,
    integer,
    nested_layer,
    nested_weights,
    norm_names,
    one_input,
    prefixed,
    untuple,
    variable,
)
from kinspect.catalog.registry import (
    Call,
    Cost,
    Expected,
    Shape,
    ShapeTree,
    ShapeUnknown,
    Unknown,
    cost,
    elements,
    infer,
    layer_cost,
    rule,
    variable_names,
    weightless,
    weights,
)


def _check_axes(axis: Any, rank: int) -> None:
    """Mirror ``compute_output_shape``'s bounds check on ``axis`` (int, list, or None = none)."""
    axes = [] if axis is None else [axis] if isinstance(axis, int) else axis
    if not isinstance(axes, (list, tuple)):
        raise ShapeUnknown(f"axis {axis!r} is not an int or a list of ints")
    for a in axes:
        if not isinstance(a, int) or isinstance(a, bool) or not -rank <= a < rank:
            raise ShapeUnknown(f"axis {axis!r} is out of bounds for a rank-{rank} input")


@rule(
    "BatchNormalization",
    "SyncBatchNormalization",  # tf.keras 2 only
    "LayerNormalization",
    "GroupNormalization",
    "UnitNormalization",
    "RMSNormalization",
    "Normalization",
)
def normalization(config: Mapping[str, Any], call: Call) -> Shape:
    """The output has the input's shape."""
    shape = call.shape()
    _check_axes(config.get("axis", -1), len(shape))
    return shape


@rule("SpectralNormalization")
def spectral_normalization(config: Mapping[str, Any], call: Call) -> ShapeTree:
    """normalization/spectral_normalization.py: the wrapped layer's output shape."""
    name, inner = nested_layer(config.get("layer"))
    return infer(name, inner, call.derive((call.shape(),)))


# --- compute cost (element-wise: operations per element of the input) ------------------------------


@cost("BatchNormalization", "SyncBatchNormalization")
def batch_norm_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """2 per element: at inference the moving statistics, gamma and beta fold into one multiply
    and one add."""
    return Cost(0, 2 * elements(call.shape(), "input"))


def _affine(config: Mapping[str, Any]) -> int:
    """The optional ``* gamma`` and ``+ beta`` (``scale``/``center``, default true)."""
    return (config.get("scale", True) is not False) + (config.get("center", True) is not False)


@cost("LayerNormalization", "GroupNormalization")
def layer_norm_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """4 per element for the statistics and the normalization (accumulate for the mean,
    subtract it, accumulate the square, multiply by the inverse deviation), plus 1 each for
    ``scale`` and ``center``. Keras 3's ``rms_scaling`` skips the mean: 2, plus ``scale``."""
    n = elements(call.shape(), "input")
    if config.get("rms_scaling"):
        return Cost(0, (2 + (config.get("scale", True) is not False)) * n)
    return Cost(0, (4 + _affine(config)) * n)


@cost("RMSNormalization")
def rms_norm_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """3 per element: accumulate the square, multiply by the inverse root, multiply by ``scale``."""
    return Cost(0, 3 * elements(call.shape(), "input"))


@cost("UnitNormalization")
def unit_norm_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """2 per element: accumulate the square, multiply by the inverse norm."""
    return Cost(0, 2 * elements(call.shape(), "input"))


@cost("Normalization")
def normalization_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """2 per element: subtract the mean, divide by the deviation (``invert`` too)."""
    return Cost(0, 2 * elements(call.shape(), "input"))


@cost("SpectralNormalization")
def spectral_norm_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """The wrapped layer's cost: the power iteration runs only in training."""
    name, inner = nested_layer(config.get("layer"))
    return layer_cost(name, inner, call, output)


# --- expected weights -----------------------------------------------------------------------------

weightless("UnitNormalization")


@variable_names("BatchNormalization")
def batch_normalization_names(config: Mapping[str, Any]) -> list[str]:
    return [*norm_names(config), "moving_mean", "moving_variance"]


variable_names("LayerNormalization", "GroupNormalization")(norm_names)


@variable_names("RMSNormalization")
def rms_normalization_names(config: Mapping[str, Any]) -> list[str]:
    return ["scale"]


@variable_names("Normalization")
def normalization_names(config: Mapping[str, Any]) -> list[str]:
    return ["mean", "variance", "count"]


@weights("BatchNormalization", "SyncBatchNormalization")
def batch_normalization_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/normalization/batch_normalization.py ``build`` (one int axis: params
    ``(dim,)``) and tf_keras's, whose stored ``axis`` is a list; several axes give params of the
    input's rank with 1 on the other axes. ``renorm`` adds moving_stddev, renorm_mean and
    renorm_stddev. ``virtual_batch_size`` (tf_keras; it shifts the stored axes) is not covered."""
    if config.get("virtual_batch_size") is not None:
        raise Unknown("virtual_batch_size")
    shape = one_input(call)
    rank = len(shape)
    axes = sorted({a % rank for a in axis_list(config.get("axis", -1), rank)})
    if len(axes) == 1:
        param: list[Any] = [shape[axes[0]]]
    else:
        param = [shape[i] if i in axes else 1 for i in range(rank)]
    out = []
    if flag(config, "scale", True):
        out.append(variable("gamma", param))
    if flag(config, "center", True):
        out.append(variable("beta", param))
    stats = ["moving_mean", "moving_variance"]
    if flag(config, "renorm", False):
        stats += ["moving_stddev", "renorm_mean", "renorm_stddev"]
    return out + [variable(name, param, trainable=False) for name in stats]


def _kept_axes(config: Mapping[str, Any], shape: Shape, major: int | None, default: Any = -1) -> list[int]:
    """LayerNormalization/RMSNormalization axes in weight order: Keras 3 sorts the stored values
    as given (so ``[-1, 1]`` stays), tf_keras keeps the order given."""
    value = untuple(config.get("axis", default))
    axes = axis_list(value, len(shape))
    if isinstance(value, (list, tuple)) and axes != sorted(axes):
        if major is None:
            raise Unknown("unsorted axis list and the Keras version is unknown")
        if major == 3:
            axes = sorted(axes)
    return axes


@weights("LayerNormalization")
def layer_normalization_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/normalization/layer_normalization.py ``build``: gamma when scale (or
    rms_scaling), beta when center and not rms_scaling; shape the input's dims on ``axis``."""
    shape = one_input(call)
    param = [shape[a] for a in _kept_axes(config, shape, major)]
    rms = flag(config, "rms_scaling", False)
    out = []
    if flag(config, "scale", True) or rms:
        out.append(variable("gamma", param))
    if flag(config, "center", True) and not rms:
        out.append(variable("beta", param))
    return out


@weights("RMSNormalization")
def rms_normalization_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/normalization/rms_normalization.py ``build``: one ``scale``."""
    shape = one_input(call)
    return [variable("scale", [shape[a] for a in _kept_axes(config, shape, 3)])]


@weights("GroupNormalization")
def group_normalization_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/normalization/group_normalization.py ``build``: gamma/beta ``(dim,)``."""
    shape = one_input(call)
    dim = integer(shape[axis_list(config.get("axis", -1), len(shape))[0]], "group axis")
    groups = config.get("groups", 32)
    groups = dim if groups == -1 else integer(groups, "groups")
    if dim < groups or dim % groups:
        raise Unknown("groups do not divide the channels")
    out = []
    if flag(config, "scale", True):
        out.append(variable("gamma", (dim,)))
    if flag(config, "center", True):
        out.append(variable("beta", (dim,)))
    return out


@weights("Normalization")
def normalization_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/preprocessing/normalization.py ``build``: non-trainable mean and
    variance over the kept axes (sorted, made positive) and a scalar count, unless the config
    holds a fixed mean (then nothing is a variable)."""
    if config.get("mean") is not None:
        return []
    shape = one_input(call)
    value = untuple(config.get("axis", -1))
    axes = [] if value is None else axis_list(value, len(shape))
    kept = [shape[a] for a in sorted(a % len(shape) for a in axes)]
    return [variable("mean", kept, False), variable("variance", kept, False), variable("count", (), False)]


@weights("SpectralNormalization")
def spectral_normalization_weights(
    config: Mapping[str, Any], call: Call, major: int | None
) -> list[Expected]:
    """keras/src/layers/normalization/spectral_normalization.py ``build``: ``self.kernel =
    self.layer.kernel`` (or ``.embeddings``) makes the wrapped kernel the wrapper's own trainable
    variable, then comes its non-trainable ``vector_u`` (1, kernel's last dim), then the wrapped
    layer's other weights (``layer.weights`` lists the shared kernel once; a Keras 3 file stores
    it twice, as ``vars/0`` and ``layer/vars/0``)."""
    inner = prefixed("layer", nested_weights(config["layer"], call, major))
    kernel = next((w for w in inner if w.name in ("layer/kernel", "layer/embeddings")), None)
    if kernel is None or not kernel.shape:
        raise Unknown("wrapped layer has no kernel")
    rest = [w for w in inner if w is not kernel]
    return [
        Expected(kernel.name.rpartition("/")[2], kernel.shape, kernel.trainable),
        variable("vector_u", (1, kernel.shape[-1]), False),
        *rest,
    ]
