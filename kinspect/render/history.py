"""``kinspect history`` as text (the epoch table, a compact chart, events, findings, checkpoints,
weight trends), Markdown and its JSON document (``kinspect/history@1``)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from kinspect.analyzers.training import RunAnalysis, series_names
from kinspect.training import Run

SCHEMA = "kinspect/history@1"
SPARKS = "▁▂▃▄▅▆▇█"
MAX_ROWS = 60  # longer runs show their first and last epochs and every epoch with an event
CHART_WIDTH = 60


def cell(v: float | None) -> str:
    if v is None:
        return "-"
    if not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return f"{v:.4g}"


def json_value(v: float | None) -> float | str | None:
    """A value for JSON: null when missing, ``"nan"``/``"inf"``/``"-inf"`` when not finite."""
    if v is None or math.isfinite(v):
        return v
    return cell(v)


# ---- JSON -----------------------------------------------------------------------------------------


def run_doc(a: RunAnalysis) -> dict[str, Any]:
    run = a.run
    return {
        "name": run.name,
        "sources": [
            {"path": s.path, "kind": s.kind.value, **({"part": s.part} if s.part else {})}
            for s in run.sources
        ],
        "epochs": run.epochs,
        "metrics": {n: [json_value(v) for v in run.series(n)] for n in series_names(run)},
        "best": {
            "monitor": a.best.monitor,
            "mode": a.best.mode.value,
            "epoch": a.best.epoch,
            "value": json_value(a.best.value),
        },
        "events": [
            {
                "kind": e.kind,
                "epoch": e.epoch,
                **{k: json_value(v) if isinstance(v, float) else v for k, v in e.data},
            }
            for e in a.events
        ],
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity.value,
                "epoch": f.epoch,
                "weight": f.tensor,
                "message": f.message,
                "hint": f.hint,
            }
            for f in a.findings
        ],
        "checkpoints": [
            {
                "path": c.path,
                "epoch": c.epoch,
                "how": c.how.value,
                "value": json_value(c.value),
                "note": c.note,
            }
            for c in a.checkpoints
        ],
        "steps_per_epoch": a.steps_per_epoch,
        "weights": [
            {
                "name": t.name,
                "first_epoch": t.first_epoch,
                "last_epoch": t.last_epoch,
                "std": [json_value(v) for v in t.std],
                "absmax": [json_value(v) for v in t.absmax],
                "trend": t.trend,
            }
            for t in a.trends
        ],
        "notes": list(run.notes),
    }


def history_doc(runs: Sequence[RunAnalysis], problems: Sequence[str]) -> dict[str, Any]:
    """The last run's keys at the top level (the latest training), every run in ``runs``."""
    docs = [run_doc(a) for a in runs]
    top = dict(docs[-1]) if docs else {}
    return {"schema": SCHEMA, **top, "runs": docs, "problems": list(problems)}


# ---- text -----------------------------------------------------------------------------------------


def spark(values: Sequence[float | None], width: int = CHART_WIDTH) -> str:
    """One row of block characters, resampled to ``width`` columns; ``×`` marks a NaN or Inf."""
    if not values:
        return ""
    n = len(values)
    cols = min(n, width)
    picks = [values[min(n - 1, int(i * n / cols))] for i in range(cols)]
    good = [v for v in values if v is not None and math.isfinite(v)]
    if not good:
        return "×" * cols
    lo, hi = min(good), max(good)
    out = []
    for v in picks:
        if v is None:
            out.append(" ")
        elif not math.isfinite(v):
            out.append("×")
        else:
            out.append(SPARKS[int((v - lo) / (hi - lo) * (len(SPARKS) - 1)) if hi > lo else 0])
    return "".join(out)


def chart_lines(run: Run) -> list[str]:
    names = series_names(run)
    width = max((len(n) for n in names), default=0)
    lines = []
    for name in names:
        values = run.series(name)
        good = [v for v in values if v is not None and math.isfinite(v)]
        rng = f"{cell(min(good))} .. {cell(max(good))}" if good else "no finite value"
        lines.append(f"  {name:<{width}}  {spark(values)}  {rng}")
    return lines


def _rows(a: RunAnalysis) -> list[int | None]:
    """Epochs to show (None: an elision), all of them up to MAX_ROWS."""
    n = a.run.epochs
    if n <= MAX_ROWS:
        return list(range(1, n + 1))
    keep = set(range(1, 11)) | set(range(n - 9, n + 1)) | {e.epoch for e in a.events}
    if a.best.epoch:
        keep.add(a.best.epoch)
    out: list[int | None] = []
    for e in sorted(keep):
        if out and out[-1] is not None and e != out[-1] + 1:
            out.append(None)
        out.append(e)
    return out


def _marks(a: RunAnalysis, epoch: int) -> str:
    marks = ["best"] if epoch == a.best.epoch else []
    marks += [e.kind.replace("_", " ") for e in a.events if e.epoch == epoch]
    return ", ".join(marks)


def epoch_table(a: RunAnalysis) -> list[list[str]]:
    names = series_names(a.run)
    rows = [["epoch", *names, ""]]
    for e in _rows(a):
        if e is None:
            rows.append(["…", *("" for _ in names), ""])
        else:
            rows.append([str(e), *(cell(a.run.series(n)[e - 1]) for n in names), _marks(a, e)])
    return rows


