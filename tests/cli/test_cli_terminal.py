"""What nnspec prints never reaches the terminal raw: names, keys, file names and messages from hostile files
show control characters and bidi controls as escapes (ESC ] 0 ; title BEL would retitle the window, ESC [2J clear
the screen, U+202E make text read backwards)."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import nnspec
import nnspec_cli
from nnspec_cli import app
from nnspec.errors import Position, SpecError, printable

runner = CliRunner()
# what the terminal must never get raw: C0 controls but tab and newline, DEL, C1, bidi controls, lone surrogates
RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
TITLE = "\x1b]0;pwned\x07"


def invoke(*args, code: int = 1) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert not RAW.search(result.output), repr(result.output)
    return result.output


@pytest.mark.parametrize("raw, shown", [
    ("\x1b]0;t\x07", "\\x1b]0;t\\x07"), ("\x00\r\x7f", "\\x00\\r\\x7f"), ("a\x85\x9bb", "a\\x85\\x9bb"),
    ("\u202eabc\u2066\u061c\u200e", "\\u202eabc\\u2066\\u061c\\u200e"), ("m\udcff.yaml", "m\\udcff.yaml"),
    ("tab\tand\nnewline, é, 名前, \\x1b as text", "tab\tand\nnewline, é, 名前, \\x1b as text"),
])
def test_printable_escapes_controls_and_bidi_and_nothing_else(raw, shown):
    assert printable(raw) == shown
    assert printable(shown) == shown  # idempotent: the library escapes, the CLI escapes again, nothing doubles


@pytest.mark.parametrize("module", sorted(p.stem for p in Path(nnspec_cli.__file__).parent.glob("*.py") if p.stem != "__main__"))
def test_every_line_the_cli_prints_goes_through_echo(module):
    # one place escapes everything: a new message can't forget it
    app_module = importlib.import_module("nnspec_cli.common")

    source = inspect.getsource(importlib.import_module(f"nnspec_cli.{module}"))
    source = source.replace(inspect.getsource(app_module.echo), "").replace(inspect.getsource(app_module.render_table), "")
    assert "typer.echo(" not in source and "print(" not in source
    assert re.search(r"(?<![_\w])render\(", source) is None  # tables through render_table, aligned once escaped


def test_str_of_an_error_is_escaped_and_its_fields_are_not():
    e = SpecError(f"unknown module type {'Conv' + TITLE!r}", path=f"modules.a{TITLE}",
                  position=Position(f"m{TITLE}.yaml", 2, 3))
    assert str(e) == "m\\x1b]0;pwned\\x07.yaml:2:3: modules.a\\x1b]0;pwned\\x07: unknown module type " \
                     "'Conv\\x1b]0;pwned\\x07'"
    assert e.path == f"modules.a{TITLE}" and e.position.file == f"m{TITLE}.yaml"  # for programs, as they are


def test_a_file_name_with_escapes_is_shown_escaped(tmp_path):
    path = tmp_path / f"m{TITLE}\u202e.yaml"
    path.write_text("Sequential:\n  a: Conv9d\n")
    out = invoke("summary", path)
    assert out.startswith(f"{tmp_path}/m\\x1b]0;pwned\\x07\\u202e.yaml:2:6: modules.a: unknown module type 'Conv9d'")
    assert invoke("validate", tmp_path / f"gone{TITLE}.yaml") == f"{tmp_path}/gone\\x1b]0;pwned\\x07.yaml: no such model file\n"


def test_a_hostile_name_is_refused_at_its_key(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text('Sequential:\n  ok: ReLU\n  "conv\\e]0;pwned\\a": ReLU\n')
    out = invoke("summary", path)
    assert out == (f"{path}:3:3: modules.conv\\x1b]0;pwned\\x07: a name can't hold the control character '\\x1b' "
                   "(no torch code could name it), got 'conv\\x1b]0;pwned\\x07'\n")


def _weights(tmp_path: Path) -> Path:
    model = tmp_path / "m.yaml"
    model.write_text("Linear: [1, 1]\n")
    nnspec.save_weights({"weight": np.zeros((1, 1), np.float32), "bias": np.zeros(1, np.float32),
                         f"x{TITLE}": np.zeros(1, np.float32), "y\u202ez": np.zeros(1, np.float32)},
                        tmp_path / "w.safetensors")
    return model


def test_weights_check_shows_keys_escaped_and_aligned(tmp_path):
    model = _weights(tmp_path)
    out = invoke("weights", "check", model, tmp_path / "w.safetensors")
    rows = out.splitlines()[1:]  # after the placed summary line
    assert "unexpected  x\\x1b]0;pwned\\x07  --" in out and "unexpected  y\\u202ez" in out
    header = rows[0]
    assert all(row.index("(1,) float32") == header.index("weights") for row in rows[2:4])  # columns still line up


def test_json_output_is_valid_and_ascii(tmp_path):
    model = _weights(tmp_path)
    out = invoke("weights", "check", model, tmp_path / "w.safetensors", "--json")
    assert out.isascii()
    assert {m["key"] for m in json.loads(out)["mismatches"]} >= {f"x{TITLE}", "y\u202ez"}  # the real keys, back


def test_run_names_the_weights_keys_escaped(tmp_path):
    model = _weights(tmp_path)
    out = invoke("run", model, "-s", "1,1", "--weights", tmp_path / "w.safetensors")
    assert "unexpected key 'x\\x1b]0;pwned\\x07'" in out and "unexpected key 'y\\u202ez'" in out


def test_expand_keeps_hostile_text_exact_and_escaped(tmp_path):
    import yaml

    path = tmp_path / "m.yaml"
    path.write_text('name: M\nforward: "return x  # a\\u202eb \\e]0;t\\a"\n')
    out = invoke("expand", path, code=0)
    assert yaml.safe_load(out) == yaml.safe_load(path.read_text())  # YAML's own escapes: it reads back the same


@pytest.mark.parametrize("args", [
    ["summary", "m.yaml", f"extra{TITLE}\u202e"],  # a file name a glob matched
    [f"summ\u202eary", "m.yaml"],
    ["summary", "m.yaml", f"--x{TITLE}"],
    ["run", "m.yaml", "-s", "1\u202e"],
])
def test_usage_errors_quote_the_command_line_escaped(args):
    out = invoke(*args, code=2)
    assert "\\u202e" in out or "\\x1b" in out
