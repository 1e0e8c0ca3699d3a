"""Dropout masks: keep with probability 1-p, scale kept values by 1/(1-p)."""

from __future__ import annotations

from ..backend import get_array_module


def dropout(x, p: float, mask_shape, generator, inplace: bool = False):
    """Zero elements (or whole channels, via a broadcastable ``mask_shape``) with probability p."""
    xp = get_array_module(x)
    if p >= 1:
        keep = xp.zeros(mask_shape, dtype=x.dtype)
    else:
        draw = xp.asarray(generator.random(mask_shape))
        keep = (draw >= p).astype(x.dtype) * x.dtype.type(1 / (1 - p))
    if inplace:
        x *= keep
        return x
    return xp.asarray(x * keep)  # a 0-d product is a NumPy scalar
