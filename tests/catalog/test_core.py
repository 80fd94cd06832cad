"""Core layers (Dense, EinsumDense, Embedding, Identity, Lambda…) against Keras 3 and tf_keras."""

from __future__ import annotations

from typing import Any

import pytest

from kinspect.catalog import Call, ShapeUnknown, infer
from tests.catalog.oracle import check, check_keras2, stored_config


@pytest.mark.parametrize("units", [1, 7])
@pytest.mark.parametrize("shape", [(None, 5), (3, 5), (None, None, 5), (2, 4, 6, 5), (None, 3, None, 2, 5)])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense(units: int, shape: tuple, use_bias: bool) -> None:
    import keras

    check(keras.layers.Dense(units, use_bias=use_bias, activation="relu"), shape)


@pytest.mark.parametrize("shape", [(None, 5), (None, 4, 5), (2, None, 3, 5)])
def test_dense_keras2(shape: tuple) -> None:
    import tf_keras

    check_keras2(tf_keras.layers.Dense(3), shape)


# (equation, output_shape, bias_axes, input shape)
EINSUM_CASES: list[tuple[str, Any, str | None, tuple]] = [
    ("ab,bc->ac", 64, "c", (None, 32)),
    ("ab,bc->ac", (64,), None, (4, 32)),
    ("abc,cd->abd", (None, 64), "d", (None, 32, 128)),
    ("abc,cd->abd", (32, 64), "d", (None, 32, 128)),
    ("abc,cd->abd", (None, 64), "d", (None, None, 128)),
    ("abc,cde->abde", (None, 4, 8), "de", (None, 10, 16)),
    ("abc,cde->abde", (10, 4, 8), None, (None, 10, 16)),
    ("abcd,cde->abe", (None, 8), "e", (None, 5, 3, 4)),
    ("abc,bcd->ad", (9,), "d", (None, 4, 3)),
    ("...x,xy->...y", 64, "y", (None, 32, 128)),
    ("...x,xy->...y", 64, None, (None, 128)),
    ("...x,xy->...y", 8, "y", (None, 3, 5, 7)),
    ("...ab,bc->...ac", (None, 6), "c", (None, 3, 4, 5)),
    ("ab...,bc->ac...", (6,), "c", (None, 5, 7)),
    ("ab...,bc->ac...", (6,), None, (None, 5, 7, 9)),
]


@pytest.mark.parametrize("equation,output_shape,bias_axes,shape", EINSUM_CASES)
def test_einsum_dense(equation: str, output_shape: Any, bias_axes: str | None, shape: tuple) -> None:
    import keras

    check(keras.layers.EinsumDense(equation, output_shape, bias_axes=bias_axes), shape)


@pytest.mark.parametrize("equation,output_shape,bias_axes,shape", EINSUM_CASES)
def test_einsum_dense_keras2(equation: str, output_shape: Any, bias_axes: str | None, shape: tuple) -> None:
    """A mixed-precision policy marks the config as Keras 2 (a bare dtype string would not)."""
    import tf_keras

    layer = tf_keras.layers.EinsumDense(equation, output_shape, bias_axes=bias_axes, dtype="mixed_float16")
    check_keras2(layer, shape)


def test_einsum_dense_version_unclear() -> None:
    """Keras 3 keeps output_shape's None where tf.keras 2 takes the input's dim; a bare dtype
    string does not say which wrote the config, so the rule must not guess."""
    import keras

    layer = keras.layers.EinsumDense("abc,cd->abd", (None, 64))
    config = {**stored_config(layer), "dtype": "float32"}
    config.pop("quantization_config", None)
    with pytest.raises(ShapeUnknown):
        infer("EinsumDense", config, Call(((None, 32, 128),)))
    # LoRA settings exist only in Keras 3, so they settle the question.
    lora = keras.layers.EinsumDense("abc,cd->abd", (None, 64), lora_rank=2)
    expected = check(lora, (None, 32, 128))
    lora_config = {**stored_config(lora), "dtype": "float32"}
    lora_config.pop("quantization_config", None)
    assert list(infer("EinsumDense", lora_config, Call(((None, 32, 128),)))) == expected


