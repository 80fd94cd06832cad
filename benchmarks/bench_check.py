"""``kinspect check`` over a directory of many small models, next to modelscan on the same set.

Only through ``python benchmarks/run.py`` (``cases`` below). The set is ``--quick``: 100, else 500
copies of the bundled samples and the test zoo's small models (built by ``tests/build_zoo.py`` into
the fixture cache if missing, or the samples alone when Keras is not installed). kinspect runs
``kinspect check DIR/*`` with its defaults (every rule, one worker per core); modelscan (0.8.8,
which needs TensorFlow for ``.keras`` files) runs ``modelscan -p DIR`` when the environment
variable ``MODELSCAN`` gives its command, e.g. ``MODELSCAN="/path/to/venv/bin/modelscan"``.
Both exit 1 when they find something: only a higher status counts as a failure.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
MAX_BYTES = 3 << 20  # small models only: the point is the cost per file, not per byte


def sources() -> list[Path]:
    files = sorted(p for p in (BENCH_DIR.parent / "samples").iterdir() if p.suffix in (".keras", ".h5"))
    try:
        sys.path.insert(0, str(BENCH_DIR.parent))
        from tests.keras_build import built

        zoo = built("build_zoo.py", "zoo.py", "zoo_keras2.py")
        files += sorted(p for p in zoo.iterdir() if p.suffix in (".keras", ".h5"))
    except Exception as exc:  # no Keras, no test tree: the samples alone
        print(f"bench_check: zoo models not available ({exc}); samples only", file=sys.stderr)
    return [p for p in files if p.stat().st_size <= MAX_BYTES]


def make_set(target: Path, count: int) -> Path:
    """``count`` copies, cycling through the sources, as ``NNNN_<name>``."""
    if target.is_dir() and len(list(target.iterdir())) == count:
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    files = sources()
    for i in range(count):
        src = files[i % len(files)]
        shutil.copyfile(src, target / f"{i:04d}_{src.name}")
    return target


def cases(quick: bool, work_dir: Path) -> list[Any]:
    from bench_summary import kinspect_executable
    from suite import Case

    count = 100 if quick else 500
    folder = make_set(work_dir / f"check-set-{count}", count)
    kinspect = f"{shlex.quote(str(kinspect_executable()))} check {shlex.quote(str(folder))}/*"
    other = os.environ.get("MODELSCAN")
    modelscan = f"{other} -p {shlex.quote(str(folder))} > /dev/null 2>&1" if other else None
    modelscan_cmd = ["sh", "-c", f"{modelscan}; test $? -le 1"] if modelscan else None
    way = "modelscan `-p DIR`" if modelscan else "modelscan not given (`MODELSCAN`)"
    label = f"{count} small models (samples + zoo)"
    return [
        # Every default rule: the file read as Keras would, weight statistics, budgets, security.
        Case("check", f"{label}, every rule", ["sh", "-c", f"{kinspect} > /dev/null; test $? -le 1"],
             modelscan_cmd, way, files=count),
        # The security rules alone: the job modelscan does.
        Case("check", f"{label}, `--select KIN1`",
             ["sh", "-c", f"{kinspect} --select KIN1 > /dev/null; test $? -le 1"], modelscan_cmd, way,
             files=count),
    ]  # fmt: skip
