"""The ``keras`` and ``slow`` markers: the rules conftest applies to every test at collection.

``keras``: a test needs Keras when its function, one of its fixtures, or a function of ``tests/``
they call (followed by name, through modules of ``tests/`` too) imports keras, tensorflow or
tf_keras, or builds models with :func:`tests.keras_build.built`. Reading the code objects finds
this without running anything; a test that reaches Keras some other way (a code string run in a
child process, say) carries an explicit ``@pytest.mark.keras``. When a run selects no ``keras``
test (``pytest -m "not keras"``), :class:`KerasImportGuard` turns an import of Keras into an
error naming this rule, so a test the rule misses fails loudly instead of importing TensorFlow.

``slow``: a test whose call took over :data:`SLOW_SECONDS` in the last full ``pytest -n 2
--update-slow`` run on the 2-core runner, as listed in ``tests/slow.txt``. Speed has no reliable
static sign (a fuzz loop, a browser, a child process, a 100 MB model, the first TensorFlow import
in a worker…), so the measurement is the rule; tests near the threshold may move with the load.
"""

from __future__ import annotations

import dis
import functools
import importlib.abc
import inspect
from collections.abc import Callable, Iterator
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

import pytest

from tests.keras_build import built

TESTS = Path(__file__).parent
KERAS_MODULES = ("keras", "tensorflow", "tf_keras")
SLOW = TESTS / "slow.txt"
SLOW_SECONDS = 2.0


def needs_keras(item: pytest.Item) -> bool:
    """Whether the test item imports Keras or reads models Keras built (see the module's rule)."""
    if item.get_closest_marker("keras"):
        return True
    functions = [getattr(item, "obj", None)]
    fixtureinfo = getattr(item, "_fixtureinfo", None)  # every fixture the test uses, directly or not
    for name in getattr(item, "fixturenames", ()):
        functions += [d.func for d in (fixtureinfo.name2fixturedefs.get(name, ()) if fixtureinfo else ())]
    return _reaches_keras(tuple(f for f in functions if f is not None))


@functools.cache
def _reaches_keras(functions: tuple[Callable[..., Any], ...]) -> bool:
    stack, seen = list(functions), set()
    while stack:
        function = stack.pop()
        if function not in seen:
            seen.add(function)
            keras, callees = _look(function)
            if keras:
                return True
            stack += callees
    return False


@functools.cache
def _look(function: Callable[..., Any]) -> tuple[bool, list[Callable[..., Any]]]:
    """(whether ``function`` itself imports Keras or calls ``built``, the functions of tests/ it names)."""
    function = getattr(getattr(function, "hypothesis", None), "inner_test", function)  # @given tests
    function = inspect.unwrap(function)
    code = getattr(function, "__code__", None)
    if code is None or not _in_tests(code):
        return False, []
    codes = list(_codes(code))
    if any(_imports_keras(ins) for c in codes for ins in dis.get_instructions(c)):
        return True, []
    names = {name for c in codes for name in c.co_names}
    # A name is looked up in the function's module and in the modules of tests/ it names
    # (``bad.keras_config`` puts both ``bad`` and ``keras_config`` in co_names).
    namespaces = [function.__globals__]
    namespaces += [vars(v) for v in map(function.__globals__.get, names) if _is_test_module(v)]
    values = [ns[name] for name in names for ns in namespaces if name in ns]
    if any(value is built for value in values):
        return True, []
    callees = [v for v in values if inspect.isfunction(v)]
    for cls in (v for v in values if inspect.isclass(v) and _in_tests(v)):
        callees += [f for f in vars(cls).values() if inspect.isfunction(f)]
    return False, callees


def _is_test_module(value: object) -> bool:
    return isinstance(value, ModuleType) and _in_tests(value)


def _codes(code: CodeType) -> Iterator[CodeType]:
    """The code object and those nested in it (lambdas, comprehensions, inner functions)."""
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _codes(const)


def _imports_keras(instruction: dis.Instruction) -> bool:
    return instruction.opname == "IMPORT_NAME" and instruction.argval.partition(".")[0] in KERAS_MODULES


def _in_tests(obj: CodeType | ModuleType | type) -> bool:
    if isinstance(obj, CodeType):
        filename = obj.co_filename
    else:
        filename = getattr(obj, "__file__", None) or getattr(inspect.getmodule(obj), "__file__", None)
    return filename is not None and Path(filename).is_relative_to(TESTS)


def slow_tests() -> set[str]:
    """Node ids listed in ``tests/slow.txt``."""
    return {line for line in SLOW.read_text().splitlines() if line and not line.startswith("#")}


def update_slow(durations: dict[str, float]) -> None:
    """Rewrite ``tests/slow.txt`` from measured call durations (node id → seconds); tests that did
    not run keep their entry while their file exists."""
    kept = {t for t in slow_tests() if t not in durations and (TESTS.parent / t.partition("::")[0]).exists()}
    slow = kept | {test for test, seconds in durations.items() if seconds > SLOW_SECONDS}
    header = SLOW.read_text().partition("\n\n")[0]
    SLOW.write_text(header + "\n\n" + "".join(f"{t}\n" for t in sorted(slow)))


class KerasImportGuard(importlib.abc.MetaPathFinder):
    """Refuses to import Keras, for runs that selected no ``keras`` test."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if fullname.partition(".")[0] in KERAS_MODULES:
            raise ImportError(f"{fullname} imported by a test not marked keras (tests/markers.py)")
        return None
