"""A file's forwards report their independent mistakes together, in one run: each at its file:line:col, in file
order, a consequence of an earlier mistake never, the report bounded however many mistakes a file has."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import nnspec
from nnspec.errors import MAX_COLLECTED, MAX_COLLECTED_BYTES, MAX_LISTED, CompileErrors
from nnspec_cli import app

SEVERAL = Path(__file__).resolve().parents[1] / "bad" / "forward_several_mistakes.yaml"


def mistakes(text: str) -> list[str]:
    """The lines of the error a model text raises when it is built."""
    with pytest.raises(nnspec.CompileError) as info:
        nnspec.loads(text, filename="m.yaml")
    return str(info.value).splitlines()


def forward(body: str, head: str = "name: M\nmodules: {ml: {ModuleList: [ReLU, ReLU]}}\n") -> str:
    """A model text whose root forward is ``body`` (its lines start at file line 4 with the default head)."""
    return head + "forward: |\n" + "".join(f"  {line}\n" for line in body.splitlines())


def line_of(text: str, fragment: str) -> tuple[int, int]:
    """The file line and column (1-based) where ``fragment`` first occurs in ``text``."""
    for i, line in enumerate(text.splitlines(), 1):
        if fragment in line and not line.startswith("#"):
            return i, line.index(fragment) + 1
    raise AssertionError(fragment)


def test_independent_mistakes_of_two_forwards_are_reported_in_one_run():
    text = SEVERAL.read_text()
    result = CliRunner().invoke(app, ["validate", str(SEVERAL), "-s", "1,3,8,8", "--json"])
    assert result.exit_code == 1 and result.stderr == "", result.output
    found = json.loads(result.stdout)["errors"]
    expected = [("undefined_scale", "modules.stem.forward", "name 'undefined_scale' is not defined"),
                ("torch.frobnicate", "modules.stem.forward", "torch.frobnicate is not supported"),
                ("import os", "modules.head.forward", "'import' is not supported in a forward")]
    assert len(found) == len(expected), found  # y's and os's later uses are consequences: not reported
    for error, (fragment, path, phrase) in zip(found, expected):  # in file order, each at its place
        assert (error["line"], error["column"]) == line_of(text, fragment), error
        assert error["kind"] == "compile error" and error["file"] == str(SEVERAL) and error["path"] == path
        assert error["message"].startswith(phrase), error

    plain = CliRunner().invoke(app, ["validate", str(SEVERAL), "-s", "1,3,8,8"])
    lines = plain.output.strip().splitlines()
    assert plain.exit_code == 1 and len(lines) == 3 and "Traceback" not in plain.output
    for line, error in zip(lines, found):  # one placed line each: file:line:col: path: message
        assert line.startswith(f"{SEVERAL}:{error['line']}:{error['column']}: {error['path']}: {error['message']}")


def test_the_python_api_gives_each_error_with_its_fields():
    with pytest.raises(CompileErrors) as info:
        nnspec.load(SEVERAL)
    e = info.value
    assert [(x.position.line, x.path) for x in e.errors] == [(10, "modules.stem.forward"), (12, "modules.stem.forward"),
                                                              (18, "modules.head.forward")]
    assert (e.message, e.position) == (e.errors[0].message, e.errors[0].position)  # the first gives the fields
    assert isinstance(e, nnspec.CompileError)


def test_statements_after_a_forbidden_construct_are_still_checked():
    text = forward("import os\nf = lambda t: t\ny = eval('x')\nwhile True:\n    pass\nreturn self.nothing(f(x))")
    assert [ln.split(": ", 2)[2] for ln in mistakes(text)] == [
        "'import' is not supported in a forward", "lambda is not supported in a forward",
        "'eval' is not allowed in a forward", "'while' is not supported in a forward",
        "M has no submodule, parameter, buffer or hyperparameter 'nothing'"]


def test_a_placeholder_keeps_its_uses_from_cascading():
    text = forward("y = undefined(x)\n"  # y, and every value made from it, is unknown
                   "z = y * 2\n"
                   "a, b = z\n"
                   "w = torch.cat([a, b, y], dim=1).view(-1)\n"
                   "feats = [x]\n"
                   "feats.append(torch.nothing(x))\n"  # feats may have changed: unknown too
                   "u, v = feats\n"
                   "return w + u + v + self.ml[0](x)")
    found = mistakes(text)
    assert len(found) == 2, found
    assert found[0].startswith(f"m.yaml:{line_of(text, 'undefined')[0]}:") and "name 'undefined'" in found[0]
    assert found[1].startswith(f"m.yaml:{line_of(text, 'torch.nothing')[0]}:") and "torch.nothing" in found[1]


def test_a_helper_with_a_mistake_leaves_what_it_was_given_unknown():
    text = forward("def forward(self, x):\n"
                   "    feats = []\n"
                   "    self.collect(feats, x)\n"
                   "    a, b = feats\n"  # feats may lack what the helper's mistake kept from it: not checked
                   "    return a + b\n"
                   "def collect(self, feats, x):\n"
                   "    feats.append(x)\n"
                   "    feats.append(self.nothing(x))\n", head="name: M\n")
    (found,) = mistakes(text)
    assert found.startswith(f"m.yaml:{line_of(text, 'self.nothing')[0]}:") and "'nothing'" in found


def test_independent_parts_of_one_statement_are_each_checked():
    text = forward("return torch.cat([undefined_a, torch.nothing(x)], dim=undefined_b) + self.nothing")
    found = mistakes(text)
    columns = [int(ln.split(":")[2]) for ln in found]
    assert columns == sorted(columns) and len(found) == 4, found  # in the order they are written
    for phrase in ("'undefined_a'", "torch.nothing", "'undefined_b'", "'nothing'"):
        assert sum(phrase in ln for ln in found) == 1, found


def test_a_mistake_in_a_loop_or_a_helper_called_twice_is_reported_once():
    text = forward("def forward(self, x):\n"
                   "    for i in range(1000):\n"
                   "        y = self.ml[i](x)\n"  # out of range from i = 2 on: reported once, for i = 2
                   "    return self.helper(self.helper(x))\n"
                   "def helper(self, x):\n"
                   "    return x + nope\n")
    found = mistakes(text)
    assert len(found) == 2, found
    assert "index 2 is out of range" in found[0] and "name 'nope' is not defined" in found[1]


def test_a_helper_shared_by_two_forwards_is_reported_once_and_functions_with_the_forwards():
    text = ("functions: |\n"
            "  def scale(x):\n"
            "      return x * nope\n"
            "  y = 1\n"
            "name: M\n"
            "modules:\n"
            "  a: {name: A, forward: 'return scale(x)'}\n"
            "  b: {name: B, forward: 'return scale(torch.nothing(x))'}\n"
            "forward: 'return self.b(self.a(x))'\n")
    found = mistakes(text)
    assert [ln.split(":")[1] for ln in found] == ["3", "4", "8"], found
    assert "name 'nope'" in found[0] and "functions: holds only defs" in found[1] and "torch.nothing" in found[2]


def test_a_text_that_cant_be_read_keeps_its_names_from_cascading():
    # functions: is not Python, and a child's forward neither: what they define is unknown, so a forward calling
    # it adds nothing; its other mistakes are still found
    text = ("functions: |\n"
            "  def scale(x:\n"
            "      return x\n"
            "name: M\n"
            "modules:\n"
            "  child:\n"
            "    name: Child\n"
            "    forward: |\n"
            "      def forward(self, x):\n"
            "          return x +\n"
            "      def extra(self, x):\n"
            "          return x\n"
            "forward: |\n"
            "  def forward(self, x):\n"
            "      x = scale(x) + self.child.extra(x) + self.child(x)\n"
            "      return self.nothing\n")
    found = mistakes(text)
    assert [ln.split(":")[1] for ln in found] == ["2", "10", "16"], found
    assert "functions: invalid Python syntax" in found[0] and "forward: invalid Python syntax" in found[1]
    assert "'nothing'" in found[2]
    for text in ("functions: |\n  def scale(x:\n      return x\nname: M\nforward: 'return scale(x)'\n",
                 "name: M\nmodules:\n  c: {name: C, forward: 'return x +'}\nforward: 'return self.c(x)'\n"):
        (found,) = mistakes(text)  # a forward with nothing but such uses adds nothing
        assert "invalid Python syntax" in found, found


def test_mistakes_around_the_defs_are_reported_with_the_forwards():
    text = forward("@functools.cache\n"
                   "def forward(self, x):\n"
                   "    return self.helper(x) + self.other(x) + nope\n"
                   "y = 3\n"
                   "def helper(self, x):\n"
                   "    return x\n"
                   "def helper(self, x):\n"
                   "    return x\n"
                   "def other(x):\n"
                   "    return x\n", head="name: M\n")
    found = mistakes(text)
    assert [ln.split(":")[1] for ln in found] == ["3", "5", "6", "9", "11"], found
    for line, phrase in zip(found, ["decorator @functools.cache", "name 'nope'", "holds only defs", "defined twice",
                                    "other's first parameter must be self"]):
        assert phrase in line, found


def test_what_follows_a_mistake_that_may_return_is_not_checked():
    # the if's test is a mistake: whether the forward returned there is unknown, so what follows may be unreachable
    found = mistakes(forward("if self.flag:\n    return x\nreturn undefined(x)"))
    assert len(found) == 1 and "'flag'" in found[0], found


def test_a_limit_reached_after_a_mistake_is_not_reported():
    # the loop's body is skipped after its mistake, but still counted: the mistake is the report
    found = mistakes(forward("for i in range(400000):\n    y = self.ml[i]\nreturn x"))
    assert len(found) == 1 and "index 2 is out of range" in found[0], found
    found = mistakes(forward("for i in range(200000):\n    x = x + 1\nreturn x"))  # a limit alone is
    assert len(found) == 1 and "more than 100,000 graph nodes" in found[0], found


def test_the_report_is_capped():
    n = MAX_LISTED + 5
    text = forward("".join(f"y{i} = undefined_{i}(x)\n" for i in range(n)) + "return x")
    with pytest.raises(CompileErrors) as info:
        nnspec.loads(text, filename="m.yaml")
    e = info.value
    assert len(e.errors) == MAX_LISTED + 1 and len(e.collected) == n
    assert [x.message for x in e.errors[:MAX_LISTED]] == [f"name 'undefined_{i}' is not defined"
                                                          for i in range(MAX_LISTED)]
    tail = str(e).splitlines()[-1]
    assert tail == f"m.yaml: ... and 5 more errors, the next at line {line_of(text, f'undefined_{MAX_LISTED}(')[0]}"


def test_a_hostile_number_of_mistakes_is_bounded(tmp_path):
    n = MAX_COLLECTED * 3
    path = tmp_path / "m.yaml"
    path.write_text(forward("".join(f"y = nope_{i}\n" for i in range(n)) + "return x"))
    result = CliRunner().invoke(app, ["validate", str(path), "--json"])
    found = json.loads(result.stdout)["errors"]
    assert result.exit_code == 1 and len(found) == MAX_LISTED + 1
    assert found[-1]["message"] == (f"... and {MAX_COLLECTED - MAX_LISTED:,} more errors, the next at line "
                                    f"{4 + MAX_LISTED} (looking stopped at {MAX_COLLECTED:,})")


def test_one_mistake_is_still_one_error():
    with pytest.raises(nnspec.CompileError) as info:
        nnspec.loads(forward("return undefined(x)"), filename="m.yaml")
    assert not isinstance(info.value, CompileErrors) and str(info.value) == \
        "m.yaml:4:10: (root).forward: name 'undefined' is not defined"


def test_the_report_is_bounded_in_characters_too():
    # a ModuleDict of many keys looked up with missing ones: each message names the keys, cut short, and the
    # log stops collecting well before a thousand of them would hold the whole key list each
    keys = "".join(f"      k{i}: ReLU\n" for i in range(3000))
    head = f"name: M\nmodules:\n  d:\n    type: ModuleDict\n    modules:\n{keys}"
    text = forward("".join(f"y{i} = self.d['missing{i}'](x)\n" for i in range(1000)) + "return x", head=head)
    with pytest.raises(CompileErrors) as info:
        nnspec.loads(text, filename="m.yaml")
    messages = [e.message for e in info.value.collected]
    assert all(len(m) < 200 for m in messages) and sum(map(len, messages)) < MAX_COLLECTED_BYTES + 200
    assert messages[0].startswith("d has no key 'missing0' (keys: k0, k1, k2") and messages[0].endswith("...)")


def test_a_misspelled_name_is_reported_at_its_first_use_only():
    text = forward("hidden = x\ny = hiden * 2\nz = x + hiden\nw = torch.cat([hiden, hiden], 1)\nreturn x")
    assert mistakes(text) == [f"m.yaml:{line_of(text, 'hiden')[0]}:{line_of(text, 'hiden')[1]}: (root).forward: "
                              "name 'hiden' is not defined"]


def test_a_list_changed_through_a_tuple_or_an_alias_is_not_checked_after_a_mistake():
    body = ("t = ([], 0)\nself.collect(t, x)\na, b = t[0]\n"  # collect appends, then fails: t[0] half-changed
            "feats = []\nalias = feats\nself.collect((alias, 0), x)\nc, d = feats\nreturn x")
    helper = "def collect(self, t, x):\n    t[0].append(x)\n    self.nothing(x)\n"
    text = forward(helper + "def forward(self, x):\n" + "".join(f"    {line}\n" for line in body.splitlines()))
    found = mistakes(text)
    assert len(found) == 1 and found[0].endswith("'nothing'"), found  # no "cannot unpack" knock-ons


def test_a_long_chain_of_additions_still_compiles_and_a_too_deep_one_keeps_the_other_mistakes():
    nnspec.loads(forward("return " + " + ".join(["x"] * 400)), meta=True)  # 326 at most, with a frame more per term
    text = forward("y = undefined_a(x)\nreturn " + " + ".join(["x"] * 700))
    found = mistakes(text)
    assert any(line.endswith("forward nests too deeply to compile") for line in found)
    assert any(line.endswith("name 'undefined_a' is not defined") for line in found), found
