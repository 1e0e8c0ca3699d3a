"""One parity check for golden and live suites: nnspec against a torch reference.

A reference is a dict of numpy arrays and strings, made by ``torch_reference``
(live torch) or read from ``tests/golden/<case>.npz`` (made by the same function).
"""

from __future__ import annotations

import json
import math
import zlib
from functools import partial
from pathlib import Path

import numpy as np

import nnspec
from nnspec.inputs import bind_call
from nnspec.runtime.backend import get_backend, to_numpy
from nnspec.spec import parse, read, validate

from cases import ROOT, Case

GOLDEN = Path(__file__).resolve().parent / "golden"
TOL = {"float32": dict(rtol=1e-4, atol=1e-4), "float64": dict(rtol=1e-9, atol=1e-9),
       "float16": dict(rtol=1e-2, atol=1e-2)}
MAX_GOLDEN_ELEMENTS = 100_000
# Winograd F(4x4, 3x3) in float32 may be this far from torch, as a fraction of the output's largest magnitude,
# beyond the usual tolerance (its transforms lose about 10x more than im2col: see conv_nhwc)
WINOGRAD4_TOLERANCE = 1e-4


def spec_of(case: Case):
    """(validated spec, parsed data, filename) for a case's model."""
    if isinstance(case.model, str):
        text, name = read(ROOT / case.model)
        data = parse(text, name)
    else:
        data, name = case.model, "<dict>"
    spec, _ = validate(data, name)
    return spec, data


def build_nnspec(case: Case) -> nnspec.Module:
    if isinstance(case.model, str):
        return nnspec.load(ROOT / case.model, seed=0)
    return nnspec.from_dict(case.model, seed=0)


def input_shapes(case: Case) -> list[tuple]:
    """The case's shapes, cut (batch to 2, then the largest spatial dim halved) where a seed-size
    input would bloat the fixtures; the full seed shapes are run by the CLI tests."""
    out = []
    for s in case.inputs:
        s = list(s)
        if math.prod(s) > MAX_GOLDEN_ELEMENTS and len(s) > 2:
            s[0] = min(s[0], 2)
            while math.prod(s) > MAX_GOLDEN_ELEMENTS:
                i = max(range(2, len(s)), key=lambda d: s[d])
                s[i] //= 2
        out.append(tuple(s))
    return out


def input_dtypes(case: Case) -> list[str | None]:
    """Each input's dtype where it is not the case's (int64 for the integer inputs), for static.infer."""
    return ["int64" if i in case.ints else None for i in range(len(case.inputs))]


def make_inputs(case: Case) -> list[np.ndarray]:
    rng = np.random.default_rng(zlib.crc32(case.id.encode()))
    return [rng.integers(0, case.ints[i], s, dtype=np.int64) if i in case.ints else rng.standard_normal(s).astype(case.dtype)
            for i, s in enumerate(input_shapes(case))]


def _np(t) -> np.ndarray:
    return t.detach().cpu().clone().numpy()  # a copy: in-place updates (running stats) must not reach it


def torch_reference(case: Case) -> dict:
    """Build the torch twin, randomise its state, run it: everything a parity test compares."""
    import torch
    from torch.nn.parameter import is_lazy

    import oracle

    spec, _ = spec_of(case)
    torch.manual_seed(0)
    m = oracle.build(spec)
    oracle.randomize_(m, zlib.crc32(case.id.encode()))
    m = m.to(oracle.DTYPES[case.dtype])
    m.train(case.train)
    ref = {
        "repr": np.array(repr(m)),
        "keys": np.array(list(m.state_dict().keys()), dtype=str),
        "named_modules": np.array([n for n, _ in m.named_modules()], dtype=str),
        "named_parameters": np.array([n for n, _ in m.named_parameters()], dtype=str),
    }
    state = {k: None if is_lazy(v) else _np(v) for k, v in m.state_dict().items()}
    # a lazy module makes its parameters in its first call: they are read as that call begins
    lazy = [(path, mod) for path, mod in m.named_modules() if any(is_lazy(p) for p in mod.parameters(False))]
    handles = [mod.register_forward_pre_hook(partial(_made, state, path)) for path, mod in lazy]
    if case.inputs:
        xs = make_inputs(case)
        for i, x in enumerate(xs):
            ref[f"input/{i}"] = x
        ref["named"] = np.array(json.dumps(case.named))
        with torch.no_grad():
            y = m(*[torch.from_numpy(x.copy()) for x in xs], **case.named)
        for i, v in enumerate(y if isinstance(y, tuple) else (y,)):
            ref[f"output/{i}"] = _np(v)
        for k, v in m.state_dict().items():
            ref[f"after/{k}"] = _np(v)
        if lazy:  # what the first call made of the lazy modules (LazyConv2d is then a Conv2d)
            ref["repr_after"] = np.array(repr(m))
    for h in handles:
        h.remove()
    for k, v in state.items():
        if v is not None:
            ref[f"state/{k}"] = v
    return ref


