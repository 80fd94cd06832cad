"""The fast table renderer against rich itself, on random cells and widths."""

from __future__ import annotations

import io

import rich.console
import rich.table
import rich.text
from hypothesis import given, settings
from hypothesis import strategies as st

from kinspect.render.boxtable import Column, render, wrap

# Layer names are untrusted: spaces, long words, wide (CJK) and combining characters.
ALPHABET = st.sampled_from([*"abc_xyz0129 ()[],.-└", "  ", "数", "字", "é", "\u0301", "…"])
TEXT = st.lists(ALPHABET, max_size=60).map("".join)
JUSTIFY = st.sampled_from(["left", "right", "center"])


def rich_wrap(text: str, width: int, justify: str) -> list[str]:
    console = rich.console.Console(width=200, color_system=None)
    lines = rich.text.Text(text).wrap(console, width, justify=justify, overflow="ellipsis")
    return [line.plain for line in lines]


@settings(max_examples=400, deadline=None)
@given(TEXT, st.integers(min_value=2, max_value=40), JUSTIFY)
def test_wrap_matches_rich(text: str, width: int, justify: str) -> None:
    ours = wrap(text, width, justify)
    theirs = rich_wrap(text, width, justify)
    # rich pads short lines when the cell is drawn; compare without that padding.
    assert [line.rstrip() for line in ours] == [line.rstrip() for line in theirs]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(4, 30), JUSTIFY), min_size=1, max_size=5),
    st.lists(st.lists(TEXT, min_size=5, max_size=5), max_size=4),
    st.integers(min_value=0, max_value=15),
)
def test_table_matches_rich(specs: list[tuple[int, str]], rows: list[list[str]], extra: int) -> None:
    # Keras makes the table exactly as wide as its columns (extra=0); up to 3 cells more
    # per column rich still shrinks rather than expands, which is the geometry reproduced.
    extra = min(extra, 3 * len(specs))
    columns = [Column(f"h{i} title", w, j) for i, (w, j) in enumerate(specs)]
    width = sum(w for w, _ in specs) + extra
    table = rich.table.Table(
        *[rich.table.Column(c.header, justify=c.justify, width=c.width) for c in columns],
        width=width,
        show_lines=True,
    )
    for row in rows:
        table.add_row(*[rich.text.Text(cell) for cell in row[: len(columns)]])
    out = io.StringIO()
    rich.console.Console(file=out, width=width + 10, color_system=None, highlight=False).print(table)
    cells = [row[: len(columns)] for row in rows]
    assert render(columns, cells, width) == out.getvalue().splitlines()
