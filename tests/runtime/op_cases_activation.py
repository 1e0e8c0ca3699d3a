"""Registry parity cases of the activation family (merged by test_tensor_ops.py): activations and dropout variants."""

from __future__ import annotations

import math

import numpy as np

from nnspec.errors import NNSpecRuntimeError, ShapeError

from op_cases import DT, c, c_tol, checked, err, err_msg, ints, rnd

x23, x234, x4 = rnd(2, 3), rnd(2, 3, 4), rnd(4)
wide = rnd(3, 7) * 5  # reaches the breakpoints and tails
special = np.array([-np.inf, -30.0, -3.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 3.0, 30.0, np.inf, np.nan], np.float32)
scalar = np.array(-0.75, np.float32)
empty = np.zeros((0, 3), np.float32)
f64, f16 = wide.astype(np.float64), x23.astype(np.float16)
i23 = np.arange(-3, 3, dtype=np.int64).reshape(2, 3)
b23 = np.array([[True, False, True], [False, True, False]])
u8 = np.array([0, 1, 2, 250], np.uint8)
i8 = np.array([0, -1, 2, 100], np.int8)
pos = (np.abs(rnd(40, 64, 3)) + 0.5).astype(np.float32)  # no zeros: a zero in the output is a drop


def _rrelu_check(x, lower, upper):
    """Both outputs: x where x > 0, else x times a slope in [lower, upper], the slopes varying about their mean."""

    def check(got, want):
        for out in (got, want.numpy()):
            assert out.shape == x.shape and out.dtype == x.dtype
            p = x > 0
            np.testing.assert_array_equal(out[p], x[p])
            slope = out[~p] / x[~p]
            assert ((slope >= lower - 1e-6) & (slope <= upper + 1e-6)).all()
            assert abs(slope.mean() - (lower + upper) / 2) < 5 * (upper - lower) / math.sqrt(12 * slope.size)
            assert slope.std() > 0.5 * (upper - lower) / math.sqrt(12)

    return check


def _drop_check(x, p, unit_shape, alpha=False):
    """Both outputs: kept values scaled (alpha: a * x + alpha' a p; dropped ones alpha' a (p - 1)), each unit
    (reshaped by ``unit_shape``) dropped whole or kept whole, some of each."""
    s = 1.7580993408473766
    a = 1 / math.sqrt((s * s * p + 1) * (1 - p))

    def check(got, want):
        for out in (got, want.numpy()):
            assert out.shape == x.shape and out.dtype == x.dtype
            if alpha:
                kept = ~np.isclose(out, a * s * (p - 1), rtol=0, atol=1e-6)
                np.testing.assert_allclose(out[kept], a * x[kept] + s * a * p, rtol=1e-5, atol=1e-6)
            else:
                kept = out != 0
                np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-6)
            units = kept.reshape(unit_shape)
            assert (units.all(-1) | ~units.any(-1)).all()
            assert 0 < kept.mean() < 1

    return check


