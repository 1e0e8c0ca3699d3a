"""``nnspec validate``, ``nnspec summary --input-shape`` and the static checks ``nnspec run`` makes first."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from summaries import resnet
from typer.testing import CliRunner

from nnspec_cli import app

MODELS = Path(__file__).resolve().parents[2] / "models"
BLOCKS = str(MODELS / "resnet_blocks.yaml")
runner = CliRunner()


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture
def resnet18(tmp_path) -> str:
    path = tmp_path / "resnet18.yaml"
    path.write_text(yaml.safe_dump(resnet(), sort_keys=False))
    return str(path)


def test_validate_without_shapes_checks_the_file():
    assert invoke("validate", BLOCKS) == f"{BLOCKS}: ok (20 modules); give --input-shape to check shapes too\n"


def test_validate_prints_the_static_trace():
    out = invoke("validate", BLOCKS, "-s", "2,3,32,32")
    lines = out.splitlines()
    assert lines[0].split() == ["module", "type", "input", "output", "mult-adds"]
    assert "layer2.downsample.0  Conv2d" in out
    assert "output: shape (2, 128, 8, 8), dtype float32" in out
    assert "mult-adds: 70,699,264;" in out
    assert lines[-1] == f"{BLOCKS}: ok"


def test_validate_keeps_symbolic_sizes_as_formulas(tmp_path):
    out = invoke("validate", BLOCKS, "--input-shape", "N,3,H,W")
    assert "output: shape (N, 128, (H + 3)//4, (W + 3)//4), dtype float32" in out
    assert "activations depend on the symbolic sizes" in out
    pool = tmp_path / "pool.yaml"
    pool.write_text("Sequential: [{MaxPool2d: 4}, {MaxPool2d: {kernel_size: 3, stride: 2}}]\n")
    out = invoke("validate", str(pool), "-s", "N,1,H,32")
    assert "output: shape (N, 1, (H + 4)//8 - 1, 3)" in out  # ((H//4) - 3)//2 + 1, in canonical form
    assert "assumes: H >= 12" in out  # what the pools need; N may be 1


def test_validate_json(tmp_path):
    data = json.loads(invoke("validate", BLOCKS, "-s", "N,3,64,64", "--json"))
    assert data["ok"] is True and data["output"]["shape"] == ["N", 128, 16, 16]
    assert data["trace"][1] == {"path": "conv1", "type": "Conv2d", "depth": 1, "inputs": [["N", 3, 64, 64]],
                                "output": ["N", 64, 64, 64], "ms": data["trace"][1]["ms"], "mult_adds": "7077888*N"}
    assert data["memory"]["param_bytes"] == 305_984 * 4 and data["memory"]["activation_peak_bytes"] is None


@pytest.mark.parametrize("shape", ["N,3,H+1,W", "2,,3", "2,3.5"])
def test_a_shape_that_is_not_sizes_or_names_is_a_usage_error(shape):
    assert "is not a shape" in invoke("validate", BLOCKS, "-s", shape, code=2)


def test_summary_is_a_torchinfo_table(resnet18):
    out = invoke("summary", resnet18, "-s", "1,3,224,224")
    lines = out.splitlines()
    assert lines[0].split() == ["layer", "type", "output", "shape", "params", "kernel", "mult-adds"]
    assert lines[3].split() == ["conv1", "Conv2d", "(1,", "64,", "112,", "112)", "9,408", "[7,", "7]",
                                "118,013,952"]
    assert lines[6].split()[:2] == ["maxpool", "MaxPool2d"] and lines[6].split()[-2:] == ["3", "--"]
    assert "state_dict key" not in out  # the keys only with --keys
    assert "parameters: 11,689,512 (11,689,512 trainable), 46.76 MB" in out
    assert "mult-adds: 1,814,836,584 (1.81 G)" in out
    assert "input 0.60 MB" in out and "activations" in out
    relus = [line for line in lines if line.split()[:2] == ["relu", "ReLU"]]
    assert len(relus) == 17  # the stem's, and each block's relu called twice: torchinfo's rows
    adds = [line for line in lines if line.split()[:2] == ["add", "iadd"]]
    assert len(adds) == 8 and adds[0].split()[-1] == "200,704"  # the residual adds, counted as ops


def test_summary_depth_folds_rows(resnet18):
    out = invoke("summary", resnet18, "-s", "1,3,224,224", "--depth", "1")
    names = [line.split()[0] for line in out.splitlines()[2:] if line.startswith(" ") or line.startswith("(")]
    assert names == ["(root)", "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
                     "avgpool", "fc"]
    layer1 = next(line for line in out.splitlines() if line.split()[0] == "layer1").split()
    # its blocks' params, and their mult-adds: 4 convs, 4 batch norms and 2 residual adds
    assert layer1[-1] == f"{4 * 115_605_504 + 4 * 128 + 2 * 200_704:,}" and layer1[-3] == "147,968"


def test_summary_json(resnet18):
    data = json.loads(invoke("summary", resnet18, "-s", "2,3,64,64", "--format", "json"))
    assert data["totals"]["params"] == 11_689_512 and data["totals"]["mult_adds"] == 297_136_848 + 2 * 61_440  # torchinfo's, and the adds
    assert data["layers"][1] == {"name": "conv1", "type": "Conv2d", "depth": 1, "output": [2, 64, 32, 32],
                                 "params": 9408, "trainable": 9408, "shared": False, "called_before": False,
                                 "kernel": [7, 7], "mult_adds": 19_267_584, "op": False}
    assert "state_dict" not in data and "repr" not in data
    assert data["memory"]["input_bytes"] == 2 * 3 * 64 * 64 * 4
    assert json.loads(invoke("summary", resnet18, "--json"))["totals"]["params"] == 11_689_512


def test_summary_without_shapes_is_the_tree_and_keys():
    out = invoke("summary", BLOCKS)
    assert out.startswith("Net(\n") and "state_dict key" in out and "layer2.downsample.1.running_var" in out


def test_summary_format_must_be_known():
    assert "choose table or json" in invoke("summary", BLOCKS, "--format", "yaml", code=2)


def test_run_refuses_a_model_too_big_before_allocating(tmp_path):
    out = invoke("run", BLOCKS, "-s", "256,3,224,224", "--memory-limit", "100", code=1)
    # placed at the layer that made the largest array alive at the peak (the stem's output), and named
    assert re.match(rf"{re.escape(BLOCKS)}:\d+:\d+: running this model needs ", out), out
    assert "the largest made by conv1 (Conv2d)" in out
    assert "the limit is 100,000,000 bytes (--memory-limit)" in out
    assert "output: shape (2, 128, 8, 8)" in invoke("run", BLOCKS, "-s", "2,3,32,32", "--memory-limit", "100")


def test_run_refuses_parameters_over_the_limit(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("Linear: [10000, 10000]\n")
    out = invoke("run", str(path), "-s", "1,10000", "--memory-limit", "100", code=1)
    assert "need 400,000,000 bytes; the limit is 100,000,000 bytes" in out


def test_run_is_not_refused_by_its_shape_only_twin(tmp_path):
    """A random init that the seeded draws store fine must not fail the static check (it draws nothing)."""
    path = tmp_path / "m.yaml"
    path.write_text("name: M\nparameters:\n  p: {shape: [2], init: {normal: [0, 1]}}\n"
                    "  b: {shape: [1], dtype: float16, init: {normal: [0, 60000]}}\nforward: return x * 2\n")
    assert "output: shape (3,), dtype float32" in invoke("run", str(path), "-s", "3")


@pytest.mark.parametrize("shape", ["128,2\u00b2", "N\u00b2,3"])
def test_non_ascii_sizes_are_a_usage_error(shape):
    assert "is not a shape" in invoke("run", str(MODELS / "seed" / "linear.yaml"), "-s", shape, code=2)
    assert "is not a shape" in invoke("validate", str(MODELS / "seed" / "linear.yaml"), "-s", shape, code=2)


def test_x_separated_sizes_work_everywhere():
    assert "output: shape (2, 128, 8, 8)" in invoke("validate", BLOCKS, "-s", "2x3x32x32")


def test_a_memory_limit_error_names_the_limit():
    out = invoke("run", BLOCKS, "-s", "2,3,32,32", "--memory-limit", "0.5", code=1)
    assert "the limit is 500,000 bytes (the memory limit)" in out


def test_summary_keys_flag_adds_the_state_dict_to_the_table():
    out = invoke("summary", BLOCKS, "-s", "2,3,32,32", "--keys")
    assert "state_dict key" in out and "layer2.downsample.1.running_var" in out and "mult-adds" in out
    assert "state_dict key" not in invoke("summary", BLOCKS, "--no-keys")


def test_validate_takes_named_inputs_and_the_mode():
    seed = str(MODELS / "seed" / "module_dict.yaml")
    out = invoke("validate", seed, "-s", "N,10,32,32", "--arg", "choice=conv", "--arg", "act=prelu")
    assert "output: shape (N, 10, 30, 30)" in out
    out = invoke("validate", seed, "-s", "1,10,32,32", "-a", "choice=pool", "-a", "act=lrelu", "--train")
    assert "output: shape (1, 10, 10, 10)" in out
    assert "no key 'nope'" in invoke("validate", seed, "-s", "1,10,32,32", "-a", "choice=nope", "-a", "act=lrelu",
                                     code=1)


def test_a_container_s_mult_adds_count_its_contents_and_the_root_s_are_the_total():
    data = json.loads(invoke("validate", BLOCKS, "-s", "2,3,32,32", "--json"))
    trace = {c["path"]: c for c in data["trace"]}
    assert trace["(root)"]["mult_adds"] == data["mult_adds"] > 0
    layer1 = [c for c in data["trace"] if c["path"].startswith("layer1.")]
    assert trace["layer1"]["mult_adds"] == sum(c["mult_adds"] for c in layer1) > 0
    table = invoke("validate", BLOCKS, "-s", "2,3,32,32")
    root = next(line for line in table.splitlines() if line.startswith("(root)"))
    assert root.split()[-1] == f"{data['mult_adds']:,}" and f"mult-adds: {data['mult_adds']:,};" in table
    data = json.loads(invoke("validate", BLOCKS, "-s", "N,3,32,32", "--json"))  # symbolic: a formula
    assert data["trace"][0]["mult_adds"] == data["mult_adds"] and "N" in data["mult_adds"]
    run = json.loads(invoke("run", BLOCKS, "-s", "2,3,32,32", "--json"))
    assert run["trace"][0]["path"] == "(root)" and run["trace"][0]["mult_adds"] == trace["(root)"]["mult_adds"]
