"""``kinspect diff`` renderings: a compact text table (``+``/``-``/``~``, unchanged layers
collapsed), the JSON document ``kinspect/diff@1``, Markdown for pull requests, and HTML (a notebook
view, and the report's "Compared with …" section)."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

from kinspect.analyzers.diff import Change, DiffResult, LayerDiff, TensorDiff

DIFF_SCHEMA = "kinspect/diff@1"
MARK = {"added": "+", "removed": "-", "changed": "~", "reshaped": "~", "retyped": "~", "unchanged": " "}
MAX_CHANGES = 6  # config fields shown per changed layer in the text (JSON lists all)
MAX_LISTED_UNCHANGED = 6


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    text = f"{x:.4g}"
    return "0" if text == "-0" else text


def _pct(x: float | None) -> str:
    if x is None:
        return "-"
    if x == 0:
        return "0"
    return f"{100 * x:.3g}%"


def _value(v: Any) -> str:
    text = "[" + ", ".join(_value(x) for x in v) + "]" if isinstance(v, list) else str(v)
    if isinstance(v, list) and all(isinstance(x, (int, type(None))) for x in v):
        text = "(" + ", ".join(str(x) for x in v) + ")"
    return text if len(text) <= 60 else text[:59] + "…"


def _change(c: Change) -> str:
    return f"{c.field} {_value(c.a)} → {_value(c.b)}"


def _side(result: DiffResult, which: str) -> str:
    m = result.a if which == "A" else result.b
    return f"{which}: {m.path} ({m.format.value}{', ' + m.name if m.has_architecture else ''})"


def layer_cells(row: LayerDiff) -> list[str]:
    name = f"{row.renamed_from} → {row.name}" if row.renamed_from else row.name
    return [MARK[row.status], name, row.status, f"{row.changed_tensors}/{row.tensors}", _num(row.max_abs),
            _num(row.rel_l2), _num(row.cosine), _pct(row.changed_fraction)]  # fmt: skip


LAYER_HEADER = ["", "layer", "status", "changed", "max |Δ|", "rel L2", "cosine", "elements"]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    out = []
    for r in (header, *rows):
        out.append(
            "  ".join(
                c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
        )
    return out


def _tensor_line(t: TensorDiff) -> str:
    what = t.status
    if t.status == "reshaped":
        what = f"reshaped {_shape(t.shape_a)} → {_shape(t.shape_b)}"
    elif t.status == "retyped":
        what = f"retyped {t.dtype_a} → {t.dtype_b}"
    elif t.status in ("added", "removed"):
        shape = t.shape_b if t.status == "added" else t.shape_a
        what = f"{t.status} {_shape(shape)} {t.dtype_b if t.status == 'added' else t.dtype_a}"
    if t.error:
        what += f" ({t.error})"
    return f"{MARK[t.status]} {t.layer}/{t.name}: {what}"


def _shape(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return "?"
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def render_text(result: DiffResult) -> str:
    lines = [_side(result, "A"), _side(result, "B")]
    arch = result.architecture
    if arch is not None:
        if arch.empty:
            lines.append("Architecture: no change")
        else:
            lines.append(
                f"Architecture: {len(arch.added)} added, {len(arch.removed)} removed, "
                f"{len(arch.changed)} changed" + (f", {len(arch.model)} model-level" if arch.model else "")
            )
            for c in arch.model:
                lines.append(f"  ~ model: {_change(c)}")
            for lay in arch.added:
                lines.append(f"  + {lay.name} ({lay.class_name})")
            for lay in arch.removed:
                lines.append(f"  - {lay.name} ({lay.class_name})")
            for lay in arch.changed:
                name = f"{lay.renamed_from} → {lay.name} (renamed)" if lay.renamed_from else lay.name
                parts = [_change(c) for c in lay.changes[:MAX_CHANGES]]
                more = len(lay.changes) - MAX_CHANGES
                if more > 0:
                    parts.append(f"{more} more")
                lines.append(f"  ~ {name} ({lay.class_name})" + (f": {'; '.join(parts)}" if parts else ""))
    counts = result.counts()
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    lines.append(
        f"Weights: {len(result.tensors)} tensors ({tally or 'none'}), "
        f"atol {result.atol:g}, rtol {result.rtol:g}"
    )
    shown = [row for row in result.layers if row.status != "unchanged"]
    quiet = [row for row in result.layers if row.status == "unchanged"]
    if shown:
        lines += ["  " + line for line in _table(LAYER_HEADER, [layer_cells(r) for r in shown])]
    if quiet:
        names = ", ".join(r.name for r in quiet[:MAX_LISTED_UNCHANGED])
        rest = f", … {len(quiet) - MAX_LISTED_UNCHANGED} more" if len(quiet) > MAX_LISTED_UNCHANGED else ""
        lines.append(f"  = {len(quiet)} unchanged layer{'s' if len(quiet) != 1 else ''} ({names}{rest})")
    odd = [t for t in result.tensors if t.status in ("added", "removed", "reshaped", "retyped") or t.error]
    if odd:
        lines.append("Tensors:")
        lines += ["  " + _tensor_line(t) for t in odd]
    if result.optimizer_tensors:
        moved = [t for t in result.optimizer_tensors if t.status != "unchanged"]
        lines.append(f"Optimizer: {len(result.optimizer_tensors)} variables compared, {len(moved)} changed")
    if result.findings:
        lines.append("Findings:")
        for f in result.findings:
            where = f" {f.layer}" if f.layer else ""
            lines.append(f"  {f.rule} {f.severity.value}{where}: {f.message}")
            if f.hint:
                lines.append(f"    hint: {f.hint}")
    for note in result.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"


def _change_doc(c: Change) -> dict[str, Any]:
    return {"field": c.field, "a": c.a, "b": c.b}


def _clean(x: Any) -> Any:
    return None if isinstance(x, float) and not math.isfinite(x) else x


def tensor_doc(t: TensorDiff) -> dict[str, Any]:
    return {
        "layer": t.layer,
        "name": t.name,
        "status": t.status,
        "paired_by": t.paired_by,
        "shape_a": list(t.shape_a) if t.shape_a is not None else None,
        "shape_b": list(t.shape_b) if t.shape_b is not None else None,
        "dtype_a": t.dtype_a,
        "dtype_b": t.dtype_b,
        "size": t.size,
        "max_abs": _clean(t.max_abs),
        "rel_l2": _clean(t.rel_l2),
        "cosine": _clean(t.cosine),
        "changed_fraction": _clean(t.changed_fraction),
        "nan_appeared": t.nan_appeared,
        "inf_appeared": t.inf_appeared,
        "path_a": t.path_a,
        "path_b": t.path_b,
        "error": t.error,
    }


def diff_doc(result: DiffResult) -> dict[str, Any]:
    arch = result.architecture

    def side(m: Any) -> dict[str, Any]:
        return {
            "file": m.path,
            "format": m.format.value,
            "name": m.name,
            "has_architecture": m.has_architecture,
        }

    return {
        "schema": DIFF_SCHEMA,
        "a": side(result.a),
        "b": side(result.b),
        "atol": result.atol,
        "rtol": result.rtol,
        "identical": result.identical,
        "weights_changed": result.weights_changed,
        "architecture_changed": result.architecture_changed,
        "architecture": None
        if arch is None
        else {
            "added": [{"name": c.name, "class_name": c.class_name} for c in arch.added],
            "removed": [{"name": c.name, "class_name": c.class_name} for c in arch.removed],
            "changed": [
                {
                    "name": c.name,
                    "class_name": c.class_name,
                    "renamed_from": c.renamed_from,
                    "changes": [_change_doc(x) for x in c.changes],
                }
                for c in arch.changed
            ],
            "model": [_change_doc(c) for c in arch.model],
        },
        "counts": result.counts(),
        "layers": [
            {
                "name": r.name,
                "status": r.status,
                "renamed_from": r.renamed_from,
                "tensors": r.tensors,
                "changed_tensors": r.changed_tensors,
                "max_abs": _clean(r.max_abs),
                "rel_l2": _clean(r.rel_l2),
                "cosine": _clean(r.cosine),
                "changed_fraction": _clean(r.changed_fraction),
                "frozen_a": r.frozen_a,
                "frozen_b": r.frozen_b,
            }
            for r in result.layers
        ],
        "tensors": [tensor_doc(t) for t in result.tensors],
        "optimizer": {
            "variables_a": result.optimizer_counts[0],
            "variables_b": result.optimizer_counts[1],
            "compared": bool(result.optimizer_tensors),
            "tensors": [tensor_doc(t) for t in result.optimizer_tensors],
        },
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity.value,
                "layer": f.layer,
                "tensor": f.tensor,
                "message": f.message,
                "hint": f.hint,
            }
            for f in result.findings
        ],
        "notes": list(result.notes),
    }


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("_", "\\_").replace("*", "\\*")


def render_markdown(result: DiffResult) -> str:
    """Markdown for a pull request: the changes first, unchanged layers in one line."""
    out = [f"### kinspect diff: `{result.a.path}` → `{result.b.path}`", ""]
    arch = result.architecture
    if arch is not None and not arch.empty:
        out += ["**Architecture**", ""]
        out += [f"- model: {_md(_change(c))}" for c in arch.model]
        out += [f"- ➕ `{c.name}` ({c.class_name})" for c in arch.added]
        out += [f"- ➖ `{c.name}` ({c.class_name})" for c in arch.removed]
        for c in arch.changed:
            name = f"`{c.renamed_from}` → `{c.name}` (renamed)" if c.renamed_from else f"`{c.name}`"
            out.append(
                f"- ✏️ {name} ({c.class_name}){': ' if c.changes else ''}"
                + _md("; ".join(_change(x) for x in c.changes))
            )
        out.append("")
    elif arch is not None:
        out += ["Architecture: no change", ""]
    counts = result.counts()
    out.append(
        f"**Weights**: {len(result.tensors)} tensors, "
        + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    )
    out.append("")
    shown = [r for r in result.layers if r.status != "unchanged"]
    if shown:
        out.append("| " + " | ".join(_md(h) or " " for h in LAYER_HEADER) + " |")
        out.append("|" + "---|" * len(LAYER_HEADER))
        for r in shown:
            out.append("| " + " | ".join(_md(c) or " " for c in layer_cells(r)) + " |")
        out.append("")
    quiet = [r for r in result.layers if r.status == "unchanged"]
    if quiet:
        names = ", ".join(f"`{r.name}`" for r in quiet)
        if len(quiet) <= MAX_LISTED_UNCHANGED:
            out += [f"{len(quiet)} unchanged layer{'s' if len(quiet) != 1 else ''}: {names}", ""]
        else:  # collapsed: GitHub and GitLab show <details> closed
            out += [
                f"<details><summary>{len(quiet)} unchanged layers</summary>",
                "",
                names,
                "",
                "</details>",
                "",
            ]
    if result.findings:
        out += ["**Findings**", ""]
        out += [
            f"- `{f.rule}` {f.severity.value}{' `' + f.layer + '`' if f.layer else ''}: {_md(f.message)}"
            for f in result.findings
        ]
        out.append("")
    out += [f"> {_md(n)}" for n in result.notes]
    return "\n".join(out).rstrip() + "\n"


def _tr(cells: Iterable[str], tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"


def render_html(result: DiffResult) -> str:
    """An HTML fragment (escaped, no script): the notebook view and the report's section."""
    arch = result.architecture
    parts = [f"<p>{html.escape(_side(result, 'A'))}<br>{html.escape(_side(result, 'B'))}</p>"]
    if arch is not None:
        items = [f"<li>model: {html.escape(_change(c))}</li>" for c in arch.model]
        items += [
            f"<li class='added'>+ {html.escape(c.name)} ({html.escape(c.class_name)})</li>"
            for c in arch.added
        ]
        items += [
            f"<li class='removed'>- {html.escape(c.name)} ({html.escape(c.class_name)})</li>"
            for c in arch.removed
        ]
        for c in arch.changed:
            name = f"{c.renamed_from} → {c.name} (renamed)" if c.renamed_from else c.name
            detail = "; ".join(_change(x) for x in c.changes)
            items.append(
                f"<li class='changed'>~ {html.escape(name)} ({html.escape(c.class_name)}) "
                f"{html.escape(detail)}</li>"
            )
        parts.append(
            "<h4>Architecture</h4>" + (f"<ul>{''.join(items)}</ul>" if items else "<p>no change</p>")
        )
    rows = [_tr(layer_cells(r)) for r in result.layers]
    parts.append(
        "<h4>Weights, per layer</h4><table class='diff'><thead>"
        + _tr(LAYER_HEADER, "th")
        + "</thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    if result.findings:
        parts.append(
            "<h4>Findings</h4><ul>"
            + "".join(
                f"<li><code>{html.escape(f.rule)}</code> {html.escape(f.severity.value)} "
                f"{html.escape(f.layer or '')}: {html.escape(f.message)}</li>"
                for f in result.findings
            )
            + "</ul>"
        )
    if result.notes:
        parts.append(
            "<ul class='notes'>" + "".join(f"<li>{html.escape(n)}</li>" for n in result.notes) + "</ul>"
        )
    return "<div class='kinspect-diff'>" + "".join(parts) + "</div>"
