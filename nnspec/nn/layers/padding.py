"""Padding layers (torch.nn.modules.padding): Zero, Constant, Reflection, Replication and Circular pads, 1-3d."""

from __future__ import annotations

from ...errors import CompileError, ShapeError
from ...runtime import functional as F
from ..module import Module

__all__ = ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d"]


def _padding(padding, nd: int, name: str) -> tuple:
    """torch's _ntuple(2 * nd): an int repeated, or a sequence kept as it is (F.pad's order: last dim first)."""
    if isinstance(padding, (list, tuple)):
        padding = tuple(padding)
        if len(padding) != 2 * nd:
            raise CompileError(f"{name}: padding must be an int or a list of {2 * nd} ints (left, right"
                               f"{', top, bottom' if nd > 1 else ''}{', front, back' if nd > 2 else ''}), "
                               f"got {list(padding)}")
        return padding
    return (padding,) * (2 * nd)


class _PadNd(Module):
    """What the padding layers share: ``padding`` as F.pad takes it, and torch's repr of it."""

    _nd = 0
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding(padding, self._nd, type(self).__name__)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with a constant (torch.nn.ConstantPad1d). Shape: (*, W) -> (*, W + left + right)."""

    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims with a constant (torch.nn.ConstantPad2d). Shape: (*, H, W) -> (*, H_out, W_out)."""

    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims with a constant (torch.nn.ConstantPad3d). Shape: (*, D, H, W) -> (*, D_out, H_out, W_out)."""

    _nd = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd, ConstantPad1d):
    """Pads the last dim with zeros (torch.nn.ZeroPad1d). Shape: (*, W) -> (*, W + left + right)."""


class ZeroPad2d(_ZeroPadNd, ConstantPad2d):
    """Pads the last 2 dims with zeros (torch.nn.ZeroPad2d). Shape: (*, H, W) -> (*, H_out, W_out)."""


class ZeroPad3d(_ZeroPadNd, ConstantPad3d):
    """Pads the last 3 dims with zeros (torch.nn.ZeroPad3d). Shape: (*, D, H, W) -> (*, D_out, H_out, W_out)."""


class ReflectionPad1d(_PadNd):
    """Pads the last dim with its reflection (torch.nn.ReflectionPad1d). Shape: (C, W) or (N, C, W) -> (*, W_out)."""

    _nd = 1
    _mode = "reflect"


class ReflectionPad2d(_PadNd):
    """Pads the last 2 dims with their reflection (torch.nn.ReflectionPad2d). Shape: (C, H, W) or (N, C, H, W) ->
    (*, H_out, W_out)."""

    _nd = 2
    _mode = "reflect"


class ReflectionPad3d(_PadNd):
    """Pads the last 3 dims with their reflection (torch.nn.ReflectionPad3d). Shape: (C, D, H, W) or
    (N, C, D, H, W) -> (*, D_out, H_out, W_out)."""

    _nd = 3
    _mode = "reflect"


class ReplicationPad1d(_PadNd):
    """Pads the last dim with its edge values (torch.nn.ReplicationPad1d). Shape: (C, W) or (N, C, W) -> (*, W_out)."""

    _nd = 1
    _mode = "replicate"


class ReplicationPad2d(_PadNd):
    """Pads the last 2 dims with their edge values (torch.nn.ReplicationPad2d). Shape: (C, H, W) or (N, C, H, W) ->
    (*, H_out, W_out)."""

    _nd = 2
    _mode = "replicate"


class ReplicationPad3d(_PadNd):
    """Pads the last 3 dims with their edge values (torch.nn.ReplicationPad3d). Shape: (C, D, H, W) or
    (N, C, D, H, W) -> (*, D_out, H_out, W_out)."""

    _nd = 3
    _mode = "replicate"


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input):
        x = F.data_of(input)
        if x.ndim not in (self._nd + 1, self._nd + 2):  # torch's own check, before F.pad's
            raise ShapeError(f"expected {self._nd + 1}D or {self._nd + 2}D input (got {x.ndim}D input)")
        return F.pad(x, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pads the last dim by wrapping it around (torch.nn.CircularPad1d). Shape: (C, W) or (N, C, W) -> (*, W_out)."""

    _nd = 1


class CircularPad2d(_CircularPadNd):
    """Pads the last 2 dims by wrapping them around (torch.nn.CircularPad2d). Shape: (C, H, W) or (N, C, H, W) ->
    (*, H_out, W_out)."""

    _nd = 2


class CircularPad3d(_CircularPadNd):
    """Pads the last 3 dims by wrapping them around (torch.nn.CircularPad3d). Shape: (C, D, H, W) or
    (N, C, D, H, W) -> (*, D_out, H_out, W_out)."""

    _nd = 3
