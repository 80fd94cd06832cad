"""The catalog's registries: shape rules, expected weights and compute costs, by Keras class name.

A shape rule reproduces Keras's ``compute_output_shape`` from the stored config and the shapes of
the call's arguments; an expected-weights spec reproduces the layer's ``build``; a cost rule counts
the arithmetic of one call (:class:`Cost`). None guesses: when the answer cannot be known a rule
raises :class:`ShapeUnknown` or :class:`Unknown` (the caller records ``?`` and a note) and
:func:`expected_weights` gives None. The family modules (``core``, ``conv``, ``rnn``…)
register them side by side; importing any part of :mod:`kinspect.catalog` imports all of them
first (the package's ``__init__``), so the registries are complete whenever they can be read.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

Dim = int | None
Shape = tuple[Dim, ...]
# A layer's output: one shape, or a (possibly nested) list/dict of shapes.
ShapeTree = Any


class Unknown(Exception):
    """Something cannot be derived statically from the config (a bad value, an unknown dim)."""


class ShapeUnknown(Unknown):
    """The output shape cannot be derived statically; the message says why."""


@dataclass(frozen=True)
class Call:
    """The shapes a layer was called with.

    ``args`` holds positional arguments with every tensor replaced by its
    shape (a tuple); a list of tensors becomes a list of shapes; plain Python
    values stay as they are. ``kwargs`` likewise (``None`` for absent tensors).
    ``keras_major`` is the Keras major version (2 or 3) that wrote the file, when the
    caller knows it; rules whose answer differs between versions prefer it to sniffing
    the layer config (:func:`keras_major`).
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


def known(dims: Sequence[Dim]) -> tuple[int, ...] | None:
    """The dims when every one is known, else None (so that products of dims are typed ints)."""
    return None if any(d is None for d in dims) else tuple(d for d in dims if d is not None)


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


def keras_major(config: Mapping[str, Any], call: Call | None = None) -> int | None:
    """Which Keras wrote a layer config: 3, 2, or None when it cannot be told.

    The file-level version the caller put in ``call.keras_major`` wins. Otherwise the config's
    dtype decides: Keras >= 3.4 stores a serialized ``DTypePolicy`` (module ``keras``; also
    FloatDTypePolicy, QuantizedDTypePolicy…), tf.keras 2 a string, or a ``Policy`` dict for
    mixed precision. A bare string is also what early Keras 3 releases stored: it proves nothing.
    """
    if call is not None and call.keras_major in (2, 3):
        return call.keras_major
    dtype = config.get("dtype")
    if isinstance(dtype, Mapping):
        class_name = dtype.get("class_name")
        if dtype.get("module") == "keras" or (isinstance(class_name, str) and "DTypePolicy" in class_name):
            return 3
        if class_name == "Policy":
            return 2
    return None


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


