"""The file's Keras version (``Call.keras_major``) settles shapes where Keras 2 and 3 differ.

Each case is one that a config alone cannot settle (a bare dtype string, no version-specific
keys): without ``keras_major`` the rule must say ShapeUnknown, with it the rule must match
Keras 3 (``check``) or tf_keras (``check_keras2``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from kinspect.catalog import Call, ShapeUnknown, infer
from kinspect.catalog.architecture import parse_model
from kinspect.catalog.propagate import file_keras_major, propagate
from kinspect.loaders.common import is_keras2
from tests.catalog.oracle import check, check_keras2, stored_config

# Config keys only one Keras version writes; dropped so that only the dtype could tell.
_VERSION_KEYS = (
    "quantization_config", "lora_rank", "lora_alpha", "gptq_unpacked_column_size",  # EinsumDense 3
    "seed", "use_gate", "sliding_window",  # MultiHeadAttention 3
    "query_shape", "key_shape", "value_shape", "softmax_robust_masking",  # MultiHeadAttention 2
    "time_major", "zero_output_for_mask",  # RNNs 2 / 3
)  # fmt: skip


def _bare(config: Any) -> Any:
    """``config`` as neither version can be told from: dtype strings, no version-only keys."""
    if isinstance(config, list):
        return [_bare(v) for v in config]
    if not isinstance(config, dict):
        return config
    out = {k: _bare(v) for k, v in config.items() if k not in _VERSION_KEYS}
    if isinstance(config.get("dtype"), dict):
        out["dtype"] = "float32"
    return out


def _as_shapes(value: Any) -> Any:
    return [_as_shapes(v) for v in value] if isinstance(value, (list, tuple)) else value


# name, layer factory (given keras.layers or tf_keras.layers), args, kwargs for Keras 3;
# tf_keras passes attention's value and scores flag as keywords.
CASES: list[tuple[str, Callable[[Any], Any], tuple, dict[str, Any]]] = [
    ("Add", lambda L: L.Add(), ([(None, None), (None, 5)],), {}),
    ("Maximum", lambda L: L.Maximum(), ([(None, 3, None), (None, 3, 4)],), {}),
    ("Concatenate", lambda L: L.Concatenate(), ([(None, None, 3), (None, 5, 2)],), {}),
    ("EinsumDense", lambda L: L.EinsumDense("abc,cd->abd", (None, 64)), ((None, 32, 128),), {}),
    (
        "MultiHeadAttention",
        lambda L: L.MultiHeadAttention(2, 4),
        ((None, 5, 8),),
        {"value": (None, 9, 8), "return_attention_scores": True},
    ),
    ("UpSampling2D", lambda L: L.UpSampling2D(2), ((None, None, 4, 3),), {}),
    ("UpSampling2D", lambda L: L.UpSampling2D((2, 3), data_format="channels_first"), ((2, 3, 5, None),), {}),
    (
        "Bidirectional",
        lambda L: L.Bidirectional(
            L.LSTM(4, return_sequences=True),
            backward_layer=L.LSTM(6, return_sequences=True, go_backwards=True),
        ),
        ((None, 5, 3),),
        {},
    ),
    (
        "TimeDistributed",
        lambda L: L.TimeDistributed(L.EinsumDense("abc,cd->abd", (None, 8))),
        ((None, 2, 6, 4),),
        {},
    ),
]


def _ids(cases: list[Any]) -> list[str]:
    return [f"{c[0]}-{i}" for i, c in enumerate(cases)]


@pytest.mark.parametrize("name,make,args,kwargs", CASES, ids=_ids(CASES))
def test_keras3_file_version_resolves(name: str, make: Any, args: tuple, kwargs: dict[str, Any]) -> None:
    import keras

    layer = make(keras.layers)
    config = _bare(stored_config(layer))
    call_args = args + ((kwargs["value"],) if "value" in kwargs else ())
    call_kwargs = {k: v for k, v in kwargs.items() if k != "value"}
    expected = check(layer, *call_args, **call_kwargs)
    with pytest.raises(ShapeUnknown):
        infer(name, config, Call(call_args, call_kwargs))
    got = infer(name, config, Call(call_args, call_kwargs, keras_major=3))
    assert _as_shapes(got) == expected


@pytest.mark.parametrize("name,make,args,kwargs", CASES, ids=_ids(CASES))
def test_keras2_file_version_resolves(name: str, make: Any, args: tuple, kwargs: dict[str, Any]) -> None:
    import tf_keras

    layer = make(tf_keras.layers)
    expected = check_keras2(layer, *args, **kwargs)
    config = _bare(json.loads(json.dumps(tf_keras.layers.serialize(layer)))["config"])
    with pytest.raises(ShapeUnknown):
        infer(name, config, Call(args, kwargs))
    assert _as_shapes(infer(name, config, Call(args, kwargs, keras_major=2))) == expected


def test_cropping3d_emptying_a_dim() -> None:
    """tf.keras 2's Cropping3D clamps a fully cropped dim to 0; Keras 3 refuses the call."""
    import tf_keras

    config = {"cropping": ((2, 2), (1, 1), (0, 0)), "data_format": "channels_last", "dtype": "float32"}
    shape = (None, 4, 5, 6, 1)
    expected = check_keras2(tf_keras.layers.Cropping3D(config["cropping"]), shape)
    assert _as_shapes(infer("Cropping3D", config, Call((shape,), keras_major=2))) == expected
    for major in (None, 3):
        with pytest.raises(ShapeUnknown):
            infer("Cropping3D", config, Call((shape,), keras_major=major))


