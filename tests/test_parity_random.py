"""Live parity over random argument combinations (torch only; a fixed seed keeps it repeatable).

The hand-picked cases in cases.py pin torch's corner cases; these sweep the
argument space of the shape-changing layers to find the ones nobody picked.
"""

from __future__ import annotations

import numpy as np
import pytest

import nnspec

torch = pytest.importorskip("torch")

N = 40  # combinations per layer family; sized for a 2-core machine


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(sum(map(ord, name)))  # hash() is salted per process; this is not


def _compare(kwargs: dict, type_: str, shape: tuple, train: bool = False) -> bool:
    """True when both computed and agreed; False when both refused the input."""
    tm = getattr(torch.nn, type_)(**kwargs).train(train)
    m = nnspec.from_dict({"type": type_, **kwargs}).train(train)
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(len(shape)).standard_normal(shape).astype(np.float32)
    try:
        want = tm(torch.from_numpy(x))
        if any(s == 0 for s in (want[0] if isinstance(want, tuple) else want).shape):
            raise RuntimeError("empty output")  # nnspec refuses an empty output, as torch's native kernels do
    except RuntimeError:  # torch refuses this input: nnspec must refuse it too
        with pytest.raises(nnspec.NNSpecError):
            m(x)
        return False
    got = m(x)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    for g, w in zip(got, want):
        w = w.detach().numpy()
        assert g.shape == w.shape, (type_, kwargs, shape)
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4, err_msg=f"{type_} {kwargs} {shape}")
    return True


def _pick(rng, options):
    return options[rng.integers(len(options))]


@pytest.mark.parametrize("nd", [1, 2])
def test_conv(nd):
    rng = _rng(f"conv{nd}")
    compared = 0
    for _ in range(N):
        g = int(_pick(rng, [1, 1, 2, 3]))
        k = tuple(int(v) for v in rng.integers(1, 5, nd))
        d = tuple(int(v) for v in rng.integers(1, 3, nd))
        same = rng.random() < 0.2
        s = (1,) * nd if same else tuple(int(v) for v in rng.integers(1, 4, nd))
        p = "same" if same else tuple(int(v) for v in rng.integers(0, 3, nd))
        mode = str(_pick(rng, ["zeros", "zeros", "reflect", "replicate", "circular"]))
        kwargs = dict(in_channels=2 * g, out_channels=g * int(rng.integers(1, 3)), kernel_size=k, stride=s, padding=p,
                      dilation=d, groups=g, bias=bool(rng.random() < 0.7), padding_mode=mode)
        shape = (2, 2 * g) + tuple(int(v) for v in rng.integers(6, 14, nd))
        compared += _compare(kwargs, f"Conv{nd}d", shape)
    assert compared > N // 2


def test_conv_transpose1d():
    rng = _rng("convt")
    compared = 0
    for _ in range(N):
        g = int(_pick(rng, [1, 2]))
        s, d, k = (int(v) for v in rng.integers(1, 4, 3))
        kwargs = dict(in_channels=2 * g, out_channels=g * int(rng.integers(1, 3)), kernel_size=k, stride=s,
                      padding=int(rng.integers(0, 4)), output_padding=int(rng.integers(0, max(s, d))), groups=g,
                      bias=bool(rng.random() < 0.7), dilation=d)
        compared += _compare(kwargs, "ConvTranspose1d", (2, 2 * g, int(rng.integers(3, 12))))
    assert compared > N // 2


@pytest.mark.parametrize("nd", [1, 2])
def test_pools(nd):
    rng = _rng(f"pool{nd}")
    compared = 0
    for _ in range(N):
        k = tuple(int(v) for v in rng.integers(1, 5, nd))
        s = tuple(int(v) for v in rng.integers(1, 4, nd))
        p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
        ceil = bool(rng.random() < 0.5)
        shape = (2, 3) + tuple(int(v) for v in rng.integers(5, 12, nd))
        d = tuple(int(v) for v in rng.integers(1, 3, nd))
        pm = tuple(int(rng.integers(0, ((kk - 1) * dd + 1) // 2 + 1)) for kk, dd in zip(k, d))
        compared += _compare(dict(kernel_size=k, stride=s, padding=pm, dilation=d, ceil_mode=ceil,
                      return_indices=bool(rng.random() < 0.5)), f"MaxPool{nd}d", shape)
        avg = dict(kernel_size=k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=bool(rng.random() < 0.5))
        if nd == 2 and rng.random() < 0.3:
            avg["divisor_override"] = int(rng.integers(1, 5))
        compared += _compare(avg, f"AvgPool{nd}d", shape)
        out = tuple(int(v) for v in rng.integers(1, 9, nd))
        compared += _compare(dict(output_size=out), f"AdaptiveAvgPool{nd}d", shape)
    assert compared > N * 3 // 2


def test_upsample():
    rng = _rng("upsample")
    modes = {3: ["nearest", "nearest-exact", "linear"], 4: ["nearest", "nearest-exact", "bilinear", "bicubic"],
             5: ["nearest", "trilinear"]}
    compared = 0
    for _ in range(N):
        ndim = int(_pick(rng, [3, 4, 4, 5]))
        mode = str(_pick(rng, modes[ndim]))
        shape = (1, 2) + tuple(int(v) for v in rng.integers(2, 9, ndim - 2))
        kwargs = dict(mode=mode)
        if rng.random() < 0.5:
            kwargs["size"] = tuple(int(v) for v in rng.integers(1, 13, ndim - 2))
        else:
            kwargs["scale_factor"] = tuple(float(np.round(v, 2)) for v in rng.uniform(0.4, 3.0, ndim - 2))
            kwargs["recompute_scale_factor"] = bool(rng.random() < 0.3)
        if not mode.startswith("nearest"):
            kwargs["align_corners"] = bool(rng.random() < 0.5)
        compared += _compare(kwargs, "Upsample", shape)
    assert compared > N // 2
