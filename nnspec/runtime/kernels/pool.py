"""Max, average and adaptive average pooling over the trailing spatial dims."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy

from ..backend import get_array_module
from .window import pad_or_crop, windows


def pool_out_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """torch's pooling_output_shape: a ceil-mode window must start inside the input or left padding."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _padded_windows(x, kernel, stride, padding, dilation, out, value):
    """Pad (left: padding, right: whatever the last window needs) and view the windows."""
    nd = len(kernel)
    pads = []
    for i in range(nd):
        need = (out[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1
        pads.append((padding[i], max(need - x.shape[2 + i] - padding[i], 0)))
    xpad = pad_or_crop(x, pads, value)
    return windows(xpad, kernel, stride, dilation, out)  # (N, C, *out, *kernel)


def max_pool(x, kernel, stride, padding, dilation, ceil_mode: bool, return_indices: bool):
    """Max over each window; padding never wins. Indices are flat offsets into each input plane."""
    xp = get_array_module(x)
    nd = len(kernel)
    spatial = x.shape[2:]
    out = tuple(pool_out_size(spatial[i], kernel[i], stride[i], padding[i], dilation[i], ceil_mode) for i in range(nd))
    win = _padded_windows(x, kernel, stride, padding, dilation, out, -numpy.inf)
    flat = win.reshape(x.shape[:2] + out + (math.prod(kernel),))  # (N, C, *out, K)
    y = flat.max(axis=-1)
    if not return_indices:
        return y
    arg = flat.argmax(axis=-1)  # (N, C, *out): offset inside the window
    index = xp.zeros(arg.shape, dtype=xp.int64)
    rem = arg
    for i in reversed(range(nd)):  # unravel the window offset, innermost dim first
        kpos = rem % kernel[i]
        rem = rem // kernel[i]
        opos = xp.arange(out[i], dtype=xp.int64).reshape((-1,) + (1,) * (nd - 1 - i))
        coord = opos * stride[i] - padding[i] + kpos * dilation[i]
        index = index + coord * math.prod(spatial[i + 1 :])
    return y, index


def avg_pool(x, kernel, stride, padding, ceil_mode: bool, count_include_pad: bool, divisor_override):
    """Mean over each window with torch's divisor rules for padding and ceil mode."""
    xp = get_array_module(x)
    nd = len(kernel)
    spatial = x.shape[2:]
    ones = (1,) * nd
    out = tuple(pool_out_size(spatial[i], kernel[i], stride[i], padding[i], 1, ceil_mode) for i in range(nd))
    win = _padded_windows(x, kernel, stride, padding, ones, out, 0.0)
    total = win.sum(axis=tuple(range(-nd, 0)))  # (N, C, *out)
    if divisor_override:
        return total / x.dtype.type(divisor_override)
    divisor = numpy.ones(out)
    for i in range(nd):
        start = numpy.arange(out[i]) * stride[i] - padding[i]
        end = numpy.minimum(start + kernel[i], spatial[i] + padding[i])
        if count_include_pad:
            size = end - start
        else:
            size = numpy.minimum(end, spatial[i]) - numpy.maximum(start, 0)
        divisor = divisor * size.reshape((-1,) + (1,) * (nd - 1 - i))
    return total / xp.asarray(divisor, dtype=x.dtype)


def adaptive_ranges(size: int, out: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """torch's adaptive bins: start = floor(i*size/out), end = ceil((i+1)*size/out)."""
    i = numpy.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def adaptive_avg_pool(x, output_size: Sequence[int]):
    """Adaptive average pooling, one averaging matrix per spatial dim (the bins are separable)."""
    xp = get_array_module(x)
    nd = len(output_size)
    for i in range(nd):
        axis = x.ndim - nd + i
        size, out = x.shape[axis], output_size[i]
        if size == out:
            continue
        start, end = adaptive_ranges(size, out)
        cols = numpy.arange(size)
        avg = ((cols >= start[:, None]) & (cols < end[:, None])) / (end - start)[:, None]  # (out, size)
        y = xp.tensordot(x, xp.asarray(avg.T, dtype=x.dtype), axes=([axis], [0]))  # dims..., out at the end
        x = xp.moveaxis(y, -1, axis)
    return xp.ascontiguousarray(x)
