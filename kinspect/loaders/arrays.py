"""Streaming statistics of stored tensors, computed in the isolated reader child.

Reading values is the loaders' job, and like every libhdf5 access it happens in a
forked child (:mod:`kinspect.loaders.isolate`): the kinspect process never loads
h5py or numpy, and what comes back is JSON (plain numbers and short lists).

Each tensor is read in bounded slices, so peak memory does not grow with the file.
Contiguous datasets (what Keras writes) are read with ``os.preadv`` at their absolute
byte offset, inside the ``.keras`` archive when its weights member is stored
uncompressed: several times faster than h5py reading through a Python file object.
Chunked or compressed datasets fall back to h5py hyperslabs.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import struct
import sys
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from kinspect.errors import InputError
from kinspect.loaders.archive import open_member, stored_data_offset
from kinspect.loaders.base import READ_ERRORS, BundleSource, Source, one_line
from kinspect.loaders.isolate import start
from kinspect.loaders.registry import loader_for
from kinspect.model import DTYPE_BITS, ModelInfo

if TYPE_CHECKING:
    import h5py
    import numpy as np

SLICE_BYTES = 1024 * 1024  # stored bytes of one slice read at a time
SLICE_VALUES = 1 << 18  # values of one slice, at most: its float64 work buffer (2 MiB) stays in cache
CACHE_BYTES = 16 * 1024 * 1024  # a tensor up to this size (decoded) is kept for its histogram: one read
FLOAT16_MAX = 65504.0
MAX_UNIT_INDEX = 16  # indices of all-zero units returned per tensor (the count is exact)
PROGRESS_EVERY = 32 * 1024 * 1024  # bytes between progress reports from the child
SECONDS_PER_GB = 120.0  # extra deadline per GB of tensors, on top of the reader's default
MAX_BINS = 10_000

Progress = Callable[[int, int], None]  # (bytes done, bytes total)


class Request(NamedTuple):
    """One tensor to read: its dataset path, and what to track besides the statistics."""

    path: str
    units: bool = False  # track output units (last axis) whose values are all zero
    negatives: bool = False  # count values below zero (a variance must not have any)


def sources(info: ModelInfo) -> list[Source]:
    """The HDF5 files that hold ``info``'s tensors, as its format says."""
    return loader_for(info.format).sources(info)


def verify_data(info: ModelInfo) -> int:
    """Check every stored tensor of ``info`` against the data checksum its file keeps (a TensorFlow
    checkpoint keeps a CRC32C of each tensor), in the isolated reader child; an InputError names the
    first tensor whose bytes differ. Returns how many were checked: 0 for formats without checksums."""
    bundles = [s.bundle for s in sources(info) if isinstance(s, BundleSource)]
    if not bundles:
        return 0
    total = sum(e.size for b in bundles for e in b.entries.values())

    def work() -> int:
        from kinspect.tfio.bundle import verify

        count = 0
        try:
            for bundle in bundles:
                for entry in bundle.entries.values():
                    if not verify(bundle, entry):
                        problem = f"tensor {entry.key}: data CRC32C mismatch (corrupt data)"
                        raise InputError(info.path, problem)
                    count += 1
        except READ_ERRORS as exc:
            raise InputError(info.path, f"cannot verify the tensor data ({one_line(exc)})") from None
        return count

    return int(start(info.path, work, extra_seconds=SECONDS_PER_GB * total / 1e9)())


def tensor_bytes(shape: Sequence[int], dtype: str) -> int:
    return math.prod(shape) * max(1, DTYPE_BITS.get(dtype, 32) // 8)


def read_stats(
    info: ModelInfo,
    requests: Sequence[Request],
    bins: int = 0,
    total_bytes: int = 0,
    progress: Progress | None = None,
) -> dict[str, dict[str, Any]]:
    """Statistics of every requested tensor of ``info``, keyed by dataset path.

    ``bins`` > 0 adds a histogram (a second pass over each tensor). ``progress`` is
    called in this process with bytes done and ``total_bytes`` while the child reads.
    """
    srcs = sources(info)
    if not requests:
        return {}
    if not srcs:
        raise InputError(info.path, "holds no weights to read")
    wanted = [[r.path, r.units, r.negatives] for r in requests]
    read_fd = write_fd = -1
    if progress is not None:
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)  # a full pipe drops a report instead of stalling the reader

    def work() -> dict[str, Any]:
        report = _pipe_reporter(write_fd) if write_fd >= 0 else None
        try:
            return compute(info.path, srcs, wanted, bins, report)
        finally:
            if write_fd >= 0:
                os.close(write_fd)  # EOF for the parent before the (possibly large) result is written

    extra = SECONDS_PER_GB * total_bytes / 1e9
    pending = start(info.path, work, extra_seconds=extra)
    if progress is None:
        return dict(pending())
    if pending.fn is not None:  # in-process (KINSPECT_TIMEOUT=0): nobody to listen to, no bar
        try:
            return dict(pending())
        finally:
            os.close(read_fd)
    os.close(write_fd)
    try:
        _listen(read_fd, pending.deadline, progress, total_bytes)
    finally:
        os.close(read_fd)
    return dict(pending())


