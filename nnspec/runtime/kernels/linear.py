"""Affine maps: Linear and Bilinear."""

from __future__ import annotations

import math

from ..backend import get_array_module
from .parallel import MIN_ELEMENTS, over_batch, single_threaded_blas, split_matmul

# up to this many rows, y = (W x^T)^T: OpenBLAS's kernels for a thin right-hand side beat its
# transposed-operand path. Measured on 2 cores (us, x W^T / (W x^T)^T): 8 x 784 -> 1024 329 / 191, 32 x
# 1024 -> 1024 956 / 561, 128 x 1024 -> 1024 2235 / 1980; 1024 x 768 -> 3072 29350 / 52037
FEW_ROWS = 128


def linear(x, weight, bias, out=None):
    """y = x W^T + b. x: (*, in); weight: (out, in); bias: (out,) or None -> (*, out), written into
    ``out`` where given. float16 on NumPy computes in float32 and stores float16, as conv does."""
    xp = get_array_module(x, weight)
    if x.dtype == xp.float16 and xp.__name__ == "numpy":
        y = linear(x.astype(xp.float32), weight.astype(xp.float32), None if bias is None else bias.astype(xp.float32))
        if out is None:
            return y.astype(x.dtype)
        out[...] = y
        return out
    if x.ndim > 2:  # one matmul of (rows, in): NumPy's stacked matmul runs item by item, over 10x slower where the
        # items are small (MultiheadAttention's batch_first input, an (L, N, E) view with N = 2)
        rows = math.prod(x.shape[:-1])
        flat = x.reshape(rows, x.shape[-1])  # (rows, in), a copy only where x's dims do not fold
        if out is None or not out.flags.c_contiguous:
            y = linear(flat, weight, bias).reshape(x.shape[:-1] + (weight.shape[0],))  # (*, out)
            if out is None:
                return y
            out[...] = y
            return out
        linear(flat, weight, bias, out=out.reshape(rows, weight.shape[0]))  # a view of out
        return out
    if x.ndim == 2 and single_threaded_blas.active:  # an execution plan splits the work itself
        y = xp.empty((x.shape[0], weight.shape[0]), x.dtype) if out is None else out
        if x.shape[0] <= FEW_ROWS and x.size * weight.shape[0] >= 16 * MIN_ELEMENTS and xp.__name__ == "numpy":
            # a few rows and a large weight: each thread half of the weight's rows, (W x^T)^T. MobileNetV2's
            # classifier at batch 8, its weight not in cache: 0.56 ms against 0.91 for half the rows of x
            # each (both threads reading all of the weight, transposed)
            def part(cols: slice) -> None:
                y[:, cols] = xp.matmul(weight[cols], x.T).T

            over_batch(xp, weight.shape[0], MIN_ELEMENTS, part)
        else:
            split_matmul(x, weight.T, y)
    elif x.ndim == 2 and 1 < x.shape[0] <= FEW_ROWS and xp.__name__ == "numpy":
        y = xp.empty((x.shape[0], weight.shape[0]), x.dtype) if out is None else out
        y[...] = xp.matmul(weight, x.T).T
    else:
        y = xp.matmul(x, weight.T, out=out)
    if bias is not None:
        y += bias
    return y


def bilinear(x1, x2, weight, bias):
    """y_o = x1^T W_o x2 + b_o. x1: (*, in1); x2: (*, in2); weight: (out, in1, in2) -> (*, out)."""
    xp = get_array_module(x1, x2, weight)
    out, in1, in2 = weight.shape
    t = x1 @ weight.transpose(1, 0, 2).reshape(in1, out * in2)  # (*, out*in2)
    t = t.reshape(x1.shape[:-1] + (out, in2))  # (*, out, in2)
    y = xp.matmul(t, x2[..., :, None])[..., 0]  # (*, out)
    return y if bias is None else y + bias
