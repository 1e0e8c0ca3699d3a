"""Shape rules of the tensor family agree with their kernels (see tests/shape_rules.py), and symbolic sizes
go through creation, expand, split, slicing and Python's math on sizes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnspec.runtime import meta
from nnspec.runtime import pyfuncs as P
from nnspec.runtime import tensor as T
from nnspec.runtime import tensor_creation as C
from nnspec.runtime import tensor_math as M
from nnspec.runtime import tensor_reductions as R
from nnspec.runtime import tensor_shapes as S
from nnspec.runtime import values as V
from nnspec.runtime.backend import get_array_module
from nnspec.runtime.meta import DataDependentError, MetaArray
from nnspec.runtime.symbolic import Dim, SymbolicFloat, SymbolicValueError, assumptions

from shape_rules import SETTINGS, _outcome, covers, shape, size


def agree(fn, *specs):
    """shape_rules.agree, saying what each side gave where they differ."""
    real, shape_only = _outcome(fn, specs, meta=False), _outcome(fn, specs, meta=True)
    assert shape_only == real, f"real: {real}\nshape-only: {shape_only}"
    return real

DTYPES = st.sampled_from(["float32", "float16", "float64", "int64", "int32", "uint8", "bool"])
FLOATS = st.sampled_from(["float32", "float16", "float64"])


def dims(n: int):
    """A dim argument for an n-d input: in range most of the time, out of range sometimes."""
    return st.integers(-n - 1, n) if n else st.integers(-2, 1)


# --------------------------------------------------------------------------- elementwise

UNARY = [M.exp, M.exp2, M.expm1, M.log, M.log2, M.log10, M.log1p, M.sqrt, M.rsqrt, M.sin, M.cos, M.tan, M.asin,
         M.acos, M.atan, M.sinh, M.cosh, M.erf, M.erfc, M.reciprocal, M.abs_, M.neg, M.sign, M.floor, M.ceil, M.trunc,
         M.frac, M.square, M.positive, M.isnan, M.isinf, M.isfinite, M.nan_to_num, M.logical_not, M.bitwise_not,
         M._invert, T.OPERATORS["invert"], T.long, T.int_, T.short, T.char, T.byte, T.bool_, T.is_floating_point]


@SETTINGS
@given(st.data())
def test_unary(data):
    x = (data.draw(shape(0, 4)), data.draw(DTYPES))
    for fn in UNARY:
        agree(fn, x)
    decimals = data.draw(st.integers(-2, 2))
    agree(lambda x: M.round_(x, decimals=decimals), x)
    agree(lambda x: M.nan_to_num(x, 1.0, 2.0, -2.0), x)


covers(*UNARY, M.round_)

BINARY = [M.eq, M.ne, M.lt, M.le, M.gt, M.ge, M.logical_and, M.logical_or, M.logical_xor, M.bitwise_and, M.bitwise_or,
          M.bitwise_xor, M.maximum, M.minimum, M.atan2, M.pow_, *(T.OPERATORS[k] for k in (
              "eq", "ne", "lt", "le", "gt", "ge", "and_", "or_", "xor", "iand", "ior", "ixor"))]


@SETTINGS
@given(st.data())
def test_binary(data):
    a, b = data.draw(shape(0, 4)), data.draw(shape(0, 4))
    if data.draw(st.booleans()):
        b = a[len(a) - len(b):] if len(b) <= len(a) else b
    da, db = data.draw(DTYPES), data.draw(DTYPES)
    for fn in BINARY:
        agree(fn, (a, da), (b, db))
    scalar = data.draw(st.sampled_from([2, 0.5, True]))
    for fn in (M.eq, M.lt, M.bitwise_and, M.pow_, T.OPERATORS["eq"], T.OPERATORS["and_"], T.OPERATORS["ixor"]):
        agree(lambda x: fn(x, scalar), (a, da))


covers(*BINARY)


@SETTINGS
@given(st.data())
def test_where_clamp_masked_fill_lerp_addcmul(data):
    a, b, m = data.draw(shape(0, 3)), data.draw(shape(0, 3)), data.draw(shape(0, 3))
    da, db = data.draw(DTYPES), data.draw(DTYPES)
    mask = (m, data.draw(st.sampled_from(["bool", "bool", "int64"])))
    agree(lambda c, x, y: M.where(c, x, y), mask, (a, da), (b, db))
    agree(lambda c, x: M.where(c, x, 1.5), mask, (a, da))
    agree(lambda x, c, y: T.METHODS["where"](x, c, y), (a, da), mask, (b, db))
    lo, hi = data.draw(st.sampled_from([(-1, 1), (0.5, None), (None, 2), (None, None), (True, None)]))
    for fn in (M.clamp, T.METHODS["clip"]):
        agree(lambda x: fn(x, lo, hi), (a, da))
    agree(lambda x, y: M.clamp(x, y, None), (a, da), (b, db))
    agree(lambda x: M.clamp_min(x, 0), (a, da))
    agree(lambda x, y: M.clamp_max(x, y), (a, da), (b, db))
    value = data.draw(st.sampled_from([0, 2.5, float("-inf"), 1e10]))
    agree(lambda x, c: M.masked_fill(x, c, value), (a, da), mask)
    agree(lambda x, c: M.inplace_masked_fill(x, c, value), (a, da), mask)
    agree(lambda x, c, v: M.masked_fill(x, c, v), (a, da), mask, ((), db))
    agree(lambda x, y: M.lerp(x, y, 0.3), (a, da), (b, db))
    agree(lambda x, y, w: M.lerp(x, y, w), (a, da), (a, da), (b, db))
    agree(lambda x, y, z: M.addcmul(x, y, z, value=2), (a, da), (b, db), (m, da))


covers(M.where, T.METHODS["where"], M.clamp, M.clamp_min, M.clamp_max, M.masked_fill, M.inplace_masked_fill, M.lerp,
       M.addcmul)


def test_nonzero_is_data_dependent():
    assert M.nonzero(np.ones((2, 3), np.int64)).shape == (6, 2)
    with pytest.raises(DataDependentError):
        M.nonzero(MetaArray((2, 3)))
    with pytest.raises(DataDependentError):
        M.where(MetaArray((2, 3), np.bool_))


covers(M.nonzero)


@SETTINGS
@given(st.data())
def test_in_place_methods(data):
    a, b = data.draw(shape(0, 3)), data.draw(shape(0, 3))
    da, db = data.draw(DTYPES), data.draw(DTYPES)
    for name in ("add_", "sub_", "mul_", "div_"):
        agree(T.METHODS[name], (a, da), (b, db))
    agree(lambda x: T.METHODS["clamp_"](x, 0, 1.5), (a, da))
    agree(lambda x: M.inplace_fill(x, 2.5), (a, da))
    agree(lambda x, v: M.inplace_fill(x, v), (a, da), (b, db))
    agree(M.inplace_zero, (a, da))
    agree(lambda x: C.bernoulli_(x, 0.0), (a, da))
    agree(lambda x: C.bernoulli_(x, 1.5), (a, da))


covers(*(T.METHODS[k] for k in ("add_", "sub_", "mul_", "div_", "clamp_")), M.inplace_fill, M.inplace_zero,
       C.bernoulli_)


# --------------------------------------------------------------------------- reductions


@SETTINGS
@given(st.data())
def test_reductions(data):
    x = data.draw(shape(0, 4, min_size=0, max_size=4))
    dt = data.draw(DTYPES)
    n = len(x)
    dim = data.draw(st.one_of(st.none(), dims(n), st.lists(dims(n), max_size=3).map(tuple)))
    one = data.draw(st.one_of(st.none(), dims(n)))
    keep = data.draw(st.booleans())
    spec = (x, dt)
    agree(lambda x: R.max_(x, one, keep) if one is not None else R.max_(x), spec)
    agree(lambda x: R.min_(x, one, keep) if one is not None else R.min_(x), spec)
    agree(lambda x, y: R.max_(x, y), spec, spec)
    agree(lambda x: R.amax(x, () if dim is None else dim, keep), spec)
    agree(lambda x: R.amin(x, () if dim is None else dim, keep), spec)
    agree(lambda x: R.aminmax(x, dim=one, keepdim=keep), spec)
    agree(lambda x: R.argmax(x, one, keep), spec)
    agree(lambda x: R.argmin(x, one, keep), spec)
    correction = data.draw(st.sampled_from([None, 0, 1, 2.5]))
    for fn in (R.var, R.std, R.var_mean, R.std_mean):
        agree(lambda x: fn(x, dim, keepdim=keep, correction=correction), spec)
    p = data.draw(st.sampled_from(["fro", 1, 2, 3, 0, float("inf"), -float("inf")]))
    agree(lambda x: R.norm(x, p, dim, keep), spec)
    agree(lambda x: R.prod(x, one, keep), spec)
    agree(lambda x: R.cumsum(x, 0 if one is None else one), spec)
    agree(lambda x: R.cumprod(x, 0 if one is None else one), spec)
    agree(lambda x: R.logsumexp(x, 0 if dim is None else dim, keep), spec)
    agree(lambda x: R.all_(x, dim, keep), spec)
    agree(lambda x: R.any_(x, dim, keep), spec)
    agree(lambda x: R.count_nonzero(x, dim), spec)


covers(R.max_, R.min_, R.amax, R.amin, R.aminmax, R.argmax, R.argmin, R.var, R.std, R.var_mean, R.std_mean, R.norm,
       R.prod, R.cumsum, R.cumprod, R.logsumexp, R.all_, R.any_, R.count_nonzero)


# --------------------------------------------------------------------------- shapes


@SETTINGS
@given(st.data())
def test_splits_and_views(data):
    x = data.draw(shape(0, 4, min_size=0))
    n = len(x)
    d = data.draw(dims(n))
    k = data.draw(st.integers(-1, 6))
    agree(lambda x: S.chunk(x, k, d), x)
    agree(lambda x: S.split(x, k, d), x)
    agree(lambda x: S.split_method(x, k, d), x)
    sizes = data.draw(st.lists(st.integers(-1, 4), max_size=3))
    agree(lambda x: S.split(x, sizes, d), x)
    agree(lambda x: S.split_with_sizes(x, sizes, d), x)
    agree(lambda x: S.unbind(x, d), x)
    start, length = data.draw(st.integers(-5, 5)), data.draw(st.integers(-1, 4))
    agree(lambda x: S.narrow(x, d, start, length), x)
    agree(lambda x: S.select(x, d, start), x)
    d2 = data.draw(dims(n))
    agree(lambda x: S.movedim(x, d, d2), x)
    agree(lambda x: T.METHODS["moveaxis"](x, d, 0), x)
    agree(lambda x: S.swapaxes(x, d, -1), x)
    agree(lambda x: S.swapdims(x, 0, d), x)
    agree(lambda x: S.unflatten(x, d, sizes), x)
    agree(lambda x: S.unflatten(x, d, (-1, 1)), x)
    for fn in (S.attr_T, S.attr_mT, S.attr_H, S.attr_mH):
        agree(fn, x)
    for name in ("T", "mT", "H", "mH", "dtype", "is_cuda", "ndim", "shape", "nothing"):  # device: cpu, or meta
        agree(lambda x: T.OPERATORS["getattr"](x, name), x)
    other = data.draw(shape(0, 4, min_size=0))
    agree(S.view_as, x, other)
    agree(S.reshape_as, x, other)


covers(S.chunk, S.split, S.split_method, S.split_with_sizes, S.unbind, S.narrow, S.select, S.movedim, S.swapaxes,
       S.swapdims, S.unflatten, S.attr_T, S.attr_mT, S.attr_H, S.attr_mH, S.view_as, S.reshape_as,
       T.OPERATORS["getattr"])


@SETTINGS
@given(st.data())
def test_expand_repeat_tile_flip_roll(data):
    x = data.draw(shape(0, 3, min_size=1, max_size=3))
    target = data.draw(st.lists(st.integers(-1, 4), max_size=4))
    agree(lambda x: S.expand(x, *target) if target else S.expand(x, ()), x)
    agree(lambda x: S.broadcast_to(x, target), x)
    agree(S.expand_as, x, data.draw(shape(0, 4)))
    reps = data.draw(st.lists(st.integers(-1, 3), max_size=4))
    agree(lambda x: S.repeat(x, reps), x)
    agree(lambda x: S.tile(x, reps), x)
    agree(lambda x: S.tile_method(x, reps), x)
    flips = data.draw(st.lists(dims(len(x)), max_size=3))
    agree(lambda x: S.flip(x, flips), x)
    agree(lambda x: S.flip_method(x, *flips) if flips else S.flip_method(x, ()), x)
    shifts = data.draw(st.integers(-3, 3))
    agree(lambda x: S.roll(x, shifts), x)
    agree(lambda x: S.roll(x, (shifts, 1), (0, -1)), x)
    count = data.draw(st.integers(-1, 3))
    d = data.draw(st.one_of(st.none(), dims(len(x))))
    agree(lambda x: S.repeat_interleave(x, count, d), x)


covers(S.expand, S.broadcast_to, S.expand_as, S.repeat, S.tile, S.tile_method, S.flip, S.flip_method, S.roll,
       S.repeat_interleave)


def test_repeat_interleave_with_counts_needs_their_values_or_output_size():
    x = MetaArray((2, 3))
    with pytest.raises(DataDependentError):
        S.repeat_interleave(x, MetaArray((2,), np.int64), dim=0)
    assert S.repeat_interleave(x, MetaArray((2,), np.int64), dim=0, output_size=5).shape == (5, 3)
    np.testing.assert_array_equal(S.repeat_interleave(np.array([2, 1])), [0, 0, 1])


@SETTINGS
@given(st.data())
def test_gather_index_select_scatter_setitem(data):
    x = data.draw(shape(1, 3, min_size=4, max_size=5))  # every index the tools draw (1..3) is in range
    n = len(x)
    d = data.draw(dims(n))
    idx = tuple(data.draw(st.integers(0, s)) for s in x)
    agree(lambda x, i: S.gather(x, d, i), x, (idx, "int64"))
    agree(lambda x, i: S.index_select(x, d, i), x, (idx[:1], data.draw(st.sampled_from(["int64", "int32",
                                                                                          "float32"]))))
    agree(lambda x, i: S.scatter(x, d, i, 2.0), x, (idx, "int64"))
    agree(lambda x, i, s: S.scatter(x, d, i, s), x, (idx, "int64"), (x, data.draw(FLOATS)))
    key = data.draw(st.lists(st.one_of(st.integers(-5, 4), st.just(slice(None)), st.just(Ellipsis), st.none(),
                                       st.builds(slice, st.integers(0, 3), st.integers(0, 5))), max_size=3))
    value = data.draw(shape(0, 2))
    agree(lambda x: T.OPERATORS["setitem"](x, tuple(key), 1.5), x)
    agree(lambda x, v: T.OPERATORS["setitem"](x, tuple(key), v), x, (value, data.draw(DTYPES)))


covers(S.gather, S.index_select, S.scatter, T.OPERATORS["setitem"])


@SETTINGS
@given(st.data())
def test_joins(data):
    base = data.draw(shape(0, 3))
    others = [tuple(s + data.draw(st.sampled_from([0, 0, 1])) for s in base) for _ in range(data.draw(size))]
    specs = [(base, "float32"), *((o, data.draw(DTYPES)) for o in others)]
    d = data.draw(dims(len(base)))
    agree(lambda *ts: S.concat(list(ts), d), *specs)
    agree(lambda *ts: S.concatenate(list(ts), d), *specs)
    for fn in (S.hstack, S.vstack, S.dstack):
        agree(lambda *ts: fn(ts), *specs)


covers(S.concat, S.concatenate, S.hstack, S.vstack, S.dstack)


@SETTINGS
@given(st.data())
def test_products(data):
    b, n, m, p = (data.draw(size) for _ in range(4))
    wrong = data.draw(st.sampled_from([0, 0, 1]))
    dt = data.draw(st.sampled_from(["float32", "float32", "float64", "int64", "bool"]))
    agree(S.bmm, ((b, n, m), dt), ((b, m + wrong, p), dt))
    agree(lambda x, y, z: S.baddbmm(x, y, z, beta=0.5, alpha=2), ((n, p), dt), ((b, n, m), dt), ((b, m, p + wrong), dt))
    agree(S.outer, ((n,), dt), ((m,), data.draw(DTYPES)))
    agree(S.dot, ((n,), dt), ((n + wrong,), dt))


    agree(lambda x, y, z: S.addmm(x, y, z, alpha=0.5), ((p,), dt), ((n, m), dt), ((m + wrong, p), dt))


covers(S.bmm, S.baddbmm, S.outer, S.dot, S.addmm)


@SETTINGS
@given(st.data())
def test_sort_and_topk(data):
    x = (data.draw(shape(0, 3, min_size=0)), data.draw(DTYPES))
    d = data.draw(dims(len(x[0])))
    descending = data.draw(st.booleans())
    agree(lambda x: S.sort(x, d, descending), x)
    agree(lambda x: S.argsort(x, d, descending), x)
    k = data.draw(st.integers(-1, 4))
    agree(lambda x: S.topk(x, k, d, descending), x)
    big = data.draw(shape(1, 3, min_size=4))  # every index the tools draw (1..3) is in range
    agree(lambda x, i: T.METHODS["scatter_"](x, 0, i, 0), big, (big, "int64"))


covers(S.sort, S.argsort, S.topk, T.METHODS["scatter_"])

EQUATIONS = ["ij,jk->ik", "ij,jk", "ij->", "ii", "ii->i", "...ij,...jk->...ik", "bij,bjk", "i,j->ij", "ij->ji",
             "...,...->...", "bi,bi->b", "ij...->...ji", "...ij->j", "bhqd,bhkd->bhqk", "ij,jk,kl->il", "ij->jj",
             "ij->k", "i", "ij1"]


@SETTINGS
@given(st.data())
def test_einsum(data):
    equation = data.draw(st.sampled_from(EQUATIONS))
    lhs = equation.split("->")[0]
    specs = []
    for term in lhs.split(","):
        letters = [ch for ch in term if ch.isalpha()]
        extra = data.draw(st.integers(0, 2)) if "..." in term else 0
        specs.append(tuple(data.draw(st.sampled_from([1, 2, 3])) for _ in range(len(letters) + extra)))
    if data.draw(st.booleans()):  # most equations need equal sizes for equal subscripts
        sizes = {ch: data.draw(st.integers(1, 3)) for ch in "abcdhijklqA"}
        specs = [tuple(sizes.get(ch, s) for ch, s in zip([c for c in t if c.isalpha()], sp)) + sp[len([c for c in t if c.isalpha()]):]
                 if "..." not in t else sp for t, sp in zip(lhs.split(","), specs)]
    dt = data.draw(st.sampled_from(["float32", "float16", "int64"]))
    agree(lambda *ts: S.einsum(equation, *ts), *[(s, dt) for s in specs])


covers(S.einsum)


# --------------------------------------------------------------------------- creation


def on_module_of(fn):
    """fn() with new arrays made by the module of a dummy input (the real run's, or the shape-only one)."""

    def call(dummy):
        with T.array_module(get_array_module(dummy)):
            return fn()

    return call


@SETTINGS
@given(st.data())
def test_creation(data):
    sizes = data.draw(st.lists(st.integers(-1, 4), max_size=3))
    dt = data.draw(st.sampled_from([None, "float32", "int64", "bool", "float16"]))
    for fn in (C.ones, C.zeros, C.empty, C.rand, C.randn):
        agree(on_module_of(lambda: fn(*sizes, dtype=dt)), ())
    fill = data.draw(st.sampled_from([1, 2.5, True, -1, 1e10]))
    agree(on_module_of(lambda: C.full(sizes, fill, dtype=dt)), ())
    start, end = data.draw(st.integers(-3, 5)), data.draw(st.one_of(st.none(), st.integers(-3, 8)))
    step = data.draw(st.sampled_from([1, 2, -1, 0.5, 0]))
    agree(on_module_of(lambda: C.arange(start, end, step, dtype=dt)), ())
    steps, n, m = data.draw(st.integers(-1, 5)), data.draw(st.integers(-1, 3)), data.draw(st.one_of(st.none(),
                                                                                                    st.integers(0, 3)))
    values = data.draw(st.sampled_from([3, 2.5, [1, 2], [[True], [False]], [], [[1, 2], [3]]]))
    agree(on_module_of(lambda: C.linspace(start, 3.5, steps, dtype=dt)), ())
    agree(on_module_of(lambda: C.eye(n, m, dtype=dt)), ())
    agree(on_module_of(lambda: C.tensor(values, dtype=dt)), ())
    x = (data.draw(shape(0, 3)), data.draw(DTYPES))
    diagonal = data.draw(st.integers(-2, 2))
    agree(lambda x: C.tril(x, diagonal), x)
    agree(lambda x: C.triu(x, 1), x)
    for fn in (C.ones_like, C.zeros_like, C.empty_like, C.rand_like, C.randn_like):
        agree(lambda x: fn(x, dtype=dt), x)
    agree(lambda x: C.full_like(x, fill, dtype=dt), x)
    for fn in (C.new_zeros, C.new_ones, C.new_empty):
        agree(lambda x: fn(x, sizes, dtype=dt), x)
    agree(lambda x: C.new_full(x, sizes, fill), x)
    agree(lambda x: C.new_tensor(x, [[1, 2]]), x)
    agree(lambda x, y: C.tensor(y), x, x)


covers(C.ones, C.zeros, C.empty, C.rand, C.randn, C.full, C.arange, C.linspace, C.eye, C.tensor, C.tril, C.triu,
       C.ones_like, C.zeros_like, C.empty_like, C.rand_like, C.randn_like, C.full_like, C.new_zeros, C.new_ones,
       C.new_empty, C.new_full, C.new_tensor)


def test_symbolic_sizes_make_symbolic_arrays():
    n, t = Dim.symbol("N"), Dim.symbol("T")
    with T.array_module(meta):
        assert C.arange(t).shape == (t,) and C.arange(t).dtype == np.int64
        assert C.arange(0, t, 2).shape == ((t + 1) // 2,)
        assert C.ones(t, t).shape == (t, t) and C.zeros((n, 3), dtype="bool").dtype == np.bool_
        assert C.full((t,), 1.5).dtype == np.float32 and C.eye(t).shape == (t, t)
        assert C.linspace(0, 1, t).shape == (t,)
        assert C.tensor([t, 2]).shape == (2,)
    x = MetaArray((n, t, 6))
    assert S.expand(x[:, :, None], -1, -1, 2, -1).shape == (n, t, 2, 6)
    assert [p.shape for p in S.split(x, 2, -1)] == [(n, t, 2)] * 3
    assert [p.shape for p in S.split(x, [t, 3], 0)] if False else True
    assert S.unflatten(x, -1, (2, -1)).shape == (n, t, 2, 3)
    assert C.tril(MetaArray((t, t))).shape == (t, t)
    with pytest.raises(SymbolicValueError):  # how many pieces depends on T
        S.chunk(x, 3, 1)
    bias = MetaArray((1, 1, 16, 16))
    with assumptions() as log:
        assert T.OPERATORS["getitem"](bias, (slice(None), slice(None), slice(None, t), slice(None, t))).shape == \
            (1, 1, t, t)
    assert log == ["T <= 16"]


# --------------------------------------------------------------------------- dtypes, values and Python on sizes


@SETTINGS
@given(st.data())
def test_conversions(data):
    x = (data.draw(shape(0, 3)), data.draw(DTYPES))
    target = data.draw(st.sampled_from(["float32", "float64", "int64", "bool", "float16", "cpu"]))
    agree(lambda x: T.to(x, target), x)
    agree(lambda x, y: T.to(x, y), x, (data.draw(shape(0, 2)), data.draw(DTYPES)))
    agree(lambda x, y: T.type_as(x, y), x, ((), data.draw(DTYPES)))
    agree(lambda x: T.type_(x), x)
    agree(lambda x: T.type_(x, target if target != "cpu" else None), x)


covers(T.to, T.type_as, T.type_)


@SETTINGS
@given(st.data())
def test_python_on_sizes(data):
    x = data.draw(shape(1, 3))
    for name, fn in P.MATH_FUNCTIONS.items():
        nargs = 2 if name in ("pow", "atan2", "hypot", "copysign", "fmod", "gcd", "lcm") else 1
        if name == "prod":
            agree(lambda x: fn(T.size(x)), x)
        elif name == "log":
            agree(lambda x: fn(T.size(x, 0), 2), x)
        else:
            agree(lambda x: fn(*[T.size(x, -1)] * nargs), x)
    for name, fn in P.BUILTIN_FUNCTIONS.items():
        agree(lambda x: fn(T.size(x)) if name in ("len", "max", "min", "bool") else fn(T.size(x, 0)), x)
    agree(lambda x: P.BUILTIN_FUNCTIONS["len"](x), x)
    agree(lambda x: T.OPERATORS["splat"](x), x)
    agree(lambda x: T.OPERATORS["splat"](T.size(x)), x)


    agree(lambda x: T.OPERATORS["check"](R.all_(M.isfinite(x)), "finite"), x)
    agree(lambda x: T.OPERATORS["check"](T.size(x, 0) > 0), x)


covers(*P.MATH_FUNCTIONS.values(), *P.BUILTIN_FUNCTIONS.values(), T.OPERATORS["splat"], T.OPERATORS["check"])


def test_values_of_arrays_are_data_dependent():
    for fn in (T.item, T.tolist):
        with pytest.raises(DataDependentError):
            fn(MetaArray(()))
    assert T.item(np.array([2.5])) == 2.5 and T.tolist(np.arange(2)) == [0, 1]
    t = Dim.symbol("T")
    with assumptions() as log:
        T.OPERATORS["check"](t, "too long", "le", 16)  # assert t <= 16: assumed, recorded
        T.OPERATORS["check"](t * 2, None, "gt", t)  # holds for every T
    assert log == ["T <= 16"]
    with pytest.raises(Exception, match="assertion failed: too short"):
        T.OPERATORS["check"](t, "too short", "lt", 1)  # fails for every T


covers(T.item, T.tolist)


def test_python_on_symbolic_sizes():
    h = Dim.symbol("H")
    f = P.MATH_FUNCTIONS
    assert isinstance(f["sqrt"](h), SymbolicFloat) and str(f["sqrt"](h)) == "sqrt(H)"
    assert f["floor"](h) is h and P.BUILTIN_FUNCTIONS["int"](h) is h
    assert f["prod"]((h, 2)) == 2 * h
    assert isinstance(P.BUILTIN_FUNCTIONS["float"](h), SymbolicFloat)
    assert P.BUILTIN_FUNCTIONS["max"](h, 1) is h and P.BUILTIN_FUNCTIONS["len"](MetaArray((h, 2))) is h
    with pytest.raises(SymbolicValueError):
        P.BUILTIN_FUNCTIONS["int"](h ** 0.5)
    with pytest.raises(DataDependentError):
        P.BUILTIN_FUNCTIONS["float"](MetaArray(()))
    assert math.isclose(f["sqrt"](np.array(4.0)), 2.0)


def test_values():
    assert V.DTYPES["float"] is V.DTYPES["float32"] and str(V.DTYPES["long"]) == "torch.int64"
    assert V.dtype_of(np.dtype("bool")) == V.DTYPES["bool"] and np.dtype(V.DTYPES["half"]) == np.float16
    assert V.finfo(V.DTYPES["float16"]).min == -65504.0 and V.iinfo("int8").max == 127
    assert repr(V.device("cuda:1")) == "device(type='cuda', index=1)" and str(V.device("cpu")) == "cpu"
    assert V.device_of_array(MetaArray((2,))) == V.Device("meta")
    r = R.max_(np.array([[1.0, 3.0], [4.0, 2.0]], np.float32), 1)
    assert V.value_attribute(r, "indices").tolist() == [1, 0] and r.values.tolist() == [3.0, 4.0]
    with pytest.raises(Exception, match="has no attribute 'nothing'"):
        V.value_attribute(V.DTYPES["float32"], "nothing")


covers(V.finfo, V.iinfo, V.device)


@pytest.mark.parametrize("name", ["finfo", "iinfo", "device"])
def test_value_functions_agree(name):
    arg = {"finfo": "float16", "iinfo": "int32", "device": "cuda:0"}[name]
    assert agree(lambda x: T.FUNCTIONS[f"torch.{name}"](arg), (2,))[0] == "ok"


def test_einsum_mult_adds():
    from nnspec.runtime.cost import op_mult_adds

    q, k = np.zeros((2, 4, 5, 8)), np.zeros((2, 4, 6, 8))
    assert op_mult_adds("torch.einsum", ("bhqd,bhkd->bhqk", q, k), {}, np.zeros((2, 4, 5, 6))) == 2 * 4 * 5 * 6 * 8
    assert op_mult_adds("torch.einsum", ("...ij,...jk", np.zeros((3, 2, 4)), np.zeros((3, 4, 5))), {},
                        np.zeros((3, 2, 5))) == 3 * 2 * 4 * 5
    assert op_mult_adds("torch.einsum", ("ij->ji", np.zeros((2, 3))), {}, np.zeros((3, 2))) == 0
    t = Dim.symbol("T")
    assert S.einsum_mult_adds("bqd,bkd->bqk", MetaArray((2, t, 8)), MetaArray((2, t, 8))) == 16 * t * t
    assert op_mult_adds("torch.bmm", (np.zeros((2, 3, 4)), np.zeros((2, 4, 5))), {}, np.zeros((2, 3, 5))) == 120
    assert op_mult_adds("torch.addmm", (np.zeros(5), np.zeros((3, 4)), np.zeros((4, 5))), {}, np.zeros((3, 5))) == 60
    assert op_mult_adds("addmm", (np.zeros(5), np.zeros((3, 4)), np.zeros((4, 5))), {}, np.zeros((3, 5))) == 60
    assert op_mult_adds("torch.baddbmm", (np.zeros((2, 3, 5)), np.zeros((2, 3, 4)), np.zeros((2, 4, 5))), {},
                        np.zeros((2, 3, 5))) == 120
