"""The plain data model: what a saved Keras model file says, without any weight values.

Everything here is frozen and holds metadata and shapes only, so that a summary of
a 1 GB file reads kilobytes. Weight values are never held: a loader reads them in a child
process and hands back plain statistics (:data:`StatsReader`).
This module imports nothing from kinspect.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# An output shape: a tuple of dims (None for unknown), a list of those for
# several outputs, or None when the shape cannot be known statically.
ShapeTree = Any


class Format(str, Enum):
    """On-disk formats kinspect reads, detected by content: the ``format`` of JSON outputs.

    Each is produced by exactly one format module of :mod:`kinspect.loaders`
    (its ``FORMATS``); tests/test_loaders.py checks that every member has one.
    """

    KERAS = "keras"  # .keras zip archive (Keras 3, or tf.keras 2.13+)
    H5 = "h5"  # legacy full-model HDF5 (model.save("m.h5"))
    WEIGHTS_H5 = "weights.h5"  # Keras 3 weights-only (layers/<path>/vars/<i>)
    LEGACY_WEIGHTS_H5 = "legacy-weights.h5"  # Keras 2 save_weights / ModelCheckpoint (layer_names)
    SHARDED_WEIGHTS = "weights.json"  # Keras 3 sharded weights index + shard files
    CONFIG_JSON = "config.json"  # an architecture alone
    TF_CHECKPOINT = "tf-checkpoint"  # TensorFlow checkpoint: P.index + P.data-*-of-* (+ a checkpoint file)
    SAVEDMODEL = "savedmodel"  # TensorFlow SavedModel directory (keras_metadata.pb for Keras-made ones)


DTYPE_BITS = {
    "float16": 16, "bfloat16": 16, "float32": 32, "float64": 64,
    "int8": 8, "uint8": 8, "int16": 16, "uint16": 16, "int32": 32, "uint32": 32,
    "int64": 64, "uint64": 64, "bool": 8, "int4": 4, "float8_e4m3fn": 8, "float8_e5m2": 8,
}  # fmt: skip


@dataclass(frozen=True)
class WeightInfo:
    """One stored tensor: where it lives and what it is, never its values."""

    name: str  # "kernel", "moving_mean", or "vars/0" when the file keeps no name
    path: str  # HDF5 dataset path inside the weights file
    shape: tuple[int, ...]
    dtype: str
    trainable: bool  # effective: the layer and all its parents are trainable too
    # False where the file cannot tell (a live custom layer's weights: Keras stores no flag and
    # kinspect cannot know what the class does); ``trainable`` is then kinspect's count, not a fact.
    trainable_known: bool = True

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> float:
        """Bytes as Keras's summary counts them (dtype bits / 8)."""
        return self.size * DTYPE_BITS.get(self.dtype, 32) / 8


class IssueKind(str, Enum):
    """How stored weights disagree with what the architecture builds."""

    MISSING = "missing"  # the layer builds a weight the file does not have
    UNEXPECTED = "unexpected"  # the file has a tensor the layer does not build
    SHAPE = "shape"  # both exist, with different shapes


@dataclass(frozen=True)
class WeightIssue:
    """One disagreement between a layer's config (and input shape) and the stored weights."""

    layer: str  # the layer's path from the top model, "outer/inner/dense"
    kind: IssueKind
    weight: str
    expected: tuple[int, ...] | None = None
    found: tuple[int, ...] | None = None

    def __str__(self) -> str:
        return f"{self.layer}: {self.detail}"

    @property
    def detail(self) -> str:
        """The disagreement without the layer's path (for a note on the layer itself)."""
        if self.kind is IssueKind.MISSING:
            return f"weight {self.weight} {self.expected} is missing from the file"
        if self.kind is IssueKind.UNEXPECTED:
            return f"stored tensor {self.weight} {self.found} is not built by the layer"
        return f"weight {self.weight} has shape {self.found}, the layer builds {self.expected}"


@dataclass(frozen=True)
class TensorRef:
    """A tensor in the graph: output ``tensor`` of call ``node`` of ``layer`` (Keras's keras_history)."""

    layer: str
    node: int
    tensor: int

    def __str__(self) -> str:
        return f"{self.layer}[{self.node}][{self.tensor}]"


