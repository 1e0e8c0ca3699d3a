"""The activation family's kernels: a sweep against torch (every dtype, breakpoints, tails, inf and NaN),
in-place writes, and the random ops' draws from nnspec's seeded generator (torch-free)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from nnspec.runtime import functional as F
from nnspec.runtime import random

# the breakpoints (hardsigmoid's +-3, softplus's threshold, the shrinks' lambdas), the tails and the specials
SWEEP = np.concatenate([np.linspace(-40, 40, 801), [-3.0, 3.0, -0.5, 0.5, -0.0, 1e-8, -1e-8, 88.0, -88.0, 1e4,
                                                     -1e4, np.inf, -np.inf, np.nan]])

OPS = {  # name: (nnspec call, torch call)
    "elu": (lambda F, x: F.elu(x, 1.3),) * 2,
    "elu_": (lambda F, x: F.elu_(x, 0.7, 1.5, 2.0),) * 2,
    "selu": (lambda F, x: F.selu(x),) * 2,
    "celu": (lambda F, x: F.celu(x, 0.4),) * 2,
    "hardshrink": (lambda F, x: F.hardshrink(x, 0.5),) * 2,
    "softshrink": (lambda F, x: F.softshrink(x, 0.5),) * 2,
    "hardsigmoid": (lambda F, x: F.hardsigmoid(x),) * 2,
    "hardswish": (lambda F, x: F.hardswish(x),) * 2,
    "logsigmoid": (lambda F, x: F.logsigmoid(x),) * 2,
    "mish": (lambda F, x: F.mish(x),) * 2,
    "silu": (lambda F, x: F.silu(x),) * 2,
    "softplus": (lambda F, x: F.softplus(x),) * 2,
    "softplus_beta": (lambda F, x: F.softplus(x, 0.3, 5),) * 2,
    "softsign": (lambda F, x: F.softsign(x),) * 2,
    "tanhshrink": (lambda F, x: F.tanhshrink(x),) * 2,
    "threshold": (lambda F, x: F.threshold(x, 0.5, -7.0),) * 2,
    "rrelu_eval": (lambda F, x: F.rrelu(x, 0.1, 0.4),) * 2,
    "glu": (lambda F, x: F.glu(x, 0),) * 2,
    "softmin": (lambda F, x: F.softmin(x[:-4], 0),) * 2,  # without inf and NaN, which fill a softmax with NaN
}


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_sweep_matches_torch(name, dtype):
    torch = pytest.importorskip("torch")
    ours, theirs = OPS[name]
    x = SWEEP.astype(dtype)
    if dtype == "float16":
        x = x[np.abs(x) < 6e4]
    if name == "glu":
        x = x[: len(x) // 2 * 2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy overflow or invalid-value warnings
        got = ours(F, x.copy())
    want = theirs(torch.nn.functional, torch.from_numpy(x.copy())).numpy()
    assert got.dtype == want.dtype and got.shape == want.shape
    tol = {"float32": 1e-5, "float64": 1e-12, "float16": 1e-3}[dtype]
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)
    if name != "softshrink":  # (torch's softshrink gives 0 or -0 for a negative x in range, by kernel path)
        zero = want == 0  # signed zeros as torch's: hardswish's -0, elu's
        np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(want[zero]))


@pytest.mark.parametrize("op", [
    lambda x: F.elu(x, 2.0, True), lambda x: F.elu_(x), lambda x: F.selu(x, True), lambda x: F.selu_(x),
    lambda x: F.celu(x, 2.0, True), lambda x: F.celu_(x), lambda x: F.hardsigmoid(x, True),
    lambda x: F.hardswish(x, True), lambda x: F.mish(x, True), lambda x: F.silu(x, True),
    lambda x: F.threshold(x, 0.0, 5.0, True), lambda x: F.threshold_(x, 0.0, 5.0),
    lambda x: F.rrelu(x, inplace=True), lambda x: F.rrelu_(x, training=True), lambda x: F.relu_(x),
    lambda x: F.hardtanh_(x), lambda x: F.leaky_relu_(x),
    lambda x: F.dropout1d(x, 0.5, True, True), lambda x: F.dropout3d(x[None, None], 0.5, True, True)[0, 0],
    lambda x: F.alpha_dropout(x, 0.5, True, True), lambda x: F.feature_alpha_dropout(x, 0.5, True, True),
])
def test_inplace_writes_into_the_input(op):
    x = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    before = x.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = op(x)
    assert np.shares_memory(y, x) and not np.array_equal(x, before)
    np.testing.assert_array_equal(y, x)


def test_values_by_hand():
    x = np.array([-4.0, -3.0, -1.0, 0.0, 1.0, 3.0, 4.0], np.float32)
    np.testing.assert_allclose(F.hardsigmoid(x), [0, 0, 1 / 3, 0.5, 2 / 3, 1, 1], rtol=1e-6)
    np.testing.assert_allclose(F.hardswish(x), [0, 0, -1 / 3, 0, 2 / 3, 3, 4], rtol=1e-6)
    np.testing.assert_allclose(F.selu(np.array([-1.0, 2.0])), [1.0507009873554805 * 1.6732632423543772 * math.expm1(-1),
                                                              2 * 1.0507009873554805], rtol=1e-15)
    np.testing.assert_allclose(F.celu(np.array([-1.0]), 2.0), [2 * math.expm1(-0.5)], rtol=1e-15)
    # softplus reverts to x where beta * x > threshold, and is log1p(exp(beta x)) / beta below
    np.testing.assert_array_equal(F.softplus(np.array([21.0, 100.0]), 1, 20), [21.0, 100.0])
    np.testing.assert_allclose(F.softplus(np.array([2.0]), 2, 20), [math.log1p(math.exp(4)) / 2], rtol=1e-15)
    np.testing.assert_allclose(F.mish(np.array([1.0])), [math.tanh(math.log1p(math.e))], rtol=1e-15)
    np.testing.assert_array_equal(F.threshold(np.arange(-3, 3), 0.5, 2.5), [2, 2, 2, 2, 1, 2])
    np.testing.assert_allclose(F.glu(np.array([[1.0, 2.0, 0.0, 100.0]])), [[0.5, 2.0]], rtol=1e-15)
    assert F.softsign(np.arange(3)).dtype == np.float32 and F.tanhshrink(np.arange(3)).dtype == np.float32


def test_rrelu_draws_from_the_seeded_generator():
    x = -np.ones((200, 50), np.float32)
    random.manual_seed(3)
    a = F.rrelu(x, 0.1, 0.3, True)
    random.manual_seed(3)
    b = F.rrelu(x, 0.1, 0.3, True)
    np.testing.assert_array_equal(a, b)
    slope = -a
    assert slope.min() >= 0.1 and slope.max() < 0.3 + 1e-7 and abs(slope.mean() - 0.2) < 0.002
    assert len(np.unique(slope)) > 1000  # one slope per element
    np.testing.assert_allclose(F.rrelu(x, 0.1, 0.3), np.full_like(x, -0.2))  # eval: the mean slope
    np.testing.assert_array_equal(F.rrelu(np.abs(x), 0.1, 0.3, True), np.abs(x))


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_keeps_mean_and_variance(p):
    random.manual_seed(0)
    x = np.random.default_rng(0).standard_normal(400_000).astype(np.float32)
    y = F.alpha_dropout(x, p, True)
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1) < 0.01
    a = 1 / math.sqrt((1.7580993408473766**2 * p + 1) * (1 - p))
    dropped = np.isclose(y, a * 1.7580993408473766 * (p - 1), rtol=0, atol=1e-6)
    assert abs(dropped.mean() - p) < 0.005  # the dropped share, all at one value


def test_dropouts_are_seeded_and_identity_in_eval():
    x = np.random.default_rng(0).standard_normal((8, 16, 4)).astype(np.float32) + 5
    for fn in (F.dropout1d, F.alpha_dropout, F.feature_alpha_dropout):
        assert fn(x, 0.5, False) is x
        random.manual_seed(7)
        a = fn(x, 0.5, True)
        random.manual_seed(7)
        np.testing.assert_array_equal(a, fn(x, 0.5, True))
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        assert F.dropout3d(x, 0.5, False) is x


ODD_SHAPES = [(), (0,), (3,), (2, 0), (0, 3), (2, 3), (2, 4), (0, 3, 5), (2, 0, 5), (2, 3, 0), (1, 3, 5),
              (0, 3, 4, 4), (1, 0, 4, 4), (1, 3, 0, 4), (1, 3, 1, 1), (1, 1, 2, 3, 4), (1, 2, 2, 3, 4, 2)]
ODD_LAYERS = [
    "{ELU: [2.0, true]}", "{CELU: 0.5}", "SELU", "GLU", "{GLU: 0}", "{Hardshrink: 0.3}", "{Hardsigmoid: true}",
    "Hardswish", "{Hardtanh: [-2, 2, true]}", "LogSigmoid", "Mish", "{SiLU: true}", "{Softplus: [2, 1]}", "Softshrink",
    "Softsign", "Tanhshrink", "{Threshold: [0.1, 3]}", "{RReLU: [0.1, 0.3]}", "{RReLU: [0.1, 0.3, true]}",
    "{Softmax: 1}", "Softmax", "{Softmin: -1}", "{LogSoftmax: 0}", "Softmax2d", "{Dropout1d: [0.5, true]}",
    "{Dropout3d: [0.5]}", "{AlphaDropout: 0.5}", "{FeatureAlphaDropout: [0.5, true]}", "{Dropout3d: 1.0}",
    "{AlphaDropout: [1.0, true]}", "{Dropout2d: [0.3, true]}",
]


@pytest.mark.torch
@pytest.mark.parametrize("text", ODD_LAYERS)
def test_layers_on_empty_and_odd_shapes_match_torch(text):
    """Every shape, mode and dtype: torch's output shape and dtype (values too where not random), or a refusal
    where torch refuses, and never an exception that is not nnspec's."""
    torch = pytest.importorskip("torch")
    import oracle
    import nnspec
    from nnspec.errors import NNSpecError
    from nnspec.spec import parse, validate

    model = nnspec.loads(text)
    twin = oracle.build(validate(parse(text, "<test>"), "<test>")[0])
    random_in_train = "Dropout" in text or "RReLU" in text
    for shape in ODD_SHAPES:
        for train in (False, True):
            for dtype in ("float32", "float16"):
                model.train(train).to(dtype)
                twin.train(train)
                x = np.asarray(np.random.default_rng(0).standard_normal(shape) * 3, dtype=dtype)
                where = f"{text} on {shape} ({'train' if train else 'eval'}, {dtype})"
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        want = twin(torch.from_numpy(x.copy())).numpy()
                    except Exception:  # noqa: BLE001 - torch refuses: nnspec must refuse too
                        with pytest.raises(NNSpecError):
                            model(x.copy())
                        continue
                    got = model(x.copy())
                assert (got.shape, got.dtype) == (want.shape, want.dtype), where
                if not (train and random_in_train):
                    tol = 1e-2 if dtype == "float16" else 1e-4
                    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True, err_msg=where)