def _pipe_reporter(fd: int) -> Callable[[int], None]:
    def report(done: int) -> None:
        with contextlib.suppress(OSError):  # the parent stopped listening: keep reading anyway
            os.write(fd, struct.pack("<Q", done))

    return report


def _listen(fd: int, deadline: float, progress: Progress, total: int) -> None:
    """Forward the child's progress reports until it closes its end (or the deadline passes)."""
    pending = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if not ready:
            progress(-1, total)  # a tick: lets the display appear during one long tensor
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            return
        pending += chunk
        whole = len(pending) // 8 * 8
        if whole:
            progress(struct.unpack_from("<Q", pending, whole - 8)[0], total)
            pending = pending[whole:]


# ---------------------------------------------------------------------------- child side


def compute(
    path: str,
    srcs: Sequence[Source],
    wanted: Sequence[Sequence[Any]],
    bins: int,
    report: Callable[[int], None] | None,
) -> dict[str, Any]:
    """Open the sources and compute every requested tensor's statistics (runs in the child)."""
    single_threaded_blas()
    try:
        work = _Work()
        with Files(srcs, work) as files:
            out: dict[str, Any] = {}
            done = last = 0
            for ds_path, units, negatives in wanted:
                found = files.find(ds_path)
                if found is None:
                    out[ds_path] = {"error": "not stored in the file"}
                    continue
                out[ds_path], nbytes = _tensor_stats(found, bool(units), bool(negatives), bins, work)
                done += nbytes
                if report is not None and done - last >= PROGRESS_EVERY:
                    report(done)
                    last = done
            if report is not None:
                report(done)
            return out
    except READ_ERRORS as exc:
        raise InputError(path, f"cannot read weight values ({one_line(exc)})") from None


def plain_sources(srcs: Sequence[Source], keys: Sequence[str]) -> list[list[Any]]:
    """``srcs`` as JSON-able lists, for a reader child started before they were known: an HDF5
    file as ``["h5", file, member]``, a tensor bundle as ``["bundle", ...]`` with only the entries
    of ``keys`` (where each tensor's bytes are: all the reader needs of the checkpoint index)."""
    out: list[list[Any]] = []
    wanted = set(keys)

    def entry(e: Any) -> list[Any]:
        return [e.key, e.dtype, list(e.shape), e.shard, e.offset, e.sliced]

    for src in srcs:
        if isinstance(src, BundleSource):
            b = src.bundle
            entries = [entry(e) for k, e in b.entries.items() if k in wanted]
            pieces = {k: [entry(p) for p in b.pieces.get(k, ())] for k, e in b.entries.items()
                      if k in wanted and e.sliced}  # fmt: skip
            out.append(["bundle", b.prefix, b.num_shards, b.endianness, entries, pieces])
        else:
            out.append(["h5", src[0], src[1]])
    return out


def from_plain(plain: Sequence[Sequence[Any]]) -> list[Source]:
    """The sources :func:`plain_sources` described (in the reader child)."""
    from kinspect.tfio.bundle import Bundle, Entry

    def entry(row: Sequence[Any]) -> Entry:
        key, dtype, shape, shard, offset, sliced = row
        return Entry(key, dtype, tuple(shape), shard, offset, 0, 0, sliced=sliced)

    out: list[Source] = []
    for src in plain:
        if src[0] == "bundle":
            _, prefix, num_shards, endianness, entries, pieces = src
            parts = {k: tuple(entry(r) for r in rows) for k, rows in pieces.items()}
            bundle = Bundle(prefix, num_shards, {r[0]: entry(r) for r in entries}, endianness, pieces=parts)
            out.append(BundleSource(bundle))
        else:
            out.append((src[1], src[2]))
    return out


BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def single_threaded_blas() -> None:
    """One BLAS thread in a reader child, set before numpy is imported there: the readers share the
    cores as processes, and a threaded ``np.dot`` waiting on a busy core is many times slower."""
    if "numpy" not in sys.modules:
        for name in BLAS_THREADS:
            os.environ[name] = "1"


class Stored(NamedTuple):
    """One stored tensor as the statistics see it, whatever file holds it."""

    shape: tuple[int, ...]
    dtype: str  # the name kinspect reports
    stored: np.dtype | None  # the numpy dtype of the stored bytes (None: not numbers)
    raw: bool  # read from a file descriptor into a reused buffer (slices must be copied to be kept)
    slices: Callable[[], Iterator[tuple[Any, int]]]
    error: str | None = None
    units: bool = True  # slices come in C order, so that units along the last axis can be tracked


class Files:
    """The open sources: HDF5 files (with the raw file descriptor and base offset of each when
    usable) and TensorFlow tensor bundles (their data shards, opened when first read)."""

    def __init__(self, srcs: Sequence[Source], work: _Work | None = None) -> None:
        self.srcs = srcs
        self.work = work if work is not None else _Work()  # shared by its tensors: read one at a time
        self.open: list[tuple[h5py.File, int | None, int]] = []  # (file, raw fd, base offset)
        self.bundles: list[Any] = []
        self.shards: dict[str, int] = {}  # shard path → fd
        self.closers: list[Any] = []

    def __enter__(self) -> Files:
        for src in self.srcs:
            if isinstance(src, BundleSource):
                self.bundles.append(src.bundle)
                continue
            import h5py  # in the reader child only

            file_path, member = src
            fd = os.open(file_path, os.O_RDONLY)
            self.closers.append(lambda fd=fd: os.close(fd))
            if member is None:
                f = h5py.File(file_path, "r")
                base: int | None = 0
            else:
                zf = zipfile.ZipFile(file_path)
                self.closers.append(zf.close)
                with open(file_path, "rb") as fh:
                    base = stored_data_offset(fh, zf.getinfo(member))
                handle = open_member(file_path, zf, member)
                self.closers.append(handle.close)
                f = h5py.File(handle, "r")
            self.closers.append(f.close)
            userblock = f.userblock_size
            self.open.append((f, fd if base is not None else None, (base or 0) + userblock))
        return self

    def __exit__(self, *exc: object) -> None:
        for close in reversed(self.closers):
            with contextlib.suppress(Exception):  # closing a damaged file must not hide the real error
                close()

    def find(self, ds_path: str) -> Stored | None:
        """The tensor stored at ``ds_path`` (an HDF5 dataset path or a checkpoint key), or None."""
        for bundle in self.bundles:
            entry = bundle.entries.get(ds_path)
            if entry is not None:
                return self._bundle_tensor(bundle, entry)
        return self._h5_tensor(ds_path)

    def _h5_tensor(self, ds_path: str) -> Stored | None:
        import h5py

        for f, fd, base in self.open:
            try:
                obj = f.get(ds_path)
            except (KeyError, ValueError, RuntimeError):
                obj = None
            if not isinstance(obj, h5py.Dataset):
                continue
            raw = None
            if fd is not None:
                try:
                    plist = obj.id.get_create_plist()
                    contiguous = plist.get_layout() == h5py.h5d.CONTIGUOUS and plist.get_nfilters() == 0
                    offset = obj.id.get_offset() if contiguous else None
                except (RuntimeError, ValueError):
                    offset = None
                if offset is not None:
                    raw = (fd, base + offset)
            name, stored = _kind(obj)
            shape = tuple(int(d) for d in (obj.shape or ()))
            dset = obj

            def slices(dset: Any = dset, raw: Any = raw, stored: Any = stored) -> Iterator[tuple[Any, int]]:
                return _slices(dset, raw, stored, self.work)

            return Stored(shape, name, stored, raw is not None, slices)
        return None

    def _bundle_tensor(self, bundle: Any, entry: Any) -> Stored:
        """A checkpoint tensor: plain bytes at ``entry.offset`` of its data shard (in the bundle's byte
        order), or, for a partitioned variable, the bytes of each of its stored slices."""
        import numpy as np

        shape = tuple(entry.shape)
        code = _BUNDLE_DTYPES.get(entry.dtype)
        if code is None:
            return Stored(shape, entry.dtype, None, True, _nothing, f"dtype {entry.dtype} holds no numbers")
        dtype = np.dtype(code).newbyteorder(">" if bundle.endianness == "big" else "<")
        parts = bundle.pieces.get(entry.key, ()) if entry.sliced else (entry,)
        if sum(math.prod(p.shape) for p in parts) != math.prod(shape):
            return Stored(shape, entry.dtype, None, True, _nothing,
                           "a partitioned variable whose stored slices do not cover it")  # fmt: skip
        reads = []
        for part in parts:
            where = bundle.shard_path(part.shard)
            fd = self.shards.get(where)
            if fd is None:
                fd = os.open(where, os.O_RDONLY)
                self.closers.append(lambda fd=fd: os.close(fd))
                self.shards[where] = fd
            reads.append(
                (fd, part.offset, tuple(part.shape), f"tensor {entry.key} in {os.path.basename(where)}")
            )

        def slices() -> Iterator[tuple[Any, int]]:
            for fd, offset, part_shape, label in reads:
                yield from _raw_slices(fd, offset, part_shape, dtype, label, self.work)

        # The slices of a partitioned variable are not in the full tensor's order: no unit masks.
        return Stored(shape, entry.dtype, dtype, True, slices, units=not entry.sliced)


