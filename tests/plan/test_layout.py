"""The channels_last and winograd passes: which convolutions run channels-last and by which method, where
the plan copies back to NCHW, that a layout is never seen from outside, and that the plan splits its
work over its own threads where it runs channels-last on a batch."""

from __future__ import annotations

import numpy as np
import pytest
from zoo import randomized_state

import nnspec
from nnspec.plan import PASSES, passes
from nnspec.plan.passes import to_nchw
from nnspec.runtime.kernels import conv_nhwc
from nnspec.runtime.kernels.window import is_channels_last

BLOCK = {
    "name": "Block",
    "modules": {
        "stem": {"Conv2d": [3, 16, 7], "stride": 2, "padding": 3, "bias": False},
        "bn0": {"BatchNorm2d": [16]},
        "pool": {"MaxPool2d": [3], "stride": 2, "padding": 1},
        "conv1": {"Conv2d": [16, 16, 3], "padding": 1, "bias": False},
        "bn1": {"BatchNorm2d": [16]},
        "conv2": {"Conv2d": [16, 16, 3], "padding": 1, "bias": False},
        "bn2": {"BatchNorm2d": [16]},
        "down": {"Conv2d": [16, 24, 1], "stride": 2},
        "dw": {"Conv2d": [24, 24, 3], "padding": 1, "groups": 24},
        "fc": {"Linear": [24, 5]},
    },
    "forward": """
def forward(self, x):
    y = F.relu(self.bn0(self.stem(x)))
    y = self.pool(y)
    out = F.relu(self.bn1(self.conv1(y)))
    out = self.bn2(self.conv2(out))
    out += y
    out = F.relu(out)
    out = F.relu6(self.dw(self.down(out)))
    return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))
""",
}


@pytest.fixture(autouse=True)
def small_layers_too(monkeypatch):
    """These models are small: their convolutions run channels-last as large ones do."""
    monkeypatch.setattr(passes, "CHANNELS_LAST_MIN_MULT_ADDS", 0)


def model(spec: dict, seed: str = "layout") -> nnspec.Module:
    m = nnspec.from_dict(spec, seed=0).eval()
    m.load_state_dict(randomized_state(m, seed))
    return m


