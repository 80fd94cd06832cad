"""Convolutions (keras/src/layers/convolutional, tf_keras/src/layers/convolutional): shape rules
and expected weights.

Keras 3 computes these shapes with ``compute_conv_output_shape``
(keras/src/ops/operation_utils.py) and ``compute_conv_transpose_output_shape``
(keras/src/backend/common/backend_utils.py); Keras 2 with ``conv_output_length``
and ``deconv_output_length`` (tf_keras/src/utils/conv_utils.py). The formulas
agree wherever both versions accept the config.

A rule gets no class name, so each class is registered with a rule built for
its spatial rank (``register_ranked``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kinspect.catalog.common import (
    activation_ops,
    bias_ops,
    flag,
    integer,
    kernel_bias,
    kernel_bias_names,
    one_input,
    refuse_variants,
    sizes,
    tuple_arg,
    variable,
)
from kinspect.catalog.registry import (
    Call,
    Cost,
    CostRule,
    Dim,
    Expected,
    Rule,
    Shape,
    ShapeTree,
    ShapeUnknown,
    Spec,
    Unknown,
    cost,
    elements,
    rule,
    variable_names,
    weights,
)


def is_channels_last(config: Mapping[str, Any]) -> bool:
    """Strict data_format: None is the backend default (channels_last); an unknown value is an error."""
    value = config.get("data_format")
    if value is None:
        return True
    if isinstance(value, str) and value.lower() in ("channels_last", "channels_first"):
        return value.lower() == "channels_last"
    raise ShapeUnknown(f"unknown data_format {value!r}")


def padding_mode(config: Mapping[str, Any], allowed: Sequence[str], default: str = "valid") -> str:
    """The string padding of a conv/pooling config (Keras lowercases it)."""
    value = config.get("padding", default)
    if not isinstance(value, str) or value.lower() not in allowed:
        raise ShapeUnknown(f"unsupported padding {value!r}")
    return value.lower()


def positive_int(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ShapeUnknown(f"{name} {value!r} is not a positive integer")
    return value


def int_tuple(value: Any, rank: int, name: str, minimum: int = 1) -> tuple[int, ...]:
    """``tuple_arg`` that also rejects booleans and values below ``minimum``."""
    values = tuple_arg(value, rank, name)
    if any(isinstance(v, bool) or v < minimum for v in values):
        raise ShapeUnknown(f"{name} {value!r} has values below {minimum}")
    return values


def split_spatial(
    shape: Shape, rank: int, channels_last: bool, exact: bool = True
) -> tuple[Shape, Shape, Dim]:
    """Split ``shape`` into (leading batch dims, spatial dims, channel dim)."""
    if len(shape) < rank + 2 or (exact and len(shape) != rank + 2):
        raise ShapeUnknown(f"expected an input of rank {rank + 2}, got {shape}")
    lead = len(shape) - rank - 1
    if channels_last:
        return shape[:lead], shape[lead:-1], shape[-1]
    return shape[:lead], shape[lead + 1 :], shape[lead]


def join_spatial(lead: Shape, spatial: Sequence[Dim], channels: Dim, channels_last: bool) -> Shape:
    """Inverse of ``split_spatial``."""
    if channels_last:
        return (*lead, *spatial, channels)
    return (*lead, channels, *spatial)


def window_output_length(length: Dim, window: int, padding: str, stride: int, dilation: int = 1) -> Dim:
    """Output length of a strided window (convolution or pooling) along one axis.

    ``same``/``causal``: floor((length - 1) / stride) + 1; ``valid``:
    floor((length - dilated window) / stride) + 1, which Keras rejects when it is
    not positive (operation_utils.compute_conv_output_shape / compute_pooling_output_shape).
    """
    if length is None:
        return None
    if padding in ("same", "causal"):
        return (length - 1) // stride + 1
    out = (length - (window - 1) * dilation - 1) // stride + 1
    if out <= 0:
        raise ShapeUnknown(f"window {window} (dilation {dilation}) does not fit in length {length}")
    return out


def transpose_output_length(
    length: Dim, kernel: int, padding: str, stride: int, dilation: int, output_padding: int | None
) -> Dim:
    """backend_utils._get_output_shape_given_tf_padding (= Keras 2 conv_utils.deconv_output_length)."""
    if length is None:
        return None
    kernel = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(kernel, stride) - kernel if output_padding is None else output_padding
        return (length - 1) * stride + kernel + extra
    if output_padding is None:
        return length * stride
    return (length - 1) * stride + kernel % 2 + output_padding


def _conv_spatial(config: Mapping[str, Any], spatial: Shape, rank: int, causal: bool) -> list[Dim]:
    # 'causal' (Conv1D, and SeparableConv1D in Keras 2 only) left-pads by the dilated
    # kernel, so the length is that of 'same'.
    padding = padding_mode(config, ("valid", "same", "causal") if causal else ("valid", "same"))
    kernel = int_tuple(config["kernel_size"], rank, "kernel_size")
    strides = int_tuple(config.get("strides", 1), rank, "strides")
    dilation = int_tuple(config.get("dilation_rate", 1), rank, "dilation_rate")
    windows = zip(spatial, kernel, strides, dilation, strict=True)
    return [window_output_length(n, k, padding, s, d) for n, k, s, d in windows]


def _conv_rule(rank: int) -> Rule:
    def conv(config: Mapping[str, Any], call: Call) -> Shape:
        """Conv1D/2D/3D: strided windows over the spatial dims, ``filters`` channels (base_conv.py).

        Keras 3 needs exactly rank+2 dims; Keras 2 Conv1D/2D/3D also take extra
        leading batch dims (tf_keras base_conv.py ``batch_rank``), kept as they are.
        """
        last = is_channels_last(config)
        lead, spatial, _ = split_spatial(call.shape(), rank, last, exact=False)
        filters = positive_int(config["filters"], "filters")
        return join_spatial(lead, _conv_spatial(config, spatial, rank, causal=rank == 1), filters, last)

    return conv


def _separable_rule(rank: int) -> Rule:
    def separable(config: Mapping[str, Any], call: Call) -> Shape:
        """SeparableConv*: like Conv* (base_separable_conv.compute_output_shape), exact rank."""
        last = is_channels_last(config)
        lead, spatial, _ = split_spatial(call.shape(), rank, last)
        filters = positive_int(config["filters"], "filters")
        return join_spatial(lead, _conv_spatial(config, spatial, rank, causal=rank == 1), filters, last)

    return separable


def _depthwise_rule(rank: int) -> Rule:
    def depthwise(config: Mapping[str, Any], call: Call) -> Shape:
        """DepthwiseConv*: channels become depth_multiplier * input channels (base_depthwise_conv.py)."""
        last = is_channels_last(config)
        lead, spatial, channels = split_spatial(call.shape(), rank, last)
        if channels is None:
            raise ShapeUnknown("DepthwiseConv needs a known channel dimension")
        multiplier = positive_int(config.get("depth_multiplier", 1), "depth_multiplier")
        out = _conv_spatial(config, spatial, rank, causal=False)
        return join_spatial(lead, out, multiplier * channels, last)

    return depthwise


def _transpose_rule(rank: int) -> Rule:
    def transpose(config: Mapping[str, Any], call: Call) -> Shape:
        """Conv*Transpose: backend_utils.compute_conv_transpose_output_shape, honouring output_padding."""
        last = is_channels_last(config)
        lead, spatial, _ = split_spatial(call.shape(), rank, last)
        filters = positive_int(config["filters"], "filters")
        padding = padding_mode(config, ("valid", "same"))
        kernel = int_tuple(config["kernel_size"], rank, "kernel_size")
        strides = int_tuple(config.get("strides", 1), rank, "strides")
        dilation = int_tuple(config.get("dilation_rate", 1), rank, "dilation_rate")
        raw = config.get("output_padding")
        out_pad: Sequence[int | None] = (
            (None,) * rank if raw is None else int_tuple(raw, rank, "output_padding", minimum=0)
        )
        out = [
            transpose_output_length(n, k, padding, s, d, p)
            for n, k, s, d, p in zip(spatial, kernel, strides, dilation, out_pad, strict=True)
        ]
        return join_spatial(lead, out, filters, last)

    return transpose


def register_ranked(factory: Callable[[int], Rule], *names: str) -> None:
    """Register ``factory(1)``, ``factory(2)``… for the 1D, 2D… class names."""
    for rank, name in enumerate(names, start=1):
        rule(name)(factory(rank))


register_ranked(_conv_rule, "Conv1D", "Conv2D", "Conv3D")
register_ranked(_separable_rule, "SeparableConv1D", "SeparableConv2D")
register_ranked(_depthwise_rule, "DepthwiseConv1D", "DepthwiseConv2D")
register_ranked(_transpose_rule, "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")


# --- expected weights -----------------------------------------------------------------------------


def input_channels(config: Mapping[str, Any], shape: Shape, rank: int) -> int:
    """The channel dim of a rank-``rank`` convolution's input, which must be known."""
    if len(shape) != rank + 2:
        raise Unknown(f"expected rank-{rank + 2} input, got {shape}")
    fmt = config.get("data_format")
    if fmt not in (None, "channels_last", "channels_first"):
        raise Unknown(f"data_format {fmt!r}")
    return integer(shape[1] if fmt == "channels_first" else shape[-1], "input channels")


