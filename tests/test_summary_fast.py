"""A plain ``summary`` of a Keras 3 ``.keras`` archive takes the weights from the config alone
when the config decides them (README "What a plain summary reads"): it must say exactly what
reading the weights says, for every model Keras saved in the test sets, and start no reader.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import kinspect
from tests.keras_build import built

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


def test_config_only_summary_starts_no_reader(archives: list[Path]) -> None:
    """No child process and no h5py/numpy import for a decided archive; --verify reads it."""
    path = next(p for p in archives if not kinspect.summary(p).model.weights_checked)
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
