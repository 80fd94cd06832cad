"""Benchmark ``kinspect summary --cost`` against the TensorFlow way of counting FLOPs, same run.

Run from the repository root::

    .venv/bin/python benchmarks/bench_cost.py                  # writes benchmarks/results/cost.md
    .venv/bin/python benchmarks/bench_cost.py --repeats 5

Per model (``keras.applications`` ResNet50 and MobileNetV2 with random weights, saved as
``.keras`` into ``benchmarks/.work/``, as ``bench_summary.py`` makes them):

- the cost analysis alone, in process: the median of ``--inner`` calls of
  ``kinspect.analyzers.cost.analyze`` on the loaded model (what ``--cost`` adds to ``summary``);
- ``kinspect summary MODEL`` and ``kinspect summary MODEL --cost``, each in a fresh child
  (wall time and peak RSS, median of ``--repeats`` runs);
- the TensorFlow way, in a fresh child: ``keras.models.load_model``, trace the model at batch 1
  in a ``tf.function``, freeze it (``convert_variables_to_constants_v2``) and run
  ``tf.compat.v1.profiler`` with ``ProfileOptionBuilder.float_operation()``; its float
  operations are printed beside kinspect's FLOPs (2 × MACs + element-wise ops).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_summary import (  # a script beside this one, not a package
    DEFAULT_WORK_DIR,
    ModelSpec,
    child_env,
    compile_bytecode,
    ensure_models,
    git_revision,
    kinspect_cmd,
    load_note,
    loadavg,
    measure,
    version_of,
)

RESULTS = Path(__file__).resolve().parent / "results" / "cost.md"
MODELS = [
    ModelSpec("resnet50.keras", "ResNet50", "ResNet50", ".keras"),
    ModelSpec("mobilenetv2.keras", "MobileNetV2", "MobileNetV2", ".keras"),
]
TF_CHILD = """
import json, os, sys
# As tests/test_cost.py: the ops whose float operations are 2 per multiply-accumulate.
PRODUCT_OPS = {"Conv2D", "Conv3D", "DepthwiseConv2dNative", "MatMul", "BatchMatMul", "BatchMatMulV2",
               "BatchMatMulV3", "Conv2DBackpropInput"}
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras, tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
model = keras.models.load_model(sys.argv[1])
spec = [tf.TensorSpec((1, *model.inputs[0].shape[1:]), model.inputs[0].dtype)]
traced = tf.function(lambda x: model(x, training=False)).get_concrete_function(*spec)
frozen = convert_variables_to_constants_v2(traced)
with tf.Graph().as_default() as graph:
    tf.graph_util.import_graph_def(frozen.graph.as_graph_def(), name="")
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    meta = tf.compat.v1.RunMetadata()
    found = tf.compat.v1.profiler.profile(graph, run_meta=meta, cmd="scope", options=options)
    kinds = {op.name: op.type for op in graph.get_operations()}
products, stack = 0, [found]  # the float ops of the product ops (2 per multiply-accumulate)
while stack:
    node = stack.pop()
    if node.float_ops and kinds.get(node.name) in PRODUCT_OPS:
        products += int(node.float_ops)
    stack.extend(node.children)
with open(sys.argv[2], "w") as fh:
    json.dump({"flops": int(found.total_float_ops), "products": products}, fh)
