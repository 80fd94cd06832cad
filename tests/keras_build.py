"""Models the tests read, built with Keras in a child process once and cached on disk.

Each set of models has a builder script ``tests/build_<set>.py``, run as ``python
tests/build_<set>.py OUTDIR``. Keras runs only in that child: the test process never imports
it to build a fixture, and a machine without Keras never calls :func:`built` (conftest skips
every test that needs it).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

TESTS = Path(__file__).parent
# The distributions whose versions decide what a builder writes (a new Keras means new files).
KERAS_DISTRIBUTIONS = ("keras", "tf_keras", "tensorflow", "tensorflow-cpu")


def fixtures_root() -> Path:
    """Where built models are cached: ``$KINSPECT_FIXTURES``, by default ``tests/.fixtures``."""
    return Path(os.environ.get("KINSPECT_FIXTURES", TESTS / ".fixtures"))


def built(builder: str, *inputs: str) -> Path:
    """The directory ``tests/<builder>`` fills, built on first use and then reused.

    ``inputs`` are the other files of ``tests/`` the builder reads (``zoo.py``…). The directory is
    named by a digest of the builder, its inputs and the installed Keras versions, so editing any
    of them builds afresh; a lock makes concurrent pytest-xdist workers build it once.
    """
    digest = hashlib.sha256()
    for name in (builder, *inputs):
        digest.update(name.encode() + b"\0" + (TESTS / name).read_bytes() + b"\0")
    for distribution in KERAS_DISTRIBUTIONS:
        digest.update(f"{distribution}=={_version(distribution)}\0".encode())
    path = fixtures_root() / f"{Path(builder).stem.removeprefix('build_')}-{digest.hexdigest()[:16]}"
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "LOCK", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (path / "COMPLETE").exists():
            _run(TESTS / builder, path)
            (path / "COMPLETE").write_text("ok")
    return path


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "-"


def _run(builder: Path, out: Path) -> None:
    env = {
        **os.environ,
        "KERAS_BACKEND": "tensorflow",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "CUDA_VISIBLE_DEVICES": "",
    }
    proc = subprocess.run(
        [sys.executable, str(builder), str(out)], capture_output=True, text=True, timeout=3000, env=env
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{builder.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
