"""Registry parity cases of the tensor family (torch functions, Tensor methods, operators, and Python's math and
builtins on run-time values): each compared with live torch (or Python) by tests/runtime/test_tensor_ops.py."""

from __future__ import annotations

import numpy as np

from nnspec.errors import NNSpecRuntimeError, ShapeError
from op_cases import DT, P, c, c_tol, checked, err, err_msg, ints, rnd

x23, y23, x3, x4 = rnd(2, 3), rnd(2, 3), rnd(3), rnd(4)
x234, y234 = rnd(2, 3, 4), rnd(2, 3, 4)
x34 = rnd(3, 4)
i23 = np.arange(-3, 3, dtype=np.int64).reshape(2, 3)
i3 = ints(1, -2, 3)
b23 = np.array([[True, False, True], [False, False, True]])
b3 = np.array([True, False, True])
u8 = np.array([3, 0, 250], np.uint8)
h23 = x23.astype(np.float16)
d23 = x23.astype(np.float64)
s0 = np.array(1.5, np.float32)
si = np.array(2, np.int64)
e03 = np.zeros((0, 3), np.float32)
special = np.array([-np.inf, -2.5, -1.0, -0.5, 0.0, 0.5, 1.5, 2.5, np.inf, np.nan], np.float32)
pos = np.abs(x23) + 0.1
unit = np.tanh(x23) * 0.9  # in (-1, 1): asin, acos
sq = rnd(3, 3)
idx = ints(2, 0, 2)
gidx = np.array([[0, 2], [1, 1]], np.int64)
# float16 against a float32 number or 0-d tensor: torch rounds it to float16 first (h == 0.1 holds where h is
# half(0.1)), except mul's and div's scalar second operand, read unrounded
hq = np.array([0.1, 1 / 3, 100.1, 2000.3], np.float16)
h64 = np.linspace(-300, 300, 64).astype(np.float16)


def _random(low: float, high: float, normal: bool):
    """A random op's result: torch's shape and dtype, values of the right distribution (not torch's numbers)."""

    def check(got, want):
        w = want.numpy()
        assert got.shape == w.shape and got.dtype == w.dtype
        if normal:
            assert got.size < 100 or (abs(float(got.mean())) < 0.3 and 0.7 < float(got.std()) < 1.3)
        else:
            assert ((got >= low) & (got < high)).all()

    return check


def _shape_dtype(got, want):
    """torch.empty's values are whatever memory held: only the shape and dtype are compared."""
    assert got.shape == tuple(want.shape) and str(got.dtype) == str(want.dtype).removeprefix("torch.")


# --------------------------------------------------------------------------- ops under both torch.<name> and Tensor.<name>

