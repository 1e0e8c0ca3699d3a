"""The YAML loader on what YAML 1.1 reads oddly or what would cost it unbounded time: base-60 numbers and
timestamps stay strings, huge integers are refused by their length, deep nesting is refused where it crosses
the limit, and every refusal is placed at file:line:col with the key it is under."""

from __future__ import annotations

import datetime

import pytest

import nnspec
from nnspec.spec import loader, parse


def _error(text: str) -> nnspec.NNSpecError:
    with pytest.raises(nnspec.NNSpecError) as info:
        nnspec.loads(text, filename="m.yaml")
    return info.value


def _parse_error(text: str) -> nnspec.SpecError:
    with pytest.raises(nnspec.SpecError) as info:
        parse(text, "m.yaml")
    return info.value


@pytest.mark.parametrize("value", ["1:30", "1:30.5", "-1:30", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
                                   "2001-12-14 21:59:43.10 -5", ":".join(["1"] * 400)])
def test_base_60_numbers_and_timestamps_stay_strings(value):
    data = parse(f"a: {value}\n{value}: b\n", "m.yaml")
    assert data["a"] == value and value in data
    assert all(type(v) is str for v in [data["a"], *data])


def test_a_base_60_argument_is_refused_as_the_string_it_is():
    e = _error("Linear:\n  in_features: 1:30\n  out_features: 3\n")
    assert str(e).startswith("m.yaml:2:16: ") and "in_features" in str(e) and "'1:30'" in str(e)
    e = _error("Dropout:\n  p: 1:30.5\n")
    assert str(e).startswith("m.yaml:2:6: p: ") and "'1:30.5'" in str(e)


def test_yaml_1_2_numbers_still_read_as_numbers():
    data = parse("a: 1e-5\nb: -2.5E+3\nc: 0x1F\nd: 0o17\ne: 0b101\nf: 1_000\ng: .inf\nh: 017\ni: -0\nj: 3.0\n", "m")
    assert data == {"a": 1e-5, "b": -2500.0, "c": 31, "d": 15, "e": 5, "f": 1000, "g": float("inf"), "h": 15,
                    "i": 0, "j": 3.0}
    assert type(data["c"]) is int and type(data["a"]) is float


def test_explicit_tags_do_not_bring_base_60_back():
    assert "not an integer" in str(_parse_error("a: !!int 1:30\n"))
    assert "not a number" in str(_parse_error("a: !!float 1:30.5\n"))
    assert isinstance(parse("a: !!timestamp 2001-12-14\n", "m")["a"], datetime.date)  # asked for by name


@pytest.mark.parametrize("number, digits", [
    ("9" * 5000, 5000), ("9" * 200_000, 200_000), ("-" + "9" * 200_000, 200_000), ("0x" + "f" * 200_000, 200_000),
    ("0o" + "7" * 200_000, 200_000), ("0b" + "1" * 200_000, 200_000), ("_".join(["9"] * 100_000), 100_000),
])
def test_a_huge_integer_is_refused_by_its_length_with_its_key_and_place(number, digits):
    e = _parse_error(f"Linear:\n  in_features: {number}\n  out_features: 3\n")
    assert str(e).startswith(f"m.yaml:2:16: Linear.in_features: a number with {digits:,} digits is too large")
    assert (e.path, e.position.line, e.position.col) == ("Linear.in_features", 2, 16)


def test_huge_integers_in_lists_and_keys_are_placed():
    e = _parse_error("parameters:\n  w: {shape: [" + "9" * 5000 + "]}\n")
    assert str(e).startswith("m.yaml:2:15: parameters.w.shape.0: a number with 5,000 digits")
    e = _parse_error("a:\n  ? " + "9" * 5000 + "\n  : 1\n")  # a key (an explicit one: a plain key is short)
    assert str(e).startswith("m.yaml:2:5: a: a number with 5,000 digits")


def test_integers_up_to_the_bound_are_read_and_leading_zeros_do_not_count():
    assert parse(f"a: {2 ** 4096 - 1}\n", "m")["a"] == 2 ** 4096 - 1
    assert parse("a: 0x" + "0" * 100_000 + "1\n", "m")["a"] == 1
    assert "too large" in str(_parse_error(f"a: {2 ** 4096}\n"))


@pytest.mark.parametrize("text, line, col", [
    ("[" * 100_000 + "]" * 100_000, 1, loader.MAX_DEPTH + 2),  # libyaml refuses at 1,000 levels: placed at ours
    ("{a: " * 50_000 + "1" + "}" * 50_000, 1, 4 * (loader.MAX_DEPTH + 1) + 1),
    ("".join(f"{' ' * i}a:\n" for i in range(3000)) + " " * 3000 + "b: 1\n", loader.MAX_DEPTH + 2,
     loader.MAX_DEPTH + 2),
    ("".join(f"{' ' * (2 * i)}-\n" for i in range(3000)) + "x\n", loader.MAX_DEPTH + 2, 2 * loader.MAX_DEPTH + 3),
    ("[" * 100 + "]" * 100, 1, loader.MAX_DEPTH + 2),
])
def test_deep_nesting_is_refused_where_it_crosses_the_limit(text, line, col):
    e = _parse_error(text)
    assert f"deeper than {loader.MAX_DEPTH} levels" in str(e)
    assert (e.position.line, e.position.col) == (line, col), str(e)


def test_nesting_is_bounded_by_the_pure_python_parser_too(monkeypatch):
    monkeypatch.setattr(loader, "_CLoader", None)
    e = _parse_error("[" * 100_000 + "]" * 100_000)
    assert (e.position.line, e.position.col) == (1, loader.MAX_DEPTH + 2) and "deeper than" in str(e)
    e = _parse_error("a: " + "9" * 5000)
    assert str(e).startswith("m.yaml:1:4: a: a number with 5,000 digits")
    assert parse("a: 1:30\nb: [1, {c: 2}]\n", "m") == {"a": "1:30", "b": [1, {"c": 2}]}


def test_nesting_through_aliases_is_bounded():
    deep = "a: &a " + "[" * 40 + "1" + "]" * 40 + "\nb: " + "[" * 40 + "*a" + "]" * 40 + "\n"
    e = _parse_error(deep)  # placed at the list that holds the alias: the anchor's own place is shallow
    assert str(e).startswith("m.yaml:2:43: ") and "deeper than" in str(e)


def test_the_two_parsers_read_the_same_data(monkeypatch):
    text = "Sequential:\n  - &l {Linear: [2, 3], bias: false}\n  - {<<: *l, bias: yes}\n  - 'x: y'\n  - ~\n"
    fast = parse(text, "m")
    monkeypatch.setattr(loader, "_CLoader", None)
    slow = parse(text, "m")
    assert fast == slow
    assert fast["Sequential"].item_pos == slow["Sequential"].item_pos


def test_a_bare_type_name_is_placed_at_its_node():
    e = _error("# a comment\n\n  Conv9d\n")
    assert str(e).startswith("m.yaml:3:3: ") and "unknown module type 'Conv9d'" in str(e)
    assert repr(nnspec.loads("ReLU\n")) == "ReLU()"
