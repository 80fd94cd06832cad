"""Bad TensorFlow checkpoints and SavedModels: one line on stderr naming the path, exit 3, no
traceback, bounded time; never a write to the input.

Damaged copies of real checkpoints (truncated or corrupt tables, wrong magic, missing or short
shards, state files pointing outside their directory) and crafted ones (``tests/tfio/craft.py``
writes tables byte for byte as TensorFlow does, so one thing can be wrong in a valid file:
absurd shapes and counts, object graphs that loop or tangle), then random mutations.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from kinspect.cli import main
from kinspect.errors import InputError
from kinspect.loaders import load
from kinspect.tfio.crc import crc32c, mask
from tests.conftest import deadline
from tests.tfio.craft import entry, field, header, varint, write_table

DT_FLOAT, DT_STRING = 1, 7
GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"


@pytest.fixture(autouse=True)
def _deadline(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[None]:
    monkeypatch.setenv("KINSPECT_TIMEOUT", "10")
    seconds = 240 if "fuzz" in request.node.name else 60

    with deadline(seconds, f"test ran longer than {seconds} s: kinspect hangs"):
        yield


def state(path: Path) -> dict[str, tuple[bytes, int]]:
    files = [path] if path.is_file() else sorted(p for p in path.parent.glob(path.name + "*") if p.is_file())
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in files}


def rejected(capsys: pytest.CaptureFixture[str], path: Path, *needles: str, command: str = "summary") -> str:
    before = state(path)
    code = main([command, str(path)])
    out, err = capsys.readouterr()
    assert state(path) == before, "kinspect modified what it read"
    assert code == 3, f"exit {code}; stdout={out[:300]!r} stderr={err[:300]!r}"
    assert err.count("\n") == 1 and err.startswith(f"kinspect: error: {path}: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.fixture
def ckpt(tf_models: Path, tmp_path: Path) -> Path:
    """A copy of the ``seq`` save_weights checkpoint directory (index, shard, state file)."""
    return Path(shutil.copytree(tf_models / "seq", tmp_path / "seq"))


def index(folder: Path) -> Path:
    return folder / "ckpt.index"


def shard(folder: Path) -> Path:
    return next(folder.glob("ckpt.data-*"))


# ---- damaged real checkpoints ----------------------------------------------------------------


@pytest.mark.parametrize("cut", [0.5, 0.9, 47 / 48])
def test_truncated_index(ckpt: Path, cut: float, capsys: pytest.CaptureFixture[str]) -> None:
    data = index(ckpt).read_bytes()
    index(ckpt).write_bytes(data[: int(len(data) * cut)])
    rejected(capsys, ckpt, "TensorFlow checkpoint")
    rejected(capsys, ckpt / "ckpt", "TensorFlow checkpoint")


def test_wrong_magic(ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = bytearray(index(ckpt).read_bytes())
    data[-1] ^= 0xFF
    index(ckpt).write_bytes(bytes(data))
    rejected(capsys, ckpt / "ckpt.index", "magic")


def test_block_crc_mismatch(ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = bytearray(index(ckpt).read_bytes())
    data[20] ^= 0x01  # inside the first data block
    index(ckpt).write_bytes(bytes(data))
    rejected(capsys, ckpt, "checksum mismatch")


def test_missing_shard(ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shard(ckpt).unlink()
    rejected(capsys, ckpt, "missing data shard")


def test_short_shard(ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = shard(ckpt).read_bytes()
    shard(ckpt).write_bytes(data[: len(data) // 2])
    rejected(capsys, ckpt, "ends at byte")
    rejected(capsys, ckpt, command="weights")


def test_state_file_pointing_outside(ckpt: Path, tf_models: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    elsewhere = Path(shutil.copytree(tf_models / "rnn", tmp_path / "elsewhere"))
    for target in ("../elsewhere/ckpt", str(elsewhere / "ckpt"), "/etc/passwd"):
        (ckpt / "checkpoint").write_text(f'model_checkpoint_path: "{target}"\n')
        rejected(capsys, ckpt, "points outside its directory")
    (ckpt / "link").symlink_to(elsewhere)  # inside by name, outside in fact
    (ckpt / "checkpoint").write_text('model_checkpoint_path: "link/ckpt"\n')
    rejected(capsys, ckpt, "points outside its directory")


def test_state_file_naming_nothing_readable(ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (ckpt / "checkpoint").write_text(
        'model_checkpoint_path: "ckpt-99"\nall_model_checkpoint_paths: "ckpt-99"\n'
    )
    rejected(capsys, ckpt, "ckpt-99.index is missing")
    (ckpt / "checkpoint").write_text("# nothing here\n")
    rejected(capsys, ckpt, "names no checkpoint")
    (ckpt / "checkpoint").write_bytes(b"model_checkpoint_path: \xff\xfe\x00\n")
    rejected(capsys, ckpt, "not text")
    (ckpt / "checkpoint").write_bytes(b'model_checkpoint_path: "' + b"a" * (2 << 20) + b'"\n')
    rejected(capsys, ckpt, "larger than")


def test_corrupt_keras_metadata(tf_models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = Path(shutil.copytree(tf_models / "seq_savedmodel", tmp_path / "sm"))
    metadata = saved / "keras_metadata.pb"
    original = metadata.read_bytes()
    metadata.write_bytes(random.Random(3).randbytes(2000))
    rejected(capsys, saved, "keras_metadata.pb")
    node = field(3, b"root") + field(4, b"_tf_keras_model") + field(5, b"{not json")
    metadata.write_bytes(field(1, node))
    rejected(capsys, saved, "not JSON")
    deep = b'{"model_config": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_000 + b"}"
    metadata.write_bytes(field(1, field(3, b"root") + field(5, deep)))
    rejected(capsys, saved)
    metadata.write_bytes(original)
    (saved / "variables" / "variables.index").write_bytes(b"\0" * 100)
    rejected(capsys, saved, "TensorFlow checkpoint")


def test_savedmodel_with_an_unreadable_graph_still_lists_its_variables(
    tf_models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = Path(shutil.copytree(tf_models / "module_savedmodel", tmp_path / "sm"))
    (saved / "saved_model.pb").write_bytes(b"\x0a\xff\xff\xff\xff\x0f")  # a length past the end
    assert main(["summary", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "signatures of saved_model.pb could not be read" in out and "Total params: 8" in out


# ---- crafted checkpoints -----------------------------------------------------------------------


def string_tensor(value: bytes) -> tuple[bytes, int]:
    """One DT_STRING element as a bundle stores it, and its entry's (masked) CRC32C."""
    length = bytes([len(value)]) if len(value) < 0x80 else varint(len(value))
    lengths_crc = crc32c(struct.pack("<I", len(value)))
    stored = struct.pack("<I", mask(lengths_crc))
    data = length + stored + value
    return data, mask(crc32c(stored + value, lengths_crc))


