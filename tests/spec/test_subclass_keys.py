"""The subclass keys of a layer or container (``name``, ``forward``, ``inputs``, ``attributes``): how they sit beside
a layer's own arguments and its shorthand, what they refuse and where the refusal points, and the JSON Schema's view
of them. What the built module is and does: tests/nn/test_subclassed_modules.py."""

from __future__ import annotations

import functools

import jsonschema
import pytest
import yaml
from pydantic import StrictBool, StrictInt

import nnspec
from nnspec import nn
from nnspec.spec import validate
from nnspec.spec.models import CONTAINER_SPECS, LAYER_SPECS, SUBCLASS_KEYS, layer_spec
from nnspec.spec.schema import json_schema
from subclass_texts import LAYER_NORM_2D



def _error(text: str) -> str:
    with pytest.raises(nnspec.NNSpecError) as info:
        nnspec.loads(text, filename="m.yaml", meta=True)
    return str(info.value)


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema())


def _schema_accepts(text: str) -> bool:
    return not list(_validator().iter_errors(yaml.safe_load(text)))


# --------------------------------------------------------------------------- the keys


def test_every_layer_and_container_takes_the_subclass_keys():
    # no torch argument of nnspec's vocabulary is named name, forward, inputs or attributes today
    assert {kind: spec.subclass_keys for kind, spec in LAYER_SPECS.items() if spec.subclass_keys != SUBCLASS_KEYS} \
        == {}
    for kind in ("Sequential", "ModuleList", "ModuleDict", "Module"):
        assert set(SUBCLASS_KEYS) <= set(CONTAINER_SPECS[kind].model_fields), kind
    for kind in ("ParameterList", "ParameterDict"):  # they have no forward in torch either
        assert not set(SUBCLASS_KEYS) & set(CONTAINER_SPECS[kind].model_fields)


def test_a_torch_argument_named_like_a_subclass_key_stays_the_argument():
    class Tagged(nn.Module):
        def __init__(self, size: int, name: str = "tag", forward: bool = False):
            super().__init__()
            self.size, self.tag, self.flag = size, name, forward

    spec = layer_spec(Tagged, size=StrictInt, name=str, forward=StrictBool)
    assert spec.positional == ("size", "name", "forward") and spec.subclass_keys == ("inputs", "attributes")
    s = spec.model_validate({"type": "Tagged", "size": 2, "name": "abc", "forward": True, "attributes": {"k": 1}})
    assert s.kwargs() == {"size": 2, "name": "abc", "forward": True}  # the layer's arguments, the keys left out
    assert s.subclass() == ("Tagged", None, None, {"k": 1})  # not renamed, no forward of its own


def test_the_keys_beside_positional_arguments_and_in_the_one_key_forms():
    for data in ({"LayerNorm": [96], "eps": 1e-6, "name": "LayerNorm2d", "forward": LAYER_NORM_2D},
                 {"LayerNorm": 96, "eps": 1e-6, "name": "LayerNorm2d", "forward": LAYER_NORM_2D},
                 {"LayerNorm": {"normalized_shape": 96, "eps": 1e-6, "name": "LayerNorm2d"}, "forward": LAYER_NORM_2D},
                 {"type": "LayerNorm", "normalized_shape": 96, "eps": 1e-6, "name": "LayerNorm2d",
                  "forward": LAYER_NORM_2D}):
        spec, _ = validate(data)
        assert spec.kwargs() == {"normalized_shape": 96, "eps": 1e-6, "elementwise_affine": True, "bias": True}
        assert spec.subclass() == ("LayerNorm2d", LAYER_NORM_2D, None, {})
    spec, _ = validate({"ModuleDict": {"a": "ReLU"}, "name": "_DenseBlock", "forward": "return x"})
    assert spec.subclass() == ("_DenseBlock", "return x", None, {})
    spec, _ = validate({"Sequential": ["ReLU"]})
    assert spec.subclass() == ("Sequential", None, None, {})


def test_a_block_whose_body_is_a_layer_subclass():
    text = f"""\
blocks:
  LayerNorm2d:
    args: {{dim: int}}
    LayerNorm: [$dim]
    eps: 1.0e-6
    name: LayerNorm2d
    forward: |
{"".join("      " + line + chr(10) for line in LAYER_NORM_2D.splitlines())}
Sequential:
  - {{LayerNorm2d: {{dim: 8}}}}
  - {{LayerNorm2d: {{dim: 8}}}}
"""
    model = nnspec.loads(text)
    assert repr(model[1]) == "LayerNorm2d((8,), eps=1e-06, elementwise_affine=True, bias=True)"
    assert model[0].graph is not None and type(model[0]) is type(model[1])


