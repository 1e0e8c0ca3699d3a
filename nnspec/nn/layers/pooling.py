"""Pooling layers (torch.nn.modules.pooling)."""

from __future__ import annotations

import numpy

from ...errors import CompileError
from ...resources import empty
from ...runtime import functional as F
from ...runtime.meta import is_meta
from ..module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
           "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
           "AdaptiveMaxPool3d", "LPPool1d", "LPPool2d", "LPPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d",
           "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d"]


def _check(name: str, value, nd: int, minimum: int) -> None:
    values = F.ntuple(value, nd)
    if len(values) not in (1, nd) or any(v < minimum for v in values):
        need = "positive" if minimum else "non-negative"
        raise CompileError(f"{name} must be a {need} int or a list of {nd}, got {value}")


def _check_window(nd: int, kernel_size, stride, padding) -> None:
    """What every pool checks: a positive kernel and stride (None: the kernel), non-negative padding."""
    _check("kernel_size", kernel_size, nd, 1)
    if stride is not None:
        _check("stride", stride, nd, 1)
    _check("padding", padding, nd, 0)


def _check_output_size(output_size, nd: int, none: bool) -> None:
    """An adaptive pool's output_size: an int or a list of nd, each non-negative (or None, where ``none``: the
    input's size there)."""
    sizes = F.ntuple(output_size, nd)
    if len(sizes) != nd or any((s is None and not none) or (s is not None and s < 0) for s in sizes):
        what = "an int, None or a list of" if none else "an int or a list of"
        raise CompileError(f"output_size must be {what} {nd} of them, got {output_size}")


