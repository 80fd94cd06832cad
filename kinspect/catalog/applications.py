"""Layers that ``keras.applications`` models define and save (not exported by ``keras.layers``).

Keras's own code, so their shapes and weights are known like any built-in layer's: a
ConvNeXt file's trainable split is exact, as ``model.summary()`` prints it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinspect.catalog.common import integer, variable
from kinspect.catalog.registry import Call, Cost, Expected, Shape, ShapeTree, cost, elements, rule, weights


@rule("LayerScale")
def layer_scale(config: Mapping[str, Any], call: Call) -> Shape:
    """keras/src/applications/convnext.py (and tf_keras's): ``x * gamma``, the input's shape."""
    return call.shape()


@weights("LayerScale")
def layer_scale_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """``build``: gamma (projection_dim,), trainable."""
    return [variable("gamma", (integer(config["projection_dim"], "projection_dim"),))]


@cost("LayerScale")
def layer_scale_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """1 per element: ``x * gamma``."""
    return Cost(0, elements(call.shape(), "input"))
