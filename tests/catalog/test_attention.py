"""Attention layers against Keras 3 and tf_keras, including the attention-scores outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kinspect.catalog import Call, ShapeUnknown, infer
from tests.catalog.oracle import check, check_keras2, stored_config

# [query, value] or [query, value, key]
DOT_INPUTS = [
    [(None, 5, 8), (None, 9, 8)],
    [(None, 5, 8), (None, 9, 6), (None, 9, 8)],
    [(2, None, 4), (2, None, 4)],
    [(None, 3, 4), (None, 7, 4), (None, 7, 4)],
]


@pytest.mark.parametrize("name", ["Attention", "AdditiveAttention"])
@pytest.mark.parametrize("inputs", DOT_INPUTS)
@pytest.mark.parametrize("scores", [False, True])
def test_dot_attention(name: str, inputs: list[tuple], scores: bool) -> None:
    import keras

    if name == "AdditiveAttention" and inputs[0][-1] != inputs[-1][-1]:
        pytest.skip("additive scores need query and key of the same depth")
    layer = getattr(keras.layers, name)(dropout=0.1)
    check(layer, inputs, return_attention_scores=scores)


@pytest.mark.parametrize("score_mode", ["dot", "concat"])
def test_attention_score_mode(score_mode: str) -> None:
    import keras

    check(keras.layers.Attention(use_scale=True, score_mode=score_mode), [(None, 4, 6), (None, 8, 6)])


@pytest.mark.parametrize("name", ["Attention", "AdditiveAttention"])
@pytest.mark.parametrize("inputs", [DOT_INPUTS[0], DOT_INPUTS[3]])
@pytest.mark.parametrize("scores", [False, True])
def test_dot_attention_keras2(name: str, inputs: list[tuple], scores: bool) -> None:
    import tf_keras

    check_keras2(getattr(tf_keras.layers, name)(), inputs, return_attention_scores=scores)


def test_dot_attention_needs_a_list() -> None:
    import keras

    with pytest.raises(ShapeUnknown):
        infer("Attention", stored_config(keras.layers.Attention()), Call(((None, 5, 8),)))


# (constructor kwargs, query, value, key or None)
MHA_CASES: list[tuple[dict[str, Any], tuple, tuple, tuple | None]] = [
    ({"num_heads": 2, "key_dim": 4}, (None, 5, 8), (None, 5, 8), None),
    ({"num_heads": 2, "key_dim": 4}, (None, 5, 8), (None, 9, 6), None),
    ({"num_heads": 3, "key_dim": 4, "value_dim": 6}, (None, 5, 8), (None, 9, 6), (None, 9, 10)),
    ({"num_heads": 2, "key_dim": 4, "output_shape": 12}, (None, 5, 8), (None, 7, 8), None),
    ({"num_heads": 2, "key_dim": 4, "output_shape": (3, 4)}, (None, None, 8), (None, None, 8), None),
    ({"num_heads": 1, "key_dim": 2, "use_bias": False}, (3, 4, 8), (3, 6, 8), None),
    ({"num_heads": 2, "key_dim": 4, "attention_axes": (1, 2)}, (None, 3, 4, 8), (None, 5, 6, 8), None),
    ({"num_heads": 2, "key_dim": 4, "attention_axes": 2}, (None, 3, 4, 8), (None, 3, 6, 8), None),
    ({"num_heads": 2, "key_dim": 4, "attention_axes": [-3]}, (None, 3, 4, 8), (None, 3, 6, 8), None),
]


def _mha_kwargs(key: tuple | None, scores: bool) -> dict[str, Any]:
    return {**({} if key is None else {"key": key}), "return_attention_scores": scores}


@pytest.mark.parametrize("config,query,value,key", MHA_CASES)
@pytest.mark.parametrize("scores", [False, True])
def test_multi_head_attention(
    config: dict[str, Any], query: tuple, value: tuple, key: tuple | None, scores: bool
) -> None:
    """Positional query/value as Keras 3 functional configs store them."""
    import keras

    args = (query, value) if key is None else (query, value, key)
    check(keras.layers.MultiHeadAttention(**config), *args, return_attention_scores=scores)


@pytest.mark.parametrize("config,query,value,key", MHA_CASES[:4])
def test_multi_head_attention_keywords(
    config: dict[str, Any], query: tuple, value: tuple, key: tuple | None
) -> None:
    import keras

    layer = keras.layers.MultiHeadAttention(**config)
    check(layer, query=query, value=value, **_mha_kwargs(key, True))


@pytest.mark.parametrize("config,query,value,key", MHA_CASES)
@pytest.mark.parametrize("scores", [False, True])
def test_multi_head_attention_keras2(
    config: dict[str, Any], query: tuple, value: tuple, key: tuple | None, scores: bool
) -> None:
    """tf.keras 2 node configs pass ``value`` (and ``key``) as keyword arguments."""
    import tf_keras

    check_keras2(tf_keras.layers.MultiHeadAttention(**config), query, value=value, **_mha_kwargs(key, scores))


def test_multi_head_attention_scores_version_unclear() -> None:
    """Keras 3 reports scores as (B, H, Tq, Tq), tf.keras 2 as (B, H, Tq, Tk): with a config
    that does not say which Keras wrote it (an early Keras 3 one: bare dtype string, no seed),
    only the agreeing case has a shape."""
    import keras

    keras3_only = ("seed", "use_gate", "sliding_window")
    config = {
        k: v for k, v in stored_config(keras.layers.MultiHeadAttention(2, 4)).items() if k not in keras3_only
    }
    config["dtype"] = "float32"
    kwargs = {"return_attention_scores": True}
    with pytest.raises(ShapeUnknown):
        infer("MultiHeadAttention", config, Call(((None, 5, 8), (None, 9, 8)), kwargs))
    expected = check(keras.layers.MultiHeadAttention(2, 4), (None, 5, 8), (None, 5, 8), **kwargs)
    got = infer("MultiHeadAttention", config, Call(((None, 5, 8), (None, 5, 8)), kwargs))
    assert [list(s) for s in got] == expected


# (constructor kwargs, query, value, key or None)
GQA_CASES: list[tuple[dict[str, Any], tuple, tuple, tuple | None]] = [
    ({"head_dim": 4, "num_query_heads": 4, "num_key_value_heads": 2}, (None, 5, 8), (None, 5, 8), None),
    ({"head_dim": 4, "num_query_heads": 4, "num_key_value_heads": 2}, (None, 5, 8), (None, 9, 8), None),
    ({"head_dim": 2, "num_query_heads": 6, "num_key_value_heads": 3}, (2, None, 6), (2, 7, 6), (2, 7, 3)),
    (
        {"head_dim": 4, "num_query_heads": 2, "num_key_value_heads": 1, "use_bias": False},
        (None, 3, 8),
        (None, None, 8),
        None,
    ),
]


@pytest.mark.parametrize("config,query,value,key", GQA_CASES)
@pytest.mark.parametrize("scores", [False, True])
def test_group_query_attention(
    config: dict[str, Any], query: tuple, value: tuple, key: tuple | None, scores: bool
) -> None:
    import keras

    args = (query, value) if key is None else (query, value, key)
    check(keras.layers.GroupQueryAttention(**config), *args, return_attention_scores=scores)


def test_group_query_attention_keywords() -> None:
    import keras

    config, query, value, key = GQA_CASES[2]
    check(keras.layers.GroupQueryAttention(**config), query=query, value=value, key=key)


def test_multi_head_attention_keras2_config_is_recognized() -> None:
    """A plain tf.keras 2 config has a bare dtype string; its query_shape/key_shape/value_shape
    keys are what mark it as Keras 2, so the scores shape is still known."""
    import tf_keras

    layer = tf_keras.layers.MultiHeadAttention(2, 4)
    check_keras2(layer, (None, 5, 8), value=(None, 9, 8), return_attention_scores=True)
    config = json.loads(json.dumps(tf_keras.layers.serialize(layer)))["config"]
    assert config["dtype"] == "float32" and config["query_shape"] is not None