def _made(state: dict, path: str, module, args) -> None:
    """A forward pre-hook after torch's lazy one: the parameters the lazy module has just made."""
    for k, v in module.state_dict().items():
        state[f"{path}.{k}" if path else k] = _np(v)


def load_golden(case: Case) -> dict:
    with np.load(GOLDEN / f"{case.id}.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _prefixed(ref: dict, prefix: str) -> dict:
    items = [(k[len(prefix):], v) for k, v in ref.items() if k.startswith(prefix)]
    if prefix in ("input/", "output/"):
        items.sort(key=lambda kv: int(kv[0]))
    return dict(items)


def check(case: Case, ref: dict, passes: dict | None = None, device: str = "cpu", conv_method: str | None = None,
          dtype: str | None = None) -> None:
    """nnspec must match the reference: repr, keys, shapes, outputs, and state after the call.

    With ``passes`` (a dict of pass switches, {} for all on), the call goes through an execution
    plan (``nnspec.compile``) instead of the model's own forward, with ``conv_method`` forced on every
    convolution it applies to (``Plan.CONV_METHODS``; Winograd F(4x4) compared within
    WINOGRAD4_TOLERANCE). ``device`` runs it there ("cuda"), with the weights loaded on the host and moved,
    and the results brought back to compare. ``dtype`` runs a float32 case in that dtype instead, compared
    with its float32 reference within that dtype's tolerance."""
    m = build_nnspec(case)
    assert repr(m) == str(ref["repr"]), f"repr differs:\n{m!r}\n---\n{ref['repr']}"
    assert list(m.state_dict()) == list(ref["keys"])
    assert [n for n, _ in m.named_modules()] == list(ref["named_modules"])
    assert [n for n, _ in m.named_parameters()] == list(ref["named_parameters"])
    state = _prefixed(ref, "state/")
    xs = list(_prefixed(ref, "input/").values())
    named = json.loads(str(ref["named"])) if "named" in ref else {}
    assert named == case.named

    def run(arrays):
        if passes is None:
            args, kwargs = bind_call(m, arrays, named)
            return m(*args, **kwargs)
        return nnspec.compile(m, named=named, passes=passes, conv_method=conv_method)(*arrays)

    run_dtype = dtype or case.dtype
    m.to(case.dtype)
    if "repr_after" in ref:  # lazy modules: their first call makes their parameters (nnspec's own, replaced next)
        m.train(case.train)
        run([x.copy() for x in xs])
        assert repr(m) == str(ref["repr_after"]), f"repr after the first call differs:\n{m!r}\n---\n{ref['repr_after']}"
        assert list(m.state_dict()) == list(ref["keys"])
    for k, v in m.state_dict().items():
        assert tuple(v.shape) == state[k].shape, f"{k}: {v.shape} != {state[k].shape}"
    m.load_state_dict(state)
    m.train(case.train)
    if not case.inputs:
        return
    backend = get_backend(device)
    m.to(device)
    if run_dtype != case.dtype:
        m.to(run_dtype)
        xs = [x.astype(run_dtype) if x.dtype == np.dtype(case.dtype) else x for x in xs]
    y = run([backend.asarray(x.copy()) for x in xs])
    ys = [to_numpy(v) if hasattr(v, "shape") else v for v in (y if isinstance(y, tuple) else (y,))]
    expected = list(_prefixed(ref, "output/").values())
    assert len(ys) == len(expected)
    if case.random:
        if str(getattr(spec_of(case)[0], "type", "")).startswith("FractionalMaxPool"):
            _check_window_maxima(case, xs[0], ys, expected)
        else:
            _check_random(case, xs[0], ys[0], expected[0])
        return
    tol = dict(TOL[run_dtype])
    for got, want in zip(ys, expected):
        assert got.shape == want.shape
        if run_dtype == case.dtype:
            assert got.dtype == want.dtype, f"{got.dtype} != {want.dtype}"
        wide = dict(tol)
        if conv_method == "winograd4" and run_dtype == "float32" and want.size:
            wide["atol"] = tol["atol"] + WINOGRAD4_TOLERANCE * float(np.abs(want).max())
        np.testing.assert_allclose(got.astype(want.dtype), want, **wide)
    after = _prefixed(ref, "after/")
    for k, v in m.state_dict().items():
        np.testing.assert_allclose(to_numpy(v).astype(after[k].dtype), after[k], err_msg=f"state {k} after the call",
                                   **tol)


# a random layer's units, each dropped whole: the rows of its output reshaped by ndim -> (units, -1)
_DROP_UNITS = {
    "Dropout": lambda shape: (math.prod(shape), 1),
    "AlphaDropout": lambda shape: (math.prod(shape), 1),
    "Dropout1d": lambda shape: (math.prod(shape[:-1]), -1),  # (N, C, L) or unbatched (C, L)
    "Dropout2d": lambda shape: (shape[0] * shape[1], -1),
    "Dropout3d": lambda shape: (math.prod(shape[:-3]), -1),  # (N, C, D, H, W) or unbatched (C, D, H, W)
    "FeatureAlphaDropout": lambda shape: (shape[0] * shape[1], -1),
}
_SELU_SATURATION = 1.7580993408473766


def _check_random(case: Case, x: np.ndarray, got: np.ndarray, want: np.ndarray) -> None:
    """A one-layer model whose train-mode output is random, ours and torch's each checked by statistics."""
    spec, _ = spec_of(case)
    assert got.shape == want.shape and got.dtype == want.dtype
    if getattr(spec, "type", None) not in ("RReLU", *_DROP_UNITS):
        # a random op inside a bigger layer or a forward (attention's dropout): the same shape and dtype, finite
        assert np.isfinite(got).all() and np.isfinite(want).all()
        return
    args = spec.kwargs()
    if spec.type == "RReLU":
        for out in (got, want):
            _check_rrelu(x, out, args["lower"], args["upper"])
        return
    p = args["p"]
    n = 0
    for out in (got, want):
        if "Alpha" in spec.type:  # dropped: a * alpha' * (p - 1); kept: a * x + alpha' * a * p
            a = 1 / math.sqrt((_SELU_SATURATION ** 2 * p + 1) * (1 - p))
            kept = ~np.isclose(out, a * _SELU_SATURATION * (p - 1), rtol=0, atol=1e-6)
            np.testing.assert_allclose(out[kept], x[kept] * a + _SELU_SATURATION * a * p, rtol=1e-5, atol=1e-6)
        else:  # kept values scaled by 1/(1-p)
            kept = out != 0
            np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-6)
        units = kept.reshape(_DROP_UNITS[spec.type](out.shape))
        assert (units.all(-1) | ~units.any(-1)).all(), "a unit is dropped whole or kept whole"
        n = units.shape[0]
        rate, sigma = 1 - units[:, 0].mean(), math.sqrt(p * (1 - p) / n)
        assert abs(rate - p) < 5 * sigma, (rate, p)


