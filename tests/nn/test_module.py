"""The Module API (registries, iteration, state_dict, modes, casts, hooks, containers) against torch.nn semantics.

Tests that compare with torch directly call ``pytest.importorskip("torch")`` themselves, so the rest of the
file runs where torch is not installed.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import nnspec
from nnspec import nn

SEED_DIR = Path(__file__).resolve().parents[2] / "models" / "seed"


def _torch():
    return pytest.importorskip("torch")


class Net(nn.Module):
    """A hand-written module, like a torch user's: own state, then children."""

    def __init__(self):
        super().__init__()
        self.par = nn.Parameter(np.zeros(1, dtype=np.float32))
        self.register_buffer("buffer", np.ones((2, 3), dtype=np.float32))
        self.conv2 = nn.Linear(1, 2)

    def forward(self, x):
        return self.conv2(x)


# --------------------------------------------------------------------------- registration


def test_setattr_registers_parameters_and_modules():
    m = nn.Module()
    p = nn.Parameter(np.zeros(3, dtype=np.float32))
    child = nn.ReLU()
    m.w = p
    m.act = child
    m.plain = 5
    assert m._parameters == {"w": p}
    assert m._modules == {"act": child}
    assert m.w is p and m.act is child and m.plain == 5
    assert "plain" not in m._parameters and "plain" not in m._modules and "plain" not in m._buffers
    assert [n for n, _ in m.named_parameters()] == ["w"]
    assert [n for n, _ in m.named_children()] == ["act"]


def test_setattr_plain_array_is_not_a_buffer():
    m = nn.Module()
    m.a = np.zeros(2)
    assert list(m.state_dict()) == []
    assert list(m.buffers()) == []


def test_reassigning_a_registered_parameter():
    m = nn.Module()
    m.w = nn.Parameter(np.zeros(2, dtype=np.float32))
    m.w = None  # allowed, as in torch: the slot stays registered, empty
    assert "w" in m._parameters and m.w is None
    assert list(m.state_dict()) == []
    with pytest.raises(nnspec.NNSpecRuntimeError, match="cannot assign 'ndarray' as parameter 'w'"):
        m.w = np.zeros(2)


def test_module_replaced_by_parameter_moves_registry():
    m = nn.Module()
    m.x = nn.ReLU()
    m.x = nn.Parameter(np.zeros(1, dtype=np.float32))
    assert "x" not in m._modules and "x" in m._parameters
    assert list(m.state_dict()) == ["x"]


def test_register_buffer_persistent_false_is_left_out_of_state_dict():
    m = nn.Module()
    m.register_buffer("kept", np.zeros(2, dtype=np.float32))
    m.register_buffer("scratch", np.zeros(3, dtype=np.float32), persistent=False)
    assert [n for n, _ in m.named_buffers()] == ["kept", "scratch"]
    assert list(m.state_dict()) == ["kept"]
    # re-registering as persistent puts it back
    m.register_buffer("scratch", np.zeros(3, dtype=np.float32), persistent=True)
    assert list(m.state_dict()) == ["kept", "scratch"]


def test_non_persistent_buffer_key_is_unexpected_on_load():
    m = nn.Module()
    m.register_buffer("scratch", np.zeros(3, dtype=np.float32), persistent=False)
    result = m.load_state_dict({"scratch": np.ones(3, dtype=np.float32)}, strict=False)
    assert result.unexpected_keys == ["scratch"]
    assert np.all(m.scratch == 0)


def test_register_parameter_none_leaves_no_state_dict_key():
    m = nn.Module()
    m.register_parameter("bias", None)
    m.register_buffer("stat", None)
    assert "bias" in m._parameters and m.bias is None
    assert m.stat is None
    assert list(m.state_dict()) == []
    assert list(m.named_parameters()) == []
    assert list(m.named_buffers()) == []


def test_linear_without_bias_has_no_bias_key():
    lin = nn.Linear(3, 2, bias=False)
    assert lin.bias is None
    assert list(lin.state_dict()) == ["weight"]
    assert [n for n, _ in lin.named_parameters()] == ["weight"]


@pytest.mark.parametrize("register", [
    lambda m: m.register_parameter("x", nn.Parameter(np.zeros(1, dtype=np.float32))),
    lambda m: m.register_buffer("x", np.zeros(1)),
    lambda m: m.add_module("x", nn.ReLU()),
], ids=["parameter", "buffer", "module"])
def test_register_over_an_existing_attribute_fails(register):
    m = nn.Module()
    m.x = 5
    with pytest.raises(nnspec.NNSpecRuntimeError, match="attribute 'x' already exists"):
        register(m)
    assert m.x == 5


