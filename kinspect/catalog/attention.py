"""Attention layers (keras/src/layers/attention/): shape rules and expected weights.

Keras 3 answers symbolic calls from ``compute_output_spec``; tf.keras 2 runs the layer's
``call`` on placeholders. For MultiHeadAttention's scores the two disagree, so that rule needs
to know which Keras wrote the config, and gives up when it cannot tell and the answers differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kinspect.catalog.common import call_arg, flag, integer, prefixed, untuple, variable
from kinspect.catalog.registry import (
    Call,
    Cost,
    CostRule,
    Expected,
    Shape,
    ShapeTree,
    ShapeUnknown,
    Unknown,
    as_shape,
    cost,
    elements,
    is_shape,
    keras_major,
    rule,
    weights,
)

# Keys only tf.keras 2's MultiHeadAttention.get_config writes, and keys only Keras 3's writes.
_KERAS2_MHA_KEYS = ("query_shape", "key_shape", "value_shape", "softmax_robust_masking")
_KERAS3_MHA_KEYS = ("seed", "use_gate", "sliding_window")


def _tensor(call: Call, name: str, position: int) -> Shape:
    value = call_arg(call, name, position)
    if not is_shape(value) or not value:
        raise ShapeUnknown(f"{name} is not a tensor of rank >= 1: {value!r}")
    return value


def _flag(call: Call, name: str, position: int | None = None) -> bool:
    value = call_arg(call, name, position, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ShapeUnknown(f"{name}={value!r} is not a boolean")
    return value


def _pick(major: int | None, keras2: ShapeTree, keras3: ShapeTree) -> ShapeTree:
    """The answer for the Keras that wrote the config; unknown when unsure and they differ."""
    if major == 2 or (major is None and keras2 == keras3):
        return keras2
    if major == 3:
        return keras3
    raise ShapeUnknown("scores shape differs between Keras 2 and 3; the config's Keras version is unclear")


@rule("Attention", "AdditiveAttention")
def dot_attention(config: Mapping[str, Any], call: Call) -> ShapeTree:
    """attention/attention.py: called on ``[query, value]`` or ``[query, value, key]``.

    Output ``(*query[:-1], value[-1])``; scores ``(*query[:-1], key[-2])``.
    """
    inputs = call_arg(call, "inputs", 0)
    if not isinstance(inputs, (list, tuple)) or is_shape(inputs) or not 2 <= len(inputs) <= 3:
        raise ShapeUnknown("Attention expects a list [query, value] or [query, value, key]")
    if not all(is_shape(s) and len(s) >= 2 for s in inputs):
        raise ShapeUnknown("Attention inputs must be tensors of rank >= 2")
    query, value = inputs[0], inputs[1]
    key = inputs[2] if len(inputs) > 2 else value
    output = (*query[:-1], value[-1])
    if _flag(call, "return_attention_scores", 3):
        return [output, (*query[:-1], key[-2])]
    return output


@weights("Attention")
def dot_attention_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/attention/attention.py ``build``: scalar ``scale`` (use_scale) and
    scalar ``concat_score_weight`` (score_mode "concat")."""
    out = [variable("scale", ())] if flag(config, "use_scale", False) else []
    if config.get("score_mode", "dot") == "concat":
        out.append(variable("concat_score_weight", ()))
    return out


@weights("AdditiveAttention")
def additive_attention_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/attention/additive_attention.py ``build``: ``scale`` (dim,) when
    use_scale, dim being the query's last axis (Keras 3) or the value's (tf_keras)."""
    if not flag(config, "use_scale", True):
        return []
    query, value, _ = _weights_inputs(call)
    if query[-1] != value[-1] and major is None:
        raise Unknown("query and value dims differ and the Keras version is unknown")
    return [variable("scale", (value[-1] if major == 2 else query[-1],))]


def _mha_output(config: Mapping[str, Any], query: Shape) -> Shape:
    """``output_shape`` (int or tuple) replaces the query's last axis, else it is kept."""
    output_shape = config.get("output_shape")
    if not output_shape:
        return query
    if isinstance(output_shape, int) and not isinstance(output_shape, bool):
        return (*query[:-1], output_shape)
    return (*query[:-1], *as_shape(output_shape))


