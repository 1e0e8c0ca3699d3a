"""Blocks: substitution, when, repeat, splicing, nesting, and errors that name the use and the definition."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import nnspec
from nnspec.errors import NNSpecError


def load(text: str, **kw):
    return nnspec.loads(textwrap.dedent(text), filename="m.yaml", **kw)


def failure(text: str) -> str:
    with pytest.raises(NNSpecError) as info:
        load(text, meta=True)
    return str(info.value)


BLOCK = """\
blocks:
  Unit:
    args: {cin: int, cout: int, stride: 1, act: true}
    modules:
      conv: {Conv2d: [$cin, $cout, 3], stride: $stride, padding: "${(3 - 1) // 2}"}
      act: {ReLU: null, when: act}
      proj: {when: "stride != 1 or cin != cout", Conv2d: [$cin, $cout, 1], stride: $stride}
    forward: |
      def forward(self, x):
          y = self.conv(x)
          if self.act is not None:
              y = self.act(y)
          if self.proj is not None:
              x = self.proj(x)
          return x + y
"""


def test_substitution_when_and_class_name():
    m = load(BLOCK + """
type: Sequential
modules:
  - {Unit: {cin: 3, cout: 8, stride: 2}}
  - {Unit: {cin: 8, cout: 8, act: false}}
""")
    assert repr(m[0]).startswith("Unit(\n  (conv): Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))")
    assert m[0].proj is not None and m[1].proj is None and m[1].act is None
    assert list(m.state_dict()) == ["0.conv.weight", "0.conv.bias", "0.proj.weight", "0.proj.bias",
                                    "1.conv.weight", "1.conv.bias"]
    assert m(np.zeros((1, 3, 8, 8), np.float32)).shape == (1, 8, 4, 4)


def test_repeat_binds_the_index_and_when_drops_list_items():
    m = load("""
    type: Sequential
    modules:
      - {Linear: ["${4 if i == 0 else 8}", 8], repeat: 3}
      - {ReLU: null, when: false}
      - {Linear: [8, "${n * 2}"], repeat: 2, index: n}
    """)
    assert [type(x).__name__ for x in m] == ["Linear"] * 5
    assert [(x.in_features, x.out_features) for x in m] == [(4, 8), (8, 8), (8, 8), (8, 0), (8, 2)]


def test_items_blocks_splice_and_blocks_use_blocks():
    m = load("""
    blocks:
      Pair:
        args: {c: int}
        items: [{Conv2d: [$c, $c, 1]}, ReLU]
      Stack:
        args: {c: int, n: 2}
        Sequential: [{Pair: {c: $c}, repeat: $n}]
    type: Sequential
    modules: [{Stack: {c: 4, n: 3}}, {Pair: {c: 4}}]
    """)
    assert [type(x).__name__ for x in m[0]] == ["Conv2d", "ReLU"] * 3
    assert [type(x).__name__ for x in m][1:] == ["Conv2d", "ReLU"]


def test_a_string_interpolates_values():
    m = load("""
    blocks:
      Named:
        args: {k: 3}
        name: "Conv${k}x$k"
        modules: {conv: {Conv2d: [1, 1, $k]}}
    Named: {k: 5}
    """)
    assert m._get_name() == "Conv5x5"


@pytest.mark.parametrize("use,phrase,line", [
    ("{Unit: {cin: 3, cuot: 8}}", "Unit has no argument 'cuot'; did you mean 'cout'?", 18),
    ("{Unit: {cin: 3}}", "Unit needs argument 'cout' (int)", 18),
    ("{Unit: {cin: 3, cout: 2.5}}", "argument 'cout' must be int, got 2.5", 18),
])
def test_a_bad_use_is_placed_at_the_use(use, phrase, line):
    text = failure(BLOCK + f"type: Sequential\nmodules:\n  - {use}\n")
    assert phrase in text and text.startswith(f"m.yaml:{line}:")


def test_an_error_inside_a_block_names_the_definition_and_the_use():
    text = failure("""\
blocks:
  Bad:
    args: {c: int}
    modules:
      conv: {Conv2d: [$c, $cc, 3]}
type: Sequential
modules:
  - {Bad: {c: 1}}
