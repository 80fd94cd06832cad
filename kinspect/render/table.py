"""The summary as Keras prints it: the same table, columns, widths and totals.

Mirrors keras/src/utils/summary_utils.py ``print_summary`` so that the text is
identical, character for character, to ``model.summary()`` on the loaded model.
The layout is rich's (see :mod:`kinspect.render.boxtable`), computed directly.
"""

from __future__ import annotations

import shutil

from kinspect.analyzers.summary import Summary
from kinspect.errors import UsageError
from kinspect.render.boxtable import Column, render
from kinspect.render.cost import HEADER as COST_HEADER
from kinspect.render.cost import cost_cells
from kinspect.render.cost import totals_lines as cost_totals
from kinspect.render.formatting import layer_cells, summary_header, totals_lines

BOLD, RESET = "\033[1m", "\033[0m"


def columns_for(summary: Summary, line_length: int | None, show_trainable: bool) -> tuple[list[Column], int]:
    """Keras's columns and widths: positions are fractions of the line length. The cost columns
    (``--cost``) are added as Keras adds its Trainable column: the others shrink to make room."""
    header = summary_header(summary.sequential_like, show_trainable)
    with_cost = summary.cost is not None
    if summary.sequential_like:
        default, positions, align = 88, [0.45, 0.80, 1.0], ["left", "left", "right"]
    else:
        default, positions, align = 108, [0.3, 0.56, 0.74, 1.0], ["left", "left", "right", "left"]
    if show_trainable:
        default += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        align.append("center")
    if with_cost:
        header = [*header, *COST_HEADER]
        default += 28
        positions = [p * 0.78 for p in positions] + [0.89, 1.0]
        align += ["right", "right"]
    default = min(default, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default
    cols, current = [], 0
    for pos, title, justify in zip(positions, header, align, strict=True):
        width = int(pos * line_length) - current
        if width < 4:
            raise UsageError("insufficient line length to print the summary")
        cols.append(Column(title, width, justify))
        current += width
    return cols, line_length


def render_table(
    summary: Summary,
    line_length: int | None = None,
    show_trainable: bool = False,
    color: bool = False,
) -> str:
    """The summary text; ``line_length`` defaults as Keras's does (88 or 108, capped by the terminal)."""
    cols, width = columns_for(summary, line_length, show_trainable)
    known = summary.model.params_known
    rows = []
    for row, cost in zip(summary.rows, summary.row_costs(), strict=True):
        cells = layer_cells(row.layer, summary.sequential_like, show_trainable, known)
        if summary.cost is not None:
            cells += cost_cells(cost)
        cells[0] = ("   " * row.depth + "└ " if row.depth else "") + cells[0]
        rows.append(cells)
    bold = (lambda s: f"{BOLD}{s}{RESET}") if color else (lambda s: s)
    lines = [bold(f'Model: "{summary.model.name}"'), *render(cols, rows, width)]
    lines += [bold(f" {label}: ") + value for label, value in totals_lines(summary.totals, known)]
    if summary.cost is not None:
        lines += [bold(f" {label}: ") + value for label, value in cost_totals(summary.cost)]
    return "\n".join(lines) + "\n"
