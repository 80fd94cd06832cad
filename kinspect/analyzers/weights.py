"""Per-tensor weight statistics: which tensors to read, and the rows the user sees.

Pure functions of a ModelInfo and the plain statistics a loader's reader returns
(:data:`kinspect.model.StatsReader`); no arrays and no file access here. :func:`measure` is
the one flow every caller uses: plan, read, then rows and findings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from kinspect.analyzers.diagnostics import diagnose
from kinspect.analyzers.tensorstats import OPTIMIZER_LAYER, UNMATCHED_LAYER, Entry, Histogram, TensorStats
from kinspect.errors import UsageError
from kinspect.findings import Finding
from kinspect.model import LayerInfo, ModelInfo, StatsReader, WeightInfo

# Tensors whose last axis indexes output units (Dense columns, Conv filters): dead-unit masks.
UNIT_KERNELS = {"kernel", "pointwise_kernel", "depthwise_kernel"}


class SortKey(str, Enum):
    """Orders of the table: ``file`` keeps the model's order; numbers sort largest first."""

    FILE = "file"
    NAME = "name"
    LAYER = "layer"
    SIZE = "size"
    NORM = "norm"
    STD = "std"
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    ABSMAX = "absmax"
    ZEROS = "zeros"
    NAN = "nan"
    INF = "inf"


def _layer_paths(model: ModelInfo) -> list[tuple[str, LayerInfo]]:
    out: list[tuple[str, LayerInfo]] = []

    def visit(layers: tuple[LayerInfo, ...], prefix: str) -> None:
        for layer in layers:
            path = f"{prefix}{layer.name}"
            out.append((path, layer))
            visit(layer.layers, f"{path}/")

    visit(model.layers, "")
    return out


def compile_regex(pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"invalid regular expression ({exc})", "layer") from None


def plan(model: ModelInfo, layer: str | None = None, optimizer: bool = False) -> list[Entry]:
    """The tensors to read, in model order: each layer's own weights, then unmatched ones,
    then (with ``optimizer``) the optimizer's. ``layer`` is a regex searched in layer paths."""
    regex = compile_regex(layer)
    entries: list[Entry] = []
    seen: set[str] = set()
    for path, info in _layer_paths(model):
        for w in info.weights:
            if w.path not in seen:
                seen.add(w.path)
                entries.append(Entry(path, w, info))
    entries.extend(Entry(UNMATCHED_LAYER, w) for w in model.unmatched_weights if w.path not in seen)
    if optimizer:
        entries.extend(Entry(OPTIMIZER_LAYER, w, optimizer=True) for w in model.optimizer_weights)
    if regex is not None:
        entries = [e for e in entries if regex.search(e.layer)]
        if not entries:
            raise UsageError("matches no layer that has weights", "layer", layer)
    return entries


def optimizer_scalars(model: ModelInfo) -> dict[str, WeightInfo]:
    """The optimizer's step count and learning rate variables, when the file stores them.

    Keras 3 archives keep ``optimizer/vars/0`` (iterations, int64) and ``vars/1`` (the
    learning rate, when it is not a schedule); ``.h5`` files name them ``iteration``/``iter``
    and ``learning_rate``/``lr`` (keras/src/optimizers/base_optimizer.py).
    """
    found: dict[str, WeightInfo] = {}
    for w in model.optimizer_weights:
        leaf = w.name.rsplit("/", 1)[-1]
        if w.shape not in ((), (1,)):
            continue
        if leaf in ("iteration", "iterations", "iter") or (w.name == "optimizer/vars/0" and "int" in w.dtype):
            found.setdefault("iterations", w)
        elif leaf in ("learning_rate", "lr") or (w.name == "optimizer/vars/1" and "float" in w.dtype):
            schedule = model.compile is not None and model.compile.learning_rate is None and leaf == "1"
            if not schedule:
                found.setdefault("learning_rate", w)
    return found


def tensor_stats(entry: Entry, raw: Mapping[str, Any]) -> TensorStats:
    """A row from the reader's plain result for one tensor."""
    hist = raw.get("histogram")
    return TensorStats(
        entry=entry,
        size=int(raw.get("size", entry.weight.size)),
        min=raw.get("min"),
        max=raw.get("max"),
        mean=raw.get("mean"),
        std=raw.get("std"),
        norm=raw.get("norm"),
        zeros=int(raw.get("zeros", 0)),
        nan=int(raw.get("nan", 0)),
        inf=int(raw.get("inf", 0)),
        float16_overflow=int(raw.get("float16_overflow", 0)),
        negative=int(raw.get("negative", 0)),
        units=raw.get("units"),
        dead_units=raw.get("dead_units"),
        dead_index=tuple(raw.get("dead_index", ())),
        histogram=Histogram(tuple(hist["edges"]), tuple(hist["counts"])) if hist else None,
        error=raw.get("error"),
        stored_dtype=raw.get("dtype"),
    )


