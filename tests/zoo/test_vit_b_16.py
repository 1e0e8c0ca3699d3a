"""models/zoo/vit_b_16.yaml against torchvision 0.29's vit_b_16: structure, outputs, the 224x224 assert, the CLI."""

from __future__ import annotations

import pytest
from torchvision_live import ROOT, live, redrawn, reference, same_output, same_structure, twin
from typer.testing import CliRunner

import nnspec
from nnspec_cli import app

NAME = "vit_b_16"
PATH = ROOT / "models" / "zoo" / f"{NAME}.yaml"


@pytest.fixture(scope="module")
def pair():
    ref = redrawn(reference(NAME))
    return twin(NAME, ref), ref


@live
def test_repr_state_dict_and_modules_are_torchvision_s(pair):
    same_structure(*pair)


@live
@pytest.mark.parametrize("shape", [(1, 3, 224, 224), (2, 3, 224, 224)])  # torchvision asserts 224x224
def test_output_matches_torchvision(pair, shape):
    same_output(*pair, shape)


def test_another_image_size_is_refused_at_torchvision_s_assert():
    model = nnspec.load(PATH, meta=True)
    with pytest.raises(nnspec.NNSpecError, match="Wrong image height"):
        nnspec.static.infer(model, [(1, 3, 256, 256)])


def test_cli_validate_run_and_summary():
    runner = CliRunner()
    result = runner.invoke(app, ["validate", str(PATH), "-s", "N,3,224,224"])
    assert result.exit_code == 0, result.output
    assert "output: shape (N, 1000), dtype float32" in result.output
    result = runner.invoke(app, ["run", str(PATH), "-s", "1,3,224,224", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "output: shape (1, 1000), dtype float32" in result.output
    result = runner.invoke(app, ["summary", str(PATH)])
    assert result.exit_code == 0, result.output
    assert "parameters: 86,567,656 (86,567,656 trainable)" in result.output