BOTH = {
    # creation from a tensor
    "tril": [c(x34), c(x34, 1), c(x34, diagonal=-1), c(rnd(2, 3, 3)), c(b23), err_msg(ShapeError, x3)],
    "triu": [c(x34), c(x34, -1), c(rnd(2, 3, 3), diagonal=2), c(i23), err_msg(ShapeError, s0)],
    # elementwise: floating-point functions (integer and bool inputs give float32)
    "exp": [c(x23), c(i23), c(b23), c(special), c_tol(1e-3, h23), c(d23), c(s0)],
    "exp2": [c(x23), c(i23), c_tol(1e-3, h23)],
    "expm1": [c(x23 * 1e-3), c(i23), c(special)],
    "log": [c(pos), c(i23), c(special), c_tol(1e-3, np.abs(h23) + 0.5)],
    "log2": [c(pos), c(u8)],
    "log10": [c(pos), c(i23)],
    "log1p": [c(pos * 1e-4), c(i23), c(special)],
    "sqrt": [c(pos), c(i23), c(special), c_tol(1e-3, np.abs(h23))],
    "rsqrt": [c(pos), c(i23), c(special)],
    "sin": [c(x23), c(i23), c_tol(1e-3, h23)],
    "cos": [c(x23), c(b23)],
    "tan": [c(unit)],
    "asin": [c(unit), c(special)],
    "acos": [c(unit)],
    "atan": [c(x23 * 3), c(i23)],
    "sinh": [c(x23)],
    "cosh": [c(x23), c(i23)],
    "erf": [c(x23 * 2), c(i23), c(special), c_tol(1e-3, h23), c(d23)],
    "erfc": [c(x23 * 2), c(special)],
    "reciprocal": [c(pos), c(i23), c(b23), c_tol(1e-3, h23 + np.float16(3))],
    # elementwise: the input's dtype kept
    "abs": [c(x23), c(i23), c(u8), c(special), c_tol(1e-3, h23), err_msg(NNSpecRuntimeError, b23)],
    "neg": [c(x23), c(i23), c(s0), err_msg(NNSpecRuntimeError, b23)],
    "sign": [c(x23), c(i23), c(b23), c(u8), c(special), c_tol(1e-3, h23)],
    "floor": [c(x23 * 3), c(i23), c(special), c_tol(1e-3, h23 * 3), err_msg(NNSpecRuntimeError, b23)],
    "ceil": [c(x23 * 3), c(i23), c(special), err_msg(NNSpecRuntimeError, b23)],
    "trunc": [c(x23 * 3), c(i23), c(special), err_msg(NNSpecRuntimeError, b23)],
    "frac": [c(x23 * 3), c(special), err_msg(NNSpecRuntimeError, i23), err_msg(NNSpecRuntimeError, b23)],
    "round": [c(special), c(np.array([0.5, 1.5, 2.5, -0.5, -1.5], np.float32)), c(i23), c(x23 * 10, decimals=1),
              c(x23 * 100, decimals=-1), c_tol(1e-2, h23 * 3, decimals=1), err_msg(NNSpecRuntimeError, b23),
              err_msg(NNSpecRuntimeError, i23, decimals=1)],
    "square": [c(x23), c(i23), c(b23), c(u8), c_tol(1e-3, h23)],
    "pow": [c(x23, 2), c(pos, 0.5), c(i23, 2), c(x23, i23), c(b23, 2), c(pos, x23), c(x23, 3.0), c(x23, 3),
            c(pos, -2), c(pos, -0.5), c(x23.astype(np.float64), 3.0), c(h23, 3.0),
            err_msg(NNSpecRuntimeError, i23, -1)],
    "positive": [c(x23), c(i23), err_msg(NNSpecRuntimeError, b23)],
    "isnan": [c(special), c(i23), c(b23), c(h23)],
    "isinf": [c(special), c(i23)],
    "isfinite": [c(special), c(i23), c(b23)],
    "nan_to_num": [c(special), c(special, 1.5, 2.0, -2.0), c(special, nan=0.5), c(special, posinf=1e40), c(i23),
                   c(b23), c_tol(1e-3, special.astype(np.float16)), c(special.astype(np.float64), neginf=-7)],
    # comparisons, logical and bitwise
    "eq": [c(x23, y23), c(x23, x23), c(i23, 1), c(i23, 1.5), c(b23, True), c(x23, x3), c(i23, x23 * 0 + 1),
           c(special, special), err_msg(ShapeError, x23, x4)],
    "ne": [c(x23, y23), c(b23, 0), c(special, special)],
    "lt": [c(x23, y23), c(i23, 0.5), c(b23, 1), c(h23, 0)],
    "le": [c(x23, 0), c(i23, i3)],
    "gt": [c(x23, y23), c(i23, True), c(u8, 2)],
    "ge": [c(x23, x3), c(h23, 1), err_msg(ShapeError, x23, rnd(2))],
    "logical_and": [c(b23, b3), c(i23, x23), c(x23, np.array(0.0, np.float32)), err(NNSpecRuntimeError, b23, 1)],
    "logical_or": [c(b23, b23), c(i23, b23)],
    "logical_xor": [c(b23, i23), err(NNSpecRuntimeError, b23, 1)],
    "logical_not": [c(b23), c(i23), c(special)],
    "bitwise_and": [c(b23, b23), c(i23, 3), c(b23, 1), c(u8, ints(1, 2, 3)), err_msg(NNSpecRuntimeError, x23, 1),
                    err_msg(NNSpecRuntimeError, i23, x23)],
    "bitwise_or": [c(b23, b3), c(i23, i3), c(i23.astype(np.int32), 3)],
    "bitwise_xor": [c(b23, True), c(i23, 5)],
    "bitwise_not": [c(b23), c(i23), c(u8), err_msg(NNSpecRuntimeError, x23)],
    "maximum": [c(x23, y23), c(i23, x23), c(b23, b23), c(special, special[::-1].copy()),
                c(i23.astype(np.int32), si), err(NNSpecRuntimeError, x23, 1.0), err_msg(ShapeError, x23, x4)],
    "minimum": [c(x23, y23), c(b23, i23), c(x23, d23)],
    "atan2": [c(x23, y23), c(i23, i3), err(NNSpecRuntimeError, x23, 1.0)],
    "nonzero": [c(x23 > 0), c(i23), c(special), c(e03), c(s0)],
    "clamp": [c(x23, -0.5, 0.5), c(x23, min=0), c(x23, max=0.1), c(i23, 0, 1), c(i23, 0.5), c(b23, 0, 1),
              c(x23, 1, -1), c(x23, y23, y23 + 1), c(x23, max=x3), c(special, -1, 1), c(special, float("nan")),
              c(i23.astype(np.int32), ints(0), None), c_tol(1e-3, h23, 0.5), c(i23, min=1.0, max=si),
              err_msg(NNSpecRuntimeError, x23), err(NNSpecRuntimeError, x23, min=y23, max=0.1),
              err_msg(NNSpecRuntimeError, b23, min=True), err_msg(ShapeError, x23, min=x4), c(b23, min=b3),
              c(b23, None, np.array(False)), err_msg(NNSpecRuntimeError, b23, b3, ~b3)],
    "clip": [c(x23, -0.5, 0.5), c(i23, max=1)],
    "clamp_min": [c(x23, 0), c(i23, 0.5)],
    "clamp_max": [c(x23, 0), c(i23, y23)],
    "masked_fill": [c(x23, b23, 2.0), c(i23, b23, 2.5), c(x23, b3, float("-inf")), c(x23, b23, s0),
                    c(x23, np.array([[True], [False]]), 0), c(rnd(3), np.array([[True], [False]]), 0),
                    c(b23, b23, 5), c_tol(1e-3, h23, b23, float("-inf")), c(x23, b23, np.array(2, np.float64)),
                    err_msg(NNSpecRuntimeError, x23, i23, 2), err_msg(NNSpecRuntimeError, i23, b23, float("inf")),
                    err_msg(NNSpecRuntimeError, h23, b23, 1e10), err_msg(NNSpecRuntimeError, x23, b23, x3),
                    err_msg(ShapeError, x23, np.ones(4, bool), 1)],
    "lerp": [c(x23, y23, 0.3), c(x23, y23, 0.8), c(x23, y23, pos), c(x23, y23, np.array(0.5, np.float64)),
             c_tol(1e-3, h23, h23 * 2, 0.25), err_msg(NNSpecRuntimeError, x23, i23, 0.5),
             err_msg(NNSpecRuntimeError, i23, i23, 0.5), err_msg(ShapeError, x23, y23, x4),
             err(NNSpecRuntimeError, x23, 1.0, 0.5)],
    "addcmul": [c(x23, y23, x3), c(x23, y23, y23, value=0.5), c(i23, i23, i23, value=2), c(x23, i23, i23),
                c(i23, x23, x23), c_tol(1e-3, h23, x23, x23), err_msg(NNSpecRuntimeError, b23, b23, b23),
                c(x23, x23, np.array(d23[0, 0])), c(h23, h23, s0), c(i23.astype(np.int32), i23, si), c(i23, i23, s0),
                err_msg(ShapeError, x23, x23, x4)],
    # reductions
    "max": [c(x23), c(x23, 1), c(x23, dim=1, keepdim=True), c(x23, 0, True), c(x23, y23), c(b23), c(b23, 0),
            c(s0, 0), c(e03, 1), c(special), c(np.array([[1.0, np.nan, 3.0], [2.0, 2.0, 1.0]], np.float32), 1),
            c(i23, -1), err_msg(ShapeError, e03), err_msg(ShapeError, e03, 0), err_msg(ShapeError, x23, 2)],
    "min": [c(x23), c(x23, 1), c(x23, -1, True), c(x23, y23), c(i23, 0), err_msg(ShapeError, e03, 0)],
    "amax": [c(x23), c(x23, 1), c(x23, (0, 1)), c(x23, 1, True), c(e03, 1), c(b23, 0), c(special, 0),
             err_msg(ShapeError, e03, 0), err_msg(ShapeError, e03), err_msg(ShapeError, x23, (0, 0))],
    "amin": [c(x23), c(x234, (0, -1), True), c(i23, 0)],
    "aminmax": [c(x23), c(x23, dim=1), c(x23, dim=0, keepdim=True), c(i23)],
    "argmax": [c(x23), c(x23, 1), c(x23, keepdim=True), c(x23, 1, True), c(e03, 1), c(s0), c(s0, 0),
               c(np.array([1, 3, 3], np.int64)), c(np.array([[1.0, np.nan, 3.0]], np.float32), 1),
               err_msg(ShapeError, e03), err_msg(NNSpecRuntimeError, b23)],
    "argmin": [c(x23), c(x23, 0), c(i23, -1, True), err_msg(NNSpecRuntimeError, b23)],
    "var": [c(x23), c(x23, 1), c(x23, 1, True), c(x23, 1, False, True), c(x23, False), c(x23, unbiased=False),
            c(x23, correction=0), c(x23, dim=(0, 1), correction=2), c(x23, 1, correction=1.5), c(x23, None, keepdim=True),
            c(e03, 1), c(np.ones(1, np.float32)), c_tol(1e-2, h23, 1), c(d23, 0),
            err_msg(NNSpecRuntimeError, i23)],
    "std": [c(x23), c(x23, 1, keepdim=True), c(x234, (0, 2)), c(x23, unbiased=False), c(x23, 0, correction=0)],
    "norm": [c(x23), c(x23, 1), c(x23, dim=1), c(x23, float("inf"), 1), c(x23, -float("inf"), 1), c(x23, 0),
             c(x23, "fro", (0, 1)), c(x23, 3, 1, True), c(x23, -1), c(x23, dim=1, dtype=DT("float64")),
             c_tol(1e-2, h23), c(e03, dim=1), c(x23, 2.5, (0, 1)), c(x23, "fro", 1),
             err_msg(NNSpecRuntimeError, i23), err_msg(ShapeError, e03, float("inf"), 0),
             err_msg(ShapeError, e03, float("inf"))],
    "prod": [c(x23), c(x23, 1), c(i23), c(b23), c(x23, 1, True, dtype=DT("float64")), c(x23, dtype=DT("int64")), c(u8),
             c_tol(1e-2, h23, 1), c(s0, 0), err(NNSpecRuntimeError, x23, (0, 1))],
    "cumsum": [c(x23, 1), c(i23, 1), c(b23, 0), c(x23, dim=0, dtype=DT("float64")), c(s0, 0), c(u8, 0),
               c_tol(1e-2, h23, 1), err_msg(ShapeError, x23, 2)],
    "cumprod": [c(x23, 1), c(u8, 0), c(i23, -1)],
    "logsumexp": [c(x23, 1), c(x23, (0, 1)), c(i23, 1), c(b23, 0), c(x23, 1, keepdim=True),
                  c(np.array([np.inf, 1.0], np.float32), 0), c(np.array([-np.inf, -np.inf], np.float32), 0),
                  c(e03, 0), c(e03, 1), c(x23 * 100, 1), c_tol(1e-2, h23, 1)],
    "all": [c(x23), c(x23, 1), c(u8), c(u8, 0), c(b23, (0, 1)), c(b23, 0, True), c(e03, 0), c(i23, dim=None)],
    "any": [c(x23), c(x23, (0, 1)), c(b23, 0, True), c(u8), c(e03, 1)],
    "count_nonzero": [c(x23), c(i23, 1), c(b23, (0, 1)), c(b23, dim=0)],
    # shapes and products
    "chunk": [c(x23, 2, 1), c(x23, 4, 1), c(x23, 3, -1), c(x23, 5, 0), c(e03, 2), c(np.zeros(5, np.float32), 3),
              c(np.zeros(6, np.float32), 4), err_msg(NNSpecRuntimeError, x23, 0), err_msg(ShapeError, s0, 1)],
    "unbind": [c(x23, 1), c(x234, -1), c(x23), err_msg(ShapeError, s0), err_msg(ShapeError, x23, 2)],
    "broadcast_to": [c(x23, (2, 2, 3)), c(x23, (-1, 3)), c(rnd(2, 1), (2, 5)), c(s0, (2,)),
                     err_msg(ShapeError, x23, (3,)), err_msg(ShapeError, x23, (2, 4))],
    "repeat_interleave": [c(x23, 2), c(x23, 2, dim=1), c(x23, ints(1, 2), dim=0), c(x23, np.array(2), dim=0),
                          c(x23, ints(3), dim=1), c(s0, 3), err_msg(ShapeError, x23, ints(1, 2), dim=1),
                          err_msg(NNSpecRuntimeError, x23, -1), err_msg(NNSpecRuntimeError, x23, rnd(2), dim=0)],
    "roll": [c(x23, 1), c(x23, 1, 1), c(x23, (1, 2), (0, 1)), c(x23, -1, dims=1), c(e03, 1, 0), c(s0, 1),
             err_msg(NNSpecRuntimeError, x23, (1, 2), 0), err_msg(ShapeError, x23, 1, 2)],
    "narrow": [c(x23, 1, 1, 2), c(x23, 1, -1, 1), c(x23, 0, 0, 0), c(x23, 1, 3, 0), err_msg(ShapeError, x23, 1, 2, 2),
               err_msg(ShapeError, x23, 1, 4, 0), err_msg(ShapeError, x23, 1, -4, 1), err_msg(ShapeError, x23, 1, 0, -1),
               err_msg(ShapeError, s0, 0, 0, 1)],
    "select": [c(x23, 1, 2), c(x23, 1, -1), c(x234, -1, 0), err_msg(ShapeError, x23, 1, 3), err_msg(ShapeError, s0, 0, 0)],
    "gather": [c(x23, 1, gidx), c(x23, 0, gidx[:, :1].copy()), c(x23, 1, gidx.astype(np.int32)),
               c(x23, 1, np.zeros((2, 5), np.int64)), c(s0, 0, np.array(0)), c(x23, 1, np.zeros((0, 1), np.int64)),
               err_msg(ShapeError, x23, 1, ints(0)), err_msg(ShapeError, x23, 1, np.zeros((3, 1), np.int64)),
               err_msg(ShapeError, x23, 1, np.array([[5]])), err_msg(ShapeError, x23, 1, np.array([[-1]]))],
    "index_select": [c(x23, 1, idx), c(x23, 0, np.array(1)), c(x23, 0, ints(1).astype(np.int32)), c(s0, 0, ints(0)),
                     err_msg(ShapeError, x23, 0, np.array([[1]])), err_msg(NNSpecRuntimeError, x23, 0, rnd(1)),
                     err_msg(ShapeError, x23, 0, ints(2)), err_msg(ShapeError, x23, 0, ints(-1))],
    "scatter": [c(x23, 1, gidx, 9.0), c(x23, 1, gidx, y23[:, :2].copy()), c(x23, 1, gidx, y23),
                c(x23, 0, np.array([[1, 1]]), np.array([[1.0, 2.0]], np.float32)), c(i23, 1, gidx, 7),
                err_msg(NNSpecRuntimeError, x23, 1, gidx, d23), err_msg(ShapeError, x23, 1, np.array([[3]]), 1.0),
                err_msg(ShapeError, x23, 1, gidx, rnd(1, 1))],
    "movedim": [c(x23, 0, 1), c(x234, (0, 1), (2, 0)), c(x234, 0, -1), c(x234, 0, 0),
                err_msg(ShapeError, x234, (0, 0), (1, 2)), err_msg(ShapeError, x234, (0, 1), (1,))],
    "moveaxis": [c(x234, 0, 2), c(x234, [0, 1], [-1, -2])],
    "swapaxes": [c(x23, 0, 1), c(x234, -1, 0)],
    "swapdims": [c(x23, 1, 0), err_msg(ShapeError, x23, 0, 2)],
    "unflatten": [c(x234, 1, (3, 1)), c(x234, -1, (2, -1)), c(x234, 2, [2, 2]), err_msg(ShapeError, x234, 1, (2, 2)),
                  err_msg(ShapeError, x234, 1, ())],
    "bmm": [c(x234, y234.transpose(0, 2, 1).copy()), c(i23[None], i23.T[None].copy()),
            c_tol(1e-2, x234.astype(np.float16), y234.transpose(0, 2, 1).astype(np.float16)),
            err_msg(ShapeError, x234, y234), err_msg(ShapeError, x23, x23), err_msg(ShapeError, x234, rnd(3, 4, 2)),
            err_msg(NNSpecRuntimeError, x234, y234.transpose(0, 2, 1).astype(np.float64))],
    "baddbmm": [c(rnd(2, 3, 3), x234, y234.transpose(0, 2, 1).copy()),
                c(rnd(3), x234, y234.transpose(0, 2, 1).copy(), beta=0.5, alpha=2),
                c(np.full((1, 3, 3), np.nan, np.float32), x234, y234.transpose(0, 2, 1).copy(), beta=0),
                err_msg(ShapeError, rnd(2, 3, 4), x234, y234.transpose(0, 2, 1).copy()),
                err_msg(NNSpecRuntimeError, rnd(1, 3, 3).astype(np.float64), x234, y234.transpose(0, 2, 1).copy())],
    "addmm": [c(rnd(2, 2), x23, y23.T.copy()), c(rnd(2), x23, y23.T.copy(), beta=0.5, alpha=2), c(rnd(1, 2), x23, x34[:, :2].copy()),
              c(np.full((2, 2), np.nan, np.float32), x23, y23.T.copy(), beta=0),
              err_msg(ShapeError, rnd(3), x23, y23.T.copy()), err_msg(ShapeError, rnd(2, 2), x23, y23),
              err_msg(NNSpecRuntimeError, rnd(2, 2).astype(np.float64), x23, y23.T.copy()),
              err_msg(ShapeError, rnd(2, 2), x3, y23), err_msg(ShapeError, rnd(2, 2, 2), x23, y23.T.copy())],
    "sort": [c(x23), c(x23, 0, True), c(x23, dim=-1, descending=True, stable=True), c(b3, stable=True), c(s0),
             c(i23, stable=True), c(special), c(special, descending=True), c(np.array([2, 1, 2, 1, 3]), stable=True),
             c(np.array([2, 1, 2, 1, 3]), descending=True, stable=True), err_msg(ShapeError, x23, 2)],
    "argsort": [c(x23), c(x23, dim=0, descending=True), c(i23, stable=True), c(special)],
    "topk": [c(x23, 2), c(x23, 2, dim=0, largest=False), c(x23, 0), c(s0, 1), c(e03, 0), c(special, 3),
             c(special, 3, largest=False), err_msg(ShapeError, x23, 4), err_msg(ShapeError, x23, -1),
             err_msg(NNSpecRuntimeError, b3, 1)],
    "outer": [c(x3, x4), c(i3, x4), c(b3, b3), err_msg(ShapeError, x23, x3), err_msg(ShapeError, x3, x23)],
    "dot": [c(x3, x3), c(i3, i3), c_tol(1e-2, x3.astype(np.float16), x3.astype(np.float16)),
            err_msg(ShapeError, x3, x4), err_msg(NNSpecRuntimeError, x3, x3.astype(np.float64)),
            err_msg(ShapeError, x23, x23), err_msg(NNSpecRuntimeError, b3, b3)],
}