def _mha_keras2_scores(config: Mapping[str, Any], query: Shape, key: Shape, heads: int) -> Shape:
    """tf.keras 2's real scores shape: the einsum of ``_build_attention_equation`` on the
    projected query/key ``(..., num_heads, key_dim)`` (tf_keras multi_head_attention.py)."""
    rank = len(query) + 1
    axes = config.get("attention_axes")
    if axes is None:
        axes = list(range(1, rank - 2))
    elif isinstance(axes, int):
        axes = [axes]
    if not isinstance(axes, (list, tuple)) or not all(isinstance(a, int) and -rank <= a < rank for a in axes):
        raise ShapeUnknown(f"attention_axes {axes!r} do not fit a rank-{len(query)} query")
    axes = [a % rank for a in axes]
    q = (*query[:-1], heads, None)
    k = (*key[:-1], heads, None)
    batch_dims = [i for i in range(rank) if i not in axes and i != rank - 1]
    return (*(q[i] for i in batch_dims), *(q[a] for a in axes), *(k[a] for a in axes))


def _query_value_key(call: Call) -> tuple[Shape, Shape, Shape | None]:
    """``query, value, key`` from positional args or keywords (Keras 2 passes value/key as kwargs).

    Positional arguments after ``key`` are refused: Keras 2 and 3 order them differently.
    """
    if len(call.args) > 3:
        raise ShapeUnknown("attention layer called with more than three positional arguments")
    key = _tensor(call, "key", 2) if call_arg(call, "key", 2) is not None else None
    return _tensor(call, "query", 0), _tensor(call, "value", 1), key


@rule("MultiHeadAttention")
def multi_head_attention(config: Mapping[str, Any], call: Call) -> ShapeTree:
    """attention/multi_head_attention.py ``compute_output_spec``.

    Keras 3 reports scores as ``(batch, num_heads, Tq, Tq)`` (the query length twice, whatever
    the key's length or ``attention_axes``); tf.keras 2 gives the real einsum shape.
    """
    query, value, key = _query_value_key(call)
    major = call.keras_major
    if major is None:  # sniff the config: version-specific keys, else the dtype policy
        if any(k in config for k in _KERAS2_MHA_KEYS):
            major = 2
        elif any(k in config for k in _KERAS3_MHA_KEYS):
            major = 3
        else:
            major = keras_major(config)
    heads = config["num_heads"]
    if not isinstance(heads, int) or isinstance(heads, bool) or heads <= 0:
        raise ShapeUnknown(f"num_heads {heads!r} is not a positive integer")
    if key is not None and value[1:-1] != key[1:-1]:
        raise ShapeUnknown("value and key differ outside their last axis")
    output = _mha_output(config, query)
    if not _flag(call, "return_attention_scores"):
        return output
    if len(query) < 2:
        raise ShapeUnknown("attention scores need a query of rank >= 2")
    keras3 = [output, (query[0], heads, query[1], query[1])]
    keras2 = [output, _mha_keras2_scores(config, query, value if key is None else key, heads)]
    return _pick(major, keras2, keras3)


def _weights_inputs(call: Call) -> tuple[Shape, Shape, Shape]:
    """``query, value, key`` (key defaults to value) from positional/keyword args or one list:
    the shapes the weights are built from."""
    x = call.x
    if isinstance(x, list) and len(call.args) == 1 and "value" not in call.kwargs:
        parts = list(x)
    else:
        parts = [call_arg(call, "query", 0), call_arg(call, "value", 1), call_arg(call, "key", 2)]
    if len(parts) not in (2, 3):
        raise Unknown("expected query, value and optionally key")
    query, value = parts[0], parts[1]
    key = parts[2] if len(parts) == 3 and parts[2] is not None else value
    for s in (query, value, key):
        if not is_shape(s) or len(s) < 2:
            raise Unknown("attention inputs must be tensors of rank >= 2")
    return query, value, key


def _projection(use_bias: bool, name: str, kernel: Sequence[Any], bias: Sequence[Any]) -> list[Expected]:
    """The variables of an EinsumDense projection, under its attribute name."""
    return prefixed(name, [variable("kernel", kernel)] + ([variable("bias", bias)] if use_bias else []))


