"""Convolutions as im2col (one strided copy per kernel offset) plus one batched matmul."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from ..backend import get_array_module
from .parallel import over_batch
from .window import conv_out_size, pad_or_crop, windows


# im2col gathers the columns of as many whole images as fit in this many bytes (at least one) and
# multiplies them at once. Measured on 2 cores: ResNet's 7x7 stride-2 stem at batch 8 takes 42 ms with
# all eight images' columns (59 MB), 17 ms one image at a time; LeNet's second convolution at batch 8
# takes 0.14 ms with the batch merged into one matmul, 0.44 ms with one matmul per image.
COLUMN_BYTES = 8 << 20

# ... as one matmul over all of them, or, where the weight matrix (O/G, C/G * K) has at most this many
# entries, as a batched matmul per image (columns (images, G, C/G * K, P): the output is written in
# place, with no transposing copy of it). On 2 cores, us, batched / one matmul: LeNet's 1->6 5x5 at 32x32,
# batch 8, 72 / 86, its 6->16 at 14x14 112 / 183; 3->8 3x3 at 12x12, batch 64, 141 / 236; 32->32 3x3
# at 30x30, batch 8 (9,216 entries) 1316 / 1263; 64->64 3x3 at 10x10, batch 32, 2822 / 1853
BATCHED_WEIGHT_ENTRIES = 8192

# a stride-1 convolution whose columns for one image exceed twice COLUMN_BYTES is a sum of shifted
# matmuls instead (no columns at all). Measured on 2 cores at batch 8, 3x3: 256->64 at 56x56 (29 MB of
# columns per image) 44.8 ms shifted vs 84.3 im2col; 64->64 at 56x56 (7 MB) 21.4 vs 15.6; 32->32 at
# 112x112 (14 MB) 37.0 vs 24.8.
SHIFTED_COLUMNS = 2 * COLUMN_BYTES


def _empty(xp, shape, dtype, scratch):
    return xp.empty(shape, dtype=dtype) if scratch is None else scratch(shape, dtype)


def conv(x, weight, bias, stride: Sequence[int], dilation: Sequence[int], groups: int, out=None, scratch=None,
         epilogue=None):
    """N-d cross-correlation of an already padded input, as torch's convNd computes it.

    x: (N, C, *S); weight: (O, C/groups, *k); bias: (O,) or None -> (N, O, *out).
    ``out``, where given, is a C-contiguous array of the output's shape to write into; ``scratch(shape,
    dtype)``, where given, hands out the working arrays (an execution plan reuses them across calls).
    ``epilogue(y_part, batch_slice)``, where given, runs on each part of the output as soon as it is
    complete (a few images at a time in im2col, while they are in cache), after the bias.

    The method depends on the shape:
    - depthwise (one input channel per group): a multiply-add per kernel offset over strided views;
    - stride 1 with columns too large even for one image at a time: one matmul per kernel offset on a
      shifted flat view of the input (no copy at all), computed on the padded width and cropped;
    - otherwise im2col: for as many images as fit in COLUMN_BYTES, columns (G, C/G * K, images * P)
      gathered by one copy from a strided view of every window, and one matmul per group (for a small
      weight, columns per image and one batched matmul: see BATCHED_WEIGHT_ENTRIES). A 1x1, stride-1
      convolution is its own columns.
    float16 on NumPy computes in float32 (NumPy's float16 matmul is two orders of magnitude slower)
    and stores float16, as torch's CPU kernels do.
    """
    xp = get_array_module(x, weight)
    if x.dtype == xp.float16 and xp.__name__ == "numpy":
        y = conv(x.astype(xp.float32), weight.astype(xp.float32), None if bias is None else bias.astype(xp.float32),
                 stride, dilation, groups, scratch=scratch)
        if out is None:
            out = y.astype(x.dtype)
        else:
            out[...] = y
        if epilogue is not None:  # on the float16 result, as torch's next ops see it
            epilogue(out, slice(0, out.shape[0]))
        return out
    nd = weight.ndim - 2
    n, c = x.shape[:2]
    o, cg = weight.shape[:2]
    k = tuple(weight.shape[2:])
    g = groups
    size = tuple(conv_out_size(x.shape[2 + i], k[i], stride[i], 0, dilation[i]) for i in range(nd))
    p, kk = math.prod(size), math.prod(k)
    bias_b = None if bias is None else bias.reshape((1, o) + (1,) * nd)

    def finish(part, batch: slice) -> None:
        if bias_b is not None:
            part += bias_b
        if epilogue is not None:
            epilogue(part, batch)

    if cg == 1 and g > 1 and kk > 1:
        y = _depthwise(xp, x, weight, stride, dilation, size, out, scratch)
        finish(y, slice(0, n))
    elif kk > 1 and all(s == 1 for s in stride) and g == 1 and c * kk * p * x.dtype.itemsize > SHIFTED_COLUMNS \
            and x.flags.c_contiguous:
        y = _shifted(xp, x, weight, bias, dilation, size, out, scratch)  # adds the bias as it crops
        if epilogue is not None:
            epilogue(y, slice(0, n))
    else:
        y = _im2col(xp, x, weight, stride, dilation, g, size, out, scratch, finish)
    return y


def _windows(k, dilation, size, stride):
    """(index, the slices of the input that kernel offset ``index`` multiplies), for every kernel offset."""
    for index, offsets in enumerate(itertools.product(*(range(kd) for kd in k))):
        yield index, tuple(slice(off * d, off * d + (s - 1) * st + 1, st)
                           for off, d, s, st in zip(offsets, dilation, size, stride))


def _im2col(xp, x, weight, stride, dilation, g, size, out, scratch, finish):
    """Columns (G, C/G * K, n * P) for a few images at a time, gathered by one copy from a strided view of
    every window, then one matmul per group over all of those images' positions; ``finish(part, batch)``
    on each part of the output as soon as it is written."""
    n, c = x.shape[:2]
    o, cg = weight.shape[:2]
    k = tuple(weight.shape[2:])
    p, kk = math.prod(size), math.prod(k)
    y = xp.empty((n, o) + size, dtype=x.dtype) if out is None else out
    wm = weight.reshape(g, o // g, cg * kk)
    if kk == 1 and all(s == 1 for s in stride) and tuple(x.shape[2:]) == size:
        # a 1x1 convolution: each image is its own columns, (N, G, C/G, P)
        xp.matmul(wm, x.reshape(n, g, cg, p), out=y.reshape(n, g, o // g, p))
        finish(y, slice(0, n))
        return y
    chunk = max(1, COLUMN_BYTES // (c * kk * p * x.dtype.itemsize))
    per_image = (o // g) * cg * kk <= BATCHED_WEIGHT_ENTRIES
    nd = len(k)
    for b in range(0, n, chunk):
        xb, m = x[b:b + chunk], min(chunk, n - b)
        win = windows(xb, k, stride, dilation, size).reshape((m, g, cg) + size + k)
        yb = y[b:b + m]
        if per_image:  # columns (m, G, C/G * K, P), one matmul per image in one call
            cols = _empty(xp, (m, g, cg) + k + size, x.dtype, scratch)
            cols[...] = win.transpose((0, 1, 2) + tuple(range(3 + nd, 3 + 2 * nd)) + tuple(range(3, 3 + nd)))
            xp.matmul(wm, cols.reshape(m, g, cg * kk, p), out=yb.reshape(m, g, o // g, p))
            finish(yb, slice(b, b + m))
            continue
        order = (1, 2) + tuple(range(3 + nd, 3 + 2 * nd)) + (0,) + tuple(range(3, 3 + nd))
        cols = _empty(xp, (g, cg) + k + (m,) + size, x.dtype, scratch)
        cols[...] = win.transpose(order)
        cols = cols.reshape(g, cg * kk, m * p)
        if m == 1:
            xp.matmul(wm, cols, out=yb.reshape(g, o // g, p))
        else:
            t = xp.matmul(wm, cols, out=_empty(xp, (g, o // g, m * p), x.dtype, scratch))
            yb.reshape(m, g, o // g, p)[...] = t.reshape(g, o // g, m, p).transpose(2, 0, 1, 3)
        finish(yb, slice(b, b + m))
    return y


def _shifted(xp, x, weight, bias, dilation, size, out, scratch):
    """A stride-1, one-group convolution as a sum over kernel offsets of W[:, :, offset] @ (the input
    shifted by that offset), each shift a contiguous view of the flattened input. The output is
    computed on the input's padded width (the last k-1 columns of each row are discarded)."""
    nd = weight.ndim - 2
    n, c = x.shape[:2]
    o = weight.shape[0]
    k = tuple(weight.shape[2:])
    spatial = tuple(x.shape[2:])
    wide = (size[0],) + spatial[1:]  # the output computed on the padded extent beyond its first dim
    strides = [math.prod(spatial[i + 1:]) for i in range(nd)]
    length = sum((s - 1) * st for s, st in zip(size, strides)) + 1  # up to the last position kept
    flat = x.reshape(n, c, math.prod(spatial))
    wk = xp.ascontiguousarray(weight.reshape(o, c, -1).transpose(2, 0, 1))  # (K, O, C)
    acc = _empty(xp, (n, o, math.prod(wide)), x.dtype, scratch)
    tmp = _empty(xp, (o, length), x.dtype, scratch)
    for index, offsets in enumerate(itertools.product(*(range(kd) for kd in k))):
        start = sum(off * d * st for off, d, st in zip(offsets, dilation, strides))
        for b in range(n):  # per image: the accumulator stays in cache
            shifted = flat[b, :, start:start + length]
            if index == 0:
                xp.matmul(wk[0], shifted, out=acc[b, :, :length])
            else:
                xp.matmul(wk[index], shifted, out=tmp)
                acc[b, :, :length] += tmp
    y = xp.empty((n, o) + size, dtype=x.dtype) if out is None else out
    kept = acc.reshape((n, o) + wide)[(Ellipsis,) + tuple(slice(0, s) for s in size[1:])]
    if bias is None:
        y[...] = kept
    else:
        xp.add(kept, bias.reshape((1, o) + (1,) * nd), out=y)
    return y


def _depthwise(xp, x, weight, stride, dilation, size, out, scratch):
    """Groups of one input channel each: per kernel offset, the strided view of the input times that
    offset's weight, broadcast over the batch and the positions (m outputs per channel)."""
    nd = weight.ndim - 2
    n, c = x.shape[:2]
    o = weight.shape[0]
    m = o // c
    k = tuple(weight.shape[2:])
    xg = x.reshape((n, c, 1) + tuple(x.shape[2:]))
    wk = weight.reshape((c, m, math.prod(k)) + (1,) * nd)
    y = xp.empty((n, o) + size, dtype=x.dtype) if out is None else out
    acc = y.reshape((n, c, m) + size)
    tmp = _empty(xp, (n, c, m) + size, x.dtype, scratch)

    def part(b: slice) -> None:
        for index, window in _windows(k, dilation, size, stride):
            view = xg[(b, Ellipsis) + window]
            if index == 0:
                xp.multiply(view, wk[:, :, 0], out=acc[b])
            else:
                xp.multiply(view, wk[:, :, index], out=tmp[b])
                acc[b] += tmp[b]

    over_batch(xp, n, y.size * math.prod(k), part)
    return y


def conv_transpose(x, weight, bias, stride, padding, output_padding, dilation, groups: int):
    """N-d transposed convolution: a stride-1 convolution of the zero-dilated input.

    x: (N, Cin, *S); weight: (Cin, Cout/groups, *k) -> (N, Cout, *out) with
    out = (S-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1.
    """
    xp = get_array_module(x, weight)
    nd = weight.ndim - 2
    n, cin = x.shape[:2]
    cout_g = weight.shape[1]
    k = tuple(weight.shape[2:])
    g = groups
    spatial = x.shape[2:]
    dilated = xp.zeros((n, cin) + tuple((s - 1) * st + 1 for s, st in zip(spatial, stride)), dtype=x.dtype)
    dilated[(slice(None), slice(None)) + tuple(slice(None, None, st) for st in stride)] = x
    edge = [dilation[i] * (k[i] - 1) - padding[i] for i in range(nd)]
    dilated = pad_or_crop(dilated, [(edge[i], edge[i] + output_padding[i]) for i in range(nd)])
    # (Cin, Cout/G, *k) -> (G, Cin/G, Cout/G, *k) -> (G, Cout/G, Cin/G, *k), flipped in space
    w = weight.reshape((g, cin // g, cout_g) + k).swapaxes(1, 2)
    w = w[(Ellipsis,) + (slice(None, None, -1),) * nd].reshape((g * cout_g, cin // g) + k)
    return conv(dilated, xp.ascontiguousarray(w), bias, (1,) * nd, dilation, g)
