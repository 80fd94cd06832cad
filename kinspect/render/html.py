"""The HTML report: one self-contained page rendered with Jinja2 from ``templates/``.

Autoescaping is on for every value, so names and configs from the file are text, never
markup. The only markup that is not escaped is kinspect's own (the stylesheet and script
shipped with the templates) and the SVG Graphviz drew, which is parsed and checked against a
list of drawing elements first (:func:`safe_svg`). A Content-Security-Policy allows nothing
but the page's own script (by hash) and inline styles: the page makes no network request
and would run no injected script even if escaping failed.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from kinspect.analyzers.diff import DiffResult
from kinspect.analyzers.report import Report
from kinspect.model import ShapeTree
from kinspect.render.cost import readable_count
from kinspect.render.formatting import display_class, readable_bytes, shape_text

TEMPLATE = "report.html.j2"
# Drawing elements Graphviz writes in SVG; anything else (script, foreignObject, links,
# event handler attributes) means the drawing is not inlined.
SVG_ELEMENTS = {"svg", "g", "title", "polygon", "polyline", "path", "ellipse", "circle", "rect", "text",
                "tspan", "line", "defs", "linearGradient", "radialGradient", "stop"}  # fmt: skip
_PROLOG = re.compile(r"<\?xml[^>]*>|<!DOCTYPE[^>]*>|<!--.*?-->|<title>[^<]*</title>", re.S)
_FONT = re.compile(r' font-family="[^"]*"')


def _template_text(name: str) -> str:
    """A template file: from the source checkout this module belongs to when there is one (so
    the code and its templates always come from the same tree, also when another checkout is
    the installed one), else from the installed ``kinspect.templates`` package (the
    repository's ``templates/`` folder, mapped as package data)."""
    checkout = Path(__file__).resolve().parents[2] / "templates" / name
    if checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    from importlib.resources import files

    return files("kinspect.templates").joinpath(name).read_text(encoding="utf-8")


def _num(x: float | None) -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    text = f"{x:.4g}"
    return "0" if text == "-0" else text


def _shape(shape: ShapeTree | tuple[int, ...]) -> str:
    return shape_text(shape)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_text),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        shape=_shape,
        size=readable_bytes,
        num=_num,
        cls=display_class,
        count=lambda n: "?" if n is None else f"{n:,}",
        pct=lambda x: f"{100 * x:.1f}%",
        macs=readable_count,
    )
    return env


def prepare() -> None:
    """Compile the page's templates now (render_html would on its first call): a caller waiting
    for other work does it meanwhile."""
    env = environment()
    for name in (TEMPLATE, "cost.html.j2", "compare.html.j2"):
        env.get_template(name)


def safe_svg(svg: str) -> str | None:
    """Graphviz SVG trimmed for inlining (no prolog, comments or tooltips), or None when it holds
    anything but drawing elements and presentation attributes."""
    text = _FONT.sub("", _PROLOG.sub("", svg)).strip()
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""
        if tag not in SVG_ELEMENTS:
            return None
        for attr in el.attrib:
            local = attr.rsplit("}", 1)[-1].lower()
            if (
                local.startswith("on")
                or local in ("href", "style")
                or "javascript:" in el.attrib[attr].lower()
            ):
                return None
    return text


def _histograms(report: Report) -> list[Any]:
    """Per tensor row: ``[low, high, counts]`` or 0, drawn by the page's script on demand."""
    out: list[Any] = []
    for row in report.tensors or ():
        h = row.stats.histogram
        if h and h.edges and h.counts and math.isfinite(h.edges[0]) and math.isfinite(h.edges[-1]):
            out.append([h.edges[0], h.edges[-1], list(h.counts)])
        else:
            out.append(0)
    return out


def csp(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def render_html(report: Report, compare: DiffResult | None = None) -> str:
    """The whole page; ``compare`` adds the "Compared with …" section (templates/compare.html.j2)."""
    env = environment()
    script = _template_text("report.js")
    if "</script" in script.lower():  # cannot happen with the shipped file; guards edits
        raise ValueError("report.js must not contain '</script'")
    graph_svg = None
    if report.graph is not None and report.graph.svg:
        checked = safe_svg(report.graph.svg)
        graph_svg = Markup(checked) if checked else None
    return env.get_template(TEMPLATE).render(
        r=report,
        m=report.model,
        t=report.totals,
        css=Markup(_template_text("report.css")),
        js=Markup(script),
        csp=csp(script),
        graph_svg=graph_svg,
        svg_withheld=report.graph is not None and bool(report.graph.svg) and graph_svg is None,
        hist=_histograms(report),
        curves=_curves(report),
        compare=compare,
    )


def _curves(report: Report) -> Markup | None:
    """The Training section's learning curves, inline SVG (drawn by kinspect, checked)."""
    if report.training is None:
        return None
    from kinspect.render.curves import describe, render_svg

    checked = safe_svg(render_svg(describe(report.training)))
    return Markup(checked) if checked else None
