"""Activations (torch.nn.modules.activation)."""

from __future__ import annotations

from ...resources import empty
from ...runtime import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["ReLU", "ReLU6", "Tanh", "Sigmoid", "LeakyReLU", "PReLU", "GELU"]


class ReLU(Module):
    """max(0, x) (torch.nn.ReLU). Shape: any."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU6(Module):
    """min(max(0, x), 6) (torch.nn.ReLU6). Shape: any."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu6(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """tanh(x) (torch.nn.Tanh). Shape: any."""

    def forward(self, input):
        return F.tanh(input)


class Sigmoid(Module):
    """1 / (1 + exp(-x)) (torch.nn.Sigmoid). Shape: any."""

    def forward(self, input):
        return F.sigmoid(input)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x (torch.nn.LeakyReLU). Shape: any."""

    def __init__(self, negative_slope=1e-2, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """LeakyReLU with a learned slope per channel (torch.nn.PReLU). Shape: any; channels at dim 1."""

    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(empty((num_parameters,)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF, exact or by tanh (torch.nn.GELU). Shape: any."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"
