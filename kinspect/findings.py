"""One vocabulary for problems: severities, findings, and the description of each rule.

The weights diagnostics (:mod:`kinspect.analyzers.diagnostics`) and the check rules
(:mod:`kinspect.checks`) report the same :class:`Finding`, and every renderer shows that one type.
A rule is described once, by a :class:`Rule` declared beside the function that finds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    """How bad a finding is, from least to most; ``--fail-on`` compares their ranks."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class Finding:
    """One problem: which rule, how bad, what was seen, where (a layer path from the top model
    and a tensor of it, when the rule knows), and what to do about it (when the rule can say)."""

    rule: str
    severity: Severity
    message: str
    layer: str | None = None
    tensor: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class Rule:
    """A rule's description. ``id`` is stable (``KIN201``), ``name`` its short spelling
    (``nan-inf``), ``severity`` the default of its findings, ``summary`` one line on what it finds
    (the README table, SARIF's short description), ``rationale`` why that matters. ``title``, when
    set, heads each of its findings' messages (``NaN or Inf values: …``); ``default`` rules run
    when no ``--select`` names them."""

    id: str
    name: str
    severity: Severity
    summary: str
    rationale: str
    title: str | None = None
    default: bool = True
