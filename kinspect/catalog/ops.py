"""Shape rules: Keras 3 operations recorded in functional models (keras/src/ops/*.py).

Writing ``x + 1.0``, ``x[:, 0]`` or ``keras.ops.mean(x, axis=1)`` on symbolic tensors
stores an op node: the op's constructor arguments are in its config, its call
arguments (tensors and plain values) in the inbound node's ``args``/``kwargs``.
Each rule mirrors the op's ``compute_output_spec``. Rules are registered as
``"ops.<ClassName>"`` because op class names collide with layer names.

Non-tensor call arguments may arrive as stored in the file: a NumPy constant as
``{"class_name": "__numpy__", "config": {"value": [...], "dtype": ...}}``, a slice
as ``{"class_name": "__slice__", "config": {"start", "stop", "step"}}`` and ``...``
as ``{"class_name": "__ellipsis__", ...}``; Python ``slice``/``Ellipsis`` work too.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
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
    known,
    rule,
)

_MISSING = object()


def _ops(*names: str) -> list[str]:
    return [f"ops.{n}" for n in names]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _arg(call: Call, index: int, name: str, default: Any = _MISSING) -> Any:
    """A call argument given positionally or by keyword."""
    if index < len(call.args):
        return call.args[index]
    if name in call.kwargs:
        return call.kwargs[name]
    if default is _MISSING:
        raise ShapeUnknown(f"op call has no argument {name!r}")
    return default


def _tensor(call: Call, index: int = 0, name: str = "x") -> Shape:
    value = _arg(call, index, name)
    if not is_shape(value):
        raise ShapeUnknown(f"op argument {name!r} is not a tensor")
    return value


def _nested_shape(value: Any) -> Shape:
    """np.shape of a rectangular nested list."""
    if not isinstance(value, list):
        return ()
    inner = [_nested_shape(v) for v in value]
    if any(s != inner[0] for s in inner[1:]):
        raise ShapeUnknown("ragged constant")
    return (len(value),) + (inner[0] if inner else ())


def value_shape(value: Any) -> Shape:
    """Shape Keras's compute_output_spec sees for an argument: ``getattr(x, "shape", [])``."""
    if is_shape(value):
        return value
    if value is None or isinstance(value, (bool, int, float, complex, str)):
        return ()
    if isinstance(value, Mapping) and value.get("class_name") in ("__numpy__", "__tensor__"):
        return _nested_shape(value["config"]["value"])
    raise ShapeUnknown(f"cannot tell the shape of argument {value!r}")


def _axis(axis: Any, rank: int) -> int:
    """backend_utils.canonicalize_axis."""
    if not _is_int(axis) or not -rank <= axis < rank:
        raise ShapeUnknown(f"axis {axis!r} out of range for rank {rank}")
    return axis % rank


def _axes(axis: Any) -> list[Any]:
    """backend_utils.to_tuple_or_list for a non-None axis."""
    if _is_int(axis):
        return [axis]
    if isinstance(axis, (list, tuple)):
        return list(axis)
    raise ShapeUnknown(f"axis {axis!r} is not an int or a list")


def broadcast(shape1: Sequence[Dim], shape2: Sequence[Dim]) -> Shape:
    """operation_utils.broadcast_shapes: None with 1 stays None, None with n gives n."""
    ones: list[Dim] = [1] * abs(len(shape1) - len(shape2))
    s1 = (ones if len(shape1) < len(shape2) else []) + list(shape1)
    s2 = (ones if len(shape2) < len(shape1) else []) + list(shape2)
    out: list[Dim] = []
    for a, b in zip(s1, s2, strict=True):
        if a == 1:
            out.append(b)
        elif a is None:
            out.append(None if b == 1 else b)
        elif b == 1 or b is None or b == a:
            out.append(a)
        else:
            raise ShapeUnknown(f"shapes {tuple(shape1)} and {tuple(shape2)} do not broadcast")
    return tuple(out)


def reduce_shape(shape: Shape, axis: Any = None, keepdims: Any = False) -> Shape:
    """operation_utils.reduce_shape."""
    if axis is None:
        return (1,) * len(shape) if keepdims else ()
    axes = {_axis(a, len(shape)) for a in _axes(axis)}
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _flat(shape: Shape) -> Shape:
    """A flattened tensor: its size, unknown if any dim is."""
    dims = known(shape)
    return (None,) if dims is None else (math.prod(dims),)


