"""A symbolic size is at least 1: a model that runs on a batch of one validates with no condition on N, and an
op whose result depends on a size not being 1 (train-mode BatchNorm, squeeze, an ``if`` on ``x.size(0) == 1``)
assumes it is more, N >= 2, and says so. The formulas, taken at N = 1, are what a run at N = 1 gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from nnspec_cli import app
from typer.testing import CliRunner

import nnspec
from nnspec import static
from nnspec.errors import NNSpecError
from nnspec.runtime.symbolic import Dim

ROOT = Path(__file__).resolve().parents[1]
RESNET18 = ROOT / "models" / "zoo" / "resnet18.yaml"
CLASSIFIER = ROOT / "models" / "examples" / "transformer_classifier.yaml"
N, H, W, T = (Dim.symbol(s) for s in "NHWT")
runner = CliRunner()


def validate(*args: object) -> str:
    result = runner.invoke(app, ["validate", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.output


def assumes_line(out: str) -> str | None:
    return next((line for line in out.splitlines() if line.startswith("assumes:")), None)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(text)
    return path


def _at(shape: tuple, values: dict[str, int]) -> tuple:
    return tuple(d.evaluate(values) if isinstance(d, Dim) else d for d in shape)


# --------------------------------------------------------------------------- a batch of one needs nothing


def test_resnet18_validates_for_a_batch_of_one_with_nothing_assumed():
    out = validate(RESNET18, "-s", "N,3,H,W")
    assert "output: shape (N, 1000), dtype float32" in out
    assert assumes_line(out) is None and ">= 2" not in out  # its convs and pools need no more than 1 pixel
    found = static.infer(nnspec.load(RESNET18, meta=True), [(N, 3, H, W)])
    assert found.assumptions == []


def test_only_what_the_layers_need_is_listed(tmp_path):
    out = validate(CLASSIFIER, "-s", "int64:N,T")
    assert assumes_line(out) == "assumes: T <= 64"  # the learned positions; nothing on N
    pool = write(tmp_path, "Sequential: [{MaxPool2d: 4}, {MaxPool2d: {kernel_size: 3, stride: 2}}]\n")
    assert assumes_line(validate(pool, "-s", "N,1,H,W")) == "assumes: H >= 12; W >= 12"  # the kernels' need
    assert static.infer(nnspec.load(pool, meta=True), [(N, 1, H, 32)]).assumptions == ["H >= 12"]


def test_a_concrete_batch_of_one_assumes_nothing_either(tmp_path):
    path = write(tmp_path, "Sequential: [{Linear: [8, 4]}, {BatchNorm1d: 4}]\n")
    assert assumes_line(validate(path, "-s", "1,8")) is None


# --------------------------------------------------------------------------- ops that need more than one


BATCHNORM = "Sequential: [{Linear: [8, 4]}, {BatchNorm1d: 4}]\n"


def test_train_mode_batchnorm_needs_two_values_per_channel(tmp_path):
    path = write(tmp_path, BATCHNORM)
    assert assumes_line(validate(path, "-s", "N,8")) is None  # eval mode: running statistics, any N
    assert assumes_line(validate(path, "-s", "N,8", "--train")) == "assumes: N >= 2"
    found = static.infer(nnspec.load(path, meta=True), [(N, 8)], training=True)
    assert found.assumptions == ["N >= 2"] and found.output_shape == (N, 4)
    with pytest.raises(NNSpecError, match="expected more than 1 value per channel when training"):
        static.infer(nnspec.load(path, meta=True), [(1, 8)], training=True)  # what the assumption rules out
    assert static.infer(nnspec.load(path, meta=True), [(1, 8)]).output_shape == (1, 4)


def test_resnet18_in_training_mode_assumes_what_its_last_batchnorm_needs():
    found = static.infer(nnspec.load(RESNET18, meta=True), [(N, 3, H, W)], training=True)
    # every BatchNorm needs two values per channel; the last one's condition implies the others'
    assert found.assumptions == ["((H + 31)//32)*((W + 31)//32)*N >= 2"]
    with pytest.raises(NNSpecError, match="expected more than 1 value per channel"):
        static.infer(nnspec.load(RESNET18, meta=True), [(1, 3, 32, 32)], training=True)  # 1x1 at the end
    assert static.infer(nnspec.load(RESNET18, meta=True), [(1, 3, 64, 64)], training=True).output_shape == (1, 1000)


def test_squeezing_a_symbolic_dim_assumes_it_is_not_1():
    model = {"name": "M", "inputs": ["x"], "forward": "return x.squeeze()"}
    found = static.infer(nnspec.from_dict(model, meta=True), [(N, 1, 4)])
    assert found.output_shape == (N, 4) and found.assumptions == ["N >= 2"]
    assert static.infer(nnspec.from_dict(model, meta=True), [(1, 1, 4)]).output_shape == (4,)  # N = 1 squeezes


@pytest.mark.parametrize("forward, shape", [
    ("return x - x.mean(0, keepdim=True)", (N, 4)),  # against 1: N stays N, whether or not it is 1
    ("return x * x + torch.add(x, x.sum(1, keepdim=True))", (N, 4)),  # against itself
    ("return x[:1].expand(x.size(0), 4) + x[:, :1].expand(-1, 4)", (N, 4)),  # 1 stretched to N
    ("return torch.where(x > 0, x, x[:, :1])", (N, 4)),
])
def test_broadcasting_a_symbolic_size_assumes_nothing(forward, shape):
    model = {"name": "M", "inputs": ["x"], "forward": forward}
    found = static.infer(nnspec.from_dict(model, meta=True), [(N, 4)])
    assert found.output_shape == shape and found.assumptions == []
    assert static.infer(nnspec.from_dict(model, meta=True), [(1, 4)]).output_shape == _at(shape, {"N": 1})


def test_broadcasting_against_another_size_fails_as_for_every_n_but_1():
    model = {"name": "M", "inputs": ["x"], "buffers": {"b": {"shape": [3, 4]}}, "forward": "return x + self.b"}
    with pytest.raises(NNSpecError, match=r"The size of tensor a \(N\) must match the size of tensor b \(3\)"):
        static.infer(nnspec.from_dict(model, meta=True), [(N, 4)])


# --------------------------------------------------------------------------- a forward that tests the size


BRANCHES = """\
name: M
inputs: [x]
forward: |
  if {test}:
      return x[0]
  return x * 2
