"""Shape-only layers: Flatten and Identity (torch.nn.modules.flatten, torch.nn.modules.linear)."""

from __future__ import annotations

from ...runtime import tensor as T
from ..module import Module

__all__ = ["Flatten", "Identity"]


class Flatten(Module):
    """Flattens dims start_dim..end_dim into one (torch.nn.Flatten). Shape: (N, *dims) -> (N, prod(dims))."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return T.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    """Returns its input (torch.nn.Identity). Shape: any."""

    def forward(self, input):
        return input
