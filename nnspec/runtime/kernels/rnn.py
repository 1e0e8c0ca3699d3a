"""Recurrent layers: the RNN (tanh or relu), LSTM and GRU recurrences and their one-step cells.

The input projections of every time step are one matmul per layer and direction; then the
recurrence steps through time, one (N, H) x (H, G) matmul per step. The sequence length is
whatever the input has (a loop over its time dim). float16 computes in float32 (torch's CPU
opmath) and stores float16, and the state carried from step to step is rounded to float16 as
torch's is. Gates are stacked as torch stacks them: i, f, g, o (LSTM) and r, z, n (GRU).
"""

from __future__ import annotations

import contextlib

from ..backend import get_array_module
from .activation import sigmoid
from .dropout import dropout as _dropout

# the number of gates each mode stacks in its weights
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _compute_dtype(xp, dtype):
    return xp.dtype(xp.float32) if dtype == xp.float16 else dtype


def _cast(a, ct):
    return None if a is None else a.astype(ct, copy=False)


def _step(mode: str, gi, h, c, w_hh, b_hh, w_hr):
    """One time step from the input's projection ``gi`` (N, G), bias included, and the state h (N, H_out),
    c (N, H) (LSTM only): the next (h, c)."""
    xp = get_array_module(gi)
    gh = h @ w_hh.T  # (N, G)
    if b_hh is not None:
        gh = gh + b_hh
    if mode == "RNN_TANH":
        return xp.tanh(gi + gh), None
    if mode == "RNN_RELU":
        return xp.maximum(gi + gh, gi.dtype.type(0)), None
    if mode == "LSTM":
        i, f, g, o = xp.split(gi + gh, 4, axis=-1)  # each (N, H)
        c = sigmoid(f) * c + sigmoid(i) * xp.tanh(g)
        h = sigmoid(o) * xp.tanh(c)
        if w_hr is not None:
            h = h @ w_hr.T  # (N, proj_size)
        return h, c
    # GRU: the new gate sees r * (W_hn h + b_hn), as torch computes it
    ir, iz, in_ = xp.split(gi, 3, axis=-1)  # each (N, H)
    hr, hz, hn = xp.split(gh, 3, axis=-1)
    r = sigmoid(ir + hr)
    z = sigmoid(iz + hz)
    n = xp.tanh(in_ + r * hn)
    return (h - n) * z + n, None


def cell(mode: str, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One step of RNNCell, LSTMCell or GRUCell: x (N, H_in), h (N, H), c (N, H) or None -> (h', c')."""
    xp = get_array_module(x)
    dt = x.dtype
    ct = _compute_dtype(xp, dt)
    gi = x.astype(ct, copy=False) @ _cast(w_ih, ct).T  # (N, G)
    if b_ih is not None:
        gi = gi + _cast(b_ih, ct)
    h2, c2 = _step(mode, gi, _cast(h, ct), _cast(c, ct), _cast(w_hh, ct), _cast(b_hh, ct), None)
    return h2.astype(dt, copy=False), None if c2 is None else c2.astype(dt, copy=False)


def rnn(mode: str, x, h0, c0, weights, num_layers: int, bidirectional: bool, dropout: float, train: bool,
        generator):
    """A whole multi-layer RNN, LSTM or GRU over a time-major input (a relu RNN may grow to inf, as torch's
    does: without a warning)."""
    with _quiet(get_array_module(x)):
        return _rnn(mode, x, h0, c0, weights, num_layers, bidirectional, dropout, train, generator)


def _quiet(xp):
    errstate = getattr(xp, "errstate", None)
    return errstate(over="ignore", invalid="ignore") if errstate else contextlib.nullcontext()


def _rnn(mode: str, x, h0, c0, weights, num_layers: int, bidirectional: bool, dropout: float, train: bool,
         generator):
    """rnn's work.

    x: (L, N, H_in); h0: (num_layers * D, N, H_out); c0: (num_layers * D, N, H) for an LSTM, else None;
    weights: one (w_ih, w_hh, b_ih, b_hh, w_hr) per layer and direction, in torch's order (layer 0
    forward, layer 0 reverse, layer 1 forward, ...), absent ones None. Between layers, in train mode,
    the layer's output goes through dropout(p=dropout). Returns (output (L, N, D * H_out), h_n, c_n)."""
    xp = get_array_module(x)
    dt = x.dtype
    ct = _compute_dtype(xp, dt)
    round_state = ct != dt  # float16: the carried state is what torch keeps, a float16 value
    steps = x.shape[0]
    batch = x.shape[1]
    dirs = 2 if bidirectional else 1
    h_out = h0.shape[2]
    inp = x
    h_n, c_n = [], []
    for layer in range(num_layers):
        out = xp.empty((steps, batch, dirs * h_out), dtype=dt)  # (L, N, D * H_out)
        flat = inp.reshape(steps * batch, inp.shape[2]).astype(ct, copy=False)  # (L * N, H_in)
        for d in range(dirs):
            k = layer * dirs + d
            w_ih, w_hh, b_ih, b_hh, w_hr = (_cast(w, ct) for w in weights[k])
            gi = flat @ w_ih.T  # every step's input projection at once: (L * N, G)
            if b_ih is not None:
                gi = gi + b_ih
            gi = gi.reshape(steps, batch, gi.shape[-1])  # (L, N, G)
            h = h0[k].astype(ct, copy=False)
            c = None if c0 is None else c0[k].astype(ct, copy=False)
            for t in (range(steps - 1, -1, -1) if d else range(steps)):
                h, c = _step(mode, gi[t], h, c, w_hh, b_hh, w_hr)
                out[t, :, d * h_out:(d + 1) * h_out] = h
                if round_state:
                    h = h.astype(dt).astype(ct)
                    c = None if c is None else c.astype(dt).astype(ct)
            h_n.append(h.astype(dt, copy=False))
            if c is not None:
                c_n.append(c.astype(dt, copy=False))
        if train and dropout > 0 and layer < num_layers - 1:
            out = _dropout(out, dropout, out.shape, generator)
        inp = out
    return inp, xp.stack(h_n), xp.stack(c_n) if c0 is not None else None