# Ops whose output has the shape of their first argument (activations, elementwise math,
# casts, normalizations); from their compute_output_spec, which returns KerasTensor(x.shape).
# fmt: off
SAME_SHAPE = [
    # keras/src/ops/numpy.py
    "Absolute", "Abs", "Fabs", "Angle", "Arccos", "Arccosh", "Arcsin", "Arcsinh", "Arctan", "Arctanh",
    "Array", "BitwiseAnd", "BitwiseInvert", "BitwiseNot", "BitwiseOr", "BitwiseXor", "BitwiseLeftShift",
    "LeftShift", "BitwiseRightShift", "RightShift", "Cbrt", "Ceil", "Clip", "Conjugate", "Conj", "Copy",
    "Corrcoef", "Cos", "Cosh", "Deg2rad", "Rad2deg", "Digitize", "EmptyLike", "Exp", "Exp2", "Expm1",
    "Flip", "Fliplr", "Flipud", "Floor", "FullLike", "Imag", "I0", "Isfinite", "IsIn", "Isinf", "Isnan",
    "Isneginf", "Isposinf", "Isreal", "Log", "Log10", "Log1p", "Log2", "LogicalNot", "NanToNum", "Negative",
    "OnesLike", "ZerosLike", "Real", "Reciprocal", "Roll", "Round", "Sign", "Signbit", "Sin", "Sinc",
    "Sinh", "Sqrt", "Square", "Tan", "Tanh", "Tril", "Triu", "Trunc",
    # keras/src/ops/nn.py
    "Relu", "Relu6", "Sigmoid", "SparseSigmoid", "Softplus", "Softsign", "SoftShrink", "SparsePlus", "Silu",
    "Squareplus", "LogSigmoid", "LeakyRelu", "HardSigmoid", "HardSilu", "Elu", "Selu", "Gelu", "Celu",
    "TanhShrink", "HardTanh", "HardShrink", "Threshold", "Softmax", "LogSoftmax", "Sparsemax", "Normalize",
    "RMSNorm", "LayerNorm", "BatchNorm", "DotProductAttention", "Polar",
    # keras/src/ops/core.py, math.py, linalg.py
    "Cast", "SaturateCast", "ConvertToTensor", "StopGradient", "ScatterUpdate", "SliceUpdate", "Rsqrt",
    "Erf", "Erfc", "Erfinv", "InTopK", "Cholesky", "CholeskyInverse", "Inv",
]
# fmt: on


@rule(*_ops(*SAME_SHAPE))
def same_shape(config: Mapping[str, Any], call: Call) -> Shape:
    return _tensor(call)


# Elementwise binary ops: broadcast_shapes(x1.shape, x2.shape), scalars having shape ().
# fmt: off
BROADCAST = [
    "Add", "Subtract", "Multiply", "Divide", "DivideNoNan", "TrueDivide", "FloorDivide", "Power", "Mod",
    "Fmod", "Maximum", "Minimum", "Fmax", "Fmin", "Equal", "NotEqual", "Greater", "GreaterEqual", "Less",
    "LessEqual", "LogicalAnd", "LogicalOr", "LogicalXor", "Arctan2", "Heaviside", "Hypot", "Logaddexp",
    "Logaddexp2", "Nextafter", "Gcd", "Lcm", "Ldexp", "Isclose",
]
# fmt: on


@rule(*_ops(*BROADCAST))
def binary(config: Mapping[str, Any], call: Call) -> Shape:
    x1, x2 = _arg(call, 0, "x1"), _arg(call, 1, "x2")
    if not (is_shape(x1) or is_shape(x2)):
        raise ShapeUnknown("binary op without a tensor argument")
    return broadcast(value_shape(x1), value_shape(x2))


@rule("ops.Where")
def where(config: Mapping[str, Any], call: Call) -> Shape:
    """Where.compute_output_spec broadcasts condition, x1 and x2 (absent ones count as scalars)."""
    shapes = [value_shape(_arg(call, i, n, None)) for i, n in enumerate(("condition", "x1", "x2"))]
    return broadcast(broadcast(shapes[0], shapes[1]), shapes[2])


