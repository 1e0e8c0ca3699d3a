"""models/zoo/mobilenet_v3_large.yaml against torchvision 0.29's mobilenet_v3_large: structure, outputs, the CLI."""

from __future__ import annotations

import pytest
from torchvision_live import ROOT, live, reference, same_output, same_structure, twin
from typer.testing import CliRunner

from nnspec_cli import app

NAME = "mobilenet_v3_large"
PATH = ROOT / "models" / "zoo" / f"{NAME}.yaml"


@pytest.fixture(scope="module")
def pair():
    ref = reference(NAME)
    return twin(NAME, ref), ref


@live
def test_repr_state_dict_and_modules_are_torchvision_s(pair):
    same_structure(*pair)


@live
@pytest.mark.parametrize("shape", [(1, 3, 224, 224), (2, 3, 160, 160)])
def test_output_matches_torchvision(pair, shape):
    same_output(*pair, shape)


def test_cli_validate_run_and_summary():
    runner = CliRunner()
    result = runner.invoke(app, ["validate", str(PATH), "-s", "N,3,H,W"])
    assert result.exit_code == 0, result.output
    assert "output: shape (N, 1000), dtype float32" in result.output
    result = runner.invoke(app, ["run", str(PATH), "-s", "1,3,224,224"])
    assert result.exit_code == 0, result.output
    assert "output: shape (1, 1000), dtype float32" in result.output
    result = runner.invoke(app, ["summary", str(PATH)])
    assert result.exit_code == 0, result.output
    assert "MobileNetV3(" in result.output and "parameters: 5,483,032" in result.output
