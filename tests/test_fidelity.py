"""Fidelity on what real files hold: weights that contradict the config (and tf.keras 2.12-2.14's
``_layer_checkpoint_dependencies`` layout), deep models, shapes recorded by consumers, the
trainable split of custom layers, notes, and the last-resort guard for internal errors.

Keras-built models (``tests/build_fidelity.py``, cached like the other fixtures) are the oracle;
the 10,000-layer models are crafted here without Keras; ``tests/data`` holds two small archives
tf.keras 2.13.1 itself wrote (``tests/data/make_tf2_13.py``).
"""

from __future__ import annotations

import io
import itertools
import json
import random
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from kinspect.analyzers.summary import call_depths, summarize
from kinspect.cli import EXIT_INTERNAL, main
from kinspect.loaders import load
from kinspect.loaders.common import compile_info
from kinspect.model import LayerInfo, ModelInfo
from kinspect.render.table import render_table
from tests.conftest import TESTS
from tests.keras_build import built

DATA = TESTS / "data"
TF2 = "_layer_checkpoint_dependencies"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(TESTS.parent)  # samples/ paths as the README gives them


@pytest.fixture(scope="session")
def fid() -> Path:
    """The Keras-built models of this module, built once in child processes and cached."""
    return built("build_fidelity.py", "build_zoo.py")


def oracle(fid: Path, name: str) -> dict[str, Any]:
    return json.loads((fid / f"{name}.oracle.json").read_text())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The real entry point (``kinspect`` runs ``main``): exit code, stdout, stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def walk(layers: tuple[LayerInfo, ...] | list[dict[str, Any]]) -> Iterator[Any]:
    stack = list(reversed(layers))
    while stack:
        layer = stack.pop()
        yield layer
        stack.extend(reversed(layer["layers"] if isinstance(layer, dict) else layer.layers))


def shape_of(layer: LayerInfo) -> Any:
    shape = layer.output_shape
    if isinstance(shape, list):
        return [list(s) if s is not None else None for s in shape]
    return list(shape) if shape is not None else None


def rewrite_weights(src: Path, dst: Path, edit: Callable[[h5py.File], None], **members: bytes) -> Path:
    """A copy of archive ``src`` whose ``model.weights.h5`` went through ``edit`` (and with other
    members replaced by ``members``)."""
    with zipfile.ZipFile(src) as zf:
        content = {n: zf.read(n) for n in zf.namelist()}
    buf = io.BytesIO(content["model.weights.h5"])
    with h5py.File(buf, "r+") as f:
        edit(f)
    content["model.weights.h5"] = buf.getvalue()
    content.update(members)
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in content.items():
            zf.writestr(name, data)
    return dst


# -- weights that contradict the config: shown, not refused ----------------------------------------


def _wider_kernel(f: h5py.File) -> None:
    del f["layers/dense/vars/0"]  # d1: Dense(4) on 8 inputs, its kernel stored as (8, 5)
    f["layers/dense/vars"].create_dataset("0", data=np.ones((8, 5), "float32"))


