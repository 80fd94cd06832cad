"""An HDF5 file's metadata as plain data, read by libhdf5 in a child process.

libhdf5 is C: a crafted file can make it loop or crash where Python cannot step in.
So the only HDF5 reading kinspect does for metadata happens in :func:`take`, run
through :func:`kinspect.loaders.isolate.isolated`, and what crosses back is JSON:
the text attributes Keras writes, the group names and every dataset's shape and dtype.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import h5py

from kinspect.loaders.archive import open_member
from kinspect.loaders.h5tree import (
    MAX_OBJECTS,
    MAX_TEXT_BYTES,
    Dataset,
    H5Error,
    dataset_info,
    read_attr,
    strings,
    text,
)
from kinspect.loaders.isolate import isolated

# Attributes Keras writes that kinspect reads; long name lists are chunked as name0, name1…
TEXT_ATTRS = ("model_config", "training_config", "keras_version", "backend")
LIST_ATTRS = ("layer_names", "weight_names")


@dataclass(frozen=True)
class Snapshot:
    """Text attributes by group path (``""`` is the root), group paths, and datasets by path."""

    attrs: Mapping[str, Mapping[str, Any]]
    groups: frozenset[str]
    datasets: Mapping[str, Dataset]

    def attr(self, group: str, name: str) -> Any:
        return self.attrs.get(group, {}).get(name)

    def names(self, group: str, name: str) -> list[str]:
        """A name list such as ``layer_names``, joined from its chunks when Keras split it."""
        found = self.attrs.get(group, {})
        if name in found:
            return list(found[name])
        out: list[str] = []
        chunk = 0
        while f"{name}{chunk}" in found:
            out.extend(found[f"{name}{chunk}"])
            chunk += 1
        return out

    def under(self, group: str) -> dict[str, Dataset]:
        """Datasets below ``group``, keyed by their path relative to it."""
        if not group:
            return dict(self.datasets)
        prefix = group.rstrip("/") + "/"
        return {k[len(prefix) :]: v for k, v in self.datasets.items() if k.startswith(prefix)}

    def to_json(self) -> dict[str, Any]:
        return {
            "attrs": {g: dict(a) for g, a in self.attrs.items()},
            "groups": sorted(self.groups),
            "datasets": [[d.path, list(d.shape), d.dtype] for d in self.datasets.values()],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        return cls(
            attrs=data["attrs"],
            groups=frozenset(data["groups"]),
            datasets={p: Dataset(p, tuple(s), t) for p, s, t in data["datasets"]},
        )


PROBES = [n.encode() for n in (*TEXT_ATTRS, *LIST_ATTRS, *(f"{a}0" for a in LIST_ATTRS))]


def _wanted(oid: h5py.h5o.ObjectID) -> bool:
    """Cheap test (no attribute read) for whether a group carries an attribute Keras writes."""
    return any(h5py.h5a.exists(oid, probe) for probe in PROBES)


def _group_attrs(group: h5py.Group) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if not _wanted(group.id):
        return found
    for name in group.attrs:
        base = name.rstrip("0123456789")
        if name in TEXT_ATTRS:
            limit = None if name.endswith("_config") else MAX_TEXT_BYTES
            value = read_attr(group, name) if limit is None else read_attr(group, name, limit)
            try:
                found[name] = text(value)
            except (H5Error, UnicodeDecodeError):
                if not name.endswith("_config"):
                    continue  # an odd version string is not worth refusing the file
                raise H5Error(f"attribute {name} is not text") from None
        elif base in LIST_ATTRS:
            found[name] = strings(read_attr(group, name))
    return found


def take(f: h5py.File | h5py.Group) -> dict[str, Any]:
    """The snapshot of an open file, as JSON-ready data (run this in the reader child)."""
    attrs: dict[str, Any] = {}
    groups: set[str] = set()
    datasets: list[list[Any]] = []
    if root := _group_attrs(f):
        attrs[""] = root
    count = 0

    def visit(raw: bytes, info: h5py.h5o.ObjInfo) -> int | None:
        nonlocal count
        count += 1
        if count > MAX_OBJECTS:
            return 1  # stop the visit
        name = raw.decode("utf-8", "replace")
        if info.type == h5py.h5o.TYPE_GROUP:
            groups.add(name)
            # Keras writes its attributes on the root, on model_weights and on the layer
            # groups right below either; deeper groups (Keras 3 ``vars``) are not probed.
            depth = name.count("/")
            near = depth == 0 or (depth == 1 and name.startswith("model_weights/"))
            if (
                near
                and info.num_attrs
                and _wanted(oid := h5py.h5o.open(f.id, raw))
                and (found := _group_attrs(h5py.Group(oid)))
            ):
                attrs[name] = found
        elif info.type == h5py.h5o.TYPE_DATASET:
            shape, dtype = dataset_info(h5py.h5d.open(f.id, raw))
            datasets.append([name, list(shape), dtype])
        return None

    h5py.h5o.visit(f.id, visit, info=True)
    if count > MAX_OBJECTS:
        raise H5Error(f"more than {MAX_OBJECTS:,} objects in the HDF5 file")
    return {"attrs": attrs, "groups": sorted(groups), "datasets": datasets}


def read(path: str, member: str | None = None) -> Snapshot:
    """Snapshot of the HDF5 file at ``path`` (or of an archive ``member``), read in a child."""

    def work() -> dict[str, Any]:
        from kinspect.errors import InputError
        from kinspect.loaders.common import one_line

        try:
            if member is None:
                with h5py.File(path, "r") as f:
                    return take(f)
            with zipfile.ZipFile(path) as zf, open_member(path, zf, member) as fh, h5py.File(fh, "r") as f:
                return take(f)
        except H5Error as exc:
            raise InputError(path, str(exc)) from None
        except (OSError, KeyError, ValueError, RuntimeError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            where = f"{member}: " if member else ""
            raise InputError(path, f"corrupt or unsupported HDF5 ({where}{one_line(exc)})") from None

    return Snapshot.from_json(isolated(path, work))
