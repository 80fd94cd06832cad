"""Static shape inference: one rule per Keras layer family.

A rule reproduces Keras's ``compute_output_shape`` from the stored config and
the shapes of the call's arguments. It never guesses: when the answer cannot be
known it raises :class:`ShapeUnknown`, and the caller records ``?`` and a note.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

Dim = int | None
Shape = tuple[Dim, ...]
# A layer's output: one shape, or a (possibly nested) list/dict of shapes.
ShapeTree = Any


class ShapeUnknown(Exception):
    """The output shape cannot be derived statically; the message says why."""


@dataclass(frozen=True)
class Call:
    """The shapes a layer was called with.

    ``args`` holds positional arguments with every tensor replaced by its
    shape (a tuple); a list of tensors becomes a list of shapes; plain Python
    values stay as they are. ``kwargs`` likewise (``None`` for absent tensors).
    ``keras_major`` is the Keras major version (2 or 3) that wrote the file, when the
    caller knows it; rules whose answer differs between versions prefer it to sniffing
    the layer config (``common.keras_major``).
    """

    args: tuple[Any, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    keras_major: int | None = None

    def derive(self, args: tuple[Any, ...], kwargs: Mapping[str, Any] | None = None) -> Call:
        """A call of a nested layer (wrappers, pipelines): new arguments, same Keras version."""
        return replace(self, args=args, kwargs={} if kwargs is None else kwargs)

    @property
    def x(self) -> Any:
        """The first positional argument: the main input (shape or list of shapes)."""
        if not self.args:
            raise ShapeUnknown("layer was called without inputs")
        return self.args[0]

    def shape(self) -> Shape:
        """The first argument as a single shape (error if it is a list)."""
        x = self.x
        if not is_shape(x):
            raise ShapeUnknown("expected one input tensor")
        return x

    def shapes(self) -> list[Shape]:
        """The first argument as a list of shapes (merge layers)."""
        x = self.x
        if is_shape(x):
            return [x]
        if isinstance(x, (list, tuple)) and all(is_shape(s) for s in x):
            return list(x)
        raise ShapeUnknown("expected a list of input tensors")


Rule = Callable[[Mapping[str, Any], Call], ShapeTree]
RULES: dict[str, Rule] = {}

# Built-in layer classes with no rule on purpose: their output shapes cannot come from the config,
# so the graph falls back to the shapes the file records (Keras 3 call arguments), else ``?``.
# tests/catalog/test_coverage.py checks that every other keras.layers / tf_keras.layers class has a
# rule. (Some rules also fall back case by case, e.g. Lambda without a static output_shape.)
FALLBACK: tuple[str, ...] = (
    "Layer",  # abstract base: a saved instance is a subclass whose call() is code, not config
    "Wrapper",  # abstract base of wrappers; the concrete ones (Bidirectional…) have rules
    "InputLayer",  # not a rule: propagate.py reads its stored batch_shape / batch_input_shape
    "GRUCell",  # cells: their RNN layer's rule reads them; a direct call(inputs, states) is not modelled
    "LSTMCell",  # (as GRUCell)
    "SimpleRNNCell",  # (as GRUCell)
    "StackedRNNCells",  # (as GRUCell)
    "TorchModuleWrapper",  # wraps a pickled torch.nn.Module: its shapes are in the module's code
    "JaxLayer",  # wraps a JAX function that is not in the config
    "FlaxLayer",  # wraps a Flax module that is not in the config
    "TFSMLayer",  # calls an external TensorFlow SavedModel endpoint
    # tf.keras 2 only:
    "AbstractRNNCell",  # abstract base of custom cells
    "PreprocessingLayer",  # abstract base of preprocessing layers (layers.experimental.preprocessing)
    "DenseFeatures",  # feature columns: output width depends on feature-column objects
    "DynamicEmbedding",  # experimental; vocabulary learned at run time
    "DynamicLookup",  # experimental; vocabulary learned at run time
)


def rule(*class_names: str) -> Callable[[Rule], Rule]:
    """Register ``fn`` as the shape rule for the given Keras class names."""

    def register(fn: Rule) -> Rule:
        for name in class_names:
            if name in RULES:
                raise RuntimeError(f"two shape rules for {name}")
            RULES[name] = fn
        return fn

    return register


def is_shape(value: Any) -> bool:
    """True for a tuple of dims (ints or None)."""
    return isinstance(value, tuple) and all(d is None or isinstance(d, int) for d in value)


def as_shape(value: Any) -> Shape:
    """Convert a stored shape (JSON list) into a tuple, validating its dims."""
    if not isinstance(value, (list, tuple)) or not all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0) for d in value
    ):
        raise ShapeUnknown(f"not a shape: {value!r}")
    return tuple(value)


def infer(class_name: str, config: Mapping[str, Any], call: Call) -> ShapeTree:
    """Apply the rule for ``class_name``; raise ShapeUnknown when there is none or it fails."""
    fn = RULES.get(class_name)
    if fn is None:
        raise ShapeUnknown(f"no shape rule for layer class {class_name}")
    try:
        return fn(config, call)
    except ShapeUnknown:
        raise
    except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError, AttributeError) as exc:
        # Configs come from untrusted files: a wrong type is "unknown", never a crash.
        reason = f"{exc.__class__.__name__}: {exc}"
        raise ShapeUnknown(f"{class_name}: cannot apply shape rule ({reason})") from None
