"""Shape rules: activation layers, and the other element-wise layers that keep their input's shape.

Covers keras/src/layers/activations/, keras/src/layers/regularization/ and core/masking.py:
each ``compute_output_shape`` returns ``input_shape`` unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinspect.catalog.registry import Call, Rule, Shape, ShapeUnknown, rule


@rule(
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
