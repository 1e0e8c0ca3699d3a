"""Rearrangements and vision ops beyond core's pixel_shuffle and interpolate: pixel_unshuffle, channel_shuffle,
fold, unfold."""

from __future__ import annotations

from ...errors import NNSpecRuntimeError, ShapeError
from ..kernels import fold as _fold
from ..kernels import shuffle
from ..meta import is_meta
from ..symbolic import is_symbolic
from .core import _data, _fits, _int64, _meta, _shape, torch_type_name

__all__ = ["pixel_unshuffle", "channel_shuffle", "fold", "unfold"]


def _int(op: str, name: str, position: int, value) -> int:
    """torch parses this argument as an int: anything else is its TypeError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise NNSpecRuntimeError(f"{op}(): argument '{name}' (position {position}) must be int, not "
                                 f"{type(value).__name__}")
    _int64(op, **{name: value})
    return value


def pixel_unshuffle(input, downscale_factor):
    x = _data(input)
    r = _int("pixel_unshuffle", "downscale_factor", 2, downscale_factor)
    if x.ndim < 3:
        raise ShapeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with {x.ndim} "
                         "dimension(s)")
    if r <= 0:
        raise NNSpecRuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    h, w = x.shape[-2:]
    if h % r:
        raise ShapeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)={h} "
                         f"is not divisible by {r}")
    if w % r:
        raise ShapeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)={w} "
                         f"is not divisible by {r}")
    if x.size == 0:  # torch returns an empty input's copy, its shape unchanged
        return _meta(x.shape, x.dtype) if is_meta(x) else x.copy()
    if is_meta(x):
        return _meta(tuple(x.shape[:-3]) + (x.shape[-3] * r * r, h // r, w // r), x.dtype)
    return shuffle.pixel_unshuffle(x, r)


def channel_shuffle(input, groups):
    x = _data(input)
    g = _int("channel_shuffle", "groups", 2, groups)
    if x.ndim <= 2:
        raise ShapeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {_shape(x)}")
    if g <= 0:
        raise NNSpecRuntimeError(f"channel_shuffle: Number of groups to divide channels in must be positive. Value of "
                                 f"groups:{g}")
    if x.shape[1] % g:
        raise ShapeError(f"channel_shuffle: Number of channels must be divisible by groups. Got {x.shape[1]} channels "
                         f"and {g} groups.")
    if is_meta(x):
        return _meta(x.shape, x.dtype)
    return shuffle.channel_shuffle(x, g)


def _pairs(op: str, **args) -> list[tuple[int, int]]:
    """torch's _pair for each argument, then its check that each has two elements."""
    out = []
    for name, value in args.items():
        if isinstance(value, (list, tuple)):
            for v in value:
                if isinstance(v, bool) or not (isinstance(v, int) or is_symbolic(v)):  # a size from x.size(2)
                    raise NNSpecRuntimeError(f"{op}(): argument '{name}' must be tuple of ints, but found element of "
                                             f"type {type(v).__name__}")
        elif isinstance(value, bool) or not (isinstance(value, int) or is_symbolic(value)):
            raise NNSpecRuntimeError(f"{op}(): argument '{name}' must be tuple of ints, not {type(value).__name__}")
        _int64(op, **{name: value})
        pair = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
        if len(pair) != 2:
            raise NNSpecRuntimeError(f"{op}: It is expected {name} equals to 2, but got size {len(pair)}")
        out.append(pair)
    return out


