"""Formatting shared by renderers: shapes, sizes, class names, and the summary's cells."""

from __future__ import annotations

from typing import Any

from kinspect.analyzers.summary import Totals
from kinspect.model import LayerInfo, ShapeTree


def shape_text(shape: ShapeTree) -> str:
    """``(None, 26, 26, 32)``; several outputs as Keras prints them: ``[(None, 3), (None, 4)]``."""
    if shape is None:
        return "?"
    if isinstance(shape, tuple):
        return f"({', '.join(str(d) for d in shape)})"
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {shape_text(v)}" for k, v in shape.items()) + "}"
    return "[" + ", ".join(shape_text(s) for s in shape) + "]"


def shape_json(shape: ShapeTree) -> Any:
    """JSON form: a list of dims, a list of those, or null."""
    if shape is None:
        return None
    if isinstance(shape, tuple):
        return list(shape)
    if isinstance(shape, dict):
        return {k: shape_json(v) for k, v in shape.items()}
    return [shape_json(s) for s in shape]


def readable_bytes(size: float) -> str:
    """keras/src/utils/summary_utils.py ``readable_memory_size``."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def display_class(class_name: str) -> str:
    """Keras 3 legacy .h5 files store registered names (``package>Class``); show the class."""
    return class_name.rsplit(">", 1)[-1]


def summary_header(sequential_like: bool, show_trainable: bool) -> list[str]:
    """The columns of Keras's summary (keras/src/utils/summary_utils.py ``print_summary``)."""
    header = ["Layer (type)", "Output Shape", "Param #"]
    if not sequential_like:
        header.append("Connected to")
    if show_trainable:
        header.append("Trainable")
    return header


def layer_cells(
    layer: LayerInfo, sequential_like: bool, show_trainable: bool, known_params: bool
) -> list[str]:
    """One summary row's cells, as Keras prints them (the name without its nesting indent)."""
    cells = [
        f"{layer.name} ({display_class(layer.class_name)})",
        shape_text(layer.output_shape),
        f"{layer.params:,}" if known_params else "?",
    ]
    if not sequential_like:
        cells.append(", ".join(str(r) for r in layer.connections) or "-")
    if show_trainable:
        has_weights = any(True for _ in layer.all_weights())
        cells.append(("Y" if layer.trainable else "N") if has_weights else "-")
    return cells


UNCERTAIN = "custom layers' weights"  # why a split is a range (README "What is exact")


def split_text(t: Totals) -> tuple[str, str]:
    """The trainable and non-trainable counts as Keras prints them (``5,162 (20.16 KB)``), or,
    when the file cannot tell the split, as ranges: ``39–42 (156.00 B–168.00 B; uncertain: …)``."""
    if not t.uncertain:
        return (
            f"{t.trainable:,} ({readable_bytes(t.trainable_bytes)})",
            f"{t.non_trainable:,} ({readable_bytes(t.non_trainable_bytes)})",
        )

    def span(low: int, low_bytes: float) -> str:
        high, high_bytes = low + t.uncertain, low_bytes + t.uncertain_bytes
        return (
            f"{low:,}–{high:,} ({readable_bytes(low_bytes)}–{readable_bytes(high_bytes)}; "
            f"uncertain: {UNCERTAIN})"
        )

    return span(t.trainable_low, t.trainable_low_bytes), span(t.non_trainable_low, t.non_trainable_low_bytes)


def totals_lines(totals: Totals, known: bool = True) -> list[tuple[str, str]]:
    """``(label, value)`` of the parameter totals under the table; optimizer ones when stored.
    When the file's weights were not read (``known`` false) the totals are unknown, never 0."""
    if not known:
        return [
            (f"{what} params", "unknown (no weights read)")
            for what in ("Total", "Trainable", "Non-trainable")
        ]
    t = totals
    trainable, non_trainable = split_text(t)
    lines = [
        ("Total params", f"{t.total:,} ({readable_bytes(t.total_bytes)})"),
        ("Trainable params", trainable),
        ("Non-trainable params", non_trainable),
    ]
    if t.optimizer:
        lines.append(("Optimizer params", f"{t.optimizer:,} ({readable_bytes(t.optimizer_bytes)})"))
    return lines
