"""Kernels: pure functions of arrays and hyperparameters, one op family per file.

Every kernel takes batched, already-validated inputs and gets its array module
from them (``get_array_module``), so the same code runs on NumPy and CuPy.
Argument checking and torch's error messages live one level up, in
``nnspec.runtime.functional``.
"""
