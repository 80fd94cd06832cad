"""The summary as a Markdown table (for pull-request comments and docs)."""

from __future__ import annotations

from kinspect.analyzers.summary import Summary
from kinspect.render.shapes import display_class, readable_bytes, shape_text
from kinspect.render.table import split_lines


def _cell(text: str) -> str:
    """Escape what would break a Markdown table cell or render as markup."""
    out = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    for ch in "`*_[]<>":
        out = out.replace(ch, "\\" + ch)
    return out


def render_markdown(summary: Summary, show_trainable: bool = False) -> str:
    model = summary.model
    header = ["Layer (type)", "Output Shape", "Param #"]
    if not summary.sequential_like:
        header.append("Connected to")
    if show_trainable:
        header.append("Trainable")
    lines = [f"### Model: {_cell(model.name)}", "", "| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---:" if h == "Param #" else "---" for h in header) + "|")
    for row in summary.rows:
        layer = row.layer
        indent = "&nbsp;&nbsp;" * row.depth + ("└ " if row.depth else "")
        cells = [
            f"{indent}{_cell(layer.name)} ({_cell(display_class(layer.class_name))})",
            _cell(shape_text(layer.output_shape)),
            f"{layer.params:,}",
        ]
        if not summary.sequential_like:
            cells.append(_cell(", ".join(str(r) for r in layer.connections) or "-"))
        if show_trainable:
            cells.append(("Y" if layer.trainable else "N") if any(True for _ in layer.all_weights()) else "-")
        lines.append("| " + " | ".join(cells) + " |")
    t = summary.totals
    trainable, non_trainable = split_lines(t)
    lines += [
        "",
        f"- **Total params:** {t.total:,} ({readable_bytes(t.total_bytes)})",
        f"- **Trainable params:** {_cell(trainable)}",
        f"- **Non-trainable params:** {_cell(non_trainable)}",
    ]
    if t.optimizer:
        lines.append(f"- **Optimizer params:** {t.optimizer:,} ({readable_bytes(t.optimizer_bytes)})")
    for note in model.notes:
        lines.append(f"- Note: {_cell(note)}")
    return "\n".join(lines) + "\n"
