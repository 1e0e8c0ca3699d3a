"""PixelShuffle and PixelUnshuffle (depth to space and back), ChannelShuffle."""

from __future__ import annotations


def pixel_shuffle(x, r: int):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    *lead, c, h, w = x.shape
    lead = tuple(lead)
    y = x.reshape(lead + (c // (r * r), r, r, h, w))  # (*, C, r, r, H, W)
    k = len(lead)
    y = y.transpose(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))  # (*, C, H, r, W, r)
    return y.reshape(lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(x, r: int):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W), a new array."""
    if r == 1:
        return x.copy()
    *lead, c, hr, wr = x.shape
    lead = tuple(lead)
    h, w = hr // r, wr // r
    y = x.reshape(lead + (c, h, r, w, r))  # (*, C, H, r, W, r)
    k = len(lead)
    y = y.transpose(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))  # (*, C, r, r, H, W)
    return y.reshape(lead + (c * r * r, h, w))


def channel_shuffle(x, groups: int):
    """(N, C, *) -> (N, C, *) with channel g*(C/g) + i moved to i*g + g: the channels seen as (groups, C/groups),
    transposed. A new array."""
    n, c = x.shape[:2]
    if groups == 1 or groups == c:
        return x.copy()
    rest = tuple(x.shape[2:])
    y = x.reshape((n, groups, c // groups) + rest)  # (N, g, C/g, *)
    y = y.swapaxes(1, 2)  # (N, C/g, g, *)
    return y.reshape((n, c) + rest)
