"""Cost rules applied to configs directly, counted by hand from the formula (no Keras needed).

tests/test_cost.py checks the same rules on models Keras built, against TensorFlow's profiler and
published figures; these run in the pure suite and pin the edge cases.
"""

from __future__ import annotations

from typing import Any

import pytest

from kinspect.catalog import Call
from kinspect.catalog.registry import Cost, Unknown, layer_cost


def cost(class_name: str, config: dict[str, Any], *args: Any, output: Any = None, **kwargs: Any) -> Cost:
    return layer_cost(class_name, config, Call(args, kwargs, keras_major=3), output)


def test_dense_counts_every_leading_position() -> None:
    # (batch, 7, 10) -> 4 units: 7 positions × 10 inputs × 4 units; bias 7·4, relu 7·4.
    found = cost("Dense", {"units": 4, "activation": "relu"}, (None, 7, 10), output=(None, 7, 4))
    assert found == Cost(7 * 10 * 4, 7 * 4 + 7 * 4)


def test_grouped_and_channels_first_convolutions() -> None:
    config = {"filters": 6, "kernel_size": [3, 3], "groups": 3, "use_bias": False}
    assert cost("Conv2D", config, (None, 10, 10, 9), output=(None, 8, 8, 6)).macs == 8 * 8 * 6 * 9 * (9 // 3)
    first = {"filters": 6, "kernel_size": 3, "data_format": "channels_first"}
    assert cost("Conv2D", first, (None, 9, 10, 10), output=(None, 6, 8, 8)).macs == 8 * 8 * 6 * 9 * 9


def test_separable_and_depthwise() -> None:
    dw = {"kernel_size": [3, 3], "depth_multiplier": 2}
    assert cost("DepthwiseConv2D", dw, (None, 5, 5, 4), output=(None, 3, 3, 8)).macs == 3 * 3 * 8 * 9
    sep = {"filters": 7, "kernel_size": [3, 3], "depth_multiplier": 2}
    found = cost("SeparableConv2D", sep, (None, 5, 5, 4), output=(None, 3, 3, 7))
    assert found.macs == 3 * 3 * 8 * 9 + 3 * 3 * 7 * 8


def test_recurrent_layers_per_step_times_length() -> None:
    lstm = {"units": 5, "return_sequences": False}
    assert cost("LSTM", lstm, (None, 11, 3), output=(None, 5)).macs == 11 * 4 * 5 * (3 + 5)
    gru = {"units": 5, "reset_after": True}
    assert cost("GRU", gru, (None, 11, 3), output=(None, 5)).elementwise == 11 * (6 * 5 + 3 * 5 + 5 * 5)
    cell = {"cell": {"class_name": "SimpleRNNCell", "config": {"units": 2}}}
    assert cost("RNN", cell, (None, 4, 3), output=(None, 2)).macs == 4 * 2 * (3 + 2)
    stacked = {"cell": {"class_name": "StackedRNNCells", "config": {"cells": [
        {"class_name": "LSTMCell", "config": {"units": 4}},
        {"class_name": "GRUCell", "config": {"units": 2, "reset_after": False}},
    ]}}}  # fmt: skip
    assert cost("RNN", stacked, (None, 6, 3), output=(None, 2)).macs == 6 * (
        4 * 4 * (3 + 4) + 3 * 2 * (4 + 2)
    )


def test_unknown_length_asks_for_seq_len() -> None:
    with pytest.raises(Unknown, match="--seq-len"):
        cost("LSTM", {"units": 5}, (None, None, 3), output=(None, 5))
    with pytest.raises(Unknown, match="--seq-len"):
        cost("Dense", {"units": 4}, (None, None, 10), output=(None, None, 4))


def test_wrappers() -> None:
    inner = {"class_name": "LSTM", "config": {"units": 3, "return_sequences": True}}
    found = cost("Bidirectional", {"layer": inner, "merge_mode": "sum"}, (None, 5, 2), output=(None, 5, 3))
    assert found.macs == 2 * 5 * 4 * 3 * (2 + 3)
    td = {"layer": {"class_name": "Dense", "config": {"units": 4}}}
    assert cost("TimeDistributed", td, (None, 6, 3), output=(None, 6, 4)).macs == 6 * 3 * 4


def test_multi_head_attention_by_sequence_lengths() -> None:
    config = {"num_heads": 2, "key_dim": 3, "use_bias": False}
    found = cost("MultiHeadAttention", config, (None, 4, 6), (None, 5, 8), output=(None, 4, 6))
    # projections q 4·6·2·3, k 5·8·2·3, v 5·8·2·3; QKᵀ and AV 2·4·5·3 each; output 4·2·3·6.
    assert found.macs == 4 * 6 * 6 + 5 * 8 * 6 + 5 * 8 * 6 + 2 * (2 * 4 * 5 * 3) + 4 * 6 * 6


def test_free_and_uncounted_classes() -> None:
    assert cost("Embedding", {"input_dim": 10, "output_dim": 4}, (None, 3), output=(None, 3, 4)) == Cost()
    assert cost("Dropout", {"rate": 0.5}, (None, 3), output=(None, 3)) == Cost()
    assert cost("UpSampling2D", {"size": 2}, (None, 2, 2, 1), output=(None, 4, 4, 1)) == Cost()
    bilinear = {"size": 2, "interpolation": "bilinear"}
    assert cost("UpSampling2D", bilinear, (None, 2, 2, 1), output=(None, 4, 4, 1)).elementwise == 4 * 16
    with pytest.raises(Unknown, match="code"):
        cost("Lambda", {}, (None, 3), output=(None, 3))
    with pytest.raises(Unknown, match="no cost rule"):
        cost("MyLayer", {}, (None, 3), output=(None, 3))


def test_conv_lstm_per_step() -> None:
    # 3 steps of 8x8x2, 4 filters, 3x3 same: per step each of the 8·8 positions computes 4 gates
    # × 4 filters, from the input (9 taps × 2 channels) and the state (9 taps × 4 filters).
    config = {"filters": 4, "kernel_size": [3, 3], "padding": "same"}
    found = cost("ConvLSTM2D", config, (None, 3, 8, 8, 2), output=(None, 8, 8, 4))
    assert found.macs == 3 * (8 * 8) * (4 * 4) * 9 * (2 + 4)
    assert found.elementwise == 3 * (4 * 256 + 9 * 256)  # bias 4 per value, gates and gating 9


def test_einsum_dense_and_normalization() -> None:
    config = {"equation": "abc,cd->abd", "output_shape": [None, 5], "bias_axes": "d"}
    assert cost("EinsumDense", config, (None, 6, 8), output=(None, 6, 5)) == Cost(6 * 8 * 5, 6 * 5)
    assert cost("BatchNormalization", {}, (None, 4, 4, 3), output=(None, 4, 4, 3)) == Cost(0, 2 * 48)
    ln = {"scale": True, "center": False}
    assert cost("LayerNormalization", ln, (None, 5, 6), output=(None, 5, 6)) == Cost(0, 5 * 30)


def test_grouped_query_and_additive_attention() -> None:
    gqa = {"head_dim": 4, "num_query_heads": 4, "num_key_value_heads": 2, "use_bias": False}
    found = cost("GroupedQueryAttention", gqa, (None, 6, 8), (None, 5, 8), output=(None, 6, 8))
    # q 6·8·4·4, k and v 5·8·2·4 each, QKᵀ and AV 4·6·5·4 each, output 6·4·4·8.
    assert found.macs == 6 * 8 * 16 + 2 * (5 * 8 * 8) + 2 * (4 * 6 * 5 * 4) + 6 * 16 * 8
    additive = cost("AdditiveAttention", {}, [(None, 3, 4), (None, 5, 4)], output=(None, 3, 4))
    # scores: 3·5 terms of dim 4 (add, tanh: 2 each; reduce with scale: 1 MAC each), softmax 3.
    assert additive == Cost(3 * 5 * 4 + 3 * 5 * 4, 3 * 3 * 5 + 2 * 3 * 5 * 4)
