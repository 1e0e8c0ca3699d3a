"""Convolution layers (torch.nn.modules.conv)."""

from __future__ import annotations

import math

from ...errors import CompileError, NNSpecRuntimeError, ShapeError
from ...runtime import functional as F
from .. import init
from ..lazy import LazyModuleMixin, UninitializedParameter
from ..module import Module
from ._common import add_weight_and_bias

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "LazyConv1d",
           "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _positive(name: str, values: tuple, allow_zero: bool = False) -> None:
    if any((v < 0) if allow_zero else (v <= 0) for v in values):
        need = "non-negative" if allow_zero else "positive"
        raise CompileError(f"{name} must be {need}, got {values if len(values) > 1 else values[0]}")


class _ConvNd(Module):
    """What the convolutions and transposed convolutions share: hyperparameters, weight, bias, repr."""

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


class _Conv(_ConvNd):
    """What Conv1d, Conv2d and Conv3d share: torch's signature, and a forward through their F op (``_conv``)."""

    _conv = None  # F.conv1d, F.conv2d or F.conv3d

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0, groups,
                         bias, padding_mode)

    def forward(self, input):
        return self._conv_forward(input, self._conv)


class Conv1d(_Conv):
    """1-d convolution (torch.nn.Conv1d). Shape: (N, C_in, L) or (C_in, L) -> (N, C_out, L_out)."""

    _nd = 1
    _conv = staticmethod(F.conv1d)


class Conv2d(_Conv):
    """2-d convolution (torch.nn.Conv2d). Shape: (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out)."""

    _nd = 2
    _conv = staticmethod(F.conv2d)


class Conv3d(_Conv):
    """3-d convolution (torch.nn.Conv3d). Shape: (N, C_in, D, H, W) or (C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)."""

    _nd = 3
    _conv = staticmethod(F.conv3d)


class _ConvTransposeNd(_ConvNd):
    """What the transposed convolutions share: zero padding only, and output_size at call time; ``_conv`` is
    their F op."""

    _conv = None  # F.conv_transpose1d, 2d or 3d

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros"):
        if padding_mode != "zeros":
            raise CompileError(f'Only "zeros" padding mode is supported for {type(self).__name__}, got {padding_mode!r}')
        if isinstance(padding, str):
            raise CompileError(f"padding={padding!r} is not supported for {type(self).__name__}; give an int")
        # an output_padding not below the stride or dilation is refused by the call that uses it (F.conv_transpose),
        # as torch's is: a call with output_size computes its own
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, True, output_padding,
                         groups, bias, padding_mode)

    def _output_padding(self, input, output_size):
        """The output_padding that makes the output exactly ``output_size`` (torch's rule: the batch and
        channel sizes may lead it, and are then ignored)."""
        if output_size is None:
            return self.output_padding
        nd = self._nd
        x = F.data_of(input)
        lead = 2 if x.ndim == nd + 2 else 1
        size = list(output_size)
        if len(size) == lead + nd:
            size = size[lead:]
        if len(size) != nd:
            raise ShapeError(f"ConvTranspose{nd}D: for {x.ndim}D input, output_size must have {nd} or {lead + nd} "
                             f"elements (got {len(size)})")
        smallest, largest = [], []
        for d in range(nd):
            smallest.append((x.shape[lead + d] - 1) * self.stride[d] - 2 * self.padding[d]
                            + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            largest.append(smallest[d] + self.stride[d] - 1)
        for d in range(nd):
            if not smallest[d] <= size[d] <= largest[d]:
                raise ShapeError(f"requested an output size of {size}, but valid sizes range from {smallest} to "
                                 f"{largest} (for an input of {list(x.shape[2:])})")
        return tuple(size[d] - smallest[d] for d in range(nd))

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size)
        return self._conv(input, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups,
                          self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution (torch.nn.ConvTranspose1d). Shape: (N, C_in, L) or (C_in, L) -> (N, C_out, L_out)."""

    _nd = 1
    _conv = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution (torch.nn.ConvTranspose2d). Shape: (N, C_in, H, W) or (C_in, H, W) ->
    (N, C_out, H_out, W_out)."""

    _nd = 2
    _conv = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """3-d transposed convolution (torch.nn.ConvTranspose3d). Shape: (N, C_in, D, H, W) or (C_in, D, H, W) ->
    (N, C_out, D_out, H_out, W_out)."""

    _nd = 3
    _conv = staticmethod(F.conv_transpose3d)


# --------------------------------------------------------------------------- lazy


class _LazyConvMixin(LazyModuleMixin):
    """torch's _LazyConvXdMixin: in_channels from the first input (dim 1 batched, dim 0 unbatched), then
    the weight and bias are made and initialised as the convolution's own are."""

    def _lazy_init(self, out_channels, bias) -> None:
        """After the convolution's constructor ran with 0 channels and no bias: the uninitialised state."""
        self.weight = UninitializedParameter()
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if not self.has_uninitialized_params():
            return
        x = F.data_of(input)
        nd = self._nd
        if x.ndim not in (nd + 1, nd + 2):
            raise ShapeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {self._get_name()}, "
                             f"but got input of size: [{', '.join(map(str, x.shape))}]")
        c = x.shape[1] if x.ndim == nd + 2 else x.shape[0]
        if not isinstance(c, int):
            raise ShapeError(f"{self._get_name()} takes in_channels from its input's channel dim, which must be a "
                             f"number, got {c}")
        if c % self.groups != 0:
            raise ShapeError(f"in_channels must be divisible by groups: {self._get_name()} with groups="
                             f"{self.groups} got an input of {c} channels")
        if not isinstance(self.weight, UninitializedParameter):  # torch asserts it: a partial load
            raise NNSpecRuntimeError(f"{self._get_name()}: its weight was loaded from a state_dict but not its "
                                     "bias: load both or neither before the first call")
        self.in_channels = c
        if self.transposed:
            self.weight.materialize((c, self.out_channels // self.groups, *self.kernel_size))
        else:
            self.weight.materialize((self.out_channels, c // self.groups, *self.kernel_size))
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()


class _LazyConv(_LazyConvMixin):
    """LazyConv1d, LazyConv2d and LazyConv3d: torch's signature (no in_channels)."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros"):
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode)
        self._lazy_init(out_channels, bias)


class _LazyConvTranspose(_LazyConvMixin):
    """LazyConvTranspose1d, 2d and 3d: torch's signature (no in_channels)."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode="zeros"):
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode)
        self._lazy_init(out_channels, bias)


class LazyConv1d(_LazyConv, Conv1d):
    """Conv1d whose in_channels the first input gives (torch.nn.LazyConv1d). Shape: as Conv1d's."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    """Conv2d whose in_channels the first input gives (torch.nn.LazyConv2d). Shape: as Conv2d's."""

    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    """Conv3d whose in_channels the first input gives (torch.nn.LazyConv3d). Shape: as Conv3d's."""

    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """ConvTranspose1d whose in_channels the first input gives (torch.nn.LazyConvTranspose1d). Shape: as
    ConvTranspose1d's."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """ConvTranspose2d whose in_channels the first input gives (torch.nn.LazyConvTranspose2d). Shape: as
    ConvTranspose2d's."""

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    """ConvTranspose3d whose in_channels the first input gives (torch.nn.LazyConvTranspose3d). Shape: as
    ConvTranspose3d's."""

    cls_to_become = ConvTranspose3d