# --- expected weights -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """One variable a layer creates in ``build``.

    ``name`` follows the Keras 3 file layout (:func:`kinspect.catalog.weightnames.keras3_name`): the
    variable name, prefixed by the attribute path of the sub-object that owns it (``cell/kernel``,
    ``forward_layer/cell/bias``, ``query_dense/kernel``, ``layer/kernel``). ``trainable`` is the
    variable's own flag; a frozen layer (``trainable: false`` in its config) makes all of them
    non-trainable in Keras, which the caller applies.
    """

    name: str  # "kernel", "moving_mean", "cell/recurrent_kernel", "forward_layer/cell/bias"
    shape: tuple[int, ...]
    trainable: bool = True


# A spec gets the layer config, its first call and the Keras major version (2, 3 or None) and
# returns the variables in ``layer.weights`` order (keras/src/layers/layer.py ``weights``: the
# layer's own trainable then non-trainable variables, then each sub-layer's in tracking order),
# which is also the order Keras 3 numbers them in a file (``save_own_variables``: ``vars/0``…).
Spec = Callable[[Mapping[str, Any], Call, "int | None"], list[Expected]]
SPECS: dict[str, Spec] = {}
WEIGHTLESS: set[str] = set()  # built-in classes that create no variables

# Built-in layer classes with no expected-weights spec, and why: their stored weights are left as
# the file has them. tests/catalog/test_coverage.py checks that every other keras.layers /
# tf_keras.layers class has a spec or is weightless.
_ABSTRACT = "abstract base: a saved instance is a subclass whose variables are code"
_CODE = "its variables come from code or objects outside the config"
_NOT_PORTED = "has variables; its build is not ported yet"
_STATE = "keeps adapted or looked-up state (vocabulary, bins, idf weights) in its own layout"
_UNPINNED = "no variables in Keras 3.15 / tf_keras 2.21; not declared weightless until a test pins it"
NO_SPEC: dict[str, str] = {
    **dict.fromkeys(["Layer", "Wrapper", "AbstractRNNCell", "PreprocessingLayer"], _ABSTRACT),
    **dict.fromkeys(
        ["Lambda", "TorchModuleWrapper", "JaxLayer", "FlaxLayer", "TFSMLayer", "DenseFeatures",
         "DynamicEmbedding", "DynamicLookup"],
        _CODE,
    ),
    **dict.fromkeys(
        ["ReversibleEmbedding", "LocallyConnected1D", "LocallyConnected2D", "RandomFourierFeatures",
         "STFTSpectrogram"],
        _NOT_PORTED,
    ),
    "Pipeline": "its variables are its sub-layers'; not ported yet",
    **dict.fromkeys(["IntegerLookup", "StringLookup", "TextVectorization", "Discretization"], _STATE),
    **dict.fromkeys(
        ["HashedCrossing", "MelSpectrogram", "MaxNumBoundingBoxes", "AugMix", "AutoContrast", "CutMix",
         "ContrastLimitedAdaptiveHistogramEqualization", "Equalization", "MixUp", "RandAugment",
         "RandomBrightness", "RandomColorDegeneration", "RandomColorJitter", "RandomContrast",
         "RandomCrop", "RandomElasticTransform", "RandomErasing", "RandomFlip", "RandomGaussianBlur",
         "RandomGrayscale", "RandomHeight", "RandomHue", "RandomInvert", "RandomPerspective",
         "RandomPosterization", "RandomRotation", "RandomSaturation", "RandomSharpness", "RandomShear",
         "RandomTranslation", "RandomWidth", "RandomZoom", "Solarization"],
        _UNPINNED,
    ),
}  # fmt: skip


def weights(*class_names: str) -> Callable[[Spec], Spec]:
    """Register ``fn`` as the expected-weights spec for the given Keras class names."""

    def register(fn: Spec) -> Spec:
        for name in class_names:
            if name in SPECS or name in WEIGHTLESS:
                raise RuntimeError(f"two expected-weights specs for {name}")
            SPECS[name] = fn
        return fn

    return register


# The names of the variables a class stores by index (``vars/0``, ``vars/1``… in Keras 3 files), from
# its config alone: they name a layer's tensors where its expected weights cannot be derived (an
# unknown input shape, a weights-only file). Registered beside the class's spec in its family module.
Names = Callable[[Mapping[str, Any]], list[str]]
NAMES: dict[str, Names] = {}


def variable_names(*class_names: str) -> Callable[[Names], Names]:
    """Register ``fn`` as the variable names of the given Keras class names."""

    def register(fn: Names) -> Names:
        for name in class_names:
            if name in NAMES:
                raise RuntimeError(f"two variable-name lists for {name}")
            NAMES[name] = fn
        return fn

    return register


def weightless(*class_names: str) -> None:
    """Register built-in classes that create no variables."""
    for name in class_names:
        if name in SPECS or name in WEIGHTLESS:
            raise RuntimeError(f"two expected-weights specs for {name}")
        WEIGHTLESS.add(name)


def covered(class_name: str) -> bool:
    """Whether :func:`expected_weights` knows ``class_name`` at all."""
    return class_name in SPECS or class_name in WEIGHTLESS


def expected_weights(
    class_name: str, config: Mapping[str, Any], input_shape: Any, keras_major: int | None = None
) -> list[Expected] | None:
    """The variables a built-in layer of ``class_name`` builds for ``input_shape``, or None.

    ``input_shape`` is a :class:`Call`, one shape (tuple, ``None`` for unknown dims), or a list of
    shapes (a multi-input layer's first argument; for MultiHeadAttention ``[query, value]`` or
    ``[query, value, key]``). ``keras_major`` (2 or 3) settles the few version-dependent details;
    otherwise the Call's or config's hints are used.

    None means "not known": a class not covered (custom, or a built-in whose build is not ported),
    a config that cannot be read, an input shape that leaves a weight dim unknown, or a layout that
    differs between what Keras stores and ``layer.weights`` (LoRA, quantized policies).
    """
    if class_name in WEIGHTLESS:
        return []
    fn = SPECS.get(class_name)
    if fn is None or not isinstance(config, Mapping):
        return None
    call = input_shape if isinstance(input_shape, Call) else Call((input_shape,))
    major = keras_major if keras_major in (2, 3) else _keras_major(config, call)
    try:
        return fn(config, call, major)
    except (Unknown, KeyError, TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError):
        # Configs come from untrusted files: anything unreadable is "unknown", never a crash.
        return None


_keras_major = keras_major  # expected_weights' parameter of that name hides the function


# --- built-in classes -----------------------------------------------------------------------------

# Keras 1 layer classes (Convolution2D, Merge, Highway…), which kinspect.catalog.legacy translates
# to their Keras 2 form where Keras 2 has one; filled by that module on import.
KERAS1: set[str] = set()

# Every class the catalog knows is one of Keras's: a shape rule or fallback, an expected-weights spec,
# weightless or a documented lack of a spec, named variables, or a Keras 1 class. The coverage tests
# keep these lists complete for keras.layers and tf_keras.layers, so any other class name is a custom
# class.
_KNOWN: tuple[Collection[str], ...] = (RULES, FALLBACK, SPECS, WEIGHTLESS, NO_SPEC, NAMES, KERAS1)


def is_builtin(class_name: str) -> bool:
    """Whether ``class_name`` names a layer class Keras ships (Keras 3, tf.keras 2 or Keras 1).

    Recorded Keras 3 operations (``ops.*``) are not layer classes.
    """
    return not class_name.startswith("ops.") and any(class_name in known for known in _KNOWN)


def builtin_classes() -> list[str]:
    """Every class name :func:`is_builtin` accepts, sorted."""
    return sorted({name for known in _KNOWN for name in known if not name.startswith("ops.")})


# --- compute cost ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cost:
    """The arithmetic of one call of a layer on one sample.

    ``macs``: multiply-accumulates of the layer's products (matrix products, convolutions,
    attention scores), the figure papers call "FLOPs" and torchvision "GFLOPS". ``elementwise``:
    other element operations (bias adds, activations, normalization, pooling, merges), counted
    apart so that they can be left out as most tools do. One operation per element touched, as
    each rule's docstring says.
    """

    macs: int = 0
    elementwise: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.macs + other.macs, self.elementwise + other.elementwise)

    def __mul__(self, times: int) -> Cost:
        return Cost(self.macs * times, self.elementwise * times)


# A cost rule gets the layer config, the call (its arguments' shapes) and the call's output
# shapes, and returns the Cost of one sample: :func:`elements` counts an unknown first (batch) dim
# as 1. It raises Unknown when a dim it needs is unknown. Registered beside the class's shape rule
# in its family module.
CostRule = Callable[[Mapping[str, Any], Call, ShapeTree], Cost]
COSTS: dict[str, CostRule] = {}
# Built-in classes that do no arithmetic at inference: data movement (Reshape, ZeroPadding2D,
# Concatenate…), table lookups (Embedding), or layers that are the identity at inference
# (Dropout, GaussianNoise, the Random* augmentations).
FREE: set[str] = set()
# Built-in classes without a cost rule, and why: their cost is reported unknown with this note.
NO_COST: dict[str, str] = {}


# The abstract bases and the layers whose computation is outside the config.
_NOT_IN_CONFIG = "its computation is code or a model outside the config"


def cost(*class_names: str) -> Callable[[CostRule], CostRule]:
    """Register ``fn`` as the cost rule for the given Keras class names."""

    def register(fn: CostRule) -> CostRule:
        for name in class_names:
            if name in COSTS or name in FREE or name in NO_COST:
                raise RuntimeError(f"two cost rules for {name}")
            COSTS[name] = fn
        return fn

    return register


def free(*class_names: str) -> None:
    """Register built-in classes that do no arithmetic at inference."""
    for name in class_names:
        if name in COSTS or name in FREE or name in NO_COST:
            raise RuntimeError(f"two cost rules for {name}")
        FREE.add(name)


def no_cost(reason: str, *class_names: str) -> None:
    """Register built-in classes whose cost is not counted, with the reason shown to the user."""
    for name in class_names:
        if name in COSTS or name in FREE or name in NO_COST:
            raise RuntimeError(f"two cost rules for {name}")
        NO_COST[name] = reason


def elements(shape: Any, what: str = "tensor") -> int:
    """The number of elements of one sample of a shape: an unknown first (batch) dim counts as 1;
    any other unknown dim is Unknown."""
    if type(shape) is not tuple:
        raise Unknown(f"{what} is not one tensor")
    size = 1
    for i, d in enumerate(shape):
        if type(d) is int:
            size *= d
        elif d is not None:
            raise Unknown(f"{what} is not one tensor")
        elif i:
            raise Unknown(f"{what} shape {shape} has unknown dims (give a length: --seq-len N)")
    return size


def all_elements(tree: ShapeTree, what: str = "output") -> int:
    """The elements of every tensor of an output (a shape, or a list/dict of shapes)."""
    if tree is None or is_shape(tree):
        return elements(tree, what)
    if isinstance(tree, Mapping):
        return sum(all_elements(v, what) for v in tree.values())
    if isinstance(tree, (list, tuple)):
        return sum(all_elements(v, what) for v in tree)
    raise Unknown(f"{what} is not a shape")


def layer_cost(class_name: str, config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """The cost of one call of a built-in layer; Unknown (with the reason) when it cannot be known."""
    if class_name in FREE:
        return Cost()
    fn = COSTS.get(class_name)
    if fn is None:
        reason = NO_COST.get(class_name)
        if reason is not None:
            raise Unknown(f"{class_name}: {reason}")
        raise Unknown(f"no cost rule for layer class {class_name}")
    try:
        return fn(config, call, output)
    except Unknown:
        raise
    except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError, AttributeError) as exc:
        raise Unknown(f"{class_name}: cannot apply cost rule ({exc.__class__.__name__}: {exc})") from None


NO_COST.update(
    dict.fromkeys(
        ["Layer", "Wrapper", "AbstractRNNCell", "PreprocessingLayer", "TorchModuleWrapper", "JaxLayer",
         "FlaxLayer", "TFSMLayer", "DenseFeatures"],
        _NOT_IN_CONFIG,
    )
)  # fmt: skip
FREE.update(["DynamicEmbedding", "DynamicLookup"])  # table lookups
