"""Parity cases: 3-d, adaptive max, LP, fractional max pooling and unpooling. Imported by cases.py; each add() is one case."""

from __future__ import annotations

from cases import L, add  # noqa: F401
