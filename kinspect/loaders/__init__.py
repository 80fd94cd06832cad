"""Loaders: sniff a path by content, then read it into a ModelInfo.

Each on-disk format is one module implementing :class:`~kinspect.loaders.base.FormatLoader`
(``sniff``, ``prefetch``, ``load``, ``architecture``, ``raw``, ``sources``) and one line in
:data:`kinspect.loaders.registry.LOADERS`; everything that depends on the format (reading,
``--arch``, the raw config for the checks, where the weight reader finds tensors) goes
through that registry. Only the loaders touch zipfile and h5py, and libhdf5 only in a
reader child (:mod:`kinspect.loaders.isolate`).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from kinspect.errors import InputError
from kinspect.loaders import json_file
from kinspect.loaders.base import READ_ERRORS, ArchFile, FormatLoader, one_line
from kinspect.loaders.isolate import Pending, skip_processor_probe
from kinspect.loaders.raw import RawFile
from kinspect.loaders.registry import sniff
from kinspect.model import ModelInfo

MAX_PROBLEM = 300  # characters of a problem description


def load(
    path: str | os.PathLike[str], arch: str | os.PathLike[str] | None = None, *, verify: bool = True
) -> ModelInfo:
    """Read a saved Keras model or weights file into a :class:`ModelInfo`.

    Nothing in the file is executed or imported. ``arch`` names a ``.keras``,
    ``.h5`` or ``config.json`` whose architecture explains a weights-only file.
    ``verify=False`` (a plain summary) lets a format skip reading the stored weights where
    its config alone decides them; ``ModelInfo.weights_checked`` says whether they were read.
    libhdf5 reads run in a child process with a deadline and a memory ceiling
    (see :mod:`kinspect.loaders.snapshot`); files are only ever opened read-only.
    """
    path = os.fspath(path)
    loader = sniff(path)
    # An --arch file of no known kind is read as a config.json: its error says what is wrong.
    paired = ArchFile(os.fspath(arch), sniff(os.fspath(arch), json_file)) if arch is not None else None
    # Start the libhdf5 reader child first, so that it reads while this process imports
    # and parses the rest; make sure it never outlives a refusal.
    pending = loader.prefetch(path, verify=verify)
    return _one_line(lambda: _load(loader, path, paired, pending, verify))


class Verified:
    """The rest of a load: call it to finish it (wait for the listing and check it against the
    config); ``cancel()`` stops the listing when the caller gives up. ``later`` tells whether
    anything is left to do (False: the first model was the verified one)."""

    def __init__(self, loader: FormatLoader, path: str, pending: Pending | None, done: ModelInfo | None):
        self.loader, self.path, self.pending, self.done = loader, path, pending, done
        self.later = done is None

    def __call__(self) -> ModelInfo:
        if self.done is None:
            self.done = _one_line(lambda: _load(self.loader, self.path, None, self.pending, True))
            self.pending = None
        return self.done

    def cancel(self) -> None:
        if self.pending is not None:
            self.pending.cancel()


def load_config_first(path: str | os.PathLike[str]) -> tuple[ModelInfo, Verified]:
    """``path`` as its config alone describes it, where that decides every stored tensor (as
    ``load(path, verify=False)``), at once; and the verified load (as ``load(path)``), its
    libhdf5 listing started now in a child, to be finished by calling it. Where the config does
    not decide, both are the verified model."""
    path = os.fspath(path)
    loader = sniff(path)
    pending = loader.prefetch(path)  # the verified listing: started first
    try:
        # The listing is used here if the config does not decide (and left running if it does).
        first = _one_line(lambda: _load(loader, path, None, pending, False, keep=True))
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    if first.weights_checked:  # read anyway: the listing started is not needed
        if pending is not None:
            pending.cancel()
        return first, Verified(loader, path, None, first)
    return first, Verified(loader, path, pending, None)


def _one_line(load: Callable[[], ModelInfo]) -> ModelInfo:
    """``load()``, its refusal kept to one line (messages come from libraries too)."""
    try:
        return load()
    except InputError as exc:
        problem = " ".join(exc.problem.split()) or "unreadable"
        raise type(exc)(exc.path, problem[:MAX_PROBLEM]) from None  # keep the kind of refusal


def _load(
    loader: FormatLoader,
    path: str,
    arch: ArchFile | None,
    pending: Pending | None,
    verify: bool,
    keep: bool = False,
) -> ModelInfo:
    try:
        return loader.load(path, arch, pending, verify=verify)
    except RecursionError:
        raise InputError(path, "structure nested too deeply") from None
    except READ_ERRORS as exc:
        raise InputError(path, f"corrupt or unsupported file ({one_line(exc)})") from None
    finally:
        if pending is not None and not keep:
            pending.cancel()  # a no-op once collected


def read_raw(path: str) -> RawFile:
    """The raw config and archive members of a model file, for the checks; never raises."""
    try:
        loader = sniff(path)
    except InputError as exc:
        return RawFile(problem=exc.problem)
    return loader.raw(path)


def warm_readers() -> None:
    """Import what the reader children import (h5py, numpy and kinspect's readers), opening no
    file: a process that forks many readers (a ``check`` worker) then starts each at once
    instead of importing them again in every child."""
    import contextlib
    import importlib

    skip_processor_probe()
    for name in ("h5py", "numpy", "kinspect.loaders.h5tree", "kinspect.loaders.arrays"):
        with contextlib.suppress(ImportError):  # a reader child reports it when it needs the module
            importlib.import_module(name)
