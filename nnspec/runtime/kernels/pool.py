"""Max, average and adaptive average pooling over the trailing spatial dims."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy

from ..backend import get_array_module
from .parallel import over_batch
from .window import empty_as, is_channels_last, pad_or_crop, windows


def pool_out_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """torch's pooling_output_shape: a ceil-mode window must start inside the input or left padding."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _padded(x, kernel, stride, padding, dilation, out, value):
    """Pad (left: padding, right: whatever the last window needs)."""
    nd = len(kernel)
    pads = []
    for i in range(nd):
        need = (out[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1
        pads.append((padding[i], max(need - x.shape[2 + i] - padding[i], 0)))
    return pad_or_crop(x, pads, value)


def _offsets(xpad, kernel, stride, dilation, out):
    """For each slot of the window, the strided view of every window's element in that slot: (N, C, *out).

    Reducing these views one by one (a running max or sum) reads the input plane by plane, where a
    reduction over the last axes of the windows view gathers every window's elements first."""
    for offsets in itertools.product(*(range(k) for k in kernel)):
        yield xpad[(Ellipsis,) + tuple(slice(o * d, o * d + (n - 1) * s + 1, s)
                                       for o, d, n, s in zip(offsets, dilation, out, stride))]


def _lowest(dtype):
    """The value padding takes in a max pool: -inf for floats, the dtype's minimum otherwise."""
    dtype = numpy.dtype(dtype)
    if dtype.kind in "fc":
        return -numpy.inf
    if dtype.kind == "b":
        return False
    return numpy.iinfo(dtype).min


def _window_positions(spatial, kernel, stride, padding, dilation, out):
    """Host tables (*out, K): each window slot's flat offset into the input plane, and whether it is inside it.

    A window with no slot inside the input (dilation can step over a narrow input) keeps
    torch's initial index in its first slot: the window's first coordinates past the left
    padding, whether or not they are inside the input.
    """
    nd = len(kernel)
    pos = numpy.zeros((1,) * (2 * nd), dtype=numpy.int64)
    valid = numpy.ones((1,) * (2 * nd), dtype=bool)
    first = numpy.zeros((1,) * nd, dtype=numpy.int64)
    for i in range(nd):
        place = math.prod(spatial[i + 1 :])
        begin = numpy.arange(out[i]) * stride[i] - padding[i]
        coord = begin[:, None] + numpy.arange(kernel[i])[None, :] * dilation[i]
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = out[i], kernel[i]
        coord = coord.reshape(shape)
        valid = valid & (coord >= 0) & (coord < spatial[i])
        pos = pos + coord * place
        # torch's initial index: while (i0 < 0) i0 += dilation
        begin = begin + ((dilation[i] - 1 - begin) // dilation[i]).clip(0) * dilation[i]
        first = first + begin.reshape((-1,) + (1,) * (nd - 1 - i)) * place
    full = tuple(out) + tuple(kernel)
    flat = (math.prod(out), math.prod(kernel))
    pos = numpy.broadcast_to(pos, full).reshape(flat).copy()
    valid = numpy.broadcast_to(valid, full).reshape(flat)
    empty = ~valid.any(axis=1)
    pos[empty, 0] = first.reshape(-1)[empty]
    return pos, valid


def max_pool(x, kernel, stride, padding, dilation, ceil_mode: bool, return_indices: bool):
    """Max over each window; padding never wins. Indices are flat offsets into each input plane.

    torch's rule for the index: scanning a window's valid (non-padding) slots in order, a slot
    whose value is > the running max (initially the lowest value) or is NaN takes over; if none
    does, the first valid slot. So: a NaN window points at its last NaN, any other window at the
    first valid slot holding the max (-inf or the dtype's minimum included).
    """
    xp = get_array_module(x)
    nd = len(kernel)
    spatial = x.shape[2:]
    out = tuple(pool_out_size(spatial[i], kernel[i], stride[i], padding[i], dilation[i], ceil_mode) for i in range(nd))
    y = None
    if not return_indices:
        y = _running_max(xp, x, kernel, stride, padding, dilation, out)
        if y is not None:
            return y
    xpad = _padded(x, kernel, stride, padding, dilation, out, _lowest(x.dtype))
    if not return_indices:
        for view in _offsets(xpad, kernel, stride, dilation, out):
            y = view.copy() if y is None else xp.maximum(y, view, out=y)  # NaN propagates, as in torch
        return y
    win = windows(xpad, kernel, stride, dilation, out)
    ksize = math.prod(kernel)
    flat = win.reshape(x.shape[:2] + out + (ksize,))  # (N, C, *out, K)
    y = flat.max(axis=-1)  # NaN propagates
    pos, valid = _window_positions(spatial, kernel, stride, padding, dilation, out)
    valid = xp.asarray(valid.reshape(out + (ksize,)))
    hit = (flat == y[..., None]) & valid
    slot = hit.argmax(axis=-1)  # first valid slot holding the max
    if x.dtype.kind in "fc":
        isnan = xp.isnan(flat)  # padding is never NaN
        last_nan = (ksize - 1) - isnan[..., ::-1].argmax(axis=-1)
        slot = xp.where(xp.isnan(y), last_nan, slot)
    window = xp.arange(math.prod(out), dtype=xp.int64).reshape(out)
    index = xp.asarray(pos.reshape(-1))[window * ksize + slot]
    return y, index


def _running_max(xp, x, kernel, stride, padding, dilation, out):
    """The max pool as a running maximum over one strided view per window slot, each view only the
    windows where that slot is inside the input, so the input is never padded (padding never wins a
    max anyway). None where no slot is inside every window (the padded path handles that)."""
    nd = len(kernel)
    spatial = x.shape[2:]
    ranges = []  # per dim, per offset: (first output, last output + 1, first input)
    for i in range(nd):
        per = []
        for o in range(kernel[i]):
            shift = o * dilation[i] - padding[i]
            lo = max(0, (stride[i] - 1 - shift) // stride[i])  # the first window where the slot is inside
            hi = min(out[i], (spatial[i] - 1 - shift) // stride[i] + 1) if spatial[i] - 1 - shift >= 0 else 0
            per.append((lo, max(hi, lo), lo * stride[i] + shift))
        ranges.append(per)
    full = [next((o for o, (lo, hi, _) in enumerate(per) if lo == 0 and hi == out[i]), None)
            for i, per in enumerate(ranges)]
    if any(f is None for f in full):
        return None

    def view(offsets, batch):
        outs, ins = [], []
        for i, o in enumerate(offsets):
            lo, hi, start = ranges[i][o]
            outs.append(slice(lo, hi))
            ins.append(slice(start, start + (hi - lo - 1) * stride[i] + 1, stride[i]) if hi > lo else slice(0, 0))
        return (batch, Ellipsis) + tuple(outs), x[(batch, Ellipsis) + tuple(ins)]

    y = empty_as(x, x.shape[:2] + tuple(out), x.dtype)  # channels-last stays so

    def part(batch: slice) -> None:
        y[batch] = view(full, batch)[1]
        for offsets in itertools.product(*(range(k) for k in kernel)):
            if list(offsets) != full:
                at, v = view(offsets, batch)
                if v.size:
                    xp.maximum(y[at], v, out=y[at])  # NaN propagates, as in torch

    over_batch(xp, x.shape[0], y.size * math.prod(kernel), part)
    return y


def _accumulator(dtype):
    """The dtype sums are taken in: float32 for float16 (torch's CPU opmath type), else the input's."""
    return numpy.dtype(numpy.float32) if numpy.dtype(dtype) == numpy.float16 else numpy.dtype(dtype)


def avg_pool(x, kernel, stride, padding, ceil_mode: bool, count_include_pad: bool, divisor_override):
    """Mean over each window with torch's divisor rules for padding and ceil mode; float16 sums in float32."""
    xp = get_array_module(x)
    nd = len(kernel)
    spatial = x.shape[2:]
    ones = (1,) * nd
    acc = _accumulator(x.dtype)
    out = tuple(pool_out_size(spatial[i], kernel[i], stride[i], padding[i], 1, ceil_mode) for i in range(nd))
    if not any(padding) and all((o - 1) * st + k <= sz for o, st, k, sz in zip(out, stride, kernel, spatial)):
        # every window inside the input (LeNet's 2x2 pools): the running sum over the views, in torch's
        # order, divided by the window size, with no padded copy and no divisor table
        total = None
        for view in _offsets(x, kernel, stride, ones, out):
            if total is None:
                total = view.astype(acc)
            else:
                total += view
        return (total / acc.type(divisor_override or math.prod(kernel))).astype(x.dtype, copy=False)
    total = None
    for view in _offsets(_padded(x, kernel, stride, padding, ones, out, 0.0), kernel, stride, ones, out):
        if total is None:
            total = view.astype(acc)  # a copy, in the accumulator's dtype
        else:
            total += view
    if divisor_override:
        return (total / acc.type(divisor_override)).astype(x.dtype, copy=False)
    divisor = numpy.ones(out)
    for i in range(nd):
        start = numpy.arange(out[i]) * stride[i] - padding[i]
        end = numpy.minimum(start + kernel[i], spatial[i] + padding[i])
        if count_include_pad:
            size = end - start
        else:
            size = numpy.minimum(end, spatial[i]) - numpy.maximum(start, 0)
        divisor = divisor * size.reshape((-1,) + (1,) * (nd - 1 - i))
    return (total / xp.asarray(divisor, dtype=acc)).astype(x.dtype, copy=False)


def adaptive_ranges(size: int, out: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """torch's adaptive bins: start = floor(i*size/out), end = ceil((i+1)*size/out)."""
    i = numpy.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def adaptive_avg_pool(x, output_size: Sequence[int]):
    """Adaptive average pooling: each bin sums only its own elements, then divides by its size.

    The bins are separable, so each spatial dim in turn gathers its bins through an
    (out, longest bin) index table, zeroes the slots past a bin's end with ``where``
    (a NaN or inf stays in its own bins) and sums them. The sum is then divided by
    each bin's extent, dim by dim, as torch's sum / kh / kw; float16 sums in float32.
    """
    xp = get_array_module(x)
    nd = len(output_size)
    acc = _accumulator(x.dtype)
    spatial = x.shape[x.ndim - nd:]
    if all(o > 0 and s % o == 0 for s, o in zip(spatial, output_size)):  # equal bins that tile the input
        # a channels-last input is summed over its (N, *S, C) memory as it lies, with no copy
        last = x.ndim == nd + 2 and is_channels_last(x)
        v = x.transpose((0,) + tuple(range(2, x.ndim)) + (1,)) if last else x
        lead = 1 if last else x.ndim - nd
        bins = tuple(b for s, o in zip(spatial, output_size) for b in (o, s // o))
        y = v.reshape(v.shape[:lead] + bins + v.shape[lead + nd:]).sum(
            axis=tuple(lead + 2 * i + 1 for i in range(nd)), dtype=acc)
        for s, o in zip(spatial, output_size):
            if s // o > 1:
                y = y / acc.type(s // o)
        y = y.astype(x.dtype, copy=False)
        return xp.ascontiguousarray(y.transpose((0, nd + 1) + tuple(range(1, nd + 1))) if last else y)
    y = x.astype(acc, copy=False)
    sizes = []
    for i in range(nd):
        axis = x.ndim - nd + i
        size, out = x.shape[axis], output_size[i]
        start, end = adaptive_ranges(size, out)
        length = end - start
        sizes.append(length)
        if size == out:  # one element per bin
            continue
        slots = numpy.arange(length.max(initial=0))  # an output size of 0 has no bins: an empty result, as torch
        inside = slots[None, :] < length[:, None]  # (out, longest)
        index = numpy.where(inside, start[:, None] + slots[None, :], start[:, None])
        g = xp.take(y, xp.asarray(index.reshape(-1)), axis=axis)
        g = g.reshape(y.shape[:axis] + index.shape + y.shape[axis + 1 :])  # (..., out, longest, ...)
        mask = xp.asarray(inside.reshape(inside.shape + (1,) * (y.ndim - axis - 1)))
        y = xp.where(mask, g, acc.type(0)).sum(axis=axis + 1)
    for i, length in enumerate(sizes):
        if length.max(initial=0) > 1:
            y = y / xp.asarray(length.reshape((-1,) + (1,) * (nd - 1 - i)), dtype=acc)
    return xp.ascontiguousarray(y.astype(x.dtype, copy=False))
