"""Keras 3 weights layout (``layers/<path>/vars/<i>``), with or without an architecture.

What Keras writes (keras/src/saving/saving_lib.py ``_save_state``): one ``vars`` group per
saveable object (layer, nested model, optimizer) at the object's path, even for objects
without variables; the path joins attribute names and, inside a container such as a
model's ``layers``, snake_case class names made unique (``dense``, ``dense_1``). Since
Keras 3.6 each ``vars`` group carries a ``name`` attribute: the object's real name (the
root ``vars`` holds the model's). tf.keras 2.13+ (``.keras``, ``.weights.h5``) writes the
same layout without names, and on Windows joined paths with ``os.path.join``: one group
per object named ``layers\\dense`` at the root instead of nested groups.

Without an architecture the layers are recovered from these paths alone: their real names
where recorded, Keras's traversal order (the order the groups were created), nested models
(an object with a ``layers`` container) with their own layers.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kinspect.catalog.registry import builtin_classes
from kinspect.catalog.weightnames import is_trainable_name, keras3_name, to_snake_case
from kinspect.loaders.assemble import CONTAINERS, assign_keras3, natural
from kinspect.loaders.common import Arch, build_model, weights_only_info
from kinspect.loaders.snapshot import Dataset, Snapshot
from kinspect.model import Format, LayerInfo, ModelInfo, WeightInfo

OPTIMIZER = "optimizer"  # the model's ``optimizer`` attribute: its variables are slots, not weights
METRICS = "metrics"  # tf.keras also saves compiled metrics' state (``metrics/mean/vars/0``)
MODEL_CLASSES = {"sequential": "Sequential", "functional": "Functional"}

_OWNED = re.compile(r"^(?:(?P<owner>.*)/)?vars/[^/]+$")


def separators(path: str) -> str:
    """``layers\\dense/vars/0`` (tf.keras on Windows) → ``layers/dense/vars/0``.

    No segment of a Keras path holds a backslash of its own: they are attribute names and
    snake_case class names (tf.keras saving_lib joined them with ``tf.io.gfile.join``, which
    is ``os.path.join``; Keras 3 replaces ``\\`` with ``/``).
    """
    return path.replace("\\", "/")


@dataclass(frozen=True)
class Keras3Listing:
    """What a Keras 3 layout file holds, read from one snapshot or several shards.

    ``datasets`` are keyed by their path with ``/`` separators; each keeps the path it is
    stored under (for reading its values). ``objects`` are the paths of the saved objects
    (``""`` for the model itself) in the order Keras wrote them; ``names`` their real names
    where the file records them; ``ordered`` is False when that order is not known (then it
    is alphabetical). ``clashes`` are tensors whose ``/`` path another tensor already has.
    """

    datasets: Mapping[str, Dataset]
    objects: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)
    ordered: bool = True
    clashes: tuple[Dataset, ...] = ()

    def optimizer_weights(self) -> tuple[WeightInfo, ...]:
        """The optimizer's variables (iterations, learning rate, slots), named by their ``/`` path."""
        return self._under(OPTIMIZER)

    def metric_weights(self) -> tuple[WeightInfo, ...]:
        """The state of compiled metrics (tf.keras saves it), named by their ``/`` path."""
        return self._under(METRICS)

    def _under(self, top: str) -> tuple[WeightInfo, ...]:
        return tuple(
            WeightInfo(key, ds.path, ds.shape, ds.dtype, False)
            for key, ds in sorted(self.datasets.items(), key=lambda kv: natural(kv[0]))
            if key.startswith(f"{top}/")
        )