def test_register_over_another_registry_fails():
    m = nn.Module()
    m.register_buffer("x", np.zeros(1))
    with pytest.raises(nnspec.NNSpecRuntimeError, match="attribute 'x' already exists"):
        m.register_parameter("x", nn.Parameter(np.zeros(1, dtype=np.float32)))
    with pytest.raises(nnspec.NNSpecRuntimeError, match="attribute 'training' already exists"):
        m.register_buffer("training", np.zeros(1))


def test_register_same_registry_twice_replaces():
    m = nn.Module()
    m.register_parameter("x", nn.Parameter(np.zeros(1, dtype=np.float32)))
    q = nn.Parameter(np.ones(2, dtype=np.float32))
    m.register_parameter("x", q)
    assert m.x is q


@pytest.mark.parametrize("name, message", [
    ("a.b", 'can\'t contain "."'),
    ("", "can't be empty string"),
    (3, "should be a string"),
])
def test_register_bad_names(name, message):
    m = nn.Module()
    with pytest.raises(nnspec.NNSpecRuntimeError, match=message):
        m.register_buffer(name, np.zeros(1))


def test_register_wrong_kinds():
    m = nn.Module()
    with pytest.raises(nnspec.NNSpecRuntimeError, match=r"\(Parameter or None required\)"):
        m.register_parameter("w", np.zeros(2))
    with pytest.raises(nnspec.NNSpecRuntimeError, match="is not a Module subclass"):
        m.add_module("c", 3)


def test_assign_before_init_fails():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(1, dtype=np.float32))

    with pytest.raises(nnspec.NNSpecRuntimeError, match=r"before Module.__init__\(\) call"):
        Bad()


def test_getattr_and_delattr():
    m = Net()
    assert m.buffer.shape == (2, 3)
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        _ = m.nope
    del m.buffer
    del m.conv2
    assert list(m.state_dict()) == ["par"]
    assert "buffer" in dir(Net()) and "conv2" in dir(Net())


def test_get_submodule():
    m = nnspec.from_dict({"name": "M", "modules": {"seq": {"Sequential": [{"Linear": [2, 3]}, "ReLU"]}}})
    assert m.get_submodule("") is m
    assert isinstance(m.get_submodule("seq.0"), nn.Linear)
    with pytest.raises(nnspec.NNSpecRuntimeError, match="has no attribute `7`"):
        m.get_submodule("seq.7")


# --------------------------------------------------------------------------- iteration


def shared_model():
    return nnspec.load(SEED_DIR / "shared_submodule.yaml", seed=0)


def test_shared_submodule_returned_once():
    m = shared_model()
    assert m.conv1 is m.conv2
    assert [n for n, _ in m.named_children()] == ["conv1"]
    assert list(m.children()) == [m.conv1]
    assert [n for n, _ in m.named_modules()] == ["", "conv1"]
    assert list(m.modules()) == [m, m.conv1]
    assert [n for n, _ in m.named_modules(remove_duplicate=False)] == ["", "conv1", "conv2"]
    assert [n for n, _ in m.named_parameters()] == ["conv1.weight", "conv1.bias"]
    assert len(list(m.parameters())) == 2


def test_shared_module_appears_under_both_names_in_state_dict():
    m = shared_model()
    sd = m.state_dict()
    assert list(sd) == ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"]
    assert sd["conv1.weight"] is sd["conv2.weight"]


def test_shared_parameter_returned_once():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    b.weight = a.weight
    seq = nn.Sequential(a, b)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    assert [n for n, _ in seq.named_parameters(remove_duplicate=False)] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_named_modules_prefix_and_order():
    m = nnspec.from_dict({
        "name": "Outer",
        "modules": {
            "block": {"name": "Block", "modules": {"a": {"Linear": [2, 2]}, "b": "ReLU"}},
            "head": {"Sequential": [{"Linear": [2, 1]}]},
        },
    })
    assert [n for n, _ in m.named_modules()] == ["", "block", "block.a", "block.b", "head", "head.0"]
    assert [n for n, _ in m.named_modules(prefix="model")] == [
        "model", "model.block", "model.block.a", "model.block.b", "model.head", "model.head.0"]
    assert [n for n, _ in m.named_parameters(prefix="p")] == ["p.block.a.weight", "p.block.a.bias",
                                                              "p.head.0.weight", "p.head.0.bias"]
    assert [n for n, _ in m.named_parameters(recurse=False)] == []
    assert [n for n, _ in m.block.a.named_parameters(recurse=False)] == ["weight", "bias"]


def test_buffers_and_named_buffers():
    bn = nn.BatchNorm1d(4)
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    seq = nn.Sequential(bn, nn.BatchNorm1d(2, track_running_stats=False))
    assert [n for n, _ in seq.named_buffers()] == ["0.running_mean", "0.running_var", "0.num_batches_tracked"]
    assert len(list(seq.buffers())) == 3
    assert list(seq.buffers(recurse=False)) == []


