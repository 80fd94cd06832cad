"""Budget rules KIN3xx: limits a project sets on the models it accepts (off until set)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from typing import Any

from kinspect.analyzers.cost import analyze as analyze_cost
from kinspect.catalog.architecture import dtype_policy_name
from kinspect.checks.base import Family, Subject
from kinspect.findings import Finding, Severity

RULES = Family()  # the file's size first, then what the model holds


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def inputs(config: Mapping[str, Any]) -> list[tuple[str, tuple[int | None, ...] | None, str | None]]:
    """(name, batch shape, dtype) of each model input, from the raw top-level config."""
    layers = config.get("layers")
    found: list[tuple[str, tuple[int | None, ...] | None, str | None]] = []
    for entry in layers if isinstance(layers, list) else []:
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


def _size(path: str) -> int | None:
    return os.path.getsize(path) if os.path.isfile(path) else None


@RULES.rule(
    "KIN302",
    "max-file-size",
    Severity.ERROR,
    "file larger than --max-file-size",
    "Keeps large binaries out of the repository and the release.",
)
def max_file_size(subject: Subject) -> Iterator[Finding]:
    """KIN302: the file is larger than ``max_file_size`` (checked even when the loader refused it)."""
    limit = subject.budgets.max_file_size
    if limit is not None:
        # A directory or a checkpoint prefix: the bytes of its files, as the loader counted them.
        size = subject.info.file_size if subject.info is not None else _size(subject.path)
        if size is not None and size > limit:
            yield Finding("KIN302", Severity.ERROR, f"file is {size:,} bytes, over the budget of {limit:,}")


@RULES.rule(
    "KIN301",
    "max-params",
    Severity.ERROR,
    "more parameters than --max-params",
    "Deployment targets have memory limits; a model that grew past its budget is caught before it ships.",
)
def max_params(subject: Subject) -> Iterator[Finding]:
    """KIN301: more parameters than ``max_params``."""
    limit, info = subject.budgets.max_params, subject.info
    if limit is None or info is None:
        return
    if not info.params_known and info.has_architecture:  # a gate fails closed on what it cannot count
        why = info.weights_unread or "the file holds no weights"
        yield Finding(
            "KIN301",
            Severity.ERROR,
            f"parameter count unknown ({why}): the budget of {limit:,} cannot be checked",
        )
    elif info.params > limit:
        yield Finding("KIN301", Severity.ERROR, f"{info.params:,} parameters, over the budget of {limit:,}")


@RULES.rule(
    "KIN303",
    "max-layers",
    Severity.ERROR,
    "more layers than --max-layers (nested layers included)",
    "Depth budgets for latency-bound targets.",
)
def max_layers(subject: Subject) -> Iterator[Finding]:
    """KIN303: more layers than ``max_layers``, nested layers included."""
    limit, info = subject.budgets.max_layers, subject.info
    if limit is not None and info is not None:
        count = sum(1 for _ in info.walk())
        if count > limit:
            yield Finding("KIN303", Severity.ERROR, f"{count:,} layers, over the budget of {limit:,}")


@RULES.rule(
    "KIN304",
    "layer-class",
    Severity.ERROR,
    "layer class forbidden or not in the allowed list",
    "Runtimes (TFLite, TF.js, accelerators) support a subset of layers; a project can also ban risky "
    "classes such as Lambda.",
)
def layer_class(subject: Subject) -> Iterator[Finding]:
    """KIN304: a layer (at any depth) whose class is forbidden or not in the allowed list."""
    b, info = subject.budgets, subject.info
    if info is None:
        return
    for _, layer in info.walk():
        if layer.is_model or layer.is_operation:
            continue
        if layer.class_name in b.forbidden_layers or (
            b.allowed_layers is not None and layer.class_name not in b.allowed_layers
        ):
            yield Finding(
                "KIN304", Severity.ERROR, f"layer class {layer.class_name} is not allowed", layer.name
            )


@RULES.rule(
    "KIN305",
    "input-shape",
    Severity.ERROR,
    "model inputs differ from --input-shape",
    "A serving contract: the model must accept the shapes the service sends (None matches any).",
)
def input_shape(subject: Subject) -> Iterator[Finding]:
    """KIN305: the model's inputs differ from ``input_shapes`` (None matches any size)."""
    wanted, info = subject.budgets.input_shapes, subject.info
    if not wanted or info is None or not info.has_architecture:
        return
    got = [s for _, s, _ in inputs(info.config)]
    if len(got) != len(wanted) or any(
        g is None or len(g) != len(w) or any(x is not None and x != y for x, y in zip(w, g, strict=True))
        for w, g in zip(wanted, got, strict=False)
    ):
        want = ", ".join(_shape(s) for s in wanted)
        yield Finding(
            "KIN305",
            Severity.ERROR,
            f"inputs {', '.join(_shape(s) for s in got) or 'unknown'}, required {want}",
        )


