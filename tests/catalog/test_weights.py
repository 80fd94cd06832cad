"""kinspect.catalog.expected_weights against Keras: build each layer on symbolic inputs, compare
its ``weights``.

Keras is the oracle: every expected shape, flag, name and order comes from the built layer,
never typed by hand. Keras 3 layers also check names (the last component of ``v.path``); a few
composite layers check full names against the paths of a saved Keras 3 weights file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from kinspect.catalog import Call, Expected, covered, expected_weights
from tests.catalog.oracle import stored_config

Factory = Callable[[Any], Any]  # layers module → layer


def _symbolic(module: Any, value: Any) -> Any:
    if isinstance(value, tuple):
        return module.Input(batch_shape=value)
    if isinstance(value, list):
        return [_symbolic(module, v) for v in value]
    return value


def _actual(layer: Any) -> list[tuple[tuple[int, ...], bool]]:
    return [(tuple(int(d) for d in v.shape), bool(v.trainable)) for v in layer.weights]


def _got(expected: list[Expected] | None) -> list[tuple[tuple[int, ...], bool]]:
    assert expected is not None, "expected_weights gave None"
    return [(w.shape, w.trainable) for w in expected]


def _leaf(name: str) -> str:
    return name.rsplit("/", 1)[-1].split(":")[0]


def check(make: Factory, *args: Any, names: bool = True, **kwargs: Any) -> list[Expected]:
    """Keras 3: kinspect's list equals ``layer.weights`` in shape, trainability, order and leaf name."""
    import keras

    layer = make(keras.layers)
    layer(*[_symbolic(keras, a) for a in args], **{k: _symbolic(keras, v) for k, v in kwargs.items()})
    got = expected_weights(type(layer).__name__, stored_config(layer), Call(tuple(args), kwargs))
    assert _got(got) == _actual(layer), stored_config(layer)
    assert got is not None
    if names:
        assert [_leaf(w.name) for w in got] == [_leaf(v.path) for v in layer.weights]
    return got


def check_keras2(make: Factory, *args: Any, **kwargs: Any) -> list[Expected]:
    """tf_keras: the same against a Keras 2 layer and its Keras 2 config."""
    import tf_keras

    layer = make(tf_keras.layers)
    layer(*[_symbolic(tf_keras, a) for a in args], **{k: _symbolic(tf_keras, v) for k, v in kwargs.items()})
    config = json.loads(json.dumps(tf_keras.layers.serialize(layer)))["config"]
    got = expected_weights(type(layer).__name__, config, Call(tuple(args), kwargs), keras_major=2)
    assert _got(got) == _actual(layer), config
    assert got is not None
    assert [_leaf(w.name) for w in got] == [_leaf(v.name) for v in layer.weights]
    return got


L = Any  # a layers module, in the lambdas below