# --------------------------------------------------------------------------- refusals, placed


@pytest.mark.parametrize("text, expected", [
    ("LayerNorm: [8]\nname: Layer Norm\n", "m.yaml:2:7: name: String should match pattern"),
    ("ModuleList: [ReLU]\nname: 1abc\n", "m.yaml:2:7: name: String should match pattern"),
    ("LayerNorn: [8]\nname: LayerNorm2d\nforward: 'return x'\n",
     "m.yaml:1:1: (root): unknown module type 'LayerNorn'; did you mean 'LayerNorm'?"),
    ("LayerNorm: [8]\ninputs: [x]\n", "m.yaml:2:9: inputs: inputs are given but there is no forward"),
    ("ModuleDict: {a: ReLU}\ninputs: [self]\nforward: 'return x'\n", "inputs must be distinct names other than self"),
    ("LayerNorm: [8]\nname: N\nattributes:\n  eps: 1\n",
     "m.yaml:4:8: attributes.eps: 'eps' can't be an attribute name: it is an argument of the LayerNorm"),
    ("Conv2d: [1, 2, 3]\nname: C\nattributes:\n  transposed: true\n",
     "m.yaml:4:15: attributes.transposed: 'transposed' can't be an attribute name: C (a Conv2d) has one already"),
    ("ModuleDict: {a: ReLU}\nattributes: {a: 1}\n",
     "m.yaml:2:17: attributes.a: 'a' can't be an attribute name: it is a module of the ModuleDict"),
    ("ModuleList: [ReLU]\nattributes: {training: 1}\n",
     "m.yaml:2:24: attributes.training: 'training' can't be an attribute name: it is a Module attribute"),
])
def test_refusals_are_placed(text, expected):
    assert expected in _error(text)


def test_a_layer_forward_that_does_not_compile_is_placed_in_it():
    text = ("Sequential:\n"
            "  - LayerNorm: [8]\n"
            "    name: LayerNorm2d\n"
            "    forward: |\n"
            "      def forward(self, x):\n"
            "          y = x.permute(0, 2, 3, 1)\n"
            "          return F.layer_norm(y, self.normalized_shape, self.weight, self.bias, self.epsilon)\n")
    col = text.splitlines()[6].index("self.epsilon") + 1
    assert _error(text) == f"m.yaml:7:{col}: modules.0.forward: LayerNorm2d has no submodule, parameter, buffer or " \
                           "hyperparameter 'epsilon'"


# --------------------------------------------------------------------------- the JSON Schema


@pytest.mark.parametrize("text", [
    "LayerNorm: [96]\neps: 1.0e-6\nname: LayerNorm2d\nforward: 'return x'\n",
    "LayerNorm: {normalized_shape: 96, name: LayerNorm2d}\n",
    "type: Linear\nin_features: 2\nout_features: 3\nname: Head\nattributes: {scale: 2.0}\ninputs: [y]\n"
    "forward: 'return F.linear(y, self.weight) * self.scale'\n",
    "ModuleDict: {a: ReLU}\nname: _DenseBlock\nforward: 'return x'\n",
    "ModuleList: [ReLU]\nname: Heads\n",
    "Sequential: [ReLU]\nname: _Transition\nattributes: {k: [1, 2]}\n",
])
def test_the_schema_takes_what_nnspec_takes(text):
    assert _schema_accepts(text)
    nnspec.loads(text, meta=True)


@pytest.mark.parametrize("text", [
    "LayerNorm: [8]\ninputs: [x]\n",
    "LayerNorm: [8]\nname: Layer Norm\n",
    "ModuleList: [ReLU]\nattributes: {training: 1}\n",
    "Sequential: [ReLU]\nattributes: {__init__: 1}\n",
    "ModuleDict: {a: ReLU}\nforward: 3\n",
    "ParameterList: []\nname: Weights\n",
])
def test_the_schema_refuses_what_nnspec_refuses(text):
    assert not _schema_accepts(text)
    with pytest.raises(nnspec.NNSpecError):
        nnspec.loads(text, meta=True)
