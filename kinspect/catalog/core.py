"""Core layers (keras/src/layers/core/): shape rules and expected weights."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinspect.catalog.common import (
    activation_ops,
    bias_ops,
    call_arg,
    integer,
    kernel_bias,
    kernel_bias_names,
    one_input,
    refuse_variants,
    untuple,
    variable,
)
from kinspect.catalog.einsum import einsum_macs, einsum_output, einsum_weights
from kinspect.catalog.registry import (
    Call,
    Cost,
    Expected,
    Shape,
    ShapeTree,
    ShapeUnknown,
    Unknown,
    as_shape,
    cost,
    elements,
    free,
    is_shape,
    keras_major,
    no_cost,
    rule,
    variable_names,
    weightless,
    weights,
)

# InputLayer has no rule (propagate.py reads its stored batch shape) and no variables.
weightless("InputLayer", "Identity")
free("InputLayer", "Identity", "Embedding")  # Embedding: a table lookup, no arithmetic


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


variable_names("Dense")(kernel_bias_names)


@cost("Dense")
def dense_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """One MAC per input feature per unit, at every position of the leading axes:
    ``elements(input) × units``; the bias add and the activation are element-wise."""
    units = integer(config["units"], "units")
    out = elements(output)
    return Cost(elements(one_input(call)) * units, bias_ops(config, out) + activation_ops(config, out))


@weights("Dense")
def dense_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """core/dense.py ``build``: kernel (in, units), bias (units,)."""
    refuse_variants(config)
    units = integer(config["units"], "units")
    return kernel_bias(config, (one_input(call)[-1], units), (units,))


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


@variable_names("Embedding")
def embedding_names(config: Mapping[str, Any]) -> list[str]:
    return ["embeddings"]


@variable_names("ReversibleEmbedding")
def reversible_embedding_names(config: Mapping[str, Any]) -> list[str]:
    return ["embeddings", "reverse_embeddings"]


@weights("Embedding")
def embedding_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """core/embedding.py ``build``: embeddings (input_dim, output_dim)."""
    refuse_variants(config)
    rows, cols = integer(config["input_dim"], "input_dim"), integer(config["output_dim"], "output_dim")
    return [variable("embeddings", (rows, cols))]


@cost("RandomFourierFeatures")
def random_fourier_features_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """A projection ``d × output_dim`` MACs, then a bias add and a cosine per output."""
    out = elements(output)
    return Cost(elements(one_input(call)) * integer(config["output_dim"], "output_dim"), 2 * out)


@cost("ReversibleEmbedding")
def reversible_embedding_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """A lookup (free), or with ``reverse=True`` a product with the embedding matrix:
    ``elements(input) × input_dim`` MACs."""
    if call_arg(call, "reverse", 1, False) is True:
        return Cost(elements(one_input(call)) * integer(config["input_dim"], "input_dim"))
    return Cost()


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
    major = call.keras_major or (3 if any(k in config for k in _KERAS3_EINSUM_KEYS) else keras_major(config))
    return einsum_output(equation, shape, partial, major)


@cost("EinsumDense")
def einsum_dense_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """One MAC per combination of the equation's axes (:func:`einsum_macs`); the bias add
    (``bias_axes``) and the activation are element-wise."""
    partial = config["output_shape"]
    partial = [partial] if isinstance(partial, int) else list(untuple(partial))
    macs = einsum_macs(config["equation"], one_input(call), partial)
    out = elements(output)
    return Cost(macs, (out if config.get("bias_axes") else 0) + activation_ops(config, out))


@variable_names("EinsumDense")
def einsum_dense_names(config: Mapping[str, Any]) -> list[str]:
    return ["kernel"] + (["bias"] if config.get("bias_axes") else [])


@weights("EinsumDense")
def einsum_dense_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/core/einsum_dense.py ``build``."""
    refuse_variants(config)
    equation, bias_axes = config["equation"], config.get("bias_axes")
    if not isinstance(equation, str) or not (bias_axes is None or isinstance(bias_axes, str)):
        raise Unknown("equation/bias_axes are not strings")
    partial = config["output_shape"]
    partial = [partial] if isinstance(partial, int) else list(untuple(partial))
    kernel, bias = einsum_weights(equation, bias_axes, one_input(call), partial)
    return [variable("kernel", kernel)] + ([] if bias is None else [variable("bias", bias)])


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


no_cost("its function is code, not config", "Lambda")


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
        fixed = [s for s in shapes if s is not None]
        if len(fixed) == len(shapes):
            return [(batch, *s) for s in fixed]
    raise ShapeUnknown("Lambda output_shape is a function or not a static shape")
