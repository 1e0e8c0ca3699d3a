"""Parity cases: RNN, LSTM, GRU and their cells. Imported by cases.py; each add() is one case."""

from __future__ import annotations

from cases import L, add  # noqa: F401


def lstm(*args, h0: bool = False, **kwargs) -> dict:
    """An LSTM in a module whose forward flattens (output, (h_n, c_n)) to three outputs; with h0, the
    initial (h_0, c_0) are its second and third inputs."""
    call = "self.lstm(x, (h, c))" if h0 else "self.lstm(x)"
    return {"name": "Seq", "modules": {"lstm": L("LSTM", *args, **kwargs)}, "inputs": ["x", "h", "c"] if h0 else ["x"],
            "forward": f"y, (hn, cn) = {call}\nreturn y, hn, cn"}


def lstm_cell(*args, **kwargs) -> dict:
    """An LSTMCell called with a given (h, c), its second and third inputs."""
    return {"name": "Step", "modules": {"cell": L("LSTMCell", *args, **kwargs)}, "inputs": ["x", "h", "c"],
            "forward": "return self.cell(x, (h, c))"}


# --- RNN (tanh and relu)
add("rnn_tanh", L("RNN", 3, 5), (6, 2, 3))
add("rnn_relu_2layers", L("RNN", 3, 5, 2, "relu"), (6, 2, 3))
add("rnn_bidir_batch_first", L("RNN", 3, 5, num_layers=2, batch_first=True, bidirectional=True), (2, 6, 3))
add("rnn_nobias_h0", L("RNN", 3, 5, nonlinearity="relu", bias=False), (6, 2, 3), (1, 2, 5))
add("rnn_unbatched_h0", L("RNN", 3, 5, num_layers=2, bidirectional=True), (6, 3), (4, 5))
add("rnn_float64", L("RNN", 3, 5, num_layers=2), (6, 2, 3), dtype="float64")
add("rnn_dropout1_train", L("RNN", 3, 5, num_layers=3, dropout=1.0, bidirectional=True), (6, 2, 3), train=True)

# --- LSTM
add("lstm", lstm(3, 5), (6, 2, 3))
add("lstm_2layers_bidir", lstm(3, 5, num_layers=2, bidirectional=True), (6, 2, 3))
add("lstm_batch_first_nobias", lstm(3, 5, bias=False, batch_first=True), (2, 6, 3))
add("lstm_proj", lstm(3, 5, num_layers=2, proj_size=2, bidirectional=True), (6, 2, 3))
add("lstm_proj_h0", lstm(3, 5, proj_size=2, num_layers=2, h0=True), (6, 2, 3), (2, 2, 2), (2, 2, 5))
add("lstm_h0_batch_first", lstm(3, 5, batch_first=True, bidirectional=True, h0=True), (2, 6, 3), (2, 2, 5),
    (2, 2, 5))
add("lstm_unbatched", lstm(3, 5, num_layers=2, proj_size=4), (6, 3))
add("lstm_unbatched_h0", lstm(3, 5, bidirectional=True, batch_first=True, h0=True), (6, 3), (2, 5), (2, 5))
add("lstm_float64", lstm(3, 5, num_layers=2, bidirectional=True), (6, 2, 3), dtype="float64")
add("lstm_float16", lstm(3, 5, num_layers=2), (6, 2, 3), dtype="float16")
add("lstm_dropout1_train", lstm(3, 5, num_layers=2, dropout=1, proj_size=3), (6, 2, 3), train=True)
add("lstm_eval_dropout", lstm(3, 5, num_layers=2, dropout=0.5), (6, 2, 3))

# --- GRU
add("gru", L("GRU", 3, 5), (6, 2, 3))
add("gru_2layers_bidir_batch_first", L("GRU", 3, 5, 2, batch_first=True, bidirectional=True), (2, 6, 3))
add("gru_nobias_h0", L("GRU", 3, 5, num_layers=2, bias=False), (6, 2, 3), (2, 2, 5))
add("gru_unbatched", L("GRU", 3, 5, batch_first=True), (6, 3))
add("gru_float64", L("GRU", 3, 5, bidirectional=True), (6, 2, 3), dtype="float64")
add("gru_float16", L("GRU", 3, 5, bidirectional=True), (6, 2, 3), dtype="float16")
add("gru_dropout1_train", L("GRU", 3, 5, num_layers=2, dropout=1.0), (6, 2, 3), train=True)

# --- cells
add("rnncell", L("RNNCell", 3, 5), (4, 3))
add("rnncell_relu_h", L("RNNCell", 3, 5, nonlinearity="relu"), (4, 3), (4, 5))
add("rnncell_nobias_unbatched_h", L("RNNCell", 3, 5, False, "relu"), (3,), (5,))
add("rnncell_float64", L("RNNCell", 3, 5), (4, 3), dtype="float64")
add("lstmcell", L("LSTMCell", 3, 5), (4, 3))
add("lstmcell_h", lstm_cell(3, 5), (4, 3), (4, 5), (4, 5))
add("lstmcell_nobias_unbatched_h", lstm_cell(3, 5, bias=False), (3,), (5,), (5,))
add("lstmcell_float16", L("LSTMCell", 3, 5), (4, 3), dtype="float16")
add("grucell", L("GRUCell", 3, 5), (4, 3))
add("grucell_h", L("GRUCell", 3, 5), (4, 3), (4, 5))
add("grucell_nobias_unbatched", L("GRUCell", 3, 5, bias=False), (3,))
add("grucell_float64", L("GRUCell", 3, 5), (4, 3), (4, 5), dtype="float64")

# --- in a model: an embedding-free sequence classifier, the last step's hidden state into a Linear
add("gru_then_linear", {"name": "Classifier", "modules": {"gru": L("GRU", 3, 5, 2, batch_first=True),
                                                          "head": L("Linear", 5, 2)},
                        "forward": "out, h = self.gru(x)\nreturn self.head(out[:, -1])"}, (2, 6, 3))
