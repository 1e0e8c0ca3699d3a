"""What a plan must never do: fold what is written into or handed out, miss an in-place op, fold a
BatchNorm over the wrong dim, change a result's dtype, run a stale program after a mode change,
recompile for nothing, hang a forked child, touch the model while compiling, or skip what a Python
forward does between its children's calls. Each case was a bug once."""

from __future__ import annotations

import multiprocessing
import threading

import numpy as np
import pytest

import nnspec
from nnspec.nn import Linear
from nnspec.plan import PlanError
from nnspec.plan.record import shape_only_clone


class ZeroesFirst(nnspec.Module):
    """A Python module with a child and its own forward, which writes into an array between calls."""

    def __init__(self):
        super().__init__()
        self.fc = Linear(4, 3)

    def forward(self, x):
        y = self.fc(x)
        y[:, 0] = 0.0  # a write the recording could not see
        return y


def custom(forward: str, params: dict | None = None, modules: dict | None = None) -> nnspec.Module:
    spec = {"name": "M", "modules": modules or {}, "forward": forward}
    if params:
        spec["parameters"] = params
    return nnspec.from_dict(spec, seed=0).eval()


def data(shape, seed: int = 0, dtype=np.float32) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def test_a_constant_that_zero_padding_returns_is_not_folded_into_a_write():
    model = custom("def forward(self, x):\n    c = self.w * 2\n    y = F.pad(c, [0, 0])\n    y += x\n    return y\n",
                   {"w": {"shape": [4], "init": "randn"}})
    x = np.ones(4, np.float32)
    plan = nnspec.compile(model)
    for _ in range(3):  # each run adds x once, to a fresh 2 * w
        np.testing.assert_array_equal(plan(x), model(x))


def test_a_constant_handed_out_is_a_new_array_each_run():
    model = custom("def forward(self, x):\n    return F.pad(self.w * 2, [-1, -1]) + 0 * x, F.pad(self.w * 2, [0, 0])\n",
                   {"w": {"shape": [1, 6], "init": "randn"}})
    plan = nnspec.compile(model)
    x = np.ones((1, 4), np.float32)
    _, first = plan(x)
    first[...] = 123.0  # the caller edits what it was given
    _, second = plan(x)
    assert second is not first
    np.testing.assert_array_equal(second, model(x)[1])


def test_an_assert_on_values_is_checked_at_every_run():
    # its op returns nothing, so the recording kept it as a constant of the signature and the plan never checked
    model = custom("def forward(self, x):\n    assert x.sum() > 0, 'needs a positive sum'\n    return x * 2\n")
    plan = nnspec.compile(model)
    np.testing.assert_array_equal(plan(np.ones(3, np.float32)), 2 * np.ones(3, np.float32))
    for run in (model, plan):
        with pytest.raises(nnspec.NNSpecError, match="needs a positive sum") as info:
            run(-np.ones(3, np.float32))
    model = custom("def forward(self, x):\n    assert (x > 0).all(), 'positive'\n    return x\n")
    with pytest.raises(nnspec.NNSpecError) as info:
        model(-np.ones(3, np.float32))
    assert str(info.value).endswith(": assertion failed: positive") and "check on" not in str(info.value)


@pytest.mark.parametrize("write", ["y.mul_(2)", "y += 1", "y[0] = 1.0", "F.relu(y, inplace=True)"])
def test_a_write_into_an_expanded_view_is_an_nnspec_error_in_a_plan_too(write):
    # torch refuses it (one memory location, several elements); NumPy's broadcast view is read-only, and its
    # ValueError left the plan as it was
    model = custom(f"def forward(self, x):\n    y = x.expand(2, 2, 3)\n    {write}\n    return x\n")
    for run in (model, nnspec.compile(model)):
        with pytest.raises(nnspec.NNSpecError):
            run(data((2, 3)))
    if not write.startswith("F."):  # the ops that write through write_into and setitem say torch's words
        with pytest.raises(nnspec.NNSpecError, match="more than one element of the written-to tensor"):
            model(data((2, 3)))


