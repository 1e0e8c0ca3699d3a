"""Registry parity cases of the convolution family (merged by test_tensor_ops.py): F.conv_transpose3d."""

from __future__ import annotations

import numpy as np

from nnspec.errors import NNSpecRuntimeError, ShapeError

from op_cases import P, c, c_tol, err, err_msg, rnd

x5 = rnd(2, 4, 3, 4, 3)
w5 = rnd(4, 3, 2, 3, 2)

NN_CASES = {
    "conv_transpose3d": [
        c(x5, w5, rnd(3)),
        c(x5, P(w5), P(rnd(6)), stride=(2, 1, 2), padding=1, output_padding=(1, 0, 1), groups=2),
        c(x5, w5, None, 2, (0, 1, 2), 1, 1, (1, 2, 1)),  # positional: stride, padding, output_padding, groups, dilation
        c(x5[0], w5, stride=3, padding=2),  # unbatched
        c(np.zeros((0, 4, 3, 4, 3), np.float32), w5),  # an empty batch
        c(x5.astype(np.float64), w5.astype(np.float64), rnd(3).astype(np.float64), stride=2, dilation=2),
        c_tol(1e-2, x5.astype(np.float16), w5.astype(np.float16), None, 2),
        err_msg(ShapeError, rnd(1, 3, 3, 3, 3), w5),  # 3 channels for a weight that takes 4
        err_msg(ShapeError, x5, w5, groups=3),  # the groups don't split the weight's 4 input channels
        err_msg(ShapeError, x5, w5, rnd(4)),  # a bias of the wrong size
        err_msg(NNSpecRuntimeError, x5, w5, groups=0),
        err(ShapeError, rnd(4, 3, 3), w5),  # 3 dims: neither batched nor unbatched 3-d
        err(NNSpecRuntimeError, x5, w5, stride=2, output_padding=2),  # output padding not below the stride
        err(ShapeError, rnd(1, 4, 1, 1, 1), rnd(4, 2, 1, 1, 1), padding=1),  # an output size below 1
        err(ShapeError, rnd(1, 4, 3, 0, 3), w5),  # empty but for the batch or the channels
        err(NNSpecRuntimeError, x5, w5.astype(np.float64)),  # mixed dtypes
    ],
}