NN_CASES = {
    "gelu": [c(rnd(2, 5)), c(rnd(3, 4) * 4, approximate="tanh"), c(rnd(7).astype(np.float64)),
             c(rnd(2, 3).astype(np.float16), approximate="tanh"), # not +inf: torch 2.13 gives nan for it in its vectorised float32 kernel and inf for one element
             c(np.array([-np.inf, np.nan, 0.0, 1e30, -1e30], np.float32)),
             err(NNSpecRuntimeError, rnd(3), approximate="exact"),
             err(NNSpecRuntimeError, np.arange(3))],
    "elu": [c(wide), c(wide, 2.0), c(wide, alpha=0.5), c(wide, -1.0), c(wide * 1, 2.0, True), c(special), c(scalar),
            c(f64, 1.5), c_tol(1e-2, f16 * 3, 0.5), c(empty), c(wide, 0), c(wide, True), c(wide, 2**63 - 1),
            c_tol(1e-2, f16, 1e5),  # alpha is converted to float (opmath), not to float16
            err(NNSpecRuntimeError, i23), err(NNSpecRuntimeError, b23), err_msg(NNSpecRuntimeError, wide, 1e40),
            err_msg(NNSpecRuntimeError, wide, 2**64), err(NNSpecRuntimeError, wide, "a"),
            err(NNSpecRuntimeError, wide, None)],
    "elu_": [c(wide * 1), c(wide * 1, 2.0), c(wide * 1, 1.0, 2.0, 0.5), c(wide * 1, alpha=0.5, scale=3, input_scale=2),
             c(special * 1), c(f64 * 1, 0.3), c_tol(1e-2, f16 * 3), err(NNSpecRuntimeError, i23),
             err_msg(NNSpecRuntimeError, wide * 1, 1.0, 1e40)],
    "selu": [c(wide), c(wide * 1, True), c(wide * 1, inplace=True), c(special), c(scalar), c(f64), c_tol(1e-2, f16 * 3),
             err(NNSpecRuntimeError, i23)],
    "selu_": [c(wide * 1), c(special * 1), c(f64 * 1), err(NNSpecRuntimeError, i23)],
    "celu": [c(wide), c(wide, 2.0), c(wide * 1, 0.5, True), c(wide, alpha=-1.0), c(special, 3.0), c(scalar, 2.0),
             c(f64, 0.7), c_tol(1e-2, f16 * 3, 2.0), c(wide, 2), err_msg(NNSpecRuntimeError, wide, 0.0),
             err_msg(NNSpecRuntimeError, wide, 1e-40), err(NNSpecRuntimeError, i23),
             err_msg(NNSpecRuntimeError, i23, 0)],
    "celu_": [c(wide * 1), c(wide * 1, 2.0), c(wide * 1, alpha=0.5), err_msg(NNSpecRuntimeError, wide * 1, 0)],
    "glu": [c(rnd(5, 6)), c(rnd(5, 6, 7), 1), c(rnd(4, 3), dim=0), c(rnd(4, 3), -2), c(rnd(4)), c(f64[:, :6]),
            c_tol(1e-2, rnd(2, 4).astype(np.float16)), c(np.zeros((0, 4), np.float32), 0),
            c(np.zeros((2, 0), np.float32)), c(np.array([[np.inf, -np.inf, np.nan, 30.0]], np.float32)),
            err_msg(ShapeError, rnd(3, 5)), err_msg(ShapeError, rnd(3, 4), 0), err_msg(ShapeError, rnd(3, 4), 2),
            err_msg(ShapeError, rnd(3, 4), -3), err_msg(ShapeError, scalar), err(NNSpecRuntimeError, rnd(2, 4), 1.0),
            err(NNSpecRuntimeError, rnd(2, 4), True), err(NNSpecRuntimeError, np.arange(4))],
    "hardshrink": [c(wide), c(wide, 2.0), c(wide, lambd=0.0), c(wide, -1.0), c(wide, 2), c(special), c(special, np.nan),
                   c(scalar, 0.5), c(f64, 1.0), c_tol(1e-2, f16 * 3, 0.3), c(empty),
                   err_msg(NNSpecRuntimeError, f16, 1e5), err_msg(NNSpecRuntimeError, wide, 1e39),
                   err(NNSpecRuntimeError, i23)],
    "softshrink": [c(wide), c(wide, 1.0), c(wide, lambd=0.0), c(wide, 2), c(special), c(scalar, 1.0), c(f64, 0.3),
                   c_tol(1e-2, f16 * 3, 0.3), c(empty), err_msg(NNSpecRuntimeError, wide, -1.0),
                   err_msg(NNSpecRuntimeError, f64, -0.5), err_msg(NNSpecRuntimeError, f16, 1e5),
                   err_msg(NNSpecRuntimeError, wide, 1e40), err_msg(NNSpecRuntimeError, wide, np.inf),
                   err_msg(NNSpecRuntimeError, wide, np.nan), err(NNSpecRuntimeError, i23)],
    "hardsigmoid": [c(wide), c(wide * 1, True), c(wide * 1, inplace=True), c(special), c(scalar), c(f64),
                    c_tol(1e-2, f16 * 5), c(np.array([-3.0, 3.0, -2.9999, 2.9999], np.float32)),
                    err(NNSpecRuntimeError, i23)],
    "hardswish": [c(wide), c(wide * 1, True), c(wide * 1, inplace=True), c(special), c(scalar), c(f64),
                  c_tol(1e-2, f16 * 5), c(np.array([-3.0, 3.0, -2.9999, 2.9999], np.float32)),
                  err(NNSpecRuntimeError, i23), err(NNSpecRuntimeError, b23)],
    "logsigmoid": [c(wide * 10), c(special), c(scalar), c(f64 * 20), c_tol(1e-2, f16 * 3), c(empty),
                   err(NNSpecRuntimeError, i23)],
    "mish": [c(wide * 4), c(wide * 1, True), c(wide * 1, inplace=True), c(special), c(scalar), c(f64 * 10),
             c_tol(1e-2, f16 * 3), err(NNSpecRuntimeError, i23)],
    "silu": [c(wide * 4), c(wide * 1, True), c(wide * 1, inplace=True), c(special), c(scalar), c(f64 * 10),
             c_tol(1e-2, f16 * 3), err(NNSpecRuntimeError, i23)],
    "softplus": [c(wide * 10), c(wide, 2), c(wide, 2, -100), c(wide, beta=0.5, threshold=1.0), c(wide, -1.0),
                 c(special), c(special, 0.0), c(special, 2, -1), c(special, np.inf), c(scalar, 3.0), c(f64 * 10, 0.5),
                 c_tol(1e-2, f16 * 3), c_tol(1e-2, f16 * 3, 1e5), c(wide, 2**63),
                 err_msg(NNSpecRuntimeError, wide, 1e40), err_msg(NNSpecRuntimeError, wide, 1, 1e40),
                 err(NNSpecRuntimeError, i23), err(NNSpecRuntimeError, wide, beta=None)],
    "softsign": [c(wide), c(special), c(scalar), c(f64), c_tol(1e-2, f16 * 3), c(i23), c(u8), c(empty),
                 err_msg(NNSpecRuntimeError, b23)],
    "tanhshrink": [c(wide), c(special), c(scalar), c(f64), c_tol(1e-2, f16 * 3), c(i23), c(u8),
                   err_msg(NNSpecRuntimeError, b23)],
    "threshold": [c(wide, 0.1, 20.0), c(wide, -1.0, value=-2), c(wide, threshold=2.0, value=1.0),
                  c(wide * 1, 0.5, 3.0, True), c(special, 0.0, 7.0), c(special, 0.0, np.nan), c(special, np.nan, 1.0),
                  c(scalar, 0.0, 2.0), c(f64, 0.3, -0.3), c_tol(1e-2, f16 * 3, 0.5, 2.0),
                  c_tol(1e-2, f16, 1e5, 1.0),  # threshold is converted to float (opmath), value to float16
                  c(i23, 0, 7), c(i23, 0.5, 2.5), c(i23, -1.5, 2.5), c(u8, 1, -1), c(u8, -1, 3), c(u8, 1.5, 3.7),
                  c(i8, 1, -128), c(i23, True, False), c(i23, 2**63 - 1, 2),
                  err_msg(NNSpecRuntimeError, f16, 1, 1e5), err_msg(NNSpecRuntimeError, wide, 1e40, 1),
                  err_msg(NNSpecRuntimeError, i8, 200, 3), err_msg(NNSpecRuntimeError, i8, 1, -129),
                  err_msg(NNSpecRuntimeError, i8, 1.5, -128.5), err_msg(NNSpecRuntimeError, i23, 2**63, 3),
                  err_msg(NNSpecRuntimeError, i23, 1e30, 3), err_msg(NNSpecRuntimeError, u8, 1, 300),
                  err_msg(NNSpecRuntimeError, i23.astype(np.int32), np.nan, 3),
                  err_msg(NNSpecRuntimeError, i23.astype(np.int32), 1, np.inf), err_msg(NNSpecRuntimeError, b23, 0, 1),
                  err(NNSpecRuntimeError, wide, "a", 1)],
    "threshold_": [c(wide * 1, 0.1, 20.0), c(wide * 1, threshold=-0.5, value=0.0), c(i23 * 1, 0, 9),
                   c(f64 * 1, 0.0, -1.0), err_msg(NNSpecRuntimeError, b23, 0, 1)],
    "rrelu": [c(wide), c(wide, 0.1, 0.3), c(wide, lower=0.2, upper=0.2), c(wide * 1, 0.1, 0.3, False, True),
              c(special, 0.1, 0.5), c(scalar), c(f64, 0.0, 1.0), c_tol(1e-2, f16 * 3), c(wide, -1e40, 1e40),
              c(wide, 3e38, 3.4e38),
              checked(_rrelu_check(pos - 1, 0.1, 0.3), pos - 1, 0.1, 0.3, True),
              checked(_rrelu_check(pos - 1, 0.125, 1 / 3), pos - 1, training=True),
              c(np.array(3.0, np.float32), training=True), c(empty, training=True),
              err_msg(NNSpecRuntimeError, wide, 0.5, 0.1), err_msg(NNSpecRuntimeError, wide, 0.5, 0.1, True),
              err_msg(NNSpecRuntimeError, i23, 0.5, 0.1), err(NNSpecRuntimeError, i23),
              err(NNSpecRuntimeError, i23, training=True), err_msg(NNSpecRuntimeError, f16, training=True),
              err_msg(NNSpecRuntimeError, wide, 1e39, 1e39), err_msg(NNSpecRuntimeError, wide, -1e40, 1e40, True),
              err_msg(NNSpecRuntimeError, wide, 2**63, 2**64), err(NNSpecRuntimeError, wide, "a")],
    "rrelu_": [c(wide * 1), c(wide * 1, 0.2, 0.4), c(wide * 1, upper=0.25), c(f64 * 1, 0.1, 0.3, False),
               checked(_rrelu_check(pos - 1, 0.1, 0.3), (pos - 1) * 1, 0.1, 0.3, True),
               err_msg(NNSpecRuntimeError, wide * 1, 0.5, 0.1)],
    "softmin": [c(x234, 1), c(x234, -1), c(x234), c(x23), c(x4), c(scalar, 0), c(x23, dim=0), c(special, 0),
                c(x23, 1, dtype=None), c(f64, 1), c_tol(1e-2, f16, 1), c(empty, 1), c(i23, 1, 3, DT("float32")),
                err_msg(ShapeError, x23, 2), err_msg(ShapeError, x234, -4), err(NNSpecRuntimeError, i23, 0),
                err_msg(NNSpecRuntimeError, b23, 0)],
    "relu_": [c(x23 * 1), c(i23 * 1), c(special * 1), c(f64 * 1)],
    "hardtanh_": [c(wide * 1), c(wide * 1, -2.0, 0.5), c(wide * 1, min_val=0.0, max_val=6.0), c(i23 * 1, 0, 2),
                  c(i23 * 1, -1.5, 1.7), c(u8 * 1, 1, 3), c(wide * 1, 1.0, -1.0),  # (F.hardtanh refuses min > max)
                  c(special * 1), err_msg(NNSpecRuntimeError, f16 * 1, -1e5, 1),
                  err_msg(NNSpecRuntimeError, b23.copy())],
    "leaky_relu_": [c(wide * 1), c(wide * 1, 0.2), c(wide * 1, negative_slope=-0.5), c(f64 * 1, 0.1),
                    err(NNSpecRuntimeError, i23 * 1)],
    # --- dropout variants
    "dropout1d": [c(pos, 0.5, False), c(pos[0], training=False), c(pos, 0.0), c(pos, 1.0), c(pos[0], p=1.0),
                  c(np.zeros((0, 3, 4), np.float32)), c(i23, 0.5, False), c(i23, 1.0),
                  checked(_drop_check(pos, 0.5, (40 * 64, -1)), pos),
                  checked(_drop_check(pos[0], 0.3, (64, -1)), pos[0], 0.3),
                  checked(_drop_check(pos, 0.25, (40 * 64, -1)), pos * 1, 0.25, True, True),
                  err_msg(ShapeError, x4), err_msg(ShapeError, x4, 0.5, False), err_msg(ShapeError, rnd(2, 3, 4, 5)),
                  err_msg(NNSpecRuntimeError, pos, 1.5), err_msg(NNSpecRuntimeError, pos, -0.1, False),
                  err_msg(NNSpecRuntimeError, i23, 0.5), err_msg(NNSpecRuntimeError, i23.astype(np.int32), 0.5),
                  err_msg(NNSpecRuntimeError, b23, 0.5)],
    "dropout3d": [c(rnd(2, 3, 2, 2, 2), 0.5, False), c(x4, training=False), c(scalar, 0.5, False), c(scalar, 1.0),
                  c(rnd(2, 3, 2, 2, 2), 1.0), c(rnd(2, 3, 2, 2, 2), 0.0),
                  checked(_drop_check(pos.reshape(40, 64, 3, 1, 1), 0.5, (40 * 64, -1)), pos.reshape(40, 64, 3, 1, 1)),
                  checked(_drop_check(pos.reshape(40, 64, 3, 1), 0.5, (40, -1)), pos.reshape(40, 64, 3, 1)),
                  checked(_drop_check(pos, 0.4, (40, -1)), pos, 0.4),  # 3-d: torch takes dim 0 as the channels
                  checked(_drop_check(pos[0].ravel(), 0.4, (-1, 1)), pos[0].ravel(), 0.4),  # 1-d: per element
                  err_msg(ShapeError, scalar, 0.5), err_msg(NNSpecRuntimeError, rnd(2, 3, 2, 2, 2), 2.0),
                  err(NNSpecRuntimeError, ints(1, 2, 3, 4).reshape(1, 1, 1, 1, 4), 0.5)],
    "alpha_dropout": [c(wide), c(wide, 0.5, False), c(wide, training=True, p=0.0), c(wide, 1.0, True),
                      c(i23, 0.5), c(i23, 1.0, True), c(scalar, 0.5), c(empty, 0.5, True),
                      checked(_drop_check(pos, 0.5, (-1, 1), alpha=True), pos, 0.5, True),
                      checked(_drop_check(pos, 0.2, (-1, 1), alpha=True), pos * 1, 0.2, True, True),
                      checked(_drop_check(pos[0].ravel(), 0.2, (-1, 1), alpha=True), pos[0].ravel(), 0.2,
                              training=True),
                      err_msg(NNSpecRuntimeError, wide, 1.5), err_msg(NNSpecRuntimeError, i23, 0.5, True),
                      err_msg(NNSpecRuntimeError, b23, 0.5, True)],
    "feature_alpha_dropout": [c(wide), c(x4, 0.5, False), c(x4, 1.0, True), c(np.zeros((0, 3), np.float32), 0.5, True),
                              c(i23, 0.5), c(scalar, 0.0, True),
                              checked(_drop_check(pos, 0.5, (40 * 64, -1), alpha=True), pos, 0.5, True),
                              checked(_drop_check(pos, 0.3, (40 * 64, -1), alpha=True), pos * 1, 0.3, True, True),
                              err_msg(ShapeError, x4, 0.5, True),
                              err_msg(NNSpecRuntimeError, u8.reshape(2, 2), 0.5, True),
                              err_msg(NNSpecRuntimeError, wide, -1.0)],
}
