"""Run the selected rules over files, in parallel processes, in a deterministic order."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

from kinspect.checks import ORDER, RULES, UNREADABLE
from kinspect.checks.base import Subject
from kinspect.checks.settings import Settings
from kinspect.errors import InputError, UnsafeArchiveError, WeightsMismatchError
from kinspect.findings import Finding, Severity
from kinspect.model import ModelInfo


@dataclass(frozen=True)
class FileResult:
    """The findings for one file; ``unreadable`` when it could not be read at all."""

    path: str
    findings: tuple[Finding, ...]
    unreadable: bool = False


def _load(path: str, arch: str | None) -> tuple[ModelInfo | None, InputError | None]:
    from kinspect.loaders import load

    try:
        info = load(path)
        if arch is not None and not info.has_architecture:
            info = load(path, arch=arch)
        return info, None
    except InputError as exc:
        return None, exc


def _claimed(path: str) -> bool:
    """Whether a format reads ``path`` though it is no file (a SavedModel or checkpoint directory,
    a checkpoint prefix)."""
    from kinspect.loaders.registry import sniff

    try:
        sniff(path)
    except InputError:
        return False
    return True


def run_rules(subject: Subject, enabled: Collection[str]) -> tuple[list[Finding], str | None]:
    """The enabled rules over ``subject``, in their run order.

    A rule's bug must not hide the other rules' results nor print a traceback: it becomes
    the second value, a one-line note.
    """
    findings: list[Finding] = []
    error = None
    for rid in ORDER:
        if rid not in enabled:
            continue
        try:
            findings.extend(RULES[rid].check(subject))
        except Exception as exc:
            error = f"internal error in rule {rid} ({type(exc).__name__}: {exc}); please report it"
    return findings, error


def check_file(path: str, settings: Settings) -> FileResult:
    """Every selected rule over one file; never raises for a bad file."""
    from kinspect.loaders import read_raw

    if not os.path.isfile(path) and not _claimed(path):
        what = "no such file"
        if os.path.isdir(path):
            what = "is a directory, not a model file"
        elif os.path.exists(path):
            what = "is not a regular file"
        return FileResult(path, (Finding(UNREADABLE, Severity.ERROR, f"cannot read: {what}"),), True)
    info, refused = _load(path, settings.arch)
    refusal = None
    if refused is not None:
        refusal = refused.problem if refused.path == path else str(refused)
    mismatch = isinstance(refused, WeightsMismatchError)
    if info is not None and info.weights_mismatch is not None:
        # A model file whose weights contradict its own config: the loader describes it, and
        # KIN401 reports its verdict; the other model rules see it as a file Keras cannot load.
        refusal, mismatch, info = info.weights_mismatch, True, None
    # The raw config and archive listing, read on their own: the security rules see every key
    # (the top-level model's own ``module`` too), also in files the loader refuses.
    raw = read_raw(path)
    numerics: tuple[Finding, ...] = ()
    if info is not None and settings.verify and refused is None:
        try:
            from kinspect.loaders.arrays import verify_data

            verify_data(info)
        except InputError as exc:
            refusal = exc.problem
    if info is not None and any(r.startswith("KIN2") for r in settings.rules):
        try:
            from kinspect.checks.numerics import diagnostics

            numerics = diagnostics(info)
        except InputError as exc:
            refusal = f"cannot read the weights: {exc.problem}"
    training: tuple[Finding, ...] = ()
    if any(r.startswith("KIN5") for r in settings.rules):
        from kinspect.checks.training import training_findings

        training = training_findings(path, info)
    subject = Subject(path, info, raw, settings.budgets, refusal, settings.arch, numerics, mismatch, training)
    findings, error = run_rules(subject, settings.rules)
    refusal = error or refusal
    findings = [replace(f, severity=settings.severities.get(f.rule, f.severity)) for f in findings]
    # Refusals that a rule reports as a finding are not "unreadable": KIN401/KIN403 for weights
    # that contradict the config, KIN104 for unsafe archive members.
    explained = mismatch or (isinstance(refused, UnsafeArchiveError) and bool(raw.unsafe))
    unreadable = refusal is not None and not explained
    if unreadable:
        findings.insert(0, Finding(UNREADABLE, Severity.ERROR, f"cannot read: {refusal}"))
    return FileResult(path, tuple(findings), unreadable)


def check_files(paths: Sequence[str], settings: Settings, jobs: int | None = None) -> list[FileResult]:
    """Results in the order of ``paths``. Several files are checked in ``jobs`` worker processes
    (default: one per core), each forked once and reused from file to file; one file's crash or
    hang is that file's result (KIN000), not the run's (:mod:`kinspect.checks.pool`).

    A worker is the isolation of the files it reads: it reads them itself, under a reader's
    memory ceiling and with a reader's deadline per file (a fork per read would cost more than
    checking a small model), and it is replaced after a crash or a hang."""
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(paths)))
    if len(paths) == 1 or not hasattr(os, "fork"):
        return [check_file(p, settings) for p in paths]
    from kinspect.checks import pool
    from kinspect.loaders import warm_readers
    from kinspect.loaders.arrays import SECONDS_PER_GB
    from kinspect.loaders.isolate import DEFAULT_TIMEOUT, TIMEOUT_ENV, _env_number, inline_readers
    from kinspect.loaders.readers import data_bytes

    def failed(path: str, why: str) -> dict[str, Any]:
        return _plain(FileResult(path, (Finding(UNREADABLE, Severity.ERROR, f"cannot read: {why}"),), True))

    read_timeout = _env_number(TIMEOUT_ENV, DEFAULT_TIMEOUT)

    def deadline(path: str) -> float:
        """A reader's deadline, and its allowance for the weight values a file holds."""
        if read_timeout <= 0:
            return 0.0
        try:
            size = data_bytes(path) or 0
        except OSError:
            size = 0
        return read_timeout + SECONDS_PER_GB * size / 1e9

    def warm() -> None:
        warm_readers()
        if read_timeout > 0:
            inline_readers()

    done = pool.run(paths, lambda p: _plain(check_file(p, settings)), jobs, failed, warm, deadline)
    return [_result(d) for d in done]


def _plain(result: FileResult) -> dict[str, Any]:
    """A result as the JSON that crosses the worker pool's pipe (never a pickle)."""
    return {**dataclasses.asdict(result), "findings": [dataclasses.asdict(f) for f in result.findings]}


def _result(plain: dict[str, Any]) -> FileResult:
    findings = tuple(Finding(**{**f, "severity": Severity(f["severity"])}) for f in plain["findings"])
    return FileResult(plain["path"], findings, plain["unreadable"])


def reached(results: Sequence[FileResult], level: Severity) -> bool:
    """Whether any finding is at or above ``level``."""
    return any(f.severity.rank >= level.rank for r in results for f in r.findings)
