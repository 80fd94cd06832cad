"""Recurrent layers: shape rules and expected weights.

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

from collections.abc import Callable, Mapping
from typing import Any

from kinspect.catalog.common import (
    channels_last,
    conv_output_length,
    flag,
    integer,
    nested_layer,
    one_input,
    prefixed,
    sizes,
    tuple_arg,
    variable,
)
from kinspect.catalog.conv import input_channels
from kinspect.catalog.registry import (
    Call,
    Cost,
    CostRule,
    Expected,
    Shape,
    ShapeTree,
    ShapeUnknown,
    Spec,
    Unknown,
    cost,
    elements,
    is_shape,
    no_cost,
    rule,
    variable_names,
    weights,
)
from kinspect.catalog.weightnames import to_snake_case

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


# --- expected weights -----------------------------------------------------------------------------


def _units(config: Mapping[str, Any]) -> int:
    return integer(config["units"], "units")


def _simple_cell(config: Mapping[str, Any], step: Shape) -> list[Expected]:
    """keras/src/layers/rnn/simple_rnn.py ``SimpleRNNCell.build``."""
    u = _units(config)
    return _recurrent(config, (step[-1], u), (u, u), (u,))


def _lstm_cell(config: Mapping[str, Any], step: Shape) -> list[Expected]:
    """keras/src/layers/rnn/lstm.py ``LSTMCell.build``."""
    u = _units(config)
    return _recurrent(config, (step[-1], 4 * u), (u, 4 * u), (4 * u,))


def _gru_cell(config: Mapping[str, Any], step: Shape) -> list[Expected]:
    """keras/src/layers/rnn/gru.py ``GRUCell.build``: bias (2, 3 units) when ``reset_after``.
    The default changed (False in Keras 1/2.0-2.2, True since), so a config without it is unknown."""
    u = _units(config)
    if "reset_after" not in config:
        raise Unknown("GRU config without reset_after")
    bias = (2, 3 * u) if flag(config, "reset_after", True) else (3 * u,)
    return _recurrent(config, (step[-1], 3 * u), (u, 3 * u), bias)


def _recurrent(config: Mapping[str, Any], kernel: Any, recurrent: Any, bias: Any) -> list[Expected]:
    out = [variable("kernel", kernel), variable("recurrent_kernel", recurrent)]
    if flag(config, "use_bias", True):
        out.append(variable("bias", bias))
    return out


# The variables of a cell built on one time step ``(batch, *features)``.
Cell = Callable[[Mapping[str, Any], Shape], list[Expected]]
_CELLS: dict[str, Cell] = {
    "SimpleRNNCell": _simple_cell,
    "LSTMCell": _lstm_cell,
    "LSTMCellV2": _lstm_cell,
    "GRUCell": _gru_cell,
    "GRUCellV2": _gru_cell,
}
# LSTMV2, GRUV2, LSTMCellV2, GRUCellV2: tf_keras aliases (tf_keras/src/layers/__init__.py).
_LAYER_CELLS: dict[str, Cell] = {
    "SimpleRNN": _simple_cell,
    "LSTM": _lstm_cell,
    "LSTMV2": _lstm_cell,
    "GRU": _gru_cell,
    "GRUV2": _gru_cell,
}


def _weights_sequence(call: Call) -> Shape:
    """The one input sequence the weights are built from: ``(batch, time, *features)``."""
    shape = one_input(call)
    if len(shape) < 3:
        raise Unknown("recurrent layer expects (batch, time, features)")
    return shape


def _layer_weights(cell: Cell) -> Spec:
    def spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
        """keras/src/layers/rnn/rnn.py ``build``: the cell is built on ``(batch, *input[2:])``;
        its variables live under ``cell/``."""
        seq = _weights_sequence(call)
        return prefixed("cell", cell(config, (seq[0], *seq[2:])))

    return spec


for _name, _cell_fn in _LAYER_CELLS.items():
    weights(_name)(_layer_weights(_cell_fn))


def _cell_weights(cell: Cell) -> Spec:
    def spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
        """A cell used as a layer on one time step ``(batch, features)``."""
        return cell(config, one_input(call))

    return spec


for _name, _cell_fn in _CELLS.items():
    weights(_name)(_cell_weights(_cell_fn))


@variable_names("SimpleRNNCell", "LSTMCell", "GRUCell", "ConvLSTMCell")
def cell_names(config: Mapping[str, Any]) -> list[str]:
    return ["kernel", "recurrent_kernel"] + (["bias"] if config.get("use_bias", True) is not False else [])


def _any_cell(value: Any, step: Shape) -> tuple[list[Expected], int]:
    """(weights, output size) of a serialized cell, StackedRNNCells included."""
    name, config = nested_layer(value)
    if name == "StackedRNNCells":
        return _stacked(config, step)
    fn = _CELLS.get(name)
    if fn is None:
        raise Unknown(f"cell {name} is not covered")
    return fn(config, step), _units(config)


def _stacked(config: Mapping[str, Any], step: Shape) -> tuple[list[Expected], int]:
    """keras/src/layers/rnn/stacked_rnn_cells.py ``build``: each cell is built on the previous
    cell's output size; a Keras 3 file keeps them under ``cells/<snake_case class>[_n]``."""
    cells = config["cells"]
    if not isinstance(cells, list) or not cells:
        raise Unknown("StackedRNNCells without cells")
    out: list[Expected] = []
    used: dict[str, int] = {}
    size = 0
    for value in cells:
        found, size = _any_cell(value, step)
        base = to_snake_case(nested_layer(value)[0])
        used[base] = used.get(base, -1) + 1
        key = base if used[base] == 0 else f"{base}_{used[base]}"
        out += prefixed(f"cells/{key}", found)
        step = (step[0], size)
    return out, size