# --------------------------------------------------------------------------- torch.<name> only

TORCH_CASES = {
    **BOTH,
    "squeeze": [c(rnd(1, 3, 1)), c(rnd(1, 3, 1), 0), c(rnd(1, 3, 1), (0, 2))],
    "unsqueeze": [c(x23, 0), c(x23, -1), err_msg(ShapeError, x23, 3)],
    "numel": [c(x234), c(s0)],
    "t": [c(x23), c(x3), err_msg(ShapeError, x234)],
    "clone": [c(x23), c(i23)],
    "is_floating_point": [c(x23), c(i23), c(b23)],
    "split": [c(x23, 2, 1), c(x23, [1, 2], 1), c(x23, (2, 1), dim=1), c(x23, 5), c(np.zeros((0, 2), np.float32), 0),
              err_msg(ShapeError, x23, [1, 1], 1), err_msg(NNSpecRuntimeError, x23, 0, 1),
              err_msg(NNSpecRuntimeError, x23, -1), err_msg(ShapeError, s0, 1),
              err_msg(NNSpecRuntimeError, x23, [3, -1], 1)],
    "tile": [c(x23, (2,)), c(x23, (2, 1, 1)), c(x23, (0, 2)), c(s0, (3,)), err(NNSpecRuntimeError, x23, 2)],
    "flip": [c(x23, (0,)), c(x23, [0, 1]), c(x23, [1]), c(s0, (0,)), c(x23, []), err_msg(ShapeError, x23, (0, 0)),
             err_msg(ShapeError, x23, (2,)), err_msg(NNSpecRuntimeError, x23, 1)],
    "concat": [c([x23, y23], 1), c((x23, i23))],
    "concatenate": [c([x23, y23], 1), c([x23, y23], axis=1), c([x23, y23], dim=0)],
    "hstack": [c([x23, x23]), c([x3, x4]), c([s0, s0]), c((i23, x23))],
    "vstack": [c([x23, x23]), c([x3, x3]), c([s0, s0]), err_msg(ShapeError, [x3, x4])],
    "dstack": [c([x23, x23]), c([x3, x3])],
    "einsum": [c("ij,jk->ik", x23, x34), c("ij,jk", x23, x34), c("ij->", x23), c("ii", sq), c("ii->i", sq),
               c("...ij,...jk->...ik", x234, rnd(2, 4, 5)), c("bij,bjk", x234, rnd(2, 4, 5)), c("i,j->ij", x3, x4),
               c("ij,jk->ik", [x23, x34]), c("i j -> j i", x23), c("ij,jk->ik", i23, i23.T.copy()),
               c("...,...->...", x23, x3), c("bi,bi->b", x23, rnd(1, 3)), c("Ab,bC", x23, x34), c("ij...->...ji", x234),
               c("...ij->j", x234), c("bhqd,bhkd->bhqk", rnd(2, 2, 3, 4), rnd(2, 2, 5, 4)), c("ij,jk,kl->il", x23, x34, rnd(4, 2)),
               c_tol(1e-2, "ij,jk->ik", h23, x34.astype(np.float16)),
               err_msg(ShapeError, "ij,jk->ik", x23, x23), err_msg(NNSpecRuntimeError, "ij,jk->ik", x23),
               err_msg(ShapeError, "ij->ji", x234), err_msg(NNSpecRuntimeError, "ij->jj", x23),
               err_msg(NNSpecRuntimeError, "ij->k", x23), err_msg(NNSpecRuntimeError, "ij,jk->ik", x23, d23.T.copy()),
               err_msg(ShapeError, "i", x23), err_msg(NNSpecRuntimeError, "ij1", x23),
               err_msg(NNSpecRuntimeError, "i,j->ij", x3)],
    "where": [c(b23, x23, y23), c(b23, i23, x23), c(b3, 1, 0), c(b3, 1.0, i23), c(b23, h23, 2.0), c(b23, 1, 2.0),
              c(b23, True, False), c(b23, i23.astype(np.int32), 2), c(b23, i23.astype(np.int32), si), c(b23),
              err_msg(NNSpecRuntimeError, i23, x23, y23), err_msg(ShapeError, b3, x4, x3),
              err_msg(ShapeError, np.ones(3, bool), np.ones(2, np.float32), 1.0)],
    "var_mean": [c(x23, 1), c(x23), c(x23, (0, 1), keepdim=True), c(x23, 0, correction=0)],
    "std_mean": [c(x23), c(x23, 1, unbiased=False, keepdim=True)],
    # creation
    "ones": [c(2, 3), c((2, 3)), c([2, 3]), c(2, 3, dtype=DT("int64")), c(()), c(0, 3), c(size=(2,)),
             err_msg(ShapeError, -1), err(NNSpecRuntimeError, 2.0), err(NNSpecRuntimeError)],
    "zeros": [c(2, 3), c(4, dtype=DT("bool")), c((1, 2), dtype=DT("float64")), err(ShapeError, 2, -3)],
    "empty": [checked(_shape_dtype, 2, 3), checked(_shape_dtype, 0), checked(_shape_dtype, 3, dtype=DT("int32"))],
    "full": [c((2,), 1.5), c((2,), 1), c((2,), True), c((2,), 1, dtype=DT("float16")), c((2, 2), -1, dtype=DT("uint8")),
             c((2,), 2.7, dtype=DT("int32")), c((1,), 1e300, dtype=DT("float64")), c((1,), -1e300, dtype=DT("float16")),
             c((2,), s0), err(NNSpecRuntimeError, 2, 1.0), err_msg(NNSpecRuntimeError, (2,), 1e10, dtype=DT("float16")),
             err_msg(NNSpecRuntimeError, (2,), 1e40), err_msg(NNSpecRuntimeError, (2,), 300, dtype=DT("uint8")),
             err_msg(NNSpecRuntimeError, (2,), float("inf"), dtype=DT("int64")),
             err_msg(NNSpecRuntimeError, (2,), float("nan"), dtype=DT("int32")),
             err_msg(NNSpecRuntimeError, (1,), 2**63, dtype=DT("int64"))],
    "arange": [c(5), c(5.0), c(1, 5), c(0, 1, 0.25), c(0, 5, 2, dtype=DT("float32")), c(5, 0, -2), c(start=1, end=4),
               c(end=4), c(0, 10, 3.5), c(0, 1, 0.1), c(si), c(2.5, dtype=DT("int64")), c(0), c(-3, 3, 2),
               c(0, 7, 3, dtype=DT("float64")), c(1.5, 4), err_msg(NNSpecRuntimeError, 0, 5, 0),
               err_msg(NNSpecRuntimeError, 5, 0), err_msg(NNSpecRuntimeError, float("inf")),
               err_msg(NNSpecRuntimeError, -1, 0.5, 0.5, dtype=DT("int64"))],
    "linspace": [c(0, 1, 5), c(0, 1, 1), c(0, 1, 0), c(0, 10, 4, dtype=DT("int64")), c(-1, 3, steps=7), c(2.5, -1.5, 6),
                 c(0, 1, 5, dtype=DT("float64")), err_msg(NNSpecRuntimeError, 0, 1, -1)],
    "eye": [c(3), c(2, 3), c(2, dtype=DT("bool")), c(0), c(3, 1, dtype=DT("int64")), err_msg(NNSpecRuntimeError, -1)],
    "tensor": [c(3), c(3.0), c(True), c([1, 2.5]), c([True, 2]), c([[1, 2], [3, 4]], dtype=DT("float64")), c([]),
               c((1, 2)), c(float("inf")), c([[True, False]]), c(x23), c([[1, 2], [3, 4]]), c([1.5], dtype=DT("int64")),
               err(NNSpecRuntimeError, [[1, 2], [3]])],
    "ones_like": [c(x23), c(b23), c(x23, dtype=DT("int64"))],
    "zeros_like": [c(x23, dtype=DT("int64")), c(i23)],
    "empty_like": [checked(_shape_dtype, x23), checked(_shape_dtype, h23)],
    "full_like": [c(x23, 2), c(i23, 2.7), c(b23, 0), c(x23, 7, dtype=DT("int64")), err_msg(NNSpecRuntimeError, i23, 1e300)],
    "rand_like": [checked(_random(0, 1, False), x23), checked(_random(0, 1, False), x23, dtype=DT("float64")),
                  err_msg(NNSpecRuntimeError, i23)],
    "randn_like": [checked(_random(0, 0, True), rnd(20, 30)), err_msg(NNSpecRuntimeError, i23)],
    "rand": [checked(_random(0, 1, False), 2, 3), checked(_random(0, 1, False), (4,), dtype=DT("float16"))],
    "randn": [checked(_random(0, 0, True), 20, 30), checked(_random(0, 0, True), 5, dtype=DT("float64"))],
    # dtypes and devices
    "finfo": [c(DT("float32")), c(DT("float16")), c(DT("float64")), c(), err_msg(NNSpecRuntimeError, DT("int64"))],
    "iinfo": [c(DT("int64")), c(DT("int32")), c(DT("uint8")), c(DT("int8")), c(DT("int16")),
              err_msg(NNSpecRuntimeError, DT("float32")), err_msg(NNSpecRuntimeError, DT("bool"))],
    "device": [c("cpu"), c("cuda:1"), c("cuda"), c("meta"), c("cuda", 0), err_msg(NNSpecRuntimeError, "foo"),
               err(NNSpecRuntimeError, "cuda:x")],
}

