"""A fixed-width box table laid out exactly as rich lays out Keras's summary table.

Keras prints ``rich.table.Table(*columns, width=line_length, show_lines=True)`` with
fixed column widths. Rendering that through rich costs more than everything else a
summary does, so this module reproduces rich's algorithm for that one table shape:
column widths (``Table._calculate_column_widths`` then ``ratio_reduce``), word wrapping
(``rich._wrap.divide_line`` without folding), ``rstrip_end``, justification and the
``…`` ellipsis of ``overflow="ellipsis"``, and the HEAVY_HEAD box. The test suite
checks it against rich on random input and against Keras's own output.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

_WORD = re.compile(r"\s*\S+\s*")
_TRAILING_SPACE = re.compile(r"\s+$")


@dataclass(frozen=True)
class Column:
    header: str
    width: int
    justify: str = "left"  # left | right | center


def cell_len(text: str) -> int:
    """rich.cells.cell_len; printable ASCII (nearly every layer name and shape) is one cell a
    character, so rich is imported only for other text."""
    if text.isascii() and text.isprintable():
        return len(text)
    from rich.cells import cell_len as rich_cell_len

    return rich_cell_len(text)


def set_cell_size(text: str, total: int) -> str:
    """rich.cells.set_cell_size: crop or pad ``text`` with spaces to ``total`` cells."""
    if text.isascii() and text.isprintable():
        return text + " " * (total - len(text)) if len(text) < total else text[:total]
    from rich.cells import set_cell_size as rich_set_cell_size

    return rich_set_cell_size(text, total)


def ratio_reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """rich._ratio.ratio_reduce: take ``total`` away from ``values`` in proportion to ``ratios``."""
    ratios = [ratio if maximum else 0 for ratio, maximum in zip(ratios, maximums, strict=True)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining = total
    result = []
    for ratio, maximum, value in zip(ratios, maximums, values, strict=True):
        if ratio and total_ratio > 0:
            distributed = min(maximum, round(ratio * remaining / total_ratio))
            result.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def column_widths(columns: Sequence[Column], table_width: int) -> list[int]:
    """Cell widths including padding: fixed widths + 2 padding, reduced evenly to fit.

    Keras's geometry (table width = sum of column widths) always needs reducing; a table
    wider than its columns would be expanded by rich, which is not reproduced here.
    """
    available = table_width - (len(columns) + 1)  # the vertical rules
    widths = [min(c.width + 2, available) for c in columns]
    total = sum(widths)
    if total > available:
        widths = ratio_reduce(total - available, [1] * len(widths), widths, widths)
    return widths


def _divide(text: str, width: int) -> list[int]:
    """rich._wrap.divide_line with fold=False: break offsets for greedy word wrapping."""
    breaks: list[int] = []
    offset = 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group(0)
        length = cell_len(word.rstrip())
        if width - offset >= length:
            offset += cell_len(word)
        elif length > width:
            if start:
                breaks.append(start)
            offset = cell_len(word)
        elif offset and start:
            breaks.append(start)
            offset = cell_len(word)
    return breaks


def _truncate(line: str, width: int) -> str:
    if cell_len(line) > width:
        return set_cell_size(line, width - 1) + "…"
    return line


def wrap(text: str, width: int, justify: str = "left") -> list[str]:
    """Lines of exactly ``width`` cells, as rich renders a Text cell with overflow="ellipsis"."""
    if width <= 0:  # a column squeezed to its padding shows nothing
        return [""]
    out: list[str] = []
    for paragraph in text.split("\n"):
        cuts = [0, *_divide(paragraph, width), len(paragraph)]
        for a, b in itertools.pairwise(cuts):
            line = paragraph[a:b]
            if len(line) > width and (space := _TRAILING_SPACE.search(line)):
                line = line[: len(line) - min(len(space.group(0)), len(line) - width)]
            if justify == "left":
                line = _truncate(line, width)
                line += " " * (width - cell_len(line))
            else:
                line = _truncate(line.rstrip(), width)
                gap = width - cell_len(line)
                left = gap // 2 if justify == "center" else gap
                line = " " * left + line + " " * (gap - left)
            out.append(line)
    return out


def render(columns: Sequence[Column], rows: Sequence[Sequence[str]], table_width: int) -> list[str]:
    """The table's lines: heavy header box, a rule between rows, as ``show_lines=True``."""
    widths = column_widths(columns, table_width)

    def block(cells: Sequence[str], left: str, mid: str, right: str, bottom: bool = False) -> list[str]:
        """One row; cells are top-aligned, except header cells, which rich aligns to the bottom."""
        wrapped = [wrap(cell, w - 2, c.justify) for cell, w, c in zip(cells, widths, columns, strict=True)]
        height = max(len(w) for w in wrapped)
        lines = []
        for i in range(height):
            parts = []
            for w, width in zip(wrapped, widths, strict=True):
                k = i - (height - len(w)) if bottom else i
                parts.append(f" {w[k]} " if 0 <= k < len(w) else " " * width)
            lines.append(left + mid.join(parts) + right)
        return lines

    def rule(left: str, fill: str, mid: str, right: str) -> str:
        return left + mid.join(fill * w for w in widths) + right

    lines = [rule("┏", "━", "┳", "┓")]
    lines += block([c.header for c in columns], "┃", "┃", "┃", bottom=True)
    lines.append(rule("┡", "━", "╇", "┩"))
    for n, row in enumerate(rows):
        if n:
            lines.append(rule("├", "─", "┼", "┤"))
        lines += block(row, "│", "│", "│")
    lines.append(rule("└", "─", "┴", "┘"))
    return lines
