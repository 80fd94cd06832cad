"""``.keras`` zip archives: config.json, metadata.json and model.weights.h5 (or sharded weights).

Model building is imported inside :func:`load`: the registry imports this module to
sniff a file, and the reader child should start before those modules load.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from typing import Any

from kinspect.errors import InputError, UnsafeArchiveError
from kinspect.loaders import snapshot
from kinspect.loaders.archive import ArchiveError, duplicate_members, read_small, unsafe_members
from kinspect.loaders.base import (
    READ_ERRORS,
    ArchFile,
    H5Error,
    Recent,
    Source,
    decode_json,
    one_line,
)
from kinspect.loaders.isolate import Pending
from kinspect.loaders.raw import RawFile, parse_json
from kinspect.loaders.snapshot import Snapshot
from kinspect.model import Format, ModelInfo

NAME = ".keras archive"
FORMATS = (Format.KERAS,)
SUFFIXES = (".keras",)

WEIGHTS = "model.weights.h5"
SHARDED = "model.weights.json"
NPZ = "model.weights.npz"


def sniff(path: str, head: bytes) -> bool:
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))


def prefetch(path: str, *, verify: bool = True) -> Pending | None:
    """The listing of ``model.weights.h5``, started in the reader child (not when the summary
    need not verify the weights: ``load`` then starts it only if the config does not decide)."""
    if not verify:
        return None
    try:
        with zipfile.ZipFile(path) as zf:
            if WEIGHTS in zf.namelist():
                return snapshot.begin(path, WEIGHTS)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None  # load() reports what is wrong with the archive
    return None


def read_json(path: str, zf: zipfile.ZipFile, name: str) -> Any:
    try:
        data = read_small(zf, name)
    except ArchiveError as exc:
        raise InputError(path, f"{exc}; refused") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
        raise InputError(path, f"cannot read {name} from the archive ({one_line(exc)})") from None
    return decode_json(path, data, name)


def architecture(path: str) -> Any:
    """The model config of an archive (to pair weights with --arch)."""
    with _open(path) as zf:
        return _config(path, zf)[0]


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


def snapshots(path: str, zf: zipfile.ZipFile, pending: Pending | None) -> Callable[[], list[Snapshot]]:
    """Start listing every tensor of the archive's weights (read in place from the zip);
    call the result to wait for the listing: one snapshot, or one per shard in order.
    ``pending`` is that listing already started."""
    names = set(zf.namelist())
    if WEIGHTS in names:
        started = pending or snapshot.begin(path, WEIGHTS)
        return lambda: [Snapshot.from_json(started())]
    if SHARDED in names:
        shards = shard_files(read_json(path, zf, SHARDED))
        if missing := [s for s in shards if s not in names]:
            raise InputError(path, f"sharded weights name a missing member {missing[0]!r:.100}")
        return lambda: [snapshot.read(path, shard) for shard in shards]
    return list


def shard_files(index: Any) -> list[str]:
    """The shard file names of a sharded weights index (its ``weight_map``: object path → shards)."""
    wm = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(wm, dict):
        raise H5Error("sharded weights index has no weight_map")
    shards: set[str] = set()
    for value in wm.values():
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise H5Error("sharded weights index lists a shard name that is not text")
        shards.update([value] if isinstance(value, str) else value if isinstance(value, list) else [])
    return sorted(shards)


# The architecture the last load parsed: the verified load that follows a config-only one of the
# same file (loaders.load_config_first, for the report) parses nothing again.
_parsed: Recent[tuple[Any, dict[str, Any], Any, Any]] = Recent()


def load(path: str, arch: ArchFile | None, pending: Pending | None, *, verify: bool = True) -> ModelInfo:
    """Read a .keras archive; ``pending`` is the weights listing if it was already started.

    ``verify=False``: when the config alone decides every stored tensor (a Keras 3 model of
    built-in layers, not compiled), the weights member is not opened at all; the model is what
    the config describes (``ModelInfo.weights_checked`` False). Otherwise it is read as usual.
    """
    from kinspect.loaders.assemble import assign_from_config, assign_keras3
    from kinspect.loaders.common import (
        build_model,
        compile_info,
        is_keras2,
        parse_architecture,
        propagate_shapes,
    )
    from kinspect.loaders.keras3_weights import listing

    if arch is not None:
        raise InputError(path, "--arch applies to weights-only files; this archive has its own")
    recent = _parsed.get(path)
    with _open(path) as zf:
        config, meta = recent[:2] if recent is not None else _config(path, zf)
        version = meta.get("keras_version") if isinstance(meta.get("keras_version"), str) else None
        names = set(zf.namelist())
        # The config decides the weights only for Keras 3 archives of one weights member, and
        # not for a compiled model (its optimizer's variables are in the file, not the config).
        decided = not verify and WEIGHTS in names and (version or "").startswith("3.")
        decided = decided and isinstance(config, dict) and not config.get("compile_config")
        started = None if decided else _listing(path, zf, pending)  # a child lists while we parse
        unread = _unread(names)
        notes = [f"{unread}: parameter counts unknown"] if unread else []
        notes += [
            f"the archive holds several members named {name!r:.100}; kinspect, like Keras, reads the last"
            for name in duplicate_members(zf)
        ]
    if recent is not None:
        spec, shapes = recent[2:]
    else:
        spec = parse_architecture(path, config)
        shapes = propagate_shapes(path, spec, is_keras2(config))
        _parsed.put(path, (config, meta, spec, shapes))
    weights = assign_from_config(spec, shapes) if started is None else None
    if weights is None:
        if started is None:  # the config does not decide: read the weights after all
            with _open(path) as zf:
                started = _listing(path, zf, None)
        found = listing(started())
        weights = assign_keras3(spec, found.datasets, keras_version=version) if found.datasets else None
        optimizer, metrics, checked = found.optimizer_weights(), found.metric_weights(), True
    else:
        optimizer, metrics, checked = (), (), False
    return build_model(
        path, Format.KERAS, spec, is_keras2(config), weights,
        keras_version=version,
        date_saved=meta.get("date_saved") if isinstance(meta.get("date_saved"), str) else None,
        backend=meta.get("backend") if isinstance(meta.get("backend"), str) else None,
        compile=compile_info(config.get("compile_config")) if isinstance(config, dict) else None,
        optimizer_weights=optimizer,
        metric_weights=metrics,
        shapes=shapes,
        notes=notes,
        weights_unread=unread,
        weights_checked=checked,
    )  # fmt: skip


def _listing(path: str, zf: zipfile.ZipFile, pending: Pending | None) -> Callable[[], list[Snapshot]]:
    try:
        return snapshots(path, zf, pending)
    except (ArchiveError, H5Error, OSError) as exc:
        raise InputError(path, f"cannot read the weights: {exc}") from None


def _unread(names: set[str]) -> str | None:
    """Why the archive's weights are not read, when they are not."""
    if WEIGHTS in names or SHARDED in names:
        return None
    if NPZ in names:
        # Keras's weights_format="npz" stores each layer's variables as a pickled dict
        # (keras/src/saving/saving_lib.py, NpzIOStore): kinspect never unpickles.
        return f"the weights are in {NPZ}, pickled objects that kinspect does not load"
    return f"the archive has no weights member ({WEIGHTS})"


