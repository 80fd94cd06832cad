"""What every format module implements and shares.

This module and everything it imports stay light: the registry imports the format
modules to sniff a file before the reader child starts, and nothing may slow that down.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from kinspect.errors import InputError
from kinspect.loaders.isolate import Pending
from kinspect.loaders.raw import RawFile
from kinspect.model import Format, ModelInfo

T = TypeVar("T")

HEAD_BYTES = 16  # what sniffers see of a file: enough for any signature kinspect knows

# What zipfile, zlib, json and h5py raise on damaged input: h5py maps HDF5 errors to
# OSError, KeyError, ValueError or RuntimeError; NotImplementedError (a zip compression
# method Python lacks) is a RuntimeError. TypeError is left out: it would hide our bugs.
READ_ERRORS = (OSError, KeyError, ValueError, RuntimeError, EOFError, zipfile.BadZipFile, zlib.error)


@dataclass(frozen=True)
class BundleSource:
    """A TensorFlow tensor bundle (checkpoint): each tensor is plain bytes at an offset of a data
    shard, found by its checkpoint key (``bundle`` is a :class:`kinspect.tfio.bundle.Bundle`)."""

    bundle: Any


# Where tensors are stored: an HDF5 file (file, archive member or None), or a tensor bundle.
Source = tuple[str, str | None] | BundleSource


class H5Error(ValueError):
    """The HDF5 content is not what a Keras file holds."""


class FormatLoader(Protocol):
    """One on-disk format: a module of :mod:`kinspect.loaders` listed in the registry.

    A format is recognised by content (``sniff``), never by its name; ``SUFFIXES`` only
    names outputs after the input. Everything a module does at import must stay light:
    model building is imported inside ``load``.
    """

    @property
    def NAME(self) -> str:
        """What "not a Keras model file (tried: …)" calls the format."""
        ...

    @property
    def FORMATS(self) -> tuple[Format, ...]:
        """Every ``ModelInfo.format`` its ``load`` returns."""
        ...

    @property
    def SUFFIXES(self) -> tuple[str, ...]:
        """Its usual file name endings (only to name outputs after the input)."""
        ...

    def sniff(self, path: str, head: bytes) -> bool:
        """Whether ``path`` is this format. ``head`` is the first bytes of the file, ``b""``
        when there is no readable file (a directory, or a prefix naming several files)."""
        ...

    def prefetch(self, path: str, *, verify: bool = True) -> Pending | None:
        """Start reading in the isolated child what ``load`` will need from libhdf5, if anything
        (``verify`` as for ``load``)."""
        ...

    def load(
        self, path: str, arch: ArchFile | None, pending: Pending | None, *, verify: bool = True
    ) -> ModelInfo:
        """The model; ``arch`` pairs a weights-only file with an architecture (``--arch``).

        ``verify=False`` allows skipping the stored weights where the config alone decides them
        (``ModelInfo.weights_checked`` then says so); a format may read them anyway."""
        ...

    def architecture(self, path: str) -> Any:
        """The model config the file holds, for ``--arch``; an InputError when it has none."""
        ...

    def raw(self, path: str) -> RawFile:
        """The unparsed config and archive members, for the security checks; never raises."""
        ...

    def sources(self, info: ModelInfo) -> list[Source]:
        """Where ``info``'s tensors are stored, for the weight reader."""
        ...


@dataclass(frozen=True)
class ArchFile:
    """The file named by ``--arch``, and the format that reads its config."""

    path: str
    loader: FormatLoader

    def config(self) -> Any:
        return self.loader.architecture(self.path)


def head(path: str) -> tuple[bytes, str | None]:
    """The first bytes of a regular file, or ``b""`` and why the path is not one."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return b"", f"cannot read file ({exc.strerror or exc})"
    if stat.S_ISDIR(st.st_mode):
        return b"", "is a directory, not a model file"
    if not stat.S_ISREG(st.st_mode):
        return b"", "is not a regular file"
    if st.st_size == 0:
        return b"", "file is empty"
    try:
        with open(path, "rb") as fh:
            return fh.read(HEAD_BYTES), None
    except OSError as exc:
        return b"", f"cannot read file ({exc.strerror or exc})"


def file_identity(path: str) -> tuple[int, ...] | None:
    """What changes when a file is replaced or rewritten (device, inode, size, modification
    time), for keeping what was read from it while it stays the same; None if it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class Recent(Generic[T]):
    """The last value taken from a file, kept while the file stays the same (its
    :func:`file_identity`): what one step read, the next step on the same file takes again."""

    def __init__(self) -> None:
        self.key: tuple[int, ...] | None = None
        self.value: T | None = None

    def get(self, path: str) -> T | None:
        key = file_identity(path)
        return self.value if key is not None and key == self.key else None

    def put(self, path: str, value: T) -> T:
        self.key, self.value = file_identity(path), value
        return value


def require_file(path: str) -> None:
    """An InputError unless ``path`` is a readable, non-empty regular file."""
    _, problem = head(path)
    if problem is not None:
        raise InputError(path, problem)


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, bounded, or its class name."""
    # KeyError's str() is the repr of its argument: use the argument itself.
    raw = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    text = str(raw).strip().splitlines()
    return " ".join((text[0] if text else exc.__class__.__name__).split())[:200]


def decode_json(path: str, data: Any, what: str) -> Any:
    """JSON text from the file, or a one-line InputError naming ``what`` was not JSON."""
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
        raise InputError(path, f"{what} is not valid JSON ({exc})") from None
    except RecursionError:
        raise InputError(path, f"{what} is nested too deeply") from None
