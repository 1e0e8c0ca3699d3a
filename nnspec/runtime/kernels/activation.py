"""Pointwise activations. ``out=x`` gives torch's inplace=True."""

from __future__ import annotations

import math

from ..backend import get_array_module
from . import special


def relu(x, inplace: bool = False):
    xp = get_array_module(x)
    return xp.maximum(x, x.dtype.type(0), out=x if inplace else xp.empty_like(x))  # 0-d stays an array


def hardtanh(x, min_val: float, max_val: float, inplace: bool = False):
    """x clamped to [min_val, max_val] (NaN stays NaN, as torch's clamp keeps it)."""
    xp = get_array_module(x)
    lo, hi = x.dtype.type(min_val), x.dtype.type(max_val)
    return xp.clip(x, lo, hi, out=x if inplace else xp.empty_like(x))


def leaky_relu(x, negative_slope: float, inplace: bool = False):
    xp = get_array_module(x)
    y = xp.where(x > 0, x, x * x.dtype.type(negative_slope))
    if inplace:
        x[...] = y
        return x
    return y


def prelu(x, weight):
    """weight: (1,) or (C,), broadcast over dim 1 (dim 0 for a 1-d input)."""
    xp = get_array_module(x, weight)
    if weight.size > 1 and x.ndim >= 2:
        weight = weight.reshape((1, -1) + (1,) * (x.ndim - 2))
    elif weight.size == 1:
        weight = weight.reshape(())  # one slope: the output keeps x's shape, a 0-d input's included
    return xp.where(x > 0, x, x * weight)


def _compute_dtype(x):
    """float16 computes in float32, as torch's CPU kernels do (their opmath type)."""
    xp = get_array_module(x)
    return xp.dtype(xp.float32) if x.dtype == xp.float16 else x.dtype


def sigmoid(x):
    """1 / (1 + exp(-x)) without overflow: exp only ever sees -|x|. x: a floating-point array."""
    xp = get_array_module(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    e = xp.exp(-xp.abs(xc))
    y = xp.where(xc >= 0, 1 / (1 + e), e / (1 + e))
    return y.astype(x.dtype, copy=False)


def tanh(x):
    xp = get_array_module(x)
    return xp.asarray(xp.tanh(x.astype(_compute_dtype(x), copy=False))).astype(x.dtype, copy=False)


def gelu(x, approximate: str):
    """x * Phi(x): 0.5 * x * (1 + erf(x / sqrt(2))), or with tanh in place of erf ('tanh'). x: floating point."""
    xp = get_array_module(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    if approximate == "tanh":
        inner = xc.dtype.type(math.sqrt(2 / math.pi)) * (xc + xc.dtype.type(0.044715) * xc * xc * xc)
        y = 0.5 * xc * (1 + xp.tanh(inner))
    else:
        y = 0.5 * xc * (1 + special.erf(xc * xc.dtype.type(1 / math.sqrt(2))))
    return xp.asarray(y).astype(x.dtype, copy=False)  # a 0-d input's arithmetic gives a scalar: an array again
