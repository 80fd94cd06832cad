"""Hostile input for ``kinspect check``: planted configs that name code to run (nothing may run,
the rules must report them), random configs (hypothesis) and mutated files (a bounded loop)."""

from __future__ import annotations

import json
import os
import random
import shutil
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinspect.checks import RULES
from kinspect.checks.base import Subject
from kinspect.cli import cli, main
from kinspect.loaders.raw import RawFile
from tests import test_bad_input as bad
from tests.conftest import deadline
from tests.keras_build import built

# KINSPECT_FUZZ=20 runs 20x the suite's budget (the occasional long run: README, "Robustness").
SCALE = int(os.environ.get("KINSPECT_FUZZ", "1"))


@pytest.fixture(autouse=True)
def _deadline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A hang is a failure; the reader child gets 5 s per file."""
    monkeypatch.setenv("KINSPECT_TIMEOUT", "5")

    with deadline(240 * SCALE, "kinspect check hangs"):
        yield


# -- planted references: named, never run ---------------------------------------------------------


def plants(marker: Path) -> dict[str, tuple[str, Any]]:
    """Name → (where, object) to plant in a layer; each would create ``marker`` if it ran."""
    touch = ["touch", str(marker)]
    return {
        "os_system_layer": ("layer", {"module": "os", "class_name": "system", "registered_name": "os>system",
                                      "config": {"command": f"touch {marker}", "name": "hidden"}}),
        "popen_layer": ("layer", {"module": "subprocess", "class_name": "Popen", "registered_name": None,
                                  "config": {"args": touch, "name": "hidden"}}),
        "exec_lambda": ("function", {"module": "builtins", "class_name": "function", "config": "exec",
                                     "registered_name": "function"}),
        "keras2_lambda_function": ("keras2_function", {"function": "system", "module": "os",
                                                       "function_type": "function"}),
        "os_system_initializer": ("kernel_initializer", {"module": "os", "class_name": "system",
                                                         "config": {"command": f"touch {marker}"}}),
        "popen_regularizer": ("kernel_regularizer", {"module": "subprocess", "class_name": "Popen",
                                                     "config": {"args": touch}}),
        "exec_activation": ("activation", {"module": "builtins", "class_name": "function", "config": "exec",
                                           "registered_name": "function"}),
    }  # fmt: skip


def plant(config: dict[str, Any], where: str, obj: dict[str, Any]) -> dict[str, Any]:
    """``config`` with the object planted in its layer ``hidden`` (top-level functional model)."""
    layer = next(entry for entry in config["config"]["layers"] if entry["config"]["name"] == "hidden")
    if where == "layer":
        layer.update({k: v for k, v in obj.items() if k != "config"})
        layer["config"].update(obj["config"])
    elif where == "function":
        layer.update(class_name="Lambda", module="keras.layers")
        layer["config"]["function"] = obj
    elif where == "keras2_function":
        layer.update(class_name="Lambda")
        layer.pop("module", None)
        layer["config"].update(obj)
    else:
        layer["config"][where] = obj
    return config


def planted_files(models: Path, tmp: Path, marker: Path) -> Iterator[tuple[str, Path]]:
    with zipfile.ZipFile(models / "clean.keras") as zf:
        base = json.loads(zf.read("config.json"))
        members = {n: zf.read(n) for n in zf.namelist()}
    with h5py.File(models / "clean.h5") as f:
        h5_base = json.loads(f.attrs["model_config"])
    for name, (where, obj) in plants(marker).items():
        archive = tmp / f"{name}.keras"
        with zipfile.ZipFile(archive, "w") as zout:
            for member, data in members.items():
                config = plant(json.loads(json.dumps(base)), where, obj)
                zout.writestr(member, json.dumps(config).encode() if member == "config.json" else data)
        yield name, archive
        legacy = tmp / f"{name}.h5"
        shutil.copy(models / "clean.h5", legacy)
        with h5py.File(legacy, "r+") as f:
            f.attrs["model_config"] = json.dumps(plant(json.loads(json.dumps(h5_base)), where, obj))
        yield name, legacy


def test_planted_code_never_runs_and_is_reported(
    capsys: pytest.CaptureFixture[str], check_models: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "MARKER"
    commands = [name for name in ("summary", "graph", "weights") if name in cli.commands]
    for name, path in planted_files(check_models, tmp_path, marker):
        for command in commands:
            code = main([command, str(path)])
            _, err = capsys.readouterr()
            assert code in (0, 3) and "Traceback" not in err, (command, path, err)
        code = main(["check", "--no-config", str(path), "--select", "KIN102"])
        out = capsys.readouterr().out
        assert code == 1, (name, path, out)
        lines = [ln for ln in out.splitlines() if " KIN102 error hidden: " in ln]
        assert lines, (name, path, out)
        assert any(word in out for word in ("os.system", "subprocess.Popen", "builtins.exec", "os>system")), (
            out
        )
        assert not marker.exists(), f"{name} ran code"
    assert not marker.exists()


# -- random configs: the rules never fail, and a planted reference is always found ------------------

KEYS = ["module", "class_name", "registered_name", "config", "layers", "layer", "function", "function_type",
        "name", "value", "kernel_initializer", "activation", "output_shape", "output_shape_type"]  # fmt: skip
WORDS = ["keras.layers", "keras", "tf_keras.src.engine", "os", "subprocess", "builtins", "function", "Lambda",
         "__lambda__", "lambda", "Dense", "TFOpLambda", "io.write_file", "zoo>Custom", "relu", "exec",
         "4wEAAAAAAAAAAAAAAAIAAAAT", "keras.utils", "get_file", "", "a.b.c"]  # fmt: skip
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(WORDS), st.text(max_size=8))
configs = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=5)), inner, max_size=5),
    ),
    max_leaves=40,
)


def run_rules(config: Any) -> list[Any]:
    subject = Subject("random.keras", None, RawFile(config=config, members=("config.json",), is_archive=True))
    out = []
    for rule in RULES.values():
        if rule.check is not None:
            out.extend(rule.check(subject))
    return out


@settings(max_examples=300 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs, st.integers(0, 10))
def test_rules_on_random_configs(config: Any, depth: int) -> None:
    found = run_rules(config)
    assert all(f.rule in RULES and isinstance(f.message, str) for f in found)
    assert run_rules(config) == found  # deterministic
    planted: Any = {"module": "os", "class_name": "system", "config": {}}
    for _ in range(depth):
        planted = {"class_name": "Wrapper", "config": {"layer": planted, "name": "w"}}
    assert "KIN102" in {f.rule for f in run_rules([config, planted])}


def test_deep_config_is_walked_without_recursion(tmp_path: Path) -> None:
    config: Any = {"module": "subprocess", "class_name": "Popen", "config": {}}
    for _ in range(50_000):
        config = {"config": {"layer": config}}
    assert "KIN102" in {f.rule for f in run_rules(config)}


# -- mutated files: exit 0, 1 or 3, never a traceback (extends test_bad_input's fuzz to check) -------


def test_check_mutation_fuzz(capsys: pytest.CaptureFixture[str], tmp_path: Path, check_models: Path) -> None:
    rng = random.Random(20261123)
    names = ("clean.keras", "clean.h5", "clean.weights.h5", "nested_lambda.keras", "k2_nested_lambda.h5")
    sources = {name: (check_models / name).read_bytes() for name in names}
    outcomes: dict[int, int] = {0: 0, 1: 0, 3: 0}
    for i in range(150 * SCALE):
        name = rng.choice(sorted(sources))
        path = tmp_path / f"m{i}_{name}"
        path.write_bytes(bad._mutate(rng, sources[name]))
        code = main(["check", "--no-config", str(path), "-j", "1"])
        out, err = capsys.readouterr()
        assert code in outcomes and err == "", (path, code, err)
        lines = out.splitlines()
        assert lines and all(ln.startswith(f"{path}: KIN") for ln in lines[:-1]), out
        outcomes[code] += 1
        path.unlink()
    assert outcomes[3] > 30 and outcomes[0] + outcomes[1] > 10, outcomes


# -- the hostile files of test_bad_input, through check: a line per file, within seconds ------------


@pytest.fixture(scope="module")
def tiny() -> Path:
    return built("build_bad_input.py")


def hostile_files(tiny: Path, tmp: Path) -> Iterator[Path]:
    for case in bad.BAD_CONFIGS:  # wrong types, cycles, dangling references...
        config = json.dumps(bad.BAD_CONFIGS[case][0](json.loads(json.dumps(bad.keras_config(tiny)))))
        yield bad.rezip(tiny / "tiny.keras", tmp / f"config_{case}.keras", {"config.json": config.encode()})
    yield bad._bomb(tmp / "bomb.keras", tiny, 200)
    deep = b'{"class_name": "Functional", "config": ' + b"[" * bad.DEEP + b"]" * bad.DEEP + b"}"
    yield bad.rezip(tiny / "tiny.keras", tmp / "deep.keras", {"config.json": deep})
    alone = tmp / "deep.json"
    alone.write_bytes(b'{"a": ' + b'{"a": ' * bad.DEEP + b"1" + b"}" * (bad.DEEP + 1))
    yield alone
    nested = tmp / "deep_h5.h5"
    shutil.copy(tiny / "tiny.h5", nested)
    with h5py.File(nested, "r+") as f:
        f.attrs["model_config"] = "[" * bad.DEEP + "]" * bad.DEEP
    yield nested
    for name in ("tiny.keras", "tiny.h5", "tiny.weights.h5"):
        cut = tmp / f"cut_{name}"
        cut.write_bytes((tiny / name).read_bytes()[:3000])
        yield cut
    yield bad.rezip(tiny / "tiny.keras", tmp / "escape.keras", add={"../../escape.txt": b"x"})


def test_hostile_files_end_quickly_with_one_line_each(
    capsys: pytest.CaptureFixture[str], tiny: Path, tmp_path: Path
) -> None:
    files = list(hostile_files(tiny, tmp_path))
    for path in files:
        start = time.monotonic()
        code = main(["check", "--no-config", str(path), "-j", "1"])
        took = time.monotonic() - start
        out, err = capsys.readouterr()
        assert code in (0, 1, 3) and err == "" and took < 20, (path, code, took, err)
        lines = out.splitlines()
        assert all(ln.startswith(f"{path}: KIN") and len(ln) < 1000 for ln in lines[:-1]), out
        assert lines[-1].endswith("in 1 file" + (", 1 unreadable" if code == 3 else "")), out
    code = main(["check", "--no-config", *map(str, files)])  # all at once, in parallel
    out = capsys.readouterr().out
    assert code == 3 and f"in {len(files)} files, " in out.splitlines()[-1]
    assert f"{files[-1]}: KIN104 error " in out  # the escaping member: a finding, not unreadable
    assert not (tmp_path.parent / "escape.txt").exists()