def _nothing() -> Iterator[tuple[Any, int]]:
    return iter(())


# TensorFlow dtypes whose bytes numpy reads as they are (bfloat16 as 16 bits, widened by decode).
_BUNDLE_DTYPES = {
    "float16": "<f2", "float32": "<f4", "float64": "<f8", "bfloat16": "<u2",
    "int8": "i1", "int16": "<i2", "int32": "<i4", "int64": "<i8",
    "uint8": "u1", "uint16": "<u2", "uint32": "<u4", "uint64": "<u8", "bool": "?",
}  # fmt: skip


def _kind(dset: h5py.Dataset) -> tuple[str, np.dtype | None]:
    """The dtype name kinspect reports, and the numpy dtype the stored bytes have (None: not numeric)."""
    import numpy as np

    try:
        dt = dset.dtype
    except (TypeError, ValueError):
        return "void", None
    tag = dset.attrs.get("dtype") if "dtype" in dset.attrs else None
    if isinstance(tag, bytes):
        tag = tag.decode("utf-8", "replace")
    if tag == "bfloat16" and dt.itemsize == 2:
        return "bfloat16", np.dtype("<u2") if dt.byteorder != ">" else np.dtype(">u2")
    if dt.kind == "V" and dt.itemsize == 2 and dt.fields is None:
        # Keras's legacy .h5 writer stores ml_dtypes bfloat16 as an untagged 2-byte opaque type.
        return "bfloat16", np.dtype("<u2")
    if dt.kind not in "fiub":
        return "void", None
    return dt.name, dt


class _Work:
    """Buffers one reader child reuses for every slice of every tensor: fresh memory for each
    tensor costs page faults (zeroed pages) that weigh more than the arithmetic itself."""

    def __init__(self) -> None:
        self.buffers: dict[tuple[str, str], np.ndarray] = {}

    def get(self, name: str, dtype: Any, n: int) -> np.ndarray:
        """A buffer of at least ``n`` values of ``dtype`` (its first ``n``), kept for later calls."""
        import numpy as np

        dt = np.dtype(dtype)
        key = (name, dt.str)
        buf = self.buffers.get(key)
        if buf is None or buf.size < n:
            buf = np.empty(max(n, 1), dt)
            self.buffers[key] = buf
        return buf[:n]


def _as_native(x: np.ndarray, work: _Work) -> np.ndarray:
    """``x`` as float32 (float16 and bfloat16 widen exactly), float64 or integers, in native byte
    order: the arithmetic below then runs on numpy's vectorised loops."""
    import numpy as np

    flat = x.reshape(-1)
    if flat.dtype.kind == "b":
        return x.view(np.uint8)
    if not flat.dtype.isnative:
        out = work.get("native", flat.dtype.newbyteorder("="), flat.size)
        np.copyto(out, flat)
        flat = out
    if flat.dtype == np.float16:
        out = work.get("wide", np.float32, flat.size)
        np.copyto(out, flat)
        flat = out
    return flat.reshape(x.shape)


