"""The format registry: every format module keeps the protocol, sniffing is by content,
and a path no format claims is refused with one line naming what was tried."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kinspect.errors import InputError
from kinspect.loaders import base, load, read_raw, registry
from kinspect.model import Format

ROOT = Path(__file__).parent.parent
PROTOCOL = ("NAME", "FORMATS", "SUFFIXES", "sniff", "prefetch", "load", "architecture", "raw", "sources")
TRIED = (
    "not a Keras model file (tried: .keras archive, HDF5 model or weights, Keras config.json, "
    "TensorFlow SavedModel, TensorFlow checkpoint)"
)


@pytest.mark.parametrize("loader", registry.LOADERS, ids=lambda m: m.__name__)
def test_format_modules_keep_the_protocol(loader: Any) -> None:
    missing = [name for name in PROTOCOL if not hasattr(loader, name)]
    assert not missing, f"{loader.__name__} lacks {missing}"
    assert all(callable(getattr(loader, name)) for name in PROTOCOL[3:])
    assert all(s.startswith(".") for s in loader.SUFFIXES)


def test_every_format_has_exactly_one_loader() -> None:
    produced = [fmt for loader in registry.LOADERS for fmt in loader.FORMATS]
    assert sorted(produced) == sorted(Format)
    assert all(registry.loader_for(fmt).FORMATS.count(fmt) == 1 for fmt in Format)


def test_suffixes_longest_first() -> None:
    assert [len(s) for s in registry.SUFFIXES] == sorted((len(s) for s in registry.SUFFIXES), reverse=True)
    assert {".keras", ".h5", ".weights.h5", ".weights.json", ".json"} <= set(registry.SUFFIXES)


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: None, "cannot read file (No such file or directory)"),
        (lambda p: p.mkdir(), "is a directory, not a model file"),
        (lambda p: p.write_bytes(b""), "file is empty"),
        (lambda p: p.write_bytes(b"PK\x01\x02 not a zip header"), TRIED),
        (lambda p: p.write_text("[1, 2]"), TRIED),
    ],
)
def test_nothing_matched(tmp_path: Path, make: Any, problem: str) -> None:
    path = tmp_path / "model.keras"
    make(path)
    with pytest.raises(InputError) as caught:
        registry.sniff(str(path))
    assert caught.value.problem == problem
    assert read_raw(str(path)).config is None


def test_a_new_format_plugs_in_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A format may claim a directory or a prefix that is no file (as TensorFlow checkpoints do)."""
    (tmp_path / "ckpt.idx").write_bytes(b"index")
    claimed: list[str] = []
    fake = SimpleNamespace(
        NAME="test checkpoint",
        FORMATS=(),
        SUFFIXES=(".idx",),
        sniff=lambda path, head: Path(path + ".idx").is_file() or (Path(path) / "state.txt").is_file(),
        prefetch=lambda path, verify=True: None,
        load=lambda path, arch, pending, verify=True: claimed.append(path) or "model",
        architecture=lambda path: None,
        raw=lambda path: base.RawFile(config={"from": path}),
        sources=lambda info: [],
    )
    monkeypatch.setattr(registry, "LOADERS", (*registry.LOADERS, fake))
    prefix = str(tmp_path / "ckpt")
    assert load(prefix) == "model" and claimed == [prefix]
    assert read_raw(prefix).config == {"from": prefix}
    with pytest.raises(InputError, match=r"is a directory, not a model file"):
        load(tmp_path)
    (tmp_path / "state.txt").write_text("ckpt")
    assert load(tmp_path) == "model"
    (tmp_path / "x.bin").write_bytes(b"\0" * 32)
    with pytest.raises(InputError, match=r"tried: .*TensorFlow checkpoint, test checkpoint\)"):
        load(tmp_path / "x.bin")


def test_sniffing_imports_no_model_building() -> None:
    """Sniffing and starting the reader child come before the model-building modules load,
    so that the child reads while this process imports them."""
    heavy = (
        "h5py",
        "numpy",
        *(f"kinspect.loaders.{m}" for m in ("common", "assemble", "keras2_weights", "keras3_weights")),
    )
    code = (
        "import sys; from kinspect.loaders import registry; "
        "registry.sniff('samples/mnist_cnn.h5').prefetch('samples/mnist_cnn.h5').cancel(); "
        f"print(sorted(m for m in sys.modules if m in {heavy!r}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.stdout.strip() == "[]", proc.stderr
