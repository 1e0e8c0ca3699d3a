"""Lazy convolutions (torch's LazyModuleMixin): before, at and after the first call, loading a state_dict into
them, static inference and execution plans on them. Against live torch where torch is importable."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import nnspec
from nnspec import nn, static
from nnspec.errors import NNSpecError, NNSpecRuntimeError, ShapeError, WeightsError
from nnspec.nn.lazy import UninitializedParameter, first_call_pending, is_lazy
from nnspec.runtime.meta import MetaArray
from nnspec.runtime.symbolic import Dim

LAZY = ["LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d"]
BECOMES = {name: name.removeprefix("Lazy") for name in LAZY}


def x_for(name: str, batched: bool = True, channels: int = 4) -> np.ndarray:
    nd = int(name[-2])
    shape = ((2,) if batched else ()) + (channels,) + (5, 6, 4)[:nd]
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("name", LAZY)
def test_before_the_first_call(name):
    m = getattr(nn, name)(6, 3)
    assert repr(m).startswith(f"{name}(0, 6, kernel_size=")
    state = m.state_dict()
    assert list(state) == ["weight", "bias"] and all(is_lazy(v) for v in state.values())
    assert m.has_uninitialized_params() and first_call_pending(m) == [("", m)]
    with pytest.raises(NNSpecRuntimeError, match="Can't access the shape of an uninitialized parameter"):
        m.weight.shape  # noqa: B018 - torch's error
    with pytest.raises(NNSpecRuntimeError, match="uninitialized parameter"):
        m.weight.numel()
    assert repr(m.weight) == "<UninitializedParameter>" and m.weight.dtype == np.float32
    assert list(nn.Sequential(getattr(nn, name)(6, 3, bias=False)).state_dict()) == ["0.weight"]


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("name", LAZY)
def test_the_first_call_makes_the_parameters_and_the_class(name, batched):
    m = getattr(nn, name)(6, 3, groups=2)
    y = m(x_for(name, batched))
    assert type(m) is getattr(nn, BECOMES[name]) and repr(m).startswith(f"{BECOMES[name]}(4, 6, kernel_size=")
    transposed = "Transpose" in name
    assert m.weight.shape == ((4, 3) if transposed else (6, 2)) + (3,) * int(name[-2])
    assert type(m.weight) is nn.Parameter and m.bias.shape == (6,)
    assert not first_call_pending(m)
    bound = 1 / np.sqrt((3 if transposed else 2) * 3 ** int(name[-2]))  # torch's kaiming_uniform(a=sqrt(5)) bound
    assert 0 < np.abs(m.weight.data).max() <= bound and np.abs(m.bias.data).max() <= bound
    assert np.array_equal(m(x_for(name, batched)), y)  # the second call is the converted layer's


def test_the_first_call_draws_from_the_seeded_generator_then():
    def run(seed):
        nnspec.manual_seed(seed)
        m = nnspec.from_dict({"Sequential": [{"LazyConv2d": [4, 3]}, {"Conv2d": [4, 2, 1]}]})
        m(np.ones((1, 3, 5, 5), np.float32))
        return m.state_dict()

    a, b, c = run(1), run(1), run(2)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["0.weight"], c["0.weight"])


def test_dtype_and_device_before_the_first_call():
    m = nn.Sequential(nn.LazyConv1d(3, 2)).to("float64")
    assert m[0].weight.dtype == np.float64
    assert m(np.zeros((1, 5, 7))).dtype == np.float64 and m[0].weight.dtype == np.float64


def test_errors_of_the_first_call():
    with pytest.raises(ShapeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d"):
        nn.LazyConv2d(3, 2)(np.zeros((2, 3), np.float32))
    with pytest.raises(ShapeError, match="in_channels must be divisible by groups"):
        nn.LazyConv2d(4, 2, groups=2)(np.zeros((1, 3, 4, 4), np.float32))
    m = nn.LazyConv2d(5, 3, groups=2)  # torch checks out_channels only in the convolution itself
    with pytest.raises(ShapeError, match="expected weight to be divisible by 2 at dimension 0"):
        m(np.zeros((1, 4, 5, 5), np.float32))
    model = {"Sequential": [{"LazyConv2d": [4, 3]}]}
    with pytest.raises(NNSpecError, match=r"0 \(LazyConv2d\).*Expected 3D"):  # placed, statically too
        static.infer(nnspec.from_dict(model, meta=True), [(3, 4)])


def test_loading_a_state_dict_materialises_from_its_shapes():
    src = nn.Conv2d(4, 6, 3)
    m = nn.LazyConv2d(6, 3)
    assert m.load_state_dict(src.state_dict()) == ([], [])
    assert type(m) is nn.LazyConv2d and m.weight.shape == (6, 4, 3, 3) and not m.has_uninitialized_params()
    np.testing.assert_array_equal(m.weight.data, src.weight.data)
    x = x_for("Conv2d")
    np.testing.assert_array_equal(m(x), src(x))  # the loaded values are kept: nothing drawn at the first call
    assert repr(m) == "Conv2d(0, 6, kernel_size=(3, 3), stride=(1, 1))"  # torch's: in_channels stays 0


def test_a_failed_load_changes_nothing_and_partial_loads():
    m = nn.LazyConv2d(6, 3)
    with pytest.raises(WeightsError, match='Missing key\\(s\\) in state_dict: "bias"'):
        m.load_state_dict({"weight": np.zeros((6, 4, 3, 3), np.float32)})
    assert is_lazy(m.weight) and is_lazy(m.bias)
    assert m.load_state_dict({"weight": np.zeros((6, 4, 3, 3), np.float32)}, strict=False).missing_keys == ["bias"]
    assert not is_lazy(m.weight) and is_lazy(m.bias)
    with pytest.raises(NNSpecRuntimeError, match="its weight was loaded from a state_dict but not its bias"):
        m(x_for("Conv2d"))
    lazy = nn.LazyConv1d(3, 2)
    assert nn.LazyConv1d(3, 2).load_state_dict(lazy.state_dict()) == ([], [])  # uninitialised into uninitialised


def test_saving_an_uninitialised_model_is_refused(tmp_path):
    m = nnspec.from_dict({"Sequential": [{"LazyConv2d": [4, 3]}]})
    with pytest.raises(WeightsError, match="'0.weight' is uninitialized"):
        nnspec.save_weights(m, tmp_path / "w.npz")
    m(np.zeros((1, 2, 4, 4), np.float32))
    nnspec.save_weights(m, tmp_path / "w.npz")
    fresh = nnspec.from_dict({"Sequential": [{"LazyConv2d": [4, 3]}]})
    fresh.load_state_dict(nnspec.load_weights(tmp_path / "w.npz"))
    np.testing.assert_array_equal(fresh[0].weight.data, m[0].weight.data)


MODEL = {"Sequential": [{"LazyConv2d": [8, 3], "padding": 1}, {"BatchNorm2d": [8]}, "ReLU",
                        {"LazyConvTranspose2d": [4, 2], "stride": 2}, {"ZeroPad2d": [[1, 0, 0, 1]]}]}


def test_static_inference_on_a_real_model_changes_nothing():
    m = nnspec.from_dict(MODEL, seed=0)
    before = repr(m)
    found = static.infer(m, [(2, 3, 8, 8)])
    assert found.output_shape == (2, 4, 17, 17)
    assert [c.type for c in found.calls] == ["Sequential", "Conv2d", "BatchNorm2d", "ReLU", "ConvTranspose2d", "ZeroPad2d"]
    assert found.calls[1].mult_adds == 8 * 3 * 9 * 2 * 64 + 8 * 2 * 64
    assert repr(m) == before and m[0].has_uninitialized_params() and len(first_call_pending(m)) == 2
    symbolic = static.infer(m, [(Dim.symbol("N"), 3, Dim.symbol("H"), Dim.symbol("W"))])
    assert str(symbolic.output_shape[2]) == "2*H + 1"
    with pytest.raises(NNSpecError, match="takes in_channels from its input's channel dim, which must be a number"):
        static.infer(m, [(2, Dim.symbol("C"), 8, 8)])
    assert repr(m) == before


def test_a_shape_only_model_materialises_shape_only():
    meta = nnspec.from_dict(MODEL, meta=True)
    found = static.infer(meta, [(2, 3, 8, 8)])
    assert repr(meta).splitlines()[1].strip() == "(0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    assert isinstance(meta[0].weight.data, MetaArray) and meta[0].weight.shape == (8, 3, 3, 3)
    assert found.param_bytes == 4 * (8 * 27 + 8 + 16 + 8 * 4 * 4 + 4)
    rows = static.layer_rows(found)
    assert [r.params for r in rows] == [0, 224, 16, 0, 132, 0]


def test_summary_before_the_first_call():
    from nnspec.summary import summary

    info = summary(nnspec.from_dict(MODEL, meta=True))
    assert info["state_dict"][0] == {"key": "0.weight", "kind": "parameter", "shape": None, "dtype": "float32",
                                     "numel": None}
    assert info["totals"]["params"] == 16  # the BatchNorm's: the lazy layers' have no size yet


@pytest.mark.parametrize("ahead", [False, True])
def test_an_execution_plan_materialises_first(ahead):
    m = nnspec.from_dict(MODEL, seed=0).eval()
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(np.float32)
    plan = nnspec.compile(m, [x.shape] if ahead else None)
    y = plan(x)
    assert type(m[0]) is nn.Conv2d and type(m[3]) is nn.ConvTranspose2d and not first_call_pending(m)
    np.testing.assert_allclose(y, m(x), rtol=1e-5, atol=1e-5)


def test_an_execution_plan_converts_a_loaded_lazy_module():
    src = nnspec.from_dict(MODEL, seed=0)
    src(np.zeros((1, 3, 4, 4), np.float32))
    m = nnspec.from_dict(MODEL, seed=1).eval()
    m.load_state_dict(src.state_dict())
    x = np.ones((1, 3, 4, 4), np.float32)
    y = nnspec.compile(m)(x)
    assert repr(m[0]).startswith("Conv2d(0, 8,")  # torch's: a first call after a load keeps in_channels 0
    np.testing.assert_allclose(y, src.eval()(x), rtol=1e-5, atol=1e-5)


def test_a_lazy_model_copies():
    m = nnspec.from_dict(MODEL, seed=0)
    twin = copy.deepcopy(m)
    assert is_lazy(twin[0].weight) and twin[0].weight is not m[0].weight
    twin(np.zeros((1, 3, 4, 4), np.float32))
    assert is_lazy(m[0].weight) and not is_lazy(twin[0].weight)


def test_uninitialized_parameter_materialize():
    p = UninitializedParameter(requires_grad=False, dtype=np.float64)
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and p.shape == (2, 3) and p.dtype == np.float64 and not p.requires_grad


# --------------------------------------------------------------------------- against torch


@pytest.mark.torch
@pytest.mark.parametrize("name", LAZY)
def test_repr_and_state_match_torch(name):
    torch = pytest.importorskip("torch")
    kwargs = dict(stride=2, padding=1, groups=2, bias=False)
    if "Transpose" in name:
        kwargs["output_padding"] = 1
    t, m = getattr(torch.nn, name)(6, 3, **kwargs), getattr(nn, name)(6, 3, **kwargs)
    assert repr(m) == repr(t) and list(m.state_dict()) == list(t.state_dict())
    x = x_for(name)
    with torch.no_grad():
        want = t(torch.from_numpy(x))
    m(x)
    assert repr(m) == repr(t) and type(m).__name__ == type(t).__name__
    m.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    np.testing.assert_allclose(m(x), want.numpy(), rtol=1e-4, atol=1e-4)
    # loaded before the first call: materialised to the checkpoint's shapes, and in_channels stays 0 (torch's)
    t2, m2 = getattr(torch.nn, name)(6, 3, **kwargs), getattr(nn, name)(6, 3, **kwargs)
    t2.load_state_dict(t.state_dict())
    m2.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    assert repr(m2) == repr(t2)
    with torch.no_grad():
        t2(torch.from_numpy(x))
    m2(x)
    assert repr(m2) == repr(t2)


# --------------------------------------------------------------------------- the command line


LAZY_FILE = """\
type: Sequential
modules:
  - LazyConv2d: [8, 3]
    padding: 1
  - ReLU
  - LazyConvTranspose2d: [4, 2]
    stride: 2
  - ZeroPad2d: [[1, 0, 0, 1]]
