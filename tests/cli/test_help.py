"""``nnspec --help`` and every command's help read as sentences in an 80-column terminal: prose flowed to the
width (no line broken where the source's line ended), every summary, paragraph and option help a whole sentence,
no summary cut short with '...', and examples whole lines that name files which exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from nnspec_cli import app

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 80
runner = CliRunner()


def _commands(group, prefix: tuple = ()) -> list[tuple]:
    """Every command line's words, groups included (typer's click group, vendored: no class to name)."""
    found = [prefix]
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += _commands(command, prefix + (name,))
        else:
            found.append(prefix + (name,))
    return found


COMMANDS = _commands(typer.main.get_command(app))


def _help(command: tuple) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": str(WIDTH)}, terminal_width=WIDTH)
    assert result.exit_code == 0, result.output
    return result.output


def _sections(text: str) -> dict[str, list[str]]:
    """The help's parts: 'description' (between the usage line and the first heading), then each heading's lines."""
    parts: dict[str, list[str]] = {"description": []}
    current = None
    for line in text.splitlines():
        if line.startswith("Usage:"):
            current = "description"
        elif re.fullmatch(r"[A-Z][a-z]+:", line):
            current = line[:-1]
            parts[current] = []
        elif current is not None:
            parts[current].append(line)
    return parts


def _paragraphs(lines: list[str]) -> list[list[str]]:
    paragraphs, current = [], []
    for line in lines + [""]:
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(current)
            current = []
    return paragraphs


def test_every_command_is_listed():
    assert ("run",) in COMMANDS and ("weights", "check") in COMMANDS and ("graph",) in COMMANDS
    assert len(COMMANDS) >= 15


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "nnspec")
def test_help_reads_as_sentences_at_80_columns(command):
    text = _help(command)
    assert all(len(line) <= WIDTH for line in text.splitlines()), text
    parts = _sections(text)
    paragraphs = _paragraphs(parts["description"])
    assert paragraphs, f"no description: {text}"
    for lines in paragraphs:
        indent = len(lines[0]) - len(lines[0].lstrip())
        if indent > 2:  # an example block: whole command lines (a long one goes on after '\')
            for line in lines:
                if line.lstrip().startswith("nnspec "):
                    for word in line.split():
                        if re.fullmatch(r"(models|tests)/[\w/.-]+\.(yaml|json)", word):
                            assert (ROOT / word).is_file(), f"the example's {word} does not exist"
            continue
        prose = " ".join(line.strip() for line in lines)
        assert prose.endswith((".", ":")), f"not a sentence: {prose!r}"
        for line, following in zip(lines, lines[1:]):
            next_word = following.split()[0]
            # flowed to the width: the next line's first word would not have fitted on this one
            assert len(line) + 1 + len(next_word) > WIDTH, f"broken mid-sentence after {line!r}"
    for heading in ("Commands", "Options", "Arguments"):
        entries = _entries(parts.get(heading, []))
        for name, help_text in entries:
            assert not help_text.endswith("..."), f"{heading} {name}: cut short: {help_text!r}"
            sentence = re.sub(r"(\s+\[[^\]]*\])+$", "", help_text)  # click's [default: ...], [required], [x>=0]
            assert sentence.endswith("."), f"{heading} {name}: not a sentence: {help_text!r}"


def _entries(lines: list[str]) -> list[tuple[str, str]]:
    """(name, help) of each row of a definition list: a row starts at indent 2, its help wraps at a deeper one."""
    entries: list[tuple[str, list[str]]] = []
    for line in lines:
        if not line.strip():
            continue
        if re.match(r"  \S", line):
            name, _, rest = line.strip().partition("  ")
            entries.append((name, [rest.strip()] if rest.strip() else []))
        elif entries:
            entries[-1][1].append(line.strip())
    return [(name, " ".join(words)) for name, words in entries]


def test_a_long_summary_is_not_cut_in_the_list():
    text = _help(())
    commands = dict(_entries(_sections(text)["Commands"]))
    assert commands["run"] == "Run a model and print its shape trace, timed."
    assert commands["weights"] == "Make, convert and check weight files."
