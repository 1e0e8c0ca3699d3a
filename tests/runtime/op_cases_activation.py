"""Registry parity cases of the activation family (merged by test_tensor_ops.py)."""

from __future__ import annotations

import numpy as np

from nnspec.errors import NNSpecRuntimeError

from op_cases import c, err, rnd

NN_CASES = {
    "gelu": [c(rnd(2, 5)), c(rnd(3, 4) * 4, approximate="tanh"), c(rnd(7).astype(np.float64)),
             c(rnd(2, 3).astype(np.float16), approximate="tanh"), # not +inf: torch 2.13 gives nan for it in its vectorised float32 kernel and inf for one element
             c(np.array([-np.inf, np.nan, 0.0, 1e30, -1e30], np.float32)),
             err(NNSpecRuntimeError, rnd(3), approximate="exact"),
             err(NNSpecRuntimeError, np.arange(3))],
}