# (factory, input shape) built with both Keras 3 and tf_keras.
BOTH: list[Any] = [
    # Dense
    pytest.param(lambda L: L.Dense(4), (None, 3), id="dense"),
    pytest.param(lambda L: L.Dense(5, use_bias=False), (2, 7, 3), id="dense-nobias-rank3"),
    pytest.param(lambda L: L.Dense(1), (None, 2, 3, 6), id="dense-rank4"),
    # EinsumDense
    pytest.param(lambda L: L.EinsumDense("ab,bc->ac", 4, bias_axes="c"), (None, 3), id="einsum-ab"),
    pytest.param(lambda L: L.EinsumDense("abc,cd->abd", (None, 5)), (None, 7, 3), id="einsum-nobias"),
    pytest.param(
        lambda L: L.EinsumDense("abc,cde->abde", (None, 2, 4), bias_axes="de"),
        (None, 6, 3),
        id="einsum-heads",
    ),
    pytest.param(lambda L: L.EinsumDense("...b,bc->...c", 4, bias_axes="c"), (None, 5, 3), id="einsum-left"),
    pytest.param(
        lambda L: L.EinsumDense("abc,cd->abd", (7, 5), bias_axes="bd"), (None, 7, 3), id="einsum-bias-bd"
    ),
    pytest.param(
        lambda L: L.EinsumDense("ab...,bc->ac...", (4, 6), bias_axes="c"), (None, 3, 6), id="einsum-right"
    ),
    # Convolutions
    pytest.param(lambda L: L.Conv1D(4, 3), (None, 10, 2), id="conv1d"),
    pytest.param(lambda L: L.Conv1D(6, 2, groups=3, padding="causal"), (None, 9, 6), id="conv1d-groups"),
    pytest.param(lambda L: L.Conv2D(8, (3, 2), use_bias=False), (None, 9, 9, 3), id="conv2d-nobias"),
    pytest.param(lambda L: L.Conv2D(4, 3, groups=2), (1, 8, 8, 6), id="conv2d-groups"),
    pytest.param(lambda L: L.Conv3D(2, (1, 2, 3)), (None, 5, 6, 7, 4), id="conv3d"),
    pytest.param(lambda L: L.Conv1DTranspose(5, 3), (None, 8, 2), id="conv1dT"),
    pytest.param(lambda L: L.Conv2DTranspose(3, (2, 4), strides=2), (None, 5, 5, 7), id="conv2dT"),
    pytest.param(lambda L: L.Conv3DTranspose(2, 2, use_bias=False), (None, 3, 4, 5, 3), id="conv3dT"),
    pytest.param(lambda L: L.DepthwiseConv2D(3), (None, 8, 8, 4), id="dw2d"),
    pytest.param(lambda L: L.DepthwiseConv2D((2, 3), depth_multiplier=3), (None, 8, 8, 2), id="dw2d-mult"),
    pytest.param(lambda L: L.DepthwiseConv1D(3, depth_multiplier=2, use_bias=False), (None, 8, 5), id="dw1d"),
    pytest.param(lambda L: L.SeparableConv1D(4, 3), (None, 9, 3), id="sep1d"),
    pytest.param(lambda L: L.SeparableConv2D(5, (3, 2), depth_multiplier=2), (None, 8, 8, 3), id="sep2d"),
    pytest.param(lambda L: L.SeparableConv2D(2, 1, use_bias=False), (None, 4, 4, 6), id="sep2d-nobias"),
    # Normalization
    pytest.param(lambda L: L.BatchNormalization(), (None, 5), id="bn"),
    pytest.param(lambda L: L.BatchNormalization(axis=1), (None, 3, 4, 4), id="bn-axis1"),
    pytest.param(lambda L: L.BatchNormalization(center=False), (None, 4, 4, 6), id="bn-nocenter"),
    pytest.param(lambda L: L.BatchNormalization(scale=False, center=False), (None, 7, 3), id="bn-bare"),
    pytest.param(lambda L: L.BatchNormalization(renorm=True), (None, 6), id="bn-renorm"),
    pytest.param(lambda L: L.LayerNormalization(), (None, 6), id="ln"),
    pytest.param(lambda L: L.LayerNormalization(axis=[1, 2]), (None, 3, 4, 5), id="ln-axes"),
    pytest.param(lambda L: L.LayerNormalization(axis=1, center=False), (None, 3, 4), id="ln-axis1"),
    pytest.param(lambda L: L.LayerNormalization(scale=False), (None, 2, 9), id="ln-noscale"),
    pytest.param(lambda L: L.GroupNormalization(groups=2), (None, 5, 4), id="gn"),
    pytest.param(lambda L: L.GroupNormalization(groups=-1, center=False), (None, 3, 3, 6), id="gn-all"),
    pytest.param(lambda L: L.GroupNormalization(groups=3, axis=1, scale=False), (None, 6, 5), id="gn-axis1"),
    pytest.param(lambda L: L.UnitNormalization(), (None, 4), id="unitnorm"),
    pytest.param(lambda L: L.Normalization(), (None, 4), id="norm"),
    pytest.param(lambda L: L.Normalization(axis=(1, 2)), (None, 3, 4, 5), id="norm-axes"),
    pytest.param(lambda L: L.Normalization(axis=None), (None, 3), id="norm-none"),
    pytest.param(lambda L: L.Normalization(mean=2.0, variance=3.0), (None, 3), id="norm-fixed"),
    # Embedding, PReLU
    pytest.param(lambda L: L.Embedding(50, 8), (None, 7), id="embedding"),
    pytest.param(lambda L: L.Embedding(3, 2, mask_zero=True), (4, 2, 3), id="embedding-rank3"),
    pytest.param(lambda L: L.PReLU(), (None, 3, 4), id="prelu"),
    pytest.param(lambda L: L.PReLU(shared_axes=[1, 2]), (None, 5, 5, 3), id="prelu-shared"),
    pytest.param(lambda L: L.PReLU(shared_axes=2), (None, 5, 6), id="prelu-shared-int"),
    # Recurrent
    pytest.param(lambda L: L.SimpleRNN(4), (None, 5, 3), id="simplernn"),
    pytest.param(
        lambda L: L.SimpleRNN(2, use_bias=False, return_sequences=True), (2, None, 6), id="simplernn-nb"
    ),
    pytest.param(lambda L: L.LSTM(4), (None, 5, 3), id="lstm"),
    pytest.param(lambda L: L.LSTM(3, use_bias=False, return_state=True), (None, None, 2), id="lstm-nobias"),
    pytest.param(lambda L: L.GRU(4), (None, 5, 3), id="gru"),
    pytest.param(lambda L: L.GRU(3, reset_after=False), (None, 5, 7), id="gru-before"),
    pytest.param(lambda L: L.GRU(2, use_bias=False), (None, 5, 7), id="gru-nobias"),
    pytest.param(lambda L: L.RNN(L.LSTMCell(3)), (None, 4, 5), id="rnn-lstmcell"),
    pytest.param(lambda L: L.RNN(L.GRUCell(3, reset_after=False)), (None, 4, 5), id="rnn-grucell"),
    pytest.param(
        lambda L: L.RNN(L.StackedRNNCells([L.SimpleRNNCell(3), L.LSTMCell(2), L.LSTMCell(5)])),
        (None, 4, 6),
        id="rnn-stacked",
    ),
    pytest.param(lambda L: L.RNN([L.GRUCell(2), L.SimpleRNNCell(4)]), (None, 4, 6), id="rnn-cell-list"),
    pytest.param(lambda L: L.ConvLSTM1D(3, 2), (None, 4, 8, 2), id="convlstm1d"),
    pytest.param(lambda L: L.ConvLSTM2D(2, (3, 2), use_bias=False), (None, 3, 6, 6, 3), id="convlstm2d"),
    pytest.param(
        lambda L: L.ConvLSTM2D(4, 3, data_format="channels_first"), (None, 3, 2, 6, 6), id="convlstm2d-cf"
    ),
    pytest.param(lambda L: L.ConvLSTM3D(2, 2), (None, 2, 4, 4, 4, 1), id="convlstm3d"),
    # Wrappers
    pytest.param(lambda L: L.Bidirectional(L.LSTM(3)), (None, 5, 4), id="bidi-lstm"),
    pytest.param(
        lambda L: L.Bidirectional(L.GRU(2, reset_after=False), merge_mode="sum"), (None, 5, 4), id="bidi-gru"
    ),
    pytest.param(
        lambda L: L.Bidirectional(L.LSTM(3), backward_layer=L.GRU(5, go_backwards=True)),
        (None, 5, 4),
        id="bidi-backward",
    ),
    pytest.param(lambda L: L.TimeDistributed(L.Dense(3)), (None, 4, 6), id="td-dense"),
    pytest.param(lambda L: L.TimeDistributed(L.Conv2D(2, 3)), (None, 3, 8, 8, 1), id="td-conv"),
    pytest.param(lambda L: L.TimeDistributed(L.BatchNormalization()), (None, 3, 5), id="td-bn"),
    pytest.param(lambda L: L.TimeDistributed(L.Bidirectional(L.SimpleRNN(2))), (None, 3, 4, 5), id="td-bidi"),
    # Attention (list inputs)
    pytest.param(lambda L: L.Attention(), [(None, 3, 4), (None, 5, 4)], id="attention"),
    pytest.param(lambda L: L.Attention(use_scale=True), [(None, 3, 4), (None, 5, 4)], id="attention-scale"),
    pytest.param(
        lambda L: L.Attention(use_scale=True, score_mode="concat"),
        [(None, 3, 4), (None, 5, 4), (None, 5, 4)],
        id="attention-concat",
    ),
    pytest.param(lambda L: L.Attention(score_mode="concat"), [(None, 3, 4), (None, 5, 4)], id="attention-c"),
    pytest.param(lambda L: L.AdditiveAttention(), [(None, 3, 4), (None, 5, 4)], id="additive"),
    pytest.param(
        lambda L: L.AdditiveAttention(use_scale=False), [(None, 3, 4), (None, 5, 4)], id="additive-ns"
    ),
    # Weightless
    pytest.param(lambda L: L.Activation("relu"), (None, 3), id="activation"),
    pytest.param(lambda L: L.Dropout(0.5), (None, 3), id="dropout"),
    pytest.param(lambda L: L.SpatialDropout2D(0.5), (None, 4, 4, 3), id="spatialdropout"),
    pytest.param(lambda L: L.GaussianNoise(0.1), (None, 3), id="gaussiannoise"),
    pytest.param(lambda L: L.MaxPooling2D(), (None, 4, 4, 3), id="maxpool"),
    pytest.param(lambda L: L.GlobalAveragePooling1D(), (None, 4, 3), id="gap"),
    pytest.param(lambda L: L.Flatten(), (None, 4, 3), id="flatten"),
    pytest.param(lambda L: L.Reshape((12,)), (None, 4, 3), id="reshape"),
    pytest.param(lambda L: L.ZeroPadding2D(), (None, 4, 4, 3), id="zeropad"),
    pytest.param(lambda L: L.UpSampling1D(), (None, 4, 3), id="upsampling"),
    pytest.param(lambda L: L.Add(), [(None, 3), (None, 3)], id="add"),
    pytest.param(lambda L: L.Concatenate(), [(None, 3), (None, 2)], id="concat"),
    pytest.param(lambda L: L.Dot(axes=1), [(None, 3), (None, 3)], id="dot"),
    pytest.param(lambda L: L.LeakyReLU(), (None, 3), id="leakyrelu"),
    pytest.param(lambda L: L.Rescaling(0.5), (None, 3), id="rescaling"),
    pytest.param(lambda L: L.Masking(), (None, 4, 3), id="masking"),
]