def test_parameters_are_the_registered_objects():
    lin = nn.Linear(3, 2)
    assert list(lin.parameters()) == [lin.weight, lin.bias]
    assert all(isinstance(p, nn.Parameter) for p in lin.parameters())


# --------------------------------------------------------------------------- state_dict


def test_state_dict_order_seed_example():
    m = nnspec.load(SEED_DIR / "state_dict.yaml", seed=0)
    assert list(m.state_dict()) == ["par", "buffer", "conv2.weight", "conv2.bias"]
    assert list(Net().state_dict()) == ["par", "buffer", "conv2.weight", "conv2.bias"]


def test_state_dict_values_share_memory_and_keep_vars():
    lin = nn.Linear(2, 3)
    sd = lin.state_dict()
    assert sd["weight"] is lin.weight.data
    assert isinstance(lin.state_dict(keep_vars=True)["weight"], nn.Parameter)
    sd2 = lin.state_dict(prefix="lin.")
    assert list(sd2) == ["lin.weight", "lin.bias"]


def test_state_dict_keys_batchnorm():
    assert list(nn.BatchNorm2d(3).state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                                    "num_batches_tracked"]
    assert list(nn.BatchNorm2d(3, affine=False).state_dict()) == ["running_mean", "running_var",
                                                                  "num_batches_tracked"]
    assert list(nn.BatchNorm2d(3, track_running_stats=False).state_dict()) == ["weight", "bias"]


def test_load_state_dict_round_trip():
    src = nnspec.load(SEED_DIR / "state_dict.yaml", seed=1)
    dst = nnspec.load(SEED_DIR / "state_dict.yaml", seed=2)
    assert not np.array_equal(src.conv2.weight.data, dst.conv2.weight.data)
    weight_obj = dst.conv2.weight.data
    result = dst.load_state_dict({k: v.copy() for k, v in src.state_dict().items()})
    assert result == ([], [])
    assert result.missing_keys == [] and result.unexpected_keys == []
    for k, v in src.state_dict().items():
        np.testing.assert_array_equal(dst.state_dict()[k], v)
    assert dst.conv2.weight.data is weight_obj  # copied in place, like torch's param.copy_()


def test_load_state_dict_accepts_parameters_and_float64():
    lin = nn.Linear(2, 2)
    lin.load_state_dict({"weight": nn.Parameter(np.eye(2)), "bias": np.array([1.0, 2.0])})
    np.testing.assert_array_equal(lin.weight.data, np.eye(2, dtype=np.float32))
    assert lin.weight.dtype == np.float32
    np.testing.assert_array_equal(lin.bias.data, [1, 2])


def test_load_state_dict_missing_key_strict():
    lin = nn.Linear(2, 3)
    before = lin.weight.data.copy()
    with pytest.raises(nnspec.WeightsError) as info:
        lin.load_state_dict({"weight": np.ones((3, 2), dtype=np.float32)})
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Linear:")
    assert 'Missing key(s) in state_dict: "bias".' in msg
    assert "Unexpected" not in msg
    # torch copies what matched before raising; nnspec leaves a model untouched by a failed load
    np.testing.assert_array_equal(lin.weight.data, before)


def test_load_state_dict_unexpected_key_strict():
    lin = nn.Linear(2, 3)
    sd = dict(lin.state_dict())
    sd["extra"] = np.zeros(1)
    with pytest.raises(nnspec.WeightsError, match=r'Unexpected key\(s\) in state_dict: "extra"\.'):
        lin.load_state_dict(sd)


def test_load_state_dict_missing_and_unexpected_together():
    m = Net()
    with pytest.raises(nnspec.WeightsError) as info:
        m.load_state_dict({"par": np.zeros(1), "conv2.weights": np.zeros((2, 1))})
    msg = str(info.value)
    assert 'Missing key(s) in state_dict: "buffer", "conv2.weight", "conv2.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "conv2.weights".' in msg
    assert msg.index("Missing") < msg.index("Unexpected")


def test_load_state_dict_size_mismatch():
    lin = nn.Linear(2, 3)
    with pytest.raises(nnspec.WeightsError) as info:
        lin.load_state_dict({"weight": np.zeros((3, 4)), "bias": np.zeros(3)})
    msg = str(info.value)
    assert "size mismatch for weight: copying a param with shape (3, 4) from checkpoint, " \
           "the shape in current model is (3, 2)." in msg
    # a size mismatch is an error even when strict=False, as in torch
    with pytest.raises(nnspec.WeightsError, match="size mismatch for bias"):
        lin.load_state_dict({"bias": np.zeros(5)}, strict=False)


