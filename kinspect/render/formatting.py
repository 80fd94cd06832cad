"""Formatting shared by renderers: shapes, sizes, class names."""

from __future__ import annotations

from typing import Any

from kinspect.model import ShapeTree


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
