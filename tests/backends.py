"""The backends a test runs on: NumPy always, CuPy where a GPU can run it.

The cupy leg is skipped, with the reason, where there is no usable GPU. ``cupy.is_available()`` alone
passes on a machine that lacks the CUDA libraries, so a tiny matmul must run too. On a GPU machine,
``NNSPEC_REQUIRE_GPU=1`` turns those skips into failures.
"""

from __future__ import annotations

import functools
import os

import pytest

from nnspec.runtime.backend import Backend, get_backend

BACKENDS = ["numpy", "cupy"]
DEVICES = {"numpy": "cpu", "cupy": "cuda"}


@functools.cache
def gpu_reason() -> str | None:
    """Why the cupy leg cannot run here, or None when it can."""
    try:
        import cupy
    except ImportError:
        return "cupy is not installed"
    try:
        if not cupy.is_available():
            return "cupy finds no CUDA device"
        a = cupy.ones((2, 2), dtype=cupy.float32)
        float((a @ a).sum())
    except Exception as e:  # noqa: BLE001 - missing CUDA libraries surface only when a kernel runs
        return f"cupy cannot run a matmul: {e}"
    return None


def backend(name: str) -> Backend:
    """The backend for a test's leg; skips (or, with NNSPEC_REQUIRE_GPU=1, fails) the cupy leg without a GPU."""
    if name == "cupy":
        reason = gpu_reason()
        if reason is not None:
            if os.environ.get("NNSPEC_REQUIRE_GPU") == "1":
                pytest.fail(f"NNSPEC_REQUIRE_GPU=1 but {reason}")
            pytest.skip(reason)
    return get_backend(DEVICES[name])
