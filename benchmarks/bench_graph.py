"""Benchmark ``kinspect graph`` against ``keras.utils.plot_model`` on the same files, same run.

Run from the repository root::

    .venv/bin/python benchmarks/bench_graph.py                  # writes benchmarks/results/graph.md
    .venv/bin/python benchmarks/bench_graph.py --repeats 3 --timeout 900

Per model (``keras.applications`` ResNet50, DenseNet121, NASNetMobile with random weights, saved
as ``.keras`` into ``benchmarks/.work/``) and per output (``.png``, ``.svg``), each tool runs in
its own fresh child process, measured as ``bench_summary.py`` does (its helpers are imported):
wall time from spawn to reaping, and peak RSS (``ru_maxrss`` from ``os.wait4``: the largest
single process, Graphviz's ``dot`` included, since both tools wait for it).

kinspect: ``kinspect graph MODEL -o OUT --show-shapes`` (its defaults: 96 dpi PNG capped at
50 megapixels, ortho edges up to 400 nodes). Keras: ``load_model`` then
``plot_model(model, OUT, show_shapes=True)`` (its defaults: 200 dpi, ortho edges, pydot).
A synthetic 3,000-layer residual stack (Dense + Add) is drawn by kinspect only: Keras would
need the ortho router on 3,000 nodes, which does not finish in any reasonable time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_summary import (  # a script beside this one, not a package
    DEFAULT_WORK_DIR,
    BenchError,
    Measurement,
    ModelSpec,
    child_env,
    compile_bytecode,
    ensure_models,
    fmt_ratio,
    git_revision,
    kinspect_executable,
    measure,
    version_of,
)

RESULTS = Path(__file__).resolve().parent / "results" / "graph.md"
MODELS = [
    ModelSpec("resnet50.keras", "ResNet50", "ResNet50", ".keras"),
    ModelSpec("densenet121.keras", "DenseNet121", "DenseNet121", ".keras"),
    ModelSpec("nasnetmobile.keras", "NASNetMobile", "NASNetMobile", ".keras"),
]
KERAS_CHILD = """
import sys
import keras
model = keras.models.load_model(sys.argv[1])
keras.utils.plot_model(model, to_file=sys.argv[2], show_shapes=True)
"""
CHAIN_CHILD = """
import sys
import keras
sys.setrecursionlimit(100_000)  # Keras maps the graph recursively, one frame per layer
x = inp = keras.Input((8,))
for i in range(1500):
    x = keras.layers.Add()([x, keras.layers.Dense(8)(x)])
keras.Model(inp, x, name="chain3000").save(sys.argv[1])
"""


def run(cmd: list[str], repeats: int, timeout: float) -> tuple[float | None, int | None, str]:
    runs: list[Measurement] = [measure(cmd, timeout, child_env()) for _ in range(repeats)]
    failed = [m for m in runs if not m.ok]
    if failed:
        return None, None, failed[0].describe_failure()
    return statistics.median(m.wall_s for m in runs), max(m.maxrss_kib for m in runs), ""


def mib(kib: int | None) -> str:
    return "–" if kib is None else f"{kib / 1024:,.0f} MiB"


def secs(s: float | None, error: str) -> str:
    return error if s is None else f"{s:.2f} s"


def cases(quick: bool, work_dir: Path) -> list[Any]:
    """This benchmark's rows of ``run.py`` (see suite.py): ``graph`` against ``plot_model``."""
    from suite import Case, scratch

    specs = MODELS[:1] if quick else MODELS[:2]  # NASNetMobile and the 3,000-layer stack: bench_graph.py
    ensure_models(specs, work_dir, 900)
    out = []
    for spec in specs:
        path = work_dir / spec.filename
        for ext in ("svg",) if quick else ("svg", "png"):
            kin = [
                str(kinspect_executable()),
                "graph",
                str(path),
                "-o",
                str(scratch() / f"k.{ext}"),
                "--show-shapes",
            ]
            keras_cmd = [sys.executable, "-c", KERAS_CHILD, str(path), str(scratch() / f"keras.{ext}")]
            out.append(Case("graph", f"{spec.label} `.{ext}`", kin, keras_cmd,
                            "`load_model` + `plot_model(show_shapes=True)`"))  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    try:
        compile_bytecode()
        ensure_models(MODELS, args.work_dir, args.timeout)
        chain = args.work_dir / "chain3000.keras"
        if not chain.exists():
            m = measure([sys.executable, "-c", CHAIN_CHILD, str(chain)], args.timeout, child_env())
            if not m.ok:
                raise BenchError(f"could not build the 3,000-layer model: {m.stderr_tail}")
        kinspect = str(kinspect_executable())
    except BenchError as exc:
        print(f"bench_graph: {exc}", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cases = [(spec.label, args.work_dir / spec.filename, True) for spec in MODELS]
        cases.append(("Residual stack, 3,000 layers", chain, False))
        for label, path, with_keras in cases:
            for ext in ("png", "svg"):
                out = Path(tmp) / f"k.{ext}"
                k = run(
                    [kinspect, "graph", str(path), "-o", str(out), "--show-shapes"],
                    args.repeats,
                    args.timeout,
                )
                print(f"{label} {ext} kinspect {k}", file=sys.stderr, flush=True)
                if with_keras:
                    cmd = [sys.executable, "-c", KERAS_CHILD, str(path), str(Path(tmp) / f"keras.{ext}")]
                    r = run(cmd, args.repeats, args.timeout)
                    print(f"{label} {ext} keras {r}", file=sys.stderr, flush=True)
                else:
                    r = (None, None, "not run")
                rows.append(
                    f"| {label} | `.{ext}` | {secs(k[0], k[2])} | {secs(r[0], r[2])} "
                    f"| {fmt_ratio(k[0], r[0])} | {mib(k[1])} | {mib(r[1])} | {fmt_ratio(k[1], r[1])} |"
                )
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join(
        [
            "# `kinspect graph` vs `keras.utils.plot_model`",
            "",
            f"Generated by `python benchmarks/bench_graph.py` on {now}; {args.repeats} run(s) per cell, "
            "each a fresh child process (median wall time, maximum peak RSS).",
            "",
            "| Model | Output | kinspect | Keras | Speed-up | kinspect peak RSS | Keras peak RSS "
            "| Memory ratio |",
            "|---|---|--:|--:|--:|--:|--:|--:|",
            *rows,
            "",
            f"Python {platform.python_version()}; keras {version_of('keras')}, tensorflow-cpu "
            f"{version_of('tensorflow-cpu')}, pydot {version_of('pydot')}; kinspect at git {git_revision()}.",
            "",
        ]
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
