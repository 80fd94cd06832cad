"""Activation layers, and the other element-wise layers that keep their input's shape.

Covers keras/src/layers/activations/, keras/src/layers/regularization/ and core/masking.py:
each ``compute_output_shape`` returns ``input_shape`` unchanged, and only PReLU has variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinspect.catalog.common import activation_ops, integer, one_input, untuple, variable
from kinspect.catalog.registry import (
    Call,
    Cost,
    Expected,
    Rule,
    Shape,
    ShapeTree,
    ShapeUnknown,
    cost,
    elements,
    free,
    rule,
    variable_names,
    weightless,
    weights,
)

SAME_SHAPE = (
    "Activation",
    "ReLU",
    "ELU",
    "LeakyReLU",
    "Softmax",
    "ThresholdedReLU",  # tf.keras 2 only
    "Dropout",
    "GaussianDropout",
    "GaussianNoise",
    "AlphaDropout",
    "ActivityRegularization",
    "Masking",
)
weightless(*SAME_SHAPE)


@rule(*SAME_SHAPE)
def same_shape(config: Mapping[str, Any], call: Call) -> Shape:
    """The output has the input's shape."""
    return call.shape()


@rule("PReLU")
def prelu(config: Mapping[str, Any], call: Call) -> Shape:
    """activations/prelu.py: same shape, but ``alpha`` takes the shape of every non-batch axis
    not in ``shared_axes``, so those must be known for Keras to build the layer."""
    shape = call.shape()
    shared = config.get("shared_axes")
    shared = [] if shared is None else [shared] if isinstance(shared, int) else list(shared)
    param = list(shape[1:])
    for axis in shared:
        param[axis - 1] = 1
    if None in param:
        raise ShapeUnknown(f"PReLU alpha would have an unknown dim for input {shape}")
    return shape


@variable_names("PReLU")
def prelu_names(config: Mapping[str, Any]) -> list[str]:
    return ["alpha"]


@weights("PReLU")
def prelu_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """activations/prelu.py ``build``: alpha is the input without its batch axis, with 1 on every
    ``shared_axes`` axis."""
    param = list(one_input(call)[1:])
    shared = untuple(config.get("shared_axes"))
    if shared is not None:
        for i in [shared] if isinstance(shared, int) else shared:
            param[integer(i, "shared_axes", -len(param)) - 1] = 1
    return [variable("alpha", param)]


def _same_shape_of_rank(rank: int) -> Rule:
    """regularization/spatial_dropout.py: same shape; the InputSpec fixes the rank."""

    def fn(config: Mapping[str, Any], call: Call) -> Shape:
        shape = call.shape()
        if len(shape) != rank:
            raise ShapeUnknown(f"expected rank-{rank} input, got {shape}")
        return shape

    return fn


for _name, _rank in (("SpatialDropout1D", 3), ("SpatialDropout2D", 4), ("SpatialDropout3D", 5)):
    rule(_name)(_same_shape_of_rank(_rank))
    weightless(_name)


# --- compute cost ---------------------------------------------------------------------------------

# The identity at inference (keras's ``training=False``).
free("Dropout", "GaussianDropout", "GaussianNoise", "AlphaDropout", "ActivityRegularization")
free("SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")


@cost("Activation")
def activation_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """1 per element (3 for softmax: exp, sum, divide; 0 for linear)."""
    return Cost(0, activation_ops(config, elements(output)))


@cost("ReLU", "ELU", "LeakyReLU", "ThresholdedReLU", "PReLU", "Masking")
def elementwise_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """1 per element (a comparison, for Masking)."""
    return Cost(0, elements(call.shape(), "input"))


@cost("Softmax")
def softmax_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """3 per element: exp, sum, divide."""
    return Cost(0, 3 * elements(call.shape(), "input"))
