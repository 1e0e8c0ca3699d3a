"""Sliding windows and padding shared by convolution and pooling."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..backend import get_array_module


def is_channels_last(x: Any) -> bool:
    """Whether ``x`` (N, C, *S) is laid out channels-last and not also C-contiguous (as with C or every
    spatial size 1)."""
    return x.ndim >= 3 and not x.flags.c_contiguous and \
        x.transpose((0,) + tuple(range(2, x.ndim)) + (1,)).flags.c_contiguous


def empty_as(x: Any, shape: tuple, dtype: Any, take: Callable | None = None) -> Any:
    """A new (N, C, *S) array in ``x``'s layout: channels-last where ``x`` is, else C-contiguous; from
    ``take(shape, dtype)`` (a plan's pool) where given."""
    xp = get_array_module(x)
    take = take or (lambda s, d: xp.empty(s, dtype=d))
    if not is_channels_last(x) or len(shape) != x.ndim:
        return take(tuple(shape), dtype)
    nd = len(shape)
    return take((shape[0],) + tuple(shape[2:]) + (shape[1],), dtype).transpose((0, nd - 1) + tuple(range(1, nd - 1)))


def windows(x, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int], out: Sequence[int]):
    """A strided view of every window: (N, C, *S) -> (N, C, *out, *kernel), no copy."""
    xp = get_array_module(x)
    nd = len(kernel)
    spatial_strides = x.strides[2:]
    shape = x.shape[:2] + tuple(out) + tuple(kernel)
    # a step along a dim of length 1 is never taken: 0 there, so a huge stride or dilation can't overflow
    strides = (
        x.strides[:2]
        + tuple(st * s if o > 1 else 0 for st, s, o in zip(spatial_strides, stride, out))
        + tuple(st * d if k > 1 else 0 for st, d, k in zip(spatial_strides, dilation, kernel))
    )
    assert len(shape) == 2 + 2 * nd
    return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def pad_or_crop(x, pads: Sequence[tuple[int, int]], value: float = 0.0):
    """Pad the trailing dims of ``x`` by (before, after) pairs; a negative amount crops."""
    xp = get_array_module(x)
    lead = x.ndim - len(pads)
    grow = [(0, 0)] * lead + [(max(a, 0), max(b, 0)) for a, b in pads]
    if any(a or b for a, b in grow):
        x = xp.pad(x, grow, mode="constant", constant_values=value)
    crop = [slice(None)] * lead + [slice(-min(a, 0), x.shape[lead + i] + min(b, 0)) for i, (a, b) in enumerate(pads)]
    if any(a < 0 or b < 0 for a, b in pads):
        x = x[tuple(crop)]
    return x


_NUMPY_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(x, pads: Sequence[tuple[int, int]], mode: str = "constant", value: float = 0.0):
    """torch.nn.functional.pad over the trailing dims, pairs given first dim first; a negative amount crops.
    Reflect and replicate pad, then crop (torch's index maps read the whole input: (2, -1) reflects the
    input's start and drops its end); circular crops, then wraps what is left around, as torch does. A new
    array (never a view of ``x``) for every mode but constant."""
    xp = get_array_module(x)
    if mode == "constant":
        return pad_or_crop(x, pads, value)
    grow = [(0, 0)] * (x.ndim - len(pads)) + [(max(a, 0), max(b, 0)) for a, b in pads]
    crop = [(min(a, 0), min(b, 0)) for a, b in pads]
    if mode == "circular":
        x, crop = pad_or_crop(x, crop), [(0, 0)] * len(crop)  # a view of what is kept
    if not any(a or b for a, b in grow):
        return pad_or_crop(x, crop).copy()
    x = xp.pad(x, grow, mode=_NUMPY_PAD_MODES[mode])
    return x if mode == "circular" else pad_or_crop(x, crop)


def conv_out_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """Output length of a convolution or pool window sweep (floor mode)."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1
