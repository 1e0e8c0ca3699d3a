"""Distances between arrays: cosine_similarity, pairwise_distance (torch.nn.functional)."""

from __future__ import annotations

__all__: list[str] = []
