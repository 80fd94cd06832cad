"""The vocabulary of checks: severities, findings, rules, and what a rule looks at."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kinspect.loaders.raw import RawFile
    from kinspect.model import ModelInfo


class Severity(str, Enum):
    """How bad a finding is; ``--fail-on`` compares against this order."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return ("info", "warning", "error").index(self.value)


@dataclass(frozen=True)
class Finding:
    """One problem in one file: which rule, how bad, where (a layer path or None), and what."""

    rule: str
    severity: Severity
    message: str
    layer: str | None = None


@dataclass(frozen=True)
class Budgets:
    """Limits a model must respect (None: not checked)."""

    max_params: int | None = None
    max_file_size: int | None = None
    max_layers: int | None = None
    allowed_layers: frozenset[str] | None = None
    forbidden_layers: frozenset[str] = frozenset()
    input_shapes: tuple[tuple[int | None, ...], ...] = ()
    input_dtype: str | None = None
    min_keras_version: str | None = None


@dataclass(frozen=True)
class Subject:
    """Everything a rule may look at for one file.

    ``info`` is None when the loader refused the file; ``raw`` is the config and archive
    listing read on their own (so security rules work on files the loader refuses);
    ``refusal`` is the loader's one-line reason; ``numerics`` the weights diagnostics.
    """

    path: str
    info: ModelInfo | None
    raw: RawFile
    budgets: Budgets = field(default_factory=Budgets)
    refusal: str | None = None
    arch: str | None = None
    numerics: tuple[Any, ...] = ()  # kinspect.analyzers.diagnostics.Finding
    mismatch: bool = False  # the loader refused the file because its weights contradict the config


RuleFn = Callable[[Subject], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A check with a stable id. ``check`` yields the rule's findings for one file; one
    function may serve several ids of a family (it yields findings tagged with each)."""

    id: str
    name: str
    severity: Severity
    summary: str
    rationale: str
    check: RuleFn | None = None  # None: produced by another rule of the family
    default: bool = True  # run when no --select names it
