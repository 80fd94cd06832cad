"""Benchmark kinspect on TensorFlow checkpoints and SavedModels against TensorFlow and tf.keras.

Run from the repository root::

    .venv/bin/python benchmarks/bench_tf.py              # writes benchmarks/results/tf.md
    .venv/bin/python benchmarks/bench_tf.py --repeats 1 --no-write

The files are ``tf_keras.applications.ResNet50(weights=None)`` (25.6 M parameters, compiled with
Adam so that no optimizer state is stored), written once into ``benchmarks/.work/`` by a tf_keras
child: ``save_weights`` in TensorFlow format (``resnet50_ckpt/``, with its ``checkpoint`` state
file) and ``model.save`` as a SavedModel (``resnet50_savedmodel/``), plus its ``config.json``.
Every measurement is a fresh child process (wall time and peak RSS from ``os.wait4``, helpers
shared with ``bench_summary.py``), tools alternating, median of the timed runs after a warm-up:

* **summary**: ``kinspect summary`` on the checkpoint directory (weights only), the same with
  ``--arch config.json`` (the full summary), and on the SavedModel; against tf.keras, which needs
  the model built from its code and ``load_weights`` for a checkpoint, ``load_model`` for a
  SavedModel, then ``summary()``;
* **weights**: ``kinspect weights --format json`` (statistics of every tensor and the diagnostics)
  against ``tf.train.load_checkpoint`` + ``get_tensor`` of every key + the same numpy statistics.

This script never imports keras, tf_keras or tensorflow itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
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
DEFAULT_RESULTS = BENCH_DIR / "results" / "tf.md"

GENERATE_CHILD = """
import json, os, shutil, sys
import tf_keras
work = sys.argv[1]
model = tf_keras.applications.ResNet50(weights=None)
model.compile(optimizer="adam", loss="categorical_crossentropy")
model.save_weights(os.path.join(work, "resnet50_ckpt.partial", "ckpt"))
model.save(os.path.join(work, "resnet50_savedmodel.partial"))
with open(os.path.join(work, "resnet50.config.json"), "w") as fh:
    fh.write(model.to_json())
with open(os.path.join(work, "resnet50.params.json"), "w") as fh:
    json.dump({"total_params": model.count_params()}, fh)
for name in ("resnet50_ckpt", "resnet50_savedmodel"):
    final = os.path.join(work, name)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(final + ".partial", final)
"""

# tf.keras cannot read a checkpoint without the model's code: build it, then load the weights.
KERAS_CKPT_CHILD = """
import sys
import tf_keras
model = tf_keras.applications.ResNet50(weights=None)
model.load_weights(sys.argv[1]).expect_partial()
model.summary()
"""

KERAS_SAVEDMODEL_CHILD = """
import sys
import tf_keras
model = tf_keras.models.load_model(sys.argv[1])
model.summary()
"""

TF_WEIGHTS_CHILD = """
import json, sys
import numpy as np
import tensorflow as tf
reader = tf.train.load_checkpoint(sys.argv[1])
rows = {}
for key, dtype in sorted(reader.get_variable_to_dtype_map().items()):
    if dtype == tf.string:
        continue
    x = np.asarray(reader.get_tensor(key)).astype(np.float64)
    rows[key] = {"min": float(x.min()) if x.size else None, "max": float(x.max()) if x.size else None,
                 "mean": float(x.mean()) if x.size else None, "std": float(x.std()) if x.size else None,
                 "zeros": int(x.size - np.count_nonzero(x)), "nan": int(np.isnan(x).sum()),
                 "inf": int(np.isinf(x).sum())}
