"""What ``model.summary()`` reports: rows, totals, layout — computed, not printed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from kinspect.errors import UsageError
from kinspect.model import LayerInfo, ModelInfo, WeightInfo


@dataclass(frozen=True)
class Row:
    """One summary line: a layer and how deep it is nested (0 = top level)."""

    layer: LayerInfo
    depth: int


@dataclass(frozen=True)
class Totals:
    """Parameter counts and their sizes in bytes, as Keras's summary counts them."""

    total: int
    trainable: int
    non_trainable: int
    optimizer: int
    total_bytes: float
    trainable_bytes: float
    non_trainable_bytes: float
    optimizer_bytes: float


@dataclass(frozen=True)
class Summary:
    model: ModelInfo
    rows: tuple[Row, ...]
    totals: Totals
    sequential_like: bool


def _size(weights: Iterable[WeightInfo]) -> tuple[int, float]:
    ws = list(weights)
    return sum(w.size for w in ws), sum(w.nbytes for w in ws)


def totals(model: ModelInfo) -> Totals:
    weights = list(model.all_weights())
    trainable, trainable_bytes = _size(w for w in weights if w.trainable)
    frozen, frozen_bytes = _size(w for w in weights if not w.trainable)
    optimizer, optimizer_bytes = _size(model.optimizer_weights)
    return Totals(
        total=trainable + frozen + optimizer,
        trainable=trainable,
        non_trainable=frozen,
        optimizer=optimizer,
        total_bytes=trainable_bytes + frozen_bytes + optimizer_bytes,
        trainable_bytes=trainable_bytes,
        non_trainable_bytes=frozen_bytes,
        optimizer_bytes=optimizer_bytes,
    )


def sequential_like(model: ModelInfo) -> bool:
    """Keras shows no "Connected to" column for chains (keras/src/utils/summary_utils.py):
    a Sequential model, or a functional graph whose calls, ordered by depth, form one line
    of single-input calls with no shared layer."""
    if model.class_name == "Sequential" or not model.has_architecture:
        return True
    layers = model.layers
    calls = [(layer, node) for layer in layers for node in (layer.inbound or ((),))]
    if any(len(layer.inbound) > 1 for layer in layers):
        return False
    if any(len(node) > 1 for _, node in calls):
        return False
    # Depth of each call: outputs are 0, a producer is one deeper than its deepest consumer.
    consumers: dict[str, list[str]] = {}
    for layer in layers:
        for ref in layer.connections:
            consumers.setdefault(ref.layer, []).append(layer.name)
    depth: dict[str, int] = {}

    def depth_of(name: str, seen: frozenset[str] = frozenset()) -> int:
        if name in depth:
            return depth[name]
        if name in seen:  # a cycle: not a chain Keras could have built
            return 0
        users = consumers.get(name, [])
        depth[name] = 1 + max((depth_of(u, seen | {name}) for u in users), default=-1)
        return depth[name]

    levels: dict[int, int] = {}
    for layer in layers:
        d = depth_of(layer.name)
        levels[d] = levels.get(d, 0) + 1
    return all(count == 1 for count in levels.values())


def layer_range(layers: tuple[LayerInfo, ...], bounds: tuple[str, str] | None) -> tuple[int, int]:
    """keras ``get_layer_index_bound_by_layer_name``: regexes matched with ``re.match``."""
    if bounds is None:
        return 0, len(layers)
    try:
        lower = [i for i, layer in enumerate(layers) if re.match(bounds[0], layer.name)]
        upper = [i for i, layer in enumerate(layers) if re.match(bounds[1], layer.name)]
    except re.error as exc:
        raise UsageError(f"invalid regular expression ({exc})", "layer_range") from None
    if not lower or not upper:
        raise UsageError("matches no layer names in the model", "layer_range", tuple(bounds))
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


def summarize(
    model: ModelInfo, expand_nested: bool = False, bounds: tuple[str, str] | None = None
) -> Summary:
    """Rows in Keras's order (nested layers after their model when ``expand_nested``)."""
    start, stop = layer_range(model.layers, bounds)
    rows: list[Row] = []

    def add(layer: LayerInfo, depth: int) -> None:
        rows.append(Row(layer, depth))
        if expand_nested:
            for child in layer.layers:
                add(child, depth + 1)

    for layer in model.layers[start:stop]:
        add(layer, 0)
    return Summary(model, tuple(rows), totals(model), sequential_like(model))
