"""Benchmark kinspect's TensorBoard event-file reader against the tensorboard package's loader.

Run from the repository root::

    .venv/bin/python benchmarks/bench_events.py              # writes benchmarks/results/events.md
    .venv/bin/python benchmarks/bench_events.py --repeats 1 --no-write

The file is written once into ``benchmarks/.work/events/`` by a TensorFlow child, as Keras's
TF2 ``TensorBoard`` callback writes a run: 100,000 scalar events (10 ``epoch_metric_<k>`` tags,
rank-0 float32 tensors of the ``scalars`` plugin) and 10,000 histograms (10
``dense_<k>/kernel/histogram`` tags, ``[30, 3]`` float64 tensors of the ``histograms`` plugin).
Every measurement is a fresh child process (wall time and peak RSS from ``os.wait4``, helpers
shared with ``bench_summary.py``), tools alternating, median of the timed runs after a warm-up:

* **kinspect**: ``kinspect.tfio.events.read_events`` over the file, touching every value;
* **tensorboard**: ``EventAccumulator`` with every ``size_guidance`` at 0 (no sampling: keep
  every event), ``Reload()``, then every event of every tag with its value made into numbers
  (``tensor_util.make_ndarray``), as a script exporting the run must.

Each child also reports the time it spent after its imports ("read"); the wall time includes
interpreter start-up and imports (tensorboard imports TensorFlow when it is installed, for its
record reader). Untimed runs check that both read the same values (a digest of every scalar's
tag, step and value and every histogram's buckets). This script never imports tensorflow or
tensorboard itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import subprocess
import sys
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
REPO = BENCH_DIR.parent
DEFAULT_WORK_DIR = BENCH_DIR / ".work" / "events"
DEFAULT_RESULTS = BENCH_DIR / "results" / "events.md"
SCALAR_STEPS, SCALAR_TAGS, HISTOGRAM_EVERY, HISTOGRAM_TAGS = 10_000, 10, 10, 10

GENERATE_CHILD = """
import os, shutil, sys
import tensorflow as tf
work, steps, scalar_tags, every, histogram_tags = sys.argv[1], *map(int, sys.argv[2:])
partial = os.path.join(work, "run.partial")
shutil.rmtree(partial, ignore_errors=True)
writer = tf.summary.create_file_writer(partial, max_queue=10000, flush_millis=600000)
tf.random.set_seed(0)

@tf.function  # unrolled in Python (no tf.while_loop, whose name scope would prefix the tags)
def block(first):
    with writer.as_default():
        for i in range(100):
            for k in range(scalar_tags):
                tf.summary.scalar(f"epoch_metric_{k}", tf.random.uniform([]), step=first + i)
            if i % every == 0:
                for k in range(histogram_tags):
                    data = tf.random.normal([256]) * (k + 1)
                    tf.summary.histogram(f"dense_{k}/kernel/histogram", data, step=first + i)

for first in range(0, steps, 100):
    block(tf.constant(first, tf.int64))
writer.close()
shutil.rmtree(os.path.join(work, "run"), ignore_errors=True)
os.replace(partial, os.path.join(work, "run"))
"""

KINSPECT_CHILD = """
import json, sys, time
started = time.perf_counter()
from kinspect.tfio.events import Histogram, Problem, Scalar, read_events
imported, cpu = time.perf_counter(), time.process_time()
scalars = histograms = problems = 0
for v in read_events(sys.argv[1]):
    if type(v) is Scalar:
        v.value
        scalars += 1
    elif type(v) is Histogram:
        v.buckets
        histograms += 1
    else:
        problems += 1
done, cpu = time.perf_counter(), time.process_time() - cpu
with open(sys.argv[2], "w") as out:  # stdout goes to /dev/null
    json.dump({"scalars": scalars, "histograms": histograms, "problems": problems,
               "read_s": done - imported, "read_cpu_s": cpu, "import_s": imported - started}, out)
