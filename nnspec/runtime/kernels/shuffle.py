"""PixelShuffle: depth to space."""

from __future__ import annotations


def pixel_shuffle(x, r: int):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    *lead, c, h, w = x.shape
    lead = tuple(lead)
    y = x.reshape(lead + (c // (r * r), r, r, h, w))  # (*, C, r, r, H, W)
    k = len(lead)
    y = y.transpose(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))  # (*, C, H, r, W, r)
    return y.reshape(lead + (c // (r * r), h * r, w * r))
