"""What a SavedModel directory says about itself: Keras's metadata and the serving signatures.

- ``keras_metadata.pb`` (written by tf.keras 2.x ``model.save(dir)``): a ``SavedMetadata`` proto
  (tf_keras ``protobuf/saved_metadata.proto``), one ``SavedObject`` per Keras object with its
  ``node_id`` in the object graph, ``node_path`` (``root``, ``root.layer-1``…), ``identifier``
  (``_tf_keras_model``, ``_tf_keras_layer``…) and ``metadata``, a JSON string left unparsed here.
- ``saved_model.pb``: a ``SavedModel`` proto (``tensorflow/core/protobuf/saved_model.proto``,
  ``meta_graph.proto``): meta graphs, each with its tags and ``signature_def`` map of
  ``SignatureDef`` {inputs, outputs: map of ``TensorInfo`` (name, dtype, tensor_shape),
  method_name}. The file can be large (the graph and function library hold every constant), so
  it is read as a stream: only the meta graphs' ``meta_info_def`` tags and signatures are read,
  everything else is skipped by seeking.

Caps: :data:`MAX_METADATA_BYTES` for ``keras_metadata.pb`` (read whole), :data:`MAX_SIGNATURE_BYTES`
for one signature entry, :data:`MAX_FIELDS` fields scanned in ``saved_model.pb``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, BinaryIO

from kinspect.tfio.bundle import SHAPE, dtype_name
from kinspect.tfio.errors import TFIOError, open_binary
from kinspect.tfio.protowire import LEN, Schema, decode, iter_file_fields

MAX_METADATA_BYTES = 256 << 20
MAX_SIGNATURE_BYTES = 16 << 20
MAX_FIELDS = 1_000_000

SAVED_OBJECT: Schema = {
    2: ("node_id", "int32", False, None),
    3: ("node_path", "string", False, None),
    4: ("identifier", "string", False, None),
    5: ("metadata", "string", False, None),
}
SAVED_METADATA: Schema = {1: ("nodes", "message", True, SAVED_OBJECT)}

COO_SPARSE: Schema = {
    1: ("values_tensor_name", "string", False, None),
    2: ("indices_tensor_name", "string", False, None),
    3: ("dense_shape_tensor_name", "string", False, None),
}
TENSOR_INFO: Schema = {
    1: ("name", "string", False, None),
    2: ("dtype", "enum", False, None),
    3: ("tensor_shape", "message", False, SHAPE),
    4: ("coo_sparse", "message", False, COO_SPARSE),
    5: ("composite_tensor", "bytes", False, None),  # a TypeSpecProto and components: not decoded
}
TENSOR_INFO_MAP_ENTRY: Schema = {
    1: ("key", "string", False, None),
    2: ("value", "message", False, TENSOR_INFO),
}
SIGNATURE_DEF: Schema = {
    1: ("inputs", "message", True, TENSOR_INFO_MAP_ENTRY),
    2: ("outputs", "message", True, TENSOR_INFO_MAP_ENTRY),
    3: ("method_name", "string", False, None),
}
SIGNATURE_MAP_ENTRY: Schema = {
    1: ("key", "string", False, None),
    2: ("value", "message", False, SIGNATURE_DEF),
}


@dataclass(frozen=True)
class MetadataNode:
    node_id: int
    node_path: str  # "root", "root.layer-0", "root.layer_with_weights-0"…
    identifier: str  # "_tf_keras_model", "_tf_keras_layer", "_tf_keras_metric"…
    metadata: str  # JSON text, not parsed


@dataclass(frozen=True)
class TensorSpec:
    name: str  # the graph tensor ("serving_default_x:0"); "" for a composite tensor
    dtype: str  # numpy-style, as bundle.dtype_name ("invalid" when unset)
    shape: tuple[int | None, ...] | None  # None dims are unknown; None is an unknown rank
    encoding: str = "dense"  # "dense", "coo_sparse" or "composite"


@dataclass(frozen=True)
class Signature:
    key: str  # "serving_default"…
    method: str  # "tensorflow/serving/predict"…
    inputs: dict[str, TensorSpec]
    outputs: dict[str, TensorSpec]
    tags: tuple[str, ...] = ()  # of its meta graph ("serve",)


@dataclass(frozen=True)
class MetaGraph:
    tags: tuple[str, ...]
    tensorflow_version: str  # of the TensorFlow that wrote it, "" when not recorded
    signatures: tuple[Signature, ...]


def keras_metadata(path: str | os.PathLike[str]) -> tuple[MetadataNode, ...]:
    """The nodes of a ``keras_metadata.pb`` file, in file order."""
    data = _read_capped(path, MAX_METADATA_BYTES, "Keras metadata file")
    proto = decode(SAVED_METADATA, data)
    return tuple(
        MetadataNode(n["node_id"], n["node_path"], n["identifier"], n["metadata"]) for n in proto["nodes"]
    )


def signatures(saved_model_pb: str | os.PathLike[str]) -> tuple[Signature, ...]:
    """Every signature of every meta graph of a ``saved_model.pb``, in file order."""
    return tuple(s for graph in meta_graphs(saved_model_pb) for s in graph.signatures)


def meta_graphs(saved_model_pb: str | os.PathLike[str]) -> tuple[MetaGraph, ...]:
    """The meta graphs of a ``saved_model.pb``: tags, TensorFlow version and signatures."""
    graphs = []
    with open_binary(saved_model_pb, "SavedModel") as f:
        size = os.fstat(f.fileno()).st_size
        budget = [MAX_FIELDS]
        for number, wire, value in _fields(f, 0, size, budget):
            if number == 2 and wire == LEN:  # SavedModel.meta_graphs; other fields are skipped
                graphs.append(_meta_graph(f, value, budget))
    if not graphs:
        raise TFIOError("SavedModel has no meta graph")
    return tuple(graphs)


def _fields(f: BinaryIO, start: int, end: int, budget: list[int]) -> Any:
    for item in iter_file_fields(f, start, end):
        budget[0] -= 1
        if budget[0] < 0:
            raise TFIOError(f"more than {MAX_FIELDS} fields in a SavedModel")
        yield item


def _meta_graph(f: BinaryIO, span: tuple[int, int], budget: list[int]) -> MetaGraph:
    tags: list[str] = []
    version = ""
    entries = []
    for number, wire, value in _fields(f, span[0], span[1], budget):
        if number == 1 and wire == LEN:  # meta_info_def: tags (4) and tensorflow_version (5)
            for inner, inner_wire, inner_value in _fields(f, value[0], value[1], budget):
                if inner in (4, 5) and inner_wire == LEN:
                    text = _read_text(f, inner_value)
                    if inner == 4:
                        tags.append(text)
                    else:
                        version = text
        elif number == 5 and wire == LEN:  # signature_def map entry
            start, stop = value
            if stop - start > MAX_SIGNATURE_BYTES:
                raise TFIOError(f"signature of {stop - start} bytes (more than {MAX_SIGNATURE_BYTES})")
            f.seek(start)
            entries.append(decode(SIGNATURE_MAP_ENTRY, f.read(stop - start)))
    sigs = []
    for entry in entries:
        sig = entry["value"] or {"inputs": [], "outputs": [], "method_name": ""}
        sigs.append(
            Signature(
                entry["key"],
                sig["method_name"],
                {item["key"]: _tensor_spec(item["value"]) for item in sig["inputs"]},
                {item["key"]: _tensor_spec(item["value"]) for item in sig["outputs"]},
                tuple(tags),
            )
        )
    return MetaGraph(tuple(tags), version, tuple(sigs))


def _read_text(f: BinaryIO, span: tuple[int, int]) -> str:
    start, stop = span
    if stop - start > 1 << 16:
        raise TFIOError("SavedModel tag or version string over 64 KiB")
    f.seek(start)
    try:
        return f.read(stop - start).decode("utf-8")
    except UnicodeDecodeError:
        raise TFIOError("invalid UTF-8 in a SavedModel string") from None


def _tensor_spec(info: dict[str, Any] | None) -> TensorSpec:
    if info is None:
        return TensorSpec("", "invalid", None)
    shape_proto = info["tensor_shape"]
    shape: tuple[int | None, ...] | None
    if shape_proto is None or shape_proto["unknown_rank"]:
        shape = None
    else:
        shape = tuple(None if d["size"] < 0 else d["size"] for d in shape_proto["dim"])
    if info["coo_sparse"] is not None:
        return TensorSpec(
            info["coo_sparse"]["values_tensor_name"], dtype_name(info["dtype"]), shape, "coo_sparse"
        )
    if info["composite_tensor"]:
        return TensorSpec(info["name"], dtype_name(info["dtype"]), shape, "composite")
    return TensorSpec(info["name"], dtype_name(info["dtype"]), shape)


def _read_capped(path: str | os.PathLike[str], cap: int, what: str) -> bytes:
    with open_binary(path, what) as f:
        size = os.fstat(f.fileno()).st_size
        if size > cap:
            raise TFIOError(f"{what} of {size} bytes (more than {cap})")
        return f.read(cap + 1)