# Keras 3 only.
KERAS3: list[Any] = [
    pytest.param(lambda L: L.RMSNormalization(), (None, 5), id="rms"),
    pytest.param(lambda L: L.RMSNormalization(axis=[-1, 1]), (None, 3, 4), id="rms-axes"),
    pytest.param(lambda L: L.LayerNormalization(rms_scaling=True), (None, 3, 4), id="ln-rms"),
    pytest.param(lambda L: L.LayerNormalization(axis=[-1, 1]), (None, 3, 4, 5), id="ln-neg-axes"),
    pytest.param(lambda L: L.SpectralNormalization(L.Dense(3)), (None, 4), id="spectral-dense"),
    pytest.param(lambda L: L.SpectralNormalization(L.Conv2D(2, 3)), (None, 6, 6, 3), id="spectral-conv"),
    pytest.param(lambda L: L.SpectralNormalization(L.Embedding(9, 3)), (None, 4), id="spectral-embedding"),
    pytest.param(lambda L: L.Conv2D(3, 2, data_format="channels_first"), (None, 4, 6, 6), id="conv2d-cf"),
    pytest.param(lambda L: L.Identity(), (None, 3), id="identity"),
    pytest.param(lambda L: L.AdaptiveAveragePooling2D(2), (None, 4, 4, 3), id="adaptivepool"),
    pytest.param(lambda L: L.Attention(use_scale=True), [(None, 3, 4), (None, 5, 6)], id="attention-3in"),
    pytest.param(
        lambda L: L.AdditiveAttention(), [(None, 3, 4), (None, 5, 4), (None, 5, 4)], id="additive-k"
    ),
    pytest.param(lambda L: L.LSTM(3, stateful=True), (2, 4, 5), id="lstm-stateful"),
]

