"""The channels-last convolution methods (im2col, Winograd F(2x2) and F(4x4), depthwise) against the float64
loop reference, from NCHW and channels-last inputs, into given arrays, with the epilogue told where each
part lies; and the rules that choose them."""

from __future__ import annotations

import numpy as np
import pytest

from nnspec.runtime.kernels import conv_nhwc as K
from nnspec.runtime.kernels import parallel
from nnspec.runtime.kernels.window import empty_as, is_channels_last
from test_conv_methods import reference

# how far each method may be from the exact result, as a fraction of the output's largest magnitude
# (float32): im2col and depthwise round like the NCHW kernels; Winograd's transforms (entries up to 8 and
# 1/24 for F(4x4)) lose about 10x more (measured at most 1.7e-5 for 3x3 layers of up to 512 channels)
TOLERANCE = {"im2col": 1e-5, "depthwise": 1e-5, "winograd2": 1e-5, "winograd4": 1e-4}
FLOAT16 = 2e-2

CASES = [  # (input shape, weight shape, stride, dilation, pads ((top, bottom), (left, right)))
    ((2, 5, 11, 13), (7, 5, 3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),
    ((3, 4, 9, 10), (6, 4, 3, 3), (1, 1), (1, 1), ((0, 2), (1, 0))),  # uneven pads, sizes not whole tiles
    ((2, 16, 8, 8), (16, 16, 3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),  # whole 4x4 tiles
    ((1, 3, 5, 4), (2, 3, 3, 3), (1, 1), (1, 1), ((0, 0), (0, 0))),  # outputs smaller than a tile
    ((2, 4, 12, 11), (5, 4, 3, 2), (2, 1), (1, 2), ((1, 0), (2, 2))),
    ((2, 3, 16, 16), (8, 3, 7, 7), (2, 2), (1, 1), ((3, 3), (3, 3))),  # a ResNet stem
    ((3, 6, 7, 7), (4, 6, 1, 1), (1, 1), (1, 1), ((0, 0), (0, 0))),  # 1x1: the input is its columns
    ((3, 6, 7, 7), (4, 6, 1, 1), (2, 2), (1, 1), ((0, 0), (0, 0))),
    ((2, 8, 10, 9), (8, 1, 3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),  # depthwise
    ((2, 8, 10, 9), (8, 1, 3, 3), (2, 2), (2, 1), ((2, 1), (1, 1))),
    ((2, 4, 9, 9), (4, 1, 5, 5), (1, 1), (1, 1), ((2, 2), (2, 2))),
    ((2, 1, 12, 11), (4, 1, 5, 5), (1, 1), (1, 1), ((0, 0), (0, 0))),  # one channel, nothing to pad: read as it lies
    ((2, 1, 10, 10), (3, 1, 3, 3), (1, 1), (1, 1), ((0, 0), (0, 0))),
]


def _ids(case):
    return f"{case[0]}-{case[1]}-s{case[2]}-d{case[3]}-p{case[4]}"


def _methods(case):
    shape, wshape, stride, dilation, _ = case
    groups = shape[1] if wshape[1] == 1 and shape[1] > 1 else 1
    return [m for m in K.METHODS if K.applicable(m, wshape, stride, dilation, groups)]


PARAMS = [(case, m) for case in CASES for m in _methods(case)]


@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
@pytest.mark.parametrize("case,method", PARAMS, ids=[f"{_ids(c)}-{m}" for c, m in PARAMS])
def test_every_method_matches_the_loop_reference(case, method, dtype, layout):
    shape, wshape, stride, dilation, pads = case
    rng = np.random.default_rng(sum(shape) + sum(wshape))
    x = rng.standard_normal(shape).astype(dtype)
    if layout == "channels_last":
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    w = (rng.standard_normal(wshape) / np.sqrt(np.prod(wshape[1:]))).astype(dtype)
    b = rng.standard_normal(wshape[0]).astype(dtype)
    groups = shape[1] if method == "depthwise" else 1
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0)) + pads)
    want = reference(padded, w, b, stride, dilation, groups)
    got = K.conv2d(x, K.prepare(w, method), method, b, wshape[2:], stride, dilation, pads)
    assert got.shape == want.shape and got.dtype == np.dtype(dtype)
    assert is_channels_last(got) or got.shape[1] == 1 or got.shape[2] * got.shape[3] == 1
    scale = np.abs(want).max()
    tol = FLOAT16 if dtype == "float16" else TOLERANCE[method] if dtype == "float32" else 1e-12
    assert np.abs(got - want).max() <= tol * scale, (np.abs(got - want).max() / scale, tol)


