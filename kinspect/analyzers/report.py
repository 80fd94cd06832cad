"""The HTML report as a plain value: overview, layer rows, graph, weights, findings, notes.

Pure: it gathers what the other analyzers computed (summary totals, weight statistics,
diagnostics, check findings, the graph image Graphviz drew) into one value the HTML renderer
turns into text. Nothing here reads files or formats markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kinspect.analyzers.summary import Totals, totals
from kinspect.analyzers.tensorstats import OPTIMIZER_LAYER, UNMATCHED_LAYER, TensorStats
from kinspect.analyzers.training import RunAnalysis
from kinspect.analyzers.weights import WeightStats
from kinspect.findings import Finding, Severity
from kinspect.model import LayerInfo, ModelInfo, ShapeTree, TensorRef

if TYPE_CHECKING:
    from kinspect.analyzers.cost import CostReport


def is_problem(finding: Finding) -> bool:
    """Warnings and errors make a model unhealthy; information does not."""
    return finding.severity.rank >= Severity.WARNING.rank


@dataclass(frozen=True)
class LayerRow:
    """One row of the layer table; nested layers point at their model's row."""

    key: int  # position in the table, 0-based
    parent: int | None
    depth: int
    name: str
    path: str  # "outer/inner/dense"
    class_name: str
    output_shape: ShapeTree
    params: int | None  # None: the file cannot say (an architecture alone)
    trainable_params: int
    share: float  # of the model's parameters, 0..1
    trainable: bool | None  # None: the layer has no weights
    connections: tuple[str, ...]
    children: int
    problems: int  # findings at warning or error level on this layer or its tensors
    notes: tuple[str, ...]


@dataclass(frozen=True)
class TensorRow:
    """One stored tensor with its statistics and the rules that flagged it."""

    stats: TensorStats
    rules: tuple[str, ...]
    severity: str | None  # the worst severity among ``rules``

    @property
    def kind(self) -> str:
        return {OPTIMIZER_LAYER: "optimizer", UNMATCHED_LAYER: "unmatched"}.get(self.stats.layer, "weight")


@dataclass(frozen=True)
class GraphPart:
    """What Graphviz drew: SVG text to inline (None when it could not), the PNG's file name."""

    svg: str | None
    image: str | None
    nodes: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Port:
    """A model input or output: the tensor, and its shape when known."""

    ref: str
    shape: ShapeTree


@dataclass(frozen=True)
class Report:
    model: ModelInfo
    totals: Totals | None  # None: no parameter counts (an architecture alone)
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    layers: tuple[LayerRow, ...]
    graph: GraphPart | None  # None: skipped (--no-graph)
    tensors: tuple[TensorRow, ...] | None  # None: skipped (--no-weights) or nothing to read
    weights: WeightStats | None
    bins: int
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]
    version: str
    training: RunAnalysis | None = None  # the run found beside the model (or --logs)
    cost: CostReport | None = None  # the compute and memory cost section (None: not computed)

    @property
    def problems(self) -> int:
        return sum(is_problem(f) for f in self.findings)

    @property
    def verdict(self) -> str:
        n = self.problems
        return "healthy" if n == 0 else f"{n} problem{'s' if n != 1 else ''}"


def merge_findings(weights: Iterable[Finding], checks: Iterable[Finding]) -> tuple[Finding, ...]:
    """Diagnostics first, then check results the diagnostics did not already report (the
    KIN2xx check rules pass the same diagnostics on); errors before warnings before info."""
    found = list(weights)
    seen = set(found)
    found += [f for f in checks if f not in seen]
    return tuple(sorted(found, key=lambda f: -f.severity.rank))  # stable: file order within


def _shape_of(model: ModelInfo, ref: TensorRef) -> ShapeTree:
    for layer in model.layers:
        if layer.name == ref.layer:
            shape = layer.output_shape
            if isinstance(shape, list):
                return shape[ref.tensor] if ref.tensor < len(shape) else None
            return shape
    return None


def _ports(model: ModelInfo) -> tuple[tuple[Port, ...], tuple[Port, ...]]:
    inputs = tuple(Port(str(r), _shape_of(model, r)) for r in model.inputs)
    outputs = tuple(Port(str(r), _shape_of(model, r)) for r in model.outputs)
    if model.has_architecture and model.layers and not inputs and not outputs:  # Sequential
        first, last = model.layers[0], model.layers[-1]
        if first.class_name == "InputLayer":
            inputs = (Port(first.name, first.output_shape),)
        outputs = (Port(last.name, last.output_shape),)
    return inputs, outputs


