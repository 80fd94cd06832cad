"""Old layouts: Keras <= 2.2.0 bare-list Sequential files and Keras 1.x files, against Keras itself.

The ``k22_*`` files are tf_keras models whose config was rewritten into Keras 2.2.0's bare list;
tf_keras loads them and is the oracle (Keras 3's summary of the same model is the text oracle).
The ``k1_*`` files are crafted as Keras 1.2.2 wrote them; the oracle is their Keras 2 equivalent
built with tf_keras, holding the same weights through tf_keras's own Keras 1 converter
(tests/build_legacy.py).
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import h5py
import pytest

import kinspect
from kinspect.analyzers.summary import summarize
from kinspect.catalog.legacy import keras1_expected, sequential_layers, translate_layer
from kinspect.catalog.registry import Expected
from kinspect.cli import main
from kinspect.render.formatting import shape_json
from kinspect.render.table import render_table
from tests.keras_build import built

K22 = ["k22_mlp", "k22_cnn", "k22_rnn", "k22_nested"]
K1 = ["k1_mlp", "k1_cnn_th", "k1_cnn_tf", "k1_rnn", "k1_cnn_lstm", "k1_functional", "k1_merge_seq"]


@pytest.fixture(scope="session")
def legacy_dir() -> Path:
    """The files and their oracles, built once by ``tests/build_legacy.py`` in a Keras child."""
    return built("build_legacy.py", "build_zoo.py")


def _oracle(legacy_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((legacy_dir / f"{name}.oracle.json").read_text())


def _shape(layer: dict[str, Any]) -> Any:
    shapes = layer["output_shapes"]
    return shapes[-1] if shapes else None


def _rows(layers: Any) -> dict[str, tuple[Any, ...]]:
    return {x.name: (x.params, x.trainable_params, shape_json(x.output_shape)) for x in layers}


def _oracle_rows(layers: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {x["name"]: (x["params"], x["trainable_params"], _shape(x)) for x in layers}


# --- against tf_keras -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", K22 + K1)
def test_matches_keras(legacy_dir: Path, name: str) -> None:
    """Totals, the trainable split, and every layer's params and output shape, nested ones too."""
    oracle = _oracle(legacy_dir, name)
    info = kinspect.load(legacy_dir / f"{name}.h5")
    assert (info.params, info.trainable_params, info.non_trainable_params) == (
        oracle["total_params"],
        oracle["trainable_params"],
        oracle["non_trainable_params"],
    )
    assert _rows(info.layers) == _oracle_rows(oracle["layers"])
    if info.class_name == "Sequential" and "merge" not in name:  # Sequential keeps the saved order
        assert [x.name for x in info.layers] == [x["name"] for x in oracle["layers"]]
    for layer, expected in zip(info.layers, oracle["layers"], strict=False):
        if layer.is_model:
            assert _rows(layer.layers) == _oracle_rows(expected["layers"])
    assert not info.weight_issues and not info.unmatched_weights
    # Every Keras 1 layout here is one kinspect derives: all weights were checked.
    assert not any("not checked" in note for _, layer in info.walk() for note in layer.notes)


@pytest.mark.parametrize("name", K22)
@pytest.mark.parametrize("variant", ["plain", "expanded"])
def test_summary_text_is_keras_text(legacy_dir: Path, name: str, variant: str) -> None:
    """Character for character Keras's summary of the same model (where Keras 3 can load it)."""
    oracle = _oracle(legacy_dir, name)["summary"]
    if variant not in oracle:
        assert name in ("k22_rnn", "k22_nested"), oracle  # Keras 3 cannot load these tf_keras models
        return
    info = kinspect.load(legacy_dir / f"{name}.h5")
    expand = variant == "expanded"
    text = render_table(summarize(info, expand_nested=expand), line_length=150, show_trainable=expand)
    keras_text = oracle[variant]
    if info.optimizer_weights:  # Keras 3 drops a tf_keras optimizer's slots: compare them apart
        assert sum(w.size for w in info.optimizer_weights) == _oracle(legacy_dir, name)["optimizer_params"]
        text, keras_text = (_without_optimizer(t) for t in (text, keras_text))
    assert text == keras_text, f"\n{text}\n---- keras:\n{keras_text}"


