"""The zoo (models/zoo): torchvision's state_dicts key for key, torch's outputs, weights from every format."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest
from zoo import FROM_TORCHVISION, GOLDEN_ZOO, ZOO, build, close, randomized_state, torch_output, torchvision_golden, \
    twin, zoo_input, zoo_path

import nnspec
from nnspec import static

HAVE_TORCH = importlib.util.find_spec("torch") is not None
SKIP_LIVE = not HAVE_TORCH and not os.environ.get("NNSPEC_REQUIRE_TORCH")
live = pytest.mark.skipif(SKIP_LIVE, reason="torch is not installed (the golden tests cover this)")


@pytest.mark.parametrize("name", FROM_TORCHVISION)
def test_state_dict_and_repr_are_torchvision_s(name):
    golden = torchvision_golden(name)
    model = nnspec.load(zoo_path(name), meta=True)
    assert [[k, list(v.shape), str(v.dtype)] for k, v in model.state_dict().items()] == golden["state_dict"]
    assert [[n, m._get_name()] for n, m in model.named_modules()] == golden["modules"]
    assert repr(model) == golden["repr"]
    assert sum(p.numel() for p in model.parameters()) == golden["params"]
    found = static.infer(model, [(1, 3, 224, 224)])
    assert list(found.output_shape) == golden["output_shape_1x3x224x224"]


@pytest.fixture(scope="module")
def models():
    return {}


def zoo_model(models: dict, name: str) -> nnspec.Module:
    if name not in models:
        models[name] = build(name)
    return models[name]


@pytest.mark.parametrize("name", list(ZOO))
def test_output_matches_torch_golden(models, name):
    model = zoo_model(models, name)
    model.load_state_dict(randomized_state(model, name))
    with np.load(GOLDEN_ZOO / f"{name}.npz") as golden:
        np.testing.assert_array_equal(golden["input"], zoo_input(name))
        close(model(zoo_input(name)), golden["output"])


@live
@pytest.mark.parametrize("name", list(ZOO))
def test_output_matches_torch_live(models, name):
    model = zoo_model(models, name)
    state = randomized_state(model, name)
    model.load_state_dict(state)
    close(model(zoo_input(name)), torch_output(name, state))


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_weights_saved_and_loaded_run_the_same(models, tmp_path, suffix):
    model = zoo_model(models, "resnet18")
    model.load_state_dict(randomized_state(model, "resnet18"))
    path = tmp_path / f"w{suffix}"
    nnspec.save_weights(model, path)
    fresh = nnspec.load(zoo_path("resnet18"), seed=1).eval()
    result = fresh.load_state_dict(nnspec.load_weights(path))
    assert (result.missing_keys, result.unexpected_keys) == ([], [])
    with np.load(GOLDEN_ZOO / "resnet18.npz") as golden:
        close(fresh(zoo_input("resnet18")), golden["output"])


def test_a_torch_checkpoint_loads_without_torch():
    """lenet5.pt was written by torch.save; nnspec reads it with its restricted unpickler."""
    model = nnspec.load(zoo_path("lenet5"), seed=5).eval()
    model.load_state_dict(nnspec.load_weights(GOLDEN_ZOO / "lenet5.pt"))
    with np.load(GOLDEN_ZOO / "lenet5_pt.npz") as golden:
        close(model(golden["input"]), golden["output"])


@live
@pytest.mark.parametrize("name", list(ZOO))
def test_torch_written_pt_safetensors_and_npz_load(tmp_path, name):
    """Random torchvision-layout weights saved by torch (.pt, plain and wrapped), by safetensors.torch and as
    .npz: nnspec runs each as torch does."""
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(1)
    m = twin(name)
    for module in m.modules():  # give the batch norms statistics worth checking
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.normal_(0, 0.5)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.data.normal_(1, 0.2)
            module.bias.data.normal_(0, 0.2)
    with torch.no_grad():
        want = m(torch.from_numpy(zoo_input(name))).numpy()
    torch.save(m.state_dict(), tmp_path / "w.pt")
    torch.save({"state_dict": m.state_dict(), "epoch": 3}, tmp_path / "wrapped.pth")
    save_file(m.state_dict(), tmp_path / "w.safetensors")
    np.savez(tmp_path / "w.npz", **{k: v.numpy() for k, v in m.state_dict().items()})
    model = nnspec.load(zoo_path(name), seed=0).eval()
    for file in ("w.pt", "wrapped.pth", "w.safetensors", "w.npz"):
        model.load_state_dict(nnspec.load_weights(tmp_path / file))
        close(model(zoo_input(name)), want)
