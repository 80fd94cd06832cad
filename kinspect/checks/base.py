"""What a check rule looks at (:class:`Subject`), and how a family module declares its rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kinspect.findings import Finding, Rule, Severity

if TYPE_CHECKING:
    from kinspect.loaders.raw import RawFile
    from kinspect.model import ModelInfo


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
    max_macs: int | None = None  # per sample
    max_activation_memory: int | None = None  # bytes of the peak activations, per sample


@dataclass(frozen=True)
class Subject:
    """Everything a rule may look at for one file.

    ``info`` is None when the loader refused the file; ``raw`` is the config and archive
    listing read on their own (so security rules work on files the loader refuses);
    ``refusal`` is the loader's one-line reason; ``numerics`` the weights diagnostics;
    ``training`` the findings of the run whose logs are beside the file (KIN5xx).
    """

    path: str
    info: ModelInfo | None
    raw: RawFile
    budgets: Budgets = field(default_factory=Budgets)
    refusal: str | None = None
    arch: str | None = None
    numerics: tuple[Finding, ...] = ()
    mismatch: bool = False  # the loader refused the file because its weights contradict the config
    training: tuple[Finding, ...] = ()  # the training findings of the run whose logs are beside it
    # Views several rules derive from the same data (the config's objects), made once per file.
    derived: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)


RuleFn = Callable[[Subject], Iterable[Finding]]


@dataclass(frozen=True, kw_only=True)
class Check(Rule):
    """A rule ``kinspect check`` runs: its description and the one function that finds it,
    which yields findings of that rule only."""

    check: RuleFn


class Family:
    """The rules of one family module, in the order they run (the order of their findings).

    Each is declared by ``@RULES.rule(id, name, severity, summary, rationale)`` above the
    function that finds it: one function per rule id, described where it is written.
    """

    def __init__(self) -> None:
        self._rules: list[Check] = []

    def __iter__(self) -> Iterator[Check]:
        return iter(self._rules)

    def add(self, rule: Rule, check: RuleFn) -> None:
        self._rules.append(Check(**vars(rule), check=check))

    def rule(
        self, id: str, name: str, severity: Severity, summary: str, rationale: str, *, default: bool = True
    ) -> Callable[[RuleFn], RuleFn]:
        def register(check: RuleFn) -> RuleFn:
            self.add(Rule(id, name, severity, summary, rationale, default=default), check)
            return check

        return register
