"""Compare a kinspect shape rule with Keras's own symbolic call.

``check(layer, *args, **kwargs)`` calls ``layer`` on symbolic inputs built from
the given shapes (a tuple is one tensor, a list of tuples a list of tensors),
then asks kinspect's rule for the same call, given only the layer's config as it
is stored in a file (after a JSON round trip) and the file's Keras version (3, or 2
for ``check_keras2`` with tf_keras), and asserts both agree.
"""

from __future__ import annotations

import json
from typing import Any

from kinspect.catalog import Call, infer


def _symbolic(keras: Any, value: Any) -> Any:
    if isinstance(value, tuple):
        return keras.Input(batch_shape=value)
    if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
        return [keras.Input(batch_shape=v) for v in value]
    return value


def _shapes(value: Any) -> Any:
    # Both sides become lists so that a rule's tuple and Keras's shape compare equal.
    if hasattr(value, "shape"):
        return [None if d is None else int(d) for d in value.shape]
    if isinstance(value, (list, tuple)):
        return [_shapes(v) for v in value]
    if isinstance(value, dict):
        return {k: _shapes(v) for k, v in value.items()}
    return value


def stored_config(layer: Any) -> dict[str, Any]:
    """The layer's config exactly as a .keras file stores it."""
    import keras

    return json.loads(json.dumps(keras.saving.serialize_keras_object(layer)))["config"]


def check(layer: Any, *args: Any, **kwargs: Any) -> Any:
    """Assert kinspect's rule gives the shape Keras gives; return that shape."""
    import keras

    out = layer(*[_symbolic(keras, a) for a in args], **{k: _symbolic(keras, v) for k, v in kwargs.items()})
    expected = _shapes(out)
    got = infer(type(layer).__name__, stored_config(layer), Call(tuple(args), kwargs, keras_major=3))
    assert _shapes(got) == expected, f"{type(layer).__name__} {stored_config(layer)} on {args} {kwargs}"
    return expected


def check_keras2(layer: Any, *args: Any, **kwargs: Any) -> Any:
    """The same with a tf_keras (Keras 2) layer and its Keras 2 config."""
    import tf_keras

    def sym(value: Any) -> Any:
        if isinstance(value, tuple):
            return tf_keras.Input(batch_shape=value)
        if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
            return [tf_keras.Input(batch_shape=v) for v in value]
        return value

    out = layer(*[sym(a) for a in args], **{k: sym(v) for k, v in kwargs.items()})
    expected = _shapes(out)
    config = json.loads(json.dumps(tf_keras.layers.serialize(layer)))["config"]
    got = infer(type(layer).__name__, config, Call(tuple(args), kwargs, keras_major=2))
    assert _shapes(got) == expected, f"{type(layer).__name__} {config} on {args} {kwargs}"
    return expected
