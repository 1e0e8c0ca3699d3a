"""Convolutions as window gathering plus one batched matmul per call (im2col)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..backend import get_array_module
from .window import conv_out_size, pad_or_crop, windows


def conv(x, weight, bias, stride: Sequence[int], dilation: Sequence[int], groups: int):
    """N-d cross-correlation of an already padded input, as torch's convNd computes it.

    x: (N, C, *S); weight: (O, C/groups, *k); bias: (O,) or None -> (N, O, *out).
    """
    xp = get_array_module(x, weight)
    nd = weight.ndim - 2
    n, c = x.shape[:2]
    o, cg = weight.shape[:2]
    k = tuple(weight.shape[2:])
    g = groups
    out = tuple(conv_out_size(x.shape[2 + i], k[i], stride[i], 0, dilation[i]) for i in range(nd))
    p, kk = math.prod(out), math.prod(k)
    win = windows(x, k, stride, dilation, out).reshape((n, g, cg) + out + k)  # (N, G, C/G, *out, *k)
    perm = (1, 0) + tuple(range(3, 3 + nd)) + (2,) + tuple(range(3 + nd, 3 + 2 * nd))
    cols = xp.ascontiguousarray(win.transpose(perm)).reshape(g, n * p, cg * kk)  # (G, N*P, C/G*K)
    wm = weight.reshape(g, o // g, cg * kk).transpose(0, 2, 1)  # (G, C/G*K, O/G)
    y = xp.matmul(cols, wm)  # (G, N*P, O/G)
    y = y.reshape((g, n) + out + (o // g,))
    y = y.transpose((1, 0, nd + 2) + tuple(range(2, 2 + nd))).reshape((n, o) + out)  # (N, O, *out)
    if bias is not None:
        y = y + bias.reshape((1, o) + (1,) * nd)
    return xp.ascontiguousarray(y)


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
