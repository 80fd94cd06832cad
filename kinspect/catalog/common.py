"""Helpers shared by the family modules: shape rules (mirroring keras/src/ops/operation_utils.py)
and expected-weights specs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kinspect.catalog.registry import (
    SPECS,
    WEIGHTLESS,
    Call,
    Dim,
    Expected,
    Shape,
    ShapeUnknown,
    Unknown,
    is_shape,
)


def channels_last(config: Mapping[str, Any]) -> bool:
    """Keras stores data_format; None means the backend default, channels_last."""
    return config.get("data_format") in (None, "channels_last")


def tuple_arg(value: Any, rank: int, name: str = "value") -> tuple[int, ...]:
    """Normalize an int-or-tuple config value (kernel_size, strides…) to ``rank`` ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * rank
    if isinstance(value, (list, tuple)) and len(value) == rank and all(isinstance(v, int) for v in value):
        return tuple(value)
    raise ShapeUnknown(f"{name} {value!r} is not {rank} integers")


def conv_output_length(length: Dim, kernel: int, padding: str, stride: int, dilation: int = 1) -> Dim:
    """Output length of a convolution or pooling along one axis."""
    if length is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding == "same":
        return (length + stride - 1) // stride
    if padding == "valid":
        return (length - effective) // stride + 1
    if padding == "causal":
        return (length + stride - 1) // stride
    if padding == "full":
        return (length + effective - 2) // stride + 1
    raise ShapeUnknown(f"unknown padding {padding!r}")


def rank_check(shape: Shape, rank: int, layer: str) -> None:
    if len(shape) != rank:
        raise ShapeUnknown(f"{layer} expects rank-{rank} input, got {shape}")


def nested_layer(value: Any, what: str = "layer") -> tuple[str, Mapping[str, Any]]:
    """``(class_name, config)`` of a layer serialized inside another layer's config.

    Accepts the Keras 3 form ``{"module", "class_name", "config", "registered_name"}``
    and the Keras 2 form ``{"class_name", "config"}``. A custom class that merely
    shares a built-in name (its module is not Keras's) is refused: its shapes are unknown.
    """
    if not isinstance(value, Mapping):
        raise ShapeUnknown(f"{what} is not a serialized layer: {value!r}")
    name, config, module = value.get("class_name"), value.get("config"), value.get("module")
    if not isinstance(name, str) or not isinstance(config, Mapping):
        raise ShapeUnknown(f"{what} is not a serialized layer")
    if module is not None and not (isinstance(module, str) and module.split(".")[0] in ("keras", "tf_keras")):
        raise ShapeUnknown(f"{what} {name} is a custom class (module {module!r})")
    return name, config


def call_arg(call: Any, name: str, position: int | None = None, default: Any = None) -> Any:
    """A call argument given either by keyword ``name`` or positionally at ``position``."""
    if name in call.kwargs:
        return call.kwargs[name]
    if position is not None and len(call.args) > position:
        return call.args[position]
    return default


# --- expected weights -----------------------------------------------------------------------------


def integer(value: Any, what: str, minimum: int = 1) -> int:
    """An int config value (not a bool) of at least ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise Unknown(f"{what}={value!r} is not an integer >= {minimum}")
    return value


def variable(name: str, shape: Sequence[Any], trainable: bool = True) -> Expected:
    """An Expected whose dims must all be known."""
    return Expected(name, tuple(integer(d, f"{name} dim", 0) for d in shape), trainable)


def flag(config: Mapping[str, Any], key: str, default: bool) -> bool:
    """A boolean config value; absent or None is ``default``."""
    value = config.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise Unknown(f"{key}={value!r} is not a boolean")
    return value


def one_input(call: Call) -> Shape:
    """The call's single input tensor, of rank >= 1."""
    x = call.x
    if not is_shape(x) or not x:
        raise Unknown("expected one input tensor of rank >= 1")
    return x


