"""Bidirectional and TimeDistributed against Keras 3 and tf_keras (see oracle.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kinspect.catalog import RULES, Call, ShapeUnknown, infer
from tests.catalog.oracle import check, check_keras2

MERGE_MODES = ["concat", "sum", "mul", "ave", None]
RNN_FLAGS = [dict(return_sequences=rs, return_state=st) for rs in (False, True) for st in (False, True)]


@pytest.mark.parametrize("flags", RNN_FLAGS)
@pytest.mark.parametrize("merge_mode", MERGE_MODES)
@pytest.mark.parametrize("cls", ["LSTM", "GRU", "SimpleRNN"])
def test_bidirectional(cls: str, merge_mode: str | None, flags: dict) -> None:
    import keras

    layer = keras.layers.Bidirectional(getattr(keras.layers, cls)(4, **flags), merge_mode=merge_mode)
    check(layer, (None, 6, 3))


@pytest.mark.parametrize("merge_mode", ["concat", None])
@pytest.mark.parametrize("shape", [(2, None, 3), (None, None, 5)])
def test_bidirectional_stacked_cells(shape: tuple, merge_mode: str | None) -> None:
    import keras

    L = keras.layers
    inner = L.RNN([L.LSTMCell(3), L.GRUCell(5)], return_state=True, return_sequences=True)
    check(L.Bidirectional(inner, merge_mode=merge_mode), shape)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", None])
@pytest.mark.parametrize("back_units", [4, 7])
def test_bidirectional_backward_layer(back_units: int, merge_mode: str | None) -> None:
    """Keras 3 reports the forward layer's shapes for both directions, whatever the backward one."""
    import keras

    L = keras.layers
    forward = L.GRU(4, return_sequences=True, return_state=True)
    backward = L.GRU(back_units, return_sequences=True, return_state=True, go_backwards=True)
    check(L.Bidirectional(forward, backward_layer=backward, merge_mode=merge_mode), (None, 6, 3))


@pytest.mark.parametrize("merge_mode", ["concat", "ave"])
def test_bidirectional_conv_lstm(merge_mode: str) -> None:
    import keras

    inner = keras.layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True)
    check(keras.layers.Bidirectional(inner, merge_mode=merge_mode), (None, 4, 8, 8, 2))


K2_BIDIRECTIONAL = [
    ("LSTM", dict(return_state=True), "concat", None),
    ("LSTM", dict(return_state=True, return_sequences=True), None, None),
    ("GRU", dict(reset_after=False, return_sequences=True), "sum", None),
    ("LSTM", dict(time_major=True, return_sequences=True, return_state=True), "concat", None),
    ("SimpleRNN", dict(unroll=True), "mul", None),
    # Keras 2 traces the call: a different backward layer shows in the outputs.
    ("LSTM", dict(return_state=True), "concat", 6),
    ("GRU", dict(return_sequences=True, return_state=True), None, 6),
]


@pytest.mark.parametrize("cls, kwargs, merge_mode, back_units", K2_BIDIRECTIONAL)
def test_keras2_bidirectional(cls: str, kwargs: dict, merge_mode: str | None, back_units: int | None) -> None:
    import tf_keras

    make = getattr(tf_keras.layers, cls)
    backward = None if back_units is None else make(back_units, go_backwards=True, **kwargs)
    layer = tf_keras.layers.Bidirectional(make(4, **kwargs), merge_mode=merge_mode, backward_layer=backward)
    check_keras2(layer, (None, 5, 3))


def test_keras2_bidirectional_stacked() -> None:
    import tf_keras

    L = tf_keras.layers
    inner = L.RNN(L.StackedRNNCells([L.LSTMCell(3), L.GRUCell(5)]), return_state=True)
    check_keras2(L.Bidirectional(inner), (None, 5, 3))