def data(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def methods(plan) -> dict[str, str | None]:
    return {s.name: getattr(s.fn, "method", None) for s in plan.steps() if s.kind.startswith("Conv2d")}


def test_a_residual_network_runs_channels_last_with_each_layer_s_method():
    m = model(BLOCK)
    x = data((4, 3, 32, 32))
    want = m(x)
    plan = nnspec.compile(m)
    got = plan(x)
    assert methods(plan) == {"stem": "im2col", "conv1": "winograd4", "conv2": "winograd4", "down": "im2col",
                             "dw": "depthwise"}
    assert not any(s.kind == "to_nchw" for s in plan.steps())  # the pooled result is NCHW already
    assert got.flags.c_contiguous
    scale = np.abs(want).max()
    assert np.abs(got - want).max() <= 1e-4 * scale
    exact = nnspec.compile(m, passes={"winograd": False})
    assert np.abs(exact(x) - want).max() <= 1e-5 * scale
    assert set(methods(exact).values()) == {"im2col", "depthwise"}
    nchw = nnspec.compile(m, passes={"channels_last": False})
    np.testing.assert_allclose(nchw(x), want, rtol=1e-5, atol=1e-5 * scale)
    assert set(methods(nchw).values()) == {None}


@pytest.mark.parametrize("method", ["nchw", "im2col", "winograd2", "winograd4", "depthwise"])
def test_a_forced_method_runs_wherever_it_applies(method):
    m = model(BLOCK)
    x = data((2, 3, 24, 24), seed=1)
    plan = nnspec.compile(m, conv_method=method)
    got, want = plan(x), m(x)
    chosen = methods(plan)
    if method == "nchw":
        assert set(chosen.values()) == {None}
    elif method.startswith("winograd"):
        assert chosen["conv1"] == chosen["conv2"] == method and chosen["stem"] == "im2col"
    else:
        assert method in chosen.values()
    tol = 1e-4 if method == "winograd4" else 1e-5
    assert np.abs(got - want).max() <= tol * np.abs(want).max()


def test_an_unknown_method_is_an_error_naming_the_methods():
    with pytest.raises(nnspec.NNSpecError, match="unknown convolution method 'fft'.*nchw, im2col, winograd2"):
        nnspec.compile(model(BLOCK), conv_method="fft")
    assert {"channels_last", "winograd"} <= set(PASSES)


VIEWS = {
    "name": "Views",
    "modules": {"conv": {"Conv2d": [4, 16, 3], "padding": 1}, "conv2": {"Conv2d": [16, 16, 3], "padding": 1}},
    "forward": """
def forward(self, x):
    y = F.relu(self.conv(x))
    flat = y.view(y.size(0), -1)
    z = self.conv2(y)
    return flat.sum(1), z, y[:, :2]
""",
}


def test_a_step_that_needs_nchw_reads_a_copy_and_the_results_are_nchw():
    """.view() and slicing take views, which need the memory NCHW: one copy before the first of them; the
    convolutions still read the channels-last original, and every result leaves the plan NCHW."""
    m = model(VIEWS)
    x = data((2, 4, 9, 9), seed=2)
    plan = nnspec.compile(m)
    got, want = plan(x), m(x)
    kinds = [s.kind for s in plan.steps()]
    assert kinds.count("to_nchw") == 2  # y (for the view and the slice), and the second convolution's result
    assert methods(plan) == {"conv": "im2col", "conv2": "winograd4"}
    for g, w in zip(got, want):
        assert not is_channels_last(g)
        assert np.abs(g - w).max() <= 1e-4 * np.abs(w).max()


# memory a copy to NCHW would not see written: after a view of it (the view must show the write), or by
# the very step that needs NCHW (clamp_ is no layout-keeping op: on a copy, the add after it would miss it)
WRITTEN = {
    "after": """
def forward(self, x):
    y = self.conv(x)
    flat = y.view(-1)
    y.mul_(2)
    return flat
""",
    "there": """
def forward(self, x):
    y = self.conv(x)
    y.clamp_(-0.1, 0.1)
    return y + 1
""",
}


@pytest.mark.parametrize("where", list(WRITTEN))
def test_memory_written_after_its_copy_to_nchw_would_be_keeps_its_convolution_nchw(where):
    m = model({"name": "Written", "modules": {"conv": {"Conv2d": [4, 16, 3], "padding": 1}},
               "forward": WRITTEN[where]})
    x = data((2, 4, 9, 9), seed=3)
    plan = nnspec.compile(m)
    np.testing.assert_allclose(plan(x), m(x), rtol=1e-5, atol=1e-5)
    assert methods(plan) == {"conv": None}


def test_the_plan_splits_a_batch_over_its_own_threads_with_single_threaded_blas(monkeypatch):
    from nnspec.runtime.kernels import parallel

    monkeypatch.setattr(parallel, "threads", lambda: 2)
    import nnspec.plan.plan as plan_module

    monkeypatch.setattr(plan_module, "threads", lambda: 2)
    monkeypatch.setattr(conv_nhwc, "SPLIT_MULT_ADDS", 0)  # this model's layers are small
    m = model(BLOCK)
    seen = []
    original = parallel.over_batch

    def spy(xp, n, elements, part):
        seen.append(parallel.single_threaded_blas.active)
        return original(xp, n, elements, part)

    monkeypatch.setattr(parallel, "over_batch", spy)
    batch = nnspec.compile(m, [(4, 3, 32, 32)])
    assert next(iter(batch._compiled.values())).own_threads
    batch(data((4, 3, 32, 32)))
    assert seen and all(seen)
    one = nnspec.compile(m, [(1, 3, 32, 32)])
    assert not next(iter(one._compiled.values())).own_threads  # one image: BLAS's own threads
    assert not nnspec.compile(m, [(4, 3, 32, 32)], passes={"channels_last": False})._one(None).own_threads
    assert one._one(None).program.steps and batch._one(None).program.steps


def test_to_nchw_copies_only_what_is_not_nchw():
    x = np.zeros((2, 3, 4, 5), np.float32)
    assert to_nchw(x) is x
    cl = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    assert to_nchw(cl).flags.c_contiguous and not np.shares_memory(to_nchw(cl), cl)


def test_a_small_convolution_stays_nchw_unless_a_method_is_forced(monkeypatch):
    monkeypatch.setattr(passes, "CHANNELS_LAST_MIN_MULT_ADDS", 1 << 22)
    m = model(BLOCK)
    x = data((2, 3, 32, 32))  # the stem: 2 * 16 * 16 * 16 * 147 = 1.2 M mult-adds
    plan = nnspec.compile(m)
    plan(x)
    assert methods(plan)["stem"] is None
    forced = nnspec.compile(m, conv_method="im2col")
    np.testing.assert_allclose(forced(x), m(x), rtol=1e-4, atol=1e-5)
    assert methods(forced)["stem"] == "im2col"



# --------------------------------------------------------------------------- fuse_separable

INVERTED = {
    "name": "Inverted",
    "modules": {
        "stem": {"Conv2d": [3, 8, 3], "padding": 1, "bias": False}, "bn0": {"BatchNorm2d": [8]},
        "e1": {"Conv2d": [8, 24, 1], "bias": False}, "be1": {"BatchNorm2d": [24]},
        "d1": {"Conv2d": [24, 24, 3], "padding": 1, "groups": 24, "bias": False}, "bd1": {"BatchNorm2d": [24]},
        "p1": {"Conv2d": [24, 8, 1], "bias": False}, "bp1": {"BatchNorm2d": [8]},
        "e2": {"Conv2d": [8, 24, 1]},
        "d2": {"Conv2d": [24, 24, 3], "stride": 2, "padding": 1, "groups": 24},
        "p2": {"Conv2d": [24, 12, 1]},
        "d3": {"Conv2d": [12, 12, 3], "padding": 1, "groups": 12},
        "p3": {"Conv2d": [12, 12, 1]},
        "fc": {"Linear": [12, 5]},
    },
    "forward": """
def forward(self, x):
    x = F.relu6(self.bn0(self.stem(x)))
    x = x + self.bp1(self.p1(F.relu6(self.bd1(self.d1(F.relu6(self.be1(self.e1(x))))))))
    x = self.p2(F.relu(self.d2(F.relu(self.e2(x)))))
    x = self.p3(F.relu6(self.d3(x))) + x
    return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))
""",
}


def separable_steps(plan, x) -> dict[str, str]:
    return {s.name: s.kind for s in plan.steps([x]) if getattr(s.fn, "method", None) == "separable"}


@pytest.mark.parametrize("shape", [(3, 3, 13, 12), (1, 3, 10, 10)], ids=["batch", "one_image"])
def test_inverted_residuals_run_as_one_kernel_each_with_the_same_results(shape):
    m = model(INVERTED)
    x = data(shape, seed=2)
    want = m(x)
    plan = nnspec.compile(m)
    assert separable_steps(plan, x) == {  # named by the first layer (the modules share no path)
        "e1": "Conv2d+BatchNorm2d+F.relu6 > Conv2d+BatchNorm2d+F.relu6 > Conv2d+BatchNorm2d+add",
        "e2": "Conv2d+F.relu > Conv2d+F.relu > Conv2d",
        "d3": "Conv2d+F.relu6 > Conv2d+add",  # p2's output is d3's input and the residual: no expand
    }
    assert [s.kind.startswith("Conv2d") for s in plan.steps([x])].count(True) == 4  # the stem stands apart
    scale = np.abs(want).max()
    np.testing.assert_allclose(plan(x), want, rtol=1e-5, atol=1e-5 * scale)
    apart = nnspec.compile(m, passes={"fuse_separable": False})
    assert not separable_steps(apart, x) and methods(apart)["d2"] == "depthwise"
    np.testing.assert_allclose(apart(x), plan(x), rtol=1e-5, atol=1e-5 * scale)


def test_a_layer_whose_output_is_read_elsewhere_stays_out_of_the_fused_kernel():
    spec = dict(INVERTED, forward="""
def forward(self, x):
    x = F.relu6(self.bn0(self.stem(x)))
    e = F.relu6(self.be1(self.e1(x)))
    y = self.bp1(self.p1(F.relu6(self.bd1(self.d1(e)))))
    return y, e.sum()
""")
    m = model(spec)
    x = data((2, 3, 9, 9), seed=3)
    plan = nnspec.compile(m)
    assert separable_steps(plan, x) == {"d1": "Conv2d+BatchNorm2d+F.relu6 > Conv2d+BatchNorm2d"}
    for got, want in zip(plan(x), m(x)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_an_input_written_between_its_layers_keeps_them_apart():
    # the fused kernel would run where the project ran, after h += 1, and read the new h
    spec = dict(INVERTED, forward="""
def forward(self, x):
    h = self.stem(x)
    e = F.relu6(self.e1(h))
    h += 1
    return self.p1(F.relu6(self.d1(e))) + h
""")
    m = model(spec)
    x = data((2, 3, 9, 9), seed=4)
    plan = nnspec.compile(m)
    assert separable_steps(plan, x) == {"d1": "Conv2d+F.relu6 > Conv2d+add"}  # e1 apart
    np.testing.assert_allclose(plan(x), m(x), rtol=1e-5, atol=1e-5 * np.abs(m(x)).max())


# --------------------------------------------------------------------------- fuse_pool


@pytest.mark.parametrize("pool", [
    {"MaxPool2d": [3], "stride": 2, "padding": 1},  # a ResNet's stem
    {"MaxPool2d": [2], "stride": 2, "ceil_mode": True},  # a partial window at the edge
    {"MaxPool2d": [3], "stride": 1, "padding": 1, "dilation": 2},
], ids=["resnet", "ceil", "dilated"])
@pytest.mark.parametrize("batch", [3, 1])
def test_a_convolution_and_its_max_pool_run_image_by_image_with_the_same_results(pool, batch):
    spec = {"name": "Stem", "modules": {"conv": {"Conv2d": [3, 8, 3], "stride": 2, "padding": 1},
                                        "bn": {"BatchNorm2d": [8]}, "pool": pool, "head": {"Conv2d": [8, 4, 1]}},
            "forward": "def forward(self, x):\n    return self.head(self.pool(F.relu(self.bn(self.conv(x)))))\n"}
    m = model(spec)
    x = data((batch, 3, 19, 17), seed=5)
    want = m(x)
    plan = nnspec.compile(m)
    got = plan(x)
    assert [s.kind for s in plan.steps([x])][:2] == ["Conv2d+BatchNorm2d+F.relu+MaxPool2d", "Conv2d"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    apart = nnspec.compile(m, passes={"fuse_pool": False})
    assert "MaxPool2d" in [s.kind for s in apart.steps([x])]
    np.testing.assert_array_equal(apart(x), got)
