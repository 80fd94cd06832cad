"""Check rules with stable ids, and the registry ``kinspect check`` runs.

Families, one module each: KIN1xx security (:mod:`.security`), KIN2xx numerics
(:mod:`.numerics`, the weights diagnostics of :mod:`kinspect.analyzers.diagnostics`), KIN3xx
budgets (:mod:`.budgets`), KIN4xx consistency (:mod:`.consistency`), KIN5xx the training
run's logs beside the file (:mod:`.training`, opt-in). A rule is a pure function
of a :class:`Subject` (the ModelInfo, the raw config and archive listing, and other analyzers'
findings) to findings, declared with its description in its family module. KIN000 is not a
rule: it reports a file that could not be read.
"""

from __future__ import annotations

from collections.abc import Iterable

from kinspect.checks import budgets, consistency, numerics, security, training
from kinspect.checks.base import Budgets, Check, Subject

__all__ = ["FAMILIES", "ORDER", "RULES", "UNREADABLE", "Budgets", "Check", "Subject", "resolve"]

UNREADABLE = "KIN000"
FAMILIES = (security, numerics, budgets, consistency, training)
# Every rule by id (SARIF's rule index follows this order) ...
RULES: dict[str, Check] = dict(sorted((r.id, r) for family in FAMILIES for r in family.RULES))
# ... and the order they run in, which is the order of their findings: as each family declares them.
ORDER: tuple[str, ...] = tuple(r.id for family in FAMILIES for r in family.RULES)


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