@pytest.mark.parametrize("case,method", PARAMS, ids=[f"{_ids(c)}-{m}" for c, m in PARAMS])
def test_into_a_given_array_with_the_epilogue_told_where_each_part_lies(case, method, monkeypatch):
    """Working in small parts (one image, a few rows): each part's epilogue gets the index of that part in
    the whole output, so a residual read there lines up; the result is the same as in one part."""
    shape, wshape, stride, dilation, pads = case
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(wshape).astype(np.float32)
    prepared = K.prepare(w, method)
    whole = K.conv2d(x, prepared, method, None, wshape[2:], stride, dilation, pads)
    residual = rng.standard_normal(whole.shape).astype(np.float32)
    monkeypatch.setattr(K, "CHUNK_BYTES", 1)
    monkeypatch.setattr(K, "ROW_BYTES", 1)
    monkeypatch.setattr(K, "DEPTHWISE_BLOCK_BYTES", 1)
    seen = []

    def epilogue(part, index):
        seen.append(index)
        part += residual[index]
        np.maximum(part, 0, out=part)

    n, o, ho, wo = whole.shape
    out = np.full((n, ho, wo, o), np.nan, np.float32)
    taken = []

    def scratch(s, dt):
        taken.append(np.full(s, np.nan, dt))  # garbage in every working array: nothing may rely on zeros
        return taken[-1]

    got = K.conv2d(x, prepared, method, None, wshape[2:], stride, dilation, pads, out=out, scratch=scratch,
                   epilogue=epilogue)
    assert np.shares_memory(got, out) and got.shape == whole.shape
    np.testing.assert_allclose(got, np.maximum(whole + residual, 0), rtol=1e-5, atol=1e-5)
    # in parts: images, or rows (Winograd works on whole images, a depthwise einsum over every window on
    # the whole batch)
    at_once = (n == 1 and method.startswith("winograd")) or (method == "depthwise" and stride[1] > 1)
    assert len(seen) > 1 or ho == 1 or at_once
    covered = np.zeros(whole.shape, bool)
    for index in seen:
        assert not covered[index].any()
        covered[index] = True
    assert covered.all()


DEPTHWISE = [c for c in CASES if c[1][1] == 1 and c[0][1] > 1]


@pytest.mark.parametrize("by_rows", [True, False], ids=["rows", "windows"])
@pytest.mark.parametrize("case", DEPTHWISE, ids=[_ids(c) for c in DEPTHWISE])
def test_both_depthwise_paths_match_the_loop_reference(case, by_rows, monkeypatch):
    """One einsum per block of rows over the views of whole input rows (no stride along W), or one einsum
    over a view of every window (a stride along W): each for every depthwise case it can take."""
    if by_rows and case[2][1] > 1:
        pytest.skip("a stride along W is never read by rows")
    if not by_rows:
        monkeypatch.setattr(K, "_by_rows", lambda *a: False)
    shape, wshape, stride, dilation, pads = case
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(wshape).astype(np.float32)
    want = reference(np.pad(x.astype(np.float64), ((0, 0), (0, 0)) + pads), w, None, stride, dilation, shape[1])
    got = K.conv2d(x, K.prepare(w, "depthwise"), "depthwise", None, wshape[2:], stride, dilation, pads)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


IM2COL = [c for c in CASES if c[1][1] > 1 or c[0][1] == 1]


