"""The summary as a Markdown table (for pull-request comments and docs)."""

from __future__ import annotations

from kinspect.analyzers.summary import Summary
from kinspect.render.cost import HEADER as COST_HEADER
from kinspect.render.cost import cost_cells
from kinspect.render.cost import totals_lines as cost_totals
from kinspect.render.formatting import layer_cells, summary_header, totals_lines


def _cell(text: str) -> str:
    """Escape what would break a Markdown table cell or render as markup."""
    out = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    for ch in "`*_[]<>":
        out = out.replace(ch, "\\" + ch)
    return out


def render_markdown(summary: Summary, show_trainable: bool = False) -> str:
    model = summary.model
    header = summary_header(summary.sequential_like, show_trainable)
    if summary.cost is not None:
        header += COST_HEADER
    lines = [f"### Model: {_cell(model.name)}", "", "| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---:" if h in ("Param #", *COST_HEADER) else "---" for h in header) + "|")
    for row, cost in zip(summary.rows, summary.row_costs(), strict=True):
        cells = [
            _cell(c)
            for c in layer_cells(row.layer, summary.sequential_like, show_trainable, model.params_known)
        ]
        if summary.cost is not None:
            cells += [_cell(c) for c in cost_cells(cost)]
        cells[0] = "&nbsp;&nbsp;" * row.depth + ("└ " if row.depth else "") + cells[0]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        *(f"- **{label}:** {value}" for label, value in totals_lines(summary.totals, model.params_known)),
    ]
    if summary.cost is not None:
        lines += [f"- **{label}:** {_cell(value)}" for label, value in cost_totals(summary.cost)]
        lines += [f"- Note: {_cell(note)}" for note in summary.cost.notes]
    for note in model.notes:
        lines.append(f"- Note: {_cell(note)}")
    return "\n".join(lines) + "\n"
