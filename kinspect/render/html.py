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
import json
import math
import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from kinspect.analyzers.report import Report
from kinspect.model import ShapeTree
from kinspect.render.cost import readable_count
from kinspect.render.formatting import display_class, readable_bytes, shape_text

if TYPE_CHECKING:  # the diff analyzer is imported only by a report that compares
    from kinspect.analyzers.diff import DiffResult

TEMPLATE = "report.html.j2"
COMPILED = "compiled"  # templates/compiled/: the templates as Python modules, and their manifest
RECOMPILE = 'python -c "from kinspect.render.html import write_compiled; write_compiled()"'
# Drawing elements Graphviz writes in SVG; anything else (script, foreignObject, links,
# event handler attributes) means the drawing is not inlined.
SVG_ELEMENTS = {"svg", "g", "title", "polygon", "polyline", "path", "ellipse", "circle", "rect", "text",
                "tspan", "line", "defs", "linearGradient", "radialGradient", "stop"}  # fmt: skip
_PROLOG = re.compile(r"<\?xml[^>]*>|<!DOCTYPE[^>]*>|<!--.*?-->|<title>[^<]*</title>", re.S)
_FONT = re.compile(r' font-family="[^"]*"')


def _templates() -> Path:
    """The templates' folder: the source checkout's this module belongs to when there is one (so
    the code and its templates always come from the same tree, also when another checkout is
    the installed one), else the installed ``kinspect.templates`` package (the repository's
    ``templates/`` folder, mapped as package data)."""
    checkout = Path(__file__).resolve().parents[2] / "templates"
    if (checkout / TEMPLATE).is_file():
        return checkout
    from importlib.resources import files

    return Path(str(files("kinspect.templates")))


def _template_text(name: str) -> str:
    return (_templates() / name).read_text(encoding="utf-8")


def source_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every template source in ``folder``, by name."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.j2"))}


def _compiled_loader() -> jinja2.BaseLoader | None:
    """The templates as Python modules (``templates/compiled/``, written by
    :func:`write_compiled`), when they were compiled from these very sources by this Jinja2
    release series; else None, and the sources are compiled on first use (about 0.1 s, a tenth
    of a report)."""
    folder = _templates()
    compiled = folder / COMPILED
    try:
        manifest = json.loads((compiled / "manifest.json").read_text(encoding="utf-8"))
        fresh = manifest["sources"] == source_digests(folder)
        same_jinja = manifest["jinja2"].split(".")[:2] == jinja2.__version__.split(".")[:2]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return jinja2.ModuleLoader(str(compiled)) if fresh and same_jinja else None


def _num(x: float | None) -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    text = f"{x:.4g}"
    return "0" if text == "-0" else text


def _shape(shape: ShapeTree | tuple[int, ...]) -> str:
    return shape_text(shape)


@lru_cache(maxsize=2)
def environment(compiled: bool = True) -> jinja2.Environment:
    """The page's Jinja2 environment; ``compiled`` False: compiled from the sources whatever
    ``templates/compiled/`` holds (:func:`write_compiled` writes it from this environment)."""
    env = jinja2.Environment(
        loader=(compiled and _compiled_loader()) or jinja2.FunctionLoader(_template_text),
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


def write_compiled() -> Path:
    """Write ``templates/compiled/`` (``RECOMPILE``, after editing a template): the templates
    compiled to Python modules by Jinja2, so that a report loads them (about 10 ms) instead of
    compiling the sources (about 0.1 s), with a manifest of the sources' digests and the Jinja2
    version, which :func:`environment` checks before using them."""
    import shutil

    folder = _templates()
    target = folder / COMPILED
    shutil.rmtree(target, ignore_errors=True)
    env = environment(compiled=False).overlay(loader=jinja2.FileSystemLoader(str(folder)))
    env.compile_templates(str(target), zip=None, filter_func=lambda name: name.endswith(".j2"))
    manifest = {"jinja2": jinja2.__version__, "sources": source_digests(folder)}
    (target / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return target


def prepare(compare: bool = False) -> None:
    """Compile the page's templates now (render_html would on its first call): a caller waiting
    for other work does it meanwhile. ``compare``: also the "Compared with" section's."""
    env = environment()
    for name in (TEMPLATE, "cost.html.j2", *(["compare.html.j2"] if compare else [])):
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
