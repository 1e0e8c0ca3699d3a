"""Padding layers (torch.nn.modules.padding): Zero, Constant, Reflection, Replication and Circular pads, 1-3d."""

from __future__ import annotations

__all__: list[str] = []