def test_contradicting_weights_are_shown_per_layer(
    capsys: pytest.CaptureFixture[str], fid: Path, tmp_path: Path
) -> None:
    path = rewrite_weights(fid / "plain.keras", tmp_path / "misfit.keras", _wider_kernel)
    expected = "weight kernel has shape (8, 5), the layer builds (8, 4)"
    # A plain summary takes the counts from the config alone (README "What a plain summary
    # reads"): it does not open the weights, so it cannot see the contradiction, and says so in
    # its JSON; its text is the config's model, as for the intact file.
    code, plain, err = run(capsys, "summary", str(path))
    assert (code, err) == (0, ""), err
    _, intact, _ = run(capsys, "summary", str(fid / "plain.keras"))
    assert plain.split("\n", 1)[1] == intact.split("\n", 1)[1]  # all but the file's name and size
    assert "contradict" not in plain.split("\n", 1)[1] and expected not in plain
    code, out, _ = run(capsys, "summary", str(path), "--format", "json")
    doc = json.loads(out)
    assert doc["weights_checked"] is False and "weights_mismatch" not in doc and not doc["weight_issues"]
    # --verify reads them and reports every disagreement, as summary always did.
    code, out, err = run(capsys, "summary", str(path), "--verify")
    assert (code, err) == (0, ""), err
    assert f"Note: d1 (Dense): {expected}" in out.splitlines()
    assert any(
        line.startswith("Note: the stored weights contradict the model's own config, so Keras cannot load")
        and f"d1: {expected}" in line
        for line in out.splitlines()
    ), out
    assert "│ d1 (Dense)" in out and "│ d2 (Dense)" in out  # the architecture, every layer
    code, out, _ = run(capsys, "summary", str(path), "--format", "json", "--verify")
    doc = json.loads(out)
    assert doc["weights_checked"] is True
    assert doc["weights_mismatch"] == f"weights disagree with the architecture: d1: {expected}"
    assert doc["weight_issues"] == [
        {"layer": "d1", "kind": "shape", "weight": "kernel", "expected": [8, 4], "found": [8, 5]}
    ]
    assert doc["total_params"] == 8 * 5 + 4 + 4 * 2 + 2  # what the file holds
    d1 = next(layer for layer in doc["layers"] if layer["name"] == "d1")
    assert d1["notes"] == [expected]
    # check: the one KIN401 error it always reported, word for word.
    code, out, _ = run(capsys, "check", str(path))
    assert code == 1
    assert out.splitlines() == [
        f"{path}: KIN401 error weights do not fit the model's own config: d1: {expected}",
        "1 finding (1 error) in 1 file",
    ]
    # graph and weights work, and say it; the report's verdict is a problem.
    code, out, err = run(capsys, "graph", str(path))
    assert code == 0 and out.startswith("digraph") and "contradict the model's own config" in err
    code, out, _ = run(capsys, "weights", str(path))
    assert code == 0 and f"Note: d1: {expected}" in out
    code, out, _ = run(capsys, "report", str(path), "-o", str(tmp_path / "r"), "--no-graph", "--no-weights")
    assert code == 0 and re.search(r": \d+ problems?$", out.strip()), out
    page = (tmp_path / "r" / "report.html").read_text()
    assert expected in page and "KIN401" in page


def test_contradicting_legacy_h5_is_shown(
    capsys: pytest.CaptureFixture[str], fid: Path, tmp_path: Path
) -> None:
    path = tmp_path / "misfit.h5"
    path.write_bytes((fid / "plain.h5").read_bytes())
    with h5py.File(path, "r+") as f:
        group = f["model_weights/d2"]
        (name,) = [n for n in group.attrs["weight_names"] if "kernel" in str(n)]
        name = name.decode() if isinstance(name, bytes) else str(name)
        del group[name]
        group.create_dataset(name, data=np.ones((4, 3), "float32"))
    expected = "Note: d2 (Dense): weight kernel has shape (4, 3), the layer builds (4, 2)"
    # A plain summary takes the shapes from the config and only the weight names from the file
    # (README "What a plain summary reads"): it cannot see the contradiction, and its JSON says so.
    code, out, err = run(capsys, "summary", str(path))
    assert (code, err) == (0, "") and expected not in out and "contradict the" not in out
    code, out, _ = run(capsys, "summary", str(path), "--format", "json")
    assert json.loads(out)["weights_checked"] is False
    code, out, err = run(capsys, "summary", str(path), "--verify")
    assert (code, err) == (0, "")
    assert expected in out
    code, out, _ = run(capsys, "check", str(path), "--select", "KIN4")
    assert code == 1 and out.startswith(
        f"{path}: KIN401 error weights do not fit the model's own config: d2:"
    )


