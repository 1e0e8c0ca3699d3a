"""Hostile model files: YAML oddities, huge numbers, deep nesting, bombs, tags, and block expressions."""

from __future__ import annotations

from . import MARKER, Case

M = "m.yaml"


def _case(id: str, kind: str, text: str | bytes, phrase: str, args: list[str] | None = None, line: bool = True,
          **kw) -> Case:
    data = text.encode() if isinstance(text, str) else text
    return Case(f"model_{id}", kind, {M: data}, args or ["summary", M], phrase, M, line, **kw)


def _linear(value: str) -> str:
    return f"Linear:\n  in_features: {value}\n  out_features: 3\n"


def cases() -> list[Case]:
    out = [
        # YAML 1.1 oddities: base-60 integers, timestamps, and numbers too long to convert
        _case("sexagesimal_small", "message", _linear("1:30"), r"in_features.*'1:30'"),
        _case("sexagesimal_800k", "hang", _linear(":".join(["1"] * 400_000)), r"in_features.*'1:1:1"),
        _case("sexagesimal_int_tag", "hang", "Linear:\n  in_features: !!int " + ":".join(["1"] * 400_000)
              + "\n  out_features: 3\n", r"in_features: not an integer: '1:1:1"),
        _case("sexagesimal_float", "message", "Dropout:\n  p: 1:30.5\n", r"p.*'1:30.5'"),
        _case("timestamp_date", "message", _linear("2001-12-14"), r"in_features.*'2001-12-14'"),
        _case("timestamp_full", "message", _linear("2001-12-14t21:59:43.10-05:00"), r"in_features.*2001-12-14"),
        # a timestamp key stays the name '2001-12-14' (a valid module name, so the module after it is what is wrong)
        _case("timestamp_key", "message", "Sequential:\n  2001-12-14: Conv9d\n", r"2001-12-14: unknown module type"),
        _case("decimal_5000_digits", "message", _linear("9" * 5000), r"in_features.*(digits|too large|larger)"),
        _case("decimal_200k_digits", "message", _linear("9" * 200_000), r"in_features.*(digits|too large|larger)"),
        _case("negative_200k_digits", "message", _linear("-" + "9" * 200_000), r"in_features.*(digits|large)"),
        _case("hex_200k_digits", "message", _linear("0x" + "f" * 200_000), r"in_features.*(digits|too large|larger)"),
        _case("octal_200k_digits", "message", _linear("0o" + "7" * 200_000), r"in_features.*(digits|large)"),
        _case("binary_200k_digits", "message", _linear("0b" + "1" * 200_000), r"in_features.*(digits|large)"),
        _case("underscore_digits", "message", _linear("_".join(["9"] * 100_000)), r"in_features"),
        _case("float_1m_digits", "message", _linear("1." + "1" * 1_000_000), r"in_features"),
        _case("float_exponent_huge", "message", "Dropout:\n  p: 1e99999\n", r"\bp\b.*(finite|less than or equal)"),
        _case("shape_5000_digits", "message", "parameters:\n  w: {shape: [" + "9" * 5000 + "]}\n",
              r"shape.*(digits|large)"),
        _case("shape_huge", "message", "parameters:\n  w: {shape: [100000000000, 100000000000]}\n",
              r"(larger than|bytes|limit)"),
        _case("layer_huge", "message", "Linear: [10000000000000, 10000000000000]\n", r"(larger than|bytes|limit)"),
        # nesting
        _case("deep_flow_sequence", "message", "[" * 100_000 + "]" * 100_000 + "\n", r"nest"),
        _case("deep_flow_mapping", "message", "{a: " * 50_000 + "1" + "}" * 50_000 + "\n", r"nest"),
        _case("deep_block_mapping", "message", "".join(f"{' ' * i}a:\n" for i in range(3000)) + " " * 3000 + "b: 1\n",
              r"nest"),
        _case("deep_block_sequence", "message", "".join(f"{' ' * (2 * i)}-\n" for i in range(3000)) + "x\n",
              r"(nest|module)"),
        _case("deep_aliases", "message", "a: &a " + "[" * 40 + "1" + "]" * 40 + "\nb: &b " + "[" * 40 + "*a" + "]" * 40
              + "\nc: " + "[" * 40 + "*b" + "]" * 40 + "\n", r"nests .* deeper than 64"),
        _case("deep_modules", "message", "{Sequential: [" * 200 + "ReLU" + "]}" * 200 + "\n", r"nest"),
        # bombs
        _case("alias_bomb", "memory", "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(9)),
            r"more than 1,000,000 values"),
        _case("merge_bomb", "memory", "a: &a {x: 1}\n" + "".join(
            f"k{i}: &k{i} {{<<: [{', '.join(['*a' if i == 0 else f'*k{i - 1}'] * 10)}], y{i}: 1}}\n"
            for i in range(12)), r"(more than 1,000,000 values|unknown|module)"),
        _case("module_bomb", "memory", "type: ModuleList\nrepeat: 10000\nmodule:\n  type: ModuleList\n"
              "  repeat: 10000\n  module: ReLU\n", r"more than 50,000 modules.*nnspec's cap"),
        _case("file_17mb", "memory", b"# " + b"x" * (17 << 20) + b"\nReLU\n", r"larger than the limit", line=False),
        _case("many_keys", "memory", "Sequential:\n" + "".join(f"  k{i}: ReLU\n" for i in range(150_000)),
              r"more than 50,000 modules.*nnspec's cap"),
        _case("long_key", "message", "Sequential:\n  " + "k" * 1_000_000 + ": Conv9d\n", r"(invalid YAML|unknown module type)"),
        _case("long_type", "message", "type: " + "T" * 1_000_000 + "\n", r"unknown module type"),
        _case("long_string_argument", "message", "Upsample:\n  mode: " + "x" * 5_000_000 + "\n", r"mode"),
        # tags and code
        _case("python_tag", "code", f"!!python/object/apply:os.system ['touch {MARKER}']\n", r"tag"),
        _case("python_name_tag", "code", "a: !!python/name:os.system\n", r"tag"),
        _case("binary_tag_type", "message", "type: !!binary SGVsbG8=\n", r"(type|module)"),
        _case("binary_not_utf8", "message", b"Linear: [1, 2]\n\xff\xfe\n", r"UTF-8", line=False),
        _case("nul_byte", "message", b"Linear: [1, 2]\n\x00\n", r"binary", line=False),
        # blocks and their expressions
        _case("block_less_than_str", "message",
              "blocks:\n  B:\n    args: {n: int}\n    Linear: [$n, \"${1 < 'a'}\"]\nB: {n: 2}\n", r"'<'"),
        _case("block_percent_width", "memory",
              "blocks:\n  B:\n    args: {n: int}\n    name: \"${'%01000000000d' % 1}\"\nB: {n: 1}\n",
              r"(width|long|characters|limit)"),
        _case("block_deep_unary", "message",
              "blocks:\n  B:\n    args: {n: int}\n    Linear: [\"${" + "-" * 100_000 + "n}\", 2]\nB: {n: 1}\n",
              r"nests too deeply"),
        _case("block_deep_parens", "message",
              "blocks:\n  B:\n    args: {n: int}\n    Linear: [\"${" + "(" * 50_000 + "n" + ")" * 50_000
              + "}\", 2]\nB: {n: 1}\n", r"(nests too deeply|nested parentheses)"),
        _case("when_deep_not", "message", "Sequential:\n  - {Linear: [1, 2], when: '" + "not " * 100_000 + "True'}\n",
              r"nests too deeply"),
        _case("when_deep_parens", "message", "Sequential:\n  - {Linear: [1, 2], when: '" + "(" * 50_000 + "1"
              + ")" * 50_000 + "'}\n", r"(nests too deeply|nested parentheses)"),
        _case("block_recursion", "message", "blocks:\n  B:\n    Sequential: [B]\nSequential: [B]\n",
              r"(recurs|nest|itself|more than)"),
        _case("block_repeat_bomb", "memory",
              "blocks:\n  B:\n    items:\n      - {ReLU: null, repeat: 1000}\n"
              "Sequential:\n  - {B: null, repeat: 1000}\n", r"(more than|limit)"),
        _case("block_power", "memory", "blocks:\n  B:\n    args: {n: int}\n    Linear: [\"${10 ** 10 ** 8}\", 2]\n"
              "B: {n: 1}\n", r"(large|limit|digits)"),
    ]
    return out
