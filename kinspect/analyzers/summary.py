"""What ``model.summary()`` reports: rows, totals, layout — computed, not printed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kinspect.errors import UsageError
from kinspect.model import LayerInfo, ModelInfo, WeightInfo

if TYPE_CHECKING:
    from kinspect.analyzers.cost import CostReport, LayerCost


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
    # Parameters whose trainability the file does not tell (custom layers' weights): the true
    # trainable count lies in [trainable_low, trainable_low + uncertain], likewise non-trainable.
    uncertain: int = 0
    uncertain_bytes: float = 0.0
    trainable_low: int = 0
    trainable_low_bytes: float = 0.0
    non_trainable_low: int = 0
    non_trainable_low_bytes: float = 0.0

    @property
    def trainable_range(self) -> tuple[int, int]:
        return self.trainable_low, self.trainable_low + self.uncertain

    @property
    def non_trainable_range(self) -> tuple[int, int]:
        return self.non_trainable_low, self.non_trainable_low + self.uncertain


@dataclass(frozen=True)
class Summary:
    model: ModelInfo
    rows: tuple[Row, ...]
    totals: Totals
    sequential_like: bool
    cost: CostReport | None = None  # the compute and memory cost, when asked (summary --cost)

    def row_costs(self) -> list[LayerCost | None]:
        """Each row's cost (None without a cost report)."""
        if self.cost is None:
            return [None] * len(self.rows)
        by_layer = {id(c.layer): c for c in self.cost.walk()}
        return [by_layer.get(id(row.layer)) for row in self.rows]


def _size(weights: Iterable[WeightInfo]) -> tuple[int, float]:
    ws = list(weights)
    return sum(w.size for w in ws), sum(w.nbytes for w in ws)


def totals(model: ModelInfo) -> Totals:
    weights = list(model.all_weights())
    trainable, trainable_bytes = _size(w for w in weights if w.trainable)
    frozen, frozen_bytes = _size(w for w in weights if not w.trainable)
    optimizer, optimizer_bytes = _size(model.optimizer_weights)
    unsure, unsure_bytes = _size(w for w in weights if not w.trainable_known)
    sure_trainable, sure_trainable_bytes = _size(w for w in weights if w.trainable_known and w.trainable)
    sure_frozen, sure_frozen_bytes = _size(w for w in weights if w.trainable_known and not w.trainable)
    return Totals(
        total=trainable + frozen + optimizer,
        trainable=trainable,
        non_trainable=frozen,
        optimizer=optimizer,
        total_bytes=trainable_bytes + frozen_bytes + optimizer_bytes,
        trainable_bytes=trainable_bytes,
        non_trainable_bytes=frozen_bytes,
        optimizer_bytes=optimizer_bytes,
        uncertain=unsure,
        uncertain_bytes=unsure_bytes,
        trainable_low=sure_trainable,
        trainable_low_bytes=sure_trainable_bytes,
        non_trainable_low=sure_frozen,
        non_trainable_low_bytes=sure_frozen_bytes,
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
    depth = call_depths([layer.name for layer in layers], consumers)
    levels: dict[int, int] = {}
    for layer in layers:
        d = depth[layer.name]
        levels[d] = levels.get(d, 0) + 1
    return all(count == 1 for count in levels.values())


def call_depths(names: Iterable[str], consumers: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Keras's node depths: 0 for a layer nothing consumes, else one more than its deepest
    consumer. Iterative (a 10,000-layer chain is 10,000 deep); a consumer met again on the
    current path (a cycle, which Keras cannot build) counts as depth 0."""
    depth: dict[str, int] = {}
    for start in names:
        if start in depth:
            continue
        deepest = {start: -1}
        stack = [(start, iter(consumers.get(start, ())))]
        while stack:
            name, users = stack[-1]
            user = next(users, None)
            if user is None:
                stack.pop()
                depth[name] = 1 + deepest.pop(name)
                if stack:
                    parent = stack[-1][0]
                    deepest[parent] = max(deepest[parent], depth[name])
            elif user in depth:
                deepest[name] = max(deepest[name], depth[user])
            elif user in deepest:  # on the current path: a cycle
                deepest[name] = max(deepest[name], 0)
            else:
                deepest[user] = -1
                stack.append((user, iter(consumers.get(user, ()))))
    return depth


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
