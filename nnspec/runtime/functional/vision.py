"""Rearrangements and vision ops beyond core's pixel_shuffle and interpolate: pixel_unshuffle, fold, unfold, ..."""

from __future__ import annotations

__all__: list[str] = []
