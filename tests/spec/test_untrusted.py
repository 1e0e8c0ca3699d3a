"""A model file is untrusted data: no code runs, and size, nesting and alias expansion are bounded."""

from __future__ import annotations

import time

import pytest

import nnspec
from nnspec.spec import loader


def _error(text: str) -> nnspec.NNSpecError:
    with pytest.raises(nnspec.NNSpecError) as info:
        nnspec.loads(text, filename="m.yaml")
    return info.value


def test_billion_laughs_fails_fast_with_a_position():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    e = _error("\n".join(lines))
    assert "expands to more than 1,000,000 values" in str(e)
    assert str(e).startswith("m.yaml:")
    assert time.perf_counter() - start < 5  # measured, not expanded (a loose bound: this is a hang check)


def test_deep_nesting_is_refused_not_a_recursion_error():
    e = _error("modules: " + "{a: " * 70 + "ReLU" + "}" * 70)
    assert f"deeper than {loader.MAX_DEPTH} levels" in str(e)
    e = _error("[" * 5000 + "]" * 5000)
    assert "nested too deeply" in str(e)


def test_python_tags_are_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "ran"
    e = _error(f"!!python/object/apply:os.system ['touch {marker}']")
    assert "tag not allowed" in str(e)
    assert not marker.exists()


def test_huge_shapes_are_refused_before_allocation():
    e = _error("parameters: {w: {shape: [100000, 100000, 100]}}")
    assert "elements; the limit is" in str(e) and "m.yaml:1:" in str(e)


def test_oversized_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 100)
    p = tmp_path / "big.yaml"
    p.write_text("type: ReLU\n" + "# padding\n" * 20)
    with pytest.raises(nnspec.NNSpecError, match="larger than"):
        nnspec.load(p)
