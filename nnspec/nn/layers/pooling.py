"""Pooling layers (torch.nn.modules.pooling)."""

from __future__ import annotations

from ...errors import CompileError
from ...runtime import functional as F
from ..module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d"]


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


class _MaxPoolNd(Module):
    _nd = 0

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

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """1-d max pooling (torch.nn.MaxPool1d). Shape: (N, C, L) or (C, L) -> (N, C, L_out)."""

    _nd = 1

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """2-d max pooling (torch.nn.MaxPool2d). Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out)."""

    _nd = 2

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


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


class AvgPool2d(Module):
    """2-d average pooling (torch.nn.AvgPool2d). Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        _check_window(2, kernel_size, stride, padding)
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
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class _AdaptiveAvgPoolNd(Module):
    _nd = 0

    def __init__(self, output_size):
        super().__init__()
        sizes = F.ntuple(output_size, self._nd)
        if len(sizes) != self._nd or any(s is not None and s < 0 for s in sizes):
            raise CompileError(f"output_size must be an int, None or a list of {self._nd} of them, got {output_size}")
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """1-d adaptive average pooling (torch.nn.AdaptiveAvgPool1d). Shape: (N, C, L) -> (N, C, output_size)."""

    _nd = 1

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """2-d adaptive average pooling (torch.nn.AdaptiveAvgPool2d). Shape: (N, C, H, W) -> (N, C, *output_size)."""

    _nd = 2

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)
