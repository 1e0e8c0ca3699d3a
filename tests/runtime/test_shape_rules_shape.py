"""Shape rules of the shape and lookup family agree with their kernels (see tests/shape_rules.py): embeddings,
one_hot, pixel_unshuffle, channel_shuffle, fold, unfold and the distances."""

from __future__ import annotations

import numpy as np

from hypothesis import given
from hypothesis import strategies as st

from nnspec.runtime import functional as F
from nnspec.runtime.symbolic import Dim
from nnspec.runtime.meta import MetaArray

from shape_rules import SETTINGS, agree, covers, shape

_FLOATS = ["float32", "float32", "float64", "float16", "int64"]
_IDS = ["int64", "int64", "int32", "int16", "float32"]


@SETTINGS
@given(st.data())
def test_embedding(data):
    ids = data.draw(shape(0, 3, min_size=0))
    weight = data.draw(st.sampled_from([(4, 3), (6, 2), (5,), (4, 3, 2), (0, 3)]))
    padding_idx = data.draw(st.sampled_from([None, 0, -1, 3, 7, -7]))
    max_norm = data.draw(st.sampled_from([None, None, 1.0]))
    agree(lambda i, w: F.embedding(i, w, padding_idx, max_norm), (ids, data.draw(st.sampled_from(_IDS))),
          (weight, data.draw(st.sampled_from(_FLOATS))))


@SETTINGS
@given(st.data())
def test_embedding_bag(data):
    two_d = data.draw(st.booleans())
    ids = data.draw(shape(2, 2, min_size=0)) if two_d else data.draw(shape(0, 3, min_size=0))
    n = int(np.prod(ids)) if len(ids) == 1 else 0
    offsets = data.draw(st.sampled_from([None, np.array([0]), np.array([0, min(1, n)]), np.array([[0]])]))
    mode = data.draw(st.sampled_from(["sum", "mean", "max", "min"]))
    ilo = data.draw(st.booleans()) and offsets is not None and offsets.ndim == 1 and offsets[-1] == n
    weighted = data.draw(st.booleans())
    wdtype = data.draw(st.sampled_from(_FLOATS))
    specs = [(ids, data.draw(st.sampled_from(_IDS))), ((5, 3), wdtype)] + ([(ids, wdtype)] if weighted else [])
    padding_idx = data.draw(st.sampled_from([None, 2, -1, 9]))

    def bag(i, w, *psw):
        return F.embedding_bag(i, w, offsets, mode=mode, per_sample_weights=psw[0] if psw else None,
                               include_last_offset=ilo, padding_idx=padding_idx)

    agree(bag, *specs)


@SETTINGS
@given(st.data())
def test_one_hot(data):
    x = data.draw(shape(0, 3, min_size=0))
    num_classes = data.draw(st.sampled_from([4, 6, 0, -2]))  # the ids are in [1, 4); -1 needs their values
    agree(lambda x: F.one_hot(x, num_classes), (x, data.draw(st.sampled_from(["int64", "int64", "int32"]))))


@SETTINGS
@given(st.data())
def test_pixel_unshuffle(data):
    x = data.draw(shape(1, 5, min_size=0, max_size=6))
    r = data.draw(st.integers(-1, 3))
    agree(lambda x: F.pixel_unshuffle(x, r), (x, data.draw(st.sampled_from(_FLOATS))))


@SETTINGS
@given(st.data())
def test_channel_shuffle(data):
    x = data.draw(shape(1, 5, min_size=0, max_size=6))
    g = data.draw(st.integers(-1, 4))
    agree(lambda x: F.channel_shuffle(x, g), (x, data.draw(st.sampled_from(_FLOATS))))


_pair = st.one_of(st.integers(-1, 3), st.lists(st.integers(-1, 3), min_size=1, max_size=3))


@SETTINGS
@given(st.data())
def test_unfold(data):
    x = data.draw(shape(2, 5, min_size=0, max_size=6))
    k, d, p, s = (data.draw(_pair) for _ in range(4))
    agree(lambda x: F.unfold(x, k, d, p, s), (x, data.draw(st.sampled_from(_FLOATS))))


