"""Numerics of the pooling and batch-norm kernels: accumulation dtype, NaN/inf locality, max-pool indices.

Each bug has a torch-free test (a fixed expected value or a slow loop reference
written from torch's kernel rules) and a live comparison with torch over a
small random sweep (ceil mode, padding, dilation, NaN and -inf sprinkled in).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import nnspec
from nnspec.runtime import functional as F
from nnspec.runtime.kernels import norm


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(sum(map(ord, name)))  # hash() is salted per process; this is not


def _out_size(size, k, s, p, d, ceil_mode):
    """torch's pooling_output_shape, written out again so the loop references do not lean on the kernel."""
    n = size + 2 * p - d * (k - 1) - 1
    out = (n + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _sprinkle(rng, x, nan=0.05, neg_inf=0.07, pos_inf=0.03):
    """NaN, -inf and +inf at random places of a float array."""
    x = x.copy()
    u = rng.random(x.shape)
    x[u < nan] = np.nan
    x[(u >= nan) & (u < nan + neg_inf)] = -np.inf
    x[u > 1 - pos_inf] = np.inf
    return x


# --------------------------------------------------------------------------- loop references (torch's rules)


def _ref_max_pool(x, k, s, p, d, ceil_mode):
    """torch's CPU max-pool loop: first valid slot > the running max (from the lowest value) or NaN wins."""
    nd = len(k)
    spatial = x.shape[2:]
    out = tuple(_out_size(spatial[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(nd))
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    y = np.empty(x.shape[:2] + out, dtype=x.dtype)
    idx = np.empty(x.shape[:2] + out, dtype=np.int64)
    for n, c in itertools.product(range(x.shape[0]), range(x.shape[1])):
        for o in itertools.product(*(range(v) for v in out)):
            ranges, first = [], []
            for i in range(nd):
                i0 = o[i] * s[i] - p[i]
                i1 = min(i0 + (k[i] - 1) * d[i] + 1, spatial[i])
                while i0 < 0:
                    i0 += d[i]
                ranges.append(range(i0, i1, d[i]))
                first.append(i0)
            best, where = lowest, sum(f * math.prod(spatial[i + 1 :]) for i, f in enumerate(first))
            for coord in itertools.product(*ranges):
                v = x[(n, c) + coord]
                if v > best or (x.dtype.kind == "f" and np.isnan(v)):
                    best, where = v, sum(ci * math.prod(spatial[i + 1 :]) for i, ci in enumerate(coord))
            y[(n, c) + o], idx[(n, c) + o] = best, where
    return y, idx


def _ref_adaptive_avg_pool(x, out):
    """Each bin's own mean in float64, bins start=floor(i*L/out), end=ceil((i+1)*L/out)."""
    nd = len(out)
    spatial = x.shape[2:]
    bins = [[(i * L // o, -(-(i + 1) * L // o)) for i in range(o)] for L, o in zip(spatial, out)]
    y = np.empty(x.shape[:2] + tuple(out))
    x64 = x.astype(np.float64)
    for o in itertools.product(*(range(v) for v in out)):
        sl = tuple(slice(*bins[i][o[i]]) for i in range(nd))
        y[(Ellipsis,) + o] = x64[(Ellipsis,) + sl].mean(axis=tuple(range(2, 2 + nd)))
    return y


# --------------------------------------------------------------------------- BatchNorm in float16


def _half_bn_input():
    return (np.random.default_rng(0).standard_normal((4096, 2)) * 0.1 + 300).astype(np.float16)


def test_batchnorm_half_train_does_not_overflow():
    x = _half_bn_input()
    m = nnspec.nn.BatchNorm1d(2).half().train()
    y = m(x)
    assert y.dtype == np.float16 and m.running_mean.dtype == np.float16 and m.running_var.dtype == np.float16
    assert np.isfinite(y).all() and np.isfinite(m.running_var).all()
    x64 = x.astype(np.float64)
    mean, var = x64.mean(0), x64.var(0)
    ref = (x64 - mean) / np.sqrt(var + 1e-5)
    assert np.abs(y).max() > 1  # not the all-zero output of a float16 sum that overflowed
    np.testing.assert_allclose(y.astype(np.float64), ref, atol=0.05)
    np.testing.assert_allclose(m.running_mean.astype(np.float64), 0.1 * mean, rtol=1e-3)
    np.testing.assert_allclose(m.running_var.astype(np.float64), 0.9 + 0.1 * var * 4096 / 4095, rtol=1e-3)


def test_batchnorm_half_eval_and_no_running_stats_stay_finite():
    x = _half_bn_input()
    m = nnspec.nn.BatchNorm1d(2).half().train()
    m(x)
    y = m.eval()(x)
    assert y.dtype == np.float16 and np.isfinite(y).all()
    bare = nnspec.nn.BatchNorm1d(2, affine=False, track_running_stats=False).half()
    y = bare(x)
    assert y.dtype == np.float16 and np.isfinite(y).all() and np.abs(y).max() > 1


def test_batchnorm_kernel_half_input_float32_stats_keeps_their_dtypes():
    # functional.batch_norm refuses mixed dtypes; the kernel still follows torch's mixed-type rule
    x = _half_bn_input()
    rm, rv = np.zeros(2, np.float32), np.ones(2, np.float32)
    y = norm.batch_norm(x, rm, rv, np.ones(2, np.float32), np.zeros(2, np.float32), True, 0.1, 1e-5)
    assert y.dtype == np.float16 and rm.dtype == np.float32 and rv.dtype == np.float32
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(rm, 0.1 * x64.mean(0), rtol=1e-6)
    np.testing.assert_allclose(rv, 0.9 + 0.1 * x64.var(0, ddof=1), rtol=1e-5)
    np.testing.assert_allclose(y.astype(np.float64), (x64 - x64.mean(0)) / np.sqrt(x64.var(0) + 1e-5), atol=0.01)


def test_batchnorm_float32_unchanged_by_the_half_path():
    rng = _rng("bn32")
    x = rng.standard_normal((8, 3, 5)).astype(np.float32)
    m = nnspec.nn.BatchNorm1d(3).train()
    y = m(x)
    assert y.dtype == np.float32
    mean, var = x.mean((0, 2)), x.var((0, 2))
    want = (x - mean[:, None]) / np.sqrt(var[:, None] + np.float32(1e-5))
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


def test_batchnorm_half_matches_torch():
    torch = pytest.importorskip("torch")
    rng = _rng("bn16")
    for _ in range(60):
        nd = int(rng.integers(2, 5))
        c = int(rng.integers(1, 4))
        shape = (int(rng.integers(2, 64)), c) + tuple(int(rng.integers(1, 5)) for _ in range(nd - 2))
        pdt = np.float16 if rng.random() < 0.7 else np.float32
        offset = float(rng.choice([0.0, 3.0, 300.0])) if pdt == np.float16 else 0.0
        x = (rng.standard_normal(shape) * 10 ** rng.uniform(-1, 1.5) + offset).astype(np.float16)
        affine, track = bool(rng.random() < 0.7), bool(rng.random() < 0.7)
        train = bool(rng.random() < 0.6) or not track
        w = rng.standard_normal(c).astype(pdt) if affine else None
        b = rng.standard_normal(c).astype(pdt) if affine else None
        rm = rng.standard_normal(c).astype(pdt) if track else None
        rv = (rng.random(c) + 0.5).astype(pdt) if track else None
        if pdt == np.float32 and not affine and not track:
            continue  # no float32 parameter left: that is the all-float16 case

        def t(a):
            return None if a is None else torch.from_numpy(a.copy())

        trm, trv = t(rm), t(rv)
        want = torch.nn.functional.batch_norm(t(x), trm, trv, t(w), t(b), train, 0.1, 1e-5).numpy()
        nrm, nrv = (None if rm is None else rm.copy()), (None if rv is None else rv.copy())
        got = norm.batch_norm(x, nrm, nrv, w, b, train or rm is None, 0.1, 1e-5)  # the kernel: mixed dtypes too
        msg = f"{shape} {pdt.__name__} train={train} affine={affine} track={track}"
        assert got.dtype == want.dtype == np.float16, msg
        scale = max(1.0, float(np.abs(want.astype(np.float64)).max()))
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=2e-3, atol=2e-3 * scale,
                                   err_msg=msg)
        if track:
            assert nrm.dtype == nrv.dtype == pdt, msg
            np.testing.assert_allclose(nrm.astype(np.float64), trm.numpy().astype(np.float64), rtol=1e-3, atol=1e-3,
                                       err_msg=msg)
            np.testing.assert_allclose(nrv.astype(np.float64), trv.numpy().astype(np.float64), rtol=1e-3, err_msg=msg)


def test_batchnorm_half_module_matches_torch_on_the_overflow_case():
    torch = pytest.importorskip("torch")
    x = _half_bn_input()
    m = nnspec.nn.BatchNorm1d(2).half().train()
    tm = torch.nn.BatchNorm1d(2).half().train()
    got, want = m(x), tm(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), atol=2e-3 * 4.5)
    np.testing.assert_allclose(m.running_mean, tm.running_mean.numpy(), rtol=1e-3)
    np.testing.assert_allclose(m.running_var, tm.running_var.numpy(), rtol=1e-3)


# --------------------------------------------------------------------------- AvgPool in float16


def test_avgpool_half_sums_in_float32():
    x = np.full((1, 1, 16, 16), 300.0, dtype=np.float16)  # the float16 sum, 76800, overflows
    y = nnspec.nn.AvgPool2d(16)(x)
    assert y.dtype == np.float16 and y.shape == (1, 1, 1, 1) and y[0, 0, 0, 0] == 300
    y = F.avg_pool2d(x, 16, divisor_override=256)
    assert y.dtype == np.float16 and y[0, 0, 0, 0] == 300
    y = nnspec.nn.AvgPool1d(256)(x.reshape(1, 1, 256))
    assert y.dtype == np.float16 and y[0, 0, 0] == 300


def test_avgpool_half_rounds_once_from_a_float32_mean():
    rng = _rng("avg16")
    x = (rng.standard_normal((2, 3, 12, 10)) * 100 + 2000).astype(np.float16)
    y = F.avg_pool2d(x, 4, 2, 1, True, False)
    ref = F.avg_pool2d(x.astype(np.float64), 4, 2, 1, True, False)
    assert y.dtype == np.float16 and np.isfinite(y).all()
    np.testing.assert_array_less(np.abs(y.astype(np.float64) - ref), np.spacing(np.abs(ref).astype(np.float16)) + 1e-9)


def test_avgpool_matches_torch():
    torch = pytest.importorskip("torch")
    rng = _rng("avgpool")
    compared = 0
    for _ in range(150):
        nd = int(rng.integers(1, 3))
        dt = [np.float16, np.float32, np.float64][int(rng.integers(3))]
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) + tuple(int(rng.integers(1, 12)) for _ in range(nd))
        x = (rng.standard_normal(shape) * float(rng.choice([1, 300]))).astype(dt)
        if rng.random() < 0.5:
            x = _sprinkle(rng, x)
        k = tuple(int(v) for v in rng.integers(1, 5, nd))
        s = tuple(int(v) for v in rng.integers(1, 4, nd))
        p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
        kw = {"ceil_mode": bool(rng.random() < 0.5), "count_include_pad": bool(rng.random() < 0.5)}
        if nd == 2 and rng.random() < 0.3:
            kw["divisor_override"] = int(rng.integers(1, 7))
        try:
            want = getattr(torch.nn.functional, f"avg_pool{nd}d")(torch.from_numpy(x), k, s, p, **kw).numpy()
        except RuntimeError:
            continue
        got = getattr(F, f"avg_pool{nd}d")(x, k, s, p, **kw)
        msg = f"{shape} {dt.__name__} k={k} s={s} p={p} {kw}"
        assert got.dtype == want.dtype and got.shape == want.shape, msg
        tol = {np.float16: 1e-3, np.float32: 1e-5, np.float64: 1e-12}[dt]
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True, err_msg=msg)
        compared += 1
    assert compared > 100


# --------------------------------------------------------------------------- AdaptiveAvgPool: NaN/inf stay in bins


def test_adaptive_avg_pool_nan_stays_in_its_bin():
    x = np.array([[[np.nan, 1, 2, 3, 4, 5, 6]]], dtype=np.float32)
    y = nnspec.nn.AdaptiveAvgPool1d(3)(x)  # bins [0, 3), [2, 5), [4, 7)
    np.testing.assert_array_equal(y, np.array([[[np.nan, 3, 5]]], dtype=np.float32))
    x = np.array([[[0, 1, 2, 3, 4, 5, np.inf]]], dtype=np.float64)
    np.testing.assert_array_equal(nnspec.nn.AdaptiveAvgPool1d(3)(x), [[[1, 3, np.inf]]])
    x = np.array([[[1, 2, np.inf, 3, -np.inf, 5, 6]]], dtype=np.float32)
    want = np.array([[[np.inf, np.nan, -np.inf]]], np.float32)  # inf - inf is NaN only in the bin holding both
    np.testing.assert_array_equal(nnspec.nn.AdaptiveAvgPool1d(3)(x), want)


def test_adaptive_avg_pool2d_nan_corner_touches_only_its_bins():
    x = np.arange(64, dtype=np.float32).reshape(1, 1, 8, 8)
    x[0, 0, 0, 0] = np.nan
    y = nnspec.nn.AdaptiveAvgPool2d((3, 5))(x)
    assert np.isnan(y[0, 0, 0, 0]) and np.isnan(y).sum() == 1
    np.testing.assert_allclose(y, _ref_adaptive_avg_pool(x, (3, 5)), rtol=1e-6)


def test_adaptive_avg_pool_matches_loop_reference():
    rng = _rng("adaptive-ref")
    for _ in range(60):
        nd = int(rng.integers(1, 3))
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) + tuple(int(rng.integers(1, 13)) for _ in range(nd))
        out = tuple(int(v) for v in rng.integers(1, 15, nd))
        x = _sprinkle(rng, rng.standard_normal(shape))
        got = getattr(F, f"adaptive_avg_pool{nd}d")(x, out)
        np.testing.assert_allclose(got, _ref_adaptive_avg_pool(x, out), rtol=1e-12, atol=1e-12, equal_nan=True,
                                   err_msg=f"{shape} -> {out}")


def test_adaptive_avg_pool_half_sums_in_float32():
    x = np.full((1, 2, 300), 300.0, dtype=np.float16)
    y = nnspec.nn.AdaptiveAvgPool1d(2)(x)
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y, np.full((1, 2, 2), 300, dtype=np.float16))
    x = np.full((1, 1, 40, 40), 300.0, dtype=np.float16)
    y = nnspec.nn.AdaptiveAvgPool2d(3)(x)
    assert y.dtype == np.float16 and (y == 300).all()


