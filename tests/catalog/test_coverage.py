"""Every built-in layer class has a shape rule or is a documented fallback (``shapes.FALLBACK``),
and every rule name is a real Keras class (a typo would silently never match)."""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

from kinspect.catalog.registry import FALLBACK, RULES

# Classes tf.keras saves under names tf_keras.layers does not export: (module, class name).
TF_KERAS_INTERNAL = (
    ("tf_keras.src.layers.core.tf_op_layer", "TFOpLambda"),  # tf.* functions called on Keras tensors
    ("tf_keras.src.layers.rnn.cudnn_gru", "CuDNNGRU"),  # tf.compat.v1.keras.layers
    ("tf_keras.src.layers.rnn.cudnn_lstm", "CuDNNLSTM"),  # tf.compat.v1.keras.layers
)


def _layer_classes(modules: list[ModuleType], base: type) -> tuple[set[str], set[str]]:
    """(class ``__name__``s, exported names) of the ``base`` subclasses the modules export.

    A class is saved under its ``__name__``, so aliases (MaxPool2D, GroupQueryAttention…) count once.
    """
    names, exported = set(), set()
    for module in modules:
        for attr in dir(module):
            obj = getattr(module, attr)
            if inspect.isclass(obj) and issubclass(obj, base):
                names.add(obj.__name__)
                exported.add(attr)
    return names, exported


def _keras3() -> tuple[set[str], set[str]]:
    import keras

    return _layer_classes([keras.layers], keras.layers.Layer)


def _tf_keras() -> tuple[set[str], set[str]]:
    import tf_keras

    experimental = tf_keras.layers.experimental
    modules = [tf_keras.layers, experimental, experimental.preprocessing]
    return _layer_classes(modules, tf_keras.layers.Layer)


def test_every_keras3_layer_has_a_rule_or_falls_back() -> None:
    names, _ = _keras3()
    assert len(names) > 100
    missing = sorted(n for n in names if n not in RULES and n not in FALLBACK)
    assert not missing, f"Keras 3 layers with neither a shape rule nor a FALLBACK entry: {missing}"


def test_every_tf_keras_layer_has_a_rule_or_falls_back() -> None:
    names, _ = _tf_keras()
    assert len(names) > 80
    missing = sorted(n for n in names if n not in RULES and n not in FALLBACK)
    assert not missing, f"tf_keras layers with neither a shape rule nor a FALLBACK entry: {missing}"


def test_fallback_is_consistent() -> None:
    assert len(set(FALLBACK)) == len(FALLBACK), "duplicate FALLBACK entries"
    assert not set(FALLBACK) & set(RULES), "FALLBACK lists classes that have a rule"
    k3, _ = _keras3()
    k2, _ = _tf_keras()
    stale = sorted(set(FALLBACK) - k3 - k2)
    assert not stale, f"FALLBACK names no Keras 3 or tf_keras layer class: {stale}"


def test_every_rule_names_a_real_layer_class() -> None:
    k3, k3_exported = _keras3()
    k2, k2_exported = _tf_keras()
    internal = set()
    for module, name in TF_KERAS_INTERNAL:
        assert inspect.isclass(getattr(importlib.import_module(module), name))
        internal.add(name)
    known = k3 | k3_exported | k2 | k2_exported | internal
    unknown = sorted(n for n in RULES if not n.startswith("ops.") and n not in known)
    assert not unknown, f"rules for names that are no Keras layer class (typos?): {unknown}"
