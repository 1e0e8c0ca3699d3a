"""Normalisation kernels: batch norm with torch's running-statistics update, layer, group, instance, local response
and RMS norm, and the vector norms (F.normalize, the distances)."""

from __future__ import annotations

import contextlib

from ..backend import get_array_module


def batch_norm(x, running_mean, running_var, weight, bias, use_batch_stats: bool, momentum: float, eps: float):
    """Normalise over every dim but 1. x: (N, C, *).

    With batch statistics the biased variance normalises and the unbiased one
    updates ``running_var`` in place: running = (1 - momentum) * running + momentum * batch.

    float16 inputs compute in float32 (torch's CPU opmath type): the statistics,
    the running-statistics update and the normalisation, with the results stored
    back in the running-statistic and input dtypes. As in torch, the batch mean and
    inverse std are kept in the parameter dtype (float16 unless the parameters are
    float32) before they normalise, as torch's saved statistics are.
    """
    xp = get_array_module(x)
    axes = (0,) + tuple(range(2, x.ndim))
    bshape = (1, -1) + (1,) * (x.ndim - 2)
    half = x.dtype == xp.float16
    ct = xp.dtype(xp.float32) if half else x.dtype  # compute dtype
    params = [t for t in (running_mean, weight, bias) if t is not None]
    pdt = params[0].dtype if params else x.dtype  # where torch keeps the saved statistics
    xc = x.astype(ct, copy=False)
    if use_batch_stats:
        mean = xc.mean(axis=axes)  # float16 never sums in float16: it overflows past 65504
        var = xc.var(axis=axes)
        if running_mean is not None:
            n = x.size // x.shape[1]
            if half:
                m = ct.type(momentum)
                running_mean[...] = (1 - m) * running_mean.astype(ct) + m * mean
                running_var[...] = (1 - m) * running_var.astype(ct) + m * (var * ct.type(n / (n - 1)))
            else:
                m = running_mean.dtype.type(momentum)
                running_mean[...] = (1 - m) * running_mean + m * mean
                running_var[...] = (1 - m) * running_var + m * var * (n / (n - 1))
        if half:  # torch takes invstd in double, and keeps the saved mean and invstd in the parameter dtype
            inv = (1 / xp.sqrt(var.astype(xp.float64) + eps)).astype(pdt).astype(ct)
            mean = mean.astype(pdt).astype(ct)
        else:
            inv = 1 / xp.sqrt(var + x.dtype.type(eps))
    elif half:
        mean = running_mean.astype(ct, copy=False)
        inv = 1 / xp.sqrt(running_var.astype(ct, copy=False) + ct.type(eps))
    else:
        mean = running_mean
        inv = 1 / xp.sqrt(running_var + x.dtype.type(eps))
    if half:
        scale = inv if weight is None else inv * weight.astype(ct, copy=False)
        # torch: alpha = invstd * weight and beta = bias - mean * alpha in float32, then one fused
        # multiply-add per element. x * alpha is exact in float64 (11 + 24 significant bits), so the
        # float64 sum rounded to float32 is that FMA; the unfused form loses x * alpha's low bits,
        # which matters where x * alpha and beta nearly cancel.
        shift = (ct.type(0) if bias is None else bias.astype(ct, copy=False)) - mean * scale
        wide = xp.float64
        y = x.astype(wide) * scale.astype(wide).reshape(bshape) + shift.astype(wide).reshape(bshape)
        return y.astype(ct).astype(x.dtype)
    scale = inv if weight is None else inv * weight
    shift = -mean * scale if bias is None else bias - mean * scale
    return (x * scale.reshape(bshape) + shift.reshape(bshape)).astype(x.dtype, copy=False)


def layer_norm(x, nd: int, weight, bias, eps: float):
    """Normalise over the last ``nd`` dims with the biased variance, then scale and shift (weight and bias
    have those dims' shape, or are None). float16 computes in float32 (torch's CPU opmath)."""
    xp = get_array_module(x)
    ct = xp.dtype(xp.float32) if x.dtype == xp.float16 else x.dtype
    xc = x.astype(ct, copy=False)
    axes = tuple(range(x.ndim - nd, x.ndim))
    mean = xc.mean(axis=axes, keepdims=True)
    centred = xc - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    y = centred * (1 / xp.sqrt(var + ct.type(eps)))
    if weight is not None:
        y = y * weight.astype(ct, copy=False)
    if bias is not None:
        y = y + bias.astype(ct, copy=False)
    return y.astype(x.dtype, copy=False)


def _compute_dtype(xp, x):
    """torch's CPU opmath: float16 computes in float32."""
    return xp.dtype(xp.float32) if x.dtype == xp.float16 else x.dtype


def group_norm(x, groups: int, weight, bias, eps: float):
    """Normalise each of ``groups`` groups of channels of each sample over its channels and spatial dims (biased
    variance), then scale and shift per channel. x: (N, C, *), C divisible by groups; weight, bias: (C,) or None."""
    xp = get_array_module(x)
    if x.size == 0:
        return x.copy()
    ct = _compute_dtype(xp, x)
    n, c = x.shape[:2]
    xg = x.astype(ct, copy=False).reshape(n, groups, -1)  # (N, G, C/G * prod(S))
    mean = xg.mean(axis=2, keepdims=True)
    centred = xg - mean
    var = (centred * centred).mean(axis=2, keepdims=True)
    y = (centred * (1 / xp.sqrt(var + ct.type(eps)))).reshape(x.shape)  # (N, C, *S)
    bshape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.astype(ct, copy=False).reshape(bshape)
    if bias is not None:
        y = y + bias.astype(ct, copy=False).reshape(bshape)
    return y.astype(x.dtype, copy=False)


