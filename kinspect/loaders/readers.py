"""Readers of weight statistics for the analyzers (:data:`kinspect.model.StatsReader`): one
isolated child that can report its progress, or several children sharing the tensors."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from kinspect.errors import InputError
from kinspect.loaders.arrays import SECONDS_PER_GB, Progress, Request, compute, read_stats, sources
from kinspect.loaders.isolate import start
from kinspect.model import ModelInfo, StatsReader

MIN_BYTES_PER_CHILD = 16 << 20  # below this a second child costs more (a fork) than it saves


def in_child(info: ModelInfo, progress: Progress | None = None) -> StatsReader:
    """Read in one isolated child, when the statistics are waited for; ``progress`` is called
    meanwhile with the bytes done and the bytes in all."""

    def read(requests: Sequence[tuple[str, bool, bool]], bins: int, nbytes: int) -> Callable[[], Any]:
        return partial(read_stats, info, [Request(*r) for r in requests], bins, nbytes, progress)

    return read


def in_children(info: ModelInfo, most: int) -> StatsReader:
    """Start reading at once in up to ``most`` isolated children (at most one per core and per
    MIN_BYTES_PER_CHILD), each next largest tensor going to the least loaded child."""

    def read(requests: Sequence[tuple[str, bool, bool]], bins: int, nbytes: int) -> Callable[[], Any]:
        srcs = sources(info)
        if not srcs:
            raise InputError(info.path, "holds no weights to read")
        weights = (*info.all_weights(), *info.unmatched_weights, *info.optimizer_weights)
        size = {w.path: w.nbytes for w in weights}
        count = max(1, min(most, os.cpu_count() or 1, nbytes // MIN_BYTES_PER_CHILD))
        groups: list[list[list[Any]]] = [[] for _ in range(count)]
        loads = [0.0] * count
        for request in sorted(requests, key=lambda r: -size.get(r[0], 0)):
            i = loads.index(min(loads))
            groups[i].append(list(request))
            loads[i] += size.get(request[0], 0)
        extra = SECONDS_PER_GB * nbytes / 1e9
        pending = [start(info.path, partial(compute, info.path, srcs, g, bins, None), extra) for g in groups]

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

    return read
