"""The ``nnspec`` command through Typer's CliRunner: run, summary, --json, files in and out, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import nnspec
from nnspec_cli import app
from nnspec.runtime import random as nnrandom

SEED_DIR = Path(__file__).resolve().parents[2] / "models" / "seed"

runner = CliRunner()

# (file, input shapes, output shape), as each file's first comment line states them
RUN_TABLE = [
    ("conv1d", [(20, 16, 50)], (20, 33, 24)),
    ("conv2d", [(20, 16, 50, 100)], (20, 33, 28, 100)),
    ("conv_transpose1d", [(20, 16, 50)], (20, 33, 101)),
    ("maxpool1d", [(20, 16, 50)], (20, 16, 24)),
    ("maxpool2d", [(20, 16, 50, 32)], (20, 16, 24, 31)),
    ("avgpool1d", [(20, 16, 50)], (20, 16, 24)),
    ("avgpool2d", [(20, 16, 50, 32)], (20, 16, 24, 31)),
    ("adaptive_avgpool1d", [(1, 64, 8)], (1, 64, 5)),
    ("adaptive_avgpool2d", [(1, 64, 8, 9)], (1, 64, 5, 7)),
    ("adaptive_avgpool2d_square", [(1, 64, 10, 9)], (1, 64, 7, 7)),
    ("linear", [(128, 20)], (128, 30)),
    ("bilinear", [(128, 20), (128, 30)], (128, 40)),
    ("dropout", [(20, 16)], (20, 16)),
    ("dropout2d", [(20, 16, 8, 8)], (20, 16, 8, 8)),
    ("pixelshuffle", [(1, 9, 4, 4)], (1, 1, 12, 12)),
    ("upsample", [(1, 3, 8, 8)], (1, 3, 16, 16)),
    ("upsampling_nearest2d", [(1, 3, 8, 8)], (1, 3, 16, 16)),
    ("upsampling_bilinear2d", [(1, 3, 8, 8)], (1, 3, 12, 10)),
    ("batchnorm1d", [(20, 100)], (20, 100)),
    ("batchnorm2d", [(20, 100, 35, 45)], (20, 100, 35, 45)),
    ("activations", [(2, 3, 4, 5)], (2, 3, 4, 5)),
    ("sequential", [(1, 1, 32, 32)], (1, 64, 24, 24)),
    ("sequential_ordereddict", [(1, 1, 32, 32)], (1, 64, 24, 24)),
]


def fmt(shape: tuple) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"


def shape_args(shapes) -> list[str]:
    args = []
    for s in shapes:
        args += ["--input-shape", ",".join(map(str, s))]
    return args


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def trace_rows(output: str) -> list[tuple[str, str]]:
    """(path, type) of each row of the shape trace table printed by ``run``."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("module") and "type" in line)
    assert set(lines[start + 1].replace(" ", "")) == {"-"}
    rows = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        path, kind = line.split()[:2]
        rows.append((path, kind))
    return rows


@pytest.mark.parametrize("name, shapes, out", RUN_TABLE, ids=[r[0] for r in RUN_TABLE])
def test_run_seed_models(name, shapes, out):
    path = SEED_DIR / f"{name}.yaml"
    comment = path.read_text().splitlines()[0]
    assert comment.startswith("#")
    for s in shapes:  # the table is the file's own comment
        assert fmt(s) in comment
    if "->" in comment:
        assert comment.rstrip().endswith(f"-> {fmt(out)}") or f"-> {fmt(out)};" in comment

    result = invoke("run", path, *shape_args(shapes))
    assert result.exit_code == 0, result.output
    assert f"\noutput: shape {fmt(out)}, dtype float32" in result.output

    rows = trace_rows(result.output)
    expected = [(p or "(root)", type(m).__name__) for p, m in nnspec.load(path).named_modules()]
    assert sorted(rows) == sorted(expected)
    assert rows[0] == expected[0]  # the root call opens the trace
    root_line = next(line for line in result.output.splitlines() if line.startswith("(root)"))
    assert "; ".join(fmt(s) for s in shapes) in root_line and fmt(out) in root_line


