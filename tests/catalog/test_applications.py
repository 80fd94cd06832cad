"""Layers keras.applications models save (ConvNeXt's LayerScale) against Keras 3 and tf_keras."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kinspect.catalog import Call, expected_weights, infer
from tests.catalog.oracle import stored_config

SHAPES = [(None, 56, 56, 96), (2, 7, 7, 8), (None, 5, 3)]


def _layer_scale(keras2: bool) -> tuple[Any, Any]:
    if keras2:
        import tf_keras as keras
        from tf_keras.src.applications.convnext import LayerScale
    else:
        import keras
        from keras.src.applications.convnext import LayerScale
    return keras, LayerScale


@pytest.mark.parametrize("keras2", [False, True], ids=["keras3", "tf_keras"])
@pytest.mark.parametrize("shape", SHAPES)
def test_layer_scale(keras2: bool, shape: tuple[int | None, ...]) -> None:
    keras, LayerScale = _layer_scale(keras2)
    layer = LayerScale(1e-6, shape[-1])
    out = layer(keras.Input(batch_shape=shape))
    if keras2:
        config = json.loads(json.dumps(keras.layers.serialize(layer)))["config"]
    else:
        config = stored_config(layer)
    call = Call((shape,), {}, keras_major=2 if keras2 else 3)
    assert list(infer("LayerScale", config, call)) == [None if d is None else int(d) for d in out.shape]
    expected = expected_weights("LayerScale", config, call, 2 if keras2 else 3)
    assert expected is not None
    got = [(w.shape, w.trainable) for w in expected]
    assert got == [(tuple(int(d) for d in v.shape), bool(v.trainable)) for v in layer.weights]
    if keras2:  # Keras 3's LayerScale leaves its variable unnamed ("variable"); gamma is the attribute
        assert [w.name for w in expected] == [v.name.rsplit("/", 1)[-1].split(":")[0] for v in layer.weights]
