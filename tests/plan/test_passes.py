"""Every pass of an execution plan: it fires where it should, and switching it off (alone, or all of them)
changes nothing beyond float32 rounding. The plan without passes runs the same kernels as the model's
own forward, so it must give the very same numbers."""

from __future__ import annotations

import tracemalloc
import zlib

import numpy as np
import pytest
from zoo import randomized_state, zoo_path

import nnspec
from nnspec.plan import PASSES, PlanError

ALL_OFF = {name: False for name in PASSES}


def randomized(model: nnspec.Module, seed: str) -> nnspec.Module:
    """Random running statistics and affine parameters, so that folding BatchNorm is not a no-op."""
    model.load_state_dict(randomized_state(model, seed))
    return model


def data(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


CONV_BN = {
    "name": "ConvBn",
    "modules": {
        "conv": {"Conv2d": [3, 8, 3], "padding": 1, "padding_mode": "reflect"},
        "bn": {"BatchNorm2d": [8]},
        "act": {"ReLU6": {}},
        "dw": {"Conv2d": [8, 16, 3], "groups": 8, "stride": 2, "bias": False},
        "bn2": {"BatchNorm2d": [16]},
        "drop": {"Dropout": [0.3]},
        "same": {"Identity": {}},
        "fc": {"Linear": [16, 10]},
        "bn1d": {"BatchNorm1d": [10]},
        "fc2": {"Linear": [10, 4]},
    },
    "forward": """
def forward(self, x):
    y = self.act(self.bn(self.conv(x)))
    y = F.hardtanh(self.bn2(self.dw(y)), -0.5, 0.5)
    y = self.same(self.drop(y))
    y = F.dropout(y, 0.5, self.training)
    y = F.adaptive_avg_pool2d(y, 1).flatten(1)
    y = F.relu(self.bn1d(self.fc(y)))
    return self.fc2(y)
""",
}

CONSTANTS = {
    "name": "Consts",
    "parameters": {"w": {"shape": [5, 6], "init": "randn"}, "s": {"shape": [5], "init": "randn"}},
    "forward": """
def forward(self, x):
    scale = self.s * 2 + 1
    return torch.matmul(x, self.w.t() * 0.5) * scale
""",
}

LAYERS = {"Sequential": [  # every layer lower_kernels calls directly
    {"BatchNorm2d": [3]}, "ReLU6", {"MaxPool2d": [3, 2, 1]}, {"AvgPool2d": [2]},
    "Sigmoid", "Tanh", {"AdaptiveAvgPool2d": [2]}, "Flatten", {"BatchNorm1d": [12]}, {"Linear": [12, 4]},
]}

MODELS = {  # name: (model, input shape)
    "layers": (LAYERS, (2, 3, 16, 16)),
    "conv_bn": (CONV_BN, (2, 3, 12, 12)),
    "consts": (CONSTANTS, (3, 6)),
    "resnet18": (str(zoo_path("resnet18")), (1, 3, 64, 64)),
    "mobilenet_v2": (str(zoo_path("mobilenet_v2")), (1, 3, 64, 64)),
    "lenet5": (str(zoo_path("lenet5")), (2, 1, 32, 32)),
    "resnet_blocks": ("models/resnet_blocks.yaml", (2, 3, 32, 32)),
}


@pytest.fixture(scope="module")
def built():
    cache = {}

    def get(name: str) -> nnspec.Module:
        if name not in cache:
            spec, _ = MODELS[name]
            model = nnspec.from_dict(spec, seed=0) if isinstance(spec, dict) else nnspec.load(spec, seed=0)
            cache[name] = randomized(model.eval(), name)
        return cache[name]

    return get


def close(got, want) -> None:
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(want).max())))


@pytest.mark.parametrize("name", list(MODELS))
def test_plan_without_passes_is_the_forward_exactly(built, name):
    model = built(name)
    x = data(MODELS[name][1], zlib.crc32(name.encode()))
    np.testing.assert_array_equal(nnspec.compile(model, passes=ALL_OFF)(x), model(x))