def instance_norm(x, running_mean, running_var, weight, bias, use_input_stats: bool, momentum: float, eps: float):
    """torch's instance_norm: batch norm of the input seen as (1, N*C, *S), with the affine parameters and running
    statistics repeated N times; the running statistics become the mean over the batch of the N updated copies.
    x: (N, C, *S); running_mean, running_var, weight, bias: (C,) or None."""
    xp = get_array_module(x)
    b, c = x.shape[:2]
    rm = None if running_mean is None else xp.tile(running_mean, b)  # (N*C,)
    rv = None if running_var is None else xp.tile(running_var, b)
    w = None if weight is None else xp.tile(weight, b)
    bi = None if bias is None else xp.tile(bias, b)
    if x.size == 0:  # batch_norm returns an empty input as it is, its statistics untouched
        y = x.copy()
    else:
        y = batch_norm(x.reshape((1, b * c) + x.shape[2:]), rm, rv, w, bi, use_input_stats, momentum, eps)
        y = y.reshape(x.shape)
    for running, copies in ((running_mean, rm), (running_var, rv)):
        if running is not None and use_input_stats:  # (the running statistics alone leave them as they are)
            if b == 0:  # the mean over an empty batch: NaN, as in torch
                running[...] = float("nan")
            else:
                running[...] = copies.reshape(b, -1).mean(axis=0).astype(running.dtype, copy=False)
    return y


def local_response_norm(x, size: int, alpha: float, beta: float, k: float):
    """x / (k + alpha * mean of x**2 over a window of ``size`` channels)**beta, the window zero-padded by size//2
    before and (size-1)//2 after each channel. x: (N, C, *). An integer input averages its integer squares with
    integer division and gives float32, as torch's pooling of an integer tensor does."""
    xp = get_array_module(x)
    if x.size == 0:
        return x
    integer = x.dtype.kind in "iub"
    ct = xp.dtype(xp.int64) if integer else _compute_dtype(xp, x)
    sq = (x * x).astype(ct, copy=False)
    c = x.shape[1]
    acc = xp.zeros_like(sq)
    # channel i sums sq[i + o] for o in [-(size//2), (size-1)//2]; only offsets that reach a channel matter
    for o in range(max(-(size // 2), -(c - 1)), min((size - 1) // 2, c - 1) + 1):
        lo, hi = max(0, -o), c - max(0, o)
        acc[:, lo:hi] += sq[:, lo + o:hi + o]
    if integer:
        avg = (acc // size).astype(xp.float32)
        ct = xp.dtype(xp.float32)
    else:
        avg = acc / ct.type(size)
    div = (avg * ct.type(alpha) + ct.type(k)) ** ct.type(beta)
    y = x.astype(ct, copy=False) / div
    return y if integer else y.astype(x.dtype, copy=False)


def rms_norm(x, nd: int, weight, eps: float | None):
    """x / sqrt(mean(x**2 over the last ``nd`` dims) + eps), times weight; eps None is the compute dtype's machine
    epsilon. float16 computes in float32; the result has the input's dtype, whatever the weight's."""
    xp = get_array_module(x)
    ct = _compute_dtype(xp, x)
    xc = x.astype(ct, copy=False)
    if eps is None:
        eps = float(xp.finfo(ct).eps)
    axes = tuple(range(x.ndim - nd, x.ndim))
    if x.size == 0:
        return x.copy()
    y = xc * (1 / xp.sqrt((xc * xc).mean(axis=axes, keepdims=True) + ct.type(eps)))
    if weight is not None:
        y = y * weight.astype(ct, copy=False)
    return y.astype(x.dtype, copy=False)


def vector_norm(x, p: float, axis, keepdims: bool = False):
    """torch.linalg.vector_norm in x's dtype (float16 computes in float32): p = 0 counts non-zeros, +-inf is the
    max / min of |x|, otherwise (sum |x|**p)**(1/p). ``axis`` is an int, a tuple or None (every dim)."""
    xp = get_array_module(x)
    ct = _compute_dtype(xp, x)
    a = xp.abs(x.astype(ct, copy=False))
    if p == 2:
        y = xp.sqrt((a * a).sum(axis=axis, keepdims=keepdims))
    elif p == 1:
        y = a.sum(axis=axis, keepdims=keepdims)
    elif p == float("inf"):
        y = a.max(axis=axis, keepdims=keepdims)
    elif p == float("-inf"):
        y = a.min(axis=axis, keepdims=keepdims)
    elif p == 0:
        y = (a != 0).sum(axis=axis, keepdims=keepdims).astype(ct)
    else:
        with _quiet(xp):
            y = ((a ** ct.type(p)).sum(axis=axis, keepdims=keepdims)) ** ct.type(1 / p)
    return xp.asarray(y).astype(x.dtype, copy=False)


def normalize(x, p: float, axis, eps: float):
    """x / max(vector_norm(x, p, axis), eps), the norm broadcast along ``axis``."""
    xp = get_array_module(x)
    ct = _compute_dtype(xp, x)
    xc = x.astype(ct, copy=False)
    with _quiet(xp):
        denom = xp.maximum(vector_norm(xc, p, axis, keepdims=True), ct.type(eps))
        return (xc / denom).astype(x.dtype, copy=False)


def _quiet(xp):
    """Silence NumPy's floating-point warnings (0 ** -1 is inf, as in torch)."""
    errstate = getattr(xp, "errstate", None)
    return errstate(invalid="ignore", over="ignore", divide="ignore") if errstate else contextlib.nullcontext()