def _check_window(op: str, kernel, dilation, padding, stride, order: str) -> None:
    """im2col's and col2im's argument checks, in their order ("kdps" and "ksdp")."""
    checks = {
        "k": (min(kernel) > 0, f"kernel size should be greater than zero, but got kernel_height: {kernel[0]} "
                               f"kernel_width: {kernel[1]}"),
        "d": (min(dilation) > 0, f"dilation should be greater than zero, but got dilation_height: {dilation[0]} "
                                 f"dilation_width: {dilation[1]}"),
        "p": (min(padding) >= 0, f"padding should be non-negative, but got pad_height: {padding[0]} "
                                 f"pad_width: {padding[1]}"),
        "s": (min(stride) > 0, f"stride should be greater than zero, but got stride_height: {stride[0]} "
                               f"stride_width: {stride[1]}"),
    }
    for key in order:
        ok, message = checks[key]
        if not ok:
            raise NNSpecRuntimeError(f"{op}: {message}")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    x = _data(input)
    kernel, dilation, padding, stride = _pairs("unfold", kernel_size=kernel_size, dilation=dilation, padding=padding,
                                               stride=stride)
    _check_window("unfold", kernel, dilation, padding, stride, "kdps")
    if x.ndim < 3:  # torch reads input.size(1) and input.size(2) before it checks the dims
        n = max(x.ndim, 1)
        raise ShapeError(f"unfold: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got "
                         f"{1 if x.ndim < 2 else 2})")
    if not (x.ndim == 3 and x.shape[0] != 0 and x.shape[1] != 0 and x.shape[2] != 0
            or x.ndim == 4 and x.shape[1] != 0 and x.shape[2] != 0 and x.shape[3] != 0):
        raise ShapeError("unfold: Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                         f"dimensions for input, but got: {_shape(x)}")
    unbatched = x.ndim == 3
    h, w = x.shape[-2:]
    out = [_fold.blocks(s, k, d, p, st) for s, k, d, p, st in zip((h, w), kernel, dilation, padding, stride)]
    if out[0] < 1 or out[1] < 1:
        raise ShapeError(f"unfold: Given input with spatial size ({h}, {w}), kernel_size=({kernel[0]}, {kernel[1]}), "
                         f"dilation=({dilation[0]}, {dilation[1]}), padding=({padding[0]}, {padding[1]}), calculated "
                         f"shape of the array of sliding blocks as ({out[0]}, {out[1]}), but its components must be at "
                         "least one.")
    if x.dtype.kind not in "fb":  # torch's kernel takes floating point and bool (overlaps summed: or-ed)
        raise NNSpecRuntimeError(f"unfold: \"im2col_out_cpu\" not implemented for '{torch_type_name(x.dtype)}' (input "
                                 f"of size {_shape(x)})")
    shape = tuple(x.shape[:-3]) + (x.shape[-3] * kernel[0] * kernel[1], out[0] * out[1])
    if is_meta(x):
        return _meta(shape, x.dtype)
    _fits("unfold", shape, x.dtype)
    y = _fold.unfold(x[None] if unbatched else x, kernel, dilation, padding, stride)
    return y[0] if unbatched else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    x = _data(input)
    output_size, kernel, dilation, padding, stride = _pairs(
        "fold", output_size=output_size, kernel_size=kernel_size, dilation=dilation, padding=padding, stride=stride)
    _check_window("fold", kernel, dilation, padding, stride, "ksdp")
    if not (x.ndim == 2 and x.shape[0] != 0 and x.shape[1] != 0 or x.ndim == 3 and x.shape[1] != 0 and x.shape[2] != 0):
        raise ShapeError("fold: Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                         f"dimensions for input, but got: {_shape(x)}")
    unbatched = x.ndim == 2
    planes, length = x.shape[-2:]
    k = kernel[0] * kernel[1]
    dim = 1  # torch's messages name dims 1 and 2, batched or not
    if planes % k:
        raise ShapeError(f"fold: Expected size of input's dimension {dim} to be divisible by the product of "
                         f"kernel_size, but got input.size({dim})={planes} and kernel_size=({kernel[0]}, {kernel[1]}).")
    bh, bw = (_fold.blocks(o, kk, d, p, s) for o, kk, d, p, s in zip(output_size, kernel, dilation, padding, stride))
    given = (f"Given output_size=({output_size[0]}, {output_size[1]}), kernel_size=({kernel[0]}, {kernel[1]}), "
             f"dilation=({dilation[0]}, {dilation[1]}), padding=({padding[0]}, {padding[1]}), stride=({stride[0]}, "
             f"{stride[1]})")
    if length != bh * bw:
        raise ShapeError(f"fold: {given}, expected size of input's dimension {dim + 1} to match the calculated number "
                         f"of sliding blocks {bh} * {bw} = {bh * bw}, but got input.size({dim + 1})={length}.")
    if bh < 1 or bw < 1:
        raise ShapeError(f"fold: {given}, calculated shape of the array of sliding blocks as ({bh}, {bw}), which is too "
                         "small (non-positive)")
    if x.dtype.kind not in "fb":  # torch's kernel takes floating point and bool (overlaps summed: or-ed)
        raise NNSpecRuntimeError(f"fold: \"col2im_out_cpu\" not implemented for '{torch_type_name(x.dtype)}' (input of "
                                 f"size {_shape(x)})")
    shape = tuple(x.shape[:-2]) + (planes // k,) + tuple(output_size)
    if is_meta(x):
        return _meta(shape, x.dtype)
    _fits("fold", tuple(x.shape[:-2]) + (planes // k, output_size[0] + 2 * padding[0], output_size[1] + 2 * padding[1]),
          x.dtype)
    y = _fold.fold(x[None] if unbatched else x, output_size, kernel, dilation, padding, stride)
    return y[0] if unbatched else y

