"""Graphviz DOT text for a layer graph, in the look of Keras 3's ``model_to_dot``.

Written as text, not through pydot: nothing to install, and every string that comes from the
file goes through one escaping function. Node and cluster identifiers are generated (``n0``,
``cluster_0``); file-derived text only ever appears inside HTML-like labels, where entity
escaping is complete (DOT quoted strings cannot escape a trailing backslash, so they hold none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from kinspect.analyzers.graph import Cluster, Graph, Node
from kinspect.model import ShapeTree
from kinspect.render.formatting import display_class


class Rankdir(str, Enum):
    TB = "TB"
    LR = "LR"
    BT = "BT"
    RL = "RL"


class ColorBy(str, Enum):
    NONE = "none"
    FAMILY = "family"
    PARAMS = "params"


class Splines(str, Enum):
    ORTHO = "ortho"
    CURVED = "curved"
    POLYLINE = "polyline"
    SPLINE = "spline"
    LINE = "line"


# Graphs above this many nodes get cheaper defaults: Graphviz's orthogonal router and edge
# concentration grow much faster than linear (minutes on a few thousand nodes).
LARGE_GRAPH = 400


@dataclass(frozen=True)
class DotStyle:
    """plot_model's options (same names and defaults, names shown), plus kinspect's own."""

    show_shapes: bool = False
    show_dtype: bool = False
    show_layer_names: bool = True
    show_layer_activations: bool = False
    show_trainable: bool = False
    show_params: bool = False
    color_by: ColorBy = ColorBy.NONE
    rankdir: Rankdir = Rankdir.TB
    dpi: int | None = None
    splines: Splines | None = None  # None: ortho, or spline for large graphs
    size: str | None = None  # Graphviz ``size`` (inches), to cap a drawing

    def effective_splines(self, nodes: int) -> Splines:
        if self.splines is not None:
            return self.splines
        return Splines.ORTHO if nodes <= LARGE_GRAPH else Splines.SPLINE


FAMILY_COLORS = {
    "input": "#4c72b0", "convolution": "#dd8452", "dense": "#55a868", "normalization": "#8172b3",
    "pooling": "#937860", "merge": "#da8bc3", "recurrent": "#c44e52", "attention": "#ccb974",
    "embedding": "#64b5cd", "activation": "#2f4b7c", "regularization": "#7f7f7f", "reshaping": "#a05195",
    "model": "#003f5c", "operation": "#595959", "other": "#000000",
}  # fmt: skip

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def html(text: str) -> str:
    """Escape file-derived text for an HTML-like label: markup, quotes, and characters XML
    cannot carry (control characters, lone surrogates) shown as visible escapes."""
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def shape_label(shape: ShapeTree) -> str:
    """keras model_visualization ``format_shape``: Python's repr of the shape, ``?`` if unknown."""
    if shape is None:
        return "?"
    if isinstance(shape, tuple):
        dims = ", ".join(str(d) for d in shape)
        return f"({dims},)" if len(shape) == 1 else f"({dims})"
    if isinstance(shape, dict):
        return ", ".join(f"{k}: {shape_label(v)}" for k, v in shape.items())
    return "[" + ", ".join(shape_label(s) for s in shape) + "]"


def _dtype_label(node: Node) -> str:
    if node.dtype is None:
        return "?"
    if isinstance(node.output_shape, list):
        return "[" + ", ".join(f"'{node.dtype}'" for _ in node.output_shape) + "]"
    return node.dtype


def _share_color(share: float) -> str:
    """White to deep red by the node's share of the model's parameters."""
    level = min(1.0, share) ** 0.5
    g = int(255 - 200 * level)
    return f"#ff{g:02x}{g:02x}" if level < 1 else "#b30000"


def _title_colors(node: Node, style: DotStyle, total: int) -> tuple[str, str]:
    if style.color_by is ColorBy.FAMILY:
        return FAMILY_COLORS.get(node.family, "#000000"), "white"
    if style.color_by is ColorBy.PARAMS:
        share = node.params / total if total else 0.0
        return _share_color(share), "black" if share < 0.3 else "white"
    return "black", "white"


