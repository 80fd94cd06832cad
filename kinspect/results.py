"""What the library API returns: frozen values that print as the command line prints them
(``str``), give the command's JSON document (``to_dict``), and show as HTML in a notebook.

The renderers are imported when a value is printed, not when it is computed, so that
``kinspect.load()`` or ``kinspect.summary()`` never import rich or jinja2 before they must.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from kinspect.analyzers import diff, summary, weights
from kinspect.analyzers.training import RunAnalysis

if TYPE_CHECKING:
    from kinspect.analyzers.graph import Graph as Drawing
    from kinspect.checks.runner import FileResult
    from kinspect.findings import Severity
    from kinspect.graphviz import Rendered
    from kinspect.render.dot import DotStyle


@dataclass(frozen=True, repr=False)
class Summary(summary.Summary):
    """What ``model.summary()`` shows (``rows``, ``totals``) for the ``model`` in a file.

    ``str()`` is the ``kinspect summary`` text (metadata, Keras's table, notes), ``to_dict()``
    its JSON document (``kinspect/summary@1``), ``to_markdown()`` its Markdown table; ``cost``
    the compute and memory cost when asked (``summary(path, cost=True)``); the other fields are
    how the text is laid out.
    """

    show_trainable: bool = False
    line_length: int | None = None  # None: Keras's default, capped by the terminal
    color: bool = False

    def __str__(self) -> str:
        from kinspect.render.header import metadata_lines, note_lines
        from kinspect.render.table import render_table

        table = render_table(self, self.line_length, self.show_trainable, self.color)
        notes = "".join(f"{n}\n" for n in note_lines(self.model))
        if self.cost is not None:
            from kinspect.render.cost import note_lines as cost_notes

            notes += "".join(f"{n}\n" for n in cost_notes(self.cost))
        return "\n".join(metadata_lines(self.model)) + "\n" + table + notes

    def __repr__(self) -> str:
        return f"<Summary of {self.model.path!r}: {len(self.rows)} rows, {self.model.params:,} params>"

    def to_dict(self) -> dict[str, Any]:
        from kinspect.render.jsonout import summary_doc

        return summary_doc(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_markdown(self) -> str:
        from kinspect.render.markdown import render_markdown

        return render_markdown(self, show_trainable=self.show_trainable)

    def _repr_html_(self) -> str:
        from kinspect.render.notebook import summary_html

        return summary_html(self, self.show_trainable)


@dataclass(frozen=True, repr=False)
class WeightReport(weights.WeightStats):
    """Statistics of a file's stored tensors (``rows``, sorted and cut as asked) and the health
    ``findings`` over every tensor read; ``str()`` is the ``kinspect weights`` text,
    ``to_dict()`` its JSON document (``kinspect/weights@1``)."""

    def __str__(self) -> str:
        from kinspect.render.weights import render_text

        return render_text(self)

    def __repr__(self) -> str:
        return (
            f"<WeightReport of {self.model.path!r}: {self.total_tensors:,} tensors, "
            f"{len(self.findings)} findings>"
        )

    def to_dict(self) -> dict[str, Any]:
        from kinspect.render.weights import weights_doc

        return weights_doc(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    def _repr_html_(self) -> str:
        from kinspect.render.notebook import weights_html

        return weights_html(self)


@dataclass(frozen=True, repr=False)
class CheckResult:
    """The check rules' findings for each file, in the order the files were given.

    ``failed``: a finding reached ``fail_on``; ``unreadable``: the files that could not be read.
    ``str()`` is the ``kinspect check`` text, ``to_dict()`` its JSON document
    (``kinspect/check@1``), ``to_sarif()`` its SARIF 2.1.0 log.
    """

    files: tuple[FileResult, ...]
    fail_on: Severity

    @property
    def failed(self) -> bool:
        from kinspect.checks.runner import reached

        return reached(self.files, self.fail_on)

    @property
    def unreadable(self) -> tuple[str, ...]:
        return tuple(r.path for r in self.files if r.unreadable)

    def __str__(self) -> str:
        from kinspect.render.check import render_text

        return render_text(self.files)

    def __repr__(self) -> str:
        from kinspect.render.check import count_line

        return f"<CheckResult: {count_line(self.files)}>"

    def to_dict(self) -> dict[str, Any]:
        from kinspect.render.check import check_doc

        return check_doc(self.files)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_sarif(self) -> str:
        from kinspect import __version__
        from kinspect.render.check import render_sarif

        return render_sarif(self.files, __version__)

    def _repr_html_(self) -> str:
        from kinspect.render.notebook import check_html

        return check_html(self.files)


@dataclass(frozen=True, repr=False)
class Graph:
    """A model's layer graph as ``keras.utils.plot_model`` draws it.

    ``dot`` (and ``str()``) is the DOT text ``kinspect graph`` prints; ``write(path)`` draws it
    to a file in the format its extension names; ``notes`` say what the drawing cannot show.
    """

    source: str  # the model file: never written over
    drawing: Drawing
    style: DotStyle
    dpi: int | None = None  # None: Graphviz's default (96 for raster images)
    max_megapixels: float = 50.0
    timeout: float = 300.0
    notes: tuple[str, ...] = ()

    @cached_property
    def dot(self) -> str:
        from kinspect.render.dot import render_dot

        return render_dot(self.drawing, replace(self.style, dpi=self.dpi))

    def __str__(self) -> str:
        return self.dot

    def __repr__(self) -> str:
        return f"<Graph of {self.source!r}: {len(self.drawing.nodes)} nodes, {len(self.drawing.edges)} edges>"

    def image(self, fmt: str) -> bytes:
        """The drawing as ``fmt`` (png, svg, pdf…) bytes, rendered by Graphviz's ``dot``."""
        return self._render(fmt).data

    def write(self, path: str | os.PathLike[str]) -> tuple[str, ...]:
        """Write the drawing to ``path`` (atomically): ``.dot``/``.gv`` as DOT text, ``.png``,
        ``.svg``, ``.pdf``… rendered by Graphviz. Returns notes on the image (a raster drawn at a
        lower dpi to stay under ``max_megapixels``)."""
        from kinspect import graphviz
        from kinspect.output import refuse_input, write_atomic

        path = os.fspath(path)
        fmt = graphviz.output_format(path)
        refuse_input(self.source, path)
        if fmt in graphviz.TEXT:
            write_atomic(path, self.dot)
            return ()
        image = self._render(fmt)
        write_atomic(path, image.data)
        return tuple(image.notes)

    def _render(self, fmt: str) -> Rendered:
        from kinspect import graphviz
        from kinspect.render.dot import render_dot

        return graphviz.render(
            render_dot(self.drawing, self.style), fmt, self.dpi, self.max_megapixels, self.timeout
        )

    def _repr_svg_(self) -> str | None:
        """The drawing inline in a notebook, when Graphviz is installed."""
        from kinspect import graphviz
        from kinspect.render.html import safe_svg

        if graphviz.find_dot() is None:
            return None
        return safe_svg(self.image("svg").decode("utf-8", "replace"))


@dataclass(frozen=True, repr=False)
class ReportResult:
    """What :func:`kinspect.report` wrote: the ``page`` (report.html), the graph ``image``
    (model.png, None when it was not drawn), the page's verdict and notes, and ``warnings``
    worth telling whoever ran it (a part that could not be drawn, and how to fix that)."""

    page: str
    image: str | None
    verdict: str  # "healthy", or "N problems"
    problems: int  # findings of warning or error severity
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.page}{' and ' + self.image if self.image else ''}: {self.verdict}"

    def __repr__(self) -> str:
        return f"<ReportResult {self}>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "image": self.image,
            "verdict": self.verdict,
            "problems": self.problems,
            "notes": list(self.notes),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, repr=False)