# --------------------------------------------------------------------------- Tensor.<name> only

METHOD_CASES = {
    **BOTH,
    "nelement": [c(x234), c(e03)],
    "item": [c(s0), c(si), c(np.array([[True]])), c(x23[:1, :1].copy()), err_msg(NNSpecRuntimeError, x23)],
    "tolist": [c(x23), c(s0), c(i23), c(b23), c(e03)],
    "long": [c(x23 * 3), c(b23), c(special[np.isfinite(special)].copy())],
    "int": [c(x23 * 3), c(i23)],
    "short": [c(i23)],
    "char": [c(i23)],
    "byte": [c(i23 + 3)],
    "bool": [c(x23), c(i23), c(special)],
    "to": [c(x23, DT("float64")), c(x23, "cpu"), c(x23, i23), c(x23, dtype=DT("int32")), c(x23, "cpu", DT("float64")),
           c(x23, device="cpu", dtype=DT("int32")), c(x23, DT("float32")), c(x23, DT("float32"), copy=True),
           c(x23, DT("float16")), c(i23, DT("bool")), c(x23), err_msg(NNSpecRuntimeError, x23, "foo")],
    "type_as": [c(x23, i23), c(i23, x23), c(x23, y23)],
    "type": [c(x23), c(i23), c(x23, DT("float64")), c(x23, "torch.DoubleTensor"), c(i23, dtype=DT("float16"))],
    "is_floating_point": [c(x23), c(i23), c(h23)],
    "where": [c(x23, b23, y23), c(x23, b23, 0.0), c(i23, b3, x23), err_msg(NNSpecRuntimeError, x23, i23, y23)],
    "split": [c(x23, 2, 1), c(x23, [1, 2], 1), c(x23, split_size=1), c(x23, (2, 1), dim=1),
              err_msg(ShapeError, x23, [1, 1], 1)],
    "split_with_sizes": [c(x23, [1, 2], 1), c(x234, (1, 1, 2), -1), err_msg(ShapeError, x23, [1, 1], 1)],
    "expand": [c(x23, 3, 2, 3), c(x23, -1, 3), c(x23, (4, 2, 3)), c(rnd(2, 1), 2, 5), c(np.ones(1, np.float32), 0),
               c(x23, size=(2, 3)), c(s0, 4), err_msg(ShapeError, x23, 2, 4), err_msg(ShapeError, x23, 3),
               err_msg(ShapeError, x23, -1, -1, 3), err_msg(ShapeError, x23, 2, -2)],
    "expand_as": [c(rnd(3, 1), x34), c(x3, x23), err_msg(ShapeError, x23, x234)],
    "repeat": [c(x23, 2, 2), c(x23, 1, 2, 3), c(x23, (2, 1)), c(s0, 3), c(x23, 0, 1), c(i23, [1, 1, 2]),
               err_msg(ShapeError, x23, 2), err_msg(ShapeError, x23, -1, 1)],
    "tile": [c(x23, 2), c(x23, (2, 1, 1)), c(x23, 0, 2), c(s0, 3), err_msg(ShapeError, x23, -1)],
    "flip": [c(x23, 0), c(x23, 0, 1), c(x23, [1]), c(x23, (0, 1)), err_msg(ShapeError, x23, 0, 0)],
    "view_as": [c(x23, rnd(3, 2)), c(x23, rnd(6)), err_msg(ShapeError, x23, x234)],
    "reshape_as": [c(x23, rnd(6)), c(x234.transpose(1, 0, 2), rnd(4, 6))],
    "new_zeros": [c(x23, 2, 3), c(x23, (2, 3)), c(i23, [4]), c(x23, 2, dtype=DT("int64")), err_msg(ShapeError, x23, -1)],
    "new_ones": [c(x23, 2, dtype=DT("int64")), c(b23, (3,))],
    "new_empty": [checked(_shape_dtype, x23, 0), checked(_shape_dtype, h23, 2, 2)],
    "new_full": [c(x23, (2,), 3), c(i23, (2,), 3.5), c(b23, (1, 2), 0), c(x23, (2,), 1, dtype=DT("int32")),
                 err(NNSpecRuntimeError, x23, 2, 1.0)],
    "new_tensor": [c(x23, [1, 2]), c(i23, [1.5]), c(x23, [[1, 2]], dtype=DT("int64")), c(b23, [0, 2])],
    "masked_fill_": [c(x23, b23, 2.0), c(x23, np.ones(1, bool), 1), c(i23, b23, 2.5),
                     err_msg(ShapeError, x23, np.ones(3, bool)[:, None].repeat(1, 1), 1),
                     err_msg(ShapeError, rnd(3), np.array([[True], [False]]), 0),
                     err_msg(NNSpecRuntimeError, x23, i23, 0)],
    "fill_": [c(x23, 2), c(i23, 2.7), c(x23, np.array(3)), c(b23, 3), err_msg(NNSpecRuntimeError, x23, ints(3))],
    "zero_": [c(x23), c(b23)],
    "bernoulli_": [checked(_random(0, 2, False), x23, 0.5), checked(_random(0, 2, False), i23, 0.3),
                   checked(_random(0, 2, False), h23), checked(_random(0, 2, False), x23, np.array(0.5)),
                   c(x23, 1.0), c(x23, 0), c(i23, 1), err_msg(NNSpecRuntimeError, x23, 1.5),
                   err_msg(NNSpecRuntimeError, x23, -0.1)],
    "add_": [c(x23, y23), c(x23, 1, alpha=2), c(i23, 2), err_msg(NNSpecRuntimeError, i23, 1.5),
             err_msg(NNSpecRuntimeError, i23, x23), err_msg(ShapeError, x3, x23)],
    "sub_": [c(x23, y23), c(i23, i3)],
    "mul_": [c(i23, 2), c(x23, x3)],
    "div_": [c(x23, 2), err_msg(NNSpecRuntimeError, i23, 2)],
    "clamp_": [c(x23, -0.5, 0.5), c(i23, 0, 1), err(NNSpecRuntimeError, i23, 0.5)],
    "scatter_": [c(np.zeros((2, 3), np.float32), 1, np.array([[0], [2]]), 1.0), c(i23, 1, gidx, 1.5),
                 c(x23, 0, np.array([[1, 0]]), y23[:1, :2].copy())],
}

