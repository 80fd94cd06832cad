"""Check rules with stable ids, and the registry ``kinspect check`` runs.

Families, one module each: KIN1xx security (:mod:`.security`), KIN2xx numerics
(:mod:`.numerics`), KIN3xx budgets (:mod:`.budgets`), KIN4xx consistency
(:mod:`.consistency`). A rule is a pure function of a :class:`Subject` (the ModelInfo,
the raw config and archive listing, and other analyzers' findings) to findings.
KIN000 is not a rule: it reports a file that could not be read.
"""

from __future__ import annotations

from collections.abc import Iterable

from kinspect.checks import budgets, consistency, numerics, security
from kinspect.checks.base import Budgets, Finding, Rule, Severity, Subject

__all__ = ["RULES", "UNREADABLE", "Budgets", "Finding", "Rule", "Severity", "Subject", "resolve"]

UNREADABLE = "KIN000"
RULES: dict[str, Rule] = {
    r.id: r for family in (security, numerics, budgets, consistency) for r in family.RULES
}


def resolve(select: Iterable[str] | None, ignore: Iterable[str] = ()) -> frozenset[str]:
    """Rule ids enabled by ``select`` and ``ignore`` (ids or prefixes such as ``KIN1``).

    Without ``select``, every rule marked ``default`` runs. Unknown ids raise ValueError.
    """

    def match(patterns: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for p in patterns:
            hit = {rid for rid in RULES if rid.startswith(p.strip().upper())}
            if not hit or not p.strip():
                raise ValueError(f"unknown rule id or prefix {p!r}")
            out |= hit
        return out

    chosen = match(select) if select is not None else {rid for rid, r in RULES.items() if r.default}
    return frozenset(chosen - match(ignore))