def test_load_state_dict_non_strict_returns_missing_and_unexpected():
    m = Net()
    result = m.load_state_dict({"par": np.full(1, 7.0), "other": np.zeros(2)}, strict=False)
    assert result.missing_keys == ["buffer", "conv2.weight", "conv2.bias"]
    assert result.unexpected_keys == ["other"]
    missing, unexpected = result
    assert missing == result.missing_keys and unexpected == result.unexpected_keys
    assert m.par.data[0] == 7.0  # what was there was still loaded


def test_load_state_dict_bias_key_unexpected_without_bias():
    lin = nn.Linear(2, 3, bias=False)
    result = lin.load_state_dict({"weight": np.zeros((3, 2)), "bias": np.zeros(3)}, strict=False)
    assert result == ([], ["bias"])


def test_load_state_dict_into_shared_module_both_names():
    m = shared_model()
    sd = {k: np.full(v.shape, 0.5, dtype=v.dtype) for k, v in m.state_dict().items()}
    assert m.load_state_dict(sd) == ([], [])
    assert np.all(m.conv1.weight.data == 0.5)
    with pytest.raises(nnspec.WeightsError, match=r'Missing key\(s\) in state_dict: "conv2.weight", "conv2.bias"'):
        m.load_state_dict({"conv1.weight": sd["conv1.weight"], "conv1.bias": sd["conv1.bias"]})


def test_batchnorm_tolerates_missing_num_batches_tracked():
    bn = nn.BatchNorm1d(3)
    sd = {k: v for k, v in nn.BatchNorm1d(3).state_dict().items() if k != "num_batches_tracked"}
    sd["running_mean"] = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    assert bn.load_state_dict(sd) == ([], [])
    np.testing.assert_array_equal(bn.running_mean, [1, 2, 3])
    assert bn.num_batches_tracked.dtype == np.int64
    # nested, with a prefix
    seq = nn.Sequential(nn.BatchNorm1d(3))
    assert seq.load_state_dict({"0." + k: v for k, v in sd.items()}) == ([], [])
    # other BatchNorm keys are still required
    with pytest.raises(nnspec.WeightsError, match=r'Missing key\(s\) in state_dict: "running_var"'):
        nn.BatchNorm1d(3).load_state_dict({k: v for k, v in sd.items() if k != "running_var"})


def test_batchnorm_missing_num_batches_tracked_keeps_current_value_like_torch():
    torch = _torch()
    tbn = torch.nn.BatchNorm1d(3)
    tbn.num_batches_tracked.fill_(5)
    tsd = {k: v for k, v in tbn.state_dict().items() if k != "num_batches_tracked"}
    tbn.load_state_dict(tsd)
    bn = nn.BatchNorm1d(3)
    bn.num_batches_tracked[...] = 5
    bn.load_state_dict({k: v.numpy() for k, v in tsd.items()})
    assert int(bn.num_batches_tracked) == int(tbn.num_batches_tracked) == 5


def test_load_state_dict_does_not_mutate_the_given_dict():
    bn = nn.BatchNorm1d(2)
    sd = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    keys = list(sd)
    bn.load_state_dict(sd)
    assert list(sd) == keys


# --------------------------------------------------------------------------- modes, grads, casts


def test_train_eval_recursive():
    m = nnspec.from_dict({"name": "M", "modules": {"seq": {"Sequential": [{"Dropout": [0.5]}, "ReLU"]}}})
    assert all(mod.training for mod in m.modules())
    assert m.eval() is m
    assert not any(mod.training for mod in m.modules())
    assert m.train() is m
    assert all(mod.training for mod in m.modules())
    m.train(False)
    assert not m.seq[0].training
    with pytest.raises(nnspec.NNSpecRuntimeError, match="boolean"):
        m.train("yes")


def test_train_mode_of_a_child_only():
    m = nn.Sequential(nn.Dropout(), nn.Sequential(nn.Dropout()))
    m[1].eval()
    assert m.training and m[0].training
    assert not m[1].training and not m[1][0].training


def test_dropout_train_vs_eval():
    d = nn.Dropout(0.5)
    x = np.ones((50, 40), dtype=np.float32)
    nnspec.manual_seed(0)
    y = d(x)
    assert set(np.unique(y)) <= {0.0, 2.0} and (y == 0).any() and (y == 2).any()
    d.eval()
    np.testing.assert_array_equal(d(x), x)


def test_zero_grad():
    lin = nn.Linear(2, 3)
    for p in lin.parameters():
        p.grad = np.ones(p.shape, dtype=np.float32)
    lin.zero_grad(set_to_none=False)
    assert all(np.all(p.grad == 0) and p.grad.shape == p.shape for p in lin.parameters())
    lin.zero_grad()
    assert all(p.grad is None for p in lin.parameters())


def test_requires_grad_():
    lin = nn.Linear(2, 3)
    assert lin.requires_grad_(False) is lin
    assert not any(p.requires_grad for p in lin.parameters())