"""


@pytest.mark.parametrize("test", ["x.size(0) == 1", "x.size(0) <= 1", "x.shape[0] < 2"])
def test_an_if_on_a_batch_of_one_branches_as_the_assumption_says(tmp_path, test):
    path = write(tmp_path, BRANCHES.format(test=test))
    out = validate(path, "-s", "N,4")
    assert "output: shape (N, 4), dtype float32" in out and assumes_line(out) == "assumes: N >= 2"
    model = nnspec.load(path, meta=True)
    for _ in range(2):  # called again, the branch is assumed again
        found = static.infer(model, [(N, 4)])
        assert found.output_shape == (N, 4) and found.assumptions == ["N >= 2"]
    assert static.infer(model, [(1, 4)]).output_shape == (4,)  # the other branch, where N is 1
    assert static.infer(model, [(3, 4)]).output_shape == (3, 4) and static.infer(model, [(3, 4)]).assumptions == []


def test_an_if_on_another_size_still_wants_a_number(tmp_path):
    path = write(tmp_path, BRANCHES.format(test="x.size(0) == 2"))
    result = runner.invoke(app, ["validate", str(path), "-s", "N,4"])
    assert result.exit_code == 1
    assert f"{path}:4:6:" in result.output and "this if tests a size that is symbolic here" in result.output


# --------------------------------------------------------------------------- N = 1 in the formulas is N = 1


@pytest.mark.parametrize("path, symbolic, values, dtype", [
    (RESNET18, (N, 3, H, W), {"N": 1, "H": 64, "W": 48}, None),
    (ROOT / "models" / "zoo" / "mobilenet_v2.yaml", (N, 3, H, W), {"N": 1, "H": 33, "W": 40}, None),
    (CLASSIFIER, (N, T), {"N": 1, "T": 12}, "int64"),
    (ROOT / "models" / "examples" / "gpt_block.yaml", (N, T, 64), {"N": 1, "T": 9}, None),
    (ROOT / "models" / "examples" / "se_block.yaml", (N, 3, H, W), {"N": 1, "H": 20, "W": 16}, None),
], ids=lambda v: v.stem if isinstance(v, Path) else None)
def test_the_formulas_at_a_batch_of_one_are_a_run_at_a_batch_of_one(path, symbolic, values, dtype):
    dtypes = [dtype] if dtype else None
    found = static.infer(nnspec.load(path, meta=True), [symbolic], input_dtypes=dtypes)
    assert all(eval(a, {"__builtins__": {}}, dict(values)) for a in found.assumptions)  # noqa: S307 - our text
    shape = _at(symbolic, values)
    numeric = static.infer(nnspec.load(path, meta=True), [shape], input_dtypes=dtypes)
    sized = [(c.path, _at(c.output, values)) for c in found.calls if isinstance(c.output, tuple)]
    assert sized == [(c.path, c.output) for c in numeric.calls if isinstance(c.output, tuple)]
    assert found.mult_adds.evaluate(values) == numeric.mult_adds
    # and a real run, with weights, on data
    model = nnspec.load(path, seed=0).eval()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, shape) if dtype else rng.standard_normal(shape).astype(np.float32)
    assert tuple(model(x).shape) == _at(found.output_shape, values) == numeric.output_shape