# -- tf.keras 2.12-2.14: weights under _layer_checkpoint_dependencies/ ------------------------------


def _snake(name: str) -> str:
    """keras/src/utils/naming.py to_snake_case."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def tf2_keys(config: dict[str, Any], keys: list[str], doubled: bool) -> dict[str, str]:
    """Where tf.keras 2.12-2.13 (``doubled``) or 2.14 saved each ``layers/...`` dataset of a model,
    following their keras/saving/saving_lib.py: the model's ``_layer_checkpoint_dependencies``
    (tf.keras engine/functional.py: ``layer_with_weights-<i>`` and ``layer-<i>`` for each layer
    with weights, ``layer-<i>`` for the others, in ``model.layers`` order) is walked first;
    ``_save_container_state`` names entries by snake_case class, and up to 2.13 counts a layer
    met a second time too."""
    moved: dict[str, str] = {}

    def container(model: dict[str, Any], old: str, new: str) -> None:
        layers = model["config"]["layers"]
        if model["class_name"] == "Sequential" and layers and layers[0]["class_name"] == "InputLayer":
            layers = layers[1:]  # tf.keras Sequential.layers hides its InputLayer
        entries: dict[str, int] = {}
        count: dict[str, int] = {}
        for layer in layers:
            base = _snake(layer["class_name"].rsplit(">", 1)[-1])
            j, k = count.get(base, 0), entries.get(base, 0)
            count[base] = j + 1
            now = f"{new}/{base}" + (f"_{j}" if j else "")
            then = f"{old}/{base}" + (f"_{k}" if k else "")
            weighted = any(key.startswith(now + "/") for key in keys)
            entries[base] = k + (2 if weighted and doubled else 1)
            if isinstance(layer["config"].get("layers"), list):
                container(layer, f"{then}/{TF2}", f"{now}/layers")
            for key in keys:
                if key.startswith(now + "/vars/"):
                    moved[key] = then + key[len(now) :]

    container(config, TF2, "layers")
    return moved


def tf2_archive(src: Path, dst: Path, doubled: bool, keras_version: str) -> Path:
    """``src`` (saved by tf_keras in today's layout) as tf.keras 2.13 or 2.14 would have saved it."""
    with zipfile.ZipFile(src) as zf:
        config = json.loads(zf.read("config.json"))

    def relayout(f: h5py.File) -> None:
        keys: list[str] = []
        f.visititems(lambda n, o: keys.append(n) if isinstance(o, h5py.Dataset) else None)
        for key, target in tf2_keys(config, keys, doubled).items():
            f.move(key, target)

    meta = json.dumps({"keras_version": keras_version, "date_saved": "2023-07-01@12:00:00"}).encode()
    return rewrite_weights(src, dst, relayout, **{"metadata.json": meta})


def _datasets(path: Path) -> dict[str, tuple[int, ...]]:
    with zipfile.ZipFile(path) as zf, h5py.File(io.BytesIO(zf.read("model.weights.h5"))) as f:
        found: dict[str, tuple[int, ...]] = {}
        f.visititems(lambda n, o: found.setdefault(n, o.shape) if isinstance(o, h5py.Dataset) else None)
        return found


def _tf2_oracle_matches(info: ModelInfo, layers: list[dict[str, Any]]) -> None:
    got = {
        layer.name: (layer.params, layer.trainable_params, layer.non_trainable_params)
        for layer in walk(info.layers)
    }
    want = {d["name"]: (d["params"], d["trainable_params"], d["non_trainable_params"]) for d in walk(layers)}
    assert got == want


@pytest.mark.parametrize("name", ["tf213_functional", "tf213_sequential", "tf213_recurrent"])
def test_archives_tf_keras_2_13_wrote(capsys: pytest.CaptureFixture[str], name: str) -> None:
    """Read as tf.keras 2.13 wrote and reads them (tf_keras 2.15+ and Keras 3 cannot load them)."""
    path = DATA / f"{name}.keras"
    info = load(str(path))
    expected = json.loads((DATA / "tf213.oracle.json").read_text())[name]
    assert info.params == expected["total_params"]
    assert not info.weight_issues and info.weights_mismatch is None and not info.unmatched_weights
    _tf2_oracle_matches(info, expected["layers"])
    assert any("tf.keras 2.12-2.13" in n and "nor does Keras 3" in n for n in info.notes), info.notes
    code, out, _ = run(capsys, "check", str(path), "--select", "KIN4")
    assert (code, out.splitlines()) == (0, ["0 findings in 1 file"])


def test_crafted_tf2_13_layout_is_the_one_tf_keras_2_13_writes(fid: Path, tmp_path: Path) -> None:
    """The crafting above, applied to the same architecture saved by today's tf_keras, gives
    exactly the datasets tf.keras 2.13.1 wrote: the crafted layouts below are faithful."""
    crafted = tf2_archive(fid / "tf213_functional.keras", tmp_path / "c.keras", True, "2.13.1")
    assert _datasets(crafted) == _datasets(DATA / "tf213_functional.keras")


@pytest.mark.parametrize(("doubled", "version"), [(True, "2.13.1"), (False, "2.14.0")])
def test_tf2_layouts_match_the_live_model(fid: Path, tmp_path: Path, doubled: bool, version: str) -> None:
    path = tf2_archive(fid / "tf213_functional.keras", tmp_path / "m.keras", doubled, version)
    info = load(str(path))
    assert not info.weight_issues and info.weights_mismatch is None and not info.unmatched_weights
    live = oracle(fid, "tf213_functional")
    assert info.params == live["total_params"]
    assert info.trainable_params == live["trainable_params"]
    _tf2_oracle_matches(info, live["layers"])
    (note,) = [n for n in info.notes if TF2 in n]
    assert ("2.12-2.13" in note and "nor does Keras 3" in note) if doubled else "(Keras 3 finds them)" in note


def test_tf2_layout_that_contradicts_the_config(
    capsys: pytest.CaptureFixture[str], fid: Path, tmp_path: Path
) -> None:
    path = tf2_archive(fid / "tf213_functional.keras", tmp_path / "m.keras", True, "2.13.1")

    def shrink(f: h5py.File) -> None:  # d2's kernel, the second Dense: stored as dense_2
        del f[f"{TF2}/dense_2/vars/0"]
        f[f"{TF2}/dense_2/vars"].create_dataset("0", data=np.ones((4, 7), "float32"))

    bad = rewrite_weights(path, tmp_path / "bad.keras", shrink)
    code, out, err = run(capsys, "summary", str(bad))
    assert (code, err) == (0, "")
    assert "Note: d2 (Dense): weight kernel has shape (4, 7), the layer builds (4, 4)" in out
    code, out, _ = run(capsys, "check", str(bad), "--select", "KIN4")
    assert code == 1 and "KIN401 error weights do not fit the model's own config: d2: weight kernel" in out


# -- deep models: every walk iterative, and a last-resort guard --------------------------------------


def chain(n_layers: int, functional: bool, dense_every: int = 100) -> tuple[dict[str, Any], int]:
    """A Keras 3 config of ``n_layers`` layers in one chain (an InputLayer, then Dense layers
    every ``dense_every`` layers and activations between), and how many Dense layers it has."""
    inp = {"module": "keras.layers", "class_name": "InputLayer", "name": "x", "inbound_nodes": [],
           "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "x"}}  # fmt: skip
    layers, prev, dense = [inp], "x", 0
    for n in range(1, n_layers):
        cls, cfg = ("Dense", {"units": 4}) if n % dense_every == 1 else ("Activation", {"activation": "relu"})
        dense += cls == "Dense"
        config = {"name": f"l{n}", "trainable": True, "dtype": "float32", **cfg}
        entry: dict[str, Any] = {
            "module": "keras.layers",
            "class_name": cls,
            "name": f"l{n}",
            "config": config,
        }
        if functional:
            history = {"shape": [None, 4], "dtype": "float32", "keras_history": [prev, 0, 0]}
            tensor = {"class_name": "__keras_tensor__", "config": history}
            entry["inbound_nodes"] = [{"args": [tensor], "kwargs": {}}]
        layers.append(entry)
        prev = f"l{n}"
    if functional:
        inner = {
            "name": "chain",
            "layers": layers,
            "input_layers": [["x", 0, 0]],
            "output_layers": [[prev, 0, 0]],
        }
        return {"module": "keras.src.models.functional", "class_name": "Functional", "config": inner}, dense
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "chain", "layers": layers},
    }, dense


