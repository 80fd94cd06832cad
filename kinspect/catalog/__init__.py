"""What kinspect knows about Keras; importing the package registers every family's shape rules."""

# ruff: noqa: F401
from kinspect.catalog import (
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
