"""TensorFlow checkpoints and SavedModels in every command, against TensorFlow and tf_keras.

The fixtures (``tests/build_tf.py``) are written by tf_keras, TensorFlow and Keras 3; the oracles are
``tf.train.load_checkpoint`` (every key, its shape, dtype and values) and the live model (totals,
per-layer parameters, weight names), recorded by the builder. A Keras SavedModel must read as the
``.h5`` of the same model does, and a checkpoint paired with its architecture (``--arch``) too.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from kinspect.cli import cli, main
from tests.test_weights import numpy_stats

MODELS = ["seq", "functional_nested", "rnn", "cnn_bn", "MobileNetV2"]
SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def as_json(*args: str) -> dict[str, Any]:
    code, out, err = run(*args, "--format", "json")
    assert (code, err) == (0, ""), err
    return json.loads(out)


def oracle(models: Path, name: str) -> dict[str, Any]:
    return json.loads((models / f"{name}.oracle.json").read_text())


def values(models: Path, name: str) -> dict[str, np.ndarray]:
    """The values ``tf.train.load_checkpoint`` read, by checkpoint key."""
    keys = oracle(models, name)["numeric"]
    with np.load(models / f"{name}.values.npz") as npz:
        return {key: npz[f"v{i}"] for i, key in enumerate(keys)}


def without(value: Any, keys: set[str]) -> Any:
    """``value`` with ``keys`` removed from every mapping in it."""
    if isinstance(value, dict):
        return {k: without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [without(v, keys) for v in value]
    return value


def leaf_weights(layers: list[dict[str, Any]]) -> list[str]:
    """``layer/weight`` of every weight of every layer, nested models' layers included."""
    out = []
    for layer in layers:
        out += [f"{layer['name']}/{w['name']}" for w in layer["weights"]]
        out += leaf_weights(layer["layers"])
    return out


# ---- summary: what the checkpoint says, and the model it belongs to ---------------------------


@pytest.mark.parametrize("name", MODELS)
def test_weights_only_checkpoint_names_layers_as_the_model(tf_models: Path, name: str) -> None:
    """Without an architecture: the real layer names (from the variables' names), the nesting, and
    the live model's parameter counts."""
    live = oracle(tf_models, name)["model"]
    doc = as_json("summary", str(tf_models / name))
    assert (doc["format"], doc["has_architecture"]) == ("tf-checkpoint", False)
    assert doc["total_params"] == live["total_params"]
    with_weights = [layer for layer in live["layers"] if layer["params"]]
    assert [layer["params"] for layer in doc["layers"]] == [layer["params"] for layer in with_weights]
    for got, want in zip(doc["layers"], with_weights, strict=True):
        if want["layers"]:  # a nested model: its name is not in the checkpoint, its layers' are
            assert got["name"].startswith("layer_with_weights-")
            assert [c["name"] for c in got["layers"]] == [c["name"] for c in want["layers"] if c["params"]]
        else:
            assert got["name"] == want["name"]
    if name != "functional_nested":  # its frozen sub-model: trainable flags are not in a checkpoint
        assert doc["trainable_params"] == live["trainable_params"]
        assert sorted(leaf_weights(doc["layers"])) == sorted(live["weights"])


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("arch", [".h5", ".config.json", "_savedmodel"])
def test_checkpoint_with_arch_summarizes_as_the_h5(tf_models: Path, name: str, arch: str) -> None:
    paired = as_json("summary", str(tf_models / name), "--arch", str(tf_models / f"{name}{arch}"))
    h5 = as_json("summary", str(tf_models / f"{name}.h5"))
    live = oracle(tf_models, name)["model"]
    assert (paired["weight_issues"], paired["unmatched_weights"]) == ([], [])
    # tf_keras's to_json() writes Keras 3 style "module" keys, its .h5 files do not
    assert without(paired["layers"], {"path", "module"}) == without(h5["layers"], {"path", "module"})
    for key in ("total_params", "trainable_params", "non_trainable_params"):
        assert paired[key] == h5[key] == live[key], key
    assert sorted(leaf_weights(paired["layers"])) == sorted(live["weights"])