# fmt: off
REDUCTIONS = [
    "Mean", "Sum", "Max", "Min", "Amax", "Amin", "Prod", "Std", "Var", "All", "Any", "Argmax", "Argmin",
    "Median", "Ptp", "Nanmean", "Nansum", "Nanmax", "Nanmin", "Nanstd", "Nanvar", "Nanprod", "Nanmedian",
    "Nanargmax", "Nanargmin", "Logsumexp", "CountNonzero",
]
# fmt: on


@rule(*_ops(*REDUCTIONS))
def reduction(config: Mapping[str, Any], call: Call) -> Shape:
    return reduce_shape(_tensor(call), config.get("axis"), config.get("keepdims", False))


@rule("ops.Average")
def average(config: Mapping[str, Any], call: Call) -> Shape:
    """numpy.Average reduces one axis (all of them when axis=None), weights or not."""
    return reduce_shape(_tensor(call), config.get("axis"))


@rule("ops.Moments")
def moments(config: Mapping[str, Any], call: Call) -> list[Shape]:
    """nn.Moments: (mean, variance), both reduced over ``axes``."""
    shape = reduce_shape(_tensor(call), config.get("axes"), config.get("keepdims", False))
    return [shape, shape]


@rule(*_ops("Cumsum", "Cumprod", "Nancumsum", "Nancumprod", "Sort", "Argsort", "Argpartition"))
def along_axis(config: Mapping[str, Any], call: Call) -> Shape:
    """Ops along one axis keep the shape; with ``axis=None`` they work on the flattened tensor."""
    shape = _tensor(call)
    if config.get("axis", -1) is None:
        return _flat(shape)
    return shape


@rule("ops.Ravel")
def ravel(config: Mapping[str, Any], call: Call) -> Shape:
    return _flat(_tensor(call))