@pytest.mark.parametrize("off", list(PASSES))
@pytest.mark.parametrize("name", list(MODELS))
def test_each_pass_off_alone_changes_nothing(built, name, off):
    model = built(name)
    x = data(MODELS[name][1], zlib.crc32(name.encode()))
    want = model(x)
    close(nnspec.compile(model)(x), want)
    close(nnspec.compile(model, passes={off: False})(x), want)
    only = {n: n == off for n in PASSES}  # and each pass on its own
    close(nnspec.compile(model, passes=only)(x), want)


def kinds(plan: nnspec.Plan) -> list[str]:
    return [s.kind for s in plan.steps()]


def test_drop_identity_removes_identity_and_dropout_in_eval(built):
    model = built("conv_bn")
    on = kinds(nnspec.compile(model, [(2, 3, 12, 12)], passes={"drop_identity": True, **_only("drop_identity")}))
    off = kinds(nnspec.compile(model, [(2, 3, 12, 12)], passes=ALL_OFF))
    assert {"Dropout", "Identity", "F.dropout"} <= set(off)
    assert not {"Dropout", "Identity", "F.dropout"} & set(on)
    assert len(off) - len(on) == 3


def _only(name: str) -> dict[str, bool]:
    return {n: n == name for n in PASSES}


def test_fold_batchnorm_and_fuse_activation_merge_steps(built):
    model = built("conv_bn")
    got = kinds(nnspec.compile(model, [(2, 3, 12, 12)]))
    assert got == ["Conv2d+BatchNorm2d+ReLU6", "Conv2d+BatchNorm2d+F.hardtanh", "F.adaptive_avg_pool2d",
                   ".flatten()", "Linear+BatchNorm1d+F.relu", "Linear"]
    folded = kinds(nnspec.compile(model, [(2, 3, 12, 12)], passes=_only("fold_batchnorm")))
    assert "Conv2d+BatchNorm2d" in folded and "BatchNorm2d" not in folded and "ReLU6" in folded
    fused = kinds(nnspec.compile(model, [(2, 3, 12, 12)], passes=_only("fuse_activation")))
    assert "BatchNorm2d" in fused and "Linear+F.relu" not in fused  # the BatchNorm sits between them
    assert "ReLU6" in fused and "F.hardtanh" in fused


TANH = {
    "name": "TanhNet",
    "modules": {"conv": {"Conv2d": [3, 6, 5]}, "act": {"Tanh": {}}, "fc": {"Linear": [6 * 8 * 8, 10]},
                "fc2": {"Linear": [10, 4]}},
    "forward": """
def forward(self, x):
    y = self.act(self.conv(x)).flatten(1)
    y = torch.tanh(self.fc(y))
    return self.fc2(y).tanh()
""",
}


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_fuse_activation_takes_tanh(dtype):
    """Tanh (the layer, torch.tanh, .tanh()) after a convolution or Linear is applied in place to its
    output, float16 computed in float32 as the layer's kernel does: the same values as the steps apart."""
    model = nnspec.from_dict(TANH, seed=0).eval()
    if dtype != "float32":
        model = model.half() if dtype == "float16" else model.double()
    fused = nnspec.compile(model, [(2, 3, 12, 12)], dtype=dtype)
    assert kinds(fused) == ["Conv2d+Tanh", ".flatten()", "Linear+torch.tanh", "Linear+.tanh()"]
    apart = nnspec.compile(model, [(2, 3, 12, 12)], dtype=dtype, passes={"fuse_activation": False})
    assert "Tanh" in kinds(apart) and "torch.tanh" in kinds(apart)
    x = data((2, 3, 12, 12)).astype(dtype)
    got, want = fused(x), apart(x)
    assert got.dtype == want.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, want)


def test_lower_kernels_calls_each_layers_kernel(built):
    from nnspec.plan.kernels import EvalBatchNorm

    model = built("layers")
    on = nnspec.compile(model, [(2, 3, 16, 16)], passes=_only("lower_kernels")).steps()
    off = nnspec.compile(model, [(2, 3, 16, 16)], passes=ALL_OFF).steps()
    assert all(s.fn == s.module.forward for s in off)
    assert not any(s.fn == s.module.forward for s in on if s.kind != "Flatten")
    assert [type(s.fn) for s in on if s.kind.startswith("BatchNorm")] == [EvalBatchNorm, EvalBatchNorm]
    half = nnspec.compile(model.half(), [(2, 3, 16, 16)], dtype="float16", passes=_only("lower_kernels")).steps()
    assert all(s.fn == s.module.forward for s in half if s.kind.startswith("BatchNorm"))  # its own float32 math
    x = data((2, 3, 16, 16)).astype(np.float16)
    np.testing.assert_array_equal(nnspec.compile(model)(x), model(x))
    model.float()