@pytest.mark.torch
@pytest.mark.parametrize("fn", ["dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"])
def test_dropout_variants_warn_refuse_and_mask_as_torch(fn):
    """Every rank, mode, p and dtype: torch's warnings, word for word, its refusals, its zeros and identities,
    and where it draws, its mask's unit (a 2-d input to dropout2d is dropped per element, as torch's)."""
    torch = pytest.importorskip("torch")
    from nnspec.errors import NNSpecError

    ours, theirs = getattr(F, fn), getattr(torch.nn.functional, fn)
    torch.manual_seed(0)
    shapes = [(), (30,), (0,), (40, 100), (2, 0), (40, 30, 5), (40, 30, 4, 5), (4, 30, 3, 4, 5), (20, 10, 2, 2, 1, 2)]
    for shape in shapes:
        for train in (False, True):
            for p in (0.0, 0.5, 1.0):
                for dtype in ("float32", "int64"):
                    x = np.asarray(np.abs(np.random.default_rng(0).standard_normal(shape)) + 1).astype(dtype)
                    where = f"{fn} {shape} train={train} p={p} {dtype}"
                    with warnings.catch_warnings(record=True) as said:
                        warnings.simplefilter("always")
                        try:
                            want = theirs(torch.from_numpy(x.copy()), p, train).numpy()
                        except Exception:  # noqa: BLE001
                            want = None
                    with warnings.catch_warnings(record=True) as we_said:
                        warnings.simplefilter("always")
                        try:
                            got = ours(x.copy(), p, train)
                        except NNSpecError:
                            got = None
                    assert [str(w.message) for w in we_said] == [str(w.message) for w in said], where
                    assert (got is None) == (want is None), where
                    if want is None:
                        continue
                    assert (got.shape, got.dtype) == (want.shape, want.dtype), where
                    if not train or p != 0.5 or x.size == 0:
                        np.testing.assert_array_equal(got, want, err_msg=where)
                    else:  # the unit torch drops whole: for each k, whether dims k.. are dropped all or none
                        s = 1.7580993408473766
                        value = s / math.sqrt((s * s * p + 1) * (1 - p)) * (p - 1) if "alpha" in fn else 0.0

                        def whole(out):
                            dropped = np.isclose(out, value, rtol=0, atol=1e-6)
                            return [bool((lambda d: (d.all(-1) | ~d.any(-1)).all())(
                                dropped.reshape(out.shape[:k] + (-1,)))) for k in range(out.ndim + 1)]

                        assert whole(got) == whole(want), where


