"""The file's metadata lines shown around the summary table, and the notes."""

from __future__ import annotations

from kinspect.model import ModelInfo
from kinspect.render.formatting import readable_bytes


def metadata_lines(model: ModelInfo) -> list[str]:
    first = [f"File: {model.path}", f"format {model.format.value}", readable_bytes(model.file_size)]
    if model.keras_version:
        first.append(f"Keras {model.keras_version}")
    if model.backend:
        first.append(f"backend {model.backend}")
    if model.date_saved:
        first.append(f"saved {model.date_saved}")
    if not model.has_architecture:
        return [" · ".join(first), "Model: unknown (weights only, no architecture in the file)"]
    second = [f"Model: {model.class_name} {model.name!r}"]
    if model.dtype:
        second.append(f"dtype policy {model.dtype}")
    if model.compile is not None:
        c = model.compile
        if c.optimizer:
            lr = f" (learning rate {c.learning_rate:g})" if c.learning_rate is not None else ""
            second.append(f"optimizer {c.optimizer}{lr}")
        if c.loss is not None:
            second.append(f"loss {c.loss}")
        if c.metrics:
            second.append(f"metrics {c.metrics}")
    return [" · ".join(first), " · ".join(second)]


def note_lines(model: ModelInfo) -> list[str]:
    lines = [f"Note: {n}" for n in model.notes]
    for depth, layer in model.walk():
        del depth
        lines.extend(f"Note: {layer.name} ({layer.class_name}): {n}" for n in layer.notes)
    return lines
