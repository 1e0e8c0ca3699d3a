"""Shared by tests/zoo/test_<model>.py for torchvision models: the reference built as torchvision builds it, with
its batch norms given statistics that keep the output sensitive to the input, and the nnspec twin loaded from it.

torchvision's own init (identity batch norms) lets the signal die out across the depth of these models (efficientnet_b0's
logits come out near 1e-14), and random running statistics make the logits almost constant in the input: either
way a comparison would see little of what the layers compute. So each BatchNorm2d gets a random affine term and
the statistics of a random batch (one forward with momentum 1), which keeps every activation near unit scale. The
batch is of the size tested: statistics taken at 64x64 (2x2 in the last stage) blow efficientnet_b0's logits up to
~2,000 at 224x224, where float32 alone (torch's, against float64) is off by 1e-4 of the largest.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import nnspec

ROOT = Path(__file__).resolve().parents[2]
HAVE_TORCH = all(importlib.util.find_spec(m) is not None for m in ("torch", "torchvision"))
SKIP_LIVE = not HAVE_TORCH and not os.environ.get("NNSPEC_REQUIRE_TORCH")
live = pytest.mark.skipif(SKIP_LIVE, reason="torch and torchvision are not installed")


def torchvision_models():
    # torchvision's C extension can't load beside the CPU torch; its meta registrations import it, the models don't
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import torchvision

    return torchvision.models


def reference(name: str):
    """torchvision's ``name`` (weights=None, seed 0), its batch norms calibrated on a random batch, in eval mode."""
    import torch

    torch.manual_seed(0)
    model = getattr(torchvision_models(), name)(weights=None).eval()
    g = torch.Generator().manual_seed(1)
    momentum = {m: m.momentum for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)}
    with torch.no_grad():
        for m in momentum:
            m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=g))
            m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))
            m.momentum = 1.0
            m.train()
        if momentum:  # a model without batch norms is not run (vit_b_16 asserts a 224x224 input)
            model(torch.randn(4, 3, 160, 160, generator=g))  # running statistics := this batch's
    for m, value in momentum.items():
        m.momentum = value
    return model.eval()


def redrawn(ref):
    """``ref`` with every all-zero or all-one float entry redrawn (vit_b_16's zero head and class token, zero
    biases, LayerNorm's identity): with torchvision's init vit_b_16's logits are all 0."""
    import torch

    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for value in ref.state_dict().values():
            if value.dtype.is_floating_point and ((value == 0).all() or (value == 1).all()):
                value.add_(0.1 * torch.randn(value.shape, generator=g))
    return ref


def twin(name: str, ref) -> nnspec.Module:
    """models/zoo/<name>.yaml with the reference's state_dict loaded (strict: no key missing or unexpected)."""
    model = nnspec.load(ROOT / "models" / "zoo" / f"{name}.yaml", seed=0).eval()
    result = model.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    assert (result.missing_keys, result.unexpected_keys) == ([], [])
    return model


def same_structure(model: nnspec.Module, ref) -> None:
    """repr, state_dict (keys in order, shapes, dtypes) and the module tree's class names are the reference's."""
    assert repr(model) == repr(ref)
    assert [(k, tuple(v.shape), str(v.dtype)) for k, v in model.state_dict().items()] == \
        [(k, tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in ref.state_dict().items()]
    assert [(n, m._get_name()) for n, m in model.named_modules()] == \
        [(n, m._get_name()) for n, m in ref.named_modules()]


def same_output(model: nnspec.Module, ref, shape: tuple) -> float:
    """Both run on one random float32 input; returns the largest absolute difference."""
    import torch

    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    got = model(x)
    with torch.no_grad():
        want = ref(torch.from_numpy(x)).numpy()
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))
    if shape[0] > 1:  # the logits depend on the input, well above the tolerance
        assert float(want.std(axis=0).mean()) > 1e-2 * float(np.abs(want).max())
    return float(np.abs(got - want).max())


def hf_model(config: str, model: str):
    """transformers' ``model(config())`` with random weights (seed 0), in eval mode; its all-zero and all-one float
    entries (biases, LayerNorms) redrawn, so that none hides a mistake."""
    # transformers imports torchvision where it is installed, whose C extension can't load beside a CPU-only torch
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import torch
    import transformers

    torch.manual_seed(0)
    built = getattr(transformers, model)(getattr(transformers, config)()).eval()
    with torch.no_grad():
        for value in built.state_dict().values():
            if value.dtype.is_floating_point and ((value == 0).all() or (value == 1).all()):
                value.add_(torch.randn(value.shape) * 0.1)
    return built
