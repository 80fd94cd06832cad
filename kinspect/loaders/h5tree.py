"""Listing what an HDF5 file holds, with bounds, and decoding its odd attribute types."""

from __future__ import annotations

import json
from typing import Any

import h5py
import numpy as np

from kinspect.loaders.base import H5Error
from kinspect.loaders.h5order import Read, creation_order

MAX_OBJECTS = 2_000_000  # groups + datasets visited in one file; beyond that it is hostile
MAX_ATTR_BYTES = 64 * 1024 * 1024  # a model_config attribute larger than this is refused
MAX_TEXT_BYTES = 64 * 1024  # keras_version, backend: short strings


def _dtype_name(dset: h5py.h5d.DatasetID) -> str:
    """Numpy dtype name; Keras 3 stores bfloat16 as raw 16-bit with a ``dtype`` attribute."""
    if h5py.h5a.exists(dset, b"dtype"):
        attr = h5py.h5a.open(dset, b"dtype")
        if attr.get_type().get_class() == h5py.h5t.STRING and attr.shape == ():
            buf = np.empty((), dtype=attr.dtype)
            attr.read(buf)
            value = buf.item()
            if value in (b"bfloat16", "bfloat16"):
                return "bfloat16"
    return dtype_name(dset)


def dtype_name(obj: h5py.h5d.DatasetID | h5py.Dataset) -> str:
    """Numeric dtypes by name; anything else (compound, references, types numpy lacks) is "void"."""
    try:
        dt = obj.dtype
    except (TypeError, ValueError):  # h5py cannot map some valid HDF5 types to numpy
        return "void"
    if dt.kind == "V" and dt.itemsize == 2 and dt.fields is None:
        return "bfloat16"  # Keras's legacy .h5 writer stores bfloat16 as untagged 2-byte opaque data
    return dt.name if dt.kind in "fiub" else "void"  # name: ">f4" is float32 too


def dataset_info(dset: h5py.h5d.DatasetID) -> tuple[tuple[int, ...], str]:
    """Shape and dtype name of an open dataset."""
    return tuple(int(d) for d in (dset.shape or ())), _dtype_name(dset)


