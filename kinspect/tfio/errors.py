"""The one error of :mod:`kinspect.tfio`, and opening input files so that failures are that error."""

from __future__ import annotations

import os
from typing import BinaryIO


class TFIOError(ValueError):
    """A TensorFlow file is missing, damaged, hostile or not what it claims to be.

    The message is one line and does not name the file asked for: the loader that opened it adds
    the path (``InputError(path, str(exc))``). ``path`` is the file at fault when it is known to
    the reader (a missing or short data shard, a file that cannot be opened), so that the loader
    can name that one instead.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever a caller interpolated
        self.path = path


def open_binary(path: str | os.PathLike[str], what: str) -> BinaryIO:
    """``open(path, "rb")``; an OSError (missing, a directory, no permission) is a :class:`TFIOError`."""
    try:
        return open(path, "rb")
    except OSError as exc:
        name = os.path.basename(os.fspath(path))
        raise TFIOError(f"cannot open {what} {name}: {exc.strerror or exc}", os.fspath(path)) from None
