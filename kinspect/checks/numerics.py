"""Numerics rules KIN2xx: the weights diagnostics of :mod:`kinspect.analyzers.diagnostics`.

Reading weight values costs I/O proportional to the file, so the runner computes these
only when a KIN2xx rule is selected. The rules are described, and found, in the diagnostics
module; each rule here passes that rule's findings on as they are.
"""

from __future__ import annotations

from collections.abc import Iterator

from kinspect.analyzers.diagnostics import RULES as DIAGNOSTICS
from kinspect.checks.base import Family, RuleFn, Subject
from kinspect.findings import Finding
from kinspect.model import ModelInfo


def diagnostics(info: ModelInfo) -> tuple[Finding, ...]:
    """The weights diagnostics of ``info`` (values read in the isolated reader child)."""
    from kinspect.analyzers.weights import measure
    from kinspect.loaders.readers import in_child

    return tuple(measure(info, in_child(info))().findings)


def _passed_on(rule_id: str) -> RuleFn:
    def check(subject: Subject) -> Iterator[Finding]:
        """The weights diagnostics' findings of this rule, as they are."""
        return (f for f in subject.numerics if f.rule == rule_id)

    return check


RULES = Family()
for _rule in DIAGNOSTICS:
    RULES.add(_rule, _passed_on(_rule.id))
