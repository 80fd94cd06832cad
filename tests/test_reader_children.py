"""How many reader children ``weights`` starts: one per core, and per MIN_BYTES_PER_CHILD of tensor
data, which for TensorFlow checkpoints and SavedModels is counted in their data shards."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from kinspect.loaders import readers


def shards(pattern: str) -> int:
    found = glob.glob(pattern)
    assert found, pattern
    return sum(os.path.getsize(f) for f in found)


def test_data_bytes_of_tensorflow_files(tf_models: Path) -> None:
    saved = tf_models / "MobileNetV2_savedmodel"
    assert readers.data_bytes(str(saved)) == shards(f"{saved}/variables/variables.data-*")
    prefix = tf_models / "sharded"
    [index] = glob.glob(f"{prefix}/**/*.index", recursive=True)
    stem = index[: -len(".index")]
    assert readers.data_bytes(stem) == shards(f"{stem}.data-*") > 0
    assert readers.data_bytes(index) == readers.data_bytes(stem)
    h5 = tf_models / "seq.h5"
    assert readers.data_bytes(str(h5)) == os.path.getsize(h5)


def test_small_models_get_one_child(tf_models: Path) -> None:
    path = str(tf_models / "cnn_bn_savedmodel")
    size = readers.data_bytes(path)
    assert size is not None and size < readers.MIN_BYTES_PER_CHILD
    with readers.Prestarted(path, 2) as early:
        assert len(early.children) == 1


def test_unknown_size_gets_every_core(tmp_path: Path) -> None:
    assert readers.data_bytes(str(tmp_path)) is None
    with readers.Prestarted(str(tmp_path), 2) as early:
        assert len(early.children) == min(2, os.cpu_count() or 1)


def test_histograms_share_sooner(tf_models: Path) -> None:
    from kinspect import api

    info = api.load(tf_models / "MobileNetV2_savedmodel")
    requests = [(w.path, False, False) for w in info.all_weights()]
    nbytes = readers.MIN_BYTES_PER_CHILD // 2
    assert len(readers.share(info, requests, 2, nbytes)) == 1
    groups = readers.share(info, requests, 2, nbytes, bins=10)
    assert len(groups) == min(2, os.cpu_count() or 1)
    assert sorted(r[0] for g in groups for r in g) == sorted(r[0] for r in requests)
