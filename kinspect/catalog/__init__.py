"""What kinspect knows about Keras, without importing it.

Config parsing (:mod:`.architecture`), weight names (:mod:`.weightnames`), shape propagation through
a model's graph (:mod:`.propagate`), and one module per layer family (``core``, ``conv``, ``rnn``…)
holding each class's shape rule and expected weights side by side, registered in :mod:`.registry`.

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
    FALLBACK,
    NO_SPEC,
    RULES,
    SPECS,
    WEIGHTLESS,
    Call,
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
)

__all__ = [
    "FALLBACK",
    "NO_SPEC",
    "RULES",
    "SPECS",
    "WEIGHTLESS",
    "Call",
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
]