@pytest.mark.parametrize("planar", [True, False], ids=["planar", "channels_last"])
@pytest.mark.parametrize("case", IM2COL, ids=[_ids(c) for c in IM2COL])
def test_both_im2col_paths_match_the_loop_reference(case, planar, monkeypatch):
    """An NCHW input whose window has few values is gathered into columns as it lies (zero where a window
    leaves the input, in row blocks of one image too); a larger one is made channels-last first. Each
    path, forced, for every im2col case, the other path's copy made to fail."""
    monkeypatch.setattr(K, "PLANAR_K", 1 << 30 if planar else 0)
    if planar:
        monkeypatch.setattr(K, "_padded_nhwc", lambda *a: pytest.fail("made channels-last"))
    else:
        monkeypatch.setattr(K, "_im2col_planar", lambda *a: pytest.fail("gathered as it lies"))
    shape, wshape, stride, dilation, pads = case
    rng = np.random.default_rng(13)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(wshape).astype(np.float32)
    b = rng.standard_normal(wshape[0]).astype(np.float32)
    want = reference(np.pad(x.astype(np.float64), ((0, 0), (0, 0)) + pads), w, b, stride, dilation, 1)
    for row_bytes in (K.ROW_BYTES, 1):  # whole images, then one output row at a time
        monkeypatch.setattr(K, "ROW_BYTES", row_bytes)
        monkeypatch.setattr(K, "CHUNK_BYTES", row_bytes)
        got = K.conv2d(x, K.prepare(w, "im2col"), "im2col", b, wshape[2:], stride, dilation, pads)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_a_small_nchw_input_is_gathered_as_it_lies_and_a_channels_last_one_is_not(monkeypatch):
    """The choice between the paths: MobileNetV2's 3-channel 3x3 stem (27 values a window) from an NCHW
    input is gathered as it lies; ResNet's 7x7 (147) and a channels-last input are not."""
    seen = []
    monkeypatch.setattr(K, "_im2col_planar", lambda *a: seen.append("planar"))
    monkeypatch.setattr(K, "_im2col", lambda *a: seen.append("channels_last"))
    x = np.zeros((1, 3, 16, 16), np.float32)
    for shape, layout in (((8, 3, 3, 3), "nchw"), ((8, 3, 7, 7), "nchw"), ((8, 3, 3, 3), "channels_last")):
        xi = x if layout == "nchw" else np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
        w = np.zeros(shape, np.float32)
        K.conv2d(xi, K.prepare(w, "im2col"), "im2col", None, shape[2:], (2, 2), (1, 1), ((1, 1), (1, 1)))
    assert seen == ["planar", "channels_last", "channels_last"]


def test_the_winograd_weights_are_made_in_blocks_as_in_one_go():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((150, 3, 3, 3))  # three blocks of output channels
    for method, m in (("winograd2", 2), ("winograd4", 4)):
        _, g, _ = K._winograd_matrices(m)
        whole = (g @ w @ g.T).reshape(150, 3, -1).transpose(2, 1, 0)
        np.testing.assert_allclose(K.prepare(w, method), whole, rtol=1e-12)
        assert K.prepare(w.astype(np.float16), method).dtype == np.float32  # float16 computes in float32


def test_the_rules_choose_by_shape_memory_and_exactness():
    three = (64, 64, 3, 3)
    assert K.choose(three, (1, 1), (1, 1), 1, (56, 56)) == "winograd4"
    assert K.choose(three, (1, 1), (1, 1), 1, (56, 56), exact=True) == "im2col"  # exact: never Winograd
    assert K.choose(three, (1, 1), (1, 1), 1, (3, 3)) == "winograd2"  # smaller than a 4x4 tile
    assert K.choose(three, (2, 2), (1, 1), 1, (28, 28)) == "im2col"
    assert K.choose((64, 8, 3, 3), (1, 1), (1, 1), 1, (56, 56)) == "im2col"  # too few channels to pay
    # transformed weights over WINOGRAD_WEIGHT_BYTES: F(2x2)'s smaller ones, then im2col
    assert K.choose((256, 256, 3, 3), (1, 1), (1, 1), 1, (14, 14)) == "winograd2"
    assert K.choose((512, 512, 3, 3), (1, 1), (1, 1), 1, (7, 7)) == "im2col"
    assert K.choose((32, 1, 3, 3), (2, 2), (1, 1), 32, (56, 56)) == "depthwise"
    assert K.choose((32, 2, 3, 3), (1, 1), (1, 1), 16, (56, 56)) is None  # other groups: the NCHW kernels
    assert K.choose((64, 1, 3, 3), (1, 1), (1, 1), 32, (56, 56)) is None  # two outputs per channel


def test_layouts_are_recognised_and_kept():
    x = np.zeros((2, 3, 4, 5), np.float32)
    cl = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    assert not is_channels_last(x) and is_channels_last(cl)
    assert not is_channels_last(np.zeros((2, 1, 4, 5)).transpose(0, 1, 2, 3))  # C-contiguous as well
    made = empty_as(cl, (2, 6, 2, 2), np.float64)
    assert made.shape == (2, 6, 2, 2) and is_channels_last(made) and made.dtype == np.float64
    assert empty_as(x, (2, 6, 2, 2), np.float32).flags.c_contiguous


