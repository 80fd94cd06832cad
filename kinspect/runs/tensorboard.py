"""TensorBoard logs as runs: the events of :func:`kinspect.tfio.events.read_events`, named as
``History`` names them.

Keras's TensorBoard callback (keras/src/callbacks/tensorboard.py, tf_keras/src/callbacks.py)
writes ``epoch_<metric>`` scalars at step ``epoch`` (0-based) into ``<log_dir>/train/`` and, for
validation metrics without their ``val_`` prefix, into ``<log_dir>/validation/``; the learning
rate as ``epoch_learning_rate`` (and tf.keras's ``epoch_lr`` when ReduceLROnPlateau put ``lr``
in the logs), ``evaluation_<metric>_vs_iterations`` at the optimizer's step after each epoch's
validation, and ``<weight path>/histogram`` weight histograms into ``train/``. Files of other
writers (TF1 ``simple_value``, tensorboardX) have no ``epoch_`` tags: their scalar tags are kept
as they are, each step read as a 0-based epoch.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kinspect.runs.common import Read, history_name, is_event_file
from kinspect.tfio.errors import TFIOError
from kinspect.tfio.events import Histogram, Problem, Scalar, read_events
from kinspect.training import Run, Series, Source, SourceKind, WeightSeries

SPLITS = {"train": "", "validation": "val_", "validate": "val_", "eval": "val_"}
MAX_EPOCH = 100_000  # a larger step is not an epoch


def run_dir(path: str) -> tuple[str, str]:
    """(the run's directory, the split prefix) of an event file: ``logs/train/events…`` is run
    ``logs``, training series; ``logs/validation/events…`` validation series."""
    parent = os.path.dirname(os.path.abspath(path))
    split = os.path.basename(parent)
    if split in SPLITS:
        return os.path.dirname(parent), SPLITS[split]
    return parent, ""


@dataclass
class _Collect:
    scalars: dict[str, dict[int, tuple[float, float]]] = field(default_factory=lambda: defaultdict(dict))
    histos: dict[str, dict[int, tuple[float, tuple[float, float, float, float]]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    iterations: dict[int, int] = field(default_factory=dict)
    evaluations: int = 0
    repeated: int = 0
    keras: bool = False


def read_tensorboard(files: Sequence[str], display: str | None = None) -> Read:
    """One run per run directory of ``files`` (event files), in the order first seen."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for path in files:
        root, prefix = run_dir(path)
        groups.setdefault(root, []).append((path, prefix))
    runs: list[Run] = []
    problems: list[str] = []
    for root, members in groups.items():
        run, found = _read_group(root, members, display)
        problems += found
        if run is not None:
            runs.append(run)
    return Read(tuple(runs), tuple(problems))


def _read_group(
    root: str, members: list[tuple[str, str]], display: str | None
) -> tuple[Run | None, list[str]]:
    got = _Collect()
    problems: list[str] = []
    read_any = False
    for path, prefix in members:
        try:
            count = _read_file(path, prefix, got, problems)
        except TFIOError as exc:
            problems.append(f"{path}: {exc}")
            continue
        read_any = read_any or count > 0
    if not read_any:
        return None, problems
    notes: list[str] = []
    metrics = _metrics(got, notes, root)
    if not metrics and not got.histos:
        problems.append(f"{root}: event files hold no scalar or histogram of a training run")
        return None, problems
    iterations = _iterations(got, max((len(s) for s in metrics.values()), default=0))
    if got.repeated:
        notes.append(f"{root}: {got.repeated} values written again at the same step (the later one kept)")
    sources = tuple(Source(p, SourceKind.TENSORBOARD) for p, _ in members)
    run = Run(display or root, sources, metrics, _weights(got), iterations, notes=tuple(notes))
    return run, problems


def _read_file(path: str, prefix: str, got: _Collect, problems: list[str]) -> int:
    count = 0
    for item in read_events(path):
        if isinstance(item, Problem):
            problems.append(f"{path}: {item.message}")
        elif isinstance(item, Scalar):
            count += 1
            tag = item.tag
            if tag.startswith("evaluation_") and tag.endswith("_vs_iterations"):
                got.iterations[got.evaluations] = item.step
                got.evaluations += 1
                continue
            if tag.startswith("epoch_"):
                got.keras = True
            if not 0 <= item.step < MAX_EPOCH:
                continue
            series = got.scalars[prefix + "\0" + tag]
            if item.step in series:
                got.repeated += 1
                if series[item.step][0] > item.wall_time:
                    continue
            series[item.step] = (item.wall_time, item.value)
        elif isinstance(item, Histogram):
            count += 1
            if not 0 <= item.step < MAX_EPOCH:
                continue
            name = item.tag[: -len("/histogram")] if item.tag.endswith("/histogram") else item.tag
            got.histos[prefix + name][item.step] = (item.wall_time, _summary(item))
    return count


def _metrics(got: _Collect, notes: list[str], root: str) -> dict[str, Series]:
    named: dict[str, dict[int, float]] = {}
    rates: dict[str, dict[int, float]] = {}
    out: dict[str, Series] = {}
    for key, values in got.scalars.items():
        prefix, tag = key.split("\0", 1)
        if got.keras:
            if not tag.startswith("epoch_"):
                continue  # batch_*, evaluation_*: not epoch series
            raw = tag[len("epoch_") :]
            if raw in ("lr", "learning_rate"):
                rates[raw] = {s: v for s, (_, v) in values.items()}
                continue
            name = prefix + history_name(raw)
        else:
            name = prefix + tag
        named[name] = {s: v for s, (_, v) in values.items()}
    # tf.keras: ``epoch_lr`` is the rate History has (ReduceLROnPlateau's log, before it cuts);
    # ``epoch_learning_rate`` is the optimizer's rate when the callback ran.
    if rates:
        named["learning_rate"] = rates.get("lr") or rates["learning_rate"]
    if not got.keras and named:
        notes.append(f"{root}: no Keras epoch_ series: each step is read as a 0-based epoch")
    for name, by_step in named.items():
        out[name] = tuple(by_step.get(i) for i in range(max(by_step) + 1))
    return out


def _iterations(got: _Collect, epochs: int) -> tuple[int | None, ...]:
    if not got.iterations or not got.keras:
        return ()
    # one evaluation_*_vs_iterations value per validation metric and epoch, all at one step
    steps = sorted(set(got.iterations.values()))
    return tuple(steps[:epochs]) if len(steps) <= epochs else ()


def _summary(h: Histogram) -> tuple[float, float, float, float]:
    """(mean, std, min, max) of one histogram value."""
    if h.num and h.sum is not None and h.sum_squares is not None and h.min is not None and h.max is not None:
        mean = h.sum / h.num
        var = max(h.sum_squares / h.num - mean * mean, 0.0)
        return mean, math.sqrt(var), h.min, h.max
    filled = [(lo, hi, c) for lo, hi, c in h.buckets if c > 0]
    n = sum(c for _, _, c in filled)
    if not n:
        return math.nan, math.nan, math.nan, math.nan
    mean = sum((lo + hi) / 2 * c for lo, hi, c in filled) / n
    var = sum(((lo + hi) / 2 - mean) ** 2 * c for lo, hi, c in filled) / n
    return mean, math.sqrt(var), filled[0][0], filled[-1][1]


def _weights(got: _Collect) -> tuple[WeightSeries, ...]:
    out = []
    for name, by_step in got.histos.items():
        steps = sorted(by_step)
        rows = [by_step[s][1] for s in steps]
        out.append(
            WeightSeries(
                name=name,
                epochs=tuple(s + 1 for s in steps),
                mean=tuple(r[0] for r in rows),
                std=tuple(r[1] for r in rows),
                min=tuple(r[2] for r in rows),
                max=tuple(r[3] for r in rows),
            )
        )
    return tuple(out)


def event_files(paths: Iterable[str]) -> list[str]:
    return [p for p in paths if is_event_file(os.path.basename(p))]
