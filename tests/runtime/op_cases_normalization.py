"""Registry parity cases of the normalization family (merged by test_tensor_ops.py)."""

from __future__ import annotations

import numpy as np

from nnspec.errors import NNSpecRuntimeError, ShapeError

from op_cases import P, c, err, err_msg, rnd

NN_CASES = {
    "layer_norm": [c(rnd(2, 3, 5), (5,)), c(rnd(2, 3, 5), [3, 5], P(rnd(3, 5)), P(rnd(3, 5)), 1e-3),
                   c(rnd(4, 6), (6,), bias=rnd(6)), err(NNSpecRuntimeError, rnd(4, 6), 6), c(rnd(4, 6).astype(np.float64), (6,)),
                   c(rnd(4, 6).astype(np.float16), (6,)), c(np.zeros((3, 0), np.float32), (0,)),
                   err_msg(ShapeError, rnd(3, 5), [10]), err_msg(ShapeError, rnd(3, 10), [10], rnd(5)),
                   err(NNSpecRuntimeError, rnd(3, 10), []), err(NNSpecRuntimeError, np.arange(6).reshape(2, 3), [3]),
                   err(NNSpecRuntimeError, rnd(3, 10), [10], rnd(10).astype(np.float64))],
}
