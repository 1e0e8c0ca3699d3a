"""Pooling beyond core's max/avg/adaptive-avg 1d/2d: 3-d pools, adaptive max, LP, fractional max, unpooling."""

from __future__ import annotations

__all__: list[str] = []
