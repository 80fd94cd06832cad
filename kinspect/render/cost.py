"""The compute and memory cost as the summary shows it: two extra columns, totals lines, JSON keys.

Shared by the text table, Markdown, the notebook view and the report, so that each says the same.
"""

from __future__ import annotations

from typing import Any

from kinspect.analyzers.cost import FLOPS_PER_MAC, CostReport, LayerCost
from kinspect.render.formatting import readable_bytes

HEADER = ["MACs", "Activations"]  # the columns --cost adds (the activation column is memory)
UNKNOWN = "?"


def readable_count(value: float) -> str:
    """``3.86 G``: a count with an SI prefix and two decimals (plain below a thousand)."""
    for unit in ("", "K", "M", "G", "T", "P"):
        if abs(value) < 1000:
            return f"{value:.0f}" if not unit else f"{value:.2f} {unit}"
        value /= 1000
    return f"{value:.2f} E"


def cost_cells(cost: LayerCost | None) -> list[str]:
    """A row's MACs and activation-memory cells (``?`` where unknown)."""
    if cost is None:
        return [UNKNOWN, UNKNOWN]
    macs = UNKNOWN if cost.macs is None else readable_count(cost.macs)
    act = UNKNOWN if cost.activation_bytes is None else readable_bytes(cost.activation_bytes)
    return [macs, act]


def _maybe(value: float | None, unknown: str = "unknown") -> str:
    return unknown if value is None else readable_bytes(value)


def totals_lines(report: CostReport) -> list[tuple[str, str]]:
    """``(label, value)`` lines under the table, in the Keras totals style."""
    m = report.memory
    batch = f"batch {report.batch}" + (f", sequence length {report.seq_len}" if report.seq_len else "")
    partial = f" (without {len(report.unknown)} unknown)" if report.unknown else ""
    if report.any_known:
        lines = [
            ("Total MACs", f"{report.total_macs:,} ({readable_count(report.total_macs)}; {batch}){partial}"),
            (
                "FLOPs",
                f"{report.total_flops:,} ({readable_count(report.total_flops)} = {FLOPS_PER_MAC} × MACs)",
            ),
            (
                "Element-wise ops",
                f"{report.total_elementwise:,} ({readable_count(report.total_elementwise)}, not in the MACs)",
            ),
        ]
    else:
        lines = [("Total MACs", "unknown"), ("FLOPs", "unknown"), ("Element-wise ops", "unknown")]
    if m.stored_activations is not None:
        lines.append(
            ("Activation memory", f"{readable_bytes(m.stored_activations)} (inputs and every layer output)")
        )
    else:
        lines.append(("Activation memory", "unknown (some output shapes are unknown)"))
    lines.append(("Parameter memory", readable_bytes(m.parameters)))
    peak = "unknown"
    if m.peak_inference is not None and m.peak_activations is not None:
        peak = (f"{readable_bytes(m.peak_inference)} (parameters + {readable_bytes(m.peak_activations)} "
                "of activations alive at once)")  # fmt: skip
    lines.append(("Peak inference memory", peak))
    training = "unknown"
    if m.training is not None and m.optimizer_slots is not None and m.stored_activations is not None:
        training = (
            f"{readable_bytes(m.training)} (parameters + gradients {readable_bytes(m.gradients)} + "
            f"optimizer {readable_bytes(m.optimizer_slots)} + activations "
            f"{readable_bytes(m.stored_activations)})"
        )
    lines.append(("Training memory", training))
    return lines


def note_lines(report: CostReport) -> list[str]:
    """Why costs are unknown: per layer, then the report's own notes."""
    lines = [f"Note: {c.path} ({c.layer.class_name}): {c.note}" for c in report.walk() if c.note]
    return lines + [f"Note: {n}" for n in report.notes]


def layer_json(cost: LayerCost | None) -> dict[str, Any]:
    """The keys ``--cost`` adds to each layer of the summary JSON."""
    if cost is None:
        return {"macs": None, "elementwise_ops": None, "activation_bytes": None, "cost_note": None}
    return {
        "macs": cost.macs,
        "elementwise_ops": cost.elementwise,
        "activation_bytes": cost.activation_bytes,
        "cost_note": cost.note,
    }


def report_json(report: CostReport) -> dict[str, Any]:
    """The top-level keys ``--cost`` adds to the summary JSON."""
    m = report.memory
    return {
        "cost": {
            "batch": report.batch,
            "seq_len": report.seq_len,
            "flops_per_mac": FLOPS_PER_MAC,
            "unknown_layers": list(report.unknown),
            "notes": list(report.notes),
        },
        "total_macs": report.total_macs if report.any_known else None,
        "total_flops": report.total_flops if report.any_known else None,
        "total_elementwise_ops": report.total_elementwise if report.any_known else None,
        "memory": {
            "parameters": m.parameters,
            "activations": m.stored_activations,
            "peak_activations": m.peak_activations,
            "peak_inference": m.peak_inference,
            "gradients": m.gradients,
            "optimizer_slots": m.optimizer_slots,
            "optimizer_source": m.optimizer_source,
            "stored_activations": m.stored_activations,
            "training": m.training,
        },
    }
