"""Benchmark ``kinspect report`` against ``keras.utils.plot_model`` on the same model.

Run from the repository root::

    .venv/bin/python benchmarks/bench_report.py              # ResNet50 .keras and .h5, writes results/
    .venv/bin/python benchmarks/bench_report.py --quick      # ResNet50 .keras only, 1 repeat, no write

Each measurement is a fresh child process (helpers shared with ``bench_summary.py``):

* **kinspect**: ``kinspect report MODEL -o DIR``: the whole report (metadata, layer table, weight
  statistics with histograms for every tensor, diagnostics, checks, inline SVG graph and
  model.png), as a user runs it;
* **Keras**: ``python -c`` loading the model with ``keras.models.load_model`` and calling
  ``keras.utils.plot_model(model, to_file=...)`` with its defaults (one PNG, no shapes). The child
  also reports how long the ``plot_model`` call alone took, so kinspect's whole run is compared
  both with the Keras process and with that one call.

The models are the ``keras.applications`` files ``bench_summary.py`` generates in
``benchmarks/.work/`` (``weights=None``: nothing is downloaded). This script never imports keras.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bench_summary as bs

RESULTS = bs.BENCH_DIR / "results" / "report.md"
MODELS = ["resnet50.keras", "resnet50.h5"]

# argv: model path, PNG path, result-json path. plot_model's own time is measured in-process.
KERAS_CHILD = """
import json, sys, time
import keras
model = keras.models.load_model(sys.argv[1])
start = time.perf_counter()
keras.utils.plot_model(model, to_file=sys.argv[2])
with open(sys.argv[3], "w") as f:
    json.dump({"plot_model_s": time.perf_counter() - start}, f)
