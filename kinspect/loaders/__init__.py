"""Loaders: sniff a file by content, then read it into a ModelInfo.

Each format module offers ``matches(head) -> bool`` on the first bytes; only the
loaders touch zipfile and h5py.
"""

from __future__ import annotations

import json
import os
import stat

import h5py

from kinspect.errors import InputError
from kinspect.loaders import hdf5, keras_zip
from kinspect.loaders.common import is_keras2, parse_architecture
from kinspect.model import ModelInfo

TRIED = ".keras archive, HDF5 model or weights, Keras config.json"
MAX_CONFIG_BYTES = 64 * 1024 * 1024


def _head(path: str) -> bytes:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError(path, f"cannot read file ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(path, "is a directory, not a model file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(path, "is not a regular file")
    if st.st_size == 0:
        raise InputError(path, "file is empty")
    try:
        with open(path, "rb") as fh:
            return fh.read(16)
    except OSError as exc:
        raise InputError(path, f"cannot read file ({exc.strerror or exc})") from None


def load(path: str | os.PathLike[str], arch: str | os.PathLike[str] | None = None) -> ModelInfo:
    """Read a saved Keras model or weights file into a :class:`ModelInfo`.

    Nothing in the file is executed or imported. ``arch`` names a ``.keras``,
    ``.h5`` or ``config.json`` whose architecture explains a weights-only file.
    """
    path = os.fspath(path)
    head = _head(path)
    try:
        if keras_zip.matches(head):
            if arch is not None:
                raise InputError(path, "--arch applies to weights-only files; this archive has its own")
            return keras_zip.load(path)
        if hdf5.matches(head):
            return hdf5.load(path, _architecture(os.fspath(arch)) if arch is not None else None)
        if head.lstrip()[:1] == b"{":
            return _config_only(path)
    except (OSError, KeyError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(path, f"corrupt or unsupported file ({_one_line(exc)})") from None
    except RecursionError:
        raise InputError(path, "structure nested too deeply") from None
    raise InputError(path, f"not a Keras model file (tried: {TRIED})")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else exc.__class__.__name__)[:200]


def _read_json(path: str) -> object:
    if os.path.getsize(path) > MAX_CONFIG_BYTES:
        raise InputError(path, f"JSON file larger than {MAX_CONFIG_BYTES:,} bytes")
    try:
        with open(path, "rb") as fh:
            return json.loads(fh.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not valid JSON ({exc})") from None
    except RecursionError:
        raise InputError(path, "JSON nested too deeply") from None


def _config_only(path: str) -> ModelInfo:
    from kinspect.loaders.common import build_model
    from kinspect.model import Format

    config = _read_json(path)
    spec = parse_architecture(path, config)
    return build_model(path, Format.CONFIG_JSON, spec, is_keras2(config), None)


def _architecture(arch: str) -> tuple:
    """(spec, keras2, metadata) of the file named by --arch."""
    head = _head(arch)
    meta: dict = {}
    if keras_zip.matches(head):
        config, _ = keras_zip.archive_config(arch)
    elif hdf5.matches(head):
        try:
            with h5py.File(arch, "r") as f:
                if "model_config" not in f.attrs:
                    raise InputError(arch, "--arch file holds no model architecture")
                from kinspect.loaders.h5tree import json_attr

                config = json_attr(f, "model_config")
        except OSError as exc:
            raise InputError(arch, f"cannot read HDF5 ({_one_line(exc)})") from None
    else:
        config = _read_json(arch)
    return parse_architecture(arch, config), is_keras2(config), meta
