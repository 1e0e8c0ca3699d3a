"""Registry parity cases of the normalization family (merged by test_tensor_ops.py)."""

from __future__ import annotations

import numpy as np

from nnspec.errors import NNSpecRuntimeError, ShapeError

from op_cases import P, c, c_tol, err, err_msg, rnd

f16, f64 = np.float16, np.float64


def _bufs(n, dtype=np.float32):
    return np.zeros(n, dtype), np.ones(n, dtype)


NN_CASES = {
    "layer_norm": [c(rnd(2, 3, 5), (5,)), c(rnd(2, 5).astype(np.float16), (5,), rnd(5), rnd(5)), c(rnd(2, 3, 5), [3, 5], P(rnd(3, 5)), P(rnd(3, 5)), 1e-3),
                   c(rnd(4, 6), (6,), bias=rnd(6)), err(NNSpecRuntimeError, rnd(4, 6), 6), c(rnd(4, 6).astype(np.float64), (6,)),
                   c(rnd(4, 6).astype(np.float16), (6,)), c(np.zeros((3, 0), np.float32), (0,)),
                   err_msg(ShapeError, rnd(3, 5), [10]), err_msg(ShapeError, rnd(3, 10), [10], rnd(5)),
                   err(NNSpecRuntimeError, rnd(3, 10), []), err(NNSpecRuntimeError, np.arange(6).reshape(2, 3), [3]),
                   err(NNSpecRuntimeError, rnd(3, 10), [10], rnd(10).astype(np.float64))],
    "group_norm": [c(rnd(4, 6, 5), 3), c(rnd(4, 6, 5), 2, P(rnd(6)), P(rnd(6)), 1e-3), c(rnd(4, 12), 3, bias=rnd(12)),
                   c(rnd(2, 4, 3, 2, 2), 4, rnd(4)), c(rnd(3, 4, 5).astype(f64), 2, rnd(4).astype(f64)),
                   c(rnd(3, 4, 5).astype(f16), 2), c(rnd(3, 4, 5).astype(f16), 2, rnd(4), rnd(4)),  # float16, float32 params
                   c(np.zeros((0, 6, 5), np.float32), 3), c(np.zeros((2, 6, 0), np.float32), 3),
                   c(rnd(4, 6, 5), 3, eps=-1e-3), c(rnd(1, 6), 3),
                   err_msg(ShapeError, rnd(6), 2), err_msg(ShapeError, rnd(4, 6, 5), 4),
                   err_msg(ShapeError, rnd(4, 6, 5), 3, rnd(5)), err_msg(ShapeError, rnd(4, 6, 5), 3, None, rnd(5)),
                   err_msg(ShapeError, rnd(4, 6, 5), 3, rnd(6), rnd(5)),
                   err_msg(ShapeError, rnd(4, 6, 5), 3, rnd(6, 1)), err_msg(ShapeError, rnd(1, 6), 6),
                   err_msg(ShapeError, rnd(1, 3, 1), 3), err_msg(NNSpecRuntimeError, rnd(4, 6, 5), -2),
                   err_msg(NNSpecRuntimeError, rnd(4, 6, 5), 0), err(NNSpecRuntimeError, rnd(4, 6, 5), 3.0),
                   err_msg(NNSpecRuntimeError, rnd(4, 6, 5), 3, rnd(6).astype(f16)),
                   err_msg(NNSpecRuntimeError, rnd(4, 6, 5).astype(f64), 3, rnd(6)),
                   err(NNSpecRuntimeError, np.ones((4, 6, 5), np.int64), 3)],
    "instance_norm": [c(rnd(4, 3, 5)), c(rnd(4, 3, 5, 2), *_bufs(3), rnd(3), rnd(3), momentum=0.3, eps=1e-3),
                      c(rnd(4, 3, 5), *_bufs(3), use_input_stats=False), c(rnd(2, 3, 2, 2, 2), weight=rnd(3)),
                      c(rnd(3, 6), *_bufs(6), use_input_stats=False), c(rnd(4, 3, 5).astype(f64), bias=rnd(3).astype(f64)),
                      c(rnd(4, 3, 5).astype(f16), None, None, rnd(3), rnd(3)),
                      c_tol(1e-2, rnd(4, 3, 5).astype(f16), *_bufs(3, f64), use_input_stats=False),
                      c(rnd(4, 3, 5), *_bufs(3, f64)), c(np.zeros((0, 3, 5), np.float32)),
                      c(np.zeros((2, 3, 0), np.float32), *_bufs(3)), c(np.zeros((0, 3, 5), np.float32), *_bufs(3)),
                      err(NNSpecRuntimeError, np.zeros((0, 3, 5), np.float32), None, None, rnd(3)),
                      c(rnd(4, 3, 5), eps=0),
                      err_msg(ShapeError, rnd(6)), err_msg(ShapeError, rnd(3, 6)), err_msg(ShapeError, rnd(2, 3, 1)),
                      err_msg(NNSpecRuntimeError, rnd(4, 3, 5), use_input_stats=False),
                      err_msg(ShapeError, rnd(4, 6, 5), *_bufs(5)), err_msg(ShapeError, rnd(4, 6, 5), None, None, rnd(5)),
                      err_msg(NNSpecRuntimeError, rnd(4, 3, 5), None, None, rnd(3).astype(f16)),
                      err(NNSpecRuntimeError, np.ones((4, 3, 5), np.int64))],
    "local_response_norm": [c(rnd(1, 5, 7), 3), c(rnd(1, 5, 7, 7), 2), c(rnd(1, 5, 3, 4, 3), 1, 1.0, 0.5, 2.0),
                            c(rnd(2, 3, 4), 100, alpha=0.5), c(rnd(2, 3, 4, 2, 2, 2), 2), c(rnd(2, 6, 3).astype(f16), 3),
                            c(rnd(2, 6, 3, 3).astype(f64), 4, beta=2), c(np.zeros((0, 3, 4), np.float32), 2),
                            c(np.array([[[3], [5], [7]]]), 2, alpha=1.0, beta=1.0, k=0.0),
                            c(np.arange(24).reshape(1, 4, 3, 2) - 9, 3, alpha=0.1),
                            err_msg(ShapeError, rnd(3, 4), 2), err_msg(NNSpecRuntimeError, rnd(2, 3, 4), 0),
                            err_msg(NNSpecRuntimeError, rnd(2, 3, 4), -1),
                            err_msg(NNSpecRuntimeError, np.ones((2, 3, 4), np.int32), 2),
                            err_msg(NNSpecRuntimeError, np.ones((2, 3, 4), bool), 2),
                            err_msg(NNSpecRuntimeError, rnd(2, 3, 4, 4).astype(f16), 2)],
    "rms_norm": [c(rnd(4, 6, 5), [5]), c(rnd(4, 6, 5), (6, 5), P(rnd(6, 5)), 1e-3), c(rnd(4, 6), [6], eps=None),
                 c(np.full((2, 4), 0.01, f16), [4]), c(np.full((2, 4), 1e-5, f64), [4]),  # eps None: float32's / float64's
                 c(rnd(4, 6).astype(f16), [6], rnd(6)), c(rnd(4, 6), [6], rnd(6).astype(f16)),
                 c(rnd(4, 6).astype(f64), [6], rnd(6)), c(np.zeros((0, 5), np.float32), [5]),
                 c(np.zeros((3, 0), np.float32), [0]), c(rnd(4, 5), [5], eps=-1e-3),
                 err_msg(ShapeError, rnd(4, 6, 5), [4]), err_msg(ShapeError, rnd(4, 6, 5), [2, 5]),
                 err_msg(NNSpecRuntimeError, rnd(4, 5), 5), err_msg(NNSpecRuntimeError, rnd(4, 5), []),
                 err_msg(ShapeError, rnd(4, 6, 5), [6, 5], rnd(5)), err(NNSpecRuntimeError, np.ones((4, 5), np.int64), [5])],
    "normalize": [c(rnd(4, 6, 5)), c(rnd(4, 6, 5), 1, -1), c(rnd(4, 6, 5), 3.5, (0, 2)), c(rnd(4, 6), float("inf"), 0),
                  c(rnd(4, 6), float("-inf")), c(rnd(4, 6), 0), c(rnd(4, 6), -1.5), c(rnd(4, 6), "fro"),
                  c(rnd(4, 6), True), c(np.full((), 3.0, np.float32), dim=0),
                  c_tol(1e-2, rnd(4, 6).astype(f16)), c(rnd(4, 6).astype(f64), eps=0.5), c(np.zeros((3, 4), np.float32)),
                  c(np.zeros((0, 3), np.float32)), c(np.zeros((3, 0), np.float32)), c(np.zeros((3, 0), np.float32), 0),
                  err_msg(ShapeError, rnd(4, 6, 5), dim=3), err_msg(ShapeError, np.ones((), np.float32)),
                  err_msg(ShapeError, rnd(3, 4), dim=(1, -1)),
                  err_msg(ShapeError, np.zeros((3, 0), np.float32), float("inf")),
                  err_msg(ShapeError, np.zeros((3, 0), np.float32), -1),
                  err_msg(ShapeError, np.zeros((3, 0), np.float32), -1.5),
                  err_msg(NNSpecRuntimeError, np.ones((3, 4), np.int64))],
}
