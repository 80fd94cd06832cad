"""Benchmark ``kinspect weights`` against the Keras way (load_model + get_weights + numpy statistics).

Run from the repository root::

    .venv/bin/python benchmarks/bench_weights.py             # writes benchmarks/results/weights.md
    .venv/bin/python benchmarks/bench_weights.py --repeats 1 --no-write

The model is four ``Dense(8192)`` layers (about 1 GB of float32), generated once into
``benchmarks/.work/`` by a Keras child process. Every measurement is a fresh child process
(wall time and peak RSS from ``os.wait4``, helpers shared with ``bench_summary.py``):

* **kinspect**: the installed ``kinspect weights MODEL --format json`` (statistics of every
  tensor and the diagnostics), and the same with ``--histograms``;
* **Keras**: ``keras.models.load_model(MODEL)``, then ``get_weights()`` and, per tensor, numpy's
  min, max, mean, std, L2 norm, zero, NaN and Inf counts (what kinspect reports);
* **sequential read**: a plain ``read()`` of the whole file in 4 MiB blocks, the practical
  limit of any tool that looks at every byte (from the page cache, as the others).

This script never imports keras or tensorflow itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_summary import (  # the sibling module, found through the path above
    BenchError,
    Measurement,
    child_env,
    compile_bytecode,
    cpu_model,
    fmt_size,
    git_revision,
    kinspect_executable,
    load_note,
    loadavg,
    measure,
    mem_total,
    version_of,
)

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_WORK_DIR = BENCH_DIR / ".work"
DEFAULT_RESULTS = BENCH_DIR / "results" / "weights.md"
MODEL_NAME = "dense4x8192.keras"

GENERATE_CHILD = """
import os, sys
import keras
from keras import layers
target = sys.argv[1]
inp = keras.Input((8192,))
x = inp
for i in range(4):
    x = layers.Dense(8192, name=f"dense_{i}")(x)
model = keras.Model(inp, x, name="dense4x8192")
tmp = target + ".partial.keras"
model.save(tmp)
os.replace(tmp, target)
"""

KERAS_CHILD = """
import json, sys
import numpy as np
import keras
model = keras.models.load_model(sys.argv[1])
rows = []
for w in model.get_weights():
    x = w.astype(np.float64)
    rows.append({"min": float(x.min()), "max": float(x.max()), "mean": float(x.mean()),
                 "std": float(x.std()), "norm": float(np.sqrt(np.dot(x.ravel(), x.ravel()))),
                 "zeros": int(x.size - np.count_nonzero(x)), "nan": int(np.isnan(x).sum()),
                 "inf": int(np.isinf(x).sum())})
    if sys.argv[2:] == ["--histograms"]:  # the agreement check only (untimed)
        rows[-1]["counts"] = np.histogram(x, bins=20, range=(x.min(), x.max()))[0].tolist()
print(json.dumps(rows))
"""

READ_CHILD = """
import sys
with open(sys.argv[1], "rb", buffering=0) as f:
    buf = bytearray(4 << 20)
    while f.readinto(buf):
        pass
"""


def ensure_model(work_dir: Path, timeout: float) -> Path:
    path = work_dir / MODEL_NAME
    if path.exists():
        return path
    work_dir.mkdir(parents=True, exist_ok=True)
    print(f"generating {path} (about 1 GB) ...", file=sys.stderr, flush=True)
    m = measure([sys.executable, "-c", GENERATE_CHILD, str(path)], timeout, child_env())
    if not m.ok or not path.exists():
        raise BenchError(f"could not generate {path} ({m.describe_failure()})\n{m.stderr_tail}")
    return path


def run(
    tools: list[tuple[str, list[str]]], repeats: int, warmup: int, timeout: float
) -> dict[str, list[Measurement]]:
    """Warm-ups, then timed runs alternating between the tools (so machine load hits all alike)."""
    out: dict[str, list[Measurement]] = {name: [] for name, _ in tools}
    for i in range(warmup + repeats):
        for name, cmd in tools:
            m = measure(cmd, timeout, child_env())
            what = "warm-up" if i < warmup else f"run {i - warmup + 1}/{repeats}"
            status = "ok" if m.ok else m.describe_failure()
            print(f"  {what:>9} {name:<22} {m.wall_s:7.2f} s {m.maxrss_kib / 1024:8.1f} MiB  {status}",
                  file=sys.stderr, flush=True)  # fmt: skip
            if not m.ok:
                raise BenchError(f"{name} failed: {m.stderr_tail.strip()[-1500:]}")
            if i >= warmup:
                out[name].append(m)
    return out


def agree(model: Path, timeout: float) -> str:
    """kinspect's statistics and histograms against Keras+numpy's, tensor by tensor (untimed runs)."""
    import subprocess

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "w.json"
        env = child_env()
        exe = str(kinspect_executable())
        cmd = [exe, "weights", str(model), "--format", "json", "--histograms", "-o", str(out)]
        subprocess.run(cmd, check=True, timeout=timeout, env=env)
        mine = json.loads(out.read_text())["tensors"]
        cmd = [sys.executable, "-c", KERAS_CHILD, str(model), "--histograms"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=timeout, env=env)
        theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    if len(mine) != len(theirs):
        return f"**NO** ({len(mine)} vs {len(theirs)} tensors)"
    worst = 0.0
    for a, b in zip(mine, theirs, strict=True):
        for key in ("min", "max", "mean", "std", "norm"):
            scale = max(abs(b["max"]), abs(b["min"]), 1e-30)
            worst = max(worst, abs(a[key] - b[key]) / scale)
        if any(a[k] != b[k] for k in ("zeros", "nan", "inf")):
            return "**NO** (counts differ)"
        if a["histogram"]["counts"] != b["counts"]:
            return "**NO** (histograms differ from np.histogram)"
    return f"yes (max deviation {worst:.1e} of max |x|; 20-bin histograms equal np.histogram's)"


def cases(quick: bool, work_dir: Path) -> list[Any]:
    """This benchmark's rows of ``run.py`` (see suite.py): statistics (and histograms) of every
    weight against Keras's ``get_weights()`` + numpy. ``--quick``: ResNet50 only, not 1 GB."""
    import bench_summary as bs
    from suite import Case

    bs.ensure_models([bs.MODELS["resnet50.keras"]], work_dir, 900)
    models = (
        [work_dir / "resnet50.keras"] if quick else [work_dir / "resnet50.keras", ensure_model(work_dir, 900)]
    )
    out = []
    for model in models:
        kin = [str(kinspect_executable()), "weights", str(model), "-o", os.devnull]
        keras_cmd = [sys.executable, "-c", KERAS_CHILD, str(model)]
        label = (
            "ResNet50 `.keras`" if model.name.startswith("resnet50") else "4×Dense(8192) `.keras`, 1.07 GB"
        )
        way = "`load_model` + `get_weights()` + numpy"
        out.append(Case("weights", label, kin, keras_cmd, way, check=lambda m=model: _agreement(m)))
        if not quick:
            out.append(Case("weights", f"{label} `--histograms`", [*kin, "--histograms"], keras_cmd, way))
    return out


