"""kinspect.loaders.h5meta reads HDF5 text attributes and group members without libhdf5: whenever
it answers, the answer is what h5py (through the reader child's ``h5tree.text``/``strings``) reads;
it answers for every full model Keras wrote in the test sets; and it never raises or hangs on a
damaged file.
"""

from __future__ import annotations

import ast
import os
import random
import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from kinspect.errors import InputError
from kinspect.loaders import h5meta, snapshot
from kinspect.loaders.h5tree import TEXT_ATTRS, attr_strings, text
from tests.conftest import deadline
from tests.keras_build import built
from tests.tfio.craft import mutate

ROOT = Path(__file__).resolve().parent.parent
# Every builder whose models are HDF5 files (full models, weights, checkpoints).
SETS = [
    ("build_zoo.py", "zoo.py", "zoo_keras2.py"),
    ("build_check.py",),
    ("build_fidelity.py", "build_zoo.py"),
    ("build_legacy.py", "build_zoo.py"),
    ("build_layouts.py",),
    ("build_cost.py",),
    ("build_weights.py",),
    ("build_tf.py", "build_zoo.py"),
    ("build_precision.py", "check_custom.py"),
    ("build_diff.py",),
    ("build_history.py",),
    ("build_bad_input.py",),
]


@pytest.fixture(scope="module")
def keras_files() -> list[Path]:
    """Every .h5/.hdf5 file the test sets hold, and the samples."""
    found = {p for s in SETS for p in built(*s).rglob("*") if p.suffix in (".h5", ".hdf5")}
    return sorted(found) + sorted(ROOT.glob("samples/*.h5"))


def h5py_text(path: Path, group: str = "") -> dict[str, str] | None:
    """The root's text attributes as the reader child decodes them (None: h5py cannot open it)."""
    try:
        f = h5py.File(path, "r")
    except (OSError, ValueError):
        return None
    with f:
        out = {}
        for name in TEXT_ATTRS:
            if name in f[group or "/"].attrs:
                try:
                    out[name] = text(f[group or "/"].attrs[name])
                except (UnicodeDecodeError, ValueError, TypeError):
                    out[name] = "<not text>"
        return out