class _Acc:
    """One-pass accumulators for a tensor, fed slice by slice (vectorised reductions, float64 sums)."""

    def __init__(self, size: int, last: int | None, units: bool, negatives: bool, work: _Work) -> None:
        import numpy as np

        self.size = size
        self.work = work
        self.finite = 0
        self.shift: float | None = None  # values are summed as x - shift, for an exact variance
        self.s1 = 0.0
        self.s2 = 0.0
        self.lo = math.inf
        self.hi = -math.inf
        self.zeros = 0
        self.nan = 0
        self.inf = 0
        self.over16 = 0
        self.negatives: int | None = 0 if negatives else None
        self.live = np.zeros(last, dtype=bool) if units and last else None  # unit has a nonzero

    def add(self, x: np.ndarray, first_col: int = 0) -> None:
        """Feed ``x`` (native float32/float64 or integers, as :func:`_as_native` gives; 2-D
        ``(rows, cols)`` when units are tracked)."""
        import numpy as np

        flat = x.reshape(-1)
        n = flat.size
        if n == 0:
            return
        floating = flat.dtype.kind == "f"
        if floating:
            # Count on the bits without the sign (so -0.0 is a zero): several times faster
            # than count_nonzero on floats. NaN and Inf keep exponent bits, so count as nonzero.
            ints = np.dtype(f"i{flat.dtype.itemsize}")
            shifted = self.work.get("bits", ints, n)
            np.left_shift(flat.view(ints), 1, out=shifted)
            nonzero = int(np.count_nonzero(shifted))
        else:
            nonzero = int(np.count_nonzero(flat))
        self.zeros += n - nonzero
        if self.live is not None and nonzero < n and not self.live.all():
            cols = x.shape[-1]
            self.live[first_col : first_col + cols] |= np.any(x.reshape(-1, cols) != 0, axis=0)
        elif self.live is not None and nonzero == n:
            cols = x.shape[-1]
            self.live[first_col : first_col + cols] = True
        lo, hi = np.minimum.reduce(flat), np.maximum.reduce(flat)
        if floating and not (math.isfinite(lo) and math.isfinite(hi)):
            finite = np.isfinite(flat)
            nan = int(np.count_nonzero(np.isnan(flat)))
            self.nan += nan
            self.inf += n - nan - int(np.count_nonzero(finite))
            flat = flat[finite]
            n = flat.size
            if n == 0:
                return
            lo, hi = np.minimum.reduce(flat), np.maximum.reduce(flat)
        lo, hi = float(lo), float(hi)
        if self.negatives is not None and lo < 0:
            self.negatives += int(np.count_nonzero(flat < 0))
        self.lo, self.hi = min(self.lo, lo), max(self.hi, hi)
        if floating and (hi > FLOAT16_MAX or lo < -FLOAT16_MAX):
            self.over16 += int(np.count_nonzero(np.abs(flat) > FLOAT16_MAX))
        b = self.work.get("f64", np.float64, n)
        np.copyto(b, flat, casting="unsafe")  # convert first: a mixed-dtype subtract is slower
        if self.shift is None:
            self.shift = float(np.add.reduce(b)) / n
        np.subtract(b, self.shift, out=b)
        self.s1 += float(np.add.reduce(b))  # pairwise summation, as numpy's sum
        self.s2 += float(np.dot(b, b))
        self.finite += n

    def result(self) -> dict[str, Any]:
        n = self.finite
        out: dict[str, Any] = {
            "size": self.size,
            "finite": n,
            "zeros": self.zeros,
            "nan": self.nan,
            "inf": self.inf,
            "float16_overflow": self.over16,
        }
        if self.negatives is not None:
            out["negative"] = self.negatives
        if n:
            shift = self.shift or 0.0
            mean_d = self.s1 / n
            var = max(self.s2 / n - mean_d * mean_d, 0.0)
            sumsq = self.s2 + 2 * shift * self.s1 + n * shift * shift
            out.update(min=self.lo, max=self.hi, mean=shift + mean_d, std=math.sqrt(var),
                       norm=math.sqrt(max(sumsq, 0.0)))  # fmt: skip
        else:
            out.update(min=None, max=None, mean=None, std=None, norm=0.0 if self.size else None)
        if self.live is not None:
            import numpy as np

            dead = np.flatnonzero(~self.live)
            out["units"] = int(self.live.size)
            out["dead_units"] = int(dead.size)
            out["dead_index"] = [int(i) for i in dead[:MAX_UNIT_INDEX]]
        return out


