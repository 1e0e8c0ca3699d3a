"""Inputs by name on the command line: ``--input-shape NAME=SPEC``, ``--input NAME=FILE`` and ``-s NAME=SPEC``
on ``validate``/``summary``, mixed with positional ones; what the output says about them; the mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import nnspec
from nnspec_cli import app

SEED_DIR = Path(__file__).resolve().parents[2] / "models" / "seed"
runner = CliRunner()

# y's order matters (x - 2*y), so a swapped binding shows in the output
SUB = """\
name: Sub
forward: |
  def forward(self, x, y):
      return x - 2 * y
"""
THREE = """\
name: Three
forward: |
  def forward(self, a, b, c):
      return a - 2 * b + 4 * c
"""
# inputs with defaults, as Hugging Face forwards have them
HEADER = """\
name: Header
forward: |
  def forward(self, x, mask=None, y=None):
      if mask is not None:
          x = x.masked_fill(mask, 0.0)
      if y is not None:
          x = x - 2 * y
      return x
"""
# a float input and token ids
EMB = """\
name: Emb
modules:
  emb: {Embedding: [10, 4]}
forward: |
  def forward(self, x, ids):
      return x + self.emb(ids)
"""


def invoke(*args, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "1000"})  # usage errors on one line
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    return " ".join(result.output.split()) if code else result.output  # rich wraps usage errors


@pytest.fixture
def files(tmp_path, monkeypatch):
    """Model files and .npy inputs in a temporary folder, which is the working directory."""
    monkeypatch.chdir(tmp_path)
    for name, text in [("sub.yaml", SUB), ("three.yaml", THREE), ("emb.yaml", EMB), ("header.yaml", HEADER)]:
        (tmp_path / name).write_text(text)
    rng = np.random.default_rng(0)
    arrays = {"x": rng.standard_normal((2, 3, 4)).astype(np.float32),
              "y": rng.standard_normal((2, 3, 4)).astype(np.float32),
              "z": rng.standard_normal((2, 3, 4)).astype(np.float32),
              "ids": np.array([[1, 2, 3], [4, 5, 9]])}
    for name, a in arrays.items():
        np.save(tmp_path / f"{name}.npy", a)
    return arrays


def inputs_json(out: str) -> list[tuple]:
    return [(e["name"], tuple(e["shape"]), e["dtype"]) for e in json.loads(out)["inputs"]]


# --- binding by name


def test_input_files_by_name_in_any_order(files):
    invoke("run", "sub.yaml", "-i", "y=y.npy", "-i", "x=x.npy", "-o", "out.npy")
    np.testing.assert_allclose(np.load("out.npy"), files["x"] - 2 * files["y"], rtol=1e-6)


def test_positional_inputs_fill_the_ones_not_given_by_name_in_order(files):
    invoke("run", "three.yaml", "-i", "x.npy", "-i", "b=y.npy", "-i", "z.npy", "-o", "out.npy")  # a=x, b=y, c=z
    np.testing.assert_allclose(np.load("out.npy"), files["x"] - 2 * files["y"] + 4 * files["z"], rtol=1e-6)
    out = invoke("run", "three.yaml", "-i", "x.npy", "-i", "b=y.npy", "-i", "z.npy", "--json", "-q")
    assert [e[0] for e in inputs_json(out)] == ["a", "b", "c"]


def test_input_shapes_by_name(files):
    out = invoke("run", "emb.yaml", "-s", "ids=int64:2,3", "-s", "x=2,3,4", "--json")
    assert inputs_json(out) == [("x", (2, 3, 4), "float32"), ("ids", (2, 3), "int64")]  # the forward's order
    data = json.loads(out)
    assert data["output"] == {"shape": [2, 3, 4], "dtype": "float32"}
    assert data["trace"][0]["inputs"] == [[2, 3, 4], [2, 3]]


def test_the_text_output_names_each_input_with_its_dtype(files):
    out = invoke("run", "emb.yaml", "-s", "ids=int64:2,3", "-s", "2,3,4")
    assert "\ninputs: x (2, 3, 4) float32; ids (2, 3) int64\noutput: shape (2, 3, 4), dtype float32\n" in out
    assert "input: input (20, 16, 50) float32\n" in invoke("run", SEED_DIR / "conv1d.yaml", "-s", "20,16,50")
    assert "inputs:" not in invoke("run", "emb.yaml", "-s", "ids=int64:2,3", "-s", "2,3,4", "--quiet")


def test_random_ids_by_name_stay_below_the_bound(files):
    np.save("zeros.npy", np.zeros((2, 50, 4), np.float32))
    invoke("run", "emb.yaml", "-i", "x=zeros.npy", "-s", "ids=int64<3:2,50", "-o", "out.npy")
    out = np.load("out.npy")  # x is zero, so each row is the embedding of an id
    table = nnspec.load("emb.yaml", seed=0).emb.weight.data
    rows = [next(i for i in range(10) if np.array_equal(r, table[i])) for r in out.reshape(-1, 4)]
    assert set(rows) <= {0, 1, 2} and len(set(rows)) == 3  # 100 draws below 3: all three, nothing else


def test_a_file_by_name_and_random_inputs_by_position_mix(files):
    out = invoke("run", "emb.yaml", "-i", "ids=ids.npy", "-s", "2,3,4", "--json", "-q")
    assert inputs_json(out) == [("x", (2, 3, 4), "float32"), ("ids", (2, 3), "int64")]
    out = invoke("run", "emb.yaml", "-i", "x.npy", "-s", "ids=int64:2,3", "--json", "-q")
    assert inputs_json(out) == [("x", (2, 3, 4), "float32"), ("ids", (2, 3), "int64")]


def test_positional_files_and_random_inputs_do_not_mix(files):
    out = invoke("run", "emb.yaml", "-i", "x.npy", "-s", "int64:2,3", code=2)
    assert "give positional inputs with --input-shape or --input, not both" in out


def test_a_custom_forward_s_inputs_with_defaults_may_be_left_out(files):
    """forward(self, x, mask=None, y=None): y given by name, the mask left out (so its default, None, applies)."""
    out = invoke("run", "header.yaml", "-i", "x.npy", "-i", "y=y.npy", "-o", "out.npy")
    assert "(root)  Header  (2, 3, 4); (2, 3, 4)" in out and "inputs: x (2, 3, 4) float32; y (2, 3, 4) float32" in out
    np.testing.assert_allclose(np.load("out.npy"), files["x"] - 2 * files["y"], rtol=1e-6)
    mask = files["z"] > 0
    np.save("mask.npy", mask)
    invoke("run", "header.yaml", "-i", "x.npy", "-i", "mask=mask.npy", "-o", "out.npy")
    np.testing.assert_array_equal(np.load("out.npy"), np.where(mask, 0, files["x"]))
    out = invoke("validate", "header.yaml", "-s", "N,T,4", "-s", "y=N,T,4")
    assert "inputs: x (N, T, 4) float32; y (N, T, 4) float32\noutput: shape (N, T, 4), dtype float32" in out
    out = invoke("run", "header.yaml", "-s", "mask=bool:2,3", code=1)
    assert "Header takes the input(s) x, mask=None, y=None; got 0 array(s) by position and mask by name: " \
        "x missing" in out


def test_a_layer_s_inputs_with_defaults_may_be_left_out(files):
    """MultiheadAttention(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None, ...): the
    mask is given by name and the two before it are left out, so their defaults apply (weights returned)."""
    Path("mha.yaml").write_text("MultiheadAttention: {embed_dim: 4, num_heads: 2, batch_first: true}\n")
    mask = np.triu(np.ones((3, 3), bool), 1)
    np.save("mask.npy", mask)
    out = invoke("run", "mha.yaml", "-i", "x.npy", "-i", "y.npy", "-i", "z.npy", "-i", "attn_mask=mask.npy",
                 "-o", "out.npz")
    assert "(root)  MultiheadAttention  (2, 3, 4); (2, 3, 4); (2, 3, 4); (3, 3)" in out  # the mask is in the trace
    assert "inputs: query (2, 3, 4) float32; key (2, 3, 4) float32; value (2, 3, 4) float32; attn_mask (3, 3) bool" \
        in out
    m = nnspec.load("mha.yaml", seed=0).eval()
    want = m(files["x"], files["y"], files["z"], attn_mask=mask)
    with np.load("out.npz") as z:
        np.testing.assert_allclose(z["arr_0"], want[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(z["arr_1"], want[1], rtol=1e-5, atol=1e-6)
        assert np.all(z["arr_1"][:, mask] == 0)  # the masked weights: the mask was applied
    plain = invoke("run", "mha.yaml", "-i", "x.npy", "-i", "y.npy", "-i", "z.npy", "--no-plan", "-o", "plain.npz")
    assert "attn_mask" not in plain
    with np.load("plain.npz") as z:
        assert not np.allclose(z["arr_0"], want[0])


# --- validate and summary


def test_validate_takes_named_symbolic_shapes(files):
    out = invoke("validate", "emb.yaml", "-s", "ids=int64:N,T", "-s", "N,T,4")
    assert "inputs: x (N, T, 4) float32; ids (N, T) int64\noutput: shape (N, T, 4), dtype float32" in out
    data = json.loads(invoke("validate", "emb.yaml", "-s", "ids=int64:N,T", "-s", "x=N,T,4", "--json"))
    assert data["inputs"] == [{"name": "x", "shape": ["N", "T", 4], "dtype": "float32"},
                              {"name": "ids", "shape": ["N", "T"], "dtype": "int64"}]


def test_summary_takes_named_shapes(files):
    data = json.loads(invoke("summary", "emb.yaml", "-s", "ids=int64:2,3", "-s", "x=2,3,4", "--json"))
    assert data["inputs"] == [{"name": "x", "shape": [2, 3, 4], "dtype": "float32"},
                              {"name": "ids", "shape": [2, 3], "dtype": "int64"}]
    assert data["memory"]["input_bytes"] == 2 * 3 * 4 * 4 + 2 * 3 * 8


def test_string_inputs_are_listed_with_their_values():
    out = invoke("run", SEED_DIR / "module_dict.yaml", "-s", "x=1,10,32,32", "--arg", "act=prelu",
                 "--arg", "choice=pool", "--json", "-q")
    assert json.loads(out)["inputs"] == [{"name": "x", "shape": [1, 10, 32, 32], "dtype": "float32"},
                                         {"name": "choice", "value": "pool"}, {"name": "act", "value": "prelu"}]


# --- mistakes


@pytest.mark.parametrize("command, args", [
    ("run", ["-s", "idz=int64:2,3", "-s", "2,3,4"]),
    ("run", ["-i", "idz=ids.npy", "-s", "2,3,4"]),
    ("validate", ["-s", "idz=int64:N,T", "-s", "N,T,4"]),
    ("summary", ["-s", "idz=int64:2,3", "-s", "2,3,4"]),
])
def test_an_unknown_name_lists_the_inputs(files, command, args):
    out = invoke(command, "emb.yaml", *args, code=1)
    assert out == "error: Emb has no input 'idz'; its inputs are: x, ids"


def test_an_unknown_name_of_a_layer_lists_its_defaults():
    out = invoke("run", SEED_DIR / "bilinear.yaml", "-s", "128,20", "-s", "input3=128,30", code=1)
    assert "Bilinear has no input 'input3'; its inputs are: input1, input2" in out


@pytest.mark.parametrize("args, option, message", [
    (["-s", "x=2,3,4", "-s", "x=2,3,4"], "--input-shape", "input 'x' is given twice"),
    (["-i", "x=x.npy", "-i", "x=x.npy"], "--input", "input 'x' is given twice"),
    (["-s", "x=2,3,4", "-i", "x=x.npy"], "--input", "input 'x' is given twice (also with --input-shape)"),
    (["-s", "ids=int64:2,3", "-s", "2,3,4", "--arg", "ids=1"], "--arg", "input 'ids' is given twice (also with"),
    (["-s", "x=2,3,4", "--arg", "ids=a", "--arg", "ids=b"], "--arg", "input 'ids' is given twice"),
])
def test_a_name_given_twice_is_a_usage_error(files, args, option, message):
    out = invoke("run", "emb.yaml", *args, code=2)
    assert f"Invalid value for {option}: {message}" in out


def test_a_name_given_twice_to_validate_is_a_usage_error(files):
    out = invoke("validate", "emb.yaml", "-s", "x=N,T,4", "-s", "x=N,T,4", code=2)
    assert "input 'x' is given twice" in out


def test_an_input_given_by_name_is_not_filled_by_position_too(files):
    out = invoke("run", "emb.yaml", "-s", "ids=int64:2,3", "-s", "2,3,4", "-s", "2,3,4", code=1)
    assert out.startswith("error: Emb takes the input(s) x, ids; got 2 array(s) by position and ids by name: "
                          "too many for the 1 input(s) left to fill by position (x)")


def test_a_missing_input_is_named(files):
    out = invoke("run", "emb.yaml", "-s", "ids=int64:2,3", code=1)
    assert "Emb takes the input(s) x, ids; got 0 array(s) by position and ids by name: x missing" in out


@pytest.mark.parametrize("value, message", [
    ("1=2,3", "'1=2,3': '1' is not an input name; write NAME=SHAPE"),
    ("ids=", "'ids=': nothing after '='"),
    ("ids=int64:2,z,", "'2,z,' is not a shape"),
    ("ids=int65:2,3", "'int65' is not an input dtype"),
])
def test_bad_named_shapes_are_usage_errors(files, value, message):
    assert message in invoke("run", "emb.yaml", "-s", value, code=2)


def test_a_named_file_of_the_wrong_dtype_is_placed_at_the_layer(files):
    np.save("fids.npy", np.ones((2, 3), np.float32))
    out = invoke("run", "emb.yaml", "-i", "ids=fids.npy", "-s", "2,3,4", code=1)
    assert out.startswith("emb.yaml:6:18: emb (Embedding): embedding: Expected tensor for argument #1 'indices' "
                          "to have one of the following scalar types: Long, Int; but got torch.FloatTensor")


def test_a_named_file_of_the_wrong_shape_is_placed_at_the_op(files):
    np.save("long.npy", np.ones((2, 5), np.int64))
    out = invoke("run", "emb.yaml", "-i", "ids=long.npy", "-i", "x=x.npy", code=1)
    assert out.startswith("emb.yaml:6:14: (root) (Emb): add on (2, 3, 4), (2, 5, 4): The size of tensor a (3) "
                          "must match the size of tensor b (5) at non-singleton dimension 1")


def test_a_named_file_that_is_not_real_numbers_is_refused(files):
    np.save("c.npy", np.zeros((2, 3), np.complex64))
    out = invoke("run", "emb.yaml", "-i", "ids=c.npy", "-s", "2,3,4", code=1)
    assert out == "error: input 'ids' (c.npy) holds dtype complex64; give a .npy array of real numbers"


def test_a_path_with_an_equals_sign(files):
    """Text before the first '=' names an input only where it is an identifier: ./a=b.npy is a file."""
    np.save("y=2.npy", files["y"])
    invoke("run", "sub.yaml", "-i", "x.npy", "-i", "./y=2.npy", "-o", "out.npy")
    np.testing.assert_allclose(np.load("out.npy"), files["x"] - 2 * files["y"], rtol=1e-6)
    out = invoke("run", "sub.yaml", "-i", "x.npy", "-i", "y=2.npy", code=1)  # the input y, from the file 2.npy
    assert out.startswith("error: cannot read input 'y' (2.npy): ")
    assert out.endswith("; for the file 'y=2.npy', write ./y=2.npy")


def test_help_teaches_the_named_forms():
    def help_text(command: str) -> str:  # one line, an example's continuation lines joined
        output = runner.invoke(app, [command, "--help"], env={"COLUMNS": "1000"}).output
        return " ".join(output.replace("\\\n", " ").split())

    text = help_text("run")
    assert "attention_mask=int64<2:8,128" in text and "input_ids=ids.npy" in text and "./a=b.npy" in text
    assert "nnspec run models/examples/transformer_classifier.yaml -s 'tokens=int64<1000:8,48'" in text
    text = help_text("validate")
    assert "attention_mask=int64:N,T" in text and "transformer_classifier.yaml -s tokens=int64:N,T" in text


def test_the_help_examples_run():
    model = SEED_DIR.parent / "examples" / "transformer_classifier.yaml"
    out = invoke("run", model, "-s", "tokens=int64<1000:8,48", "-q")
    assert "output: shape (8, 5), dtype float32" in out
    out = invoke("validate", model, "-s", "tokens=int64:N,T")
    assert "output: shape (N, 5), dtype float32" in out