"""


def in_process(path: Path, inner: int) -> tuple[float, float, float, dict[str, int]]:
    """(median and fastest ms of the cost analysis, median ms of the summary rows, kinspect's
    counts)."""
    import kinspect
    from kinspect.analyzers.cost import analyze
    from kinspect.analyzers.summary import summarize

    info = kinspect.load(path)
    analyze(info)
    cost_ms, rows_ms = [], []
    for _ in range(inner):
        start = time.perf_counter()
        report = analyze(info)
        cost_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        summarize(info)
        rows_ms.append((time.perf_counter() - start) * 1000)
    counts = {"macs": report.total_macs, "flops": report.total_flops + report.total_elementwise}
    return statistics.median(cost_ms), min(cost_ms), statistics.median(rows_ms), counts


def cases(quick: bool, work_dir: Path) -> list[Any]:
    """This benchmark's rows of ``run.py`` (see suite.py): ``kinspect summary --cost`` against
    ``load_model`` + freeze + the TF profiler; 2 × kinspect's MACs compared with the profiler's
    product ops (untimed). ``--quick``: MobileNetV2 only."""
    from suite import Case, scratch

    specs = MODELS[1:] if quick else MODELS
    ensure_models(specs, work_dir, 900)
    out = []
    for spec in specs:
        path = work_dir / spec.filename
        side = scratch() / f"cost-{spec.key}.json"
        tf_cmd = [sys.executable, "-c", TF_CHILD, str(path), str(side)]
        way = "`load_model` + freeze + `tf.compat.v1.profiler` float ops"
        check = functools.partial(_products_agree, path, tf_cmd, side)
        out.append(Case("cost", f"{spec.label} `.keras` `summary --cost`", kinspect_cmd(path, "--cost"),
                        tf_cmd, way, check=check))  # fmt: skip
    return out


def _products_agree(path: Path, tf_cmd: list[str], side: Path) -> str:
    """2 × kinspect's MACs against the profiler's product ops (exactly: no layer of these models
    hides its products from the profiler)."""
    import kinspect
    from kinspect.analyzers.cost import analyze

    macs = analyze(kinspect.load(path)).total_macs
    m = measure(tf_cmd, 900, child_env())
    if not m.ok:
        return f"not checked (profiler child {m.describe_failure()})"
    products = json.loads(side.read_text())["products"]
    return "" if products == 2 * macs else f"**NO**: profiler product ops {products:,}, 2 × MACs {2 * macs:,}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--inner", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    compile_bytecode()
    ensure_models(MODELS, args.work_dir, args.timeout)
    env = child_env()
    before = loadavg()
    lines = [
        "| model | cost analysis (in process) | summary | summary --cost | TF profiler way | kinspect MACs | "
        "kinspect FLOPs (2×MACs + element-wise) | profiler float ops |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for spec in MODELS:
        path = args.work_dir / spec.filename
        cost_ms, fastest, rows_ms, counts = in_process(path, args.inner)
        runs: dict[str, list] = {"plain": [], "cost": [], "tf": []}
        flops = None
        for _ in range(args.repeats):
            runs["plain"].append(measure(kinspect_cmd(path), args.timeout, env))
            runs["cost"].append(measure(kinspect_cmd(path, "--cost"), args.timeout, env))
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "tf.json"
                runs["tf"].append(
                    measure([sys.executable, "-c", TF_CHILD, str(path), str(out)], args.timeout, env)
                )
                if out.exists():
                    flops = json.loads(out.read_text())["flops"]

        def cell(ms: list) -> str:
            ok = [m for m in ms if m.ok]
            if not ok:
                return "failed"
            wall = statistics.median(m.wall_s for m in ok)
            rss = statistics.median(m.maxrss_kib for m in ok) / 1024
            return f"{wall:.2f} s, {rss:.0f} MiB"

        analysis = f"{cost_ms:.1f} ms (fastest {fastest:.1f} ms; the summary rows: {rows_ms:.2f} ms)"
        profiled = "–" if flops is None else f"{flops:,}"
        lines.append(
            f"| {spec.label} | {analysis} | {cell(runs['plain'])} | {cell(runs['cost'])} | "
            f"{cell(runs['tf'])} | {counts['macs']:,} | {counts['flops']:,} | {profiled} |"
        )
    after = loadavg()
    header = [
        "# `kinspect summary --cost` vs the TensorFlow profiler",
        "",
        f"{dt.date.today()} · kinspect {git_revision()} · Keras {version_of('keras')} · TensorFlow "
        f"{version_of('tensorflow')} · Python {platform.python_version()} · medians of {args.repeats} "
        f"child runs (wall, peak RSS) and of {args.inner} in-process analyses · {load_note(before, after)}",
        "",
        "The profiler counts 2 per multiply-accumulate plus the element-wise ops it has statistics "
        "for (bias adds, pooling, adds, softmax; not BatchNormalization or activations), so its total "
        "lies between kinspect's 2 × MACs and 2 × MACs + element-wise ops (tests/test_cost.py "
        "reproduces it exactly from kinspect's per-layer counts).",
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(header + lines) + "\n")
    print(args.output.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
