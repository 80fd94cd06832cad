"""Merge layers (keras/src/layers/merging, tf_keras/src/layers/merging): shape rules; no variables.

Keras 3 computes a merge's symbolic output with ``compute_output_shape``; Keras 2
instead runs ``call`` on placeholders, so its shapes follow TensorFlow's static
shape inference. The two differ only when an unknown dim meets a known one
(Keras 3 keeps ``None`` or the first input's dim, TensorFlow merges them). The
file's version (``Call.keras_major``) or the config's dtype policy picks one;
when the answers differ and the version is unclear the rule raises ShapeUnknown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kinspect.catalog.registry import (
    Call,
    Cost,
    Dim,
    Shape,
    ShapeTree,
    ShapeUnknown,
    cost,
    elements,
    free,
    is_shape,
    keras_major,
    rule,
    weightless,
)


def by_version(
    config: Mapping[str, Any], call: Call, keras3: Callable[[], Shape], keras2: Callable[[], Shape]
) -> Shape:
    """Pick the Keras 3 or Keras 2 answer; when the version is unknown both must agree."""
    major = keras_major(config, call)
    if major == 3:
        return keras3()
    if major == 2:
        return keras2()
    out3, out2 = keras3(), keras2()
    if out3 != out2:
        raise ShapeUnknown(
            f"Keras 2 gives {out2} and Keras 3 gives {out3}; the file's Keras version is unclear"
        )
    return out3


def _merge_dim(a: Dim, b: Dim) -> Dim:
    """TensorFlow's broadcast of two static dims (unknown merges with a known dim > 1)."""
    if a == 1:
        return b
    if b == 1:
        return a if a is not None else None
    if a is None:
        return b
    if b is None or a == b:
        return a
    raise ShapeUnknown(f"dims {a} and {b} do not broadcast")


def _elemwise_keras3(shape1: Shape, shape2: Shape) -> Shape:
    """Merge._compute_elemwise_op_output_shape: any None dim stays None."""
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return shape1
    out = list(shape1[: -len(shape2)])
    for i, j in zip(shape1[-len(shape2) :], shape2, strict=True):
        if i is None or j is None:
            out.append(None)
        elif i == 1:
            out.append(j)
        elif j == 1 or i == j:
            out.append(i)
        else:
            raise ShapeUnknown(f"incompatible merge shapes {shape1} and {shape2}")
    return tuple(out)


def _merge_keras3(shapes: list[Shape]) -> Shape:
    """keras.src.layers.merging.base_merge.Merge.compute_output_shape."""
    out = shapes[0][1:]
    for shape in shapes[1:]:
        out = _elemwise_keras3(out, shape[1:])
    batch = {s[0] for s in shapes} - {None}
    if len(batch) > 1:
        raise ShapeUnknown(f"merge of different batch sizes {shapes}")
    return (batch.pop() if batch else None, *out)


def _merge_keras2(shapes: list[Shape]) -> Shape:
    """tf_keras Merge.call: ranks equalized by expand_dims(axis=1), then TF broadcasting."""
    rank = max(len(s) for s in shapes)
    out: Shape | None = None
    for shape in shapes:
        shape = shape[:1] + (1,) * (rank - len(shape)) + shape[1:] if shape else (1,) * rank
        out = shape if out is None else tuple(_merge_dim(a, b) for a, b in zip(out, shape, strict=True))
    assert out is not None
    return out


def _inputs(call: Call, exactly: int | None = None) -> list[Shape]:
    if is_shape(call.x):
        raise ShapeUnknown("a merge layer must be called on a list of tensors")
    shapes = call.shapes()
    if not shapes or (exactly is not None and len(shapes) != exactly):
        raise ShapeUnknown(f"merge layer called on {len(shapes)} inputs")
    return shapes


# No merge layer has variables.
weightless("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot")


@rule("Add", "Multiply", "Average", "Maximum", "Minimum")
def elementwise(config: Mapping[str, Any], call: Call) -> Shape:
    shapes = _inputs(call)
    return by_version(config, call, lambda: _merge_keras3(shapes), lambda: _merge_keras2(shapes))


@rule("Subtract")
def subtract(config: Mapping[str, Any], call: Call) -> Shape:
    """Subtract.build insists on exactly two inputs."""
    shapes = _inputs(call, exactly=2)
    return by_version(config, call, lambda: _merge_keras3(shapes), lambda: _merge_keras2(shapes))