# --------------------------------------------------------------------------- Python operators

OPERATOR_CASES = {
    "eq": [c(x23, y23), c(x23, x23), c(i23, 1), c(1, i23), c(x23, None), c(x23, "a"), c(b23, True), c(2, 2), c((1, 2), (1, 2)),
           c(hq, 0.1), c(hq, np.array(1 / 3, np.float32)), err_msg(ShapeError, x23, x4)],
    "ne": [c(x23, x3), c(x23, None), c(1, 2)],
    "lt": [c(x23, y23), c(0.5, i23), c(i23, 0.5), c(1, 2), c(hq, 100.1), c(np.array(100.1, np.float32), hq)],
    "le": [c(x23, 0), c(3, 2)],
    "gt": [c(x23, y23), c(i23, True), c(2.5, 2)],
    "ge": [c(x23, x3), c(h23, 1), c(3, 3)],
    "and_": [c(b23, b23), c(b23, i23), c(i23, i23.astype(np.int32)), c(b23, True), c(i23.astype(np.int32), 3), c(True, b23),
             c(6, 3), err_msg(NNSpecRuntimeError, x23, x23), err_msg(NNSpecRuntimeError, i23, 1.5)],
    "or_": [c(b23, 1), c(b23, b3), c(i23, 4), c(4, 1)],
    "xor": [c(b23, True), c(b23, b23), c(i23, i3), c(5, 3)],
    "invert": [c(b23), c(i23), c(u8), c(5), c(True), err_msg(NNSpecRuntimeError, x23)],
    "iand": [c(b23, b3), c(i23, 3), err(NNSpecRuntimeError, b23, i23)],
    "ior": [c(b23, b23), c(i23, i3)],
    "ixor": [c(b23, True), c(6, 3)],
    "getattr": [c(x23, "dtype"), c(i23, "dtype"), c(x23, "device"), c(x23, "T"), c(x234, "T"), c(x3, "T"), c(s0, "T"),
                c(x234, "mT"), c(x23, "mT"), c(x23, "H"), c(x234, "mH"), c(x23, "is_cuda"), c(x23, "ndim"),
                c(x23, "shape"), c(x23, "data"), err_msg(ShapeError, x3, "mT"), err_msg(ShapeError, x234, "H"),
                err(NNSpecRuntimeError, x23, "nothing")],
    "setitem": [c(x23, 0, 1.0), c(x23, (slice(None), 1), y23[:, 0].copy()), c(x23, b23, 0.0), c(x23, (Ellipsis, 0), 5),
                c(i23, 0, 2.7), c(x23, (slice(None), slice(0, 2)), np.ones((1, 2), np.float32)), c(x23, 1, i3),
                c(x23, (slice(None), ints(0, 2)), 7.0), c(x23, (0, slice(None, None, 2)), np.float64(3.5)),
                err(ShapeError, x23, 0, np.ones(2, np.float32)), err(ShapeError, x23, 5, 1.0),
                err_msg(NNSpecRuntimeError, i23, 0, float("inf"))],
    "splat": [c((1, 2, 3)), c([4, 5]), c(x23), c(()), err(NNSpecRuntimeError, s0)],
    "check": [c(True), c(3, "positive"), c(np.array(True)), c(s0 > 1), err(NNSpecRuntimeError, 0, "n must be > 0"),
              err(NNSpecRuntimeError, np.array([0.0], np.float32)), err(NNSpecRuntimeError, b23),
              c(3, "t <= 16", "le", 16), c(s0, None, "gt", 1), err(NNSpecRuntimeError, 17, "too long", "le", 16),
              err(NNSpecRuntimeError, x3, None, "eq", 0)],
}

