"""The plain data model of a training run, read from its logs: no arrays, no Keras.

Epochs are 1-based everywhere, as ``fit()`` prints them and ``ModelCheckpoint`` names files
(``{epoch}`` is ``epoch + 1``); a CSVLogger file's ``epoch`` column and a TensorBoard step are
0-based, and the readers convert. Series are named as ``model.fit()``'s ``History`` names them
(``loss``, ``val_loss``, ``accuracy``…), whatever the source; the learning rate is always
``learning_rate`` (tf.keras logs it as ``lr``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

Series = tuple[float | None, ...]  # index i is epoch i + 1; None where the source has no value


class SourceKind(str, Enum):
    """Where a run's values were read from."""

    CSV = "csv"
    TENSORBOARD = "tensorboard"
    JSON = "json"


@dataclass(frozen=True)
class Source:
    """One file a run was read from (``part`` tells apart the runs an ``append=True`` CSV holds)."""

    path: str
    kind: SourceKind
    part: int | None = None  # 1-based run index inside the file, when it holds several


@dataclass(frozen=True)
class WeightSeries:
    """One weight's TensorBoard histograms across epochs, summarised per epoch.

    ``mean``/``std`` come from the bucket centres (exact sums for a TF1 ``HistogramProto``),
    ``min``/``max`` from the outer edges of the non-empty buckets (exact for a proto).
    """

    name: str  # the weight, as the TensorBoard tag names it without its ``/histogram`` suffix
    epochs: tuple[int, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    min: tuple[float, ...]
    max: tuple[float, ...]


@dataclass(frozen=True)
class Run:
    """One training run: its series by name, weight histograms, and notes on what was read.

    ``iterations`` holds the optimizer's step count at the end of each epoch when a source
    records it (Keras's TensorBoard callback writes ``evaluation_*_vs_iterations`` at that
    step); ``params`` what a History JSON kept of ``History.params`` (``epochs``, ``steps``).
    """

    name: str
    sources: tuple[Source, ...]
    metrics: Mapping[str, Series]
    weights: tuple[WeightSeries, ...] = ()
    iterations: tuple[int | None, ...] = ()
    params: Mapping[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def epochs(self) -> int:
        return max((len(s) for s in self.metrics.values()), default=0)

    def series(self, name: str) -> Series:
        """``name``'s values padded to every epoch (all None when the run lacks it)."""
        values = self.metrics.get(name, ())
        return tuple(values) + (None,) * (self.epochs - len(values))


@dataclass(frozen=True)
class CheckpointFile:
    """A checkpoint found beside a run: what its name and its optimizer step say."""

    path: str
    iterations: int | None = None  # the optimizer's step stored in the file
    note: str | None = None  # why the step could not be read


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
