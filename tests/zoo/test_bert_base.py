"""models/zoo/bert_base.yaml against Hugging Face transformers' BertModel(BertConfig()), live: repr, module tree,
state_dict and buffers, (last_hidden_state, pooler_output) at two sequence lengths with and without attention_mask
and token_type_ids, the weights files HF writes, the CLI."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import nnspec
from torchvision_live import hf_model as shared_hf_model
from zoo import close
from nnspec_cli import app

MODEL = Path(__file__).resolve().parents[2] / "models" / "zoo" / "bert_base.yaml"
HAVE_HF = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "safetensors"))
live = pytest.mark.skipif(not HAVE_HF and not os.environ.get("NNSPEC_REQUIRE_TORCH"),
                          reason="torch, transformers and safetensors are not installed")
pytestmark = live


def hf_model():
    return shared_hf_model("BertConfig", "BertModel")


@pytest.fixture(scope="module")
def pair():
    reference = hf_model()
    model = nnspec.load(MODEL, seed=0).eval()
    result = model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    assert (result.missing_keys, result.unexpected_keys) == ([], [])
    return reference, model


def test_repr_modules_state_dict_and_buffers_are_hf_s(pair):
    reference, model = pair
    assert repr(model) == repr(reference)
    assert [(n, m._get_name()) for n, m in model.named_modules()] == \
        [(n, m._get_name()) for n, m in reference.named_modules()]
    assert [(k, tuple(v.shape), str(v.dtype)) for k, v in model.state_dict().items()] == \
        [(k, tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in reference.state_dict().items()]
    # position_ids and token_type_ids: buffers out of the state_dict (persistent=False), as there
    buffers = dict(model.named_buffers())
    assert list(buffers) == [n for n, _ in reference.named_buffers()] == \
        ["embeddings.position_ids", "embeddings.token_type_ids"]
    for name, value in reference.named_buffers():
        assert buffers[name].dtype == np.int64
        np.testing.assert_array_equal(buffers[name], value.numpy())
    assert not any(k.endswith(("position_ids", "token_type_ids")) for k in model.state_dict())


@pytest.mark.parametrize("shape", [(2, 16), (1, 40)])
@pytest.mark.parametrize("given", ["ids", "mask", "mask+token_types"])
def test_outputs_match_hf(pair, shape, given):
    import torch

    reference, model = pair
    rng = np.random.default_rng(sum(shape))
    kwargs = {}
    if given != "ids":
        mask = np.ones(shape, np.int64)
        mask[0, -5:] = 0  # padding at the end of the first sequence
        kwargs["attention_mask"] = mask
    if given == "mask+token_types":
        kwargs["token_type_ids"] = rng.integers(0, 2, shape, dtype=np.int64)
    x = rng.integers(0, 30522, shape, dtype=np.int64)
    with torch.no_grad():
        want = reference(torch.from_numpy(x), **{k: torch.from_numpy(v) for k, v in kwargs.items()})
    got = model(x, **kwargs)
    assert isinstance(got, tuple) and len(got) == 2
    close(got[0], want.last_hidden_state.numpy())
    close(got[1], want.pooler_output.numpy())


def test_position_ids_packed_sequences(pair):
    """Given position_ids and no attention_mask, HF masks attention between packed sequences."""
    import torch

    reference, model = pair
    x = np.random.default_rng(7).integers(0, 30522, (1, 16), dtype=np.int64)
    positions = np.concatenate([np.arange(6), np.arange(10)])[None]
    with torch.no_grad():
        want = reference(torch.from_numpy(x), position_ids=torch.from_numpy(positions))
    got = model(x, position_ids=positions)
    close(got[0], want.last_hidden_state.numpy())
    close(got[1], want.pooler_output.numpy())


def test_weights_hf_writes(pair, tmp_path):
    """torch.save(state_dict()) and save_pretrained's model.safetensors hold the same 199 keys (no buffers)."""
    import torch

    reference, model = pair
    keys = list(reference.state_dict())
    torch.save(reference.state_dict(), tmp_path / "bert.pt")
    assert list(nnspec.load_weights(tmp_path / "bert.pt")) == keys and len(keys) == 199
    reference.save_pretrained(tmp_path / "hf")
    state = nnspec.load_weights(tmp_path / "hf" / "model.safetensors")
    assert sorted(state) == sorted(keys)
    assert nnspec.weights.compare(model, state) == []


def test_cli_validate_run_and_summary():
    runner = CliRunner()
    result = runner.invoke(app, ["validate", str(MODEL), "-s", "int64:N,T"])
    assert result.exit_code == 0, result.output
    assert "output: shape (N, T, 768), (N, 768), dtype float32, float32" in result.output
    result = runner.invoke(app, ["run", str(MODEL), "--input-shape", "int64:1,16", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "output: shape (1, 16, 768), (1, 768), dtype float32, float32" in result.output
    result = runner.invoke(app, ["summary", str(MODEL)])
    assert result.exit_code == 0, result.output
    assert "parameters: 109,482,240 (109,482,240 trainable)" in result.output