# --------------------------------------------------------------------------- Python's math and builtins

MATH_CASES = {
    **{name: [c(0.5), c(2), c(1.25)] for name in ("sqrt", "exp", "expm1", "log2", "log10", "log1p", "sin", "cos", "tan",
                                                  "atan", "sinh", "cosh", "tanh", "erf", "erfc", "fabs", "radians",
                                                  "degrees", "gamma", "lgamma")},
    "asin": [c(0.5), c(1)],
    "acos": [c(0.5), c(-1)],
    "sqrt": [c(0.5), c(16), c(2.25), c(np.array(4.0, np.float32)), c(True), err(NNSpecRuntimeError, -1),
             err(NNSpecRuntimeError, "a")],
    "log": [c(2.0), c(8, 2), c(100, 10), err(NNSpecRuntimeError, 0)],
    "pow": [c(2, 10), c(2.5, -1), c(10000, 0.25), err(NNSpecRuntimeError, 10.0, 1000)],
    "atan2": [c(1, 2), c(-1.0, -0.5)],
    "hypot": [c(3, 4)],
    "copysign": [c(2, -0.0)],
    "fmod": [c(7.5, 2), err(NNSpecRuntimeError, 1, 0)],
    "floor": [c(2.5), c(-2.5), c(7), err(NNSpecRuntimeError, float("inf"))],
    "ceil": [c(2.5), c(-2.5), c(7)],
    "trunc": [c(2.7), c(-2.7)],
    "isfinite": [c(2.0), c(float("inf")), c(3)],
    "isinf": [c(float("-inf")), c(1.0)],
    "isnan": [c(float("nan")), c(1.0)],
    "prod": [c((2, 3, 4)), c([]), c((2, 3), start=2), c([1.5, 2])],
    "gcd": [c(12, 18), c(7, 5, 35)],
    "lcm": [c(4, 6)],
    "isqrt": [c(17), err(NNSpecRuntimeError, -1)],
}