"""

TENSORBOARD_CHILD = """
import json, sys, time
started = time.perf_counter()
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.util import tensor_util
import tensorboard.compat
tensorboard.compat.tf  # the record reader: TensorFlow's when it is installed (imported lazily)
imported, cpu = time.perf_counter(), time.process_time()
kinds = (ea.COMPRESSED_HISTOGRAMS, ea.IMAGES, ea.AUDIO, ea.SCALARS, ea.HISTOGRAMS, ea.TENSORS)
accumulator = ea.EventAccumulator(sys.argv[1], size_guidance={kind: 0 for kind in kinds})
accumulator.Reload()
tags = accumulator.Tags()
scalars = histograms = 0
for tag in tags["scalars"]:
    for e in accumulator.Scalars(tag):
        e.value
        scalars += 1
for tag in tags["histograms"]:
    for e in accumulator.Histograms(tag):
        list(e.histogram_value.bucket)
        histograms += 1
for tag in tags["tensors"]:
    for e in accumulator.Tensors(tag):
        array = tensor_util.make_ndarray(e.tensor_proto)
        if array.ndim == 0:
            array.item()
            scalars += 1
        else:
            array.tolist()
            histograms += 1
done, cpu = time.perf_counter(), time.process_time() - cpu
with open(sys.argv[2], "w") as out:  # stdout goes to /dev/null
    json.dump({"scalars": scalars, "histograms": histograms, "problems": 0,
               "read_s": done - imported, "read_cpu_s": cpu, "import_s": imported - started}, out)
"""

# Untimed: a digest of every value, sorted by tag and step, the same way on both sides.
KINSPECT_DIGEST_CHILD = """
import hashlib, sys
from kinspect.tfio.events import Histogram, Scalar, read_events
items = []
for v in read_events(sys.argv[1]):
    if isinstance(v, Scalar):
        items.append((v.tag, v.step, repr(v.value)))
    elif isinstance(v, Histogram):
        items.append((v.tag, v.step, repr([list(b) for b in v.buckets])))
print(len(items), hashlib.sha256(repr(sorted(items)).encode()).hexdigest())
"""

TENSORBOARD_DIGEST_CHILD = """
import hashlib, sys
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.util import tensor_util
kinds = (ea.COMPRESSED_HISTOGRAMS, ea.IMAGES, ea.AUDIO, ea.SCALARS, ea.HISTOGRAMS, ea.TENSORS)
accumulator = ea.EventAccumulator(sys.argv[1], size_guidance={kind: 0 for kind in kinds})
accumulator.Reload()
items = []
for tag in accumulator.Tags()["tensors"]:
    for e in accumulator.Tensors(tag):
        array = tensor_util.make_ndarray(e.tensor_proto)
        items.append((tag, e.step, repr(float(array) if array.ndim == 0 else array.astype(float).tolist())))
