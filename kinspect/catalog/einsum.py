"""EinsumDense's equation analysis, shared by its shape rule and its expected weights.

A port of ``_analyze_einsum_string`` / ``_analyze_split_string``
(keras/src/layers/core/einsum_dense.py; tf_keras/src/layers/core/einsum_dense.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kinspect.catalog.registry import Dim, Shape, ShapeUnknown

# The equation forms Keras accepts, matched on the equation with "..." replaced by "0":
# (pattern, whether the ellipsis is on the left).
_FORMS = (
    (r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", False),
    (r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", True),
    (r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", False),
)


@dataclass(frozen=True)
class _Analysis:
    """An equation applied to an input shape: the specs, and Keras 3's output shape."""

    input_spec: str
    weight_spec: str
    output_spec: str
    left: bool  # the ellipsis is on the left
    elided: int  # input axes the ellipsis stands for
    output: list[Dim]  # the configured output_shape with the batch and elided axes inserted
    input_map: dict[str, int]  # axis letter -> index into the input shape
    output_map: dict[str, int]  # axis letter -> index into ``output``


def _analyze(equation: str, input_shape: Shape, partial: Sequence[Any]) -> _Analysis:
    """Split ``equation`` as Keras does (``re.match``) and lay out the output axes."""
    replaced = equation.replace("...", "0")
    found = next(((m, left) for p, left in _FORMS if (m := re.match(p, replaced))), None)
    if found is None:
        raise ShapeUnknown(f"invalid einsum equation {equation!r}")
    match, left = found
    input_spec, weight_spec, output_spec = match.groups()
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
    return _Analysis(input_spec, weight_spec, output_spec, left, elided, output, input_map, output_map)


def einsum_output(
    equation: str, input_shape: Shape, partial: Sequence[Any], keras_major: int | None
) -> Shape:
    """The layer's output shape for the Keras that wrote the file (2, 3, or None: unknown).

    Keras 3's symbolic output keeps every ``None`` of the configured ``output_shape`` and inserts
    left-elided axes in reverse order (its ``compute_output_shape`` is used as is), while tf.keras 2
    runs the einsum, so shared axes and elided axes take the input's dims. With ``keras_major``
    None the answer is known only where the two agree.
    """
    a = _analyze(equation, input_shape, partial)
    for d in a.input_spec:
        if d in a.output_map and a.output[a.output_map[d]] not in (None, input_shape[a.input_map[d]]):
            raise ShapeUnknown(f"einsum axis {d!r}: input and output_shape disagree")
    for d in a.output_spec:
        if d not in a.input_spec and d not in a.weight_spec:
            raise ShapeUnknown(f"einsum output axis {d!r} appears in neither input nor weight")
    for d in a.weight_spec:
        if d not in a.output_map and d not in a.input_map:
            raise ShapeUnknown(f"einsum weight axis {d!r} appears in neither input nor output")
        if d in a.output_map and a.output[a.output_map[d]] is None:
            raise ShapeUnknown(f"einsum weight axis {d!r} has no size")

    keras3 = list(a.output)
    keras2 = list(a.output)
    if a.elided > 0 and a.left:
        keras2[1 : a.elided] = input_shape[1 : a.elided]
    for d in a.output_spec:
        if d in a.input_map:
            keras2[a.output_map[d]] = input_shape[a.input_map[d]]
    if keras_major == 2 or (keras_major is None and keras2 == keras3):
        return tuple(keras2)
    if keras_major == 3:
        return tuple(keras3)
    raise ShapeUnknown("EinsumDense output differs between Keras 2 and 3 and the config's version is unclear")


def einsum_weights(
    equation: str, bias_axes: str | None, input_shape: Shape, partial: Sequence[Any]
) -> tuple[list[Dim], list[Dim] | None]:
    """``(kernel, bias)`` shapes; bias is None without ``bias_axes``.

    A weight axis that is in both the input and the output takes the configured output dim
    (Keras 3) or the input dim (tf_keras); they agree whenever Keras can build the layer.
    """
    a = _analyze(equation, input_shape, partial)
    kernel = []
    for d in a.weight_spec:
        if d not in a.output_map and d not in a.input_map:
            raise ShapeUnknown(f"einsum weight axis {d!r} is in neither input nor output")
        out_dim = a.output[a.output_map[d]] if d in a.output_map else None
        in_dim = input_shape[a.input_map[d]] if d in a.input_map else None
        kernel.append(out_dim if out_dim is not None else in_dim)
    if not bias_axes:
        return kernel, None
    offset = a.elided if a.left else 0
    dims = {c: a.output[i + offset] for i, c in enumerate(a.output_spec)}
    if any(c not in a.output_spec for c in bias_axes):
        raise ShapeUnknown(f"bias axes {bias_axes!r} not in output {a.output_spec!r}")
    first = min(a.output_spec.find(c) for c in bias_axes)
    bias = [dims[c] if c in bias_axes else 1 for c in a.output_spec[first:]]
    if not a.left:
        bias += [1] * max(a.elided, 0)
    return kernel, bias


def einsum_macs(equation: str, input_shape: Shape, partial: Sequence[Any]) -> int:
    """Multiply-accumulates of the layer's einsum on one sample: one per combination of all its
    axes, i.e. the input's elements times the dims of the kernel axes the input does not have."""
    a = _analyze(equation, input_shape, partial)
    kernel, _ = einsum_weights(equation, None, input_shape, partial)
    macs = 1
    for i, d in enumerate(input_shape):
        if d is None:
            if i == 0:  # the batch: one sample
                continue
            raise ShapeUnknown(f"input shape {input_shape} has unknown dims (give a length: --seq-len N)")
        macs *= d
    for letter, dim in zip(a.weight_spec, kernel, strict=True):
        if letter not in a.input_spec:
            if dim is None:
                raise ShapeUnknown(f"einsum weight axis {letter!r} has no size")
            macs *= dim
    return macs
