"""Distances between arrays: cosine_similarity, pairwise_distance (torch.nn.functional)."""

from __future__ import annotations

from .loss import _arrays, _number, _pairwise

__all__: list[str] = ["pairwise_distance"]


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """torch.pairwise_distance: norm(x1 - x2 + eps, p) over the last dim of their broadcast."""
    a, b = _arrays("pairwise_distance", x1=x1, x2=x2)
    _number("pairwise_distance", "p", p)
    _number("pairwise_distance", "eps", eps)
    return _pairwise("pairwise_distance", a, b, p, eps, bool(keepdim))