def test_resnet_plan_is_one_kernel_per_conv(built):
    model = built("resnet18")
    got = kinds(nnspec.compile(model, [(1, 3, 64, 64)]))
    assert got[0] == "Conv2d+BatchNorm2d+ReLU+MaxPool2d"  # the stem, its max pool image by image (fuse_pool)
    assert got.count("Conv2d+BatchNorm2d+ReLU") == 8  # each block's first conv
    assert got.count("Conv2d+BatchNorm2d+iadd+ReLU") == 8  # each block's second conv, its add and ReLU
    assert got.count("Conv2d+BatchNorm2d") == 3  # the downsamples
    assert len(got) == 1 + 8 + 8 + 3 + 3  # and the average pool, flatten and fc


def test_fuse_residual_runs_where_the_add_ran_and_never_past_a_write_into_its_input():
    forward = """
def forward(self, x):
    a = F.relu(x)
    y = self.conv(a)
    z = self.down(a)
    y += z
    return y
"""
    modules = {"conv": {"Conv2d": [3, 3, 3], "padding": 1}, "down": {"Conv2d": [3, 3, 1]}}
    model = nnspec.from_dict({"name": "Res", "modules": modules, "forward": forward}, seed=0).eval()
    x = data((2, 3, 8, 8))
    plan = nnspec.compile(model, [(2, 3, 8, 8)])
    assert kinds(plan) == ["F.relu", "Conv2d", "Conv2d+iadd"]  # the identity is made after the conv
    np.testing.assert_allclose(plan(x), model(x), rtol=1e-5, atol=1e-6)
    written = forward.replace("    y += z", "    a += 1\n    y += a")  # the input changes before the add
    model = nnspec.from_dict({"name": "Res", "modules": modules, "forward": written}, seed=0).eval()
    plan = nnspec.compile(model, [(2, 3, 8, 8)])
    assert "iadd" in kinds(plan) and "Conv2d+iadd" not in kinds(plan)
    np.testing.assert_allclose(plan(x), model(x), rtol=1e-5, atol=1e-6)
    broadcast = forward.replace("    y += z", "    y += self.b")  # not an identity of the output's shape
    model = nnspec.from_dict({"name": "Res", "modules": modules, "forward": broadcast,
                              "parameters": {"b": {"shape": [3, 1, 1], "init": "randn"}}}, seed=0).eval()
    plan = nnspec.compile(model, [(2, 3, 8, 8)])
    assert "Conv2d+iadd" not in kinds(plan)
    np.testing.assert_allclose(plan(x), model(x), rtol=1e-5, atol=1e-6)


def test_train_mode_keeps_batchnorm_and_updates_its_statistics():
    spec = dict(CONV_BN)
    a = randomized(nnspec.from_dict(spec, seed=0), "t").train()
    b = randomized(nnspec.from_dict(spec, seed=0), "t").train()
    x = data((4, 3, 12, 12), 5)
    nnspec.manual_seed(3)
    want = a(x)
    plan = nnspec.compile(b)
    nnspec.manual_seed(3)
    got = plan(x)
    assert "BatchNorm2d" in kinds(plan) and "Dropout" in kinds(plan)  # nothing folded or dropped
    close(got, want)  # the same dropout draws, in the same order
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_allclose(vb, va, rtol=1e-6, err_msg=k)
    assert int(b.bn.num_batches_tracked) == 1