def _conv_weights(rank: int) -> Spec:
    def spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
        """base_conv.py ``build``: kernel kernel_size + (in // groups, filters), bias (filters,)."""
        refuse_variants(config)
        channels = input_channels(config, one_input(call), rank)
        groups = integer(config.get("groups", 1), "groups")
        if channels % groups:
            raise Unknown("input channels not divisible by groups")
        filters = integer(config["filters"], "filters")
        size = sizes(config["kernel_size"], rank, "kernel_size")
        return kernel_bias(config, (*size, channels // groups, filters), (filters,))

    return spec


def _transpose_weights(rank: int) -> Spec:
    def spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
        """base_conv_transpose.py ``build``: kernel kernel_size + (filters, in), bias (filters,)."""
        refuse_variants(config)
        channels = input_channels(config, one_input(call), rank)
        filters = integer(config["filters"], "filters")
        size = sizes(config["kernel_size"], rank, "kernel_size")
        return kernel_bias(config, (*size, filters, channels), (filters,))

    return spec


def _depthwise_weights(rank: int) -> Spec:
    def spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
        """base_depthwise_conv.py ``build``: kernel kernel_size + (in, depth_multiplier), bias
        (in * depth_multiplier,). tf_keras names the kernel ``depthwise_kernel``."""
        refuse_variants(config)
        channels = input_channels(config, one_input(call), rank)
        multiplier = integer(config.get("depth_multiplier", 1), "depth_multiplier")
        size = sizes(config["kernel_size"], rank, "kernel_size")
        out = kernel_bias(config, (*size, channels, multiplier), (channels * multiplier,))
        if major == 2:
            out[0] = Expected("depthwise_kernel", out[0].shape)
        return out

    return spec


def _separable_weights(rank: int) -> Spec:
    def spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
        """base_separable_conv.py ``build``."""
        refuse_variants(config)
        channels = input_channels(config, one_input(call), rank)
        multiplier = integer(config.get("depth_multiplier", 1), "depth_multiplier")
        filters = integer(config["filters"], "filters")
        size = sizes(config["kernel_size"], rank, "kernel_size")
        out = [
            variable("depthwise_kernel", (*size, channels, multiplier)),
            variable("pointwise_kernel", ((1,) * rank + (channels * multiplier, filters))),
        ]
        if flag(config, "use_bias", True):
            out.append(variable("bias", (filters,)))
        return out

    return spec


# --- compute cost ---------------------------------------------------------------------------------


def _kernel_size(config: Mapping[str, Any], rank: int) -> int:
    size = 1
    for k in sizes(config["kernel_size"], rank, "kernel_size"):
        size *= k
    return size


def _after(config: Mapping[str, Any], count: int) -> int:
    """The bias add and the fused activation: element-wise, per output element."""
    return bias_ops(config, count) + activation_ops(config, count)


def _conv_cost(rank: int) -> CostRule:
    def conv_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
        """Every output element is a window of ``kernel_size`` × ``in_channels / groups`` MACs
        (padded positions included, as TensorFlow's profiler and the published counts do)."""
        channels = input_channels(config, one_input(call), rank)
        groups = integer(config.get("groups", 1), "groups")
        out = elements(output)
        return Cost(out * _kernel_size(config, rank) * (channels // groups), _after(config, out))

    return conv_cost


def _transpose_cost(rank: int) -> CostRule:
    def transpose_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
        """Every input element is scattered through the kernel: ``elements(input) ×
        kernel_size × filters`` MACs."""
        x = one_input(call)
        input_channels(config, x, rank)
        filters = integer(config["filters"], "filters")
        out = elements(output)
        return Cost(elements(x) * _kernel_size(config, rank) * filters, _after(config, out))

    return transpose_cost


def _depthwise_cost(rank: int) -> CostRule:
    def depthwise_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
        """Every output element (``in_channels × depth_multiplier`` of them per position) is one
        window of ``kernel_size`` MACs."""
        input_channels(config, one_input(call), rank)
        out = elements(output)
        return Cost(out * _kernel_size(config, rank), _after(config, out))

    return depthwise_cost


def _separable_cost(rank: int) -> CostRule:
    def separable_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
        """The depthwise step (``kernel_size`` MACs for each of the ``in_channels ×
        depth_multiplier`` intermediate values per output position), then the pointwise step
        (``in_channels × depth_multiplier`` MACs per output element)."""
        channels = input_channels(config, one_input(call), rank)
        multiplier = integer(config.get("depth_multiplier", 1), "depth_multiplier")
        filters = integer(config["filters"], "filters")
        out = elements(output)
        middle = out // filters * channels * multiplier
        return Cost(middle * _kernel_size(config, rank) + out * channels * multiplier, _after(config, out))

    return separable_cost


# Convolution1D… are tf.keras 2 aliases of Conv1D…
for _rank in (1, 2, 3):
    cost(f"Conv{_rank}D", f"Convolution{_rank}D")(_conv_cost(_rank))
    cost(f"Conv{_rank}DTranspose", f"Convolution{_rank}DTranspose")(_transpose_cost(_rank))
for _rank in (1, 2):
    cost(f"DepthwiseConv{_rank}D")(_depthwise_cost(_rank))
    cost(f"SeparableConv{_rank}D", f"SeparableConvolution{_rank}D")(_separable_cost(_rank))


# Convolution1D… are tf.keras 2 aliases of Conv1D…
for _rank in (1, 2, 3):
    weights(f"Conv{_rank}D", f"Convolution{_rank}D")(_conv_weights(_rank))
    weights(f"Conv{_rank}DTranspose", f"Convolution{_rank}DTranspose")(_transpose_weights(_rank))
for _rank in (1, 2):
    weights(f"DepthwiseConv{_rank}D")(_depthwise_weights(_rank))
    weights(f"SeparableConv{_rank}D", f"SeparableConvolution{_rank}D")(_separable_weights(_rank))


@variable_names("SeparableConv1D", "SeparableConv2D")
def separable_names(config: Mapping[str, Any]) -> list[str]:
    return ["depthwise_kernel", "pointwise_kernel", *kernel_bias_names(config)[1:]]


variable_names(
    *(f"Conv{r}D" for r in (1, 2, 3)),
    *(f"Conv{r}DTranspose" for r in (1, 2, 3)),
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "LocallyConnected1D",
    "LocallyConnected2D",
)(kernel_bias_names)


def _locally_connected_rule(rank: int) -> Rule:
    def locally_connected(config: Mapping[str, Any], call: Call) -> Shape:
        """LocallyConnected1D/2D (tf.keras 2 only, tf_keras/src/layers/locally_connected): a conv's
        output shape; build needs known spatial and channel dims and non-empty outputs."""
        last = is_channels_last(config)
        lead, spatial, channels = split_spatial(call.shape(), rank, last)
        if channels is None or None in spatial:
            raise ShapeUnknown("LocallyConnected needs fully known spatial and channel dims")
        filters = positive_int(config["filters"], "filters")
        padding = padding_mode(config, ("valid", "same"))
        kernel = int_tuple(config["kernel_size"], rank, "kernel_size")
        strides = int_tuple(config.get("strides", 1), rank, "strides")
        out = [
            window_output_length(n, k, padding, s) for n, k, s in zip(spatial, kernel, strides, strict=True)
        ]
        return join_spatial(lead, out, filters, last)

    return locally_connected


register_ranked(_locally_connected_rule, "LocallyConnected1D", "LocallyConnected2D")


def _locally_connected_cost(rank: int) -> CostRule:
    def locally_connected_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
        """A convolution's arithmetic with unshared weights: ``kernel_size × in_channels`` MACs per
        output element."""
        channels = input_channels(config, one_input(call), rank)
        out = elements(output)
        return Cost(out * _kernel_size(config, rank) * channels, _after(config, out))

    return locally_connected_cost


for _rank in (1, 2):
    cost(f"LocallyConnected{_rank}D")(_locally_connected_cost(_rank))
