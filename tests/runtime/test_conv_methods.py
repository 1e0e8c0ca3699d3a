"""The convolution kernel picks a method per shape (depthwise multiply-adds, shifted matmuls, im2col in
chunks of whole images, 1x1 without columns). Every method must give the same numbers as a direct
loop reference, whichever the thresholds pick; and the pooling fast paths must match the general ones."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nnspec.runtime.kernels import conv as K
from nnspec.runtime.kernels import pool as P


def reference(x, w, b, stride, dilation, groups):
    """Cross-correlation as a float64 loop over kernel offsets (the definition)."""
    nd = w.ndim - 2
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    k = w.shape[2:]
    out = tuple((x.shape[2 + i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nd))
    y = np.zeros((n, o) + out)
    xg = x.astype(np.float64).reshape((n, groups, cg) + x.shape[2:])
    wg = w.astype(np.float64).reshape((groups, o // groups, cg) + k)
    for offs in itertools.product(*(range(v) for v in k)):
        win = xg[(Ellipsis,) + tuple(slice(f * d, f * d + (s - 1) * st + 1, st)
                                     for f, d, s, st in zip(offs, dilation, out, stride))]
        y += np.einsum("ngc...,goc->ngo...", win, wg[(Ellipsis,) + offs]).reshape((n, o) + out)
    if b is not None:
        y += b.reshape((1, o) + (1,) * nd)
    return y


CASES = [  # (input shape, weight shape, stride, dilation, groups)
    ((3, 4, 11, 13), (6, 4, 3, 3), (1, 1), (1, 1), 1),
    ((3, 4, 11, 13), (6, 4, 3, 2), (2, 1), (1, 2), 1),
    ((2, 6, 9, 10), (6, 1, 3, 3), (1, 1), (1, 1), 6),  # depthwise
    ((2, 6, 9, 10), (12, 1, 3, 3), (2, 2), (2, 1), 6),  # depthwise, two outputs per channel
    ((2, 6, 9, 10), (9, 2, 3, 3), (1, 1), (1, 1), 3),  # groups of two channels
    ((2, 4, 30), (5, 4, 3), (1,), (2,), 1),
    ((1, 2, 5, 6, 7), (3, 2, 2, 3, 2), (1, 1, 1), (1, 1, 2), 1),
    ((4, 5, 7, 7), (8, 5, 1, 1), (1, 1), (1, 1), 1),  # 1x1: no columns
    ((4, 5, 7, 7), (8, 5, 1, 1), (2, 2), (1, 1), 1),  # 1x1 strided: columns
]
METHODS = {  # thresholds that force each method (columns of one image at a time, or several, multiplied per
    # image or as one matrix; or shifts)
    "im2col_batch": dict(COLUMN_BYTES=1 << 30, SHIFTED_COLUMNS=1 << 40),
    "im2col_batch_one_matmul": dict(COLUMN_BYTES=1 << 30, SHIFTED_COLUMNS=1 << 40, BATCHED_WEIGHT_ENTRIES=0),
    "im2col_per_image": dict(COLUMN_BYTES=1, SHIFTED_COLUMNS=1 << 40),
    "im2col_two_images": None,  # set per case below: two images' columns
    "shifted": dict(COLUMN_BYTES=1, SHIFTED_COLUMNS=0),
}


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}-s{c[2]}-d{c[3]}-g{c[4]}" for c in CASES])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_every_method_matches_the_loop_reference(monkeypatch, case, method, dtype):
    shape, wshape, stride, dilation, groups = case
    rng = np.random.default_rng(len(shape) * 100 + wshape[0])
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(wshape).astype(dtype)
    b = rng.standard_normal(wshape[0]).astype(dtype)
    settings = METHODS[method]
    if settings is None:
        k = int(np.prod(wshape[2:]))
        settings = dict(COLUMN_BYTES=2 * shape[1] * k * 4 * int(np.prod(shape[2:])), SHIFTED_COLUMNS=1 << 40)
    for name, value in settings.items():
        monkeypatch.setattr(K, name, value)
    want = reference(x, w, b, stride, dilation, groups)
    got = K.conv(x, w, b, stride, dilation, groups)
    assert got.dtype == np.dtype(dtype) and got.shape == want.shape
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=2e-2, atol=2e-2 * np.abs(want).max())
    np.testing.assert_allclose(got, want, **tol)
    out = np.full(want.shape, np.nan, dtype=dtype)  # into a given array, with working arrays handed out
    handed = []

    def scratch(s, dt):
        handed.append(np.empty(s, dt))
        return handed[-1]

    assert K.conv(x, w, b, stride, dilation, groups, out=out, scratch=scratch) is out
    np.testing.assert_array_equal(out, got)


def test_the_shifted_method_needs_a_contiguous_input(monkeypatch):
    monkeypatch.setattr(K, "SHIFTED_COLUMNS", 0)
    x = np.random.default_rng(0).standard_normal((2, 3, 12, 10)).astype(np.float32)[:, :, ::2]  # not contiguous
    w = np.ones((4, 3, 3, 3), np.float32)
    np.testing.assert_allclose(K.conv(x, w, None, (1, 1), (1, 1), 1), reference(x, w, None, (1, 1), (1, 1), 1),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float16", "float64", "int32"])
def test_tiling_avg_pool_and_adaptive_pool_match_the_general_path(dtype):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((2, 3, 12, 10)) * 4).astype(dtype)
    if dtype != "int32":
        x[0, 0, 0, 0] = np.nan  # stays in its own window
    tiled = P.avg_pool(x, (2, 2), (2, 2), (0, 0), False, True, None) if dtype != "int32" else None
    general = P.avg_pool(x, (2, 2), (2, 1), (0, 0), False, True, None)[:, :, :, ::2] if dtype != "int32" else None
    if tiled is not None:
        np.testing.assert_array_equal(tiled, general)
        assert np.isnan(tiled[0, 0, 0, 0]) and not np.isnan(tiled[0, 0, 1:, :]).any()
    if dtype == "int32":
        return
    ragged = P.adaptive_avg_pool(x[:, :, :11, :9], (3, 3))  # uneven bins: the general path
    even = P.adaptive_avg_pool(x, (3, 5))
    for got, src, out in ((even, x, (3, 5)), (ragged, x[:, :, :11, :9], (3, 3))):
        want = np.empty(src.shape[:2] + out)
        for i, j in itertools.product(range(out[0]), range(out[1])):
            h0, h1 = i * src.shape[2] // out[0], -(-(i + 1) * src.shape[2] // out[0])
            w0, w1 = j * src.shape[3] // out[1], -(-(j + 1) * src.shape[3] // out[1])
            want[:, :, i, j] = src[:, :, h0:h1, w0:w1].astype(np.float64).mean(axis=(2, 3))
        assert got.dtype == x.dtype
        tol = 1e-2 if dtype == "float16" else 1e-6
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_max_pool_without_padding_copy_matches_the_padded_path():
    rng = np.random.default_rng(5)
    for _ in range(200):
        nd = int(rng.integers(1, 3))
        k = tuple(int(v) for v in rng.integers(1, 5, nd))
        s = tuple(int(v) for v in rng.integers(1, 4, nd))
        d = tuple(int(v) for v in rng.integers(1, 3, nd))
        p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
        ceil = bool(rng.integers(2))
        spatial = tuple(int(v) for v in rng.integers(1, 12, nd))
        out = tuple(P.pool_out_size(spatial[i], k[i], s[i], p[i], d[i], ceil) for i in range(nd))
        if min(out) < 1:
            continue
        x = rng.standard_normal((2, 2) + spatial).astype(np.float32)
        x.flat[rng.integers(x.size)] = np.nan
        fast = P._running_max(np, x, k, s, p, d, out)
        padded, _ = P.max_pool(x, k, s, p, d, ceil, True)  # the path with indices pads
        if fast is not None:
            np.testing.assert_array_equal(fast, padded)
