"""models/zoo/efficientnet_b0.yaml against torchvision 0.29's efficientnet_b0: structure, outputs, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
from torchvision_live import ROOT, live, reference, same_output, same_structure, twin
from typer.testing import CliRunner

import nnspec
from nnspec_cli import app

NAME = "efficientnet_b0"
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


def test_stochastic_depth_drops_rows_in_training_only():
    model = nnspec.load(PATH, seed=0, meta=True)
    sd = model.features[6][3].stochastic_depth
    assert repr(sd) == "StochasticDepth(p=0.17500000000000002, mode=row)"
    y = sd(np.ones((2000, 2, 1, 1), np.float32))  # a fresh model is in training mode
    rows = y[:, 0, 0, 0]
    assert (y == rows[:, None, None, None]).all()  # whole rows: 0, or 1 / (1 - p)
    assert set(np.unique(rows).tolist()) == {0.0, np.float32(1 / (1 - sd.p))}
    assert abs((rows == 0).mean() - sd.p) < 0.05
    sd.eval()
    assert (sd(np.ones((4, 2), np.float32)) == 1).all()


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
    assert "EfficientNet(" in result.output and "parameters: 5,288,548" in result.output
