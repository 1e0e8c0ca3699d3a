"""The bad-input corpus: every file in tests/bad/ is one kind of mistake, and the CLI must say so well.

Each file's first line states what to expect:
``# expect: [run="<run options>"] [line=N] phrase="<text in the message>"``.
Without ``run`` the file goes through ``nnspec summary``; with it, through ``nnspec run``, and then
through ``nnspec validate`` with the same options, which must print the same message.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nnspec_cli import app

BAD = Path(__file__).resolve().parent / "bad"
FILES = sorted(p for p in BAD.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
runner = CliRunner()


def expectation(path: Path) -> dict:
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace")
    m = re.match(r"# expect:(.*)$", first)
    assert m, f"{path.name}: the first line must be '# expect: ...'"
    return dict(re.findall(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|(\S+))', m.group(1)) and
                {k: a or b for k, a, b in re.findall(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|(\S+))', m.group(1))})


def test_the_corpus_is_large_enough():
    assert len(FILES) >= 40


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_bad_file_gets_one_clear_message(path):
    expect = expectation(path)
    args = ["run", str(path), *shlex.split(expect["run"])] if "run" in expect else ["summary", str(path)]
    result = runner.invoke(app, args)
    output = result.output
    assert result.exit_code == 1, output
    assert "Traceback" not in output and "internal error" not in output, output
    assert expect["phrase"] in output, output
    lines = output.strip().splitlines()
    assert all(line.startswith(f"{path}:") for line in lines), output  # one placed line per mistake
    if "line" in expect:  # the mistake's line is named (other independent mistakes may be listed too)
        assert any(re.match(rf"^{re.escape(str(path))}:{expect['line']}(:\d+)?: ", line) for line in lines), output
    if "run" in expect and "--memory-limit" not in expect["run"]:
        # static inference finds the same mistake, word for word, without running anything
        static = runner.invoke(app, ["validate", str(path), *shlex.split(expect["run"])])
        assert (static.exit_code, static.output) == (1, output)