""")
    assert text.startswith("m.yaml:5:") and "unknown name $cc; did you mean $c?" in text
    assert "in block Bad used at line 8" in text


@pytest.mark.parametrize("expr,phrase", [
    ("${__import__('os').system('true')}", "'__import__' is not allowed"),
    ("${open('/etc/passwd')}", "'open' is not allowed"),
    ("${2 ** 100000}", "too large"),
    ("${c +}", "invalid expression"),
    ("${1 < 'a'}", "'<' not supported between instances of 'int' and 'str'"),  # Python refused it: placed
    ("${1 in 2}", "argument of type 'int' is not iterable"),
    ("${" + "-" * 100_000 + "c}", "nests too deeply"),  # Python's parser runs out of stack
    ("${" + "not " * 100_000 + "c}", "nests too deeply"),
])
def test_expressions_are_safe(expr, phrase):
    text = failure(f"""\
blocks:
  B:
    args: {{c: 1}}
    modules: {{l: {{Linear: [1, "{expr}"]}}}}
B: {{c: 2}}
""")
    assert phrase in text and text.startswith("m.yaml:4:")


def test_cycles_and_runaway_repeats_are_refused():
    assert "block A uses itself" in failure("blocks:\n  A:\n    modules: {a: A}\nA: null\n")
    assert "more than 200,000" in failure("type: Sequential\nmodules: [{ReLU: null, repeat: 1000000}]\n")


def test_a_block_may_not_hide_a_torch_layer_or_have_a_lowercase_name():
    assert "would hide torch.nn's Conv2d" in failure("blocks:\n  Conv2d: {modules: {}}\nReLU: null\n")
    assert "CamelCase" in failure("blocks:\n  unit: {modules: {}}\nReLU: null\n")


def test_weight_renames_are_checked():
    m = load("weights: {rename: [['^module\\.', '']]}\nLinear: [2, 3]\n", meta=True)
    assert [r.pattern for r in m.__dict__["_weight_renames"]] == ["^module\\."]
    assert "nested repetition" in failure("weights: {rename: [['(a+)+$', '']]}\nLinear: [2, 3]\n")
    assert "[pattern, replacement] pair" in failure("weights: {rename: [['x']]}\nLinear: [2, 3]\n")


def test_keys_beside_a_block_use_are_arguments_or_errors():
    base = "blocks:\n  B:\n    args: {c: 1}\n    modules: {l: {Linear: [$c, 2]}}\n"
    assert "unknown key 'c' beside the use of block B" in failure(base + "B: {}\nc: 3\n")
    assert "repeats an item of a module list" in failure(base + "modules: {b: {B: {c: 2}, repeat: 2}}\n")
    assert load(base + "type: B\nc: 3\n", meta=True).l.in_features == 3


def test_substitution_details_found_in_review():
    m = load("""
    blocks:
      B:
        args: {n: 3, a: true, b: false, flag: true}
        attributes: {tag: "${n}{x}", both: "${n}-${n * 2}", cost: "$$5"}
        modules:
          one: {ReLU: null, when: "${a} and ${b}"}
          two: {ReLU: null, when: $flag}
          seq: {Sequential: {fc: {Linear: [2, 2]}, act: {when: b, ReLU: null}}}
    B: {}
    """, meta=True)
    assert (m.tag, m.both, m.cost) == ("3{x}", "3-6", "$5")
    assert m.one is None and m.two is not None and list(m.seq._modules) == ["fc"]


def test_substitution_and_nesting_are_bounded():
    doubling = "".join(f'a{i + 1}: "$a{i}$a{i}", ' for i in range(30))
    assert "grows past 100,000 characters" in failure(
        f"blocks:\n  B:\n    args: {{a0: xx, {doubling}}}\n    attributes: {{t: $a30}}\nB: {{}}\n")
    nested = "{Sequential: [" * 25 + "ReLU" + "]}" * 25  # 50 levels in the file, inside its bound of 64
    wrap = "{Sequential: [" * 8 + "A" + "]}" * 8  # 16 more around its use
    text = f"blocks:\n  A:\n    Sequential: [{nested}]\nSequential: [{wrap}]\n"
    assert "deeper than 64 levels" in failure(text)  # expanded, A sits 16 levels deeper: past 64


def test_a_when_too_deep_for_pythons_parser_is_placed():
    text = failure("Sequential:\n  - {Linear: [1, 2], when: '" + "not " * 100_000 + "True'}\n")
    assert text.startswith("m.yaml:2:28: ") and "nests too deeply" in text
