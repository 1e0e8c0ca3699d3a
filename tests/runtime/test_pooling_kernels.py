"""The pooling family's kernels (nnspec.runtime.kernels.pooling): loop references of torch's CPU loops, sweeps
against torch (ties, NaN, -inf, float16), and the sample draw of fractional pooling."""

from __future__ import annotations

import numpy as np
import pytest

from nnspec.runtime.kernels import pooling as K

DTYPES = [np.float32, np.float64, np.float16]


def _intervals(u, size, out, k, dt):
    """torch's fractional_max_pool generate_intervals, one plane, in the samples' dtype."""
    seq = [size - k] * out
    if out > 1:
        alpha = dt(dt(size - k) / dt(out - 1))
        for i in range(out - 1):
            seq[i] = int(dt(dt(dt(i) + u) * alpha)) - int(dt(u * alpha))
    return seq


def _loop_fractional_2d(x, k, out, samples):
    """torch's fractional_max_pool2d CPU loop: a value > the running max (from -inf) or a NaN takes over."""
    n, c, h, w = x.shape
    y = np.empty((n, c) + out, x.dtype)
    idx = np.empty((n, c) + out, np.int64)
    dt = x.dtype.type
    for b in range(n):
        for p in range(c):
            sw = _intervals(samples[b, p, 0], w, out[1], k[1], dt)
            sh = _intervals(samples[b, p, 1], h, out[0], k[0], dt)
            for i in range(out[0]):
                for j in range(out[1]):
                    best, at = -np.inf, sh[i] * w + sw[j]
                    for r in range(sh[i], sh[i] + k[0]):
                        for s in range(sw[j], sw[j] + k[1]):
                            v = x[b, p, r, s]
                            if v > best or np.isnan(v):
                                best, at = v, r * w + s
                    y[b, p, i, j], idx[b, p, i, j] = best, at
    return y, idx


def _awkward(rng, shape, dt):
    """Ties (small integers), a few NaNs and a -inf."""
    x = rng.integers(-2, 3, shape).astype(dt)
    x.reshape(-1)[rng.integers(0, x.size, 2)] = np.nan
    x.reshape(-1)[rng.integers(0, x.size)] = -np.inf
    return x


@pytest.mark.parametrize("dt", DTYPES)
def test_fractional_max_pool_is_torchs_loop(dt):
    rng = np.random.default_rng(3)
    for _ in range(12):
        h, w = (int(v) for v in rng.integers(3, 12, 2))
        k = tuple(int(v) for v in rng.integers(1, 4, 2))
        k = (min(k[0], h), min(k[1], w))
        out = (int(rng.integers(1, h - k[0] + 2)), int(rng.integers(1, w - k[1] + 2)))
        x = _awkward(rng, (2, 3, h, w), dt)
        samples = rng.random((2, 3, 2)).astype(dt)
        y, idx = K.fractional_max_pool(x, k, out, samples)
        want_y, want_idx = _loop_fractional_2d(x, k, out, samples)
        np.testing.assert_array_equal(y, want_y)
        np.testing.assert_array_equal(idx, want_idx)


def test_random_samples_are_below_one_on_the_dtypes_grid():
    class Top:  # a generator whose every draw is the largest float64 below 1
        def random(self, shape):
            return np.full(shape, np.nextafter(1.0, 0.0))

    for dt in DTYPES:
        s = K.random_samples(Top(), (2, 3, 2), dt)
        assert s.dtype == dt and (s < 1).all() and (s > 0.99).all()
    s = K.random_samples(np.random.default_rng(0), (1000,), np.float16)
    assert s.min() >= 0 and s.max() < 1 and np.array_equal(s, np.floor(s.astype(np.float64) * 2048) / 2048)


