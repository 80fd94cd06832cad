"""A JSON file of ``history.history``: ``json.dump(history.history, f)`` writes a dict of lists
(NaN as ``NaN``), pandas' ``DataFrame(history.history).to_json()`` the columnar form
``{"loss": {"0": 0.5, "1": 0.4}}``; ``{"history": {...}, "params": {...}}`` keeps
``History.params`` too (``epochs``, ``steps``)."""

from __future__ import annotations

import json

from kinspect.runs.common import Read, history_name, number, read_text
from kinspect.training import Run, Series, Source, SourceKind

MAX_EPOCHS = 100_000


def looks_like_history(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def read_json(path: str) -> Read:
    try:
        text = read_text(path)
        doc = json.loads(text)
    except (OSError, ValueError, RecursionError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        if isinstance(exc, json.JSONDecodeError):
            reason = f"not JSON ({exc.msg} at line {exc.lineno})"
        return Read(problems=(f"{path}: {reason}",))
    params: dict[str, int] = {}
    if isinstance(doc, dict) and isinstance(doc.get("history"), dict):
        raw_params = doc.get("params")
        if isinstance(raw_params, dict):
            params = {k: v for k, v in raw_params.items() if isinstance(v, int) and not isinstance(v, bool)}
        doc = doc["history"]
    if not isinstance(doc, dict) or not doc:
        return Read(problems=(f"{path}: not a History JSON (expected an object of metric lists)",))
    metrics: dict[str, Series] = {}
    notes: list[str] = []
    for key, column in doc.items():
        values = _column(column)
        if values is None:
            return Read(problems=(f"{path}: not a History JSON ({key!r} is not a list of numbers)",))
        if key == "epoch":
            continue
        metrics[history_name(str(key))] = values
    if not metrics:
        return Read(problems=(f"{path}: not a History JSON (no metric)",))
    run = Run(path, (Source(path, SourceKind.JSON),), metrics, params=params, notes=tuple(notes))
    return Read((run,))


def _column(column: object) -> Series | None:
    """A list, or pandas' ``{"0": v, "1": v}`` (index keys are the 0-based epochs)."""
    if isinstance(column, list):
        if len(column) > MAX_EPOCHS or any(v is not None and number(v) is None for v in column):
            return None
        return tuple(number(v) for v in column)
    if isinstance(column, dict):
        try:
            index = {int(k): v for k, v in column.items()}
        except ValueError:
            return None
        if not index or min(index) < 0 or max(index) >= MAX_EPOCHS:
            return None
        if any(v is not None and number(v) is None for v in index.values()):
            return None
        return tuple(number(index.get(i)) for i in range(max(index) + 1))
    return None