def _without_optimizer(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith((" Total", " Optimizer")))


def test_notes_say_what_was_read(legacy_dir: Path) -> None:
    k22 = kinspect.load(legacy_dir / "k22_cnn.h5")
    assert any("bare list" in note for note in k22.notes)
    assert not any("Keras 1" in note for note in k22.notes if "bare list" not in note)
    k1 = kinspect.load(legacy_dir / "k1_cnn_tf.h5")
    [note] = [n for n in k1.notes if n.startswith("Keras 1 config")]
    assert "Convolution2D → Conv2D" in note and "AtrousConvolution2D → Conv2D" in note
    assert "SeparableConvolution2D → SeparableConv2D" in note
    functional = kinspect.load(legacy_dir / "k1_functional.h5")
    [note] = [n for n in functional.notes if n.startswith("Keras 1 config")]
    assert "Merge → Add" in note and "Merge → Concatenate" in note
    assert not any("bare list" in n for n in functional.notes)  # a Keras 1 Model config is a mapping


def test_keras1_weights_keep_their_names_and_roles(legacy_dir: Path) -> None:
    """Keras 1 names (``convolution2d_1_W``) shown without the layer prefix; BatchNormalization's
    running statistics non-trainable; per-gate LSTM weights as stored."""
    info = kinspect.load(legacy_dir / "k1_cnn_tf.h5")
    layers = {x.name: x for _, x in info.walk()}
    assert [w.name for w in layers["convolution2d_1"].weights] == ["W", "b"]
    bn = layers["batchnormalization_1"]
    assert [(w.name, w.trainable) for w in bn.weights] == [
        ("gamma", True),
        ("beta", True),
        ("running_mean", False),
        ("running_std", False),
    ]
    assert layers["convolution2d_1"].weights[0].path == "model_weights/convolution2d_1/convolution2d_1_W:0"
    rnn = {x.name: x for _, x in kinspect.load(legacy_dir / "k1_rnn.h5").walk()}
    assert [w.name for w in rnn["lstm_1"].weights][:4] == ["W_i", "U_i", "b_i", "W_c"]
    assert [w.shape for w in rnn["gru_1"].weights] == [(4, 15), (5, 15), (15,)]
    th = {x.name: x for _, x in kinspect.load(legacy_dir / "k1_cnn_th.h5").walk()}
    assert th["convolution2d_1"].weights[0].path.endswith("convolution2d_1_W")  # Theano: no ":0"


def test_keras1_functional_and_merge_sequential(legacy_dir: Path) -> None:
    """A Keras 1 Model (``[layer, node, tensor]`` inbound nodes, a nested bare-list Sequential whose
    weights are named ``dense_2_W``) and a Sequential starting with a Merge of branch models."""
    info = kinspect.load(legacy_dir / "k1_functional.h5")
    classes = {x.name: x.class_name for x in info.layers}
    assert classes["merge_1"] == "Concatenate" and classes["merge_2"] == "Add"
    nested = next(x for x in info.layers if x.name == "sequential_1")
    assert [(x.name, [w.name for w in x.weights]) for x in nested.layers] == [
        ("dense_2", ["W", "b"]),
        ("dense_3", ["W", "b"]),
    ]
    assert [ref.layer for ref in info.outputs] == ["dense_4", "dense_5"]
    merged = kinspect.load(legacy_dir / "k1_merge_seq.h5")
    assert [ref.layer for ref in merged.inputs] == ["dense_1_input", "dense_2_input"]
    merge = next(x for x in merged.layers if x.name == "merge_1")
    assert [ref.layer for node in merge.inbound for ref in node] == ["dense_1", "activation_1"]


