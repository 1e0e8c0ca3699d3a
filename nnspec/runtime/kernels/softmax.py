"""Softmax and log-softmax along one dim, shifted by the max so exp never overflows."""

from __future__ import annotations

import contextlib

from ..backend import get_array_module


def _quiet(xp):
    """Silence NumPy's floating-point warnings (inf - inf in an all-inf row gives NaN, as in torch)."""
    errstate = getattr(xp, "errstate", None)
    return errstate(invalid="ignore", over="ignore", divide="ignore") if errstate else contextlib.nullcontext()


def _prepare(x, dim: int):
    """(compute array, axis): float16 computes in float32 (torch's CPU opmath), a 0-d input as 1-d."""
    xp = get_array_module(x)
    ct = xp.dtype(xp.float32) if x.dtype == xp.float16 else x.dtype
    xc = x.astype(ct, copy=False)
    return (xc.reshape(1), 0) if x.ndim == 0 else (xc, dim)


def softmax(x, dim: int):
    """exp(x - max) / sum(exp(x - max)) along ``dim`` (already wrapped, >= 0). x: floating point."""
    xp = get_array_module(x)
    if x.size == 0:
        return x.copy()
    xc, axis = _prepare(x, dim)
    with _quiet(xp):
        e = xp.exp(xc - xc.max(axis=axis, keepdims=True))
        y = e / e.sum(axis=axis, keepdims=True)
    return y.reshape(x.shape).astype(x.dtype, copy=False)


def log_softmax(x, dim: int):
    """(x - max) - log(sum(exp(x - max))) along ``dim`` (already wrapped, >= 0). x: floating point."""
    xp = get_array_module(x)
    if x.size == 0:
        return x.copy()
    xc, axis = _prepare(x, dim)
    with _quiet(xp):
        s = xc - xc.max(axis=axis, keepdims=True)
        y = s - xp.log(xp.exp(s).sum(axis=axis, keepdims=True))
    return y.reshape(x.shape).astype(x.dtype, copy=False)