@weights("MultiHeadAttention")
def multi_head_attention_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/attention/multi_head_attention.py ``build``: EinsumDense projections
    query (q_dim, heads, key_dim), key (k_dim, heads, key_dim), gate (Keras 3 ``use_gate``;
    q_dim, heads, value_dim), value (v_dim, heads, value_dim) and output (heads, value_dim,
    *output_shape), each with a bias over its output axes after the free ones."""
    query, value, key = _weights_inputs(call)
    if value[1:-1] != key[1:-1]:
        raise Unknown("value and key differ outside their last axis")
    heads = integer(config["num_heads"], "num_heads")
    key_dim = integer(config["key_dim"], "key_dim")
    value_dim = key_dim if config.get("value_dim") is None else integer(config["value_dim"], "value_dim")
    out_shape = untuple(config.get("output_shape"))
    if not out_shape:
        out_shape = [query[-1]]
    elif isinstance(out_shape, int):
        out_shape = [out_shape]
    bias = flag(config, "use_bias", True)
    out = _projection(bias, "query_dense", (query[-1], heads, key_dim), (heads, key_dim))
    out += _projection(bias, "key_dense", (key[-1], heads, key_dim), (heads, key_dim))
    if flag(config, "use_gate", False):
        out += _projection(bias, "_gate_dense", (query[-1], heads, value_dim), (heads, value_dim))
    out += _projection(bias, "value_dense", (value[-1], heads, value_dim), (heads, value_dim))
    return out + _projection(bias, "output_dense", (heads, value_dim, *out_shape), list(out_shape))


@rule("GroupedQueryAttention", "GroupQueryAttention")
def grouped_query_attention(config: Mapping[str, Any], call: Call) -> ShapeTree:
    """attention/grouped_query_attention.py (Keras 3 only; the class is saved as
    ``GroupedQueryAttention``, exported as ``GroupQueryAttention``): the output has the
    query's shape; scores are ``(batch, num_query_heads, Tq, Tkv)``."""
    query, value, key = _query_value_key(call)
    if query[-1] != value[-1]:
        raise ShapeUnknown("query and value differ in their last axis")
    if key is not None and value[1:-1] != key[1:-1]:
        raise ShapeUnknown("value and key differ outside their last axis")
    if not _flag(call, "return_attention_scores"):
        return query
    heads = config["num_query_heads"]
    if not isinstance(heads, int) or isinstance(heads, bool) or heads <= 0:
        raise ShapeUnknown(f"num_query_heads {heads!r} is not a positive integer")
    source = value if key is None else key
    if len(query) < 2 or len(source) < 2:
        raise ShapeUnknown("attention scores need inputs of rank >= 2")
    return [query, (query[0], heads, query[1], source[1])]


@weights("GroupedQueryAttention", "GroupQueryAttention")
def grouped_query_attention_weights(
    config: Mapping[str, Any], call: Call, major: int | None
) -> list[Expected]:
    """keras/src/layers/attention/grouped_query_attention.py ``build``."""
    query, value, key = _weights_inputs(call)
    hd = integer(config["head_dim"], "head_dim")
    hq = integer(config["num_query_heads"], "num_query_heads")
    hkv = integer(config["num_key_value_heads"], "num_key_value_heads")
    bias = flag(config, "use_bias", True)
    out = _projection(bias, "_query_dense", (query[-1], hq, hd), (hq, hd))
    out += _projection(bias, "_key_dense", (key[-1], hkv, hd), (hkv, hd))
    if flag(config, "use_gate", False):
        out += _projection(bias, "_gate_dense", (query[-1], hq, hd), (hq, hd))
    out += _projection(bias, "_value_dense", (value[-1], hkv, hd), (hkv, hd))
    return out + _projection(bias, "_output_dense", (hq, hd, query[-1]), (query[-1],))


# --- compute cost ---------------------------------------------------------------------------------


def _positions(shape: Shape) -> int:
    """The number of feature vectors in a tensor (its elements over its last axis)."""
    return elements(shape[:-1], "attention input")


