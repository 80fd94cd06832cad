"""kinspect against Keras itself: every fixture, every format, every number."""

from __future__ import annotations

from pathlib import Path

import pytest

import kinspect
from kinspect.analyzers.summary import summarize
from kinspect.render.formatting import shape_json
from kinspect.render.table import render_table
from tests.conftest import load_oracle, oracle_names

NAMES = oracle_names()
KERAS3_FORMATS = ["keras", "h5"]
KERAS2_FORMATS = ["h5", "keras"]
CUSTOM = {"ScaledDense", "zoo>ScaledDense"}  # classes kinspect cannot know


def _formats(name: str) -> list[str]:
    return KERAS2_FORMATS if name.startswith("k2_") else KERAS3_FORMATS


CASES = [(n, f) for n in NAMES for f in _formats(n)]


def _expected_shape(layer: dict):
    if "output_shape" in layer:
        return layer["output_shape"]
    shapes = layer["output_shapes"]
    return shapes[-1] if shapes else None


def _custom(layer: kinspect.LayerInfo) -> bool:
    return layer.class_name in CUSTOM


@pytest.mark.parametrize(("name", "fmt"), CASES, ids=[f"{n}.{f}" for n, f in CASES])
def test_full_model_matches_keras(zoo_dir: Path, name: str, fmt: str) -> None:
    oracle = load_oracle(zoo_dir, name)
    info = kinspect.load(zoo_dir / f"{name}.{fmt}")
    assert info.name == oracle["name"]
    assert [layer.name for layer in info.layers] == [layer["name"] for layer in oracle["layers"]]
    assert info.params == oracle["total_params"]
    has_custom = any(_custom(layer) for _, layer in info.walk())
    if not has_custom:
        assert info.trainable_params == oracle["trainable_params"]
        assert info.non_trainable_params == oracle["non_trainable_params"]
    for layer, expected in zip(info.layers, oracle["layers"], strict=True):
        assert layer.params == expected["params"], layer.name
        if not _custom(layer):
            assert layer.trainable_params == expected["trainable_params"], layer.name
        if _custom(layer) and layer.output_shape is None:
            # Never a guess: an unknown class gets "?" and a note naming it.
            assert any(layer.class_name in note for note in layer.notes)
        else:
            assert shape_json(layer.output_shape) == _expected_shape(expected), (layer.name, layer.notes)


@pytest.mark.parametrize(("name", "fmt"), CASES, ids=[f"{n}.{f}" for n, f in CASES])
def test_nested_layers_match_keras(zoo_dir: Path, name: str, fmt: str) -> None:
    oracle = load_oracle(zoo_dir, name)
    info = kinspect.load(zoo_dir / f"{name}.{fmt}")
    for layer, expected in zip(info.layers, oracle["layers"], strict=True):
        if not layer.is_model:
            continue
        got = [(c.name, c.params, c.trainable_params, shape_json(c.output_shape)) for c in layer.layers]
        want = [
            (c["name"], c["params"], c["trainable_params"], _expected_shape(c)) for c in expected["layers"]
        ]
        if want and want[0][0] == got[0][0] if got else False:
            pass
        # Keras lists a Sequential's layers without its InputLayer; functional ones with theirs.
        assert got == [w for w in want if w[0] in {g[0] for g in got}]
        assert len(got) == len(want)


# The custom-layer model's table differs from Keras's by design (its unknown shape shows "?"):
# test_custom_layer_text checks that table on its own.
TEXT_CASES = [
    (n, f) for n in NAMES if not n.startswith("k2_") and n != "custom_layer" for f in KERAS3_FORMATS
]


@pytest.mark.parametrize(("name", "fmt"), TEXT_CASES, ids=[f"{n}.{f}" for n, f in TEXT_CASES])
@pytest.mark.parametrize("variant", ["plain", "expanded"])
def test_summary_text_is_keras_text(zoo_dir: Path, name: str, fmt: str, variant: str) -> None:
    """The table is character for character what ``model.summary()`` prints."""
    oracle = load_oracle(zoo_dir, name)
    info = kinspect.load(zoo_dir / f"{name}.{fmt}")
    expand = variant == "expanded"
    text = render_table(summarize(info, expand_nested=expand), line_length=150, show_trainable=expand)
    # The loaded model is what the file says; Keras's loader drops a nested Sequential's own
    # trainable=False flag (the Y/N column), so the live model is the oracle there.
    candidates = [oracle["summary"].get(f"{fmt}/{variant}"), oracle["summary"]["live/" + variant]]
    assert text in candidates, f"\n{text}\n---- keras:\n{candidates[0] or candidates[1]}"


