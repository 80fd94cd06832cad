"""Keras 3 ops in functional models against Keras's own symbolic shapes.

Each case builds a functional model whose last node is the op under test,
serializes it the way a .keras file stores it, rebuilds the op's ``Call`` from
the stored inbound node and compares kinspect's ``ops.<ClassName>`` rule with
the output shape Keras computed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from kinspect.catalog import Call, ShapeUnknown, infer


def stored_value(value: Any) -> Any:
    """A stored call argument with every ``__keras_tensor__`` replaced by its shape."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return tuple(value["config"]["shape"])
    if isinstance(value, list):
        return [stored_value(v) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: stored_value(v) for k, v in value.items()}
    return value


def node_call(node: dict[str, Any]) -> Call:
    return Call(
        tuple(stored_value(a) for a in node["args"]), {k: stored_value(v) for k, v in node["kwargs"].items()}
    )


def _shape(tensor: Any) -> tuple:
    return tuple(tensor.shape)


def check_op(fn: Callable[..., Any], *inputs: Any, op: str | None = None) -> None:
    """Build ``fn`` on symbolic inputs (a shape, or a (shape, dtype) pair), compare the last op."""
    import keras

    tensors = []
    for spec in inputs:
        shape, dtype = spec if isinstance(spec, list) else (spec, "float32")
        tensors.append(keras.Input(batch_shape=shape, dtype=dtype))
    out = fn(*tensors)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    model = keras.Model(tensors, outs)
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))["config"]
    name = config["output_layers"][0][0]
    entry = next(e for e in config["layers"] if e["name"] == name)
    if op is not None:
        assert entry["class_name"] == op
    got = infer("ops." + entry["class_name"], entry["config"], node_call(entry["inbound_nodes"][0]))
    if isinstance(out, (list, tuple)):
        assert [tuple(s) for s in got] == [_shape(t) for t in out], (entry, got)
    else:
        assert got == _shape(out), (entry, got)


def _k() -> Any:
    import keras

    return keras.ops


X = (None, 3, 4)
INT = [(None, 3), "int32"]

