"""Writing results: atomically, so a reader never sees half a file, and never over the input."""

from __future__ import annotations

import os
import tempfile

from kinspect.errors import UsageError


def refuse_input(source: str, target: str) -> None:
    """Refuse to write ``target`` when it is the file ``source`` being read."""
    if os.path.exists(source) and os.path.exists(target) and os.path.samefile(source, target):
        raise UsageError("is the input file; kinspect never writes to the files it reads", "output", target)


def write_atomic(path: str, data: str | bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".kinspect-", dir=directory)
    try:
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