# tf_keras only.
KERAS2: list[Any] = [
    pytest.param(lambda L: L.BatchNormalization(axis=[1, 3]), (None, 3, 4, 5), id="bn-multiaxis"),
    pytest.param(lambda L: L.BatchNormalization(axis=[-1], renorm=True), (None, 4, 5), id="bn-renorm-list"),
    pytest.param(lambda L: L.LayerNormalization(axis=[2, 1]), (None, 3, 4, 5), id="ln-unsorted"),
    pytest.param(lambda L: L.Conv2D(3, 2, data_format="channels_first"), (None, 4, 6, 6), id="conv2d-cf"),
    pytest.param(lambda L: L.DepthwiseConv1D(2, depth_multiplier=3), (None, 6, 2), id="dw1d-mult"),
    pytest.param(lambda L: L.ThresholdedReLU(), (None, 3), id="thresholdedrelu"),
    pytest.param(
        lambda L: L.AdditiveAttention(), [(None, 3, 4), (None, 5, 4), (None, 5, 4)], id="additive-k"
    ),
]

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


@pytest.mark.parametrize("make, shape", BOTH + KERAS3)
def test_keras3(make: Factory, shape: Any) -> None:
    check(make, shape)


@pytest.mark.parametrize("make, shape", BOTH + KERAS2)
def test_keras2(make: Factory, shape: Any) -> None:
    check_keras2(make, shape)


