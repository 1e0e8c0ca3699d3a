"""Adaptive and fractional max pooling, max unpooling and the power steps of LP pooling.

The max pools pick, in each window, what torch's CPU loops pick: scanning the window in row-major
order, a value > the running max (initially -inf) or a NaN takes over, so a window holds its first
maximum, or its last NaN. Windows here are separable (a product of one range per spatial dim), so
the choice is made one dim at a time, the last dim first: per row the first maximum (or last NaN),
then per window the first row holding the maximum (or the last row holding a NaN) is the row-major
first maximum (last NaN) of the whole window. Indices are flat offsets into each input plane.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence

import numpy  # host tables and dtype objects only; the array math goes through get_array_module

from ..backend import get_array_module
from .pool import adaptive_ranges


def _choose(xp, g):
    """torch's max choice over the last axis of ``g`` (floating point): (value, slot), the first slot holding
    the maximum, or the last NaN where there is one."""
    size = g.shape[-1]
    top = g.max(axis=-1, keepdims=True)  # NaN where the row has one
    slot = (g == top).argmax(axis=-1)
    isnan = xp.isnan(g)
    last_nan = (size - 1) - isnan[..., ::-1].argmax(axis=-1)
    slot = xp.where(isnan.any(axis=-1), last_nan, slot)
    value = xp.take_along_axis(g, slot[..., None], axis=-1)[..., 0]
    return value, slot


def _reduce_dim(xp, vals, index, axis: int, starts, length: int, valid, place: int):
    """Windows along ``axis``: window j holds positions starts[..., j] + [0, length), where ``valid`` (None: all).

    vals, index: (N, C, *S'), index the flat offset chosen so far (None before the first dim reduced);
    starts: a host (out,) table, or an (N, C, out) array (fractional pooling: per plane); valid: a host
    (out, length) table or None. Returns vals and index with ``axis`` of size out, index now counting this
    dim's chosen coordinate times ``place``."""
    out = starts.shape[-1]
    slots = numpy.arange(length)
    shape = [1] * vals.ndim
    shape[axis] = out * length
    if starts.ndim == 1:  # the same windows in every plane
        pos = starts[:, None] + slots[None, :]  # (out, length)
        if valid is not None:
            pos = numpy.where(valid, pos, starts[:, None])  # a slot past the bin's end reads its start
        begin = xp.asarray(starts)
        pos = xp.asarray(pos.reshape(shape))
    else:
        shape[:2] = starts.shape[:2]
        begin = starts.reshape(starts.shape[:2] + (1,) * (vals.ndim - 3) + (out,))
        pos = (starts[..., None] + xp.asarray(slots)).reshape(shape)  # (N, C, 1.., out * length, 1..)

    def gather(a):  # (N, C, ...other dims, out, length)
        g = xp.moveaxis(xp.take_along_axis(a, pos, axis=axis), axis, -1)
        return g.reshape(g.shape[:-1] + (out, length))

    g = gather(vals)
    if valid is not None:
        g = xp.where(xp.asarray(valid), g, g.dtype.type(-numpy.inf))  # never chosen over a slot of the bin
    value, slot = _choose(xp, g)  # (N, C, ...other dims, out)
    flat = (begin + slot) * place
    if index is not None:
        flat = flat + xp.take_along_axis(gather(index), slot[..., None], axis=-1)[..., 0]
    return xp.moveaxis(value, -1, axis), xp.moveaxis(flat, -1, axis)


def _empty(xp, x, out):
    shape = x.shape[:2] + tuple(out)
    return xp.empty(shape, dtype=x.dtype), xp.zeros(shape, dtype=xp.int64)


def adaptive_max_pool(x, output_size: Sequence[int]):
    """Adaptive max pooling of a batched (N, C, *S) floating-point input over torch's adaptive bins (start
    floor(i*size/out), end ceil((i+1)*size/out)): (values, int64 indices), each (N, C, *output_size)."""
    xp = get_array_module(x)
    nd = len(output_size)
    spatial = x.shape[2:]
    if x.size == 0 or 0 in output_size:
        return _empty(xp, x, output_size)
    vals, index = x, None
    for i in reversed(range(nd)):
        start, end = adaptive_ranges(spatial[i], output_size[i])
        length = end - start
        longest = int(length.max())
        valid = numpy.arange(longest)[None, :] < length[:, None]  # (out, longest)
        vals, index = _reduce_dim(xp, vals, index, 2 + i, start, longest, None if valid.all() else valid,
                                  math.prod(spatial[i + 1:]))
    return xp.ascontiguousarray(vals), xp.ascontiguousarray(index.astype(xp.int64, copy=False))


def fractional_starts(samples, size: int, out: int, kernel: int):
    """torch's fractional-pooling windows along one dim: each plane's (N, C) sample u gives window starts
    int((i + u) * alpha) - int(u * alpha), alpha = (size - kernel) / (out - 1), for i < out - 1, and
    size - kernel for the last; computed in the samples' dtype as torch does (float16 rounds each step).
    Returns (N, C, out) int64."""
    xp = get_array_module(samples)
    t = samples.dtype.type
    starts = xp.full(samples.shape + (out,), size - kernel, dtype=xp.int64)
    if out > 1:
        alpha = t(t(size - kernel) / t(out - 1))
        i = xp.arange(out - 1).astype(samples.dtype)
        a = ((i + samples[..., None]) * alpha).astype(xp.int32)  # C's (int) cast: toward zero
        b = (samples * alpha).astype(xp.int32)
        starts[..., : out - 1] = a.astype(xp.int64) - b.astype(xp.int64)[..., None]
    return starts


def fractional_max_pool(x, kernel: Sequence[int], output_size: Sequence[int], samples):
    """Fractional max pooling of a batched (N, C, *S) floating-point input: windows of ``kernel`` at the
    starts ``fractional_starts`` draws from ``samples`` (N', C, nd), N' >= N, the same dtype as x; torch
    takes sample 0 for W and 1 for H in 2-d, 0 for T, 1 for H and 2 for W in 3-d. Returns (values,
    int64 indices), each (N, C, *output_size)."""
    xp = get_array_module(x)
    nd = len(kernel)
    spatial = x.shape[2:]
    if x.size == 0 or 0 in output_size:
        return _empty(xp, x, output_size)
    samples = samples[: x.shape[0]]
    which = (1, 0) if nd == 2 else tuple(range(nd))  # the sample each spatial dim takes
    vals, index = x, None
    for i in reversed(range(nd)):
        starts = fractional_starts(samples[..., which[i]], spatial[i], output_size[i], kernel[i])
        vals, index = _reduce_dim(xp, vals, index, 2 + i, starts, kernel[i], None, math.prod(spatial[i + 1:]))
    return xp.ascontiguousarray(vals), xp.ascontiguousarray(index.astype(xp.int64, copy=False))


def random_samples(generator, shape: Sequence[int], dtype):
    """What torch.rand(shape, dtype=dtype) gives: uniform in [0, 1) on the dtype's mantissa grid (24 bits for
    float32, 11 for float16, 53 for float64), so no draw rounds up to 1. A host array."""
    digits = numpy.finfo(dtype).nmant + 1
    u = generator.random(tuple(shape))  # float64 multiples of 2**-53
    return (numpy.floor(u * 2.0**digits) * 2.0**-digits).astype(dtype)


def max_unpool(x, indices, output_size: Sequence[int]):
    """Scatter a batched (N, C, *s) input into zeros of (N, C, *output_size) at its flat plane ``indices``
    (checked in range by the caller). An index given twice keeps one of its values (torch's order is
    unspecified there too; a max pool's repeated index carries one value)."""
    xp = get_array_module(x)
    n, c = x.shape[:2]
    size = math.prod(output_size)
    y = xp.zeros((n * c, size), dtype=x.dtype)
    if x.size:
        planes = xp.arange(n * c)[:, None]
        y[planes, indices.reshape(n * c, -1)] = x.reshape(n * c, -1)  # (N*C, s) values into (N*C, size)
    return y.reshape((n, c) + tuple(output_size))


def _pow(xp, x, exponent):
    """x ** exponent for a floating-point x; float16 computes in float32 (torch's CPU opmath) and rounds."""
    with _quiet(xp):  # a negative base to a fractional power is NaN, as in torch, without a warning
        if x.dtype == xp.float16:
            return xp.asarray(x.astype(xp.float32) ** xp.float32(exponent)).astype(xp.float16)
        return xp.asarray(x ** x.dtype.type(exponent))


def _quiet(xp):
    errstate = getattr(xp, "errstate", None)
    return errstate(invalid="ignore", over="ignore", divide="ignore") if errstate else contextlib.nullcontext()


def lp_power(x, p):
    """x ** p as torch's x.pow(p): a floating-point x keeps its dtype, an int64 x keeps int64 for an
    int p >= 0 and gives float32 for a float p."""
    xp = get_array_module(x)
    if x.dtype.kind == "f":
        return _pow(xp, x, p)
    if isinstance(p, int):
        return xp.asarray(x ** p)
    return _pow(xp, x.astype(xp.float32), p)


def lp_root(out, size: int, p):
    """torch's last LP-pooling step: (sign(out) * relu(|out|) * size) ** (1 / p), out the mean of x ** p over
    each window of ``size`` elements; an int64 mean gives float32."""
    xp = get_array_module(out)
    y = xp.sign(out) * xp.maximum(xp.abs(out), out.dtype.type(0))
    y = xp.asarray(y * (out.dtype.type(size) if out.dtype.kind == "f" else size))
    if y.dtype.kind != "f":
        y = y.astype(xp.float32)
    return _pow(xp, y, 1.0 / p)
