"""Models for the check tests, built once with Keras in child processes and cached on disk."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).parent
BUILDER = TESTS / "check_models_build.py"


def build_dir() -> Path:
    digest = hashlib.sha256(BUILDER.read_bytes()).hexdigest()[:12]
    root = Path(os.environ.get("KINSPECT_FIXTURES", TESTS / ".fixtures"))
    return root / f"check-{digest}"


def built() -> Path:
    """The models, built on first use: ``nested_lambda``, ``wrapped_lambda``, ``lambda_activation``,
    ``clean``, ``other`` (Keras 3)
    and ``k2_nested_lambda``, ``k2_functional_lambda`` (tf_keras), in several formats."""
    path = build_dir()
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "LOCK", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (path / "COMPLETE").exists():
            env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
            for flavour in ("k3", "k2"):
                proc = subprocess.run(
                    [sys.executable, str(BUILDER), str(path), flavour],
                    capture_output=True, text=True, timeout=900, env=env,
                )  # fmt: skip
                assert proc.returncode == 0, proc.stderr[-3000:]
            (path / "COMPLETE").write_text("ok")
    return path


PRECISION = TESTS / "check_precision_build.py"


def built_precision() -> Path:
    """The models of tests/test_check_precision.py (see tests/check_precision_build.py)."""
    digest = hashlib.sha256(PRECISION.read_bytes() + (TESTS / "check_custom.py").read_bytes()).hexdigest()[
        :12
    ]
    path = Path(os.environ.get("KINSPECT_FIXTURES", TESTS / ".fixtures")) / f"precision-{digest}"
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "LOCK", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (path / "COMPLETE").exists():
            env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
            for flavour in ("k3", "k2"):
                proc = subprocess.run(
                    [sys.executable, str(PRECISION), str(path), flavour],
                    capture_output=True, text=True, timeout=900, env=env,
                )  # fmt: skip
                assert proc.returncode == 0, proc.stderr[-3000:]
            (path / "COMPLETE").write_text("ok")
    return path
