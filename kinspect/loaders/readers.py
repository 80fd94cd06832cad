"""Readers of weight statistics for the analyzers (:data:`kinspect.model.StatsReader`): one
isolated child that can report its progress, or several children sharing the tensors, started
when the model is known or (:class:`Prestarted`) before it is loaded."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from kinspect.errors import InputError
from kinspect.loaders.arrays import (
    SECONDS_PER_GB,
    Progress,
    Request,
    compute,
    from_plain,
    plain_sources,
    read_stats,
    single_threaded_blas,
    sources,
)
from kinspect.loaders.isolate import Pending, start
from kinspect.model import ModelInfo, StatsReader

T = TypeVar("T")

# A second reader child costs a fork and its own numpy import, about 0.09 s of CPU: what reading
# and measuring 100-200 MB takes. Below this many bytes per child it costs more CPU than it saves
# wall time (on a busy machine, more wall time too: ResNet50's 98 MB read 25 % faster by one).
MIN_BYTES_PER_CHILD = 128 << 20
HDF5_HEADS = (b"PK\x03\x04", b"\x89HDF\r\n\x1a\n")  # files whose tensors h5py locates
MAX_JOB_BYTES = 256 << 20  # what a prestarted child accepts from its parent, at most


def in_child(info: ModelInfo, progress: Progress | None = None) -> StatsReader:
    """Read in one isolated child, when the statistics are waited for; ``progress`` is called
    meanwhile with the bytes done and the bytes in all."""

    def read(requests: Sequence[tuple[str, bool, bool]], bins: int, nbytes: int) -> Callable[[], Any]:
        return partial(read_stats, info, [Request(*r) for r in requests], bins, nbytes, progress)

    return read


def share(
    info: ModelInfo, requests: Sequence[Sequence[Any]], most: int, nbytes: int, bins: int = 0
) -> list[list[list[Any]]]:
    """``requests`` split among up to ``most`` children (at most one per core and per
    MIN_BYTES_PER_CHILD, a quarter of that with histograms, which cost several times what the
    statistics cost), each next largest tensor going to the least loaded child."""
    weights = (*info.all_weights(), *info.unmatched_weights, *info.optimizer_weights)
    size = {w.path: w.nbytes for w in weights}
    per_child = MIN_BYTES_PER_CHILD // 4 if bins else MIN_BYTES_PER_CHILD
    count = max(1, min(most, os.cpu_count() or 1, nbytes // per_child))
    return balance([list(r) for r in requests], lambda r: size.get(r[0], 0), count)


def balance(items: Sequence[T], size: Callable[[T], float], count: int) -> list[list[T]]:
    """``items`` in ``count`` groups of about the same size: each next largest item goes to the
    least loaded group (ties keep the items' order)."""
    groups: list[list[T]] = [[] for _ in range(count)]
    loads = [0.0] * count
    for item in sorted(items, key=lambda it: -size(it)):
        i = loads.index(min(loads))
        groups[i].append(item)
        loads[i] += size(item)
    return groups


def gather(pending: Sequence[Pending]) -> Callable[[], dict[str, Any]]:
    """A function that waits for every child's results, merged; all are stopped if one fails."""

    def wait() -> dict[str, Any]:
        stats: dict[str, Any] = {}
        try:
            for p in pending:
                stats.update(p())
        finally:
            for p in pending:
                p.cancel()
        return stats

    return wait


def in_children(info: ModelInfo, most: int) -> StatsReader:
    """Start reading at once in up to ``most`` isolated children (see :func:`share`)."""

    def read(requests: Sequence[tuple[str, bool, bool]], bins: int, nbytes: int) -> Callable[[], Any]:
        srcs = sources(info)
        if not srcs:
            raise InputError(info.path, "holds no weights to read")
        extra = SECONDS_PER_GB * nbytes / 1e9
        groups = share(info, requests, most, nbytes, bins)
        work = [partial(compute, info.path, srcs, g, bins, None) for g in groups]
        return gather([start(info.path, w, extra) for w in work])

    return read


class Prestarted:
    """Reader children forked before the model is loaded, so that their start-up (importing numpy,
    and h5py for HDF5 files) overlaps this process's parsing; each then waits for its share of the
    tensors (plain JSON on a pipe). A context manager: children never given work are stopped."""

    def __init__(self, path: str, most: int) -> None:
        self.path = path
        self.children: list[tuple[Pending, int]] = []
        self.working: list[Pending] = []  # children given work: stopped by close() unless collected
        count = max(1, min(most, os.cpu_count() or 1))
        with contextlib.suppress(OSError):  # a small model needs one reader (unknown: one per core)
            found = data_bytes(path)
            count = count if found is None else max(1, min(count, found // MIN_BYTES_PER_CHILD))
        hdf5 = _head(path).startswith(HDF5_HEADS)
        for _ in range(count):
            read_fd, write_fd = os.pipe()
            siblings = [write_fd] + [fd for _, fd in self.children]  # no job pipe but its own stays open
            pending = start(path, partial(_serve, path, read_fd, siblings, hdf5))
            os.close(read_fd)
            if pending.fn is not None:  # in-process readers (KINSPECT_TIMEOUT=0): nothing to prestart
                os.close(write_fd)
                break
            self.children.append((pending, write_fd))

    def __enter__(self) -> Prestarted:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the children that were not given work, and those whose statistics were not
        waited for (the caller failed or gave up on them)."""
        for pending, write_fd in self.children:
            with contextlib.suppress(OSError):
                os.close(write_fd)
            pending.cancel()
        for pending in self.working:
            pending.cancel()  # a no-op once collected
        self.children = []
        self.working = []

    def reader(self, info: ModelInfo) -> StatsReader:
        """The prestarted children as the reader of ``info``'s statistics (or fresh children, for
        in-process readers)."""
        if not self.children:
            return in_children(info, os.cpu_count() or 1)

        def read(requests: Sequence[tuple[str, bool, bool]], bins: int, nbytes: int) -> Callable[[], Any]:
            srcs = sources(info)
            if not srcs:
                raise InputError(info.path, "holds no weights to read")
            children, self.children = self.children, []
            groups = share(info, requests, len(children), nbytes, bins)
            used: list[Pending] = []
            for i, (pending, write_fd) in enumerate(children):
                if i < len(groups):
                    keys = [r[0] for r in groups[i]]
                    job = {"srcs": plain_sources(srcs, keys), "wanted": groups[i], "bins": bins}
                    pending.deadline += SECONDS_PER_GB * nbytes / 1e9
                    data = json.dumps(job).encode()
                    _send(write_fd, len(data).to_bytes(8, "little") + data)
                    used.append(pending)
                    self.working.append(pending)
                else:
                    os.close(write_fd)  # EOF without work: the child ends at once
                    pending.cancel()
            return gather(used)

        return read


def data_bytes(path: str) -> int | None:
    """About how many bytes the tensors of ``path`` take, from file sizes alone: the file, or the
    data shards of a TensorFlow checkpoint (a prefix, or a directory of checkpoints) or a
    SavedModel (``variables/``); None when none are found. OSError when it cannot be listed."""
    if path.endswith(".index") and os.path.isfile(path):  # a checkpoint's index: its shards count
        path = path[: -len(".index")]
    elif os.path.isfile(path):
        return os.path.getsize(path)
    if os.path.isdir(path):
        folders = [path, os.path.join(path, "variables")]
        found = sum(
            os.path.getsize(os.path.join(folder, name))
            for folder in folders
            if os.path.isdir(folder)
            for name in os.listdir(folder)
            if ".data-" in name and os.path.isfile(os.path.join(folder, name))
        )
        return found or None
    folder, prefix = os.path.split(path)
    names = os.listdir(folder or ".")
    found = sum(os.path.getsize(os.path.join(folder, n)) for n in names if n.startswith(prefix + ".data-"))
    return found or None


def _head(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(8)
    except OSError:
        return b""  # a directory (SavedModel, checkpoint) or a prefix: a tensor bundle, no h5py


def _read_exactly(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _send(fd: int, data: bytes) -> None:
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        pass  # the child is gone: waiting for it reports why
    finally:
        os.close(fd)


def _serve(path: str, read_fd: int, siblings: Sequence[int], hdf5: bool) -> dict[str, Any]:
    """In a prestarted child: import what reading needs, then compute the statistics the parent
    asks for (a length, then JSON; an empty dict when the parent closes the pipe instead)."""
    for fd in siblings:  # the write ends of every job pipe: EOF must mean the parent is done
        os.close(fd)
    single_threaded_blas()
    import numpy  # noqa: F401  (the point of starting early)

    if hdf5:
        import h5py  # noqa: F401

    head = _read_exactly(read_fd, 8)
    size = int.from_bytes(head, "little") if len(head) == 8 else 0
    data = _read_exactly(read_fd, size) if 0 < size <= MAX_JOB_BYTES else b""
    os.close(read_fd)
    if len(data) != size or not size:
        return {}
    job = json.loads(data)
    return compute(path, from_plain(job["srcs"]), job["wanted"], int(job["bins"]), None)