@cost("MultiHeadAttention")
def multi_head_attention_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """MACs: the query, key and value projections (``positions × in_dim × heads × key_dim``, or
    ``value_dim`` for values; the gate as the query's), the scores ``heads × Tq × Tk × key_dim``
    (QKᵀ), the weighted values ``heads × Tq × Tk × value_dim`` (AV) and the output projection
    ``Tq × heads × value_dim × out_dim``, where Tq and Tk count every position of the query and
    key (the default ``attention_axes``). Element-wise: the bias adds, the query scaling
    (``Tq × heads × key_dim``), the softmax (3 per score) and the gate (2 per gated value)."""
    query, value, key = _weights_inputs(call)
    axes = config.get("attention_axes")
    if axes is not None and sorted(
        a % len(query) for a in ([axes] if isinstance(axes, int) else axes)
    ) != list(range(1, len(query) - 1)):
        raise Unknown("attention_axes other than all the middle axes are not counted")
    heads = integer(config["num_heads"], "num_heads")
    key_dim = integer(config["key_dim"], "key_dim")
    value_dim = key_dim if config.get("value_dim") is None else integer(config["value_dim"], "value_dim")
    tq, tk, tv = _positions(query), _positions(key), _positions(value)
    dq, dk, dv = (integer(s[-1], "feature dim") for s in (query, key, value))
    first = output[0] if isinstance(output, list) else output
    out_dim = elements(first) // tq
    gate = flag(config, "use_gate", False)
    macs = heads * (tq * dq * key_dim + tk * dk * key_dim + tv * dv * value_dim)
    macs += heads * tq * dq * value_dim if gate else 0
    macs += heads * tq * tk * (key_dim + value_dim) + tq * heads * value_dim * out_dim
    ops = heads * tq * key_dim + 3 * heads * tq * tk + (2 * heads * tq * value_dim if gate else 0)
    if flag(config, "use_bias", True):
        ops += heads * (tq * key_dim + tk * key_dim + tv * value_dim) + tq * out_dim
        ops += heads * tq * value_dim if gate else 0
    return Cost(macs, ops)


@cost("GroupedQueryAttention", "GroupQueryAttention")
def grouped_query_attention_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """As MultiHeadAttention with ``num_query_heads`` query heads and ``num_key_value_heads`` key
    and value heads of ``head_dim``: projections, QKᵀ and AV over the query heads, the output
    projection back to the query's dim."""
    query, value, key = _weights_inputs(call)
    hd = integer(config["head_dim"], "head_dim")
    hq = integer(config["num_query_heads"], "num_query_heads")
    hkv = integer(config["num_key_value_heads"], "num_key_value_heads")
    tq, tk, tv = _positions(query), _positions(key), _positions(value)
    dq, dk, dv = (integer(s[-1], "feature dim") for s in (query, key, value))
    gate = flag(config, "use_gate", False)
    macs = tq * dq * hq * hd + (tk * dk + tv * dv) * hkv * hd
    macs += tq * dq * hq * hd if gate else 0
    macs += 2 * hq * tq * tk * hd + tq * hq * hd * dq
    ops = hq * tq * hd + 3 * hq * tq * tk + (2 * hq * tq * hd if gate else 0)
    if flag(config, "use_bias", True):
        ops += hq * tq * hd + (tk + tv) * hkv * hd + tq * dq + (hq * tq * hd if gate else 0)
    return Cost(macs, ops)


def _attention_cost(additive: bool) -> CostRule:
    def attention_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
        """Dot-product scores ``Tq × Tv × dim`` MACs (additive and ``score_mode="concat"``
        scores: the same MACs for the reduction with ``scale``, plus 2 element-wise per term, add
        and tanh), then the weighted values ``Tq × Tv × value_dim`` MACs; the softmax 3 per
        score, ``use_scale`` (dot scores) 1 per score."""
        x = call.x
        if isinstance(x, list):
            parts = list(x)
        else:
            parts = [call_arg(call, "query", 0), call_arg(call, "value", 1), call_arg(call, "key", 2)]
        query, value = parts[0], parts[1]
        key = parts[2] if len(parts) > 2 and parts[2] is not None else value
        if not all(is_shape(s) and len(s) == 3 for s in (query, value, key)):
            raise Unknown("attention inputs must be (batch, time, dim)")
        tq, tv, dim = query[1], value[1], query[-1]
        if tq is None or tv is None or dim is None or value[-1] is None:
            raise Unknown("attention over an unknown length (give one: --seq-len N)")
        scores = tq * tv
        ops = 3 * scores
        if additive or config.get("score_mode") == "concat":
            ops += 2 * scores * dim
        elif config.get("use_scale"):
            ops += scores
        return Cost(scores * dim + scores * value[-1], ops)

    return attention_cost


cost("Attention")(_attention_cost(False))
cost("AdditiveAttention")(_attention_cost(True))