@pytest.mark.parametrize("cast, dtype", [
    (lambda m: m.to("float64"), np.float64),
    (lambda m: m.to(dtype="float64"), np.float64),
    (lambda m: m.to(np.float16), np.float16),
    (lambda m: m.double(), np.float64),
    (lambda m: m.half(), np.float16),
    (lambda m: m.double().float(), np.float32),
], ids=["to-str", "to-kw", "to-numpy", "double", "half", "float"])
def test_casts_only_floating_state(cast, dtype):
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    weight = m[0].weight
    assert cast(m) is m
    assert m[0].weight is weight  # the Parameter is kept, its data replaced
    for name, value in m.state_dict().items():
        if name.endswith("num_batches_tracked"):
            assert value.dtype == np.int64
        else:
            assert value.dtype == dtype, name
    y = m.eval()(np.ones((4, 2), dtype=dtype))
    assert y.dtype == dtype


def test_to_cpu_and_bad_dtype():
    lin = nn.Linear(2, 2)
    w = lin.weight.data
    assert lin.to("cpu") is lin and lin.cpu() is lin
    assert lin.weight.dtype == np.float32
    np.testing.assert_array_equal(lin.weight.data, w)
    with pytest.raises(nnspec.NNSpecRuntimeError, match="unknown dtype"):
        lin.to("float128x")


def test_apply_visits_children_first():
    m = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


# --------------------------------------------------------------------------- calling and hooks


def test_root_without_forward_raises():
    m = nnspec.load(SEED_DIR / "state_dict.yaml", seed=0)  # a user-defined module with no forward key
    with pytest.raises(nnspec.NNSpecRuntimeError, match=r'Module \[Model\] is missing the required "forward" function'):
        m(np.zeros((1, 1), dtype=np.float32))
    with pytest.raises(nnspec.NNSpecRuntimeError, match=r'Module \[Module\] is missing the required "forward" function'):
        nn.Module()()


def test_forward_hook_sees_args_and_output_and_can_replace():
    lin = nn.Linear(2, 3)
    seen = []

    def hook(module, args, output):
        seen.append((module, args[0].shape, output.shape))

    handle = lin.register_forward_hook(hook)
    x = np.ones((4, 2), dtype=np.float32)
    y = lin(x)
    assert seen == [(lin, (4, 2), (4, 3))]
    replace = lin.register_forward_hook(lambda m, a, o: o * 0)
    assert np.all(lin(x) == 0)
    replace.remove()
    handle.remove()
    np.testing.assert_array_equal(lin(x), y)
    assert len(seen) == 2  # not called after remove()
    handle.remove()  # removing twice is harmless


def test_forward_pre_hook_can_replace_args():
    relu = nn.ReLU()
    calls = []
    h1 = relu.register_forward_pre_hook(lambda m, args: calls.append("first"))
    h2 = relu.register_forward_pre_hook(lambda m, args: -args[0])  # a non-tuple result becomes (result,)
    h3 = relu.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    np.testing.assert_array_equal(relu(np.array([-1.0, 2.0])), [2.0, 0.0])
    assert calls == ["first"]
    for h in (h1, h2, h3):
        h.remove()
    np.testing.assert_array_equal(relu(np.array([-1.0, 2.0])), [0.0, 2.0])
    assert calls == ["first"]


def test_hooks_order_and_context_manager():
    relu = nn.ReLU()
    order = []
    relu.register_forward_pre_hook(lambda m, a: order.append("pre"))
    with relu.register_forward_hook(lambda m, a, o: order.append("post1")):
        relu.register_forward_hook(lambda m, a, o: order.append("post2"))
        relu(np.zeros(1))
    relu(np.zeros(1))
    assert order == ["pre", "post1", "post2", "pre", "post2"]


def test_hooks_fire_on_children():
    seq = nnspec.load(SEED_DIR / "sequential.yaml", seed=0)
    names = []
    for name, mod in seq.named_modules():
        mod.register_forward_hook(lambda m, a, o, name=name: names.append((name, o.shape)))
    seq(np.zeros((1, 1, 32, 32), dtype=np.float32))
    assert names == [("0", (1, 20, 28, 28)), ("1", (1, 20, 28, 28)), ("2", (1, 64, 24, 24)),
                     ("3", (1, 64, 24, 24)), ("", (1, 64, 24, 24))]


# --------------------------------------------------------------------------- containers


def test_parameter_list():
    m = nnspec.load(SEED_DIR / "parameter_list.yaml", seed=0)
    pl = m.params
    assert isinstance(pl, nn.ParameterList)
    assert len(pl) == 10
    assert pl[0] is pl._parameters["0"] and pl[-1] is pl._parameters["9"]
    assert all(isinstance(p, nn.Parameter) and p.shape == (10, 10) for p in pl)
    assert list(pl) == list(pl.parameters())
    assert not np.array_equal(pl[0].data, pl[1].data)  # independent randn draws
    assert list(m.state_dict()) == [f"params.{i}" for i in range(10)]
    with pytest.raises(IndexError, match="out of range"):
        pl[10]
    with pytest.raises(nnspec.NNSpecRuntimeError, match="ParameterList should not be called"):
        pl()


