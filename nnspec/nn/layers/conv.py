"""Convolution layers (torch.nn.modules.conv)."""

from __future__ import annotations

import math

from ...errors import CompileError, ShapeError
from ...runtime import functional as F
from .. import init
from ..module import Module
from ._common import add_weight_and_bias

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _positive(name: str, values: tuple, allow_zero: bool = False) -> None:
    if any((v < 0) if allow_zero else (v <= 0) for v in values):
        need = "non-negative" if allow_zero else "positive"
        raise CompileError(f"{name} must be {need}, got {values if len(values) > 1 else values[0]}")


class _ConvNd(Module):
    """What Conv1d/2d and ConvTranspose1d share: hyperparameters, weight, bias, repr."""

    _nd = 0
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed,
                 output_padding, groups, bias, padding_mode):
        super().__init__()
        nd = self._nd
        if groups <= 0:
            raise CompileError(f"groups must be a positive integer, got {groups}")
        if in_channels % groups != 0:
            raise CompileError(f"in_channels (={in_channels}) must be divisible by groups (={groups})")
        if out_channels % groups != 0:
            raise CompileError(f"out_channels (={out_channels}) must be divisible by groups (={groups})")
        if padding_mode not in PADDING_MODES:
            raise CompileError(f"padding_mode must be one of {list(PADDING_MODES)}, but got padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = F.ntuple(kernel_size, nd)
        self.stride = F.ntuple(stride, nd)
        self.dilation = F.ntuple(dilation, nd)
        for name in ("kernel_size", "stride", "dilation"):
            value = getattr(self, name)
            if len(value) != nd:
                raise CompileError(f"{name} must be an int or a list of {nd}, got {list(value)}")
            _positive(name, value)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise CompileError(f"invalid padding string {padding!r}, should be one of ['same', 'valid']")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise CompileError(f"padding='same' is not supported for strided convolutions (stride={self.stride})")
            self.padding = padding
        else:
            self.padding = F.ntuple(padding, nd)
            if len(self.padding) != nd:
                raise CompileError(f"padding must be an int or a list of {nd}, got {list(self.padding)}")
            _positive("padding", self.padding, allow_zero=True)
        self.output_padding = F.ntuple(output_padding, nd)
        self.transposed = transposed
        self.groups = groups
        self.padding_mode = padding_mode
        pairs = F.conv_padding(self.padding, self.kernel_size, self.stride, self.dilation)
        # F.pad order: last dim first, (left, right) each
        self._reversed_padding_repeated_twice = [p for pair in reversed(pairs) for p in pair]
        if transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        add_weight_and_bias(self, shape, out_channels, bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            init.bias_uniform_(self.bias, fan_in)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _conv_forward(self, input, fn):
        if self.padding_mode != "zeros":
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return fn(input, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return fn(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-d convolution (torch.nn.Conv1d). Shape: (N, C_in, L) or (C_in, L) -> (N, C_out, L_out)."""

    _nd = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0, groups,
                         bias, padding_mode)

    def forward(self, input):
        return self._conv_forward(input, F.conv1d)


class Conv2d(_ConvNd):
    """2-d convolution (torch.nn.Conv2d). Shape: (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out)."""

    _nd = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0, groups,
                         bias, padding_mode)

    def forward(self, input):
        return self._conv_forward(input, F.conv2d)


class ConvTranspose1d(_ConvNd):
    """1-d transposed convolution (torch.nn.ConvTranspose1d). Shape: (N, C_in, L) -> (N, C_out, L_out)."""

    _nd = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros"):
        if padding_mode != "zeros":
            raise CompileError(f'only "zeros" padding mode is supported for {type(self).__name__}, got {padding_mode!r}')
        if isinstance(padding, str):
            raise CompileError(f"padding={padding!r} is not supported for {type(self).__name__}; give an int")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, True, output_padding,
                         groups, bias, padding_mode)
        for i in range(self._nd):
            if self.output_padding[i] >= max(self.stride[i], self.dilation[i]):
                raise CompileError(
                    f"output_padding (={self.output_padding}) must be smaller than either stride "
                    f"(={self.stride}) or dilation (={self.dilation})"
                )

    def _output_padding(self, input, output_size):
        """The output_padding that makes the output exactly ``output_size`` (torch's rule)."""
        if output_size is None:
            return self.output_padding
        nd = self._nd
        size = list(output_size)
        if len(size) not in (nd, nd + 2):
            raise ShapeError(f"output_size must have {nd} or {nd + 2} elements (got {len(size)})")
        size = size[-nd:]
        spatial = input.shape[-nd:]
        pads = []
        for i in range(nd):
            smallest = (spatial[i] - 1) * self.stride[i] - 2 * self.padding[i] + self.dilation[i] * (self.kernel_size[i] - 1) + 1
            largest = smallest + self.stride[i] - 1
            if not smallest <= size[i] <= largest:
                raise ShapeError(
                    f"requested an output size of {size}, but valid sizes range from {smallest} to {largest} "
                    f"(for an input of {tuple(spatial)})"
                )
            pads.append(size[i] - smallest)
        return tuple(pads)

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size)
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                  self.groups, self.dilation)