def _axis(axis: Any, rank: int) -> int:
    if not isinstance(axis, int) or isinstance(axis, bool) or not -rank <= axis < rank:
        raise ShapeUnknown(f"axis {axis!r} out of range for rank {rank}")
    return axis % rank


def _concat_keras3(shapes: list[Shape], axis: int) -> Shape:
    """Concatenate.compute_output_shape: the first input's dims, summed along ``axis``."""
    out = list(shapes[0])
    for shape in shapes[1:]:
        total, dim = out[axis], shape[axis]
        if total is None or dim is None:
            out[axis] = None
            break
        out[axis] = total + dim
    return tuple(out)


def _concat_keras2(shapes: list[Shape], axis: int) -> Shape:
    """tf.concat's static shape: the other dims are merged across inputs."""
    out = list(shapes[0])
    for shape in shapes[1:]:
        for i, (a, b) in enumerate(zip(out, shape, strict=True)):
            if i == axis:
                out[i] = None if a is None or b is None else a + b
            elif a is None:
                out[i] = b
            elif b is not None and a != b:
                raise ShapeUnknown(f"concatenate: dims {a} and {b} differ off the axis")
    return tuple(out)


@rule("Concatenate")
def concatenate(config: Mapping[str, Any], call: Call) -> Shape:
    shapes = _inputs(call)
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise ShapeUnknown(f"concatenate of tensors with different ranks {shapes}")
    axis = _axis(config.get("axis", -1), rank)
    return by_version(
        config, call, lambda: _concat_keras3(shapes, axis), lambda: _concat_keras2(shapes, axis)
    )


@rule("Dot")
def dot(config: Mapping[str, Any], call: Call) -> Shape:
    """Dot.compute_output_shape (same in Keras 2): drop the contracted axes and y's batch."""
    shape1, shape2 = (list(s) for s in _inputs(call, exactly=2))
    axes = config.get("axes")
    if isinstance(axes, int) and not isinstance(axes, bool):
        pair = [axes % len(shape1), axes % len(shape2)] if axes < 0 else [axes, axes]
    elif isinstance(axes, (list, tuple)) and len(axes) == 2:
        # Keras's call takes negative pair entries modulo each input's rank.
        pair = [_axis(a, len(s)) for a, s in zip(axes, (shape1, shape2), strict=True)]
    else:
        raise ShapeUnknown(f"Dot axes {axes!r} is neither an int nor a pair")
    if len(shape1) < 2 or len(shape2) < 2 or 0 in pair:
        raise ShapeUnknown("Dot needs rank >= 2 inputs and cannot contract the batch axis")
    d1, d2 = shape1.pop(pair[0]), shape2.pop(pair[1])
    if d1 is not None and d2 is not None and d1 != d2:
        raise ShapeUnknown(f"Dot contracts dims of sizes {d1} and {d2}")
    shape2.pop(0)
    out = shape1 + shape2
    return tuple([*out, 1] if len(out) == 1 else out)


# --- compute cost (element-wise) ------------------------------------------------------------------

free("Concatenate")  # data movement


@cost("Add", "Subtract", "Multiply", "Maximum", "Minimum")
def merge_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """``inputs - 1`` operations per output element."""
    return Cost(0, (len(_merged(call)) - 1) * elements(output))


@cost("Average")
def average_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """``inputs - 1`` adds and one divide per output element."""
    return Cost(0, len(_merged(call)) * elements(output))


def _merged(call: Call) -> list[Shape]:
    """A merge layer's inputs: a list of tensors (one tensor is not a merge layer's call; an
    operation a file stored without its module looks like that)."""
    if is_shape(call.x):
        raise ShapeUnknown("a merge layer must be called on a list of tensors")
    return call.shapes()


@cost("Dot")
def dot_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """Each output element sums the product over the contracted axis: ``elements(output) ×
    contracted dim`` MACs; ``normalize`` adds 2 operations per input element (square-accumulate,
    divide)."""
    x, y = call.shapes()[:2]
    axes = config.get("axes")
    axis = axes[0] if isinstance(axes, (list, tuple)) else axes
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise ShapeUnknown(f"Dot axes {axes!r}")
    contracted = x[axis % len(x)]
    if contracted is None:
        raise ShapeUnknown("Dot contracts an unknown dim")
    extra = 2 * (elements(x) + elements(y)) if config.get("normalize") else 0
    return Cost(elements(output) * contracted, extra)
