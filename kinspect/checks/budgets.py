"""Budget rules KIN3xx: limits a project sets on the models it accepts (off until set)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from typing import Any

from kinspect.catalog.architecture import dtype_policy_name
from kinspect.checks.base import Finding, Rule, Severity, Subject


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def inputs(config: Mapping[str, Any]) -> list[tuple[str, tuple[int | None, ...] | None, str | None]]:
    """(name, batch shape, dtype) of each model input, from the raw top-level config."""
    layers = config.get("layers") if isinstance(config.get("layers"), list) else []
    found = []
    for entry in layers:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("config"), Mapping):
            continue
        inner = entry["config"]
        shape = inner.get("batch_shape", inner.get("batch_input_shape"))
        if entry.get("class_name") == "InputLayer" or (
            not found and shape is not None and "input_layers" not in config
        ):
            ok = isinstance(shape, list) and all(d is None or isinstance(d, int) for d in shape)
            found.append(
                (str(inner.get("name")), tuple(shape) if ok else None, dtype_policy_name(inner.get("dtype")))
            )
    return found


def _shape(shape: tuple[int | None, ...] | None) -> str:
    return "?" if shape is None else "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def budget_rule(subject: Subject) -> Iterator[Finding]:
    """KIN301-KIN307 from ``subject.budgets``."""
    b, info = subject.budgets, subject.info
    if b.max_file_size is not None:
        size = os.path.getsize(subject.path)
        if size > b.max_file_size:
            yield Finding(
                "KIN302", Severity.ERROR, f"file is {size:,} bytes, over the budget of {b.max_file_size:,}"
            )
    if info is None:
        return
    if b.max_params is not None and info.params > b.max_params:
        yield Finding(
            "KIN301", Severity.ERROR, f"{info.params:,} parameters, over the budget of {b.max_params:,}"
        )
    walked = list(info.walk())
    if b.max_layers is not None and len(walked) > b.max_layers:
        yield Finding(
            "KIN303", Severity.ERROR, f"{len(walked):,} layers, over the budget of {b.max_layers:,}"
        )
    for _, layer in walked:
        if layer.is_model or layer.is_operation:
            continue
        if layer.class_name in b.forbidden_layers or (
            b.allowed_layers is not None and layer.class_name not in b.allowed_layers
        ):
            yield Finding(
                "KIN304", Severity.ERROR, f"layer class {layer.class_name} is not allowed", layer.name
            )
    if info.has_architecture and (b.input_shapes or b.input_dtype):
        found = inputs(info.config)
        if b.input_shapes:
            got = [s for _, s, _ in found]
            if len(got) != len(b.input_shapes) or any(
                g is None
                or len(g) != len(w)
                or any(x is not None and x != y for x, y in zip(w, g, strict=True))
                for w, g in zip(b.input_shapes, got, strict=False)
            ):
                want = ", ".join(_shape(s) for s in b.input_shapes)
                yield Finding(
                    "KIN305",
                    Severity.ERROR,
                    f"inputs {', '.join(_shape(s) for s in got) or 'unknown'}, required {want}",
                )
        if b.input_dtype:
            for name, _, dtype in found:
                if dtype != b.input_dtype:
                    yield Finding(
                        "KIN306", Severity.ERROR, f"input dtype {dtype}, required {b.input_dtype}", name
                    )
    if b.min_keras_version is not None:
        if info.keras_version is None:
            yield Finding(
                "KIN307",
                Severity.ERROR,
                f"the file does not record its Keras version (required >= {b.min_keras_version})",
            )
        elif _version(info.keras_version) < _version(b.min_keras_version):
            yield Finding(
                "KIN307",
                Severity.ERROR,
                f"saved by Keras {info.keras_version}, older than {b.min_keras_version}",
            )


RULES = (
    Rule(
        "KIN301",
        "max-params",
        Severity.ERROR,
        "more parameters than --max-params",
        "Deployment targets have memory limits; a model that grew past its budget is caught before it ships.",
        budget_rule,
    ),
    Rule(
        "KIN302",
        "max-file-size",
        Severity.ERROR,
        "file larger than --max-file-size",
        "Keeps large binaries out of the repository and the release.",
    ),
    Rule(
        "KIN303",
        "max-layers",
        Severity.ERROR,
        "more layers than --max-layers (nested layers included)",
        "Depth budgets for latency-bound targets.",
    ),
    Rule(
        "KIN304",
        "layer-class",
        Severity.ERROR,
        "layer class forbidden or not in the allowed list",
        "Runtimes (TFLite, TF.js, accelerators) support a subset of layers; a project can also ban risky "
        "classes such as Lambda.",
    ),
    Rule(
        "KIN305",
        "input-shape",
        Severity.ERROR,
        "model inputs differ from --input-shape",
        "A serving contract: the model must accept the shapes the service sends (None matches any).",
    ),
    Rule(
        "KIN306",
        "input-dtype",
        Severity.ERROR,
        "an input's dtype differs from --input-dtype",
        "A serving contract on input types.",
    ),
    Rule(
        "KIN307",
        "min-keras-version",
        Severity.ERROR,
        "saved by a Keras older than --min-keras-version",
        "Old Keras versions lack safe mode and the 2025 security fixes; files they wrote may not load in "
        "the runtime.",
    ),
)
