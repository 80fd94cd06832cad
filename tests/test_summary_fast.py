"""A plain ``summary`` of a Keras 3 ``.keras`` archive takes the weights from the config alone
when the config decides them (README "What a plain summary reads"): it must say exactly what
reading the weights says, for every model Keras saved in the test sets, and start no reader.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kinspect
from tests.conftest import deadline
from tests.keras_build import built
from tests.tfio.craft import mutate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def archives(zoo_dir: Path, check_models: Path) -> list[Path]:
    """Every ``.keras`` archive Keras wrote for the zoo, the fidelity and the check tests."""
    sets = [zoo_dir, check_models, built("build_fidelity.py", "build_zoo.py")]
    return sorted({p for d in sets for p in d.glob("*.keras")}) + sorted(ROOT.glob("samples/*.keras"))


def test_config_only_summary_equals_the_verified_one(archives: list[Path]) -> None:
    decided = []
    for path in archives:
        try:
            verified = kinspect.summary(path, verify=True, expand_nested=True)
        except kinspect.InputError:
            with pytest.raises(kinspect.InputError):
                kinspect.summary(path, expand_nested=True)
            continue
        plain = kinspect.summary(path, expand_nested=True)
        assert str(plain) == str(verified), path
        doc, reference = plain.to_dict(), verified.to_dict()
        assert reference["weights_checked"] is True
        if doc.pop("weights_checked") is False:
            decided.append(path)
            # Only a model whose weights agree with its config can be described without them.
            assert reference.get("weights_mismatch") is None and not reference["weight_issues"], path
        reference.pop("weights_checked")
        assert doc == reference, path
    # The config decides for most of Keras's own layers: a path never taken tests nothing.
    assert len(decided) >= 10, decided
    # A compiled model's optimizer variables are only in the file: the samples are compiled.
    assert not set(ROOT.glob("samples/*.keras")) & set(decided), decided


def assert_no_reader_unless_verified(path: Path) -> None:
    """A plain summary of ``path`` forks nothing and imports neither h5py nor numpy; with
    ``verify`` it forks the one reader child (counted in a fresh interpreter)."""
    probe = (
        "import os, sys\n"
        "forks = []\n"
        "real = os.fork\n"
        "os.fork = lambda: forks.append(1) or real()\n"
        "import kinspect\n"
        f"s = kinspect.summary({str(path)!r}, verify=sys.argv[1] == 'v')\n"
        "heavy = sorted(m for m in ('h5py', 'numpy') if m in sys.modules)\n"
        "print(len(forks), s.model.weights_checked, *heavy)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", probe, "-"], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["0", "False"], out
    out = subprocess.run(
        [sys.executable, "-c", probe, "v"], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["1", "True"], out


def test_config_only_summary_starts_no_reader(archives: list[Path]) -> None:
    """No child process and no h5py/numpy import for a decided archive; --verify reads it."""
    path = next(p for p in archives if not kinspect.summary(p).model.weights_checked)
    assert_no_reader_unless_verified(path)


# -- legacy .h5 full models ----------------------------------------------------------------------
# Every set whose builder saves full models with ``model.save("m.h5")`` (Keras 1.2, 2.2, tf.keras
# 2.21, Keras 3), and the samples.
H5_SETS = [
    ("build_zoo.py", "zoo.py", "zoo_keras2.py"),
    ("build_check.py",),
    ("build_fidelity.py", "build_zoo.py"),
    ("build_legacy.py", "build_zoo.py"),
    ("build_layouts.py",),
    ("build_cost.py",),
    ("build_weights.py",),
    ("build_tf.py", "build_zoo.py"),
    ("build_diff.py",),
]


@pytest.fixture(scope="module")
def h5_models() -> list[Path]:
    """Every full-model ``.h5`` Keras wrote in those sets (a ``model_config`` root attribute)."""
    import h5py

    found = sorted({p for s in H5_SETS for p in built(*s).rglob("*.h5")}) + sorted(ROOT.glob("samples/*.h5"))
    full = []
    for path in found:
        with h5py.File(path, "r") as f:
            if "model_config" in f.attrs:
                full.append(path)
    return full


def test_config_only_h5_summary_equals_the_verified_one(h5_models: list[Path]) -> None:
    decided = []
    for path in h5_models:
        try:
            verified = kinspect.summary(path, verify=True, expand_nested=True)
        except kinspect.InputError:
            with pytest.raises(kinspect.InputError):
                kinspect.summary(path, expand_nested=True)
            continue
        plain = kinspect.summary(path, expand_nested=True)
        assert str(plain) == str(verified), path
        assert plain._repr_html_() == verified._repr_html_(), path
        doc, reference = plain.to_dict(), verified.to_dict()
        assert reference["weights_checked"] is True
        if doc.pop("weights_checked") is False:
            decided.append(path)
            assert reference.get("weights_mismatch") is None and not reference["weight_issues"], path
        reference.pop("weights_checked")
        assert doc == reference, path
    # Most models of Keras's own layers, from every Keras 2 and 3 writer, are decided by the config.
    assert len(decided) >= 35, decided
    # Names matched by their last segment in the build's order (an LSTM's lstm_cell/kernel).
    assert {"rnn_states.h5", "sequential_mlp.h5", "NASNetMobile.h5"} <= {p.name for p in decided}, decided
    versions = {kinspect.summary(p).model.keras_version or "" for p in decided}
    assert {v[:4] for v in versions} >= {"2.2."}, versions  # Keras 2.2 (Theano/TF 1 era)
    assert {v[:2] for v in versions} >= {"2.", "3."}, versions  # tf.keras 2.x and Keras 3
    # Compiled models (a training config, so optimizer weights) and Keras 1 models are read.
    assert not set(ROOT.glob("samples/*.h5")) & set(decided), decided
    assert not [p for p in decided if p.name.startswith("k1_")], decided


def test_config_only_h5_summary_starts_no_reader(h5_models: list[Path]) -> None:
    """No child process and no h5py/numpy import for a decided ``.h5``; --verify reads it."""
    path = next(p for p in h5_models if p.name == "ResNet50.h5")
    assert_no_reader_unless_verified(path)


def test_tampered_h5_weights_are_caught_by_verify_and_check(h5_models: list[Path], tmp_path: Path) -> None:
    """A decided ``.h5`` whose stored kernel was replaced by one of another shape (h5py edit in a
    copy): a plain summary describes the config (and says it did not check), ``--verify`` and
    ``check`` report the contradiction."""
    import h5py

    from kinspect.cli import main

    source = next(p for p in h5_models if p.name == "k2_sequential.h5")
    assert kinspect.summary(source).model.weights_checked is False
    path = tmp_path / "tampered.h5"
    shutil.copy(source, path)
    with h5py.File(path, "r+") as f:
        group = f["model_weights"]
        layer = next(n for n in group.attrs["layer_names"] if len(group[n].attrs["weight_names"]))
        layer = layer.decode() if isinstance(layer, bytes) else layer
        weight = group[layer].attrs["weight_names"][0]
        weight = weight.decode() if isinstance(weight, bytes) else weight
        shape = group[layer][weight].shape
        del group[layer][weight]
        group[layer].create_dataset(weight, data=np.zeros(tuple(d + 1 for d in shape), "float32"))
    plain = kinspect.summary(path)
    assert plain.model.weights_checked is False and "weights_mismatch" not in plain.to_dict()
    verified = kinspect.summary(path, verify=True)
    assert verified.to_dict()["weights_mismatch"], verified.to_dict()
    assert any(i["kind"] == "shape" for i in verified.to_dict()["weight_issues"])
    assert main(["check", str(path), "--select", "KIN4"]) == 1


def test_damaged_h5_plain_summary(h5_models: list[Path], tmp_path: Path) -> None:
    """Mutated copies of a decided ``.h5``: a plain summary describes the file or refuses it in one
    line (InputError), never anything else, and never hangs."""
    source = next(p for p in h5_models if p.name == "k2_sequential.h5")
    data = source.read_bytes()
    rng = random.Random("h5-plain-summary")
    for i in range(40):
        path = tmp_path / f"m{i}.h5"
        path.write_bytes(mutate(rng, data))
        with deadline(60, f"plain summary of mutation {i}"):
            try:
                kinspect.summary(path)
            except kinspect.InputError as exc:
                assert "\n" not in str(exc)
        path.unlink()


def test_config_first_load_of_an_h5(h5_models: list[Path]) -> None:
    """The report's load: the config's model at once, the verified one (the listing started in a
    child meanwhile) equal to a plain ``load``, with the same stored tensors."""
    from kinspect import api, loaders

    path = next(p for p in h5_models if p.name == "k2_cnn.h5")
    first, verified = loaders.load_config_first(path)
    assert first.weights_checked is False and verified.later
    info = verified()
    assert info.weights_checked is True
    assert api._stored(info) == api._stored(first)
    assert info == loaders.load(path)


def test_h5_architecture_equals_h5py(h5_models: list[Path]) -> None:
    """``--arch model.h5`` takes the config from the file's bytes: the JSON h5py reads."""
    import json

    import h5py

    from kinspect.loaders import hdf5
    from kinspect.loaders.h5tree import text

    for path in h5_models:
        with h5py.File(path, "r") as f:
            reference = json.loads(text(f.attrs["model_config"]))
        assert hdf5.architecture(str(path)) == reference, path


def test_h5_layer_group_that_is_a_dataset(h5_models: list[Path], tmp_path: Path) -> None:
    """``layer_names`` naming a dataset, not a group (here a weightless layer's, whose empty name
    list the config would explain): the short path declines, so a plain summary refuses the file
    as ``--verify`` does."""
    import h5py

    source = next(p for p in h5_models if p.name == "k2_cnn.h5")
    assert kinspect.summary(source).model.weights_checked is False
    path = tmp_path / "odd.h5"
    shutil.copy(source, path)
    with h5py.File(path, "r+") as f:
        group = f["model_weights"]
        layer = next(n for n in group.attrs["layer_names"] if not len(group[n].attrs["weight_names"]))
        layer = layer.decode() if isinstance(layer, bytes) else layer
        del group[layer]
        group.create_dataset(layer, data=np.zeros(3, "float32"))
    with pytest.raises(kinspect.InputError, match="no such group"):
        kinspect.summary(path, verify=True)
    with pytest.raises(kinspect.InputError, match="no such group"):
        kinspect.summary(path)
