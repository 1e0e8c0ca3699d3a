"""The normalization family's kernels: torch over sweeps of shapes, arguments and dtypes, InstanceNorm's running
statistics (empty batches included), LocalResponseNorm against a loop over its window, BatchNorm's eps checks."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import nnspec
from nnspec.errors import NNSpecError
from nnspec.runtime import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
TOL = {np.float32: 1e-4, np.float64: 1e-10, np.float16: 1e-2}


def _t(a):
    return None if a is None else torch.from_numpy(np.ascontiguousarray(a))


def _close(got, want, dtype):
    want = want.detach().numpy()
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_group_norm_sweep(dtype):
    rng = np.random.default_rng(0)
    for shape, g in [((2, 6), 3), ((3, 6, 7), 2), ((2, 4, 3, 5), 4), ((1, 8, 2, 2, 3), 1), ((5, 3, 1), 3)]:
        x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
        w, b = rng.standard_normal(shape[1]).astype(dtype), rng.standard_normal(shape[1]).astype(dtype)
        for eps in (1e-5, 0.1):
            _close(F.group_norm(x, g, w, b, eps), TF.group_norm(_t(x), g, _t(w), _t(b), eps), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_instance_norm_running_statistics_are_torchs(dtype):
    rng = np.random.default_rng(1)
    for shape, momentum, use_input_stats in itertools.product([(4, 3, 5), (2, 3, 4, 2), (1, 3, 2, 2, 2), (0, 3, 4)],
                                                             [0.1, 0.7, 0.0], [True, False]):
        x = rng.standard_normal(shape).astype(dtype)
        rm, rv = rng.standard_normal(3).astype(dtype), (rng.random(3) + 0.5).astype(dtype)
        trm, trv = _t(rm.copy()), _t(rv.copy())
        y = F.instance_norm(x, rm, rv, None, None, use_input_stats, momentum, 1e-5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _close(y, TF.instance_norm(_t(x), trm, trv, None, None, use_input_stats, momentum, 1e-5), dtype)
        for ours, theirs in ((rm, trm), (rv, trv)):  # an empty batch leaves NaN, as in torch
            np.testing.assert_allclose(ours, theirs.numpy(), rtol=TOL[dtype], atol=TOL[dtype], equal_nan=True)


def test_instance_norm_layers_in_train_and_eval_match_torch_over_their_arguments():
    rng = np.random.default_rng(2)
    for nd, affine, track, momentum in itertools.product([1, 2, 3], [False, True], [False, True], [0.1, None]):
        kind = f"InstanceNorm{nd}d"
        ours = getattr(nnspec.nn, kind)(3, momentum=momentum, affine=affine, track_running_stats=track)
        theirs = getattr(torch.nn, kind)(3, momentum=momentum, affine=affine, track_running_stats=track)
        with torch.no_grad():
            for p in theirs.parameters():
                p.normal_()
        ours.load_state_dict({k: v.numpy().copy() for k, v in theirs.state_dict().items()})
        for training, batched in itertools.product([True, False, True], [True, False]):
            shape = (2, 3) + (4,) * nd if batched else (3,) + (4,) * nd
            x = rng.standard_normal(shape).astype(np.float32)
            ours.train(training), theirs.train(training)
            with torch.no_grad():
                want = theirs(_t(x))
            _close(ours(x), want, np.float32)
            for k, v in theirs.state_dict().items():
                np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-5, atol=1e-6)


def test_instance_norm_warns_on_a_channel_mismatch_without_affine_and_refuses_it_with():
    x = np.ones((2, 5, 4), np.float32)
    with pytest.warns(UserWarning, match="input's size at dim=1 does not match num_features"):
        nnspec.nn.InstanceNorm1d(3)(x)
    with pytest.raises(NNSpecError, match=r"expected input's size at dim=1 to match num_features \(3\), but got: 5."):
        nnspec.nn.InstanceNorm1d(3, affine=True)(x)


def _lrn_loop(x, size, alpha, beta, k):
    c = x.shape[1]
    out = np.empty(x.shape, np.float64)
    for i in range(c):
        lo, hi = i - size // 2, i + (size - 1) // 2
        window = sum(x[:, j].astype(np.float64) ** 2 for j in range(max(lo, 0), min(hi, c - 1) + 1))
        out[:, i] = x[:, i] / (k + alpha * window / size) ** beta
    return out


def test_local_response_norm_is_its_window_loop_and_torchs():
    rng = np.random.default_rng(3)
    for shape, size in itertools.product([(2, 5, 7), (1, 6, 3, 4), (2, 3, 2, 2, 2)], [1, 2, 3, 4, 7, 20]):
        x = rng.standard_normal(shape)
        got = F.local_response_norm(x, size, 0.3, 0.75, 1.5)
        np.testing.assert_allclose(got, _lrn_loop(x, size, 0.3, 0.75, 1.5), rtol=1e-12)
        np.testing.assert_allclose(got, TF.local_response_norm(_t(x), size, 0.3, 0.75, 1.5).numpy(), rtol=1e-12)
    ints = rng.integers(-20, 20, (2, 5, 3))
    _close(F.local_response_norm(ints, 3, 0.1, 0.5, 1.0), TF.local_response_norm(_t(ints), 3, 0.1, 0.5, 1.0), np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_rms_norm_eps_none_is_the_compute_dtypes_epsilon(dtype):
    for scale in (1e-5, 1e-3, 1.0):
        x = np.full((2, 4), scale, dtype)
        _close(F.rms_norm(x, [4]), TF.rms_norm(_t(x), [4]), dtype)


def test_normalize_sweep():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    x[0, 0] = 0
    for p, dim in itertools.product([2, 1, 0, 3, 0.5, -1, float("inf"), float("-inf")], [0, 1, -1, (0, 2)]):
        _close(F.normalize(x, p, dim), TF.normalize(_t(x), p, dim), np.float32)


@pytest.mark.parametrize("training,eps", [(True, 0.0), (True, -1.0), (False, -1.0)])
def test_batch_norm_refuses_a_bad_eps_as_torch_does(training, eps):
    x = np.ones((2, 3, 4), np.float32)
    stats = np.zeros(3, np.float32), np.ones(3, np.float32)
    with pytest.raises(ValueError) as theirs:
        TF.batch_norm(_t(x), *map(_t, stats), training=training, eps=eps)
    with pytest.raises(NNSpecError) as ours:
        F.batch_norm(x, *stats, training=training, eps=eps)
    assert str(theirs.value) in str(ours.value)
    with pytest.raises(NNSpecError, match="eps must be positive during training"):
        nnspec.nn.BatchNorm3d(3, eps=0.0)(np.ones((2, 3, 2, 2, 2), np.float32))