BUILTIN_CASES = {
    "int": [c(2.7), c(-2.7), c(5), c(True), c(np.array(3.9, np.float32)), c("12"), err(NNSpecRuntimeError, float("inf")),
            err(NNSpecRuntimeError, x23)],
    "float": [c(3), c(2.5), c(np.array(2, np.int64)), c("-inf"), c(False)],
    "bool": [c(0), c(2.5), c(()), c((0,)), c(np.array(0.0, np.float32)), err(NNSpecRuntimeError, x23)],
    "len": [c((1, 2, 3)), c([]), c(x23), c(x234), c("abc"), err(NNSpecRuntimeError, s0), err(NNSpecRuntimeError, 3)],
    "max": [c(1, 2), c((3, 1, 2)), c([2.5, 1]), c(2, 3, 1), err(NNSpecRuntimeError, ())],
    "min": [c(1, 2), c((3, 1, 2)), c(0.5, 1)],
    "abs": [c(-3), c(2.5), c(-0.0)],
    "round": [c(2.5), c(3.5), c(2.675, 2), c(7)],
    "tuple": [c((1, 2)), c([3]), c(x23), c(), err(NNSpecRuntimeError, s0), err(NNSpecRuntimeError, 3)],
    "list": [c((1, 2)), c(x23), c(())],
}

__all__ = ["BUILTIN_CASES", "MATH_CASES", "METHOD_CASES", "OPERATOR_CASES", "TORCH_CASES"]
