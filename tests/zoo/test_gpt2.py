"""models/zoo/gpt2.yaml against Hugging Face transformers' GPT2LMHeadModel(GPT2Config()), live: repr, module tree,
state_dict, logits at two sequence lengths, the optional inputs, the weights files HF writes, the CLI."""

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

MODEL = Path(__file__).resolve().parents[2] / "models" / "zoo" / "gpt2.yaml"
HAVE_HF = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "safetensors"))
live = pytest.mark.skipif(not HAVE_HF and not os.environ.get("NNSPEC_REQUIRE_TORCH"),
                          reason="torch, transformers and safetensors are not installed")
pytestmark = live


def hf_model():
    return shared_hf_model("GPT2Config", "GPT2LMHeadModel")


def ids(shape: tuple, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 50257, shape, dtype=np.int64)


@pytest.fixture(scope="module")
def pair():
    reference = hf_model()
    model = nnspec.load(MODEL, seed=0).eval()
    result = model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    assert (result.missing_keys, result.unexpected_keys) == ([], [])
    return reference, model


def test_repr_modules_and_state_dict_are_hf_s(pair):
    reference, model = pair
    assert repr(model) == repr(reference)
    assert [(n, m._get_name()) for n, m in model.named_modules()] == \
        [(n, m._get_name()) for n, m in reference.named_modules()]
    assert [(k, tuple(v.shape), str(v.dtype)) for k, v in model.state_dict().items()] == \
        [(k, tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in reference.state_dict().items()]


@pytest.mark.parametrize("shape", [(2, 16), (1, 40)])
def test_logits_match_hf(pair, shape):
    import torch

    reference, model = pair
    x = ids(shape, sum(shape))
    with torch.no_grad():
        want = reference(torch.from_numpy(x)).logits.numpy()
    close(model(x), want)


def test_attention_mask_token_types_positions_and_logits_to_keep(pair):
    import torch

    reference, model = pair
    x = ids((2, 12), 3)
    mask = np.ones((2, 12), np.int64)
    mask[1, :3] = 0  # left padding
    packed = np.concatenate([np.arange(5), np.arange(7)])[None]  # two sequences in a row
    # HF's GPT2Model makes a cache unless use_cache=False, and looks for packed sequences only where there is none
    calls = [dict(attention_mask=mask), dict(token_type_ids=ids((2, 12), 4) % 7),
             dict(position_ids=np.arange(12)[None] + 5), dict(logits_to_keep=1), dict(position_ids=packed),
             dict(position_ids=packed, use_cache=False)]
    for kwargs in calls:
        with torch.no_grad():
            want = reference(torch.from_numpy(x), **{k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v
                                                     for k, v in kwargs.items()}).logits.numpy()
        got = model(x, **kwargs)
        if "attention_mask" in kwargs:  # HF's default sdpa and its eager path differ where a row is all padding
            close(got[0], want[0])
            close(got[1, 3:], want[1, 3:])
        else:
            close(got, want)
    reference.set_attn_implementation("eager")  # the path the model file pastes: the padded rows too
    try:
        with torch.no_grad():
            want = reference(torch.from_numpy(x), attention_mask=torch.from_numpy(mask)).logits.numpy()
    finally:
        reference.set_attn_implementation("sdpa")
    close(model(x, attention_mask=mask), want)


def test_weights_hf_writes(pair, tmp_path):
    """torch.save(state_dict()) holds lm_head.weight beside transformer.wte.weight (one tied tensor);
    save_pretrained's model.safetensors leaves the tied key out. Both load as they are (tied: in the model file),
    through nnspec.weights.prepare (what --weights does) and through the CLI."""
    import torch

    reference, model = pair
    keys = list(reference.state_dict())
    torch.save(reference.state_dict(), tmp_path / "gpt2.pt")
    state = nnspec.load_weights(tmp_path / "gpt2.pt")
    assert list(state) == keys and len(keys) == 149
    reference.save_pretrained(tmp_path / "hf")
    state = nnspec.load_weights(tmp_path / "hf" / "model.safetensors")
    assert sorted(state) == sorted(k for k in keys if k != "lm_head.weight")
    prepared, _ = nnspec.weights.prepare(model, state)
    model.load_state_dict(prepared)
    assert model.lm_head.weight is model.transformer.wte.weight
    x = ids((1, 8), 5)
    with torch.no_grad():
        want = reference(torch.from_numpy(x)).logits.numpy()
    close(model(x), want)
    np.save(tmp_path / "ids.npy", x)
    for weights in (tmp_path / "gpt2.pt", tmp_path / "hf" / "model.safetensors"):
        result = CliRunner().invoke(app, ["run", str(MODEL), "--weights", str(weights), "--input",
                                          f"input_ids={tmp_path / 'ids.npy'}", "-q", "-o", str(tmp_path / "y.npy")])
        assert result.exit_code == 0, result.output
        close(np.load(tmp_path / "y.npy"), want)


def test_cli_validate_run_and_summary():
    runner = CliRunner()
    result = runner.invoke(app, ["validate", str(MODEL), "-s", "int64:N,T"])
    assert result.exit_code == 0, result.output
    assert "output: shape (N, T, 50257), dtype float32" in result.output
    result = runner.invoke(app, ["run", str(MODEL), "--input-shape", "int64:1,16", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "output: shape (1, 16, 50257), dtype float32" in result.output
    result = runner.invoke(app, ["summary", str(MODEL)])
    assert result.exit_code == 0, result.output
    # HF's parameters() count: lm_head.weight is transformer.wte.weight, counted once
    assert "parameters: 124,439,808 (124,439,808 trainable)" in result.output
