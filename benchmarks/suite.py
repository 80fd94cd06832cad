"""The interface between ``run.py`` and the benchmark modules (see benchmarks/README.md).

A module ``benchmarks/bench_<name>.py`` joins ``python benchmarks/run.py`` by defining

    def cases(quick: bool, work_dir: Path) -> list[Case]

returning what to time: for each case a kinspect command and the command doing the same job the
Keras/TensorFlow way (or None). ``cases`` may generate its input files (untimed) under
``work_dir``. run.py times every case the same way: fresh child processes, one untimed warm-up
each, then the timed runs alternating kinspect and the other tool; medians and peak RSS.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench_summary import Measurement, child_env, measure


@dataclass
class Case:
    """One row of the table."""

    bench: str  # the benchmark: "summary", "report", "check"…
    case: str  # what is measured, e.g. "ResNet50 `.keras`"
    kinspect: list[str]  # the kinspect command
    other: list[str] | None  # the same job done the Keras/TensorFlow way (None: no such way)
    other_way: str = ""  # how the other side does it, in a few words
    # The other command writes {"seconds": s} to this file: its time is then that in-process figure
    # (e.g. the plot_model() call alone, model already loaded), not the whole process.
    other_inner: Path | None = None
    files: int | None = None  # inputs per run, for a files/s/core column (check)
    note: str = ""
    check: Callable[[], str] | None = None  # untimed agreement check, run once: "" when all agree


@dataclass
class Timing:
    case: Case
    kinspect: list[Measurement] = field(default_factory=list)
    other: list[Measurement] = field(default_factory=list)
    inner: list[float] = field(default_factory=list)
    error: str = ""
    agreement: str = ""

    def median(self, who: str) -> float | None:
        if who == "other" and self.case.other_inner is not None:
            return statistics.median(self.inner) if self.inner else None
        runs = self.kinspect if who == "kinspect" else self.other
        return statistics.median(m.wall_s for m in runs) if runs else None

    def peak_mib(self, who: str) -> float | None:
        runs = self.kinspect if who == "kinspect" else self.other
        return max(m.maxrss_kib for m in runs) / 1024 if runs else None


def time_case(case: Case, repeats: int, warmup: int, timeout: float) -> Timing:
    """Warm-ups, then timed runs alternating kinspect and the other tool."""
    out = Timing(case)
    env = child_env()
    try:
        out.agreement = case.check() if case.check else ""
    except Exception as exc:  # the timing still says something
        out.agreement = f"not checked ({type(exc).__name__}: {exc})"
    tools: list[tuple[str, list[str] | None]] = [("kinspect", case.kinspect), ("other", case.other)]
    for i in range(warmup + repeats):
        for who, cmd in tools:
            if cmd is None or out.error:
                continue
            m = measure(cmd, timeout, env)
            what = "warm-up" if i < warmup else f"run {i - warmup + 1}/{repeats}"
            print(f"  {case.bench:<8} {case.case:<34} {what:>9} {who:<8} {m.wall_s:7.2f} s "
                  f"{m.maxrss_kib / 1024:8.1f} MiB", file=sys.stderr, flush=True)  # fmt: skip
            if not m.ok:
                out.error = f"{who} failed ({m.describe_failure()}): {m.stderr_tail.strip()[-300:]}"
                continue
            if i < warmup:
                continue
            (out.kinspect if who == "kinspect" else out.other).append(m)
            if who == "other" and case.other_inner is not None:
                try:
                    out.inner.append(float(json.loads(case.other_inner.read_text())["seconds"]))
                except (OSError, ValueError, KeyError) as exc:
                    out.error = f"no in-process time from the other tool ({exc})"
    return out


def scratch() -> Path:
    """A directory for outputs that lives as long as the run."""
    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = tempfile.TemporaryDirectory(prefix="kinspect-bench-")
    return Path(_SCRATCH.name)


_SCRATCH: tempfile.TemporaryDirectory[str] | None = None
