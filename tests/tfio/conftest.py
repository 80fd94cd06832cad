"""Fixtures of the tfio tests: files TensorFlow wrote (``tests/build_tfio.py``) and their oracles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.keras_build import built


@pytest.fixture(scope="session")
def tf_files() -> Path:
    """Checkpoints and SavedModels written by TensorFlow, with ``<name>.oracle.json`` (what
    ``tf.train.load_checkpoint`` reads) and ``<name>.savedmodel.json`` (what protobuf parses)."""
    return built("build_tfio.py")


def oracle(root: Path, name: str) -> dict[str, Any]:
    return json.loads((root / f"{name}.oracle.json").read_text())


def prefix(root: Path, name: str) -> Path:
    return root / oracle(root, name)["prefix"]


# Every checkpoint the builder writes (the names of its oracles), for parametrized tests.
CHECKPOINTS = ["small", "dtypes", "dtypes_ckpt", "many_raw", "many_ckpt", "sliced_raw", "sliced_v1",
               "sharded", "variant", "keras_weights", "keras_weights_legacy", "keras_savedmodel",
               "module_savedmodel"]  # fmt: skip
SAVEDMODELS = ["keras_savedmodel", "module_savedmodel"]
