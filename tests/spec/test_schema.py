"""The JSON Schema for editors: committed file up to date, every model file valid, typical mistakes rejected.

Validation here is by the independent ``jsonschema`` package, on files read with ``yaml.safe_load`` as an
editor's YAML server would read them; nnspec itself is asked too, so every snippet is a real mistake (or a
real model) and the schema is never stricter than the tool on them.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pydantic
import pytest
import yaml
from typer.testing import CliRunner

import nnspec
from nnspec_cli import app
from nnspec.spec import validate
from nnspec.spec.models import CONTAINER_SPECS, LAYER_SPECS
from nnspec.spec.schema import json_schema, schema_text

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schemas" / "nnspec.schema.json"
MODEL_FILES = sorted((ROOT / "models").glob("*.yaml")) + sorted((ROOT / "models" / "seed").glob("*.yaml")) + \
    sorted((ROOT / "models" / "examples").glob("*.yaml"))
ZOO_FILES = sorted((ROOT / "models" / "zoo").glob("*.yaml"))
BAD_DIR = ROOT / "tests" / "bad"

runner = CliRunner()


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_errors(validator, data) -> str | None:
    """The most relevant error, or None when the data is valid."""
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    return None if error is None else f"{error.json_path}: {error.message}"


def nnspec_accepts(text: str) -> bool:
    try:
        nnspec.loads(text)
    except nnspec.NNSpecError:
        return False
    return True


def spec_accepts(data) -> bool:
    """Whether the Pydantic specs take the data (what the schema mirrors; the builder may still refuse it)."""
    try:
        validate(data)
    except nnspec.NNSpecError:
        return False
    return True


# --------------------------------------------------------------------------- the committed file


def test_committed_schema_is_up_to_date():
    assert SCHEMA_FILE.is_file(), f"{SCHEMA_FILE.relative_to(ROOT)} is missing: run `nnspec schema` in the repo root"
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    assert json.loads(text) == json_schema() and text == schema_text(), (
        f"{SCHEMA_FILE.relative_to(ROOT)} is out of date with nnspec's specs (or with pydantic "
        f"{pydantic.VERSION}'s JSON Schemas): run `nnspec schema` in the repository root and commit the file"
    )


def test_schema_is_draft_2020_12_with_defs_and_descriptions(validator):  # the fixture checks it against the metaschema
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    defs = schema["$defs"]
    for kind, spec in LAYER_SPECS.items():
        for name in (spec.__name__, f"{kind}OneKey"):
            assert f"torch.nn.{kind}" in defs[name]["description"], name
        assert all(defs[spec.__name__]["properties"][f.alias or n].get("description")
                   for n, f in spec.model_fields.items())
    for kind, spec in CONTAINER_SPECS.items():
        assert defs[spec.__name__]["description"] and defs[f"{kind}OneKey"]["description"]
    for name in ("Substitution", "When", "Repeat", "Index", "Blocks", "BlockArgs", "BlockDefinition", "BlockName",
                 "BlockUseOneKey", "BlockUseType", "ListItem", "AnyModuleInBlocks"):
        assert defs[name]["description"], name


# --------------------------------------------------------------------------- what is valid


@pytest.mark.parametrize("path", MODEL_FILES + ZOO_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_model_file_validates(validator, path):
    assert schema_errors(validator, yaml.safe_load(path.read_text(encoding="utf-8"))) is None


def test_the_zoo_is_there_and_uses_blocks():  # so that the test above covers block files
    assert len(ZOO_FILES) >= 4
    assert any("blocks" in yaml.safe_load(p.read_text(encoding="utf-8")) for p in ZOO_FILES)


GOOD = [
    "ReLU",
    "Module",
    "{ReLU: null}",
    "{ReLU: true}",
    "{LeakyReLU: 0.1}",
    "{MaxPool2d: 3}",
    "{MaxPool2d: [[3, 2]], stride: 1}",
    "{Conv2d: [4, 8, 3], groups: 4}",
    "{Conv2d: [4, 8], kernel_size: 3}",
    "{Conv2d: 1, out_channels: 2, kernel_size: 3}",
    "{Conv2d: {in_channels: 1, out_channels: 2}, kernel_size: 3}",
    "{Conv2d: null, in_channels: 1, out_channels: 2, kernel_size: 3}",
    "{type: Conv2d, in_channels: 1, out_channels: 2, kernel_size: [3, 1], padding: same}",
    "{AdaptiveAvgPool2d: [[5, null]]}",
    "{BatchNorm2d: 3, momentum: null}",
    "{Upsample: {scale_factor: 2.5, mode: bilinear}}",
    "{Sequential: [ReLU, {Linear: [2, 3]}]}",
    "{Sequential: {a: ReLU, b: {Linear: [2, 3]}}}",
    "{type: Sequential, modules: [{type: Sequential, modules: [PReLU]}]}",
    "{ModuleList: [ReLU, PReLU]}",
    "{ModuleList: null, repeat: 2, module: ReLU}",
    "{type: ModuleList, repeat: 2, module: {Linear: [2, 2]}}",
    "{ModuleDict: {a: ReLU, b: {MaxPool1d: 2}}}",
    "{ParameterList: [{shape: [2]}]}",
    "{ParameterList: null, repeat: 3, parameter: {shape: [2], init: {uniform: [0, 1]}}}",
    "{ParameterDict: {a: {shape: [2], init: {constant: 1.5}, requires_grad: false}}}",
    "{}",
    "{type: Module, name: X}",
    "{Module: {name: Foo, modules: {a: ReLU}}}",
    "{name: X, buffers: {b: {shape: [2], dtype: int64, persistent: false}}}",
    "{name: X, modules: {a: ReLU, b: {share: a}, c: null}, inputs: [y], forward: 'return self.a(y)'}",
    "<<: {name: X}\nmodules: {a: &a {Linear: [2, 2]}, b: *a}",
]


@pytest.mark.parametrize("text", GOOD)
def test_shorthands_validate(validator, text):
    assert nnspec_accepts(text), "not a valid model: the snippet is wrong"
    assert schema_errors(validator, yaml.safe_load(text)) is None


@pytest.mark.parametrize("kind", [*LAYER_SPECS, *CONTAINER_SPECS])
def test_a_bare_type_name_validates_exactly_when_the_specs_take_it(validator, kind):
    assert (schema_errors(validator, kind) is None) == spec_accepts(kind)


# blocks (blocks.py), `when`, `repeat` on a list item and `$` substitutions, which work in files without blocks too
BLOCKS_GOOD = {
    "every use of a block": """
