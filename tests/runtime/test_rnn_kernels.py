"""The recurrent layers against torch over a sweep of their arguments, their errors word for word, dropout
between layers (its structure, in torch and in nnspec), float16, and static inference over a symbolic length."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import nnspec
from nnspec import nn, static
from nnspec.errors import CompileError, NNSpecError
from nnspec.runtime.symbolic import Dim

torch = pytest.importorskip("torch")


def _flat(y) -> list:
    if isinstance(y, (tuple, list)):
        return [a for v in y for a in _flat(v)]
    return [y]


def _to_torch(a):
    if isinstance(a, (tuple, list)):
        return tuple(_to_torch(v) for v in a)
    return torch.from_numpy(np.ascontiguousarray(a))


def _twins(type_: str, *args, dtype: str = "float32", scale: float = 0.8, **kwargs):
    """torch's layer with weights uniform in [-scale, scale] and nnspec's with the same state (seeded: the weights
    must not depend on which tests ran before)."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(torch.nn, type_)(*args, **kwargs).to(getattr(torch, dtype))
        ours = getattr(nn, type_)(*args, **kwargs).to(dtype)
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(-scale, scale)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return theirs, ours


def _compare(theirs, ours, args, tol: float) -> None:
    with torch.no_grad():
        want = [t.numpy() for t in _flat(theirs(*_to_torch(args)))]
    got = _flat(ours(*args))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=tol, atol=tol)


