"""Check many files in a few forked workers, each reused from file to file.

A process start per file would cost more than checking a small model: each worker is forked
once, imports what the readers need once (:func:`kinspect.loaders.warm_readers`), then takes file
after file. The parent knows which file each worker holds, so one file's crash (a worker killed
by a signal, or exiting) or hang (past the deadline) becomes that file's result alone: the worker
is replaced and the others go on. A worker is the isolation of the files it reads: the caller's
``warm`` may make its readers run in it (:func:`kinspect.loaders.isolate.inline_readers`), as a fork
per read costs more than checking a small model, and ``timeout`` gives each file a reader's deadline.
Results cross the pipe as JSON, as the reader children's do: ``work`` returns plain JSON values
(the caller converts its own types), and nothing that crosses is ever unpickled.
"""

from __future__ import annotations

import builtins
import faulthandler
import json
import os
import select
import signal
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

_INDEX = struct.Struct("!q")  # a task: the index of the file, -1 to stop
_SIZE = struct.Struct("!Q")  # a result: its size, then the JSON bytes


@dataclass
class _Worker:
    pid: int
    tasks: int  # write end: indexes
    results: int  # read end: JSON [index, ok, result or the bug's (type, message)]
    index: int | None = None  # the file it is checking
    since: float = 0.0
    done: int = 0  # files it has checked


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _serve(
    paths: Sequence[str], work: Callable[[str], Any], warm: Callable[[], None], tasks: int, out: int
) -> None:
    """A worker's life: warm up, then check the file of every index it is sent."""
    code = 0
    try:
        faulthandler.disable()  # a crash is that file's one-line result, not a dump on stderr
        warm()
        while True:
            raw = _read_exactly(tasks, _INDEX.size)
            if raw is None:
                break
            (index,) = _INDEX.unpack(raw)
            if index < 0:
                break
            try:
                data = json.dumps([index, True, work(paths[index])]).encode()
            except Exception as exc:  # a bug in kinspect, not a bad file: the parent raises it
                data = json.dumps([index, False, [type(exc).__name__, str(exc)]]).encode()
            _write_all(out, _SIZE.pack(len(data)) + data)
    except BaseException:
        code = 1  # the parent sees the pipe close: that file's result is "crashed"
    finally:
        os._exit(code)  # never run the parent's atexit handlers or flush its buffers


def run(
    paths: Sequence[str],
    work: Callable[[str], Any],
    jobs: int,
    failed: Callable[[str, str], Any],
    warm: Callable[[], None] = lambda: None,
    timeout: float | Callable[[str], float] = 0.0,
) -> list[Any]:
    """``work(path)`` for every path in ``jobs`` forked workers, in the order of ``paths``.

    ``failed(path, why)`` is the result of a file whose worker died or took longer than
    ``timeout`` seconds (0: no limit; a function gives each file its own). A worker that had
    checked other files first may have been left damaged by one of them: its file is checked
    again in a fresh worker, and only a second failure is that file's. ``work`` must not raise
    for a bad file: an exception it raises is a bug, raised here as if ``work`` had run in this
    process.
    """
    results: dict[int, Any] = {}
    queue = list(range(len(paths)))[::-1]  # popped from the end: in order
    workers: list[_Worker] = []
    limits = [timeout(p) if callable(timeout) else timeout for p in paths]

    def spawn() -> _Worker:
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(task_w)
            os.close(result_r)
            for other in workers:  # a worker holds no other worker's pipes
                os.close(other.tasks)
                os.close(other.results)
            _serve(paths, work, warm, task_r, result_w)
        os.close(task_r)
        os.close(result_w)
        return _Worker(pid, task_w, result_r)

    def give(worker: _Worker, index: int | None = None) -> None:
        worker.index = queue.pop() if index is None else index
        worker.since = time.monotonic()
        _write_all(worker.tasks, _INDEX.pack(worker.index))

    def retire(worker: _Worker, why: str | None) -> None:
        """Stop ``worker`` and fork its replacement; ``why`` its file failed (it died, or is
        killed for its hang). The replacement takes that file again if the worker had checked
        others first (perhaps an earlier file's doing), else the next one."""
        os.close(worker.tasks)
        os.close(worker.results)
        if why is not None:
            os.kill(worker.pid, signal.SIGKILL)
        _, status = os.waitpid(worker.pid, 0)
        workers.remove(worker)
        index = worker.index
        if index is None:
            return
        workers.append(spawn())
        if worker.done:
            give(workers[-1], index)
            return
        if why is None:
            sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
            how = f"signal {signal.Signals(sig).name}" if sig else f"exit status {os.WEXITSTATUS(status)}"
            why = f"the checker crashed on this file ({how})"
        results[index] = failed(paths[index], why)
        if queue:
            give(workers[-1])

    try:
        for _ in range(max(1, min(jobs, len(paths)))):
            workers.append(spawn())
        for worker in workers:
            if queue:
                give(worker)
        while len(results) < len(paths):
            busy = [w for w in workers if w.index is not None]
            ends = [w.since + limits[w.index] for w in busy if w.index is not None and limits[w.index] > 0]
            wait = max(0.0, min(ends) - time.monotonic()) if ends else None
            ready, _, _ = select.select([w.results for w in busy], [], [], wait)
            for worker in [w for w in busy if w.results in ready]:
                raw = _read_exactly(worker.results, _SIZE.size)
                data = _read_exactly(worker.results, _SIZE.unpack(raw)[0]) if raw is not None else None
                if data is None:  # the worker died on this file
                    retire(worker, None)
                else:
                    index, ok, value = json.loads(data)
                    if not ok:
                        raise _bug(*value)  # as if run here (the workers are stopped below)
                    results[index] = value
                    worker.index = None
                    worker.done += 1
                idle = [w for w in workers if w.index is None]
                if queue and idle:
                    give(idle[0])
            now = time.monotonic()
            for worker, index in [(w, w.index) for w in workers if w.index is not None]:
                if 0 < limits[index] < now - worker.since:
                    retire(worker, f"checking it took longer than {limits[index]:g} s; gave up")
    finally:  # also on KeyboardInterrupt: never leave a worker behind
        for worker in list(workers):
            worker.index = None
            retire(worker, "stopped")
    return [results[i] for i in range(len(paths))]


def _bug(name: str, message: str) -> Exception:
    """A worker's exception, raised again here: a built-in type by its name, else RuntimeError."""
    kind = getattr(builtins, name, None)
    if isinstance(kind, type) and issubclass(kind, Exception):
        return kind(message)
    return RuntimeError(f"{name}: {message}")
