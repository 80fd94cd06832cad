"""TensorFlow's on-disk encodings, read without TensorFlow and without protobuf's runtime.

- :mod:`~kinspect.tfio.protowire` protobuf wire decoding; :mod:`~kinspect.tfio.crc` CRC32C;
- :mod:`~kinspect.tfio.table` the LevelDB-style table of a checkpoint's ``.index``;
- :mod:`~kinspect.tfio.bundle` checkpoints (tensor bundles): entries, shards, tensor bytes;
- :mod:`~kinspect.tfio.objectgraph` the ``TrackableObjectGraph`` that maps keys to objects;
- :mod:`~kinspect.tfio.savedmodel` ``keras_metadata.pb`` and the signatures of ``saved_model.pb``.

Every failure on bad input is a :class:`TFIOError` with a one-line message (the caller adds the
path); every length and count is bounded before anything is allocated. Nothing here imports numpy.
"""

from __future__ import annotations

from kinspect.tfio.bundle import (
    Bundle,
    Entry,
    chunks,
    dtype_name,
    itemsize,
    read_bundle,
    read_strings,
    verify,
)
from kinspect.tfio.errors import TFIOError
from kinspect.tfio.objectgraph import Attribute, Node, SlotRef, read_object_graph
from kinspect.tfio.savedmodel import (
    MetadataNode,
    MetaGraph,
    Signature,
    TensorSpec,
    keras_metadata,
    meta_graphs,
    signatures,
)

__all__ = [
    "Attribute",
    "Bundle",
    "Entry",
    "MetaGraph",
    "MetadataNode",
    "Node",
    "Signature",
    "SlotRef",
    "TFIOError",
    "TensorSpec",
    "chunks",
    "dtype_name",
    "itemsize",
    "keras_metadata",
    "meta_graphs",
    "read_bundle",
    "read_object_graph",
    "read_strings",
    "signatures",
    "verify",
]
