"""Backends: one code path on NumPy and CuPy, and no silent fallback."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import nnspec
from nnspec.runtime.backend import get_array_module, get_backend, to_numpy

from backends import BACKENDS, backend


@pytest.mark.parametrize("name", BACKENDS)
def test_same_results_on_every_backend(name):
    text = """
    Sequential:
      - {Conv2d: [3, 8, 3], padding: 1}
      - {BatchNorm2d: [8]}
      - ReLU
      - {MaxPool2d: [2]}
      - {Upsample: {scale_factor: 2, mode: bilinear}}
      - {AdaptiveAvgPool2d: [[3, 5]]}
    """
    x = np.random.default_rng(0).standard_normal((2, 3, 10, 12)).astype(np.float32)
    ref = nnspec.loads(text, seed=0).eval()(x)
    model = nnspec.loads(text, seed=0).eval()
    dev = backend(name)
    model.to(dev.device)
    y = model(dev.asarray(x))
    assert get_array_module(y).__name__ == name
    np.testing.assert_allclose(to_numpy(y), ref, rtol=1e-4, atol=1e-4)
    plan = nnspec.compile(model)  # the plan runs the same kernels on the model's device
    np.testing.assert_allclose(to_numpy(plan(dev.asarray(x))), ref, rtol=1e-4, atol=1e-4)


def test_cuda_without_cupy_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # every import of cupy fails, as where it isn't installed
    model = nnspec.loads("Linear: [2, 3]")
    with pytest.raises(nnspec.NNSpecRuntimeError, match="needs CuPy, which is not installed"):
        model.to("cuda")
    assert model.weight.data.__class__ is np.ndarray  # nothing moved, nothing half-done


def test_unknown_device_is_refused():
    with pytest.raises(nnspec.NNSpecRuntimeError, match="unknown device 'tpu'"):
        get_backend("tpu")


def test_numpy_arrays_use_numpy():
    assert get_array_module(np.zeros(2)) is np
    assert get_array_module(nnspec.Parameter(np.zeros(2)).data) is np