BINARY = [
    ("add_scalar", lambda x: x + 1.0, [X], "Add"),
    ("radd_scalar", lambda x: 2.0 - x, [X], "Subtract"),
    ("mul_bcast", lambda x, y: x * y, [X, (None, 4)], "Multiply"),
    ("div_bcast", lambda x, y: x / y, [(None, 1, 4), (None, 3, 1)], "TrueDivide"),
    ("floordiv", lambda x: x // 2, [X], "FloorDivide"),
    ("mod", lambda x: x % 3, [X], "Mod"),
    ("pow", lambda x: x**2, [X], "Power"),
    ("max_none_merge", lambda x, y: _k().maximum(x, y), [(None, None, 4), (None, 3, 4)], "Maximum"),
    ("min_scalar", lambda x: _k().minimum(x, 0.0), [X], "Minimum"),
    ("eq", lambda x, y: _k().equal(x, y), [(None, 1), (None, 5)], "Equal"),
    ("ne", lambda x, y: x != y, [(None, 5), (1, 5)], "NotEqual"),
    ("gt", lambda x: x > 0, [X], "Greater"),
    ("ge", lambda x, y: x >= y, [(2, 3), (3,)], "GreaterEqual"),
    ("lt", lambda x, y: x < y, [(None, 1, 1), (None, 4)], "Less"),
    ("le", lambda x, y: x <= y, [(None, 3), (None, 3)], "LessEqual"),
    ("logical_and", lambda x, y: _k().logical_and(x > 0, y > 0), [X, (4,)], "LogicalAnd"),
    ("logical_or", lambda x, y: _k().logical_or(x > 0, y > 0), [X, (None, 3, 1)], "LogicalOr"),
    ("divide", lambda x, y: _k().divide(x, y), [X, (1, 4)], "Divide"),
    ("divide_no_nan", lambda x, y: _k().divide_no_nan(x, y), [X, X], "DivideNoNan"),
    ("subtract", lambda x, y: _k().subtract(x, y), [(None, 8), (8,)], "Subtract"),
    ("power_t", lambda x, y: _k().power(x, y), [(None, 2, 1), (5,)], "Power"),
    ("arctan2", lambda x, y: _k().arctan2(x, y), [X, X], "Arctan2"),
    ("hypot", lambda x, y: _k().hypot(x, y), [X, (None, 1, 4)], "Hypot"),
    ("logaddexp", lambda x, y: _k().logaddexp(x, y), [X, (4,)], "Logaddexp"),
    ("numpy_const", lambda x: x + np.ones((4,), "float32"), [X], "Add"),
    ("numpy_const_rank_up", lambda x: x * np.ones((2, 1, 1, 1), "float32"), [X], "Multiply"),
    ("isclose", lambda x, y: _k().isclose(x, y), [X, (None, 1, 4)], "Isclose"),
    ("where", lambda x: _k().where(x > 0, x, 0.0), [X], "Where"),
    ("where_bcast", lambda c, x, y: _k().where(c > 0, x, y), [(None, 3, 1), (None, 1, 4), (4,)], "Where"),
]

UNARY = [
    ("abs", lambda x: abs(x), "Absolute"),
    ("neg", lambda x: -x, "Negative"),
    ("exp", lambda x: _k().exp(x), "Exp"),
    ("log", lambda x: _k().log(x), "Log"),
    ("sqrt", lambda x: _k().sqrt(x), "Sqrt"),
    ("square", lambda x: _k().square(x), "Square"),
    ("floor", lambda x: _k().floor(x), "Floor"),
    ("round", lambda x: _k().round(x), "Round"),
    ("sign", lambda x: _k().sign(x), "Sign"),
    ("clip", lambda x: _k().clip(x, 0.0, 1.0), "Clip"),
    ("cast", lambda x: _k().cast(x, "int32"), "Cast"),
    ("ones_like", lambda x: _k().ones_like(x), "OnesLike"),
    ("zeros_like", lambda x: _k().zeros_like(x), "ZerosLike"),
    ("stop_gradient", lambda x: _k().stop_gradient(x), "StopGradient"),
    ("logical_not", lambda x: _k().logical_not(x > 0), "LogicalNot"),
    ("isnan", lambda x: _k().isnan(x), "Isnan"),
    ("tanh", lambda x: _k().tanh(x), "Tanh"),
    ("triu", lambda x: _k().triu(x), "Triu"),
    ("flip", lambda x: _k().flip(x, axis=1), "Flip"),
    ("roll", lambda x: _k().roll(x, 1, axis=1), "Roll"),
    ("relu", lambda x: _k().relu(x), "Relu"),
    ("relu6", lambda x: _k().relu6(x), "Relu6"),
    ("sigmoid", lambda x: _k().sigmoid(x), "Sigmoid"),
    ("silu", lambda x: _k().silu(x), "Silu"),
    ("gelu", lambda x: _k().gelu(x, approximate=False), "Gelu"),
    ("leaky_relu", lambda x: _k().leaky_relu(x, 0.1), "LeakyRelu"),
    ("elu", lambda x: _k().elu(x), "Elu"),
    ("softplus", lambda x: _k().softplus(x), "Softplus"),
    ("softmax", lambda x: _k().softmax(x, axis=1), "Softmax"),
    ("log_softmax", lambda x: _k().log_softmax(x), "LogSoftmax"),
    ("normalize", lambda x: _k().normalize(x, axis=-1), "Normalize"),
    ("rms_norm", lambda x: _k().rms_normalization(x), "RMSNorm"),
    ("rsqrt", lambda x: _k().rsqrt(x), "Rsqrt"),
    ("erf", lambda x: _k().erf(x), "Erf"),
]

REDUCE = [
    ("mean_axis1", lambda x: _k().mean(x, axis=1), "Mean"),
    ("mean_keep", lambda x: _k().mean(x, axis=1, keepdims=True), "Mean"),
    ("sum_all", lambda x: _k().sum(x), "Sum"),
    ("sum_all_keep", lambda x: _k().sum(x, keepdims=True), "Sum"),
    ("sum_tuple", lambda x: _k().sum(x, axis=(1, 2)), "Sum"),
    ("max_neg_keep", lambda x: _k().max(x, axis=-1, keepdims=True), "Max"),
    ("min", lambda x: _k().min(x, axis=[0, -1]), "Min"),
    ("prod", lambda x: _k().prod(x, axis=2), "Prod"),
    ("std", lambda x: _k().std(x, axis=1), "Std"),
    ("var_keep", lambda x: _k().var(x, axis=-2, keepdims=True), "Var"),
    ("argmax", lambda x: _k().argmax(x, axis=-1), "Argmax"),
    ("argmax_none", lambda x: _k().argmax(x), "Argmax"),
    ("argmin_keep", lambda x: _k().argmin(x, axis=1, keepdims=True), "Argmin"),
    ("all", lambda x: _k().all(x > 0, axis=1), "All"),
    ("any_keep", lambda x: _k().any(x > 0, axis=None, keepdims=True), "Any"),
    ("amax", lambda x: _k().amax(x, axis=1), "Amax"),
    ("logsumexp", lambda x: _k().logsumexp(x, axis=-1), "Logsumexp"),
    ("median", lambda x: _k().median(x, axis=1), "Median"),
    ("count_nonzero", lambda x: _k().count_nonzero(x, axis=2), "CountNonzero"),
    ("cumsum", lambda x: _k().cumsum(x, axis=1), "Cumsum"),
    ("cumsum_flat", lambda x: _k().cumsum(x), "Cumsum"),
    ("cumprod", lambda x: _k().cumprod(x, axis=-1), "Cumprod"),
    ("sort", lambda x: _k().sort(x, axis=1), "Sort"),
    ("argsort", lambda x: _k().argsort(x), "Argsort"),
]


@pytest.mark.parametrize("fn,inputs,op", [c[1:] for c in BINARY], ids=[c[0] for c in BINARY])
def test_binary(fn: Callable[..., Any], inputs: list, op: str) -> None:
    check_op(fn, *inputs, op=op)


@pytest.mark.parametrize("shape", [X, (2, 5), (None, None, 8, 3)])
@pytest.mark.parametrize("fn,op", [c[1:] for c in UNARY], ids=[c[0] for c in UNARY])
def test_unary(fn: Callable[..., Any], op: str, shape: tuple) -> None:
    check_op(fn, shape, op=op)


@pytest.mark.parametrize("shape", [X, (2, 5, 6)])
@pytest.mark.parametrize("fn,op", [c[1:] for c in REDUCE], ids=[c[0] for c in REDUCE])
def test_reduction(fn: Callable[..., Any], op: str, shape: tuple) -> None:
    check_op(fn, shape, op=op)


SHAPE_OPS = [
    ("reshape", lambda x: _k().reshape(x, (-1, 12)), [X], "Reshape"),
    ("reshape_batch_none", lambda x: _k().reshape(x, (x.shape[0], -1)), [X], "Reshape"),
    ("reshape_fixed", lambda x: _k().reshape(x, (2, -1, 2)), [(2, 3, 4)], "Reshape"),
    ("reshape_full", lambda x: _k().reshape(x, (4, 6)), [(2, 3, 4)], "Reshape"),
    ("reshape_flat", lambda x: _k().reshape(x, (-1,)), [X], "Reshape"),
    ("transpose", lambda x: _k().transpose(x, (0, 2, 1)), [X], "Transpose"),
    ("transpose_default", lambda x: _k().transpose(x), [X], "Transpose"),
    ("transpose_neg", lambda x: _k().transpose(x, (0, -1, 1)), [X], "Transpose"),
    ("expand_dims", lambda x: _k().expand_dims(x, 1), [X], "ExpandDims"),
    ("expand_dims_neg", lambda x: _k().expand_dims(x, -1), [X], "ExpandDims"),
    ("expand_dims_multi", lambda x: _k().expand_dims(x, (0, 2)), [X], "ExpandDims"),
    ("squeeze_axis", lambda x: _k().squeeze(x, axis=1), [(None, 1, 4)], "Squeeze"),
    ("squeeze_all", lambda x: _k().squeeze(x), [(None, 1, 4, 1)], "Squeeze"),
    ("squeeze_neg_list", lambda x: _k().squeeze(x, axis=[1, -1]), [(2, 1, 4, 1)], "Squeeze"),
    ("concat_last", lambda x, y: _k().concatenate([x, y], axis=-1), [X, (None, 3, 2)], "Concatenate"),
    ("concat_mid", lambda x, y: _k().concatenate([x, y, x], axis=1), [X, (None, 5, 4)], "Concatenate"),
    ("concat_default", lambda x, y: _k().concatenate([x, y]), [(2, 4), (3, 4)], "Concatenate"),
    ("concat_none", lambda x, y: _k().concatenate([x, y], axis=1), [(None, 3), (None, None)], "Concatenate"),
    ("concat_merge", lambda x, y: _k().concatenate([x, y], axis=-1), [(None, None, 3), (None, 5, 2)], None),
    ("stack0", lambda x, y: _k().stack([x, y]), [X, X], "Stack"),
    ("stack1", lambda x, y: _k().stack([x, y, x], axis=1), [X, X], "Stack"),
    ("stack_neg", lambda x, y: _k().stack([x, y], axis=-1), [X, X], "Stack"),
    ("unstack", lambda x: _k().unstack(x, axis=1), [X], "Unstack"),
    ("split_even", lambda x: _k().split(x, 2, axis=-1), [X], "Split"),
    ("split_indices", lambda x: _k().split(x, [1, 3], axis=2), [X], "Split"),
    ("split_none", lambda x: _k().split(x, 2, axis=0), [X], "Split"),
    ("split_indices_none", lambda x: _k().split(x, [1], axis=1), [(2, None, 3)], "Split"),
    ("tile", lambda x: _k().tile(x, (1, 2, 3)), [X], "Tile"),
    ("tile_short", lambda x: _k().tile(x, 2), [X], "Tile"),
    ("tile_long", lambda x: _k().tile(x, (2, 1, 1, 1)), [X], "Tile"),
    ("repeat_axis", lambda x: _k().repeat(x, 3, axis=1), [X], "Repeat"),
    ("repeat_list", lambda x: _k().repeat(x, [1, 2, 3], axis=1), [X], "Repeat"),
    ("repeat_flat", lambda x: _k().repeat(x, 2), [(2, 3)], "Repeat"),
    ("repeat_flat_none", lambda x: _k().repeat(x, 2), [X], "Repeat"),
    ("swapaxes", lambda x: _k().swapaxes(x, 1, -1), [X], "Swapaxes"),
    ("moveaxis", lambda x: _k().moveaxis(x, 1, -1), [(None, 3, 4, 5)], "Moveaxis"),
    ("moveaxis_multi", lambda x: _k().moveaxis(x, [1, 2], [3, 0]), [(None, 3, 4, 5)], "Moveaxis"),
    ("pad", lambda x: _k().pad(x, [[0, 0], [1, 2], [3, 4]]), [X], "Pad"),
    ("pad_int", lambda x: _k().pad(x, 2), [(2, 3)], "Pad"),
    ("pad_pair", lambda x: _k().pad(x, (1, 2)), [(2, 3)], "Pad"),
    ("broadcast_to", lambda x: _k().broadcast_to(x, (2, 3, 4)), [(3, 1)], "BroadcastTo"),
    ("take_axis", lambda x, i: _k().take(x, i, axis=1), [X, INT], "Take"),
    ("take_flat", lambda x, i: _k().take(x, i), [X, INT], "Take"),
    ("take_along", lambda x, i: _k().take_along_axis(x, i, axis=1), [X, [(None, 2, 1), "int32"]], None),
    ("one_hot", lambda i: _k().one_hot(i, 5), [INT], "OneHot"),
    ("one_hot_axis", lambda i: _k().one_hot(i, 5, axis=1), [INT], "OneHot"),
    ("multi_hot", lambda i: _k().multi_hot(i, 7), [INT], "MultiHot"),
    ("matmul", lambda x, y: x @ y, [X, (None, 4, 5)], "Matmul"),
    ("matmul_bcast", lambda x, y: _k().matmul(x, y), [X, (4, 5)], "Matmul"),
    ("matmul_vec", lambda x, y: _k().matmul(x, y), [X, (4,)], "Matmul"),
    ("matmul_vec_left", lambda x, y: _k().matmul(x, y), [(3,), (None, 3, 5)], "Matmul"),
    ("dot", lambda x, y: _k().dot(x, y), [X, (4, 6)], "Dot"),
    ("dot_vec", lambda x, y: _k().dot(x, y), [X, (4,)], "Dot"),
    ("tensordot", lambda x, y: _k().tensordot(x, y, axes=1), [X, (4, 6)], "Tensordot"),
    ("tensordot_pairs", lambda x, y: _k().tensordot(x, y, axes=([2], [0])), [X, (4, 6)], "Tensordot"),
    ("einsum_batch", lambda x, y: _k().einsum("bij,bj->bi", x, y), [X, (None, 4)], "Einsum"),
    ("einsum_implicit", lambda x, y: _k().einsum("bij,jk", x, y), [X, (4, 6)], "Einsum"),
    ("einsum_ellipsis", lambda x, y: _k().einsum("...ij,jk->...ik", x, y), [X, (4, 6)], "Einsum"),
    (
        "einsum_attention",
        lambda q, k: _k().einsum("bqhd,bkhd->bhqk", q, k),
        [(None, 5, 2, 8), (None, 7, 2, 8)],
        None,
    ),
    ("einsum_outer", lambda x, y: _k().einsum("bi,bj->bij", x, y), [(None, 3), (None, 4)], "Einsum"),
    ("top_k", lambda x: _k().top_k(x, 2), [X], "TopK"),
    ("glu", lambda x: _k().glu(x), [X], "Glu"),
    ("diff", lambda x: _k().diff(x, n=2, axis=1), [X], "Diff"),
    ("ravel", lambda x: _k().ravel(x), [(2, 3, 4)], "Ravel"),
    ("ravel_none", lambda x: _k().ravel(x), [X], "Ravel"),
    ("average", lambda x: _k().average(x, axis=1), [X], "Average"),
    ("average_all", lambda x: _k().average(x), [X], "Average"),
    ("average_weights", lambda x, w: _k().average(x, axis=-1, weights=w), [X, (4,)], "Average"),
    ("slice", lambda x: _k().slice(x, [0, 1, 0], [-1, 2, -1]), [X], "Slice"),
    ("slice_fixed", lambda x: _k().slice(x, [0, 1, 1], [2, -1, -1]), [(4, 3, 4)], "Slice"),
    ("slice_dynamic", lambda x, i: _k().slice(x, i, [-1, -1]), [(2, 5), [(2,), "int32"]], "Slice"),
    ("moments", lambda x: _k().moments(x, axes=[1]), [X], "Moments"),
    ("moments_keep", lambda x: _k().moments(x, axes=[0, 1], keepdims=True), [X], "Moments"),
]


@pytest.mark.parametrize("fn,inputs,op", [c[1:] for c in SHAPE_OPS], ids=[c[0] for c in SHAPE_OPS])
def test_shape_ops(fn: Callable[..., Any], inputs: list, op: str | None) -> None:
    check_op(fn, *inputs, op=op)


GETITEM = [
    ("int", lambda x: x[:, 0]),
    ("slice", lambda x: x[:, 1:3]),
    ("newaxis", lambda x: x[..., None]),
    ("neg_int", lambda x: x[:, -1, 2]),
    ("step", lambda x: x[..., ::2]),
    ("ellipsis_newaxis_step", lambda x: x[..., None, ::2]),
    ("batch_int", lambda x: x[0]),
    ("newaxis_mid", lambda x: x[:, None, :, 1]),
    ("newaxis_lead", lambda x: x[None, :]),
    ("reverse", lambda x: x[:, ::-1]),
    ("neg_step", lambda x: x[:, 5:0:-2]),
    ("empty", lambda x: x[:, :, 10:]),
    ("neg_slice", lambda x: x[:, -2:]),
    ("ellipsis_mid", lambda x: x[0, ..., 1]),
    ("batch_slice", lambda x: x[1:3, 1]),
]


@pytest.mark.parametrize("shape", [X, (4, 6, 5), (None, None, 8)])
@pytest.mark.parametrize("fn", [c[1] for c in GETITEM], ids=[c[0] for c in GETITEM])
def test_getitem(fn: Callable[..., Any], shape: tuple) -> None:
    check_op(fn, shape, op="GetItem")


def test_getitem_single_slice_key_is_rejected_by_keras() -> None:
    """Keras's GetItem only takes an int, tuple or list key; kinspect agrees."""
    import keras

    with pytest.raises(ValueError):
        keras.Input((3,))[1:]
    stored = {"class_name": "__slice__", "config": {"start": 1, "stop": None, "step": None}}
    with pytest.raises(ShapeUnknown):
        infer("ops.GetItem", {"name": "get_item"}, Call(((None, 3), stored)))


def test_call_values_as_python_objects() -> None:
    """A loader may decode slices and numpy constants itself; the rules accept both forms."""
    assert infer(
        "ops.GetItem", {}, Call(((None, 6, 4), (slice(None), slice(1, None, 2), None, Ellipsis)))
    ) == (
        None,
        3,
        1,
        4,
    )
    const = {"class_name": "__numpy__", "config": {"value": [[1.0], [2.0]], "dtype": "float32"}}
    assert infer("ops.Add", {}, Call(((None, 1, 3), const))) == (None, 2, 3)


@pytest.mark.parametrize(
    "name,config,args",
    [
        ("ops.Add", {}, (1.0, 2.0)),
        ("ops.Add", {}, ((None, 3), (None, 4))),
        ("ops.Add", {}, ((None, 3), {"class_name": "__weird__"})),
        ("ops.Mean", {"axis": 3}, ((None, 3),)),
        ("ops.Mean", {"axis": "1"}, ((None, 3),)),
        ("ops.Reshape", {"newshape": [-1, -1]}, ((None, 3),)),
        ("ops.Reshape", {"newshape": [5]}, ((2, 3),)),
        ("ops.Transpose", {"axes": [0, 0]}, ((None, 3),)),
        ("ops.Squeeze", {"axis": 1}, ((None, 3),)),
        ("ops.Concatenate", {"axis": 1}, ([(None, 3), (None, 4, 1)],)),
        ("ops.Concatenate", {"axis": 1}, ((None, 3),)),
        ("ops.GetItem", {}, ((None, 3), [0, 0, 0])),
        ("ops.GetItem", {}, ((None, 3), [slice(None), 5])),
        ("ops.GetItem", {}, ((None, 3), [Ellipsis, Ellipsis])),
        ("ops.Einsum", {"subscripts": "ij,jk->ik"}, ((None, 3),)),
        ("ops.Einsum", {"subscripts": "ijk->i"}, ((None, 3),)),
        ("ops.Matmul", {}, ((None, 3), (4, 5))),
        ("ops.Split", {"indices_or_sections": 2, "axis": 1}, ((None, 3),)),
        ("ops.Unstack", {"axis": 0}, ((None, 3),)),
        ("ops.TopK", {"k": "2"}, ((None, 3),)),
        ("ops.Relu", {}, ()),
    ],
)
def test_bad_inputs_are_unknown(name: str, config: dict, args: tuple) -> None:
    with pytest.raises(ShapeUnknown):
        infer(name, config, Call(args))
