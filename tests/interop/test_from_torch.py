"""nnspec.from_torch and ``nnspec import``: torch modules written as model files and weights (needs torch, and
torchvision for its models: skipped without them, required in CI by NNSPEC_REQUIRE_TORCH).

Each written file validates, builds the module's repr and state_dict, gives the module's outputs within
1e-4, and comes back the same when made a torch module (``nnspec.to_torch``) and imported again."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest
from typer.testing import CliRunner

import nnspec

HAVE_TORCH = importlib.util.find_spec("torch") is not None
SKIP = not HAVE_TORCH and not os.environ.get("NNSPEC_REQUIRE_TORCH")
pytestmark = [pytest.mark.torch, pytest.mark.skipif(SKIP, reason="nnspec.from_torch needs torch")]


def _round_trip(module, inputs: tuple, tmp_path, name: str) -> str:
    """Import ``module``; check the file as the module says above; return its text."""
    import torch

    from nnspec_cli import app

    first, weights = tmp_path / f"{name}.yaml", tmp_path / f"{name}.safetensors"
    nnspec.from_torch(module, inputs, path=first, weights=weights)
    result = CliRunner().invoke(app, ["validate", str(first)])
    assert result.exit_code == 0 and f"{first}: ok" in result.output, result.output
    model = nnspec.load(first)
    model.load_state_dict(nnspec.load_weights(weights))
    model.eval()
    with torch.no_grad():
        want = module(*inputs)
    got = model(*[x.numpy() for x in inputs])
    for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        np.testing.assert_allclose(np.asarray(g), w.numpy(), rtol=1e-4, atol=1e-4 * float(w.abs().max()))
    assert repr(model) == repr(module)
    assert list(model.state_dict()) == list(module.state_dict())
    again = tmp_path / f"{name}_again.yaml"
    nnspec.from_torch(nnspec.to_torch(first, weights=weights).eval(), inputs, path=again)
    text = first.read_text()
    assert again.read_text() == text
    return text


@pytest.mark.parametrize("name,size", [("resnet18", 64), ("mobilenet_v3_large", 64), ("vit_b_16", 224)])
def test_torchvision_models_import_check_and_come_back_the_same(name, size, tmp_path):
    if importlib.util.find_spec("torchvision") is None and not os.environ.get("NNSPEC_REQUIRE_TORCH"):
        pytest.skip("needs torchvision")
    import torch

    from references import import_torchvision

    torch.manual_seed(0)
    module = getattr(import_torchvision().models, name)(weights=None).eval()
    text = _round_trip(module, (torch.randn(2, 3, size, size),), tmp_path, name)
    assert text.startswith(f"# {type(module).__name__}, written by nnspec import")


def test_hand_written_modules_with_branches_and_a_module_dict(tmp_path):
    import torch

    from torch_modules import Heads, Net

    torch.manual_seed(0)
    x = torch.randn(2, 3, 6, 5)
    text = _round_trip(Heads().eval(), (x,), tmp_path, "heads")
    # the ModuleDict's entries by name (one not an identifier), the None input kept and guarded, the
    # non-persistent buffer as an arange (it is in no state_dict)
    assert "self.heads.a(stem)" in text and "self.heads['b-2'](stem)" in text
    assert "def forward(self, x, mask=None):" in text and "assert mask is None" in text
    assert "arange: {start: 0, step: 1}" in text
    _round_trip(Net().eval(), (x,), tmp_path, "net")


@pytest.mark.parametrize("name,message", [
    ("DataBranch", r"\(root\) \(DataBranch\): torch.fx cannot trace its forward"),
    ("Histogram", r"\(root\) \(Histogram\): its forward calls torch.histc, which nnspec does not know"),
    ("LocalResponse", r"lrn \(CrossMapLRN2d\): nnspec has no CrossMapLRN2d layer"),
    ("StateOnly", r"\(root\) \(StateOnly\): its forward computes a tensor from the module's state alone"),
])
def test_what_can_not_be_written_is_an_error_naming_the_module(name, message, tmp_path):
    import torch_modules

    with pytest.raises(nnspec.interop.ImportFromTorchError, match=message):
        nnspec.from_torch(getattr(torch_modules, name)(), path=tmp_path / "m.yaml")
    assert not (tmp_path / "m.yaml").exists()


def test_the_import_command_writes_the_file_and_weights_and_says_so(tmp_path):
    from nnspec_cli import app

    out = tmp_path / "net.yaml"
    result = CliRunner().invoke(app, ["import", "torch_modules:Net", "-o", str(out), "-s", "2,3,6,5"])
    assert result.exit_code == 0, result.output
    assert f"wrote {out} (Net, " in result.output and "outputs checked on 2,3,6,5" in result.output
    assert nnspec.load_weights(tmp_path / "net.safetensors").keys() == nnspec.load(out).state_dict().keys()
    bad = CliRunner().invoke(app, ["import", "torch_modules:Missing", "-o", str(tmp_path / "x.yaml")])
    assert bad.exit_code == 1 and "can't find torch_modules:Missing" in bad.output
    assert "Traceback" not in bad.output and not (tmp_path / "x.yaml").exists()


def test_what_is_not_a_module_or_can_not_be_stated_is_refused(tmp_path):
    import torch

    with pytest.raises(nnspec.interop.ImportFromTorchError, match="takes a torch.nn.Module, not str"):
        nnspec.from_torch("resnet18")

    class Noise(torch.nn.Module):  # a non-persistent buffer of values no init can state
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("table", torch.tensor([3.0, 1.0, 2.0]), persistent=False)

        def forward(self, x):
            return x + self.table

    with pytest.raises(nnspec.interop.ImportFromTorchError, match=r"\(root\)\.table: a non-persistent buffer"):
        nnspec.from_torch(Noise(), path=tmp_path / "noise.yaml")
    assert not (tmp_path / "noise.yaml").exists()


@pytest.mark.parametrize("argv,message,code", [
    (["import", "torch_modules:Net", "-o", "net.txt"], "must end in .yaml, .yml or .json", 2),
    (["import", "torch_modules:Net", "-o", "net.yaml", "-w", "net.bin"], "must end in .safetensors or .npz", 2),
    (["import", "not a name", "-o", "net.yaml"], "is not a dotted name", 1),
])
def test_the_import_command_refuses_bad_names_and_files(argv, message, code, tmp_path):
    from nnspec_cli import app

    argv = [str(tmp_path / a) if a.startswith("net.") else a for a in argv]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == code and message in " ".join(result.output.replace("│", " ").split()), \
        result.output  # rich boxes and wraps a usage error
    assert not list(tmp_path.iterdir())