def test_parameter_list_append_wraps_arrays_and_slices():
    pl = nn.ParameterList([np.zeros(1), nn.Parameter(np.ones(2))])
    pl.append(np.zeros(3))
    assert [p.shape for p in pl] == [(1,), (2,), (3,)]
    assert all(isinstance(p, nn.Parameter) for p in pl)
    sub = pl[1:]
    assert isinstance(sub, nn.ParameterList)
    assert list(sub) == [pl[1], pl[2]]
    assert list(sub.state_dict()) == ["0", "1"]


def test_parameter_dict():
    m = nnspec.load(SEED_DIR / "parameter_dict.yaml", seed=0)
    pd = m.params
    assert isinstance(pd, nn.ParameterDict)
    assert len(pd) == 2
    assert list(pd) == ["left", "right"]
    assert list(pd.keys()) == ["left", "right"]
    assert "left" in pd and "up" not in pd
    assert pd["left"] is pd._parameters["left"] and pd["left"].shape == (5, 10)
    assert [k for k, _ in pd.items()] == ["left", "right"]
    assert list(pd.values()) == [pd["left"], pd["right"]]
    with pytest.raises(KeyError):
        pd["up"]
    pd["up"] = np.zeros(2)
    assert isinstance(pd["up"], nn.Parameter)
    assert list(m.state_dict()) == ["params.left", "params.right", "params.up"]
    with pytest.raises(nnspec.NNSpecRuntimeError, match="ParameterDict should not be called"):
        pd()


def test_module_list():
    m = nnspec.load(SEED_DIR / "module_list.yaml", seed=0)
    ml = m.linears
    assert isinstance(ml, nn.ModuleList)
    assert len(ml) == 10
    assert ml[0] is ml._modules["0"] and ml[-1] is ml._modules["9"]
    assert all(isinstance(x, nn.Linear) for x in ml)
    assert len({id(x) for x in ml}) == 10  # repeat makes independent copies
    assert not np.array_equal(ml[0].weight.data, ml[1].weight.data)
    sub = ml[2:5]
    assert isinstance(sub, nn.ModuleList) and list(sub) == [ml[2], ml[3], ml[4]]
    assert list(sub._modules) == ["0", "1", "2"]  # renumbered, as torch does
    assert list(ml[::-3]) == [ml[9], ml[6], ml[3], ml[0]]
    with pytest.raises(IndexError, match="out of range"):
        ml[10]
    with pytest.raises(IndexError):
        ml[-11]
    ml.append(nn.ReLU())
    assert len(ml) == 11 and isinstance(ml[10], nn.ReLU)
    assert [n for n, _ in m.named_parameters()][:2] == ["linears.0.weight", "linears.0.bias"]


def test_module_dict():
    m = nnspec.load(SEED_DIR / "module_dict.yaml", seed=0)
    choices = m.choices
    assert isinstance(choices, nn.ModuleDict)
    assert len(choices) == 2
    assert list(choices) == ["conv", "pool"]
    assert list(choices.keys()) == ["conv", "pool"]
    assert isinstance(choices["conv"], nn.Conv2d) and isinstance(choices["pool"], nn.MaxPool2d)
    assert "conv" in choices and "lrelu" not in choices
    assert list(choices.values()) == [choices["conv"], choices["pool"]]
    assert [k for k, _ in choices.items()] == ["conv", "pool"]
    assert list(m.activations) == ["lrelu", "prelu"]
    with pytest.raises(KeyError):
        choices["nope"]
    choices["act"] = nn.ReLU()
    assert list(choices) == ["conv", "pool", "act"]
    assert list(m.state_dict()) == ["choices.conv.weight", "choices.conv.bias", "activations.prelu.weight"]


def test_sequential_list_form():
    seq = nnspec.load(SEED_DIR / "sequential.yaml", seed=0)
    assert len(seq) == 4
    assert [type(x).__name__ for x in seq] == ["Conv2d", "ReLU", "Conv2d", "ReLU"]
    assert seq[0] is seq._modules["0"] and seq[-1] is seq._modules["3"]
    sub = seq[1:3]
    assert isinstance(sub, nn.Sequential)
    assert list(sub._modules) == ["1", "2"]  # slicing keeps the names, as torch does
    assert sub[0] is seq[1] and sub[1] is seq[2]
    with pytest.raises(IndexError, match="out of range"):
        seq[4]
    y = seq(np.zeros((1, 1, 32, 32), dtype=np.float32))
    assert y.shape == (1, 64, 24, 24)
    np.testing.assert_allclose(seq[2:](seq[:2](np.ones((1, 1, 32, 32), dtype=np.float32))),
                               seq(np.ones((1, 1, 32, 32), dtype=np.float32)))


