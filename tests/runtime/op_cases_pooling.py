"""Registry parity cases of the pooling family (merged by test_tensor_ops.py)."""

from __future__ import annotations

import math

import numpy as np

from nnspec.errors import NNSpecRuntimeError, ShapeError

from op_cases import c, c_tol, checked, err, err_msg, ints, rnd

_R = np.random.default_rng(12)


def uniform(*shape, dtype=np.float32):
    return _R.random(shape).astype(dtype)


def ties(*shape, dtype=np.float32):
    """Small integers as floats: windows with tied maxima (torch keeps the first), a NaN and a -inf or two."""
    a = _R.integers(-2, 3, shape).astype(dtype)
    a.reshape(-1)[:: max(a.size // 3, 1)] = np.nan
    a.reshape(-1)[1] = -np.inf
    return a


def pooled(nd: int, shape, k=2, stride=None, padding=0):
    """(values, indices) of a max pool, as a MaxUnpool's input: computed here the way torch's max pool does."""
    import nnspec.runtime.functional as F

    fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[nd]
    return fn(rnd(*shape), k, stride, padding, return_indices=True)


def _fractional_check(nd: int, kernel, x, indices: bool):
    """Samples drawn per call (ours and torch's differ): the same shapes and dtypes, each output a window's max."""
    k = kernel if isinstance(kernel, tuple) else (kernel,) * nd

    def check(got, want):
        for out in (got, tuple(w.numpy() for w in want) if indices else want.numpy()):
            y = out[0] if indices else out
            ref = want[0].numpy() if indices else want.numpy()
            assert y.shape == ref.shape and y.dtype == ref.dtype
            batched = x if x.ndim == nd + 2 else x[None]
            yb = y if x.ndim == nd + 2 else y[None]
            maxima = np.lib.stride_tricks.sliding_window_view(batched, k, axis=tuple(range(2, 2 + nd)))
            maxima = maxima.max(axis=tuple(range(-nd, 0)))
            for n in range(yb.shape[0]):
                for ch in range(yb.shape[1]):
                    assert np.isin(yb[n, ch], maxima[n, ch]).all()
            if indices:
                ib = out[1] if x.ndim == nd + 2 else out[1][None]
                flat = batched.reshape(batched.shape[:2] + (-1,))
                np.testing.assert_array_equal(np.take_along_axis(flat, ib.reshape(ib.shape[:2] + (-1,)), -1),
                                              yb.reshape(yb.shape[:2] + (-1,)))

    return check


x5 = rnd(2, 3, 5, 6, 7)
s2, s3 = uniform(2, 3, 2), uniform(2, 3, 3)
mp1, mp2, mp3 = pooled(1, (2, 3, 9)), pooled(2, (2, 3, 7, 6), 3, 2, 1), pooled(3, (2, 3, 4, 4, 4))

NN_CASES = {
    "max_pool3d": [
        c(x5, 2), c(x5, (2, 3, 1), (1, 2, 3), (1, 1, 0), (1, 2, 1), ceil_mode=True, return_indices=True),
        c(rnd(3, 5, 6, 7), 3, 2, 1), c(ties(1, 2, 4, 5, 6), 2, 1, return_indices=True),
        c(rnd(1, 2, 4, 4, 4).astype(np.float64), 2, return_indices=True), c(rnd(1, 2, 4, 4, 4).astype(np.float16), 2),
        c(ints(*range(64)).reshape(1, 1, 4, 4, 4), 3, 1, 1, return_indices=True), c(rnd(0, 2, 4, 4, 4), 2),
        err_msg(ShapeError, rnd(4, 5, 6), 2), err_msg(NNSpecRuntimeError, x5, (2, 2)),
        err_msg(NNSpecRuntimeError, x5, 2, (1, 2)), err_msg(NNSpecRuntimeError, x5, 2, 1, (1, 0)),
        err_msg(NNSpecRuntimeError, x5, 2, 1, 0, (1, 2)), err_msg(NNSpecRuntimeError, x5, 2, padding=2),
        err_msg(NNSpecRuntimeError, x5, 2, padding=2, dilation=3), err_msg(NNSpecRuntimeError, x5, 2, padding=-1),
        err_msg(NNSpecRuntimeError, x5, 2, 0), err_msg(NNSpecRuntimeError, x5, 2, -1),
        err_msg(NNSpecRuntimeError, x5, 2, dilation=0), err_msg(ShapeError, x5, 6),
        err_msg(ShapeError, rnd(1, 0, 4, 4, 4), 2), err_msg(NNSpecRuntimeError, np.ones((1, 1, 4, 4, 4), bool), 2),
    ],
    "max_pool3d_with_indices": [c(x5, 2, 1), c(rnd(3, 5, 6, 7), (3, 2, 2), return_indices=False),
                                err_msg(ShapeError, x5, 6)],
    "max_pool1d_with_indices": [c(rnd(2, 3, 9), 3, 2, 1), c(rnd(3, 9), 2, ceil_mode=True)],
    "max_pool2d_with_indices": [c(rnd(2, 3, 7, 6), 3, 2, 1), c(rnd(3, 7, 6), 2)],
    "avg_pool3d": [
        c(x5, 3), c(x5, 3, 2, 1, True, False), c(x5, (2, 2, 3), 2, (1, 0, 1), divisor_override=5),
        c(x5, (2, 3, 3), 2, 1, ceil_mode=True), c(rnd(3, 4, 4, 4), 2),
        c(rnd(1, 2, 4, 4, 4).astype(np.float64), 2, 1, 1, count_include_pad=False),
        c(ints(*range(-30, 34)).reshape(1, 1, 4, 4, 4), 3, 1, 1), c(x5, 2, divisor_override=-3),
        err_msg(ShapeError, rnd(4, 5, 6), 2), err_msg(NNSpecRuntimeError, x5, (2, 2)),
        err_msg(NNSpecRuntimeError, x5, 2, (1, 2)), err_msg(NNSpecRuntimeError, x5, 2, 1, (1, 0)),
        err_msg(NNSpecRuntimeError, x5, 3, padding=2), err_msg(NNSpecRuntimeError, x5, 2, 0),
        err_msg(NNSpecRuntimeError, x5, 2, divisor_override=0), err_msg(ShapeError, rnd(1, 1, 2, 9, 9), 4, padding=2),
        err_msg(ShapeError, rnd(1, 0, 4, 4, 4), 2),
        err_msg(NNSpecRuntimeError, rnd(1, 1, 4, 4, 4).astype(np.float16), 2),
        err_msg(NNSpecRuntimeError, ints(*range(64)).reshape(1, 1, 4, 4, 4).astype(np.int32), 2),
    ],
    "adaptive_avg_pool3d": [
        c(x5, 2), c(x5, (3, None, 4)), c(rnd(3, 5, 2, 7), (3, 4, 5)), c(rnd(1, 1, 3, 2, 6), (3, 2, 2)),
        # float16: torch sums in float16, nnspec in float32 (its float16 rule): within float16's tolerance
        c_tol(1e-2, rnd(1, 2, 5, 4, 3).astype(np.float16), 2), c(rnd(1, 2, 5, 4, 3).astype(np.float64), (5, 1, 7)),
        c(x5, 0), c(rnd(0, 2, 4, 4, 4), 2),
        err_msg(ShapeError, rnd(4, 5), 2), err_msg(ShapeError, rnd(1, 1, 0, 4, 4), 2),
        err_msg(ShapeError, rnd(1, 1, 1, 4, 4, 4), 2), err_msg(NNSpecRuntimeError, x5, (2, 2)),
        err_msg(ShapeError, x5, -1), err(NNSpecRuntimeError, x5, None),
        err_msg(NNSpecRuntimeError, ints(*range(64)).reshape(1, 1, 4, 4, 4), 2),
    ],
    "adaptive_max_pool1d": [
        c(rnd(2, 3, 10), 3), c(rnd(3, 9), 4, True), c(ties(2, 3, 11), 4, return_indices=True),
        c(rnd(2, 3, 4), 9, True), c(rnd(2, 3, 10).astype(np.float64), [5]),
        c(rnd(2, 3, 10).astype(np.float16), 3, True),
        c(rnd(1, 4, 5), 0),
        err_msg(ShapeError, rnd(9), 4), err_msg(ShapeError, rnd(1, 1, 4, 9), 4),
        err_msg(NNSpecRuntimeError, rnd(1, 4, 9), (4, 4)), err_msg(ShapeError, rnd(1, 4, 0), 2),
        err(NNSpecRuntimeError, rnd(1, 4, 9), None), err(NNSpecRuntimeError, ints(1, 2, 3).reshape(1, 1, 3), 2),
    ],
    "adaptive_max_pool1d_with_indices": [c(rnd(2, 3, 10), 3), c(ties(3, 10), 4, False)],
    "adaptive_max_pool2d": [
        c(rnd(2, 3, 11, 13), (5, 7), True), c(rnd(2, 3, 6, 9), (None, 12)), c(ties(2, 3, 7, 8), 3, True),
        c(rnd(3, 5, 6), 3, return_indices=True), c(rnd(2, 3, 7, 8).astype(np.float64), (2, 5), True),
        c(rnd(2, 3, 7, 8).astype(np.float16), 3), c(rnd(1, 1, 4, 4), 0), c(rnd(0, 2, 4, 4), 2, True),
        err_msg(ShapeError, rnd(1, 1, 4, 4, 4), 2), err_msg(ShapeError, rnd(4, 4), 2),
        err_msg(ShapeError, rnd(1, 1, 0, 4), 2), err_msg(ShapeError, rnd(1, 0, 4, 4), 2),
        err_msg(NNSpecRuntimeError, rnd(1, 1, 4, 4), (1, 2, 3)), err_msg(ShapeError, rnd(1, 1, 4, 4), -1),
        err(NNSpecRuntimeError, rnd(1, 1, 4, 4), None),
        err_msg(NNSpecRuntimeError, ints(*range(16)).reshape(1, 1, 4, 4), 2),
    ],
    "adaptive_max_pool2d_with_indices": [c(rnd(2, 3, 11, 13), (5, 7)), c(ties(3, 7, 8), (None, 3))],
    "adaptive_max_pool3d": [
        c(x5, (3, None, 2), True), c(rnd(3, 5, 6, 7), 2), c(ties(2, 2, 5, 4, 3), 2, True),
        c(x5.astype(np.float64), (3, 4, 5), True), c(x5.astype(np.float16), 2), c(x5, 0),
        err_msg(ShapeError, rnd(4, 4, 4), 2), err_msg(ShapeError, rnd(1, 1, 0, 4, 4), 2),
        err_msg(NNSpecRuntimeError, x5, (1, 2)), err_msg(NNSpecRuntimeError, np.ones((1, 1, 4, 4, 4), bool), 2),
    ],
    "adaptive_max_pool3d_with_indices": [c(x5, (3, 4, 5)), c(ties(2, 2, 5, 4, 3), 2)],
    "lp_pool1d": [
        c(rnd(2, 3, 10), 2, 3, 2), c(rnd(1, 3, 7), 1.5, 2), c(rnd(3, 10), 2, 3, ceil_mode=True),
        c(np.abs(rnd(2, 3, 9)), 3, 2, None, True), c(rnd(2, 3, 9), math.inf, 3), c(rnd(2, 3, 9), -math.inf, 3, 2),
        c(rnd(2, 3, 9).astype(np.float64), 4, 3), c(rnd(2, 3, 9), -1, 2),
        c(ints(*range(18)).reshape(1, 2, 9), 2, 3), c(ints(*range(18)).reshape(1, 2, 9), 2.0, 3),
        err_msg(NNSpecRuntimeError, rnd(1, 2, 9), 2, (3,)), err_msg(NNSpecRuntimeError, rnd(1, 2, 9), 0, 3),
        err(ShapeError, rnd(1, 2, 2), 2, 3),  # core's avg_pool1d message (torch's is avg_pool2d's)
    ],
    "lp_pool2d": [
        c(rnd(2, 3, 9, 9), 2, 3, 2), c(rnd(2, 3, 8, 7), 3, (3, 2), (1, 2), True), c(rnd(3, 9, 9), 2, 3),
        c(rnd(2, 3, 6, 6), math.inf, 2), c(rnd(3, 6, 6), -math.inf, (2, 3), 1),
        c(rnd(2, 3, 6, 6).astype(np.float64), 4, 2), c_tol(1e-2, rnd(2, 3, 6, 6).astype(np.float16), 2, 2),
        c(np.abs(rnd(1, 3, 7, 7)), 1.5, 2), c(ints(*range(81)).reshape(1, 1, 9, 9), 2, 3),
        err_msg(NNSpecRuntimeError, rnd(1, 2, 8, 8), 2, (3, 3, 3)),
        err_msg(NNSpecRuntimeError, rnd(1, 2, 8, 8), 2, (3,)),
        err(ShapeError, rnd(1, 2, 2, 8), 2, 3), err_msg(NNSpecRuntimeError, rnd(1, 2, 8, 8), 0, 3),
    ],
    "lp_pool3d": [
        c(rnd(1, 3, 5, 5, 5), 2, 2), c(np.abs(rnd(3, 5, 5, 5)), 1.5, (2, 3, 2), (1, 2, 2)),
        c(rnd(1, 3, 4, 5, 6), math.inf, 2, ceil_mode=True), c(rnd(1, 3, 4, 5, 6).astype(np.float64), 3, 2),
        err_msg(NNSpecRuntimeError, rnd(1, 3, 4, 4, 4).astype(np.float16), 2, 2),
        err_msg(ShapeError, rnd(1, 2, 2, 8, 8), 2, 3), err_msg(NNSpecRuntimeError, rnd(1, 2, 8, 8, 8), 2, (3, 2)),
    ],
    "fractional_max_pool2d": [
        c(rnd(2, 3, 9, 9), 2, 4, _random_samples=s2), c(ties(2, 3, 7, 6), (2, 3), (4, 3), None, True, s2),
        c(rnd(3, 11, 9), 3, (6, 5), return_indices=True, _random_samples=s2[:1]),
        c(rnd(2, 3, 9, 12).astype(np.float64), 2, output_ratio=(0.6, 0.4), _random_samples=s2.astype(np.float64)),
        c(rnd(2, 3, 9, 9).astype(np.float16), 2, 4, _random_samples=s2.astype(np.float16)),
        c(rnd(1, 3, 9, 9), 2, 4, _random_samples=uniform(3, 3, 2)), c(rnd(2, 3, 9, 9), 2, 0, _random_samples=s2),
        c(rnd(2, 3, 9, 9), 1, 9, _random_samples=s2), c(rnd(0, 3, 9, 9), 2, 4, _random_samples=s2),
        checked(_fractional_check(2, 3, x := rnd(2, 4, 13, 14), False), x, 3, (5, 6)),
        checked(_fractional_check(2, 2, x := rnd(3, 12, 10), True), x, 2, output_ratio=(0.5, 0.5),
                return_indices=True),
        err_msg(ShapeError, rnd(3, 9, 9), 2, 4, _random_samples=uniform(3, 2)),
        err_msg(ShapeError, rnd(2, 3, 9, 9), 2, 4, _random_samples=s2[:1]),
        err_msg(ShapeError, rnd(2, 3, 9, 9), 2, 4, _random_samples=uniform(2, 2, 2)),
        err_msg(ShapeError, rnd(2, 3, 9, 9), 2, 4, _random_samples=s3),
        err_msg(NNSpecRuntimeError, rnd(2, 3, 9, 9), 2, 4, _random_samples=s2.astype(np.float64)),
        err_msg(ShapeError, rnd(2, 3, 9, 9), 3, 8, _random_samples=s2),
        err_msg(ShapeError, rnd(2, 3, 9, 9), 3, (4, 8), _random_samples=s2),
        err_msg(ShapeError, rnd(1, 2, 3, 9, 9), 2, 3), err_msg(ShapeError, rnd(9, 9), 2, 3),
        err_msg(ShapeError, rnd(1, 0, 9, 9), 2, 3), err_msg(ShapeError, rnd(1, 3, 0, 9), 2, 3),
        err_msg(NNSpecRuntimeError, rnd(1, 1, 9, 9), 2, output_ratio=0.5),
        err_msg(NNSpecRuntimeError, rnd(1, 1, 9, 9), 2, output_ratio=(0.5, 0.5, 0.5)),
        err_msg(NNSpecRuntimeError, rnd(1, 1, 9, 9), 2),
        err_msg(NNSpecRuntimeError, rnd(1, 1, 9, 9), (2, 2, 2), 3),
        err_msg(NNSpecRuntimeError, rnd(1, 1, 9, 9), 2, (3, 3, 3)),
        err_msg(ShapeError, rnd(2, 3, 9, 9), 3, -1, _random_samples=s2),
        err(NNSpecRuntimeError, ints(*range(81)).reshape(1, 1, 9, 9), 2, 3),
    ],
    "fractional_max_pool2d_with_indices": [c(rnd(2, 3, 9, 9), 2, 4, _random_samples=s2),
                                           c(ties(3, 7, 6), (2, 3), (4, 3), None, False, s2[:1])],
    "fractional_max_pool3d": [
        c(rnd(2, 3, 5, 5, 5), 2, output_ratio=0.5, _random_samples=s3),
        c(ties(2, 3, 16, 7, 5), (4, 2, 3), (10, 3, 2), None, True, s3),
        c(rnd(3, 7, 7, 7), 2, 3, return_indices=True, _random_samples=s3),
        c(rnd(2, 3, 6, 5, 7).astype(np.float64), (2, 1, 2), output_ratio=(0.5, 0.6, 0.7),
          _random_samples=s3.astype(np.float64)),
        c(rnd(2, 3, 6, 5, 7).astype(np.float16), 2, 3, _random_samples=s3.astype(np.float16)),
        checked(_fractional_check(3, 2, x := rnd(1, 3, 8, 9, 10), True), x, 2, output_ratio=(0.5, 0.6, 0.7),
                return_indices=True),
        err_msg(ShapeError, rnd(2, 3, 9, 9, 9), 2, 4, _random_samples=s2),
        err_msg(ShapeError, rnd(2, 3, 9, 9, 9), 2, 4, _random_samples=s3[:1]),
        err_msg(ShapeError, rnd(2, 3, 9, 9, 9), 3, 8, _random_samples=s3),
        err_msg(ShapeError, rnd(2, 3, 9, 9, 9), 3, (7, 7, 7), _random_samples=s3),
        err_msg(ShapeError, rnd(2, 3, 9, 3, 2), (1, 3, 2), (2, 4, 4), _random_samples=s3),  # the width first
        err_msg(ShapeError, rnd(1, 2, 3, 9, 9, 9), 2, 3), err_msg(ShapeError, rnd(1, 0, 9, 9, 9), 2, 3),
        err_msg(NNSpecRuntimeError, rnd(1, 3, 9, 9, 9), 2, 3, _random_samples=s3[:1].astype(np.float64)),
        err_msg(NNSpecRuntimeError, rnd(1, 1, 9, 9, 9), 2),
    ],
    "fractional_max_pool3d_with_indices": [c(rnd(2, 3, 5, 5, 5), 2, output_ratio=0.5, _random_samples=s3)],
    "max_unpool1d": [
        c(*mp1, 2), c(*mp1, 2, output_size=[9]), c(*mp1, 2, 2, 0, [2, 3, 9]), c(mp1[0][0], mp1[1][0], 2),
        c(*pooled(1, (2, 3, 10), 3, 2, 1), 3, 2, 1, [10]), c(mp1[0].astype(np.float64), mp1[1], 2),
        c(mp1[0].astype(np.float16), mp1[1], 2), c(rnd(0, 3, 4), np.zeros((0, 3, 4), np.int64), 2),
        err_msg(ShapeError, rnd(4), np.zeros(4, np.int64), 2),
        err_msg(ShapeError, rnd(1, 2, 3, 4), np.zeros((1, 2, 3, 4), np.int64), 2),
        err_msg(NNSpecRuntimeError, rnd(2, 3, 4), np.zeros((2, 3, 4), np.int32), 2),
        err_msg(ShapeError, rnd(2, 3, 4), np.zeros((2, 3, 5), np.int64), 2),
        err_msg(NNSpecRuntimeError, rnd(2, 3, 4), np.full((2, 3, 4), 8), 2),
        err_msg(NNSpecRuntimeError, rnd(2, 3, 4), np.full((2, 3, 4), -1), 2),
        err_msg(ShapeError, *mp1, 2, output_size=[10]), err_msg(NNSpecRuntimeError, *mp1, 2, output_size=[10, 3]),
        err_msg(ShapeError, rnd(2, 0, 4), np.zeros((2, 0, 4), np.int64), 2),
        err_msg(ShapeError, rnd(2, 3, 1), np.zeros((2, 3, 1), np.int64), 2, 2, 5),
        err_msg(NNSpecRuntimeError, np.ones((2, 3, 4), np.int64), np.zeros((2, 3, 4), np.int64), 2),
    ],
    "max_unpool2d": [
        c(*mp2, 3, 2, 1, (7, 6)), c(*mp2, 3, 2, 1, output_size=[2, 3, 7, 6]), c(mp2[0][1], mp2[1][1], 3, 2, 1, (7, 6)),
        c(mp2[0].astype(np.float64), mp2[1], (3, 3), (2, 2), (1, 1), (7, 6)),
        c(mp2[0].astype(np.float16), mp2[1], 3, 2, 1, (7, 6)), c(*pooled(2, (2, 3, 6, 8)), 2),
        err_msg(ShapeError, rnd(4, 4), np.zeros((4, 4), np.int64), 2),
        err_msg(NNSpecRuntimeError, rnd(2, 3, 4, 4), np.zeros((2, 3, 4, 4), np.int32), 2),
        err_msg(ShapeError, rnd(2, 3, 4, 4), np.zeros((2, 3, 4, 5), np.int64), 2),
        err_msg(NNSpecRuntimeError, rnd(2, 3, 4, 4), np.full((2, 3, 4, 4), 64), 2),
        err_msg(ShapeError, rnd(2, 3, 4, 4), np.zeros((2, 3, 4, 4), np.int64), 2, output_size=(10, 8)),
        err_msg(ShapeError, rnd(1, 1, 1, 1), np.zeros((1, 1, 1, 1), np.int64), 1, output_size=(0, 1)),
        err_msg(ShapeError, rnd(1, 1, 1, 1), np.zeros((1, 1, 1, 1), np.int64), 1, 1, 1),
        err_msg(ShapeError, rnd(2, 3, 0, 4), np.zeros((2, 3, 0, 4), np.int64), 2),
        err_msg(NNSpecRuntimeError, np.ones((2, 3, 2, 2), bool), np.zeros((2, 3, 2, 2), np.int64), 2),
    ],
    "max_unpool3d": [
        c(*mp3, 2), c(*mp3, 2, output_size=(5, 4, 5)), c(mp3[0][0], mp3[1][0], (2, 2, 2)),
        c(mp3[0].astype(np.float64), mp3[1], 2, 2, -1), c(mp3[0].astype(np.float16), mp3[1], 2),
        err_msg(ShapeError, rnd(2, 2, 2), np.zeros((2, 2, 2), np.int64), 2),
        err_msg(NNSpecRuntimeError, *mp3[:1], mp3[1].astype(np.int32), 2),
        err_msg(ShapeError, rnd(2, 3, 2, 2, 2), np.zeros((2, 3, 2, 2, 3), np.int64), 2),
        err_msg(NNSpecRuntimeError, rnd(2, 3, 2, 2, 2), np.full((2, 3, 2, 2, 2), 64), 2),
        err_msg(NNSpecRuntimeError, rnd(2, 3, 2, 2, 2), np.zeros((2, 3, 2, 2, 2), np.int64), 2, 0),
        err_msg(ShapeError, rnd(2, 3, 2, 2, 2), np.zeros((2, 3, 2, 2, 2), np.int64), 2, output_size=(9, 4, 4)),
        err_msg(ShapeError, rnd(2, 0, 2, 2, 2), np.zeros((2, 0, 2, 2, 2), np.int64), 2),
        err_msg(NNSpecRuntimeError, np.ones((2, 3, 2, 2, 2), np.int64), np.zeros((2, 3, 2, 2, 2), np.int64), 2),
    ],
}
