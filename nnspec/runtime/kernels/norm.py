"""Batch normalisation with torch's running-statistics update."""

from __future__ import annotations

from ..backend import get_array_module


def batch_norm(x, running_mean, running_var, weight, bias, use_batch_stats: bool, momentum: float, eps: float):
    """Normalise over every dim but 1. x: (N, C, *).

    With batch statistics the biased variance normalises and the unbiased one
    updates ``running_var`` in place: running = (1 - momentum) * running + momentum * batch.
    """
    xp = get_array_module(x)
    axes = (0,) + tuple(range(2, x.ndim))
    bshape = (1, -1) + (1,) * (x.ndim - 2)
    if use_batch_stats:
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)
        if running_mean is not None:
            n = x.size // x.shape[1]
            m = running_mean.dtype.type(momentum)
            running_mean[...] = (1 - m) * running_mean + m * mean
            running_var[...] = (1 - m) * running_var + m * var * (n / (n - 1))
    else:
        mean, var = running_mean, running_var
    inv = 1 / xp.sqrt(var + x.dtype.type(eps))
    scale = inv if weight is None else inv * weight
    shift = -mean * scale if bias is None else bias - mean * scale
    return (x * scale.reshape(bshape) + shift.reshape(bshape)).astype(x.dtype, copy=False)
