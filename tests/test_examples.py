"""models/examples/: the everyday models people write, each a parity case (tests/cases_examples.py) and each
checked here from the command line as a user meets it: the shapes its first comment lines state, and
static inference with a symbolic sequence length for the sequence models."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cases_examples import EXAMPLE_INPUTS
from nnspec_cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "models" / "examples"
runner = CliRunner()


def test_every_example_is_a_parity_case():
    assert sorted(p.stem for p in EXAMPLES.glob("*.yaml")) == sorted(EXAMPLE_INPUTS)
    assert len(EXAMPLE_INPUTS) == 13


def _stated(path: Path) -> tuple[list[str], str]:
    """The `nnspec run <file> --input-shape S -> OUT` line of a file's header comment: (shapes, output)."""
    text = path.read_text()
    match = re.search(r"# nnspec run \S+ --input-shape (\S+) -> (.+?)(?:;|\n)", text)
    assert match, f"{path.name}: its header says how to run it"
    return match.group(1).split(" -s "), match.group(2).strip()


@pytest.mark.parametrize("name", sorted(EXAMPLE_INPUTS))
def test_example_runs_as_its_header_says(name):
    path = EXAMPLES / f"{name}.yaml"
    shapes, output = _stated(path)
    args = ["run", str(path), "--quiet", "--json"]
    for s in shapes:
        args += ["-s", s]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)["output"]["shape"]
    stated = [tuple(int(v) for v in re.findall(r"\d+", part)) for part in re.findall(r"\(([^)]*)\)", output)]
    got = [tuple(got)] if got and isinstance(got[0], int) else [tuple(g) for g in got]
    assert got == stated


@pytest.mark.parametrize("name, shape, output, assumes", [
    ("transformer_classifier", "int64:N,T", ["N", 5], ["T <= 64"]),  # learned positions for at most 64 tokens
    ("lstm_tagger", "int64:T", ["T", 3], []),
    ("gru_lm", "int64:N,T", [["N", "T", 65], [2, "N", 128]], []),
    ("gpt_block", "N,T,64", ["N", "T", 64], ["T <= 32"]),  # the causal mask buffer is block_size long
])
def test_sequence_models_validate_with_a_symbolic_length(name, shape, output, assumes):
    result = runner.invoke(app, ["validate", str(EXAMPLES / f"{name}.yaml"), "-s", shape, "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["output"]["shape"] == output and found["assumptions"] == assumes
    assert "T" in str(found["mult_adds"])  # the cost grows with the length, as a formula
