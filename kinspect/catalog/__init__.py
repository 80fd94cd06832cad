"""What kinspect knows about Keras, without importing it.

Config parsing (:mod:`.architecture`), weight names (:mod:`.weightnames`), shape propagation through
a model's graph (:mod:`.propagate`), and one module per layer family (``core``, ``conv``, ``rnn``…)
holding each class's shape rule, expected weights and compute cost side by side, registered in
:mod:`.registry`.

Importing any part of the package imports every family module first (below), so the registries,
and :func:`is_builtin`, are complete whenever they can be read.
"""

# ruff: noqa: F401  (the family modules register their rules and specs on import)
from kinspect.catalog import (
    activations,
    applications,
    attention,
    conv,
    core,
    legacy,
    merging,
    normalization,
    ops,
    pooling,
    preprocessing,
    reshaping,
    rnn,
    tfop,
    wrappers,
)
from kinspect.catalog.registry import (
    COSTS,
    FALLBACK,
    FREE,
    NO_COST,
    NO_SPEC,
    RULES,
    SPECS,
    WEIGHTLESS,
    Call,
    Cost,
    Expected,
    Shape,
    ShapeTree,
    ShapeUnknown,
    Unknown,
    builtin_classes,
    covered,
    expected_weights,
    infer,
    is_builtin,
    layer_cost,
)

__all__ = [
    "COSTS",
    "FALLBACK",
    "FREE",
    "NO_COST",
    "NO_SPEC",
    "RULES",
    "SPECS",
    "WEIGHTLESS",
    "Call",
    "Cost",
    "Expected",
    "Shape",
    "ShapeTree",
    "ShapeUnknown",
    "Unknown",
    "builtin_classes",
    "covered",
    "expected_weights",
    "infer",
    "is_builtin",
    "layer_cost",
]