@pytest.mark.parametrize(
    "equation,output_shape,shape",
    [("abc,cd->bd", (9,), (2, 6, 3)), ("a,b", 4, (None, 3)), ("abc,cd->abd", (5, 64), (None, 32, 128))],
)
def test_einsum_dense_invalid(equation: str, output_shape: Any, shape: tuple) -> None:
    """Configs Keras itself rejects at call time give no shape."""
    config = {"equation": equation, "output_shape": output_shape, "dtype": "float32"}
    with pytest.raises(ShapeUnknown):
        infer("EinsumDense", config, Call((shape,)))


@pytest.mark.parametrize("shape", [(None,), (None, 10), (3, None), (None, 4, 6)])
@pytest.mark.parametrize("mask_zero", [False, True])
def test_embedding(shape: tuple, mask_zero: bool) -> None:
    import keras

    check(keras.layers.Embedding(100, 8, mask_zero=mask_zero), shape)


@pytest.mark.parametrize("input_length,shape", [(None, (None, 10)), (7, (None, 7)), (7, (None, None))])
def test_embedding_keras2(input_length: int | None, shape: tuple) -> None:
    import tf_keras

    check_keras2(tf_keras.layers.Embedding(100, 8, input_length=input_length), shape)


@pytest.mark.parametrize("tie_weights", [True, False])
@pytest.mark.parametrize(
    "args,kwargs",
    [
        (((None, 6),), {}),
        (((None, 6),), {"reverse": False}),
        (((None, 6, 16),), {"reverse": True}),
    ],
)
def test_reversible_embedding(tie_weights: bool, args: tuple, kwargs: dict) -> None:
    import keras

    check(keras.layers.ReversibleEmbedding(50, 16, tie_weights=tie_weights), *args, **kwargs)


@pytest.mark.parametrize("x", [(None, 3), (2, None, 4), [(None, 3), (None, 5, 2)]])
def test_identity(x: Any) -> None:
    import keras

    check(keras.layers.Identity(), x)


def test_identity_dict() -> None:
    """The oracle builds no dict inputs, so the dict case is compared by hand."""
    import keras

    shapes = {"a": (None, 2), "b": (3, 4)}
    layer = keras.layers.Identity()
    out = layer({k: keras.Input(batch_shape=v) for k, v in shapes.items()})
    assert infer("Identity", stored_config(layer), Call((shapes,))) == {k: v.shape for k, v in out.items()}


@pytest.mark.parametrize(
    "output_shape,x",
    [
        ((7,), (None, 5)),
        ((2, 3), (4, 6)),
        ((None, 3), (None, 5, 3)),
        ([(7,), (3, 4)], [(None, 5), (None, 5)]),
        ((), (None, 5)),
    ],
)
def test_lambda_static_output_shape(output_shape: Any, x: Any) -> None:
    import keras

    # The function disagrees on purpose: Keras 3 reports the declared shape.
    check(keras.layers.Lambda(lambda t: t, output_shape=output_shape), x)


def _lambda_unknown(config: dict) -> None:
    with pytest.raises(ShapeUnknown):
        infer("Lambda", config, Call(((None, 5),)))


def test_lambda_without_static_shape() -> None:
    import keras

    _lambda_unknown(stored_config(keras.layers.Lambda(lambda t: t * 2)))
    _lambda_unknown(stored_config(keras.layers.Lambda(lambda t: t, output_shape=lambda s: s)))


def test_lambda_keras2_is_unknown() -> None:
    """tf.keras 2 traces the function and ignores ``output_shape``, so the stored value is no proof."""
    import json

    import tf_keras

    layer = tf_keras.layers.Lambda(lambda t: t[:, :2], output_shape=(7,))
    _lambda_unknown(json.loads(json.dumps(tf_keras.layers.serialize(layer)))["config"])


@pytest.mark.parametrize("shape", [(None, 5), (3, 7)])
def test_random_fourier_features_keras2(shape: tuple) -> None:
    """tf.keras 2 only (layers.experimental)."""
    import tf_keras

    check_keras2(tf_keras.layers.experimental.RandomFourierFeatures(output_dim=6), shape)
    for bad in [(None, None), (None, 2, 3)]:
        with pytest.raises(ShapeUnknown):
            infer("RandomFourierFeatures", {"output_dim": 6}, Call((bad,)))
