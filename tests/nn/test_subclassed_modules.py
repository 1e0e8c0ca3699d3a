"""Layers and containers a model file subclasses (``name:``, ``forward:``, ``inputs:``, ``attributes:`` on a layer,
Sequential, ModuleList or ModuleDict): the module is an instance of ``class <name>(CustomForward, <base>)``, its
repr torch's, its forward the file's or, renamed only, the base's; plans, static inference and costs treat one
with a forward as a custom forward and a renamed one as the layer itself. Parity with torch for many of them is in
tests/cases_subclass.py and models/examples/densenet.yaml."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import numpy as np
import pytest

import nnspec
from nnspec import nn
from nnspec.nn.user import CustomForward, base_class, has_custom_forward
from nnspec.plan.record import is_leaf
from nnspec.runtime.symbolic import Dim
from nnspec.static import infer
from subclass_texts import LAYER_NORM_2D

ROOT = Path(__file__).resolve().parents[2]
HAVE_TORCH = importlib.util.find_spec("torch") is not None
HAVE_TORCHVISION = HAVE_TORCH and importlib.util.find_spec("torchvision") is not None

LN2D = {"LayerNorm": [96], "eps": 1.0e-6, "name": "LayerNorm2d", "forward": LAYER_NORM_2D}


def _torchvision():
    import sys
    import types

    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import torchvision

    return torchvision


# --------------------------------------------------------------------------- the class


def test_a_layer_with_a_forward_is_a_subclass_of_the_layer():
    m = nnspec.from_dict(LN2D)
    assert type(m).__name__ == "LayerNorm2d" and isinstance(m, nn.LayerNorm) and isinstance(m, CustomForward)
    assert base_class(m) is nn.LayerNorm and has_custom_forward(m) and not isinstance(m, nn.UserModule)
    assert repr(m) == "LayerNorm2d((96,), eps=1e-06, elementwise_affine=True, bias=True)"
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == [("weight", (96,)), ("bias", (96,))]
    # the forward reads the layer's hyperparameters as the constants they are
    assert m.normalized_shape == (96,) and m.eps == 1e-6
    assert [n.target for n in m.graph.nodes if n.op == "call_function"] == ["F.layer_norm"]


def test_one_class_per_name_and_base():
    m = nnspec.from_dict({"Sequential": [LN2D, LN2D, {**LN2D, "name": "Other"}]})
    assert type(m[0]) is type(m[1]) and type(m[2]) is not type(m[0])
    assert type(m).__name__ == "Sequential" and type(m) is nn.Sequential  # not subclassed: the plain class


def test_a_renamed_layer_runs_its_base_forward():
    x = np.random.default_rng(0).standard_normal((2, 5, 96)).astype(np.float32)
    plain = nnspec.from_dict({"LayerNorm": [96]}, seed=0)
    renamed = nnspec.from_dict({"LayerNorm": [96], "name": "Norm"}, seed=0)
    assert repr(renamed) == "Norm((96,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert not has_custom_forward(renamed) and renamed.graph is None and is_leaf(renamed)
    np.testing.assert_array_equal(renamed(x), plain(x))


def test_a_renamed_container_runs_its_base_forward():
    seq = {"Sequential": [{"Linear": [4, 3]}, "ReLU"]}
    x = np.ones((2, 4), np.float32)
    plain, renamed = nnspec.from_dict(seq, seed=0), nnspec.from_dict({**seq, "name": "_Transition"}, seed=0)
    assert repr(renamed).startswith("_Transition(\n  (0): Linear(") and isinstance(renamed, nn.Sequential)
    np.testing.assert_array_equal(renamed(x), plain(x))
    ml = nnspec.from_dict({"ModuleList": [{"Linear": [4, 3]}], "name": "Heads"})
    assert repr(ml).startswith("Heads(") and isinstance(ml, nn.ModuleList)
    with pytest.raises(nnspec.NNSpecError, match=r'Module \[Heads\] is missing the required "forward"'):
        ml(x)  # as in torch: a ModuleList has no forward


def test_attributes_of_a_subclass_are_constants_its_forward_reads():
    m = nnspec.from_dict({"Linear": [6, 4], "name": "ScaledLinear", "attributes": {"scale": 0.5, "dims": [0, 1]},
                          "forward": "return F.linear(x.reshape(-1, self.in_features), self.weight, self.bias) "
                                     "* self.scale"}, seed=0)
    assert m.scale == 0.5 and m.dims == (0, 1)
    x = np.ones((2, 3, 6), np.float32)
    np.testing.assert_allclose(m(x), (x.reshape(-1, 6) @ m.weight.data.T + m.bias.data) * 0.5, rtol=1e-6)


# --------------------------------------------------------------------------- against torch


@pytest.mark.skipif(not HAVE_TORCH, reason="needs torch")
def test_layernorm2d_matches_a_torch_subclass():
    import torch

    class LayerNorm2d(torch.nn.LayerNorm):
        def forward(self, x):
            x = x.permute(0, 2, 3, 1)
            x = torch.nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
            return x.permute(0, 3, 1, 2)

    twin = LayerNorm2d(96, eps=1e-6)
    with torch.no_grad():
        twin.weight.normal_()
        twin.bias.normal_()
    m = nnspec.from_dict(LN2D)
    assert repr(m) == repr(twin)
    m.load_state_dict({k: v.numpy() for k, v in twin.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 96, 5, 7)).astype(np.float32)
    want = twin(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(m(x), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(nnspec.compile(m)(x), want, rtol=1e-5, atol=1e-5)
    if HAVE_TORCHVISION:  # torchvision's own, the class this mirrors
        _torchvision()
        from torchvision.models.convnext import LayerNorm2d as Theirs

        assert repr(Theirs(96, eps=1e-6)) == repr(m)


@pytest.mark.skipif(not HAVE_TORCHVISION, reason="needs torchvision")
def test_densenet_example_is_torchvisions_densenet():
    import torch

    _torchvision()
    from torchvision.models.densenet import DenseNet

    torch.manual_seed(0)
    theirs = DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, bn_size=2, num_classes=5).eval()
    with torch.no_grad():
        for name, b in theirs.named_buffers():
            if b.is_floating_point():
                b.uniform_(0.5, 1.5)
    m = nnspec.load(ROOT / "models" / "examples" / "densenet.yaml").eval()
    assert repr(m) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    m.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((2, 3, 32, 32)).astype(np.float32)
    want = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(m(x), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(nnspec.compile(m)(x), want, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------- plans, static inference, costs


def test_a_plan_runs_a_subclass_graph_and_a_renamed_layers_kernels():
    model = nnspec.from_dict({"Sequential": [{"Conv2d": [3, 96, 3], "name": "StemConv"},
                                             {"BatchNorm2d": [96], "name": "FrozenBN"},
                                             {"type": "ReLU", "name": "Act"}, LN2D]}, seed=0).eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    plan = nnspec.compile(model, [x.shape])
    steps = next(iter(plan._compiled.values())).program.steps
    # the renamed conv, batch norm and ReLU fuse as the layers do; LayerNorm2d is its forward's three ops
    assert [s.kind for s in steps] == ["Conv2d+BatchNorm2d+ReLU", ".permute()", "F.layer_norm", ".permute()"]
    np.testing.assert_allclose(plan(x), model(x), rtol=1e-5, atol=1e-5)
    assert not is_leaf(model[3]) and is_leaf(model[0])


def test_static_inference_and_costs_of_subclasses():
    renamed = nnspec.from_dict({"Conv2d": [3, 8, 3], "name": "StemConv"}, meta=True)
    plain = nnspec.from_dict({"Conv2d": [3, 8, 3]}, meta=True)
    assert infer(renamed, [(2, 3, 10, 10)]).calls[0].mult_adds == infer(plain, [(2, 3, 10, 10)]).calls[0].mult_adds > 0
    found = infer(nnspec.from_dict(LN2D, meta=True), [(Dim.symbol("N"), 96, Dim.symbol("H"), Dim.symbol("W"))])
    assert tuple(map(str, found.output.shape)) == ("N", "96", "H", "W")
    assert [c.type for c in found.calls] == ["LayerNorm2d", ".permute()", "F.layer_norm", ".permute()"]
    assert found.calls[0].mult_adds == 0  # a custom forward's ops count, not the layer's rule


def test_summary_lists_a_layer_subclass_forward():
    from nnspec.summary import forward_graphs

    model = nnspec.from_dict({"Sequential": {"norm": LN2D, "act": {"type": "ReLU", "name": "Act"}}})
    assert [(path, name) for path, name, _ in forward_graphs(model)] == [("norm", "LayerNorm2d")]


def test_inputs_of_a_root_subclass():
    from nnspec.inputs import bind_call, input_names

    renamed = nnspec.from_dict({"Bilinear": [3, 4, 5], "name": "MyBilinear"})
    assert input_names(renamed) == ["input1", "input2"]  # the base's signature, not forward(*args)
    with pytest.raises(nnspec.NNSpecError, match="takes the input"):
        bind_call(renamed, [np.zeros((2, 3), np.float32)])
    assert input_names(nnspec.from_dict({**LN2D, "forward": "return x + y", "inputs": ["x", "y"]})) == ["x", "y"]


# --------------------------------------------------------------------------- containers with a forward


def test_a_module_dict_subclass_iterates_its_items():
    forward = textwrap.dedent("""\
        def forward(self, x):
            outs = []
            for name, layer in self.items():
                outs.append(layer(x))
            for layer in self.values():
                outs.append(layer(x))
            return torch.cat(outs, -1)
        """)
    m = nnspec.from_dict({"ModuleDict": {"a": {"Linear": [4, 2]}, "b": {"Linear": [4, 3]}}, "name": "Heads",
                          "forward": forward}, seed=0)
    x = np.ones((2, 4), np.float32)
    a, b = m["a"](x), m["b"](x)
    np.testing.assert_allclose(m(x), np.concatenate([a, b, a, b], -1), rtol=1e-6)


def test_a_sequential_subclass_reads_its_children_by_name():
    m = nnspec.from_dict({"Sequential": {"conv": {"Linear": [4, 4]}, "act": "ReLU"}, "name": "Residual",
                          "attributes": {"use_res_connect": True},
                          "forward": "return x + self.act(self.conv(x)) if self.use_res_connect else x"}, seed=0)
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(m(x), x + np.maximum(m.conv(x), 0), rtol=1e-6)


# a container subclass's forward reads its own entries: for layer in self, self[0], len(self)
@pytest.mark.parametrize("kind", ["ModuleList", "Sequential"])
def test_a_list_subclass_loops_over_self(kind):
    m = nnspec.from_dict({kind: [{"Linear": [4, 4]}, "ReLU"], "name": "Stack",
                          "forward": "for layer in self:\n    x = layer(x)\nreturn x"}, seed=0)
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(m(x), np.maximum(m[0](x), 0), rtol=1e-6)


def test_a_list_subclass_indexes_self():
    m = nnspec.from_dict({"ModuleList": [{"Linear": [4, 4]}], "name": "Stack",
                          "forward": "return self[0](x) * len(self)"}, seed=0)
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(m(x), m[0](x), rtol=1e-6)


def test_a_forward_calls_a_module_dict_subclass():
    m = nnspec.from_dict({"name": "Net", "modules": {"block": {"ModuleDict": {"a": {"Linear": [4, 4]}}, "name": "Block",
                                                               "forward": "return self.a(x)"}},
                          "forward": "return self.block(x)"}, seed=0)
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(m(x), m.block.a(x), rtol=1e-6)
    with pytest.raises(nnspec.NNSpecError, match="call one of its entries"):  # one without a forward: as before
        nnspec.from_dict({"name": "Net", "modules": {"block": {"ModuleDict": {"a": {"Linear": [4, 4]}}}},
                          "forward": "return self.block(x)"})
