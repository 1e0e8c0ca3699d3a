"""Distances (torch.nn.modules.distance): CosineSimilarity, PairwiseDistance."""

from __future__ import annotations

from ...runtime import functional as F
from ..module import Module

__all__: list[str] = ["PairwiseDistance"]


class PairwiseDistance(Module):
    """The p-norm of x1 - x2 + eps over the last dim (torch.nn.PairwiseDistance). Shape: (N, D) or (D), same
    -> (N) or () (keepdim: (N, 1) or (1))."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