SWEEP = [(t, nl, bias, bf, bi, proj, layers, unbatched, given)
         for t in ("RNN", "LSTM", "GRU")
         for nl, bias, bf, bi, proj, layers, unbatched, given in itertools.product(
             ("tanh", "relu") if t == "RNN" else (None,), (True, False), (False, True), (False, True),
             (0, 2) if t == "LSTM" else (0,), (1, 3), (False, True), (False, True))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layers_match_torch_over_every_argument(dtype):
    rng = np.random.default_rng(0)
    tol = 1e-5 if dtype == "float32" else 1e-12
    for t, nl, bias, bf, bi, proj, layers, unbatched, given in SWEEP:
        kw = dict(num_layers=layers, bias=bias, batch_first=bf, bidirectional=bi)
        kw.update({"nonlinearity": nl} if nl else {}, **({"proj_size": proj} if proj else {}))
        theirs, ours = _twins(t, 3, 4, dtype=dtype, **kw)
        steps, batch, d, h_out = 5, 2, 2 if bi else 1, proj or 4
        args = [rng.standard_normal((steps, 3) if unbatched else (batch, steps, 3) if bf else (steps, batch, 3))
                .astype(dtype)]
        if given:
            lead = (layers * d,) if unbatched else (layers * d, batch)
            h = rng.standard_normal(lead + (h_out,)).astype(dtype)
            args.append((h, rng.standard_normal(lead + (4,)).astype(dtype)) if t == "LSTM" else h)
        _compare(theirs, ours, args, tol)


@pytest.mark.parametrize("type_", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(type_):
    rng = np.random.default_rng(1)
    for bias, unbatched, given, nl, dtype in itertools.product(
            (True, False), (False, True), (False, True), ("tanh", "relu") if type_ == "RNNCell" else (None,),
            ("float32", "float64")):
        theirs, ours = _twins(type_, 3, 4, bias=bias, dtype=dtype, **({"nonlinearity": nl} if nl else {}))
        args = [rng.standard_normal((3,) if unbatched else (2, 3)).astype(dtype)]
        if given:
            shape = (4,) if unbatched else (2, 4)
            h = rng.standard_normal(shape).astype(dtype)
            args.append((h, rng.standard_normal(shape).astype(dtype)) if type_ == "LSTMCell" else h)
        _compare(theirs, ours, args, 1e-5 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("type_", ["RNN", "LSTM", "GRU", "LSTMCell"])
def test_float16_computes_in_float32_and_stores_float16(type_):
    cell = type_.endswith("Cell")
    theirs, ours = _twins(type_, 3, 8, dtype="float16", scale=0.5,
                          **({} if cell else {"num_layers": 2, "bidirectional": True}))
    x = np.random.default_rng(2).standard_normal((4, 3) if cell else (20, 2, 3)).astype(np.float16)
    _compare(theirs, ours, [x], 4e-3)


def test_a_long_sequence_saturates_as_torch_does():
    """100 steps with large weights: tanh and sigmoid saturate, relu grows; no overflow warnings, torch's values."""
    rng = np.random.default_rng(3)
    for t, kw in (("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})):
        theirs, ours = _twins(t, 3, 4, scale=3.0, **kw)
        x = (rng.standard_normal((100, 2, 3)) * 10).astype(np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with torch.no_grad():
                want = [v.numpy() for v in _flat(theirs(torch.from_numpy(x)))]
            got = _flat(ours(x))
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(w).max())))


def test_nan_and_inf_propagate_as_in_torch():
    theirs, ours = _twins("GRU", 3, 4)
    x = np.zeros((4, 1, 3), np.float32)
    x[1, 0, 0] = np.nan
    x[2, 0, 1] = np.inf
    with torch.no_grad():
        want = [v.numpy() for v in _flat(theirs(torch.from_numpy(x)))]
    for g, w in zip(_flat(ours(x)), want):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
        np.testing.assert_allclose(np.nan_to_num(g), np.nan_to_num(w), atol=1e-6)


# --------------------------------------------------------------------------- dropout between layers


def _identity_relu_rnn(module, layers: int, size: int, p: float):
    """An RNN(size, size, relu) whose every layer passes its input on: W_ih = I, W_hh = 0, no bias. Its output
    is then relu(x) through the dropout after each layer but the last, which torch and nnspec must both show."""
    state = {}
    for k in range(layers):
        state[f"weight_ih_l{k}"] = np.eye(size, dtype=np.float32)
        state[f"weight_hh_l{k}"] = np.zeros((size, size), np.float32)
    if module == "torch":
        m = torch.nn.RNN(size, size, layers, "relu", bias=False, dropout=p)
        m.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        return lambda x: m(torch.from_numpy(x))[0].detach().numpy()
    m = nn.RNN(size, size, layers, "relu", bias=False, dropout=p)
    m.load_state_dict(state)
    return lambda x: m(x)[0]


@pytest.mark.parametrize("layers", [2, 3])
def test_dropout_between_layers_has_torchs_structure(layers):
    """Kept values are relu(x) / (1 - p)^(layers - 1), the rest 0, at torch's rate; eval mode drops nothing."""
    p, size = 0.3, 50
    x = np.abs(np.random.default_rng(4).standard_normal((40, 10, size))).astype(np.float32) + 0.1
    keep = (1 - p) ** (layers - 1)
    nnspec.manual_seed(0)
    torch.manual_seed(0)
    for run in (_identity_relu_rnn("torch", layers, size, p), _identity_relu_rnn("nnspec", layers, size, p)):
        y = run(x)
        kept = y != 0
        np.testing.assert_allclose(y[kept], x[kept] / keep, rtol=1e-5)
        sigma = np.sqrt(keep * (1 - keep) / x.size)
        assert abs(kept.mean() - keep) < 5 * sigma
    m = nn.RNN(size, size, layers, "relu", bias=False, dropout=p).eval()
    m.load_state_dict({k: (np.eye(size) if "ih" in k else np.zeros((size, size))).astype(np.float32)
                       for k in m.state_dict()})
    np.testing.assert_array_equal(m(x)[0], x)


def test_dropout_draws_from_the_seeded_generator():
    m = nn.GRU(3, 4, 2, dropout=0.5)
    x = np.random.default_rng(5).standard_normal((6, 2, 3)).astype(np.float32)
    nnspec.manual_seed(7)
    a = m(x)[0]
    b = m(x)[0]
    nnspec.manual_seed(7)
    np.testing.assert_array_equal(m(x)[0], a)
    assert not np.array_equal(a, b)


def test_a_plan_keeps_the_dropout_of_a_training_rnn():
    m = nn.LSTM(3, 4, 2, dropout=0.5).train()
    plan = nnspec.compile(m)
    x = np.random.default_rng(6).standard_normal((6, 2, 3)).astype(np.float32)
    first, second = plan(x)[0], plan(x)[0]
    assert not np.array_equal(first, second)
    m.eval()
    np.testing.assert_allclose(nnspec.compile(m)(x)[0], m(x)[0], rtol=1e-6)


# --------------------------------------------------------------------------- static inference


def test_static_inference_keeps_a_symbolic_length():
    L, N = Dim.symbol("L"), Dim.symbol("N")
    cases = [({"LSTM": [10, 20], "num_layers": 2, "bidirectional": True, "proj_size": 5}, (L, N, 10),
              [(L, N, 10), [(4, N, 5), (4, N, 20)]]),
             ({"GRU": [10, 20], "batch_first": True}, (N, L, 10), [(N, L, 20), (1, N, 20)]),
             ({"RNN": [10, 20], "num_layers": 3}, (L, 10), [(L, 20), (3, 20)])]
    for model, shape, want in cases:
        found = static.infer(nnspec.from_dict(model, meta=True), [shape])
        assert found.output_shape == want
        for n in (1, 7):
            numeric = static.infer(nnspec.from_dict(model, meta=True),
                                   [tuple(s if isinstance(s, int) else n for s in shape)])
            assert found.mult_adds.evaluate({"L": n, "N": n}) == numeric.mult_adds


def test_mult_adds_are_torchinfos():
    torchinfo = pytest.importorskip("torchinfo")
    for model, shape in (({"LSTM": [10, 20], "num_layers": 2, "bidirectional": True, "batch_first": True}, (3, 7, 10)),
                         ({"LSTM": [10, 20], "proj_size": 5}, (7, 3, 10)), ({"GRU": [10, 20]}, (7, 3, 10)),
                         ({"RNN": [10, 20], "num_layers": 3}, (7, 10)), ({"LSTMCell": [10, 20]}, (3, 10)),
                         ({"GRUCell": [10, 20]}, (10,))):
        type_ = next(iter(model))
        kwargs = {k: v for k, v in model.items() if k != type_}
        theirs = torchinfo.summary(getattr(torch.nn, type_)(*model[type_], **kwargs), input_size=shape, verbose=0)
        assert static.infer(nnspec.from_dict(model, meta=True), [shape]).mult_adds == theirs.total_mult_adds


# --------------------------------------------------------------------------- errors


def _h(*shape):
    return np.zeros(shape, np.float32)


FORWARD_ERRORS = [  # (layer, its arguments, the forward's arguments): torch raises, and so must nnspec
    ("RNN", (4, 8), (_h(3, 2, 5),)),
    ("RNN", (4, 8), (_h(3, 2, 4, 1),)),
    ("RNN", (4, 8), (_h(3, 2, 4), _h(1, 3, 8))),
    ("RNN", (4, 8), (_h(3, 2, 4), _h(3, 8))),
    ("RNN", (4, 8), (_h(3, 4), _h(1, 1, 8))),
    ("RNN", (4, 8), (_h(3, 4), _h(2, 8))),
    ("RNN", (4, 8), (_h(0, 2, 4),)),
    ("RNN", (4, 8), (_h(3, 2, 4).astype(np.float64),)),
    ("RNN", (4, 8), (_h(3, 2, 4), _h(1, 2, 8).astype(np.float64))),
    ("GRU", (4, 8, 2), (_h(3, 2, 4, 4),)),
    ("GRU", (4, 8, 2), (_h(3, 2, 4), _h(1, 2, 8))),
    ("GRU", (4, 8, 1, True, True), (_h(2, 0, 4),)),
    ("LSTM", (4, 8, 1, True, False, 0.0, False, 2), (_h(3, 2, 4), (_h(1, 2, 8), _h(1, 2, 8)))),
    ("LSTM", (4, 8, 1, True, False, 0.0, False, 2), (_h(3, 2, 4), (_h(1, 2, 2), _h(1, 2, 2)))),
    ("LSTM", (4, 8), (_h(3, 2, 4), (_h(2, 8), _h(1, 2, 8)))),
    ("LSTM", (4, 8), (_h(3, 4), (_h(1, 2, 8), _h(1, 2, 8)))),
    ("LSTM", (4, 8), (_h(3, 2, 4, 4),)),
    ("LSTM", (4, 8), (_h(3, 2, 4), (_h(1, 2, 8), _h(1, 2, 8), _h(1, 2, 8)))),
    ("LSTM", (4, 8), (_h(3, 2, 4).astype(np.int64),)),
    ("RNNCell", (10, 20), (_h(3, 11), _h(3, 20))),
    ("RNNCell", (10, 20), (_h(3, 10), _h(3, 21))),
    ("RNNCell", (10, 20), (_h(3, 10), _h(5, 20))),
    ("RNNCell", (10, 20), (_h(3, 10), _h(3, 1, 1, 20))),
    ("RNNCell", (10, 20), (_h(3, 10, 1),)),
    ("RNNCell", (4, 3), (_h(3, 4), _h(3))),
    ("RNNCell", (4, 8), (_h(4), _h(1, 8))),
    ("GRUCell", (10, 20), (_h(3, 10), _h(3, 20).astype(np.float64))),
    ("GRUCell", (10, 20), (_h(3, 10).astype(np.int64),)),
    ("LSTMCell", (10, 20), (_h(3, 11), (_h(3, 20), _h(3, 20)))),
    ("LSTMCell", (10, 20), (_h(3, 10), (_h(3, 21), _h(3, 21)))),
    ("LSTMCell", (10, 20), (_h(3, 10), (_h(5, 20), _h(5, 20)))),
    ("LSTMCell", (10, 20), (_h(3, 10), (_h(3, 20), _h(3, 19)))),
    ("LSTMCell", (10, 20), (_h(3, 10), (_h(3, 1, 1, 20), _h(3, 1, 1, 20)))),
    ("LSTMCell", (10, 20), (_h(3, 10), (_h(3, 20),))),
]


def _torch_message(fn) -> str:
    with pytest.raises(Exception) as info:
        fn()
    return str(info.value).splitlines()[0]


@pytest.mark.parametrize("type_,args,inputs", FORWARD_ERRORS,
                         ids=[f"{e[0]}-{i}" for i, e in enumerate(FORWARD_ERRORS)])
def test_forward_errors_are_torchs(type_, args, inputs):
    theirs = getattr(torch.nn, type_)(*args)
    ours = getattr(nn, type_)(*args)
    message = _torch_message(lambda: theirs(*_to_torch(inputs)))
    with pytest.raises(NNSpecError) as info:
        ours(*inputs)
    assert message in str(info.value)


def test_the_static_errors_are_the_run_errors():
    for type_, args, inputs in FORWARD_ERRORS:
        ours = getattr(nn, type_)(*args)
        with pytest.raises(NNSpecError) as real:
            ours(*inputs)
        meta = [tuple(nnspec.runtime.meta.MetaArray(v.shape, v.dtype) for v in a) if isinstance(a, tuple)
                else nnspec.runtime.meta.MetaArray(a.shape, a.dtype) for a in inputs]
        with pytest.raises(NNSpecError) as shape_only:
            ours(*meta)
        assert str(shape_only.value) == str(real.value)


CONSTRUCTOR_ERRORS = [
    ("RNN", (4, 8), {"nonlinearity": "gelu"}),
    ("LSTM", (4, 8), {"proj_size": 8}),
    ("LSTM", (4, 8), {"proj_size": -1}),
    ("LSTM", (4, 8), {"dropout": 1.5}),
    ("GRU", (4, 8), {"dropout": True}),
    ("GRU", (0, 8), {}),
    ("GRU", (4, 0), {}),
    ("RNN", (4, 8, 0), {}),
    ("LSTM", (4, 8), {"bias": 1}),
    ("LSTM", (4, 8), {"batch_first": None}),
]


@pytest.mark.parametrize("type_,args,kwargs", CONSTRUCTOR_ERRORS, ids=[f"{e[0]}-{i}" for i, e in
                                                                      enumerate(CONSTRUCTOR_ERRORS)])
def test_constructor_errors_are_torchs(type_, args, kwargs):
    message = _torch_message(lambda: getattr(torch.nn, type_)(*args, **kwargs))
    with pytest.raises(CompileError) as info:
        getattr(nn, type_)(*args, **kwargs)
    assert message in str(info.value)


def test_dropout_with_one_layer_warns_as_torch_does():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1, but got dropout=0.5"):
        nn.LSTM(4, 8, dropout=0.5)


def test_cells_take_zero_sizes_as_torch_does():
    for type_ in ("RNNCell", "LSTMCell", "GRUCell"):
        for sizes, x in (((0, 3), _h(2, 0)), ((3, 0), _h(2, 3))):
            theirs, ours = _twins(type_, *sizes)
            _compare(theirs, ours, [x], 1e-6)


def test_repr_and_state_are_torchs():
    for type_, args, kwargs in (("LSTM", (10, 20), dict(num_layers=2, batch_first=True, bidirectional=True)),
                                ("LSTM", (10, 20), dict(proj_size=5, bias=False, dropout=1)),
                                ("RNN", (4, 8), dict(nonlinearity="relu", dropout=0.25, num_layers=2)),
                                ("GRU", (3, 4), dict(dropout=0.5, num_layers=2)),
                                ("RNNCell", (4, 8, False, "relu"), {}), ("GRUCell", (10, 20), {}),
                                ("LSTMCell", (10, 20), dict(bias=False))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs, ours = getattr(torch.nn, type_)(*args, **kwargs), getattr(nn, type_)(*args, **kwargs)
        assert repr(ours) == repr(theirs)
        assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
        bound = 1 / np.sqrt(ours.hidden_size)
        assert all(np.abs(p.data).max() <= bound for p in ours.parameters())
