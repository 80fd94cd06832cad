"""Benchmark ``kinspect summary`` against ``keras.models.load_model(...).summary()``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_summary.py            # full run, writes benchmarks/results/
    .venv/bin/python benchmarks/bench_summary.py --quick    # ResNet50 .keras only, 1 repeat
    .venv/bin/python benchmarks/bench_summary.py --models resnet50.h5,vgg16.keras --repeats 5

What it measures, per model file and per tool, each in its own fresh child process:

* wall time from spawning the child until it has been reaped (interpreter start-up and
  imports included, because that is what a user waits for);
* peak resident set size (``ru_maxrss``) of that one child, read from ``os.wait4`` so that
  peaks of different children never mix.

The kinspect side runs the installed ``kinspect`` console script (``kinspect summary MODEL``,
stdout to /dev/null), exactly as a user would. The Keras side runs ``python -c`` with
``keras.models.load_model(MODEL).summary()`` (stdout to /dev/null, TF_CPP_MIN_LOG_LEVEL=3,
CUDA_VISIBLE_DEVICES=""). Each measurement is repeated (default 3, after 1 untimed warm-up that
also fills the page cache); the table reports the median wall time and the maximum peak RSS.
kinspect's total / trainable / non-trainable parameter counts (from an extra, untimed
``--format json`` run) are compared with the counts Keras reports for the loaded model.

The models are ``keras.applications`` ResNet50 and VGG16 built with ``weights=None``, saved as
``.keras`` and legacy ``.h5`` (plus a ResNet50 ``.weights.h5``, kinspect only) into
``benchmarks/.work/`` by a Keras child process the first time they are needed. This script never
imports keras or tensorflow itself.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_WORK_DIR = BENCH_DIR / ".work"
DEFAULT_RESULTS = BENCH_DIR / "results" / "summary.md"
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class ModelSpec:
    """One benchmark file: a ``keras.applications`` architecture saved in one format."""

    key: str  # e.g. "resnet50.keras", the --models name
    arch: str  # attribute of keras.applications
    label: str  # shown in the table
    fmt: str  # file suffix: ".keras", ".h5" or ".weights.h5"

    @property
    def filename(self) -> str:
        return f"{self.arch.lower()}{self.fmt}"

    @property
    def keras_can_load(self) -> bool:
        # A .weights.h5 file holds no architecture, so load_model() cannot read it.
        return self.fmt != ".weights.h5"


MODELS: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in (
        ModelSpec("resnet50.keras", "ResNet50", "ResNet50", ".keras"),
        ModelSpec("resnet50.h5", "ResNet50", "ResNet50", ".h5"),
        ModelSpec("resnet50.weights.h5", "ResNet50", "ResNet50", ".weights.h5"),
        ModelSpec("vgg16.keras", "VGG16", "VGG16", ".keras"),
        ModelSpec("vgg16.h5", "VGG16", "VGG16", ".h5"),
    )
}
QUICK_MODELS = ["resnet50.keras"]

# Child that builds one architecture with random weights and saves the missing formats.
# argv: arch, result-json path, then (format, target path) pairs.
GENERATE_CHILD = """
import json, os, sys
import keras
arch, out = sys.argv[1], sys.argv[2]
pairs = list(zip(sys.argv[3::2], sys.argv[4::2]))
model = getattr(keras.applications, arch)(weights=None)
for fmt, target in pairs:
    tmp = target[: -len(fmt)] + ".partial" + fmt
    if fmt == ".weights.h5":
        model.save_weights(tmp)
    else:
        model.save(tmp)
    os.replace(tmp, target)
count = lambda ws: int(sum(int(w.numpy().size) for w in ws))
with open(out, "w") as f:
    json.dump({"total": int(model.count_params()), "trainable": count(model.trainable_weights),
               "non_trainable": count(model.non_trainable_weights),
               "keras_version": keras.__version__}, f)
"""

# The "Keras way". argv: model path, result-json path. The counts are written after summary().
KERAS_CHILD = """
import json, sys
import keras
model = keras.models.load_model(sys.argv[1])
model.summary()
count = lambda ws: int(sum(int(w.numpy().size) for w in ws))
with open(sys.argv[2], "w") as f:
    json.dump({"total": int(model.count_params()), "trainable": count(model.trainable_weights),
               "non_trainable": count(model.non_trainable_weights)}, f)
