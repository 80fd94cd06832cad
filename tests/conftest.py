"""Shared fixtures: models built with Keras and saved in every format, cached on disk."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

TESTS = Path(__file__).parent
BUILD_INPUTS = ["zoo.py", "zoo_keras2.py", "build_fixtures.py"]


def _cache_dir() -> Path:
    from importlib.metadata import version

    digest = hashlib.sha256()
    for name in BUILD_INPUTS:
        digest.update((TESTS / name).read_bytes())
    for package in ("keras", "tf_keras", "tensorflow-cpu"):
        try:
            digest.update(version(package).encode())
        except Exception:
            digest.update(b"-")
    root = Path(os.environ.get("KINSPECT_FIXTURES", TESTS / ".fixtures"))
    return root / digest.hexdigest()[:16]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


GOLDEN = TESTS / "golden"


def check_golden(name: str, text: str, update: bool) -> None:
    """``text`` equals ``tests/golden/<name>``; ``pytest --update-golden`` rewrites the file."""
    path = GOLDEN / name
    if update:
        path.write_text(text)
    assert path.exists(), f"missing golden file {name}: run pytest --update-golden"
    assert text == path.read_text(), (
        f"{name} differs from the golden file (pytest --update-golden if intended)"
    )


@pytest.fixture(scope="session")
def zoo_dir() -> Path:
    """Directory of ``<name>.{keras,h5,weights.h5}`` + ``<name>.oracle.json``, built once."""
    import fcntl

    path = _cache_dir()
    done = path / "COMPLETE"
    path.mkdir(parents=True, exist_ok=True)
    # pytest-xdist workers share the cache: one builds, the others wait on the lock.
    with open(path / "LOCK", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            _build(path)
            done.write_text("ok")
    return path


def _build(path: Path) -> None:
    """Keras runs in a child process: the test process itself never builds models."""
    proc = subprocess.run(
        [sys.executable, str(TESTS / "build_fixtures.py"), str(path)],
        capture_output=True,
        text=True,
        timeout=3000,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"building fixtures failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")


def oracle_names() -> list[str]:
    """Fixture names, read from the builders without importing Keras."""
    import ast

    names = []
    for module, prefix in (("zoo.py", ""), ("zoo_keras2.py", "k2_")):
        tree = ast.parse((TESTS / module).read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Name) and d.id == "model" for d in node.decorator_list
            ):
                names.append(node.name if node.name.startswith(prefix) else prefix + node.name)
            if isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple):
                names.extend(prefix + elt.value for elt in node.iter.elts if isinstance(elt, ast.Constant))
    return names


def load_oracle(zoo: Path, name: str) -> dict:
    return json.loads((zoo / f"{name}.oracle.json").read_text())
