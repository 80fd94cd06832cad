"""The one error of :mod:`kinspect.tfio`."""

from __future__ import annotations


class TFIOError(ValueError):
    """A TensorFlow file is damaged, hostile or not what it claims to be.

    The message is one line and does not name the file: the loader that opened it adds the path
    (``InputError(path, str(exc))``). ``path`` is set when the fault is in another file than the
    one asked for (a missing or short data shard), so the loader can name that one instead.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever a caller interpolated
        self.path = path