def test_sequential_ordereddict_form():
    seq = nnspec.load(SEED_DIR / "sequential_ordereddict.yaml", seed=0)
    assert list(seq._modules) == ["conv1", "relu1", "conv2", "relu2"]
    assert seq[0] is seq.conv1 and seq[-1] is seq.relu2
    assert list(seq.state_dict()) == ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"]
    assert list(seq[2:]._modules) == ["conv2", "relu2"]
    built = nn.Sequential(OrderedDict([("a", nn.ReLU()), ("b", nn.ReLU())]))
    assert list(built._modules) == ["a", "b"]
    built.append(nn.ReLU())
    assert list(built._modules) == ["a", "b", "2"]


# --------------------------------------------------------------------------- against torch directly


def _keys(pairs):
    return [name for name, _ in pairs]


def test_shared_submodule_matches_torch():
    torch = _torch()

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            conv = torch.nn.Conv2d(20, 20, 5)
            self.conv1 = conv
            self.conv2 = conv

    t, m = Model(), shared_model()
    assert _keys(m.named_modules()) == _keys(t.named_modules())
    assert _keys(m.named_modules(remove_duplicate=False)) == _keys(t.named_modules(remove_duplicate=False))
    assert _keys(m.named_children()) == _keys(t.named_children())
    assert _keys(m.named_parameters()) == _keys(t.named_parameters())
    assert list(m.state_dict()) == list(t.state_dict())
    assert [tuple(v.shape) for v in m.state_dict().values()] == [tuple(v.shape) for v in t.state_dict().values()]


def test_state_dict_example_matches_torch():
    torch = _torch()

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.par = torch.nn.Parameter(torch.rand(1))
            self.register_buffer("buffer", torch.randn(2, 3))
            self.conv2 = torch.nn.Linear(1, 2)

    t, m = Model(), nnspec.load(SEED_DIR / "state_dict.yaml", seed=0)
    assert list(m.state_dict()) == list(t.state_dict()) == ["par", "buffer", "conv2.weight", "conv2.bias"]
    assert _keys(m.named_parameters()) == _keys(t.named_parameters())
    assert _keys(m.named_buffers()) == _keys(t.named_buffers())
    assert _keys(m.named_modules()) == _keys(t.named_modules())


def test_nested_containers_match_torch():
    torch = _torch()
    tnn = torch.nn

    t = tnn.Sequential(OrderedDict([
        ("features", tnn.Sequential(tnn.Conv2d(3, 4, 3, bias=False), tnn.BatchNorm2d(4), tnn.ReLU())),
        ("blocks", tnn.ModuleList([tnn.Linear(4, 4) for _ in range(2)])),
        ("heads", tnn.ModuleDict({"a": tnn.Linear(4, 1), "b": tnn.PReLU()})),
        ("plist", tnn.ParameterList([tnn.Parameter(torch.zeros(2)) for _ in range(2)])),
        ("pdict", tnn.ParameterDict({"x": tnn.Parameter(torch.zeros(3))})),
        ("norm", tnn.BatchNorm1d(4, affine=False)),
    ]))
    m = nnspec.from_dict({
        "type": "Sequential",
        "modules": {
            "features": {"Sequential": [{"Conv2d": [3, 4, 3], "bias": False}, {"BatchNorm2d": [4]}, "ReLU"]},
            "blocks": {"type": "ModuleList", "repeat": 2, "module": {"Linear": [4, 4]}},
            "heads": {"ModuleDict": {"a": {"Linear": [4, 1]}, "b": "PReLU"}},
            "plist": {"type": "ParameterList", "repeat": 2, "parameter": {"shape": [2]}},
            "pdict": {"ParameterDict": {"x": {"shape": [3]}}},
            "norm": {"BatchNorm1d": [4], "affine": False},
        },
    }, seed=0)
    assert _keys(m.named_modules()) == _keys(t.named_modules())
    assert _keys(m.named_parameters()) == _keys(t.named_parameters())
    assert _keys(m.named_buffers()) == _keys(t.named_buffers())
    assert list(m.state_dict()) == list(t.state_dict())
    assert {k: tuple(v.shape) for k, v in m.state_dict().items()} == \
           {k: tuple(v.shape) for k, v in t.state_dict().items()}
    assert len(m) == len(t) and len(m.blocks) == len(t.blocks)
    assert list(m.heads) == list(t.heads) and list(m.pdict) == list(t.pdict)
    assert list(m[1:3]._modules) == list(t[1:3]._modules)
    assert list(m.blocks[1:]._modules) == list(t.blocks[1:]._modules)
    assert len(m.plist[1:]) == len(t.plist[1:])

    # the weights load both ways
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    np.testing.assert_array_equal(m.features[0].weight.data, t.features[0].weight.detach().numpy())
    t.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in m.state_dict().items()})


