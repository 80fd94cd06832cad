"""``kinspect weights`` renderings: a text table with sparklines, and the JSON document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kinspect.analyzers.diagnostics import evidence
from kinspect.analyzers.tensorstats import OPTIMIZER_LAYER, UNMATCHED_LAYER, TensorStats
from kinspect.analyzers.weights import WeightStats
from kinspect.findings import Finding
from kinspect.render.formatting import readable_bytes
from kinspect.render.header import metadata_lines

WEIGHTS_SCHEMA = "kinspect/weights@1"
SPARKS = "▁▂▃▄▅▆▇█"
MAX_FINDINGS_PER_RULE = 5  # in the text; JSON lists every finding


def sparkline(counts: Sequence[int]) -> str:
    """One character per bin, its height proportional to the count; empty bins are blank."""
    top = max(counts, default=0)
    if not top:
        return " " * len(counts)
    return "".join(" " if c == 0 else SPARKS[min(7, c * 8 // (top + 1))] for c in counts)


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    text = f"{x:.4g}"
    return "0" if text == "-0" else text


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _zeros(row: TensorStats) -> str:
    if not row.size:
        return "-"
    if row.zeros == 0:
        return "0"
    return f"{100 * row.zeros / row.size:.1f}%"


def tensor_cells(row: TensorStats, histograms: bool) -> list[str]:
    cells = [row.layer, row.name, _shape(row.shape), row.dtype, f"{row.size:,}"]
    if row.error:
        return [*cells, f"({row.error})"]
    cells += [_num(row.min), _num(row.max), _num(row.mean), _num(row.std), _num(row.norm), _zeros(row),
              str(row.nan), str(row.inf)]  # fmt: skip
    if histograms:
        cells.append(sparkline(row.histogram.counts) if row.histogram else "")
    return cells


def render_text(result: WeightStats) -> str:
    """Metadata, the table, then findings: each with its evidence and a one-line hint."""
    model = result.model
    histograms = result.bins is not None
    lines = [metadata_lines(model)[0]]
    shown = "" if len(result.rows) == result.total_tensors else f" · showing {len(result.rows)}"
    lines.append(
        f"Weights: {result.total_tensors:,} tensors · {result.total_values:,} values"
        f" · {readable_bytes(result.total_bytes)}{shown}"
    )
    header = ["Layer", "Weight", "Shape", "DType", "Size", "Min", "Max", "Mean", "Std", "Norm", "Zeros",
              "NaN", "Inf"]  # fmt: skip
    if histograms:
        header.append(f"Histogram ({result.bins} bins)")
    table = [header] + [tensor_cells(r, histograms) for r in result.rows]
    ncol = len(header)
    widths = [max(len(r[i]) for r in table if i < len(r)) for i in range(ncol)]
    right = set(range(4, 13))
    for n, r in enumerate(table):
        parts = []
        for i, cell in enumerate(r):
            last = i == len(r) - 1
            if i in right and not (len(r) < ncol and last):
                parts.append(cell.rjust(widths[i]))
            else:
                parts.append(cell if last else cell.ljust(widths[i]))
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("─" * w for w in widths))
    lines.append("")
    lines.extend(findings_lines(result.findings))
    if model.weights_mismatch is not None:  # the tensors above are not what the config builds
        lines.append(f"Note: the stored weights contradict the model's own config: {model.weights_mismatch}")
        lines.extend(f"Note: {issue}" for issue in model.weight_issues)
    return "\n".join(lines) + "\n"


def findings_lines(findings: Sequence[Finding]) -> list[str]:
    if not findings:
        return ["Findings: none"]
    lines = [f"Findings ({len(findings)}):"]
    per_rule: dict[str, int] = {}
    for f in findings:
        per_rule[f.rule] = per_rule.get(f.rule, 0) + 1
        if per_rule[f.rule] > MAX_FINDINGS_PER_RULE:
            continue
        where = "/".join(p for p in (f.layer, f.tensor) if p) or "model"
        lines.append(f"  {f.rule} {f.severity.value:<7} {where}: {f.message}")
        lines.append(f"         hint: {f.hint}")
    for rule, count in per_rule.items():
        if count > MAX_FINDINGS_PER_RULE:
            lines.append(
                f"  … and {count - MAX_FINDINGS_PER_RULE} more {rule} findings (--format json lists all)"
            )
    return lines


def _tensor(row: TensorStats) -> dict[str, Any]:
    kind = {OPTIMIZER_LAYER: "optimizer", UNMATCHED_LAYER: "unmatched"}.get(row.layer, "weight")
    doc: dict[str, Any] = {
        "layer": row.layer if kind == "weight" else None,
        "name": row.name,
        "path": row.path,
        "kind": kind,
        "shape": list(row.shape),
        "dtype": row.dtype,
        "trainable": row.trainable if row.entry.weight.trainable_known else None,
        "size": row.size,
        "min": row.min,
        "max": row.max,
        "mean": row.mean,
        "std": row.std,
        "norm": row.norm,
        "nan": row.nan,
        "inf": row.inf,
        "zeros": row.zeros,
        "zero_fraction": row.zeros / row.size if row.size else None,
        "float16_overflow": row.float16_overflow,
        "dead_units": row.dead_units,
        "error": row.error,
    }
    if row.histogram is not None:
        doc["histogram"] = {"edges": list(row.histogram.edges), "counts": list(row.histogram.counts)}
    return doc


def finding_json(f: Finding) -> dict[str, Any]:
    return {"rule": f.rule, "severity": f.severity.value, "layer": f.layer, "tensor": f.tensor,
            "message": f.message, "evidence": evidence(f), "hint": f.hint}  # fmt: skip


def weights_doc(result: WeightStats) -> dict[str, Any]:
    model = result.model
    opt = dict(result.optimizer)
    optimizer = None
    if opt:
        name = model.compile.optimizer if model.compile else None
        optimizer = {
            "name": name,
            "iterations": opt.get("iterations"),
            "learning_rate": opt.get("learning_rate"),
        }
    return {
        "schema": WEIGHTS_SCHEMA,
        "file": model.path,
        "format": model.format.value,
        "bins": result.bins,
        "total_tensors": result.total_tensors,
        "total_values": result.total_values,
        "total_bytes": result.total_bytes,
        "optimizer": optimizer,
        "tensors": [_tensor(r) for r in result.rows],
        "findings": [finding_json(f) for f in result.findings],
    }
