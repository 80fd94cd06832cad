"""Helpers shared by the shape rules (mirroring keras/src/ops/operation_utils.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinspect.catalog.registry import Call, Dim, Shape, ShapeUnknown


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


def keras_major(config: Mapping[str, Any], call: Call | None = None) -> int | None:
    """Which Keras wrote a layer config: 3, 2, or None when it cannot be told.

    The file-level version the caller put in ``call.keras_major`` wins. Otherwise the config's
    dtype decides: Keras >= 3.4 stores a serialized ``DTypePolicy`` (module ``keras``; also
    FloatDTypePolicy, QuantizedDTypePolicy…), tf.keras 2 a string, or a ``Policy`` dict for
    mixed precision. A bare string is also what early Keras 3 releases stored: it proves nothing.
    """
    if call is not None and call.keras_major in (2, 3):
        return call.keras_major
    dtype = config.get("dtype")
    if isinstance(dtype, Mapping):
        class_name = dtype.get("class_name")
        if dtype.get("module") == "keras" or (isinstance(class_name, str) and "DTypePolicy" in class_name):
            return 3
        if class_name == "Policy":
            return 2
    return None


def call_arg(call: Any, name: str, position: int | None = None, default: Any = None) -> Any:
    """A call argument given either by keyword ``name`` or positionally at ``position``."""
    if name in call.kwargs:
        return call.kwargs[name]
    if position is not None and len(call.args) > position:
        return call.args[position]
    return default
