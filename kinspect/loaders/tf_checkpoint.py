"""TensorFlow checkpoints: ``P.index`` + ``P.data-NNNNN-of-NNNNN``, and the ``checkpoint`` state
file that names the latest of a directory's checkpoints.

What tf.keras ``model.save_weights("ckpt")`` writes (no ``.h5`` suffix: TF format), what
``tf.train.Checkpoint.save`` and ``CheckpointManager`` write (``ckpt-1.index``…), and the
``training_1/cp.ckpt`` of the TensorFlow tutorials. A checkpoint is named by its *prefix* (``…/ckpt``,
which is not itself a file), its ``.index`` file, one of its data shards, its ``checkpoint`` state
file, or the directory holding that state file (the latest checkpoint is read; a note says which).
The files are read by :mod:`kinspect.tfio` (no TensorFlow, no protobuf runtime); the object graph
(:mod:`kinspect.loaders.tf_objects`) says which tensor belongs to which layer.
"""

from __future__ import annotations

import os
import re
from typing import Any

from kinspect.errors import InputError
from kinspect.loaders.base import ArchFile, BundleSource, Source
from kinspect.loaders.isolate import Pending
from kinspect.loaders.raw import RawFile
from kinspect.model import Format, ModelInfo

NAME = "TensorFlow checkpoint"
FORMATS = (Format.TF_CHECKPOINT,)
SUFFIXES = (".index",)

STATE_FILE = (
    "checkpoint"  # CheckpointState, text format (tensorflow/python/checkpoint/checkpoint_management.py)
)
MAX_STATE_BYTES = 1 << 20
TABLE_MAGIC = (0xDB4775248B80FB57).to_bytes(8, "little")  # tensorflow/core/lib/io/format.h
_SHARD = re.compile(r"^(?P<prefix>.+)\.data-\d{5}-of-\d{5}$")
_STATE_LINE = re.compile(r'^\s*(?P<field>[a-z_]+)\s*:\s*"(?P<value>(?:[^"\\]|\\.)*)"\s*$')


def sniff(path: str, head: bytes) -> bool:
    if os.path.isdir(path):
        if os.path.isfile(os.path.join(path, "saved_model.pb")):
            return False
        return os.path.isfile(os.path.join(path, STATE_FILE)) or bool(_prefixes(path))
    if head:
        if os.path.basename(path) == STATE_FILE:
            return head.lstrip().startswith((b"model_checkpoint", b"all_model_check"))
        if path.endswith(".index"):
            return _table_magic(path) or _has_shard(path[: -len(".index")])
        match = _SHARD.match(path)
        return match is not None and os.path.isfile(match.group("prefix") + ".index")
    return not os.path.exists(path) and os.path.isfile(path + ".index")


