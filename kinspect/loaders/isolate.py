"""Run a reader in a forked child with a deadline and a memory ceiling.

libhdf5 is C code: a corrupt or crafted file can make it loop forever (a damaged
global heap does) or crash while it holds the GIL, where no Python timeout or
exception handler can reach. A child process can be killed and its death reported
as one line, so every libhdf5 read of an untrusted file goes through :func:`isolated`.
The child's result crosses back as JSON: plain data only.
Where ``fork`` does not exist the reader runs in-process, unbounded.
"""

from __future__ import annotations

import faulthandler
import json
import os
import select
import signal
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kinspect.errors import InputError, KinspectError

T = TypeVar("T")

TIMEOUT_ENV = "KINSPECT_TIMEOUT"  # seconds a read may take; 0 runs in-process (debugging, profiling)
MEMORY_ENV = "KINSPECT_MEMORY_MB"  # address space the reader may add to the process
DEFAULT_TIMEOUT = 300.0
DEFAULT_MEMORY_MB = 4096


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def _limit_memory(extra_mb: float) -> None:
    """Cap the child's address space at what it maps now plus ``extra_mb``."""
    try:
        import resource

        with open("/proc/self/statm") as fh:
            mapped = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        cap = mapped + int(extra_mb * 1024 * 1024)
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, OSError, ValueError):
        pass  # no /proc or no resource module: time is still bounded


def skip_processor_probe() -> None:
    """Spare a reader its ``uname -p`` subprocess (10-20 ms): h5py's import reads
    ``platform.uname()[4]`` (the machine), and building that tuple makes :mod:`platform` run
    ``uname -p`` for the processor field, which no reader uses. The field is left blank, as
    :mod:`platform` reports an unknown processor."""
    import contextlib
    import platform

    with contextlib.suppress(TypeError):  # another Python's uname_result: let it probe
        vars(platform.uname()).setdefault("processor", "")


def _reading(path: str, fn: Callable[[], T], memory_mb: float) -> T:
    """``fn()``; its running out of memory (past ``memory_mb``) or of stack is the one-line
    refusal of ``path``, wherever the reader runs."""
    try:
        return fn()
    except MemoryError:
        raise InputError(path, f"reading it needs more than {memory_mb:g} MB of memory; refused") from None
    except RecursionError:
        raise InputError(path, "structure nested too deeply") from None


def _child(path: str, fn: Callable[[], object], write_fd: int, memory_mb: float) -> None:
    import traceback  # here: only a child reports a traceback, and the parent starts faster

    try:
        faulthandler.disable()  # a crash is reported by the parent in one line, not as a dump
        skip_processor_probe()
        _limit_memory(memory_mb)
        try:
            payload: list = ["ok", _reading(path, fn, memory_mb)]
        except InputError as exc:
            payload = ["input", exc.path, exc.problem]
        except KinspectError as exc:
            payload = ["kinspect", str(exc), exc.exit_code]
        except BaseException:
            payload = ["bug", traceback.format_exc()]
        try:
            data = json.dumps(payload).encode()
        except BaseException:
            data = json.dumps(["bug", traceback.format_exc()]).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view) :]
    finally:
        os._exit(0)  # never run the parent's atexit handlers or flush its buffers


