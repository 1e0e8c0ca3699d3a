"""The shape and lookup family's kernels against torch over sweeps: unfold and fold over their arguments, embedding
bags (modes, padding, offsets with empty bags, per-sample weights), max_norm's in-place renormalisation, the
rearrangements and the distances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import nnspec
from nnspec.errors import NNSpecError
from nnspec.runtime import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _t(a):
    return None if a is None else torch.from_numpy(np.ascontiguousarray(a))


def _close(got, want, tol=1e-5):
    want = want.detach().numpy()
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_unfold_and_fold_over_their_arguments():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6))
    for k, d, p, s in itertools.product([1, 2, (3, 2)], [1, (2, 1)], [0, 1, (2, 0)], [1, 2, (1, 3)]):
        try:
            want = TF.unfold(_t(x), k, d, p, s)
        except RuntimeError:
            with pytest.raises(NNSpecError):
                F.unfold(x, k, d, p, s)
            continue
        cols = F.unfold(x, k, d, p, s)
        _close(cols, want, 1e-12)
        _close(F.fold(cols, (7, 6), k, d, p, s), TF.fold(want, (7, 6), k, d, p, s), 1e-12)
        _close(F.unfold(x[0], k, d, p, s), TF.unfold(_t(x[0]), k, d, p, s), 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_bag_over_modes_padding_and_offsets(dtype):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((6, 4)).astype(dtype)
    for _ in range(40):
        n = int(rng.integers(0, 12))
        ids = rng.integers(0, 6, n)
        cuts = np.sort(rng.integers(0, n + 1, int(rng.integers(1, 5))))
        offsets = np.concatenate([[0], cuts]).astype(np.int64)
        for mode, padding_idx, ilo in itertools.product(["sum", "mean", "max"], [None, 2, -1], [False, True]):
            off = np.concatenate([offsets, [n]]) if ilo else offsets
            psw = rng.standard_normal(n).astype(dtype) if mode == "sum" and rng.integers(2) else None
            want = TF.embedding_bag(_t(ids), _t(w), _t(off), mode=mode, per_sample_weights=_t(psw),
                                    include_last_offset=ilo, padding_idx=padding_idx)
            got = F.embedding_bag(ids, w, off, mode=mode, per_sample_weights=psw, include_last_offset=ilo,
                                  padding_idx=padding_idx)
            _close(got, want)


def test_include_last_offset_short_of_the_end_is_refused():
    """torch's float32 and float64 kernels disagree on it (see functional/sparse.py); nnspec refuses it."""
    with pytest.raises(NNSpecError, match="the last offset value should be the size of the indices tensor"):
        F.embedding_bag(np.arange(9), np.ones((10, 3), np.float32), np.array([0, 4]), include_last_offset=True)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf"), 0.5])
def test_max_norm_renormalises_the_looked_up_rows_in_place_as_torch_does(norm_type):
    rng = np.random.default_rng(2)
    w = (rng.standard_normal((8, 3)) * 2).astype(np.float32)
    ids = rng.integers(0, 8, (3, 4))
    tw = _t(w.copy())
    want = TF.embedding(_t(ids), tw, max_norm=1.0, norm_type=norm_type)
    _close(F.embedding(ids, w, max_norm=1.0, norm_type=norm_type), want)
    np.testing.assert_allclose(w, tw.numpy(), rtol=1e-6, atol=1e-7)
    layer = nnspec.nn.Embedding(8, 3, max_norm=1.0, norm_type=norm_type)
    layer.load_state_dict({"weight": (rng.standard_normal((8, 3)) * 2).astype(np.float32)})
    before = layer.weight.data.copy()
    layer(ids)
    untouched = sorted(set(range(8)) - set(ids.ravel().tolist()))
    np.testing.assert_array_equal(layer.weight.data[untouched], before[untouched])


def test_rearrangements_are_torchs():
    rng = np.random.default_rng(3)
    for shape, r in [((2, 3, 4, 6), 2), ((3, 6, 9), 3), ((1, 2, 2, 4, 2), 2)]:
        x = rng.standard_normal(shape).astype(np.float32)
        _close(F.pixel_unshuffle(x, r), TF.pixel_unshuffle(_t(x), r), 0)
        _close(F.pixel_shuffle(F.pixel_unshuffle(x, r), r), _t(x), 0)
    for shape, g in [((2, 6, 4, 4), 3), ((2, 6, 5), 2), ((1, 8, 2, 2, 2), 4), ((2, 4, 3), 4)]:
        x = rng.standard_normal(shape).astype(np.float32)
        y = F.channel_shuffle(x, g)
        _close(y, TF.channel_shuffle(_t(x), g), 0)
        assert not np.shares_memory(y, x)


def test_distances_over_p_and_broadcasting():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((5, 1, 4)), rng.standard_normal((3, 4))
    for p in [2, 1, 0, 3.5, 0.5, -1, float("inf"), float("-inf")]:
        _close(F.pairwise_distance(a, b, p), TF.pairwise_distance(_t(a), _t(b), p), 1e-10)
        if p >= 0:
            _close(F.pdist(b, p), TF.pdist(_t(b), p), 1e-10)
    for dim in (-1, 0, 1, 2):
        _close(F.cosine_similarity(a, b, dim), TF.cosine_similarity(_t(a), _t(b), dim), 1e-10)


@pytest.mark.parametrize("sizes", [[0, 10**18, 10**18], [0, 2**30, 2**30]])
def test_unflatten_of_an_empty_input_into_huge_sizes_is_refused_by_the_run_and_static_inference(sizes):
    """An empty input takes sizes with a 0 among them; a shape no array can have is a ShapeError (not numpy's
    ValueError), and static inference says so too rather than accept it."""
    model = {"Unflatten": [0, sizes]}
    with pytest.raises(nnspec.ShapeError, match="larger than any array"):
        nnspec.from_dict(model)(np.zeros((0, 2), np.float32))
    with pytest.raises(nnspec.ShapeError, match="larger than any array"):
        nnspec.infer(nnspec.from_dict(model, meta=True), [(0, 2)])
    assert nnspec.from_dict({"Unflatten": [0, [0, 2**20, 2**20]]})(np.zeros((0, 2), np.float32)).shape == \
        tuple(torch.zeros(0, 2).unflatten(0, (0, 2**20, 2**20)).shape)
