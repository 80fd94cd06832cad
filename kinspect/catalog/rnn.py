"""Shape rules: recurrent layers.

Keras 3 follows ``RNN.compute_output_shape`` (keras/src/layers/rnn/rnn.py) and
``ConvLSTM.compute_output_shape`` (keras/src/layers/rnn/conv_lstm.py); Keras 2
(tf_keras/src/layers/rnn/base_rnn.py, base_conv_rnn.py) gives the same shapes
except that it also knows ``time_major`` (inputs and sequence outputs are
``(time, batch, ...)``; states stay ``(batch, ...)``), which ConvLSTM ignores.

Multiple outputs (``return_state=True``) are ``[output, *states]``. A state is
``(batch, size)``, or, for each cell of a ``StackedRNNCells`` that has several
states (an LSTM cell), a nested list of them — both Keras versions nest so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinspect.catalog.common import channels_last, conv_output_length, nested_layer, tuple_arg
from kinspect.catalog.registry import Call, Shape, ShapeTree, ShapeUnknown, is_shape, rule

# A cell's state_size: an int, or a list of them (LSTM), or for stacked cells a
# list with one such entry per cell.
StateSize = Any


def _positive_int(config: Mapping[str, Any], key: str) -> int:
    value = config.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ShapeUnknown(f"{key} {value!r} is not a positive integer")
    return value


def _flag(config: Mapping[str, Any], key: str) -> bool:
    value = config.get(key, False)
    if not isinstance(value, bool):
        raise ShapeUnknown(f"{key} {value!r} is not a boolean")
    return value


def cell_sizes(cell: Any) -> tuple[StateSize, int]:
    """``(state_size, output_size)`` of a serialized RNN cell (Keras 2 or 3)."""
    name, config = nested_layer(cell, "cell")
    # lstm.py: state_size = [units, units]; older tf.keras's experimental PeepholeLSTMCell
    # subclasses LSTMCell and keeps its sizes.
    if name in ("LSTMCell", "PeepholeLSTMCell"):
        units = _positive_int(config, "units")
        return [units, units], units
    if name in ("GRUCell", "SimpleRNNCell"):  # state_size = units
        units = _positive_int(config, "units")
        return units, units
    if name == "StackedRNNCells":  # stacked_rnn_cells.py: one state_size per cell, last cell's output
        cells = config.get("cells")
        if not isinstance(cells, list) or not cells:
            raise ShapeUnknown("StackedRNNCells without cells")
        sizes = [cell_sizes(c) for c in cells]
        return [s for s, _ in sizes], sizes[-1][1]
    raise ShapeUnknown(f"no shape rule for RNN cell class {name}")


def _state_dims(size: Any) -> Shape | list[Shape]:
    """Dims (without batch) of one entry of RNN.state_size; a list for a multi-state stacked cell."""
    if isinstance(size, int):
        return (size,)
    if isinstance(size, list) and all(isinstance(s, int) for s in size):
        return [(s,) for s in size]
    raise ShapeUnknown(f"unsupported nested state size {size!r}")


def _sequence(call: Call) -> Shape:
    """The input sequence; Keras 2 also accepts ``[sequence, *initial_states]``."""
    x = call.x
    if isinstance(x, list) and x and is_shape(x[0]):
        x = x[0]
    if not is_shape(x):
        raise ShapeUnknown("expected one input sequence")
    if len(x) < 3:
        raise ShapeUnknown(f"unexpected rank of input sequence {x}")
    return x


def recurrent_output(
    config: Mapping[str, Any],
    seq: Shape,
    step_out: Shape,
    states: list[Shape | list[Shape]],
    time_major: bool = False,
) -> ShapeTree:
    """Assemble the RNN outputs from the per-step output dims and the states' dims.

    ``step_out`` and each state shape exclude the batch axis; ``states`` entries
    may be nested lists (stacked cells).
    """
    batch, steps = (seq[1], seq[0]) if time_major else (seq[0], seq[1])
    if not _flag(config, "return_sequences"):
        out: Shape = (batch, *step_out)
    elif time_major:
        out = (steps, batch, *step_out)
    else:
        out = (batch, steps, *step_out)
    if not _flag(config, "return_state"):
        return out

    def batched(state: Shape | list[Shape]) -> Shape | list[Shape]:
        if isinstance(state, list):
            return [(batch, *s) for s in state]
        return (batch, *state)

    return [out, *(batched(s) for s in states)]


def _rnn_from_sizes(
    config: Mapping[str, Any], call: Call, state_size: StateSize, output_size: int
) -> ShapeTree:
    seq = _sequence(call)
    # RNN.__init__: an int state_size is a single state, a list one state per entry.
    sizes = [state_size] if isinstance(state_size, int) else state_size
    # time_major is Keras 2 only; absent in Keras 3.
    time_major = _flag(config, "time_major")
    return recurrent_output(config, seq, (output_size,), [_state_dims(s) for s in sizes], time_major)


@rule("RNN")
def rnn(config: Mapping[str, Any], call: Call) -> ShapeTree:
    """Generic RNN: sizes come from the serialized ``cell``."""
    state_size, output_size = cell_sizes(config.get("cell"))
    return _rnn_from_sizes(config, call, state_size, output_size)


@rule("LSTM", "CuDNNLSTM")
def lstm(config: Mapping[str, Any], call: Call) -> ShapeTree:
    """LSTM stores the cell's settings flat in its own config (both Keras versions)."""
    units = _positive_int(config, "units")
    return _rnn_from_sizes(config, call, [units, units], units)


@rule("GRU", "SimpleRNN", "CuDNNGRU")
def gru(config: Mapping[str, Any], call: Call) -> ShapeTree:
    """GRU and SimpleRNN: one state of ``units``."""
    units = _positive_int(config, "units")
    return _rnn_from_sizes(config, call, units, units)


@rule("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
def conv_lstm(config: Mapping[str, Any], call: Call) -> ShapeTree:
    """ConvLSTM: each step is a convolution of the step input; h and c have its shape."""
    seq = _sequence(call)
    rank = len(seq) - 3  # (batch, time, *spatial, channels); tuple_arg checks kernel_size agrees
    if rank not in (1, 2, 3):
        raise ShapeUnknown(f"ConvLSTM input of rank {len(seq)}")
    # Keras 2's ConvRNN stores but ignores time_major (base_conv_rnn.py never reads it).
    filters = _positive_int(config, "filters")
    kernel = tuple_arg(config.get("kernel_size"), rank, "kernel_size")
    strides = tuple_arg(config.get("strides", 1), rank, "strides")
    dilation = tuple_arg(config.get("dilation_rate", 1), rank, "dilation_rate")
    padding = config.get("padding", "valid")
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ShapeUnknown(f"ConvLSTM padding {padding!r}")
    if config.get("data_format") not in (None, "channels_last", "channels_first"):
        raise ShapeUnknown(f"ConvLSTM data_format {config.get('data_format')!r}")
    last = channels_last(config)
    spatial = seq[2:-1] if last else seq[3:]
    out_spatial = tuple(
        conv_output_length(n, k, padding.lower(), s, d)
        for n, k, s, d in zip(spatial, kernel, strides, dilation, strict=True)
    )
    if any(n is not None and n <= 0 for n in out_spatial):
        raise ShapeUnknown(f"ConvLSTM output size would be zero or negative: {out_spatial}")
    step = (*out_spatial, filters) if last else (filters, *out_spatial)
    return recurrent_output(config, seq, step, [step, step])
