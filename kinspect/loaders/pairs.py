"""Streaming comparison of paired tensors of two files, computed in the isolated reader child.

Like the statistics of :mod:`kinspect.loaders.arrays` (whose file access this reuses), values
are read in bounded slices in a forked child with a deadline and a memory ceiling, and what comes
back is JSON: per pair of tensors the sums from which every figure of a diff follows (sum of
squared differences, the two squared norms, their dot product, the largest difference, how many
elements differ beyond the tolerances, NaN and Inf that appeared), and whether the stored bytes are
identical. Both tensors are read side by side, slice against slice, so memory stays bounded
whatever their size, and their layouts (raw, chunked, a checkpoint shard, another dtype) may differ.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from kinspect.errors import InputError
from kinspect.loaders.arrays import (
    SECONDS_PER_GB,
    SLICE_BYTES,
    Files,
    Stored,
    decode,
    single_threaded_blas,
    sources,
)
from kinspect.loaders.base import READ_ERRORS, BundleSource, one_line
from kinspect.loaders.isolate import start
from kinspect.loaders.readers import balance, gather
from kinspect.model import ModelInfo

if TYPE_CHECKING:
    import numpy as np

CHUNK = 1 << 20  # bytes compared at a time by identical_files
MIN_BYTES_PER_CHILD = 64 << 20  # below this a second child costs more (a fork) than it saves


def read_pairs(
    a: ModelInfo, b: ModelInfo, most: int = 1, sizes: Mapping[str, int] | None = None
) -> Callable[[Sequence[tuple[str, str]], float, float, int], Callable[[], dict[str, Any]]]:
    """A reader of paired tensors of ``a`` and ``b`` (dataset paths or checkpoint keys): given the
    pairs, ``atol``, ``rtol`` and the bytes to read, starts reading at once in up to ``most``
    isolated children (at most one per core and per MIN_BYTES_PER_CHILD; each next largest pair,
    by ``sizes`` of A's tensors, to the least loaded child) and returns a function that waits for
    the sums of each pair, keyed by the pair's index as a string."""

    def read(pairs: Sequence[tuple[str, str]], atol: float, rtol: float, nbytes: int) -> Callable[[], Any]:
        if not pairs:
            return dict
        srcs_a, srcs_b = sources(a), sources(b)
        for info, srcs in ((a, srcs_a), (b, srcs_b)):
            if not srcs:
                raise InputError(info.path, "holds no weights to read")
        size = sizes or {}
        count = max(1, min(most, os.cpu_count() or 1, nbytes // MIN_BYTES_PER_CHILD))
        items = [[str(i), pa, pb] for i, (pa, pb) in enumerate(pairs)]
        groups = balance(items, lambda item: size.get(item[1], 0), count)
        extra = SECONDS_PER_GB * nbytes / 1e9
        work = [partial(compare, a.path, b.path, srcs_a, srcs_b, g, atol, rtol) for g in groups]
        return gather([start(a.path, w, extra) for w in work])

    return read


def identical_files(a: ModelInfo, b: ModelInfo) -> bool:
    """Whether ``a`` and ``b`` are the same file, or hold identical bytes: a single file each, or a
    TensorFlow checkpoint's index and data shards each (compared chunk by chunk, stopping at the
    first difference: files that differ cost little)."""
    try:
        if os.path.samefile(a.path, b.path):
            return True
    except OSError:
        return False  # a missing file: the loaders say so, in one line
    files_a, files_b = _files(a), _files(b)
    return bool(files_a) and len(files_a) == len(files_b) and all(map(_same_bytes, files_a, files_b))


def _files(info: ModelInfo) -> list[str]:
    """The files whose bytes make the model: the file itself, or a checkpoint's index and shards
    (a SavedModel's saved_model.pb too). Empty when kinspect cannot list them."""
    if os.path.isfile(info.path):
        return [info.path]
    bundles = [s.bundle for s in sources(info) if isinstance(s, BundleSource)]
    if len(bundles) != 1:
        return []
    bundle = bundles[0]
    found = [f"{bundle.prefix}.index", *(bundle.shard_path(i) for i in range(bundle.num_shards))]
    graph = os.path.join(info.path, "saved_model.pb")
    return [graph, *found] if os.path.isdir(info.path) and os.path.isfile(graph) else found


def _same_bytes(a: str, b: str) -> bool:
    try:
        if os.path.getsize(a) != os.path.getsize(b):
            return False
        with open(a, "rb") as fa, open(b, "rb") as fb:
            while True:
                x, y = fa.read(CHUNK), fb.read(CHUNK)
                if x != y:
                    return False
                if not x:
                    return True
    except OSError:
        return False


# ---------------------------------------------------------------------------- child side


def compare(
    path_a: str,
    path_b: str,
    srcs_a: Sequence[Any],
    srcs_b: Sequence[Any],
    wanted: Sequence[Sequence[str]],
    atol: float,
    rtol: float,
) -> dict[str, Any]:
    """Open both files' sources and compare every pair ``(key, path in A, path in B)`` (runs in
    the child)."""
    single_threaded_blas()  # before numpy loads: one core per reader child
    which = path_a
    try:
        with Files(srcs_a) as fa:
            which = path_b
            with Files(srcs_b) as fb:
                out: dict[str, Any] = {}
                for key, pa, pb in wanted:
                    which = path_a
                    ta = fa.find(pa)
                    which = path_b
                    tb = fb.find(pb)
                    if ta is None or tb is None:
                        out[key] = {"error": f"not stored in {'A' if ta is None else 'B'}"}
                        continue
                    out[key] = _pair(ta, tb, atol, rtol, (path_a, path_b))
                return out
    except READ_ERRORS as exc:
        raise InputError(which, f"cannot read weight values ({one_line(exc)})") from None


def _flat(tensor: Stored, path: str) -> Iterator[np.ndarray]:
    """The stored values in C order, flat, slice by slice (views of a reused buffer); a read error
    names ``path``, the file the tensor is in."""
    slices = tensor.slices()
    while True:
        try:
            arr, _ = next(slices)
        except StopIteration:
            return
        except READ_ERRORS as exc:
            raise InputError(path, f"cannot read weight values ({one_line(exc)})") from None
        yield arr.reshape(-1)


def _aligned(a: Stored, b: Stored, paths: tuple[str, str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Equal-length pieces of both tensors, in order, whatever their slicing."""
    ia, ib = _flat(a, paths[0]), _flat(b, paths[1])
    xa = next(ia, None)
    xb = next(ib, None)
    oa = ob = 0
    while xa is not None and xb is not None:
        k = min(xa.size - oa, xb.size - ob)
        yield xa[oa : oa + k], xb[ob : ob + k]
        oa += k
        ob += k
        if oa == xa.size:
            xa, oa = next(ia, None), 0
        if ob == xb.size:
            xb, ob = next(ib, None), 0


def _bits(x: np.ndarray) -> np.ndarray:
    """The values' bits as unsigned integers (a NaN equals itself; -0.0 differs from 0.0)."""
    return x.view(f"u{x.dtype.itemsize}") if x.dtype.itemsize in (1, 2, 4, 8) else x


def _pair(a: Stored, b: Stored, atol: float, rtol: float, paths: tuple[str, str]) -> dict[str, Any]:
    """The sums of one pair of tensors of equal size (shapes are checked by the caller)."""
    import numpy as np

    if a.stored is None or b.stored is None:
        return {"error": (a.error if a.stored is None else b.error) or "holds no numbers"}
    if not (a.units and b.units):
        return {"error": "a partitioned variable: its slices are not compared"}
    size = math.prod(a.shape)
    if size != math.prod(b.shape):
        return {"error": "sizes differ"}
    same_type = a.dtype == b.dtype and a.stored.itemsize == b.stored.itemsize
    per = max(1, SLICE_BYTES // 8)
    bufs = [np.empty(min(size, per) or 1, np.float64) for _ in range(4)]
    dd = aa = bb = ab = 0.0
    max_abs = 0.0
    changed = nan_new = inf_new = 0
    equal = same_type
    bf_a, bf_b = a.dtype == "bfloat16", b.dtype == "bfloat16"
    exact = atol == 0 and rtol == 0
    for ra, rb in _aligned(a, b, paths):
        identical = same_type and np.array_equal(_bits(ra), _bits(rb))
        equal = equal and identical
        # Pieces hold at most SLICE_BYTES of stored values: in float64, ``per`` values at a time.
        # np.vdot, not np.dot: the same BLAS sum, but np.dot's threaded path is many times slower
        # on a loaded machine.
        for lo in range(0, ra.size, per):
            pa = decode(ra[lo : lo + per], bf_a)
            m = pa.size
            x, y, d, t = (buf[:m] for buf in bufs)
            np.copyto(x, pa.view(np.uint8) if pa.dtype.kind == "b" else pa, casting="unsafe")
            if identical:  # the norms only: they weigh the tensor in its layer's figures
                s = float(np.vdot(x, x))
                if not math.isfinite(s):
                    x = x[np.isfinite(x)]
                    s = float(np.vdot(x, x))
                aa, bb, ab = aa + s, bb + s, ab + s
                continue
            pb = decode(rb[lo : lo + per], bf_b)
            np.copyto(y, pb.view(np.uint8) if pb.dtype.kind == "b" else pb, casting="unsafe")
            np.subtract(y, x, out=d)
            sums = (float(np.vdot(d, d)), float(np.vdot(x, x)), float(np.vdot(y, y)), float(np.vdot(x, y)))
            if not all(map(math.isfinite, sums)):  # NaN or Inf somewhere (or values near overflow)
                fx, fy = np.isfinite(x), np.isfinite(y)
                nan_new += int(np.count_nonzero(np.isnan(y) & ~np.isnan(x)))
                inf_new += int(np.count_nonzero(np.isinf(y) & ~np.isinf(x)))
                both = fx & fy
                same = (x == y) | (np.isnan(x) & np.isnan(y))
                changed += int(np.count_nonzero(~both & ~same))
                x, y = x[both], y[both]
                d, t = d[: x.size], t[: x.size]
                np.subtract(y, x, out=d)
                sums = (
                    float(np.vdot(d, d)),
                    float(np.vdot(x, x)),
                    float(np.vdot(y, y)),
                    float(np.vdot(x, y)),
                )
            dd, aa, bb, ab = dd + sums[0], aa + sums[1], bb + sums[2], ab + sums[3]
            if not d.size:
                continue
            max_abs = max(max_abs, float(d.max()), -float(d.min()))
            if exact:
                changed += int(np.count_nonzero(d))
                continue
            np.abs(d, out=d)
            np.abs(x, out=t)
            t *= rtol
            t += atol
            changed += int(np.count_nonzero(d > t))
    return {
        "size": size,
        "equal": equal,
        "dd": dd,
        "aa": aa,
        "bb": bb,
        "ab": ab,
        "max_abs": max_abs,
        "changed": changed,
        "nan_new": nan_new,
        "inf_new": inf_new,
    }