def test_a_write_into_an_expand_of_the_same_size_writes_into_its_base():
    model = custom("def forward(self, x):\n    z = x + 1\n    y = z.expand_as(z)\n    y.mul_(2)\n"
                   "    w = z.expand(-1, 3)\n    w[0] = 5.0\n    return z\n")
    x = data((2, 3))
    want = (x + 1) * 2
    want[0] = 5.0
    for run in (model, nnspec.compile(model)):
        np.testing.assert_array_equal(run(x), want)


@pytest.mark.parametrize("call", ["F.leaky_relu(c, 0.1, True)", "F.relu(c, True)", "F.hardtanh(c, -1.0, 1.0, True)"])
def test_inplace_given_by_position_is_an_inplace_op(call):
    model = custom(f"def forward(self, x):\n    c = self.w * 2\n    a = x + c\n    {call}\n    return a + c\n",
                   {"w": {"shape": [4], "init": "randn"}})
    model.w.data[...] = np.array([-1, 1, -2, 2], np.float32)
    x = np.zeros(4, np.float32)
    np.testing.assert_array_equal(nnspec.compile(model)(x), model(x))


def test_compiling_never_runs_an_inplace_op_on_a_parameter():
    model = custom("def forward(self, x):\n    return x + F.leaky_relu(self.w, 0.5, True)\n",
                   {"w": {"shape": [2], "init": "randn"}})
    model.w.data[...] = np.array([-8, 1], np.float32)
    plan = nnspec.compile(model, [(2,)])
    np.testing.assert_array_equal(model.w.data, [-8, 1])  # compiling changed nothing
    twin = custom("def forward(self, x):\n    return x + F.leaky_relu(self.w, 0.5, True)\n",
                  {"w": {"shape": [2], "init": "randn"}})
    twin.w.data[...] = np.array([-8, 1], np.float32)
    for _ in range(3):  # and each run halves the weight again, as each call of the model does
        np.testing.assert_array_equal(plan(np.zeros(2, np.float32)), twin(np.zeros(2, np.float32)))


def test_batchnorm_after_an_unbatched_convolution_is_not_folded():
    rng = np.random.default_rng(0)
    for channels, length in ((6, 8), (7, 9)):  # BatchNorm1d normalises the conv's (C, L) output per column
        model = nnspec.from_dict({"Sequential": [{"Conv1d": [4, 6, 3]}, {"BatchNorm1d": [length - 2]}]}, seed=0).eval()
        bn = model[1]
        bn.running_mean[...] = rng.standard_normal(length - 2)
        bn.running_var[...] = rng.uniform(0.5, 2, length - 2)
        x = rng.standard_normal((4, length)).astype(np.float32)
        plan = nnspec.compile(model)
        np.testing.assert_allclose(plan(x), model(x), rtol=1e-5, atol=1e-5)
        assert "Conv1d+BatchNorm1d" not in [s.kind for s in plan.steps()]


def test_float16_batchnorm_is_not_folded():
    model = nnspec.from_dict({"Sequential": [{"Conv2d": [3, 4, 3]}, {"BatchNorm2d": [4]}]}, seed=0).eval().half()
    x = data((1, 3, 8, 8), dtype=np.float16)
    plan = nnspec.compile(model)
    np.testing.assert_array_equal(plan(x), model(x))
    assert [s.kind for s in plan.steps()] == ["Conv2d", "BatchNorm2d"]


@pytest.mark.parametrize("layer", ["Tanh", "Sigmoid"])
def test_an_integer_input_keeps_the_layers_conversion(layer):
    model = nnspec.from_dict({"Sequential": [layer]}, seed=0).eval()
    x = np.array([-3, -2, -1], np.int64)
    got, want = nnspec.compile(model)(x), model(x)
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_array_equal(got, want)


def test_setting_training_by_hand_recompiles():
    model = nnspec.from_dict({"Sequential": [{"Conv2d": [3, 4, 3]}, {"Dropout": [0.5]}]}, seed=0).eval()
    plan = nnspec.compile(model)
    x = data((2, 3, 8, 8))
    plan(x)
    assert [s.kind for s in plan.steps()] == ["Conv2d"]
    model[1].training = True
    y = plan(x)
    assert [s.kind for s in plan.steps()] == ["Conv2d", "Dropout"] and (y == 0).mean() > 0.2


