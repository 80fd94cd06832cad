"""Training rules KIN5xx: the findings of :mod:`kinspect.analyzers.training` on the run whose
logs lie beside the model file (``training.csv``, ``history.json``, ``logs/`` in its directory or
the parent's, as ``kinspect report`` finds them).

They describe the training, not the file, so ``kinspect check`` runs them only when selected
(``--select KIN5``); ``kinspect history`` always reports them. Each rule here passes that rule's
findings on as they are.
"""

from __future__ import annotations

from collections.abc import Iterator

from kinspect.analyzers.training import RULES as TRAINING
from kinspect.checks.base import Family, RuleFn, Subject
from kinspect.findings import Finding, Rule
from kinspect.model import ModelInfo


def training_findings(path: str, model: ModelInfo | None = None) -> tuple[Finding, ...]:
    """The latest run's findings from the logs beside ``path`` (none when there are no logs);
    ``model`` (the file's own description) gives the class count of the chance accuracy."""
    from kinspect.analyzers.training import analyze, default_monitor, output_chance
    from kinspect.runs import logs_beside, read_logs

    found = logs_beside(path)
    runs = read_logs(found).runs if found else ()
    if not runs:
        return ()
    chance = output_chance(model) if model is not None and model.has_architecture and model.outputs else None
    return analyze(runs[-1], default_monitor(runs), chance=chance).findings


def _passed_on(rule_id: str) -> RuleFn:
    def check(subject: Subject) -> Iterator[Finding]:
        """The training findings of this rule, as they are."""
        return (f for f in subject.training if f.rule == rule_id)

    return check


RULES = Family()
for _rule in TRAINING:
    RULES.add(Rule(_rule.id, _rule.name, _rule.severity, _rule.summary, _rule.rationale, default=False),
              _passed_on(_rule.id))  # fmt: skip
