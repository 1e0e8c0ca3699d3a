"""Pointwise activations. ``out=x`` gives torch's inplace=True."""

from __future__ import annotations

import contextlib
import math

from ..backend import get_array_module
from . import special


def relu(x, inplace: bool = False):
    xp = get_array_module(x)
    out = x if inplace else xp.empty_like(x)  # 0-d stays an array
    if x.dtype.kind == "f":  # NaN stays NaN either way; NumPy's clip has a SIMD loop, maximum by a scalar none
        return xp.clip(x, x.dtype.type(0), x.dtype.type("inf"), out=out)
    return xp.maximum(x, x.dtype.type(0), out=out)


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
    elif xc.dtype == xp.float32 and xc.ndim:  # 1 + erf(z) as erfc(-z): in cache, and exact in the tail
        y = xc * special.one_plus_erf(xc * xc.dtype.type(1 / math.sqrt(2)))
        y *= xc.dtype.type(0.5)
    else:
        y = 0.5 * xc * (1 + special.erf(xc * xc.dtype.type(1 / math.sqrt(2))))
    return xp.asarray(y).astype(x.dtype, copy=False)  # a 0-d input's arithmetic gives a scalar: an array again


# --------------------------------------------------------------------------- the rest of torch.nn's activations
# Each computes in the opmath type (float32 for float16) and rounds once to the input's dtype; ``inplace``
# writes the result into ``x`` (torch's inplace=True and F.<op>_).


def _quiet(xp):
    """Silence NumPy's floating-point warnings: overflow to inf and inf - inf are the results torch gives too."""
    errstate = getattr(xp, "errstate", None)
    return errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore") if errstate \
        else contextlib.nullcontext()


def _store(x, y, inplace: bool):
    """y in x's dtype: written into x (in place) or as a new array."""
    xp = get_array_module(x)
    if inplace:
        x[...] = y
        return x
    return xp.asarray(y).astype(x.dtype, copy=False)  # a 0-d result is a NumPy scalar


def _softplus1(xc):
    """log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))."""
    xp = get_array_module(xc)
    return xp.maximum(xc, 0) + xp.log1p(xp.exp(-xp.abs(xc)))


def elu(x, alpha: float, scale: float = 1.0, input_scale: float = 1.0, inplace: bool = False):
    """x * scale for x > 0, else (exp(x * input_scale) - 1) * alpha * scale (torch's elu; selu and celu are
    elu with other coefficients)."""
    xp = get_array_module(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    t = xc.dtype.type
    with _quiet(xp):
        neg = xp.expm1(xc * t(input_scale)) * (t(alpha) * t(scale))
        y = xp.where(xc <= 0, neg, xc * t(scale))
    return _store(x, y, inplace)


def hardshrink(x, lambd: float):
    """0 where -lambd <= x <= lambd, else x."""
    xp = get_array_module(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    lam = xc.dtype.type(x.dtype.type(lambd))  # torch converts lambd to x's dtype
    return _store(x, xp.where((xc >= -lam) & (xc <= lam), xc.dtype.type(0), xc), False)


def softshrink(x, lambd: float):
    """x - lambd above lambd, x + lambd below -lambd, else 0 (x * 0 + 0: +0 as torch's vectorised kernel gives,
    and NaN stays NaN)."""
    xp = get_array_module(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    lam = xc.dtype.type(lambd)
    with _quiet(xp):
        y = xp.where(xc > lam, xc - lam, xp.where(xc < -lam, xc + lam, xc * 0 + 0))
    return _store(x, y, False)


def hardsigmoid(x, inplace: bool = False):
    """min(max(x + 3, 0), 6) / 6."""
    xp = get_array_module(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    return _store(x, xp.minimum(xp.maximum(xc + 3, 0), 6) / 6, inplace)


def hardswish(x, inplace: bool = False):
    """x * min(max(x + 3, 0), 6) / 6."""
    xp = get_array_module(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    with _quiet(xp):
        y = xc * xp.minimum(xp.maximum(xc + 3, 0), 6) / 6
    return _store(x, y, inplace)


def logsigmoid(x):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), which never overflows."""
    xp = get_array_module(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    return _store(x, xp.minimum(xc, 0) - xp.log1p(xp.exp(-xp.abs(xc))), False)


def mish(x, inplace: bool = False):
    """x * tanh(softplus(x))."""
    xp = get_array_module(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    with _quiet(xp):
        y = xc * xp.tanh(_softplus1(xc))
    return _store(x, y, inplace)


def silu(x, inplace: bool = False):
    """x * sigmoid(x)."""
    xp = get_array_module(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    e = xp.exp(-xp.abs(xc))
    with _quiet(xp):
        y = xc * xp.where(xc >= 0, 1 / (1 + e), e / (1 + e))
    return _store(x, y, inplace)


def softplus(x, beta: float, threshold: float):
    """log1p(exp(x * beta)) / beta, and x itself where x * beta > threshold (torch's reversion to linear)."""
    xp = get_array_module(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    t = xc.dtype.type
    b = t(beta)
    with _quiet(xp):
        xb = xc * b
        y = xp.where(xb > t(threshold), xc, xp.log1p(xp.exp(xb)) / b)
    return _store(x, y, False)


def softsign(x):
    """x / (|x| + 1). x: floating point (the caller converts integers)."""
    xp = get_array_module(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    with _quiet(xp):
        y = xc / (xp.abs(xc) + 1)
    return _store(x, y, False)


def tanhshrink(x):
    """x - tanh(x). x: floating point (the caller converts integers)."""
    xp = get_array_module(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    with _quiet(xp):
        y = xc - xp.tanh(xc)
    return _store(x, y, False)


def threshold(x, threshold, value, inplace: bool = False):
    """value where x <= threshold, else x. threshold and value: scalars of x's compute type (integers for an
    integer x, already converted as torch converts them)."""
    xp = get_array_module(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    y = xp.where(xc <= xc.dtype.type(threshold), x.dtype.type(value), xc)
    return _store(x, y, inplace)


def rrelu(x, lower: float, upper: float, training: bool, generator=None, inplace: bool = False):
    """x where x > 0, else x times a slope: drawn per element from uniform(lower, upper) in training (from the
    seeded ``generator``), (lower + upper) / 2 in eval."""
    xp = get_array_module(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    if training:
        slope = xp.asarray(generator.uniform(lower, upper, x.shape)).astype(xc.dtype)  # (*x.shape)
        y = xp.where(xc <= 0, xc * slope, xc)
    else:
        y = xp.where(xc > 0, xc, xc * xc.dtype.type((lower + upper) / 2))
    return _store(x, y, inplace)


def glu(x, dim: int):
    """a * sigmoid(b), a and b the first and second halves of x along ``dim`` (already wrapped, >= 0)."""
    xp = get_array_module(x)
    xc = x.astype(_compute_dtype(x), copy=False)
    half = x.shape[dim] // 2
    a = xc[(slice(None),) * dim + (slice(0, half),)]  # (..., half, ...)
    b = xc[(slice(None),) * dim + (slice(half, None),)]
    e = xp.exp(-xp.abs(b))
    with _quiet(xp):
        y = a * xp.where(b >= 0, 1 / (1 + e), e / (1 + e))
    return xp.asarray(y).astype(x.dtype, copy=False)
