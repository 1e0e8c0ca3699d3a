"""Numerics of the convolution family's kernels: 1-3-d convolution and transposed convolution (groups,
dilation, stride, padding, output_padding, unbatched input, float16/32/64), and F.pad's modes in 1-3 dims.

Torch-free: a loop reference written from the definition (each input element scatters its kernel into the
output) for the transposed convolution. With torch: a random sweep against torch.nn.functional.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nnspec.errors import NNSpecError
from nnspec.runtime import functional as F


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(sum(map(ord, name)))


def _conv_transpose_loop(x, w, b, stride, padding, output_padding, groups, dilation):
    """out[n, g*cg + o, s*i + d*k - p] += x[n, g*ci + c, i] * w[g*ci + c, o, k], over every index; the output
    has (S-1)*s - 2p + d*(K-1) + output_padding + 1 elements per dim."""
    nd = w.ndim - 2
    n, cin = x.shape[:2]
    cg = w.shape[1]
    ci = cin // groups
    out = [(x.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (w.shape[2 + i] - 1)
           + output_padding[i] + 1 for i in range(nd)]
    y = np.zeros((n, cg * groups, *out), np.float64)
    for c_in in range(cin):
        g = c_in // ci
        for i in itertools.product(*(range(s) for s in x.shape[2:])):
            for k in itertools.product(*(range(s) for s in w.shape[2:])):
                o = [i[d] * stride[d] + k[d] * dilation[d] - padding[d] for d in range(nd)]
                if all(0 <= o[d] < out[d] for d in range(nd)):
                    y[(slice(None), slice(g * cg, (g + 1) * cg), *o)] += \
                        x[(slice(None), c_in, *i)][:, None] * w[(c_in, slice(None), *k)][None]
    if b is not None:
        y += b.reshape((1, -1) + (1,) * nd)
    return y


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_transpose_against_a_loop_reference(nd):
    rng = _rng(f"convt{nd}")
    fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[nd - 1]
    for _ in range(12 if nd < 3 else 6):
        groups = int(rng.choice([1, 2]))
        cin, cout = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
        k = tuple(int(v) for v in rng.integers(1, 4, nd))
        stride = tuple(int(v) for v in rng.integers(1, 4, nd))
        dilation = tuple(int(v) for v in rng.integers(1, 3, nd))
        padding = tuple(int(rng.integers(0, d * (kk - 1) // 2 + 1)) for d, kk in zip(dilation, k))  # outputs >= 1
        output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
        x = rng.standard_normal((2, cin, *rng.integers(1, 5, nd))).astype(np.float64)
        w = rng.standard_normal((cin, cout // groups, *k))
        b = rng.standard_normal(cout) if rng.random() < 0.5 else None
        want = _conv_transpose_loop(x, w, b, stride, padding, output_padding, groups, dilation)
        got = fn(x, w, b, stride, padding, output_padding, groups, dilation)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_conv_transpose3d_float16_computes_in_float32():
    rng = _rng("half")
    x, w = rng.standard_normal((1, 4, 3, 3, 3)), rng.standard_normal((4, 2, 2, 2, 2))
    got = F.conv_transpose3d(x.astype(np.float16), w.astype(np.float16), stride=2)
    want = _conv_transpose_loop(x.astype(np.float16).astype(np.float64), w.astype(np.float16).astype(np.float64),
                                None, (2,) * 3, (0,) * 3, (0,) * 3, 1, (1,) * 3)
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, want.astype(np.float32).astype(np.float16))


# --------------------------------------------------------------------------- against torch


def _outcome(fn):
    try:
        return fn()
    except NNSpecError as e:
        return e
    except RuntimeError as e:  # torch's
        return e


@pytest.mark.torch
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_and_conv_transpose_match_torch(nd):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = _rng(f"sweep{nd}")
    ops = [(F.conv1d, F.conv2d, F.conv3d)[nd - 1], (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[nd - 1]]
    theirs = [(tf.conv1d, tf.conv2d, tf.conv3d)[nd - 1],
              (tf.conv_transpose1d, tf.conv_transpose2d, tf.conv_transpose3d)[nd - 1]]
    for trial in range(60):
        groups = int(rng.choice([1, 2, 3]))
        cin, cout = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
        k = tuple(int(v) for v in rng.integers(1, 4, nd))
        stride = tuple(int(v) for v in rng.integers(1, 4, nd))
        dilation = tuple(int(v) for v in rng.integers(1, 3, nd))
        padding = tuple(int(v) for v in rng.integers(0, 3, nd))
        output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
        dtype = rng.choice(["float32", "float64", "float16"], p=[0.6, 0.3, 0.1])
        batch = (2,) if rng.random() < 0.7 else ()
        x = rng.standard_normal(batch + (cin, *rng.integers(1, 6, nd))).astype(dtype)
        b = rng.standard_normal(cout).astype(dtype) if rng.random() < 0.5 else None
        tol = 2e-2 if dtype == "float16" else 1e-4
        transposed = trial % 2
        w = rng.standard_normal((cin, cout // groups, *k) if transposed else (cout, cin // groups, *k)).astype(dtype)
        if transposed:
            args = (stride, padding, output_padding, groups, dilation)
        else:
            same = rng.random() < 0.2
            args = (1 if same else stride, "same" if same else padding, dilation, groups)
        t = lambda a: None if a is None else torch.from_numpy(a)  # noqa: E731
        want = _outcome(lambda: theirs[transposed](t(x), t(w), t(b), *args).numpy())
        got = _outcome(lambda: ops[transposed](x, w, b, *args))
        where = f"{'transposed ' if transposed else ''}{x.shape} {w.shape} {args} {dtype}"
        if isinstance(want, Exception):
            assert isinstance(got, NNSpecError), f"{where}: torch raised {want!r}, nnspec gave {got!r}"
            continue
        if isinstance(got, NNSpecError) and transposed and 0 in want.shape:
            continue  # an empty output: torch's kernels disagree on it, nnspec refuses it (see _conv_transpose)
        assert not isinstance(got, Exception), f"{where}: nnspec raised {got!r}"
        assert got.dtype == want.dtype and got.shape == want.shape, where
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=where)


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_matches_torch(mode):
    """1-3 padded dims of inputs of 1-5 dims, crops (negative pads) in every mode: constant and circular crop
    first, reflect and replicate crop what they padded; bool input, which torch's reflection and replication
    pads refuse."""
    torch = pytest.importorskip("torch")
    rng = _rng(f"pad{mode}")
    for i in range(300):
        nd = int(rng.integers(1, 4))
        shape = tuple(int(v) for v in rng.integers(0 if rng.random() < 0.1 else 1, 5, int(rng.integers(nd, nd + 3))))
        pad = [int(v) for v in rng.integers(-3 if i % 2 else 0, 5, 2 * nd)]
        x = rng.standard_normal(shape).astype(np.float32)
        if i % 10 == 0:
            x = x > 0
        kwargs = {"value": 1.5} if mode == "constant" else {}
        want = _outcome(lambda: torch.nn.functional.pad(torch.from_numpy(x), pad, mode, **kwargs).numpy())
        got = _outcome(lambda: F.pad(x, pad, mode, **kwargs))
        where = f"{shape} {pad} {mode}"
        if isinstance(want, Exception):
            assert isinstance(got, NNSpecError), f"{where}: torch raised {want!r}, nnspec gave {got!r}"
            continue
        if mode == "circular" and isinstance(got, NNSpecError):
            # torch crops, then wraps what is left around: a pad past that reads memory it never wrote
            pairs = list(zip(pad[::2], pad[1::2]))[::-1]
            kept = [s + min(a, 0) + min(b, 0) for s, (a, b) in zip(shape[len(shape) - nd:], pairs)]
            assert any(max(a, b) > k for k, (a, b) in zip(kept, pairs)), f"{where}: nnspec raised {got!r}"
            continue
        assert not isinstance(got, Exception), f"{where}: nnspec raised {got!r}"
        assert got.dtype == want.dtype and got.shape == want.shape, where
        np.testing.assert_array_equal(got, want, err_msg=where)
        assert not np.shares_memory(got, x) or mode == "constant", f"{where}: a view of the input"


def test_an_output_padding_past_the_stride_is_refused_by_the_call_not_the_build():
    """torch builds ConvTranspose with any output_padding; a call without output_size refuses it (the one
    with output_size computes its own: the parity case convt2d_output_size_over_output_padding)."""
    import nnspec

    model = {"ConvTranspose1d": [2, 3, 2], "output_padding": 1}
    layer = nnspec.from_dict(model)
    assert repr(layer) == "ConvTranspose1d(2, 3, kernel_size=(2,), stride=(1,), output_padding=(1,))"
    x = np.ones((1, 2, 4), np.float32)
    with pytest.raises(NNSpecError, match="output padding must be smaller than either stride or dilation"):
        layer(x)
    with pytest.raises(NNSpecError, match="output padding must be smaller than either stride or dilation"):
        nnspec.infer(nnspec.from_dict(model, meta=True), [x.shape])
    assert layer(x, output_size=[5]).shape == (1, 3, 5)
