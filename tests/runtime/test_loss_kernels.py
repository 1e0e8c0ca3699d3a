"""Loss numerics worth their own tests: CTC against a sum over every alignment and against torch over a sweep,
the stable forms (cross entropy of huge logits, BCE's log clamp at -100, BCE with logits far from 0), and
NaN / inf where torch gives them."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from nnspec.runtime import functional as F


def _log_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _collapse(path, blank):
    out, prev = [], None
    for s in path:
        if s != prev and s != blank:
            out.append(s)
        prev = s
    return out


def _ctc_brute_force(log_probs, target, blank):
    """-log of the sum, over every path of the input's length whose collapse is the target, of its probability."""
    t_len, c = log_probs.shape
    total = 0.0
    for path in itertools.product(range(c), repeat=t_len):
        if _collapse(path, blank) == list(target):
            total += math.exp(sum(log_probs[t, s] for t, s in enumerate(path)))
    return -math.log(total) if total > 0 else math.inf


@pytest.mark.parametrize("target,blank,t_len", [([1, 2], 0, 4), ([1, 1], 0, 4), ([2, 2, 1], 0, 5), ([0, 1], 2, 4),
                                                 ([], 0, 3), ([1, 1], 0, 2), ([3], 1, 1), ([1, 3, 1], 0, 5)])
def test_ctc_is_the_sum_over_alignments(target, blank, t_len):
    rng = np.random.default_rng(len(target) * 10 + t_len)
    lp = _log_softmax(rng.standard_normal((t_len, 1, 4)))
    got = F.ctc_loss(lp, np.array([target + [0] * 2]), [t_len], [len(target)], blank=blank, reduction="none")
    want = _ctc_brute_force(lp[:, 0], target, blank)
    assert got.shape == (1,) and got.dtype == np.float64
    if math.isinf(want):
        assert got[0] == math.inf
    else:
        assert abs(got[0] - want) < 1e-12 * max(1.0, want)


def test_ctc_matches_torch_over_a_sweep():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    for trial in range(40):
        n, c, t_len = rng.integers(1, 5), rng.integers(2, 8), rng.integers(1, 30)
        blank = int(rng.integers(0, c))
        tl = [int(rng.integers(0, min(t_len, 10) + 1)) for _ in range(n)]
        il = [int(rng.integers(0, t_len + 1)) for _ in range(n)]
        labels = [v for v in range(c) if v != blank] or [blank]
        targets = rng.choice(labels, (n, max(tl + [1])))
        dtype = np.float64 if trial % 2 else np.float32
        lp = _log_softmax(rng.standard_normal((t_len, n, c)) * 3).astype(dtype)
        for reduction in ("none", "mean", "sum"):
            for zero_infinity in (False, True):
                got = F.ctc_loss(lp, targets, il, tl, blank, reduction, zero_infinity)
                want = torch.nn.functional.ctc_loss(torch.from_numpy(lp), torch.from_numpy(targets), il, tl, blank,
                                                    reduction, zero_infinity).numpy()
                assert got.dtype == want.dtype and got.shape == want.shape
                np.testing.assert_allclose(got, want, rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-5)


def test_cross_entropy_of_huge_logits_is_finite_and_torchs():
    x = np.array([[1e4, -1e4, 0.0], [3e38, 3e38, -3e38], [-1e30, -1e30, -1e30]], np.float32)
    t = np.array([1, 0, 2])
    got = F.cross_entropy(x, t, reduction="none")
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, [2e4, math.log(2), math.log(3)], rtol=1e-6)
    probs = F.cross_entropy(x, np.full((3, 3), 1 / 3, np.float32), reduction="none")
    assert np.isfinite(probs[2]) and abs(probs[2] - math.log(3)) < 1e-6


def test_bce_clamps_its_logs_at_minus_100():
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-45], np.float32)
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0], np.float32)
    got = F.binary_cross_entropy(x, t, reduction="none")
    np.testing.assert_array_equal(got, [100.0, 100.0, 0.0, 0.0, 100.0])


def test_bce_with_logits_far_from_zero_is_finite():
    x = np.array([-1e4, 1e4, -88.0, 88.0, 0.0], np.float32)
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5], np.float32)
    got = F.binary_cross_entropy_with_logits(x, t, reduction="none", pos_weight=np.array([2.0], np.float32))
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got[:2], [2e4, 1e4], rtol=1e-6)
    assert got[2] < 1e-30 and got[3] < 1e-30


def test_nan_and_inf_go_through_as_torch_gives_them():
    torch = pytest.importorskip("torch")
    x = np.array([[np.nan, 0.0, 1.0], [np.inf, 0.0, 1.0], [-np.inf, 0.0, 1.0]], np.float32)
    t = np.array([0, 0, 1])
    for fn, args in ((F.cross_entropy, (x, t)), (F.nll_loss, (x, t)), (F.mse_loss, (x, x[::-1].copy())),
                     (F.l1_loss, (x, np.zeros_like(x))), (F.soft_margin_loss, (x, np.ones_like(x))),
                     (F.binary_cross_entropy_with_logits, (x, np.full_like(x, 0.5))),
                     (F.kl_div, (x, np.full_like(x, 0.5))), (F.smooth_l1_loss, (x, np.zeros_like(x))),
                     (F.huber_loss, (x, np.zeros_like(x)))):
        got = fn(*args, reduction="none")
        want = getattr(torch.nn.functional, fn.__name__)(*(torch.from_numpy(a) for a in args), reduction="none")
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want.numpy()), err_msg=fn.__name__)
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-6, equal_nan=True, err_msg=fn.__name__)


def test_float16_computes_in_float32_and_stores_float16():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((64, 10)) * 4).astype(np.float16)
    t = rng.integers(0, 10, 64)
    for kwargs in ({}, {"label_smoothing": 0.2}, {"reduction": "sum"}):
        got = F.cross_entropy(x, t, **kwargs)
        want = torch.nn.functional.cross_entropy(torch.from_numpy(x).float(), torch.from_numpy(t), **kwargs)
        assert got.dtype == np.float16
        assert abs(float(got) - float(want)) <= 1e-3 * max(1.0, abs(float(want)))  # float16 rounding of the result