def listing(snaps: Sequence[Snapshot]) -> Keras3Listing:
    """The listing of one weights file, or of the shards of one (in shard order)."""
    datasets: dict[str, Dataset] = {}
    clashes: list[Dataset] = []
    for snap in snaps:
        # Keras's own "/" paths first: a backslash twin of one is the odd one out.
        for key in sorted(snap.datasets, key=lambda k: ("\\" in k, k)):
            norm = separators(key)
            if norm in datasets:
                clashes.append(snap.datasets[key])
            else:
                datasets[norm] = snap.datasets[key]
    rank: dict[str, int] = {"": 0}
    ordered = True
    names: dict[str, str] = {}
    for snap in snaps:
        ordered &= _rank_groups(snap, rank)
        for group, attrs in snap.attrs.items():
            name = attrs.get("name")
            norm = separators(group)
            if isinstance(name, str) and (norm == "vars" or norm.endswith("/vars")):
                names.setdefault(norm[:-5].rstrip("/"), name)
    owners = {separators(g)[:-5].rstrip("/") for s in snaps for g in s.groups if _is_vars(separators(g))}
    owners |= {m.group("owner") or "" for key in datasets if (m := _OWNED.match(key))}
    objects = tuple(sorted(owners, key=lambda p: (rank.get(p, len(rank)), natural(p))))
    return Keras3Listing(datasets, objects, names, ordered, tuple(clashes))


def _is_vars(path: str) -> bool:
    return path == "vars" or path.endswith("/vars")


def _rank_groups(snap: Snapshot, rank: dict[str, int]) -> bool:
    """Number every group (by its ``/`` path and each of its prefixes) in the order it was
    created: a depth-first walk taking each group's members in creation order. False when
    some group with several subgroups does not record that order (they go alphabetically)."""
    kids: dict[str, list[str]] = {}
    for group in snap.groups:
        parent, _, leaf = group.rpartition("/")
        kids.setdefault(parent, []).append(leaf)
    ordered = True
    stack = [""]
    while stack:
        group = stack.pop()
        norm = separators(group)
        parts = norm.split("/") if norm else []
        for i in range(1, len(parts) + 1):
            rank.setdefault("/".join(parts[:i]), len(rank))
        members = kids.get(group, [])
        known = snap.order.get(group)
        if known is not None:
            present = set(members)
            members = [m for m in known if m in present]
        else:
            if len([m for m in members if m != "vars"]) > 1:
                ordered = False
            members = sorted(members)
        stack.extend(f"{group}/{m}" if group else m for m in reversed(members))
    return ordered


def keras3_weights_only(path: str, fmt: Format, found: Keras3Listing, arch: Arch | None) -> ModelInfo:
    """With ``arch``: a full model; without: the layers as the file's paths reveal them."""
    saved = {"optimizer_weights": found.optimizer_weights(), "metric_weights": found.metric_weights()}
    if arch is not None:
        spec, keras2, meta = arch
        return build_model(path, fmt, spec, keras2, assign_keras3(spec, found.datasets), **saved, **meta)
    return _from_paths(path, fmt, found, saved)


@functools.cache
def _known_classes() -> dict[str, str]:
    """snake_case path segment → built-in class name (Keras names container entries this way)."""
    return {**{to_snake_case(c): c for c in builtin_classes()}, **MODEL_CLASSES}


def _class_for_path(segment: str) -> str | None:
    """``batch_normalization_1`` → ``BatchNormalization``, for built-in classes only."""
    known = _known_classes()
    head, _, tail = segment.rpartition("_")
    if segment in known:
        return known[segment]
    if tail.isdigit() and head in known:
        return known[head]
    return None


@dataclass
class _Node:
    """A saved object shown as a layer, while the tree is assembled."""

    path: str
    parent: str
    class_name: str | None
    container: bool = False
    weights: list[tuple[str, Dataset]] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


