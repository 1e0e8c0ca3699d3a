"""Dropout masks: keep with probability 1-p, scale kept values by 1/(1-p)."""

from __future__ import annotations

import math

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


# SELU's saturation value, -scale * alpha: alpha dropout sets a dropped element to it (then shifts and scales)
_SELU_SATURATION = 1.7580993408473766


def alpha_dropout(x, p: float, mask_shape, generator, inplace: bool = False):
    """Alpha dropout (torch's, for SELU networks): each element (or whole channel, via a broadcastable
    ``mask_shape``) is kept with probability 1-p, a dropped one set to -alpha' = -1.7581, then all scaled by a
    and shifted by b, so that mean and variance are kept: a = 1/sqrt((alpha'^2 p + 1)(1 - p)), b = alpha' a p."""
    xp = get_array_module(x)
    if p >= 1:  # torch multiplies by zero, with no shift
        return dropout(x, p, mask_shape, generator, inplace)
    a = 1.0 / math.sqrt((_SELU_SATURATION ** 2 * p + 1) * (1 - p))
    noise = (xp.asarray(generator.random(mask_shape)) >= p).astype(x.dtype)  # 1 kept, 0 dropped
    shift = (noise - 1) * x.dtype.type(_SELU_SATURATION * a) + x.dtype.type(_SELU_SATURATION * a * p)
    keep = noise * x.dtype.type(a)
    if inplace:
        x *= keep
        x += shift
        return x
    return xp.asarray(x * keep + shift)  # a 0-d result is a NumPy scalar