def test_adaptive_avg_pool_matches_torch():
    torch = pytest.importorskip("torch")
    rng = _rng("adaptive")
    for _ in range(150):
        nd = int(rng.integers(1, 3))
        dt = [np.float16, np.float32, np.float64][int(rng.integers(3))]
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) + tuple(int(rng.integers(1, 20)) for _ in range(nd))
        out = tuple(int(v) for v in rng.integers(1, 15, nd))
        x = (rng.standard_normal(shape) * float(rng.choice([1, 300]))).astype(dt)
        if rng.random() < 0.6:
            x = _sprinkle(rng, x)
        want = getattr(torch.nn.functional, f"adaptive_avg_pool{nd}d")(torch.from_numpy(x), out).numpy()
        got = getattr(F, f"adaptive_avg_pool{nd}d")(x, out)
        msg = f"{shape} {dt.__name__} -> {out}"
        assert got.dtype == want.dtype and got.shape == want.shape, msg
        tol = {np.float16: 1e-3, np.float32: 1e-5, np.float64: 1e-12}[dt]
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True, err_msg=msg)


# --------------------------------------------------------------------------- MaxPool indices


def test_maxpool_all_minus_inf_indices_stay_in_the_input():
    x = np.full((1, 1, 4), -np.inf, dtype=np.float32)
    y, idx = nnspec.nn.MaxPool1d(3, 1, 1, return_indices=True)(x)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(idx, [[[0, 0, 1, 2]]])
    x = np.full((1, 1, 3, 3), -np.inf, dtype=np.float64)
    y, idx = nnspec.nn.MaxPool2d(3, 1, 1, return_indices=True)(x)
    np.testing.assert_array_equal(idx, [[[[0, 0, 1], [0, 0, 1], [3, 3, 4]]]])


