"""Spatial reshaping (keras/src/layers/reshaping, tf_keras/src/layers/reshaping): shape rules;
no variables."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from kinspect.catalog.conv import (
    int_tuple,
    is_channels_last,
    join_spatial,
    positive_int,
    register_ranked,
    split_spatial,
)
from kinspect.catalog.registry import (
    Call,
    Cost,
    Dim,
    Rule,
    Shape,
    ShapeTree,
    ShapeUnknown,
    cost,
    elements,
    free,
    keras_major,
    known,
    rule,
    weightless,
)


def _pairs(value: Any, rank: int, name: str) -> tuple[tuple[int, int], ...]:
    """Normalize a padding/cropping config to ``rank`` (before, after) pairs.

    1D layers store one pair ``(a, b)``; 2D/3D layers an int, ``rank`` ints or
    ``rank`` pairs (zero_padding2d.py, cropping2d.py …).
    """
    if rank == 1:
        before, after = int_tuple(value, 2, name, minimum=0)
        return ((before, after),)
    if isinstance(value, int):
        value = (value,) * rank
    if not isinstance(value, (list, tuple)) or len(value) != rank:
        raise ShapeUnknown(f"{name} {value!r} is not {rank} pairs")
    return tuple(int_tuple(v, 2, name, minimum=0) for v in value)  # type: ignore[misc]


def _zero_padding_rule(rank: int) -> Rule:
    def zero_padding(config: Mapping[str, Any], call: Call) -> Shape:
        """ZeroPadding*: each known spatial dim grows by its two paddings."""
        last = is_channels_last(config)  # Keras 2 ZeroPadding1D has no data_format: channels_last
        lead, spatial, channels = split_spatial(call.shape(), rank, last)
        pads = _pairs(config["padding"], rank, "padding")
        out = [None if n is None else n + a + b for n, (a, b) in zip(spatial, pads, strict=True)]
        return join_spatial(lead, out, channels, last)

    return zero_padding


def _cropped(length: Dim, before: int, after: int, allow_empty: bool) -> Dim:
    if length is None:
        return None
    if allow_empty:
        return max(0, length - before - after)  # a clamped slice
    if length - before - after <= 0:
        raise ShapeUnknown(f"cropping ({before}, {after}) leaves nothing of length {length}")
    return length - before - after


def _cropping_rule(rank: int) -> Rule:
    def cropping(config: Mapping[str, Any], call: Call) -> Shape:
        """Cropping*: each known spatial dim shrinks.

        Keras 3 rejects crops that empty a dim; so does Keras 2, except Cropping3D,
        whose slices then clamp to length 0 (tf_keras cropping3d.py has no check).
        """
        last = True if rank == 1 else is_channels_last(config)  # Cropping1D has no data_format
        lead, spatial, channels = split_spatial(call.shape(), rank, last)
        crops = _pairs(config["cropping"], rank, "cropping")
        allow_empty = rank == 3 and keras_major(config, call) == 2
        out = [_cropped(n, a, b, allow_empty) for n, (a, b) in zip(spatial, crops, strict=True)]
        return join_spatial(lead, out, channels, last)

    return cropping


def _up_sampling_rule(rank: int) -> Rule:
    def up_sampling(config: Mapping[str, Any], call: Call) -> Shape:
        """UpSampling*: each known spatial dim is multiplied by its ``size`` (up_sampling*.py)."""
        last = True if rank == 1 else is_channels_last(config)  # UpSampling1D has no data_format
        lead, spatial, channels = split_spatial(call.shape(), rank, last)
        sizes = int_tuple(config["size"], rank, "size")
        out = [None if n is None else n * s for n, s in zip(spatial, sizes, strict=True)]
        if rank == 2 and None in spatial:
            # Keras 2 resizes with tf.image.resize on a dynamic size, so one unknown spatial dim
            # makes both unknown (tf_keras backend.resize_images); Keras 3 keeps the known one.
            major = keras_major(config, call)
            if major == 2:
                out = [None, None]
            elif major is None and out != [None, None]:
                raise ShapeUnknown("UpSampling2D on a partly unknown size: Keras 2 and 3 differ")
        return join_spatial(lead, out, channels, last)

    return up_sampling


# No reshaping layer has variables.
weightless("Flatten", "Reshape", "Permute", "RepeatVector")
weightless(*(f"{kind}{r}D" for kind in ("ZeroPadding", "Cropping", "UpSampling") for r in (1, 2, 3)))


register_ranked(_zero_padding_rule, "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D")
register_ranked(_cropping_rule, "Cropping1D", "Cropping2D", "Cropping3D")
register_ranked(_up_sampling_rule, "UpSampling1D", "UpSampling2D", "UpSampling3D")


@rule("Flatten")
def flatten(config: Mapping[str, Any], call: Call) -> Shape:
    """Flatten: (batch, product of the other dims), None if any is unknown (flatten.py).

    data_format only changes the order of the elements, not the shape.
    """
    shape = call.shape()
    if not shape:
        raise ShapeUnknown("Flatten needs an input of rank >= 1")
    rest = shape[1:]
    dims = known(rest)
    return (shape[0], None if dims is None else math.prod(dims))


@rule("Reshape")
def reshape(config: Mapping[str, Any], call: Call) -> Shape:
    """Reshape: operation_utils.compute_reshape_output_shape on the non-batch dims.

    A single -1 is resolved from the input size when every input dim is known,
    otherwise it becomes None.
    """
    shape = call.shape()
    if not shape:
        raise ShapeUnknown("Reshape needs a batched input")
    target = config["target_shape"]
    if not isinstance(target, (list, tuple)) or not all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= -1) for d in target
    ):
        raise ShapeUnknown(f"target_shape {target!r} is not a shape")
    if sum(d == -1 for d in target) > 1:
        raise ShapeUnknown(f"target_shape {target!r} has more than one -1")
    inner = shape[1:]
    dims, want = known(inner), known(target)
    if dims is None or want is None:
        return (shape[0], *(None if d == -1 else d for d in target))
    size = math.prod(dims)
    if -1 not in want:
        if math.prod(want) != size:
            raise ShapeUnknown(f"cannot reshape {inner} to {target}")
        return (shape[0], *want)
    rest = math.prod(d for d in want if d != -1)
    if rest == 0 or size % rest:
        raise ShapeUnknown(f"cannot reshape {inner} to {target}")
    return (shape[0], *(size // rest if d == -1 else d for d in want))


@rule("Permute")
def permute(config: Mapping[str, Any], call: Call) -> Shape:
    """Permute: reorder the non-batch dims by the 1-based ``dims`` (permute.py)."""
    shape = call.shape()
    dims = config["dims"]
    if not isinstance(dims, (list, tuple)) or sorted(dims) != list(range(1, len(dims) + 1)):
        raise ShapeUnknown(f"dims {dims!r} is not a permutation of 1..n")
    if len(shape) != len(dims) + 1:
        raise ShapeUnknown(f"Permute{tuple(dims)} expects rank {len(dims) + 1}, got {shape}")
    return (shape[0], *(shape[d] for d in dims))


@rule("RepeatVector")
def repeat_vector(config: Mapping[str, Any], call: Call) -> Shape:
    """RepeatVector: (batch, features) -> (batch, n, features) (repeat_vector.py)."""
    shape = call.shape()
    if len(shape) != 2:
        raise ShapeUnknown(f"RepeatVector expects rank 2, got {shape}")
    return (shape[0], positive_int(config["n"], "n"), shape[1])


# --- compute cost: data movement is free ----------------------------------------------------------

free("Flatten", "Reshape", "Permute", "RepeatVector")
free(*(f"{kind}{r}D" for kind in ("ZeroPadding", "Cropping") for r in (1, 2, 3)))
free("UpSampling1D", "UpSampling3D")  # repeats elements


@cost("UpSampling2D")
def up_sampling_2d_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """``nearest`` repeats elements (free); the other interpolations weigh 4 neighbours per output
    element (``bilinear``; counted so for every other mode too): 4 element operations."""
    if config.get("interpolation", "nearest") == "nearest":
        return Cost()
    return Cost(0, 4 * elements(output))