def raw(path: str) -> RawFile:
    """Member names and the config, also of an archive that ``load`` refuses; members holding
    pickled data; and every config.json, when several members have that name."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = tuple(zf.namelist())
            unsafe = tuple(unsafe_members(zf))
            config = metadata = None
            problem = None
            if "config.json" in names:
                config, problem = parse_json(read_small(zf, "config.json"), "config.json")
            if "metadata.json" in names:
                metadata, _ = parse_json(read_small(zf, "metadata.json"), "metadata.json")
            duplicates = tuple(duplicate_members(zf))
            hidden = (
                [i for i in zf.infolist() if i.filename == "config.json"][:-1]
                if "config.json" in duplicates
                else []
            )
            shadowed = tuple(parse_json(read_small(zf, info), "config.json")[0] for info in hidden[:16])
            from kinspect.loaders import pickles  # the checks only: a summary needs none of it

            pickled = pickles.scan(path, zf)
    except READ_ERRORS as exc:
        return RawFile(is_archive=True, problem=f"unreadable archive ({str(exc)[:100]})")
    return RawFile(config, metadata, names, unsafe, True, problem, duplicates, pickled, shadowed)


def sources(info: ModelInfo) -> list[Source]:
    """The weights member, or every shard member the archive's index names."""
    path = info.path
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if WEIGHTS in names:
                return [(path, WEIGHTS)]
            if SHARDED in names:
                return [(path, s) for s in shard_files(read_json(path, zf, SHARDED)) if s in names]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(path, f"cannot read the weights: {exc}") from None
    return []