class _Totals:
    """Parameter counts of anything that can list its weights (a layer, a model)."""

    def all_weights(self) -> Iterator[WeightInfo]:
        raise NotImplementedError

    @property
    def params(self) -> int:
        return sum(w.size for w in self.all_weights())

    @property
    def trainable_params(self) -> int:
        return sum(w.size for w in self.all_weights() if w.trainable)

    @property
    def non_trainable_params(self) -> int:
        return self.params - self.trainable_params

    @property
    def uncertain_params(self) -> int:
        """Parameters whose trainability the file does not tell: the trainable split is only
        known to within this many (``trainable_known`` False)."""
        return sum(w.size for w in self.all_weights() if not w.trainable_known)

    def split_range(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """(low, high) of the trainable and of the non-trainable parameters: exact (low = high)
        unless some weights' trainability is unknown."""
        known = [w for w in self.all_weights() if w.trainable_known]
        trainable = sum(w.size for w in known if w.trainable)
        frozen = sum(w.size for w in known if not w.trainable)
        unsure = self.uncertain_params
        return (trainable, trainable + unsure), (frozen, frozen + unsure)


@dataclass(frozen=True)
class LayerInfo(_Totals):
    """A layer (or functional operation, or nested model) as the file describes it."""

    name: str
    class_name: str
    module: str | None = None
    registered_name: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    trainable: bool = True
    dtype: str | None = None  # dtype policy name, e.g. "mixed_float16"
    output_shape: ShapeTree = None
    # One tuple of input tensors per call of the layer inside its model.
    inbound: tuple[tuple[TensorRef, ...], ...] = ()
    weights: tuple[WeightInfo, ...] = ()  # this layer's own tensors
    layers: tuple[LayerInfo, ...] = ()  # a nested model's layers
    is_model: bool = False
    is_operation: bool = False  # a keras.ops call recorded in a functional graph
    notes: tuple[str, ...] = ()
    # Each call of the layer in its model, in graph order: ``(call, output)``, the call being a
    # kinspect.catalog Call (its arguments with every tensor replaced by its shape) and the output
    # the call's output shapes. Empty where the inputs are unknown. What compute cost is counted on.
    calls: tuple[tuple[Any, ShapeTree], ...] = field(default=(), compare=False, repr=False)

    def all_weights(self) -> Iterator[WeightInfo]:
        """Own weights, then those of nested layers, depth first."""
        yield from self.weights
        for child in self.layers:
            yield from child.all_weights()

    @property
    def connections(self) -> tuple[TensorRef, ...]:
        return tuple(ref for node in self.inbound for ref in node)


@dataclass(frozen=True)
class CompileInfo:
    """What ``model.compile`` recorded, as plain names."""

    optimizer: str | None = None
    learning_rate: float | None = None
    loss: Any = None
    metrics: Any = None
    config: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ModelInfo(_Totals):
    """Everything kinspect knows about one model file."""

    path: str
    format: Format
    name: str
    class_name: str
    layers: tuple[LayerInfo, ...]
    inputs: tuple[TensorRef, ...] = ()
    outputs: tuple[TensorRef, ...] = ()
    keras_version: str | None = None
    backend: str | None = None
    date_saved: str | None = None
    dtype: str | None = None
    compile: CompileInfo | None = None
    optimizer_weights: tuple[WeightInfo, ...] = ()
    # Weights in the file that no layer of the architecture explains.
    unmatched_weights: tuple[WeightInfo, ...] = ()
    # State of compiled metrics (tf.keras saves it with the weights): neither weights nor parameters.
    metric_weights: tuple[WeightInfo, ...] = ()
    # Stored weights that disagree with what the architecture builds (checked where known).
    weight_issues: tuple[WeightIssue, ...] = ()
    # Set when the file's own weights contradict its own config, so that Keras cannot load it:
    # the verdict in one line (the first disagreement). The model is still described in full.
    weights_mismatch: str | None = None
    has_architecture: bool = True
    file_size: int = 0
    config: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    notes: tuple[str, ...] = ()
    # Why the file's weights were not read (a weights member kinspect does not read), when they
    # were not: the parameter counts are then unknown, not zero.
    weights_unread: str | None = None
    # False when the stored weights were not opened because the config alone decides them (a plain
    # ``summary``): the counts are the config's, not checked against the file (``--verify`` does).
    weights_checked: bool = True

    @property
    def params_known(self) -> bool:
        """Whether the parameter counts say what the file holds: not for an architecture alone
        (a config.json), nor for a file whose weights were not read."""
        return self.format is not Format.CONFIG_JSON and self.weights_unread is None

    def all_weights(self) -> Iterator[WeightInfo]:
        for layer in self.layers:
            yield from layer.all_weights()

    def walk(self) -> Iterator[tuple[int, LayerInfo]]:
        """Every layer with its nesting depth, depth first, in model order."""

        def visit(layers: tuple[LayerInfo, ...], depth: int) -> Iterator[tuple[int, LayerInfo]]:
            for layer in layers:
                yield depth, layer
                yield from visit(layer.layers, depth + 1)

        return visit(self.layers, 0)


# How analyzers get weight values without opening files: given ``(dataset path, track units,
# count negatives)`` per tensor, the histogram bins (0: none) and the bytes to read, a loader
# starts reading and returns a function that waits for the statistics, keyed by dataset path
# (plain numbers, see kinspect.loaders.arrays).
StatsReader = Callable[
    [Sequence[tuple[str, bool, bool]], int, int], Callable[[], Mapping[str, Mapping[str, Any]]]
]