def chain_archive(path: Path, n_layers: int, functional: bool) -> int:
    """A .keras archive of :func:`chain` with random weights; returns its parameter count."""
    config, dense = chain(n_layers, functional)
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for i in range(dense):
            group = f.create_group(f"layers/dense{f'_{i}' if i else ''}/vars")
            group["0"] = rng.normal(size=(4, 4)).astype("float32")
            group["1"] = rng.normal(size=(4,)).astype("float32")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", buf.getvalue())
    return dense * 20


@pytest.mark.parametrize("functional", [True, False], ids=["functional", "sequential"])
def test_ten_thousand_layers_every_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, functional: bool
) -> None:
    """A 10,000-layer chain: every command finishes, with every layer and shape, no traceback."""
    path = tmp_path / "chain.keras"
    params = chain_archive(path, 10_000, functional)
    code, out, err = run(capsys, "summary", str(path), "--format", "json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert len(doc["layers"]) == (10_000 if functional else 9_999)  # a Sequential hides its input
    assert doc["total_params"] == params
    assert all(layer["output_shape"] == [None, 4] for layer in doc["layers"])
    code, out, err = run(capsys, "summary", str(path))
    assert (code, err) == (0, "") and out.count("(Activation)") == 10_000 - 1 - params // 20
    code, out, _ = run(capsys, "graph", str(path))
    assert code == 0 and out.count(" -> ") == 9_999 - (0 if functional else 1)
    code, out, _ = run(capsys, "check", str(path))
    assert code == 0, out
    code, out, _ = run(capsys, "weights", str(path), "--format", "json")
    assert code == 0 and len(json.loads(out)["tensors"]) == params // 10
    code, out, _ = run(capsys, "report", str(path), "-o", str(tmp_path / "r"), "--no-graph")
    assert code == 0 and (tmp_path / "r" / "report.html").stat().st_size > 1_000_000
    config, _ = chain(10_000, functional)
    alone = tmp_path / "config.json"
    alone.write_text(json.dumps(config))
    code, out, err = run(capsys, "summary", str(alone))
    assert (code, err) == (0, "")


def test_deep_keras_model_matches_keras(fid: Path) -> None:
    """1,500 × (Dense, Activation): Keras needs a raised recursion limit to build it."""
    live = oracle(fid, "deep_chain")
    for fmt in ("keras", "h5"):
        info = load(str(fid / f"deep_chain.{fmt}"))
        assert info.params == live["total_params"] and len(info.layers) == len(live["layers"]) == 3_001
        got = [(layer.name, layer.params, shape_of(layer)) for layer in info.layers]
        assert got == [(layer["name"], layer["params"], layer["output_shape"]) for layer in live["layers"]]
        assert render_table(summarize(info), line_length=150) == live["summary"]


def _reference_depths(names: list[str], consumers: dict[str, list[str]]) -> dict[str, int]:
    """The recursive definition (as kinspect had it), for small graphs."""
    depth: dict[str, int] = {}

    def depth_of(name: str, seen: frozenset[str] = frozenset()) -> int:
        if name in depth:
            return depth[name]
        if name in seen:
            return 0
        depth[name] = 1 + max((depth_of(u, seen | {name}) for u in consumers.get(name, [])), default=-1)
        return depth[name]

    for name in names:
        depth_of(name)
    return depth


def test_call_depths_is_the_recursive_definition() -> None:
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(1, 12)
        names = [f"n{i}" for i in range(n)]
        consumers = {a: [b for b in names[i + 1 :] if rng.random() < 0.3] for i, a in enumerate(names)}
        rng.shuffle(names)
        assert call_depths(names, consumers) == _reference_depths(names, consumers)
    long = [f"n{i}" for i in range(50_000)]
    depths = call_depths(long, {a: [b] for a, b in itertools.pairwise(long)})
    assert depths["n0"] == 49_999 and depths["n49999"] == 0


def _explode(*_: Any, **__: Any) -> Any:
    raise RecursionError("maximum recursion depth exceeded")


def test_unexpected_error_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in kinspect: one line naming the file and how to see more, exit 4, no traceback."""
    monkeypatch.delenv("KINSPECT_DEBUG", raising=False)
    monkeypatch.setattr(ModelInfo, "all_weights", _explode)
    code, out, err = run(capsys, "summary", "samples/mnist_cnn.keras")
    assert (code, out) == (EXIT_INTERNAL, "") and EXIT_INTERNAL == 4
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(
        "kinspect: internal error: samples/mnist_cnn.keras: RecursionError: maximum recursion"
    )
    assert "--debug" in err and "KINSPECT_DEBUG=1" in err
    with pytest.raises(RecursionError):
        main(["--debug", "summary", "samples/mnist_cnn.keras"])
    monkeypatch.setenv("KINSPECT_DEBUG", "1")
    with pytest.raises(RecursionError):
        main(["summary", "samples/mnist_cnn.keras"])


def test_unexpected_error_in_check_names_the_files(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import kinspect.checks.runner as runner

    monkeypatch.delenv("KINSPECT_DEBUG", raising=False)
    monkeypatch.setattr(runner, "run_rules", _explode)
    code, _, err = run(capsys, "check", "-j", "1", "samples/mnist_cnn.keras", "samples/mnist_cnn.h5")
    assert code == EXIT_INTERNAL and err.count("\n") == 1
    assert "internal error: samples/mnist_cnn.keras, samples/mnist_cnn.h5: RecursionError" in err
    assert main(["--debug", "summary", "samples/mnist_cnn.keras", "--format", "json"]) == 0  # a normal run


def test_exit_code_4_is_documented() -> None:
    readme = (TESTS.parent / "README.md").read_text()
    section = " ".join(readme[readme.index("## Exit codes") :].split("\n## ")[0].split())
    assert "`4` internal error" in section and "--debug" in section and "KINSPECT_DEBUG=1" in section


# -- shapes the consumers recorded -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["nested_seq_lambda", "nested_functional_lambda", "doubly_nested_lambda", "sequential_lambda"]
)
def test_lambda_outputs_back_filled_from_consumers(fid: Path, name: str) -> None:
    """A nested model ending in a Lambda: its output and the Lambda's, at every depth, are what the
    next layer recorded as its input, and what Keras's live model has."""
    info = load(str(fid / f"{name}.keras"))
    live = oracle(fid, name)
    got = [(layer.name, shape_of(layer)) for layer in walk(info.layers)]
    want = [(layer["name"], layer["output_shape"]) for layer in walk(live["layers"])]
    if info.class_name == "Sequential":
        want = [w for w in want if w[0] != "input_layer"]
    assert got == want
    lam = [layer for layer in walk(info.layers) if layer.name == "lam"]
    assert len(lam) == 1 and lam[0].notes == (
        "output shape read from the file, not inferred: Lambda without a declared output_shape",
    )


# -- the trainable split of custom layers ---------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["custom_alone.keras", "custom_alone.h5", "custom_mixed.keras", "custom_mixed.h5", "custom_shared.keras",
     "custom_shared.h5", "k2_custom.h5", "k2_custom.keras", "k2_nested_custom.keras", "k2_nested_custom.h5"],
)  # fmt: skip
def test_custom_layers_split_is_a_range_holding_keras(
    capsys: pytest.CaptureFixture[str], fid: Path, name: str
) -> None:
    live = oracle(fid, name.rsplit(".", 1)[0])
    code, out, _ = run(capsys, "summary", str(fid / name), "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["total_params"] == live["total_params"]  # the total stays exact
    low, high = doc["uncertain"]["trainable_params"]
    assert low <= live["trainable_params"] <= high and low < high
    low, high = doc["uncertain"]["non_trainable_params"]
    assert low <= live["non_trainable_params"] <= high
    by_name = {layer["name"]: layer for layer in walk(doc["layers"])}
    for layer in walk(live["layers"]):  # per layer too, nested ones included
        mine = by_name[layer["name"]]
        assert mine["params"] == layer["params"]
        span = mine.get("uncertain", {}).get("trainable_params", [mine["trainable_params"]] * 2)
        assert span[0] <= layer["trainable_params"] <= span[1], layer["name"]
    code, out, _ = run(capsys, "summary", str(fid / name))
    (line,) = [line for line in out.splitlines() if line.startswith(" Trainable params: ")]
    low, high = doc["uncertain"]["trainable_params"]
    assert re.fullmatch(
        rf" Trainable params: {low:,}–{high:,} \([\d.]+ [KMG]?B–[\d.]+ [KMG]?B; "
        r"uncertain: custom layers' weights\)",
        line,
    ), line


def test_custom_alone_is_the_issue_example(
    capsys: pytest.CaptureFixture[str], fid: Path, tmp_path: Path
) -> None:
    """Keras says 39 trainable / 3 non-trainable; the file cannot tell, so neither does kinspect."""
    live = oracle(fid, "custom_alone")
    assert (live["trainable_params"], live["non_trainable_params"]) == (39, 3)
    code, out, _ = run(capsys, "summary", str(fid / "custom_alone.keras"))
    assert code == 0
    lines = out.splitlines()
    assert " Total params: 44 (180.00 B)" in lines  # 42 + the optimizer's 2, exact
    assert " Trainable params: 0–42 (0.00 B–168.00 B; uncertain: custom layers' weights)" in lines
    assert " Non-trainable params: 0–42 (0.00 B–168.00 B; uncertain: custom layers' weights)" in lines
    _, out, _ = run(capsys, "summary", str(fid / "custom_alone.keras"), "--format", "markdown")
    assert "- **Trainable params:** 0–42 (0.00 B–168.00 B; uncertain: custom layers' weights)" in out
    report = tmp_path / "r"
    code, _, _ = run(capsys, "report", str(fid / "custom_alone.keras"), "-o", str(report), "--no-graph")
    page = (report / "report.html").read_text()
    assert code == 0 and '<td>Trainable (uncertain)</td><td class="num">0–42</td>' in page
    _, out, _ = run(capsys, "weights", str(fid / "custom_alone.keras"), "--format", "json")
    assert [t["trainable"] for t in json.loads(out)["tensors"]] == [None, None, None]


def test_frozen_custom_layer_is_certain(capsys: pytest.CaptureFixture[str], fid: Path) -> None:
    _, out, _ = run(capsys, "summary", str(fid / "custom_mixed.keras"), "--format", "json")
    frozen = next(layer for layer in json.loads(out)["layers"] if layer["name"] == "frozen")
    assert "uncertain" not in frozen and frozen["trainable_params"] == 0
    assert [w["trainable"] for w in frozen["weights"]] == [False, False, False]
    assert not any("trainable" in note for note in frozen["notes"])


@pytest.mark.parametrize("name", ["plain.keras", "plain.h5", "deep_chain.keras", "nested_seq_lambda.keras"])
def test_no_custom_layer_no_uncertainty(capsys: pytest.CaptureFixture[str], fid: Path, name: str) -> None:
    _, out, _ = run(capsys, "summary", str(fid / name), "--format", "json")
    doc = json.loads(out)
    live = oracle(fid, name.rsplit(".", 1)[0])
    assert "uncertain" not in doc and not any("uncertain" in layer for layer in walk(doc["layers"]))
    assert "weights_mismatch" not in doc and doc["weight_issues"] == []
    assert (doc["trainable_params"], doc["non_trainable_params"]) == (
        live["trainable_params"],
        live["non_trainable_params"],
    )


def test_nested_registered_class_weights_on_their_layer(fid: Path) -> None:
    """tf.keras names a registered class in a nested model ``fid>Scaler``: its weights are still
    found under ``scaler`` and belong to that layer, not to the model holding it."""
    info = load(str(fid / "k2_nested_custom.keras"))
    live = {layer["name"]: layer["params"] for layer in walk(oracle(fid, "k2_nested_custom")["layers"])}
    assert {layer.name: layer.params for layer in walk(info.layers)} == live
    (inner,) = [layer for layer in info.layers if layer.name == "inner"]
    assert not inner.weights


# -- notes that say what is unknown, once ---------------------------------------------------------


@pytest.mark.parametrize("name", ["k2_lambda_first", "k2_lambda_first_functional"])
def test_unknown_lambda_output_named_once(fid: Path, name: str) -> None:
    info = load(str(fid / f"{name}.h5"))
    notes = {layer.name: layer.notes for layer in info.layers if layer.notes}
    assert notes == {
        "lam": ("output shape unknown: Keras 2 Lambda: output shape is whatever its function returns",),
        "d1": ("input shape unknown: the output of lam (Lambda) is unknown",),
    }


def test_no_note_twice(fid: Path) -> None:
    """No layer of any model here repeats a note, nor says two things about its output shape."""
    for path in sorted(fid.glob("*.keras")) + sorted(fid.glob("*.h5")):
        if path.name.startswith("deep_chain"):
            continue
        info = load(str(path))
        assert len(set(info.notes)) == len(info.notes), (path.name, info.notes)
        for layer in walk(info.layers):
            assert len(set(layer.notes)) == len(layer.notes), (path.name, layer.name, layer.notes)
            shape_notes = [n for n in layer.notes if n.startswith("output shape")]
            assert len(shape_notes) <= 1, (path.name, layer.name, layer.notes)


@pytest.mark.parametrize("name", ["custom_alone.keras", "custom_alone.h5", "k2_custom.h5", "k2_custom.keras"])
def test_custom_loss_shows_its_name(capsys: pytest.CaptureFixture[str], fid: Path, name: str) -> None:
    code, out, _ = run(capsys, "summary", str(fid / name))
    assert code == 0 and "· loss fid>scaled_mse" in out.splitlines()[1]
    code, out, _ = run(capsys, "summary", str(fid / name), "--format", "json")
    assert json.loads(out)["model"]["compile"]["loss"] == "fid>scaled_mse"


def test_registered_loss_of_earlier_keras_3() -> None:
    """Keras 3 before 3.15 kept the registry key in ``registered_name``."""
    fn = {
        "module": "builtins",
        "class_name": "function",
        "config": "my_loss",
        "registered_name": "Custom>my_loss",
    }
    info = compile_info({"loss": fn, "metrics": [fn, "mae"]})
    assert info is not None and info.loss == "Custom>my_loss" and info.metrics == ["Custom>my_loss", "mae"]
    builtin = {"module": "keras.losses", "class_name": "function", "config": "mean_squared_error",
               "registered_name": "mean_squared_error"}  # fmt: skip
    assert compile_info({"loss": builtin}).loss == "mean_squared_error"  # type: ignore[union-attr]
