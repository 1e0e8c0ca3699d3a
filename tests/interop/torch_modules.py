"""Hand-written torch modules for the import tests (``nnspec import torch_modules:Net``): branches, a
ModuleDict looped over, a ModuleList of user modules, an input defaulting to None, a parameter and buffers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Heads(nn.Module):
    def __init__(self, skip: bool = True) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.heads = nn.ModuleDict({"a": nn.Sequential(nn.ReLU(), nn.Conv2d(8, 4, 1)),
                                    "b-2": nn.Conv2d(8, 4, 3, padding=1, bias=False)})
        self.scale = nn.Parameter(torch.randn(1, 4, 1, 1))
        self.register_buffer("offset", torch.randn(4))
        self.register_buffer("positions", torch.arange(5), persistent=False)
        self.skip = skip

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None):
        y = self.stem(x)
        outs = [head(y) for head in self.heads.values()]
        z = torch.cat([o * self.scale for o in outs], dim=1)
        if self.skip:  # an attribute: fixed when traced
            z = z + y
        if mask is not None:
            z = z * mask
        n, c, h, w = z.shape
        z = z + self.positions.to(z.dtype)  # (as wide as the input)
        return F.softmax(z.reshape(n, c, h * w), -1), (outs[0].mean() * self.offset).sum()


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([Heads(True), nn.Identity(), Heads(False)])
        self.norm = nn.LayerNorm(8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, m = self.blocks[0](x)
        y2, _ = self.blocks[2](self.blocks[1](x))
        return self.norm((y + y2).transpose(1, 2)) + m


class DataBranch(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:  # a branch on a value: torch.fx cannot trace it
            return self.fc(x)
        return x


class Histogram(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.histc(x, bins=4)


class LocalResponse(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lrn = nn.CrossMapLRN2d(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lrn(x)


class StateOnly(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("offset", torch.ones(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.offset.sum()  # computed from the state alone: fx keeps its value, not the op