@pytest.mark.parametrize("make_bad", ["missing", "unexpected", "both", "deep"])
def test_load_state_dict_messages_match_torch(make_bad):
    torch = _torch()
    t = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    sd = {k: v.detach().numpy() for k, v in t.state_dict().items()}
    if make_bad in ("missing", "both"):
        del sd["0.bias"], sd["1.running_var"]
    if make_bad in ("unexpected", "both"):
        # torch lists unexpected keys module by module (root first), not in the dict's order
        sd["0.extra"] = np.zeros(1, dtype=np.float32)
        sd["zz"] = np.zeros(1, dtype=np.float32)
    if make_bad == "deep":
        sd["1.weight.x"] = np.zeros(1, dtype=np.float32)  # below a parameter: unexpected at module "1"
        sd["2.weight"] = np.zeros(1, dtype=np.float32)  # no child "2": unexpected at the root
        sd["weight"] = np.zeros(1, dtype=np.float32)
    with pytest.raises(RuntimeError) as terr:
        t.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    with pytest.raises(nnspec.WeightsError) as merr:
        m.load_state_dict(sd)
    assert merr.value.message == str(terr.value)

    tres = t.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=False)
    mres = m.load_state_dict(sd, strict=False)
    assert (mres.missing_keys, mres.unexpected_keys) == (tres.missing_keys, tres.unexpected_keys)


def test_casts_match_torch():
    torch = _torch()
    t = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3)).double()
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)).double()
    assert {k: str(v.dtype).removeprefix("torch.") for k, v in t.state_dict().items()} == \
           {k: str(v.dtype) for k, v in m.state_dict().items()}
    t.half(), m.half()
    assert {k: str(v.dtype).removeprefix("torch.") for k, v in t.state_dict().items()} == \
           {k: str(v.dtype) for k, v in m.state_dict().items()}


def test_missing_forward_message_matches_torch():
    torch = _torch()

    class Model(torch.nn.Module):
        pass

    with pytest.raises(NotImplementedError) as terr:
        Model()(torch.zeros(1))
    with pytest.raises(nnspec.NNSpecRuntimeError) as merr:
        nnspec.from_dict({"name": "Model"})(np.zeros(1))
    assert merr.value.message == str(terr.value)


def test_to_refuses_non_floating_dtypes():
    m = nn.Linear(2, 3)
    with pytest.raises(nnspec.NNSpecRuntimeError, match="only accepts floating point dtypes"):
        m.to(np.int64)
    assert m.weight.dtype == np.float32


def test_container_editing_matches_torch():
    torch = _torch()
    reprs = []
    for lib in (torch.nn, nn):
        s = lib.Sequential(lib.ReLU(), lib.Linear(2, 3), lib.ReLU())
        s.insert(1, lib.Dropout())
        s.pop(0)
        del s[0]
        ml = lib.ModuleList([lib.ReLU(), lib.Linear(1, 2)])
        ml.insert(0, lib.Dropout())
        ml[1] = lib.PReLU()
        ml.pop(0)
        md = lib.ModuleDict({"a": lib.ReLU()})
        md.update({"b": lib.Linear(1, 1)})
        md.pop("a")
        reprs.append((repr(s), repr(ml), repr(md), list(s.state_dict()), list(ml.state_dict())))
    assert reprs[0] == reprs[1]


def test_a_failed_load_changes_nothing():
    m = nnspec.loads("Sequential: [{Linear: [2, 3]}, {Linear: [3, 4]}]")
    before = {k: v.copy() for k, v in m.state_dict().items()}
    bad = {k: np.full(v.shape, 7.0, v.dtype) for k, v in before.items()}
    bad["1.weight"] = np.zeros((5, 5), np.float32)
    with pytest.raises(nnspec.WeightsError, match="size mismatch for 1.weight"):
        m.load_state_dict(bad)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_a_user_module_deep_copies_with_its_name_and_forward():
    """copy.deepcopy of a module whose forward comes from a model file: a new module with its own weights,
    the same name, repr and outputs (rebuilding one used to recurse while it had no name yet)."""
    import copy

    m = nnspec.load(Path(__file__).resolve().parents[2] / "models/seed/model_two_convs.yaml", seed=0)
    c = copy.deepcopy(m)
    x = np.ones((1, 1, 28, 28), np.float32)
    assert c._get_name() == m._get_name() and repr(c) == repr(m)
    np.testing.assert_array_equal(c(x), m(x))
    c.conv1.weight.data[...] = 0
    assert not np.array_equal(c(x), m(x))
