"""models/zoo/swin_t.yaml against torchvision's swin_t, live: repr, module tree, state_dict, outputs, CLI."""

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

MODEL = Path(__file__).resolve().parents[2] / "models" / "zoo" / "swin_t.yaml"
HAVE_TORCH = importlib.util.find_spec("torch") is not None and importlib.util.find_spec("torchvision") is not None
live = pytest.mark.skipif(not HAVE_TORCH and not os.environ.get("NNSPEC_REQUIRE_TORCH"),
                          reason="torch and torchvision are not installed")


def torchvision_model(name: str):
    """torchvision's model with random weights (seed 0), in eval mode; every all-zero or all-one float entry
    (zero biases, LayerNorm's identity) redrawn, so that none hides a mistake."""
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
    reference = torchvision_model("swin_t")
    model = nnspec.load(MODEL, seed=0).eval()
    fresh = model.state_dict()
    # the relative position index is built, not drawn: a fresh model's is torchvision's
    for key, value in reference.state_dict().items():
        if key.endswith("relative_position_index"):
            np.testing.assert_array_equal(fresh[key], value.numpy())
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
    assert [n for n, _ in model.named_buffers()] == [n for n, _ in reference.named_buffers()]


# 224: maps 56, 28, 14, 7, no padding; the last stage fits one window, so its shift is dropped.
# 232x200: maps 58x50, 29x25, 15x13, 8x7: every stage pads to whole windows, PatchMerging pads odd maps, and the
# last stage keeps its shift along H (8 pads to 14) but drops it along W (7 fits one window).
@live
@pytest.mark.parametrize("shape", [(1, 3, 224, 224), (2, 3, 232, 200)])
def test_output_matches_torchvision(pair, shape):
    import torch

    reference, model = pair
    x = np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32)
    with torch.no_grad():
        want = reference(torch.from_numpy(x)).numpy()
    close(model(x), want)
    close(nnspec.compile(model)(x), want)


def test_train_mode_runs_stochastic_depth():
    model = nnspec.load(MODEL, seed=0).train()
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    y = model(x)
    assert y.shape == (2, 1000) and np.isfinite(y).all()


def test_cli_validate_run_and_summary():
    runner = CliRunner()
    for shape, out in (("N,3,224,224", "(N, 1000)"), ("1,3,232,200", "(1, 1000)")):
        result = runner.invoke(app, ["validate", str(MODEL), "-s", shape])
        assert result.exit_code == 0, result.output
        assert f"output: shape {out}, dtype float32" in result.output
    result = runner.invoke(app, ["run", str(MODEL), "-s", "1,3,224,224", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "output: shape (1, 1000), dtype float32" in result.output
    result = runner.invoke(app, ["summary", str(MODEL)])
    assert result.exit_code == 0, result.output
    assert "parameters: 28,288,354 (28,288,354 trainable)" in result.output