def text(value: Any) -> str:
    """An attribute that is str, bytes or a 0-d numpy array of either."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8")
    if isinstance(value, str):
        return value
    raise H5Error(f"expected a text attribute, found {type(value).__name__}")


def strings(value: Any) -> list[str]:
    """An attribute holding a list of names: array of bytes/str, or an empty float array."""
    if value is None:
        return []
    if isinstance(value, (bytes, str, np.bytes_)):
        return [text(value)]
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return []
        return [text(v) for v in value.reshape(-1)]
    raise H5Error(f"expected a list of names, found {type(value).__name__}")


def read_attr(obj: h5py.Group, name: str, limit: int = MAX_ATTR_BYTES) -> Any:
    """An attribute's value, refusing one whose stored size exceeds ``limit`` before reading it.

    Variable-length strings store only heap references in the attribute, so their
    size is known after reading; the reader's memory ceiling bounds that read.
    """
    try:
        stored = h5py.h5a.open(obj.id, name.encode()).get_storage_size()
    except RuntimeError:  # h5py raises for an empty attribute (size 0)
        stored = 0
    if stored > limit:
        raise H5Error(f"attribute {name} is {stored:,} bytes, more than a model file holds")
    raw = obj.attrs[name]
    size = raw.nbytes if isinstance(raw, np.ndarray) and raw.dtype.kind != "O" else _text_size(raw)
    if size > limit:
        raise H5Error(f"attribute {name} is {size:,} bytes, more than a model file holds")
    return raw


def _text_size(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return sum(_text_size(v) for v in value.reshape(-1))
    return len(value) if isinstance(value, (bytes, str)) else 8


def attr_strings(obj: h5py.Group, name: str) -> list[str]:
    """Keras chunks long name lists into ``name0``, ``name1``… when they exceed the header limit."""
    if name in obj.attrs:
        return strings(read_attr(obj, name))
    out: list[str] = []
    chunk = 0
    while f"{name}{chunk}" in obj.attrs:  # ends: a file has finitely many attributes
        out.extend(strings(read_attr(obj, f"{name}{chunk}")))
        chunk += 1
    return out


def json_attr(obj: h5py.Group, name: str) -> Any:
    """A JSON attribute such as ``model_config``, size-bounded before decoding."""
    raw = read_attr(obj, name)
    try:
        return json.loads(text(raw))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise H5Error(f"attribute {name} is not valid JSON ({exc})") from None
    except RecursionError:
        raise H5Error(f"attribute {name} is nested too deeply") from None


def optional_text(obj: h5py.Group, name: str) -> str | None:
    """A short text attribute such as ``keras_version``, or None when absent or odd."""
    try:
        return text(read_attr(obj, name, MAX_TEXT_BYTES)) if name in obj.attrs else None
    except (H5Error, UnicodeDecodeError):
        return None


# Attributes Keras writes that kinspect reads; long name lists are chunked as name0, name1…
TEXT_ATTRS = ("model_config", "training_config", "keras_version", "backend")
LIST_ATTRS = ("layer_names", "weight_names")
VARS_NAME = "name"  # on Keras 3.6+ ``vars`` groups: the real name of the layer (or model, optimizer)
MAX_NAME_BYTES = 4096  # a layer name longer than this is not shown
MAX_ORDERED = 200_000  # groups whose creation order is read


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


def _vars_name(f: h5py.File, raw: bytes) -> str | None:
    """The ``name`` attribute Keras 3.6+ writes on each ``vars`` group (the object's real name)."""
    try:
        oid = h5py.h5o.open(f.id, raw)
        if not h5py.h5a.exists(oid, VARS_NAME.encode()):
            return None
        return text(read_attr(h5py.Group(oid), VARS_NAME, MAX_NAME_BYTES))
    except (H5Error, UnicodeDecodeError, OSError, KeyError, ValueError, TypeError):
        return None  # an odd name is not worth refusing the weights


def take(f: h5py.File | h5py.Group, read: Read | None = None) -> dict[str, Any]:
    """The snapshot of an open file, as JSON-ready data (run this in the reader child).

    ``read`` reads raw bytes of the same HDF5 file (addresses relative to its base): with it,
    the snapshot also tells in which order Keras 3 layout groups were created (``order``).
    """
    attrs: dict[str, Any] = {}
    groups: set[str] = set()
    datasets: list[list[Any]] = []
    children: dict[str, list[str]] = {}
    if root := _group_attrs(f):
        attrs[""] = root
    count = 0

    def visit(raw: bytes, info: h5py.h5o.ObjInfo) -> int | None:
        nonlocal count
        count += 1
        if count > MAX_OBJECTS:
            return 1  # stop the visit
        name = raw.decode("utf-8", "replace")
        parent, _, leaf = name.rpartition("/")
        children.setdefault(parent, []).append(leaf)
        if info.type == h5py.h5o.TYPE_GROUP:
            groups.add(name)
            if leaf == "vars" and info.num_attrs and (real := _vars_name(f, raw)) is not None:
                attrs.setdefault(name, {})[VARS_NAME] = real
            # Keras writes its attributes on the root, on model_weights and on the layer
            # groups right below either; deeper groups are probed only for a ``vars`` name.
            depth = name.count("/")
            near = depth == 0 or (depth == 1 and name.startswith("model_weights/"))
            if (
                near
                and info.num_attrs
                and _wanted(oid := h5py.h5o.open(f.id, raw))
                and (found := _group_attrs(h5py.Group(oid)))
            ):
                attrs.setdefault(name, {}).update(found)
        elif info.type == h5py.h5o.TYPE_DATASET:
            shape, dtype = dataset_info(h5py.h5d.open(f.id, raw))
            datasets.append([name, list(shape), dtype])
        return None

    h5py.h5o.visit(f.id, visit, info=True)
    if count > MAX_OBJECTS:
        raise H5Error(f"more than {MAX_OBJECTS:,} objects in the HDF5 file")
    out: dict[str, Any] = {"attrs": attrs, "groups": sorted(groups), "datasets": datasets}
    if read is not None and not any(a in root for a in ("model_config", "layer_names", "layer_names0")):
        out["order"] = _orders(f, children, read)
    return out


def _orders(f: h5py.File | h5py.Group, children: dict[str, list[str]], read: Read) -> dict[str, Any]:
    """Creation order of the members of every group that has several (None where unknown).
    ``vars`` groups are left out: their members are numbered in order."""
    sizes = f.file.id.get_create_plist().get_sizes()
    out: dict[str, Any] = {}
    for group, names in children.items():
        if len(names) < 2 or group.rpartition("/")[2] == "vars":
            continue
        if len(out) >= MAX_ORDERED:
            out[group] = None
            continue
        out[group] = creation_order(f[group] if group else f["/"], names, read, sizes)
    return out