def test_imports_only_the_standard_library() -> None:
    tree = ast.parse((ROOT / "kinspect/loaders/h5meta.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "os", "struct", "collections", "typing"}, imported


def test_keras_files_equal_h5py(keras_files: list[Path]) -> None:
    answered, full = [], []
    for path in keras_files:
        found = h5meta.root_text_attributes(str(path), TEXT_ATTRS)
        reference = h5py_text(path)
        if reference is not None and "model_config" in reference:
            full.append(path)
        if found is None:
            continue
        answered.append(path)
        assert found == reference, path
    # Every Keras writer in the sets (Keras 1.2, 2.2, tf.keras 2.21, Keras 3) is understood: the
    # fast path is really taken, not a None that is never wrong because it is always None.
    assert set(full) <= set(answered), sorted(set(full) - set(answered))
    assert len(full) >= 100, len(full)


def test_keras_weight_names_equal_h5py(keras_files: list[Path]) -> None:
    """``model_weights``'s layer names and each layer's weight names (Keras splits long lists into
    ``layer_names0``, ``layer_names1``…), as the reader child reads them."""
    checked = 0
    for path in keras_files:
        with h5py.File(path, "r") as f:
            if "model_weights" not in f or "model_config" not in f.attrs:
                continue
            layers = attr_strings(f["model_weights"], "layer_names")
            wanted = {
                "model_weights": ("layer_names",),
                **{f"model_weights/{n}": ("weight_names",) for n in layers},
            }
            reference = {
                group: {"weight_names": attr_strings(f[group], "weight_names")}
                for group in wanted
                if group != "model_weights"
            }
        found = h5meta.group_attributes(str(path), wanted)
        assert found is not None, path
        assert found.pop("model_weights") == {"layer_names": layers}, path
        for group, attrs in found.items():
            # h5py stores an empty list as an empty float array: both read as no names.
            assert attrs.get("weight_names", []) == reference[group]["weight_names"], (path, group)
        checked += 1
    assert checked >= 100, checked


def _write(path: Path, attrs: dict[str, Any], **kwargs: Any) -> Path:
    with h5py.File(path, "w", **kwargs) as f:
        f.create_group("model_weights")
        for name, value in attrs.items():
            f.attrs[name] = value
    return path


def _strtype(size: int, pad: int, utf8: bool = False) -> h5py.h5t.TypeID:
    tid = h5py.h5t.C_S1.copy()
    tid.set_size(size)
    tid.set_strpad(pad)
    if utf8:
        tid.set_cset(h5py.h5t.CSET_UTF8)
    return tid


def _raw_attr(path: Path, name: str, tid: h5py.h5t.TypeID, data: bytes) -> None:
    """A fixed-length string attribute of the exact type ``tid``, written as raw bytes."""
    with h5py.File(path, "a") as f:
        attr = h5py.h5a.create(f.id, name.encode(), tid, h5py.h5s.create(h5py.h5s.SCALAR))
        attr.write(
            np.frombuffer(data.ljust(tid.get_size(), b"\0"), dtype=f"S{tid.get_size()}").reshape(()),
            mtype=tid,
        )


CONFIG = '{"class_name": "Sequential", "config": {"name": "caf\u00e9 \u2014 \U0001f600", "layers": []}}'


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"libver": "latest"}, {"userblock_size": 512}, {"userblock_size": 4096, "libver": "latest"}],
    ids=["v0", "latest", "userblock", "userblock-latest"],
)
def test_crafted_files_equal_h5py(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    """Superblocks 0 and 3, object headers 1 and 2, a user block; vlen str, fixed bytes, non-ASCII."""
    path = _write(
        tmp_path / "m.h5",
        {
            "model_config": CONFIG,  # a str: h5py writes a variable-length UTF-8 string
            "keras_version": b"2.21.0",  # bytes: h5py writes a variable-length ASCII string (tf.keras's case)
            "backend": np.bytes_("tensorflow \u00e9".encode()),  # a fixed-length string, non-ASCII bytes
            "training_config": CONFIG.encode("utf-8"),  # variable-length "ASCII", non-ASCII bytes
            "layer_names": np.array([b"dense", b"dense_1"]),
        },
        **kwargs,
    )
    found = h5meta.root_text_attributes(str(path), TEXT_ATTRS)
    assert found is not None
    assert found == h5py_text(path) and found["model_config"] == CONFIG
    lists = h5meta.group_attributes(str(path), {"": ("layer_names",)})
    assert lists == {"": {"layer_names": ["dense", "dense_1"]}}


@pytest.mark.parametrize("pad", [h5py.h5t.STR_NULLTERM, h5py.h5t.STR_NULLPAD, h5py.h5t.STR_SPACEPAD])
@pytest.mark.parametrize("utf8", [False, True])
def test_string_paddings_equal_h5py(tmp_path: Path, pad: int, utf8: bool) -> None:
    """Fixed-length strings of every padding, stripped as h5py strips them."""
    path = _write(tmp_path / "m.h5", {})
    value = "tensorflow \u00e9t\u00e9".encode() if utf8 else b"tensorflow"
    _raw_attr(path, "backend", _strtype(len(value) + 6, pad, utf8), value + (b"  " if pad == 2 else b""))
    _raw_attr(path, "keras_version", _strtype(6, pad, utf8), b"3.15.1")  # fills the whole size
    found = h5meta.root_text_attributes(str(path), TEXT_ATTRS)
    assert found is not None
    assert found == h5py_text(path)


def test_continuation_blocks(tmp_path: Path) -> None:
    """Attributes added one by one to a version 1 header spill into continuation blocks."""
    path = _write(tmp_path / "m.h5", {})
    with h5py.File(path, "a") as f:
        for i in range(60):
            f.attrs[f"pad{i}"] = np.zeros(100)
            f.attrs[f"layer_names{i}"] = np.array([f"l{i}_{j}".encode() for j in range(20)])
        f.attrs["model_config"] = CONFIG
        f.attrs["keras_version"] = b"2.21.0"
        assert h5py.h5o.get_info(f.id).hdr.nchunks > 1  # the case under test
    found = h5meta.root_text_attributes(str(path), TEXT_ATTRS)
    assert found is not None and found == h5py_text(path)
    with h5py.File(path, "r") as f:
        chunks = attr_strings(f, "layer_names")
    opened = h5meta.open_meta(str(path))
    assert opened is not None
    fd, meta = opened
    try:
        attrs = meta.attributes(meta.root, ("layer_names",), chunked=("layer_names",))
    finally:
        os.close(fd)
    joined = [n for i in range(60) for n in attrs[f"layer_names{i}"]]
    assert joined == chunks


@pytest.mark.parametrize("libver", ["earliest", "latest"])
def test_large_attribute(tmp_path: Path, libver: str) -> None:
    """A config over 64 KiB: h5py stores str and bytes as variable-length strings (in a global heap
    collection of their own), read; a fixed-length one needs the latest format (dense storage,
    None); the earliest refuses to write it at all."""
    big = '{"pad": "' + "x" * 200_000 + '"}'
    path = _write(tmp_path / "m.h5", {"model_config": big, "training_config": big.encode()}, libver=libver)
    found = h5meta.root_text_attributes(str(path), TEXT_ATTRS)
    assert found is not None
    assert found == h5py_text(path) and found["model_config"] == big
    fixed = tmp_path / "f.h5"
    if libver == "earliest":
        with pytest.raises(OSError, match="message is too large"):
            _write(fixed, {"model_config": np.bytes_(big.encode())}, libver=libver)
    else:
        _write(fixed, {"model_config": np.bytes_(big.encode())}, libver=libver)
        assert h5py_text(fixed) == {"model_config": big}
        assert h5meta.root_text_attributes(str(fixed), TEXT_ATTRS) is None


def test_many_attributes_latest(tmp_path: Path) -> None:
    """With the latest format, many attributes move to dense storage (a fractal heap): None."""
    path = _write(
        tmp_path / "m.h5", {f"a{i}": b"x" for i in range(40)} | {"model_config": CONFIG}, libver="latest"
    )
    assert h5meta.root_text_attributes(str(path), TEXT_ATTRS) is None


def test_not_understood_is_none(tmp_path: Path) -> None:
    """Not HDF5, a text attribute that is a number or an array: None (the reader child decides)."""
    (tmp_path / "x.h5").write_bytes(b"not hdf5 at all" * 100)
    assert h5meta.root_text_attributes(str(tmp_path / "x.h5"), TEXT_ATTRS) is None
    assert h5meta.root_text_attributes(str(tmp_path / "missing.h5"), TEXT_ATTRS) is None
    number = _write(tmp_path / "n.h5", {"model_config": 3.0})
    assert h5meta.root_text_attributes(str(number), TEXT_ATTRS) is None
    array = _write(tmp_path / "a.h5", {"model_config": np.array([b"{}", b"{}"])})
    assert h5meta.root_text_attributes(str(array), TEXT_ATTRS) is None
    nul = _write(tmp_path / "z.h5", {})
    _raw_attr(nul, "backend", _strtype(12, h5py.h5t.STR_NULLPAD), b"tf\0flow")
    assert h5meta.root_text_attributes(str(nul), TEXT_ATTRS) is None


def test_lookup3() -> None:
    """The checksum of the format's newer structures (Bob Jenkins's published test vectors)."""
    assert h5meta.lookup3(b"") == 0xDEADBEEF
    assert h5meta.lookup3(b"Four score and seven years ago") == 0x17770551
    assert h5meta.lookup3(b"Four score and seven years ago", 1) == 0xCD628161


def _reference(path: Path) -> dict[str, str] | None:
    """The root's text attributes as the reader child reads them, in a child (libhdf5 may crash
    on a damaged file); None when it refuses the file."""
    try:
        snap = snapshot.read(str(path))
    except InputError:
        return None
    return {k: v for k, v in snap.attrs.get("", {}).items() if k in TEXT_ATTRS}


@pytest.mark.parametrize("source", ["crafted-latest", "keras"])
def test_mutation_fuzz(tmp_path: Path, source: str) -> None:
    """Damaged files: h5meta never raises nor hangs; when it answers, the reader child (libhdf5)
    either refuses the file or reads the same text."""
    if source == "keras":
        original = tmp_path / "orig.h5"
        shutil.copy(built("build_zoo.py", "zoo.py", "zoo_keras2.py") / "k2_sequential.h5", original)
    else:
        original = _write(
            tmp_path / "orig.h5", {"model_config": CONFIG, "keras_version": b"3.15.1"}, libver="latest"
        )
    data = original.read_bytes()
    rng = random.Random(f"h5meta-{source}")
    compared = 0
    for i in range(120):
        path = tmp_path / f"m{i}.h5"
        path.write_bytes(mutate(rng, data))
        with deadline(10, f"h5meta on mutation {i}"):
            found = h5meta.root_text_attributes(str(path), TEXT_ATTRS)
            h5meta.group_attributes(str(path), {"model_weights": ("layer_names",)})
        if found is not None and i % 3 == 0:  # the reader child costs a process: a third of them
            reference = _reference(path)
            if reference is not None:
                assert found == reference, i
                compared += 1
        path.unlink()
    assert compared >= 5, compared


def test_continuation_loop_is_none(tmp_path: Path) -> None:
    """A header whose continuation points back into itself: refused at once, not followed."""
    path = _write(tmp_path / "m.h5", {"model_config": CONFIG})
    data = bytearray(path.read_bytes())
    root = int.from_bytes(data[64:72], "little")  # superblock 0: the root symbol table entry's header
    assert data[root] == 1 and int.from_bytes(data[root + 18 : root + 20], "little") >= 16
    size = int.from_bytes(data[root + 8 : root + 12], "little")
    data[root + 16 : root + 18] = (0x10).to_bytes(2, "little")  # the first message: a continuation…
    data[root + 24 : root + 40] = (root + 16).to_bytes(8, "little") + size.to_bytes(8, "little")  # …to itself
    path.write_bytes(bytes(data))
    with deadline(5, "continuation loop"):
        assert h5meta.root_text_attributes(str(path), TEXT_ATTRS) is None


def test_read_budget(keras_files: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Overlapping structures cannot make it read more than its budget: past it, None."""
    path = next(p for p in keras_files if p.name == "ResNet50.h5")
    assert h5meta.root_text_attributes(str(path), TEXT_ATTRS) is not None
    monkeypatch.setattr(h5meta, "MAX_READ_BYTES", 1000)
    monkeypatch.setattr(h5meta, "MAX_COLLECTION", 0)
    assert h5meta.root_text_attributes(str(path), TEXT_ATTRS) is None
