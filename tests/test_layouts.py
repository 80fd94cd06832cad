"""Weights layouts as Keras and tf.keras really wrote them, against what Keras says.

* Keras 3 weights files: the real layer names (``vars`` ``name`` attributes, Keras 3.6+),
  weightless layers, Keras's order, nested models, the optimizer's state; older files
  without names keep the path names and say so.
* tf.keras ``.keras`` / ``.weights.h5`` saved on Windows (``layers\\dense/vars/0``).
* legacy ``.h5`` weight names with ``//`` (``res_net//conv2d/kernel:0``).

The files are built by ``build_layouts.py`` in a Keras child process, with the live
models' answers (``*.oracle.json``) and arrays (``*.arrays.npz``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from kinspect.catalog.weightnames import to_snake_case
from kinspect.loaders import h5order, load, snapshot
from tests import keras_build
from tests.test_weights import assert_stats_match, run, weights_json


@pytest.fixture(scope="session")
def built() -> Path:
    """The layout fixtures, built once per builder version by ``tests/build_layouts.py``."""
    return keras_build.built("build_layouts.py")


def oracle(built: Path, name: str) -> dict[str, Any]:
    return json.loads((built / f"{name}.oracle.json").read_text())


def arrays(built: Path, name: str) -> dict[str, np.ndarray]:
    with np.load(built / f"{name}.arrays.npz") as data:
        return {k: data[k] for k in data.files}


def summary_json(path: Path, *extra: str) -> dict[str, Any]:
    code, out, err = run("summary", str(path), "--format", "json", *extra)
    assert (code, err) == (0, ""), err
    return json.loads(out)


def layer_tree(layers: list[dict[str, Any]]) -> list[Any]:
    """Name, class, parameter counts and nested layers: what the oracle and kinspect both say."""
    keys = ("name", "class_name", "params", "trainable_params", "non_trainable_params")
    return [[*(layer[k] for k in keys), layer_tree(layer["layers"])] for layer in layers]


def without(doc: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in keys}


# ---------------------------------------------------------------- Keras 3: real names, order, nesting


def test_real_layer_names_order_and_nesting(built: Path) -> None:
    want = oracle(built, "named")
    doc = summary_json(built / "named.weights.h5")
    assert doc["model"]["name"] == "classifier"
    assert layer_tree(doc["layers"]) == layer_tree(want["layers"])
    assert [layer["name"] for layer in doc["layers"]] == ["image", "stem", "norm", "drop", "block", "has_nan",
                                                         "probs"]  # fmt: skip
    assert doc["total_params"] == want["total_params"]
    assert (doc["trainable_params"], doc["non_trainable_params"]) == (
        want["trainable_params"],
        want["non_trainable_params"],
    )
    assert not any("layer names are the paths" in n for n in doc["notes"])


def test_sequential_wrappers_and_nested_functional(built: Path) -> None:
    want = oracle(built, "stack")
    doc = summary_json(built / "stack.weights.h5")
    assert doc["model"]["name"] == "stack"
    assert layer_tree(doc["layers"]) == layer_tree(want["layers"])
    assert doc["optimizer_params"] == 0
    encoder = next(layer for layer in doc["layers"] if layer["name"] == "encoder")
    assert [layer["name"] for layer in encoder["layers"]] == ["tokens", "ln", "enc_dense"]


def test_files_without_names_keep_path_names_and_say_so(built: Path) -> None:
    """Keras 3.0-3.5 wrote no ``name`` attributes: the layers are named by their paths."""
    with h5py.File(built / "unnamed.weights.h5") as f:
        assert not [p for p in f if "name" in f[p].attrs]
    want = oracle(built, "named")
    doc = summary_json(built / "unnamed.weights.h5")
    used: dict[str, int] = {}

    def path_name(cls: str) -> str:  # keras/src/saving/saving_lib.py _get_unique_name
        base = to_snake_case(cls)
        used[base] = used.get(base, -1) + 1
        return f"{base}_{used[base]}" if used[base] else base

    expected = [path_name(layer["class_name"]) for layer in want["layers"]]
    assert [layer["name"] for layer in doc["layers"]] == expected
    assert [layer["params"] for layer in doc["layers"]] == [layer["params"] for layer in want["layers"]]
    assert doc["model"]["name"] == "unnamed.weights.h5"
    assert any("layer names are the paths the weights are stored under" in n for n in doc["notes"])


def test_sharded_weights_keep_names_and_order(built: Path) -> None:
    whole = summary_json(built / "named.weights.h5")
    sharded = summary_json(built / "named_sharded.weights.json")
    assert len(list(built.glob("named_sharded_*.weights.h5"))) > 1
    assert layer_tree(sharded["layers"]) == layer_tree(whole["layers"])
    assert sharded["optimizer_params"] == whole["optimizer_params"]


def test_weight_values_by_real_layer_path(built: Path) -> None:
    live = arrays(built, "named")
    doc = weights_json(built / "named.weights.h5")
    by_layer: dict[str, list[dict[str, Any]]] = {}
    for t in doc["tensors"]:
        by_layer.setdefault(t["layer"], []).append(t)
    want: dict[str, list[np.ndarray]] = {}
    for key, value in live.items():
        layer = key.split("#")[0]
        if layer != "(optimizer)":
            want.setdefault(layer, []).append(value)
    assert sorted(by_layer) == sorted(want) == ["block/inner", "has_nan", "norm", "probs", "stem"]
    for layer, tensors in by_layer.items():
        assert_stats_match(tensors, want[layer])


def test_optimizer_state_is_listed_and_read(built: Path) -> None:
    want = oracle(built, "named")
    live = arrays(built, "named")
    doc = summary_json(built / "named.weights.h5")
    assert doc["optimizer_params"] == want["optimizer_params"] > 0
    weights = weights_json(built / "named.weights.h5", "--optimizer")
    slots = [t for t in weights["tensors"] if t["kind"] == "optimizer"]
    assert len(slots) == want["optimizer_variables"]
    for i, t in enumerate(slots):
        assert t["name"] == f"optimizer/vars/{i}"
        assert_stats_match([t], [live[f"(optimizer)#{i}"]])
    assert weights["optimizer"]["iterations"] == want["iterations"]
    assert weights["optimizer"]["learning_rate"] == pytest.approx(want["learning_rate"])


def test_findings_name_the_real_layer(built: Path) -> None:
    code, out, _ = run("check", str(built / "named.weights.h5"), "--format", "json")
    assert code == 1
    findings = json.loads(out)["files"][0]["findings"]
    assert [f["layer"] for f in findings if f["rule"] == "KIN201"] == ["has_nan"]
    weights = weights_json(built / "named.weights.h5")
    nan = [(f["layer"], f["tensor"]) for f in weights["findings"] if f["rule"] == "KIN201"]
    assert nan == [("has_nan", "kernel")]


def test_arch_pairing_reports_the_optimizer_too(built: Path) -> None:
    paired = summary_json(built / "named.weights.h5", "--arch", str(built / "named.keras"))
    archive = summary_json(built / "named.keras")
    assert (
        paired["optimizer_params"]
        == archive["optimizer_params"]
        == oracle(built, "named")["optimizer_params"]
    )
    assert layer_tree(paired["layers"]) == layer_tree(archive["layers"])


# ---------------------------------------------------------------- tf.keras saved on Windows


def test_windows_fixture_has_the_windows_layout(built: Path) -> None:
    with h5py.File(built / "windows.weights.h5") as f:
        assert "layers\\bidirectional\\forward_layer\\cell" in f
        assert "layers" not in f and "vars" in f and "optimizer" in f


# (file, the same model saved by tf_keras as it saves today, extra arguments)
TF_KERAS_LAYOUTS = [
    ("windows.keras", "posix.keras", ()),
    ("windows.weights.h5", "posix.weights.h5", ()),
    ("tf2_14.keras", "posix.keras", ()),
    ("tf2_13.keras", "posix.keras", ()),
    ("tf2_14_windows.keras", "posix.keras", ()),
    ("tf2_13_windows.keras", "posix.keras", ()),
    ("tf2_14.weights.h5", "posix.weights.h5", ("--arch", "posix.keras")),
    ("tf2_13.weights.h5", "posix.weights.h5", ("--arch", "posix.keras")),
]


def _no_paths(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**layer, "weights": [without(w, "path") for w in layer.get("weights", [])],
         "layers": _no_paths(layer["layers"])}
        for layer in layers
    ]  # fmt: skip


@pytest.mark.parametrize(("name", "reference", "extra"), TF_KERAS_LAYOUTS, ids=lambda v: str(v))
def test_tf_keras_layouts_read_like_the_same_model_saved_today(
    built: Path, name: str, reference: str, extra: tuple[str, ...]
) -> None:
    """tf.keras saved on Windows (``layers\\dense``) and by 2.12-2.14
    (``_layer_checkpoint_dependencies``, numbered as 2.13 or as 2.14 did): the same model,
    the same summary, the same values, read where they are stored."""
    args = [str(built / a) if a.endswith(".keras") else a for a in extra]
    got = summary_json(built / name, *args)
    want = summary_json(built / reference, *args)
    layout_note = [n for n in got["notes"] if n.startswith("weights stored as tf.keras 2.1")]
    assert len(layout_note) == name.startswith("tf2_1")  # the 2.12-2.14 layouts say how they were read
    got["notes"] = [n for n in got["notes"] if n not in layout_note]
    ignore = ("file", "file_size", "model", "layers")
    assert without(got, *ignore) == without(want, *ignore)
    assert without(got["model"], "name", "date_saved") == without(want["model"], "name", "date_saved")
    assert _no_paths(got["layers"]) == _no_paths(want["layers"])
    live = oracle(built, "windows")
    if name.endswith(".keras"):
        assert got["total_params"] == live["total_params"]
        assert [la["params"] for la in got["layers"]] == [la["params"] for la in live["layers"]]
    tensors = weights_json(built / name, "--optimizer")  # ``weights`` takes no --arch
    reference_tensors = weights_json(built / reference, "--optimizer")
    if "windows" in name:
        assert any("\\" in t["path"] for t in tensors["tensors"])  # read where it is stored
    if not extra:
        assert [without(t, "path") for t in tensors["tensors"]] == [
            without(t, "path") for t in reference_tensors["tensors"]
        ]
    assert tensors["optimizer"] == reference_tensors["optimizer"]
    assert_stats_match(
        [t for t in tensors["tensors"] if t["kind"] == "weight"],
        [a for k, a in arrays(built, "windows").items() if not k.startswith("(optimizer)")],
    )
    code, out, err = run("check", str(built / name), *args)
    assert code == run("check", str(built / reference), *args)[0] == 0, out + err


def test_2_13_numbering_is_not_the_2_14_one(built: Path) -> None:
    """The two tf.keras 2.12-2.14 namings really differ in these fixtures."""
    with h5py.File(built / "tf2_13.weights.h5") as f13, h5py.File(built / "tf2_14.weights.h5") as f14:
        assert set(f13["_layer_checkpoint_dependencies"]) != set(f14["_layer_checkpoint_dependencies"])
        assert "dense_2" in f13["_layer_checkpoint_dependencies"]
        assert "dense_1" in f14["_layer_checkpoint_dependencies"]


def test_a_backslash_twin_of_a_path_is_not_merged(tmp_path: Path) -> None:
    path = tmp_path / "twin.weights.h5"
    with h5py.File(path, "w") as f:
        f.create_group("vars")
        f.create_dataset("layers/dense/vars/0", data=np.ones((2, 3), "float32"))
        f.create_dataset("layers/dense/vars/1", data=np.ones(3, "float32"))
        f.create_dataset("layers\\dense/vars/0", data=np.zeros((2, 3), "float32"))
    info = load(path)
    assert [(layer.name, layer.params) for layer in info.layers] == [("dense", 9)]
    assert [w.path for w in info.unmatched_weights] == ["layers\\dense/vars/0"]
    assert any("not where the Keras layout puts variables" in n for n in info.notes)


# ---------------------------------------------------------------- legacy .h5 weight names with //


def test_double_slash_weight_names(built: Path) -> None:
    with h5py.File(built / "res_net_slashes.h5") as f:
        names = [n.decode() for n in f["conv2d"].attrs["weight_names"]]
    assert names == ["res_net//conv2d/kernel:0", "res_net//conv2d/bias:0"]
    crafted = summary_json(built / "res_net_slashes.h5")
    original = summary_json(built / "res_net.h5")
    assert without(crafted, "file", "file_size", "model") == without(original, "file", "file_size", "model")
    want = oracle(built, "res_net")
    assert [(layer["name"], layer["params"]) for layer in crafted["layers"]] == [
        (layer["name"], layer["params"]) for layer in want["layers"]
    ]
    tensors = weights_json(built / "res_net_slashes.h5")["tensors"]
    assert not any("//" in t["name"] for t in tensors)
    assert tensors == weights_json(built / "res_net.h5")["tensors"]
    assert_stats_match(tensors, list(arrays(built, "res_net").values()))


def test_double_slash_weight_names_in_a_full_model(built: Path) -> None:
    crafted = summary_json(built / "functional_slashes.h5")
    original = summary_json(built / "functional.h5")
    assert without(crafted, "file", "file_size") == without(original, "file", "file_size")
    assert crafted["total_params"] == oracle(built, "functional")["total_params"]
    assert run("check", str(built / "functional_slashes.h5"))[0] == 0


# ---------------------------------------------------------------- creation order from the file


def _names(n: int) -> list[str]:
    rng = np.random.default_rng(n)
    return [f"layer_{i}_{rng.integers(1_000_000)}" for i in rng.permutation(n)]


@pytest.mark.parametrize("count", [2, 7, 300])
def test_creation_order_of_old_style_groups(tmp_path: Path, count: int) -> None:
    """h5py's default groups keep names in a heap in insertion order (its listing is sorted)."""
    names = _names(count)
    path = tmp_path / "order.h5"
    with h5py.File(path, "w") as f:
        for name in names:
            f.create_group(f"layers/{name}/vars")
        f.create_group("vars")
    assert list(h5py.File(path)["layers"]) == sorted(names)
    snap = snapshot.read(str(path))
    assert snap.order["layers"] == tuple(names)
    assert snap.order[""] == ("layers", "vars")


