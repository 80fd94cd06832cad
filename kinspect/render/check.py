"""Check results as text (one line per finding), JSON (``kinspect/check@1``) and SARIF 2.1.0."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from kinspect.checks import RULES, UNREADABLE
from kinspect.checks.runner import FileResult
from kinspect.findings import Finding, Severity

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
INFO_URI = "https://github.com/kinspect/kinspect#kinspect-check"


def printable(text: str, limit: int = 2000) -> str:
    """Names come from hostile files: no control characters (no forged lines), bounded length."""
    clean = "".join(c if c.isprintable() else "?" for c in text[:limit])
    return clean + ("…" if len(text) > limit else "")


def message(f: Finding) -> str:
    """The finding's message, naming its tensor when it has one."""
    return f"{f.message} ({f.tensor})" if f.tensor else f.message


def line(path: str, f: Finding) -> str:
    where = f"{printable(f.layer, 200)}: " if f.layer else ""
    return f"{printable(path)}: {f.rule} {f.severity.value} {where}{printable(message(f))}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def count_line(results: Sequence[FileResult]) -> str:
    counts = Counter(f.severity for r in results for f in r.findings if f.rule != UNREADABLE)
    total = sum(counts.values())
    parts = [
        _plural(counts[s], s.value) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO) if counts[s]
    ]
    detail = f" ({', '.join(parts)})" if parts else ""
    bad = sum(r.unreadable for r in results)
    unread = f", {bad} unreadable" if bad else ""
    return f"{_plural(total, 'finding')}{detail} in {_plural(len(results), 'file')}{unread}"


def render_text(results: Sequence[FileResult]) -> str:
    lines = [line(r.path, f) for r in results for f in r.findings]
    return "".join(f"{ln}\n" for ln in lines) + count_line(results) + "\n"


def check_doc(results: Sequence[FileResult]) -> dict[str, Any]:
    return {
        "schema": "kinspect/check@1",
        "files": [
            {
                "file": r.path,
                "readable": not r.unreadable,
                "findings": [
                    {"rule": f.rule, "severity": f.severity.value, "layer": f.layer, "message": message(f)}
                    for f in r.findings
                ],
            }
            for r in results
        ],
        "summary": count_line(results),
    }


def _uri(path: str) -> str:
    return PurePath(path).as_posix()


def render_sarif(results: Sequence[FileResult], version: str) -> str:
    """One SARIF run; rules described in ``tool.driver.rules``, unreadable files as notifications."""
    ids = list(RULES)
    rules = [
        {
            "id": r.id,
            "name": r.name,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": r.rationale},
            "help": {"text": r.rationale},
            "defaultConfiguration": {"level": SARIF_LEVEL[r.severity]},
            "properties": {"tags": ["security"] if r.id.startswith("KIN1") else []},
        }
        for r in RULES.values()
    ]
    sarif_results: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for r in results:
        location = {"physicalLocation": {"artifactLocation": {"uri": _uri(r.path)}}}
        for f in r.findings:
            if f.rule == UNREADABLE:
                notes.append(
                    {"level": "error", "message": {"text": f"{r.path}: {f.message}"}, "locations": [location]}
                )
                continue
            loc: dict[str, Any] = dict(location)
            if f.layer:
                loc["logicalLocations"] = [{"fullyQualifiedName": f.layer, "kind": "member"}]
            sarif_results.append(
                {
                    "ruleId": f.rule,
                    "ruleIndex": ids.index(f.rule),
                    "level": SARIF_LEVEL[f.severity],
                    "message": {"text": f"{f.layer}: {message(f)}" if f.layer else message(f)},
                    "locations": [loc],
                }
            )
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kinspect",
                        "version": version,
                        "informationUri": INFO_URI,
                        "rules": rules,
                    }
                },
                "invocations": [{"executionSuccessful": not notes, "toolExecutionNotifications": notes}],
                "results": sarif_results,
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
