"""Benchmark ``kinspect diff`` against the Keras way (load both models + numpy on get_weights()).

Run from the repository root::

    .venv/bin/python benchmarks/bench_diff.py             # writes benchmarks/results/diff.md
    .venv/bin/python benchmarks/bench_diff.py --repeats 1 --no-write

Two models of four ``Dense(8192)`` layers (about 1 GB of float32 each) are generated once into
``benchmarks/.work/`` by a Keras child process: A, and B = A with two of its kernels moved by small
noise (a fine-tuning step). Every measurement is a fresh child process (wall time and peak RSS from
``os.wait4``, helpers shared with ``bench_summary.py``):

* **kinspect**: the installed ``kinspect diff A B --format json`` (every tensor's status, max |Δ|,
  relative L2, cosine, changed fraction, per layer, and the findings);
* **Keras**: ``keras.models.load_model`` of both, then, per pair of ``get_weights()`` arrays,
  numpy's max |Δ|, relative L2, cosine and changed count (what kinspect reports);
* **sequential read**: a plain ``read()`` of both files in 4 MiB blocks, the practical limit of any
  tool that looks at every byte (from the page cache, as the others).

This script never imports keras or tensorflow itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import subprocess
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
DEFAULT_RESULTS = BENCH_DIR / "results" / "diff.md"
NAMES = ("diff_a.keras", "diff_b.keras")

GENERATE_CHILD = """
import os, sys
import numpy as np
import keras
from keras import layers
a, b = sys.argv[1], sys.argv[2]
width = int(sys.argv[3]) if len(sys.argv) > 3 else 8192
keras.utils.set_random_seed(0)
inp = keras.Input((width,))
x = inp
for i in range(4):
    x = layers.Dense(width, name=f"dense_{i}")(x)
model = keras.Model(inp, x, name=f"dense4x{width}")
model.save(a + ".partial.keras")
rng = np.random.default_rng(1)
for name in ("dense_2", "dense_3"):
    layer = model.get_layer(name)
    kernel, bias = layer.get_weights()
    kernel += rng.normal(scale=1e-3, size=kernel.shape).astype(kernel.dtype)
    layer.set_weights([kernel, bias])
model.save(b + ".partial.keras")
os.replace(a + ".partial.keras", a)
os.replace(b + ".partial.keras", b)
"""

KERAS_CHILD = """
import json, sys
import numpy as np
import keras
a = keras.models.load_model(sys.argv[1]).get_weights()
b = keras.models.load_model(sys.argv[2]).get_weights()
rows = []
for x, y in zip(a, b):
    x64, y64 = x.astype(np.float64).ravel(), y.astype(np.float64).ravel()
    d = y64 - x64
    na, nb = np.linalg.norm(x64), np.linalg.norm(y64)
    rows.append({"unchanged": bool(np.array_equal(x, y)), "max_abs": float(np.abs(d).max()),
                 "rel_l2": float(np.linalg.norm(d) / na) if na else None,
                 "cosine": float(x64 @ y64 / (na * nb)) if na and nb else None,
                 "changed": int(np.count_nonzero(d))})
print(json.dumps(rows))
"""

READ_CHILD = """
import sys
for path in sys.argv[1:]:
    with open(path, "rb", buffering=0) as f:
        buf = bytearray(4 << 20)
        while f.readinto(buf):
            pass
"""


def ensure_models(work_dir: Path, timeout: float, width: int = 8192) -> tuple[Path, Path]:
    """A and B of four ``Dense(width)`` layers (8192: about 1 GB each)."""
    names = NAMES if width == 8192 else tuple(n.replace(".keras", f"_{width}.keras") for n in NAMES)
    a, b = (work_dir / n for n in names)
    if a.exists() and b.exists():
        return a, b
    work_dir.mkdir(parents=True, exist_ok=True)
    print(f"generating {a} and {b} (4×Dense({width}) each) ...", file=sys.stderr, flush=True)
    m = measure([sys.executable, "-c", GENERATE_CHILD, str(a), str(b), str(width)], timeout, child_env())
    if not m.ok or not (a.exists() and b.exists()):
        raise BenchError(f"could not generate the models ({m.describe_failure()})\n{m.stderr_tail}")
    return a, b


def run(name: str, cmd: list[str], repeats: int, warmup: int, timeout: float) -> list[Measurement]:
    runs = []
    for i in range(warmup + repeats):
        m = measure(cmd, timeout, child_env())
        what = "warm-up" if i < warmup else f"run {i - warmup + 1}/{repeats}"
        status = "ok" if m.ok else m.describe_failure()
        print(f"  {what:>9} {name:<22} {m.wall_s:7.2f} s {m.maxrss_kib / 1024:8.1f} MiB  {status}",
              file=sys.stderr, flush=True)  # fmt: skip
        if not m.ok:
            raise BenchError(f"{name} failed: {m.stderr_tail.strip()[-1500:]}")
        if i >= warmup:
            runs.append(m)
    return runs


def agree(a: Path, b: Path, timeout: float) -> str:
    """kinspect's figures against Keras+numpy's, tensor by tensor (untimed runs)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "d.json"
        env = child_env()
        cmd = [str(kinspect_executable()), "diff", str(a), str(b), "--format", "json", "-o", str(out)]
        subprocess.run(cmd, check=True, timeout=timeout, env=env)
        mine = json.loads(out.read_text())["tensors"]
        proc = subprocess.run([sys.executable, "-c", KERAS_CHILD, str(a), str(b)], capture_output=True,
                              text=True, check=True, timeout=timeout, env=env)  # fmt: skip
        theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    if len(mine) != len(theirs):
        return f"**NO** ({len(mine)} vs {len(theirs)} tensors)"
    worst = 0.0
    for x, y in zip(mine, theirs, strict=True):
        if (x["status"] == "unchanged") != y["unchanged"]:
            return "**NO** (statuses differ)"
        if round(x["changed_fraction"] * x["size"]) != y["changed"]:
            return "**NO** (changed counts differ)"
        for key in ("max_abs", "rel_l2", "cosine"):
            if y[key] is not None and x[key] is not None:
                worst = max(worst, abs(x[key] - y[key]) / max(abs(y[key]), 1e-30))
    return f"yes (largest relative deviation {worst:.1e})"


