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
    e = _error("[" * 5000 + "]" * 5000)  # placed where it crosses the limit, not where Python's stack ran out
    assert str(e).startswith(f"m.yaml:1:{loader.MAX_DEPTH + 2}: ") and "deeper than" in str(e)


def test_python_tags_are_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "ran"
    e = _error(f"!!python/object/apply:os.system ['touch {marker}']")
    assert "tag not allowed" in str(e)
    assert not marker.exists()


@pytest.mark.parametrize("text, line", [
    ("parameters: {w: {shape: [100000, 100000, 100]}}", 1),
    ("Sequential:\n  - ReLU\n  - {Linear: [100000, 100000]}", 3),
    ("{Bilinear: [10000, 10000, 10000]}", 1),
    ("PReLU: 10000000000", 1),
])
def test_huge_state_is_refused_before_allocation(text, line):
    e = _error(text)
    assert "the model's parameters and buffers need" in str(e) and str(e).startswith(f"m.yaml:{line}:")


def test_the_memory_limit_counts_the_whole_model():
    text = "type: ModuleList\nrepeat: 100\nmodule: {Linear: [100, 100]}"  # 100 x 40,400 bytes
    assert len(nnspec.loads(text, memory_limit=5_000_000)) == 100
    with pytest.raises(nnspec.NNSpecError, match="the limit is 1,000,000 bytes") as info:
        nnspec.loads(text, filename="m.yaml", memory_limit=1_000_000)
    assert str(info.value).startswith("m.yaml:3:")


def test_impossible_shapes_and_module_bombs_are_refused():
    assert "larger than any array can be" in str(_error("parameters: {w: {shape: [0, 100000000000, 100000000000]}}"))
    e = _error("type: ModuleList\nrepeat: 10000\nmodule: {type: ModuleList, repeat: 10000, module: ReLU}")
    assert "more than 50,000 modules (10,000 copies of 10,001 modules), nnspec's cap" in str(e)


@pytest.mark.parametrize("text, phrase", [
    ("parameters: {w: {shape: [3], init: {uniform: [-1.0e308, 1.0e308]}}}", "cannot fill a float32 array"),
    ("parameters: {w: {shape: [3], init: {normal: [0, -1]}}}", "scale < 0"),
    ("Upsample: {scale_factor: .inf}", "finite number"),
    ("LeakyReLU: [.nan]", "finite number"),
    ("a: 1" + "0" * 5000, "a: a number with 5,001 digits is too large"),
    ("modules: {__init__: ReLU}", "can't be a module name"),
    ("parameters: {_parameters: {shape: [1]}}", "can't be a parameter name"),
])
def test_hostile_values_are_spec_errors(text, phrase):
    e = _error(text)
    assert phrase in str(e) and str(e).startswith("m.yaml")


def test_oversized_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 100)
    p = tmp_path / "big.yaml"
    p.write_text("type: ReLU\n" + "# padding\n" * 20)
    with pytest.raises(nnspec.NNSpecError, match="larger than"):
        nnspec.load(p)


def test_a_duplicate_key_names_both_lines():
    e = _error("type: Linear\nin_features: 2\nout_features: 3\nin_features: 4\n")
    assert str(e).startswith("m.yaml:4:1:") and "duplicate key 'in_features': first at line 2, again at line 4" in str(e)


def test_merge_keys_may_be_overridden():
    m = nnspec.loads("Sequential:\n  - &lin {type: Linear, in_features: 2, out_features: 3}\n  - {<<: *lin, in_features: 3}\n")
    assert repr(m[1]) == "Linear(in_features=3, out_features=3, bias=True)"


def test_a_hostile_type_name_does_not_flood_the_message():
    e = _error("type: " + "X" * 100_000)
    assert len(str(e).splitlines()[0]) < 2000