def _from_paths(path: str, fmt: Format, found: Keras3Listing, saved: dict[str, Any]) -> ModelInfo:
    objects = [o for o in found.objects if o.split("/", 1)[0] not in (OPTIMIZER, METRICS) or not o]
    known = set(objects) | {""}

    def parent_of(obj: str) -> str:
        head = obj
        while head:
            head = head.rpartition("/")[0]
            if head in known:
                return head
        return ""

    parents = {o: parent_of(o) for o in objects if o}
    containers = {p for o, p in parents.items() if _in_container(_rel(p, o))}
    # Which shown layer each saved object's variables belong to: a top-level object is a
    # layer, and so is an entry of a shown model's ``layers``; any other sub-object (a
    # wrapper's forward_layer/cell, a custom layer's own sublayers) belongs to its owner.
    shown: dict[str, _Node] = {}
    home: dict[str, str] = {"": ""}
    for obj in objects:  # parents come before their children (creation order)
        if not obj:
            continue
        up = parents[obj]
        if up == "" or (up in shown and up in containers and _in_container(_rel(up, obj))):
            shown[obj] = _Node(obj, up, _class_of(_rel(up, obj)), obj in containers)
            home[obj] = obj
        else:
            home[obj] = home.get(up, "")
    own: list[Dataset] = []
    stray: list[Dataset] = list(found.clashes)
    for key in sorted(found.datasets, key=natural):
        ds = found.datasets[key]
        match = _OWNED.match(key)
        if key.split("/", 1)[0] in (OPTIMIZER, METRICS):
            continue
        if match is None or (match.group("owner") or "") not in home:
            stray.append(ds)
        elif (where := home[match.group("owner") or ""]) == "":
            own.append(ds)
        else:
            shown[where].weights.append((_rel(where, key), ds))
    for obj, node in shown.items():
        if node.parent:
            shown[node.parent].children.append(obj)
    built: dict[str, LayerInfo] = {}
    unnamed = False
    for obj in reversed(list(shown)):  # children before their parents: no recursion
        node = shown[obj]
        unnamed |= obj not in found.names
        cls = node.class_name or ""
        weights = tuple(
            WeightInfo(name, ds.path, ds.shape, ds.dtype, is_trainable_name(cls, name))
            for rel, ds in node.weights
            for name in (keras3_name(cls, {}, rel),)
        )
        built[obj] = LayerInfo(
            name=found.names.get(obj, obj.rpartition("/")[2]),
            class_name=node.class_name or "?",
            weights=weights,
            layers=tuple(built.pop(c) for c in node.children),
            is_model=node.container,
        )
    layers = tuple(built[o] for o in shown if shown[o].parent == "")
    notes = []
    if unnamed:
        notes.append(
            "layer names are the paths the weights are stored under (dense, dense_1…): the file does not"
            " record the layers' own names (Keras writes them since 3.6; tf.keras never did)"
        )
    if not found.ordered:
        notes.append("the file does not record the order of its layers: they are listed alphabetically")
    unmatched = tuple(_plain(ds) for ds in (*own, *stray))
    if own:
        notes.append(f"{len(own)} tensor(s) are the model's own variables (vars/…), not a layer's")
    if metrics := saved["metric_weights"]:
        notes.append(f"{len(metrics)} tensor(s) hold the state of compiled metrics (metrics/…), not weights")
    if stray:
        notes.append(f"{len(stray)} stored tensor(s) are not where the Keras layout puts variables")
    return weights_only_info(
        path, fmt, layers,
        name=found.names.get("") or os.path.basename(path),
        notes=notes,
        unmatched_weights=unmatched,
        **saved,
    )  # fmt: skip


def _in_container(rel: str) -> bool:
    """Whether a path below a model is an entry of its layers (``layers/dense``)."""
    return rel.split("/", 1)[0] in CONTAINERS and "/" in rel


def _rel(parent: str, child: str) -> str:
    return child[len(parent) + 1 :] if parent else child


def _class_of(rel: str) -> str | None:
    """The class a path names: a container entry (``layers/batch_normalization_1``) is named
    after its class; an attribute (``encoder``) says nothing about it."""
    parts = rel.split("/")
    return _class_for_path(parts[-1]) if len(parts) > 1 else None


def _plain(ds: Dataset) -> WeightInfo:
    return WeightInfo(separators(ds.path), ds.path, ds.shape, ds.dtype, True)
