"""Batch normalisation with torch's running-statistics update."""

from __future__ import annotations

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
