"""Keras 3 weights layout (``layers/<path>/vars/<i>``), with or without an architecture."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from kinspect.catalog.registry import builtin_classes
from kinspect.catalog.weightnames import is_trainable_name, keras3_name, to_snake_case
from kinspect.loaders.assemble import assign_keras3
from kinspect.loaders.common import Arch, build_model, weights_only_model
from kinspect.loaders.snapshot import Dataset
from kinspect.model import Format, ModelInfo, WeightInfo


@functools.cache
def _known_classes() -> dict[str, str]:
    """snake_case path segment → built-in class name (Keras names containers this way)."""
    return {to_snake_case(c): c for c in builtin_classes()}


def _class_for_path(segment: str) -> str | None:
    """``batch_normalization_1`` → ``BatchNormalization``, for built-in classes only."""
    known = _known_classes()
    head, _, tail = segment.rpartition("_")
    if segment in known:
        return known[segment]
    if tail.isdigit() and head in known:
        return known[head]
    return None


def keras3_weights_only(
    path: str,
    fmt: Format,
    datasets: Mapping[str, Dataset],
    arch: Arch | None,
) -> ModelInfo:
    """With ``arch``: a full model; without: layers as the weights reveal them."""
    if arch is not None:
        spec, keras2, meta = arch
        return build_model(path, fmt, spec, keras2, assign_keras3(spec, datasets), **meta)
    groups: dict[str, list[tuple[str, Dataset]]] = {}
    for key, ds in datasets.items():
        parts = key.split("/")
        if len(parts) >= 3 and parts[0] == "layers":
            groups.setdefault(parts[1], []).append(("/".join(parts[2:]), ds))
    layers = []
    for segment, entries in groups.items():
        cls = _class_for_path(segment)
        weights = []
        for rel, ds in entries:
            name = keras3_name(cls, {}, rel) if cls else rel
            weights.append(WeightInfo(name, ds.path, ds.shape, ds.dtype, is_trainable_name(cls or "", name)))
        layers.append((segment, cls, weights))
    return weights_only_model(path, fmt, layers)
