"""Optimizer state: how many slot variables each built-in optimizer keeps per trained variable.

From each optimizer's ``build`` (keras/src/optimizers/*.py; tf_keras/src/optimizers/*.py, the same
slots): the training-memory estimate counts ``slots × trainable parameter bytes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _positive(config: Mapping[str, Any], key: str) -> bool:
    value = config.get(key, 0)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def optimizer_slots(class_name: str | None, config: Mapping[str, Any] | None) -> int | None:
    """Slot variables per trained variable for a built-in optimizer, or None when unknown.

    ``class_name`` as stored (``Adam``, tf.keras's ``Custom>Adam``); ``config`` its config.
    """
    if not class_name:
        return None
    name = class_name.rsplit(">", 1)[-1]
    config = config if isinstance(config, Mapping) else {}
    if name == "LossScaleOptimizer":  # mixed precision: the wrapped optimizer's slots
        inner = config.get("inner_optimizer")
        if isinstance(inner, Mapping):
            return optimizer_slots(inner.get("class_name"), inner.get("config"))
        return None
    slots = _slots(name, config)
    if slots is None:
        return None
    return slots + (1 if config.get("use_ema") else 0)  # + the moving averages


def _slots(name: str, config: Mapping[str, Any]) -> int | None:
    if name == "SGD":
        # Keras 3 and tf.keras's legacy SGD keep momentums only with momentum; tf.keras 2.11+'s
        # SGD (``is_legacy_optimizer: false``) always builds them (tf_keras/src/optimizers/sgd.py).
        return 1 if config.get("is_legacy_optimizer") is False or _positive(config, "momentum") else 0
    if name in ("Adam", "AdamW"):  # momentums, velocities (+ velocity_hats with amsgrad)
        return 3 if config.get("amsgrad") else 2
    if name in ("Adamax", "Nadam", "Adadelta", "Ftrl", "Lamb"):  # two accumulators each
        return 2
    if name == "RMSprop":  # velocities (+ momentums, + average gradients when centered)
        return 1 + _positive(config, "momentum") + bool(config.get("centered"))
    if name in ("Adagrad", "Lion"):  # accumulators / momentums
        return 1
    return None  # Adafactor (factored slots), custom optimizers