class _Hist:
    """Counts of finite values in ``bins`` equal bins over [min, max], equal to ``np.histogram``'s
    with ``range=(min, max)``: its float64 edges, bin ``i`` holding ``edges[i] <= x < edges[i+1]``,
    the last bin closed.

    Each value gets a bin estimate ``trunc((x - first) * scale)`` in float64 and one ``bincount``.
    Every step of that estimate rounds monotonically, so it is exact at an interior edge ``e``
    as soon as it is exact for the two stored values next to ``e`` (the largest below it and the
    smallest at or above it), which is checked once per tensor, on the grid of the stored values
    (``grid``: "f32" for float16/bfloat16/float32 values, "int" for integers that float64 holds
    exactly, "f64" otherwise). The rare edges where that check
    fails (an edge within float64 rounding of a stored value) are counted directly,
    ``count_nonzero(x >= edge)`` per slice. Counts are then differences of "how many are at or
    above each edge", so both kinds mix exactly.
    """

    def __init__(self, lo: float, hi: float, bins: int, grid: str, work: _Work) -> None:
        import numpy as np

        self.bins = bins
        self.work = work
        self.grid32 = grid == "f32"
        first, last = (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)  # numpy's _get_outer_edges
        self.edges = np.linspace(first, last, bins + 1, endpoint=True, dtype=np.float64)
        self.first = first
        self.total = 0
        self.fine = np.zeros(bins + 2, dtype=np.int64)  # bincount of the estimates (0..bins)
        inner = self.edges[1:-1]
        denom = last - first
        scale = bins / denom if denom > 0 else math.inf
        self.scale = scale if math.isfinite(scale) else None
        if grid == "f32":
            up: np.ndarray = inner.astype(np.float32)
            up = np.where(up.astype(np.float64) < inner, np.nextafter(up, np.float32(np.inf)), up)
            below = np.nextafter(up, np.float32(-np.inf))
        elif grid == "int":
            up = np.ceil(inner)
            below = up - 1.0
        else:
            up = inner
            below = np.nextafter(inner, -np.inf)
        # x >= thresholds[i - 1]  <=>  x >= edges[i]: float32 thresholds compare with float32 values
        # as the float64 edges would; the others compare float64 copies with the edges themselves.
        self.thresholds = up if grid == "f32" else inner
        if self.scale is None:
            aligned = np.zeros(bins - 1, dtype=bool)
        else:
            index = np.arange(1, bins)
            with np.errstate(all="ignore"):
                aligned = (self._estimate(below.astype(np.float64)) <= index - 1) & (
                    self._estimate(up.astype(np.float64)) >= index
                )
        self.direct = [int(i) + 1 for i in np.flatnonzero(~aligned)]  # edges counted directly
        self.direct_set = set(self.direct)
        self.at_or_above = np.zeros(bins + 1, dtype=np.int64)

    def _estimate(self, v: np.ndarray, dtype: Any = None) -> np.ndarray:
        """The bin estimate of float64 values ``v`` (overwritten), as int32 (or ``dtype``, which
        must hold 0..bins): the same ufuncs for the per-tensor check and for every slice, hence
        the same roundings; truncation gives the same integer whatever the integer type."""
        import numpy as np

        dtype = np.int32 if dtype is None else dtype
        np.subtract(v, self.first, out=v)
        np.multiply(v, self.scale or 0.0, out=v)
        out = self.work.get("bin", dtype, v.size) if v.size > 64 else np.empty(v.size, dtype)
        np.copyto(out, v, casting="unsafe")
        return out

    def add(self, x: np.ndarray, finite_only: bool) -> None:
        """Count ``x`` (native, as :func:`_as_native` gives)."""
        import numpy as np

        flat = x.reshape(-1)
        if finite_only and flat.dtype.kind == "f":
            flat = flat[np.isfinite(flat)]
        n = flat.size
        if n == 0:
            return
        self.total += n
        if self.bins == 1:
            return
        if self.direct:
            values = flat if self.grid32 else self._float64(flat)
            for i in self.direct:
                self.at_or_above[i] += int(np.count_nonzero(values >= self.thresholds[i - 1]))
            if len(self.direct) == self.bins - 1:
                return  # every edge counted directly: no estimate needed
        b = self._float64(flat)
        if self.bins <= 255:  # every estimate (0..bins, see the class) fits a byte
            self.fine[: self.bins + 1] += _count_bytes(self._estimate(b, np.uint8), self.bins + 1)
            return
        counts = np.bincount(self._estimate(b), minlength=self.bins + 1)
        self.fine[: self.bins + 1] += counts[: self.bins + 1]
        self.fine[self.bins] += int(counts[self.bins + 1 :].sum())  # never: the estimate is <= bins

    def _float64(self, flat: np.ndarray) -> np.ndarray:
        import numpy as np

        b = self.work.get("f64", np.float64, flat.size)  # _Acc.add is done with it
        np.copyto(b, flat, casting="unsafe")
        return b

    def result(self) -> dict[str, Any]:
        import numpy as np

        bins = self.bins
        ge = np.zeros(bins + 1, dtype=np.int64)  # ge[i]: values >= edges[i]; ge[bins] = 0 (closed)
        ge[0] = self.total
        tail = np.cumsum(self.fine[::-1])[::-1]  # tail[i]: estimates >= i
        for i in range(1, bins):
            ge[i] = self.at_or_above[i] if i in self.direct_set else tail[i]
        counts = ge[:-1] - ge[1:]
        return {"edges": [float(e) for e in self.edges], "counts": [int(c) for c in counts]}


