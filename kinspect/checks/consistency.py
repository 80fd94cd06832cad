"""Consistency rules KIN4xx: do the stored weights fit the architecture?"""

from __future__ import annotations

from collections.abc import Iterator

from kinspect.checks.base import Family, Subject
from kinspect.findings import Finding, Severity

RULES = Family()  # the weights against the config (KIN401, or KIN403 with --arch), then extra tensors


def _contradictions(subject: Subject) -> Iterator[tuple[str, str | None]]:
    """(message, layer) for each way the stored weights contradict the architecture they were
    loaded with (the loader's refusal, or its weight issues)."""
    against = f"the architecture of {subject.arch}" if subject.arch else "the model's own config"
    if subject.mismatch:
        reason = subject.refusal.split(": ", 1)[-1] if subject.refusal else ""
        yield f"weights do not fit {against}: {reason}", None
        return
    for issue in subject.info.weight_issues if subject.info is not None else ():
        text = str(issue).split(": ", 1)[-1]
        yield f"{text} ({against})", issue.layer


@RULES.rule(
    "KIN401",
    "weights-config-mismatch",
    Severity.ERROR,
    "weights missing, unexpected or misshapen",
    "A model whose stored weights contradict its config fails to load in Keras, or loads other "
    "weights than the ones intended.",
)
def weights_config_mismatch(subject: Subject) -> Iterator[Finding]:
    """KIN401: stored weights that contradict the model's own config."""
    if not subject.arch:
        for message, layer in _contradictions(subject):
            yield Finding("KIN401", Severity.ERROR, message, layer)


@RULES.rule(
    "KIN403",
    "arch-mismatch",
    Severity.ERROR,
    "weights-only file does not match --arch",
    "A checkpoint paired with the wrong architecture loads partially or not at all.",
)
def arch_mismatch(subject: Subject) -> Iterator[Finding]:
    """KIN403: a weights-only file whose weights contradict the architecture given with --arch."""
    if subject.arch:
        for message, layer in _contradictions(subject):
            yield Finding("KIN403", Severity.ERROR, message, layer)


@RULES.rule(
    "KIN402",
    "unexplained-weights",
    Severity.WARNING,
    "stored tensors that no layer explains",
    "Extra tensors are dead weight at best, and a place to hide data at worst.",
)
def unexplained_weights(subject: Subject) -> Iterator[Finding]:
    """KIN402: stored tensors that no layer of the config explains."""
    info = subject.info
    if info is not None and info.unmatched_weights:
        first = info.unmatched_weights[0]
        more = f" and {len(info.unmatched_weights) - 1} more" if len(info.unmatched_weights) > 1 else ""
        yield Finding(
            "KIN402",
            Severity.WARNING,
            f"stored tensor {first.path} {first.shape}{more} explained by no layer of the config",
        )
