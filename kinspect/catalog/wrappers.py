"""Layer wrappers (Bidirectional, TimeDistributed): shape rules and expected weights.

Both apply the wrapped layer's own rule and spec (through :func:`~kinspect.catalog.registry.infer`
and :func:`~kinspect.catalog.common.nested_weights`) to the serialized inner layer, which may be in
Keras 3 or Keras 2 form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinspect.catalog.common import nested_layer, nested_weights, one_input, prefixed
from kinspect.catalog.registry import (
    Call,
    Cost,
    Expected,
    Shape,
    ShapeTree,
    ShapeUnknown,
    Unknown,
    cost,
    elements,
    infer,
    is_shape,
    layer_cost,
    rule,
    weights,
)

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _split(out: ShapeTree, return_state: bool) -> tuple[Shape, list[Any]]:
    """An RNN's outputs as (output, states)."""
    if not return_state:
        states: list[Any] = []
    elif isinstance(out, list) and out:
        out, states = out[0], list(out[1:])
    else:
        raise ShapeUnknown("wrapped layer has return_state but gives one output")
    if not is_shape(out):
        raise ShapeUnknown("wrapped layer gives no single output")
    return out, states


def _keras2(layer_config: Mapping[str, Any], call: Call) -> bool | None:
    """Whether the file comes from Keras 2: the call's version, else the wrapped RNN config
    (Keras 2 knows ``time_major``, Keras 3 stores ``zero_output_for_mask``), else None."""
    if call.keras_major is not None:
        return call.keras_major == 2
    if "time_major" in layer_config:
        return True
    if "zero_output_for_mask" in layer_config:
        return False
    return None


@rule("Bidirectional")
def bidirectional(config: Mapping[str, Any], call: Call) -> ShapeTree:
    """keras/src/layers/rnn/bidirectional.py and tf_keras/src/layers/rnn/bidirectional.py.

    Keras 3's ``compute_output_shape`` derives everything from the forward layer
    (concat doubles its last axis, the backward states repeat the forward ones);
    Keras 2 traces the call, so a ``backward_layer`` with other units shows. The
    two agree unless the stored backward layer differs in shape.
    """
    merge_mode = config.get("merge_mode", "concat")
    if merge_mode not in MERGE_MODES:
        raise ShapeUnknown(f"unknown merge_mode {merge_mode!r}")
    name, layer_config = nested_layer(config.get("layer"))
    return_state = layer_config.get("return_state", False)
    if not isinstance(return_state, bool):
        raise ShapeUnknown("return_state is not a boolean")
    seq = call.derive((call.x,))  # initial_state only splits between the two directions
    out, states = _split(infer(name, layer_config, seq), return_state)
    back_out, back_states = out, states
    if config.get("backward_layer") is not None:
        back_name, back_config = nested_layer(config["backward_layer"], "backward_layer")
        back_out, back_states = _split(infer(back_name, back_config, seq), return_state)
    if (back_out, back_states) != (out, states):
        keras2 = _keras2(layer_config, call)
        if keras2 is None:
            raise ShapeUnknown("forward and backward layers differ and the Keras version is unclear")
        if not keras2:  # Keras 3 reports the forward layer's shapes twice
            back_out, back_states = out, states
        elif merge_mode in ("sum", "mul", "ave"):
            raise ShapeUnknown("forward and backward outputs differ: elementwise merge is ill-defined")
    if merge_mode == "concat":
        if len(out) != len(back_out):
            raise ShapeUnknown("forward and backward outputs have different ranks")
        last = None if out[-1] is None or back_out[-1] is None else out[-1] + back_out[-1]
        outputs: list[Any] = [(*out[:-1], last)]
    elif merge_mode is None:
        outputs = [out, back_out]
    else:
        outputs = [out]
    if not return_state and len(outputs) == 1:
        return outputs[0]
    return [*outputs, *states, *back_states]


@weights("Bidirectional")
def bidirectional_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/rnn/bidirectional.py ``build``: the forward then the backward layer,
    both on the whole sequence (stored under ``forward_layer/`` and ``backward_layer/``).
    Without a stored ``backward_layer`` (tf_keras) the backward copy has the forward's config."""
    seq = Call((one_input(call),))
    forward = nested_weights(config["layer"], seq, major)
    back = config.get("backward_layer")
    backward = forward if back is None else nested_weights(back, seq, major)
    return prefixed("forward_layer", forward) + prefixed("backward_layer", backward)


@rule("TimeDistributed")
def time_distributed(config: Mapping[str, Any], call: Call) -> ShapeTree:
    """keras/src/layers/rnn/time_distributed.py: apply the inner layer to (batch, *step), re-insert time."""
    shape = call.shape()
    if len(shape) < 3:
        raise ShapeUnknown(f"TimeDistributed needs an input of rank >= 3, got {shape}")
    name, layer_config = nested_layer(config.get("layer"))
    inner = infer(name, layer_config, call.derive(((shape[0], *shape[2:]),)))
    if not is_shape(inner) or not inner:
        raise ShapeUnknown(f"TimeDistributed({name}) inner layer gives no single output")
    return (inner[0], shape[1], *inner[1:])


@weights("TimeDistributed")
def time_distributed_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/rnn/time_distributed.py ``build``: the inner layer is built on the input
    without its time axis, ``(batch, *input[2:])``; stored under ``layer/``."""
    shape = one_input(call)
    if len(shape) < 3:
        raise Unknown("TimeDistributed needs rank >= 3")
    return prefixed("layer", nested_weights(config["layer"], Call(((shape[0], *shape[2:]),)), major))


# --- compute cost ---------------------------------------------------------------------------------


def inner_cost(value: Any, call: Call) -> Cost:
    """The cost of a serialized built-in layer called with ``call`` (its output by its shape rule)."""
    name, config = nested_layer(value)
    return layer_cost(name, config, call, infer(name, config, call))


@cost("Bidirectional")
def bidirectional_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """The forward and the backward layer over the whole sequence (×2 for twin configs), then
    the merge: free for ``concat``, 1 per merged element for ``sum``/``mul``, 2 for ``ave``."""
    seq = call.derive((one_input(call),))
    forward = inner_cost(config["layer"], seq)
    back = config.get("backward_layer")
    total = forward + (forward if back is None else inner_cost(back, seq))
    mode = config.get("merge_mode", "concat")
    if mode in ("sum", "mul", "ave"):
        first = output[0] if isinstance(output, list) else output
        total += Cost(0, elements(first) * (2 if mode == "ave" else 1))
    return total


@cost("TimeDistributed")
def time_distributed_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """The inner layer's cost on one step ``(batch, *input[2:])`` × the number of steps."""
    shape = one_input(call)
    if len(shape) < 3 or shape[1] is None:
        raise Unknown("TimeDistributed over an unknown number of steps (give one: --seq-len N)")
    return inner_cost(config["layer"], call.derive(((shape[0], *shape[2:]),))) * shape[1]