def node(children: list[tuple[str, int]] | None = None, variable: tuple[str, str] | None = None) -> bytes:
    """A ``TrackableObject``: children by local name, and a VARIABLE_VALUE (full name, key)."""
    out = b"".join(field(1, field(1, c) + field(2, n.encode())) for n, c in children or ())
    if variable is not None:
        full, key = variable
        out += field(2, field(1, b"VARIABLE_VALUE") + field(2, full.encode()) + field(3, key.encode()))
    return out


def write_checkpoint(prefix: Path, floats: dict[str, tuple[int, ...]], graph: list[bytes] | None,
                     shape_of: dict[str, tuple[int, ...]] | None = None) -> Path:  # fmt: skip
    """A one-shard checkpoint: float32 zeros for each key, and the object graph ``graph``."""
    data = bytearray()
    items = [(b"", header())]
    rows = {}
    for key, dims in floats.items():
        size = 4 * math.prod(dims)
        rows[key] = entry(
            DT_FLOAT, (shape_of or {}).get(key, dims), 0, len(data), size, mask(crc32c(bytes(size)))
        )
        data += bytes(size)
    if graph is not None:
        value, crc = string_tensor(b"".join(field(1, n) for n in graph))
        rows[GRAPH_KEY] = entry(DT_STRING, (), 0, len(data), len(value), crc)
        data += value
    items += sorted((k.encode(), v) for k, v in rows.items())
    prefix.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{prefix}.data-00000-of-00001").write_bytes(bytes(data))
    write_table(Path(f"{prefix}.index"), items)
    return prefix