def cases(quick: bool, work_dir: Path) -> list[Any]:
    """This benchmark's rows of ``run.py`` (see suite.py): ``kinspect diff`` of A and B against
    loading both with Keras and comparing every pair of weights with numpy; the figures of every
    tensor compared (untimed). ``--quick``: four ``Dense(2048)`` layers (67 MB a model), not 1 GB."""
    from suite import Case

    width = 2048 if quick else 8192
    a, b = ensure_models(work_dir, 1800, width)
    size = a.stat().st_size + b.stat().st_size

    def same_figures() -> str:
        verdict = agree(a, b, 1800)
        worst = verdict.rpartition("deviation ")[2].rstrip(")")
        return "" if verdict.startswith("yes") and float(worst) <= 1e-6 else verdict

    return [
        Case("diff", f"4×Dense({width}) `.keras` A vs B, {fmt_size(size)} in all",
             [str(kinspect_executable()), "diff", str(a), str(b), "--format", "json"],
             [sys.executable, "-c", KERAS_CHILD, str(a), str(b)],
             "`load_model` ×2 + numpy per weight pair", check=same_figures),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=3, help="Timed runs per tool (default 3).")
    parser.add_argument("--warmup", type=int, default=1, help="Untimed runs first (default 1).")
    parser.add_argument("--timeout", type=float, default=1800.0, help="Seconds before a child is killed.")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="Cache of the model files.")
    parser.add_argument("--output", type=Path, default=DEFAULT_RESULTS, help="Markdown report to write.")
    parser.add_argument("--no-write", action="store_true", help="Only print the table.")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        exe = str(kinspect_executable())
        compile_bytecode()
        before = loadavg()
        a, b = ensure_models(args.work_dir, args.timeout)
        size = a.stat().st_size + b.stat().st_size
        tools = [
            ("sequential read", [sys.executable, "-c", READ_CHILD, str(a), str(b)]),
            ("kinspect diff", [exe, "diff", str(a), str(b), "--format", "json"]),
            ("Keras way", [sys.executable, "-c", KERAS_CHILD, str(a), str(b)]),
        ]
        results = {name: run(name, cmd, args.repeats, args.warmup, args.timeout) for name, cmd in tools}
        verdict = agree(a, b, args.timeout)
        after = loadavg()
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    keras_s = statistics.median(m.wall_s for m in results["Keras way"])
    lines = [
        "| Tool | Wall time | Throughput (both files) | Speed-up vs Keras | Peak RSS |",
        "|---|--:|--:|--:|--:|",
    ]
    for name, runs in results.items():
        wall = statistics.median(m.wall_s for m in runs)
        rss = max(m.maxrss_kib for m in runs) * 1024
        lines.append(f"| {name} | {wall:.2f} s | {size / wall / 1e9:.2f} GB/s | {keras_s / wall:.1f}× | "
                     f"{fmt_size(rss)} |")  # fmt: skip
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join([
        "# `kinspect diff` vs the Keras way",
        "",
        f"Generated by `python benchmarks/bench_diff.py` on {now}. Models: two `.keras` files of four"
        f" `Dense(8192)` layers, {fmt_size(size)} together ({size / 1e9:.2f} GB); B has two kernels moved.",
        "",
        *lines,
        "",
        f"Figures agree with Keras + numpy: {verdict}.",
        "",
        f"Median wall time of {args.repeats} fresh child process(es) per tool after {args.warmup} warm-up(s),"
        " interpreter start-up and imports included; peak RSS is the child's `ru_maxrss` (kinspect's"
        " includes its reader child). Throughput = both files' size / wall time. The sequential read is a"
        " plain `readinto` loop over both files in 4 MiB blocks, the practical limit.",
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