blocks:
  Lin:
    args: {c: 4, act: true}
    Sequential:
      - {Linear: [$c, $c]}
      - {ReLU: null, when: act}
  Two:
    items: [{Lin: {act: false}}, Lin]
  Net:
    args: {n: 2}
    modules:
      body: {Sequential: [{Lin: null, repeat: $n, index: k}]}
    forward: return self.body(x)
Sequential:
  - Lin
  - {Lin: null}
  - {Lin: {c: 4}, when: true}
  - {type: Lin, c: 4, act: false}
  - Two
  - {Net: {n: 1}}
""",
    "a layer as a block's body": "blocks:\n  Net: {args: {c: 2}, Linear: [$c, $c]}\n"
                                 "Sequential: [{Net: {c: 3}, repeat: 0}, Net]",
    "a ModuleList with its own repeat as a body": "blocks: {Body: {args: {c: 2}, ModuleList: null, repeat: $c, "
                                                  "module: ReLU}}\nname: M\nmodules: {a: Body}\nforward: 'return x'",
    "an items block repeated": "blocks: {Two: {items: [ReLU, Tanh]}}\nSequential: [Two, {Two: null, repeat: 2}]",
    "blocks: null": "blocks:\nSequential: [ReLU]",
    "repeat with expressions of i": "{Sequential: [{Linear: ['${2 * i + 2}', '${2 * i + 4}'], repeat: 2}]}",
    "repeat, index and when": "{Sequential: [{Linear: [2, 2], repeat: 2, index: j, when: j == 0}]}",
    "when false": "{Sequential: [ReLU, {Dropout: 0.5, when: false}]}",
    "substitutions for an int and a bool": "{Linear: ['${1 + 1}', 3], bias: '${1 == 1}'}",
    "attributes and when in a user module": "{name: M, attributes: {k: '${2 * 3}'}, "
                                            "modules: {a: {Linear: [2, 2], when: '${1 > 2}'}}, forward: 'return x'}",
}


@pytest.mark.parametrize("text", BLOCKS_GOOD.values(), ids=BLOCKS_GOOD.keys())
def test_blocks_and_expansions_validate(validator, text):
    assert nnspec_accepts(text), "not a valid model: the snippet is wrong"
    assert schema_errors(validator, yaml.safe_load(text)) is None


# --------------------------------------------------------------------------- what is not

BAD = {
    "unknown type, bare": "Conv2D",
    "unknown type, one-key": "{Conv2D: [1, 20, 5]}",
    "unknown type, normal form": "{type: Conv2D, in_channels: 1, out_channels: 2, kernel_size: 3}",
    "type needs its arguments": "Conv2d",
    "unknown argument": "{type: Conv2d, in_channels: 1, out_channels: 2, kernal_size: 3}",
    "unknown argument beside a one-key": "{Conv2d: [1, 2, 3], kernal_size: 3}",
    "unknown argument in a one-key mapping": "{Conv2d: {in_channels: 1, out_channels: 2, kernal_size: 3}}",
    "string for an int": "{type: Conv2d, in_channels: one, out_channels: 2, kernel_size: 3}",
    "string for an int, positional": "{Conv2d: [one, 2, 3]}",
    "float for an int": "{Linear: [2.5, 3]}",
    "int for a bool": "{Linear: [2, 3], bias: 1}",
    "missing out_channels": "{type: Conv2d, in_channels: 1, kernel_size: 3}",
    "missing out_channels, one-key mapping": "{Conv2d: {in_channels: 1, kernel_size: 3}}",
    "missing kernel_size, positional": "{Conv2d: [1, 2]}",
    "padding_mode: wrong": "{type: Conv2d, in_channels: 1, out_channels: 2, kernel_size: 3, padding_mode: wrong}",
    "padding_mode: wrong, one-key": "{Conv2d: [1, 2, 3], padding_mode: wrong}",
    "negative channels": "{Conv2d: [-1, 2, 3]}",
    "kernel_size of three for Conv2d": "{Conv2d: [1, 2, [3, 3, 3]]}",
    "probability above 1": "{Dropout: 1.5}",
    "argument by position and by name": "{Conv2d: [1, 2, 3], in_channels: 1}",
    "one positional argument and the same by name": "{MaxPool2d: 3, kernel_size: 3}",
    "too many positional arguments": "{Linear: [2, 3, true, 4]}",
    "list for a one-argument layer": "{AdaptiveAvgPool2d: [5, 7]}",
    "Sequential with a number as a module": "{Sequential: [ReLU, 3]}",
    "Sequential with a number, normal form": "{type: Sequential, modules: [ReLU, 3]}",
    "ModuleDict given a list": "{ModuleDict: [ReLU]}",
    "unknown container key": "{type: Sequential, layers: [ReLU]}",
    "repeat without module": "{type: ModuleList, repeat: 2}",
    "module without repeat": "{ModuleList: null, module: ReLU}",
    "modules and repeat": "{ModuleList: [ReLU], repeat: 2, module: ReLU}",
    "two type keys": "{ReLU: null, LeakyReLU: null}",
    "unknown key in a user module": "{name: M, layers: {a: ReLU}}",
    "class name with a space": "{name: my model}",
    "dotted registry name": "{name: M, modules: {a.b: ReLU}}",
    "reserved module name": "{name: M, modules: {forward: ReLU}}",
    "dunder parameter name": "{name: M, parameters: {__init__: {shape: [1]}}}",
    "keyword buffer name": "{name: M, buffers: {class: {shape: [1]}}}",
    "inputs without forward": "{name: M, inputs: [y]}",
    "self among inputs": "{name: M, inputs: [self], forward: 'return x'}",
    "an input twice": "{name: M, inputs: [a, a], forward: 'return a'}",
    "parameter without shape": "{name: M, parameters: {w: {init: randn}}}",
    "unknown init": "{name: M, parameters: {w: {shape: [2], init: kaiming}}}",
    "share with arguments": "{name: M, modules: {a: ReLU, b: {share: a, inplace: true}}}",
    "a number at the root": "3",
    "a list at the root": "[ReLU]",
    # blocks, when, repeat, $
    "misspelled argument of a layer in a block": "blocks:\n  B:\n    args: {c: int}\n    Sequential:\n"
        "      - {Conv2d: [$c, $c], kernal_size: 3}\nSequential: [{B: {c: 2}}]",
    "misspelled argument of a layer in a block, normal form": "blocks:\n  B:\n    args: {c: int}\n    modules:\n"
        "      conv: {type: Conv2d, in_channels: $c, out_channels: $c, kernal_size: 3}\nSequential: [{B: {c: 2}}]",
    "string for an int in a block": "blocks: {A: {Linear: [two, 2]}}\nSequential: [A]",
    "unknown key in a block's body": "blocks: {A: {args: {}, Sequential: [ReLU], layers: 2}}\nSequential: [A]",
    "lowercase block name": "blocks: {basic: {Sequential: [ReLU]}}\nSequential: [ReLU]",
    "block named as a torch type": "blocks: {ReLU: {Sequential: []}}\nSequential: [ReLU]",
    "blocks a list": "blocks: [ReLU]\nSequential: [ReLU]",
    "block not a mapping": "blocks: {A: [ReLU]}\nSequential: [ReLU]",
    "block argument not a name": "blocks: {A: {args: {1c: 1}, Sequential: [ReLU]}}\nSequential: [A]",
    "items not a list": "blocks: {A: {items: ReLU}}\nSequential: [A]",
    "block arguments as a list": "blocks: {A: {args: {c: 1}, Sequential: [ReLU]}}\nSequential: [{A: [1]}]",
    "two block names in one module": "blocks: {A: {Sequential: [ReLU]}, B: {Sequential: [ReLU]}}\n"
                                     "Sequential: [{A: null, B: null}]",
    "a block's use in a file without blocks": "{Sequential: [{B: null}]}",
    "a block's name in a file without blocks": "{Sequential: [Foo]}",
    "repeat: -1": "{Sequential: [{ReLU: null, repeat: -1}]}",
    "repeat: -1 on a block": "blocks: {B: {Sequential: [ReLU]}}\nSequential: [{B: null, repeat: -1}]",
    "repeat not an int": "{Sequential: [{ReLU: null, repeat: 1.5}]}",
    "repeat outside a list": "{name: M, modules: {a: {ReLU: null, repeat: 2}}}",
    "repeat at the root": "{ReLU: null, repeat: 2}",
    "index without repeat": "{Sequential: [{ReLU: null, index: j}]}",
    "index not a name": "{Sequential: [{ReLU: null, repeat: 2, index: 1x}]}",
    "when a list": "{Sequential: [{ReLU: null, when: [1]}]}",
    "args outside a block's definition": "{Sequential: [{ReLU: null, args: {a: 1}}]}",
    "blocks below the root": "{name: M, modules: {a: {blocks: {}, Sequential: []}}}",
    "a substitution for a type": "{type: $t}",
}


@pytest.mark.parametrize("text", BAD.values(), ids=BAD.keys())
def test_typical_mistakes_are_rejected(validator, text):
    assert not nnspec_accepts(text), "nnspec takes this model: the snippet is not a mistake"
    assert schema_errors(validator, yaml.safe_load(text)) is not None


# files the bad-input corpus keeps, one per kind of mistake; schema_* are those a JSON Schema can see
# (NaN, which JSON cannot even write, is in tests/bad/nan_argument.yaml: nnspec refuses it, no schema can)
BAD_SCHEMA_FILES = sorted(BAD_DIR.glob("schema_*")) if BAD_DIR.is_dir() else []


@pytest.mark.skipif(not BAD_SCHEMA_FILES, reason="no tests/bad/schema_* files")
@pytest.mark.parametrize("path", BAD_SCHEMA_FILES, ids=lambda p: p.name)
def test_bad_schema_files_are_rejected(validator, path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert schema_errors(validator, data) is not None, f"the schema accepts {path.name}"


# --------------------------------------------------------------------------- the command


def test_schema_command_prints_json():
    result = runner.invoke(app, ["schema", "--stdout"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json_schema()
    assert result.stdout == schema_text()


def test_schema_command_writes_files(tmp_path, monkeypatch):
    out = tmp_path / "editor.schema.json"
    result = runner.invoke(app, ["schema", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == schema_text()
    monkeypatch.chdir(tmp_path)  # the default: schemas/nnspec.schema.json, under the working folder
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "schemas" / "nnspec.schema.json").read_text(encoding="utf-8")) == json_schema()


@pytest.mark.parametrize("args", [["--stdout", "-o", "x.json"], ["-o", "no/such/folder/x.json"], ["-o", "."]])
def test_schema_command_refuses_bad_options(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["schema", *args])
    assert result.exit_code == 2
    assert not list(tmp_path.iterdir())
