"""Parity cases: activations and dropout variants. Imported by cases.py; each add() is one case."""

from __future__ import annotations

from cases import L, add  # noqa: F401

add("gelu_exact", L("GELU"), (3, 4, 5))
add("gelu_tanh", L("GELU", "tanh"), (3, 4, 5))
add("gelu_float64", L("GELU"), (3, 7), dtype="float64")
add("gelu_float16", L("GELU", approximate="tanh"), (3, 7), dtype="float16")
add("op_F_gelu", {"name": "Ops", "forward": "return F.gelu(x * 3, approximate='tanh') + F.gelu(x)"}, (2, 9))
