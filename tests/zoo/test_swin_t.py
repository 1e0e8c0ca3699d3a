"""models/zoo/swin_t.yaml against torchvision 0.29's swin_t: structure, the relative position index, outputs at
sizes that take every padding and shift path, train mode, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
from torchvision_live import ROOT, live, redrawn, reference, same_output, same_structure, twin
from typer.testing import CliRunner

import nnspec
from nnspec_cli import app

NAME = "swin_t"
PATH = ROOT / "models" / "zoo" / f"{NAME}.yaml"


@pytest.fixture(scope="module")
def pair():
    ref = redrawn(reference(NAME))
    return twin(NAME, ref), ref


@live
def test_repr_state_dict_and_modules_are_torchvision_s(pair):
    same_structure(*pair)
    model, ref = pair
    assert [n for n, _ in model.named_buffers()] == [n for n, _ in ref.named_buffers()]


@live
def test_a_fresh_model_s_relative_position_index_is_torchvision_s(pair):
    fresh = nnspec.load(PATH, seed=1).state_dict()
    keys = [k for k in pair[1].state_dict() if k.endswith("relative_position_index")]
    assert len(keys) == 12
    for key in keys:  # built by the init, not drawn: what torchvision's __init__ computes
        assert fresh[key].dtype == np.int64
        np.testing.assert_array_equal(fresh[key], pair[1].state_dict()[key].numpy())


# 224: maps 56, 28, 14, 7, no padding; the last stage fits one window, so its shift is dropped.
# 232x200: maps 58x50, 29x25, 15x13, 8x7: every stage pads to whole windows, PatchMerging pads odd maps, and the
# last stage keeps its shift along H (8 pads to 14) but drops it along W (7 fits one window).
@live
@pytest.mark.parametrize("shape", [(1, 3, 224, 224), (2, 3, 232, 200)])
def test_output_matches_torchvision(pair, shape):
    same_output(*pair, shape)


def test_train_mode_runs_stochastic_depth():
    model = nnspec.load(PATH, seed=0).train()
    y = model(np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32))
    assert y.shape == (2, 1000) and np.isfinite(y).all()


def test_cli_validate_run_and_summary():
    runner = CliRunner()
    for shape, out in (("N,3,224,224", "(N, 1000)"), ("1,3,232,200", "(1, 1000)")):
        result = runner.invoke(app, ["validate", str(PATH), "-s", shape])
        assert result.exit_code == 0, result.output
        assert f"output: shape {out}, dtype float32" in result.output
    result = runner.invoke(app, ["run", str(PATH), "-s", "1,3,224,224", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "output: shape (1, 1000), dtype float32" in result.output
    result = runner.invoke(app, ["summary", str(PATH)])
    assert result.exit_code == 0, result.output
    assert "parameters: 28,288,354 (28,288,354 trainable)" in result.output
