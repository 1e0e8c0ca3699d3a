"""Unfold (im2col: every sliding block of an image as a column) and Fold (col2im: columns summed back into an
image), torch.nn.functional.unfold and fold."""

from __future__ import annotations

from collections.abc import Sequence

from ..backend import get_array_module
from .window import pad_or_crop, windows


def blocks(size: int, kernel: int, dilation: int, padding: int, stride: int) -> int:
    """The number of sliding blocks along one dim (floor division, as torch's div_rtn)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def unfold(x, kernel: Sequence[int], dilation: Sequence[int], padding: Sequence[int], stride: Sequence[int]):
    """(N, C, H, W) -> (N, C*kh*kw, L): column l holds block l (row-major over the bh x bw grid of blocks), its
    elements ordered (channel, kernel row, kernel column). float16 is copied as it is (no arithmetic)."""
    n, c = x.shape[:2]
    out = tuple(blocks(x.shape[2 + i], kernel[i], dilation[i], padding[i], stride[i]) for i in range(2))
    padded = pad_or_crop(x, [(p, p) for p in padding])  # (N, C, H + 2ph, W + 2pw)
    view = windows(padded, kernel, stride, dilation, out)  # (N, C, bh, bw, kh, kw), no copy
    cols = view.transpose(0, 1, 4, 5, 2, 3)  # (N, C, kh, kw, bh, bw)
    return cols.reshape(n, c * kernel[0] * kernel[1], out[0] * out[1])  # (N, C*kh*kw, L)


def fold(cols, output_size: Sequence[int], kernel: Sequence[int], dilation: Sequence[int], padding: Sequence[int],
         stride: Sequence[int]):
    """(N, C*kh*kw, L) -> (N, C, H, W): each column's elements added at the places of its block (where blocks
    overlap, their elements sum). float16 sums in float32."""
    xp = get_array_module(cols)
    n = cols.shape[0]
    kh, kw = kernel
    c = cols.shape[1] // (kh * kw)
    bh, bw = (blocks(output_size[i], kernel[i], dilation[i], padding[i], stride[i]) for i in range(2))
    ct = xp.float32 if cols.dtype == xp.float16 else cols.dtype
    parts = cols.astype(ct, copy=False).reshape(n, c, kh, kw, bh, bw)  # (N, C, kh, kw, bh, bw)
    (ph, pw), (dh, dw), (sh, sw) = padding, dilation, stride
    out = xp.zeros((n, c, output_size[0] + 2 * ph, output_size[1] + 2 * pw), dtype=ct)  # (N, C, H + 2ph, W + 2pw)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * (bh - 1) + 1:sh, j * dw:j * dw + sw * (bw - 1) + 1:sw] += parts[:, :, i, j]
    out = out[:, :, ph:ph + output_size[0], pw:pw + output_size[1]]  # (N, C, H, W)
    return xp.ascontiguousarray(out).astype(cols.dtype, copy=False)