def test_maxpool_nan_window_points_at_its_last_nan():
    # torch's loop takes over on every NaN (val > max || isnan(val)), so the last NaN wins
    x = np.array([[[np.nan, 1, np.nan, 2, np.nan, np.nan, 5, 3, 4]]], dtype=np.float32)
    y, idx = F.max_pool1d(x, 3, 1, return_indices=True)
    np.testing.assert_array_equal(idx, [[[2, 2, 4, 5, 5, 5, 6]]])
    assert np.isnan(y[0, 0, :6]).all() and y[0, 0, 6] == 5


def test_maxpool_ties_pick_the_first_max():
    x = np.array([[[1, 5, 3, 5, 2]]], dtype=np.float32)
    y, idx = F.max_pool1d(x, 3, 1, 1, return_indices=True)
    np.testing.assert_array_equal(y, [[[5, 5, 5, 5, 5]]])
    np.testing.assert_array_equal(idx, [[[1, 1, 1, 3, 3]]])


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint8])
def test_maxpool_integer_input_pads_with_the_dtype_minimum(dtype):
    info = np.iinfo(dtype)
    x = np.array([[[info.min, info.min, info.min, info.max // 2]]], dtype=dtype)
    y, idx = F.max_pool1d(x, 3, 1, 1, return_indices=True)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, [[[info.min, info.min, info.max // 2, info.max // 2]]])
    np.testing.assert_array_equal(idx, [[[0, 0, 3, 3]]])
    y = F.max_pool2d(x.reshape(1, 1, 2, 2), 2, 1, 1)
    assert y.dtype == dtype and y.shape == (1, 1, 3, 3)


def test_maxpool_window_wholly_in_padding_keeps_torchs_initial_index():
    # width 1, kernel 2, padding 1, dilation 2: the window's slots are columns -1 and 1, neither inside
    x = np.arange(4, dtype=np.float32).reshape(1, 1, 4, 1)
    y, idx = F.max_pool2d(x, (2, 2), (2, 2), (1, 1), (2, 2), return_indices=True)
    want_y, want_idx = _ref_max_pool(x, (2, 2), (2, 2), (1, 1), (2, 2), False)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(idx, want_idx)
    assert np.isneginf(y).all()


def _maxpool_case(rng, dtypes):
    nd = int(rng.integers(1, 3))
    dt = dtypes[int(rng.integers(len(dtypes)))]
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) + tuple(int(rng.integers(1, 10)) for _ in range(nd))
    if np.dtype(dt).kind == "f":
        x = (rng.standard_normal(shape) * 10).astype(dt)
        r = rng.random()
        x = _sprinkle(rng, x) if r < 0.6 else np.full(shape, -np.inf, dtype=dt) if r < 0.75 else x
    else:
        info = np.iinfo(dt)
        x = rng.integers(info.min, info.max, shape, dtype=dt, endpoint=True)
        if rng.random() < 0.3:
            x[rng.random(shape) < 0.7] = info.min
    k = tuple(int(v) for v in rng.integers(1, 5, nd))
    s = tuple(int(v) for v in rng.integers(1, 4, nd))
    p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
    d = tuple(int(v) for v in rng.integers(1, 3, nd))
    return nd, x, k, s, p, d, bool(rng.random() < 0.5)


def test_maxpool_matches_loop_reference():
    rng = _rng("maxpool-ref")
    compared = 0
    for _ in range(120):
        nd, x, k, s, p, d, ceil = _maxpool_case(rng, [np.float32, np.float64, np.float16, np.int64, np.int8])
        if any(_out_size(x.shape[2 + i], k[i], s[i], p[i], d[i], ceil) < 1 for i in range(nd)):
            continue
        y, idx = getattr(F, f"max_pool{nd}d")(x, k, s, p, d, ceil_mode=ceil, return_indices=True)
        want_y, want_idx = _ref_max_pool(x, k, s, p, d, ceil)
        msg = f"{x.shape} {x.dtype} k={k} s={s} p={p} d={d} ceil={ceil}"
        assert y.dtype == x.dtype and idx.dtype == np.int64, msg
        np.testing.assert_array_equal(y, want_y, err_msg=msg)
        np.testing.assert_array_equal(idx, want_idx, err_msg=msg)
        plain = getattr(F, f"max_pool{nd}d")(x, k, s, p, d, ceil_mode=ceil)
        np.testing.assert_array_equal(plain, want_y, err_msg=msg)
        compared += 1
    assert compared > 80


def test_maxpool_matches_torch():
    torch = pytest.importorskip("torch")
    rng = _rng("maxpool")
    compared = 0
    for _ in range(200):
        nd, x, k, s, p, d, ceil = _maxpool_case(rng, [np.float32, np.float64, np.float16, np.int64, np.int32, np.uint8])
        try:
            want_y, want_idx = getattr(torch.nn.functional, f"max_pool{nd}d")(
                torch.from_numpy(x.copy()), k, s, p, d, ceil_mode=ceil, return_indices=True
            )
        except RuntimeError:
            continue
        y, idx = getattr(F, f"max_pool{nd}d")(x, k, s, p, d, ceil_mode=ceil, return_indices=True)
        msg = f"{x.shape} {x.dtype} k={k} s={s} p={p} d={d} ceil={ceil}"
        np.testing.assert_array_equal(y, want_y.numpy(), err_msg=msg)
        np.testing.assert_array_equal(idx, want_idx.numpy(), err_msg=msg)
        compared += 1
    assert compared > 150