def test_hashing_one_hot_of_a_rank1_input() -> None:
    """Keras 3 gives ``(num_bins,)``, tf.keras 2 ``(batch, num_bins)``."""
    import keras
    import tf_keras

    shape = (None,)
    expected3 = check(keras.layers.Hashing(num_bins=4, output_mode="one_hot"), shape)
    layer2 = tf_keras.layers.Hashing(num_bins=4, output_mode="one_hot")
    expected2 = list(layer2(tf_keras.Input(batch_shape=shape, dtype="int64")).shape)
    config = {"num_bins": 4, "output_mode": "one_hot", "dtype": "float32"}
    with pytest.raises(ShapeUnknown):
        infer("Hashing", config, Call((shape,)))
    assert list(infer("Hashing", config, Call((shape,), keras_major=3))) == expected3
    assert list(infer("Hashing", config, Call((shape,), keras_major=2))) == expected2


def test_file_version_beats_config_sniffing() -> None:
    """A config that looks Keras 2 (string dtype) inside a Keras 3 file follows Keras 3, and back."""
    config = {"num_bins": 5, "output_mode": "one_hot", "trainable": True, "dtype": "float32"}
    shapes = [(3, 1), (3, 1)]
    assert infer("HashedCrossing", config, Call((shapes,))) == (None, 5)  # "trainable": Keras 2
    assert infer("HashedCrossing", config, Call((shapes,), keras_major=3)) == (3, 5)
    assert infer("HashedCrossing", {**config, "trainable": None}, Call((shapes,), keras_major=2)) == (None, 5)


@pytest.mark.parametrize(
    "major,once,twice",
    [(2, (None, None, None, 3), (None, None, None, 3)), (3, (None, None, 8, 3), (None, None, 16, 3))],
)
def test_version_reaches_nested_layers(major: int, once: tuple, twice: tuple) -> None:
    """Pipeline and SpectralNormalization hand the file's version to the layers they wrap."""
    inner = {"class_name": "UpSampling2D", "config": {"size": 2, "dtype": "float32"}}
    call = Call(((None, None, 4, 3),), keras_major=major)
    assert infer("SpectralNormalization", {"layer": inner}, call) == once
    assert infer("Pipeline", {"layers": [inner, inner]}, call) == twice
    with pytest.raises(ShapeUnknown):
        infer("SpectralNormalization", {"layer": inner}, Call(call.args))


# --- whole files: the version reaches every rule through graph.propagate ---------------------------


def _propagated(config: dict[str, Any]) -> tuple[int | None, dict[str, Any]]:
    config = json.loads(json.dumps(config))
    spec = parse_model(config)
    keras2 = is_keras2(config)
    result = propagate(spec, keras2)
    return file_keras_major(spec, keras2), {k[-1]: v for k, v in result.shapes.items()}


def test_tf_keras_sequential_archive() -> None:
    """A tf.keras ``.keras`` Sequential has no call nodes and Keras 3 style module keys: its
    InputLayer's ``batch_input_shape`` tells it is Keras 2."""
    import tf_keras

    layer = tf_keras.layers.UpSampling2D(2, name="up")
    model = tf_keras.Sequential([tf_keras.Input((None, 4, 3)), layer])
    major, shapes = _propagated(tf_keras.saving.serialize_keras_object(model))
    assert major == 2
    assert shapes["up"] == tuple(model.output_shape) == (None, None, None, 3)


def test_keras3_sequential_h5(tmp_path: Any) -> None:
    """A Keras 3 ``.h5`` Sequential has no module keys; ``batch_shape`` tells it is Keras 3."""
    import h5py
    import keras

    model = keras.Sequential([keras.Input((None, 4, 3)), keras.layers.UpSampling2D(2, name="up")])
    path = str(tmp_path / "m.h5")
    model.save(path)
    with h5py.File(path) as f:
        config = json.loads(f.attrs["model_config"])
    major, shapes = _propagated(config)
    assert major == 3
    assert shapes["up"] == tuple(model.output_shape) == (None, None, 8, 3)


def test_functional_versions() -> None:
    """Functional graphs: list-style call nodes are Keras 2, dict-style Keras 3."""
    import keras
    import tf_keras

    for lib, major in ((tf_keras, 2), (keras, 3)):
        a, b = lib.Input((None,)), lib.Input((5,))
        model = lib.Model([a, b], lib.layers.Add(name="add")([a, b]))
        config = lib.saving.serialize_keras_object(model)
        found, shapes = _propagated(config)
        assert found == major
        assert shapes["add"] == tuple(model.output_shape)