def test_a_training_step_does_not_throw_plans_away():
    train = nnspec.from_dict({"Sequential": [{"Conv2d": [3, 4, 3]}, {"BatchNorm2d": [4]}]}, seed=0).train()
    other = nnspec.from_dict({"Sequential": [{"Linear": [3, 2]}]}, seed=0).eval()
    plan, other_plan = nnspec.compile(train), nnspec.compile(other)
    x = data((2, 3, 8, 8))
    plan(x)
    other_plan(data((1, 3)))
    compiled, other_compiled = plan.compiled([x]), other_plan.compiled([data((1, 3))])
    for _ in range(3):  # num_batches_tracked += 1 assigns the same array back: no state change
        plan(x)
        other_plan(data((1, 3)))
    assert plan.compiled([x]) is compiled and other_plan.compiled([data((1, 3))]) is other_compiled
    assert int(train[1].num_batches_tracked) == 4


def _pool_in_child(queue) -> None:
    model = nnspec.from_dict({"Sequential": [{"MaxPool2d": [3, 2, 1]}]}, seed=0).eval()
    queue.put(float(model(np.ones((8, 64, 112, 112), np.float32)).sum()))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform")
def test_a_forked_child_can_run_what_the_parent_ran_on_threads():
    model = nnspec.from_dict({"Sequential": [{"MaxPool2d": [3, 2, 1]}]}, seed=0).eval()
    model(np.ones((8, 64, 112, 112), np.float32))  # large enough to split over threads
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_pool_in_child, args=(queue,))
    child.start()
    child.join(60)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive and queue.get(timeout=5) == 8 * 64 * 56 * 56


def test_compiling_works_on_a_clone_and_leaves_the_model_alone():
    model = nnspec.load("models/resnet_blocks.yaml", seed=0).eval()
    clone, readers, originals = shape_only_clone(model)
    assert all(isinstance(p.data, np.ndarray) for p in model.parameters())
    assert not {id(p) for p in clone.parameters()} & {id(p) for p in model.parameters()}
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in model.named_parameters()]
    x = data((2, 3, 32, 32))
    want = model(x)
    errors: list[BaseException] = []

    def use_model():
        try:
            for _ in range(20):
                np.testing.assert_array_equal(model(x), want)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def compile_plans():
        try:
            for _ in range(5):
                np.testing.assert_allclose(nnspec.compile(model)(x), want, rtol=1e-4, atol=1e-4)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=use_model), threading.Thread(target=compile_plans),
               threading.Thread(target=compile_plans)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_a_python_forward_around_children_is_refused():
    with pytest.raises(PlanError, match="ZeroesFirst has submodules and a forward written in Python"):
        nnspec.compile(ZeroesFirst(), [(2, 4)])


def test_non_array_inputs_by_position_as_the_model_takes_them():
    model = nnspec.load("models/seed/module_dict.yaml", seed=0).eval()
    plan = nnspec.compile(model)
    x = data((1, 10, 32, 32))
    for choice, act in (("conv", "prelu"), ("pool", "lrelu")):
        np.testing.assert_allclose(plan(x, choice, act), model(x, choice, act), rtol=1e-5, atol=1e-6)


def test_measure_falls_back_to_the_forward_and_says_why():
    from nnspec.plan.timing import measure

    net = ZeroesFirst().eval()
    x = data((2, 4))
    timed = measure(net, [x], repeat=2)
    assert not timed.planned and "forward written in Python" in timed.reason
    np.testing.assert_array_equal(timed.output, net(x))
    assert timed.output[:, 0].tolist() == [0.0, 0.0] and len(timed.runs_ms) == 2
    assert [c.path for c in timed.calls] == ["(root)", "fc"]  # the model's own trace
    quiet = measure(net, [x], trace=False)
    assert quiet.calls == [] and not quiet.planned