print(json.dumps(rows))
"""


def ensure_files(work: Path, timeout: float) -> dict[str, Path]:
    files = {
        "ckpt": work / "resnet50_ckpt",
        "savedmodel": work / "resnet50_savedmodel",
        "config": work / "resnet50.config.json",
        "params": work / "resnet50.params.json",
    }
    if all(p.exists() for p in files.values()):
        return files
    work.mkdir(parents=True, exist_ok=True)
    print(f"generating ResNet50 TF checkpoint and SavedModel in {work} ...", file=sys.stderr, flush=True)
    m = measure([sys.executable, "-c", GENERATE_CHILD, str(work)], timeout, child_env())
    if not m.ok or not all(p.exists() for p in files.values()):
        raise BenchError(f"could not generate the files ({m.describe_failure()})\n{m.stderr_tail}")
    return files


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_pair(
    label: str, tools: list[tuple[str, list[str]]], repeats: int, warmup: int, timeout: float
) -> dict[str, list[Measurement]]:
    """Warm-ups, then timed runs alternating between the tools (so machine load hits both alike)."""
    out: dict[str, list[Measurement]] = {name: [] for name, _ in tools}
    for i in range(warmup + repeats):
        for name, cmd in tools:
            m = measure(cmd, timeout, child_env())
            what = "warm-up" if i < warmup else f"run {i - warmup + 1}/{repeats}"
            status = "ok" if m.ok else m.describe_failure()
            print(f"  {label:<28} {what:>9} {name:<26} {m.wall_s:7.2f} s {m.maxrss_kib / 1024:8.1f} MiB  "
                  f"{status}", file=sys.stderr, flush=True)  # fmt: skip
            if not m.ok:
                raise BenchError(f"{name} failed: {m.stderr_tail.strip()[-1500:]}")
            if i >= warmup:
                out[name].append(m)
    return out


def kinspect_json(*args: str, timeout: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        cmd = [str(kinspect_executable()), *args, "--format", "json", "-o", str(out)]
        subprocess.run(cmd, check=True, timeout=timeout, env=child_env())
        return json.loads(out.read_text())


def agree(files: dict[str, Path], timeout: float) -> list[str]:
    """Parameter counts and statistics against tf.keras and TensorFlow (untimed runs)."""
    want = json.loads(files["params"].read_text())["total_params"]
    lines = []
    for what, args in (
        ("checkpoint + --arch", ["summary", str(files["ckpt"]), "--arch", str(files["config"])]),
        ("checkpoint alone", ["summary", str(files["ckpt"])]),
        ("SavedModel", ["summary", str(files["savedmodel"])]),
    ):
        got = kinspect_json(*args, timeout=timeout)["total_params"]
        lines.append(
            f"{what}: {got:,} parameters ({'equal to' if got == want else '**not**'} Keras's {want:,})"
        )
    mine = kinspect_json("weights", str(files["ckpt"]), timeout=timeout)["tensors"]
    cmd = [sys.executable, "-c", TF_WEIGHTS_CHILD, str(files["ckpt"] / "ckpt")]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=timeout, env=child_env())
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    worst, counts = 0.0, True
    for t in mine:
        ref = theirs[t["path"]]
        scale = max(abs(ref["max"]), abs(ref["min"]), 1e-30)
        for key in ("min", "max", "mean", "std"):
            worst = max(worst, abs(t[key] - ref[key]) / scale)
        counts = counts and all(t[k] == ref[k] for k in ("zeros", "nan", "inf"))
    covered = len(mine) == len([k for k in theirs if not k.startswith("optimizer/")])
    lines.append(f"weights: {len(mine)} tensors, statistics agree with TensorFlow + numpy to {worst:.1e} of "
                 f"max |x|, counts {'equal' if counts else '**differ**'}, "
                 f"{'every' if covered else '**not every**'} model tensor read")  # fmt: skip
    return lines


def cases(quick: bool, work_dir: Path) -> list[Any]:
    """This benchmark's rows of ``run.py`` (see suite.py): TF checkpoint and SavedModel."""
    from suite import Case

    files = ensure_files(work_dir, 900)
    kin = str(kinspect_executable())
    ckpt, saved = str(files["ckpt"] / "ckpt"), str(files["savedmodel"])
    out = [
        Case("tf", "TF checkpoint `summary`", [kin, "summary", ckpt],
             [sys.executable, "-c", KERAS_CKPT_CHILD, ckpt], "tf.keras build + `load_weights` + `summary()`"),
        Case("tf", "TF checkpoint `weights`", [kin, "weights", ckpt, "-o", os.devnull],
             [sys.executable, "-c", TF_WEIGHTS_CHILD, ckpt], "`tf.train.load_checkpoint` + every tensor"),
    ]  # fmt: skip
    if not quick:
        out += [
            Case("tf", "SavedModel `summary`", [kin, "summary", saved],
                 [sys.executable, "-c", KERAS_SAVEDMODEL_CHILD, saved],
                 "tf.keras `load_model` + `summary()`"),
            Case("tf", "SavedModel `weights`", [kin, "weights", saved, "-o", os.devnull],
                 [sys.executable, "-c", TF_WEIGHTS_CHILD, saved + "/variables/variables"],
                 "`tf.train.load_checkpoint` + every tensor"),
        ]  # fmt: skip
    return out


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
        files = ensure_files(args.work_dir, args.timeout)
        ckpt, saved, config = str(files["ckpt"]), str(files["savedmodel"]), str(files["config"])
        keras_ckpt = [sys.executable, "-c", KERAS_CKPT_CHILD, str(files["ckpt"] / "ckpt")]
        keras_saved = [sys.executable, "-c", KERAS_SAVEDMODEL_CHILD, saved]
        build = "tf.keras build + load_weights + summary()"
        tf_read = "tf.train.load_checkpoint + every tensor"
        rows = [
            ("TF checkpoint", "summary", files["ckpt"],
             [("kinspect summary", [exe, "summary", ckpt]), (build, keras_ckpt)]),
            ("TF checkpoint", "summary --arch config.json", files["ckpt"],
             [("kinspect summary --arch", [exe, "summary", ckpt, "--arch", config]), (build, keras_ckpt)]),
            ("TF checkpoint", "weights", files["ckpt"],
             [("kinspect weights", [exe, "weights", ckpt, "--format", "json"]),
              (tf_read, [sys.executable, "-c", TF_WEIGHTS_CHILD, f"{ckpt}/ckpt"])]),
            ("SavedModel", "summary", files["savedmodel"],
             [("kinspect summary", [exe, "summary", saved]),
              ("tf.keras load_model + summary()", keras_saved)]),
            ("SavedModel", "weights", files["savedmodel"],
             [("kinspect weights", [exe, "weights", saved, "--format", "json"]),
              (tf_read, [sys.executable, "-c", TF_WEIGHTS_CHILD, f"{saved}/variables/variables"])]),
        ]  # fmt: skip
        results = []
        for fmt, task, where, tools in rows:
            measured = run_pair(f"{fmt} {task}", tools, args.repeats, args.warmup, args.timeout)
            results.append((fmt, task, dir_size(where), tools, measured))
        verdict = agree(files, args.timeout)
        after = loadavg()
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = [
        "| Input | Task | Size | kinspect | TensorFlow / tf.keras | Speed-up | kinspect peak RSS "
        "| TF peak RSS | Memory ratio |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for fmt, task, size, tools, measured in results:
        (mine_name, _), (theirs_name, _) = tools
        mine, theirs = measured[mine_name], measured[theirs_name]
        t_mine = statistics.median(m.wall_s for m in mine)
        t_theirs = statistics.median(m.wall_s for m in theirs)
        r_mine = max(m.maxrss_kib for m in mine) * 1024
        r_theirs = max(m.maxrss_kib for m in theirs) * 1024
        table.append(
            f"| {fmt} | `{task}` | {fmt_size(size)} | {t_mine:.2f} s | {t_theirs:.2f} s ({theirs_name}) "
            f"| {t_theirs / t_mine:.1f}× | {fmt_size(r_mine)} | {fmt_size(r_theirs)} "
            f"| {r_theirs / r_mine:.1f}× |"
        )
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join([
        "# kinspect on TensorFlow checkpoints and SavedModels vs TensorFlow and tf.keras",
        "",
        f"Generated by `python benchmarks/bench_tf.py` on {now}. Model: tf_keras `ResNet50(weights=None)`"
        " (25.6 M parameters), saved with `save_weights` (TensorFlow format) and as a SavedModel.",
        "",
        *table,
        "",
        *(f"- {line}" for line in verdict),
        "",
        f"Median wall time of {args.repeats} fresh child process(es) per tool after {args.warmup} warm-up(s),"
        " tools alternating, interpreter start-up and imports included; peak RSS is the child's `ru_maxrss`"
        " (kinspect's includes its reader child).",
        "",
        f"- CPU: {cpu_model()}, RAM {mem_total()}; {platform.system()} {platform.release()}",
        f"- {load_note(before, after)}",
        f"- Python {platform.python_version()}; tensorflow-cpu {version_of('tensorflow-cpu')}, tf_keras"
        f" {version_of('tf_keras')}; kinspect at git {git_revision()}",
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
