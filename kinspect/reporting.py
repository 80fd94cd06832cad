"""The report's slow parts, started in parallel: weight statistics in reader children,
Graphviz drawings in threads, and the check rules.

``kinspect report`` forks the weight readers before any thread starts, then draws while
they read; these functions return waiters so the command can overlap them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from kinspect.errors import KinspectError
from kinspect.findings import Finding
from kinspect.loaders.registry import SUFFIXES

REPORT_BINS = 24  # histogram bins per tensor in the report
REPORT_GRAPH_TIMEOUT = 120.0  # seconds Graphviz may take for each drawing of the report
REPORT_PNG_MEGAPIXELS = 8  # model.png is a companion to the inline SVG: rasterising is the slow part
REPORT_READERS = 4  # weight reader children, at most (and at most one per core)


def default_report_dir(model: str) -> str:
    """``<file name without its model suffix>-report``, in the current directory."""
    name = os.path.basename(os.path.normpath(model))
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return f"{name or 'model'}-report"


def start_graph(info: Any) -> Callable[[], tuple[Any, bytes | None]]:
    """Start drawing the graph (SVG to inline, PNG to write) in threads; returns a function that
    waits for them and gives the GraphPart and the PNG bytes."""
    from concurrent.futures import ThreadPoolExecutor

    from kinspect import graphviz
    from kinspect.analyzers.graph import build_graph
    from kinspect.analyzers.report import GraphPart
    from kinspect.render.dot import LARGE_GRAPH, ColorBy, DotStyle, Splines, render_dot

    drawing = build_graph(info)
    count = len(drawing.nodes)
    if graphviz.find_dot() is None:
        part = GraphPart(None, None, count, (*drawing.notes, graphviz.INSTALL_HINT))
        return lambda: (part, None)
    large = count > LARGE_GRAPH  # shapes and curved edges cost Graphviz minutes on thousands of nodes
    style = DotStyle(show_shapes=not large, color_by=ColorBy.FAMILY, splines=Splines.LINE if large else None)
    text = render_dot(drawing, style)
    pool = ThreadPoolExecutor(2)

    def draw(fmt: str, laid_out: Any) -> Any:
        # Both drawings share one layout (the slow part); each is then only drawn.
        return graphviz.render(
            text, fmt, None, REPORT_PNG_MEGAPIXELS, REPORT_GRAPH_TIMEOUT, laid_out.result()
        )

    laid_out = pool.submit(graphviz.layout, text, REPORT_GRAPH_TIMEOUT)
    jobs = {fmt: pool.submit(draw, fmt, laid_out) for fmt in ("svg", "png")}
    pool.shutdown(wait=False)

    def result() -> tuple[Any, bytes | None]:
        notes = list(drawing.notes)
        if large:
            notes.append(f"{count:,} layers: drawn with names and types only, and straight edges")
        out: dict[str, bytes | None] = {}
        for fmt, job in jobs.items():
            try:
                image = job.result()
                out[fmt] = image.data
                if image.notes:  # the raster was scaled down to fit the megapixel cap
                    notes.append(
                        f"model.png is drawn at a reduced resolution (at most {REPORT_PNG_MEGAPIXELS} "
                        "megapixels); the inline drawing has full detail, and 'kinspect graph "
                        "--max-megapixels' draws a larger PNG"
                    )
            except graphviz.GraphvizError as exc:
                out[fmt] = None
                notes.append(f"{fmt.upper()}: {exc}")
        svg = out["svg"].decode("utf-8", "replace") if out["svg"] else None
        png = out["png"]
        return GraphPart(svg, "model.png" if png else None, count, tuple(dict.fromkeys(notes))), png

    return result


def start_weights(info: Any) -> Callable[[], tuple[Any, str | None]]:
    """Start reading every stored tensor's statistics and histogram in isolated children (the
    tensors split by bytes over up to REPORT_READERS cores); returns a function that waits for
    the WeightsReport, or for a note saying why there is none."""
    from functools import partial

    from kinspect.analyzers.weights import plan, report, total_bytes, wanted
    from kinspect.errors import InputError
    from kinspect.loaders.arrays import SECONDS_PER_GB, compute, sources
    from kinspect.loaders.isolate import start

    entries = plan(info)
    if not entries:
        return lambda: (None, "weights: the file holds no weights to read")
    try:
        srcs = sources(info)
    except InputError as exc:
        note = f"weights: could not be read ({exc.problem})"
        return lambda: (None, note)
    if not srcs:
        return lambda: (None, "weights: the file holds no weights to read")
    size = total_bytes(entries)
    nbytes = {e.weight.path: e.weight.nbytes for e in entries}
    readers = max(1, min(REPORT_READERS, os.cpu_count() or 1, int(size // (16 << 20)) or 1))
    groups: list[list[list[Any]]] = [[] for _ in range(readers)]
    loads = [0.0] * readers
    for request in sorted(wanted(info, entries), key=lambda w: -nbytes.get(w[0], 0)):
        i = loads.index(min(loads))  # the least loaded reader takes the next largest tensor
        groups[i].append(list(request))
        loads[i] += nbytes.get(request[0], 0)
    extra = SECONDS_PER_GB * size / 1e9
    pending = [
        start(info.path, partial(compute, info.path, srcs, g, REPORT_BINS, None), extra) for g in groups
    ]

    def result() -> tuple[Any, str | None]:
        stats: dict[str, Any] = {}
        try:
            for p in pending:
                stats.update(p())
        except InputError as exc:
            return None, f"weights: could not be read ({exc.problem})"
        finally:
            for p in pending:
                p.cancel()
        return report(info, entries, stats, bins=REPORT_BINS), None

    return result


def run_checks(path: str, info: Any) -> tuple[list[Finding], str | None]:
    """Findings of the default check rules other than the numerics ones (KIN2xx: those are the
    weights diagnostics the report already has), each with its rule's rationale as the hint."""
    from kinspect.checks import RULES, resolve
    from kinspect.checks.base import Subject
    from kinspect.checks.runner import run_rules
    from kinspect.loaders import read_raw

    try:
        subject = Subject(path, info, read_raw(path))
    except KinspectError as exc:
        return [], f"checks: not run ({exc})"
    enabled = {rid for rid in resolve(None) if not rid.startswith("KIN2")}
    found, error = run_rules(subject, enabled)
    note = f"checks: {error}" if error else None
    return [replace(f, hint=f.hint or RULES[f.rule].rationale) for f in found], note