def _read_until(fd: int, deadline: float) -> bytes | None:
    """Everything the child writes, or None when the deadline passes first."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def isolated(path: str, fn: Callable[[], T]) -> T:
    """``fn()`` run in a child: its JSON-able result (as JSON returns it: lists for tuples),
    its InputError, or an InputError for a hang or crash."""
    return start(path, fn)()


_EARLY_FD: int | None = None  # in a child started with early=True: where send_early writes
_INLINE = False  # this process is itself the isolation (inline_readers): readers run in it


def inline_readers() -> None:
    """Run every reader of this process in this process from now on, under the memory ceiling a
    reader child would have (set here, for the whole process): for a process that is itself the
    isolation, killed and replaced on a crash or a hang, such as a ``check`` worker. A fork per
    read costs more than reading a small model (the child's copy-on-write faults)."""
    global _INLINE
    _INLINE = True
    _limit_memory(_env_number(MEMORY_ENV, DEFAULT_MEMORY_MB))


def send_early(value: Any) -> None:
    """From inside a reader child: hand the parent a first JSON-able value now (``Pending.early``),
    before the result; once. Outside such a child, nothing happens."""
    global _EARLY_FD
    fd, _EARLY_FD = _EARLY_FD, None
    if fd is None:
        return
    try:
        view = memoryview(json.dumps(value).encode())
        while view:
            view = view[os.write(fd, view) :]
    except (OSError, TypeError, ValueError):
        pass  # the parent stopped listening, or the value is not JSON: it only waits longer
    finally:
        os.close(fd)


class Pending:
    """A reader started in a child: call it to wait for the result; ``cancel()`` to give up.

    ``early=True``: the child may call :func:`send_early` once, and ``early()`` waits for that
    value alone (the parent works on it while the child goes on reading)."""

    def __init__(
        self, path: str, fn: Callable[[], Any], extra_seconds: float = 0.0, early: bool = False
    ) -> None:
        global _EARLY_FD
        self.path = path
        self.fn: Callable[[], Any] | None = None
        self.pid = 0
        self.early_fd: int | None = None
        self.timeout = _env_number(TIMEOUT_ENV, DEFAULT_TIMEOUT)
        if self.timeout <= 0 or _INLINE or not hasattr(os, "fork"):
            self.fn = fn  # in-process, when called
            return
        memory_mb = _env_number(MEMORY_ENV, DEFAULT_MEMORY_MB)
        self.read_fd, write_fd = os.pipe()
        early_w = None
        if early:
            self.early_fd, early_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.read_fd)
            if self.early_fd is not None:
                os.close(self.early_fd)
            _EARLY_FD = early_w
            _child(path, fn, write_fd, memory_mb)
        os.close(write_fd)
        if early_w is not None:
            os.close(early_w)
        self.timeout += max(0.0, extra_seconds)  # work that grows with the data (weight values)
        self.deadline = time.monotonic() + self.timeout

    def early(self) -> Any:
        """The value the child sent with :func:`send_early`; None when it sent none (it failed
        first, or runs in-process): then only calling this Pending tells what happened."""
        if self.early_fd is None:
            return None
        fd, self.early_fd = self.early_fd, None
        try:
            data = _read_until(fd, self.deadline)
        finally:
            os.close(fd)
        try:
            return json.loads(data) if data else None
        except ValueError:
            return None

    def _drop_early(self) -> None:
        if self.early_fd is not None:  # never read: the child's write fails instead of blocking
            os.close(self.early_fd)
            self.early_fd = None

    def __call__(self) -> Any:
        if self.fn is not None:
            return _inline(self.path, self.fn)
        if not self.pid:
            raise RuntimeError("a pending read was collected twice")
        self._drop_early()
        pid, self.pid = self.pid, 0
        return _collect(self.path, pid, self.read_fd, self.deadline, self.timeout)

    def cancel(self) -> None:
        """Stop the child if it is still running (the file was refused for another reason)."""
        self._drop_early()
        if self.pid:
            pid, self.pid = self.pid, 0
            os.close(self.read_fd)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _inline(path: str, fn: Callable[[], Any]) -> Any:
    """``fn()`` in this process, its result and its refusals as a reader child would give them."""
    memory_mb = _env_number(MEMORY_ENV, DEFAULT_MEMORY_MB)
    return _reading(path, lambda: json.loads(json.dumps(fn())), memory_mb)  # plain JSON, as from a child


def start(path: str, fn: Callable[[], T], extra_seconds: float = 0.0, early: bool = False) -> Pending:
    """Start ``fn()`` in a child now; call the result to wait for it and get its result.

    The parent can do other work meanwhile (parse the config while the child lists weights).
    ``extra_seconds`` extends the deadline for work that grows with the data read; ``early``
    lets ``fn`` hand over a first value with :func:`send_early`.
    """
    return Pending(path, fn, extra_seconds, early)


def _collect(path: str, pid: int, read_fd: int, deadline: float, timeout: float) -> Any:
    data: bytes | None = None
    try:
        data = _read_until(read_fd, deadline)
    finally:  # also on KeyboardInterrupt: never leave a reader behind
        os.close(read_fd)
        if data is None:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if data is None:
        raise InputError(path, f"reading it took longer than {timeout:g} s; gave up (corrupt file?)")
    if not data:
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        how = f"signal {signal.Signals(sig).name}" if sig else f"exit status {os.WEXITSTATUS(status)}"
        raise InputError(path, f"the HDF5/zip reader crashed on this file ({how}); it is corrupt")
    payload = json.loads(data)
    kind = payload[0]
    if kind == "ok":
        return payload[1]
    if kind == "input":
        raise InputError(payload[1], payload[2])
    if kind == "kinspect":
        exc = KinspectError(payload[1])
        exc.exit_code = payload[2]
        raise exc
    raise RuntimeError(f"kinspect failed while reading {path}:\n{payload[1]}")
