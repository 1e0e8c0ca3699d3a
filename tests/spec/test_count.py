"""Modules are counted before a model is constructed, validated or built: a file over the cap is refused at
once, placed at the module that passes it, and a file under it is never refused by the count."""

from __future__ import annotations

import pytest

import nnspec
from nnspec.resources import MAX_MODULES
from nnspec.spec import count, parse


def _error(text: str) -> nnspec.NNSpecError:
    with pytest.raises(nnspec.NNSpecError) as info:
        nnspec.loads(text, filename="m.yaml", meta=True)
    return info.value


def test_a_sequential_of_more_modules_than_the_cap_is_refused_at_the_one_past_it():
    text = "Sequential:\n" + "".join(f"  k{i}: ReLU\n" for i in range(MAX_MODULES))  # with the root: one too many
    with pytest.raises(nnspec.SpecError) as info:
        parse(text, "m.yaml")  # refused on the YAML nodes: nothing is constructed or validated
    e = info.value
    assert str(e) == f"m.yaml:{MAX_MODULES + 1}:11: Sequential.k{MAX_MODULES - 1}: the model has more than " \
                     f"{MAX_MODULES:,} modules, nnspec's cap, so that validate and run stay under 30 s"


def test_copies_of_copies_are_multiplied_not_built():
    e = _error("type: ModuleList\nrepeat: 10000\nmodule: {type: ModuleList, repeat: 10000, module: ReLU}\n")
    assert str(e) == ("m.yaml:2:9: repeat: the model has more than 50,000 modules (10,000 copies of 10,001 modules), "
                      "nnspec's cap, so that validate and run stay under 30 s")


def test_copies_made_by_a_block_are_counted_before_validation(monkeypatch):
    # a block hides the ModuleList from the node count; the expanded normal form is counted before validation
    text = "blocks:\n  B:\n    type: ModuleList\n    repeat: 10000\n    module: {type: ModuleList, repeat: 10000, " \
           "module: ReLU}\nSequential: [B]\n"
    validated = []
    monkeypatch.setattr("nnspec.spec._adapter", lambda: validated.append(1))
    e = _error(text)
    assert "more than 50,000 modules" in str(e) and str(e).startswith("m.yaml:4:13: ") and not validated  # at the repeat


@pytest.mark.parametrize("text", [
    "Sequential: [ReLU, ReLU, {ReLU: null, when: 'False'}, {ReLU: null, repeat: 0}, {share: '0'}]\n",
    "modules: {a: ReLU, b: null, c: {Sequential: []}}\n",
    "TransformerEncoder: [{TransformerEncoderLayer: [4, 2]}, 1]\n",
])
def test_what_may_be_absent_is_not_counted(monkeypatch, text):
    monkeypatch.setattr(count, "MAX_MODULES", 3)
    nnspec.loads(text, meta=True)  # 3 modules or fewer: neither count refuses it


@pytest.mark.parametrize("text, line", [
    ("Sequential: [ReLU, ReLU, ReLU]\n", 1),
    ("Sequential:\n  - ReLU\n  - {Sequential: [ReLU, ReLU]}\n", 3),
    ("type: ModuleList\nrepeat: 2\nmodule: {Sequential: [ReLU]}\n", 2),  # at the repeat that passes the cap
    ("modules:\n  a: ReLU\n  b: {ModuleDict: {c: ReLU, d: ReLU}}\n", 3),
    ("Sequential:\n  - {ReLU: null, repeat: 3}\n", 2),  # expanded (no blocks needed): the normal form's count
])
def test_one_past_the_cap_is_refused_wherever_it_is(monkeypatch, text, line):
    monkeypatch.setattr(count, "MAX_MODULES", 3)
    e = _error(text)
    assert "the model has more than 3 modules" in str(e) and str(e).startswith(f"m.yaml:{line}:")


def test_identical_copies_of_a_block_are_refused_from_the_first():
    e = _error("blocks:\n  B:\n    items:\n      - {ReLU: null, repeat: 1000}\nSequential:\n  - {B: null, repeat: 1000}\n")
    assert str(e).startswith("m.yaml:6:5: ") and "expands to more than 200,000 modules (1,000 copies of 1,001)" in str(e)


def test_copies_that_differ_are_expanded_one_by_one():
    m = nnspec.loads("blocks:\n  B:\n    items:\n      - {ReLU: null, repeat: 1000}\nSequential:\n"
                     "  - {B: null, repeat: 1000, when: 'i < 2'}\n", meta=True)
    assert len(m) == 2000


def test_the_node_count_reads_a_repeat_only_where_it_is_a_plain_decimal(monkeypatch):
    monkeypatch.setattr(count, "MAX_MODULES", 9)
    parse("type: ModuleList\nrepeat: 010\nmodule: ReLU\n", "m.yaml")  # YAML 1.1's octal: 8 copies, 9 modules
    parse("type: ModuleList\nrepeat: '10'\nmodule: ReLU\n", "m.yaml")  # a string: validation's to refuse
    with pytest.raises(nnspec.SpecError, match="more than 9 modules"):
        parse("type: ModuleList\nrepeat: 10\nmodule: ReLU\n", "m.yaml")
