"""Shape rules of the pooling family agree with their kernels (see tests/shape_rules.py)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from nnspec.runtime import functional as F

from shape_rules import SETTINGS, agree, covers, size

DTYPES = ["float32", "float32", "float64", "float16", "int64"]


def _input(data, nd: int, low: int = 1, high: int = 8):
    """(shape, dtype): batched or not (rarely a wrong number of dims), spatial sizes in [low, high]."""
    x = (data.draw(st.integers(1, 2)), data.draw(size), *[data.draw(st.integers(low, high)) for _ in range(nd)])
    form = data.draw(st.sampled_from(["batched", "batched", "unbatched", "short", "long"]))
    x = {"batched": x, "unbatched": x[1:], "short": x[2:], "long": (1, *x)}[form]
    return x, data.draw(st.sampled_from(DTYPES))


def _sizes(data, nd: int, low: int, high: int):
    """An int, or a list of nd ints (rarely of another length)."""
    one = st.integers(low, high)
    n = data.draw(st.sampled_from([nd, nd, nd, 1, nd + 1]))
    return data.draw(st.one_of(one, st.lists(one, min_size=n, max_size=n)))


@SETTINGS
@given(st.data())
def test_pool3d(data):
    x = _input(data, 3, 1, 7)
    k = _sizes(data, 3, 1, 3)
    stride = data.draw(st.one_of(st.none(), st.just([]), st.integers(1, 3), st.lists(st.integers(0, 3), min_size=3,
                                                                                           max_size=3)))
    padding, ceil = data.draw(st.one_of(st.integers(0, 2), st.lists(st.integers(-1, 1), min_size=3, max_size=3))), \
        data.draw(st.booleans())
    if data.draw(st.booleans()):
        dilation, indices = data.draw(st.integers(1, 2)), data.draw(st.booleans())
        agree(lambda x: F.max_pool3d(x, k, stride, padding, dilation, ceil, indices), x)
        agree(lambda x: F.max_pool3d_with_indices(x, k, stride, padding, dilation, ceil), x)
    else:
        include, divisor = data.draw(st.booleans()), data.draw(st.sampled_from([None, None, 2, 0]))
        agree(lambda x: F.avg_pool3d(x, k, stride, padding, ceil, include, divisor), x)


covers(F.max_pool3d, F.max_pool3d_with_indices, F.avg_pool3d)


@SETTINGS
@given(st.data())
def test_max_pool_with_indices(data):
    nd = data.draw(st.sampled_from([1, 2]))
    x = _input(data, nd, 1, 9)
    k, stride = data.draw(st.integers(1, 4)), data.draw(st.sampled_from([None, 1, 2]))
    padding, ceil = data.draw(st.integers(0, 2)), data.draw(st.booleans())
    fn = {1: F.max_pool1d_with_indices, 2: F.max_pool2d_with_indices}[nd]
    agree(lambda x: fn(x, k, stride, padding, 1, ceil), x)


covers(F.max_pool1d_with_indices, F.max_pool2d_with_indices)


@SETTINGS
@given(st.data())
def test_adaptive(data):
    nd = data.draw(st.sampled_from([1, 2, 3]))
    x = _input(data, nd, 0 if data.draw(st.integers(0, 9)) == 0 else 1, 7)
    item = st.one_of(st.integers(0, 6), st.none()) if data.draw(st.booleans()) else st.integers(-1, 6)
    n = data.draw(st.sampled_from([nd, nd, 1, nd + 1]))
    out = data.draw(st.one_of(st.integers(-1, 6), st.lists(item, min_size=n, max_size=n)))
    if nd == 3:
        agree(lambda x: F.adaptive_avg_pool3d(x, out), x)
    fn, fi = {1: (F.adaptive_max_pool1d, F.adaptive_max_pool1d_with_indices),
              2: (F.adaptive_max_pool2d, F.adaptive_max_pool2d_with_indices),
              3: (F.adaptive_max_pool3d, F.adaptive_max_pool3d_with_indices)}[nd]
    indices = data.draw(st.booleans())
    agree(lambda x: fn(x, out, indices), x)
    agree(lambda x: fi(x, out), x)


covers(F.adaptive_avg_pool3d, F.adaptive_max_pool1d, F.adaptive_max_pool1d_with_indices, F.adaptive_max_pool2d,
       F.adaptive_max_pool2d_with_indices, F.adaptive_max_pool3d, F.adaptive_max_pool3d_with_indices)


@SETTINGS
@given(st.data())
def test_lp_pool(data):
    nd = data.draw(st.sampled_from([1, 2, 3]))
    x = _input(data, nd, 1, 7)
    p = data.draw(st.sampled_from([1, 2, 2.0, 1.5, 3, -1, math.inf, -math.inf, 0]))
    k = data.draw(st.integers(1, 3)) if nd == 1 else _sizes(data, nd, 1, 3)
    stride = data.draw(st.one_of(st.none(), st.integers(1, 3)))
    ceil = data.draw(st.booleans())
    fn = {1: F.lp_pool1d, 2: F.lp_pool2d, 3: F.lp_pool3d}[nd]
    agree(lambda x: fn(x, p, k, stride, ceil), x)


covers(F.lp_pool1d, F.lp_pool2d, F.lp_pool3d)


@SETTINGS
@given(st.data())
def test_fractional_max_pool(data):
    nd = data.draw(st.sampled_from([2, 3]))
    x, dtype = _input(data, nd, 1, 9)
    k = _sizes(data, nd, 1, 3)
    if data.draw(st.booleans()):
        size_, ratio = _sizes(data, nd, 0, 6), None
    else:
        ratio = data.draw(st.lists(st.floats(0.1, 0.9), min_size=nd, max_size=nd))
        size_, ratio = None, ratio[0] if data.draw(st.integers(0, 3)) == 3 else ratio  # a number: 2-d refuses it
    n, c = (x[0] if len(x) == nd + 2 else 1), (x[-nd - 1] if len(x) > nd else 1)
    samples = data.draw(st.sampled_from([None, ((n, c, nd), dtype), ((n + 1, c, nd), dtype), ((n, c, nd + 1), dtype),
                                         ((n, c, nd), "float64"), ((c, nd), dtype)]))
    fn, fi = {2: (F.fractional_max_pool2d, F.fractional_max_pool2d_with_indices),
              3: (F.fractional_max_pool3d, F.fractional_max_pool3d_with_indices)}[nd]
    indices = data.draw(st.booleans())
    if samples is None:
        agree(lambda x: fn(x, k, size_, ratio, indices), (x, dtype))
        agree(lambda x: fi(x, k, size_, ratio), (x, dtype))
    else:  # torch.rand-like samples: the real ones in [0, 1)
        agree(lambda x, s: fn(x, k, size_, ratio, indices, _random_samples=abs(s) % 1), (x, dtype), samples)
        agree(lambda x, s: fi(x, k, size_, ratio, _random_samples=abs(s) % 1), (x, dtype), samples)


covers(F.fractional_max_pool2d, F.fractional_max_pool2d_with_indices, F.fractional_max_pool3d,
       F.fractional_max_pool3d_with_indices)


@SETTINGS
@given(st.data())
def test_max_unpool(data):
    nd = data.draw(st.sampled_from([1, 2, 3]))
    x, dtype = _input(data, nd, 1, 4)
    k = data.draw(st.integers(1, 3))
    stride = data.draw(st.one_of(st.none(), st.integers(1, 3)))
    padding = data.draw(st.integers(0, (k - 1) // 2 + (data.draw(st.integers(0, 9)) == 0)))
    s = k if stride is None else stride
    spatial = x[-nd:] if len(x) >= nd else (1,) * nd
    default = [(i - 1) * s + k - 2 * padding for i in spatial]
    output_size = data.draw(st.sampled_from([None, "default", "near", "full", "short"]))
    if output_size == "default":
        output_size = default
    elif output_size == "near":  # within a stride of the default, but at least 1 (an empty output reads no index)
        output_size = [max(1, d + data.draw(st.integers(-s, s))) for d in default]
    elif output_size == "full":
        output_size = [1, 1, *default]
    elif output_size == "short":
        output_size = default[1:]
    idx = data.draw(st.sampled_from([(x, "int64"), (x, "int64"), (x, "int32"), (x[:-1] + (x[-1] + 1,), "int64")]))
    fn = {1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}[nd]
    # index 0 is in every non-empty output; an empty one (a size of 0) is refused by the real run alone (no index fits)
    if 0 not in (default if output_size is None else list(output_size)[-nd:]):
        agree(lambda x, i: fn(x, i * 0, k, stride, padding, output_size), (x, dtype), idx)


covers(F.max_unpool1d, F.max_unpool2d, F.max_unpool3d)
