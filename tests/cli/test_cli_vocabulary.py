"""``nnspec ops`` (the vocabulary) and integer inputs on the command line (token ids, masks)."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from nnspec import vocabulary
from nnspec_cli import app
from nnspec.runtime import tensor as T
from nnspec.spec.models import LAYER_SPECS

runner = CliRunner()


def test_ops_lists_every_module_function_method_and_operator_once():
    found = vocabulary.entries()
    names = [(e.kind, e.name) for e in found]
    assert len(names) == len(set(names))
    modules = {e.name for e in found if e.kind == "module"}
    assert set(LAYER_SPECS) | {"Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
                               "Module"} == modules
    assert {e.name for e in found if e.kind == "function"} == {
        f"{k.removeprefix('builtins.')}()" if k.startswith("builtins.") else k for k in T.FUNCTIONS
        if not k.startswith("torch.nn.functional.")}
    assert {e.name for e in found if e.kind == "method"} == {f".{k}" for k in T.METHODS}
    assert sum(e.kind == "operator" for e in found) == len(T.OPERATORS)
    assert {"a += b", "a @ b", "a[index]", "-a"} <= {e.name for e in found if e.kind == "operator"}
    assert all(e.summary and "\n" not in e.summary for e in found)
    # each line comes from the code's own docstring, not the fallback that only repeats the name
    fallbacks = [e.name for e in found if e.summary in (f"torch's {e.name}", f"Tensor{e.name}", f"Python's {e.name}",
                                                        f"torch.nn.{e.name}") or e.summary == f"{e.name}."]
    assert not fallbacks


def test_ops_command_groups_by_kind_and_filters():
    result = runner.invoke(app, ["ops"])
    assert result.exit_code == 0
    assert f"{len(LAYER_SPECS) + 6} module types" in result.stdout
    assert "functions (in a custom forward)" in result.stdout and "tensor methods" in result.stdout
    result = runner.invoke(app, ["ops", "layer_norm"])
    assert result.exit_code == 0 and "F.layer_norm" in result.stdout and "Conv2d" not in result.stdout
    result = runner.invoke(app, ["ops", "--kind", "module", "--json"])
    data = json.loads(result.stdout)
    assert {d["kind"] for d in data} == {"module"} and any(d["name"] == "Conv2d" for d in data)


def test_ops_command_errors():
    result = runner.invoke(app, ["ops", "--kind", "layer"])
    text = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2 and "choose module, function, method, operator" in text
    result = runner.invoke(app, ["ops", "no-such-op-anywhere"])
    assert result.exit_code == 1 and "nothing matches 'no-such-op-anywhere'" in result.output


def test_unknown_module_type_points_at_ops(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text("Sequential:\n  - Frobnicator\n  - Frobnicator\n")
    result = runner.invoke(app, ["summary", str(f)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and all("`nnspec ops --kind module` lists the" in line for line in lines)


MODEL = "name: M\ninputs: [ids, y]\nforward: |\n  return ids.float() * 2 + y\n"


def test_integer_input_shapes_give_integer_inputs(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text(MODEL)
    out = tmp_path / "y.npy"
    result = runner.invoke(app, ["run", str(f), "-s", "int64<5:2,3", "-s", "2,3", "-o", str(out), "--seed", "1"])
    assert result.exit_code == 0, result.output
    y = np.load(out)
    assert y.dtype == np.float32 and y.shape == (2, 3)
    result = runner.invoke(app, ["validate", str(f), "-s", "int64:N,T", "-s", "N,T", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output"] == {"shape": ["N", "T"], "dtype": "float32"}


def test_integer_npy_inputs_keep_their_dtype(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text(MODEL)
    ids, y = np.arange(6).reshape(2, 3), np.full((2, 3), 0.5)
    np.save(tmp_path / "ids.npy", ids)
    np.save(tmp_path / "y.npy", y)
    result = runner.invoke(app, ["run", str(f), "-i", str(tmp_path / "ids.npy"), "-i", str(tmp_path / "y.npy"),
                                 "-o", str(tmp_path / "out.npy"), "-q"])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), (2 * ids + 0.5).astype(np.float32))


def test_input_dtype_mistakes_are_usage_errors(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text(MODEL)
    for bad, phrase in (("float:2,3", "'float' is not an input dtype"), ("int64<x:2,3", "positive integer"),
                        ("bool<3:2,3", "positive integer")):
        result = runner.invoke(app, ["run", str(f), "-s", bad, "-s", "2,3"])
        text = " ".join(result.output.replace("│", " ").split())  # the usage box wraps lines
        assert result.exit_code == 2 and phrase in text, result.output


def test_random_ids_stay_below_the_smallest_embedding():
    from nnspec_cli.options import InputSpec, random_high as _random_high

    class Lookup:
        def __init__(self, n):
            self.num_embeddings = n

    class Model:
        def __init__(self, *sizes):
            self.sizes = sizes

        def modules(self):
            return [Lookup(n) for n in self.sizes]

    assert _random_high(Model(100, 30), InputSpec((2,), "int64")) == 30
    assert _random_high(Model(), InputSpec((2,), "int64")) == 2
    assert _random_high(Model(100), InputSpec((2,), "int64", 7)) == 7