# TimeDistributed over layers of every family; cases whose inner rule is not
# registered yet are skipped (other modules provide them).
TIME_DISTRIBUTED: list[tuple[str, Callable[[Any], Any], tuple]] = [
    ("Dense", lambda k: k.layers.Dense(5), (None, 6, 3)),
    ("Dense", lambda k: k.layers.Dense(5), (2, None, 4, 3)),
    ("Conv2D", lambda k: k.layers.Conv2D(4, 3, strides=2), (None, 5, 9, 9, 3)),
    ("Conv2D", lambda k: k.layers.Conv2D(4, 3, padding="same"), (None, None, 8, 8, 3)),
    ("MaxPooling2D", lambda k: k.layers.MaxPooling2D(2), (None, 5, 9, 9, 3)),
    ("Flatten", lambda k: k.layers.Flatten(), (None, 5, 4, 4, 3)),
    ("Dropout", lambda k: k.layers.Dropout(0.5), (None, 5, 3)),
    ("LSTM", lambda k: k.layers.LSTM(4, return_sequences=True), (None, 3, 6, 2)),
    ("GRU", lambda k: k.layers.GRU(4), (2, 3, 6, 2)),
    ("Bidirectional", lambda k: k.layers.Bidirectional(k.layers.GRU(4)), (None, 3, 6, 2)),
    ("TimeDistributed", lambda k: k.layers.TimeDistributed(k.layers.Dense(2)), (None, 3, 4, 5)),
]


def _needs(name: str) -> None:
    inner = "Dense" if name == "TimeDistributed" else name
    if inner not in RULES:
        pytest.skip(f"no shape rule for {inner} yet")


@pytest.mark.parametrize("name, make, shape", TIME_DISTRIBUTED)
def test_time_distributed(name: str, make: Callable[[Any], Any], shape: tuple) -> None:
    import keras

    _needs(name)
    check(keras.layers.TimeDistributed(make(keras)), shape)


@pytest.mark.parametrize("name, make, shape", [TIME_DISTRIBUTED[i] for i in (0, 2, 5, 7, 9)])
def test_keras2_time_distributed(name: str, make: Callable[[Any], Any], shape: tuple) -> None:
    import tf_keras

    _needs(name)
    check_keras2(tf_keras.layers.TimeDistributed(make(tf_keras)), shape)


LSTM4 = {"class_name": "LSTM", "config": {"units": 4}}
BAD = [
    ("TimeDistributed", {"layer": LSTM4}, (None, 3)),
    (
        "TimeDistributed",
        {"layer": {"module": "mylib", "class_name": "LSTM", "config": {"units": 4}}},
        (None, 3, 4, 2),
    ),
    ("TimeDistributed", {"layer": "LSTM"}, (None, 3, 4, 2)),
    (
        "TimeDistributed",
        {"layer": {"class_name": "LSTM", "config": {"units": 4, "return_state": True}}},
        (None, 3, 4, 2),
    ),
    ("Bidirectional", {"layer": LSTM4, "merge_mode": "max"}, (None, 3, 4)),
    ("Bidirectional", {"layer": {"class_name": "MyRNN", "config": {}}}, (None, 3, 4)),
    # backward layer differs and neither time_major (Keras 2) nor zero_output_for_mask (Keras 3) says which.
    (
        "Bidirectional",
        {"layer": LSTM4, "backward_layer": {"class_name": "LSTM", "config": {"units": 5}}},
        (None, 3, 4),
    ),
]


@pytest.mark.parametrize("cls, config, shape", BAD)
def test_unknown(cls: str, config: dict, shape: tuple) -> None:
    with pytest.raises(ShapeUnknown):
        infer(cls, config, Call((shape,)))


def _strip_modules(value: Any) -> Any:
    """A Keras 2 config as tf.keras < 2.13 wrote it: nested layers without module/registered_name."""
    if isinstance(value, dict):
        return {k: _strip_modules(v) for k, v in value.items() if k not in ("module", "registered_name")}
    if isinstance(value, list):
        return [_strip_modules(v) for v in value]
    return value


def test_old_keras2_nested_configs() -> None:
    import tf_keras

    L = tf_keras.layers
    cells = L.StackedRNNCells([L.LSTMCell(3), L.GRUCell(5)])
    for cls, layer, shape in [
        ("Bidirectional", L.Bidirectional(L.RNN(cells, return_state=True), merge_mode=None), (None, 7, 4)),
        (
            "TimeDistributed",
            L.TimeDistributed(L.Bidirectional(L.GRU(3, return_sequences=True))),
            (None, 2, 7, 4),
        ),
    ]:
        check_keras2(layer, shape)
        config = tf_keras.layers.serialize(layer)["config"]
        call = Call((shape,))
        assert infer(cls, _strip_modules(config), call) == infer(cls, config, call)
