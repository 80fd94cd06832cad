"""Shape rules: normalization layers (keras/src/layers/normalization/, preprocessing/normalization.py).

They all keep their input's shape; Keras only checks that ``axis`` lies within the input's rank.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinspect.catalog.common import nested_layer
from kinspect.catalog.registry import Call, Shape, ShapeTree, ShapeUnknown, infer, rule


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