def test_single_threaded_blas_nests_and_restores_the_thread_count():
    libs = parallel.single_threaded_blas.libs()
    if not libs:
        pytest.skip("no BLAS library found by threadpoolctl")
    before = [lib.get_num_threads() for lib in libs]
    with parallel.single_threaded_blas:
        with parallel.single_threaded_blas:
            assert parallel.single_threaded_blas.active
            assert all(lib.get_num_threads() == 1 for lib in libs)
        assert all(lib.get_num_threads() == 1 for lib in libs)
    assert not parallel.single_threaded_blas.active
    assert [lib.get_num_threads() for lib in libs] == before


@pytest.mark.parametrize("shape", [(300, 200, 90), (3, 400, 700), (1, 2, 3)])
def test_split_matmul_is_the_matmul(shape, monkeypatch):
    monkeypatch.setattr(parallel, "threads", lambda: 2)
    m, k, n = shape
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    out = np.empty((m, n))
    with parallel.single_threaded_blas:
        got = parallel.split_matmul(a, b, out)
    assert got is out
    np.testing.assert_allclose(out, a @ b, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- separable: 1x1, depthwise, 1x1

SEPARABLE = [  # (input shape, expanded channels, output channels or None, kernel, stride, dilation, pads)
    ((2, 4, 12, 11), 12, 5, (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),  # an inverted residual
    ((2, 4, 12, 12), 12, 6, (3, 3), (2, 2), (1, 1), ((1, 1), (1, 1))),  # stride 2
    ((1, 3, 9, 10), 9, 3, (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),  # one image: its rows on threads
    ((2, 5, 10, 9), 10, 4, (5, 5), (1, 2), (2, 1), ((3, 1), (0, 2))),  # dilated, uneven pads, W stride
    ((2, 4, 9, 9), 8, 4, (3, 3), (1, 1), (1, 1), ((0, 0), (0, 0))),  # no padding
    ((2, 4, 9, 12), 8, 4, (3, 3), (2, 2), (1, 1), ((0, 0), (0, 0))),  # the last input column read by no window
    ((2, 4, 8, 8), 8, 4, (3, 3), (1, 1), (1, 1), ((4, 4), (1, 1))),  # blocks wholly inside the padding
    ((2, 6, 9, 8), None, 5, (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),  # no expand (MobileNetV2's first)
    ((2, 4, 9, 8), 8, None, (3, 3), (2, 2), (1, 1), ((1, 1), (1, 1))),  # no project (a squeeze-excite next)
]


def _relu6(a):
    np.clip(a, 0, 6, out=a)


def _separately(x, w1, b1, wd, bd, w2, b2, kernel, stride, dilation, pads, residual):
    """The same layers one after the other, through conv2d and the epilogue as a plan runs them."""
    e = x if w1 is None else K.conv2d(x, K.prepare(w1, "im2col"), "im2col", b1, (1, 1), (1, 1), (1, 1),
                                      ((0, 0), (0, 0)), epilogue=lambda part, i: _relu6(part))
    d = K.conv2d(e, K.prepare(wd, "depthwise"), "depthwise", bd, kernel, stride, dilation, pads,
                 epilogue=lambda part, i: _relu6(part))
    if w2 is None:
        return d
    return K.conv2d(d, K.prepare(w2, "im2col"), "im2col", b2, (1, 1), (1, 1), (1, 1), ((0, 0), (0, 0)),
                    epilogue=None if residual is None else lambda part, i: part.__iadd__(residual[i]))


@pytest.mark.parametrize("block", [1 << 20, 1], ids=["whole", "row_by_row"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", SEPARABLE, ids=[f"{c[0]}-{c[1]}-{c[2]}-k{c[3]}-s{c[4]}-d{c[5]}-p{c[6]}"
                                                 for c in SEPARABLE])
def test_separable_is_the_three_layers_one_after_the_other(case, dtype, block, monkeypatch):
    """The fused kernel against expand, depthwise and project run as three conv2d calls, in blocks of
    rows or whole images, a residual added where the output has the input's shape; scratch arrays come
    full of NaN (nothing may rely on zeros) and the output lands in the array given."""
    monkeypatch.setattr(K, "SEPARABLE_BLOCK_BYTES", block)
    shape, ce, co, kernel, stride, dilation, pads = case
    rng = np.random.default_rng(sum(shape))
    n, cin, h, w = shape
    ce = ce or cin
    x = np.ascontiguousarray(rng.standard_normal((n, h, w, cin)).astype(dtype)).transpose(0, 3, 1, 2)
    w1 = None if ce == cin and case[1] is None else rng.standard_normal((ce, cin, 1, 1)).astype(dtype) / 2
    wd = rng.standard_normal((ce, 1) + kernel).astype(dtype) / 3
    w2 = None if co is None else rng.standard_normal((co, ce, 1, 1)).astype(dtype) / 3
    b1, bd = rng.standard_normal(ce).astype(dtype), rng.standard_normal(ce).astype(dtype)
    b2 = None if co is None else rng.standard_normal(co).astype(dtype)
    want_shape = _separately(x, w1, b1, wd, bd, w2, b2, kernel, stride, dilation, pads, None).shape
    residual = rng.standard_normal(want_shape).astype(dtype) if co is not None and want_shape[1:] == shape[1:] \
        else None
    want = _separately(x, w1, b1, wd, bd, w2, b2, kernel, stride, dilation, pads, residual)
    out = np.full((n,) + want.shape[2:] + (want.shape[1],), np.nan, dtype)
    got = K.separable(
        x, (K.prepare(wd, "depthwise"), bd, _relu6, stride, dilation, pads),
        expand=None if w1 is None else (K.prepare(w1, "im2col"), b1, _relu6),
        project=None if w2 is None else (K.prepare(w2, "im2col"), b2, None),
        residual=residual, out=out, scratch=lambda s, dt: np.full(s, np.nan, dt))
    assert np.shares_memory(got, out) and got.shape == want.shape and is_channels_last(got)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


def _clamp(a):  # an activation that does not keep zero at zero: the expand cannot run through the padding
    np.clip(a, 0.5, 2.0, out=a)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("act", [_relu6, _clamp, None], ids=["relu6", "clamp", "none"])
@pytest.mark.parametrize("finite", [True, False])
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf * 0 in the matmuls
def test_separable_expand_with_any_activation(act, bias, finite):
    """The expand writes straight into the padded block (its bias one more input column) where its
    activation keeps zero at zero and its weights are finite, and through its own buffer where not: the
    same result either way, the padding zero whatever the activation makes of zero (an inf weight: inf
    and NaN where the layers one after the other give them, not in the padding)."""
    rng = np.random.default_rng(5)
    x = np.ascontiguousarray(rng.standard_normal((3, 7, 9, 4)).astype(np.float32)).transpose(0, 3, 1, 2)
    w1, wd, w2 = (rng.standard_normal(s).astype(np.float32) / 2 for s in ((12, 4, 1, 1), (12, 1, 3, 3), (5, 12, 1, 1)))
    if not finite:
        w1[3, 1] = np.inf
    b1 = rng.standard_normal(12).astype(np.float32) if bias else None
    pads = ((1, 1), (1, 1))
    e = K.conv2d(x, K.prepare(w1, "im2col"), "im2col", b1, (1, 1), (1, 1), (1, 1), ((0, 0), (0, 0)),
                 epilogue=None if act is None else lambda part, i: act(part))
    d = K.conv2d(e, K.prepare(wd, "depthwise"), "depthwise", None, (3, 3), (2, 2), (1, 1), pads)
    want = K.conv2d(d, K.prepare(w2, "im2col"), "im2col", None, (1, 1), (1, 1), (1, 1), ((0, 0), (0, 0)))
    got = K.separable(x, (K.prepare(wd, "depthwise"), None, None, (2, 2), (1, 1), pads),
                      expand=(K.prepare(w1, "im2col"), b1, act), project=(K.prepare(w2, "im2col"), None, None),
                      scratch=lambda s, dt: np.full(s, np.nan, dt))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


@pytest.mark.parametrize("n,ho,most_rows,most_images,k", [
    (8, 56, 11, 0, 2), (8, 7, 7, 3, 2), (8, 7, 7, 8, 2), (1, 7, 7, 8, 2), (3, 7, 7, 8, 2), (8, 112, 200, 0, 2),
    (5, 30, 4, 0, 3), (16, 14, 14, 5, 4), (2, 1, 1, 1, 2), (0, 7, 7, 3, 2), (0, 56, 11, 0, 2)])
def test_separable_blocks_are_as_even_as_they_come(n, ho, most_rows, most_images, k):
    images, rows, blocks = K._separable_blocks(n, ho, most_rows, most_images, k)
    if n == 0:  # an empty batch: no blocks
        assert blocks == []
        return
    covered = [(i, r) for i0, i1, r0, r1 in blocks for i in range(i0, i1) for r in range(r0, r1)]
    assert sorted(covered) == [(i, r) for i in range(n) for r in range(ho)]  # each row of each image once
    sizes = [r1 - r0 for _, _, r0, r1 in blocks]
    assert max(sizes) <= max(1, min(ho, most_rows)) and max(sizes) - min(sizes) < len(set(sizes)) * ho
    per_image = -(-ho // max(1, min(ho, most_rows)))
    assert len({(r0, r1) for _, _, r0, r1 in blocks}) == per_image  # as few row blocks as the limit allows
    if per_image > 1:  # and as even: the last one short by less than one per block
        assert max(sizes) - min(sizes) < per_image and images == 1
    else:
        assert all(i1 - i0 <= max(1, most_images) for i0, i1, _, _ in blocks)
        if n % k == 0 and n >= k:  # every thread as many blocks of as many images
            assert len(blocks) % k == 0 and len({i1 - i0 for i0, i1, _, _ in blocks}) == 1


@pytest.mark.parametrize("size", [8, 2])  # whole images to a block, and blocks of rows
def test_separable_on_an_empty_batch(size, monkeypatch):
    monkeypatch.setattr(K, "SEPARABLE_BLOCK_BYTES", 1 << 20 if size == 8 else 1)
    rng = np.random.default_rng(6)
    w1, wd, w2 = (rng.standard_normal(s).astype(np.float32) for s in ((12, 4, 1, 1), (12, 1, 3, 3), (5, 12, 1, 1)))
    got = K.separable(np.zeros((0, 4, size, size), np.float32), (K.prepare(wd, "depthwise"), None, _relu6, (1, 1),
                      (1, 1), ((1, 1), (1, 1))), expand=(K.prepare(w1, "im2col"), None, _relu6),
                      project=(K.prepare(w2, "im2col"), None, None))
    assert got.shape == (0, 5, size, size)


def test_separable_memo_keeps_what_the_weights_give_until_they_change():
    """A plan's kernel passes ``memo``: the constants are made at the first call and kept while the same
    arrays come; new arrays (another bias) make them again, so the result follows the new weights."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 4, 6, 6)).astype(np.float32)
    w1, wd, w2 = (rng.standard_normal(s).astype(np.float32) for s in ((8, 4, 1, 1), (8, 1, 3, 3), (3, 8, 1, 1)))
    dw = (K.prepare(wd, "depthwise"), None, _relu6, (1, 1), (1, 1), ((1, 1), (1, 1)))
    project = (K.prepare(w2, "im2col"), None, None)
    memo: dict = {}
    w1 = K.prepare(w1, "im2col")

    def run(b1):
        return K.separable(x, dw, expand=(w1, b1, _relu6), project=project, memo=memo).copy()

    b1 = rng.standard_normal(8).astype(np.float32)
    first = run(b1)
    kept = memo["constants"]
    np.testing.assert_array_equal(run(b1), first)
    assert memo["constants"] is kept  # the same arrays: nothing made again
    other = run(b1 + 1)
    assert memo["constants"] is not kept
    np.testing.assert_allclose(other, K.separable(x, dw, expand=(w1, b1 + 1, _relu6), project=project), rtol=1e-6)
    assert not np.allclose(other, first)


def test_separable_reads_an_nchw_input_as_well():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 7, 6)).astype(np.float32)  # C-contiguous NCHW
    w1, wd, w2 = (rng.standard_normal(s).astype(np.float32) for s in ((8, 4, 1, 1), (8, 1, 3, 3), (4, 8, 1, 1)))
    pads = ((1, 1), (1, 1))
    want = _separately(x, w1, None, wd, None, w2, None, (3, 3), (1, 1), (1, 1), pads, None)
    got = K.separable(x, (K.prepare(wd, "depthwise"), None, _relu6, (1, 1), (1, 1), pads),
                      expand=(K.prepare(w1, "im2col"), None, _relu6), project=(K.prepare(w2, "im2col"), None, None))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
