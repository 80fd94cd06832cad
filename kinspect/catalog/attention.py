"""Shape rules: attention layers (keras/src/layers/attention/).

Keras 3 answers symbolic calls from ``compute_output_spec``; tf.keras 2 runs the layer's
``call`` on placeholders. For MultiHeadAttention's scores the two disagree, so that rule needs
to know which Keras wrote the config, and gives up when it cannot tell and the answers differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinspect.catalog.common import call_arg, keras_major
from kinspect.catalog.registry import Call, Shape, ShapeTree, ShapeUnknown, as_shape, is_shape, rule

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
