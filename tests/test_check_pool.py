"""``check`` over many files: workers reused from file to file give exactly the findings of one
file at a time, in input order, and one file's crash or hang is that file's result alone."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

import kinspect
from kinspect.checks import pool, runner
from kinspect.checks.settings import merge

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def files(check_models: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Keras 3 and tf_keras models of every check family, the samples, and unreadable inputs."""
    bad = tmp_path_factory.mktemp("bad")
    (bad / "garbage.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    (bad / "empty.keras").write_bytes(b"")
    models = sorted(str(p) for p in check_models.iterdir() if p.suffix in (".keras", ".h5"))
    samples = sorted(str(p) for p in ROOT.glob("samples/*") if p.suffix in (".keras", ".h5"))
    listed = [*models, *samples, str(bad / "garbage.h5"), str(bad / "empty.keras"), str(bad / "missing.h5")]
    return listed + listed[:5]  # a file given twice is checked twice


def _serial(paths: list[str]) -> list[dict]:
    """One file at a time in this process: the reference."""
    settings = merge({}, {})
    results = [runner.check_file(p, settings) for p in paths]
    return kinspect.CheckResult(tuple(results), settings.fail_on).to_dict()["files"]


def test_findings_equal_with_any_number_of_workers(files: list[str]) -> None:
    reference = _serial(files)
    assert any(f["findings"] for f in reference) and len(reference) == len(files)
    for jobs in (1, 2, 3):
        assert kinspect.check(files, jobs=jobs).to_dict()["files"] == reference, jobs


def test_a_crash_is_that_files_result_alone(files: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    victim = files[3]
    real = runner.check_file
    reference = _serial(files)

    def crashing(path: str, settings: object) -> object:
        if path == victim:
            os.kill(os.getpid(), signal.SIGSEGV)  # as a crash in C code would
        return real(path, settings)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "check_file", crashing)  # the workers are forked after this
    got = kinspect.check(files, jobs=2).to_dict()["files"]
    for path, mine, ref in zip(files, got, reference, strict=True):
        if path == victim:
            assert mine["findings"] == [
                {
                    "rule": "KIN000",
                    "severity": "error",
                    "layer": None,
                    "message": "cannot read: the checker crashed on this file (signal SIGSEGV)",
                }
            ], mine
        else:
            assert mine == ref, path


def test_a_hang_is_that_files_result_alone() -> None:
    def work(path: str) -> str:
        if path == "slow":
            time.sleep(60)
        return f"done {path}"

    start = time.monotonic()
    got = pool.run(["a", "slow", "b", "c", "d"], work, 2, lambda p, why: f"failed {p}: {why}", timeout=1.0)
    assert got == [
        "done a",
        "failed slow: checking it took longer than 1 s; gave up",
        "done b",
        "done c",
        "done d",
    ]
    assert time.monotonic() - start < 30


def test_a_worker_that_exits_is_replaced() -> None:
    def work(path: str) -> str:
        if path.startswith("exit"):
            os._exit(3)
        return path.upper()

    got = pool.run(["x", "exit1", "y", "exit2", "z"], work, 1, lambda p, why: f"{p}: {why}")
    assert got == [
        "X",
        "exit1: the checker crashed on this file (exit status 3)",
        "Y",
        "exit2: the checker crashed on this file (exit status 3)",
        "Z",
    ]


def test_an_exception_is_raised_as_a_bug() -> None:
    """A bug in the checker (an exception, not a crash) stops the run as it would in-process."""

    def work(path: str) -> str:
        if path == "bug":
            raise RecursionError("too deep")
        return path

    with pytest.raises(RecursionError, match="too deep"):
        pool.run(["a", "bug", "b"], work, 2, lambda p, why: why)


def test_a_file_that_fails_after_others_is_checked_again_in_a_fresh_worker() -> None:
    """A worker may have been left damaged by an earlier file: the file it fails on is checked
    once more in a fresh worker, and only a second failure is that file's result."""
    poisoned: list[str] = []

    def work(path: str) -> str:
        if path == "poison":
            poisoned.append(path)  # the worker's own state, as a damaged library's would be
        elif path == "victim" and poisoned:
            os.kill(os.getpid(), signal.SIGSEGV)
        elif path == "bad":
            os._exit(3)
        return path.upper()

    got = pool.run(["poison", "victim", "x", "bad", "y"], work, 1, lambda p, why: f"{p}: {why}")
    assert got == ["POISON", "VICTIM", "X", "bad: the checker crashed on this file (exit status 3)", "Y"]


def test_each_file_has_its_own_deadline() -> None:
    def work(path: str) -> str:
        time.sleep(float(path))
        return f"done {path}"

    got = pool.run(["0", "2", "0.1"], work, 2, lambda p, why: why, timeout=lambda p: 1.0 if p == "2" else 0)
    assert got == ["done 0", "checking it took longer than 1 s; gave up", "done 0.1"]


def test_workers_read_the_files_themselves_under_a_memory_ceiling(
    files: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check worker is the isolation of its files: its readers run in it (no fork per read),
    under the reader children's memory ceiling."""
    import resource

    from kinspect.checks.runner import FileResult
    from kinspect.loaders import isolate

    def probe(path: str, settings: object) -> FileResult:
        inline = isolate.start(path, lambda: os.getpid()).fn is not None
        ceiling = resource.getrlimit(resource.RLIMIT_AS)[0]
        return FileResult(f"{inline} {ceiling != resource.RLIM_INFINITY}", (), False)

    monkeypatch.setattr(runner, "check_file", probe)  # the workers are forked after this
    got = runner.check_files(files[:4], merge({}, {}), jobs=2)
    assert [r.path for r in got] == ["True True"] * 4
