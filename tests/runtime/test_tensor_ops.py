"""The op registries a forward interpreter calls: FUNCTIONS, METHODS and OPERATORS.

Every registry entry has cases in ``CASES``, run against live torch (the same
call on tensors: values within 1e-4 for float32, the same dtype and shape, and
where torch raises nnspec must raise its own error, with torch's message where
the case says so). The torch-free tests below them check hand-computed results,
so the file asserts behaviour without torch too.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import math
import operator
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from nnspec.errors import NNSpecError, NNSpecRuntimeError, ShapeError
from nnspec.nn.parameter import Parameter
from nnspec.runtime import functional as F
from nnspec.runtime import tensor as T
from nnspec.runtime.tensor import FUNCTIONS, METHODS, OPERATORS

from op_cases import DT, P, Case, c, c_tol, checked, err, err_msg, ints, rnd  # noqa: F401


# --------------------------------------------------------------------------- inputs

x23, y23, x3 = rnd(2, 3), rnd(2, 3), rnd(3)
x234 = rnd(2, 3, 4)
x1314 = rnd(1, 3, 1, 4)
i23 = np.arange(-3, 3, dtype=np.int64).reshape(2, 3)
b23 = np.array([[True, False, True], [False, False, True]])
scalar = np.array(1.5, dtype=np.float32)
extreme = np.array([[-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0]], dtype=np.float32)
drop_x = (np.abs(rnd(4, 6, 3, 3)) + 0.5).astype(np.float32)
# float16 against float32 numbers: torch rounds them to float16 first, except mul's and div's second operand
hq = np.array([0.1, 1 / 3, 100.1, 2000.3], np.float16)
h64 = np.linspace(-300, 300, 64).astype(np.float16)


def _dropout_check(x, p, channels: bool):
    """Both outputs keep some and zero some elements (whole channels for dropout2d), kept ones scaled by 1/(1-p)."""

    def check(got, want):
        for out in (got, want.numpy()):
            assert out.shape == x.shape and out.dtype == x.dtype
            kept = out != 0
            np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-6)
            assert 0 < kept.mean() < 1
            if channels:
                per_channel = kept.reshape(x.shape[0], x.shape[1], -1)
                assert (per_channel.all(-1) | ~per_channel.any(-1)).all()

    return check


# --------------------------------------------------------------------------- cases, per op

_NN_CASES: dict[str, list[Case]] = {
    "conv1d": [c(rnd(2, 3, 8), rnd(4, 3, 3), rnd(4), stride=2, padding=1),
               c(rnd(3, 8), P(rnd(4, 3, 3)), padding="same", dilation=2),
               err(ShapeError, rnd(2, 2, 8), rnd(4, 3, 3))],
    "conv2d": [c(rnd(2, 3, 6, 6), P(rnd(4, 3, 3, 3)), P(rnd(4)), padding="same"),
               c(rnd(1, 4, 7, 5), rnd(6, 2, 3, 2), None, (2, 1), 1, 1, 2),
               err_msg(ShapeError, rnd(1, 3, 2, 2), rnd(4, 3, 3, 3)),
               err_msg(ShapeError, rnd(1, 1, 2, 4), rnd(1, 1, 3, 3), dilation=2)],  # torch names the dilated extent
    "conv3d": [c(rnd(1, 2, 4, 4, 4), rnd(3, 2, 2, 2, 2), stride=1, padding=1),
               err_msg(ShapeError, rnd(1, 2, 4, 5, 4), rnd(3, 2, 2, 3, 2), padding=(1, 0, 0), dilation=(1, 3, 1))],
    "conv_transpose1d": [c(rnd(2, 3, 5), rnd(3, 4, 3), rnd(4), stride=2, padding=1, output_padding=1)],
    "conv_transpose2d": [c(rnd(1, 3, 4, 4), rnd(3, 2, 3, 3), rnd(2), stride=2),
                         err(ShapeError, rnd(1, 2, 4, 4), rnd(3, 2, 3, 3))],
    "max_pool1d": [c(rnd(2, 3, 9), 3, stride=2, padding=1), c(rnd(2, 3, 9), 2, return_indices=True)],
    "max_pool2d": [c(rnd(2, 3, 7, 7), 3, 2, ceil_mode=True), c(rnd(3, 6, 6), 2, return_indices=True),
                   err(NNSpecRuntimeError, rnd(1, 1, 6, 6), 2, padding=2)],
    "avg_pool1d": [c(rnd(2, 3, 9), 3, 2, 1, count_include_pad=False)],
    "avg_pool2d": [c(rnd(2, 3, 7, 7), 3, 2, 1), c(rnd(2, 3, 6, 6), 2, divisor_override=3)],
    "adaptive_avg_pool1d": [c(rnd(2, 3, 10), 4), err_msg(NNSpecRuntimeError, rnd(2, 3, 10), None),
                            err_msg(NNSpecRuntimeError, rnd(2, 3, 10), [None])],
    "adaptive_avg_pool2d": [c(rnd(2, 3, 7, 9), (3, 4)), c(rnd(3, 5, 5), 1)],
    "linear": [c(rnd(5, 4), P(rnd(3, 4)), P(rnd(3))), c(rnd(2, 5, 4), rnd(3, 4)),
               err(ShapeError, rnd(5, 3), rnd(3, 4))],
    "bilinear": [c(rnd(5, 3), rnd(5, 4), rnd(2, 3, 4), rnd(2))],
    "dropout": [c(x23, 0.5, False), c(x23, p=0.0), c(x23, 1.0), c(x23, training=False),
                checked(_dropout_check(drop_x, 0.5, False), drop_x), err(NNSpecRuntimeError, x23, 1.5),
                err_msg(NNSpecRuntimeError, i23, 0.5), err_msg(NNSpecRuntimeError, b23, 0.5), c(i23, 1.0), c(i23, 0.0)],
    "dropout2d": [c(drop_x, 0.5, False), c(drop_x, 1.0),
                  checked(_dropout_check(drop_x, 0.25, True), drop_x, 0.25)],
    "pixel_shuffle": [c(rnd(1, 8, 3, 3), 2), err(ShapeError, rnd(1, 6, 3, 3), 2)],
    "interpolate": [c(rnd(1, 2, 4, 4), scale_factor=2, mode="bilinear", align_corners=False),
                    c(rnd(1, 2, 5), size=7), c(rnd(1, 2, 4, 4), size=(5, 7), mode="nearest")],
    "batch_norm": [c(rnd(4, 3, 5), rnd(3), np.abs(rnd(3)) + 0.5, rnd(3), rnd(3)),
                   c(rnd(4, 3).astype(np.float16), rnd(3), np.abs(rnd(3)) + 0.5, rnd(3), rnd(3), training=True),
                   err(NNSpecRuntimeError, rnd(4, 3).astype(np.float64), rnd(3), np.abs(rnd(3)) + 0.5),
                   c(rnd(4, 3), rnd(3), np.abs(rnd(3)) + 0.5, training=True, momentum=0.2),
                   err(ShapeError, rnd(4, 3), rnd(2), np.abs(rnd(2)) + 0.5)],
    "relu": [c(x23), c(i23), c(x23, inplace=False), err_msg(NNSpecRuntimeError, b23)],
    "leaky_relu": [c(x23, 0.2), c(x234, negative_slope=0.05), err(NNSpecRuntimeError, i23)],
    "relu6": [c(x23 * 5), c(i23 * 4)],
    "hardtanh": [c(x23), c(x234 * 3, -2.0, 0.5), c(i23, 0, 2), err(NNSpecRuntimeError, x23, 1.0, -1.0)],
    "prelu": [c(rnd(2, 3, 4), P(rnd(3))), c(x23, np.array([0.25], np.float32)),
              err(ShapeError, rnd(2, 3, 4), rnd(4))],
    "pad": [c(x23, (1, 2)), c(rnd(1, 2, 5), (2, 1), "reflect"), c(x234, [1, 1, 0, 2], value=1.5),
            # the value goes to the input's dtype through a double: truncated, or refused where it overflows
            c(ints(3, 4), (1, 1), value=2.9), c(ints(3, 4), (1, 0), value=-2**62), c(ints(3, dtype=np.uint8), (1, 0),
                                                                                     value=255),
            c(np.array([True]), (1, 1), value=0.5), c(x23, (1, 0), value=float("inf")),
            c(rnd(1, 2, 5), (2, 1), "reflect", 0.0),
            err_msg(NNSpecRuntimeError, ints(3, dtype=np.uint8), (1, 0), value=300),
            err_msg(NNSpecRuntimeError, ints(3, dtype=np.uint8), (1, 0), value=-0.5),
            err_msg(NNSpecRuntimeError, ints(3, dtype=np.int8), (1, 0), value=-128.7),
            err_msg(NNSpecRuntimeError, ints(3, dtype=np.int32), (1, 0), value=2**31),
            err_msg(NNSpecRuntimeError, ints(3), (1, 0), value=1e30),
            err_msg(NNSpecRuntimeError, x23.astype(np.float16), (1, 0), value=65519.0),
            err_msg(NNSpecRuntimeError, x23, (1, 0), value=1e300),
            err_msg(NNSpecRuntimeError, x23, (1, 0), value="a"),
            err_msg(NNSpecRuntimeError, rnd(1, 2, 5), (2, 1), "reflect", 1.0)],
    "softmax": [c(x234, 1), c(x234, -1), c(x234), c(x23), c(x3), c(x23, dim=0, dtype=DT("float64")),
                c(x23, 1, 3, DT("float64")), c(scalar, 0), c(extreme, 1), c(x23.astype(np.float64), 1),
                c_tol(1e-3, x23.astype(np.float16), 1), c(np.zeros((0, 3), np.float32), 1),
                c(i23, 1, dtype=DT("float32")), err_msg(ShapeError, x234, 3), err(NNSpecRuntimeError, i23, 1)],
    "log_softmax": [c(x234, 1), c(x234, -2), c(x234), c(x23), c(x23, dim=0, dtype=DT("float64")), c(scalar, -1),
                    c(extreme, 1), c_tol(1e-2, x23.astype(np.float16), 1), err_msg(ShapeError, x23, -3),
                    err(NNSpecRuntimeError, i23, 0)],
    "sigmoid": [c(x23), c(extreme), c(i23), c(b23), c_tol(1e-3, x23.astype(np.float16)), c(x23.astype(np.float64))],
    "tanh": [c(x23), c(extreme), c(i23), c_tol(1e-3, x23.astype(np.float16))],
}

_TORCH_CASES: dict[str, list[Case]] = {
    "cat": [c([x23, y23]), c((x23, rnd(2, 4)), -1), c([x23, rnd(2, 1).astype(np.float64)], dim=1),
            c([x23, np.zeros(0, np.float32)]), c([x23, np.arange(3).reshape(1, 3)]), c([P(x23), y23], 0),
            c([np.zeros(0, np.float32), np.zeros(0, np.float64)]),
            err_msg(ShapeError, [x23, rnd(3, 3)], 1), err_msg(ShapeError, [x23, y23], 2),
            err_msg(NNSpecRuntimeError, []), err(ShapeError, [scalar, scalar]), err(ShapeError, [x23, x3])],
    "stack": [c([x23, y23]), c([x23, y23], -1), c((x23, y23), dim=1), c([scalar, np.array(2, np.int64)]),
              err_msg(ShapeError, [x23, x23[:, :2]]), err_msg(ShapeError, [x23, y23], 3),
              err_msg(NNSpecRuntimeError, [])],
    "flatten": [c(x234), c(x234, 1), c(x234, -2, -1), c(x234, start_dim=0, end_dim=1), c(scalar), c(x234, 1, 1),
                err_msg(ShapeError, x234, 2, 1), err_msg(ShapeError, x234, 0, 5)],
    "matmul": [c(x23, rnd(3, 4)), c(x3, x3), c(x23, x3), c(rnd(2), x23), c(rnd(2, 1, 3, 4), rnd(5, 4, 2)),
               c(x234, rnd(4)), c(rnd(3), x234), err(ShapeError, rnd(3), x234.transpose(0, 2, 1)), c(i23, i23.T),
               c_tol(1e-2, x23.astype(np.float16), rnd(3, 4).astype(np.float16)),
               err_msg(ShapeError, x23, y23), err_msg(ShapeError, x3, rnd(2)), err_msg(ShapeError, x23, rnd(2)),
               err_msg(ShapeError, scalar, x23), err(NNSpecRuntimeError, x23, x3.astype(np.float64)),
               err_msg(NNSpecRuntimeError, x23, rnd(3, 2).astype(np.float64)),
               err_msg(ShapeError, rnd(2, 3, 4), rnd(3, 4, 5))],
    "mm": [c(x23, rnd(3, 4)), c(P(x23), y23.T), c(i23, i23.T),
           err_msg(ShapeError, x3, x23), err_msg(ShapeError, x23, x3), err_msg(ShapeError, x23, y23),
           err_msg(NNSpecRuntimeError, x23, y23.T.astype(np.float64))],
    "relu": [c(x23), c(i23), err(NNSpecRuntimeError, 2.0)],
    "sigmoid": [c(x23), c(extreme), c(i23)],
    "tanh": [c(x23), c(i23)],
    "softmax": [c(x234, 1), c(x234, dim=-1, dtype=DT("float64")), err_msg(ShapeError, x23, 2)],
    "log_softmax": [c(x234, 0), c(x23, dim=-1, dtype=DT("float64")), err_msg(ShapeError, x23, -3)],
    "add": [c(x23, y23), c(x23, 2.5), c(x23, y23, alpha=2), c(x23, x3), c(2, x23), c(i23, 2.5), c(b23, b23),
            c(i23.astype(np.int32), np.array(2, np.int64)), c(i23, x23, alpha=-1), c(x23, 2, alpha=0.5),
            err_msg(NNSpecRuntimeError, i23, i23, alpha=1.5), err_msg(NNSpecRuntimeError, x23, y23, alpha=True),
            err_msg(ShapeError, x23, rnd(4))],
    "mul": [c(x23, y23), c(x23, 2), c(i23, 2.5), c(b23, b23), c(i23.astype(np.int32), np.array(2.0, np.float64)),
            c_tol(1e-3, x23.astype(np.float16), 0.1), c(x23, scalar), c(scalar, 3)],
    "sub": [c(x23, y23), c(x23, y23, alpha=0.5), c(2, x23), c(i23, 1, alpha=3),
            err_msg(NNSpecRuntimeError, b23, b23), err_msg(NNSpecRuntimeError, b23, 1)],
    "div": [c(x23, y23), c(i23, 2), c(i23, ints(2, -2, 4)), c(x23, 0.0), c(2, 3),
            c(i23, ints(2, -2, 4), rounding_mode="floor"), c(i23, ints(2, -2, 4), rounding_mode="trunc"),
            c(x23 * 5, -1.5, rounding_mode="floor"), c(x23 * 5, 1.5, rounding_mode="trunc"),
            err_msg(NNSpecRuntimeError, x23, 2, rounding_mode="bad"),
            err(NNSpecRuntimeError, i23, 0, rounding_mode="floor")],
    "mean": [c(x234), c(x234, 1), c(x234, -1, True), c(x234, (0, -1)), c(x234, [0, 2], keepdim=True),
             c(x234, dim=1, dtype=DT("float64")), c(x234, None, True), c(x234, ()), c(scalar, 0),
             c_tol(1e-3, x234.astype(np.float16), 2), c(P(x23), 0),
             err_msg(NNSpecRuntimeError, i23), err_msg(NNSpecRuntimeError, x23, 0, dtype=DT("int64")),
             err_msg(ShapeError, x23, (0, -2)), err_msg(ShapeError, x23, 2), err_msg(ShapeError, scalar, 1)],
    "sum": [c(x234), c(x234, 1), c(x234, -1, True), c(x234, (0, -1)), c(x234, [0, 2], keepdim=True),
            c(i23), c(b23, 1), c(np.arange(6, dtype=np.uint8), 0), c(i23.astype(np.int32), dtype=DT("int32")),
            c(x23, dtype=DT("float64")), c(x234, ()), c(scalar, -1), c_tol(1e-2, x234.astype(np.float16), 1),
            err_msg(ShapeError, x23, (1, 1)), err_msg(ShapeError, x23, -3)],
    "transpose": [c(x234, 0, -1), c(x23, 1, 0), c(scalar, 0, -1), err_msg(ShapeError, x23, 0, 2)],
    "permute": [c(x234, (2, 0, 1)), c(x234, [-1, 0, 1]), c(scalar, ()),
                err(ShapeError, x23, (0,)), err_msg(ShapeError, x23, (0, 0)), err_msg(ShapeError, x23, (0, 2))],
    "reshape": [c(x234, (4, -1)), c(x234, [24]), c(x234, shape=(2, 2, -1, 3)), c(scalar, ()), c(scalar, (-1,)),
                err_msg(ShapeError, x23, (4, -1)), err_msg(ShapeError, x23, (-1, -1)),
                err_msg(ShapeError, x23, (-2, 3)), err_msg(ShapeError, np.zeros((0, 3), np.float32), (0, -1)),
                err(NNSpecRuntimeError, x23, 6)],
}

_METHOD_CASES: dict[str, list[Case]] = {
    "view": [c(x234, 6, -1), c(x234, (6, -1)), c(x234, [6, -1]), c(x234, -1), c(x234, size=(4, -1)),
             c(scalar, ()), c(P(x23), 3, 2), c(x234, 2, 3, 2, 2),
             err_msg(ShapeError, x23, 4, -1), err_msg(ShapeError, x23, -1, -1), err_msg(ShapeError, x23, []),
             err(NNSpecRuntimeError, x23, (2, -1), 3), err(NNSpecRuntimeError, x23, 2.0, 3)],
    "reshape": [c(x234, 6, -1), c(x234, (6, -1)), c(x234, [-1]), c(x234, shape=(4, -1)), c(x234.transpose(2, 0, 1), -1),
                err_msg(ShapeError, x23, 5, -1)],
    "permute": [c(x234, 2, 0, 1), c(x234, (2, 0, 1)), c(x234, [-1, -3, 1]), c(x234, dims=(1, 0, 2)), c(scalar, ()), err(NNSpecRuntimeError, x234),
                err(ShapeError, x234, 0, 1), err_msg(ShapeError, x234, 0, 0, 1)],
    "transpose": [c(x23, 0, 1), c(x234, -1, -3), c(x234, dim0=1, dim1=2), err_msg(ShapeError, x234, 0, 3)],
    "contiguous": [c(x23), c(x234.transpose(2, 0, 1))],
    "size": [c(x234), c(x234, 1), c(x234, -1), c(x234, dim=0), c(scalar), err_msg(ShapeError, x234, 3),
             err_msg(ShapeError, scalar, 0)],
    "dim": [c(x234), c(scalar)],
    "numel": [c(x234), c(scalar), c(np.zeros((0, 3), np.float32))],
    "flatten": [c(x234), c(x234, 1), c(x234, start_dim=1, end_dim=-1), err_msg(ShapeError, x234, -1, 0)],
    "mm": [c(x23, rnd(3, 4)), err_msg(ShapeError, x23, y23)],
    "matmul": [c(x234, rnd(4, 2)), c(x3, x3), err_msg(ShapeError, x23, rnd(2, 3))],
    "mean": [c(x234), c(x234, 1, True), c(x234, dim=(0, 2)), c(x234, -1, keepdim=True), err_msg(ShapeError, x234, 3)],
    "sum": [c(x234), c(x234, 1, True), c(x234, dim=(0, -1)), c(i23, 0), c(x234, -1, dtype=DT("float64")),
            err_msg(ShapeError, x234, (0, 0))],
    "relu": [c(x23)],
    "sigmoid": [c(x23), c(i23)],
    "tanh": [c(x23)],
    "softmax": [c(x234, 1), c(x234, dim=-1), c(x23, 0, DT("float64")), err_msg(ShapeError, x23, 2)],
    "log_softmax": [c(x234, -1), c(x234, dim=0), err_msg(ShapeError, x23, -3)],
    "unsqueeze": [c(x23, 0), c(x23, -1), c(x23, 2), c(scalar, 0), c(x23, dim=1), err_msg(ShapeError, x23, 3),
                  err_msg(ShapeError, x23, -4)],
    "squeeze": [c(x1314), c(x1314, 0), c(x1314, -2), c(x1314, (0, 2)), c(x1314, dim=1), c(scalar, 0),
                c(x1314, (0, -1)), err_msg(ShapeError, x1314, 4)],
    "add": [c(x23, y23), c(x23, 2.0), c(x23, y23, alpha=3), c(i23, 1.5)],
    "sub": [c(x23, y23), c(x23, 1, alpha=2), err_msg(NNSpecRuntimeError, b23, b23)],
    "mul": [c(x23, y23), c(i23, 0.5), c(x23, x3)],
    "div": [c(x23, y23), c(i23, 4), c(i23, 4, rounding_mode="floor"), c(i23, 4, rounding_mode="trunc")],
    "t": [c(x23), c(x3), c(scalar), err_msg(ShapeError, x234)],
    "float": [c(x23.astype(np.float64)), c(i23), c(b23), c(x23)],
    "double": [c(x23), c(i23)],
    "half": [c_tol(1e-3, x23), c(i23)],
    "clone": [c(x23), c(x234.transpose(1, 0, 2)), c(i23)],
}

_OPERATOR_CASES: dict[str, list[Case]] = {
    "add": [c(x23, y23), c(x23, 2), c(2.5, x23), c(i23, 2.5), c(i23.astype(np.int32), 2**40), c(b23, b23),
            c(b23, 1), c(x23, x3), c(x23.astype(np.float16), np.array(2.0, np.float64)),
            c(i23, np.array([2.0], np.float16)), c((2, 3), (4,)), c(3, 4), err_msg(ShapeError, x23, rnd(4))],
    "sub": [c(x23, y23), c(1, x23), c(np.arange(4, dtype=np.uint8), 3), c(7, 2), c(hq, 100.1),
            c(hq, np.array(2000.3, np.float32)), c(np.array(0.1, np.float32), hq),
            err_msg(NNSpecRuntimeError, b23, b23), err_msg(NNSpecRuntimeError, x23, b23)],
    "mul": [c(x23, 2.5), c(2.5, x23), c(i23, 2.5), c(i23, 3), c_tol(1e-3, x23.astype(np.float16), 0.1),
            c(x23, y23), c((1, 2), 2), c(h64, 0.1), c(h64, np.array(1 / 3, np.float32)),
            c(np.array(0.1, np.float32), h64)],
    "truediv": [c(i23, 2), c(x23, 0.0), c(i23, ints(1, 2, 4)), c(2, x23), c(1, i23), c(h64, 0.3),
                c(i23.astype(np.int32), np.array(2.0, np.float64)), c(7, 2)],
    "floordiv": [c(i23, 2), c(i23, ints(2, -2, 3)), c(x23 * 7, 2.0), c(x23 * 7, -1.5), c(7, x23 + 3), c(7, 2),
                 err_msg(NNSpecRuntimeError, i23, 0), err(NNSpecRuntimeError, b23, b23)],
    "mod": [c(i23, 2), c(i23, -2), c(x23 * 7, 2.0), c(x23 * 7, -1.5), c(i23, ints(2, -2, 3)), c(-7, 3),
            err_msg(NNSpecRuntimeError, i23, ints(1, 0, 1)), err(NNSpecRuntimeError, b23, True)],
    "pow": [c(x23, 2), c(np.abs(x23), 0.5), c(2, i23 + 3), c(2.5, i23), c(i23, 2), c(x23, i23), c(x23, 3.0),
            c(np.abs(x23) + 0.1, -2), c(np.abs(x23) + 0.1, -0.5),
            c(ints(1, -1, 2, 0, -1, 3), ints(-1, -3, -2, -1, -2, 2)), c(np.array(2, np.int64), ints(-1, 2)),
            c(2, 10), err_msg(NNSpecRuntimeError, i23, -1), c(b23, True), c(b23, False), err(NNSpecRuntimeError, b23, b23)],
    "matmul": [c(x23, rnd(3, 4)), c(x234, x3[:, None].repeat(4, 0).reshape(4, 3)), c(x3, x3),
               err_msg(ShapeError, x23, y23)],
    "neg": [c(x23), c(i23), c(3), err_msg(NNSpecRuntimeError, b23)],
    "pos": [c(x23), c(i23), c(-2.5), err_msg(NNSpecRuntimeError, b23)],
    "getitem": [c(x23, 0), c(x23, (0, 1)), c(x23, -1), c(x23, (slice(None), slice(1, None))),
                c(x234, (Ellipsis, None, 1)), c(x234, (0, Ellipsis)), c(x23, [1, 0]), c(x23, np.array([True, False])),
                c(x23, (slice(None), [0, 2])), c(x23, (ints(0, 1), ints(1, 2))), c(x23, x23 > 0),
                c(x234, (slice(None, None, 2), slice(1, 3), None)), c(x23, (slice(None), slice(5, None))),
                c(x23, None), c(x23, True), c(x23, np.array(1)), c(scalar, ()), c(scalar, None),
                c((4, 5, 6), 1), c((4, 5, 6), slice(1, None)), c([4, 5, 6], -1),
                err_msg(ShapeError, x23, 5), err_msg(ShapeError, x23, (slice(None), -4)),
                err_msg(NNSpecRuntimeError, x23, slice(None, None, -1)), err_msg(NNSpecRuntimeError, x23, 1.5),
                err(ShapeError, x23, (0, 0, 0)), err(ShapeError, scalar, 0), err(NNSpecRuntimeError, (4, 5), 2)],
    # augmented assignment writes into the left operand, as torch's in-place ops do
    "iadd": [c(x23, y23), c(x23, 2), c(x23, x3), c(i23, 3), c((1, 2), (3,)),
             err(ShapeError, x3, x23), err(NNSpecRuntimeError, i23, 2.5)],
    "isub": [c(x23, y23), c(i23, ints(1, 2, 3))],
    "imul": [c(x23, 2.5), c(x23, y23)],
    "itruediv": [c(x23, 2.0), err(NNSpecRuntimeError, i23, 2)],
    "ifloordiv": [c(x23 * 7, 2.0), c(i23, 2)],
    "imod": [c(x23 * 7, 2.0), c(i23, 3)],
    "ipow": [c(np.abs(x23), 0.5), c(i23, 2)],
    "imatmul": [c(rnd(3, 3), rnd(3, 3))],
    # a, b = value: Python's length check, on tuples, lists and an array's first dim
    "unpack": [c((4, 5, 6), 3), c(x23, 2), err(NNSpecRuntimeError, (4, 5, 6), 2), err(NNSpecRuntimeError, x23, 3)],
}


# Python's math functions and builtins on the values a forward computes, compared with Python's own
_MATH_CASES: dict[str, list[Case]] = {}
_BUILTIN_CASES: dict[str, list[Case]] = {}

for _path in sorted(Path(__file__).parent.glob("op_cases_*.py")):  # the families' cases
    _family = importlib.import_module(_path.stem)
    for _own, _theirs in ((_NN_CASES, "NN_CASES"), (_TORCH_CASES, "TORCH_CASES"), (_METHOD_CASES, "METHOD_CASES"),
                          (_OPERATOR_CASES, "OPERATOR_CASES"), (_MATH_CASES, "MATH_CASES"),
                          (_BUILTIN_CASES, "BUILTIN_CASES")):
        for _name, _cases in getattr(_family, _theirs, {}).items():
            assert _name not in _own, f"{_path.name}: cases for {_name} are given twice"
            _own[_name] = _cases


def _cases_for(registry: str, key: str) -> list[Case]:
    if registry == "FUNCTIONS":
        for prefix in ("F.", "torch.nn.functional."):
            if key.startswith(prefix):
                return _NN_CASES.get(key[len(prefix):], [])
        if key.startswith("math."):
            return _MATH_CASES.get(key[len("math."):], [])
        if key.startswith("builtins."):
            return _BUILTIN_CASES.get(key[len("builtins."):], [])
        return _TORCH_CASES.get(key[len("torch."):], [])
    return (_METHOD_CASES if registry == "METHODS" else _OPERATOR_CASES).get(key, [])


_REGISTRIES = {"FUNCTIONS": FUNCTIONS, "METHODS": METHODS, "OPERATORS": OPERATORS}
_ENTRIES = [(reg, key) for reg, table in _REGISTRIES.items() for key in table]


def _torch_callable(torch, registry: str, key: str) -> Callable:
    if registry == "FUNCTIONS":
        if key.startswith("F."):
            return getattr(torch.nn.functional, key[2:])
        if key.startswith("torch.nn.functional."):
            return getattr(torch.nn.functional, key[len("torch.nn.functional."):])
        if key.startswith("math."):
            return getattr(math, key[len("math."):])
        if key.startswith("builtins."):
            return getattr(builtins, key[len("builtins."):])
        return getattr(torch, key[len("torch."):])
    if registry == "METHODS":
        return lambda self, *args, **kwargs: getattr(self, key)(*args, **kwargs)
    if key == "unpack":
        return _python_unpack
    if key == "splat":
        return tuple
    if key == "getattr":
        return getattr
    if key == "setitem":
        return _assigned
    if key == "check":
        return _python_assert
    return getattr(operator, key)


def _python_assert(condition, message=None, op=None, other=None):
    """What ``assert condition, message`` (or ``assert condition <op> other``) does in Python: the torch side."""
    assert condition if op is None else getattr(operator, op)(condition, other), message


def _assigned(obj, index, value):
    """``obj[index] = value``, then obj: what a setitem case compares."""
    obj[index] = value
    return obj


# how nnspec's side of a case is called where its result is not the registry function's return value
_NNSPEC_CALLS = {("OPERATORS", "setitem"): lambda fn: lambda obj, index, value: (fn(obj, index, value), obj)[1]}


def _python_unpack(value, n):
    """What ``a, b, ... = value`` does in Python (the torch side of the unpack cases)."""
    items = tuple(value)
    if len(items) != n:
        raise ValueError(f"expected {n} values, got {len(items)}")
    return items


def _to_torch(torch, v):
    if isinstance(v, np.ndarray):
        return torch.from_numpy(v.copy())
    if isinstance(v, P):
        return torch.from_numpy(v.a.copy())
    if isinstance(v, DT):
        return getattr(torch, v.name)
    if isinstance(v, (list, tuple)):
        return type(v)(_to_torch(torch, e) for e in v)
    if isinstance(v, dict):
        return {k: _to_torch(torch, e) for k, e in v.items()}
    return v


def _to_nnspec(v):
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, P):
        return Parameter(v.a.copy())
    if isinstance(v, DT):
        return v.name
    if isinstance(v, (list, tuple)):
        return type(v)(_to_nnspec(e) for e in v)
    if isinstance(v, dict):
        return {k: _to_nnspec(e) for k, e in v.items()}
    return v


def _assert_same(torch, got, want, tol):
    if isinstance(want, torch.Tensor):
        assert isinstance(got, np.ndarray), f"expected an array, got {type(got).__name__}"
        w = want.detach().numpy()
        assert got.dtype == w.dtype, f"dtype {got.dtype}, torch {w.dtype}"
        assert got.shape == w.shape, f"shape {got.shape}, torch {w.shape}"
        if got.dtype.kind == "f":
            np.testing.assert_allclose(got, w, rtol=tol, atol=tol, equal_nan=True)
        else:
            np.testing.assert_array_equal(got, w)
    elif isinstance(want, (torch.dtype, torch.device)):  # nnspec's DType and Device print as torch's
        assert str(got) == str(want) and repr(got) == repr(want), f"{got!r} vs {want!r}"
    elif isinstance(want, (torch.finfo, torch.iinfo)):
        fields = ("bits", "min", "max", "dtype") + (("eps", "tiny", "smallest_normal", "resolution")
                                                    if isinstance(want, torch.finfo) else ())
        assert {f: getattr(got, f) for f in fields} == {f: getattr(want, f) for f in fields}
    elif isinstance(want, (tuple, list)):  # torch.Size too
        assert isinstance(got, (tuple, list)) and len(got) == len(want), f"{got!r} vs {want!r}"
        for g, w in zip(got, want):
            _assert_same(torch, g, w, tol)
    elif isinstance(want, float) and math.isnan(want):
        assert isinstance(got, float) and math.isnan(got), f"{got!r} vs {want!r}"
    else:
        assert type(got) is type(want) and got == want, f"{got!r} vs {want!r}"


@pytest.mark.torch
@pytest.mark.parametrize("registry,key", _ENTRIES, ids=[f"{r}:{k}" for r, k in _ENTRIES])
def test_matches_torch(registry, key):
    torch = pytest.importorskip("torch")
    cases = _cases_for(registry, key)
    assert cases, f"{registry}[{key!r}] has no parity cases"
    fn, want_fn = _REGISTRIES[registry][key], _torch_callable(torch, registry, key)
    fn = _NNSPEC_CALLS.get((registry, key), lambda f: f)(fn)
    for i, case in enumerate(cases):
        where = f"{registry}[{key!r}] case {i}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                want, torch_error = want_fn(*_to_torch(torch, case.args), **_to_torch(torch, case.kwargs)), None
            except Exception as e:  # noqa: BLE001 - torch raises RuntimeError, IndexError, TypeError, ValueError
                want, torch_error = None, e
            if case.raises is not None:
                assert torch_error is not None, f"{where}: torch accepted a call nnspec is expected to refuse"
                with pytest.raises(case.raises) as info:
                    fn(*_to_nnspec(case.args), **_to_nnspec(case.kwargs))
                if case.same_message:
                    first = str(torch_error).splitlines()[0]
                    assert first in str(info.value), f"{where}: torch says {first!r}, nnspec {str(info.value)!r}"
                continue
            assert torch_error is None, f"{where}: torch raised {torch_error!r}"
            got = fn(*_to_nnspec(case.args), **_to_nnspec(case.kwargs))
        if case.check is not None:
            case.check(got, want)
        else:
            try:
                _assert_same(torch, got, want, case.tol)
            except AssertionError as e:
                raise AssertionError(f"{where}: {e}") from None


@pytest.mark.torch
def test_pow_by_3_and_minus_2_and_minus_half_is_torchs_bit_for_bit():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(10_000).astype(np.float32)
    for exponent, base in [(3.0, x), (3, x), (-2, x), (-0.5, np.abs(x)), (3.0, x.astype(np.float64))]:
        want = torch.pow(torch.from_numpy(base), exponent).numpy()
        np.testing.assert_array_equal(T.FUNCTIONS["torch.pow"](base, exponent), want)
        np.testing.assert_array_equal(T.OPERATORS["pow"](base, exponent), want)


@pytest.mark.torch
def test_registry_names_are_torch_names():
    torch = pytest.importorskip("torch")
    for key in FUNCTIONS:
        if key.startswith("F."):
            assert callable(getattr(torch.nn.functional, key[2:], None)), key
        elif key.startswith("torch.nn.functional."):
            assert callable(getattr(torch.nn.functional, key[len("torch.nn.functional."):], None)), key
        elif key.startswith(("math.", "builtins.")):
            module, _, name = key.partition(".")
            assert callable(getattr({"math": math, "builtins": builtins}[module], name, None)), key
        else:
            assert key.startswith("torch.") and callable(getattr(torch, key[len("torch."):], None)), key
    for name in METHODS:
        assert callable(getattr(torch.Tensor, name, None)), name


@pytest.mark.torch
def test_every_functional_op_under_a_torch_name_is_registered():
    torch = pytest.importorskip("torch")
    for name, fn in vars(F).items():
        public = inspect.isfunction(fn) and fn.__module__ == F.__name__ and not name.startswith("_")
        if public and hasattr(torch.nn.functional, name):
            assert FUNCTIONS.get(f"F.{name}") is fn, name


# --------------------------------------------------------------------------- torch-free: registries


def test_registries_are_complete_and_mirrored():
    assert all(callable(fn) for table in _REGISTRIES.values() for fn in table.values())
    for registry, key in _ENTRIES:
        assert _cases_for(registry, key), f"{registry}[{key!r}] has no parity cases"
    f_names = {k[2:] for k in FUNCTIONS if k.startswith("F.")}
    assert {"relu", "conv2d", "max_pool2d", "adaptive_avg_pool2d", "interpolate", "dropout", "dropout2d",
            "batch_norm", "linear", "bilinear", "pixel_shuffle", "pad", "leaky_relu", "prelu", "avg_pool1d",
            "softmax", "log_softmax", "sigmoid", "tanh"} <= f_names
    for name in f_names:
        assert FUNCTIONS[f"torch.nn.functional.{name}"] is FUNCTIONS[f"F.{name}"]
    torch_names = {
        "cat", "stack", "flatten", "matmul", "mm", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "add", "mul",
        "sub", "div", "mean", "sum", "transpose", "permute", "reshape",
        # creation
        "ones", "zeros", "empty", "full", "arange", "linspace", "eye", "tensor", "tril", "triu", "ones_like",
        "zeros_like", "empty_like", "full_like", "rand_like", "randn_like", "rand", "randn",
        # elementwise
        "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "asin", "acos",
        "atan", "sinh", "cosh", "erf", "erfc", "reciprocal", "abs", "neg", "sign", "floor", "ceil", "trunc", "frac",
        "round", "square", "pow", "positive", "isnan", "isinf", "isfinite", "nan_to_num", "eq", "ne", "lt", "le", "gt",
        "ge", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
        "bitwise_not", "maximum", "minimum", "atan2", "where", "nonzero", "clamp", "clip", "clamp_min", "clamp_max",
        "masked_fill", "lerp", "addcmul",
        # reductions
        "max", "min", "amax", "amin", "aminmax", "argmax", "argmin", "var", "std", "var_mean", "std_mean", "norm",
        "prod", "cumsum", "cumprod", "logsumexp", "all", "any", "count_nonzero",
        # shapes, joins and products
        "squeeze", "unsqueeze", "numel", "t", "clone", "is_floating_point", "chunk", "split", "unbind", "broadcast_to",
        "tile", "repeat_interleave", "flip", "roll", "narrow", "select", "gather", "index_select", "scatter",
        "movedim", "moveaxis", "swapaxes", "swapdims", "unflatten", "concat", "concatenate", "hstack", "vstack",
        "dstack", "einsum", "bmm", "baddbmm", "addmm", "outer", "dot", "sort", "argsort", "topk",
        # dtypes and devices
        "finfo", "iinfo", "device",
    }
    python = {f"math.{n}" for n in MATH_NAMES} | {f"builtins.{n}" for n in ("int", "float", "bool", "len", "min",
                                                                             "max", "abs", "round", "tuple", "list")}
    assert {k for k in FUNCTIONS if not k.startswith(("F.", "torch.nn.functional."))} == \
        {f"torch.{n}" for n in torch_names} | python
    binary = {"add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_", "xor"}
    assert set(OPERATORS) == binary | {f"i{k.rstrip('_')}" for k in binary} | {
        "neg", "pos", "invert", "eq", "ne", "lt", "le", "gt", "ge", "getitem", "setitem", "getattr", "unpack", "splat",
        "check"}
    assert all(hasattr(operator, k) for k in OPERATORS if k not in ("unpack", "getattr", "splat", "check"))
    # every public op of functional is registered (its helpers are not ops)
    helpers = set(F.core.__all__) - set(F.core.OPS)
    ops = {n for n, fn in vars(F).items() if inspect.isfunction(fn) and fn.__module__.startswith(F.__name__ + ".")
           and not n.startswith("_")} - helpers
    assert ops == f_names


MATH_NAMES = {"sqrt", "exp", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "asin", "acos", "atan",
              "sinh", "cosh", "tanh", "erf", "erfc", "fabs", "radians", "degrees", "gamma", "lgamma", "pow", "atan2",
              "hypot", "copysign", "fmod", "floor", "ceil", "trunc", "isfinite", "isinf", "isnan", "prod", "gcd",
              "lcm", "isqrt"}


def test_dropout_keeps_torch_default_training_true():
    assert inspect.signature(FUNCTIONS["F.dropout"]).parameters["training"].default is True
    assert inspect.signature(FUNCTIONS["F.dropout2d"]).parameters["training"].default is True


# --------------------------------------------------------------------------- torch-free: hand-computed values

ln3 = float(np.log(3.0))


def test_softmax_and_log_softmax_values():
    x = np.array([[0.0, ln3], [1000.0, 1000.0]], dtype=np.float32)  # exp(1000) overflows unless shifted
    np.testing.assert_allclose(F.softmax(x, dim=1), [[0.25, 0.75], [0.5, 0.5]], rtol=1e-6)
    np.testing.assert_allclose(F.log_softmax(x, dim=-1), np.log([[0.25, 0.75], [0.5, 0.5]]), rtol=1e-5)
    assert F.softmax(x, 1).dtype == np.float32
    np.testing.assert_allclose(F.softmax(x, 0), [[0.0, 0.0], [1.0, 1.0]])
    assert F.softmax(x, 1, dtype="float64").dtype == np.float64
    # the legacy implicit dim: 0 for 0-, 1- and 3-d inputs, else 1
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        np.testing.assert_allclose(F.softmax(np.zeros((2, 4), np.float32)), np.full((2, 4), 0.25))
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(F.softmax(np.zeros((2, 4, 1), np.float32)), np.full((2, 4, 1), 0.5))
    assert F.softmax(np.array(3.0, np.float32), 0) == 1.0 and F.log_softmax(np.array(3.0, np.float32), -1) == 0.0
    inf = np.array([np.inf, 1.0], np.float32)
    assert np.isnan(F.softmax(inf, 0)).all()  # as torch: inf - inf
    with pytest.raises(ShapeError, match=r"softmax: Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        F.softmax(x, 2)
    with pytest.raises(NNSpecRuntimeError, match="softmax"):
        F.softmax(np.arange(3), 0)


def test_sigmoid_and_tanh_values():
    x = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning: exp only sees -|x|
        s = F.sigmoid(x)
    np.testing.assert_allclose(s, [0.0, 1 / (1 + np.e), 0.5, 1 / (1 + 1 / np.e), 1.0], rtol=1e-6, atol=1e-30)
    assert s.dtype == np.float32
    assert F.sigmoid(np.array([0, 1])).dtype == np.float32  # ints give torch's default dtype
    np.testing.assert_allclose(F.tanh(x), [-1.0, np.tanh(-1.0), 0.0, np.tanh(1.0), 1.0], rtol=1e-6)
    assert F.tanh(x.astype(np.float16)).dtype == np.float16
    assert T.sigmoid(Parameter(np.zeros(2, np.float32)))[0] == 0.5


def test_view_and_reshape():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    for args in [(6, -1), ((6, -1),), ([6, -1],)]:
        assert METHODS["view"](x, *args).shape == (6, 4)
    assert METHODS["view"](x, size=(-1,)).shape == (24,)
    assert METHODS["reshape"](x, shape=(4, -1)).shape == (4, 6)
    v = METHODS["view"](x, -1)
    v[0] = 100.0
    assert x[0, 0, 0] == 100.0  # a view shares memory
    with pytest.raises(ShapeError, match=r"shape '\[5, -1\]' is invalid for input of size 24"):
        METHODS["view"](x, 5, -1)
    with pytest.raises(ShapeError, match="only one dimension can be inferred"):
        METHODS["reshape"](x, -1, -1)
    assert FUNCTIONS["torch.reshape"](x, (2, -1)).shape == (2, 12)
    with pytest.raises(NNSpecRuntimeError):
        FUNCTIONS["torch.reshape"](x, 24)  # torch wants a tuple here


def test_dims_and_shapes():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert METHODS["size"](x) == (2, 3) and type(METHODS["size"](x)[0]) is int
    assert METHODS["size"](x, -1) == 3 and METHODS["dim"](x) == 2 and METHODS["numel"](x) == 6
    with pytest.raises(ShapeError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        METHODS["size"](x, 2)
    assert METHODS["permute"](x, 1, 0).shape == (3, 2) and METHODS["permute"](x, (1, 0)).shape == (3, 2)
    assert FUNCTIONS["torch.permute"](x, [-1, 0]).shape == (3, 2)
    np.testing.assert_array_equal(METHODS["t"](x), x.T)
    np.testing.assert_array_equal(METHODS["transpose"](x, -1, 0), x.T)
    assert METHODS["unsqueeze"](x, -1).shape == (2, 3, 1) and METHODS["unsqueeze"](x, 0).shape == (1, 2, 3)
    y = np.zeros((1, 3, 1), np.float32)
    assert METHODS["squeeze"](y).shape == (3,) and METHODS["squeeze"](y, -1).shape == (1, 3)
    assert METHODS["squeeze"](y, 1).shape == (1, 3, 1) and METHODS["squeeze"](y, (0, 2)).shape == (3,)
    assert METHODS["flatten"](np.zeros((2, 3, 4)), 1).shape == (2, 12)
    assert FUNCTIONS["torch.flatten"](np.array(2.0)).shape == (1,)
    c_ = METHODS["contiguous"](x.T)
    assert c_.flags.c_contiguous and (c_ == x.T).all()
    assert METHODS["contiguous"](x) is x
    cl = METHODS["clone"](x)
    cl[0, 0] = 9.0
    assert x[0, 0] == 0.0
    assert METHODS["float"](np.arange(3)).dtype == np.float32 and METHODS["double"](x).dtype == np.float64
    assert METHODS["half"](x).dtype == np.float16 and METHODS["float"](x) is x


def test_reductions():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(METHODS["sum"](x, -1), [3.0, 12.0])
    np.testing.assert_array_equal(METHODS["mean"](x, 0, True), [[1.5, 2.5, 3.5]])
    assert METHODS["mean"](x, (0, -1)) == 2.5 and isinstance(METHODS["mean"](x), np.ndarray)
    assert METHODS["sum"](x, (), True).shape == (1, 1)  # () is every dim, as in torch
    assert METHODS["sum"](np.array([True, True, False])).dtype == np.int64
    assert METHODS["sum"](np.array([200, 100], np.uint8)) == 300
    with pytest.raises(ShapeError, match="dim 0 appears multiple times"):
        METHODS["sum"](x, (0, -2))
    with pytest.raises(NNSpecRuntimeError, match="Got: Long"):
        METHODS["mean"](np.arange(3))
    h = np.full(4096, 0.1, np.float16)  # a float16 accumulator would stall long before 409.6
    assert abs(float(METHODS["sum"](h)) - 409.6) < 0.5


def test_joining_and_matmul():
    a, b = np.ones((2, 3), np.float32), np.zeros((1, 3), np.int64)
    out = FUNCTIONS["torch.cat"]([a, b])
    assert out.shape == (3, 3) and out.dtype == np.float32  # torch: int64 with float32 is float32
    assert FUNCTIONS["torch.cat"]([a, np.zeros(0, np.float32)]).shape == (2, 3)  # legacy empty skipped
    with pytest.raises(ShapeError, match="Sizes of tensors must match except in dimension 1"):
        FUNCTIONS["torch.cat"]([a, np.ones((3, 3))], 1)
    assert FUNCTIONS["torch.stack"]([a, a], -1).shape == (2, 3, 2)
    m = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    np.testing.assert_array_equal(FUNCTIONS["torch.mm"](m, m), [[7.0, 10.0], [15.0, 22.0]])
    assert FUNCTIONS["torch.matmul"](np.ones(3, np.float32), np.ones(3, np.float32)).shape == ()
    with pytest.raises(ShapeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x2 and 3x1\)"):
        FUNCTIONS["torch.mm"](m, np.ones((3, 1), np.float32))
    with pytest.raises(ShapeError, match="self must be a matrix"):
        FUNCTIONS["torch.mm"](np.ones(2, np.float32), m)
    with pytest.raises(NNSpecRuntimeError, match="same dtype"):
        FUNCTIONS["torch.matmul"](m, m.astype(np.float64))


def test_operator_dtypes_follow_torch():
    op = OPERATORS
    f, i = np.array([1.0, 2.0], np.float32), np.array([1, 2], np.int64)
    assert op["mul"](f, 2.5).dtype == np.float32
    assert op["mul"](i, 2.5).dtype == np.float32  # NumPy would give float64
    assert op["mul"](i, 2).dtype == np.int64
    np.testing.assert_array_equal(op["truediv"](i, 2), np.array([0.5, 1.0], np.float32))
    assert op["truediv"](i, 2).dtype == np.float32
    assert op["add"](i.astype(np.int32), np.array(5, np.int64)).dtype == np.int32  # a 0-d array does not promote
    assert op["add"](i, np.array([1.0], np.float16)).dtype == np.float16  # NumPy would give float64
    assert op["add"](f, f.astype(np.float64)).dtype == np.float64
    np.testing.assert_array_equal(op["floordiv"](np.array([-7, 7]), 2), [-4, 3])
    np.testing.assert_array_equal(op["mod"](np.array([-7, 7]), 3), [2, 1])
    np.testing.assert_array_equal(op["pow"](np.array([2, 1, -1, 3]), np.array([-1, -2, -3, 2])), [0, 1, -1, 9])
    with pytest.raises(NNSpecRuntimeError, match="ZeroDivisionError"):
        op["floordiv"](i, 0)
    with pytest.raises(NNSpecRuntimeError, match="negative integer powers"):
        op["pow"](i, -1)
    with pytest.raises(NNSpecRuntimeError, match="bool tensor"):
        op["neg"](np.array([True]))
    with pytest.raises(ShapeError, match=r"The size of tensor a \(2\) must match the size of tensor b \(3\)"):
        op["add"](f, np.ones(3, np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isinf(op["truediv"](f, 0.0)).all()  # no NumPy divide warning
    # plain Python values keep Python's semantics; their errors become nnspec's
    assert op["floordiv"](7, 2) == 3 and op["add"]((2, 3), (4,)) == (2, 3, 4) and op["neg"](3) == -3
    with pytest.raises(NNSpecRuntimeError, match="ZeroDivisionError"):
        op["truediv"](1, 0)
    assert T.add(x23, y23, alpha=2).dtype == np.float32
    with pytest.raises(NNSpecRuntimeError, match="alpha must not be a floating point"):
        T.add(i, i, alpha=0.5)


def test_getitem():
    g = OPERATORS["getitem"]
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    item = g(x, (1, 2))
    assert isinstance(item, np.ndarray) and item.shape == () and item == 5.0
    assert g(x, (slice(None), 1)).tolist() == [1.0, 4.0]
    assert g(x, (Ellipsis, None)).shape == (2, 3, 1)
    assert g(x, [1, 0]).tolist() == [[3.0, 4.0, 5.0], [0.0, 1.0, 2.0]]
    assert g(x, x > 3).tolist() == [4.0, 5.0]
    assert g((4, 5, 6), -1) == 6 and g((4, 5, 6), slice(1, None)) == (5, 6)
    view = g(x, 0)
    view[0] = 10.0
    assert x[0, 0] == 10.0
    with pytest.raises(ShapeError, match="index 2 is out of bounds for dimension 0 with size 2"):
        g(x, 2)
    with pytest.raises(NNSpecRuntimeError, match="step must be greater than zero"):
        g(x, slice(None, None, -1))
    with pytest.raises(NNSpecRuntimeError, match="valid indices"):
        g(x, 0.5)


def test_errors_are_nnspec_errors():
    for call in [lambda: T.cat([]), lambda: T.stack([]), lambda: T.flatten(x234, 2, 0), lambda: T.mean(i23),
                 lambda: T.relu(None), lambda: T.div(x23, 1, rounding_mode="x"), lambda: T.view(x23, 7)]:
        with pytest.raises(NNSpecError):
            call()