class _MaxPoolNd(Module):
    _nd = 0
    _pool = None  # the F op: F.max_pool1d, 2d or 3d

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        _check_window(self._nd, kernel_size, stride, padding)
        _check("dilation", dilation, self._nd, 1)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return self._pool(input, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode,
                          return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """1-d max pooling (torch.nn.MaxPool1d). Shape: (N, C, L) or (C, L) -> (N, C, L_out)."""

    _nd = 1
    _pool = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """2-d max pooling (torch.nn.MaxPool2d). Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out)."""

    _nd = 2
    _pool = staticmethod(F.max_pool2d)


class AvgPool1d(Module):
    """1-d average pooling (torch.nn.AvgPool1d). Shape: (N, C, L) or (C, L) -> (N, C, L_out)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        _check_window(1, kernel_size, stride, padding)
        # torch stores AvgPool1d's sizes as 1-tuples, so its repr shows kernel_size=(3,)
        self.kernel_size = F.ntuple(kernel_size, 1)
        self.stride = F.ntuple(stride if stride is not None else kernel_size, 1)
        self.padding = F.ntuple(padding, 1)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)


class _AvgPoolNd(Module):
    """What AvgPool2d and AvgPool3d share (AvgPool1d keeps its sizes as 1-tuples and has no divisor_override)."""

    _nd = 0
    _pool = None  # the F op: F.avg_pool2d or 3d

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        _check_window(self._nd, kernel_size, stride, padding)
        if divisor_override is not None and divisor_override == 0:
            raise CompileError("divisor_override must be non-zero")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input):
        return self._pool(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)


class AvgPool2d(_AvgPoolNd):
    """2-d average pooling (torch.nn.AvgPool2d). Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out)."""

    _nd = 2
    _pool = staticmethod(F.avg_pool2d)


class _AdaptiveAvgPoolNd(Module):
    _nd = 0
    _pool = None  # the F op: F.adaptive_avg_pool1d, 2d or 3d

    def __init__(self, output_size):
        super().__init__()
        _check_output_size(output_size, self._nd, none=self._nd > 1)  # torch.adaptive_avg_pool1d refuses None
        self.output_size = output_size

    def forward(self, input):
        return self._pool(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """1-d adaptive average pooling (torch.nn.AdaptiveAvgPool1d). Shape: (N, C, L) -> (N, C, output_size)."""

    _nd = 1
    _pool = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """2-d adaptive average pooling (torch.nn.AdaptiveAvgPool2d). Shape: (N, C, H, W) -> (N, C, *output_size)."""

    _nd = 2
    _pool = staticmethod(F.adaptive_avg_pool2d)


class MaxPool3d(_MaxPoolNd):
    """3-d max pooling (torch.nn.MaxPool3d). Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out)."""

    _nd = 3
    _pool = staticmethod(F.max_pool3d)


class AvgPool3d(_AvgPoolNd):
    """3-d average pooling (torch.nn.AvgPool3d). Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out,
    W_out)."""

    _nd = 3
    _pool = staticmethod(F.avg_pool3d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """3-d adaptive average pooling (torch.nn.AdaptiveAvgPool3d). Shape: (N, C, D, H, W) -> (N, C, *output_size)."""

    _nd = 3
    _pool = staticmethod(F.adaptive_avg_pool3d)


class _AdaptiveMaxPoolNd(Module):
    _nd = 0
    _pool = None  # the F op: F.adaptive_max_pool1d, 2d or 3d

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        _check_output_size(output_size, self._nd, none=self._nd > 1)  # torch.adaptive_max_pool1d refuses None
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input):
        return self._pool(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """1-d adaptive max pooling (torch.nn.AdaptiveMaxPool1d). Shape: (N, C, L) or (C, L) -> (N, C, output_size);
    with return_indices, (output, int64 indices)."""

    _nd = 1
    _pool = staticmethod(F.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """2-d adaptive max pooling (torch.nn.AdaptiveMaxPool2d). Shape: (N, C, H, W) or (C, H, W) -> (N, C,
    *output_size); with return_indices, (output, int64 indices)."""

    _nd = 2
    _pool = staticmethod(F.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """3-d adaptive max pooling (torch.nn.AdaptiveMaxPool3d). Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C,
    *output_size); with return_indices, (output, int64 indices)."""

    _nd = 3
    _pool = staticmethod(F.adaptive_max_pool3d)


class _LPPoolNd(Module):
    _nd = 0
    _pool = None  # the F op: F.lp_pool1d, 2d or 3d

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        if norm_type == 0 or norm_type != norm_type:
            raise CompileError(f"norm_type must be a non-zero number (inf for a max pool), got {norm_type}")
        if self._nd == 1 and isinstance(kernel_size, (list, tuple)):  # torch multiplies by kernel_size itself
            raise CompileError(f"LPPool1d's kernel_size must be an int, got {kernel_size}")
        _check_window(self._nd, kernel_size, stride, 0)
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return self._pool(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """1-d power-average pooling, (sum of x**p over a window)**(1/p) (torch.nn.LPPool1d). Shape: (N, C, L) or
    (C, L) -> (N, C, L_out)."""

    _nd = 1
    _pool = staticmethod(F.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """2-d power-average pooling (torch.nn.LPPool2d). Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out)."""

    _nd = 2
    _pool = staticmethod(F.lp_pool2d)


class LPPool3d(_LPPoolNd):
    """3-d power-average pooling (torch.nn.LPPool3d). Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out,
    W_out)."""

    _nd = 3
    _pool = staticmethod(F.lp_pool3d)


def _samples(value, nd: int):
    """``_random_samples`` as the buffer torch registers: an (N, C, nd) float32 array from nested lists (an
    array is kept), shape-only inside ``shape_only()``."""
    if value is None or is_meta(value) or hasattr(value, "dtype"):
        return value
    shape, level = [], value
    while isinstance(level, (list, tuple)):
        shape.append(len(level))
        level = level[0] if level else None
    try:
        host = numpy.asarray(value, dtype=numpy.float32)
    except (ValueError, TypeError):
        raise CompileError("_random_samples must be a nested list of numbers of shape (N, C, "
                           f"{nd}), one per batch element, channel and spatial dim") from None
    if host.shape != tuple(shape) or host.ndim != 3:
        raise CompileError(f"_random_samples must be a nested list of shape (N, C, {nd}), got one of shape "
                           f"{list(host.shape) if host.shape == tuple(shape) else 'uneven lists'}")
    buf = empty(host.shape)
    if not is_meta(buf):
        buf[...] = host
    return buf


class _FractionalMaxPoolNd(Module):
    _nd = 0
    _pool = None  # the F op: F.fractional_max_pool2d or 3d

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None):
        super().__init__()
        name, nd = type(self).__name__, self._nd
        if nd == 3 and any(k <= 0 for k in F.ntuple(kernel_size, 1)):
            raise CompileError(f"kernel_size must be greater than 0, but got {kernel_size}")
        _check("kernel_size", kernel_size, nd, 1)  # torch would take windows of no element
        self.kernel_size = tuple(F.ntuple(kernel_size, nd))
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _samples(_random_samples, nd))
        self.output_size = tuple(F.ntuple(output_size, nd)) if output_size is not None else None
        self.output_ratio = tuple(F.ntuple(output_ratio, nd)) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise CompileError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise CompileError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio[:nd]):
            raise CompileError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        return self._pool(input, self.kernel_size, self.output_size, self.output_ratio, self.return_indices,
                          _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """2-d fractional max pooling, windows at pseudo-random steps (torch.nn.FractionalMaxPool2d). Shape: (N, C, H, W)
    or (C, H, W) -> (N, C, *output_size); with return_indices, (output, int64 indices)."""

    _nd = 2
    _pool = staticmethod(F.fractional_max_pool2d)


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """3-d fractional max pooling (torch.nn.FractionalMaxPool3d). Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C,
    *output_size); with return_indices, (output, int64 indices)."""

    _nd = 3
    _pool = staticmethod(F.fractional_max_pool3d)


class _MaxUnpoolNd(Module):
    _nd = 0
    _pool = None  # the F op: F.max_unpool1d, 2d or 3d

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        _check_window(self._nd, kernel_size, stride, padding)
        self.kernel_size = tuple(F.ntuple(kernel_size, self._nd))
        self.stride = tuple(F.ntuple(stride if stride is not None else kernel_size, self._nd))
        self.padding = tuple(F.ntuple(padding, self._nd))

    def forward(self, input, indices, output_size=None):
        return self._pool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of MaxPool1d: each value at its index, zeros elsewhere (torch.nn.MaxUnpool1d). Shape: (N, C,
    L) or (C, L) with indices of the same shape -> (N, C, L_out), L_out = (L - 1) * stride + kernel_size - 2 *
    padding, or output_size."""

    _nd = 1
    _pool = staticmethod(F.max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of MaxPool2d (torch.nn.MaxUnpool2d). Shape: (N, C, H, W) or (C, H, W) with indices of the
    same shape -> (N, C, H_out, W_out)."""

    _nd = 2
    _pool = staticmethod(F.max_unpool2d)


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of MaxPool3d (torch.nn.MaxUnpool3d). Shape: (N, C, D, H, W) or (C, D, H, W) with indices of
    the same shape -> (N, C, D_out, H_out, W_out)."""

    _nd = 3
    _pool = staticmethod(F.max_unpool3d)