@pytest.mark.parametrize("fmt", KERAS3_FORMATS)
def test_custom_layer_text(zoo_dir: Path, fmt: str) -> None:
    """Keras's table, except that the custom layer no other layer consumes shows "?"."""
    oracle = load_oracle(zoo_dir, "custom_layer")
    info = kinspect.load(zoo_dir / f"custom_layer.{fmt}")
    text = render_table(summarize(info), line_length=150)
    keras_text = oracle["summary"][f"{fmt}/plain"]
    expected = next(layer for layer in oracle["layers"] if layer["name"] == "scaled_out")
    shape = "(" + ", ".join(str(d) for d in expected["output_shape"]) + ")"
    for own, theirs in zip(text.splitlines(), keras_text.splitlines(), strict=True):
        if "scaled_out" in own:
            assert "│ ?" in own and shape in theirs
        elif "Trainable params" not in own and "Non-trainable" not in own:
            assert own == theirs  # every other row, and the total, are Keras's


@pytest.mark.parametrize("name", NAMES)
def test_formats_agree(zoo_dir: Path, name: str) -> None:
    """A .keras file, its .h5 twin and its weights-only twin agree on every count."""
    weights = "weights.hdf5" if name.startswith("k2_") else "weights.h5"
    models = {fmt: kinspect.load(zoo_dir / f"{name}.{fmt}") for fmt in ["keras", "h5", weights]}
    totals = {fmt: m.params for fmt, m in models.items()}
    assert len(set(totals.values())) == 1, totals
    full = {fmt: [(layer.name, layer.params, layer.trainable_params) for layer in m.layers]
            for fmt, m in models.items() if m.has_architecture}  # fmt: skip
    assert full["keras"] == full["h5"]
    paired = kinspect.load(zoo_dir / f"{name}.{weights}", arch=zoo_dir / f"{name}.keras")
    assert [(layer.name, layer.params, layer.trainable_params) for layer in paired.layers] == full["keras"]
    assert not paired.unmatched_weights


@pytest.mark.parametrize("name", NAMES)
def test_weights_only_file(zoo_dir: Path, name: str) -> None:
    """Without an architecture: the parameters the weights reveal, and a plain statement."""
    oracle = load_oracle(zoo_dir, name)
    weights = "weights.hdf5" if name.startswith("k2_") else "weights.h5"
    info = kinspect.load(zoo_dir / f"{name}.{weights}")
    assert not info.has_architecture
    assert info.params == oracle["total_params"]
    assert all(layer.output_shape is None for layer in info.layers)
    assert any("no architecture" in note for note in info.notes)


@pytest.mark.parametrize(("name", "fmt"), CASES, ids=[f"{n}.{f}" for n, f in CASES])
def test_invariants(zoo_dir: Path, name: str, fmt: str) -> None:
    info = kinspect.load(zoo_dir / f"{name}.{fmt}")
    assert sum(layer.params for layer in info.layers) == info.params
    assert info.trainable_params + info.non_trainable_params == info.params
    for _, layer in info.walk():
        assert layer.trainable_params <= layer.params
        # A rule never disagrees with a shape the file recorded.
        assert not any("disagree" in note for note in layer.notes), layer.notes
    assert not info.unmatched_weights
    assert not info.weight_issues, info.weight_issues[:3]


@pytest.mark.parametrize("name", ["mnist_cnn", "nested", "ResNet50"])
def test_sharded_weights(zoo_dir: Path, name: str) -> None:
    """A sharded weights index reads as its shards together, alone or paired with --arch."""
    index = zoo_dir / f"{name}.sharded.weights.json"
    assert len(list(zoo_dir.glob(f"{name}.sharded_*.weights.h5"))) > 1, "the fixture really is sharded"
    single = kinspect.load(zoo_dir / f"{name}.weights.h5")
    sharded = kinspect.load(index)
    assert sharded.format is kinspect.Format.SHARDED_WEIGHTS
    assert sharded.params == single.params == load_oracle(zoo_dir, name)["total_params"]
    paired = kinspect.load(index, arch=zoo_dir / f"{name}.keras")
    full = kinspect.load(zoo_dir / f"{name}.keras")
    assert [(x.name, x.params) for x in paired.layers] == [(x.name, x.params) for x in full.layers]
    assert not paired.weight_issues and not paired.unmatched_weights