def test_fold_constants_computes_parameter_ops_once_and_follows_new_weights(built):
    model = nnspec.from_dict(CONSTANTS, seed=0)
    plan = nnspec.compile(model, [(3, 6)])
    program = next(iter(plan._compiled.values())).program
    assert kinds(plan) == ["torch.matmul", "mul"]  # .t(), * 0.5, * 2, + 1 were computed when compiled
    assert len(program.constants) == 4
    x = data((3, 6), 1)
    close(plan(x), model(x))
    state = {k: v * 3 for k, v in model.state_dict().items()}
    model.load_state_dict(state)  # the folded constants must follow the new weights
    close(plan(x), model(x))
    model.w.data[...] = 0  # by hand: nnspec cannot see it until the plan is refreshed
    plan.refresh()
    np.testing.assert_array_equal(plan(x), np.zeros((3, 5), np.float32))


def test_a_mode_change_recompiles():
    model = randomized(nnspec.from_dict(CONV_BN, seed=0), "m").eval()
    plan = nnspec.compile(model)
    x = data((2, 3, 12, 12), 2)
    close(plan(x), model(x))
    assert "BatchNorm2d" not in kinds(plan)
    model.train()
    twin = randomized(nnspec.from_dict(CONV_BN, seed=0), "m").train()
    nnspec.manual_seed(1)
    want = twin(x)
    nnspec.manual_seed(1)
    close(plan(x), want)
    assert "BatchNorm2d" in kinds(plan)
    np.testing.assert_allclose(model.bn.running_mean, twin.bn.running_mean, rtol=1e-6)


def test_outputs_survive_the_next_run_and_memory_is_reused(built):
    model = built("resnet_blocks")
    plan = nnspec.compile(model, [(2, 3, 32, 32)])
    compiled = next(iter(plan._compiled.values()))
    x1, x2 = data((2, 3, 32, 32), 1), data((2, 3, 32, 32), 2)
    y1 = plan(x1)
    kept = y1.copy()
    pooled = compiled.program.pool.nbytes
    y2 = plan(x2)
    np.testing.assert_array_equal(y1, kept)  # the second run wrote somewhere else
    assert compiled.program.pool.nbytes == pooled  # and allocated nothing new for its kernels
    close(y2, model(x2))
    assert any(compiled.frees)


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reuse_memory_keeps_the_peak_to_the_largest_live_set():
    layers = {str(i): {"Conv2d": [16, 16, 3], "padding": 1} for i in range(12)}
    model = nnspec.from_dict({"Sequential": layers}, seed=0).eval()
    x = data((4, 16, 32, 32))
    one = x.nbytes  # each activation is this big
    on = nnspec.compile(model, passes={"reuse_memory": True})
    off = nnspec.compile(model, passes={"reuse_memory": False})
    on(x), off(x)  # compiled, pools filled
    peak_on, peak_off = _peak(lambda: on(x)), _peak(lambda: off(x))
    assert peak_off > 11 * one  # every activation kept to the end
    assert peak_on < 3 * one  # the output, and nothing else new: the pool's arrays are reused
    np.testing.assert_allclose(on(x), off(x), rtol=1e-6)


def test_an_output_that_is_an_input_or_a_view_is_not_reused():
    spec = {"name": "Views", "modules": {"conv": {"Conv2d": [2, 2, 1]}},
            "forward": "def forward(self, x):\n    y = self.conv(x)\n    return y.view(-1), x, F.relu(y)\n"}
    model = nnspec.from_dict(spec, seed=0).eval()
    plan = nnspec.compile(model)
    x = data((1, 2, 3, 3))
    flat, same, act = plan(x)
    first = flat.copy()
    plan(data((1, 2, 3, 3), 9))
    np.testing.assert_array_equal(flat, first)
    assert same is x
    for got, want in zip((flat, same, act), model(x)):
        close(got, want)


def test_unknown_pass_and_unplannable_forward_are_clear_errors():
    model = nnspec.from_dict({"Linear": [3, 2]}, seed=0)
    with pytest.raises(nnspec.NNSpecRuntimeError, match="unknown pass.*fold_batchnorm"):
        nnspec.compile(model, passes={"fold_bn": False})

    class ValueDependent(nnspec.Module):
        def forward(self, x):
            return x * float(x.sum())

    with pytest.raises(PlanError, match="cannot be planned ahead.*depends on its values"):
        nnspec.compile(ValueDependent(), [(2, 2)])
