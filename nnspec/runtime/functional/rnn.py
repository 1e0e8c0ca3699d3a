"""The recurrent layers' forward: torch.nn.RNN, LSTM and GRU (``rnn``) and their cells (``rnn_cell``).

Each checks its input and hidden state as torch's module and its ``_VF`` op do (same conditions,
torch's messages), adds the batch dim to unbatched input, and then gives the shape rule's result
for shape-only input (the sequence length may be symbolic: nothing loops over it) or runs the
kernel (``kernels.rnn``). torch.nn.functional has no recurrent ops, so none of these is an
``F.<name>`` a forward may call (``__all__`` is empty); the layers call them.
"""

from __future__ import annotations

import numpy  # dtype objects only

from ...errors import NNSpecRuntimeError, ShapeError
from .. import random
from ..backend import get_array_module
from ..kernels import rnn as kernels
from ..meta import is_meta
from .core import _data, _fits, _meta, _shape, torch_type_name

__all__: list[str] = []

# each mode's module, the name torch's messages use
_LAYER = {"RNN_TANH": "RNN", "RNN_RELU": "RNN", "LSTM": "LSTM", "GRU": "GRU"}
_CELL = {"RNN_TANH": "RNNCell", "RNN_RELU": "RNNCell", "LSTM": "LSTMCell", "GRU": "GRUCell"}


def _input(op: str, value):
    if isinstance(value, (tuple, list)) or not (hasattr(value, "shape") and hasattr(value, "dtype")):
        raise NNSpecRuntimeError(f"{op}: expected an array input, got {type(value).__name__} "
                                 "(a PackedSequence input is not supported)")
    return _data(value)


def _hidden(op: str, value):
    if value is None:
        return None
    if not (hasattr(value, "shape") and hasattr(value, "dtype")):
        raise NNSpecRuntimeError(f"{op}: expected an array as the hidden state, got {type(value).__name__}")
    return _data(value)


def _pair(op: str, hx, what: str):
    """An LSTM's (h, c): a tuple or list of two arrays."""
    if not isinstance(hx, (tuple, list)):
        raise NNSpecRuntimeError(f"{op}: {what} expects two hidden states, a tuple (h_0, c_0); got "
                                 f"{type(hx).__name__}")
    if len(hx) != 2:
        raise NNSpecRuntimeError(f"{op}: {what} expects two hidden states, got {len(hx)}")
    return _hidden(op, hx[0]), _hidden(op, hx[1])


