"""``nnspec graph``: the command over nnspec.viz (whose own tests, in tests/viz/, check the pictures)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nnspec_cli import app

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = ROOT / "models" / "resnet_blocks.yaml"


def invoke(*args, code: int = 0) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def test_a_page_with_symbolic_shapes(tmp_path):
    out = invoke("graph", BLOCKS, "-s", "N,3,H,W", "-o", tmp_path / "m.html")
    assert out.startswith(f"wrote {tmp_path / 'm.html'} (a page: ") and "inputs x (N, 3, H, W)" in out
    page = (tmp_path / "m.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "(N, 3, H, W)" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|@import""", page)  # nothing fetched


def test_guessed_inputs_and_the_depth(tmp_path):
    out = invoke("graph", ROOT / "models" / "seed" / "conv2d.yaml", "-o", tmp_path / "m.dot", "--depth", "0")
    assert "graphviz's text" in out and (tmp_path / "m.dot").read_text().startswith("digraph")


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")
def test_an_svg(tmp_path):
    invoke("graph", BLOCKS, "-s", "1,3,64,64", "-o", tmp_path / "m.svg")
    svg = (tmp_path / "m.svg").read_text()
    assert "<svg" in svg and "(1, 64, 32, 32)" in svg


def test_refusals(tmp_path):
    out = " ".join(invoke("graph", BLOCKS, "-o", tmp_path / "m.pdf", code=2).replace("│", " ").split())
    assert "'" + str(tmp_path / "m.pdf") + "': name the file .html, .svg, .png or .dot" in out
    out = invoke("graph", BLOCKS, "-s", "1,2,64,64", "-o", tmp_path / "m.html", code=1)
    assert out.startswith(f"{BLOCKS}:") and "channels" in out and not (tmp_path / "m.html").exists()