MHA: list[Any] = [
    pytest.param(dict(num_heads=2, key_dim=3), [(None, 4, 6), (None, 5, 6)], id="self"),
    pytest.param(dict(num_heads=3, key_dim=2, value_dim=5), [(None, 4, 6), (None, 5, 7)], id="value-dim"),
    pytest.param(dict(num_heads=2, key_dim=4), [(None, 4, 6), (None, 5, 7), (None, 5, 3)], id="key"),
    pytest.param(dict(num_heads=1, key_dim=2, use_bias=False), [(None, 4, 6), (None, 4, 6)], id="nobias"),
    pytest.param(dict(num_heads=2, key_dim=3, output_shape=8), [(None, 4, 6), (None, 5, 6)], id="out-int"),
    pytest.param(
        dict(num_heads=2, key_dim=3, output_shape=(2, 5)), [(None, 4, 6), (None, 5, 6)], id="out-2d"
    ),
    pytest.param(
        dict(num_heads=2, key_dim=3, attention_axes=(1, 2)), [(None, 3, 4, 6), (None, 3, 4, 5)], id="rank4"
    ),
]


@pytest.mark.parametrize("kwargs, shapes", MHA)
def test_multi_head_attention(kwargs: dict, shapes: list) -> None:
    check(lambda L: L.MultiHeadAttention(**kwargs), *shapes)
    extra = dict(zip(["value", "key"], shapes[1:], strict=False))  # tf_keras: value/key by keyword
    check_keras2(lambda L: L.MultiHeadAttention(**kwargs), shapes[0], **extra)


def test_multi_head_attention_gate() -> None:
    check(lambda L: L.MultiHeadAttention(2, 3, use_gate=True, value_dim=4), (None, 4, 6), (None, 5, 7))


@pytest.mark.parametrize("use_bias, use_gate", [(True, False), (False, True)])
def test_grouped_query_attention(use_bias: bool, use_gate: bool) -> None:
    import keras

    if "use_gate" not in keras.layers.GroupQueryAttention.__init__.__code__.co_varnames:
        use_gate = False
    check(
        lambda L: L.GroupQueryAttention(4, 4, 2, use_bias=use_bias, use_gate=use_gate) if use_gate
        else L.GroupQueryAttention(4, 4, 2, use_bias=use_bias),
        (None, 5, 8),
        (None, 6, 8),
    )  # fmt: skip


def test_list_and_tuple_inputs() -> None:
    """A bare shape or list of shapes works as well as a Call."""
    import keras

    layer = keras.layers.MultiHeadAttention(2, 3)
    layer(keras.Input(batch_shape=(None, 4, 6)), keras.Input(batch_shape=(None, 5, 7)))
    got = expected_weights("MultiHeadAttention", stored_config(layer), [(None, 4, 6), (None, 5, 7)])
    assert _got(got) == _actual(layer)
    dense = keras.layers.Dense(3)
    dense(keras.Input(batch_shape=(None, 2)))
    assert _got(expected_weights("Dense", stored_config(dense), (None, 2))) == _actual(dense)


# --- full names against a saved Keras 3 file -----------------------------------------------------------