def _size(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _same_dtype(op: str, a, w) -> None:
    """A matmul of the two: torch's dtype rule."""
    if a.dtype != w.dtype:
        raise NNSpecRuntimeError(f"{op}: mat1 and mat2 must have the same dtype, but got "
                                 f"{torch_type_name(a.dtype)} and {torch_type_name(w.dtype)}")


def _check_hidden(op: str, h, expected: tuple, label: str) -> None:
    if tuple(h.shape) != expected:
        raise ShapeError(f"{op}: Expected {label} size {_size(expected)}, got {_shape(h)}")


def _layer_weights(weights, num_layers: int, dirs: int, bias: bool, proj: bool) -> list[tuple]:
    """torch's flat weight list, per layer and direction: (w_ih, w_hh, b_ih, b_hh, w_hr), absent ones None."""
    per = 2 + 2 * bias + proj
    ws = [_data(w) for w in weights]
    if len(ws) != num_layers * dirs * per:
        raise NNSpecRuntimeError(f"expected {num_layers * dirs * per} weights, got {len(ws)}")
    out = []
    for k in range(num_layers * dirs):
        group = ws[k * per:(k + 1) * per]
        w_ih, w_hh = group[0], group[1]
        b_ih, b_hh = (group[2], group[3]) if bias else (None, None)
        out.append((w_ih, w_hh, b_ih, b_hh, group[-1] if proj else None))
    return out


def rnn(input, hx, weights, *, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
        batch_first: bool = False, dropout: float = 0.0, training: bool = False, bidirectional: bool = False,
        proj_size: int = 0):
    """The forward of torch.nn.RNN (mode "RNN_TANH" or "RNN_RELU"), GRU ("GRU") or LSTM ("LSTM"), ``weights``
    in torch's flat order: (output, h_n), or (output, (h_n, c_n)) for an LSTM.

    input: (L, N, H_in), (N, L, H_in) with batch_first, or unbatched (L, H_in); hx: (num_layers * D, N, H_out)
    (an LSTM's a pair (h_0, c_0), c_0 with H = hidden_size), unbatched without the N, or None for zeros."""
    op = _LAYER[mode]
    lstm = mode == "LSTM"
    x = _input(op, input)
    if x.ndim not in (2, 3):
        raise ShapeError(f"{op}: Expected input to be 2D or 3D, got {x.ndim}D{' tensor' if op == 'RNN' else ''} "
                         "instead")
    batched = x.ndim == 3
    dirs = 2 if bidirectional else 1
    h_out = proj_size if proj_size > 0 else hidden_size
    if not batched:
        x = x[None] if batch_first else x[:, None]
    h0 = c0 = None
    if lstm:
        if hx is not None:
            h0, c0 = _pair(op, hx, "lstm")
            want = 3 if batched else 2
            if h0.ndim != want or c0.ndim != want:
                raise ShapeError(f"{op}: For {'batched 3-D' if batched else 'unbatched 2-D'} input, hx and cx should "
                                 f"also be {want}-D but got ({h0.ndim}-D, {c0.ndim}-D) tensors")
            if not batched:
                h0, c0 = h0[:, None], c0[:, None]
    else:
        h0 = _hidden(op, hx)
        if h0 is not None:
            want = 3 if batched else 2
            if h0.ndim != want:
                raise ShapeError(f"{op}: For {'batched 3-D' if batched else 'unbatched 2-D'} input, hx should also "
                                 f"be {want}-D but got {h0.ndim}-D tensor")
            if not batched:
                h0 = h0[:, None]
    ws = _layer_weights(weights, num_layers, dirs, bias, proj_size > 0)
    w = ws[0][0]
    # torch's check_forward_args: the dtype, the feature size, then the hidden state's size
    if x.dtype != w.dtype:
        raise NNSpecRuntimeError(f"{op}: RNN input dtype (torch.{x.dtype}) does not match weight dtype "
                                 f"(torch.{w.dtype}). Convert input: input.to(torch.{w.dtype}), or convert model: "
                                 f"model.to(torch.{x.dtype})")
    if x.shape[-1] != input_size:
        raise ShapeError(f"{op}: input.size(-1) must be equal to input_size. Expected {input_size}, got {x.shape[-1]}")
    steps, batch = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1])
    if h0 is not None:
        _check_hidden(op, h0, (num_layers * dirs, batch, h_out), "hidden[0]" if lstm else "hidden")
    if c0 is not None:
        _check_hidden(op, c0, (num_layers * dirs, batch, hidden_size), "hidden[1]")
    if steps == 0:
        raise ShapeError(f"{op}: Expected sequence length to be larger than 0 in RNN (input of size {_shape(x)})")
    for state in (h0, c0):
        if state is not None:
            _same_dtype(op, state, w)
    out_shape = (batch, steps, dirs * h_out) if batch_first else (steps, batch, dirs * h_out)
    hn_shape = (num_layers * dirs, batch, h_out)
    cn_shape = (num_layers * dirs, batch, hidden_size)
    if is_meta(x):
        y, hn = _meta(out_shape, x.dtype), _meta(hn_shape, x.dtype)
        cn = _meta(cn_shape, x.dtype) if lstm else None
    else:
        ct = numpy.float32 if x.dtype == numpy.float16 else x.dtype
        _fits(op, (steps, batch, kernels.GATES[mode] * hidden_size), ct)  # every step's input projections
        _fits(op, out_shape, x.dtype)
        xp = get_array_module(x)
        if h0 is None:
            h0 = xp.zeros(hn_shape, dtype=x.dtype)
        if lstm and c0 is None:
            c0 = xp.zeros(cn_shape, dtype=x.dtype)
        xt = x.transpose(1, 0, 2) if batch_first else x  # (L, N, H_in)
        gen = random.generator() if training and dropout > 0 and num_layers > 1 else None
        y, hn, cn = kernels.rnn(mode, xt, h0, c0, ws, num_layers, bidirectional, dropout, training, gen)
        if batch_first:
            y = xp.ascontiguousarray(y.transpose(1, 0, 2))  # (N, L, D * H_out)
    if not batched:
        y = y[0] if batch_first else y[:, 0]
        hn = hn[:, 0]
        cn = None if cn is None else cn[:, 0]
    return (y, (hn, cn)) if lstm else (y, hn)


