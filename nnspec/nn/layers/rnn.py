"""Recurrent layers (torch.nn.modules.rnn): RNN, LSTM, GRU and their cells."""

from __future__ import annotations

import math
import numbers
import warnings

from ...errors import CompileError, NNSpecRuntimeError
from ...resources import empty
from ...runtime.functional import rnn as R
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_int(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise CompileError(f"{name} should be of type int, got: {type(value).__name__}")


class _RNNBase(Module):
    """torch.nn.RNNBase: the weights of every layer and direction, and their checks and repr."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise CompileError("dropout should be a number in range [0, 1] representing the probability of an "
                               "element being zeroed")
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=3)
        for name, value in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(value, bool):
                raise CompileError(f"{name} should be of type bool, got: {type(value).__name__}")
        _check_int("input_size", input_size)
        if input_size <= 0:
            raise CompileError("input_size must be greater than zero")
        _check_int("hidden_size", hidden_size)
        if hidden_size <= 0:
            raise CompileError("hidden_size must be greater than zero")
        _check_int("num_layers", num_layers)
        if num_layers <= 0:
            raise CompileError("num_layers must be greater than zero")
        _check_int("proj_size", proj_size)
        if proj_size < 0:
            raise CompileError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise CompileError("proj_size has to be smaller than hidden_size")
        gate_size = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(dirs):
                layer_input_size = input_size if layer == 0 else real_hidden_size * dirs
                shapes = [(gate_size, layer_input_size), (gate_size, real_hidden_size)]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    shapes += [(gate_size,), (gate_size,)]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    shapes.append((proj_size, hidden_size))
                    names.append("weight_hr_l{}{}")
                suffix = "_reverse" if direction == 1 else ""
                names = [n.format(layer, suffix) for n in names]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(empty(shape)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op, as torch's is everywhere but on cuDNN (nnspec keeps the weights as they are)."""

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _run(self, input, hx):
        return R.rnn(input, hx, self._flat_weights, mode=self.mode, input_size=self.input_size,
                     hidden_size=self.hidden_size, num_layers=self.num_layers, bias=self.bias,
                     batch_first=self.batch_first, dropout=self.dropout, training=self.training,
                     bidirectional=self.bidirectional, proj_size=self.proj_size)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(_RNNBase):
    """An Elman RNN, h_t = tanh or relu(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh), of num_layers layers (torch.nn.RNN).
    Shape: (L, N, H_in), (N, L, H_in) with batch_first, or (L, H_in) -> (output (L, N, D * H), h_n (num_layers * D,
    N, H)), D = 2 if bidirectional else 1."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False):
        if nonlinearity not in ("tanh", "relu"):
            raise CompileError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        return self._run(input, hx)


class LSTM(_RNNBase):
    """A long short-term memory RNN of num_layers layers, gates i, f, g, o, with an optional projection of h
    (torch.nn.LSTM). Shape: (L, N, H_in), (N, L, H_in) with batch_first, or (L, H_in) -> (output (L, N, D * H_out),
    (h_n (num_layers * D, N, H_out), c_n (num_layers * D, N, H))), H_out = proj_size or hidden_size."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size)

    def forward(self, input, hx=None):
        return self._run(input, hx)


class GRU(_RNNBase):
    """A gated recurrent unit RNN of num_layers layers, gates r, z, n (torch.nn.GRU). Shape: (L, N, H_in), (N, L, H_in)
    with batch_first, or (L, H_in) -> (output (L, N, D * H), h_n (num_layers * D, N, H))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)

    def forward(self, input, hx=None):
        return self._run(input, hx)


class _RNNCellBase(Module):
    """torch.nn.RNNCellBase: weight_ih, weight_hh and the optional biases of one step."""

    def __init__(self, input_size, hidden_size, bias, num_chunks):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size)))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size)))
        if bias:
            self.bias_ih = Parameter(empty((num_chunks * hidden_size,)))
            self.bias_hh = Parameter(empty((num_chunks * hidden_size,)))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _run(self, input, hx, mode: str):
        return R.rnn_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, mode=mode)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = self.__dict__.get("nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s


class RNNCell(_RNNCellBase):
    """One step of an Elman RNN, h' = tanh or relu(W_ih x + b_ih + W_hh h + b_hh) (torch.nn.RNNCell).
    Shape: (N, H_in) or (H_in), and h (N, H) or (H) -> h' (N, H) or (H)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        super().__init__(input_size, hidden_size, bias, num_chunks=1)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        if self.nonlinearity not in modes:
            raise NNSpecRuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return self._run(input, hx, modes[self.nonlinearity])


class LSTMCell(_RNNCellBase):
    """One step of an LSTM, gates i, f, g, o (torch.nn.LSTMCell). Shape: (N, H_in) or (H_in), and (h, c) each (N, H)
    or (H) -> (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, bias, num_chunks=4)

    def forward(self, input, hx=None):
        return self._run(input, hx, "LSTM")


class GRUCell(_RNNCellBase):
    """One step of a GRU, gates r, z, n (torch.nn.GRUCell). Shape: (N, H_in) or (H_in), and h (N, H) or (H)
    -> h' (N, H) or (H)."""

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, bias, num_chunks=3)

    def forward(self, input, hx=None):
        return self._run(input, hx, "GRU")
