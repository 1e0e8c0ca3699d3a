"""Every op's shape rule agrees with its kernel, over random arguments (hypothesis).

Each op is called twice on the same arguments: on NumPy arrays (the kernel runs) and on
shape-only MetaArrays (the op's checks run, then its shape rule gives the result). The
outcomes must be the same: equal shapes and dtypes, or the same NNSpecError, word for word.
A coverage test makes sure no op in the registries a forward can call goes untested: it reads
the ops that every tests/runtime/test_shape_rules*.py file covers (the tools are in tests/shape_rules.py).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

from hypothesis import given
from hypothesis import strategies as st

from nnspec.runtime import functional as F
from nnspec.runtime import tensor as T
from nnspec.runtime.meta import MetaArray

from shape_rules import COVERED, SETTINGS, agree, covers, shape, size

# --------------------------------------------------------------------------- convolution and pooling


@SETTINGS
@given(st.data())
def test_conv(data):
    nd = data.draw(st.sampled_from([1, 2, 3]))
    groups = data.draw(st.sampled_from([1, 1, 2]))
    cin, cout = groups * data.draw(size), groups * data.draw(size)
    x = (data.draw(st.integers(1, 2)), cin + data.draw(st.sampled_from([0, 0, 0, 1])),
         *[data.draw(st.integers(1, 7)) for _ in range(nd)])
    k = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    padding = data.draw(st.sampled_from([0, 1, "same", "valid", 2]))
    stride = data.draw(st.sampled_from([1, 2, 3])) if padding != "same" else 1
    dilation = data.draw(st.sampled_from([1, 2]))
    bias = data.draw(st.booleans())
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]
    if data.draw(st.booleans()):
        x = x[1:]  # unbatched
    agree(lambda x, w, b: fn(x, w, b, stride, padding, dilation, groups), x, (cout, cin // groups, *k),
          (cout,) if bias else None)


covers(F.conv1d, F.conv2d, F.conv3d)


@SETTINGS
@given(st.data())
def test_conv_transpose(data):
    nd = data.draw(st.sampled_from([1, 2]))
    groups = data.draw(st.sampled_from([1, 2]))
    cin, cout = groups * data.draw(size), groups * data.draw(size)
    x = (data.draw(st.integers(1, 2)), cin, *[data.draw(st.integers(1, 5)) for _ in range(nd)])
    k = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    stride, padding = data.draw(st.integers(1, 3)), data.draw(st.integers(0, 2))
    output_padding, dilation = data.draw(st.integers(0, 2)), data.draw(st.integers(1, 2))
    fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d}[nd]
    agree(lambda x, w: fn(x, w, None, stride, padding, output_padding, groups, dilation), x,
          (cin, cout // groups, *k))


covers(F.conv_transpose1d, F.conv_transpose2d)


@SETTINGS
@given(st.data())
def test_pooling(data):
    nd = data.draw(st.sampled_from([1, 2]))
    x = (data.draw(st.integers(1, 2)), data.draw(size), *[data.draw(st.integers(1, 9)) for _ in range(nd)])
    if data.draw(st.booleans()):
        x = x[1:]
    k = data.draw(st.integers(1, 4))
    stride = data.draw(st.sampled_from([None, 1, 2, 3]))
    padding, ceil = data.draw(st.integers(0, 2)), data.draw(st.booleans())
    kind = data.draw(st.sampled_from(["max", "avg", "adaptive"]))
    if kind == "max":
        fn = {1: F.max_pool1d, 2: F.max_pool2d}[nd]
        dilation, indices = data.draw(st.integers(1, 2)), data.draw(st.booleans())
        agree(lambda x: fn(x, k, stride, padding, dilation, ceil, indices), x)
    elif kind == "avg":
        fn = {1: F.avg_pool1d, 2: F.avg_pool2d}[nd]
        include = data.draw(st.booleans())
        agree(lambda x: fn(x, k, stride, padding, ceil, include), x)
    else:
        fn = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d}[nd]
        out = data.draw(st.one_of(st.integers(1, 6), st.tuples(*[st.one_of(st.none(), st.integers(1, 6))] * nd)))
        agree(lambda x: fn(x, out), x)


covers(F.max_pool1d, F.max_pool2d, F.avg_pool1d, F.avg_pool2d, F.adaptive_avg_pool1d, F.adaptive_avg_pool2d)


# --------------------------------------------------------------------------- linear, vision, normalization


@SETTINGS
@given(st.data())
def test_linear_and_bilinear(data):
    lead = data.draw(shape(0, 3))
    i1, i2, o = data.draw(size), data.draw(size), data.draw(size)
    wrong = data.draw(st.sampled_from([0, 0, 1]))
    agree(lambda x, w, b: F.linear(x, w, b), (*lead, i1 + wrong), (o, i1), (o,))
    agree(lambda a, b, w, bias: F.bilinear(a, b, w, bias), (*lead, i1), (*lead, i2 + wrong), (o, i1, i2), (o,))


covers(F.linear, F.bilinear)


@SETTINGS
@given(st.data())
def test_vision_ops(data):
    r = data.draw(st.integers(1, 3))
    agree(lambda x: F.pixel_shuffle(x, r), data.draw(shape(2, 5)) + (r * r * data.draw(size), 2, 3))
    nd = data.draw(st.sampled_from([1, 2, 3]))
    x = (data.draw(st.integers(1, 2)), data.draw(size), *[data.draw(st.integers(1, 5)) for _ in range(nd)])
    mode = data.draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"]))
    align = None if mode.startswith("nearest") else data.draw(st.booleans())
    if data.draw(st.booleans()):
        kw = {"size": data.draw(st.one_of(st.integers(1, 7), st.tuples(*[st.integers(1, 7)] * nd)))}
    else:
        kw = {"scale_factor": data.draw(st.sampled_from([0.5, 1.5, 2, 2.7, 3.0]))}
    agree(lambda x: F.interpolate(x, mode=mode, align_corners=align, **kw), x)


covers(F.pixel_shuffle, F.interpolate)


@SETTINGS
@given(st.data())
def test_normalization_activations_and_dropout(data):
    x = data.draw(shape(1, 4))
    c = x[1] if len(x) > 1 else 1
    train = data.draw(st.booleans())
    agree(lambda x, m, v, w, b: F.batch_norm(x, m, v, w, b, train), x, (c,), (c,), (c,), (c,))
    inplace = data.draw(st.booleans())
    agree(lambda x: F.relu(x, inplace=inplace), x)
    agree(lambda x: F.leaky_relu(x, 0.2), x)
    agree(lambda x: F.relu6(x, inplace=inplace), x)
    lo, hi = data.draw(st.sampled_from([(-1.0, 1.0), (0.0, 6.0), (2.0, -2.0)]))
    agree(lambda x: F.hardtanh(x, lo, hi), (x, data.draw(st.sampled_from(["float32", "int64", "bool"]))))
    agree(lambda x, w: F.prelu(x, w), x, (data.draw(st.sampled_from([1, c, c + 1])),))
    agree(F.sigmoid, x)
    agree(F.tanh, (x, "int64"))
    dim = data.draw(st.integers(-len(x) - 1, len(x)))
    for fn in (F.softmax, F.log_softmax, T.softmax, T.log_softmax):
        agree(lambda x: fn(x, dim), x)
    agree(lambda x: F.dropout(x, 0.5, train), x)
    agree(lambda x: F.dropout2d(x, 0.5, train), x)


covers(F.batch_norm, F.relu, F.relu6, F.hardtanh, F.leaky_relu, F.prelu, F.sigmoid, F.tanh, F.softmax, F.log_softmax, F.dropout,
       F.dropout2d, T.softmax, T.log_softmax, T.relu, T.sigmoid, T.tanh)


@SETTINGS
@given(st.data())
def test_pad(data):
    x = data.draw(shape(1, 5))
    n = data.draw(st.integers(1, min(3, len(x))))
    pads = tuple(data.draw(st.integers(-1, 3)) for _ in range(2 * n))
    mode = data.draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    agree(lambda x: F.pad(x, pads, mode=mode), x)


covers(F.pad)


# --------------------------------------------------------------------------- torch functions and methods


@SETTINGS
@given(st.data())
def test_elementwise_and_broadcasting(data):
    a, b = data.draw(shape(0, 4)), data.draw(shape(0, 4))
    da, db = data.draw(st.sampled_from(["float32", "float16", "int64", "bool"])), data.draw(
        st.sampled_from(["float32", "int32", "bool"]))
    for fn in (T.add, T.sub, T.mul, T.div, T.OPERATORS["truediv"], T.OPERATORS["floordiv"], T.OPERATORS["mod"],
               T.OPERATORS["pow"], T.OPERATORS["add"], T.OPERATORS["sub"], T.OPERATORS["mul"]):
        agree(fn, (a, da), (b, db))
        agree(lambda x: fn(x, 2), (a, da))
        agree(lambda x: fn(1.5, x), (a, da))
    for name in ("iadd", "isub", "imul", "itruediv", "ifloordiv", "imod", "ipow"):
        agree(T.OPERATORS[name], (a, da), (b, db))
    agree(T.OPERATORS["neg"], (a, da))
    agree(T.OPERATORS["pos"], (a, da))


covers(T.add, T.sub, T.mul, T.div, T.sigmoid, *(T.OPERATORS[k] for k in (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "neg", "pos", "iadd", "isub", "imul", "itruediv",
    "ifloordiv", "imod", "ipow")))


@SETTINGS
@given(st.data())
def test_matrix_products(data):
    a, b = data.draw(shape(1, 4, max_size=4)), data.draw(shape(1, 4, max_size=4))
    if data.draw(st.booleans()):  # make the inner dims fit, most of the time
        b = (*b[:-2], a[-1], b[-1]) if len(b) >= 2 else (a[-1],)
    for fn in (T.matmul, T.mm, T.OPERATORS["matmul"], T.OPERATORS["imatmul"]):
        agree(fn, a, b)


covers(T.matmul, T.mm, T.OPERATORS["matmul"], T.OPERATORS["imatmul"])


@SETTINGS
@given(st.data())
def test_reductions(data):
    x = data.draw(shape(0, 4))
    dim = data.draw(st.one_of(st.none(), st.integers(-4, 4), st.lists(st.integers(-4, 3), max_size=3).map(tuple)))
    keep = data.draw(st.booleans())
    dt = data.draw(st.sampled_from(["float32", "int64", "float16"]))
    agree(lambda x: T.sum_(x, dim, keep), (x, dt))
    agree(lambda x: T.mean(x, dim, keep), (x, dt))


covers(T.sum_, T.mean)


@SETTINGS
@given(st.data())
def test_reshapes(data):
    x = data.draw(shape(0, 4))
    n = int(np.prod(x))
    target = list(data.draw(shape(1, 3)))
    if data.draw(st.booleans()):
        target[data.draw(st.integers(0, len(target) - 1))] = -1
    if data.draw(st.booleans()) and n:
        target = [n] if data.draw(st.booleans()) else [-1, *x[1:]] if x else [-1]
    agree(lambda x: T.reshape(x, target), x)
    agree(lambda x: T.reshape_method(x, *target), x)
    agree(lambda x: T.view(x, target), x)
    d0, d1 = data.draw(st.integers(-3, 3)), data.draw(st.integers(-3, 3))
    agree(lambda x: T.flatten(x, d0, d1), x)
    agree(lambda x: T.transpose(x, d0, d1), x)
    perm = data.draw(st.permutations(range(len(x)))) if data.draw(st.booleans()) else [0, 0]
    agree(lambda x: T.permute(x, perm), x)
    agree(lambda x: T.permute_method(x, *perm), x)
    agree(lambda x: T.unsqueeze(x, d0), x)
    squeeze_dim = None if data.draw(st.booleans()) else d0
    agree(lambda x: T.squeeze(x, squeeze_dim), data.draw(shape(0, 4, max_size=2)))
    agree(T.t, x)
    for fn in (T.contiguous, T.clone, T.float_, T.double, T.half, T.size, T.dim_, T.numel):
        agree(fn, x)
    agree(lambda x: T.size(x, d0), x)


covers(T.reshape, T.reshape_method, T.view, T.flatten, T.transpose, T.permute, T.permute_method, T.unsqueeze,
       T.squeeze, T.t, T.contiguous, T.clone, T.float_, T.double, T.half, T.size, T.dim_, T.numel)


@SETTINGS
@given(st.data())
def test_joins(data):
    base = data.draw(shape(1, 4))
    others = [tuple(s + data.draw(st.sampled_from([0, 0, 0, 1])) for s in base) for _ in range(data.draw(size))]
    dim = data.draw(st.integers(-len(base) - 1, len(base)))
    dts = [data.draw(st.sampled_from(["float32", "int64"])) for _ in others]
    specs = [(base, "float32"), *zip(others, dts)]
    agree(lambda *ts: T.cat(list(ts), dim), *specs)
    agree(lambda *ts: T.stack(ts, dim), *specs)


covers(T.cat, T.stack)


index_item = st.one_of(
    st.integers(-6, 5), st.none(), st.just(Ellipsis), st.booleans(),
    st.builds(slice, st.one_of(st.none(), st.integers(-6, 6)), st.one_of(st.none(), st.integers(-6, 6)),
              st.one_of(st.none(), st.integers(1, 3))),
    st.lists(st.integers(-3, 2), max_size=3),
    st.lists(st.booleans(), min_size=1, max_size=4),  # a mask whose values are known (a list in the forward)
)


@SETTINGS
@given(st.data())
def test_indexing_and_unpacking(data):
    x = data.draw(shape(0, 4))
    index = tuple(data.draw(st.lists(index_item, max_size=4)))
    agree(lambda x: T.OPERATORS["getitem"](x, index), x)
    n = data.draw(st.integers(1, 3))
    agree(lambda x: T.OPERATORS["unpack"](x, n), x)


covers(T.OPERATORS["getitem"], T.OPERATORS["unpack"])


def test_every_op_a_forward_can_call_is_covered():
    for path in sorted(Path(__file__).parent.glob("test_shape_rules_*.py")):  # the families' files
        importlib.import_module(path.stem)
    registered = {id(f): name for name, f in {**T.FUNCTIONS, **T.METHODS, **T.OPERATORS}.items()}
    missing = sorted(name for key, name in registered.items() if key not in {id(f) for f in COVERED})
    assert not missing


def test_a_boolean_mask_on_a_shape_only_array_is_data_dependent():
    from nnspec.runtime.meta import DataDependentError

    x = MetaArray((3, 4))
    with pytest.raises(DataDependentError, match="depends on the mask's values"):
        T.OPERATORS["getitem"](x, x > 0)


@pytest.mark.parametrize("index", [([1], 1), (0, None, [False]), (0, 1, [False]), ([0, 0], [0, 0, 0]),
                                   (Ellipsis, [True, False], None)], ids=repr)
def test_indexing_found_by_the_fuzzer(index):
    """Ints beside index arrays are index arrays; masks, int bounds, broadcasting and array bounds fail in
    NumPy's order."""
    agree(lambda x: T.OPERATORS["getitem"](x, index), (1, 1, 2))
    agree(lambda x: T.OPERATORS["getitem"](x, index), (2, 2))


def test_pad_that_crops_below_zero_is_refused():
    outcome = agree(lambda x: F.pad(x, (-1, -1)), (1,))
    assert outcome[0] == "error" and "length must be non-negative" in outcome[2]
    assert agree(lambda x: F.pad(x, (-2, -1)), (2, 3)) == ("ok", ((2, 0), "float32"))
