"""Normalization layers (and the SpectralNormalization wrapper) against Keras 3 and tf_keras."""

from __future__ import annotations

from typing import Any

import pytest

from kinspect.catalog import Call, ShapeUnknown, infer
from tests.catalog.oracle import check, check_keras2, stored_config

# (constructor taking the keras.layers module, input shape); valid for Keras 3 and tf_keras.
CASES: list[tuple[str, Any, tuple]] = [
    ("bn", lambda m: m.BatchNormalization(), (None, 5)),
    ("bn_axis1", lambda m: m.BatchNormalization(axis=1), (None, 3, 8, 8)),
    ("bn_no_scale", lambda m: m.BatchNormalization(center=False, scale=False), (2, None, 4)),
    ("ln", lambda m: m.LayerNormalization(), (None, 7, 5)),
    ("ln_axes", lambda m: m.LayerNormalization(axis=[1, 2]), (None, 4, 6, 3)),
    ("ln_axis_neg", lambda m: m.LayerNormalization(axis=-2), (None, 4, 6)),
    ("gn", lambda m: m.GroupNormalization(groups=2), (None, 8, 8, 4)),
    ("gn_axis1", lambda m: m.GroupNormalization(groups=3, axis=1), (None, 6, 5)),
    ("un", lambda m: m.UnitNormalization(), (None, 5)),
    ("un_axes", lambda m: m.UnitNormalization(axis=[1, 2]), (None, 3, 4, 2)),
    ("norm", lambda m: m.Normalization(), (None, 4)),
    ("norm_axis", lambda m: m.Normalization(axis=(1, 2)), (None, 3, 4, 5)),
    ("norm_none", lambda m: m.Normalization(axis=None), (None, 3)),
    ("norm_stats", lambda m: m.Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0]), (None, 6, 2)),
]


@pytest.mark.parametrize("name,make,shape", CASES, ids=[c[0] for c in CASES])
def test_normalization(name: str, make: Any, shape: tuple) -> None:
    import keras

    check(make(keras.layers), shape)


@pytest.mark.parametrize("name,make,shape", CASES, ids=[c[0] for c in CASES])
def test_normalization_keras2(name: str, make: Any, shape: tuple) -> None:
    import tf_keras

    check_keras2(make(tf_keras.layers), shape)


@pytest.mark.parametrize("axis,shape", [(-1, (None, 5)), ([1, 2], (None, 3, 4, 5)), (2, (2, 3, 4))])
def test_rms_normalization(axis: Any, shape: tuple) -> None:
    import keras

    check(keras.layers.RMSNormalization(axis=axis), shape)


def test_sync_batch_normalization_keras2() -> None:
    import tf_keras

    check_keras2(tf_keras.layers.experimental.SyncBatchNormalization(), (None, 6, 6, 3))


@pytest.mark.parametrize("name", ["BatchNormalization", "LayerNormalization", "UnitNormalization"])
def test_axis_out_of_bounds(name: str) -> None:
    import keras

    config = {**stored_config(getattr(keras.layers, name)()), "axis": 3}
    with pytest.raises(ShapeUnknown):
        infer(name, config, Call(((None, 5, 4),)))


@pytest.mark.parametrize(
    "inner,shape",
    [
        (lambda m: m.Dense(4), (None, 6)),
        (lambda m: m.Dense(3, use_bias=False), (None, 5, 6)),
        (lambda m: m.EinsumDense("abc,cd->abd", (None, 7)), (None, 4, 6)),
    ],
)
def test_spectral_normalization(inner: Any, shape: tuple) -> None:
    import keras

    check(keras.layers.SpectralNormalization(inner(keras.layers), power_iterations=2), shape)


@pytest.mark.parametrize("shape", [(None, 6), (None, 5, 6)])
def test_spectral_normalization_keras2(shape: tuple) -> None:
    """tf_keras's wrapper cannot be called next to Keras 3 here (InputSpec clash), so its
    stored Keras 2 config is checked against the wrapped Dense called alone."""
    import json

    import tf_keras

    wrapper = tf_keras.layers.SpectralNormalization(tf_keras.layers.Dense(4))
    config = json.loads(json.dumps(tf_keras.layers.serialize(wrapper)))["config"]
    expected = check_keras2(tf_keras.layers.Dense(4), shape)
    assert list(infer("SpectralNormalization", config, Call((shape,)))) == expected


def test_spectral_normalization_custom_inner() -> None:
    config = {"layer": {"module": "my_pkg", "class_name": "Dense", "config": {"units": 3}}}
    with pytest.raises(ShapeUnknown):
        infer("SpectralNormalization", config, Call(((None, 4),)))
