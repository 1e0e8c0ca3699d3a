"""Shape rules of the normalization family agree with their kernels (see tests/shape_rules.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nnspec.runtime import functional as F

from shape_rules import SETTINGS, agree, covers, shape


@SETTINGS
@given(st.data())
def test_layer_norm(data):
    x = data.draw(shape(0, 4))
    k = data.draw(st.integers(0, len(x)))
    normalized = list(x[len(x) - k:]) if data.draw(st.integers(0, 3)) else [data.draw(st.integers(1, 4))] * k
    affine = data.draw(st.sampled_from([(), (normalized,), (normalized, normalized), (None, normalized), ([2],)]))
    dtype = data.draw(st.sampled_from(["float32", "float32", "float64", "int64"]))
    agree(lambda x, *wb: F.layer_norm(x, normalized, *wb), (x, dtype), *[None if s is None else tuple(s) for s in affine])


covers(F.layer_norm)


_FLOATS = ["float32", "float32", "float64", "float16", "int64"]


@SETTINGS
@given(st.data())
def test_group_norm(data):
    x = data.draw(shape(0, 4, min_size=0))
    g = data.draw(st.integers(-1, 4))
    c = x[1] if len(x) > 1 else 2
    affine = data.draw(st.sampled_from([(), ((c,),), ((c,), (c,)), (None, (c,)), ((c + 1,),), ((c, 1),)]))
    dtype = data.draw(st.sampled_from(_FLOATS))
    pdtype = data.draw(st.sampled_from([dtype, "float32"]))
    agree(lambda x, *wb: F.group_norm(x, g, *wb), (x, dtype), *[None if s is None else (s, pdtype) for s in affine])


@SETTINGS
@given(st.data())
def test_instance_norm(data):
    x = data.draw(shape(0, 5, min_size=0))
    c = x[1] if len(x) > 1 else 2
    c = data.draw(st.sampled_from([c, c, c + 1]))
    use_input_stats = data.draw(st.booleans())
    stats = data.draw(st.sampled_from([(None, None), ((c,), (c,))]))
    affine = data.draw(st.sampled_from([(None, None), ((c,), None), ((c,), (c,)), ((c, 1), None)]))
    dtype = data.draw(st.sampled_from(_FLOATS))
    agree(lambda x, rm, rv, w, b: F.instance_norm(x, rm, rv, w, b, use_input_stats), (x, dtype), *stats, *affine)


@SETTINGS
@given(st.data())
def test_local_response_norm(data):
    x = data.draw(shape(0, 6, min_size=0))
    size = data.draw(st.integers(-1, 6))
    dtype = data.draw(st.sampled_from(_FLOATS + ["int32", "bool"]))
    agree(lambda x: F.local_response_norm(x, size, 0.1, 0.75, 1.0), (x, dtype))


@SETTINGS
@given(st.data())
def test_rms_norm(data):
    x = data.draw(shape(0, 4))
    k = data.draw(st.integers(0, len(x)))
    normalized = list(x[len(x) - k:]) if data.draw(st.integers(0, 3)) else [data.draw(st.integers(1, 4))] * k
    weight = data.draw(st.sampled_from([(), (None,), (tuple(normalized),), ((2,),)]))
    dtype = data.draw(st.sampled_from(_FLOATS))
    agree(lambda x, *w: F.rms_norm(x, normalized, *w), (x, dtype), *[None if s is None else (s, dtype) for s in weight])


@SETTINGS
@given(st.data())
def test_normalize(data):
    x = data.draw(shape(0, 4, min_size=0))
    p = data.draw(st.sampled_from([2, 1, 0, 3.5, -1, float("inf"), float("-inf"), "fro"]))
    n = max(len(x), 1)
    dim = data.draw(st.one_of(st.integers(-n - 1, n), st.lists(st.integers(-n, n - 1), min_size=1, max_size=2)))
    dtype = data.draw(st.sampled_from(_FLOATS))
    agree(lambda x: F.normalize(x, p, dim), (x, dtype))


covers(F.group_norm, F.instance_norm, F.local_response_norm, F.rms_norm, F.normalize)
