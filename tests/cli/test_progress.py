"""Long work shows a progress bar on a terminal (weights conversion, a long --repeat, export), and nothing where
stderr is piped; the library reports its progress to a callback and draws nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import nnspec
import nnspec_cli.common
from nnspec.plan.timing import measure
from nnspec_cli import app

ROOT = Path(__file__).resolve().parents[2]
LENET = ROOT / "models" / "zoo" / "lenet5.yaml"


def invoke(*args, terminal: bool, monkeypatch) -> tuple[str, str]:
    monkeypatch.setattr(nnspec_cli.common, "on_terminal", lambda: terminal)
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def test_a_long_repeat_shows_a_bar_on_a_terminal_only(monkeypatch):
    args = ("run", LENET, "-s", "1,1,32,32", "-n", "5", "-q")
    out, err = invoke(*args, terminal=True, monkeypatch=monkeypatch)
    assert "Running lenet5.yaml: running" in err and "100%" in err
    assert "time: median" in out and "Running" not in out  # the bar is on stderr, the result on stdout
    piped_out, piped_err = invoke(*args, terminal=False, monkeypatch=monkeypatch)
    assert piped_err == "" and piped_out.splitlines()[0] == out.splitlines()[0]
    _, err = invoke("run", LENET, "-s", "1,1,32,32", "-n", "5", "-q", "--json", terminal=True, monkeypatch=monkeypatch)
    assert err == ""  # JSON is for programs: no bar


def test_weights_conversion_shows_a_bar(monkeypatch, tmp_path):
    source = ROOT / "tests" / "golden" / "zoo" / "lenet5.pt"
    out, err = invoke("weights", "convert", source, "-o", tmp_path / "w.npz", terminal=True, monkeypatch=monkeypatch)
    assert "Converting lenet5.pt: reading" in err and "Converting lenet5.pt: writing" in err
    assert out == f"wrote 10 arrays to {tmp_path / 'w.npz'}\n"
    _, err = invoke("weights", "convert", source, "-o", tmp_path / "v.npz", terminal=False, monkeypatch=monkeypatch)
    assert err == ""


def test_export_shows_its_stages(monkeypatch, tmp_path):
    pytest.importorskip("onnx")
    _, err = invoke("export", LENET, "-s", "N,1,32,32", "-o", tmp_path / "m.onnx", terminal=True,
                    monkeypatch=monkeypatch)
    for stage in ("building", "translating", "checking", "writing"):
        assert f"Exporting lenet5.yaml: {stage}" in err


def test_the_library_reports_to_a_callback(tmp_path):
    heard = []
    model = nnspec.load(LENET)
    measure(model, [np.zeros((1, 1, 32, 32), np.float32)], repeat=3, trace=False,
            progress=lambda *a: heard.append(a))
    assert heard == [("planning", 0, None), ("running", 0, 3), ("running", 1, 3), ("running", 2, 3), ("running", 3, 3)]
    heard.clear()
    nnspec.save_weights(model, tmp_path / "w.npz", progress=lambda *a: heard.append(a))
    assert heard[0] == ("writing", 0, 10) and heard[-1] == ("writing", 10, 10) and len(heard) == 11
    heard.clear()
    state = nnspec.load_weights(tmp_path / "w.npz", progress=lambda *a: heard.append(a))
    size = (tmp_path / "w.npz").stat().st_size
    assert heard[0] == ("reading", 0, size) and len(heard) == 1 + len(state)
    assert [d for _, d, _ in heard] == sorted(d for _, d, _ in heard) and heard[-1][1] <= size
