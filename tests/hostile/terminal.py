"""Names that carry terminal escape sequences (retitle the window, clear the screen, fake a line) and bidi
overrides (make text read backwards): whatever nnspec prints of them must show them escaped."""

from __future__ import annotations

import struct

from . import Case

M = "m.yaml"
TITLE = "\\e]0;pwned\\a"  # YAML escapes in a double-quoted string: ESC ] 0 ; pwned BEL
CLEAR = "\\e[2J\\e[H"
RLO = "\u202e"  # right-to-left override, allowed raw in YAML text


def _case(id: str, text: str, phrase: str = r"\\(x1b|u202e|x07|x00)", args: list[str] | None = None) -> Case:
    return Case(f"terminal_{id}", "terminal", {M: text.encode()}, args or ["summary", M], phrase, M)


def _safetensors(keys: list[str]) -> bytes:
    import json

    h = json.dumps({k: {"dtype": "F32", "shape": [1], "data_offsets": [4 * i, 4 * i + 4]} for i, k in enumerate(keys)},
                   ensure_ascii=False).encode()
    return struct.pack("<Q", len(h)) + h + b"\0" * (4 * len(keys))


def cases() -> list[Case]:
    return [
        _case("module_key_title", f'Sequential:\n  "conv{TITLE}": ReLU\n'),
        _case("module_key_clear", f'Sequential:\n  "x{CLEAR}": {{Linear: [1, 2]}}\n'),
        _case("module_key_bidi", f"Sequential:\n  a{RLO}b: ReLU\n"),
        _case("module_key_nul", 'Sequential:\n  "a\\0b": ReLU\n'),
        _case("type_title", f'type: "Conv{TITLE}"\n'),
        _case("type_bidi", f"type: Conv{RLO}2d\n"),
        _case("argument_name_clear", f'Linear:\n  in_features: 1\n  out_features: 2\n  "bias{CLEAR}": true\n'),
        _case("argument_value_title", f'Upsample:\n  mode: "nearest{TITLE}"\n'),
        _case("class_name_bidi", f"name: Model{RLO}\nforward: return x\n"),
        _case("parameter_name_title", f'parameters:\n  "w{TITLE}": {{shape: [1]}}\n'),
        _case("forward_string_title", f'name: M\nforward: |\n  return x + "{TITLE}"\n',
              args=["run", M, "-s", "2"]),
        _case("forward_name_bidi", f"name: M\nforward: |\n  return y{RLO}z\n", phrase=r"U\+202E",
              args=["run", M, "-s", "2"]),
        _case("binary_key", 'Sequential:\n  !!binary G10wOw==: ReLU\n', phrase=r"(key|name|module)"),
        Case("terminal_file_name", "terminal", {"m\x1b]0;pwned\x07.yaml": b"Conv9d\n"},
             ["summary", "m\x1b]0;pwned\x07.yaml"], r"unknown module type", "m\\x1b]0;pwned\\x07.yaml"),
        Case("terminal_weights_keys", "terminal",
             {M: b"Linear: [1, 1]\n", "w.safetensors": _safetensors(["weight", "bias", "x\x1b]0;pwned\x07",
                                                                         f"y{RLO}z"])},
             ["weights", "check", M, "w.safetensors"], r"\\(x1b|u202e)", M),
        # the two above also need a placed first line, which a root scalar's message (loader) and `weights check`'s
        # table don't have yet; these two check the same escapes where the place is already there
        Case("terminal_file_name_placed", "terminal", {"m\x1b]0;pwned\x07.yaml": b"Sequential:\n  a: Conv9d\n"},
             ["summary", "m\x1b]0;pwned\x07.yaml"], r"unknown module type", "m\\x1b]0;pwned\\x07.yaml"),
        Case("terminal_weights_keys_run", "terminal",
             {M: b"Linear: [1, 1]\n", "w.safetensors": _safetensors(["weight", "bias", "x\x1b]0;pwned\x07",
                                                                         f"y{RLO}z"])},
             ["run", M, "-s", "1,1", "--weights", "w.safetensors"], r"\\x1b.*\\u202e", M),
        Case("terminal_weights_file_name", "terminal", {M: b"Linear: [1, 1]\n", f"w{RLO}.pt": b"not a zip"},
             ["run", M, "-s", "1,1", "--weights", f"w{RLO}.pt"], r"\\u202e", "w\\u202e.pt", line=False),
        _case("buffer_name_bidi", f"buffers:\n  b{RLO}: {{shape: [1]}}\n"),
        _case("module_dict_key_c1", 'type: ModuleDict\nmodules:\n  "a\\x9b2J": ReLU\n', phrase=r"\\x9b"),
        _case("share_path_title", f'Sequential:\n  a: ReLU\n  b: {{share: "a{TITLE}"}}\n'),
    ]
