"""The special functions NumPy lacks, against Python's math module (float64) and torch (float32)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnspec.runtime.kernels.special import erf


def _grid(dtype):
    x = np.concatenate([np.linspace(-7, 7, 40000), np.geomspace(1e-37, 1, 400), -np.geomspace(1e-37, 1, 400)])  # no 0
    return x.astype(dtype)


def test_erf_float64_is_within_5e_15_of_math_erf_relative_and_absolute():
    x = np.concatenate([_grid(np.float64), np.geomspace(1e-300, 1e-37, 200)])
    want = np.array([math.erf(v) for v in x])
    got = erf(x)
    assert got.dtype == np.float64
    assert np.abs(got - want).max() < 5e-15
    assert np.abs((got - want) / want).max() < 5e-15  # small arguments keep their relative accuracy


def test_erf_float32_is_within_float32_rounding():
    x = _grid(np.float32)
    want = np.array([math.erf(v) for v in x.astype(np.float64)])
    got = erf(x)
    assert got.dtype == np.float32
    assert np.abs((got - want) / want).max() < 4e-7


def test_erf_special_values_are_torchs():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 6.0, -30.0])
    got = erf(x)
    assert np.isnan(got[0]) and list(got[1:]) == [1.0, -1.0, 0.0, 0.0, 1.0, -1.0]
    assert np.signbit(got[4])  # erf(-0) is -0
    half = erf(np.array([np.nan, np.inf, 1.0], np.float16))
    assert half.dtype == np.float16 and np.isnan(half[0]) and half[1] == 1 and half[2] == np.float16(math.erf(1.0))


def test_erf_matches_torch():
    torch = pytest.importorskip("torch")
    x = _grid(np.float32)
    np.testing.assert_allclose(erf(x), torch.erf(torch.from_numpy(x)).numpy(), rtol=2e-7, atol=1e-7)
