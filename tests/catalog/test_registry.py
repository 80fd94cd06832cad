"""The registries are complete whenever they can be read, whatever was imported first.

Each test runs a fresh interpreter: in this process some other test has long imported every
family module, which would hide a registry that fills only when something imports it later.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py

from kinspect.catalog import RULES, SPECS, WEIGHTLESS, covered, expected_weights, is_builtin


def _fresh(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120)


def test_registries_are_complete_on_first_access() -> None:
    code = (
        "from kinspect.catalog.registry import RULES, SPECS, WEIGHTLESS, is_builtin; "
        "print(len(RULES), len(SPECS), len(WEIGHTLESS), is_builtin('MaxPooling2D'))"
    )
    proc = _fresh("-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(len(RULES)), str(len(SPECS)), str(len(WEIGHTLESS)), "True"]


def test_check_on_a_refused_keras2_config_flags_no_builtin_class(zoo_dir: Path, tmp_path: Path) -> None:
    """A .keras archive with a Keras 2 config (no ``module`` keys, as tf.keras's legacy
    serialization writes it) that the loader refuses before any shape is inferred: KIN103 must not
    claim that plain built-in layers (MaxPooling2D, Flatten…) need code to load."""
    with h5py.File(zoo_dir / "k2_cnn.h5") as f:
        config = json.loads(f.attrs["model_config"])
    layers = config["config"]["layers"]
    assert {"MaxPooling2D", "Flatten"} <= {layer["class_name"] for layer in layers}
    assert not any("module" in layer for layer in layers)
    path = tmp_path / "k2_cnn.keras"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("metadata.json", "{not json")  # refused here, before the config is parsed
    proc = _fresh("-m", "kinspect", "check", "--no-config", str(path))
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "KIN000" in proc.stdout and "metadata.json is not valid JSON" in proc.stdout
    assert "KIN103" not in proc.stdout, proc.stdout


def test_is_builtin() -> None:
    for name in ("Dense", "MaxPooling2D", "InputLayer", "LSTMCell", "TorchModuleWrapper", "MaxPool2D"):
        assert is_builtin(name), name
    for name in ("MyLayer", "ops.Add", ""):
        assert not is_builtin(name), name


def test_weightless_and_specs() -> None:
    assert covered("MaxPooling2D") and expected_weights("MaxPooling2D", {}, (None, 4, 4, 3)) == []
    assert expected_weights("NotAKerasLayer", {}, (None, 3)) is None