def layer_rows(model: ModelInfo, problems: dict[str, int]) -> tuple[LayerRow, ...]:
    """Every layer, nested ones after their model, depth first, in Keras's order."""
    total = model.params
    known = model.params_known
    rows: list[LayerRow] = []
    # Findings on a layer count for it and for every model it is nested in ("a/b/c" counts for
    # "a/b" and "a"): summed once per path, not by scanning the findings for every layer.
    within: dict[str, int] = {}
    for where, n in problems.items():
        parts = where.split("/")
        for end in range(1, len(parts) + 1):
            key = "/".join(parts[:end])
            within[key] = within.get(key, 0) + n

    def add(layer: LayerInfo, parent: int | None, depth: int, prefix: str) -> None:
        path = f"{prefix}{layer.name}"
        key = len(rows)
        weighted = any(True for _ in layer.all_weights())
        count = within.get(path, 0)
        rows.append(
            LayerRow(
                key=key,
                parent=parent,
                depth=depth,
                name=layer.name,
                path=path,
                class_name=layer.class_name,
                output_shape=layer.output_shape,
                params=layer.params if known else None,
                trainable_params=layer.trainable_params,
                share=layer.params / total if total else 0.0,
                trainable=layer.trainable if weighted else None,
                connections=tuple(str(r) for r in layer.connections),
                children=len(layer.layers),
                problems=count,
                notes=layer.notes,
            )
        )
        for child in layer.layers:
            add(child, key, depth + 1, f"{path}/")

    for layer in model.layers:
        add(layer, None, 0, "")
    return tuple(rows)


def _tensor_rows(weights: WeightStats, findings: Sequence[Finding]) -> tuple[TensorRow, ...]:
    flagged: dict[tuple[str | None, str | None], list[Finding]] = {}
    for f in findings:
        flagged.setdefault((f.layer, f.tensor), []).append(f)
    out = []
    for row in weights.rows:
        hits = flagged.get((row.layer, row.name), [])
        worst = max((f.severity for f in hits), key=lambda s: s.rank).value if hits else None
        out.append(TensorRow(row, tuple(dict.fromkeys(f.rule for f in hits)), worst))
    return tuple(out)


def gather_notes(
    model: ModelInfo, graph: GraphPart | None, weights: WeightStats | None, skipped: Sequence[str]
) -> tuple[str, ...]:
    """What kinspect could not determine or did not do, in plain words."""
    notes = list(model.notes)
    by_text: dict[str, list[str]] = {}  # one line for a note many layers share
    for _, layer in model.walk():
        for n in layer.notes:
            by_text.setdefault(n, []).append(f"{layer.name} ({layer.class_name})")
    for text, where in by_text.items():
        if len(where) <= 3:
            notes.extend(f"{w}: {text}" for w in where)
        else:
            notes.append(f"{len(where)} layers ({', '.join(where[:3])}, …): {text}")
    for w in model.unmatched_weights:
        notes.append(f"stored tensor {w.path} {w.shape} is not explained by any layer of the architecture")
    if graph is not None:
        notes.extend(f"graph: {n}" for n in graph.notes)
    if weights is not None:
        errors = [r for r in weights.rows if r.error]
        notes.extend(f"weights: {r.layer}/{r.name} could not be read ({r.error})" for r in errors)
    notes.extend(skipped)
    return tuple(dict.fromkeys(notes))


def build_report(
    model: ModelInfo,
    *,
    graph: GraphPart | None = None,
    weights: WeightStats | None = None,
    checks: Iterable[Finding] = (),
    bins: int = 0,
    skipped: Sequence[str] = (),
    version: str = "",
    training: RunAnalysis | None = None,
) -> Report:
    """The report value: ``graph`` None and ``weights`` None mean those sections are skipped."""
    findings = merge_findings(weights.findings if weights else (), checks)
    problems: dict[str, int] = {}
    for f in findings:
        if f.layer and is_problem(f):
            problems[f.layer] = problems.get(f.layer, 0) + 1
    inputs, outputs = _ports(model)
    return Report(
        model=model,
        totals=totals(model) if model.params_known else None,
        inputs=inputs,
        outputs=outputs,
        layers=layer_rows(model, problems),
        graph=graph,
        tensors=_tensor_rows(weights, findings) if weights is not None else None,
        weights=weights,
        bins=bins,
        findings=findings,
        notes=gather_notes(model, graph, weights, skipped),
        version=version,
        training=training,
    )
