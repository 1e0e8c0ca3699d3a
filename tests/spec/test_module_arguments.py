"""Constructor arguments that are modules (TransformerEncoder's encoder_layer, norm; Transformer's custom_encoder):
written as nested modules in every form, in the JSON Schema, built first (errors placed inside them), through
blocks, and as a share of a module registered before."""

from __future__ import annotations

import warnings

import jsonschema
import numpy as np
import pytest
import yaml

import nnspec
from nnspec.spec.models import LAYER_SPECS
from nnspec.spec.schema import json_schema

LAYER = "{TransformerEncoderLayer: {d_model: 8, nhead: 2, dim_feedforward: 16}}"
FORMS = {
    "mapping": f"{{TransformerEncoder: {{encoder_layer: {LAYER}, num_layers: 2, norm: {{LayerNorm: 8}}}}}}",
    "positional": f"{{TransformerEncoder: [{LAYER}, 2, {{LayerNorm: 8}}]}}",
    "mixed": f"{{TransformerEncoder: [{LAYER}], num_layers: 2, norm: {{LayerNorm: 8}}}}",
    "normal": f"{{type: TransformerEncoder, encoder_layer: {LAYER}, num_layers: 2, norm: {{type: LayerNorm, "
              "normalized_shape: 8}}",
    "nested normal": "{type: TransformerEncoder, encoder_layer: {type: TransformerEncoderLayer, d_model: 8, nhead: 2, "
                     "dim_feedforward: 16}, num_layers: 2, norm: {LayerNorm: [8]}}",
}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's enable_nested_tensor warning, which nnspec repeats
        yield


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema())


def test_module_fields_are_known():
    assert LAYER_SPECS["TransformerEncoder"].module_fields == ("encoder_layer", "norm")
    assert LAYER_SPECS["TransformerDecoder"].module_fields == ("decoder_layer", "norm")
    assert LAYER_SPECS["Transformer"].module_fields == ("custom_encoder", "custom_decoder")
    assert LAYER_SPECS["Linear"].module_fields == ()


@pytest.mark.parametrize("form", FORMS)
def test_every_form_builds_the_same_model(form, validator):
    m = nnspec.loads(FORMS[form], seed=0)
    ref = nnspec.loads(FORMS["mapping"], seed=0)
    assert repr(m) == repr(ref)
    assert list(m.state_dict()) == list(ref.state_dict())
    assert list(m.state_dict())[:2] == ["layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias"]
    assert list(m.state_dict())[-2:] == ["norm.weight", "norm.bias"]
    assert not list(validator.iter_errors(yaml.safe_load(FORMS[form])))


def test_copies_start_with_the_same_weights_and_are_independent():
    m = nnspec.loads(FORMS["mapping"], seed=0)
    a, b = m.layers[0], m.layers[1]
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and (va == vb).all() and va is not vb
    a.linear1.weight.data[...] = 0
    assert (b.linear1.weight.data != 0).any()


def test_no_norm_and_a_null_norm():
    m = nnspec.loads(f"{{TransformerEncoder: {{encoder_layer: {LAYER}, num_layers: 1, norm: null}}}}")
    assert m.norm is None and "norm" not in m._modules


def test_a_mistake_inside_the_nested_module_is_placed_there():
    text = "TransformerEncoder:\n  encoder_layer:\n    TransformerEncoderLayer: {d_model: 8, nhead: 3}\n" \
           "  num_layers: 2\n"
    with pytest.raises(nnspec.CompileError) as info:
        nnspec.loads(text)
    assert str(info.value).startswith("<string>:3:") and "embed_dim must be divisible by num_heads" in str(info.value)
    assert info.value.path == "encoder_layer"
    text = "TransformerEncoder:\n  encoder_layer: {TransformerEncoderLayer: {d_model: 8, nhead: 2, nheads: 2}}\n" \
           "  num_layers: 2\n"
    with pytest.raises(nnspec.SpecError) as info:
        nnspec.loads(text)
    assert "<string>:2:" in str(info.value) and "encoder_layer.nheads: unknown argument; did you mean 'nhead'?" \
        in str(info.value)