KEY = "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"


def test_crafted_checkpoint_reads(tmp_path: Path) -> None:
    """The crafting itself is right: a minimal valid checkpoint reads as one Dense-like layer."""
    graph = [node([("layer-0", 1), ("layer_with_weights-0", 1)]), node([("kernel", 2)]),
             node(variable=("dense/kernel", KEY))]  # fmt: skip
    info = load(write_checkpoint(tmp_path / "ok", {KEY: (3, 2)}, graph))
    assert [(layer.name, layer.params) for layer in info.layers] == [("dense", 6)]


def test_absurd_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = write_checkpoint(tmp_path / "huge", {KEY: (3, 2)}, None, shape_of={KEY: (1 << 40, 1 << 30)})
    rejected(capsys, prefix, "too many elements")
    prefix = write_checkpoint(tmp_path / "lying", {KEY: (3, 2)}, None, shape_of={KEY: (3, 3)})
    rejected(capsys, prefix, "takes 36 bytes, the index says 24")


def test_absurd_shard_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = tmp_path / "many"
    Path(f"{prefix}.data-00000-of-00001").write_bytes(b"")
    write_table(Path(f"{prefix}.index"), [(b"", header(num_shards=1 << 30))])
    rejected(capsys, prefix, "data shards")


def test_object_graph_naming_a_missing_node(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    graph = [node([("layer-0", 7)])]
    rejected(capsys, write_checkpoint(tmp_path / "dangling", {KEY: (2,)}, graph), "node 7")


def test_object_graph_that_contains_itself(tmp_path: Path) -> None:
    """A model among its own layers, a layer reaching back to the root: read once, no hang."""
    graph = [node([("layer-0", 0), ("layer-1", 1), ("optimizer", 0)]), node([("kernel", 2), ("back", 0)]),
             node(variable=("dense/kernel", KEY))]  # fmt: skip
    info = load(write_checkpoint(tmp_path / "loop", {KEY: (4,)}, graph))
    assert info.params == 4


def test_tangled_object_graph_is_refused_fast(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every layer reaching every other through a hub: quadratic to walk, so refused by budget."""
    count = 3000
    hub = count + 1
    graph = [node([(f"layer-{i}", i + 1) for i in range(count)])]
    graph += [node([("x", hub)]) for _ in range(count)]
    graph.append(node([(f"n{i}", i + 1) for i in range(count)] + [("kernel", hub + 1)]))
    graph.append(node(variable=("dense/kernel", KEY)))
    prefix = write_checkpoint(tmp_path / "tangled", {KEY: (2,)}, graph)
    rejected(capsys, prefix, "entangled")


def test_object_graph_is_not_a_string(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = write_checkpoint(tmp_path / "odd", {KEY: (2,), GRAPH_KEY: (3,)}, None)
    rejected(capsys, prefix, "not a string scalar")


# ---- random damage -----------------------------------------------------------------------------


def mutations(data: bytes, rng: random.Random, count: int) -> Iterator[bytes]:
    for _ in range(count):
        out = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(out))
            out[at] = rng.randrange(256) if rng.random() < 0.7 else out[at] ^ (1 << rng.randrange(8))
        yield bytes(out)


@pytest.mark.parametrize("name", ["rnn", "manager", "rnn_savedmodel"])
def test_mutation_fuzz(tf_models: Path, tmp_path: Path, name: str) -> None:
    """Random damage to the index, to the shard (where the object graph is), to a SavedModel's
    metadata and graph: a model or one InputError, never another exception."""
    folder = Path(shutil.copytree(tf_models / name, tmp_path / name))
    rng = random.Random(name)
    files = [
        p for p in sorted(folder.rglob("*")) if p.is_file() and p.name not in ("checkpoint", "fingerprint.pb")
    ]
    for target in files:
        original = target.read_bytes()
        for damaged in mutations(original, rng, 60):
            target.write_bytes(damaged)
            try:
                load(folder)
            except InputError as exc:
                assert exc.path == str(folder) and "\n" not in exc.problem
        target.write_bytes(original)
    assert sorted(os.listdir(folder)) == sorted(os.listdir(tf_models / name))