def test_layer_arguments_as_torch_checks_them():
    import nnspec
    from nnspec.errors import CompileError, NNSpecError, ShapeError

    with pytest.raises(CompileError, match=r"max_val \(-1\) must be greater than min_val \(1\)"):
        nnspec.loads("{Hardtanh: [1, -1]}")
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        m = nnspec.loads("{Hardtanh: {min_value: -0.5}}")
    assert repr(m) == "Hardtanh(min_val=-0.5, max_val=1.0)"
    with pytest.raises(ShapeError, match="Softmax2d: expected input to be 3D or 4D, got 2D instead"):
        nnspec.loads("Softmax2d")(np.zeros((2, 3), np.float32))
    with pytest.raises(NNSpecError, match="alpha cannot be 0 for CELU"):
        nnspec.loads("{CELU: 0}")(np.zeros(3, np.float32))
    with pytest.raises(NNSpecError, match="Lower bound should be less than or equal to the upper bound"):
        nnspec.loads("{RReLU: [0.5, 0.1]}")(np.zeros(3, np.float32))
    with pytest.raises(NNSpecError, match="p: Input should be less than or equal to 1"):
        nnspec.loads("{AlphaDropout: 1.5}")  # the spec's bound (torch's constructor refuses it too)


def test_one_plus_erf_keeps_relative_accuracy_in_the_tail_and_gelu_uses_it(monkeypatch):
    """GELU's float32 1 + erf(z), evaluated as erfc(-z) a block at a time: within 5e-7 of the exact value
    where z > -2, 5e-6 down to -6 (where 1 + erf(z) computed from erf would have cancelled to 0), the
    special values as torch gives them, and the same whichever block size or thread splits it."""
    import math

    from nnspec.runtime.kernels import special

    z = np.concatenate([np.linspace(-6, 10, 40001), [0.0, -0.0, 1e-30, np.inf, -np.inf, np.nan]]).astype(np.float32)
    got = special.one_plus_erf(z)
    assert got.dtype == np.float32 and got.shape == z.shape
    want = np.array([math.erfc(-float(v)) if not math.isnan(v) else np.nan for v in z])
    finite = np.isfinite(z)
    rel = np.abs(got[finite] - want[finite]) / want[finite]
    assert rel[z[finite] > -2].max() < 5e-7 and rel.max() < 5e-6
    assert list(got[-3:-1]) == [2.0, 0.0] and np.isnan(got[-1])
    monkeypatch.setattr(special, "BLOCK", 7)
    np.testing.assert_array_equal(special.one_plus_erf(z[:1000].reshape(10, 100)).reshape(-1), got[:1000])
    x = np.random.default_rng(0).standard_normal((3, 50)).astype(np.float32) * 3
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(np.float64).reshape(-1)])
    from nnspec.runtime.kernels import activation

    np.testing.assert_allclose(activation.gelu(x, "none").reshape(-1), exact, rtol=1e-6, atol=1e-7)