@rule("ops.Reshape")
def reshape(config: Mapping[str, Any], call: Call) -> Shape:
    """operation_utils.compute_reshape_output_shape (no special case for the batch dim)."""
    shape = _tensor(call)
    new = config["newshape"]
    if _is_int(new):
        new = [new]
    if not isinstance(new, (list, tuple)):
        raise ShapeUnknown(f"newshape {new!r} is not a list")
    new = [d if _is_int(d) else None for d in new]
    if any(d is not None and d < -1 for d in new) or new.count(-1) > 1:
        raise ShapeUnknown(f"invalid newshape {new}")
    dims, want = known(shape), known(new)
    if dims is None or want is None:
        return tuple(None if d == -1 else d for d in new)
    size = math.prod(dims)
    if -1 not in want:
        if math.prod(want) != size:
            raise ShapeUnknown(f"cannot reshape {shape} to {new}")
        return want
    rest = math.prod(d for d in want if d != -1)
    if rest == 0 or size % rest:
        raise ShapeUnknown(f"cannot reshape {shape} to {new}")
    return tuple(size // rest if d == -1 else d for d in want)


@rule("ops.Transpose")
def transpose(config: Mapping[str, Any], call: Call) -> Shape:
    """operation_utils.compute_transpose_output_shape: axes=None reverses the dims."""
    shape = _tensor(call)
    axes = config.get("axes")
    if axes is None:
        return shape[::-1]
    perm = [_axis(a, len(shape)) for a in _axes(axes)]
    if sorted(perm) != list(range(len(shape))):
        raise ShapeUnknown(f"axes {axes} is not a permutation of rank {len(shape)}")
    return tuple(shape[a] for a in perm)


@rule("ops.Swapaxes")
def swapaxes(config: Mapping[str, Any], call: Call) -> Shape:
    shape = list(_tensor(call))
    a1, a2 = _axis(config["axis1"], len(shape)), _axis(config["axis2"], len(shape))
    shape[a1], shape[a2] = shape[a2], shape[a1]
    return tuple(shape)


@rule("ops.Moveaxis")
def moveaxis(config: Mapping[str, Any], call: Call) -> Shape:
    shape = _tensor(call)
    rank = len(shape)
    src = [_axis(a, rank) for a in _axes(config["source"])]
    dst = [_axis(a, rank) for a in _axes(config["destination"])]
    if len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ShapeUnknown("moveaxis source and destination do not match")
    rest: Iterator[Dim] = iter(d for i, d in enumerate(shape) if i not in src)
    placed = dict(zip(dst, (shape[s] for s in src), strict=True))
    return tuple(placed[i] if i in placed else next(rest) for i in range(rank))


@rule("ops.ExpandDims")
def expand_dims(config: Mapping[str, Any], call: Call) -> Shape:
    """operation_utils.compute_expand_dims_output_shape."""
    shape = _tensor(call)
    axis = config.get("axis")
    axes = [len(shape)] if axis is None else _axes(axis)
    rank = len(shape) + len(axes)
    new = {_axis(a, rank) for a in axes}
    dims = iter(shape)
    return tuple(1 if i in new else next(dims) for i in range(rank))


@rule("ops.Squeeze")
def squeeze(config: Mapping[str, Any], call: Call) -> Shape:
    """Squeeze: axis=None drops every dim equal to 1; named axes must be 1."""
    shape = _tensor(call)
    axis = config.get("axis")
    if axis is None:
        return tuple(d for d in shape if d != 1)
    axes = {_axis(a, len(shape)) for a in _axes(axis)}
    if any(shape[a] != 1 for a in axes):
        raise ShapeUnknown(f"cannot squeeze axes {axis} of {shape}")
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _tensor_list(call: Call, name: str) -> list[Shape]:
    value = _arg(call, 0, name)
    if not isinstance(value, (list, tuple)) or not value or not all(is_shape(v) for v in value):
        raise ShapeUnknown(f"op argument {name!r} is not a list of tensors")
    return list(value)


def _same_except(shapes: list[Shape], axis: int | None) -> None:
    """numpy.shape_equal(..., allow_none=True) against the first shape."""
    first = shapes[0]
    for shape in shapes[1:]:
        if len(shape) != len(first) or any(
            i != axis and a is not None and b is not None and a != b
            for i, (a, b) in enumerate(zip(first, shape, strict=True))
        ):
            raise ShapeUnknown(f"shapes {first} and {shape} do not match")


@rule("ops.Concatenate")
def concatenate(config: Mapping[str, Any], call: Call) -> Shape:
    """numpy.Concatenate: the first input's dims, summed along ``axis`` (default 0)."""
    shapes = _tensor_list(call, "xs")
    axis = _axis(config.get("axis", 0), len(shapes[0]))
    _same_except(shapes, axis)
    sizes = [s[axis] for s in shapes]
    out = list(shapes[0])
    out[axis] = None if None in sizes else sum(sizes)  # type: ignore[arg-type]
    return tuple(out)


@rule("ops.Stack")
def stack(config: Mapping[str, Any], call: Call) -> Shape:
    shapes = _tensor_list(call, "x")
    _same_except(shapes, None)
    axis = _axis(config.get("axis", 0), len(shapes[0]) + 1)
    out = list(shapes[0])
    out.insert(axis, len(shapes))
    return tuple(out)


@rule("ops.Unstack")
def unstack(config: Mapping[str, Any], call: Call) -> list[Shape]:
    shape = _tensor(call)
    axis = _axis(config.get("axis", 0), len(shape))
    num = config.get("num")
    if num is None:
        num = shape[axis]
    if not isinstance(num, int) or isinstance(num, bool):
        raise ShapeUnknown("unstack along an unknown dim")
    return [shape[:axis] + shape[axis + 1 :]] * num


@rule("ops.Split")
def split(config: Mapping[str, Any], call: Call) -> list[Shape]:
    """numpy._compute_split_output_spec: equal sections or split points."""
    shape = list(_tensor(call))
    axis = _axis(config.get("axis", 0), len(shape))
    size = shape[axis]
    sections = config["indices_or_sections"]
    if _is_int(sections):
        if sections <= 0 or (size is not None and size % sections):
            raise ShapeUnknown(f"cannot split {size} into {sections}")
        shape[axis] = None if size is None else size // sections
        return [tuple(shape)] * sections
    if not isinstance(sections, (list, tuple)) or not all(_is_int(i) for i in sections):
        raise ShapeUnknown(f"indices_or_sections {sections!r}")
    bounds = [0, *sections, size]
    outs = []
    for start, end in itertools.pairwise(bounds):
        shape[axis] = None if start is None or end is None else end - start
        outs.append(tuple(shape))
    return outs


@rule("ops.Slice")
def slice_op(config: Mapping[str, Any], call: Call) -> Shape:
    """core.Slice: ``shape`` is the output, a -1 running to the end of the input dim."""
    shape = _tensor(call, 0, "inputs")
    sizes = config["shape"]
    start = _arg(call, 1, "start_indices")
    if not isinstance(sizes, (list, tuple)) or len(sizes) != len(shape):
        raise ShapeUnknown(f"slice shape {sizes!r} does not fit {shape}")
    out: list[Dim] = []
    for i, (dim, size) in enumerate(zip(shape, sizes, strict=True)):
        if not _is_int(size):
            raise ShapeUnknown(f"slice shape {sizes!r}")
        if size != -1:
            out.append(size)
        elif is_shape(start) or dim is None:
            out.append(None)  # start indices only known at run time
        else:
            out.append(dim - start[i])
    return tuple(out)


@rule("ops.Tile")
def tile(config: Mapping[str, Any], call: Call) -> Shape:
    shape: list[Dim] = list(_tensor(call))
    repeats = _axes(config["repeats"])
    if not all(_is_int(r) for r in repeats):
        raise ShapeUnknown(f"repeats {repeats!r}")
    ones: list[Dim] = [1] * (len(repeats) - len(shape))
    shape = ones + shape
    repeats = [1] * (len(shape) - len(repeats)) + repeats
    return tuple(None if d is None else d * r for d, r in zip(shape, repeats, strict=True))


@rule("ops.Repeat")
def repeat(config: Mapping[str, Any], call: Call) -> Shape:
    shape = list(_tensor(call))
    repeats = _axes(config["repeats"])
    if not all(_is_int(r) for r in repeats):
        raise ShapeUnknown(f"repeats {repeats!r}")
    axis = config.get("axis")
    if axis is None:
        dims = known(shape)
        if dims is None:
            return (None,)
        size = math.prod(dims)
        if len(repeats) == 1:
            return (size * repeats[0],)
        if len(repeats) != size:
            raise ShapeUnknown("repeats does not match the flattened size")
        return (sum(repeats),)
    axis = _axis(axis, len(shape))
    if shape[axis] is None:
        return tuple(shape)
    if len(repeats) == 1:
        shape[axis] *= repeats[0]
    elif len(repeats) != shape[axis]:
        raise ShapeUnknown("repeats does not match the axis size")
    else:
        shape[axis] = sum(repeats)
    return tuple(shape)


@rule("ops.Pad")
def pad(config: Mapping[str, Any], call: Call) -> Shape:
    """numpy.Pad: one (before, after) pair for every dim, or one pair for all."""
    shape = _tensor(call)
    width = config["pad_width"]
    if _is_int(width):
        width = [[width, width]]
    elif isinstance(width, (list, tuple)) and width and _is_int(width[0]):
        width = [width]
    pairs = [list(p) * 2 if len(p) == 1 else list(p) for p in width]
    if len(pairs) == 1:
        pairs = pairs * len(shape)
    if len(pairs) != len(shape) or any(len(p) != 2 or not all(_is_int(v) for v in p) for p in pairs):
        raise ShapeUnknown(f"pad_width {config['pad_width']!r} does not fit rank {len(shape)}")
    return tuple(None if d is None else d + p[0] + p[1] for d, p in zip(shape, pairs, strict=True))


@rule("ops.BroadcastTo")
def broadcast_to(config: Mapping[str, Any], call: Call) -> Shape:
    target = config["shape"]
    target = [target] if _is_int(target) else target
    if not isinstance(target, (list, tuple)) or not all(d is None or _is_int(d) for d in target):
        raise ShapeUnknown(f"broadcast_to shape {target!r}")
    broadcast(_tensor(call), target)
    return tuple(target)


@rule("ops.Diff")
def diff(config: Mapping[str, Any], call: Call) -> Shape:
    shape = list(_tensor(call, 0, "a"))
    axis = _axis(config.get("axis", -1), len(shape))
    n = config.get("n", 1)
    if shape[axis] is not None:
        shape[axis] = max(shape[axis] - n, 0)
    return tuple(shape)


@rule("ops.Glu")
def glu(config: Mapping[str, Any], call: Call) -> Shape:
    """nn.Glu halves ``axis``."""
    shape = list(_tensor(call))
    axis = _axis(config.get("axis", -1), len(shape))
    half = shape[axis]
    if half is not None:
        if half % 2:
            raise ShapeUnknown("glu axis size must be even")
        shape[axis] = half // 2
    return tuple(shape)


@rule("ops.TopK")
def top_k(config: Mapping[str, Any], call: Call) -> list[Shape]:
    """math.TopK: (values, indices) with the last dim replaced by k."""
    shape = _tensor(call)
    k = config["k"]
    if not shape or not _is_int(k):
        raise ShapeUnknown("top_k needs a rank >= 1 tensor and an int k")
    return [(*shape[:-1], k)] * 2


def _insert_classes(config: Mapping[str, Any], shape: Shape) -> list[Dim]:
    out = list(shape)
    num, axis = config["num_classes"], config.get("axis", -1)
    if not _is_int(num):
        raise ShapeUnknown(f"num_classes {num!r}")
    if axis == -1:
        out.append(num)
    elif _is_int(axis) and 0 <= axis < len(out):
        out.insert(axis, num)
    else:
        raise ShapeUnknown(f"one_hot axis {axis!r}")
    return out


@rule("ops.OneHot")
def one_hot(config: Mapping[str, Any], call: Call) -> Shape:
    """nn.OneHot inserts ``num_classes`` at ``axis``."""
    return tuple(_insert_classes(config, _tensor(call)))


@rule("ops.MultiHot")
def multi_hot(config: Mapping[str, Any], call: Call) -> Shape:
    """nn.MultiHot: one-hot, then the dim after the batch dim is reduced away."""
    out = _insert_classes(config, _tensor(call, 0, "inputs"))
    return tuple(out[-1:] if len(out) == 2 else out[:1] + out[2:])


@rule("ops.Take")
def take(config: Mapping[str, Any], call: Call) -> Shape:
    """numpy.Take: the indices' shape replaces ``axis`` (or is the output when axis=None)."""
    shape = _tensor(call)
    indices = value_shape(_arg(call, 1, "indices"))
    axis = config.get("axis")
    if axis is None:
        return indices
    axis = _axis(axis, len(shape))
    return shape[:axis] + indices + shape[axis + 1 :]


@rule("ops.TakeAlongAxis")
def take_along_axis(config: Mapping[str, Any], call: Call) -> Shape:
    """operation_utils.compute_take_along_axis_output_shape."""
    shape = list(_tensor(call))
    indices = _tensor(call, 1, "indices")
    axis = config.get("axis")
    if axis is None:
        shape, axis = list(_flat(tuple(shape))), 0
    if len(shape) != len(indices):
        raise ShapeUnknown("take_along_axis: x and indices ranks differ")
    axis = _axis(axis, len(shape))
    shape[axis] = indices[axis]
    return broadcast(shape, indices)


@rule("ops.Matmul")
def matmul(config: Mapping[str, Any], call: Call) -> Shape:
    """operation_utils.compute_matmul_output_shape (1-D operands are promoted, then dropped)."""
    s1, s2 = value_shape(_arg(call, 0, "x1")), value_shape(_arg(call, 1, "x2"))
    if not s1 or not s2:
        raise ShapeUnknown("matmul of a scalar")
    v1, v2 = len(s1) == 1, len(s2) == 1
    m1 = (1, *s1) if v1 else s1
    m2 = (*s2, 1) if v2 else s2
    if m1[-1] is not None and m2[-2] is not None and m1[-1] != m2[-2]:
        raise ShapeUnknown(f"matmul inner dims differ: {s1} @ {s2}")
    out = [*list(broadcast(m1[:-2], m2[:-2])), m1[-2], m2[-1]]
    if v1:
        del out[-2]
    if v2:
        del out[-1]
    return tuple(out)


@rule("ops.Dot")
def np_dot(config: Mapping[str, Any], call: Call) -> Shape:
    """numpy.Dot: contracts x1's last dim with x2's second-to-last (or only) dim."""
    s1, s2 = value_shape(_arg(call, 0, "x1")), value_shape(_arg(call, 1, "x2"))
    if not s1 or not s2:
        return broadcast(s1, s2)
    if len(s1) == 1 and len(s2) == 1:
        return ()
    if len(s2) == 1:
        if s1[-1] != s2[0]:
            raise ShapeUnknown(f"dot: {s1} and {s2} do not match")
        return s1[:-1]
    if s1[-1] is not None and s2[-2] is not None and s1[-1] != s2[-2]:
        raise ShapeUnknown(f"dot: {s1} and {s2} do not match")
    return s1[:-1] + s2[:-2] + s2[-1:]


@rule("ops.Tensordot")
def tensordot(config: Mapping[str, Any], call: Call) -> Shape:
    s1, s2 = value_shape(_arg(call, 0, "x1")), value_shape(_arg(call, 1, "x2"))
    axes = config.get("axes", 2)
    if _is_int(axes):
        return s1 + s2 if axes <= 0 else s1[:-axes] + s2[axes:]
    if not isinstance(axes, (list, tuple)) or len(axes) != 2:
        raise ShapeUnknown(f"tensordot axes {axes!r}")
    a1, a2 = ({_axis(a, len(s)) for a in _axes(ax)} for ax, s in zip(axes, (s1, s2), strict=True))
    return tuple(d for i, d in enumerate(s1) if i not in a1) + tuple(
        d for i, d in enumerate(s2) if i not in a2
    )


@rule("ops.Einsum")
def einsum(config: Mapping[str, Any], call: Call) -> Shape:
    """numpy.Einsum.compute_output_spec: map each operand onto the output spec, then broadcast."""
    subscripts = config["subscripts"]
    if not isinstance(subscripts, str):
        raise ShapeUnknown("einsum subscripts is not a string")
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    specs = inputs.split(",")
    operands = [value_shape(a) for a in call.args]
    if len(specs) != len(operands) or "->" in output:
        raise ShapeUnknown("einsum operands do not match the subscripts")
    if not arrow:
        letters = [c for c in inputs if c.isalpha()]
        output = "..." + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    out_head, out_dots, out_tail = output.partition("...")
    result: Shape | None = None
    for shape, spec in zip(operands, specs, strict=True):
        head, dots, tail = spec.partition("...")
        if len(spec) != len(shape) if not dots else len(head) + len(tail) > len(shape):
            raise ShapeUnknown(f"einsum spec {spec!r} does not fit shape {shape}")
        # Keras substitutes letters into the output spec in this order, the first one winning.
        dims: dict[str, Dim] = {}
        for c, d in zip(head, shape, strict=False):
            dims.setdefault(c, d)
        for c, d in zip(reversed(tail), reversed(shape), strict=False):
            dims.setdefault(c, d)
        expanded = [dims.get(c, 1) for c in out_head]
        if out_dots and dots:
            expanded += shape[len(head) : len(shape) - len(tail)]
        expanded += [dims.get(c, 1) for c in out_tail]
        result = tuple(expanded) if result is None else broadcast(result, expanded)
    if result is None:
        raise ShapeUnknown("einsum without operands")
    return result


def _key_item(item: Any) -> Any:
    """Decode one stored slice-key element into int, None (newaxis), slice or Ellipsis."""
    if isinstance(item, Mapping):
        kind = item.get("class_name")
        if kind == "__ellipsis__":
            return Ellipsis
        if kind == "__slice__":
            c = item.get("config", {})
            return slice(c.get("start"), c.get("stop"), c.get("step"))
        raise ShapeUnknown(f"unsupported slice key element {item!r}")
    if item is None or item is Ellipsis or isinstance(item, slice) or _is_int(item):
        return item
    raise ShapeUnknown(f"unsupported slice key element {item!r}")


@rule("ops.GetItem")
def get_item(config: Mapping[str, Any], call: Call) -> Shape:
    """numpy.GetItem.compute_output_spec: ints drop a dim, slices resize it, None adds one."""
    shape = list(_tensor(call))
    key = _arg(call, 1, "key")
    if isinstance(key, (list, tuple)):
        items = [_key_item(k) for k in key]
    elif _is_int(key):
        items = [key]
    else:
        # Keras accepts only an int, tuple or list key; a lone slice/None is rejected.
        raise ShapeUnknown(f"unsupported slice key {key!r}")
    if items.count(Ellipsis) > 1:
        raise ShapeUnknown("more than one ellipsis in slice key")
    if Ellipsis not in items:
        items.append(Ellipsis)
    out: list[Dim] = []
    while items:
        item = items.pop(0)
        if item is Ellipsis:
            consumed = len(shape) - (len(items) - items.count(None))
            if consumed < 0:
                raise ShapeUnknown("too many indices in slice key")
            out += shape[:consumed]
            shape = shape[consumed:]
            continue
        if item is None:
            out.append(1)
            continue
        if not shape:
            raise ShapeUnknown("too many indices in slice key")
        length = shape.pop(0)
        if isinstance(item, slice):
            if not all(v is None or _is_int(v) for v in (item.start, item.stop, item.step)) or item.step == 0:
                raise ShapeUnknown(f"unsupported slice {item}")
            out.append(None if length is None else len(range(*item.indices(length))))
        elif length is not None and not -length <= item < length:
            raise ShapeUnknown(f"index {item} out of range for dim {length}")
    return tuple(out)


# --- compute cost (where countable) ---------------------------------------------------------------

# Data movement and value-free ops: no arithmetic.
_MOVES = [
    "Reshape", "Transpose", "Swapaxes", "Moveaxis", "ExpandDims", "Squeeze", "Concatenate", "Stack",
    "Unstack", "Split", "Slice", "Tile", "Repeat", "Pad", "BroadcastTo", "GetItem", "Ravel", "Take",
    "TakeAlongAxis", "Flip", "Fliplr", "Flipud", "Roll", "Copy", "Array", "Cast", "SaturateCast",
    "ConvertToTensor", "StopGradient", "OnesLike", "ZerosLike", "EmptyLike", "FullLike", "Real", "Imag",
]  # fmt: skip
free(*_ops(*_MOVES))
_SOFTMAX = ("Softmax", "LogSoftmax")
_NOT_ELEMENTWISE = {"Corrcoef", "Digitize", "IsIn", "Tril", "Triu", "Normalize", "RMSNorm", "LayerNorm",
                    "BatchNorm", "DotProductAttention", "ScatterUpdate", "SliceUpdate", "InTopK",
                    "Cholesky", "CholeskyInverse", "Inv", "Sparsemax"}  # fmt: skip


@cost(*_ops(*(n for n in SAME_SHAPE if n not in (*_MOVES, *_SOFTMAX) and n not in _NOT_ELEMENTWISE)))
def unary_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """1 per element (3 for softmax: exp, sum, divide)."""
    return Cost(0, elements(output))


@cost(*_ops(*_SOFTMAX))
def softmax_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """3 per element: exp, sum, divide."""
    return Cost(0, 3 * elements(output))


@cost(*_ops(*BROADCAST), "ops.Where")
def binary_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """1 per (broadcast) output element."""
    return Cost(0, elements(output))


@cost(*_ops(*REDUCTIONS))
def reduction_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """1 per input element."""
    return Cost(0, elements(_tensor(call), "input"))


@cost("ops.Matmul", "ops.Dot")
def matmul_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """Each output element sums over the contracted dim: ``elements(output) × inner`` MACs."""
    s1 = value_shape(_arg(call, 0, "x1"))
    if not s1 or s1[-1] is None:
        raise ShapeUnknown("matmul of a scalar or over an unknown dim")
    if not is_shape(output):
        raise ShapeUnknown("matmul output is not one tensor")
    return Cost(elements(output) * s1[-1])


# Ops whose output is boolean (1 byte per value), whatever the dtype policy: comparisons and
# logical ops (keras/src/ops/numpy.py ``compute_output_spec``: ``dtype="bool"``).
BOOL_OUTPUT = frozenset(
    _ops("Equal", "NotEqual", "Greater", "GreaterEqual", "Less", "LessEqual", "LogicalAnd", "LogicalOr",
         "LogicalXor", "LogicalNot", "Isfinite", "Isinf", "Isnan", "Isneginf", "Isposinf", "Isclose",
         "IsIn", "Signbit", "All", "Any")
)  # fmt: skip
