"""models/zoo/vit_b_16.yaml against torchvision's vit_b_16, live: repr, module tree, state_dict, outputs, CLI."""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import nnspec
from nnspec.cli import app

MODEL = Path(__file__).resolve().parents[2] / "models" / "zoo" / "vit_b_16.yaml"
HAVE_TORCH = importlib.util.find_spec("torch") is not None and importlib.util.find_spec("torchvision") is not None
live = pytest.mark.skipif(not HAVE_TORCH and not os.environ.get("NNSPEC_REQUIRE_TORCH"),
                          reason="torch and torchvision are not installed")


def torchvision_model(name: str):
    """torchvision's model with random weights (seed 0), in eval mode; every all-zero or all-one float entry
    (vit's zero head and class token, LayerNorm's identity) redrawn, so that none hides a mistake."""
    # torchvision's C extension can't load beside a CPU-only torch; the model code needs none of it
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import torch
    import torchvision

    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    with torch.no_grad():
        for value in model.state_dict().values():
            if value.dtype.is_floating_point and ((value == 0).all() or (value == 1).all()):
                value.add_(torch.randn(value.shape) * 0.1)
    return model


def close(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))


@pytest.fixture(scope="module")
def pair():
    reference = torchvision_model("vit_b_16")
    model = nnspec.load(MODEL, seed=0).eval()
    result = model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    assert (result.missing_keys, result.unexpected_keys) == ([], [])
    return reference, model


@live
def test_repr_modules_and_state_dict_are_torchvision_s(pair):
    reference, model = pair
    assert repr(model) == repr(reference)
    assert [(n, m._get_name()) for n, m in model.named_modules()] == \
        [(n, m._get_name()) for n, m in reference.named_modules()]
    assert [(k, tuple(v.shape), str(v.dtype)) for k, v in model.state_dict().items()] == \
        [(k, tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in reference.state_dict().items()]


@live
@pytest.mark.parametrize("shape", [(1, 3, 224, 224), (2, 3, 224, 224)])
def test_output_matches_torchvision(pair, shape):
    import torch

    reference, model = pair
    x = np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32)
    with torch.no_grad():
        want = reference(torch.from_numpy(x)).numpy()
    close(model(x), want)


def test_another_image_size_is_refused_as_torchvision_asserts():
    model = nnspec.load(MODEL, meta=True)
    with pytest.raises(nnspec.NNSpecError, match="Wrong image height"):
        nnspec.static.infer(model, [(1, 3, 256, 256)])


def test_cli_validate_run_and_summary():
    runner = CliRunner()
    result = runner.invoke(app, ["validate", str(MODEL), "-s", "N,3,224,224"])
    assert result.exit_code == 0, result.output
    assert "output: shape (N, 1000), dtype float32" in result.output
    result = runner.invoke(app, ["run", str(MODEL), "-s", "1,3,224,224", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "output: shape (1, 1000), dtype float32" in result.output
    result = runner.invoke(app, ["summary", str(MODEL)])
    assert result.exit_code == 0, result.output
    assert "parameters: 86,567,656 (86,567,656 trainable)" in result.output