def test_keras1_weights_only_and_paired(legacy_dir: Path) -> None:
    oracle = _oracle(legacy_dir, "k1_mlp")
    alone = kinspect.load(legacy_dir / "k1_mlp.weights.hdf5")
    assert not alone.has_architecture and alone.params == oracle["total_params"]
    assert [w.name for x in alone.layers for w in x.weights] == ["W", "b", "W", "b"]
    paired = kinspect.load(legacy_dir / "k1_mlp.weights.hdf5", arch=legacy_dir / "k1_mlp.h5")
    assert _rows(paired.layers) == _oracle_rows(oracle["layers"])
    assert not paired.weight_issues and not paired.unmatched_weights


def test_keras1_config_json(legacy_dir: Path) -> None:
    """``model.to_json()`` of Keras 1: shapes and connections, no parameter counts."""
    oracle = _oracle(legacy_dir, "k1_cnn_th")
    info = kinspect.load(legacy_dir / "k1_cnn_th.json")
    assert [shape_json(x.output_shape) for x in info.layers] == [_shape(x) for x in oracle["layers"]]


def test_keras1_compile_settings(legacy_dir: Path) -> None:
    info = kinspect.load(legacy_dir / "k1_mlp.h5")
    assert info.keras_version == "1.2.2"
    assert info.compile is not None and (info.compile.optimizer, info.compile.learning_rate) == ("SGD", 0.01)
    assert sum(w.size for w in info.optimizer_weights) == info.params == 7114  # SGD's moments