def test_max_unpool_puts_each_max_back_at_its_index():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 6, 8)).astype(np.float32)
    windows = x.reshape(2, 3, 3, 2, 4, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 3, 4, 4)
    y = windows.max(-1)
    slot = windows.argmax(-1)
    rows = np.arange(3)[:, None] * 2 + slot // 2
    cols = np.arange(4)[None, :] * 2 + slot % 2
    idx = (rows * 8 + cols).astype(np.int64)
    up = K.max_unpool(y, idx, (6, 8))
    assert up.shape == x.shape and (up != 0).sum() == y.size
    np.testing.assert_array_equal(up[up != 0], x[up != 0])


def test_lp_steps_keep_torchs_dtypes():
    x = np.arange(-3, 3, dtype=np.int64)
    assert K.lp_power(x, 2).dtype == np.int64 and K.lp_power(x, 2.0).dtype == np.float32
    assert K.lp_root(np.array([4, 9]), 1, 2).dtype == np.float32
    h = np.array([-1.5, 0.25, 4.0], np.float16)
    assert K.lp_power(h, 1.5).dtype == np.float16 and np.isnan(K.lp_power(h, 1.5)[0])
    np.testing.assert_allclose(K.lp_root(np.array([0.25, 1.0], np.float32), 4, 2), [1.0, 2.0])


@pytest.mark.torch
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_adaptive_max_pool_sweep_against_torch(nd):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(nd)
    for trial in range(30):
        dt = DTYPES[trial % 3]
        spatial = tuple(int(v) for v in rng.integers(1, 9, nd))
        out = tuple(int(v) for v in rng.integers(0, 10, nd))
        x = _awkward(rng, (2, 3) + spatial, dt) if trial % 2 else rng.standard_normal((2, 3) + spatial).astype(dt)
        want = getattr(torch.nn.functional, f"adaptive_max_pool{nd}d")(torch.from_numpy(x), out, True)
        y, idx = K.adaptive_max_pool(x, out)
        np.testing.assert_array_equal(y, want[0].numpy())
        np.testing.assert_array_equal(idx, want[1].numpy())


@pytest.mark.torch
@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_max_pool_sweep_against_torch(nd):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10 + nd)
    for trial in range(30):
        dt = DTYPES[trial % 3]
        spatial = tuple(int(v) for v in rng.integers(3, 11, nd))
        k = tuple(int(rng.integers(1, min(4, s - (nd == 3)) + 1)) for s in spatial)
        # 2-d needs out + k - 1 <= size, 3-d out + k - 1 < size
        out = tuple(int(rng.integers(1, s - kk + 2 - (nd == 3))) for s, kk in zip(spatial, k))
        x = _awkward(rng, (2, 3) + spatial, dt) if trial % 2 else rng.standard_normal((2, 3) + spatial).astype(dt)
        samples = rng.random((2 + trial % 2, 3, nd)).astype(dt)
        fn = getattr(torch.nn.functional, f"fractional_max_pool{nd}d")
        want = fn(torch.from_numpy(x), k, out, return_indices=True, _random_samples=torch.from_numpy(samples))
        y, idx = K.fractional_max_pool(x, k, out, samples)
        np.testing.assert_array_equal(y, want[0].numpy())
        np.testing.assert_array_equal(idx, want[1].numpy())


@pytest.mark.parametrize("layer", ["AdaptiveAvgPool1d", "AdaptiveMaxPool1d"])
@pytest.mark.parametrize("output_size", [None, [None]])
def test_a_1d_adaptive_pool_takes_no_none_output_size(layer, output_size):
    """torch.adaptive_avg_pool1d and adaptive_max_pool1d take ints only (None, the input's own size, is the 2-d
    and 3-d pools'): the build refuses it, as the call would."""
    import nnspec

    with pytest.raises(nnspec.NNSpecError, match="output_size"):  # the spec's or the constructor's refusal
        nnspec.from_dict({layer: {"output_size": output_size}})
    with pytest.raises(nnspec.CompileError, match="output_size must be an int or a list of 1"):
        getattr(nnspec.nn, layer)(output_size)
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError):
        getattr(torch.nn, layer)(output_size)(torch.zeros(1, 2, 5))
