"""Lookups: embedding, embedding_bag, one_hot (torch.nn.functional)."""

from __future__ import annotations

__all__: list[str] = []