@pytest.mark.parametrize("kwargs", [{"track_order": True}, {"libver": "latest"}])
def test_creation_order_of_new_style_groups(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    """Tracked creation order is read directly; untracked new-style groups have no order to read."""
    names = _names(20)
    path = tmp_path / "order.h5"
    with h5py.File(path, "w", **kwargs) as f:
        for name in names:
            f.create_group(f"layers/{name}/vars")
    order = snapshot.read(str(path)).order["layers"]
    assert order == (tuple(names) if "track_order" in kwargs else None)
    if order is None:
        info = load(path)
        assert [layer.name for layer in info.layers] == sorted(names)
        assert any("listed alphabetically" in n for n in info.notes)


def test_a_damaged_heap_costs_the_order_not_the_file(tmp_path: Path) -> None:
    names = _names(5)
    path = tmp_path / "damaged.weights.h5"
    with h5py.File(path, "w") as f:
        for name in names:
            f.create_dataset(f"layers/{name}/vars/0", data=np.ones(3))
    data = bytearray(path.read_bytes())
    heaps = [i for i in range(len(data)) if data[i : i + 4] == b"HEAP"]
    assert heaps
    for i in heaps:
        data[i : i + 4] = b"HEAX"  # h5py lists the intact file; the raw bytes are the damaged copy
    damaged = tmp_path / "damaged2.weights.h5"
    damaged.write_bytes(bytes(data))
    with h5py.File(path) as f:
        group = f["layers"]
        sizes = f.id.get_create_plist().get_sizes()
        with open(damaged, "rb") as raw:

            def read(at: int, n: int) -> bytes:
                raw.seek(at)
                return raw.read(n)

            assert h5order.creation_order(group, list(group), read, sizes) is None

            def garbage(at: int, n: int) -> bytes:
                return bytes((at + i) % 251 for i in range(min(n, 4096)))

            assert h5order.creation_order(group, list(group), garbage, sizes) is None
