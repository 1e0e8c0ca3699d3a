"""Hostile custom forwards: code that would run, hang, or allocate, in a few bytes of forward text."""

from __future__ import annotations

import textwrap

from . import MARKER, Case

M = "m.yaml"


def _forward(body: str, inputs: str = "[x]", extra: str = "") -> bytes:
    return (f"name: M\ninputs: {inputs}\n{extra}forward: |\n" + textwrap.indent(textwrap.dedent(body).strip(), "  ")
            + "\n").encode()


def _case(id: str, kind: str, body: str, phrase: str, args: list[str] | None = None, **kw) -> Case:
    return Case(f"forward_{id}", kind, {M: _forward(body, **kw)}, args or ["run", M, "-s", "2,3"], phrase, M)


def cases() -> list[Case]:
    symbolic = ["validate", M, "-s", "N,3"]
    return [
        # code execution: each would write the marker
        _case("eval", "code", f"eval(\"open('{MARKER}', 'w')\")\nreturn x", r"'eval' is not allowed"),
        _case("exec", "code", f"exec(\"open('{MARKER}', 'w')\")\nreturn x", r"'exec' is not allowed"),
        _case("open", "code", f"open('{MARKER}', 'w')\nreturn x", r"'open' is not allowed"),
        _case("import", "code", f"import os\nos.system('touch {MARKER}')\nreturn x", r"import"),
        _case("dunder_import", "code", f"__import__('os').system('touch {MARKER}')\nreturn x", r"not allowed"),
        _case("dunder_globals", "code", "return x.__class__.__init__.__globals__", r"(not supported|dunder|__)"),
        _case("getattr", "code", "return getattr(x, 'view')(-1)", r"'getattr' is not allowed"),
        _case("lambda", "code", "f = lambda: 1\nreturn x", r"lambda"),
        _case("while", "hang", "while True:\n    x = x + 1\nreturn x", r"while"),
        _case("recursion", "hang", "return self(x)", r"recursion"),
        _case("fstring", "code", "return f'{x}'", r"f-string"),
        # unbounded work when compiling
        _case("range_huge", "hang", "for i in range(10 ** 12):\n    x = x + 1\nreturn x", r"(range|steps)"),
        _case("nested_unroll", "hang", "for i in range(2000):\n    for j in range(2000):\n        x = x + 1\nreturn x",
              r"(steps|nodes)"),
        _case("power_tower", "memory", "n = 2 ** 10 ** 9\nreturn x", r"(large|limit|digits|bits)"),
        _case("big_int_literal", "memory", "n = 10 ** 100000\nreturn x * n", r"(large|limit|digits|overflow|bits)"),
        _case("string_times", "memory", "s = 'a' * 10 ** 9\nreturn x", r"(long|limit|characters|items)"),
        _case("list_times", "memory", "s = [0] * 10 ** 9\nreturn x", r"(long|limit|items)"),
        _case("tuple_doubling", "memory", "t = (1,)\nfor i in range(100):\n    t = (t, t)\nreturn x",
              r"(items|limit)"),
        _case("percent_width", "memory", "s = '%01000000000d' % 1\nreturn x", r"(width|long|limit|characters)"),
        _case("percent_star", "memory", "s = '%s%*d' % ('a', 10 ** 9, 1)\nreturn x", r"(width|long|limit)"),
        _case("int_of_long_string", "memory", "n = int('9' * 5000)\nreturn x", r"(digits|long|limit|large)"),
        _case("deep_parens", "message", "return " + "(" * 100_000 + "x" + ")" * 100_000,
              r"(nests too deeply|nested parentheses)"),
        _case("deep_unary", "message", "return " + "-" * 100_000 + "x", r"nests too deeply"),
        _case("deep_attribute", "message", "return x" + ".t()" * 20_000, r"(nests too deeply|steps|nodes)"),
        _case("many_statements", "hang", "\n".join(["x = x + 1"] * 200_000) + "\nreturn x", r"(steps|nodes|larger|characters)"),
        # unbounded formulas in static inference (symbolic sizes)
        _case("symbolic_floor_tower", "hang", "n = x.size(0)\nfor i in range(60):\n    n = (n * n + 1) // 2\n"
              "return x.view(n, -1)", r"(grew|terms|symbolic|too)", args=symbolic),
        _case("symbolic_sum_doubling", "hang", "n = x.size(0)\nfor i in range(200):\n    n = n // 2 + n\n"
              "return x.view(n, -1)", r"(grew|terms|symbolic|too)", args=symbolic),
        _case("symbolic_float_square", "memory", "f = x.size(0) ** 0.5\nfor i in range(60):\n    f = f * f + f\n"
              "return x * f", r"(grew|symbolic|too|long)", args=symbolic),
        # run-time allocations the file asks for
        _case("ones_huge", "memory", "return torch.ones(10 ** 6, 10 ** 6)", r"(memory|bytes|larger)"),
        _case("arange_huge", "memory", "return torch.arange(10 ** 12)", r"(memory|bytes|larger)"),
        _case("expand_sum", "hang", "return x.expand(10 ** 6, 10 ** 6, 2, 3).sum()", r"(memory|bytes|larger)"),
        _case("repeat_huge", "memory", "return x.repeat(10 ** 5, 10 ** 5)", r"(memory|bytes|larger)"),
        _case("tolist_huge", "memory", "return torch.zeros(10 ** 7).tolist()", r"(tolist|more than|limit)"),
        _case("einsum_huge", "memory", "return torch.einsum('i,j,k->ijk', x[0], torch.ones(10 ** 5), "
              "torch.ones(10 ** 5))", r"(memory|bytes|larger)"),
    ]
