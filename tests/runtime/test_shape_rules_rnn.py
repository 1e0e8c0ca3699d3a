"""The recurrent layers' shape rules agree with their kernels (see tests/shape_rules.py). Their forwards
(nnspec.runtime.functional.rnn) are no F ops (torch.nn.functional has none), so nothing here is covers()-ed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nnspec.runtime.functional import rnn as R

from shape_rules import SETTINGS, agree


def _weights(data, mode, input_size, hidden, layers, dirs, bias, proj):
    gates = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}[mode] * hidden
    h_out = proj or hidden
    shapes = []
    for layer in range(layers):
        for _ in range(dirs):
            shapes += [(gates, input_size if layer == 0 else h_out * dirs), (gates, h_out)]
            shapes += [(gates,), (gates,)] if bias else []
            shapes += [(proj, hidden)] if proj else []
    return shapes


@SETTINGS
@given(st.data())
def test_rnn(data):
    mode = data.draw(st.sampled_from(["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]))
    input_size, hidden = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 4))
    layers, dirs = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    bias, batch_first = data.draw(st.booleans()), data.draw(st.booleans())
    proj = data.draw(st.integers(0, hidden - 1)) if mode == "LSTM" else 0
    steps, batch = data.draw(st.integers(0, 4)), data.draw(st.integers(0, 3))
    unbatched = data.draw(st.booleans())
    wrong = data.draw(st.sampled_from([None, None, "features", "hidden", "cell", "dims"]))
    features = input_size + (wrong == "features")
    x = (steps, features) if unbatched else (batch, steps, features) if batch_first else (steps, batch, features)
    dtype = data.draw(st.sampled_from(["float32", "float32", "float64"]))
    lead = (layers * dirs,) if unbatched else (layers * dirs, batch)
    states = []
    if data.draw(st.booleans()) or wrong in ("hidden", "cell", "dims"):
        h = (*lead, (proj or hidden) + (wrong == "hidden"))
        h = h[1:] if wrong == "dims" else h
        states = [(h, dtype)] + ([((*lead, hidden + (wrong == "cell")), dtype)] if mode == "LSTM" else [])
    ws = [(s, dtype) for s in _weights(data, mode, input_size, hidden, layers, dirs, bias, proj)]
    n = len(states)

    def run(x, *arrays):
        hx = None if not n else tuple(arrays[:n]) if mode == "LSTM" else arrays[0]
        return R.rnn(x, hx, list(arrays[n:]), mode=mode, input_size=input_size, hidden_size=hidden, num_layers=layers,
                     bias=bias, batch_first=batch_first, bidirectional=dirs == 2, proj_size=proj)

    agree(run, (x, dtype), *states, *ws)


@SETTINGS
@given(st.data())
def test_rnn_cell(data):
    mode = data.draw(st.sampled_from(["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]))
    input_size, hidden = data.draw(st.integers(0, 4)), data.draw(st.integers(0, 4))
    gates = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}[mode] * hidden
    batch = data.draw(st.integers(0, 3))
    x = data.draw(st.sampled_from([(batch, input_size), (input_size,), (batch, input_size + 1), (1, 2, input_size)]))
    state = data.draw(st.sampled_from([None, (batch, hidden), (hidden,), (batch + 1, hidden), (batch, hidden + 1),
                                       (1, batch, hidden)]))
    bias = data.draw(st.booleans())
    dtype = data.draw(st.sampled_from(["float32", "float64"]))
    states = [] if state is None else [state, state] if mode == "LSTM" else [state]
    ws = [(gates, input_size), (gates, hidden)] + ([(gates,), (gates,)] if bias else [])
    n = len(states)

    def run(x, *arrays):
        hx = None if not n else tuple(arrays[:n]) if mode == "LSTM" else arrays[0]
        return R.rnn_cell(x, hx, *arrays[n:], mode=mode)

    agree(run, (x, dtype), *[(s, dtype) for s in states], *[(w, dtype) for w in ws])