def _count_bytes(values: np.ndarray, k: int) -> np.ndarray:
    """``np.bincount(values, minlength=k)`` of bytes below ``k``, in half the time: one
    ``bincount`` over the bytes taken two at a time as 16-bit numbers (half as many steps of its
    scalar loop), then the 256 × 256 pair counts summed over each byte of the pair."""
    import numpy as np

    even = values.size - values.size % 2
    found = np.bincount(values[:even].view(np.uint16))  # up to the largest pair: < 256 * k
    flat = np.zeros(256 * k, dtype=np.int64)
    flat[: found.size] = found
    pairs = flat.reshape(k, 256)  # either byte of a pair: rows or columns below k
    counts = pairs.sum(axis=1) + pairs[:, :k].sum(axis=0)
    if even < values.size:
        counts[values[-1]] += 1
    return counts


def _per_slice(itemsize: int) -> int:
    """Values in one slice: SLICE_BYTES of stored bytes, and at most SLICE_VALUES (work buffers
    hold float64 copies)."""
    return max(1, min(SLICE_BYTES // itemsize, SLICE_VALUES))


def _blocks(shape: tuple[int, ...], itemsize: int) -> Iterator[tuple[int, int, int]]:
    """Flat element ranges ``(start, stop, first_col)`` of at most one slice each.

    Each block is whole rows of the last axis, or part of a single row (when one row
    is larger than a slice), so per-unit masks along the last axis stay simple.
    """
    size = math.prod(shape)
    if size == 0:
        return
    last = shape[-1] if shape else 1
    per = _per_slice(itemsize)
    if last <= per:
        step = per // last * last
        for s in range(0, size, step):
            yield s, min(size, s + step), 0
    else:
        for row in range(0, size, last):
            for c in range(0, last, per):
                yield row + c, row + min(last, c + per), c


def decode(raw: np.ndarray, bf16: bool, work: _Work | None = None) -> np.ndarray:
    """Stored values as :class:`_Acc` and :class:`_Hist` take them: bfloat16 (16 bits, Keras's
    ``dtype`` attribute) widened to float32 by a bit shift, float16 to float32, native byte order
    (in ``work``'s buffers, valid until its next call with the same ``work``; fresh ones without)."""
    import numpy as np

    if work is None:
        work = _Work()
    if bf16:
        flat = raw.reshape(-1)
        wide = work.get("wide", np.uint32, flat.size)
        np.copyto(wide, flat, casting="unsafe")  # big-endian stored bits convert by value too
        np.left_shift(wide, 16, out=wide)
        return wide.view(np.float32).reshape(raw.shape)
    return _as_native(raw, work)


def _slices(
    dset: h5py.Dataset, raw: tuple[int, int] | None, stored: np.dtype, work: _Work
) -> Iterator[tuple[Any, int]]:
    """The tensor's values slice by slice as ``(array, first_col)``, 2-D ``(rows, cols)``."""
    shape = tuple(int(d) for d in (dset.shape or ()))
    if raw is None:
        yield from _h5_slices(dset, shape, stored)
        return
    yield from _raw_slices(raw[0], raw[1], shape, stored, f"dataset {dset.name}", work)


def _raw_slices(
    fd: int, offset: int, shape: tuple[int, ...], stored: np.dtype, label: str, work: _Work
) -> Iterator[tuple[Any, int]]:
    """Values stored contiguously at ``offset`` of ``fd``, read with ``os.preadv`` into one buffer
    that every tensor of the child reuses (a slice must be copied to be kept)."""
    import numpy as np

    itemsize = stored.itemsize
    last = shape[-1] if shape else 1
    buf = work.get("read", np.uint8, max(1, min(math.prod(shape), _per_slice(itemsize))) * itemsize)
    for s, e, c in _blocks(shape, itemsize):
        want = (e - s) * itemsize
        view = buf.data[:want]
        got = 0
        while got < want:
            n = os.preadv(fd, [view[got:]], offset + s * itemsize + got)
            if n <= 0:
                raise OSError(f"{label} extends past the end of the file (truncated?)")
            got += n
        arr = np.frombuffer(buf, dtype=stored, count=e - s)
        whole_rows = c == 0 and (e - s) % last == 0
        yield arr.reshape(-1, last) if whole_rows else arr.reshape(1, -1), c


def _h5_slices(dset: h5py.Dataset, shape: tuple[int, ...], stored: np.dtype) -> Iterator[tuple[Any, int]]:
    """Chunked or compressed datasets: h5py hyperslabs along the leading axes, each bounded."""
    import numpy as np

    per = _per_slice(stored.itemsize)

    def fix(arr: Any) -> np.ndarray:
        arr = np.asarray(arr)
        if arr.dtype != stored:
            arr = arr.view(stored) if arr.dtype.itemsize == stored.itemsize else arr.astype(stored)
        return arr

    def rec(prefix: tuple[int, ...], dims: tuple[int, ...]) -> Iterator[tuple[Any, int]]:
        if len(dims) == 1:
            for c in range(0, dims[0], per):
                yield fix(dset[(*prefix, slice(c, min(dims[0], c + per)))]).reshape(1, -1), c
            return
        row = math.prod(dims[1:])
        if row <= per:
            k = max(1, per // max(row, 1))
            for i in range(0, dims[0], k):
                yield fix(dset[(*prefix, slice(i, min(dims[0], i + k)))]).reshape(-1, dims[-1]), 0
            return
        for i in range(dims[0]):
            yield from rec((*prefix, i), dims[1:])

    if not shape:
        yield fix(dset[()]).reshape(1, 1), 0
        return
    if math.prod(shape):
        yield from rec((), shape)


def _grid(stored: np.dtype, bf16: bool) -> str:
    """The values a tensor's decoded elements can take, for :class:`_Hist`."""
    if bf16 or (stored.kind == "f" and stored.itemsize <= 4):
        return "f32"
    if stored.kind in "biu" and stored.itemsize <= 4:
        return "int"
    return "f64"


def _tensor_stats(tensor: Stored, units: bool, negatives: bool, bins: int, work: _Work) -> tuple[dict, int]:
    """Statistics (and a histogram when ``bins``) of one stored tensor, and the bytes it occupies.

    The statistics take one pass. The histogram needs the tensor's min and max first: a tensor
    that fits one slice is still in the read buffer afterwards, one of up to CACHE_BYTES is kept
    (copied) during the first pass, and only a larger one is read a second time.
    """

    name, stored, shape = tensor.dtype, tensor.stored, tensor.shape
    size = math.prod(shape)
    if stored is None:
        return {"size": size, "error": tensor.error or f"dtype {name} holds no numbers"}, 0
    nbytes = size * stored.itemsize
    bf16 = name == "bfloat16"
    last = shape[-1] if len(shape) >= 2 else None
    acc = _Acc(size, last, units and tensor.units and last is not None, negatives, work)
    single = size <= _per_slice(stored.itemsize)  # one slice: _blocks and _h5_slices agree
    wide = 4 if bf16 or (stored.kind == "f" and stored.itemsize <= 4) else stored.itemsize
    keep = bins and (single or size * wide <= CACHE_BYTES)
    kept: list[np.ndarray] = []
    for arr, col in tensor.slices():
        values = decode(arr, bf16, work)
        acc.add(values, col)
        if keep:
            kept.append(values if single else values.copy())
    out = acc.result()
    out["dtype"] = name
    if bins:
        if out["min"] is None:
            out["histogram"] = {"edges": [], "counts": []}
            return out, nbytes
        again = kept if keep else (decode(a, bf16, work) for a, _ in tensor.slices())
        hist = _Hist(out["min"], out["max"], bins, _grid(stored, bf16), work)
        finite_only = bool(out["nan"] or out["inf"])
        for values in again:
            hist.add(values, finite_only)
        out["histogram"] = hist.result()
    return out, nbytes