"""


def test_the_command_line_on_a_lazy_model(tmp_path):
    from typer.testing import CliRunner

    from nnspec_cli import app

    path = tmp_path / "lazy.yaml"
    path.write_text(LAZY_FILE)
    runner = CliRunner()
    out = runner.invoke(app, ["summary", str(path)])
    assert out.exit_code == 0, out.output
    assert "LazyConv2d(0, 8, kernel_size=(3, 3)" in out.output
    assert any(line.split()[:3] == ["0.weight", "parameter", "uninitialized"] for line in out.output.splitlines())
    out = runner.invoke(app, ["summary", str(path), "-s", "N,3,H,W"])
    assert out.exit_code == 0, out.output
    assert "Conv2d" in out.output and "224" in out.output and "(N, 4, 2*H + 1, 2*W + 1)" in out.output
    out = runner.invoke(app, ["validate", str(path), "-s", "1,3,8,8"])
    assert out.exit_code == 0 and "(1, 4, 17, 17)" in out.output, out.output
    out = runner.invoke(app, ["run", str(path), "-s", "1,3,8,8"])
    assert out.exit_code == 0 and "(1, 4, 17, 17)" in out.output, out.output
    out = runner.invoke(app, ["validate", str(path), "-s", "3,8"])
    assert out.exit_code == 1 and "Expected 3D (unbatched) or 4D (batched) input to LazyConv2d" in out.output
    assert "lazy.yaml:3" in out.output  # placed at the layer's line


def test_the_first_call_counts_its_parameters_against_the_builds_memory_limit():
    """A file's memory_limit holds for its lazy parameters too: they count after what the build made, one lazy
    module's after another's; static inference (a shape-only first call) leaves the count as it was."""
    x = np.zeros((1, 16, 8, 8), np.float32)
    with pytest.raises(nnspec.CompileError, match="the limit is 1,048,576 bytes"):
        nnspec.from_dict({"LazyConv2d": [1000, 5]}, memory_limit=2**20)(x)  # 1.6 MB of weight
    two = {"type": "Sequential", "modules": [{"LazyConv2d": [100, 3]}, {"LazyConv2d": [100, 3]}]}
    nnspec.from_dict(two, memory_limit=500_000)(x)  # 58 kB + 360 kB
    with pytest.raises(nnspec.CompileError, match="need 418,000 bytes"):
        nnspec.from_dict(two, memory_limit=400_000)(x)
    model = nnspec.from_dict({"LazyConv2d": [10, 5]}, memory_limit=16_100)  # 16,040 bytes of weight and bias
    for _ in range(3):
        nnspec.infer(model, [x.shape])
    assert model(x).shape == (1, 10, 4, 4)