def untuple(value: Any) -> Any:
    """Undo Keras 3's ``{"class_name": "__tuple__", "config": {"value": [...]}}`` wrapping."""
    if isinstance(value, Mapping) and value.get("class_name") == "__tuple__":
        return value["config"]["value"]
    return value


def sizes(value: Any, rank: int, what: str) -> tuple[int, ...]:
    """An int-or-sequence config value (kernel_size) as ``rank`` positive ints."""
    return tuple(integer(v, what) for v in tuple_arg(untuple(value), rank, what))


def axis_list(value: Any, rank: int) -> list[int]:
    """An int-or-list ``axis`` as a list, each checked against ``rank`` (kept as given)."""
    value = untuple(value)
    found = [value] if isinstance(value, int) else list(value)
    for a in found:
        integer(a, "axis", -rank)
        if a >= rank:
            raise Unknown(f"axis {a} out of range for rank {rank}")
    return found


def refuse_variants(config: Mapping[str, Any]) -> None:
    """LoRA and quantized layers store other variables than ``layer.weights`` lists
    (keras/src/layers/core/dense.py ``save_own_variables``, ``enable_lora``)."""
    if config.get("lora_rank"):
        raise Unknown("LoRA layer: stored and live variables differ")
    dtype = config.get("dtype")
    if isinstance(dtype, Mapping) and "Quantized" in str(dtype.get("class_name", "")):
        raise Unknown("quantized layer")


def kernel_bias(config: Mapping[str, Any], kernel: Sequence[Any], bias: Sequence[Any]) -> list[Expected]:
    """``kernel``, then ``bias`` unless ``use_bias`` is false."""
    out = [variable("kernel", kernel)]
    if flag(config, "use_bias", True):
        out.append(variable("bias", bias))
    return out


def prefixed(prefix: str, weights: list[Expected]) -> list[Expected]:
    """The variables of a sub-object, named by its attribute path (``cell/kernel``)."""
    return [Expected(f"{prefix}/{w.name}", w.shape, w.trainable) for w in weights]


def nested_weights(value: Any, call: Call, major: int | None) -> list[Expected]:
    """The variables of a built-in layer serialized inside another layer's config."""
    name, config = nested_layer(value)
    if name in WEIGHTLESS:
        return []
    spec = SPECS.get(name)
    if spec is None:
        raise Unknown(f"wrapped layer {name} is not covered")
    return spec(config, call, major)


# Variable names from a config alone (see registry.variable_names): optional weights are present
# unless their flag is false, as Keras builds them.
def kernel_bias_names(config: Mapping[str, Any]) -> list[str]:
    return ["kernel"] + (["bias"] if config.get("use_bias", True) is not False else [])


def norm_names(config: Mapping[str, Any]) -> list[str]:
    """``gamma`` unless ``scale`` is false, ``beta`` unless ``center`` is false."""
    return (["gamma"] if config.get("scale", True) is not False else []) + (
        ["beta"] if config.get("center", True) is not False else []
    )


# --- compute cost ---------------------------------------------------------------------------------

# Keras activations counted as several element operations: softmax is exp, sum and divide.
_ACTIVATION_OPS = {"softmax": 3, "log_softmax": 3}


def activation_ops(config: Mapping[str, Any], count: int, key: str = "activation") -> int:
    """Element operations of a layer's fused ``activation`` on ``count`` outputs: none for
    ``linear``/None, three per element for softmax, else one."""
    name = config.get(key)
    if isinstance(name, Mapping):  # Keras 3 serializes a registered function as an object
        name = name.get("config", name.get("class_name"))
    if name in (None, "linear"):
        return 0
    return count * _ACTIVATION_OPS.get(name, 1) if isinstance(name, str) else count


def bias_ops(config: Mapping[str, Any], count: int) -> int:
    """One add per output element when the layer has a bias (``use_bias``, default true)."""
    return count if config.get("use_bias", True) is not False else 0