@pytest.mark.parametrize("text,message", [
    ("{TransformerEncoder: {num_layers: 2}}", "missing required argument 'encoder_layer'"),
    ("{TransformerEncoder: [3, 2]}", "expected a module"),
    (f"{{TransformerEncoder: [{LAYER}, -1]}}", "greater than or equal to 0"),
    (f"{{TransformerEncoder: [{LAYER}, 20000]}}", "less than or equal to 10000"),
    ("{TransformerEncoderLayer: [8, 2], activation: tanh}", "'relu' or 'gelu'"),
])
def test_bad_module_arguments_are_spec_errors(text, message, validator):
    with pytest.raises(nnspec.SpecError) as info:
        nnspec.loads(text)
    assert message in str(info.value)
    assert list(validator.iter_errors(yaml.safe_load(text)))


def test_blocks_inside_a_module_argument():
    text = """
blocks:
  Layer:
    args: {d: 16}
    TransformerEncoderLayer: {d_model: $d, nhead: 2, dim_feedforward: 32}
TransformerEncoder: [{Layer: {d: 8}}, 2, {LayerNorm: 8, when: false}]
"""
    m = nnspec.loads(text)
    assert m.layers[1].linear1.in_features == 8 and m.norm is None
    text = """
blocks:
  Layer: {TransformerDecoderLayer: [8, 2, 16]}
TransformerDecoder: {decoder_layer: Layer, num_layers: 1, norm: {LayerNorm: '${4 + 4}'}}
"""
    m = nnspec.loads(text)
    assert m.norm.normalized_shape == (8,) and m.layers[0].linear1.out_features == 16


def test_a_share_as_the_module_argument():
    text = f"""
name: M
modules:
  layer: {LAYER}
  enc: {{TransformerEncoder: [{{share: layer}}, 2]}}
forward: return self.enc(x)
"""
    m = nnspec.loads(text, seed=0)
    assert list(m.state_dict())[0] == "layer.self_attn.in_proj_weight"
    assert (m.enc.layers[1].linear2.weight.data == m.layer.linear2.weight.data).all()
    assert m.enc.layers[0] is not m.layer
    with pytest.raises(nnspec.CompileError, match="no module 'lyer' is registered"):
        nnspec.loads(text.replace("share: layer", "share: lyer"))


def test_the_transformer_takes_a_custom_encoder():
    text = f"{{Transformer: {{d_model: 8, nhead: 2, num_decoder_layers: 1, dim_feedforward: 16, custom_encoder: " \
           f"{{TransformerEncoder: [{LAYER}, 1]}}}}}}"
    m = nnspec.loads(text, seed=0)
    assert [k for k in m.state_dict() if k.startswith("encoder.")][-1] == "encoder.layers.0.norm2.bias"
    assert "encoder.norm.weight" not in m.state_dict()


def test_shape_only_builds_keep_the_copies_shape_only_and_counted():
    m = nnspec.loads(FORMS["mapping"], meta=True)
    assert all(type(p.data).__name__ == "MetaArray" for p in m.parameters())
    with pytest.raises(nnspec.CompileError, match="the limit is"):
        nnspec.loads(FORMS["mapping"].replace("num_layers: 2", "num_layers: 4000"), memory_limit=1_000_000)


def test_a_user_defined_layer_is_copied_whole():
    """Its submodules, a module shared inside it and its buffers are copied (each copy its own), its forward kept."""
    text = """
TransformerDecoder:
  decoder_layer:
    name: Layer
    modules: {self_attn: {MultiheadAttention: [4, 2]}, bn: {BatchNorm1d: 4}, again: {share: bn}}
    inputs: [x, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask, tgt_is_causal,
             memory_is_causal]
    forward: return self.again(x.permute(1, 2, 0)).permute(2, 0, 1) + memory
  num_layers: 2
"""
    m = nnspec.loads(text, seed=0)
    a, b = m.layers
    assert repr(m).count("2 x Layer(") == 1
    assert a.bn is a.again and a.bn is not b.bn and a.bn.running_mean is a.again.running_mean
    assert a.bn.running_mean is not b.bn.running_mean
    x = np.random.default_rng(0).standard_normal((5, 3, 4)).astype(np.float32)
    assert m.train()(x, x).shape == (5, 3, 4)
    assert int(a.bn.num_batches_tracked) == int(b.bn.num_batches_tracked) == 1
    assert nnspec.compile(m.eval())(x, x).shape == (5, 3, 4)