@weights("RNN")
def rnn_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    """keras/src/layers/rnn/rnn.py with a built-in cell (or StackedRNNCells) as ``cell``."""
    seq = _weights_sequence(call)
    return prefixed("cell", _any_cell(config["cell"], (seq[0], *seq[2:]))[0])


@weights("StackedRNNCells")
def stacked_cells_weights(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
    return _stacked(config, one_input(call))[0]


def _cudnn_weights(gates: int, bias: int) -> Spec:
    def spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
        """tf_keras/src/layers/rnn/cudnn_lstm.py and cudnn_gru.py (TF 1 era): the weights are
        the layer's own, with separate input and recurrent biases."""
        u = _units(config)
        seq = _weights_sequence(call)
        return [
            variable("kernel", (seq[-1], gates * u)),
            variable("recurrent_kernel", (u, gates * u)),
            variable("bias", (bias * u,)),
        ]

    return spec


weights("CuDNNLSTM")(_cudnn_weights(4, 8))
weights("CuDNNGRU")(_cudnn_weights(3, 6))


def _conv_lstm_weights(rank: int) -> Spec:
    def spec(config: Mapping[str, Any], call: Call, major: int | None) -> list[Expected]:
        """keras/src/layers/rnn/conv_lstm.py ``ConvLSTMCell.build`` on the step shape: kernel
        kernel_size + (in, 4 filters), recurrent kernel_size + (filters, 4 filters), bias (4 filters,)."""
        seq = _weights_sequence(call)
        channels = input_channels(config, (seq[0], *seq[2:]), rank)
        f = integer(config["filters"], "filters")
        size = sizes(config["kernel_size"], rank, "kernel_size")
        return prefixed("cell", _recurrent(config, (*size, channels, 4 * f), (*size, f, 4 * f), (4 * f,)))

    return spec


for _rank in (1, 2, 3):
    weights(f"ConvLSTM{_rank}D")(_conv_lstm_weights(_rank))


# --- compute cost ---------------------------------------------------------------------------------
# Per time step, a cell with ``g`` gates of ``units`` multiplies the step input (``features``) and
# the previous output (``units``) by its kernels: ``g × units × (features + units)`` MACs. The
# element-wise operations per step: the bias adds (``g × units``, twice for GRU's ``reset_after``),
# the gate activations (``g × units``) and the gating: LSTM ``c = f·c + i·g`` and ``h = o·tanh(c)``
# (5 per unit), GRU ``r·(U h)`` and ``h = z·h + (1 - z)·h~`` (5 per unit), SimpleRNN none.
# The total is per step × the sequence length.

_GATES = {"SimpleRNNCell": (1, 0), "LSTMCell": (4, 5), "GRUCell": (3, 5)}
_LAYER_GATES = {"SimpleRNN": "SimpleRNNCell", "LSTM": "LSTMCell", "GRU": "GRUCell",
                "CuDNNLSTM": "LSTMCell", "CuDNNGRU": "GRUCell"}  # fmt: skip


def _cell_step(cell: str, config: Mapping[str, Any], features: int) -> tuple[Cost, int]:
    """One step of a built-in cell on ``features`` inputs: its Cost and its output size."""
    if cell == "StackedRNNCells":
        cells = config["cells"]
        if not isinstance(cells, list) or not cells:
            raise Unknown("StackedRNNCells without cells")
        total = Cost()
        for value in cells:
            name, inner = nested_layer(value, "cell")
            step, features = _cell_step(name, inner, features)
            total += step
        return total, features
    if cell not in _GATES:
        raise Unknown(f"cell {cell} is not covered")
    gates, gating = _GATES[cell]
    units = _units(config)
    bias = 0
    if config.get("use_bias", True) is not False:
        bias = gates * units * (2 if cell == "GRUCell" and config.get("reset_after") else 1)
    return Cost(gates * units * (features + units), bias + (gates + gating) * units), units


def _steps(config: Mapping[str, Any], call: Call) -> tuple[int, Shape]:
    seq = _sequence(call)
    if config.get("time_major"):
        raise Unknown("time_major input: which axis is the batch is not known per sample")
    steps = seq[1]
    if steps is None:
        raise Unknown("the sequence length is unknown (give one: --seq-len N)")
    return steps, seq


def _recurrent_cost(cell: str | None) -> CostRule:
    def recurrent_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
        """The cell's per-step cost (above) × the sequence length."""
        steps, seq = _steps(config, call)
        name, inner = (cell, config) if cell is not None else nested_layer(config.get("cell"), "cell")
        step, _ = _cell_step(name, inner, elements((1, *seq[2:]), "step input"))
        return step * steps

    return recurrent_cost


for _name, _cell in _LAYER_GATES.items():
    cost(_name)(_recurrent_cost(_cell))
cost("RNN")(_recurrent_cost(None))
no_cost(
    "a cell is costed through the RNN layer that runs it",
    "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells",
)  # fmt: skip


def _conv_lstm_cost(rank: int) -> CostRule:
    def conv_lstm_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
        """Per step, the input convolution (``kernel_size × in_channels`` MACs) and the recurrent
        one (``kernel_size × filters`` MACs) for each of the ``4 × filters`` gate values at each
        output position; element-wise as an LSTM (13 per output value, 9 without bias); ×
        the sequence length."""
        steps, seq = _steps(config, call)
        channels = input_channels(config, (seq[0], *seq[2:]), rank)
        f = integer(config["filters"], "filters")
        kernel = 1
        for k in sizes(config["kernel_size"], rank, "kernel_size"):
            kernel *= k
        first = output[0] if isinstance(output, list) else output
        values = elements(first) // (steps if config.get("return_sequences") else 1)  # h of one step
        bias = 4 * values if config.get("use_bias", True) is not False else 0
        step = Cost(4 * values * kernel * (channels + f), bias + 9 * values)
        return step * steps

    return conv_lstm_cost


for _rank in (1, 2, 3):
    cost(f"ConvLSTM{_rank}D")(_conv_lstm_cost(_rank))
