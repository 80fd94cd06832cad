"""Training logs read into :class:`~kinspect.training.Run` values: CSVLogger files, History JSON,
TensorBoard event files, and run directories searched for them and for checkpoints.

Content decides, not the extension: a CSVLogger header starts with ``epoch``, a History JSON is an
object of metric lists, event files are named ``events.out.tfevents.*``; a pickled History is
recognised by its opcodes and refused (never unpickled). Directory walks are bounded (entries,
depth, event files), and each problem is one line naming its file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace

from kinspect.runs.common import PICKLE_HINT, Read, head, is_binary, is_event_file, is_pickle
from kinspect.runs.csvlog import looks_like_csvlog, read_csv
from kinspect.runs.jsonlog import looks_like_history, read_json
from kinspect.training import Run, Series, SourceKind

__all__ = ["LOG_NAMES", "Found", "Logs", "find", "logs_beside", "read_logs"]

MAX_ENTRIES = 200_000  # directory entries looked at in one walk
MAX_DEPTH = 8  # logs/fit/20240101-120000/train/ is 4 deep
MAX_EVENT_FILES = 10_000
MAX_CHECKPOINTS = 500
MAX_JSON = 200  # JSON files parsed in one walk (a data directory may hold thousands)
CHECKPOINT_SUFFIXES = (".keras", ".h5", ".hdf5", ".index")
TEXT_SUFFIXES = (".csv", ".log", ".tsv", ".txt")
SKIP_DIRS = {"__pycache__", ".git", "node_modules", "assets", "variables"}
HDF5 = b"\x89HDF\r\n\x1a\n"
ZIP = b"PK\x03\x04"
PRIORITY = {SourceKind.JSON: 0, SourceKind.CSV: 1, SourceKind.TENSORBOARD: 2}  # full precision first


@dataclass(frozen=True)
class Found:
    """What a walk found: log files by kind, checkpoints, and problems."""

    csv: tuple[str, ...] = ()
    json: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    checkpoints: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Logs:
    """The runs read from some paths, the checkpoints beside them, and the problems met."""

    runs: tuple[Run, ...]
    checkpoints: tuple[str, ...]
    problems: tuple[str, ...]
    notes: tuple[str, ...] = ()


def find(paths: Sequence[str]) -> Found:
    csv: list[str] = []
    js: list[str] = []
    events: list[str] = []
    checkpoints: list[str] = []
    problems: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            _walk(path, csv, js, events, checkpoints, problems)
        elif not os.path.exists(path):
            problems.append(f"{path}: no such file or directory")
        else:
            kind = _file_kind(path, explicit=True)
            if kind is None:
                continue
            if kind.startswith("problem:"):
                problems.append(f"{path}: {kind[len('problem:') :]}")
            else:
                {"csv": csv, "json": js, "events": events, "checkpoint": checkpoints}[kind].append(path)
    if len(events) > MAX_EVENT_FILES:
        problems.append(f"{len(events):,} event files: read the first {MAX_EVENT_FILES:,} (by path)")
        events = sorted(events)[:MAX_EVENT_FILES]
    walked = [p for p in js if p not in paths]
    if len(walked) > MAX_JSON:
        problems.append(f"{len(walked):,} JSON files found: read the first {MAX_JSON:,} (by path)")
        keep = set(sorted(walked)[:MAX_JSON])
        js = [p for p in js if p in paths or p in keep]
    if len(checkpoints) > MAX_CHECKPOINTS:
        problems.append(f"{len(checkpoints):,} checkpoint files: mapped the first {MAX_CHECKPOINTS:,}")
        checkpoints = sorted(checkpoints)[:MAX_CHECKPOINTS]
    dedupe = lambda xs: tuple(dict.fromkeys(xs))  # noqa: E731
    return Found(dedupe(csv), dedupe(js), dedupe(events), dedupe(checkpoints), tuple(problems))


def _walk(
    top: str,
    csv: list[str],
    js: list[str],
    events: list[str],
    checkpoints: list[str],
    problems: list[str],
) -> None:
    seen = 0
    stack = [(top, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            problems.append(f"{folder}: {exc.strerror or exc}")
            continue
        subdirs = []
        for entry in entries:
            seen += 1
            if seen > MAX_ENTRIES:
                problems.append(f"{top}: more than {MAX_ENTRIES:,} entries: the rest not searched")
                return
            try:
                if entry.is_dir(follow_symlinks=False):
                    if depth < MAX_DEPTH and entry.name not in SKIP_DIRS and not entry.name.startswith("."):
                        subdirs.append(entry.path)
                    continue
                if not entry.is_file():
                    continue
            except OSError:
                continue
            if is_event_file(entry.name):
                events.append(entry.path)
                continue
            kind = _file_kind(entry.path, explicit=False)
            if kind is None:
                continue
            if kind.startswith("problem:"):
                problems.append(f"{entry.path}: {kind[len('problem:') :]}")
            else:
                {"csv": csv, "json": js, "events": events, "checkpoint": checkpoints}[kind].append(entry.path)
        stack.extend((d, depth + 1) for d in reversed(subdirs))


def _file_kind(path: str, explicit: bool) -> str | None:
    """csv, json, events, checkpoint, ``problem:<reason>``, or None (not a log: skipped when walking)."""
    name = os.path.basename(path).lower()
    if is_event_file(name):
        return "events"
    suffix = os.path.splitext(name)[1]
    wanted = explicit or suffix in (*TEXT_SUFFIXES, ".json", ".pkl", ".pickle", ".p", *CHECKPOINT_SUFFIXES)
    if not wanted and "history" not in name:
        return None
    try:
        data = head(path)
    except OSError as exc:
        return f"problem:{exc.strerror or exc}"
    if is_pickle(data[:16]):
        return f"problem:{PICKLE_HINT}" if explicit or "hist" in name or suffix != ".h5" else None
    if suffix == ".index" or data.startswith((HDF5, ZIP)):
        return (
            "checkpoint" if suffix in CHECKPOINT_SUFFIXES else (f"problem:{_NOT_A_LOG}" if explicit else None)
        )
    if looks_like_csvlog(data):
        return "csv"
    if looks_like_history(data):
        return "json" if explicit or suffix == ".json" else None
    if not explicit:
        if suffix in (".csv", ".tsv"):
            return "problem:binary data, not a CSVLogger file" if is_binary(data) else None
        return None
    if is_binary(data):
        return f"problem:binary data: {_NOT_A_LOG}"
    return f"problem:{_NOT_A_LOG}"


LOG_NAMES = ("training.csv", "training.log", "history.json", "logs")  # looked for beside a model


def logs_beside(model: str) -> list[str]:
    """The run's logs beside a model file: in its directory, else in the parent's."""
    here = os.path.dirname(os.path.abspath(model))
    for folder in (here, os.path.dirname(here)):
        found = [os.path.join(folder, n) for n in LOG_NAMES if os.path.exists(os.path.join(folder, n))]
        if found:
            return found
    return []


_NOT_A_LOG = "not a training log (a CSVLogger file, a History JSON or TensorBoard event files)"


def read_logs(paths: Sequence[str]) -> Logs:
    """Every run in ``paths`` (files or run directories), sources of one training merged."""
    found = find(paths)
    reads: list[Read] = [read_csv(p) for p in found.csv]
    quiet: set[str] = set()
    for p in found.json:
        got = read_json(p)
        explicit = p in paths
        if got.runs or explicit:
            reads.append(got)
        else:
            quiet.add(p)  # a config.json or other JSON beside the logs: not a history
    if found.events:
        from kinspect.runs.tensorboard import read_tensorboard  # the event reader: only when read

        reads.append(read_tensorboard(found.events))
    problems = list(found.problems)
    parts: list[Run] = []
    for r in reads:
        problems += r.problems
        parts += r.runs
    runs, notes = merge(parts)
    return Logs(tuple(runs), found.checkpoints, tuple(problems), tuple(notes))


# ---- merging the sources of one training --------------------------------------------------------


def agree(a: float | None, b: float | None) -> bool | None:
    """Whether two values of one series agree (to float32, what TensorBoard stores); None when
    either is missing."""
    if a is None or b is None:
        return None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b)) + 1e-12


def _matches(run: Run, part: Run) -> bool:
    """Whether ``part`` is another source of ``run``'s training: every value both hold agrees, over
    the same epochs; a source of a kind the run already has must hold exactly the same series (a
    copy), so that two runs of one kind are never merged (two runs of one ``append=True`` CSV)."""
    if {s.path for s in run.sources} & {s.path for s in part.sources} or run.epochs != part.epochs:
        return False
    if {s.kind for s in run.sources} & {s.kind for s in part.sources} and set(run.metrics) != set(
        part.metrics
    ):
        return False
    same_kind = bool({s.kind for s in run.sources} & {s.kind for s in part.sources})
    compared = 0
    for name in set(run.metrics) & set(part.metrics):
        for a, b in zip(run.metrics[name], part.metrics[name], strict=False):
            same = agree(a, b)
            if same is False or (same_kind and same is None and (a, b) != (None, None)):
                return False
            compared += same is not None
    return compared > 0


def merge(parts: Sequence[Run]) -> tuple[list[Run], list[str]]:
    """Runs from several sources that agree on every shared value (same epochs) become one run;
    a value one source lacks is taken from the next (JSON, then CSV, then TensorBoard).

    TensorBoard runs (one per run directory) only join a run of another kind, so that a log
    directory of thousands of runs costs one pass, not a comparison of every pair."""
    order = {id(p): i for i, p in enumerate(parts)}
    ordered = sorted(parts, key=lambda r: min(PRIORITY[s.kind] for s in r.sources))
    runs: list[Run] = []
    firsts: list[int] = []
    open_runs: list[int] = []  # indices of runs without a TensorBoard source yet
    for part in ordered:
        board = any(s.kind is SourceKind.TENSORBOARD for s in part.sources)
        for i in open_runs if board else range(len(runs)):
            if _matches(runs[i], part):
                runs[i] = _combine(runs[i], part)
                firsts[i] = min(firsts[i], order[id(part)])
                if board:
                    open_runs.remove(i)
                break
        else:
            runs.append(part)
            firsts.append(order[id(part)])
            if not board:
                open_runs.append(len(runs) - 1)
    return [r for _, r in sorted(zip(firsts, runs, strict=True), key=lambda x: x[0])], []


def _combine(run: Run, part: Run) -> Run:
    metrics: dict[str, Series] = dict(run.metrics)
    for name, values in part.metrics.items():
        mine = metrics.get(name)
        if mine is None:
            metrics[name] = values
            continue
        n = max(len(mine), len(values))
        a_s, b_s = tuple(mine) + (None,) * (n - len(mine)), tuple(values) + (None,) * (n - len(values))
        metrics[name] = tuple(a if a is not None else b for a, b in zip(a_s, b_s, strict=True))
    return replace(
        run,
        sources=run.sources + part.sources,
        metrics=metrics,
        weights=run.weights or part.weights,
        iterations=run.iterations or part.iterations,
        params=run.params or part.params,
        notes=run.notes + part.notes,
    )
