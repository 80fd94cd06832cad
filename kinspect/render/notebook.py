"""HTML fragments for notebooks (``_repr_html_``): the summary table, the weights table with small
inline SVG histograms, and findings.

Every string that comes from the file (names, classes, messages) is escaped: a layer named
``<script>`` shows as that text. Numbers and kinspect's own words are the only markup-free parts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from kinspect.analyzers.summary import Summary
from kinspect.analyzers.weights import Histogram, WeightStats
from kinspect.checks.runner import FileResult
from kinspect.findings import Finding
from kinspect.render.check import count_line
from kinspect.render.cost import HEADER as COST_HEADER
from kinspect.render.cost import cost_cells
from kinspect.render.cost import note_lines as cost_notes
from kinspect.render.cost import totals_lines as cost_totals
from kinspect.render.formatting import layer_cells, summary_header, totals_lines
from kinspect.render.header import metadata_lines, note_lines
from kinspect.render.weights import tensor_cells

NUMERIC = {"Param #", *COST_HEADER, "Size", "Min", "Max", "Mean", "Std", "Norm", "Zeros", "NaN", "Inf"}
SPARK_BAR, SPARK_HEIGHT = 3, 16  # pixels per histogram bin, and the histogram's height


def _row(cells: Iterable[str], header: Sequence[str], tag: str = "td") -> str:
    out = []
    for title, cell in zip(header, cells, strict=False):
        align = "right" if title in NUMERIC else "left"
        out.append(f'<{tag} style="text-align:{align}">{cell}</{tag}>')
    return "<tr>" + "".join(out) + "</tr>"


def _table(header: Sequence[str], rows: Iterable[str]) -> str:
    head = _row((escape(h) for h in header), header, "th")
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _lines(lines: Iterable[str]) -> str:
    return "<br>".join(escape(line) for line in lines)


def summary_html(summary: Summary, show_trainable: bool = False) -> str:
    """The file's metadata, Keras's summary table (same columns), the totals and the notes."""
    model = summary.model
    known = model.params_known
    header = summary_header(summary.sequential_like, show_trainable)
    if summary.cost is not None:
        header = [*header, *COST_HEADER]
    rows = []
    for row, cost in zip(summary.rows, summary.row_costs(), strict=True):
        plain = layer_cells(row.layer, summary.sequential_like, show_trainable, known)
        if summary.cost is not None:
            plain += cost_cells(cost)
        cells = [escape(c) for c in plain]
        cells[0] = "&nbsp;" * 3 * row.depth + ("└ " if row.depth else "") + cells[0]
        rows.append(_row(cells, header))
    totals = [
        f"{label}: {value}" for label, value in totals_lines(summary.totals, summary.model.params_known)
    ]
    notes = note_lines(model)
    if summary.cost is not None:
        totals += [f"{label}: {value}" for label, value in cost_totals(summary.cost)]
        notes = [*notes, *cost_notes(summary.cost)]
    return (
        f"<div><p>{_lines(metadata_lines(model))}</p>"
        f"<p><b>Model: &quot;{escape(model.name)}&quot;</b></p>{_table(header, rows)}"
        f"<p>{_lines(totals)}</p>{f'<p>{_lines(notes)}</p>' if notes else ''}</div>"
    )


def spark_svg(histogram: Histogram) -> str:
    """A histogram as a row of bars, each as high as its count relative to the largest."""
    counts = histogram.counts
    top = max(counts, default=0) or 1
    bars = "".join(
        f'<rect x="{i * SPARK_BAR}" y="{SPARK_HEIGHT - h:.1f}" width="{SPARK_BAR - 0.5}" height="{h:.1f}"/>'
        for i, h in ((i, SPARK_HEIGHT * c / top) for i, c in enumerate(counts))
        if h
    )
    low, high = (histogram.edges[0], histogram.edges[-1]) if histogram.edges else (0.0, 0.0)
    width = SPARK_BAR * len(counts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{SPARK_HEIGHT}" '
        f'style="fill:currentColor"><title>{low:.4g} … {high:.4g}</title>{bars}</svg>'
    )


def weights_html(stats: WeightStats) -> str:
    """One row per tensor with its statistics (and histogram), then the findings."""
    histograms = stats.bins is not None
    header = ["Layer", "Weight", "Shape", "DType", "Size", "Min", "Max", "Mean", "Std", "Norm", "Zeros",
              "NaN", "Inf"]  # fmt: skip
    if histograms:
        header.append("Histogram")
    rows = []
    for row in stats.rows:
        cells = [escape(c) for c in tensor_cells(row, False)]
        if histograms and not row.error:
            cells.append(spark_svg(row.histogram) if row.histogram else "")
        rows.append(_row(cells, header))
    shown = "" if len(stats.rows) == stats.total_tensors else f" (showing {len(stats.rows)})"
    title = f"{stats.total_tensors:,} tensors{shown} · {stats.total_values:,} values"
    return (
        f"<div><p>{_lines(metadata_lines(stats.model)[:1])}</p><p><b>Weights:</b> {escape(title)}</p>"
        f"{_table(header, rows)}{findings_html(stats.findings)}</div>"
    )


def findings_html(findings: Iterable[Finding]) -> str:
    """Rule, severity, where, message and hint of each finding."""
    rows = list(findings)
    if not rows:
        return "<p><b>Findings:</b> none</p>"
    header = ["Rule", "Severity", "Where", "Message", "Hint"]
    body = []
    for f in rows:
        where = "/".join(p for p in (f.layer, f.tensor) if p) or "model"
        cells = (f.rule, f.severity.value, where, f.message, f.hint or "")
        body.append(_row((escape(c) for c in cells), header))
    return f"<p><b>Findings ({len(rows)}):</b></p>{_table(header, body)}"


def check_html(files: Sequence[FileResult]) -> str:
    """Every finding of every file, then the count line ``kinspect check`` ends with."""
    header = ["File", "Rule", "Severity", "Layer", "Message"]
    body = []
    for result in files:
        for f in result.findings:
            cells = (result.path, f.rule, f.severity.value, f.layer or "", f.message)
            body.append(_row((escape(c) for c in cells), header))
    table = _table(header, body) if body else ""
    return f"<div>{table}<p>{escape(count_line(files))}</p></div>"
