"""With --json (or summary's --format json), a failure is JSON on stdout too: ``{"errors": [{"kind", "file",
"line", "column", "path", "message"}]}``, nothing on stderr, the exit status as without it (1 for a model's
mistake, 2 for a usage error)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nnspec_cli import app

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "bad"
FIELDS = ["kind", "file", "line", "column", "path", "message"]


def errors(*args, code: int) -> list[dict]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    assert result.stderr == "", result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["errors"] and data["errors"]
    for e in data["errors"]:
        assert list(e) == FIELDS
    return data["errors"]


def test_a_placed_spec_error():
    (e,) = errors("validate", BAD / "forward_undefined_name.yaml", "--json", code=1)
    assert e == {"kind": "compile error", "file": str(BAD / "forward_undefined_name.yaml"), "line": 6, "column": 14,
                 "path": "(root).forward", "message": "name 'conv2' is not defined"}


def test_a_missing_file():
    (e,) = errors("run", "nothing.yaml", "-s", "1,2", "--json", code=1)
    assert e["kind"] == "spec error" and e["file"] == "nothing.yaml" and e["line"] is None
    assert e["message"] == "no such model file"


def test_a_shape_error_from_summary_s_format_json():
    (e,) = errors("summary", ROOT / "models" / "seed" / "conv2d.yaml", "-s", "1,2,3", "-f", "json", code=1)
    assert e["kind"] == "shape error" and e["line"] == 2 and "to have 16 channels, but got 1" in e["message"]


def test_a_usage_error_keeps_its_status():
    (e,) = errors("run", ROOT / "models" / "seed" / "conv2d.yaml", "-s", "1,x", "--json", code=2)
    assert e["kind"] == "usage error" and e["file"] is None
    assert e["message"].startswith("Invalid value for --input-shape: '1,x' is not a shape")
    (e,) = errors("validate", ROOT / "models" / "seed" / "conv2d.yaml", "--json", "--bogus", code=2)
    assert e["message"] == "No such option: --bogus"


def test_several_errors_are_listed(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text("Sequential:\n  a: Conv9d\n  b: {Linear: [1, 2], bogus: 3}\n")
    found = errors("validate", path, "--json", code=1)
    assert [(e["line"], e["path"]) for e in found] == [(2, "modules.a"), (3, "modules.b.bogus")]


def test_a_weights_error(tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"not")
    (e,) = errors("weights", "check", ROOT / "models" / "seed" / "linear.yaml", path, "--json", code=1)
    assert e == {"kind": "weights error", "file": str(path), "line": None, "column": None, "path": None,
                 "message": "too short for a .safetensors file (3 bytes)"}


def test_json_mode_ends_with_its_command():
    from nnspec_cli.common import _JSON

    errors("validate", "nothing.yaml", "--json", code=1)
    assert _JSON.get() is False  # a later command (or a direct progress_bar) is not quiet because of this one
