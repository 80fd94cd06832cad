"""Shape rules: tf.keras ``TFOpLambda`` layers (TensorFlow functions called on Keras 2 tensors).

The config names the function (``math.multiply``, ``__operators__.add``…); its
tensor argument arrives first and other arguments as call kwargs
(tf_keras/src/layers/core/tf_op_layer.py). Only functions whose shape follows
from their arguments are covered; any other raises ShapeUnknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinspect.catalog.ops import broadcast, reduce_shape, value_shape
from kinspect.catalog.registry import (
    Call,
    Cost,
    Shape,
    ShapeTree,
    ShapeUnknown,
    cost,
    elements,
    is_shape,
    rule,
)

BINARY = {
    "__operators__.add", "math.add", "math.subtract", "math.multiply", "math.truediv", "math.divide",
    "math.maximum", "math.minimum", "math.pow", "math.floordiv", "math.squared_difference",
    "math.multiply_no_nan", "math.divide_no_nan", "math.greater", "math.less", "math.equal",
    "math.not_equal", "math.greater_equal", "math.less_equal", "math.logical_and", "math.logical_or",
}  # fmt: skip
UNARY = {
    "math.abs", "math.exp", "math.log", "math.sqrt", "math.rsqrt", "math.square", "math.negative",
    "math.sigmoid", "math.tanh", "math.sin", "math.cos", "math.reciprocal", "math.softplus", "math.sign",
    "math.log1p", "math.round", "math.floor", "math.ceil", "math.logical_not", "nn.relu", "nn.relu6",
    "nn.gelu", "nn.silu", "nn.swish", "nn.elu", "nn.selu", "nn.softmax", "nn.log_softmax", "nn.sigmoid",
    "nn.tanh", "cast", "identity", "stop_gradient", "clip_by_value", "math.l2_normalize",
    "nn.l2_normalize", "nn.leaky_relu", "math.erf",
}  # fmt: skip
REDUCE = {
    "math.reduce_mean", "math.reduce_sum", "math.reduce_max", "math.reduce_min", "math.reduce_prod",
    "math.reduce_std", "math.reduce_variance", "math.reduce_any", "math.reduce_all",
    "math.reduce_logsumexp", "reduce_mean", "reduce_sum", "reduce_max", "reduce_min",
}  # fmt: skip


def _other(call: Call, names: tuple[str, ...]) -> Any:
    if len(call.args) > 1:
        return call.args[1]
    for name in names:
        if name in call.kwargs:
            return call.kwargs[name]
    raise ShapeUnknown("second operand not found")


@rule("TFOpLambda")
def tf_op_lambda(config: Mapping[str, Any], call: Call) -> Shape:
    function = config.get("function")
    if not isinstance(function, str):
        raise ShapeUnknown("TFOpLambda without a function name")
    x = call.shape()
    if function in UNARY:
        return x
    if function in BINARY:
        y = _other(call, ("y",))
        return broadcast(x, y if is_shape(y) else value_shape(y))
    if function in REDUCE:
        return reduce_shape(x, call.kwargs.get("axis"), call.kwargs.get("keepdims", False))
    raise ShapeUnknown(f"no shape rule for TensorFlow function tf.{function}")


_FREE = {"cast", "identity", "stop_gradient"}
_THREE = {"nn.softmax", "nn.log_softmax"}


@cost("TFOpLambda")
def tf_op_lambda_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """Element-wise functions: 1 per output element (3 for softmax; casts free); reductions 1
    per input element; any other function is not counted."""
    function = config.get("function")
    if function in _FREE:
        return Cost()
    if function in UNARY or function in BINARY:
        return Cost(0, elements(output) * (3 if function in _THREE else 1))
    if function in REDUCE:
        return Cost(0, elements(call.shape(), "input"))
    raise ShapeUnknown(f"no cost rule for TensorFlow function tf.{function}")