def _cell(text: str, bold: str, color: str = "white", font: str = "") -> str:
    font_attr = f' color="{font}"' if font else ""
    return f'<td bgcolor="{color}"><font point-size="14"{font_attr}>{text}<b>{html(bold)}</b></font></td>'


def node_label(node: Node, style: DotStyle, total: int) -> str:
    """The HTML-like table keras ``make_layer_label`` builds, with every string escaped."""
    cls = display_class(node.class_name)
    colspan = max(1, style.show_dtype + style.show_trainable + 2 * style.show_shapes + style.show_params)
    bg, fg = _title_colors(node, style, total)
    title = f"<b>{html(node.name)}</b> ({html(cls)})" if style.show_layer_names else f"<b>{html(cls)}</b>"
    head = f'<td colspan="{colspan}" bgcolor="{bg}"><font point-size="16" color="{fg}">{title}</font></td>'
    rows = [f"<tr>{head}</tr>"]
    if style.show_layer_activations and node.activation is not None:
        rows.append(
            f'<tr><td bgcolor="white" colspan="{colspan}"><font point-size="14">'
            f"Activation: <b>{html(node.activation)}</b></font></td></tr>"
        )
    cols = []
    if style.show_shapes:
        if node.has_input:
            cols.append(_cell("Input shape: ", shape_label(node.input_shape)))
        cols.append(_cell("Output shape: ", shape_label(node.output_shape)))
    if style.show_dtype:
        cols.append(_cell("Output dtype: ", _dtype_label(node)))
    if style.show_trainable and node.trainable is not None:
        cols.append(
            _cell("", "Trainable", "forestgreen", "white")
            if node.trainable
            else _cell("", "Non-trainable", "firebrick", "white")
        )
    if style.show_params:
        share = f" ({100 * node.params / total:.1f}%)" if total and style.color_by is ColorBy.PARAMS else ""
        cols.append(_cell("Params: ", f"{node.params:,}{share}"))
    if cols:
        rows.append(f"<tr>{''.join(cols)}</tr>")
    return '<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">' + "".join(rows) + "</table>>"


def render_dot(graph: Graph, style: DotStyle) -> str:
    """The whole DOT document: graph attributes as model_to_dot sets them, clusters nested."""
    large = len(graph.nodes) > LARGE_GRAPH
    lines = ["digraph G {", f"rankdir={style.rankdir.value};"]
    if large:  # fewer network-simplex iterations: half the layout time, barely a different picture
        lines.append("nslimit=1; nslimit1=1;")
    else:  # edge concentration is quadratic in practice
        lines.append("concentrate=true;")
    if style.dpi is not None:
        lines.append(f"dpi={int(style.dpi)};")
    if style.size:
        lines.append(f'size="{style.size}";')
    lines.append(f"splines={style.effective_splines(len(graph.nodes)).value};")
    lines.append("node [shape=record];")
    if graph.notes:
        note = html("; ".join(graph.notes))
        lines.append(f'labelloc=t; fontname=Helvetica; label=<<font point-size="16">{note}</font>>;')
    by_cluster: dict[str | None, list[Node]] = {}
    for node in graph.nodes:
        by_cluster.setdefault(node.cluster, []).append(node)
    children: dict[str | None, list[Cluster]] = {}
    for cluster in graph.clusters:
        children.setdefault(cluster.parent, []).append(cluster)

    def emit(cluster: str | None, indent: str) -> None:
        for node in by_cluster.get(cluster, []):
            label = node_label(node, style, graph.total_params)
            lines.append(f"{indent}{node.id} [label={label}, fontname=Helvetica, border=0, margin=0];")
        for sub in children.get(cluster, []):
            title = html(sub.path[-1])
            if not sub.class_name.endswith(("Functional", "Sequential", "Model")):
                title += f" ({html(display_class(sub.class_name))})"
            lines.append(f"{indent}subgraph {sub.id} {{")
            lines.append(f"{indent}style=dashed; labeljust=l; label=<{title}>;")
            emit(sub.id, indent)
            lines.append(f"{indent}}}")

    emit(None, "")
    lines.extend(f"{edge.src} -> {edge.dst} [penwidth=2];" for edge in graph.edges)
    lines.append("}")
    return "\n".join(lines) + "\n"
