"""The linear kernel on inputs of more than 2 dims: one matmul over the folded leading dims, any strides."""

from __future__ import annotations

import numpy as np
import pytest

from nnspec.runtime.kernels.linear import linear


def _reference(x, w, b):
    return np.einsum("...i,oi->...o", x.astype(np.float64), w.astype(np.float64)) + b


@pytest.mark.parametrize("layout", ["contiguous", "strided", "sliced"])
@pytest.mark.parametrize("out", [None, "contiguous", "strided"])
def test_linear_folds_leading_dims(layout, out):
    rng = np.random.default_rng(0)
    base = rng.standard_normal((2, 7, 3, 16)).astype(np.float32)
    x = {"contiguous": base, "strided": base.transpose(1, 0, 2, 3),  # an (L, N, ...) view, as batch_first MHA has
         "sliced": base[:, ::2]}[layout]
    w = rng.standard_normal((24, 16)).astype(np.float32)[::2]  # (12, 16), rows strided
    b = rng.standard_normal(12).astype(np.float32)
    want = _reference(x, w, b)
    buffer = None
    if out == "contiguous":
        buffer = np.empty(x.shape[:-1] + (12,), np.float32)
    elif out == "strided":
        buffer = np.empty(x.shape[:-1] + (24,), np.float32)[..., ::2]
    y = linear(x, w, b, out=buffer)
    assert y.shape == x.shape[:-1] + (12,) and y.dtype == np.float32
    if buffer is not None:
        assert y is buffer
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


def test_linear_with_no_rows_or_no_features():
    w = np.ones((4, 0), np.float32)
    assert linear(np.ones((2, 3, 0), np.float32), w, None).tolist() == np.zeros((2, 3, 4)).tolist()
    assert linear(np.ones((0, 3, 5), np.float32), np.ones((4, 5), np.float32), None).shape == (0, 3, 4)


@pytest.mark.parametrize("rows", [1, 8, 129])
@pytest.mark.parametrize("out", [False, True])
def test_linear_inside_a_plan_splitting_its_own_work(rows, out, monkeypatch):
    """Under single-threaded BLAS (a plan's own threads), a few rows go out in halves of the weight's rows
    on two threads (a classifier's 1000 outputs), more rows through split_matmul: the same y = x W^T + b."""
    from nnspec.runtime.kernels import parallel

    monkeypatch.setattr(parallel, "threads", lambda: 2)
    rng = np.random.default_rng(rows)
    x = rng.standard_normal((rows, 1280)).astype(np.float32)
    w = rng.standard_normal((1000, 1280)).astype(np.float32)
    b = rng.standard_normal(1000).astype(np.float32)
    buffer = np.full((rows, 1000), np.nan, np.float32) if out else None
    with parallel.single_threaded_blas:
        y = linear(x, w, b, out=buffer)
    assert y.shape == (rows, 1000) and (y is buffer if out else True)
    np.testing.assert_allclose(y, _reference(x, w, b), rtol=1e-4, atol=1e-3)
