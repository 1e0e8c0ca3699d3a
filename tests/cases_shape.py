"""Parity cases: Embedding, EmbeddingBag, Flatten/Unflatten, PixelUnshuffle, ChannelShuffle, Fold/Unfold, distances. Imported by cases.py; each add() is one case."""

from __future__ import annotations

from cases import L, add  # noqa: F401
