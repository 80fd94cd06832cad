"""Recurrent layers against Keras 3 and tf_keras (see oracle.py)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from kinspect.catalog import Call, ShapeUnknown, infer
from tests.catalog.oracle import check, check_keras2

SEQUENCES = [(None, 7, 5), (2, None, 3), (None, None, 4)]
FLAGS = [
    dict(return_sequences=rs, return_state=st, go_backwards=gb)
    for rs, st, gb in itertools.product([False, True], [False, True], [False, True])
]


@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize("cls", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("shape", SEQUENCES)
def test_builtin_rnn(cls: str, flags: dict, shape: tuple) -> None:
    import keras

    check(getattr(keras.layers, cls)(6, **flags), shape)


@pytest.mark.parametrize(
    "cls, kwargs, shape",
    [
        ("LSTM", dict(unroll=True, return_sequences=True), (None, 4, 3)),
        ("GRU", dict(reset_after=False, return_state=True), (None, 4, 3)),
        ("GRU", dict(stateful=True, return_state=True, return_sequences=True), (2, 4, 3)),
        ("SimpleRNN", dict(use_bias=False, dropout=0.5, unroll=True), (3, 5, 2)),
        ("LSTM", dict(use_cudnn=False, return_state=True), (None, 4, 3)),
    ],
)
def test_rnn_options(cls: str, kwargs: dict, shape: tuple) -> None:
    import keras

    check(getattr(keras.layers, cls)(4, **kwargs), shape)


def _cells(keras: Any, kind: str) -> Any:
    """A fresh cell (or list of cells) of the given kind from ``keras`` or ``tf_keras``."""
    L = keras.layers
    return {
        "simple": lambda: L.SimpleRNNCell(3),
        "lstm": lambda: L.LSTMCell(4),
        "gru": lambda: L.GRUCell(5),
        "list": lambda: [L.LSTMCell(3), L.GRUCell(6)],
        "stacked": lambda: L.StackedRNNCells([L.GRUCell(2), L.LSTMCell(7)]),
        "nested": lambda: L.StackedRNNCells(
            [L.LSTMCell(3), L.StackedRNNCells([L.GRUCell(6), L.SimpleRNNCell(2)])]
        ),
    }[kind]()


CELLS = ["simple", "lstm", "gru", "list", "stacked", "nested"]


@pytest.mark.parametrize("flags", [*FLAGS[::3], FLAGS[3]])
@pytest.mark.parametrize("cell", CELLS)
def test_generic_rnn(cell: str, flags: dict) -> None:
    import keras

    check(keras.layers.RNN(_cells(keras, cell), **flags), (None, 7, 5))


CONV_CASES = [
    # rank, input (channels_last), kwargs
    (1, (None, 5, 12, 3), dict(kernel_size=3)),
    (1, (2, None, 12, 3), dict(kernel_size=3, padding="same", strides=2)),
    (1, (None, 5, 13, 3), dict(kernel_size=2, strides=3)),
    (1, (None, 5, 12, 3), dict(kernel_size=3, dilation_rate=2)),
    (2, (None, 4, 10, 9, 2), dict(kernel_size=3)),
    (2, (None, 4, 10, 9, 2), dict(kernel_size=(3, 2), strides=(2, 1), padding="same")),
    (2, (None, None, 11, 7, 2), dict(kernel_size=(2, 3), strides=2)),
    (2, (None, 4, 10, 9, 2), dict(kernel_size=3, dilation_rate=(2, 1), padding="same")),
    (3, (None, 3, 6, 7, 8, 1), dict(kernel_size=3)),
    (3, (None, 3, 6, 7, 8, 1), dict(kernel_size=(1, 2, 3), strides=(1, 2, 3), padding="same")),
]


@pytest.mark.parametrize("flags", [FLAGS[0], FLAGS[2], FLAGS[4], FLAGS[7]])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank, shape, kwargs", CONV_CASES)
def test_conv_lstm(rank: int, shape: tuple, kwargs: dict, data_format: str, flags: dict) -> None:
    import keras

    if data_format == "channels_first":
        shape = (*shape[:2], shape[-1], *shape[2:-1])
    layer = getattr(keras.layers, f"ConvLSTM{rank}D")(4, data_format=data_format, **kwargs, **flags)
    check(layer, shape)


# Keras 2: time_major, unroll and reset_after only exist or matter there.
K2_CASES = [
    ("LSTM", dict(return_state=True), (None, 7, 5)),
    ("LSTM", dict(time_major=True, return_sequences=True, return_state=True), (None, 3, 5)),
    ("LSTM", dict(time_major=True), (7, None, 5)),
    ("GRU", dict(reset_after=False, return_sequences=True, return_state=True), (2, None, 5)),
    ("GRU", dict(unroll=True, go_backwards=True, return_state=True), (None, 4, 5)),
    ("GRU", dict(time_major=True, return_sequences=True), (6, 2, 5)),
    ("SimpleRNN", dict(return_sequences=True, stateful=True), (2, 4, 5)),
    ("SimpleRNN", dict(time_major=True, return_state=True), (None, None, 5)),
]


@pytest.mark.parametrize("cls, kwargs, shape", K2_CASES)
def test_keras2_rnn(cls: str, kwargs: dict, shape: tuple) -> None:
    import tf_keras

    check_keras2(getattr(tf_keras.layers, cls)(6, **kwargs), shape)


@pytest.mark.parametrize(
    "cell, kwargs",
    [
        ("lstm", dict(return_state=True, return_sequences=True)),
        ("gru", dict(time_major=True, return_sequences=True)),
        ("list", dict(return_state=True)),
        ("nested", dict(return_state=True, time_major=True)),
    ],
)
def test_keras2_generic_rnn(cell: str, kwargs: dict) -> None:
    import tf_keras

    check_keras2(tf_keras.layers.RNN(_cells(tf_keras, cell), **kwargs), (None, 7, 5))


@pytest.mark.parametrize(
    "cls, kwargs, shape",
    [
        ("ConvLSTM1D", dict(kernel_size=3, return_state=True), (None, 4, 11, 2)),
        (
            "ConvLSTM2D",
            dict(kernel_size=3, strides=2, padding="same", return_sequences=True),
            (None, 3, 9, 8, 2),
        ),
        ("ConvLSTM2D", dict(kernel_size=(3, 2), dilation_rate=2, return_state=True), (2, 3, 9, 8, 2)),
        ("ConvLSTM3D", dict(kernel_size=2, return_sequences=True), (None, 2, 4, 5, 6, 1)),
        (
            "ConvLSTM2D",
            dict(kernel_size=3, time_major=True, return_sequences=True, return_state=True),
            (4, 2, 9, 8, 2),
        ),
        ("ConvLSTM1D", dict(kernel_size=3, time_major=True, return_state=True), (4, 2, 9, 2)),
    ],
)
def test_keras2_conv_lstm(cls: str, kwargs: dict, shape: tuple) -> None:
    import tf_keras

    check_keras2(getattr(tf_keras.layers, cls)(3, **kwargs), shape)


@pytest.mark.parametrize(
    "cls, kwargs, shape",
    [
        ("LSTM", dict(return_state=True, return_sequences=True), (None, 5, 3)),
        ("LSTM", dict(go_backwards=True), (2, None, 3)),
        ("GRU", dict(return_state=True, time_major=True), (None, 5, 3)),
        ("GRU", dict(return_sequences=True, time_major=True), (6, None, 3)),
    ],
)
def test_keras2_cudnn(cls: str, kwargs: dict, shape: tuple) -> None:
    """tf.compat.v1.keras.layers.CuDNNLSTM/CuDNNGRU (symbolic calls need no GPU)."""
    from tf_keras.src.layers.rnn.cudnn_gru import CuDNNGRU
    from tf_keras.src.layers.rnn.cudnn_lstm import CuDNNLSTM

    check_keras2({"LSTM": CuDNNLSTM, "GRU": CuDNNGRU}[cls](4, **kwargs), shape)


BAD = [
    ("LSTM", {"units": "4"}),
    ("LSTM", {"units": 4, "return_state": "yes"}),
    ("GRU", {}),
    ("RNN", {"cell": {"class_name": "MyCell", "config": {"units": 3}}}),
    ("RNN", {"cell": {"module": "mypkg.cells", "class_name": "LSTMCell", "config": {"units": 3}}}),
    ("RNN", {"cell": {"class_name": "StackedRNNCells", "config": {"cells": []}}}),
    ("ConvLSTM2D", {"filters": 2, "kernel_size": [3, 3], "padding": "causal"}),
    ("ConvLSTM2D", {"filters": 2, "kernel_size": [3]}),
    ("ConvLSTM2D", {"filters": 2, "kernel_size": [3, 3], "data_format": "channels_middle"}),
]


@pytest.mark.parametrize("cls, config", BAD)
def test_unknown(cls: str, config: dict) -> None:
    shape = (None, 4, 9, 9, 2) if cls.startswith("Conv") else (None, 4, 3)
    with pytest.raises(ShapeUnknown):
        infer(cls, config, Call((shape,)))
