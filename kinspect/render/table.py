"""The summary as Keras prints it: the same table, columns, widths and totals.

Mirrors keras/src/utils/summary_utils.py ``print_summary`` so that the text is
identical, character for character, to ``model.summary()`` on the loaded model.
The layout is rich's (see :mod:`kinspect.render.boxtable`), computed directly.
"""

from __future__ import annotations

import shutil

from kinspect.analyzers.summary import Row, Summary, Totals
from kinspect.errors import UsageError
from kinspect.model import Format
from kinspect.render.boxtable import Column, render
from kinspect.render.shapes import display_class, readable_bytes, shape_text

BOLD, RESET = "\033[1m", "\033[0m"


def _connections(row: Row) -> str:
    refs = row.layer.connections
    return ", ".join(str(r) for r in refs) if refs else "-"


def _fields(row: Row, sequential_like: bool, show_trainable: bool, known_params: bool) -> list[str]:
    layer = row.layer
    prefix = "   " * row.depth + "└ " if row.depth else ""
    fields = [
        f"{prefix}{layer.name} ({display_class(layer.class_name)})",
        shape_text(layer.output_shape),
        f"{layer.params:,}" if known_params else "?",
    ]
    if not sequential_like:
        fields.append(_connections(row))
    if show_trainable:
        has_weights = any(True for _ in layer.all_weights())
        fields.append(("Y" if layer.trainable else "N") if has_weights else "-")
    return fields


def columns_for(summary: Summary, line_length: int | None, show_trainable: bool) -> tuple[list[Column], int]:
    """Keras's columns and widths: positions are fractions of the line length."""
    if summary.sequential_like:
        default, positions = 88, [0.45, 0.80, 1.0]
        header, align = ["Layer (type)", "Output Shape", "Param #"], ["left", "left", "right"]
    else:
        default, positions = 108, [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        align = ["left", "left", "right", "left"]
    if show_trainable:
        default += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        align.append("center")
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


UNCERTAIN = "custom layers' weights"  # why a split is a range (README "What is exact")


def split_lines(t: Totals) -> tuple[str, str]:
    """The trainable and non-trainable counts as Keras prints them (``5,162 (20.16 KB)``), or,
    when the file cannot tell the split, as ranges: ``39–42 (156.00 B–168.00 B; uncertain: …)``."""
    if not t.uncertain:
        return (
            f"{t.trainable:,} ({readable_bytes(t.trainable_bytes)})",
            f"{t.non_trainable:,} ({readable_bytes(t.non_trainable_bytes)})",
        )

    def span(low: int, low_bytes: float) -> str:
        high, high_bytes = low + t.uncertain, low_bytes + t.uncertain_bytes
        return (
            f"{low:,}–{high:,} ({readable_bytes(low_bytes)}–{readable_bytes(high_bytes)}; "
            f"uncertain: {UNCERTAIN})"
        )

    return span(t.trainable_low, t.trainable_low_bytes), span(t.non_trainable_low, t.non_trainable_low_bytes)


def render_table(
    summary: Summary,
    line_length: int | None = None,
    show_trainable: bool = False,
    color: bool = False,
) -> str:
    """The summary text; ``line_length`` defaults as Keras's does (88 or 108, capped by the terminal)."""
    cols, width = columns_for(summary, line_length, show_trainable)
    known = summary.model.format is not Format.CONFIG_JSON
    rows = [_fields(row, summary.sequential_like, show_trainable, known) for row in summary.rows]
    bold = (lambda s: f"{BOLD}{s}{RESET}") if color else (lambda s: s)
    t = summary.totals
    lines = [bold(f'Model: "{summary.model.name}"'), *render(cols, rows, width)]
    lines.append(bold(" Total params: ") + f"{t.total:,} ({readable_bytes(t.total_bytes)})")
    trainable, non_trainable = split_lines(t)
    lines.append(bold(" Trainable params: ") + trainable)
    lines.append(bold(" Non-trainable params: ") + non_trainable)
    if t.optimizer:
        lines.append(bold(" Optimizer params: ") + f"{t.optimizer:,} ({readable_bytes(t.optimizer_bytes)})")
    return "\n".join(lines) + "\n"