def rnn_cell(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, *, mode: str):
    """The forward of torch.nn.RNNCell (mode "RNN_TANH" or "RNN_RELU"), GRUCell ("GRU") or LSTMCell ("LSTM"):
    h', or (h', c') for an LSTMCell. input: (N, H_in) or unbatched (H_in); hx: (N, H) (an LSTMCell's a pair
    (h, c)), unbatched (H), or None for zeros."""
    op = _CELL[mode]
    lstm = mode == "LSTM"
    x = _input(op, input)
    w_ih, w_hh, b_ih, b_hh = _data(weight_ih), _data(weight_hh), _data(bias_ih), _data(bias_hh)
    if x.ndim not in (1, 2):
        raise ShapeError(f"{op}: Expected input to be 1D or 2D, got {x.ndim}D instead")
    if lstm:
        states = None
        if hx is not None:
            if not isinstance(hx, (tuple, list)):
                raise NNSpecRuntimeError(f"{op}: lstm_cell expects two hidden states, a tuple (h, c); got "
                                         f"{type(hx).__name__}")
            states = [_hidden(op, v) for v in hx]
            for i, v in enumerate(states):
                if v.ndim not in (1, 2):
                    raise ShapeError(f"{op}: Expected hx[{i}] to be 1D or 2D, got {v.ndim}D instead")
    else:
        h = _hidden(op, hx)
        if h is not None and h.ndim not in (1, 2):
            raise ShapeError(f"{op}: Expected hidden to be 1D or 2D, got {h.ndim}D instead")
        states = None if h is None else [h]
    batched = x.ndim == 2
    if not batched:
        x = x[None]
        if states is not None:
            states = [v[None] for v in states]
    if lstm and states is not None and len(states) != 2:
        raise NNSpecRuntimeError(f"{op}: lstm_cell expects two hidden states, got {len(states)}")
    hidden = w_hh.shape[1]
    # torch's _VF checks: the input's features, then each state's batch and size
    if x.shape[1] != w_ih.shape[1]:
        raise ShapeError(f"{op}: input has inconsistent input_size: got {x.shape[1]} expected {w_ih.shape[1]}")
    for label, v in enumerate(states or ()):
        if v.shape[0] != x.shape[0]:
            raise ShapeError(f"{op}: Input batch size {x.shape[0]} doesn't match hidden{label} batch size {v.shape[0]}")
        if v.ndim < 2:
            raise ShapeError(f"{op}: Dimension out of range (expected to be in range of [-1, 0], but got 1) "
                             f"(hidden{label} of size {_shape(v)} for input of size {_shape(x)})")
        if v.shape[1] != hidden:
            raise ShapeError(f"{op}: hidden{label} has inconsistent hidden_size: got {v.shape[1]}, expected {hidden}")
        if v.ndim != 2:  # an unbatched input with a batched state: torch broadcasts it into nonsense, or crashes
            raise ShapeError(f"{op}: for an unbatched 1D input the hidden state must be 1D, got hidden{label} of "
                             f"size {_shape(v[0])}")
    _same_dtype(op, x, w_ih)
    for v in states or ():
        _same_dtype(op, v, w_hh)
    shape = (x.shape[0], hidden)
    if is_meta(x):
        h2 = _meta(shape, x.dtype)
        c2 = _meta(shape, x.dtype) if lstm else None
    else:
        xp = get_array_module(x)
        if states is None:
            zeros = xp.zeros(shape, dtype=x.dtype)
            states = [zeros, zeros] if lstm else [zeros]
        h2, c2 = kernels.cell(mode, x, states[0], states[1] if lstm else None, w_ih, w_hh, b_ih, b_hh)
    if not batched:
        h2 = h2[0]
        c2 = None if c2 is None else c2[0]
    return (h2, c2) if lstm else h2
