"""``.keras`` zip archives: config.json, metadata.json and model.weights.h5 (or sharded weights)."""

from __future__ import annotations

import json
import zipfile
import zlib
from typing import Any

from kinspect.assemble import assign_keras3
from kinspect.errors import InputError
from kinspect.loaders import snapshot
from kinspect.loaders.archive import ArchiveError, read_small, unsafe_members
from kinspect.loaders.common import build_model, compile_info, is_keras2, one_line, parse_architecture
from kinspect.loaders.h5tree import Dataset, H5Error
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
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"{name} is not valid JSON ({exc})") from None
    except RecursionError:
        raise InputError(path, f"{name} is nested too deeply") from None


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
        raise InputError(path, f"archive member {bad[0]!r:.100} has an unsafe path (absolute or with ..)")
    names = set(zf.namelist())
    if "config.json" not in names:
        raise InputError(path, "zip archive has no config.json: not a .keras model")
    config = read_json(path, zf, "config.json")
    meta = read_json(path, zf, "metadata.json") if "metadata.json" in names else {}
    if not isinstance(meta, dict):
        meta = {}
    return config, meta


def datasets(path: str, zf: zipfile.ZipFile) -> dict[str, Dataset]:
    """Every tensor of the archive's weights, read in place from the zip."""
    names = set(zf.namelist())
    found: dict[str, Dataset] = {}
    if WEIGHTS in names:
        found.update(snapshot.read(path, WEIGHTS).datasets)
    elif SHARDED in names:
        index = read_json(path, zf, SHARDED)
        for shard in sorted({v for vs in weight_map(index).values() for v in vs}):
            if shard not in names:
                raise InputError(path, f"sharded weights name a missing member {shard!r}")
            found.update(snapshot.read(path, shard).datasets)
    return found


def weight_map(index: Any) -> dict[str, list[str]]:
    """``weight_map`` of a sharded weights index: object path → shard file names."""
    wm = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(wm, dict):
        raise H5Error("sharded weights index has no weight_map")
    return {k: (v if isinstance(v, list) else [v]) for k, v in wm.items() if isinstance(v, (str, list))}


def load(path: str) -> ModelInfo:
    with _open(path) as zf:
        config, meta = _config(path, zf)
        spec = parse_architecture(path, config)
        try:
            found = datasets(path, zf)
        except (ArchiveError, H5Error, OSError) as exc:
            raise InputError(path, f"cannot read the weights: {exc}") from None
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
    )  # fmt: skip
