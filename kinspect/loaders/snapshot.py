"""An HDF5 file's metadata as plain data, read by libhdf5 in a child process.

libhdf5 is C: a crafted file can make it loop or crash where Python cannot step in.
So kinspect reads HDF5 metadata only in a child (:func:`begin`, running
:func:`kinspect.loaders.h5tree.take`), and what crosses back is JSON: the text
attributes Keras writes, the group names and every dataset's shape and dtype. The
kinspect process itself never loads libhdf5 (nor h5py and numpy) for a summary.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from kinspect.errors import InputError
from kinspect.loaders.archive import open_member
from kinspect.loaders.base import READ_ERRORS, H5Error, decode_json, one_line
from kinspect.loaders.isolate import Pending, send_early, start


@dataclass(frozen=True)
class Dataset:
    """A stored tensor's location and type."""

    path: str
    shape: tuple[int, ...]
    dtype: str


@dataclass(frozen=True)
class Snapshot:
    """Text attributes by group path (``""`` is the root), group paths, and datasets by path.

    ``order``: for groups with several members, the members in the order they were created
    (None where the file does not tell); read for Keras 3 layout files only.
    """

    attrs: Mapping[str, Mapping[str, Any]]
    groups: frozenset[str]
    datasets: Mapping[str, Dataset]
    order: Mapping[str, tuple[str, ...] | None] = field(default_factory=dict)

    def attr(self, group: str, name: str) -> Any:
        return self.attrs.get(group, {}).get(name)

    def json_attr(self, path: str, name: str) -> Any:
        """A JSON attribute of the root such as ``model_config``; a one-line InputError if not JSON."""
        return decode_json(path, self.attr("", name), f"attribute {name}")

    def names(self, group: str, name: str) -> list[str]:
        """A name list such as ``layer_names``, joined from its chunks when Keras split it."""
        return joined_names(self.attrs.get(group, {}), name)

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
            "order": {g: None if o is None else list(o) for g, o in self.order.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        return cls(
            attrs=data["attrs"],
            groups=frozenset(data["groups"]),
            datasets={p: Dataset(p, tuple(s), t) for p, s, t in data["datasets"]},
            order={g: None if o is None else tuple(o) for g, o in data.get("order", {}).items()},
        )


def joined_names(attrs: Mapping[str, Any], name: str) -> list[str]:
    """The name list ``name`` of a group's attributes, joined from its chunks ``name0``, ``name1``…
    where Keras split it (an HDF5 attribute in an object header is limited to 64 KiB)."""
    if name in attrs:
        return list(attrs[name])
    out: list[str] = []
    chunk = 0
    while f"{name}{chunk}" in attrs:
        out.extend(attrs[f"{name}{chunk}"])
        chunk += 1
    return out


def read(path: str, member: str | None = None) -> Snapshot:
    """Snapshot of the HDF5 file at ``path`` (or of an archive ``member``), read in a child."""
    return Snapshot.from_json(begin(path, member)())


def begin(path: str, member: str | None = None, early: str | None = None) -> Pending:
    """Start reading a snapshot in a child; ``Snapshot.from_json(pending())`` waits for it.
    ``early`` names a root text attribute (``model_config``) that ``pending.early()`` gives as
    soon as the file is open, before the whole snapshot (None when the file has none)."""

    def work() -> dict[str, Any]:
        # libhdf5 (h5py, numpy) is loaded here, in the reader child, never in kinspect itself.
        import h5py

        from kinspect.loaders.h5tree import take, text

        try:
            if member is None:
                with h5py.File(path, "r") as f, open(path, "rb") as raw:
                    if early is not None:
                        send_early(_early_text(f, early, text))
                    return take(f, _reader(raw, f.userblock_size))
            with (
                zipfile.ZipFile(path) as zf,
                open_member(path, zf, member) as fh,
                h5py.File(fh, "r") as f,
                open_member(path, zf, member) as raw,
            ):
                return take(f, _reader(raw, f.userblock_size))
        except H5Error as exc:
            raise InputError(path, str(exc)) from None
        except READ_ERRORS as exc:
            where = f"{member}: " if member else ""
            raise InputError(path, f"corrupt or unsupported HDF5 ({where}{one_line(exc)})") from None

    return start(path, work, early=early is not None)


def _early_text(f: Any, name: str, text: Callable[[Any], str]) -> str | None:
    """The root attribute ``name`` as text, or None; its problems are left to the snapshot."""
    from kinspect.loaders.h5tree import read_attr

    try:
        return text(read_attr(f, name)) if name in f.attrs else None
    except Exception:
        return None


def _reader(fh: IO[bytes], base: int) -> Callable[[int, int], bytes]:
    """Raw bytes of an HDF5 file at an address relative to its base (after any user block)."""

    def read(address: int, size: int) -> bytes:
        fh.seek(base + address)
        return fh.read(size)

    return read
