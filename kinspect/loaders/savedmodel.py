"""TensorFlow SavedModel directories: ``saved_model.pb``, ``variables/variables.*`` (a TensorFlow
checkpoint) and, for models tf.keras saved (``model.save("dir")``, its default format in 2.x),
``keras_metadata.pb``.

The Keras metadata (a ``SavedMetadata`` proto, tf_keras/protobuf/saved_metadata.proto) carries one
JSON document per saved object; the root's holds ``model_config``, ``training_config``,
``keras_version`` and ``backend``, as a legacy ``.h5`` file does, written by tf_keras's
``json_utils.Encoder`` (tuples and TensorShapes as ``{"class_name": "__tuple__"|"TensorShape",
"items": [...]}``). With it a SavedModel gets everything a ``.h5`` gets. Without it (Keras 3
``model.export()``, ``tf.saved_model.save``) there are only the variables and the serving
signatures' input and output specs; the graph itself (``GraphDef`` and functions) is never read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from kinspect.errors import InputError
from kinspect.loaders.base import ArchFile, BundleSource, Source
from kinspect.loaders.isolate import Pending
from kinspect.loaders.raw import RawFile
from kinspect.model import Format, ModelInfo

NAME = "TensorFlow SavedModel"
FORMATS = (Format.SAVEDMODEL,)
SUFFIXES = ()  # a directory

SAVED_MODEL = "saved_model.pb"
KERAS_METADATA = "keras_metadata.pb"
VARIABLES = os.path.join("variables", "variables")
MAX_METADATA_JSON = 64 << 20  # characters of one object's metadata


def folder(path: str) -> str | None:
    """The SavedModel directory ``path`` names: the directory, or its saved_model.pb/keras_metadata.pb."""
    if os.path.isdir(path):
        return path if os.path.isfile(os.path.join(path, SAVED_MODEL)) else None
    if os.path.basename(path) in (SAVED_MODEL, KERAS_METADATA) and os.path.isfile(path):
        where = os.path.dirname(path) or "."
        return where if os.path.isfile(os.path.join(where, SAVED_MODEL)) else None
    return None


def sniff(path: str, head: bytes) -> bool:
    return folder(path) is not None


def prefetch(path: str, *, verify: bool = True) -> Pending | None:
    return None


def decode(value: Any) -> Any:
    """tf_keras's JSON encodings as plain JSON (tf_keras/src/saving/legacy/saved_model/json_utils.py
    ``_decode_helper``), without instantiating anything: tuples and TensorShapes become lists,
    ``__ellipsis__`` the string ``"..."``, ``__bytes__`` its text."""
    stack: list[tuple[Any, Any, Any]] = []
    root: list[Any] = [None]
    stack.append((value, root, 0))
    while stack:
        item, parent, key = stack.pop()
        if isinstance(item, dict):
            cls = item.get("class_name")
            if cls in ("__tuple__", "TensorShape") and set(item) <= {"class_name", "items"}:
                items = item.get("items")
                if not isinstance(items, list):
                    parent[key] = None
                    continue
                out_list: list[Any] = [None] * len(items)
                parent[key] = out_list
                stack.extend((v, out_list, i) for i, v in enumerate(items))
                continue
            if cls == "__ellipsis__" and set(item) == {"class_name"}:
                parent[key] = "..."
                continue
            if cls == "__bytes__" and isinstance(item.get("value"), str):
                parent[key] = item["value"]
                continue
            out_dict: dict[str, Any] = {}
            parent[key] = out_dict
            stack.extend((v, out_dict, k) for k, v in item.items())
        elif isinstance(item, list):
            out: list[Any] = [None] * len(item)
            parent[key] = out
            stack.extend((v, out, i) for i, v in enumerate(item))
        else:
            parent[key] = item
    return root[0]


class Metadata:
    """The Keras metadata of a SavedModel: the root object's JSON, and every object's label."""

    def __init__(self, path: str, where: str) -> None:
        from kinspect.loaders.tf_objects import Label
        from kinspect.tfio.savedmodel import keras_metadata

        self.root: dict[str, Any] | None = None
        self.labels: dict[str, Label] = {}
        self.present = os.path.isfile(os.path.join(where, KERAS_METADATA))
        if not self.present:
            return
        try:
            nodes = keras_metadata(os.path.join(where, KERAS_METADATA))
        except (ValueError, OSError, EOFError) as exc:
            raise InputError(path, f"corrupt {KERAS_METADATA} ({_reason(exc)})") from None
        for node in nodes:
            if len(node.metadata) > MAX_METADATA_JSON:
                raise InputError(
                    path, f"{KERAS_METADATA}: the metadata of {node.node_path!r:.100} is too large"
                )
            try:
                doc = json.loads(node.metadata) if node.metadata else {}
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise InputError(
                    path, f"{KERAS_METADATA}: {node.node_path!r:.100} is not JSON ({exc})"
                ) from None
            except RecursionError:
                raise InputError(
                    path, f"{KERAS_METADATA}: {node.node_path!r:.100} is nested too deeply"
                ) from None
            if not isinstance(doc, dict):
                continue
            if node.node_path == "root" and self.root is None:
                self.root = doc
            name, cls = doc.get("name"), doc.get("class_name")
            self.labels[node.node_path] = Label(
                name if isinstance(name, str) else None,
                cls if isinstance(cls, str) else None,
                doc.get("trainable") is not False,
            )

    def model_config(self) -> Any:
        """The architecture, or None: absent, or a subclassed model's (``is_graph_network`` false,
        a config without layers that only its Python class can rebuild)."""
        if not self.root or self.root.get("is_graph_network") is False:
            return None
        config = self.root.get("model_config")
        return decode(config) if isinstance(config, dict) else None

    def text(self, key: str) -> str | None:
        value = self.root.get(key) if self.root else None
        return value if isinstance(value, str) else None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _folder_or_error(path: str) -> str:
    where = folder(path)
    if where is None:
        raise InputError(path, f"not a SavedModel directory (no {SAVED_MODEL})")
    return where


def _size(where: str, bundle: Any) -> int:
    from kinspect.loaders.tf_objects import file_size

    total = sum(
        os.path.getsize(os.path.join(where, f))
        for f in (SAVED_MODEL, KERAS_METADATA, "fingerprint.pb")
        if os.path.isfile(os.path.join(where, f))
    )
    if bundle is not None:
        total += file_size(bundle, os.path.join(where, VARIABLES) + ".index")
    return total


def _bundle(path: str, where: str) -> Any:
    from kinspect.loaders.tf_objects import open_bundle

    prefix = os.path.join(where, VARIABLES)
    if not os.path.isfile(prefix + ".index"):
        return None  # a SavedModel without variables (constants only)
    return open_bundle(path, prefix)


def load(path: str, arch: ArchFile | None, pending: Pending | None, *, verify: bool = True) -> ModelInfo:
    """A SavedModel: a full model from its Keras metadata, or its variables and signatures."""
    from kinspect.loaders import tf_objects
    from kinspect.loaders.common import compile_info, is_keras2, paired, parse_architecture

    where = _folder_or_error(path)
    meta = Metadata(path, where)
    config = meta.model_config()
    if config is not None and arch is not None:
        raise InputError(
            path, "--arch applies to weights-only files; this SavedModel has its own architecture"
        )
    bundle = _bundle(path, where)
    name = os.path.basename(os.path.normpath(where))
    tree = (
        tf_objects.read_tree(path, bundle, name, meta.labels)
        if bundle is not None
        else tf_objects.Tree(model=tf_objects.Obj(local="", node=-1, container=True, name=name))
    )
    size = _size(where, bundle)
    versions: dict[str, Any] = {"keras_version": meta.text("keras_version"), "backend": meta.text("backend")}
    if config is not None:
        spec = parse_architecture(path, config)
        training = meta.root.get("training_config") if meta.root else None
        compiled = compile_info(decode(training)) if isinstance(training, dict) else None
        return tf_objects.checkpoint_model(path, Format.SAVEDMODEL, bundle, tree, size,
                                           (spec, is_keras2(config), {}), compile=compiled,
                                           **versions)  # fmt: skip
    notes = list(_signature_notes(path, where))
    if meta.present:
        notes.insert(0, "Keras metadata without a model_config (a subclassed model): layers and classes from "
                        "the metadata; output shapes and connections cannot be known")  # fmt: skip
    else:
        notes.insert(0, f"no {KERAS_METADATA} (exported with model.export() or tf.saved_model.save): the "
                        "variables and the signatures' inputs and outputs are all it tells; layers, classes, "
                        "shapes and connections cannot be known without --arch")  # fmt: skip
    pair = paired(arch) if arch is not None else None
    return tf_objects.checkpoint_model(path, Format.SAVEDMODEL, bundle, tree, size, pair, notes, **versions)


def _signature_notes(path: str, where: str) -> list[str]:
    from kinspect.tfio.savedmodel import signatures

    try:
        found = signatures(os.path.join(where, SAVED_MODEL))
    except (ValueError, OSError, EOFError) as exc:
        return [f"the signatures of {SAVED_MODEL} could not be read ({_reason(exc)})"]
    notes = []
    for sig in found:
        if sig.key.startswith("__"):
            continue  # __saved_model_init_op and the like: no inputs or outputs
        notes.append(f"signature {sig.key!r}: inputs {_specs(sig.inputs)} → outputs {_specs(sig.outputs)}")
    return notes or ["saved_model.pb has no serving signatures"]


def _specs(specs: Mapping[str, Any]) -> str:
    def shape(s: Any) -> str:
        if s is None:
            return "?"
        return (
            "(" + ", ".join("None" if d is None else str(d) for d in s) + ("," if len(s) == 1 else "") + ")"
        )

    return "{" + ", ".join(f"{k}: {v.dtype} {shape(v.shape)}" for k, v in specs.items()) + "}"


def architecture(path: str) -> Any:
    """The model config of a Keras SavedModel (to pair weights with --arch)."""
    where = _folder_or_error(path)
    config = Metadata(path, where).model_config()
    if config is None:
        raise InputError(
            path, "--arch file holds no model architecture (a SavedModel without Keras metadata)"
        )
    return config


def raw(path: str) -> RawFile:
    """The model config of the Keras metadata, for the security rules; never raises."""
    where = folder(path)
    if where is None:
        return RawFile(problem=f"not a SavedModel directory (no {SAVED_MODEL})")
    try:
        meta = Metadata(path, where)
        config = meta.model_config()
    except InputError as exc:
        return RawFile(problem=exc.problem)
    except RecursionError:
        return RawFile(problem="model_config is nested too deeply")
    return RawFile(config=config)


def sources(info: ModelInfo) -> list[Source]:
    """The tensor bundle of ``variables/``."""
    where = _folder_or_error(info.path)
    bundle = _bundle(info.path, where)
    return [BundleSource(bundle)] if bundle is not None else []