def _check_rrelu(x: np.ndarray, out: np.ndarray, lower: float, upper: float) -> None:
    """RReLU in training: x where x > 0, else x times a slope in [lower, upper], the slopes' mean near theirs."""
    pos = x > 0
    np.testing.assert_array_equal(out[pos], x[pos])
    slope = out[~pos] / x[~pos]
    assert ((slope >= lower - 1e-6) & (slope <= upper + 1e-6)).all()
    sigma = (upper - lower) / math.sqrt(12 * slope.size)
    assert abs(slope.mean() - (lower + upper) / 2) < 5 * sigma + 1e-7, (slope.mean(), lower, upper)
    assert slope.std() > 0.5 * (upper - lower) / math.sqrt(12)  # a slope per element, not one for all


def _check_window_maxima(case: Case, x: np.ndarray, got: list, want: list) -> None:
    """Fractional max pooling with samples drawn per call: ours and torch's output have the same shape and
    dtype, every output is the max of some kernel-sized window of its input plane, and an index (with
    return_indices) points at its output's value in that plane."""
    spec, _ = spec_of(case)
    nd = int(spec.type[-2])
    kernel = spec.kernel_size if isinstance(spec.kernel_size, tuple) else (spec.kernel_size,) * nd
    batched = x if x.ndim == nd + 2 else x[None]
    axes = tuple(range(2, 2 + nd))
    maxima = np.lib.stride_tricks.sliding_window_view(batched, kernel, axis=axes).max(axis=tuple(range(-nd, 0)))
    for outputs in (got, want):
        assert [(o.shape, o.dtype) for o in outputs] == [(o.shape, o.dtype) for o in want]
        y = outputs[0] if x.ndim == nd + 2 else outputs[0][None]
        for n in range(y.shape[0]):
            for c in range(y.shape[1]):
                assert np.isin(y[n, c], maxima[n, c]).all(), (n, c)
        if len(outputs) > 1:
            index = outputs[1] if x.ndim == nd + 2 else outputs[1][None]
            planes = batched.reshape(batched.shape[:2] + (-1,))
            np.testing.assert_array_equal(np.take_along_axis(planes, index.reshape(index.shape[:2] + (-1,)), -1),
                                          y.reshape(y.shape[:2] + (-1,)))
