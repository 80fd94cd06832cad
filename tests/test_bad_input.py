"""Bad input: every unreadable, hostile or inconsistent file gives one line on stderr and exit 3.

Each case runs the real CLI entry point and checks: exit code 3, exactly one stderr line
naming the file, no traceback, and the file's bytes and mtime unchanged. A SIGALRM
deadline per test turns a hang into a failure instead of a stuck run.
"""

from __future__ import annotations

import copy
import json
import os
import random
import signal
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from kinspect.cli import main
from kinspect.errors import InputError
from kinspect.loaders.isolate import isolated
from tests.conftest import deadline
from tests.keras_build import built

READ_TIMEOUT = "5"  # seconds the reader child may take in these tests (hangs must end fast)


@pytest.fixture(scope="module")
def models() -> Path:
    """Small models saved by Keras: ``tiny`` (in every format), ``conv`` and ``wide``."""
    return built("build_bad_input.py")


@pytest.fixture(autouse=True)
def _deadline(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[None]:
    """No hang: a test over its deadline fails; the reader child is bounded more tightly still."""
    monkeypatch.setenv("KINSPECT_TIMEOUT", READ_TIMEOUT)
    seconds = 180 if request.node.name == "test_mutation_fuzz" else 60

    with deadline(seconds, f"test ran longer than {seconds} s: kinspect hangs"):
        yield


def snapshot(path: Path) -> tuple[bytes | None, int | None]:
    if path.is_file():
        return path.read_bytes(), path.stat().st_mtime_ns
    return None, path.stat().st_mtime_ns if path.exists() else None


def summary(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> tuple[int, str, str]:
    """Run ``kinspect summary`` in-process; the input must come out untouched."""
    before = snapshot(path)
    code = main(["summary", str(path), *extra])
    out, err = capsys.readouterr()
    assert snapshot(path) == before, "kinspect modified the file it read"
    return code, out, err


def rejected(capsys: pytest.CaptureFixture[str], path: Path, *needles: str) -> str:
    """Assert exit 3 with one stderr line naming ``path`` and mentioning each needle."""
    code, out, err = summary(capsys, path)
    assert code == 3, f"exit {code}; stdout={out[:300]!r} stderr={err[:300]!r}"
    assert out == ""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith(f"kinspect: error: {path}: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


def rezip(
    src: Path, dst: Path, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None
) -> Path:
    """A copy of archive ``src`` with some members replaced or added."""
    replace = replace or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def keras_config(models: Path) -> dict[str, Any]:
    with zipfile.ZipFile(models / "tiny.keras") as zf:
        return json.loads(zf.read("config.json"))


# -- files that are not models at all ---------------------------------------------------------


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rejected(capsys, tmp_path / "nope.keras", "No such file")


def test_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rejected(capsys, tmp_path, "directory")


def test_empty_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "empty.keras"
    path.write_bytes(b"")
    rejected(capsys, path, "empty")


def test_random_bytes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "random.h5"
    path.write_bytes(random.Random(1).randbytes(4096))
    rejected(capsys, path, "not a Keras model file")


def test_text_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "notes.keras"
    path.write_text("These are my notes about the model.\n" * 20)
    rejected(capsys, path, "not a Keras model file")


def test_hdf5_that_is_not_keras(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "data.h5"
    with h5py.File(path, "w") as f:
        f["measurements"] = np.arange(10.0)
        f.attrs["title"] = "lab data"
    rejected(capsys, path, "neither a Keras model nor a Keras weights file")


def test_zip_that_is_not_keras(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "photos.keras"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.txt", "hello")
    rejected(capsys, path, "no config.json")


@pytest.mark.parametrize("weight_map", [{"dense": [{}]}, {"dense": [1]}])
def test_sharded_index_with_odd_shard_names(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, weight_map: dict[str, Any]
) -> None:
    path = tmp_path / "model.weights.json"
    path.write_text(json.dumps({"weight_map": weight_map}))
    rejected(capsys, path, "shard name that is not text")


# -- truncation -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tiny.keras", "tiny.h5", "tiny.weights.h5"])
def test_truncated(capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path, name: str) -> None:
    data = (models / name).read_bytes()
    cuts = sorted({*range(1, len(data), max(1, len(data) // 25)), len(data) - 1, len(data) - 22, 8, 512})
    for cut in cuts:
        path = tmp_path / f"cut{cut}_{name}"
        path.write_bytes(data[:cut])
        rejected(capsys, path)


# -- configs that are not JSON, or not a model config ------------------------------------------


def _layer(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    return next(layer for layer in cfg["config"]["layers"] if layer["name"] == name)


def _history(cfg: dict[str, Any], name: str) -> list[Any]:
    return _layer(cfg, name)["inbound_nodes"][0]["args"][0]["config"]["keras_history"]


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], Any]:
    def edit(cfg: dict[str, Any]) -> Any:
        target = cfg
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return cfg

    return edit


def _history_to(layer: str, node: int) -> Callable[[dict[str, Any]], Any]:
    def edit(cfg: dict[str, Any]) -> Any:
        _history(cfg, "d1")[:2] = [layer, node]
        return cfg

    return edit


def _cycle(cfg: dict[str, Any]) -> Any:
    _history(cfg, "d1")[0] = "d2"  # x -> d1 becomes d2 -> d1 -> bn -> d2
    return cfg


def _self_loop(cfg: dict[str, Any]) -> Any:
    _history(cfg, "bn")[0] = "bn"
    return cfg


def _class_number(cfg: dict[str, Any]) -> Any:
    _layer(cfg, "bn")["class_name"] = 42
    return cfg


def _nodes(value: Any) -> Callable[[dict[str, Any]], Any]:
    def edit(cfg: dict[str, Any]) -> Any:
        _layer(cfg, "bn")["inbound_nodes"] = value
        return cfg

    return edit


BAD_CONFIGS: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "root is a list": (lambda cfg: [cfg], "not a JSON object"),
    "root is a string": (lambda cfg: "Functional", "not a JSON object"),
    "layers not a list": (_set(["config", "layers"], {"d1": {}}), "no list of layers"),
    "layers missing": (_set(["config", "layers"], None), "no list of layers"),
    "layer not a mapping": (_set(["config", "layers", 1], "bn"), "layer entry is not a mapping"),
    "class_name a number": (_class_number, "class_name is not a string"),
    "inbound_nodes a string": (_nodes("garbage"), "inbound_nodes of bn is not a list"),
    "inbound_nodes numbers": (_nodes([1, 2, 3]), "neither a list nor a mapping"),
    "inbound_nodes bad args": (_nodes([{"args": 7, "kwargs": {}}]), "wrong type"),
    "keras_history missing layer": (_history_to("ghost", 0), "'ghost', which is not in the model"),
    "node index out of range": (_history_to("x", 5), "call 5 of layer 'x'"),
    "node index negative": (_history_to("x", -1), "call -1 of layer 'x'"),
    "node index not int": (_history_to("x", "0"), "expected an integer"),
    "cycle": (_cycle, "cycle"),
    "self loop": (_self_loop, "cycle: bn -> bn"),
    "output names missing layer": (_set(["config", "output_layers"], [["ghost", 0, 0]]), "'ghost'"),
    "duplicate layer names": (lambda cfg: _set(["config", "layers", 2, "name"], "d1")(cfg), "two layers"),
}


def _bad_config(models: Path, case: str) -> Any:
    edit, _ = BAD_CONFIGS[case]
    return edit(copy.deepcopy(keras_config(models)))


@pytest.mark.parametrize("case", BAD_CONFIGS)
def test_bad_config_in_archive(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path, case: str
) -> None:
    path = rezip(
        models / "tiny.keras",
        tmp_path / "bad.keras",
        {"config.json": json.dumps(_bad_config(models, case)).encode()},
    )
    rejected(capsys, path, BAD_CONFIGS[case][1])


@pytest.mark.parametrize("case", BAD_CONFIGS)
def test_bad_config_json(capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path, case: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(_bad_config(models, case)))
    if not path.read_bytes().lstrip().startswith(b"{"):
        rejected(capsys, path, "not a Keras model file")  # a list or string is not sniffed as config
    else:
        rejected(capsys, path, BAD_CONFIGS[case][1])


@pytest.mark.parametrize(
    "case", ["layers not a list", "cycle", "keras_history missing layer", "class_name a number"]
)
def test_bad_config_in_h5(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path, case: str
) -> None:
    path = tmp_path / "bad.h5"
    path.write_bytes((models / "tiny.h5").read_bytes())
    with h5py.File(path, "r+") as f:
        f.attrs["model_config"] = json.dumps(_bad_config(models, case))
    rejected(capsys, path, BAD_CONFIGS[case][1])


def test_valid_config_still_loads(capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path) -> None:
    """The edits above break a config that is otherwise fine."""
    path = rezip(
        models / "tiny.keras",
        tmp_path / "same.keras",
        {"config.json": json.dumps(keras_config(models)).encode()},
    )
    code, out, err = summary(capsys, path)
    assert (code, err) == (0, "") and "d2 (Dense)" in out


@pytest.mark.parametrize("text", [b"not json{", b'{"class_name": ', b"\xff\xfe\x00garbage", b""])
def test_config_not_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path, text: bytes
) -> None:
    path = rezip(models / "tiny.keras", tmp_path / "bad.keras", {"config.json": text})
    rejected(capsys, path, "config.json is not valid JSON")


def test_model_config_attr_not_json(capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path) -> None:
    path = tmp_path / "bad.h5"
    path.write_bytes((models / "tiny.h5").read_bytes())
    with h5py.File(path, "r+") as f:
        f.attrs["model_config"] = "{not json"
    rejected(capsys, path, "model_config is not valid JSON")


# -- weights that disagree with the config ------------------------------------------------------


def _weights_of(models: Path, name: str) -> bytes:
    with zipfile.ZipFile(models / name) as zf:
        return zf.read("model.weights.h5")


def shown_with_contradiction(capsys: pytest.CaptureFixture[str], path: Path, *needles: str) -> str:
    """A model file whose weights contradict its config is described (exit 0), not refused, with
    the verdict as a note; ``check`` still reports it as one KIN401 error."""
    code, out, err = summary(capsys, path)
    assert (code, err) == (0, ""), err
    verdict = next(line for line in out.splitlines() if "contradict the model's own config" in line)
    assert "Keras cannot load this file" in verdict
    for needle in needles:
        assert needle in verdict, verdict
    assert main(["check", str(path), "--select", "KIN4"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{path}: KIN401 error weights do not fit the model's own config: "), lines
    return out


def test_weights_of_another_model(capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path) -> None:
    """Not one stored tensor fits a layer: the weights belong to another model."""
    path = rezip(
        models / "tiny.keras",
        tmp_path / "swapped.keras",
        {"model.weights.h5": _weights_of(models, "conv.keras")},
    )
    shown_with_contradiction(capsys, path, "do not belong to this architecture")


def test_weights_partly_fit(capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path) -> None:
    """Some tensors sit where the layers expect them but with other shapes: Keras could not
    load this file either; the first disagreement is the verdict, each one is on its layer."""
    path = rezip(
        models / "tiny.keras",
        tmp_path / "partly.keras",
        {"model.weights.h5": _weights_of(models, "wide.keras")},
    )
    out = shown_with_contradiction(capsys, path, "weights disagree with the architecture: ")
    assert "Note: d2 (Dense): weight kernel has shape (4, 3), the layer builds (4, 2)" in out
    assert "Note: d2 (Dense): weight bias has shape (3,), the layer builds (2,)" in out


def test_arch_of_another_model(capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path) -> None:
    """--arch pairing a weights file with an unrelated architecture is the same mismatch."""
    code, _, err = summary(capsys, models / "tiny.weights.h5", "--arch", str(models / "conv.keras"))
    assert code == 3 and err.count("\n") == 1 and "do not belong to this architecture" in err


def test_hdf5_weights_missing_from_legacy_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path
) -> None:
    path = tmp_path / "hollow.h5"
    path.write_bytes((models / "tiny.h5").read_bytes())
    with h5py.File(path, "r+") as f:
        del f["model_weights/d1"]
    rejected(capsys, path, "layer_names lists 'd1' but there is no such group")


# -- absurd sizes ------------------------------------------------------------------------------


def _patch_sizes(path: Path, member: str, size: int) -> None:
    """Rewrite the uncompressed size a zip declares for ``member`` (local and central headers)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    data[info.header_offset + 22 : info.header_offset + 26] = size.to_bytes(4, "little")
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(member)] != member.encode():
        central = data.index(b"PK\x01\x02", central + 4)
    data[central + 24 : central + 28] = size.to_bytes(4, "little")
    path.write_bytes(bytes(data))


def _bomb(path: Path, models: Path, megabytes: int) -> Path:
    """A real zip bomb: config.json of ``megabytes`` MB of spaces, deflated about 1000:1."""
    rezip(models / "tiny.keras", path, {"config.json": b"{}"})
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist() if i.filename != "config.json"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        with zf.open("config.json", "w", force_zip64=True) as fh:
            fh.write(b"{")
            chunk = b" " * (1 << 20)
            for _ in range(megabytes):
                fh.write(chunk)
            fh.write(b"}")
    return path


def test_zip_bomb_config(capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path) -> None:
    path = _bomb(tmp_path / "bomb.keras", models, 200)
    assert path.stat().st_size < 2 * 1024 * 1024
    rejected(capsys, path, "config.json declares")


def test_zip_bomb_with_lying_header(capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path) -> None:
    """The headers claim 100 bytes; the data inflates to 200 MB: never read past the claim."""
    path = _bomb(tmp_path / "liar.keras", models, 200)
    _patch_sizes(path, "config.json", 100)
    rejected(capsys, path, "cannot read config.json from the archive (Bad CRC-32")


def test_config_declaring_gigabytes(capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path) -> None:
    path = rezip(models / "tiny.keras", tmp_path / "huge.keras")
    _patch_sizes(path, "config.json", 4_000_000_000)
    rejected(capsys, path, "config.json declares 4,000,000,000 bytes")


DEEP = 100_000


def test_json_nested_deeply_in_archive(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path
) -> None:
    deep = b'{"class_name": "Functional", "config": ' + b"[" * DEEP + b"]" * DEEP + b"}"
    path = rezip(models / "tiny.keras", tmp_path / "deep.keras", {"config.json": deep})
    rejected(capsys, path, "nested too deeply")


def test_json_nested_deeply_alone(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(b'{"a": ' + b'{"a": ' * DEEP + b"1" + b"}" * (DEEP + 1))
    rejected(capsys, path, "nested too deeply")


def test_json_nested_deeply_in_h5(capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path) -> None:
    path = tmp_path / "deep.h5"
    path.write_bytes((models / "tiny.h5").read_bytes())
    with h5py.File(path, "r+") as f:
        f.attrs["model_config"] = "[" * DEEP + "]" * DEEP
    rejected(capsys, path, "nested too deeply")


def test_model_config_nested_deeply_as_models(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Valid JSON, modest depth, but models nested inside models without end."""
    cfg: dict[str, Any] = {"class_name": "Sequential", "config": {"layers": []}}
    for _ in range(200):
        cfg = {"class_name": "Sequential", "config": {"name": "s", "layers": [cfg]}}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    rejected(capsys, path, "nested more than")


def test_huge_text_attribute(capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path) -> None:
    path = tmp_path / "huge.h5"
    path.write_bytes((models / "tiny.h5").read_bytes())
    with h5py.File(path, "r+") as f:
        f.attrs["model_config"] = " " * (70 * 1024 * 1024)
    rejected(capsys, path, "attribute model_config is", "bytes")


def test_huge_fixed_size_attribute(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A fixed-size attribute is refused from its stored size, before it is read."""
    path = tmp_path / "names.h5"
    with h5py.File(path, "w", libver="latest") as f:  # dense attribute storage allows big ones
        f.attrs.create("layer_names", np.zeros(70 * 1024 * 1024, dtype="S1"))
    rejected(capsys, path, "attribute layer_names is")


# -- hostile archive members --------------------------------------------------------------------


@pytest.mark.parametrize(
    "member", ["../escape.txt", "assets/../../escape.txt", "/etc/evil", "C:/evil", "\\evil"]
)
def test_unsafe_member_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path, member: str
) -> None:
    path = rezip(models / "tiny.keras", tmp_path / "evil.keras", add={member: b"x"})
    rejected(capsys, path, "unsafe path")
    assert not (tmp_path.parent / "escape.txt").exists()


def test_unsupported_compression(capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path) -> None:
    """A compression method Python's zipfile lacks (here: an unknown id) is an error, not a crash."""
    path = rezip(models / "tiny.keras", tmp_path / "odd.keras")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        offset = zf.getinfo("config.json").header_offset
    data[offset + 8 : offset + 10] = (99).to_bytes(2, "little")  # local header method: AE-x
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + 11] != b"config.json":
        central = data.index(b"PK\x01\x02", central + 4)
    data[central + 10 : central + 12] = (99).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    rejected(capsys, path, "compression method is not supported")


# -- the reader's own bounds --------------------------------------------------------------------


def _spin() -> None:
    while True:
        pass


def _segfault() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def _hog() -> None:
    hoard = []
    while True:
        hoard.append(bytearray(256 * 1024 * 1024))


def test_reader_that_hangs_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINSPECT_TIMEOUT", "1")
    with pytest.raises(InputError, match="took longer than 1 s"):
        isolated("f.h5", _spin)


def test_reader_that_crashes_is_reported() -> None:
    with pytest.raises(InputError, match=r"crashed.*SIGSEGV"):
        isolated("f.h5", _segfault)


def test_reader_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINSPECT_MEMORY_MB", "512")
    with pytest.raises(InputError, match="more than 512 MB of memory"):
        isolated("f.h5", _hog)


def test_reader_result_comes_back() -> None:
    assert isolated("f.h5", lambda: {"layers": [1, 2], "name": "x"}) == {"layers": [1, 2], "name": "x"}


# -- through ``python -m kinspect``: nothing but one line may reach stderr ----------------------


def test_subprocess_errors_are_one_line(tmp_path: Path, models: Path) -> None:
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"\x89HDF\r\n\x1a\n" + random.Random(2).randbytes(3000))
    cut = tmp_path / "cut.keras"
    cut.write_bytes((models / "tiny.keras").read_bytes()[:5000])
    deep = tmp_path / "deep.json"
    deep.write_bytes(b'{"a": ' + b"[" * DEEP + b"]" * DEEP + b"}")
    cycle = rezip(
        models / "tiny.keras",
        tmp_path / "cycle.keras",
        {"config.json": json.dumps(_bad_config(models, "cycle")).encode()},
    )
    for path in (tmp_path / "missing.keras", tmp_path, garbage, cut, deep, cycle):
        before = snapshot(path)
        proc = subprocess.run(
            [sys.executable, "-m", "kinspect", "summary", str(path)],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, "KINSPECT_TIMEOUT": READ_TIMEOUT},
        )  # fmt: skip
        assert proc.returncode == 3, (path, proc.stderr)
        assert proc.stdout == ""
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(f"kinspect: error: {path}: "), (
            proc.stderr
        )
        assert "Traceback" not in proc.stderr
        assert snapshot(path) == before


def test_subprocess_good_file(models: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kinspect", "summary", str(models / "tiny.keras")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stderr == "" and "Total params" in proc.stdout


# -- mutation fuzzing ---------------------------------------------------------------------------


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    op = rng.choice(("flip", "truncate", "splice", "zero", "flip"))
    if op == "flip":
        for _ in range(rng.randint(1, 16)):
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
    elif op == "truncate":
        del out[rng.randrange(1, len(out)) :]
    elif op == "splice":
        i, j, n = rng.randrange(len(out)), rng.randrange(len(out)), rng.randint(1, 256)
        out[i : i + n] = data[j : j + n]
    else:
        i = rng.randrange(len(out))
        out[i : i + rng.randint(1, 64)] = bytes(rng.randint(1, 64))
    return bytes(out)


def test_mutation_fuzz(capsys: pytest.CaptureFixture[str], tmp_path: Path, models: Path) -> None:
    """Flipped, truncated and spliced valid files: exit 0, or exit 3 with one line; nothing else."""
    rng = random.Random(20240607)
    sources = {name: (models / name).read_bytes() for name in ("tiny.keras", "tiny.h5", "tiny.weights.h5")}
    outcomes = {0: 0, 3: 0}
    for i in range(300):
        name = rng.choice(sorted(sources))
        path = tmp_path / f"m{i}_{name}"
        path.write_bytes(_mutate(rng, sources[name]))
        code, _, err = summary(capsys, path)
        assert code in (0, 3), (path, code, err)
        if code == 3:
            assert err.count("\n") == 1 and err.startswith(f"kinspect: error: {path}: "), err
        else:
            assert err == "", err
        outcomes[code] += 1
        path.unlink()
    assert outcomes[3] > 100  # the mutations do damage: most files must be rejected
