"""Attention and transformers (torch.nn.MultiheadAttention, torch.nn.modules.transformer)."""

from __future__ import annotations

__all__: list[str] = []