def aligned(rows: Sequence[Sequence[str]], left: Sequence[int] = (-1,)) -> list[str]:
    """Columns padded to their widest cell: numbers right-aligned, the ``left`` columns left."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lefts = {i % len(widths) for i in left}
    out = []
    for r in rows:
        parts = [
            c.ljust(w) if i in lefts else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        out.append("  ".join(parts).rstrip())
    return out


def _event_text(a: RunAnalysis) -> list[str]:
    return [f"  epoch {epoch:>4}  {kind:<12} {what}" for epoch, kind, what in _events(a)]


def _events(a: RunAnalysis) -> list[tuple[int, str, str]]:
    out = []
    for e in a.events:
        d = dict(e.data)
        if e.kind == "lr_drop":
            what = f"learning rate {cell(d['from'])} -> {cell(d['to'])}"  # type: ignore[arg-type]
        elif e.kind == "early_stop":
            how = "ended (inferred: budget unknown)" if d.get("inferred") else "stopped early"
            what = f"{how}; best epoch {d['best_epoch']}, {d['patience']} epochs before"
        elif e.kind == "nonfinite":
            what = f"{d['metric']} is not finite"
        else:
            what = f"validation loss rising (best at epoch {d.get('best_val_epoch')})"
        out.append((e.epoch, e.kind, what))
    return out


def render_run(a: RunAnalysis) -> str:
    run = a.run
    lines = [f"run: {run.name}"]
    for s in run.sources:
        lines.append(f"  source: {s.path} ({s.kind.value}{f', run {s.part}' if s.part else ''})")
    lines.append(f"  {run.epochs} epochs (1-based, as fit() prints them)")
    lines.append("")
    lines += aligned(epoch_table(a))
    lines += ["", "chart:", *chart_lines(run)]
    best = a.best
    lines.append("")
    if best.epoch is not None:
        lines.append(f"best: epoch {best.epoch}, {best.monitor} {cell(best.value)} ({best.mode.value})")
    else:
        lines.append(f"best: no finite {best.monitor}")
    if a.events:
        lines += ["", "events:", *_event_text(a)]
    if a.findings:
        lines += ["", "findings:"]
        for f in a.findings:
            where = f" epoch {f.epoch}" if f.epoch else ""
            lines.append(f"  {f.rule} {f.severity.value}{where}: {f.message}")
            if f.hint:
                lines.append(f"      hint: {f.hint}")
    if a.checkpoints:
        lines += ["", "checkpoints ({epoch} in names is 1-based):"]
        rows = [["file", "epoch", "how", best.monitor]]
        for c in a.checkpoints:
            rows.append([c.path, str(c.epoch) if c.epoch else "?", c.how.value, cell(c.value)])
        lines += ["  " + ln for ln in aligned(rows, (0, 2))]
        lines += [f"  note: {os.path.basename(c.path)}: {c.note}" for c in a.checkpoints if c.note]
    if a.trends:
        lines += ["", "weights (TensorBoard histograms, first -> last logged epoch):"]
        rows = [["weight", "epochs", "std", "max |w|", "trend"]]
        for t in a.trends:
            rows.append(
                [
                    t.name,
                    f"{t.first_epoch}-{t.last_epoch}",
                    f"{cell(t.std[0])} -> {cell(t.std[1])}",
                    f"{cell(t.absmax[0])} -> {cell(t.absmax[1])}",
                    t.trend,
                ]
            )
        lines += ["  " + ln for ln in aligned(rows, (0, 4))]
    lines += [f"note: {n}" for n in run.notes]
    return "\n".join(lines) + "\n"


def render_text(runs: Sequence[RunAnalysis], problems: Sequence[str]) -> str:
    parts = [render_run(a) for a in runs]
    return "\n".join(parts)  # problems go to stderr on the command line


# ---- Markdown -------------------------------------------------------------------------------------


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(rows: Sequence[Sequence[str]]) -> list[str]:
    head, *body = rows
    out = ["| " + " | ".join(_md_escape(c) for c in head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_md_escape(c) for c in r) + " |" for r in body]
    return out


def render_markdown(runs: Sequence[RunAnalysis], problems: Sequence[str]) -> str:
    lines: list[str] = []
    for a in runs:
        lines += [f"## {_md_escape(a.run.name)}", ""]
        lines += [f"- source: `{_md_escape(s.path)}` ({s.kind.value})" for s in a.run.sources]
        if a.best.epoch is not None:
            lines.append(
                f"- best: epoch {a.best.epoch}, {a.best.monitor} {cell(a.best.value)} ({a.best.mode.value})"
            )
        lines.append("")
        table = epoch_table(a)
        table[0][-1] = "events"
        lines += [*_md_table(table), ""]
        if a.events:
            events = [f"- epoch {epoch}, {kind}: {_md_escape(what)}" for epoch, kind, what in _events(a)]
            lines += ["### Events", "", *events, ""]
        if a.findings:
            rows = [["rule", "severity", "epoch", "finding", "hint"]]
            rows += [
                [f.rule, f.severity.value, str(f.epoch or ""), f.message, f.hint or ""] for f in a.findings
            ]
            lines += ["### Findings", "", *_md_table(rows), ""]
        if a.checkpoints:
            rows = [["file", "epoch", "how", a.best.monitor]]
            rows += [[c.path, str(c.epoch or "?"), c.how.value, cell(c.value)] for c in a.checkpoints]
            lines += ["### Checkpoints", "", *_md_table(rows), ""]
        if a.trends:
            rows = [["weight", "epochs", "std", "max abs", "trend"]]
            rows += [
                [
                    t.name,
                    f"{t.first_epoch}-{t.last_epoch}",
                    f"{cell(t.std[0])} -> {cell(t.std[1])}",
                    f"{cell(t.absmax[0])} -> {cell(t.absmax[1])}",
                    t.trend,
                ]
                for t in a.trends
            ]
            lines += ["### Weights", "", *_md_table(rows), ""]
    lines += [f"- problem: {_md_escape(p)}" for p in problems]
    return "\n".join(lines).rstrip() + "\n"
