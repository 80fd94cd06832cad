"""Every built-in layer class has a shape rule or is a documented fallback (``FALLBACK``), and an
expected-weights spec, is weightless, or is documented without one (``NO_SPEC``, with the reason);
every name the catalog registers is a real Keras class (a typo would silently never match)."""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

from kinspect.catalog import FALLBACK, NO_SPEC, RULES, SPECS, WEIGHTLESS, builtin_classes, is_builtin
from kinspect.catalog.registry import COSTS, FREE, KERAS1, NO_COST

# Classes tf.keras saves under names tf_keras.layers does not export: (module, class name).
TF_KERAS_INTERNAL = (
    ("tf_keras.src.layers.core.tf_op_layer", "TFOpLambda"),  # tf.* functions called on Keras tensors
    ("tf_keras.src.layers.rnn.cudnn_gru", "CuDNNGRU"),  # tf.compat.v1.keras.layers
    ("tf_keras.src.layers.rnn.cudnn_lstm", "CuDNNLSTM"),  # tf.compat.v1.keras.layers
    ("tf_keras.src.applications.convnext", "LayerScale"),  # keras.applications.ConvNeXt*
)
# Classes Keras 3 saves that keras.layers does not export: (module, class name).
KERAS_INTERNAL = (("keras.src.applications.convnext", "LayerScale"),)  # keras.applications.ConvNeXt*


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


def _exported() -> set[str]:
    """Every name keras.layers / tf_keras.layers saves or exports a layer class under."""
    k3, k3_exported = _keras3()
    k2, k2_exported = _tf_keras()
    internal = set()
    for module, name in (*TF_KERAS_INTERNAL, *KERAS_INTERNAL):
        assert inspect.isclass(getattr(importlib.import_module(module), name))
        internal.add(name)
    return k3 | k3_exported | k2 | k2_exported | internal


def _known() -> set[str]:
    """Also tf_keras's internal aliases (LSTMV2, GRUCellV2…), which expected weights accept."""
    import tf_keras
    from tf_keras.src import layers as tf_keras_src_layers

    _, aliases = _layer_classes([tf_keras_src_layers], tf_keras.layers.Layer)
    return _exported() | aliases


def _without_weights(names: set[str]) -> list[str]:
    return sorted(n for n in names if n not in SPECS and n not in WEIGHTLESS and n not in NO_SPEC)


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
    known = _exported()
    unknown = sorted(n for n in RULES if not n.startswith("ops.") and n not in known)
    assert not unknown, f"rules for names that are no Keras layer class (typos?): {unknown}"


def test_every_keras3_layer_has_expected_weights_or_a_reason() -> None:
    names, _ = _keras3()
    missing = _without_weights(names)
    assert not missing, (
        f"Keras 3 layers with no expected-weights spec, not weightless, not in NO_SPEC: {missing}"
    )


def test_every_tf_keras_layer_has_expected_weights_or_a_reason() -> None:
    names, _ = _tf_keras()
    missing = _without_weights(names)
    assert not missing, (
        f"tf_keras layers with no expected-weights spec, not weightless, not in NO_SPEC: {missing}"
    )


def test_no_spec_is_consistent() -> None:
    assert all(isinstance(why, str) and why for why in NO_SPEC.values()), "NO_SPEC entries need a reason"
    assert not set(NO_SPEC) & (set(SPECS) | WEIGHTLESS), "NO_SPEC lists classes that have a spec"
    assert not set(SPECS) & WEIGHTLESS, "classes both with a spec and weightless"
    stale = sorted(set(NO_SPEC) - _known())
    assert not stale, f"NO_SPEC names no Keras 3 or tf_keras layer class: {stale}"


def test_every_spec_names_a_real_layer_class() -> None:
    unknown = sorted(n for n in (*SPECS, *WEIGHTLESS) if n not in _known())
    assert not unknown, f"expected-weights specs for names that are no Keras layer class (typos?): {unknown}"


def test_is_builtin_is_every_keras_layer_class() -> None:
    k3, _ = _keras3()
    k2, _ = _tf_keras()
    assert all(is_builtin(n) for n in k3 | k2)
    # registry.NAMES also names a cell Keras 3 does not export; KERAS1 names Keras 1 classes.
    from keras.src.layers.rnn.conv_lstm import ConvLSTMCell

    assert set(builtin_classes()) - _known() - KERAS1 == {ConvLSTMCell.__name__}
    assert {"Convolution2D", "AtrousConvolution2D", "TimeDistributedDense"} <= KERAS1
    assert not {"Merge", "Highway"} & KERAS1  # names custom tf.keras layers use too
    # A Keras 1 class that Keras 2 renamed or dropped is no class of keras.layers / tf_keras.layers
    # under that name, except tf.keras's own aliases (Convolution2D = Conv2D…).
    assert (
        not (KERAS1 - {n for n in KERAS1 if n.startswith(("Convolution", "SeparableConvolution"))})
        & _exported()
    )
    assert not is_builtin("MyLayer") and not is_builtin("ops.Add")


# --- compute cost (kinspect.catalog.registry.cost) ------------------------------------------------


def _without_cost(names: set[str]) -> list[str]:
    return sorted(n for n in names if n not in COSTS and n not in FREE and n not in NO_COST)


def test_every_keras3_layer_has_a_cost_rule_or_a_reason() -> None:
    names, _ = _keras3()
    missing = _without_cost(names)
    assert not missing, f"Keras 3 layers with no @cost rule, not free(), not in NO_COST: {missing}"


def test_every_tf_keras_layer_has_a_cost_rule_or_a_reason() -> None:
    names, _ = _tf_keras()
    missing = _without_cost(names)
    assert not missing, f"tf_keras layers with no @cost rule, not free(), not in NO_COST: {missing}"


def test_every_cost_rule_names_a_real_layer_class_or_op() -> None:
    known = _known()
    registered = {*COSTS, *FREE, *NO_COST}
    unknown = sorted(n for n in registered if not n.startswith("ops.") and n not in known)
    assert not unknown, f"cost rules for names that are no Keras layer class (typos?): {unknown}"
    ops = sorted(n for n in registered if n.startswith("ops.") and n not in RULES)
    assert not ops, f"cost rules for keras.ops without a shape rule: {ops}"
    assert all(reason for reason in NO_COST.values())
