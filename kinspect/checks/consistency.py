"""Consistency rules KIN4xx: do the stored weights fit the architecture?"""

from __future__ import annotations

from collections.abc import Iterator

from kinspect.checks.base import Finding, Rule, Severity, Subject


def consistency_rule(subject: Subject) -> Iterator[Finding]:
    """KIN401-KIN403 from the loader's weight issues (or its refusal)."""
    rule = "KIN403" if subject.arch else "KIN401"
    against = f"the architecture of {subject.arch}" if subject.arch else "the model's own config"
    if subject.mismatch:
        reason = subject.refusal.split(": ", 1)[-1] if subject.refusal else ""
        yield Finding(rule, Severity.ERROR, f"weights do not fit {against}: {reason}")
        return
    info = subject.info
    if info is None:
        return
    for issue in info.weight_issues:
        text = str(issue).split(": ", 1)[-1]
        yield Finding(rule, Severity.ERROR, f"{text} ({against})", issue.layer)
    if info.unmatched_weights:
        first = info.unmatched_weights[0]
        more = f" and {len(info.unmatched_weights) - 1} more" if len(info.unmatched_weights) > 1 else ""
        yield Finding(
            "KIN402",
            Severity.WARNING,
            f"stored tensor {first.path} {first.shape}{more} explained by no layer of the config",
        )


RULES = (
    Rule(
        "KIN401",
        "weights-config-mismatch",
        Severity.ERROR,
        "weights missing, unexpected or misshapen",
        "A model whose stored weights contradict its config fails to load in Keras, or loads other "
        "weights than the ones intended.",
        consistency_rule,
    ),
    Rule(
        "KIN402",
        "unexplained-weights",
        Severity.WARNING,
        "stored tensors that no layer explains",
        "Extra tensors are dead weight at best, and a place to hide data at worst.",
    ),
    Rule(
        "KIN403",
        "arch-mismatch",
        Severity.ERROR,
        "weights-only file does not match --arch",
        "A checkpoint paired with the wrong architecture loads partially or not at all.",
    ),
)