@RULES.rule(
    "KIN306",
    "input-dtype",
    Severity.ERROR,
    "an input's dtype differs from --input-dtype",
    "A serving contract on input types.",
)
def input_dtype(subject: Subject) -> Iterator[Finding]:
    """KIN306: an input whose dtype differs from ``input_dtype``."""
    wanted, info = subject.budgets.input_dtype, subject.info
    if not wanted or info is None or not info.has_architecture:
        return
    for name, _, dtype in inputs(info.config):
        if dtype != wanted:
            yield Finding("KIN306", Severity.ERROR, f"input dtype {dtype}, required {wanted}", name)


@RULES.rule(
    "KIN307",
    "min-keras-version",
    Severity.ERROR,
    "saved by a Keras older than --min-keras-version",
    "Old Keras versions lack safe mode and the 2025 security fixes; files they wrote may not load in "
    "the runtime.",
)
def min_keras_version(subject: Subject) -> Iterator[Finding]:
    """KIN307: saved by a Keras older than ``min_keras_version``, or one the file does not record."""
    wanted, info = subject.budgets.min_keras_version, subject.info
    if wanted is None or info is None:
        return
    if info.keras_version is None:
        yield Finding(
            "KIN307", Severity.ERROR, f"the file does not record its Keras version (required >= {wanted})"
        )
    elif _version(info.keras_version) < _version(wanted):
        yield Finding("KIN307", Severity.ERROR, f"saved by Keras {info.keras_version}, older than {wanted}")


@RULES.rule(
    "KIN308",
    "max-macs",
    Severity.ERROR,
    "more multiply-accumulates per sample than --max-macs",
    "An inference-cost budget: a change that doubles the compute of the model is caught in review.",
)
def max_macs(subject: Subject) -> Iterator[Finding]:
    """KIN308: more MACs per sample than ``max_macs``; fails closed when layers' costs are unknown
    and the known ones stay under the budget."""
    limit, info = subject.budgets.max_macs, subject.info
    if limit is None or info is None or not info.has_architecture:
        return
    report = analyze_cost(info)
    if report.total_macs > limit:
        more = f" (and {len(report.unknown)} layers of unknown cost)" if report.unknown else ""
        message = f"{report.total_macs:,} MACs per sample{more}, over the budget of {limit:,}"
        yield Finding("KIN308", Severity.ERROR, message)
    elif report.unknown:
        yield Finding(
            "KIN308",
            Severity.ERROR,
            f"MACs unknown for {len(report.unknown)} layer(s) ({', '.join(report.unknown[:3])}): "
            f"the budget of {limit:,} cannot be checked",
        )


@RULES.rule(
    "KIN309",
    "max-activation-memory",
    Severity.ERROR,
    "peak activation memory per sample above --max-activation-memory",
    "A memory budget for inference: the largest set of activations alive at once, per sample.",
)
def max_activation_memory(subject: Subject) -> Iterator[Finding]:
    """KIN309: the peak activation memory per sample (summary --cost's liveness walk) is above
    ``max_activation_memory``; fails closed when it is unknown."""
    limit, info = subject.budgets.max_activation_memory, subject.info
    if limit is None or info is None or not info.has_architecture:
        return
    peak = analyze_cost(info).memory.peak_activations
    if peak is None:
        message = (
            f"activation memory unknown (unknown shapes): the budget of {limit:,} bytes cannot be checked"
        )
        yield Finding("KIN309", Severity.ERROR, message)
    elif peak > limit:
        message = f"peak activations {peak:,} bytes per sample, over the budget of {limit:,}"
        yield Finding("KIN309", Severity.ERROR, message)