@pytest.mark.parametrize("name", K22 + K1)
@pytest.mark.parametrize("command", ["summary", "check", "graph", "weights"])
def test_every_command_reads_them(legacy_dir: Path, name: str, command: str, capsys: Any) -> None:
    code = main(
        [command, str(legacy_dir / f"{name}.h5"), *(["--format", "json"] if command != "graph" else [])]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err
    if command == "check":
        found = [f for entry in json.loads(captured.out)["files"] for f in entry["findings"]]
        assert not [f for f in found if f["severity"] == "error"], found
        # A Keras 1 Merge is no class of any Keras since 2.2: the "needs code" warning names it alone.
        needs = {f["message"].split(" (")[0] for f in found if f["rule"] == "KIN103"}
        assert needs <= {"loading needs code for Merge"}, needs
        assert bool(needs) == (name in ("k1_functional", "k1_merge_seq")), needs


def test_custom_class_in_a_bare_list_is_found(legacy_dir: Path, tmp_path: Path, capsys: Any) -> None:
    """``check`` walks a bare-list Sequential's layers too: a custom class there needs code."""
    path = tmp_path / "custom.h5"
    shutil.copyfile(legacy_dir / "k22_mlp.h5", path)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        config["config"][2]["class_name"] = "MyDense"
        f.attrs["model_config"] = json.dumps(config).encode()
    info = kinspect.load(path)
    layer = info.layers[2]
    assert (layer.class_name, layer.params, layer.output_shape) == ("MyDense", 330, None)
    assert main(["check", str(path)]) == 0
    assert "KIN103 warning loading needs code for MyDense (used by dense_2)" in capsys.readouterr().out


# --- contradictions and layouts kinspect does not derive -----------------------------------------


def _copy(legacy_dir: Path, name: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{name}.h5"
    shutil.copyfile(legacy_dir / f"{name}.h5", path)
    return path


def _replace(path: Path, dataset: str, shape: tuple[int, ...]) -> None:
    with h5py.File(path, "r+") as f:
        del f[dataset]
        f.create_dataset(dataset, shape, dtype="float32")


def test_keras1_contradiction_is_reported(legacy_dir: Path, tmp_path: Path) -> None:
    """A kernel with fewer parameters than the layer needs contradicts the config: the model is
    shown with the contradiction stated on the layer (``check`` makes it a KIN401 error)."""
    path = _copy(legacy_dir, "k1_cnn_th", tmp_path)
    _replace(path, "model_weights/convolution2d_1/convolution2d_1_W", (8, 1, 2, 2))
    info = kinspect.load(path)
    assert info.weights_mismatch is not None and "convolution2d_1" in info.weights_mismatch
    assert [i.layer for i in info.weight_issues] == ["convolution2d_1"]


def test_keras1_layout_not_derived_is_a_note(legacy_dir: Path, tmp_path: Path) -> None:
    """A kernel with the right parameter count in a layout kinspect does not derive: not a
    contradiction; the check is skipped and the layer says so."""
    path = _copy(legacy_dir, "k1_cnn_th", tmp_path)
    _replace(path, "model_weights/convolution2d_2/convolution2d_2_W", (3, 3, 8, 8))  # 'tf' order
    info = kinspect.load(path)
    layer = next(x for x in info.layers if x.name == "convolution2d_2")
    assert layer.params == 584 and not info.weight_issues
    assert any("not checked" in note for note in layer.notes)


def test_keras11_conv1d_layout(legacy_dir: Path, tmp_path: Path) -> None:
    """Keras <= 1.1 stored a Convolution1D kernel as (filters, input_dim, length, 1)."""
    path = _copy(legacy_dir, "k1_cnn_lstm", tmp_path)
    _replace(path, "model_weights/convolution1d_1/convolution1d_1_W:0", (4, 8, 3, 1))
    layer = next(x for x in kinspect.load(path).layers if x.name == "convolution1d_1")
    assert layer.params == 100 and not any("not checked" in note for note in layer.notes)


def test_unnamed_nested_sequential_weights_by_position(legacy_dir: Path, tmp_path: Path) -> None:
    """A Keras <= 2.2.0 nested Sequential stores no name; its weight group is found by position, as
    Keras 2 loads legacy weights in order."""
    path = _copy(legacy_dir, "k22_nested", tmp_path)
    with h5py.File(path, "r+") as f:
        group = f["model_weights"]
        group.move("sequential_1", "sequential_7")
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs["layer_names"]]
        group.attrs["layer_names"] = [n.replace("sequential_1", "sequential_7").encode() for n in names]
    oracle = _oracle(legacy_dir, "k22_nested")
    info = kinspect.load(path)
    assert info.params == oracle["total_params"] and not info.unmatched_weights
    assert _rows(info.layers) == _oracle_rows(oracle["layers"])


# --- translation, unit by unit (keras/legacy/interfaces.py) ----------------------------------------


def test_translate_dense_conv_pooling_recurrent() -> None:
    cls, cfg, done = translate_layer(
        "Dense",
        {"name": "d", "output_dim": 3, "bias": False, "init": "zero", "W_regularizer": None, "input_dim": 5},
    )
    assert (cls, done, cfg["units"], cfg["use_bias"], cfg["batch_input_shape"]) == (
        "Dense",
        True,
        3,
        False,
        [None, 5],
    )
    assert "output_dim" not in cfg and cfg["kernel_initializer"] == "zero"
    cls, cfg, _ = translate_layer(
        "Convolution2D",
        {
            "nb_filter": 4,
            "nb_row": 3,
            "nb_col": 5,
            "subsample": [2, 1],
            "border_mode": "same",
            "dim_ordering": "th",
        },
    )
    assert cls == "Conv2D"
    assert (cfg["filters"], cfg["kernel_size"], cfg["strides"], cfg["padding"], cfg["data_format"]) == (
        4,
        [3, 5],
        [2, 1],
        "same",
        "channels_first",
    )
    cls, cfg, _ = translate_layer(
        "AtrousConvolution1D",
        {"nb_filter": 2, "filter_length": 3, "atrous_rate": 2, "input_dim": 7, "input_length": 9},
    )
    assert (cls, cfg["kernel_size"], cfg["dilation_rate"], cfg["batch_input_shape"]) == (
        "Conv1D",
        3,
        2,
        [None, 9, 7],
    )
    cls, cfg, _ = translate_layer("MaxPooling1D", {"pool_length": 4, "stride": None, "border_mode": "valid"})
    assert (cfg["pool_size"], cfg["strides"], cfg["padding"]) == (4, None, "valid")
    _, cfg, _ = translate_layer(
        "LSTM",
        {
            "output_dim": 8,
            "consume_less": "gpu",
            "forget_bias_init": "one",
            "inner_activation": "hard_sigmoid",
            "dropout_W": 0.1,
        },
    )
    assert (cfg["units"], cfg["implementation"], cfg["unit_forget_bias"], cfg["dropout"]) == (8, 2, True, 0.1)
    _, cfg, _ = translate_layer("GRU", {"output_dim": 8, "consume_less": "cpu"})
    assert cfg["reset_after"] is False  # Keras 1 (and Keras 2 standalone) GRUs: one bias per gate
    _, cfg, _ = translate_layer("BatchNormalization", {"mode": 0, "axis": 1, "epsilon": 1e-3})
    assert "mode" not in cfg and cfg["axis"] == 1
    _, cfg, _ = translate_layer(
        "Embedding", {"input_dim": 9, "output_dim": 2, "init": "uniform", "dropout": 0.2}
    )
    assert (cfg["input_dim"], cfg["output_dim"], "dropout" in cfg) == (9, 2, False)
    _, cfg, _ = translate_layer("InputLayer", {"batch_input_shape": [None, 3], "input_dtype": "int32"})
    assert cfg["dtype"] == "int32"


def test_translate_wrappers_and_merge() -> None:
    _, cfg, done = translate_layer(
        "Bidirectional",
        {
            "merge_mode": "sum",
            "layer": {"class_name": "LSTM", "config": {"output_dim": 4, "consume_less": "mem"}},
        },
    )
    assert done and cfg["layer"]["config"]["units"] == 4
    cls, cfg, _ = translate_layer("TimeDistributedDense", {"name": "t", "output_dim": 3, "input_dim": 5})
    assert cls == "TimeDistributed" and cfg["batch_input_shape"] == [None, None, 5]
    assert cfg["layer"] == {"class_name": "Dense", "config": {"name": "t_dense", "units": 3}}
    for mode, target in (("sum", "Add"), ("mul", "Multiply"), ("ave", "Average"), ("max", "Maximum")):
        assert translate_layer("Merge", {"name": "m", "mode": mode, "mode_type": "raw"})[0] == target
    assert translate_layer("Merge", {"mode": "concat", "mode_type": "raw", "concat_axis": 1})[1]["axis"] == 1
    assert translate_layer("Merge", {"mode": "sum"}) == ("Merge", {"mode": "sum"}, False)  # not Keras 1's
    cls, cfg, _ = translate_layer("Merge", {"mode": "cos", "mode_type": "raw", "dot_axes": [1, 1]})
    assert (cls, cfg["axes"], cfg["normalize"]) == ("Dot", [1, 1], True)
    cls, cfg, _ = translate_layer(
        "Merge",
        {
            "mode": ["code", None, None],
            "mode_type": "lambda",
            "output_shape": [4],
            "output_shape_type": "raw",
        },
    )
    assert (cls, cfg["function_type"], cfg["output_shape"]) == ("Lambda", "lambda", [4])
    assert translate_layer("Merge", {"mode": "nonsense", "mode_type": "raw"})[0] == "Merge"  # no equivalent


def test_keras2_and_keras3_configs_are_untouched(zoo_dir: Path) -> None:
    """No Keras 2 or Keras 3 layer config of the zoo is taken for a Keras 1 one."""
    import zipfile

    seen = 0
    for path in sorted(zoo_dir.glob("*.h5")) + sorted(zoo_dir.glob("*.keras")):
        if path.suffix == ".h5":
            with h5py.File(path, "r") as f:
                if "model_config" not in f.attrs:  # weights only
                    continue
                config = json.loads(f.attrs["model_config"])
        else:
            with zipfile.ZipFile(path) as z:
                config = json.loads(z.read("config.json"))
        stack = [config]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                if isinstance(item.get("class_name"), str) and isinstance(item.get("config"), dict):
                    original = copy.deepcopy(item["config"])
                    cls, cfg, done = translate_layer(item["class_name"], item["config"])
                    assert (cls, done, cfg) == (item["class_name"], False, original), (path.name, cls)
                    seen += 1
                stack.extend(item.values())
    assert seen > 500


def test_a_custom_class_named_like_a_keras1_one_is_not_translated() -> None:
    """Keras 3 entries carry a ``module``: a custom ``Merge`` there is the user's class."""
    from kinspect.catalog.architecture import parse_model

    merge = {"name": "m", "mode": "sum", "mode_type": "raw"}
    custom = {"module": "my_pkg", "class_name": "Merge", "config": merge, "registered_name": "my_pkg>Merge",
              "inbound_nodes": []}  # fmt: skip
    keras1 = {"class_name": "Merge", "config": merge, "inbound_nodes": []}
    for entry, expected in ((custom, ("Merge", None)), (keras1, ("Add", "Merge"))):
        spec = parse_model({"class_name": "Functional", "config": {"layers": [entry], "input_layers": [],
                                                                    "output_layers": []}})  # fmt: skip
        assert (spec.layers[0].class_name, spec.layers[0].keras1) == expected


def test_sequential_layers_refuses_what_it_cannot_build() -> None:
    from kinspect.catalog.legacy import LegacyError

    merged = {
        "class_name": "Merge",
        "config": {"name": "m", "mode": "sum", "layers": [{"class_name": "Model", "config": {"layers": []}}]},
    }
    with pytest.raises(LegacyError, match="not a Sequential"):
        sequential_layers([merged], 8)
    assert sequential_layers([{"name": "Dense", "custom_name": "d", "output_dim": 2}], 8) == {
        "layers": [{"class_name": "Dense", "config": {"output_dim": 2, "name": "d"}}]
    }


def test_keras1_expected_layouts() -> None:
    """Theano kernels, per-gate LSTMs; a same-count unknown layout is a note; other counts are
    checked against the first candidate."""
    kernel = [Expected("kernel", (3, 3, 2, 8)), Expected("bias", (8,))]
    th = {"data_format": "channels_first"}
    layout, note = keras1_expected("Conv2D", th, kernel, [(8, 2, 3, 3), (8,)])
    assert note is None and [e.name for e in layout or []] == ["W", "b"]
    layout, note = keras1_expected("Conv2D", th, kernel, [(2, 8, 3, 3), (8,)])
    assert layout is None and note and "not checked" in note
    layout, note = keras1_expected("Conv2D", th, kernel, [(8, 2, 2, 2), (8,)])
    assert note is None and layout and layout[0].shape == (8, 2, 3, 3)  # compared: a contradiction
    lstm = [
        Expected("cell/kernel", (5, 16)),
        Expected("cell/recurrent_kernel", (4, 16)),
        Expected("cell/bias", (16,)),
    ]
    gates = [(5, 4), (4, 4), (4,)] * 4
    layout, note = keras1_expected("LSTM", {}, lstm, gates)
    assert note is None and [e.name for e in layout or []][:3] == ["W_i", "U_i", "b_i"]
    assert keras1_expected("LSTM", {}, lstm, [(5, 16), (4, 16), (16,)])[0] is not None
    assert keras1_expected("ConvLSTM2D", {}, lstm, [(40,)] * 4)[1]  # not derived, same count: a note
