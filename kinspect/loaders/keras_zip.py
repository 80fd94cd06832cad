"""``.keras`` zip archives: config.json, metadata.json and model.weights.h5 (or sharded weights)."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from typing import Any

from kinspect.assemble import assign_keras3
from kinspect.errors import InputError, UnsafeArchiveError
from kinspect.loaders import snapshot
from kinspect.loaders.archive import ArchiveError, read_small, unsafe_members
from kinspect.loaders.common import (
    build_model,
    compile_info,
    decode_json,
    is_keras2,
    one_line,
    parse_architecture,
    propagate_shapes,
)
from kinspect.loaders.isolate import Pending
from kinspect.loaders.snapshot import Dataset, H5Error
from kinspect.model import Format, ModelInfo, WeightInfo

WEIGHTS = "model.weights.h5"
SHARDED = "model.weights.json"


def matches(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06")


def read_json(path: str, zf: zipfile.ZipFile, name: str) -> Any:
    try:
        data = read_small(zf, name)
    except ArchiveError as exc:
        raise InputError(path, f"{exc}; refused") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
        raise InputError(path, f"cannot read {name} from the archive ({one_line(exc)})") from None
    return decode_json(path, data, name)


def archive_config(path: str) -> tuple[Any, dict[str, Any]]:
    """The model config and metadata of an archive (used to pair weights with --arch)."""
    with _open(path) as zf:
        return _config(path, zf)


def _open(path: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(path, f"not a readable zip archive ({exc})") from None


def _config(path: str, zf: zipfile.ZipFile) -> tuple[Any, dict[str, Any]]:
    # kinspect never extracts, but Keras does extract assets: a member that would land
    # outside the target directory marks a hostile archive, so the whole file is refused.
    if bad := unsafe_members(zf):
        raise UnsafeArchiveError(
            path, f"archive member {bad[0]!r:.100} has an unsafe path (absolute or with ..)"
        )
    names = set(zf.namelist())
    if "config.json" not in names:
        raise InputError(path, "zip archive has no config.json: not a .keras model")
    config = read_json(path, zf, "config.json")
    meta = read_json(path, zf, "metadata.json") if "metadata.json" in names else {}
    if not isinstance(meta, dict):
        meta = {}
    return config, meta


def datasets(path: str, zf: zipfile.ZipFile, pending: Pending | None) -> Callable[[], dict[str, Dataset]]:
    """Start listing every tensor of the archive's weights (read in place from the zip);
    call the result to wait for the listing. ``pending`` is that listing already started."""
    names = set(zf.namelist())
    if WEIGHTS in names:
        started = pending or snapshot.begin(path, WEIGHTS)
        return lambda: dict(snapshot.Snapshot.from_json(started()).datasets)
    if SHARDED in names:
        index = read_json(path, zf, SHARDED)
        shards = sorted({v for vs in weight_map(index).values() for v in vs})
        if missing := [s for s in shards if s not in names]:
            raise InputError(path, f"sharded weights name a missing member {missing[0]!r:.100}")
        return lambda: {k: v for shard in shards for k, v in snapshot.read(path, shard).datasets.items()}
    return dict


def weight_map(index: Any) -> dict[str, list[str]]:
    """``weight_map`` of a sharded weights index: object path → shard file names."""
    wm = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(wm, dict):
        raise H5Error("sharded weights index has no weight_map")
    return {k: (v if isinstance(v, list) else [v]) for k, v in wm.items() if isinstance(v, (str, list))}


def load(path: str, pending: Pending | None = None) -> ModelInfo:
    """Read a .keras archive; ``pending`` is the weights listing if it was already started."""
    with _open(path) as zf:
        config, meta = _config(path, zf)
        try:
            listing = datasets(path, zf, pending)  # a child lists the weights while we parse
        except (ArchiveError, H5Error, OSError) as exc:
            raise InputError(path, f"cannot read the weights: {exc}") from None
    spec = parse_architecture(path, config)
    shapes = propagate_shapes(path, spec, is_keras2(config))
    found = listing()
    weights = assign_keras3(spec, found) if found else None
    optimizer = tuple(
        WeightInfo(key, key, ds.shape, ds.dtype, False)
        for key, ds in found.items()
        if key.startswith("optimizer/")
    )
    return build_model(
        path, Format.KERAS, spec, is_keras2(config), weights,
        keras_version=meta.get("keras_version") if isinstance(meta.get("keras_version"), str) else None,
        date_saved=meta.get("date_saved") if isinstance(meta.get("date_saved"), str) else None,
        backend=meta.get("backend") if isinstance(meta.get("backend"), str) else None,
        compile=compile_info(config.get("compile_config")) if isinstance(config, dict) else None,
        optimizer_weights=optimizer,
        shapes=shapes,
    )  # fmt: skip
