"""One stored tensor and its statistics: the rows :mod:`kinspect.analyzers.weights` builds from
the reader's results and :mod:`kinspect.analyzers.diagnostics` examines."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from kinspect.model import LayerInfo, WeightInfo

OPTIMIZER_LAYER = "(optimizer)"
UNMATCHED_LAYER = "(unmatched)"


@dataclass(frozen=True)
class Entry:
    """A stored tensor to read, with the layer that owns it (None for optimizer/unmatched)."""

    layer: str  # path from the top model, "outer/inner/dense"
    weight: WeightInfo
    owner: LayerInfo | None = field(default=None, compare=False, repr=False)
    optimizer: bool = False

    @property
    def leaf(self) -> str:
        """The variable's own name: ``cell/kernel`` → ``kernel``."""
        return self.weight.name.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Histogram:
    edges: tuple[float, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True)
class TensorStats:
    """One row: a tensor and its statistics over its finite values (None when it has none)."""

    entry: Entry = field(repr=False)
    size: int
    min: float | None
    max: float | None
    mean: float | None
    std: float | None
    norm: float | None
    zeros: int
    nan: int
    inf: int
    float16_overflow: int = 0
    negative: int = 0
    units: int | None = None
    dead_units: int | None = None
    dead_index: tuple[int, ...] = ()
    histogram: Histogram | None = None
    error: str | None = None
    stored_dtype: str | None = None  # what the reader found, where the listing could not name it

    @property
    def layer(self) -> str:
        return self.entry.layer

    @property
    def name(self) -> str:
        return self.entry.weight.name

    @property
    def path(self) -> str:
        return self.entry.weight.path

    @property
    def shape(self) -> tuple[int, ...]:
        return self.entry.weight.shape

    @property
    def dtype(self) -> str:
        listed = self.entry.weight.dtype
        return self.stored_dtype if listed == "void" and self.stored_dtype else listed

    @property
    def trainable(self) -> bool:
        return self.entry.weight.trainable

    @property
    def finite(self) -> int:
        return self.size - self.nan - self.inf

    @property
    def absmax(self) -> float | None:
        return None if self.min is None or self.max is None else max(abs(self.min), abs(self.max))

    @property
    def rms(self) -> float | None:
        """Root mean square, a size-free scale to compare tensors of one model."""
        return None if self.norm is None or not self.finite else self.norm / math.sqrt(self.finite)