@pytest.mark.parametrize("name", MODELS)
def test_keras_savedmodel_reads_as_the_h5(tf_models: Path, name: str) -> None:
    """keras_metadata.pb gives the architecture, variables/ the weights: the same summary, weights
    and graph as the .h5 of the same model."""
    saved = tf_models / f"{name}_savedmodel"
    sm, h5 = as_json("summary", str(saved)), as_json("summary", str(tf_models / f"{name}.h5"))
    assert (sm["format"], sm["has_architecture"]) == ("savedmodel", True)
    ignore = {"file", "format", "file_size", "notes", "path", "date_saved"}
    assert without(sm, ignore) == without(h5, ignore)
    code, text, _ = run("summary", str(saved), "--width", "120")
    _, h5_text, _ = run("summary", str(tf_models / f"{name}.h5"), "--width", "120")
    table = [line for line in text.splitlines() if not line.startswith(("File:", "Note:"))]
    assert code == 0 and table == [
        line for line in h5_text.splitlines() if not line.startswith(("File:", "Note:"))
    ]
    assert (
        run("graph", str(saved), "--show-shapes")[1]
        == run("graph", str(tf_models / f"{name}.h5"), "--show-shapes")[1]
    )


# ---- weights: every tensor against tf.train.load_checkpoint ----------------------------------

# Stored tensors that are not weights of the model nor counted optimizer variables: counters,
# compiled metrics, the learning rate and legacy hyperparameters (reported as the optimizer's
# state), a variable exported twice.
NOT_TENSORS = re.compile(
    r"^(save_counter|step|global_step|keras_api/.*|_all_variables/\d+"
    r"|optimizer/(_learning_rate|learning_rate|beta_1|beta_2|decay))$"
)
WEIGHTS_OF = [
    *MODELS, *(f"{m}_savedmodel" for m in MODELS), "manager", "training_1", "subclassed", "dtypes", "tf1",
    "k3_export", "k3_ckpt", "module_savedmodel", "sharded",
]  # fmt: skip


def target(models: Path, name: str) -> Path:
    return models / name if (models / name).exists() else models / name.replace("_", "/", 1)


@pytest.mark.parametrize("name", WEIGHTS_OF)
def test_statistics_equal_numpy_on_every_checkpoint_tensor(tf_models: Path, name: str) -> None:
    want = oracle(tf_models, name)
    arrays = values(tf_models, name)
    doc = as_json("weights", str(tf_models / name), "--optimizer")
    assert doc["format"] == ("savedmodel" if "savedmodel" in name or name == "k3_export" else "tf-checkpoint")
    seen = set()
    for t in doc["tensors"]:
        key = t["path"]
        assert key not in seen, f"{key} reported twice"
        seen.add(key)
        a = arrays[key]
        assert (t["shape"], t["dtype"]) == (list(a.shape), want["keys"][key]["dtype"]), key
        assert t["error"] is None, (key, t["error"])
        ref = numpy_stats(a)
        for stat in ("size", "zeros", "nan", "inf"):
            assert t[stat] == ref[stat], (key, stat)
        assert (t["min"], t["max"]) == (ref["min"], ref["max"]), key
        scale = max(abs(ref["min"]), abs(ref["max"]), 1e-30)
        for stat in ("mean", "std"):
            assert t[stat] == pytest.approx(ref[stat], rel=1e-9, abs=1e-12 * scale), (key, stat)
    rest = set(arrays) - seen
    assert {k for k in rest if not NOT_TENSORS.match(k.removesuffix(SUFFIX).removeprefix("model/"))} == set()
    if "optimizer" in want:
        assert doc["optimizer"]["iterations"] == want["optimizer"]["iterations"]
        assert doc["optimizer"]["learning_rate"] == pytest.approx(want["optimizer"]["learning_rate"])
        optimizer_rows = [t for t in doc["tensors"] if t["kind"] == "optimizer"]
        assert len(optimizer_rows) == want["optimizer"]["variables"]


def test_layer_and_weight_names_in_weights_json(tf_models: Path) -> None:
    """``path`` is the checkpoint key; ``layer`` and ``name`` the recovered layer and weight names."""
    doc = as_json("weights", str(tf_models / "rnn"))
    rows = {(t["layer"], t["name"]): t["path"] for t in doc["tensors"]}
    assert rows[("bidirectional", "forward_lstm/lstm_cell/kernel")] == (
        "layer_with_weights-1/forward_layer/cell/kernel" + SUFFIX
    )
    assert (
        rows[("multi_head_attention", "query/kernel")] == "layer_with_weights-2/_query_dense/kernel" + SUFFIX
    )
    assert rows[("time_distributed", "kernel")] == "layer_with_weights-3/layer/kernel" + SUFFIX
    assert rows[("gru", "gru_cell/recurrent_kernel")] == "layer_with_weights-4/cell/recurrent_kernel" + SUFFIX
    nested = as_json("weights", str(tf_models / "functional_nested"))
    layers = {t["layer"] for t in nested["tensors"]}
    assert {"layer_with_weights-0/dense", "layer_with_weights-1/frozen_dense", "head"} <= layers