def _key(row: TensorStats, key: SortKey) -> Any:
    value = {
        SortKey.SIZE: row.size, SortKey.NORM: row.norm, SortKey.STD: row.std, SortKey.MEAN: row.mean,
        SortKey.MIN: row.min, SortKey.MAX: row.max, SortKey.ABSMAX: row.absmax, SortKey.ZEROS: row.zeros,
        SortKey.NAN: row.nan, SortKey.INF: row.inf,
    }[key]  # fmt: skip
    return (value is None, -(value or 0))  # largest first, unknown last


def arrange(
    rows: Sequence[TensorStats], sort: SortKey = SortKey.FILE, top: int | None = None
) -> list[TensorStats]:
    """Rows sorted (stable, so ties keep the model's order) and cut to the first ``top``."""
    out = list(rows)
    if sort is SortKey.NAME:
        out.sort(key=lambda r: r.name)
    elif sort is SortKey.LAYER:
        out.sort(key=lambda r: r.layer)
    elif sort is not SortKey.FILE:
        out.sort(key=lambda r: _key(r, sort))
    return out[:top] if top is not None else out


def total_bytes(entries: Sequence[Entry]) -> int:
    return int(sum(e.weight.nbytes for e in entries))


@dataclass(frozen=True)
class WeightStats:
    """What ``kinspect weights`` shows: the rows (sorted, cut), the findings over every tensor
    read, and the optimizer's step and learning rate when the file has them."""

    model: ModelInfo
    rows: tuple[TensorStats, ...]
    findings: tuple[Finding, ...]
    optimizer: Mapping[str, float | int]
    bins: int | None
    total_tensors: int
    total_values: int
    total_bytes: int


def weight_stats(
    model: ModelInfo,
    entries: Sequence[Entry],
    stats: Mapping[str, Mapping[str, Any]],
    sort: SortKey = SortKey.FILE,
    top: int | None = None,
    bins: int | None = None,
) -> WeightStats:
    """Rows and findings from the reader's statistics (``stats`` keyed by dataset path)."""
    rows = [tensor_stats(e, stats.get(e.weight.path, {"error": "not read"})) for e in entries]
    state: dict[str, float | int] = {}
    for key, w in optimizer_scalars(model).items():
        value = stats.get(w.path, {}).get("max")
        if isinstance(value, (int, float)):
            state[key] = int(value) if key == "iterations" else float(value)
    if "learning_rate" not in state and state and model.compile and model.compile.learning_rate is not None:
        state["learning_rate"] = model.compile.learning_rate
    name = model.compile.optimizer if model.compile else None
    findings = diagnose(rows, state, name)
    return WeightStats(
        model=model,
        rows=tuple(arrange(rows, sort, top)),
        findings=tuple(findings),
        optimizer=state,
        bins=bins,
        total_tensors=len(rows),
        total_values=sum(r.size for r in rows),
        total_bytes=total_bytes(entries),
    )


def wanted(model: ModelInfo, entries: Sequence[Entry]) -> list[tuple[str, bool, bool]]:
    """``(dataset path, track units, count negatives)`` for the reader: the entries, plus the
    optimizer's step and learning rate scalars (always read: they are a few bytes)."""
    out = [
        (e.weight.path, e.leaf in UNIT_KERNELS and len(e.weight.shape) >= 2, e.leaf == "moving_variance")
        for e in entries
    ]
    seen = {e.weight.path for e in entries}
    out += [(w.path, False, False) for w in optimizer_scalars(model).values() if w.path not in seen]
    return out


def measure(
    model: ModelInfo,
    read: StatsReader,
    *,
    layer: str | None = None,
    optimizer: bool = False,
    bins: int | None = None,
    sort: SortKey = SortKey.FILE,
    top: int | None = None,
) -> Callable[[], WeightStats]:
    """Start reading the statistics of ``model``'s tensors with ``read`` (a loader's reader);
    returns a function that waits for them and gives the rows and findings.

    ``layer`` (a regex searched in layer paths) and ``optimizer`` choose the tensors, ``bins``
    adds a histogram to each, ``sort`` and ``top`` order and cut the rows (findings still cover
    every tensor read). Two steps, so that a caller can do other work while the values are read.
    """
    entries = plan(model, layer, optimizer)
    requests = wanted(model, entries)
    if not requests:  # nothing stored to read: no reader child at all
        return lambda: weight_stats(model, entries, {}, sort, top, bins)
    waiting = read(requests, bins or 0, total_bytes(entries))
    return lambda: weight_stats(model, entries, waiting(), sort, top, bins)