def _table_magic(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            fh.seek(-8, os.SEEK_END)
            return fh.read(8) == TABLE_MAGIC
    except OSError:
        return False


def _has_shard(prefix: str) -> bool:
    folder, base = os.path.split(prefix)
    try:
        return any(
            _SHARD.match(name) and name.startswith(base + ".data-") for name in os.listdir(folder or ".")
        )
    except OSError:
        return False


def _prefixes(folder: str) -> list[str]:
    """Checkpoints in ``folder``: the prefixes of its ``.index`` files that have a data shard."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    shards = {m.group("prefix") for name in names if (m := _SHARD.match(name))}
    return sorted(name[: -len(".index")] for name in names if name.endswith(".index") and name[:-6] in shards)


def prefetch(path: str, *, verify: bool = True) -> Pending | None:
    return None  # nothing of libhdf5: the index is read in this process, bounded by kinspect.tfio


def resolve(path: str) -> tuple[str, list[str]]:
    """The checkpoint prefix ``path`` names, and notes on how it was chosen."""
    if os.path.isdir(path):
        if os.path.isfile(os.path.join(path, STATE_FILE)):
            return latest(path, os.path.join(path, STATE_FILE))
        found = _prefixes(path)
        if len(found) == 1:
            return os.path.join(path, found[0]), [f"read the directory's only checkpoint, {found[0]} "
                                                  "(it has no checkpoint state file)"]  # fmt: skip
        shown = ", ".join(found[:5]) + (" …" if len(found) > 5 else "")
        raise InputError(path, f"holds {len(found)} checkpoints and no checkpoint state file naming the "
                               f"latest: name one ({shown})")  # fmt: skip
    if os.path.basename(path) == STATE_FILE and os.path.isfile(path):
        return latest(path, path)
    if path.endswith(".index") and os.path.isfile(path):
        return path[: -len(".index")], []
    match = _SHARD.match(path)
    if match is not None and os.path.isfile(path):
        return match.group("prefix"), []
    return path, []


def _unescape(text: str) -> str:
    """A text-format protobuf string: C escapes (``\\"``, ``\\\\``, octal bytes)."""
    if "\\" not in text:
        return text
    import codecs

    try:
        return codecs.escape_decode(text.encode("utf-8"))[0].decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return text


def read_state(path: str, state_file: str) -> tuple[str, list[str]]:
    """``model_checkpoint_path`` and ``all_model_checkpoint_paths`` of a state file."""
    try:
        with open(state_file, "rb") as fh:
            data = fh.read(MAX_STATE_BYTES + 1)
    except OSError as exc:
        raise InputError(path, f"cannot read the checkpoint state file ({exc.strerror or exc})") from None
    if len(data) > MAX_STATE_BYTES:
        raise InputError(path, f"checkpoint state file larger than {MAX_STATE_BYTES:,} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(path, "the checkpoint state file is not text") from None
    latest_path, listed = None, []
    for line in text.splitlines():
        match = _STATE_LINE.match(line)
        if match is None:
            continue
        value = _unescape(match.group("value"))
        if match.group("field") == "model_checkpoint_path":
            latest_path = value
        elif match.group("field") == "all_model_checkpoint_paths":
            listed.append(value)
    if not latest_path:
        raise InputError(path, "the checkpoint state file names no checkpoint (no model_checkpoint_path)")
    return latest_path, listed


def latest(path: str, state_file: str) -> tuple[str, list[str]]:
    """The latest checkpoint a state file names (inside its directory), and a note saying which."""
    folder = os.path.dirname(os.path.abspath(state_file))
    name, listed = read_state(path, state_file)
    prefix = _inside(path, folder, name)
    others = [n for n in listed if n != name]
    note = f"checkpoint state file: read the latest checkpoint, {name} (model_checkpoint_path)"
    if others:
        shown = ", ".join(others[:10]) + (f" and {len(others) - 10} more" if len(others) > 10 else "")
        note += f"; also listed: {shown}"
    if not os.path.isfile(prefix + ".index"):
        raise InputError(
            path, f"the checkpoint state file names {name!r:.200}, but {name:.200}.index is missing"
        )
    return prefix, [note]


def _inside(path: str, folder: str, name: str) -> str:
    """``name`` resolved in ``folder``; refused when it leads outside (a state file is data, not
    a pointer to anywhere on the machine)."""
    if "\0" in name:
        raise InputError(path, "the checkpoint state file names a path with a NUL byte")
    where = os.path.normpath(os.path.join(folder, name))
    real_folder = os.path.realpath(folder)
    real = os.path.realpath(where)
    if os.path.commonpath([real_folder, real]) != real_folder:
        raise InputError(path, f"the checkpoint state file points outside its directory: {name!r:.200}")
    return where


def load(path: str, arch: ArchFile | None, pending: Pending | None, *, verify: bool = True) -> ModelInfo:
    """A checkpoint, weights only, or paired with an architecture (``--arch``)."""
    from kinspect.loaders import tf_objects
    from kinspect.loaders.common import paired

    prefix, notes = resolve(path)
    pair = paired(arch) if arch is not None else None
    bundle = tf_objects.open_bundle(path, prefix)
    tree = tf_objects.read_tree(path, bundle, os.path.basename(prefix))
    size = tf_objects.file_size(bundle, prefix + ".index")
    return tf_objects.checkpoint_model(path, Format.TF_CHECKPOINT, bundle, tree, size, pair, notes)


def architecture(path: str) -> Any:
    raise InputError(
        path, "--arch file holds no model architecture (a TensorFlow checkpoint has only weights)"
    )


def raw(path: str) -> RawFile:
    """A checkpoint holds no config for the security rules to read."""
    return RawFile()


def sources(info: ModelInfo) -> list[Source]:
    """The checkpoint's tensor bundle: every tensor at its offset in a data shard."""
    from kinspect.loaders import tf_objects

    prefix, _ = resolve(info.path)
    return [BundleSource(tf_objects.open_bundle(info.path, prefix))]
