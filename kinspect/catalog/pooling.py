"""Pooling (keras/src/layers/pooling, tf_keras/src/layers/pooling): shape rules; no variables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinspect.catalog.conv import (
    int_tuple,
    is_channels_last,
    join_spatial,
    padding_mode,
    register_ranked,
    split_spatial,
    window_output_length,
)
from kinspect.catalog.registry import (
    Call,
    Cost,
    CostRule,
    Rule,
    Shape,
    ShapeTree,
    ShapeUnknown,
    cost,
    elements,
    weightless,
)


def _pooling_rule(rank: int) -> Rule:
    def pooling(config: Mapping[str, Any], call: Call) -> Shape:
        """Max/AveragePooling*: operation_utils.compute_pooling_output_shape; strides default to pool_size."""
        last = is_channels_last(config)
        lead, spatial, channels = split_spatial(call.shape(), rank, last)
        pool = int_tuple(config.get("pool_size", 2), rank, "pool_size")
        raw_strides = config.get("strides")
        strides = pool if raw_strides is None else int_tuple(raw_strides, rank, "strides")
        padding = padding_mode(config, ("valid", "same"))
        out = [window_output_length(n, p, padding, s) for n, p, s in zip(spatial, pool, strides, strict=True)]
        return join_spatial(lead, out, channels, last)

    return pooling


def _global_rule(rank: int) -> Rule:
    def global_pooling(config: Mapping[str, Any], call: Call) -> Shape:
        """Global*Pooling*: drop the spatial dims, or keep them as 1s with ``keepdims``.

        (base_global_pooling.py; older Keras 2 configs have no ``keepdims``: False.)
        """
        last = is_channels_last(config)
        lead, _, channels = split_spatial(call.shape(), rank, last)
        keepdims = config.get("keepdims", False)
        if not isinstance(keepdims, bool):
            raise ShapeUnknown(f"keepdims {keepdims!r} is not a boolean")
        return join_spatial(lead, (1,) * rank if keepdims else (), channels, last)

    return global_pooling


def _adaptive_rule(rank: int) -> Rule:
    def adaptive(config: Mapping[str, Any], call: Call) -> Shape:
        """Adaptive*Pooling* (Keras 3 only): the spatial dims become ``output_size``.

        (base_adaptive_pooling.compute_output_shape.)
        """
        last = is_channels_last(config)
        lead, _, channels = split_spatial(call.shape(), rank, last)
        return join_spatial(lead, int_tuple(config["output_size"], rank, "output_size"), channels, last)

    return adaptive


register_ranked(_pooling_rule, "MaxPooling1D", "MaxPooling2D", "MaxPooling3D")
register_ranked(_pooling_rule, "AveragePooling1D", "AveragePooling2D", "AveragePooling3D")
register_ranked(_global_rule, "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D")
register_ranked(_global_rule, "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D")
register_ranked(_adaptive_rule, "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D")
register_ranked(
    _adaptive_rule, "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D"
)

# MaxPool2D, AvgPool2D… are aliases Keras exports too (a file stores the class name, MaxPooling2D).
_KINDS = ("Max", "Average", "GlobalMax", "GlobalAverage", "AdaptiveMax", "AdaptiveAverage")
weightless(*(f"{kind}Pooling{r}D" for kind in _KINDS for r in (1, 2, 3)))
weightless(*(f"{kind}Pool{r}D" for kind in ("Max", "Avg", "GlobalMax", "GlobalAvg") for r in (1, 2, 3)))


# --- compute cost: pooling is element-wise (a comparison or an add per element of each window) ----


def _pooling_cost(rank: int) -> CostRule:
    def pooling_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
        """``pool_size`` element operations per output element (window positions in the padding
        included)."""
        size = 1
        for p in int_tuple(config.get("pool_size", 2), rank, "pool_size"):
            size *= p
        return Cost(0, elements(output) * size)

    return pooling_cost


def _whole_input_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """One element operation per input element (each is read into one window; adaptive windows
    that overlap by a row are not counted twice)."""
    return Cost(0, elements(call.shape(), "input"))


for _r in (1, 2, 3):
    for _kind in ("Max", "Average"):
        cost(f"{_kind}Pooling{_r}D")(_pooling_cost(_r))
    for _kind in ("GlobalMax", "GlobalAverage", "AdaptiveMax", "AdaptiveAverage"):
        cost(f"{_kind}Pooling{_r}D")(_whole_input_cost)
