"""Shape rules of the activation family agree with their kernels (see tests/shape_rules.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nnspec.runtime import functional as F

from shape_rules import SETTINGS, agree, covers, shape


@SETTINGS
@given(st.data())
def test_gelu(data):
    x = data.draw(shape(0, 4))
    dtype = data.draw(st.sampled_from(["float32", "float64", "float16", "int64"]))
    approximate = data.draw(st.sampled_from(["none", "tanh", "exact"]))
    agree(lambda x: F.gelu(x, approximate=approximate), (x, dtype))


covers(F.gelu)
