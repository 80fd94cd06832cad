"""JSON files: a Keras ``config.json`` (an architecture alone), or the index of sharded
Keras 3 weights (``model.weights.json``, its shard files beside it).

Model building is imported inside :func:`load`, as in every format module.
"""

from __future__ import annotations

import json
import os
from typing import Any

from kinspect.errors import InputError
from kinspect.loaders import snapshot
from kinspect.loaders.base import ArchFile, Source, decode_json, require_file
from kinspect.loaders.isolate import Pending
from kinspect.loaders.keras_zip import shard_files
from kinspect.loaders.raw import RawFile, parse_json
from kinspect.model import Format, ModelInfo

NAME = "Keras config.json"
FORMATS = (Format.SHARDED_WEIGHTS, Format.CONFIG_JSON)
SUFFIXES = (".weights.json", ".json")

MAX_CONFIG_BYTES = 64 * 1024 * 1024


def sniff(path: str, head: bytes) -> bool:
    return head.lstrip()[:1] == b"{"


def prefetch(path: str, *, verify: bool = True) -> Pending | None:
    return None  # the shards to read are known only once the index is parsed


def _read(path: str) -> Any:
    if os.path.getsize(path) > MAX_CONFIG_BYTES:
        raise InputError(path, f"JSON file larger than {MAX_CONFIG_BYTES:,} bytes")
    with open(path, "rb") as fh:
        return decode_json(path, fh.read(), "the file")


def _is_index(data: Any) -> bool:
    return isinstance(data, dict) and "weight_map" in data


def load(path: str, arch: ArchFile | None, pending: Pending | None, *, verify: bool = True) -> ModelInfo:
    """A ``config.json`` architecture, or the index of sharded Keras 3 weights."""
    from kinspect.loaders.common import build_model, is_keras2, paired, parse_architecture
    from kinspect.loaders.keras3_weights import keras3_weights_only, listing

    data = _read(path)
    if _is_index(data):
        found = listing(_shards(path, data))
        return keras3_weights_only(
            path, Format.SHARDED_WEIGHTS, found, paired(arch) if arch is not None else None
        )
    spec = parse_architecture(path, data)
    return build_model(path, Format.CONFIG_JSON, spec, is_keras2(data), None)


def _shards(path: str, index: dict) -> list[snapshot.Snapshot]:
    """Snapshots of every shard an index names (files beside it, never outside its folder)."""
    folder = os.path.dirname(os.path.abspath(path))
    found: list[snapshot.Snapshot] = []
    for shard in shard_files(index):
        if os.path.basename(shard) != shard or shard in (".", ".."):
            raise InputError(path, f"sharded weights name a shard outside their folder: {shard!r:.100}")
        where = os.path.join(folder, shard)
        require_file(where)
        found.append(snapshot.read(where))
    return found


def architecture(path: str) -> Any:
    """The file itself: a ``config.json`` is the model config."""
    return _read(path)


def raw(path: str) -> RawFile:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        return RawFile(problem=f"cannot read file ({exc.strerror or exc})")
    if len(data) > MAX_CONFIG_BYTES:
        return RawFile(problem="JSON file too large")
    config, problem = parse_json(data, "JSON file")
    return RawFile(config=config, problem=problem)


def sources(info: ModelInfo) -> list[Source]:
    """The shard files beside a sharded weights index; a config.json holds no tensors."""
    if info.format is not Format.SHARDED_WEIGHTS:
        return []
    try:
        with open(info.path, "rb") as fh:
            index = json.loads(fh.read())
    except (OSError, ValueError) as exc:
        raise InputError(info.path, f"cannot read the shard index: {exc}") from None
    folder = os.path.dirname(os.path.abspath(info.path))
    return [(os.path.join(folder, s), None) for s in shard_files(index) if os.path.basename(s) == s]
