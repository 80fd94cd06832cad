"""Shared fixtures, golden files, and the ``keras`` and ``slow`` markers.

Models built with Keras come from ``tests/keras_build.py`` (built once in a child process, cached
on disk). Tests that need Keras are marked ``keras`` at collection (``tests/markers.py`` says
how) and skipped, with the command that installs it, where Keras is missing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.keras_build import built
from tests.markers import KERAS_MODULES, KerasImportGuard, needs_keras, slow_tests, update_slow

# For the tests that call Keras in this process (the shape rules' oracle).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

TESTS = Path(__file__).parent
MISSING = [name for name in KERAS_MODULES if importlib.util.find_spec(name) is None]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from current output")
    parser.addoption("--update-slow", action="store_true", help="re-measure tests/slow.txt")


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
    """Directory of ``<name>.{keras,h5,weights.h5}`` + ``<name>.oracle.json`` for every zoo model."""
    return built("build_zoo.py", "zoo.py", "zoo_keras2.py")


@pytest.fixture(scope="session")
def check_models() -> Path:
    """The models of the check tests (``tests/build_check.py``), Keras 3 and tf_keras."""
    return built("build_check.py")


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


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    missing = ", ".join(MISSING)
    skip = pytest.mark.skip(reason=f"needs Keras ({missing} not installed): pip install -e '.[test]'")
    slow = slow_tests()
    for item in items:
        if needs_keras(item):
            item.add_marker(pytest.mark.keras)
            if MISSING:
                item.add_marker(skip)
        if item.nodeid in slow:
            item.add_marker(pytest.mark.slow)


def pytest_collection_finish(session: pytest.Session) -> None:
    if MISSING or not any(item.get_closest_marker("keras") for item in session.items):
        sys.meta_path.insert(0, KerasImportGuard())


DURATIONS: dict[str, float] = {}  # node id → seconds of the test's call, for --update-slow


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":  # with pytest-xdist, the controller sees every worker's reports
        DURATIONS[report.nodeid] = report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    if session.config.getoption("--update-slow") and not hasattr(session.config, "workerinput"):
        update_slow(DURATIONS)


@pytest.fixture(scope="session")
def tf_models() -> Path:
    """TensorFlow checkpoints and SavedModels with their oracles (``tests/build_tf.py``)."""
    return built("build_tf.py", "build_zoo.py")


def renamed_archive(src: Path, target: Path, names: dict[str, str]) -> Path:
    """A copy of the ``.keras`` archive ``src`` whose config has every string of ``names`` replaced
    (Keras itself refuses names such as a script tag, so tests rewrite the stored config)."""
    import zipfile

    def rename(value: object) -> object:
        if isinstance(value, dict):
            return {k: rename(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rename(v) for v in value]
        return names.get(value, value) if isinstance(value, str) else value

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(target, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                data = json.dumps(rename(json.loads(data))).encode()
            zout.writestr(item, data)
    return target


@contextlib.contextmanager
def deadline(seconds: int, message: str) -> Iterator[None]:
    """Fail with ``TimeoutError(message)`` when the block runs longer than ``seconds``: a hang in
    kinspect is a test failure, never a stuck suite."""

    def expire(*_: object) -> None:
        raise TimeoutError(message)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
