"""Check many files in a few forked workers, each reused from file to file.

A process start per file would cost more than checking a small model: each worker is forked
once, imports what the readers need once (:func:`kinspect.loaders.warm_readers`), then takes file
after file. The parent knows which file each worker holds, so one file's crash (a worker killed
by a signal, or exiting) or hang (past the deadline) becomes that file's result alone: the worker
is replaced and the others go on. The libhdf5 reads inside a worker still run each in its own
child with its deadline and memory ceiling (:mod:`kinspect.loaders.isolate`).
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
    timeout: float = 0.0,
) -> list[Any]:
    """``work(path)`` for every path in ``jobs`` forked workers, in the order of ``paths``.

    ``failed(path, why)`` is the result of a file whose worker died or took longer than
    ``timeout`` seconds (0: no limit). ``work`` must not raise for a bad file: an exception it
    raises is a bug, raised here as if ``work`` had run in this process.
    """
    results: dict[int, Any] = {}
    queue = list(range(len(paths)))[::-1]  # popped from the end: in order
    workers: list[_Worker] = []

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

    def give(worker: _Worker) -> None:
        worker.index = queue.pop()
        worker.since = time.monotonic()
        _write_all(worker.tasks, _INDEX.pack(worker.index))

    def retire(worker: _Worker, why: str | None) -> None:
        """Stop ``worker``; ``why`` its file failed (it died, or is killed for its hang)."""
        os.close(worker.tasks)
        os.close(worker.results)
        if why is not None:
            os.kill(worker.pid, signal.SIGKILL)
        _, status = os.waitpid(worker.pid, 0)
        workers.remove(worker)
        if worker.index is not None:
            if why is None:
                sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
                how = f"signal {signal.Signals(sig).name}" if sig else f"exit status {os.WEXITSTATUS(status)}"
                why = f"the checker crashed on this file ({how})"
            results[worker.index] = failed(paths[worker.index], why)

    try:
        for _ in range(max(1, min(jobs, len(paths)))):
            workers.append(spawn())
        for worker in workers:
            if queue:
                give(worker)
        while len(results) < len(paths):
            busy = [w for w in workers if w.index is not None]
            wait = None
            if timeout > 0 and busy:
                wait = max(0.0, min(w.since for w in busy) + timeout - time.monotonic())
            ready, _, _ = select.select([w.results for w in busy], [], [], wait)
            for worker in [w for w in busy if w.results in ready]:
                raw = _read_exactly(worker.results, _SIZE.size)
                data = _read_exactly(worker.results, _SIZE.unpack(raw)[0]) if raw is not None else None
                if data is None:  # the worker died on this file: replace it
                    retire(worker, None)
                    workers.append(spawn())
                else:
                    index, ok, value = json.loads(data)
                    if not ok:
                        raise _bug(*value)  # as if run here (the workers are stopped below)
                    results[index] = value
                    worker.index = None
                if queue:
                    give(next(w for w in workers if w.index is None))
            if timeout > 0:
                now = time.monotonic()
                for worker in [w for w in workers if w.index is not None and now - w.since > timeout]:
                    retire(worker, f"checking it took longer than {timeout:g} s; gave up")
                    workers.append(spawn())
                    if queue:
                        give(workers[-1])
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
