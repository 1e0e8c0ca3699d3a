"""Convolutions as im2col (one strided copy per kernel offset) plus one batched matmul."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from ..backend import get_array_module
from .window import conv_out_size, pad_or_crop


# below this many output positions per image, the batch is merged into one matmul (measured with
# bench/cpu.py on 2 cores: 512->512 3x3 at 7x7, batch 8, 9.9 ms per image vs 7.7 ms merged; at 56x56
# merging doubles the time)
SMALL_OUTPUT = 256


def conv(x, weight, bias, stride: Sequence[int], dilation: Sequence[int], groups: int):
    """N-d cross-correlation of an already padded input, as torch's convNd computes it.

    x: (N, C, *S); weight: (O, C/groups, *k); bias: (O,) or None -> (N, O, *out).

    The columns are laid out (N, G, C/G * K, P), with the output positions P innermost: they are
    filled by one strided copy per kernel offset (K copies of whole planes, long contiguous runs
    where the stride is 1), and one batched matmul W (G, O/G, C/G*K) @ cols gives (N, G, O/G, P),
    which is already the output's NCHW layout. A 1x1, stride-1 convolution needs no copy at all.
    """
    xp = get_array_module(x, weight)
    nd = weight.ndim - 2
    n, c = x.shape[:2]
    o, cg = weight.shape[:2]
    k = tuple(weight.shape[2:])
    g = groups
    out = tuple(conv_out_size(x.shape[2 + i], k[i], stride[i], 0, dilation[i]) for i in range(nd))
    p, kk = math.prod(out), math.prod(k)
    xg = x.reshape((n, g, cg) + tuple(x.shape[2:]))
    if kk == 1 and all(s == 1 for s in stride) and tuple(x.shape[2:]) == out:
        cols = xg.reshape(n, g, cg, p)  # a 1x1 convolution: the input is its own columns
    else:
        cols = xp.empty((n, g, cg, kk) + out, dtype=x.dtype)
        for index, offsets in enumerate(itertools.product(*(range(kd) for kd in k))):
            window = tuple(slice(off * d, off * d + (size - 1) * st + 1, st)
                           for off, d, size, st in zip(offsets, dilation, out, stride))
            cols[:, :, :, index] = xg[(Ellipsis,) + window]
        cols = cols.reshape(n, g, cg * kk, p)
    wm = weight.reshape(g, o // g, cg * kk)
    if n > 1 and p < SMALL_OUTPUT:  # few positions per image: one matmul over the whole batch is faster
        merged = cols.transpose(1, 2, 0, 3).reshape(g, cg * kk, n * p)
        y = xp.matmul(wm, merged).reshape(g, o // g, n, p).transpose(2, 0, 1, 3)
        y = xp.ascontiguousarray(y).reshape((n, o) + out)
    else:
        y = xp.matmul(wm, cols).reshape((n, o) + out)  # (N, G, O/G, P): the output, in place
    if bias is not None:
        y += bias.reshape((1, o) + (1,) * nd)
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
