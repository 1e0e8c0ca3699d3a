"""Dropout variants beyond core's dropout and dropout2d: dropout1d/3d, alpha_dropout, feature_alpha_dropout."""

from __future__ import annotations

__all__: list[str] = []
