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
