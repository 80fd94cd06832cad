"""Shape rules: core layers (keras/src/layers/core/)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kinspect.catalog.common import call_arg, keras_major
from kinspect.catalog.registry import Call, Shape, ShapeTree, ShapeUnknown, as_shape, is_shape, rule


def _positive_int(config: Mapping[str, Any], key: str) -> int:
    value = config[key]
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ShapeUnknown(f"{key} {value!r} is not a positive integer")
    return value


@rule("Dense")
def dense(config: Mapping[str, Any], call: Call) -> Shape:
    """core/dense.py: the last axis becomes ``units``; Dense's InputSpec wants rank >= 2."""
    shape = call.shape()
    if len(shape) < 2:
        raise ShapeUnknown(f"Dense expects rank >= 2 input, got {shape}")
    return (*shape[:-1], _positive_int(config, "units"))


@rule("RandomFourierFeatures")
def random_fourier_features(config: Mapping[str, Any], call: Call) -> Shape:
    """tf.keras 2 only (tf_keras/src/layers/kernelized.py): ``(batch, d)`` with d known
    becomes ``(batch, output_dim)``."""
    shape = call.shape()
    if len(shape) != 2 or shape[1] is None:
        raise ShapeUnknown(f"RandomFourierFeatures expects (batch, known dim), got {shape}")
    return (shape[0], _positive_int(config, "output_dim"))


@rule("Embedding")
def embedding(config: Mapping[str, Any], call: Call) -> Shape:
    """core/embedding.py: appends ``output_dim``. Keras 2's ``input_length`` plays no part
    in a symbolic call (tf.keras runs the lookup itself)."""
    return (*call.shape(), _positive_int(config, "output_dim"))


@rule("ReversibleEmbedding")
def reversible_embedding(config: Mapping[str, Any], call: Call) -> Shape:
    """core/reversible_embedding.py: ``reverse=True`` maps the last axis back to ``input_dim``."""
    shape = call.shape()
    reverse = call_arg(call, "reverse", 1, False)
    if not isinstance(reverse, bool):
        raise ShapeUnknown(f"reverse={reverse!r} is not a boolean")
    if reverse:
        if not shape:
            raise ShapeUnknown("reverse call on a scalar input")
        return (*shape[:-1], _positive_int(config, "input_dim"))
    return (*shape, _positive_int(config, "output_dim"))


@rule("Identity")
def identity(config: Mapping[str, Any], call: Call) -> ShapeTree:
    """core/identity.py: returns its input structure unchanged."""
    x = call.x
    if is_shape(x):
        return x
    if isinstance(x, Mapping) and all(is_shape(s) for s in x.values()):
        return dict(x)
    return call.shapes()


# --- EinsumDense -----------------------------------------------------------------------------------

