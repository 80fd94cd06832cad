"""Numerics rules KIN2xx: the weights diagnostics of :mod:`kinspect.analyzers.diagnostics`.

Reading weight values costs I/O proportional to the file, so the runner computes these
only when a KIN2xx rule is selected; the rules here just pass the diagnostics on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kinspect.checks.base import Finding, Rule, Severity, Subject
from kinspect.model import ModelInfo


def diagnostics(info: ModelInfo) -> tuple[Any, ...]:
    """The weights diagnostics of ``info`` (values read in the isolated reader child)."""
    from kinspect.analyzers import weights
    from kinspect.loaders.arrays import Request, read_stats

    entries = weights.plan(info)
    if not entries:
        return ()
    requests = [Request(*w) for w in weights.wanted(info, entries)]
    stats = read_stats(info, requests, total_bytes=weights.total_bytes(entries))
    return tuple(weights.report(info, entries, stats).findings)


def numerics_rule(subject: Subject) -> Iterator[Finding]:
    """KIN201-KIN207, as the diagnostics found them."""
    for d in subject.numerics:
        where = f" ({d.tensor})" if getattr(d, "tensor", None) else ""
        yield Finding(d.rule_id, Severity(d.severity.value), f"{d.message}{where}", d.layer)


RULES = (
    Rule(
        "KIN201",
        "nan-inf",
        Severity.ERROR,
        "NaN or Inf values in a tensor",
        "A model with non-finite weights outputs NaN: usually a diverged training run.",
        numerics_rule,
    ),
    Rule(
        "KIN202",
        "dead-units",
        Severity.WARNING,
        "units whose incoming weights are all zero",
        "Dead units waste capacity and often mean a ReLU died or pruning went wrong.",
    ),
    Rule(
        "KIN203",
        "batchnorm-variance",
        Severity.ERROR,
        "collapsed or negative BatchNorm variance",
        "A zero or negative moving variance divides by ~epsilon at inference.",
    ),
    Rule(
        "KIN204",
        "untrained",
        Severity.WARNING,
        "layers still at their initial values",
        "A layer that never trained while the rest did points at a frozen or disconnected branch.",
    ),
    Rule(
        "KIN205",
        "weight-scale",
        Severity.WARNING,
        "exploding or vanishing weights",
        "A kernel 100x off the model's typical scale is a sign of unstable training.",
    ),
    Rule(
        "KIN206",
        "float16-overflow",
        Severity.WARNING,
        "values that overflow float16",
        "Converting to float16 (mixed precision, TFLite) turns them into Inf.",
    ),
    Rule(
        "KIN207",
        "optimizer-state",
        Severity.INFO,
        "the optimizer's step count and learning rate",
        "Information only (not run unless selected).",
        default=False,
    ),
)
