"""Import every rule module so that its rules are registered."""

# ruff: noqa: F401
from kinspect.shapes import (
    activations,
    attention,
    conv,
    core,
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