# ---- how checkpoints are named --------------------------------------------------------------


def test_every_way_to_name_a_checkpoint(tf_models: Path) -> None:
    folder = tf_models / "manager"
    want = oracle(tf_models, "manager")
    latest = folder / want["latest"]
    shard = next(folder.glob(f"{want['latest']}.data-*"))
    docs = {p: as_json("summary", str(p)) for p in (folder, folder / "checkpoint", latest,
                                                     Path(f"{latest}.index"), shard)}  # fmt: skip
    reference = without(docs[latest], {"file", "notes"})
    assert all(without(d, {"file", "notes"}) == reference for d in docs.values())
    note = next(n for n in docs[folder]["notes"] if n.startswith("checkpoint state file"))
    assert want["latest"] in note and all(p in note for p in want["listed"])
    assert docs[folder]["notes"] == docs[folder / "checkpoint"]["notes"]
    assert not any(n.startswith("checkpoint state file") for n in docs[latest]["notes"])
    bookkeeping = next(n for n in docs[folder]["notes"] if n.startswith("bookkeeping"))
    assert f"step = {want['step']}" in bookkeeping and f"save_counter = {want['save_counter']}" in bookkeeping
    assert any(f"step {want['optimizer']['iterations']}" in n for n in docs[folder]["notes"])


def test_tutorial_checkpoint_and_legacy_slots(tf_models: Path) -> None:
    doc = as_json("weights", str(tf_models / "manager"), "--optimizer")
    slots = sorted(t["name"] for t in doc["tensors"] if t["kind"] == "optimizer" and t["name"] != "Adam/iter")
    assert slots == oracle(tf_models, "manager")["slots"]
    assert doc["optimizer"] == {"name": "Adam", "iterations": 5, "learning_rate": pytest.approx(0.005)}
    tutorial = as_json("summary", str(tf_models / "training_1"))
    assert [layer["name"] for layer in tutorial["layers"]] == ["dense", "batch_normalization", "out"]
    assert tutorial["model"]["name"] == "cp.ckpt"