class History:
    """A training run's curves, best epoch, events, findings, checkpoint epochs and weight trends,
    read from its logs (``runs``: one per training found, the latest last).

    ``str()`` is the ``kinspect history`` text, ``to_dict()`` its JSON document
    (``kinspect/history@1``), ``to_markdown()`` its Markdown; ``svg()`` and ``png()`` draw the
    latest run's curves and ``write(path)`` writes them (``.svg``, ``.png``); ``problems`` are
    the files that could not be read, one line each.
    """

    runs: tuple[RunAnalysis, ...]
    problems: tuple[str, ...] = ()

    @property
    def latest(self) -> RunAnalysis:
        return self.runs[-1]

    def __str__(self) -> str:
        from kinspect.render.history import render_text

        return render_text(self.runs, self.problems)

    def __repr__(self) -> str:
        a = self.latest
        return f"<History of {a.run.name!r}: {a.run.epochs} epochs, {len(a.findings)} findings>"

    def to_dict(self) -> dict[str, Any]:
        from kinspect.render.history import history_doc

        return history_doc(self.runs, self.problems)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    def to_markdown(self) -> str:
        from kinspect.render.history import render_markdown

        return render_markdown(self.runs, self.problems)

    def svg(self, run: int = -1) -> str:
        from kinspect.render.curves import describe, render_svg

        return render_svg(describe(self.runs[run]))

    def png(self, run: int = -1) -> bytes:
        from kinspect.render.curves import describe, render_png

        return render_png(describe(self.runs[run]))

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the latest run's curves to ``path`` (atomically): ``.svg`` or ``.png``."""
        from kinspect.output import refuse_input, write_atomic

        path = os.fspath(path)
        ext = os.path.splitext(path)[1].lower()
        if ext not in (".svg", ".png"):
            from kinspect.errors import UsageError

            raise UsageError("the curves are written as .svg or .png", "output", path)
        for source in self.latest.run.sources:
            refuse_input(source.path, path)
        write_atomic(path, self.svg() if ext == ".svg" else self.png())

    def _repr_html_(self) -> str:
        from html import escape

        from kinspect.render.html import safe_svg
        from kinspect.render.notebook import findings_html

        a = self.latest
        best = f"best: epoch {a.best.epoch}, {a.best.monitor} {a.best.value}" if a.best.epoch else ""
        return (
            f"<div><b>{escape(a.run.name)}</b>: {a.run.epochs} epochs; {escape(best)}</div>"
            + (safe_svg(self.svg()) or "")
            + findings_html(a.findings)
        )


@dataclass(frozen=True, repr=False)
class Diff(diff.DiffResult):
    """What changed from model ``a`` to model ``b``: the ``architecture`` (added, removed, changed
    layers; None when a side is weights-only), the weights per ``layers`` and per ``tensors``
    (status and figures), the ``optimizer_tensors`` when asked, and ``findings`` (KIN6xx).

    ``str()`` is the ``kinspect diff`` text, ``to_dict()`` its JSON document (``kinspect/diff@1``),
    ``to_markdown()`` its Markdown; ``weights_changed`` and ``architecture_changed`` are what
    ``--fail-on-change`` tests.
    """

    def __str__(self) -> str:
        from kinspect.render.diff import render_text

        return render_text(self)

    def __repr__(self) -> str:
        return f"<Diff {self.a.path!r} → {self.b.path!r}: {self.counts()}>"

    def to_dict(self) -> dict[str, Any]:
        from kinspect.render.diff import diff_doc

        return diff_doc(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    def to_markdown(self) -> str:
        from kinspect.render.diff import render_markdown

        return render_markdown(self)

    def _repr_html_(self) -> str:
        from kinspect.render.diff import render_html

        return render_html(self)
