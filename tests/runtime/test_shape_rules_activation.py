"""Shape rules of the activation family agree with their kernels (see tests/shape_rules.py)."""

from __future__ import annotations

import warnings

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


DTYPES = st.sampled_from(["float32", "float64", "float16", "int64", "bool"])
SCALARS = st.sampled_from([0.0, 0.5, 1, -1.0, 2.0, 1e5, 1e40, float("nan"), "a"])


@SETTINGS
@given(st.data())
def test_pointwise(data):
    """The elementwise ops: the input's shape (and the input itself in place), or the same refusal."""
    x = data.draw(shape(0, 4, min_size=0))
    dtype = data.draw(DTYPES)
    a, b = data.draw(SCALARS), data.draw(SCALARS)
    inplace = data.draw(st.booleans())
    calls = [
        lambda x: F.elu(x, a, inplace), lambda x: F.elu_(x, a, 1.0, b), lambda x: F.selu(x, inplace),
        lambda x: F.selu_(x), lambda x: F.celu(x, a, inplace), lambda x: F.celu_(x, a), lambda x: F.hardshrink(x, a),
        lambda x: F.softshrink(x, a), lambda x: F.hardsigmoid(x, inplace), lambda x: F.hardswish(x, inplace),
        lambda x: F.logsigmoid(x), lambda x: F.mish(x, inplace), lambda x: F.silu(x, inplace),
        lambda x: F.softplus(x, a, b), lambda x: F.softsign(x), lambda x: F.tanhshrink(x),
        lambda x: F.threshold(x, a, b, inplace), lambda x: F.threshold_(x, a, b), lambda x: F.relu_(x),
        lambda x: F.hardtanh_(x, a, b), lambda x: F.leaky_relu_(x, a),
    ]
    agree(data.draw(st.sampled_from(calls)), (x, dtype))


covers(F.elu, F.elu_, F.selu, F.selu_, F.celu, F.celu_, F.hardshrink, F.softshrink, F.hardsigmoid, F.hardswish,
       F.logsigmoid, F.mish, F.silu, F.softplus, F.softsign, F.tanhshrink, F.threshold, F.threshold_, F.relu_,
       F.hardtanh_, F.leaky_relu_)


@SETTINGS
@given(st.data())
def test_rrelu(data):
    x = data.draw(shape(0, 4, min_size=0))
    dtype = data.draw(DTYPES)
    lower, upper = data.draw(st.sampled_from([0.1, 0.3, -1e40, 1e39])), data.draw(st.sampled_from([0.2, 1e40]))
    training, inplace = data.draw(st.booleans()), data.draw(st.booleans())
    fn = data.draw(st.sampled_from([lambda x: F.rrelu(x, lower, upper, training, inplace),
                                    lambda x: F.rrelu_(x, lower, upper, training)]))
    agree(fn, (x, dtype))


covers(F.rrelu, F.rrelu_)


@SETTINGS
@given(st.data())
def test_glu(data):
    x = data.draw(shape(0, 4, min_size=0, max_size=6))
    dtype = data.draw(DTYPES)
    dim = data.draw(st.sampled_from([-1, 0, 1, 2, -3, 5, 1.0, True]))
    agree(lambda x: F.glu(x, dim), (x, dtype))


covers(F.glu)


@SETTINGS
@given(st.data())
def test_softmin(data):
    x = data.draw(shape(0, 4, min_size=0))
    dtype = data.draw(DTYPES)
    dim = data.draw(st.sampled_from([0, 1, -1, 3, -4]))
    to = data.draw(st.sampled_from([None, "float64", "float32"]))
    agree(lambda x: F.softmin(x, dim, dtype=to), (x, dtype))


covers(F.softmin)


@SETTINGS
@given(st.data())
def test_dropouts(data):
    x = data.draw(shape(0, 6, min_size=0, max_size=4))
    dtype = data.draw(DTYPES)
    p = data.draw(st.sampled_from([0.0, 0.3, 1.0, 1.5]))
    training, inplace = data.draw(st.booleans()), data.draw(st.booleans())
    fn = data.draw(st.sampled_from([F.dropout1d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropout3d's warning for an input that is not 4-d or 5-d
        agree(lambda x: fn(x, p, training, inplace), (x, dtype))


covers(F.dropout1d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout)