def test_directory_without_a_state_file(
    tf_models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = as_json("summary", str(tf_models / "dtypes"))
    assert any("only checkpoint" in n for n in doc["notes"])
    for f in (tf_models / "manager").glob("ckpt-*"):
        shutil.copy(f, tmp_path / f.name)
    assert main(["summary", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "holds 2 checkpoints and no checkpoint state file" in err and "ckpt-2, ckpt-3" in err


# ---- other writers ---------------------------------------------------------------------------


def test_subclassed_model(tf_models: Path) -> None:
    live = [(layer["name"], layer["params"]) for layer in oracle(tf_models, "subclassed")["model"]["layers"]]
    doc = as_json("summary", str(tf_models / "subclassed"))
    assert [(layer["name"], layer["params"]) for layer in doc["layers"]] == [x for x in live if x[1]]
    saved = as_json("summary", str(tf_models / "subclassed_savedmodel"))
    assert [(layer["name"], layer["class_name"]) for layer in saved["layers"]] == [
        ("conv", "Conv2D"), ("block_a", "Dense"), ("block_b", "Dense"), ("head", "Dense")
    ]  # fmt: skip
    assert saved["model"]["name"] == "net" and saved["total_params"] == doc["total_params"]
    assert any("subclassed model" in n for n in saved["notes"])


def test_keras3_export_and_checkpoint(tf_models: Path) -> None:
    live = oracle(tf_models, "k3_export")["model"]
    want = [(layer["name"], layer["params"]) for layer in live["layers"]]
    for name in ("k3_export", "k3_ckpt"):
        doc = as_json("summary", str(tf_models / name))
        assert [(layer["name"], layer["params"]) for layer in doc["layers"]] == want, name
        assert doc["total_params"] == live["total_params"]
    exported = as_json("summary", str(tf_models / "k3_export"))
    assert any("no keras_metadata.pb" in n for n in exported["notes"])
    assert any("signature 'serve': inputs {keras_tensor: float32 (None, 5)}" in n for n in exported["notes"])
    paired = as_json("summary", str(tf_models / "k3_ckpt"), "--arch", str(tf_models / "k3seq.keras"))
    assert (paired["weight_issues"], paired["total_params"]) == ([], live["total_params"])


def test_tf_module_savedmodel(tf_models: Path) -> None:
    doc = as_json("summary", str(tf_models / "module_savedmodel"))
    assert doc["total_params"] == 8 and len(doc["layers"]) == 1
    assert any("inputs {x: float32 (None, 3)} → outputs {y: float32 (None, 2)}" in n for n in doc["notes"])


def test_tf1_name_based_checkpoint_with_a_partitioned_variable(tf_models: Path) -> None:
    doc = as_json("summary", str(tf_models / "tf1"))
    assert {(layer["name"], layer["params"]) for layer in doc["layers"]} == {("part", 40), ("dense", 4)}
    assert any("partitioned" in n and "part/kernel" in n for n in doc["notes"])
    assert any("global_step = 0" in n for n in doc["notes"])


# ---- check, report, --verify ------------------------------------------------------------------


def test_check_reads_the_savedmodel_config_as_the_h5(tf_models: Path) -> None:
    def findings(path: Path) -> list[tuple[str, str]]:
        code, out, _ = run("check", str(path), "--format", "json")
        assert code == 1  # KIN101 is an error
        return [(f["rule"], f["message"]) for f in json.loads(out)["files"][0]["findings"]]

    saved = findings(tf_models / "lambda_savedmodel")
    assert ("KIN101" in {rule for rule, _ in saved}) and saved == findings(tf_models / "lambda.h5")
    code, _, _ = run("check", str(tf_models / "seq"), str(tf_models / "seq_savedmodel"), "--select", "KIN3")
    assert code == 0


def test_report_on_checkpoint_and_savedmodel(tf_models: Path, tmp_path: Path) -> None:
    for name in ("manager", "rnn_savedmodel"):
        code, _, err = run("report", str(tf_models / name), "-o", str(tmp_path / name), "--no-graph")
        assert code == 0, err
        page = (tmp_path / name / "report.html").read_text()
        assert "tf-checkpoint" in page or "savedmodel" in page


def test_verify_checks_the_data_checksums(
    tf_models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "seq"
    shutil.copytree(tf_models / "seq", copy)
    assert run("weights", str(copy), "--verify")[0] == 0
    assert run("check", str(copy), "--verify", "--select", "KIN2")[0] == 0
    shard = next(copy.glob("ckpt.data-*"))
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x40  # one bit of one weight
    shard.write_bytes(bytes(data))
    assert run("weights", str(copy))[0] == 0  # without --verify the values are read as they are
    assert main(["weights", str(copy), "--verify"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "data CRC32C mismatch" in err and str(copy) in err
    code, out, _ = run("check", str(copy), "--verify")
    assert code == 3 and "cannot read" in out and "CRC32C" in out


# ---- pure parts ------------------------------------------------------------------------------


def test_keras_json_encodings_decode_as_plain_json() -> None:
    """tf_keras's json_utils encodings become lists; nothing is looked up or instantiated."""
    from kinspect.loaders.savedmodel import decode

    encoded = {
        "batch_input_shape": {
            "class_name": "__tuple__",
            "items": [None, {"class_name": "TensorShape", "items": [2, 3]}],
        },
        "unknown_rank": {"class_name": "TensorShape", "items": None},
        "slice": {"class_name": "__ellipsis__"},
        "name": {"class_name": "__bytes__", "value": "abc"},
        "spec": {"class_name": "TypeSpec", "type_spec": "tf.TensorSpec", "serialized": [1]},
        "layer": {"class_name": "Dense", "config": {"units": 2}},
    }
    assert decode(encoded) == {
        "batch_input_shape": [None, [2, 3]], "unknown_rank": None, "slice": "...", "name": "abc",
        "spec": {"class_name": "TypeSpec", "type_spec": "tf.TensorSpec", "serialized": [1]},
        "layer": {"class_name": "Dense", "config": {"units": 2}},
    }  # fmt: skip
    deep: Any = 1
    for _ in range(100_000):
        deep = {"class_name": "__tuple__", "items": [deep]}
    value = decode(deep)  # iterative: no recursion limit
    for _ in range(100_000):
        value = value[0]
    assert value == 1


def test_state_file_text_format(tmp_path: Path) -> None:
    from kinspect.loaders.tf_checkpoint import latest

    (tmp_path / 'we"ird').mkdir()
    (tmp_path / 'we"ird' / "ckpt-7.index").write_bytes(b"x")
    state = tmp_path / "checkpoint"
    state.write_text(
        f'model_checkpoint_path: "{tmp_path}/we\\"ird/ckpt-7"\nall_model_checkpoint_paths: "ckpt-\\0613"\n'
    )
    prefix, notes = latest(str(tmp_path), str(state))
    assert prefix == str(tmp_path / 'we"ird' / "ckpt-7")  # absolute, inside its directory: accepted
    assert "also listed: ckpt-13" in notes[0]  # \\061 is "1"