print(len(items), hashlib.sha256(repr(sorted(items)).encode()).hexdigest())
"""


def ensure_file(work: Path, timeout: float, steps: int = SCALAR_STEPS) -> Path:
    run = work / "run"
    found = sorted(run.glob("events.out.tfevents.*")) if run.is_dir() else []
    if found:
        return found[0]
    work.mkdir(parents=True, exist_ok=True)
    print(f"writing the event file in {work} with TensorFlow ...", file=sys.stderr, flush=True)
    sizes = (steps, SCALAR_TAGS, HISTOGRAM_EVERY, HISTOGRAM_TAGS)
    script = work / "generate.py"  # a file: AutoGraph reads the source of the tf.function
    script.write_text(GENERATE_CHILD)
    m = measure([sys.executable, str(script), str(work), *map(str, sizes)], timeout, child_env())
    found = sorted(run.glob("events.out.tfevents.*")) if run.is_dir() else []
    if not m.ok or not found:
        raise BenchError(f"could not write the event file ({m.describe_failure()})\n{m.stderr_tail}")
    return found[0]


def kinspect_env() -> dict[str, str]:
    env = child_env()
    env["PYTHONPATH"] = str(REPO) + (f":{env['PYTHONPATH']}" if env.get("PYTHONPATH") else "")
    return env


def run_child(code: str, path: Path, timeout: float) -> tuple[Measurement, dict]:
    """One timed child; its JSON line (what it read and its own read time) is read back."""
    out = path.parent / "child.json"
    m = measure([sys.executable, "-c", code, str(path), str(out)], timeout, kinspect_env())
    if not m.ok:
        raise BenchError(f"child failed ({m.describe_failure()}): {m.stderr_tail.strip()[-1500:]}")
    return m, json.loads(out.read_text())


def agree(path: Path, timeout: float) -> str:
    digests = []
    for code in (KINSPECT_DIGEST_CHILD, TENSORBOARD_DIGEST_CHILD):
        proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                              timeout=timeout, env=kinspect_env(), check=True)  # fmt: skip
        digests.append(proc.stdout.split())
    (n, mine), (m, theirs) = digests
    same = "the same" if (n, mine) == (m, theirs) else "**different**"
    return (
        f"values: kinspect read {int(n):,}, tensorboard {int(m):,}; digest of every (tag, step, value) {same}"
    )


def cases(quick: bool, work_dir: Path) -> list[Any]:
    """This benchmark's rows of ``run.py`` (see suite.py): the file read by kinspect's reader and by
    tensorboard's ``EventAccumulator`` (every value; the digests of both compared), and the whole
    ``kinspect history`` on the run directory holding it (no tensorboard equivalent). ``--quick``:
    a tenth of the file (10,000 scalars, 1,000 histograms)."""
    from suite import Case, scratch

    steps = SCALAR_STEPS // 10 if quick else SCALAR_STEPS
    path = ensure_file(work_dir / ("events-quick" if quick else "events"), 900, steps)
    histograms = steps // HISTOGRAM_EVERY * HISTOGRAM_TAGS
    size = f"{fmt_size(path.stat().st_size)}, {steps * SCALAR_TAGS:,} scalars + {histograms:,} histograms"
    on_path = f"import sys; sys.path.insert(0, {str(REPO)!r})\n"  # this tree's kinspect, as kinspect_env()
    out = scratch()

    def same_values() -> str:
        verdict = agree(path, 900)
        return "" if "digest of every (tag, step, value) the same" in verdict else verdict

    def same_history() -> str:
        cmd = [str(kinspect_executable()), "history", str(path.parent), "--format", "json"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=child_env(), check=True)
        found = json.loads(proc.stdout)
        lengths = sorted({len(v) for v in found["metrics"].values()})
        if found["epochs"] != steps or len(found["metrics"]) != SCALAR_TAGS or lengths != [steps]:
            return (f"**NO**: {found['epochs']} epochs, {len(found['metrics'])} metrics of {lengths} values; "
                    f"written: {steps} steps of {SCALAR_TAGS} metrics")  # fmt: skip
        return ""

    return [
        Case("events", f"read every value ({size})",
             [sys.executable, "-c", on_path + KINSPECT_CHILD, str(path), str(out / "events-kinspect.json")],
             [sys.executable, "-c", TENSORBOARD_CHILD, str(path), str(out / "events-tensorboard.json")],
             "tensorboard `EventAccumulator`, no sampling, values made numbers", check=same_values),
        Case("events", "`kinspect history` on that run directory",
             [str(kinspect_executable()), "history", str(path.parent), "--format", "json"], None,
             "n/a (the reader row above is the comparison)", check=same_history),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=5, help="Timed runs per tool (default 5).")
    parser.add_argument("--warmup", type=int, default=1, help="Untimed runs first (default 1).")
    parser.add_argument("--timeout", type=float, default=1800.0, help="Seconds before a child is killed.")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="Cache of the event file.")
    parser.add_argument("--output", type=Path, default=DEFAULT_RESULTS, help="Markdown report to write.")
    parser.add_argument("--no-write", action="store_true", help="Only print the table.")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    tools = [("kinspect read_events", KINSPECT_CHILD),
             ("tensorboard EventAccumulator (size_guidance 0)", TENSORBOARD_CHILD)]  # fmt: skip
    runs: dict[str, list[tuple[Measurement, dict]]] = {name: [] for name, _ in tools}
    try:
        compile_bytecode()
        before = loadavg()
        path = ensure_file(args.work_dir, args.timeout)
        for i in range(args.warmup + args.repeats):
            for name, code in tools:
                m, info = run_child(code, path, args.timeout)
                what = "warm-up" if i < args.warmup else f"run {i - args.warmup + 1}/{args.repeats}"
                print(f"  {what:>9} {name:<48} {m.wall_s:6.2f} s (read {info['read_s']:.2f} s) "
                      f"{m.maxrss_kib / 1024:7.1f} MiB", file=sys.stderr, flush=True)  # fmt: skip
                if i >= args.warmup:
                    runs[name].append((m, info))
        verdict = agree(path, args.timeout)
        after = loadavg()
    except (BenchError, subprocess.SubprocessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = [
        "| Reader | Scalars | Histograms | Wall time | Read time | Read CPU time | Peak RSS |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    medians = {}
    for name, _ in tools:
        wall = statistics.median(m.wall_s for m, _ in runs[name])
        read = statistics.median(info["read_s"] for _, info in runs[name])
        cpu = statistics.median(info["read_cpu_s"] for _, info in runs[name])
        rss = max(m.maxrss_kib for m, _ in runs[name]) * 1024
        info = runs[name][0][1]
        medians[name] = (wall, read, cpu, rss)
        table.append(f"| {name} | {info['scalars']:,} | {info['histograms']:,} | {wall:.2f} s | {read:.2f} s "
                     f"| {cpu:.2f} s | {fmt_size(rss)} |")  # fmt: skip
    (k_wall, k_read, k_cpu, k_rss), (t_wall, t_read, t_cpu, t_rss) = medians.values()
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join([
        "# kinspect's event-file reader vs tensorboard's EventAccumulator",
        "",
        f"Generated by `python benchmarks/bench_events.py` on {now}. File: {fmt_size(path.stat().st_size)},"
        f" written by TensorFlow's `tf.summary` as Keras's TF2 TensorBoard callback writes a run:"
        f" {SCALAR_STEPS * SCALAR_TAGS:,} scalar events and"
        f" {SCALAR_STEPS // HISTOGRAM_EVERY * HISTOGRAM_TAGS:,} histograms (`[30, 3]` float64).",
        "",
        *table,
        "",
        f"kinspect: {t_wall / k_wall:.1f}× faster in wall time, {t_read / k_read:.1f}× in read time"
        f" ({t_cpu / k_cpu:.1f}× in read CPU time),"
        f" {t_rss / k_rss:.1f}× less peak memory.",
        "",
        f"- {verdict}",
        "",
        f"Median of {args.repeats} fresh child process(es) per tool after {args.warmup} warm-up(s), tools"
        " alternating. Wall time includes interpreter start-up and imports (tensorboard's loader imports"
        " TensorFlow, installed here, for its record reader); read time is what the child measured after"
        " its imports: loading every event and making every value a Python number (its CPU time too, less"
        " sensitive to a busy machine). Peak RSS is the"
        " child's `ru_maxrss`: kinspect streams the file, the accumulator keeps every event.",
        "",
        f"- CPU: {cpu_model()}, RAM {mem_total()}; {platform.system()} {platform.release()}",
        f"- {load_note(before, after)}",
        f"- Python {platform.python_version()}; tensorboard {version_of('tensorboard')}, tensorflow-cpu"
        f" {version_of('tensorflow-cpu')}, protobuf {version_of('protobuf')};"
        f" kinspect at git {git_revision()}",
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