def test_names_match_keras3_file(tmp_path: Any) -> None:
    """Expected names are the Keras 3 storage paths: ``<name prefix>/vars/<index within prefix>``."""
    import h5py
    import keras

    from kinspect.loaders.assemble import to_snake_case

    inp = keras.Input(batch_shape=(None, 5, 8))
    layers = [
        keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True)),
        keras.layers.TimeDistributed(keras.layers.Dense(4)),
        keras.layers.TimeDistributed(keras.layers.Bidirectional(keras.layers.GRU(2), merge_mode="sum")),
        keras.layers.RNN(keras.layers.StackedRNNCells([keras.layers.GRUCell(3), keras.layers.GRUCell(2)])),
        keras.layers.LSTM(2, return_sequences=True),
        keras.layers.DepthwiseConv1D(2),
        keras.layers.SpectralNormalization(keras.layers.Dense(3)),
        keras.layers.BatchNormalization(renorm=True),
    ]
    x = layers[1](layers[0](inp))
    outputs = [layers[3](x), layers[4](x), layers[5](x), layers[6](x), layers[7](x)]
    mha = keras.layers.MultiHeadAttention(2, 3, use_gate=True)
    gqa = keras.layers.GroupQueryAttention(3, 3, 1)
    outputs += [mha(x, x), gqa(x, x), layers[2](keras.layers.Reshape((5, 2, 2))(x))]
    model = keras.Model(inp, outputs)
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    stored: dict[str, tuple[int, ...]] = {}
    with h5py.File(path) as f:
        f.visititems(lambda n, o: stored.__setitem__(n, o.shape) if isinstance(o, h5py.Dataset) else None)
    seen: dict[str, int] = {}
    checked = 0
    for layer in model.layers:
        base = to_snake_case(type(layer).__name__)
        seen[base] = seen.get(base, -1) + 1
        key = base if seen[base] == 0 else f"{base}_{seen[base]}"
        node = layer._inbound_nodes[0]
        shapes = [tuple(t.shape) for t in node.arguments.keras_tensors]
        got = expected_weights(type(layer).__name__, stored_config(layer), Call(tuple(shapes)))
        assert got is not None, layer.name
        index: dict[str, int] = {}
        if isinstance(layer, keras.layers.SpectralNormalization):
            # Its kernel is its own variable and its wrapped layer's: stored twice, listed once.
            assert stored.pop(f"layers/{key}/layer/vars/0") == got[0].shape
            index["layer"] = 0
        for w in got:
            prefix = w.name.rpartition("/")[0]
            index[prefix] = index.get(prefix, -1) + 1
            where = "/".join(p for p in ("layers", key, prefix, "vars", str(index[prefix])) if p)
            assert stored.pop(where) == w.shape, where
            checked += 1
    assert not stored, f"stored but not expected: {sorted(stored)}"
    assert checked > 40


# --- what is refused ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "class_name, config, shape",
    [
        ("MyLayer", {}, (None, 3)),
        ("Lambda", {"function": "x"}, (None, 3)),
        ("Dense", {"units": 3}, (None, None)),  # unknown input dim
        ("Dense", {"units": 3, "lora_rank": 2}, (None, 4)),  # stored layout differs from layer.weights
        ("Dense", {"units": 3, "dtype": {"class_name": "QuantizedDTypePolicy", "config": {}}}, (None, 4)),
        ("Dense", {"units": "three"}, (None, 4)),
        ("Conv2D", {"filters": 2, "kernel_size": 3}, (None, 5, 5)),  # wrong rank
        ("GRU", {"units": 2}, (None, 4, 3)),  # reset_after default changed between versions
        ("BatchNormalization", {"axis": [3], "virtual_batch_size": 2}, (None, 4, 4, 3)),
        ("TimeDistributed", {"layer": {"class_name": "Dense", "module": "mypkg", "config": {"units": 2}}},
         (None, 3, 4)),
        ("Bidirectional", {"layer": {"class_name": "Custom", "config": {}}}, (None, 3, 4)),
        ("PReLU", {}, (None, None, 3)),
        ("EinsumDense", {"equation": "nonsense", "output_shape": 3}, (None, 4)),
    ],
)  # fmt: skip
def test_unknown_gives_none(class_name: str, config: dict, shape: Any) -> None:
    assert expected_weights(class_name, config, shape) is None


def test_covered() -> None:
    assert covered("Dense") and covered("Flatten") and not covered("MyLayer")
    assert expected_weights("Flatten", {}, (None, 3)) == []


def test_frozen_layer_keeps_variable_roles() -> None:
    """``trainable`` is the variable's own flag; Keras marks all of a frozen layer's weights
    non-trainable, which the caller applies from the layer's config."""
    import keras

    layer = keras.layers.BatchNormalization(trainable=False)
    layer(keras.Input(batch_shape=(None, 3)))
    got = expected_weights("BatchNormalization", stored_config(layer), (None, 3))
    assert got is not None
    assert [w.trainable for w in got] == [True, True, False, False]
    assert not any(v.trainable for v in layer.weights)


@pytest.mark.parametrize("cls", ["CuDNNLSTM", "CuDNNGRU"])
def test_cudnn_rnn_keras2(cls: str) -> None:
    """TF 1-era cuDNN layers (tf_keras/src/layers/rnn/cudnn_*.py) keep their weights themselves."""
    from tf_keras.src.layers.rnn import cudnn_gru, cudnn_lstm

    layer_cls = {"CuDNNLSTM": cudnn_lstm.CuDNNLSTM, "CuDNNGRU": cudnn_gru.CuDNNGRU}[cls]
    check_keras2(lambda L: layer_cls(3, return_sequences=True), (None, 4, 5))
