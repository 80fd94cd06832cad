"""SavedModel signatures and Keras metadata, against TensorFlow's protobuf parse of the same files."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from kinspect.tfio import TFIOError, keras_metadata, meta_graphs, signatures
from kinspect.tfio import savedmodel as sm
from kinspect.tfio.savedmodel import TensorSpec
from tests.tfio import craft
from tests.tfio.conftest import SAVEDMODELS


def expected(root: Path, name: str) -> dict[str, Any]:
    return json.loads((root / f"{name}.savedmodel.json").read_text())


def spec(record: dict[str, Any]) -> TensorSpec:
    shape = None if record["shape"] is None else tuple(record["shape"])
    return TensorSpec(record["name"], record["dtype"], shape, record["encoding"])


@pytest.mark.parametrize("name", SAVEDMODELS)
def test_signatures_as_tensorflow_parses_them(tf_files: Path, name: str) -> None:
    graphs = meta_graphs(tf_files / name / "saved_model.pb")
    want = expected(tf_files, name)["meta_graphs"]
    assert len(graphs) == len(want)
    for graph, w in zip(graphs, want, strict=True):
        assert graph.tags == tuple(w["tags"]) and graph.tensorflow_version == w["tensorflow_version"]
        assert {s.key for s in graph.signatures} == set(w["signatures"])
        for sig in graph.signatures:
            ws = w["signatures"][sig.key]
            assert sig.method == ws["method"] and sig.tags == graph.tags
            assert sig.inputs == {k: spec(v) for k, v in ws["inputs"].items()}
            assert sig.outputs == {k: spec(v) for k, v in ws["outputs"].items()}
    assert signatures(tf_files / name / "saved_model.pb") == tuple(s for g in graphs for s in g.signatures)


def test_module_signatures(tf_files: Path) -> None:
    sigs = {s.key: s for s in signatures(tf_files / "module_savedmodel" / "saved_model.pb")}
    assert set(sigs) >= {"serving_default", "lengths", "mixed"}
    serving = sigs["serving_default"]
    assert serving.method == "tensorflow/serving/predict"
    assert serving.inputs["x"].dtype == "float32" and serving.inputs["x"].shape == (None, 3)
    assert serving.outputs["y"].shape == (None, 2) and serving.outputs["rows"].shape == ()
    assert sigs["lengths"].inputs["s"].shape is None and sigs["lengths"].inputs["s"].dtype == "string"
    mixed = sigs["mixed"]
    assert mixed.inputs["h"].dtype == "bfloat16" and mixed.inputs["h"].shape == (2, None, 4)
    assert mixed.outputs["flag"].dtype == "bool"
    # A SparseTensorSpec input is flattened into its three dense components.
    assert {k: (s.dtype, s.shape) for k, s in mixed.inputs.items() if k.startswith("sparse")} == {
        "sparse": ("int64", (None, 2)),
        "sparse_1": ("float64", (None,)),
        "sparse_2": ("int64", (2,)),
    }


def test_sparse_and_composite_tensor_info(tmp_path: Path) -> None:
    """TensorInfo's other encodings (older SavedModels): a COO sparse tensor, a composite tensor."""
    coo = craft.field(4, craft.field(1, b"values:0") + craft.field(2, b"indices:0")) + craft.field(2, 2)
    composite = craft.field(5, craft.field(1, b"")) + craft.field(2, 1) + craft.field(3, craft.field(3, 1))
    inputs = craft.field(1, craft.field(1, b"a") + craft.field(2, coo))
    inputs += craft.field(1, craft.field(1, b"b") + craft.field(2, composite))
    pb = tmp_path / "saved_model.pb"
    pb.write_bytes(craft.field(2, craft.field(5, craft.field(1, b"s") + craft.field(2, inputs))))
    [sig] = signatures(pb)
    assert sig.inputs == {
        "a": TensorSpec("values:0", "float64", None, "coo_sparse"),
        "b": TensorSpec("", "float32", None, "composite"),
    }


def test_keras_metadata_as_tf_keras_parses_it(tf_files: Path) -> None:
    nodes = keras_metadata(tf_files / "keras_savedmodel" / "keras_metadata.pb")
    want = expected(tf_files, "keras_savedmodel")["keras_metadata"]
    assert [(n.node_id, n.node_path, n.identifier, n.metadata) for n in nodes] == [tuple(w) for w in want]
    root = json.loads(nodes[0].metadata)
    assert nodes[0].node_path == "root" and root["class_name"] == "Functional"
    assert "model_config" not in root or root["model_config"]["class_name"] == "Functional"


def test_no_meta_graph(tmp_path: Path) -> None:
    path = tmp_path / "saved_model.pb"
    path.write_bytes(craft.field(1, 1))
    with pytest.raises(TFIOError, match="no meta graph"):
        meta_graphs(path)
    path.write_bytes(b"not a saved model at all")
    with pytest.raises(TFIOError):
        meta_graphs(path)


def test_huge_graph_is_skipped_not_read(tmp_path: Path) -> None:
    """A meta graph whose GraphDef claims 2 GiB (a sparse file): only the signatures are read."""
    graph_bytes = 2 << 30
    info = craft.field(1, b"serving_default:0") + craft.field(2, 1)
    entry = craft.field(1, b"x") + craft.field(2, info)
    signature = craft.field(1, entry) + craft.field(3, b"tensorflow/serving/predict")
    sig_entry = craft.field(5, craft.field(1, b"serving_default") + craft.field(2, signature))
    tags = craft.field(1, craft.field(4, b"serve"))
    graph_head = craft.varint(2 << 3 | 2) + craft.varint(graph_bytes)  # MetaGraphDef.graph_def
    meta_graph = tags + graph_head
    meta_len = len(meta_graph) + graph_bytes + len(sig_entry)
    path = tmp_path / "saved_model.pb"
    with open(path, "wb") as f:
        f.write(craft.varint(2 << 3 | 2) + craft.varint(meta_len) + meta_graph)
        f.seek(graph_bytes, 1)
        f.write(sig_entry)
    tracemalloc.start()
    try:
        [graph] = meta_graphs(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert graph.tags == ("serve",)
    [sig] = graph.signatures
    assert sig.inputs == {"x": TensorSpec("serving_default:0", "float32", None)}


def test_caps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keras_metadata.pb"
    path.write_bytes(craft.field(1, craft.field(3, b"root")) * 100)
    assert len(keras_metadata(path)) == 100
    monkeypatch.setattr(sm, "MAX_METADATA_BYTES", 100)
    with pytest.raises(TFIOError, match="more than 100"):
        keras_metadata(path)
    sig_entry = craft.field(1, b"k" * 500)
    pb = tmp_path / "saved_model.pb"
    pb.write_bytes(craft.field(2, craft.field(5, sig_entry)))
    monkeypatch.setattr(sm, "MAX_SIGNATURE_BYTES", 100)
    with pytest.raises(TFIOError, match="signature of 503 bytes"):
        meta_graphs(pb)
    monkeypatch.setattr(sm, "MAX_FIELDS", 10)
    pb.write_bytes(craft.field(2, craft.field(9, 1) * 20))
    with pytest.raises(TFIOError, match="more than 10 fields"):
        meta_graphs(pb)


def test_unopenable_files(tmp_path: Path) -> None:
    with pytest.raises(TFIOError, match=r"cannot open SavedModel saved_model\.pb: No such file"):
        meta_graphs(tmp_path / "saved_model.pb")
    with pytest.raises(TFIOError, match=r"cannot open Keras metadata file keras_metadata\.pb"):
        keras_metadata(tmp_path / "keras_metadata.pb")
