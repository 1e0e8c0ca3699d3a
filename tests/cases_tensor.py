"""Parity cases: torch functions and tensor methods inside custom forwards. Imported by cases.py; each add() is one case."""

from __future__ import annotations

from cases import L, add  # noqa: F401