@SETTINGS
@given(st.data())
def test_fold(data):
    x = data.draw(shape(1, 4, min_size=0, max_size=12))
    out = data.draw(st.one_of(st.integers(0, 6), st.lists(st.integers(0, 6), min_size=2, max_size=3)))
    k, d, p, s = (data.draw(_pair) for _ in range(4))
    agree(lambda x: F.fold(x, out, k, d, p, s), (x, data.draw(st.sampled_from(_FLOATS))))


@SETTINGS
@given(st.data())
def test_fold_of_unfold(data):
    """Blocks that fit: every fold of an unfold's columns back to the image's size."""
    x = data.draw(shape(4, 4, min_size=1, max_size=6))
    k, d, s = (data.draw(st.lists(st.integers(1, 3), min_size=2, max_size=2)) for _ in range(3))
    p = data.draw(st.lists(st.integers(0, 2), min_size=2, max_size=2))
    agree(lambda x: F.fold(F.unfold(x, k, d, p, s), x.shape[2:], k, d, p, s), (x, "float32"))


def _two(data, dtypes):
    a = data.draw(shape(0, 4, min_size=0))
    b = list(a[data.draw(st.integers(0, len(a))):])  # a suffix, some sizes 1, sometimes a mismatch
    b = [1 if data.draw(st.integers(0, 3)) == 0 else s for s in b]
    if b and data.draw(st.integers(0, 5)) == 0:
        b[0] += 1
    return (a, data.draw(st.sampled_from(dtypes))), (tuple(b), data.draw(st.sampled_from(dtypes)))


@SETTINGS
@given(st.data())
def test_cosine_similarity(data):
    a, b = _two(data, _FLOATS + ["bool"])
    if data.draw(st.booleans()):
        a, b = b, a
    dim = data.draw(st.integers(-3, 3))
    agree(lambda x, y: F.cosine_similarity(x, y, dim), a, b)


@SETTINGS
@given(st.data())
def test_pairwise_distance(data):
    a, b = _two(data, _FLOATS)
    p = data.draw(st.sampled_from([2, 1, 0, 0.5, -1, float("inf")]))
    keepdim = data.draw(st.booleans())
    agree(lambda x, y: F.pairwise_distance(x, y, p, keepdim=keepdim), a, b)


@SETTINGS
@given(st.data())
def test_pdist(data):
    x = data.draw(shape(0, 3, min_size=0))
    p = data.draw(st.sampled_from([2, 1, 0, float("inf"), -1]))
    agree(lambda x: F.pdist(x, p), (x, data.draw(st.sampled_from(_FLOATS))))


def test_symbolic_sizes_flow_through():
    """An Embedding on (N, T) ids gives (N, T, D); the other rules keep formulas of symbolic sizes."""
    N, T, H, W = (Dim.symbol(s) for s in "NTHW")
    assert F.embedding(MetaArray((N, T), "int64"), MetaArray((10, 4))).shape == (N, T, 4)
    assert F.embedding_bag(MetaArray((N, T), "int64"), MetaArray((10, 4))).shape == (N, 4)
    assert F.one_hot(MetaArray((N, T), "int64"), 5).shape == (N, T, 5)
    assert F.pixel_unshuffle(MetaArray((N, 3, 2 * H, 2 * W)), 2).shape == (N, 12, H, W)
    assert F.channel_shuffle(MetaArray((N, 6, H, W)), 3).shape == (N, 6, H, W)
    cols = F.unfold(MetaArray((N, 3, H, W)), 3, padding=1)
    assert cols.shape == (N, 27, H * W)
    assert F.fold(cols, (H, W), 3, padding=1).shape == (N, 3, H, W)
    assert F.cosine_similarity(MetaArray((N, T)), MetaArray((T,))).shape == (N,)
    assert F.pairwise_distance(MetaArray((N, T)), MetaArray((N, T)), keepdim=True).shape == (N, 1)
    assert F.pdist(MetaArray((N, T))).shape == (N * (N - 1) // 2,)


covers(F.embedding, F.embedding_bag, F.one_hot, F.pixel_unshuffle, F.channel_shuffle, F.fold, F.unfold,
       F.cosine_similarity, F.pairwise_distance, F.pdist)
