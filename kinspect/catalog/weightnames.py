"""Names and trainability of the variables Keras 3 stores by index (``vars/0``, ``vars/1``…).

Keras 3 saves a layer's ``_trainable_variables + _non_trainable_variables`` in order
(keras/src/layers/layer.py ``save_own_variables``) without names; Keras 2 files
keep names such as ``dense/kernel:0``. Only names decide trainability here:
Keras never stores the flag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kinspect.catalog.registry import NAMES

# Variables Keras creates with trainable=False (BatchNormalization's moving
# statistics, Normalization's adapted state, Keras 2 renorm statistics, and Keras 1's
# BatchNormalization statistics, keras/layers/normalization.py in Keras 1.2.2).
NON_TRAINABLE = {
    "moving_mean",
    "moving_variance",
    "moving_stddev",
    "renorm_mean",
    "renorm_stddev",
    "running_mean",
    "running_std",
}
NON_TRAINABLE_BY_CLASS = {"Normalization": {"mean", "variance", "count"}}


# Sub-objects with a known variable layout: every recurrent ``cell`` (also inside
# Bidirectional's forward_layer/backward_layer) and MultiHeadAttention's projections.
def _child(leaf: str, config: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    if leaf == "cell":
        cell = config.get("cell")
        return "LSTMCell", cell if isinstance(cell, Mapping) else {}
    if leaf in ("query_dense", "key_dense", "value_dense", "output_dense"):
        return "EinsumDense", {"bias_axes": "x" if config.get("use_bias", True) is not False else None}
    return None


_VARS = re.compile(r"^(?:(?P<sub>.*)/)?vars/(?P<index>\d+)$")


def keras3_name(class_name: str, config: Mapping[str, Any], rel: str) -> str:
    """``vars/1`` of a Dense → ``bias``; ``cell/vars/0`` of an LSTM → ``cell/kernel``.

    Falls back to the stored path when the class or index is not known.
    """
    match = _VARS.match(rel)
    if not match:
        return rel
    sub, index = match.group("sub"), int(match.group("index"))
    owner: tuple[str, Mapping[str, Any]] | None = (class_name, config)
    if sub:
        owner = _child(sub.rsplit("/", 1)[-1].lstrip("_"), config)  # tf.keras: _query_dense
    if owner is None:
        return rel
    names_for = NAMES.get(owner[0])
    names = names_for(owner[1]) if names_for else []
    name = names[index] if index < len(names) else f"vars/{index}"
    return f"{sub}/{name}" if sub else name


def to_snake_case(name: str) -> str:
    """keras/src/utils/naming.py ``to_snake_case``: how Keras 3 names the path segments of a
    weights file (``layers/batch_normalization_1``) and of container entries."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def legacy_name(weight_name: str) -> str:
    """``dense/kernel:0`` → ``kernel``-bearing path without the ``:0`` suffix."""
    return weight_name[:-2] if weight_name.endswith(":0") else weight_name


def short_legacy_name(layer_name: str, weight_name: str) -> str:
    """A stored weight's name without its layer: ``dense/kernel:0`` → ``kernel`` (Keras 2, sub-object
    paths kept: ``forward_lstm/lstm_cell/kernel``); ``dense_1_W:0`` → ``W`` (Keras 1, which named
    variables ``<layer>_<weight>`` with no path, keras/layers/core.py ``name='{}_W'.format(self.name)``)."""
    name = legacy_name(weight_name)
    parts = name.split("/")
    if len(parts) > 1 and parts[0] == layer_name:
        return "/".join(parts[1:])
    if len(parts) == 1 and name.startswith(f"{layer_name}_") and len(name) > len(layer_name) + 1:
        return name[len(layer_name) + 1 :]
    return name


def keras1_owner(weight_name: str, layer_names: Mapping[str, Any] | set[str]) -> str | None:
    """Which of ``layer_names`` a Keras 1 weight name (``dense_1_W:0``, no path) belongs to: the
    longest name it starts with followed by ``_``; None for a name with a path or no owner."""
    name = legacy_name(weight_name)
    if "/" in name:
        return None
    owners = [n for n in layer_names if name.startswith(f"{n}_") and len(name) > len(n) + 1]
    return max(owners, key=len) if owners else None


def is_trainable_name(class_name: str, name: str) -> bool:
    """False for the variables Keras creates non-trainable (by their name)."""
    leaf = name.rsplit("/", 1)[-1]
    if leaf.endswith(":0"):
        leaf = leaf[:-2]
    return leaf not in NON_TRAINABLE and leaf not in NON_TRAINABLE_BY_CLASS.get(class_name, ())
