"""The summary as Keras prints it: the same rich table, columns, widths and totals.

Mirrors keras/src/utils/summary_utils.py ``print_summary`` so that the text is
identical, character for character, to ``model.summary()`` on the loaded model.
"""

from __future__ import annotations

import io
import shutil

import rich.console
import rich.markup
import rich.table

from kinspect.analyzers.summary import Row, Summary
from kinspect.errors import UsageError
from kinspect.model import Format
from kinspect.render.shapes import display_class, readable_bytes, shape_text


def _num(x: object) -> str:
    return f"[color(45)]{x}[/]" if x is None else f"[color(34)]{x}[/]"


def _shape(shape: object) -> str:
    return rich.markup.escape(shape_text(shape)) if shape is not None else "?"


def _bold(x: str, color: int | None = None) -> str:
    return f"[bold][color({color})]{x}[/][/]" if color else f"[bold]{x}[/]"


def _connections(row: Row) -> str:
    refs = row.layer.connections
    if not refs:
        return "-"
    return ", ".join(f"{rich.markup.escape(r.layer)}[{_num(r.node)}][{_num(r.tensor)}]" for r in refs)


def _fields(row: Row, sequential_like: bool, show_trainable: bool, known_params: bool) -> list[str]:
    layer = row.layer
    prefix = "   " * row.depth + "└ " if row.depth else ""
    name = rich.markup.escape(f"{prefix}{layer.name}")
    name += f" ([color(33)]{rich.markup.escape(display_class(layer.class_name))}[/])"
    params = _num(f"{layer.params:,}") if known_params else "?"
    fields = [name, _shape(layer.output_shape), params]
    if not sequential_like:
        fields.append(_connections(row))
    if show_trainable:
        if any(True for _ in layer.all_weights()):
            fields.append(_bold("Y", 34) if layer.trainable else _bold("N", 9))
        else:
            fields.append(_bold("-"))
    return fields


def render_table(
    summary: Summary,
    line_length: int | None = None,
    show_trainable: bool = False,
    color: bool = False,
) -> str:
    """The summary text; ``line_length`` defaults as Keras's does (88 or 108, capped by the terminal)."""
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
    widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise UsageError("insufficient line length to print the summary")
        widths.append(width)
        current += width
    columns = [
        rich.table.Column(h, justify=a, width=w) for h, a, w in zip(header, align, widths, strict=True)
    ]
    table = rich.table.Table(*columns, width=line_length, show_lines=True)
    known = summary.model.format is not Format.CONFIG_JSON
    for row in summary.rows:
        table.add_row(*_fields(row, summary.sequential_like, show_trainable, known))

    t = summary.totals
    out = io.StringIO()
    console = rich.console.Console(
        file=out,
        highlight=False,
        force_terminal=color,
        color_system="standard" if color else None,
        width=max(line_length, shutil.get_terminal_size().columns),
    )
    console.print(_bold(f'Model: "{rich.markup.escape(summary.model.name)}"'))
    console.print(table)
    console.print(_bold(" Total params: ") + _num(f"{t.total:,}") + f" ({readable_bytes(t.total_bytes)})")
    console.print(
        _bold(" Trainable params: ") + _num(f"{t.trainable:,}") + f" ({readable_bytes(t.trainable_bytes)})"
    )
    console.print(
        _bold(" Non-trainable params: ")
        + _num(f"{t.non_trainable:,}")
        + f" ({readable_bytes(t.non_trainable_bytes)})"
    )
    if t.optimizer:
        console.print(
            _bold(" Optimizer params: ")
            + _num(f"{t.optimizer:,}")
            + f" ({readable_bytes(t.optimizer_bytes)})"
        )
    return out.getvalue()
