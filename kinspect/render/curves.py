"""Learning curves: one chart description (:func:`describe`), drawn as SVG by kinspect itself
(:func:`render_svg`) and as PNG through matplotlib when the ``plot`` extra is installed
(:func:`render_png`).

Panels: the loss and validation loss; each metric with its validation twin; the learning rate
on a log scale. Events are marked on every panel: the best epoch, learning-rate drops, the early
stop, the overfitting onset, non-finite values (a cross at the top of the panel).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from html import escape

from kinspect.analyzers.training import RunAnalysis, series_names
from kinspect.errors import KinspectError

PLOT_INSTALL = "pip install 'kinspect[plot]'"
WIDTH, PANEL_HEIGHT, MARGIN_LEFT, MARGIN_RIGHT, GAP = 720, 200, 64, 150, 36
COLORS = ("#1f77b4", "#ff7f0e")  # training, validation (matplotlib's first two)
MARKS = {
    "best": "#2ca02c",
    "lr_drop": "#9467bd",
    "early_stop": "#7f7f7f",
    "overfitting": "#d62728",
    "nonfinite": "#d62728",
}


class PlotMissing(KinspectError):
    """PNG needs matplotlib (the ``plot`` extra): exit 2, with the install command."""

    exit_code = 2


@dataclass(frozen=True)
class Line:
    name: str
    points: tuple[tuple[int, float], ...]  # finite values only
    nonfinite: tuple[int, ...]  # epochs where the value is NaN or Inf
    color: str
    dashed: bool


@dataclass(frozen=True)
class Marker:
    epoch: int
    kind: str
    label: str


@dataclass(frozen=True)
class Panel:
    title: str
    lines: tuple[Line, ...]
    log_y: bool


@dataclass(frozen=True)
class Chart:
    title: str
    epochs: int
    panels: tuple[Panel, ...]
    markers: tuple[Marker, ...]


def describe(analysis: RunAnalysis) -> Chart:
    run = analysis.run
    groups: dict[str, list[str]] = {}
    for name in series_names(run):
        base = name.removeprefix("val_")
        groups.setdefault("learning_rate" if base == "learning_rate" else base, []).append(name)
    panels = []
    for base, names in groups.items():
        lines = []
        for name in names:
            values = run.series(name)
            points = tuple((i, v) for i, v in enumerate(values, 1) if v is not None and math.isfinite(v))
            bad = tuple(i for i, v in enumerate(values, 1) if v is not None and not math.isfinite(v))
            val = name.startswith("val_")
            lines.append(Line(name, points, bad, COLORS[1] if val else COLORS[0], val))
        log = base == "learning_rate" and all(v > 0 for ln in lines for _, v in ln.points)
        panels.append(Panel(base + (" (log scale)" if log else ""), tuple(lines), log))
    markers = []
    if analysis.best.epoch is not None:
        markers.append(Marker(analysis.best.epoch, "best", f"best {analysis.best.monitor}"))
    for e in analysis.events:
        label = {
            "lr_drop": "lr drop",
            "early_stop": "early stop",
            "overfitting": "overfitting",
            "nonfinite": f"non-finite {e.get('metric')}",
        }.get(e.kind, e.kind)
        markers.append(Marker(e.epoch, e.kind, label))
    return Chart(run.name, run.epochs, tuple(panels), tuple(markers))


def _ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    if hi <= lo:
        return [lo]
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (step * m) <= n:
            step *= m
            break
    start = math.ceil(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step) + 1)]


def _label(v: float) -> str:
    return f"{v:.3g}"


def render_svg(chart: Chart) -> str:
    """The chart as a standalone SVG document (every string escaped; no script, no link)."""
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    height = 40 + len(chart.panels) * (PANEL_HEIGHT + GAP) + 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="13">{escape(chart.title)}</text>',
    ]
    n = max(chart.epochs, 1)
    x = lambda e: MARGIN_LEFT + (plot_w * (e - 1) / (n - 1) if n > 1 else plot_w / 2)  # noqa: E731
    for k, panel in enumerate(chart.panels):
        top = 40 + k * (PANEL_HEIGHT + GAP)
        values = [v for ln in panel.lines for _, v in ln.points]
        f = (lambda v: math.log10(v)) if panel.log_y else (lambda v: v)
        lo, hi = (min(map(f, values)), max(map(f, values))) if values else (0.0, 1.0)
        if hi == lo:
            lo, hi = lo - (abs(lo) or 1) * 0.05, hi + (abs(hi) or 1) * 0.05
        pad = (hi - lo) * 0.05
        lo, hi = lo - pad, hi + pad

        def y(v: float, top: int = top, lo: float = lo, hi: float = hi) -> float:
            return top + PANEL_HEIGHT * (1 - (v - lo) / (hi - lo))

        out.append(f'<g class="panel"><text x="{MARGIN_LEFT}" y="{top - 6}">{escape(panel.title)}</text>')
        out.append(
            f'<rect x="{MARGIN_LEFT}" y="{top}" width="{plot_w}" height="{PANEL_HEIGHT}" '
            'fill="none" stroke="#999"/>'
        )
        for t in _ticks(lo, hi):
            label = _label(10**t) if panel.log_y else _label(t)
            out.append(
                f'<line x1="{MARGIN_LEFT - 4}" x2="{MARGIN_LEFT}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
                f'stroke="#999"/><text x="{MARGIN_LEFT - 6}" y="{y(t) + 4:.1f}" text-anchor="end">'
                f"{escape(label)}</text>"
            )
        for e in _ticks(1, n, 8):
            if e == int(e) and 1 <= e <= n:
                out.append(
                    f'<text x="{x(e):.1f}" y="{top + PANEL_HEIGHT + 14}" text-anchor="middle">{int(e)}</text>'
                )
        for m in chart.markers:
            out.append(
                f'<line x1="{x(m.epoch):.1f}" x2="{x(m.epoch):.1f}" y1="{top}" y2="{top + PANEL_HEIGHT}" '
                f'stroke="{MARKS.get(m.kind, "#999")}" stroke-dasharray="3,3"><title>'
                f"epoch {m.epoch}: {escape(m.label)}</title></line>"
            )
        for i, ln in enumerate(panel.lines):
            if ln.points:
                pts = " ".join(f"{x(e):.1f},{y(f(v)):.1f}" for e, v in ln.points)
                dash = ' stroke-dasharray="6,3"' if ln.dashed else ""
                out.append(
                    f'<polyline points="{pts}" fill="none" stroke="{ln.color}" stroke-width="1.5"{dash}>'
                    f"<title>{escape(ln.name)}</title></polyline>"
                )
            for e in ln.nonfinite:
                out.append(
                    f'<text x="{x(e):.1f}" y="{top + 12}" text-anchor="middle" fill="#d62728">'
                    f"\u00d7<title>{escape(ln.name)} non-finite at epoch {e}</title></text>"
                )
            ly = top + 14 + 16 * i
            lx = WIDTH - MARGIN_RIGHT + 10
            dash = ' stroke-dasharray="6,3"' if ln.dashed else ""
            out.append(
                f'<line x1="{lx}" x2="{lx + 18}" y1="{ly - 4}" y2="{ly - 4}" stroke="{ln.color}"{dash}/>'
                f'<text x="{lx + 22}" y="{ly}">{escape(ln.name)}</text>'
            )
        out.append("</g>")
    legend_y = 40 + len(chart.panels) * (PANEL_HEIGHT + GAP) - 8
    seen: dict[str, str] = {}
    for m in chart.markers:
        seen.setdefault(m.kind, m.label if m.kind != "lr_drop" else "lr drop")
    lx = MARGIN_LEFT
    for kind, label in seen.items():
        out.append(
            f'<line x1="{lx}" x2="{lx + 14}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
            f'stroke="{MARKS.get(kind, "#999")}" stroke-dasharray="3,3"/>'
            f'<text x="{lx + 18}" y="{legend_y}">{escape(label)}</text>'
        )
        lx += 30 + 7 * len(label)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render_png(chart: Chart, dpi: int = 100) -> bytes:
    """The same chart drawn by matplotlib (the ``plot`` extra), as PNG bytes."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotMissing(f"PNG output needs matplotlib: {PLOT_INSTALL} (or write -o curves.svg)") from None
    panels = max(len(chart.panels), 1)
    fig, axes = plt.subplots(panels, 1, figsize=(WIDTH / dpi, panels * 2.6 + 0.6), dpi=dpi, squeeze=False)
    try:
        fig.suptitle(chart.title, fontsize=10)
        labelled: set[str] = set()
        for ax, panel in zip(axes[:, 0], chart.panels, strict=False):
            for ln in panel.lines:
                if ln.points:
                    xs, ys = zip(*ln.points, strict=True)
                    ax.plot(xs, ys, color=ln.color, linestyle="--" if ln.dashed else "-", label=ln.name)
                for e in ln.nonfinite:
                    ax.annotate(
                        "\u00d7",
                        (e, 1),
                        xycoords=("data", "axes fraction"),
                        color="#d62728",
                        ha="center",
                        va="top",
                    )
            if panel.log_y:
                ax.set_yscale("log")
            for m in chart.markers:
                label = None if m.kind in labelled else ("lr drop" if m.kind == "lr_drop" else m.label)
                labelled.add(m.kind)
                ax.axvline(m.epoch, color=MARKS.get(m.kind, "#999"), linestyle=":", linewidth=1, label=label)
            ax.set_title(panel.title, fontsize=9, loc="left")
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7, loc="best")
            ax.set_xlim(0.5, max(chart.epochs, 1) + 0.5)
        axes[-1, 0].set_xlabel("epoch")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)