_EINSUM_FORMS = (
    # (pattern on the equation with "..." replaced by "0", ellipsis on the left)
    (r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", False),
    (r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", True),
    (r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", False),
)


def _split_einsum(equation: str) -> tuple[str, str, str, bool]:
    """``(input, weight, output, left_elided)`` specs, matched as Keras does (``re.match``)."""
    replaced = equation.replace("...", "0")
    for pattern, left in _EINSUM_FORMS:
        match = re.match(pattern, replaced)
        if match:
            return (*match.groups(), left)
    raise ShapeUnknown(f"invalid einsum equation {equation!r}")


def _einsum_output(equation: str, input_shape: Shape, partial: list[Any]) -> tuple[list[Any], list[Any]]:
    """Port of ``_analyze_einsum_string`` (keras/src/layers/core/einsum_dense.py).

    Returns ``(keras3, keras2)``: Keras 3's symbolic output keeps every ``None`` of the
    configured ``output_shape`` and inserts left-elided axes in reverse order (its
    ``compute_output_shape`` is used as is), while tf.keras 2 runs the einsum, so shared
    axes and elided axes take the input's dims.
    """
    input_spec, weight_spec, output_spec, left = _split_einsum(equation)
    rank = len(input_shape)
    elided = rank - len(input_spec)

    output = [input_shape[0], *partial]
    if elided > 0 and left:
        for i in range(1, elided):
            output.insert(1, input_shape[i])
    elif elided > 0:
        output.extend(input_shape[rank - elided :])

    if left:
        input_map = {d: i + elided - rank for i, d in enumerate(input_spec)}
        output_map = {d: i + elided for i, d in enumerate(output_spec)}
    else:
        input_map = {d: i for i, d in enumerate(input_spec)}
        output_map = {d: i for i, d in enumerate(output_spec)}

    for d in input_spec:
        if d in output_map and output[output_map[d]] not in (None, input_shape[input_map[d]]):
            raise ShapeUnknown(f"einsum axis {d!r}: input and output_shape disagree")
    for d in output_spec:
        if d not in input_spec and d not in weight_spec:
            raise ShapeUnknown(f"einsum output axis {d!r} appears in neither input nor weight")
    for d in weight_spec:
        if d not in output_map and d not in input_map:
            raise ShapeUnknown(f"einsum weight axis {d!r} appears in neither input nor output")
        if d in output_map and output[output_map[d]] is None:
            raise ShapeUnknown(f"einsum weight axis {d!r} has no size")

    keras2 = list(output)
    if elided > 0 and left:
        keras2[1:elided] = input_shape[1:elided]
    for d in output_spec:
        if d in input_map:
            keras2[output_map[d]] = input_shape[input_map[d]]
    return output, keras2


# Keys only Keras 3's EinsumDense.get_config writes (LoRA and quantization settings).
_KERAS3_EINSUM_KEYS = ("lora_rank", "lora_alpha", "quantization_config", "gptq_unpacked_column_size")


@rule("EinsumDense")
def einsum_dense(config: Mapping[str, Any], call: Call) -> Shape:
    """core/einsum_dense.py. Where Keras 2 and 3 differ and neither the call nor the config
    says which wrote the file, the shape is unknown."""
    shape = call.shape()
    if not shape:
        raise ShapeUnknown("EinsumDense on a scalar input")
    equation = config["equation"]
    if not isinstance(equation, str):
        raise ShapeUnknown(f"equation {equation!r} is not a string")
    partial = config["output_shape"]
    partial = [partial] if isinstance(partial, int) else list(as_shape(partial))
    keras3, keras2 = _einsum_output(equation, shape, partial)
    major = call.keras_major or (3 if any(k in config for k in _KERAS3_EINSUM_KEYS) else keras_major(config))
    if major == 2 or (major is None and keras2 == keras3):
        return tuple(keras2)
    if major == 3:
        return tuple(keras3)
    raise ShapeUnknown("EinsumDense output differs between Keras 2 and 3 and the config's version is unclear")


# --- Lambda ----------------------------------------------------------------------------------------


def _static_shape(value: Any) -> Shape | None:
    """A stored shape (list, or Keras 3's ``__tuple__`` wrapper) or None if it is not one."""
    if isinstance(value, Mapping) and value.get("class_name") == "__tuple__":
        inner = value.get("config")
        value = inner.get("value") if isinstance(inner, Mapping) else None
    if isinstance(value, (list, tuple)) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0) for d in value
    ):
        return tuple(value)
    return None


@rule("Lambda")
def lambda_layer(config: Mapping[str, Any], call: Call) -> ShapeTree:
    """core/lambda_layer.py: a static ``output_shape`` (without batch axis) is what Keras 3
    reports, with the batch dim of the first input prepended. The function is never read.

    tf.keras 2 (configs with ``output_shape_type``) ignores ``output_shape`` when called on
    symbolic tensors (it traces the function), so the stored value proves nothing there.
    """
    if call.keras_major == 2 or "output_shape_type" in config or "function_type" in config:
        raise ShapeUnknown("Keras 2 Lambda: output shape is whatever its function returns")
    declared = config.get("output_shape")
    if declared is None:
        raise ShapeUnknown("Lambda without a declared output_shape")
    first = call.shapes()[0]
    if not first:
        raise ShapeUnknown("Lambda on a scalar input")
    batch = first[0]
    single = _static_shape(declared)
    if single is not None:
        return (batch, *single)
    if isinstance(declared, (list, tuple)) and declared:
        shapes = [_static_shape(s) for s in declared]
        if all(s is not None for s in shapes):
            return [(batch, *s) for s in shapes]
    raise ShapeUnknown("Lambda output_shape is a function or not a static shape")
