"""The format registry: which module reads a path, told by its content.

A format is a module implementing :class:`~kinspect.loaders.base.FormatLoader` plus its
line in :data:`LOADERS`. The first format whose ``sniff`` claims a path reads it.
"""

from __future__ import annotations

from kinspect.errors import InputError
from kinspect.loaders import hdf5, json_file, keras_zip, savedmodel, tf_checkpoint
from kinspect.loaders.base import FormatLoader, head
from kinspect.model import Format

LOADERS: tuple[FormatLoader, ...] = (
    keras_zip,  # .keras zip archives
    hdf5,  # legacy full-model .h5, Keras 2 and Keras 3 weights files
    json_file,  # config.json, sharded Keras 3 weights index
    savedmodel,  # TensorFlow SavedModel directories
    tf_checkpoint,  # TensorFlow checkpoints: a prefix, its .index, a state file or its directory
)

_BY_FORMAT = {fmt: loader for loader in LOADERS for fmt in loader.FORMATS}

# Every model file name ending, longest first (output names drop it; detection never uses it).
SUFFIXES = tuple(sorted({s for loader in LOADERS for s in loader.SUFFIXES}, key=lambda s: (-len(s), s)))


def sniff(path: str, fallback: FormatLoader | None = None) -> FormatLoader:
    """The format of what ``path`` names: a file, a directory, or a prefix of several files.

    When no format claims it: ``fallback`` for a readable file, else an InputError saying
    why (missing, a directory, empty…) or which formats were tried.
    """
    first, problem = head(path)
    for loader in LOADERS:
        if loader.sniff(path, first):
            return loader
    if problem is not None:
        raise InputError(path, problem)
    if fallback is not None:
        return fallback
    raise InputError(path, f"not a Keras model file (tried: {', '.join(f.NAME for f in LOADERS)})")


def loader_for(fmt: Format) -> FormatLoader:
    """The format module that produces ModelInfos of format ``fmt``."""
    return _BY_FORMAT[fmt]