"""


class BenchError(RuntimeError):
    """A setup problem that stops the whole benchmark (shown without a traceback)."""


@dataclass
class Measurement:
    """One child process: how long it took, how much memory it used, and how it ended."""

    wall_s: float
    maxrss_kib: int
    returncode: int
    timed_out: bool
    stderr_tail: str = ""
    cpu_s: float = 0.0  # user + system CPU time, the child's and its waited-for descendants'

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def describe_failure(self) -> str:
        if self.timed_out:
            return f"timed out after {self.wall_s:.0f} s"
        return f"exit code {self.returncode}"


@dataclass
class ToolResult:
    """All timed runs of one tool on one file, plus its parameter counts if known."""

    runs: list[Measurement] = field(default_factory=list)
    params: dict[str, int] | None = None
    error: str | None = None

    @property
    def median_s(self) -> float | None:
        good = [m.wall_s for m in self.runs if m.ok]
        return statistics.median(good) if good and self.error is None else None

    @property
    def max_rss_kib(self) -> int | None:
        good = [m.maxrss_kib for m in self.runs if m.ok]
        return max(good) if good and self.error is None else None


@dataclass
class Row:
    spec: ModelSpec
    file_size: int
    kinspect: ToolResult
    keras: ToolResult | None  # None: Keras cannot load this format
    reference: dict[str, int] | None  # counts of the model as built at generation time


# --------------------------------------------------------------------------- processes


def child_env(base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["CUDA_VISIBLE_DEVICES"] = ""
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def measure(cmd: list[str], timeout: float, env: dict[str, str]) -> Measurement:
    """Run ``cmd`` once in a fresh child, stdout to /dev/null, and measure it.

    ``os.wait4`` returns the resource usage of exactly that child (and any grandchildren it
    waited for), so peaks never leak between measurements, unlike RUSAGE_CHILDREN, whose
    ``ru_maxrss`` is the maximum over *all* children ever reaped. The child runs in its own
    session so that a timeout can kill its whole process group.
    """
    with open(os.devnull, "wb") as devnull, tempfile.TemporaryFile() as err:
        lock = threading.Lock()
        state = {"done": False, "timed_out": False}
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=devnull, stderr=err, env=env, start_new_session=True
            )
        except OSError as exc:
            raise BenchError(f"cannot start {cmd[0]}: {exc}") from exc

        def kill(timed_out: bool) -> None:
            with lock:
                if state["done"]:
                    return
                state["timed_out"] = state["timed_out"] or timed_out
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill, args=(True,))
        timer.daemon = True
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # e.g. Ctrl-C: do not leave a child behind
            kill(False)
            proc.wait()
            raise
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        with lock:
            state["done"] = True
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, tell Popen
        err.seek(0)
        tail = err.read().decode("utf-8", "replace")[-2000:]
    return Measurement(
        wall_s=wall,
        maxrss_kib=int(usage.ru_maxrss),  # KiB on Linux
        returncode=proc.returncode,
        timed_out=bool(state["timed_out"]),
        stderr_tail=tail,
        cpu_s=usage.ru_utime + usage.ru_stime,
    )


def kinspect_cmd(model: Path, *extra: str) -> list[str]:
    return [str(kinspect_executable()), "summary", str(model), *extra]


def kinspect_executable() -> Path:
    exe = Path(sys.executable).parent / "kinspect"
    if not exe.exists():
        raise BenchError(
            f"no kinspect console script next to {sys.executable}; install kinspect into this "
            "environment (pip install -e .) and run this script with that environment's python"
        )
    return exe


def compile_bytecode() -> None:
    """Byte-compile kinspect as ``pip install`` does, so that neither tool is timed compiling
    its own source (an editable install, or PYTHONDONTWRITEBYTECODE, would leave it to every run)."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("kinspect")
    if spec is None or not spec.submodule_search_locations:
        raise BenchError("kinspect is not importable from this environment")
    for folder in spec.submodule_search_locations:
        compileall.compile_dir(folder, quiet=1)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        with path.open() as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# --------------------------------------------------------------------------- models