def test_run_trace_indents_children():
    result = invoke("run", SEED_DIR / "sequential_ordereddict.yaml", "-s", "1,1,32,32")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "Conv2d" in line or "ReLU" in line]
    assert [line.split()[0] for line in rows] == ["conv1", "relu1", "conv2", "relu2"]
    assert all(line.startswith("  ") for line in rows)
    conv2 = next(line for line in rows if line.split()[0] == "conv2")
    assert "(1, 20, 28, 28)" in conv2 and "(1, 64, 24, 24)" in conv2


def test_run_accepts_x_separated_shapes():
    result = invoke("run", SEED_DIR / "conv1d.yaml", "-s", "20x16x50")
    assert result.exit_code == 0, result.output
    assert "output: shape (20, 33, 24)" in result.output


def test_run_json():
    result = invoke("run", SEED_DIR / "sequential.yaml", "-s", "1,1,32,32", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["output"] == {"shape": [1, 64, 24, 24], "dtype": "float32"}
    assert [(c["path"], c["type"], c["depth"]) for c in data["trace"]] == [
        ("(root)", "Sequential", 0), ("0", "Conv2d", 1), ("1", "ReLU", 1), ("2", "Conv2d", 1), ("3", "ReLU", 1)]
    assert data["trace"][1]["inputs"] == [[1, 1, 32, 32]] and data["trace"][1]["output"] == [1, 20, 28, 28]


def test_run_json_two_inputs():
    result = invoke("run", SEED_DIR / "bilinear.yaml", "-s", "128,20", "-s", "128,30", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["trace"][0]["inputs"] == [[128, 20], [128, 30]]
    assert data["output"]["shape"] == [128, 40]


def test_run_float64():
    result = invoke("run", SEED_DIR / "linear.yaml", "-s", "4,20", "--dtype", "float64", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output"]["dtype"] == "float64"


def _api_output(path: Path, x: np.ndarray | None, shape=None, seed: int = 0, train: bool = False) -> np.ndarray:
    """What the CLI computes, through the Python API: build with the seed, then draw the input."""
    net = nnspec.load(path, seed=seed).to("float32").train(train)
    if x is None:
        x = nnrandom.generator().standard_normal(shape)
    return net(x.astype(np.float32))


def test_output_file_equals_python_api(tmp_path):
    out = tmp_path / "y.npy"
    path = SEED_DIR / "sequential.yaml"
    result = invoke("run", path, "-s", "2,1,32,32", "--seed", "3", "--output", out)
    assert result.exit_code == 0, result.output
    assert f"saved to {out}" in result.output
    y = np.load(out)
    assert y.shape == (2, 64, 24, 24) and y.dtype == np.float32
    # nnspec run runs the plan, whose convolutions here run channels-last: the same sums, in another order
    np.testing.assert_allclose(y, _api_output(path, None, (2, 1, 32, 32), seed=3), rtol=1e-5, atol=1e-6)
    # another seed gives other weights and inputs
    other = tmp_path / "y4.npy"
    assert invoke("run", path, "-s", "2,1,32,32", "--seed", "4", "-o", other).exit_code == 0
    assert not np.array_equal(np.load(other), y)


def test_input_file_is_used(tmp_path):
    x = np.random.default_rng(42).standard_normal((5, 20)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "y.npy"
    path = SEED_DIR / "linear.yaml"
    result = invoke("run", path, "--input", tmp_path / "x.npy", "--seed", "1", "--output", out)
    assert result.exit_code == 0, result.output
    assert "output: shape (5, 30)" in result.output
    net = nnspec.load(path, seed=1)
    np.testing.assert_allclose(np.load(out), x @ net.weight.data.T + net.bias.data, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.load(out), _api_output(path, x, seed=1))


def test_two_input_files(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "a.npy", rng.standard_normal((3, 20)).astype(np.float32))
    np.save(tmp_path / "b.npy", rng.standard_normal((3, 30)).astype(np.float32))
    result = invoke("run", SEED_DIR / "bilinear.yaml", "-i", tmp_path / "a.npy", "-i", tmp_path / "b.npy")
    assert result.exit_code == 0, result.output
    assert "output: shape (3, 40)" in result.output


def test_train_vs_eval_dropout(tmp_path):
    x = np.ones((20, 16), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    path = SEED_DIR / "dropout.yaml"
    ys = {}
    for mode in ("--train", "--eval"):
        out = tmp_path / f"y{mode}.npy"
        result = invoke("run", path, "-i", tmp_path / "x.npy", mode, "-o", out)
        assert result.exit_code == 0, result.output
        ys[mode] = np.load(out)
    np.testing.assert_array_equal(ys["--eval"], x)  # eval: identity
    train = ys["--train"]
    assert not np.array_equal(train, x)
    assert set(np.unique(train)) == {0.0, np.float32(1.25)}  # zeroed, or scaled by 1 / (1 - 0.2)
    assert 20 < (train == 0).sum() < 120  # about 64 of 320
    # the default is eval
    out = tmp_path / "default.npy"
    assert invoke("run", path, "-i", tmp_path / "x.npy", "-o", out).exit_code == 0
    np.testing.assert_array_equal(np.load(out), x)


def test_train_mode_is_seeded(tmp_path):
    np.save(tmp_path / "x.npy", np.ones((20, 16), dtype=np.float32))
    outs = []
    for i, seed in enumerate((5, 5, 6)):
        out = tmp_path / f"y{i}.npy"
        assert invoke("run", SEED_DIR / "dropout.yaml", "-i", tmp_path / "x.npy", "--train", "--seed", seed,
                      "-o", out).exit_code == 0
        outs.append(np.load(out))
    np.testing.assert_array_equal(outs[0], outs[1])
    assert not np.array_equal(outs[0], outs[2])


# --------------------------------------------------------------------------- summary


def test_summary_lists_keys_in_order():
    result = invoke("summary", SEED_DIR / "state_dict.yaml")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Model("
    assert "  (conv2): Linear(in_features=1, out_features=2, bias=True)" in lines
    start = next(i for i, line in enumerate(lines) if line.startswith("state_dict key"))
    rows = [line.split() for line in lines[start + 2:start + 6]]
    assert [r[0] for r in rows] == ["par", "buffer", "conv2.weight", "conv2.bias"]
    assert [r[1] for r in rows] == ["parameter", "buffer", "parameter", "parameter"]
    assert "parameters: 5 (5 trainable)" in result.output
    assert "buffers: 6 elements" in result.output


def test_summary_json():
    result = invoke("summary", SEED_DIR / "state_dict.yaml", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [e["key"] for e in data["state_dict"]] == ["par", "buffer", "conv2.weight", "conv2.bias"]
    assert [e["shape"] for e in data["state_dict"]] == [[1], [2, 3], [2, 1], [2]]
    assert data["totals"]["params"] == 5 and data["totals"]["buffers"] == 6
    assert data["repr"] == repr(nnspec.load(SEED_DIR / "state_dict.yaml"))


def test_summary_shared_module_counts_once():
    data = json.loads(invoke("summary", SEED_DIR / "shared_submodule.yaml", "--json").stdout)
    assert [e["key"] for e in data["state_dict"]] == ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"]
    assert data["totals"]["params"] == 20 * 20 * 5 * 5 + 20


# --------------------------------------------------------------------------- errors


def test_bad_model_file_exits_1_with_position(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("type: Sequential\nmodules:\n  - {Conv2D: [1, 2, 3]}\n")
    for command in (["run", path, "-s", "1,1,8,8"], ["summary", path]):
        result = invoke(*command)
        assert result.exit_code == 1
        assert f"{path}:3:" in result.output
        assert "did you mean 'Conv2d'?" in result.output
        assert "Traceback" not in result.output
        assert result.stdout == ""  # the error goes to stderr


def test_yaml_syntax_error_exits_1(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("type: Sequential\nmodules:\n  - a: b: c\n")
    result = invoke("run", path, "-s", "1")
    assert result.exit_code == 1
    assert re.search(re.escape(str(path)) + r":3:\d+: invalid YAML", result.output)
    assert "Traceback" not in result.output


def test_several_errors_each_on_a_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("type: Sequential\nmodules:\n  - {Linear: [2, x]}\n  - {Dropuot: [0.5]}\n")
    result = invoke("summary", path)
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[0].startswith(f"{path}:3:") and lines[1].startswith(f"{path}:4:")


def test_missing_model_file_exits_1(tmp_path):
    result = invoke("run", tmp_path / "nope.yaml", "-s", "1,2")
    assert result.exit_code == 1
    assert "no such model file" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("shape", ["20,a,50", "20,x", "20,,50", "-1,16,50", ""])
def test_bad_input_shape_exits_2(shape):
    result = invoke("run", SEED_DIR / "conv1d.yaml", "--input-shape", shape)
    assert result.exit_code == 2, result.output
    assert "is not a shape" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args, message", [
    ([], "give --input-shape or --input"),
    (["-s", "1,20", "-i", "x.npy"], "not both"),
    (["-s", "1,20", "-o", "y.txt"], "must end in .npy or .npz"),
    (["-s", "1,20", "--dtype", "int8"], "choose float32, float64 or float16"),
])
def test_bad_options_exit_2(args, message):
    result = invoke("run", SEED_DIR / "linear.yaml", *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())  # rich may wrap the message


def test_wrong_channel_count_names_module_and_shapes():
    result = invoke("run", SEED_DIR / "conv1d.yaml", "-s", "20,15,50")
    assert result.exit_code == 1
    assert "(root) (Conv1d)" in result.output
    assert "[20, 15, 50]" in result.output and "16 channels" in result.output and "got 15 channels" in result.output
    assert "Traceback" not in result.output


def test_wrong_channel_count_inside_sequential():
    result = invoke("run", SEED_DIR / "sequential_ordereddict.yaml", "-s", "1,3,32,32")
    assert result.exit_code == 1
    assert "conv1 (Conv2d)" in result.output
    assert "[1, 3, 32, 32]" in result.output and "got 3 channels" in result.output


def test_wrong_number_of_inputs_is_not_an_internal_error():
    result = invoke("run", SEED_DIR / "bilinear.yaml", "-s", "128,20")
    assert result.exit_code == 1
    assert "Bilinear takes the input(s) input1, input2; got 1 array(s)" in result.output
    assert "internal error" not in result.output and "Traceback" not in result.output


def test_unreadable_input_file(tmp_path):
    (tmp_path / "x.npy").write_text("not numpy")
    result = invoke("run", SEED_DIR / "linear.yaml", "-i", tmp_path / "x.npy")
    assert result.exit_code == 1
    assert "cannot read input" in result.output
    assert "Traceback" not in result.output


def test_model_without_forward_exits_1():
    result = invoke("run", SEED_DIR / "state_dict.yaml", "-s", "1,1")
    assert result.exit_code == 1
    assert 'Module [Model] is missing the required "forward" function' in result.output


def test_failed_run_leaves_no_output_file(tmp_path):
    out = tmp_path / "y.npy"
    result = invoke("run", SEED_DIR / "conv1d.yaml", "-s", "20,15,50", "-o", out)
    assert result.exit_code == 1
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


# --- edges found in review: each is a user mistake that must read as one, never as an internal error


def test_negative_seed_is_a_usage_error():
    result = runner.invoke(app, ["run", str(SEED_DIR / "linear.yaml"), "-s", "2,20", "--seed", "-1"])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_output_into_a_missing_folder_is_a_usage_error(tmp_path):
    out = tmp_path / "nowhere" / "y.npy"
    result = runner.invoke(app, ["run", str(SEED_DIR / "linear.yaml"), "-s", "2,20", "-o", str(out)])
    assert result.exit_code == 2 and "does not exist" in result.output and not out.exists()


def test_single_output_to_npz_is_a_real_npz(tmp_path):
    out = tmp_path / "y.npz"
    result = runner.invoke(app, ["run", str(SEED_DIR / "linear.yaml"), "-s", "2,20", "-o", str(out)])
    assert result.exit_code == 0, result.output
    with np.load(out) as z:
        assert z.files == ["arr_0"] and z["arr_0"].shape == (2, 30)


def test_tuple_output_needs_npz(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text("MaxPool1d: {kernel_size: 2, return_indices: true}\n")
    bad = runner.invoke(app, ["run", str(model), "-s", "1,2,8", "-o", str(tmp_path / "y.npy")])
    assert bad.exit_code == 1 and ".npz" in bad.output and not (tmp_path / "y.npy").exists()
    good = runner.invoke(app, ["run", str(model), "-s", "1,2,8", "-o", str(tmp_path / "y.npz")])
    assert good.exit_code == 0
    with np.load(tmp_path / "y.npz") as z:
        assert z["arr_0"].shape == (1, 2, 4) and z["arr_1"].dtype == np.int64


@pytest.mark.parametrize("array, phrase", [
    (np.zeros((2, 20), dtype=np.complex64), "dtype complex64"),
    (np.zeros(2, dtype=[("a", "f4")]), "dtype [('a', '<f4')]"),
])
def test_non_real_input_files_are_refused(tmp_path, array, phrase):
    p = tmp_path / "x.npy"
    np.save(p, array)
    result = runner.invoke(app, ["run", str(SEED_DIR / "linear.yaml"), "-i", str(p)])
    assert result.exit_code == 1 and phrase in result.output and "Traceback" not in result.output


def test_integer_input_files_keep_their_dtype(tmp_path):
    """As in torch, an integer input stays integer (token ids for an Embedding); a float layer says so."""
    p = tmp_path / "x.npy"
    np.save(p, np.arange(40).reshape(2, 20))
    result = runner.invoke(app, ["run", str(SEED_DIR / "linear.yaml"), "-i", str(p)])
    assert result.exit_code == 1 and "linear.yaml:2:1" in result.output
    assert "input dtype int64 does not match the weight dtype float32; this layer takes floating-point input" \
        in result.output
    np.save(p, np.arange(40).reshape(2, 20).astype(np.float64))  # a float file runs in the model's dtype
    result = runner.invoke(app, ["run", str(SEED_DIR / "linear.yaml"), "-i", str(p)])
    assert result.exit_code == 0 and "output: shape (2, 30), dtype float32" in result.output


def test_a_pipe_is_not_read_as_a_model_file(tmp_path):
    import os

    fifo = tmp_path / "m.yaml"
    os.mkfifo(fifo)
    result = runner.invoke(app, ["summary", str(fifo)])
    assert result.exit_code == 1 and "not a regular file" in result.output


# --- custom forwards: --arg, compile


def test_run_with_string_arguments_for_a_module_dict():
    result = invoke("run", SEED_DIR / "module_dict.yaml", "-s", "1,10,32,32", "--arg", "choice=conv", "--arg", "act=prelu")
    assert result.exit_code == 0, result.output
    assert "choices.conv" in result.output and "activations.prelu" in result.output
    assert "(1, 10, 32, 32); 'conv'; 'prelu'" in result.output
    assert "output: shape (1, 10, 30, 30), dtype float32" in result.output


@pytest.mark.parametrize("args, phrase", [
    (["--arg", "choice=conv"], "takes the input(s) x, choice, act"),
    (["--arg", "choice=conv", "--arg", "act=prelu", "--arg", "other=1"], "has no input 'other'"),
    (["--arg", "choice=zzz", "--arg", "act=prelu"], "choices has no key 'zzz' (keys: conv, pool)"),
])
def test_bad_arguments_are_clear_errors(args, phrase):
    result = invoke("run", SEED_DIR / "module_dict.yaml", "-s", "1,10,32,32", *args)
    assert result.exit_code == 1 and phrase in result.output and "Traceback" not in result.output


def test_arg_must_be_name_equals_value():
    result = invoke("run", SEED_DIR / "module_dict.yaml", "-s", "1,10,32,32", "--arg", "conv")
    assert result.exit_code == 2


def test_the_trace_shows_functional_ops_inside_forwards():
    result = invoke("run", SEED_DIR / "model_two_convs.yaml", "-s", "1,1,28,28")
    assert result.exit_code == 0, result.output
    lines = [ln.split() for ln in result.output.splitlines()]
    rows = [(ln[0], ln[1]) for ln in lines if len(ln) > 1]
    assert rows[3:7] == [("conv1", "Conv2d"), ("relu", "F.relu"), ("conv2", "Conv2d"), ("relu_1", "F.relu")]


def test_compile_prints_every_custom_forward_as_code():
    result = invoke("compile", Path(__file__).resolve().parents[2] / "models" / "resnet_blocks.yaml")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "# (root): Net" in out and "# layer1: BasicBlock" in out and "# layer2: BasicBlock" in out
    assert "    add = operator.iadd(bn2, x)\n" in out and "    downsample = self.downsample(x)\n" in out


def test_compile_writes_json(tmp_path):
    out = tmp_path / "g.json"
    result = invoke("compile", SEED_DIR / "module_dict.yaml", "-o", out)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    nodes = data["modules"][0]["graph"]["nodes"]
    assert data["mode"] == "eval" and [n["op"] for n in nodes] == [
        "placeholder", "placeholder", "placeholder", "call_module", "call_module", "output"]
    assert nodes[3]["key"] == {"node": "choice"} and nodes[3]["position"]["line"] == 9


def test_compile_error_exits_1_with_the_file_position(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text("name: M\nforward: |\n  import os\n  return x\n")
    result = invoke("compile", model)
    assert result.exit_code == 1
    assert f"{model}:3:3: (root).forward: 'import' is not supported in a forward" in result.output


@pytest.mark.parametrize("body, line", [
    ("return x.shape", "output: shape 2, 3, dtype int, int"),
    ("return x, x.size(0)", "output: shape (2, 3), 2, dtype float32, int"),
])
def test_non_array_outputs_print_and_refuse_to_save(tmp_path, body, line):
    model = tmp_path / "m.yaml"
    model.write_text(f"name: M\nforward: |\n  {body}\n")
    result = invoke("run", model, "-s", "2,3")
    assert result.exit_code == 0 and line in result.output
    saved = invoke("run", model, "-s", "2,3", "-o", tmp_path / "y.npz")  # numbers save as 0-d arrays
    assert saved.exit_code == 0, saved.output


def test_an_output_that_is_not_arrays_is_not_saved(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text("name: M\nforward: |\n  return None\n")
    result = invoke("run", model, "-s", "2,3", "-o", tmp_path / "y.npy")
    assert result.exit_code == 1 and "nothing to save" in result.output and not (tmp_path / "y.npy").exists()


# --- --device, compile --train, and the path for nnspec's own bugs


def test_device_cuda_without_cupy_is_a_clear_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "cupy", None)  # every import of cupy fails, as where it isn't installed
    result = invoke("run", SEED_DIR / "linear.yaml", "-s", "2,20", "--device", "cuda")
    assert result.exit_code == 1 and "needs CuPy, which is not installed" in result.output
    assert "output:" not in result.output  # never ran on the CPU instead


def test_unknown_device_is_refused():
    result = invoke("run", SEED_DIR / "linear.yaml", "-s", "2,20", "--device", "tpu")
    assert result.exit_code == 1 and "unknown device 'tpu'" in result.output


def test_compile_shows_each_mode(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text("name: M\nforward: |\n  if self.training:\n      return x * 2\n  return x\n")
    eval_graph = invoke("compile", model)
    train_graph = invoke("compile", model, "--train")
    assert eval_graph.exit_code == 0 and train_graph.exit_code == 0
    assert "mul = x * 2" in train_graph.output and "mul" not in eval_graph.output


def test_a_bug_in_nnspec_is_one_line_with_a_way_to_the_traceback(monkeypatch):
    import nnspec.builder

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(nnspec.builder, "load", broken)
    result = invoke("summary", SEED_DIR / "linear.yaml")
    assert result.exit_code == 1
    assert result.output.strip() == "error: internal error: RuntimeError: boom (set NNSPEC_DEBUG=1 for the traceback)"
