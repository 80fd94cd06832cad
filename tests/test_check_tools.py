"""``kinspect check`` with the real tools: SARIF validated against the official schema, the
pre-commit hook run by the pre-commit framework, and the safe-mode prediction against Keras."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from kinspect.checks import RULES
from kinspect.cli import main

ROOT = Path(__file__).parent.parent
SCHEMA = Path(__file__).parent / "sarif" / "sarif-schema-2.1.0.json"


def test_sarif_is_valid_against_the_official_schema(
    capsys: pytest.CaptureFixture[str], check_models: Path, zoo_dir: Path, tmp_path: Path
) -> None:
    files = [check_models / "nested_lambda.keras", zoo_dir / "custom_layer.keras", check_models / "clean.h5",
             tmp_path / "missing.h5"]  # fmt: skip
    code = main(["check", "--no-config", "--format", "sarif", "--ignore", "KIN2", *map(str, files)])
    doc = json.loads(capsys.readouterr().out)
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(doc)
    assert code == 3 and doc["version"] == "2.1.0"
    run = doc["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == list(RULES)
    results = {(r["ruleId"], r["level"]) for r in run["results"]}
    assert {("KIN101", "error"), ("KIN103", "warning"), ("KIN107", "warning")} <= results
    lam = next(r for r in run["results"] if r["ruleId"] == "KIN101")
    assert lam["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == files[0].as_posix()
    assert lam["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "inner/deep_lambda"
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert (
        run["invocations"][0]["executionSuccessful"] is False and "missing.h5" in notes[0]["message"]["text"]
    )


def test_clean_sarif_is_valid(capsys: pytest.CaptureFixture[str], check_models: Path) -> None:
    code = main(
        ["check", "--no-config", "--format", "sarif", "--select", "KIN1", str(check_models / "clean.keras")]
    )
    doc = json.loads(capsys.readouterr().out)
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(doc)
    assert code == 0 and doc["runs"][0]["results"] == []


# -- Keras as the oracle of the safe-mode prediction (KIN107) ---------------------------------------

ORACLE = """
import json, os, sys
os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
sys.path.insert(0, os.getcwd())
from tests import zoo  # the models' custom code, registered as its user's program does
out = {}
for path in sys.argv[1:]:
    try:
        keras.saving.load_model(path, safe_mode=True, compile=False)
        out[path] = None
    except Exception as exc:
        out[path] = type(exc).__name__ + ": " + str(exc)[:200]
print(json.dumps(out))
"""


def test_kin107_agrees_with_keras_safe_mode(check_models: Path, zoo_dir: Path) -> None:
    """Files Keras 3 wrote: kinspect predicts a refusal exactly when load_model(safe_mode=True) fails
    for a user who has the model's custom code (without it, loading fails in any mode: KIN103)."""
    ours = ("clean.keras", "clean.h5", "nested_lambda.keras", "nested_lambda.h5", "wrapped_lambda.keras",
            "wrapped_lambda.h5", "lambda_activation.keras", "other.keras")  # fmt: skip
    zoo = ("custom_layer.keras", "custom_layer.h5", "lambda_layer.keras", "mnist_cnn.keras", "nested.keras",
           "sequential_mlp.h5", "attention.keras")  # fmt: skip
    files = [check_models / n for n in ours] + [zoo_dir / n for n in zoo]
    proc = subprocess.run(
        [sys.executable, "-c", ORACLE, *map(str, files)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""}, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    keras_says = json.loads(proc.stdout.strip().splitlines()[-1])
    for path in files:
        code = main(["check", "--no-config", "--select", "KIN107", "--fail-on", "warning", str(path)])
        assert (code == 1) == (keras_says[str(path)] is not None), (path, code, keras_says[str(path)])


# -- the pre-commit hook, run by pre-commit ---------------------------------------------------------


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **_author()}
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


def _snapshot_of_this_repo(dest: Path) -> str:
    """A git repository holding this working tree (committed or not), for pre-commit to install from."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file() and not name.startswith("tests/"):
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    assert _git(dest, "commit", "-qm", "snapshot").returncode == 0
    return _git(dest, "rev-parse", "HEAD").stdout.strip()


def test_pre_commit_hook_blocks_lambda_and_passes_clean(tmp_path: Path, check_models: Path) -> None:
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    if pre_commit is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    source = tmp_path / "kinspect-src"
    source.mkdir()
    rev = _snapshot_of_this_repo(source)
    project = tmp_path / "project"
    project.mkdir()
    _git(project, "init", "-q")
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {source}\n    rev: {rev}\n    hooks:\n      - id: kinspect-check\n"
        "        args: [--ignore, KIN2]\n"
    )
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    hook = subprocess.run([pre_commit, "install"], cwd=project, capture_output=True, text=True, env=env)
    assert hook.returncode == 0, hook.stderr
    _git(project, "add", ".pre-commit-config.yaml")
    # The hook environment is created on first use (pip, from the configured index or wheels).
    shutil.copy(check_models / "clean.keras", project / "clean.keras")
    shutil.copy(check_models / "clean.h5", project / "weights.hdf5")
    _git(project, "add", "clean.keras", "weights.hdf5")
    ok = subprocess.run(["git", "commit", "-qm", "clean"], cwd=project, capture_output=True, text=True,
                        env={**env, **_author()}, timeout=900)  # fmt: skip
    assert ok.returncode == 0, ok.stdout + ok.stderr
    shutil.copy(check_models / "nested_lambda.keras", project / "model.keras")
    _git(project, "add", "model.keras")
    bad = subprocess.run(["git", "commit", "-qm", "lambda"], cwd=project, capture_output=True, text=True,
                         env={**env, **_author()}, timeout=900)  # fmt: skip
    assert bad.returncode != 0
    assert "model.keras: KIN101 error inner/deep_lambda" in bad.stdout + bad.stderr
    assert "Failed" in bad.stdout + bad.stderr
    # The hook's environment has kinspect's core dependencies only: no TensorFlow, no Keras.
    envs = list((tmp_path / "cache").glob("repo*/py_env-*/lib/python*/site-packages"))
    assert envs, "no hook environment found"
    installed = {p.name.split("-")[0].lower() for p in envs[0].iterdir()}
    assert "click" in installed and not installed & {"tensorflow", "tensorflow_cpu", "keras", "tf_keras"}


def _author() -> dict[str, str]:
    return {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