def ensure_models(specs: list[ModelSpec], work_dir: Path, timeout: float) -> dict[str, dict[str, int]]:
    """Create missing model files with a Keras child; return reference counts per filename."""
    work_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = work_dir / MANIFEST_NAME
    manifest: dict[str, Any] = read_json(manifest_path) or {}
    by_arch: dict[str, list[ModelSpec]] = {}
    for spec in specs:
        if not (work_dir / spec.filename).exists() or spec.filename not in manifest:
            by_arch.setdefault(spec.arch, []).append(spec)
    for arch, missing in by_arch.items():
        names = ", ".join(s.filename for s in missing)
        print(f"generating {names} in {work_dir} ...", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "params.json"
            cmd = [sys.executable, "-c", GENERATE_CHILD, arch, str(out)]
            for spec in missing:
                cmd += [spec.fmt, str(work_dir / spec.filename)]
            m = measure(cmd, timeout, child_env())
            counts = read_json(out)
            if not m.ok or counts is None:
                raise BenchError(
                    f"could not generate {names} ({m.describe_failure()}); is keras installed in "
                    f"{sys.executable}?\n{m.stderr_tail}"
                )
        print(f"  done in {m.wall_s:.1f} s", file=sys.stderr, flush=True)
        for spec in missing:
            manifest[spec.filename] = counts
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return {s.filename: manifest[s.filename] for s in specs}


# --------------------------------------------------------------------------- benchmark


def kinspect_params(model: Path, timeout: float, env: dict[str, str]) -> tuple[dict[str, int] | None, str]:
    """Untimed ``kinspect summary --format json`` run; doubles as a page-cache warm-up."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "summary.json"
        m = measure(kinspect_cmd(model, "--format", "json", "-o", str(out)), timeout, env)
        data = read_json(out)
    if not m.ok or data is None:
        return None, f"kinspect --format json failed ({m.describe_failure()}): {m.stderr_tail.strip()}"
    try:
        counts = {
            "total": int(data["total_params"]),
            "trainable": int(data["trainable_params"]),
            "non_trainable": int(data["non_trainable_params"]),
        }
    except (KeyError, TypeError, ValueError) as exc:
        return None, f"unexpected kinspect JSON ({exc!r})"
    return counts, ""


def bench_model(
    spec: ModelSpec, path: Path, reference: dict[str, int] | None, repeats: int, warmup: int, timeout: float
) -> Row:
    env = child_env()
    kin = ToolResult()
    ker: ToolResult | None = ToolResult() if spec.keras_can_load else None

    kin.params, problem = kinspect_params(path, timeout, env)
    if problem:
        print(f"  ! {problem}", file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        counts_path = Path(tmp) / "keras_params.json"
        keras_cmd = [sys.executable, "-c", KERAS_CHILD, str(path), str(counts_path)]
        for i in range(warmup + repeats):
            timed = i >= warmup
            what = f"run {i - warmup + 1}/{repeats}" if timed else "warm-up"
            # Alternate the tools so slow drift in machine load hits both alike.
            for name, result, cmd in (("kinspect", kin, kinspect_cmd(path)), ("keras", ker, keras_cmd)):
                if result is None or result.error is not None:
                    continue
                m = measure(cmd, timeout, env)
                status = "ok" if m.ok else m.describe_failure()
                print(
                    f"  {what:>9} {name:<8} {m.wall_s:7.2f} s {m.maxrss_kib / 1024:8.1f} MiB  {status}",
                    file=sys.stderr,
                    flush=True,
                )
                if not m.ok:
                    result.error = m.describe_failure()
                    print(f"    stderr: {m.stderr_tail.strip()[-1500:]}", file=sys.stderr)
                elif timed:
                    result.runs.append(m)
        if ker is not None and ker.error is None:
            ker.params = {k: int(v) for k, v in (read_json(counts_path) or {}).items()} or None
    return Row(spec, path.stat().st_size, kin, ker, reference)


def cases(quick: bool, work_dir: Path) -> list[Any]:
    """This benchmark's rows of ``run.py`` (see suite.py): plain summaries, and ``--verify``."""
    from suite import Case

    keys = ["resnet50.keras", "resnet50.h5"] if quick else list(MODELS)
    specs = [MODELS[k] for k in keys]
    ensure_models(specs, work_dir, 900)
    out = []
    for spec in specs:
        path = work_dir / spec.filename
        keras_cmd = (
            [sys.executable, "-c", KERAS_CHILD, str(path), os.devnull] if spec.keras_can_load else None
        )
        out.append(Case("summary", f"{spec.label} `{spec.fmt}`", kinspect_cmd(path), keras_cmd,
                        "`load_model` + `summary()`" if keras_cmd else "n/a (no architecture)"))  # fmt: skip
        if spec.key in ("resnet50.keras", "resnet50.h5"):
            label = f"{spec.label} `{spec.fmt}` `--verify`"
            out.append(
                Case(
                    "summary", label, kinspect_cmd(path, "--verify"), keras_cmd, "`load_model` + `summary()`"
                )
            )
    return out


# --------------------------------------------------------------------------- report


def fmt_size(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


def fmt_time(s: float | None) -> str:
    return "–" if s is None else f"{s:.2f} s"


def fmt_ratio(a: float | None, b: float | None) -> str:
    return "–" if a is None or b is None or a <= 0 else f"{b / a:.1f}×"


def cell(result: ToolResult | None, value: str, detail: bool = True) -> str:
    if result is None:
        return "n/a"
    if result.error:
        return f"failed ({result.error})" if detail else "failed"
    return value


def params_cell(row: Row) -> str:
    mine = row.kinspect.params
    if mine is None:
        return "? (no kinspect counts)"
    if row.keras is not None:
        theirs, source = row.keras.params, "Keras"
    else:
        theirs, source = row.reference, "built model"
    if theirs is None:
        return f"? ({mine['total']:,}; no {source} counts)"
    diffs = [k for k in ("total", "trainable", "non_trainable") if mine.get(k) != theirs.get(k)]
    if not diffs:
        suffix = "" if row.keras is not None else " vs built model"
        return f"yes ({mine['total']:,}{suffix})"
    detail = "; ".join(f"{k} {mine.get(k, '?'):,} vs {theirs.get(k, '?'):,}" for k in diffs)
    return f"**NO** (kinspect vs {source}: {detail})"


def render_table(rows: list[Row]) -> str:
    header = [
        "Model",
        "Format",
        "File size",
        "kinspect time",
        "Keras time",
        "Speed-up",
        "kinspect peak RSS",
        "Keras peak RSS",
        "Memory ratio",
        "Params agree",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 3 + ["--:"] * 6 + ["---"]) + "|"]
    for row in rows:
        k, r = row.kinspect, row.keras
        k_rss = k.max_rss_kib * 1024 if k.max_rss_kib is not None else None
        r_rss = r.max_rss_kib * 1024 if r is not None and r.max_rss_kib is not None else None
        cells = [
            row.spec.label,
            f"`{row.spec.fmt}`",
            fmt_size(row.file_size),
            cell(k, fmt_time(k.median_s)),
            "n/a (no architecture)" if r is None else cell(r, fmt_time(r.median_s)),
            fmt_ratio(k.median_s, r.median_s if r else None),
            cell(k, "–" if k_rss is None else fmt_size(k_rss), detail=False),
            "n/a" if r is None else cell(r, "–" if r_rss is None else fmt_size(r_rss), detail=False),
            fmt_ratio(k_rss, r_rss),
            params_cell(row),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def raw_result(result: ToolResult) -> dict[str, Any]:
    """Per-run numbers for the JSON companion of the report (stderr only for failed runs)."""
    data = asdict(result)
    for run, m in zip(data["runs"], result.runs, strict=True):
        run["stderr_tail"] = run["stderr_tail"] if not m.ok else ""
    return data


def version_of(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "kinspect"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + (" (kinspect/ has uncommitted changes)" if dirty else "")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return fmt_size(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def loadavg() -> tuple[float, ...]:
    try:
        return os.getloadavg()
    except OSError:
        return ()


def load_note(before: tuple[float, ...], after: tuple[float, ...]) -> str:
    def show(load: tuple[float, ...]) -> str:
        return " / ".join(f"{x:.2f}" for x in load) or "unknown"

    text = f"Load average (1/5/15 min) before: {show(before)}; after: {show(after)}."
    cores = os.cpu_count() or 1
    if max(before[:1] + after[:1], default=0.0) >= cores * 0.75:
        text += (
            f" The machine ({cores} cores) was busy with other work during the run, so absolute "
            "times are inflated and noisy; the ratios between the two tools are more telling."
        )
    return text


def render_report(
    rows: list[Row], args: argparse.Namespace, load_before: tuple[float, ...], load_after: tuple[float, ...]
) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = "python benchmarks/bench_summary.py" + (" " + " ".join(args.argv) if args.argv else "")
    return "\n".join(
        [
            "# `kinspect summary` vs `keras.models.load_model(...).summary()`",
            "",
            f"Generated by `{command}` on {now}.",
            "",
            render_table(rows),
            f"Each cell is over {args.repeats} timed run(s) per tool, after {args.warmup} untimed "
            "warm-up run(s); every run is a fresh child process. Time: median wall time of the "
            "whole process (interpreter start-up and imports included). Peak RSS: maximum "
            "`ru_maxrss` of the child over the runs. Speed-up = Keras time / kinspect time; memory "
            "ratio = Keras peak RSS / kinspect peak RSS. Params agree compares kinspect's total, "
            "trainable and non-trainable counts with those of the model Keras loaded (for "
            "`.weights.h5`, with the model as built before saving). Models are "
            "`keras.applications` architectures with `weights=None` (random weights).",
            "",
            "Environment:",
            "",
            f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores; RAM: {mem_total()}; "
            f"{platform.system()} {platform.release()}",
            f"- {load_note(load_before, load_after)}",
            f"- Python {platform.python_version()}; keras {version_of('keras')}, tensorflow-cpu "
            f"{version_of('tensorflow-cpu')} (TensorFlow backend, CPU only); kinspect "
            f"{version_of('kinspect')} at git {git_revision()}",
            "",
        ]
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Models: " + ", ".join(MODELS),
    )
    parser.add_argument("--quick", action="store_true", help="ResNet50 .keras only, 1 repeat, no warm-up.")
    parser.add_argument(
        "--models",
        help="Comma-separated model keys to run (default: all). Known: " + ", ".join(MODELS),
    )
    parser.add_argument("--repeats", type=int, help="Timed runs per tool and model (default 3; --quick: 1).")
    parser.add_argument("--warmup", type=int, help="Untimed runs first (default 1; 0 with --quick).")
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="Seconds before a child is killed (default 900)."
    )
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="Cache of model files.")
    parser.add_argument(
        "--output",
        type=Path,
        help=f"Markdown report to write (default: {DEFAULT_RESULTS.relative_to(REPO_ROOT)} for a full "
        "run; nothing for --quick or --models unless given).",
    )
    parser.add_argument("--no-write", action="store_true", help="Only print the table.")
    args = parser.parse_args(argv)
    args.argv = argv

    if args.quick and args.models:
        parser.error("--quick and --models cannot be combined")
    if args.models:
        keys = [k.strip() for k in args.models.split(",") if k.strip()]
        unknown = [k for k in keys if k not in MODELS]
        if unknown or not keys:
            parser.error(f"unknown model(s) {', '.join(unknown) or '(none)'}; known: {', '.join(MODELS)}")
        args.keys = list(dict.fromkeys(keys))
    else:
        args.keys = QUICK_MODELS if args.quick else list(MODELS)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.warmup is None:
        args.warmup = 0 if args.quick else 1
    if args.repeats < 1 or args.warmup < 0 or args.timeout <= 0:
        parser.error("--repeats must be >= 1, --warmup >= 0 and --timeout > 0")
    if args.output is None and not args.no_write and not args.quick and not args.models:
        args.output = DEFAULT_RESULTS
    if args.no_write:
        args.output = None
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    specs = [MODELS[k] for k in args.keys]
    try:
        kinspect_executable()
        compile_bytecode()
        if version_of("keras") == "not installed":
            raise BenchError(f"keras is not installed for {sys.executable}; it is needed for the comparison")
        load_before = loadavg()
        references = ensure_models(specs, args.work_dir, args.timeout)
        rows = []
        for spec in specs:
            path = args.work_dir / spec.filename
            print(f"{spec.key} ({fmt_size(path.stat().st_size)})", file=sys.stderr, flush=True)
            reference = references.get(spec.filename)
            rows.append(bench_model(spec, path, reference, args.repeats, args.warmup, args.timeout))
        load_after = loadavg()
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

    report = render_report(rows, args, load_before, load_after)
    print(report)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report)
        raw = {
            "repeats": args.repeats,
            "warmup": args.warmup,
            "rows": [
                {
                    "model": r.spec.key,
                    "file_size": r.file_size,
                    "reference_params": r.reference,
                    "kinspect": raw_result(r.kinspect),
                    "keras": raw_result(r.keras) if r.keras is not None else None,
                }
                for r in rows
            ],
        }
        args.output.with_suffix(".json").write_text(json.dumps(raw, indent=2) + "\n")
        print(f"wrote {args.output} and {args.output.with_suffix('.json').name}", file=sys.stderr)

    failed = any(r.kinspect.error or (r.keras is not None and r.keras.error) for r in rows)
    disagree = any("NO" in params_cell(r) for r in rows)
    return 1 if failed or disagree else 0


if __name__ == "__main__":
    sys.exit(main())