def _agreement(model: Path) -> str:
    verdict = agree(model, 900)
    return "" if verdict.startswith("yes") else verdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=3, help="Timed runs per tool (default 3).")
    parser.add_argument("--warmup", type=int, default=1, help="Untimed runs first (default 1).")
    parser.add_argument("--timeout", type=float, default=1800.0, help="Seconds before a child is killed.")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="Cache of the model file.")
    parser.add_argument("--output", type=Path, default=DEFAULT_RESULTS, help="Markdown report to write.")
    parser.add_argument("--no-write", action="store_true", help="Only print the table.")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        exe = str(kinspect_executable())
        compile_bytecode()
        before = loadavg()
        model = ensure_model(args.work_dir, args.timeout)
        size = model.stat().st_size
        tools = [
            ("sequential read", [sys.executable, "-c", READ_CHILD, str(model)]),
            ("kinspect weights", [exe, "weights", str(model), "--format", "json"]),
            ("kinspect --histograms", [exe, "weights", str(model), "--format", "json", "--histograms"]),
            ("Keras way", [sys.executable, "-c", KERAS_CHILD, str(model)]),
        ]
        results = run(tools, args.repeats, args.warmup, args.timeout)
        verdict = agree(model, args.timeout)
        after = loadavg()
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    keras_s = statistics.median(m.wall_s for m in results["Keras way"])
    read_s = statistics.median(m.wall_s for m in results["sequential read"])
    lines = [
        "| Tool | Wall time | Throughput | Speed-up vs Keras | Time / sequential read | CPU time "
        "| Peak RSS |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for name, runs in results.items():
        wall = statistics.median(m.wall_s for m in runs)
        rss = max(m.maxrss_kib for m in runs) * 1024
        cpu = statistics.median(m.cpu_s for m in runs)
        lines.append(f"| {name} | {wall:.2f} s | {size / wall / 1e9:.2f} GB/s | {keras_s / wall:.1f}× | "
                     f"{wall / read_s:.1f}× | {cpu:.2f} s | {fmt_size(rss)} |")  # fmt: skip
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join([
        "# `kinspect weights` vs the Keras way",
        "",
        f"Generated by `python benchmarks/bench_weights.py` on {now}. Model: four `Dense(8192)` layers,"
        f" `.keras`, {fmt_size(size)} ({size / 1e9:.2f} GB).",
        "",
        *lines,
        "",
        f"Statistics agree with Keras + numpy: {verdict}.",
        "",
        f"Median wall time of {args.repeats} fresh child process(es) per tool after {args.warmup} warm-up(s),"
        " tools alternating, interpreter start-up and imports included; peak RSS is the child's `ru_maxrss`"
        " (kinspect's includes its reader children); CPU time is user + system time of the process and its"
        " children (median), which machine load inflates less than wall time. Throughput = file size / wall"
        " time. The sequential read is a plain `readinto` loop over the file in 4 MiB blocks, the practical"
        " limit.",
        "",
        f"- CPU: {cpu_model()}, RAM {mem_total()}; {platform.system()} {platform.release()}",
        f"- {load_note(before, after)}",
        f"- Python {platform.python_version()}; keras {version_of('keras')}, tensorflow-cpu"
        f" {version_of('tensorflow-cpu')}; kinspect at git {git_revision()}",
        "",
    ])  # fmt: skip
    print(report)
    if not args.no_write:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