"""


@dataclass
class Result:
    spec: bs.ModelSpec
    size: int
    kinspect: list[bs.Measurement] = field(default_factory=list)
    keras: list[bs.Measurement] = field(default_factory=list)
    plot_call: list[float] = field(default_factory=list)

    def median(self, runs: list[bs.Measurement]) -> float | None:
        ok = [m.wall_s for m in runs if m.ok]
        return statistics.median(ok) if ok and len(ok) == len(runs) else None

    def peak(self, runs: list[bs.Measurement]) -> float | None:
        return max(m.maxrss_kib for m in runs) / 1024 if runs and all(m.ok for m in runs) else None


def run_kinspect(model: Path, timeout: float, env: dict[str, str]) -> bs.Measurement:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(bs.kinspect_executable()), "report", str(model), "-o", str(Path(tmp) / "report")]
        m = bs.measure(cmd, timeout, env)
        if m.ok and not (Path(tmp) / "report" / "report.html").exists():
            m.returncode = -1
        return m


def run_keras(model: Path, timeout: float, env: dict[str, str]) -> tuple[bs.Measurement, float | None]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "times.json"
        cmd = [sys.executable, "-c", KERAS_CHILD, str(model), str(Path(tmp) / "model.png"), str(out)]
        m = bs.measure(cmd, timeout, env)
        data = bs.read_json(out)
        return m, (float(data["plot_model_s"]) if data else None)


def bench(spec: bs.ModelSpec, path: Path, args: argparse.Namespace) -> Result:
    env = bs.child_env()
    result = Result(spec, path.stat().st_size)
    print(f"{spec.key}: warm-up", file=sys.stderr, flush=True)
    for _ in range(args.warmup):
        run_kinspect(path, args.timeout, env)
        run_keras(path, args.timeout, env)
    for i in range(args.repeats):  # alternate, so that drift in machine load hits both alike
        result.kinspect.append(run_kinspect(path, args.timeout, env))
        m, call = run_keras(path, args.timeout, env)
        result.keras.append(m)
        if call is not None:
            result.plot_call.append(call)
        print(
            f"{spec.key}: run {i + 1}: kinspect {result.kinspect[-1].wall_s:.2f} s, Keras {m.wall_s:.2f} s "
            f"(plot_model {call if call is not None else float('nan'):.2f} s)",
            file=sys.stderr,
            flush=True,
        )
    for runs, who in ((result.kinspect, "kinspect"), (result.keras, "Keras")):
        for m in runs:
            if not m.ok:
                print(f"{who} failed on {spec.key}: {m.describe_failure()}\n{m.stderr_tail}", file=sys.stderr)
    return result


def cases(quick: bool, work_dir: Path) -> list[Any]:
    """This benchmark's rows of ``run.py`` (see suite.py): the whole report against the Keras
    process, and against the ``plot_model()`` call alone on a model already loaded."""
    from suite import Case, scratch

    keys = MODELS[:1] if quick else MODELS
    specs = [bs.MODELS[k] for k in keys]
    bs.ensure_models(specs, work_dir, 900)
    out = []
    for spec in specs:
        path = work_dir / spec.filename
        tmp = scratch() / f"report-{spec.key}"
        tmp.mkdir(parents=True, exist_ok=True)
        inner = tmp / "plot_model.json"
        # KERAS_CHILD writes {"plot_model_s"}; suite wants {"seconds"}: same child, renamed key.
        child = KERAS_CHILD.replace('"plot_model_s"', '"seconds"')
        kin = [str(bs.kinspect_executable()), "report", str(path), "-o", str(tmp / "report")]
        keras_cmd = [sys.executable, "-c", child, str(path), str(tmp / "keras.png"), str(inner)]
        label = f"{spec.label} `{spec.fmt}`"
        out.append(Case("report", label, kin, keras_cmd, "`plot_model()` call alone, model loaded",
                        other_inner=inner))  # fmt: skip
    return out


def render_table(results: list[Result]) -> str:
    lines = [
        "| Model | Format | File size | `kinspect report` | Keras `load_model` + `plot_model` | "
        "`plot_model()` call alone | Speed-up vs Keras process | Speed-up vs the call alone | "
        "kinspect peak RSS | Keras peak RSS |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        k, K = r.median(r.kinspect), r.median(r.keras)
        call = statistics.median(r.plot_call) if r.plot_call else None
        kr, Kr = r.peak(r.kinspect), r.peak(r.keras)
        lines.append(
            f"| {r.spec.label} | `{r.spec.fmt}` | {bs.fmt_size(r.size)} | {bs.fmt_time(k)} | "
            f"{bs.fmt_time(K)} | {bs.fmt_time(call)} | {bs.fmt_ratio(k, K)} | {bs.fmt_ratio(k, call)} | "
            f"{f'{kr:,.1f} MiB' if kr else 'failed'} | {f'{Kr:,.1f} MiB' if Kr else 'failed'} |"
        )
    return "\n".join(lines) + "\n"


def render_report(results: list[Result], args: argparse.Namespace, before: tuple[float, ...]) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = "python benchmarks/bench_report.py" + (" " + " ".join(args.argv) if args.argv else "")
    return "\n".join(
        [
            "# `kinspect report` vs `keras.utils.plot_model`",
            "",
            f"Generated by `{command}` on {now}.",
            "",
            render_table(results),
            f"Median wall time over {args.repeats} timed run(s) per tool after {args.warmup} warm-up "
            "run(s), each a fresh child process (start-up and imports included), kinspect and Keras "
            "alternating. kinspect writes the whole report: layer table, statistics and a 24-bin "
            "histogram of every tensor (all 25.6 M values read), diagnostics and check rules, the "
            "graph as inline SVG and as model.png. Keras loads the model and draws one PNG with "
            "`plot_model`'s defaults; its child also times the `plot_model` call alone, "
            "model already loaded.",
            "",
            "Environment:",
            "",
            f"- CPU: {bs.cpu_model()}, {os.cpu_count()} logical cores; RAM: {bs.mem_total()}; "
            f"{platform.system()} {platform.release()}",
            f"- {bs.load_note(before, bs.loadavg())}",
            f"- Python {platform.python_version()}; keras {bs.version_of('keras')}, tensorflow-cpu "
            f"{bs.version_of('tensorflow-cpu')}, pydot {bs.version_of('pydot')}; kinspect "
            f"{bs.version_of('kinspect')} at git {bs.git_revision()}",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="ResNet50 .keras, 1 repeat, no warm-up, no write"
    )
    parser.add_argument("--models", help=f"comma-separated keys (default {','.join(MODELS)})")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--work-dir", type=Path, default=bs.DEFAULT_WORK_DIR)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    keys = MODELS
    if args.quick:
        keys, args.repeats, args.warmup, args.no_write = ["resnet50.keras"], 1, 0, True
    elif args.models:
        keys = [k.strip() for k in args.models.split(",")]
    try:
        specs = [bs.MODELS[k] for k in keys]
    except KeyError as exc:
        parser.error(f"unknown model {exc}; known: {', '.join(bs.MODELS)}")
    try:
        bs.kinspect_executable()
        bs.compile_bytecode()
        bs.ensure_models(specs, args.work_dir, args.timeout)
        before = bs.loadavg()
        results = [bench(spec, args.work_dir / spec.filename, args) for spec in specs]
    except bs.BenchError as exc:
        print(f"bench_report: {exc}", file=sys.stderr)
        return 2
    text = render_report(results, args, before)
    print(text)
    if not args.no_write:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
        raw = [
            {"model": r.spec.key, "kinspect_s": [m.wall_s for m in r.kinspect],
             "keras_s": [m.wall_s for m in r.keras], "plot_model_call_s": r.plot_call}
            for r in results
        ]  # fmt: skip
        args.output.with_suffix(".json").write_text(json.dumps(raw, indent=2) + "\n")
    ok = all(m.ok for r in results for m in (*r.kinspect, *r.keras))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
