"""Fuzz the promise that a model file is untrusted input.

Every valid model file under models/ is mutated, as parsed data re-dumped with PyYAML and as
raw text: keys deleted, duplicated and renamed to near misses (``kernal_size``, ``Conv2D``),
values replaced by other types and hostile numbers, ``type`` changed, modules wrapped into
lists and one-key forms and back, plausible values nudged and arguments added (models that
load, then run), text truncated, characters inserted, lines swapped, YAML syntax (tags,
anchors, merges) dropped in, and forward code edited: tokens deleted, names swapped, and
statements such as ``import os``, ``while True: pass``, ``x = x * 10**100`` or a big ``range``
inserted. Each mutant is loaded and, where it loads, run on a small random input. The only
allowed outcomes are success and an ``NNSpecError``; a loading error (and an error inside a
custom forward) must name the file. Anything else fails with the mutant's text, and so does
a hang (a per-example alarm) or a runaway allocation (a cap on the address space, Linux).

The runs are derandomized, so CI sees the same mutants every time; the regression tests at
the bottom pin the bugs the fuzzer found.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import random
import re
import signal
import threading
import time
from pathlib import Path

import numpy
import pytest
import yaml

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnspec
from nnspec import nn
from nnspec.runtime.meta import DataDependentError, MetaArray
from nnspec.inputs import input_names
from nnspec.spec.models import CONTAINER_SPECS, LAYER_SPECS

FILENAME = "fuzz.yaml"
MEMORY_LIMIT = 200_000_000
TIME_LIMIT = 10.0  # seconds per mutant, load and run together: a hang (the slowest legal mutants take ~3 s)
MAX_INPUT_ELEMENTS = 200_000
MEMORY_GUARD = 2**30  # bytes a mutant may allocate beyond the test process's size (Linux): big work fails fast

ROOT = Path(__file__).resolve().parent.parent
SEED_FILES = sorted((ROOT / "models").rglob("*.yaml"))
SEEDS = {str(p.relative_to(ROOT / "models")): p.read_text() for p in SEED_FILES}
SEED_DATA = {name: yaml.safe_load(text) for name, text in SEEDS.items()}
FORWARD_SEEDS = [name for name, text in SEEDS.items() if "forward:" in text]

MODULE_TYPES = sorted(LAYER_SPECS) + sorted(CONTAINER_SPECS)
FIELD_NAMES = sorted({f for s in [*LAYER_SPECS.values(), *CONTAINER_SPECS.values()] for f in s.model_fields}
                     | {"shape", "init", "dtype", "requires_grad", "persistent", "share", "constant", "uniform",
                        "normal"})
NEAR_MISSES = {
    "kernel_size": ["kernal_size", "kernel", "kernelsize", "kernel_sizes"], "Conv2d": ["Conv2D", "conv2d", "Conv2"],
    "in_channels": ["in_chanels", "inchannels"], "out_features": ["out_feature"], "modules": ["module", "Modules"],
    "parameters": ["params", "parameter"], "type": ["Type", "typ"], "forward": ["foward", "Forward"],
    "Sequential": ["sequential", "Sequental"], "BatchNorm2d": ["BatchNorm2D", "Batchnorm2d"], "Linear": ["linear"],
    "ReLU": ["Relu", "relu"], "share": ["shared"], "repeat": ["repeats"], "name": ["Name"],
}
SCARY_STRINGS = [
    "", " ", "x" * 10_000, "same", "valid", "zeros", "circular", "nearest", "bilinear", "None", "null", "nan",
    "inf", "-1", "1e309", "0x10", "\u00e9\u4e2d\U0001f600", "a.b", "..", "__init__", "_parameters", "self",
    "training", "forward", "!!python/object/apply:os.system", "*", "&a", "{", "[", "|", "\t", "\\",
    "Conv2D", "Module", "Share", "Spec",
]
STATEMENTS = [
    "import os", "from os import system", "while True: pass", "x = x * 10**100", "n = 10**100 * 10**100",
    "for i in range(10**9): pass", "for i in range(10**6): x = x + 1", "y = [0] * 10**9", "s = 'a' * 10**9",
    "n = 2 ** 4096 ** 2", "x = eval('1')", "open('/etc/passwd')", "__import__('os').system('true')",
    "x = x.view(-1)", "return x", "return", "return None", "return (x, x)", "x = self", "del x", "f = lambda: 0",
    "x = [i for i in range(10)]", "assert x", "x = x[::0]", "x = x[::-1]", "x = x.view(10**18)",
    "x = x.view(10**100)", "x = F.interpolate(x, scale_factor=10**6)", "x = F.interpolate(x, size=10**9)",
    "x = F.pad(x, (10**9, 10**9))", "x = F.pad(x, (10**100,))", "x = x.sum(dim=10**30)", "x = x.sum(dim=-10**30)",
    "x = torch.cat([x] * 10000)", "x = torch.cat([x] * 10000, 1)", "x = x @ x", "x = x ** 10**100",
    "x = F.softmax(x, dim=99)", "x = x[None]", "x = x.permute(3, 2, 1, 0)", "x = x.transpose(0, 10**20)",
    "n = x.size(10**100)", "n = max(range(10**9))", "l = list(range(10**7))", "t = tuple(range(10**6))",
    "s = 'ab' * 5000 * 2", "n = len(range(10**30))", "x = x.unsqueeze(10**20)", "x = x.squeeze(10**20)",
    "x = x.flatten(10**20)", "x = x.reshape(-1, -1)", "x = x[10**20]", "x = x[:, 10**20:]",
    "x = x[..., None, ...]", "x = F.max_pool2d(x, 10**9)", "x = F.avg_pool2d(x, 0)",
    "x = F.conv2d(x, x)", "x = F.linear(x, x)", "x = F.dropout(x, 10**9)", "x = F.dropout(x, float('nan'))",
    "x = F.leaky_relu(x, 10**400)", "x = x + 1e308 * 1e308", "x = x / 0", "x = x // 0", "x = x % 0",
    "n = 1 // 0", "n = 1 % 0", "n = 2.0 ** 10000", "n = float('inf')", "n = int(float('inf'))", "n = int('9' * 5000)",
    "x = x.mean(dtype=10**100)", "x = x.sum(dtype='int64')", "x = x.float().half().double()",
    "x = self.forward(x)", "x = self(x)", "x = self.__class__", "x = self.__dict__", "x = self._modules",
    "x = x.__class__", "x = F.__dict__", "x = torch.__builtins__", "x = x.numpy()", "x = x.data",
    "x = self.training", "x = self.training * x", "for m in self.modules(): pass", "for k in x: pass",
    "for i in range(3):\n    x = x + i", "if x: pass", "if x > 0: pass", "if self.training:\n    x = x",
    "while x: pass", "with open('f') as f: pass", "try:\n    pass\nexcept Exception:\n    pass",
    "raise ValueError('x')", "global x", "async def f(): pass", "class A: pass", "def g(): pass",
    "x, y = x", "x, y = x.shape", "a, b, c, d, e, f, g = x.size()", "*a, = x", "x = [*x]", "x = {**{}}",
    "x = {1: 2}", "x = {1}", "x = f'{x}'", "x = (y := 1)", "x = yield x", "x = not x", "x = ~x", "x = x << 1",
    "x = x & x", "x = x if self.training else x", "x = x and x", "n = 1 if x else 0", "x = None",
    "x = x.view(x.size(0), -1)", "x = x.view(*x.shape)", "x = x[x > 0]", "x = x[[0, 0]]", "x = x[0.5]",
    "x = x[x]", "x = x.t()", "x = x.mm(x.t())", "x = torch.stack([x, x], 10**20)",
    "x = x.view([2] * 5000)", "x = x.permute(*range(5000))", "n = sum(range(10))", "n = range(10)[10**20]",
    "n = 'abc'[::0]", "n = (1, 2) * 10**20", "n = [1] * -1", "n = min()", "n = max([])", "n = abs('a')",
    "x = self.conv1.weight * x", "x = self.conv1.in_channels * x", "x = self.conv1.padding_mode",
    "x = self.linears[10**20](x)", "x = self.linears[-100](x)", "x = self.linears['a'](x)",
    "x = self.choices[0](x)", "x = self.params[10**9]", "x = self.params['nope']",
    "t = (x,)\nfor i in range(300):\n    t = (t, t)", "t = (1,)\nfor i in range(300):\n    t = [t, t]\nb = t == t",
    "l = [x]\nl.append(l)", "l = []\nfor i in range(99):\n    l.append((l, x))", "t = x.shape\nt = (t,) * 9999",
]
YAML_VALUES = [  # YAML's own syntax: tags, anchors, merges, documents, implicit types
    "!!set {a, b}", "!!omap [a: 1, b: 2]", "!!binary aGVsbG8=", "2001-12-14t21:59:43.10-05:00", "2024-01-01",
    "!!str 3", "!!int '3'", "!!float '1e999'", "!!python/name:os.system", "!!python/tuple [1, 2]", "!custom 3",
    "*undefined", "&a 3", "[*a, *a]", "{<<: [1, 2]}", "{<<: {kernel_size: 3}}", "0o17", "0x1F", "1_000", "+.inf",
    ".NaN", "~", "yes", "190:20:30", "\"\\ud800\"", "\"\\x00\"", "? a", "{a: 1, a: 2}", "{? [1]: 2}", "[1, 2]: 3",
    "---", "...", "%YAML 1.1", "&x [*x]",
]
NAMES = ["x", "y", "out", "identity", "self", "F", "torch", "nn", "range", "len", "enumerate", "conv1", "conv2",
         "conv9", "relu", "bn1", "downsample", "linears", "params", "choices", "choice", "act", "i", "l", "p",
         "forward", "training", "None", "True", "append", "view", "mm", "__class__", "os", "eval", "open"]
HOSTILE_CHARS = list(":{}[]-,&*!|>#'\"\t\n %@`?=~\\") + ["\u00e9", "\u200b", "\ufeff", "\U0001f600", "\x85",
                                                        "\u2028", "\r", "\x1b", "\x7f", "0", "9", "a", "Z", "_"]


# --------------------------------------------------------------------------- mutating values and data


def hostile_values() -> st.SearchStrategy:
    leaf = st.one_of(
        st.integers(-3, 12),
        st.sampled_from([0, -1, -(2**31), 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**12, 10**30, 10**400]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([0.0, -0.0, 0.5, 1e-300, 1e308, -1e308, math.inf, -math.inf, math.nan, 2.5, 1e-5]),
        st.booleans(),
        st.none(),
        st.text(max_size=12),
        st.sampled_from(SCARY_STRINGS + MODULE_TYPES + FIELD_NAMES),
    )
    return st.recursive(leaf, lambda kids: st.one_of(
        st.lists(kids, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES + MODULE_TYPES), st.text(max_size=6)), kids,
                        max_size=3),
    ), max_leaves=6)


HOSTILE = hostile_values()
HOSTILE_KEYS = st.sampled_from([0, 1, -1, 2**64, 1.5, math.nan, math.inf, None, True, False, "", " ", ".", "a.b",
                                "<<", "__class__", "0"])  # keys YAML can hold that no spec names


def near_miss(draw, word: str) -> str:
    if word in NEAR_MISSES and draw(st.booleans()):
        return draw(st.sampled_from(NEAR_MISSES[word]))
    if not word:
        return draw(st.sampled_from(["_", "x", " "]))
    i = draw(st.integers(0, len(word) - 1))
    how = draw(st.sampled_from(["drop", "double", "swap", "case", "plural", "upper", "lower", "char"]))
    if how == "drop":
        return word[:i] + word[i + 1:]
    if how == "double":
        return word[:i] + word[i] + word[i:]
    if how == "swap" and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if how == "case":
        return word[:i] + word[i].swapcase() + word[i + 1:]
    if how == "plural":
        return word + "s"
    if how == "upper":
        return word.upper()
    if how == "lower":
        return word.lower()
    return word[:i] + draw(st.sampled_from(HOSTILE_CHARS)) + word[i + 1:]


def paths(node, prefix=()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, prefix + (i,))
    return out


def get(node, path):
    for p in path:
        node = node[p]
    return node


def replace(root, path, value):
    if not path:
        return value
    get(root, path[:-1])[path[-1]] = value
    return root


def mutate_forward_code(draw, code: str) -> str:
    """One edit of forward text: a token deleted or swapped, a statement inserted, lines moved."""
    lines = code.split("\n")
    tokens = list(re.finditer(r"\w+|[^\w\s]", code))
    how = draw(st.sampled_from(["insert", "insert", "insert", "delete_token", "swap_names", "rename",
                                "number", "dup_line", "del_line", "swap_lines", "indent"]))
    if how == "insert" or not tokens:  # a statement among the body's, at the body's indentation
        header = next((k for k, ln in enumerate(lines) if ln.lstrip().startswith("def ")), -1)
        i = draw(st.integers(header + 1, len(lines)))
        body = [ln for ln in lines[header + 1:] if ln.strip() and not ln.lstrip().startswith("#")]
        indent = len(body[0]) - len(body[0].lstrip()) if body else 0
        if i < len(lines) and lines[i].strip() and draw(st.booleans()):
            indent = len(lines[i]) - len(lines[i].lstrip())  # inside a nested block, maybe
        stmt = draw(st.sampled_from(STATEMENTS))
        new = [" " * indent + s for s in stmt.split("\n")]
        return "\n".join(lines[:i] + new + lines[i:])
    if how == "delete_token":
        t = draw(st.sampled_from(tokens))
        return code[:t.start()] + code[t.end():]
    names = [t for t in tokens if re.fullmatch(r"[A-Za-z_]\w*", t.group())]
    if how == "swap_names" and len(names) >= 2:
        a, b = sorted(draw(st.lists(st.sampled_from(names), min_size=2, max_size=2, unique_by=lambda t: t.start())),
                      key=lambda t: t.start())
        return code[:a.start()] + b.group() + code[a.end():b.start()] + a.group() + code[b.end():]
    if how == "rename" and names:
        t = draw(st.sampled_from(names))
        return code[:t.start()] + draw(st.sampled_from(NAMES)) + code[t.end():]
    numbers = [t for t in tokens if t.group().isdigit()]
    if how == "number" and numbers:
        t = draw(st.sampled_from(numbers))
        new = draw(st.sampled_from(["0", "-1", "10**100", "99", "2", "1.5", "10**9"]))
        return code[:t.start()] + new + code[t.end():]
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    if how == "dup_line":
        return "\n".join(lines[:i] + [lines[i]] + lines[i:])
    if how == "del_line":
        return "\n".join(lines[:i] + lines[i + 1:])
    if how == "swap_lines":
        lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines)
    lines[i] = draw(st.sampled_from(["", " ", "    ", "\t"])) + lines[i].lstrip(draw(st.sampled_from(["", " "])))
    return "\n".join(lines)


def mutate_data(draw, data):
    """One structural or value edit somewhere in parsed model data."""
    path = draw(st.sampled_from(paths(data)))
    node = get(data, path)
    parent = get(data, path[:-1]) if path else None
    ops = ["value", "value", "wrap_list", "wrap_one_key", "wrap_sequential", "swap"]
    if path:
        ops += ["delete", "duplicate"]
    if isinstance(node, dict):
        ops += ["del_key", "rename_key", "rename_key", "add_key", "set_type", "to_one_key", "from_one_key"]
    if isinstance(node, str):
        ops += ["near_miss", "forward" if "\n" in node or path[-1:] == ("forward",) else "near_miss"]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        ops += ["number", "number"]
    if isinstance(node, list):
        ops += ["list_edit"]
    op = draw(st.sampled_from(ops))

    if op == "value":
        return replace(data, path, draw(HOSTILE))
    if op == "wrap_list":
        return replace(data, path, [node])
    if op == "wrap_one_key":
        return replace(data, path, {draw(st.sampled_from(MODULE_TYPES)): node})
    if op == "wrap_sequential":
        return replace(data, path, {"type": "Sequential", "modules": [node]})
    if op == "swap":
        other = get(data, draw(st.sampled_from(paths(data))))
        return replace(data, path, copy.deepcopy(other))
    if op == "delete":
        del parent[path[-1]]
        return data
    if op == "duplicate":
        if isinstance(parent, list):
            parent.insert(path[-1], copy.deepcopy(node))
        else:
            parent[draw(st.sampled_from([f"{path[-1]}_2", "conv9", "x", "self", "0", "relu"]))] = copy.deepcopy(node)
        return data
    if op == "del_key" and node:
        del node[draw(st.sampled_from(sorted(node, key=str)))]
        return data
    if op == "rename_key" and node:
        key = draw(st.sampled_from(sorted(node, key=str)))
        new = draw(HOSTILE_KEYS) if draw(st.integers(0, 5)) == 0 else near_miss(draw, str(key))
        items = [(new if k == key else k, v) for k, v in node.items()]
        return replace(data, path, dict(items))
    if op == "add_key":
        node[draw(st.one_of(st.sampled_from(FIELD_NAMES + MODULE_TYPES), st.text(max_size=8), HOSTILE_KEYS))] = \
            draw(HOSTILE)
        return data
    if op == "set_type":
        node["type"] = draw(st.one_of(st.sampled_from(MODULE_TYPES), st.sampled_from(NEAR_MISSES["Conv2d"]),
                                      HOSTILE))
        return data
    if op == "to_one_key" and isinstance(node.get("type"), str):
        rest = {k: v for k, v in node.items() if k != "type"}
        if draw(st.booleans()):
            return replace(data, path, {node["type"]: rest})
        return replace(data, path, {node["type"]: list(rest.values())})
    if op == "from_one_key" and node:
        key = draw(st.sampled_from(sorted(node, key=str)))
        value = node[key]
        new = {"type": key}
        if isinstance(value, dict):
            new.update(value)
        elif value is not None:
            new[draw(st.sampled_from(["modules", "parameters", "kernel_size", "in_features", "p"]))] = value
        return replace(data, path, new)
    if op == "near_miss":
        return replace(data, path, near_miss(draw, node))
    if op == "forward":
        return replace(data, path, mutate_forward_code(draw, node))
    if op == "number":
        f = draw(st.sampled_from([lambda v: v + 1, lambda v: v - 1, lambda v: -v, lambda v: 0, lambda v: v * 1000,
                                  lambda v: v * 10**9, lambda v: float(v), lambda v: str(v), lambda v: [v, v]]))
        return replace(data, path, f(node))
    if op == "list_edit" and node:
        how = draw(st.sampled_from(["pop", "append", "reverse", "truncate"]))
        if how == "pop":
            node.pop(draw(st.integers(0, len(node) - 1)))
        elif how == "append":
            node.append(draw(st.one_of(HOSTILE, st.just(copy.deepcopy(node[0])))))
        elif how == "reverse":
            node.reverse()
        else:
            del node[draw(st.integers(0, len(node) - 1)):]
        return data
    return replace(data, path, draw(HOSTILE))


class _BlockDumper(yaml.SafeDumper):
    """SafeDumper writing multi-line strings as literal blocks, the way forwards are written by hand."""


_BlockDumper.add_representer(
    str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else None))


def dump(draw, data) -> str:
    how = draw(st.sampled_from(["safe_dump", "safe_dump_flow", "block", "json"]))
    if how == "json":
        try:
            return json.dumps(data)
        except (TypeError, ValueError):
            how = "safe_dump"
    if how == "block":
        return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=draw(st.booleans()),
                          default_flow_style=True if how == "safe_dump_flow" else None)


@st.composite
def data_mutants(draw, seeds=tuple(SEEDS)) -> str:
    name = draw(st.sampled_from(seeds))
    data = copy.deepcopy(SEED_DATA[name])
    for _ in range(draw(st.integers(1, 3))):
        data = mutate_data(draw, data)
    return dump(draw, data)


@st.composite
def forward_mutants(draw) -> str:
    """Mutants of the forward texts only, re-dumped (as a literal block or a quoted string)."""
    name = draw(st.sampled_from(FORWARD_SEEDS))
    data = copy.deepcopy(SEED_DATA[name])
    holders = [p for p in paths(data) if isinstance(get(data, p), dict) and isinstance(get(data, p).get("forward"), str)]
    for _ in range(draw(st.integers(1, 3))):
        holder = get(data, draw(st.sampled_from(holders)))
        holder["forward"] = mutate_forward_code(draw, holder["forward"])
    return dump(draw, data)


PLAUSIBLE = {  # layer arguments with values torch accepts, or nearly: models that load and then run
    "padding": [0, 1, 2, 3, "same", "valid", [1, 0], [0, 2]], "stride": [1, 2, 3, [2, 1], [1, 3]],
    "dilation": [1, 2, 3, [2, 1]], "groups": [1, 2, 3, 4], "bias": [True, False],
    "padding_mode": ["zeros", "reflect", "replicate", "circular"], "output_padding": [0, 1, 2],
    "ceil_mode": [True, False], "return_indices": [True, False], "count_include_pad": [True, False],
    "divisor_override": [None, 1, 3, -2], "output_size": [1, 2, 3, None, [None, 2], [5, None], 0],
    "mode": ["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"],
    "align_corners": [None, True, False], "recompute_scale_factor": [None, True, False],
    "scale_factor": [0.5, 1, 1.5, 2, 3, [2, 1], [0.5, 2.0], 0.01], "size": [1, 3, 5, [4, 6], [2, 2, 2]],
    "momentum": [None, 0.0, 0.1, 1.0], "eps": [0, 1e-5, 1.0], "affine": [True, False],
    "track_running_stats": [True, False], "p": [0, 0.0, 0.5, 1, 1.0], "inplace": [True, False],
    "negative_slope": [0, -1, 0.5, 2], "num_parameters": [1, 2, 3], "init": [0.25, 0, -1, "zeros", "randn"],
    "upscale_factor": [1, 2, 3], "kernel_size": [1, 2, 3, 5, [1, 3], [3, 1]],
}


def tweak(draw, value):
    """A nearby value of the same kind: what a slip of the keyboard or a wrong guess makes."""
    if isinstance(value, bool):
        return draw(st.sampled_from([not value, None, 0, 1]))
    if isinstance(value, int):
        return draw(st.sampled_from([0, 1, 2, 3, 4, 7, 16, 64, value - 1, value + 1, value * 2, value // 2, -value,
                                     value * 100, 1000]))
    if isinstance(value, float):
        return draw(st.sampled_from([0.0, 1.0, 0.5, 1e-9, 0.999, 2.0, -0.5, 1e6, value * 2, 1e-45]))
    if isinstance(value, str) and value in MODULE_TYPES:
        return draw(st.sampled_from(MODULE_TYPES))
    if isinstance(value, str):
        return draw(st.sampled_from(sorted({v for vs in PLAUSIBLE.values() for v in vs if isinstance(v, str)})
                                    + ["rand", "randn", "ones", "float64", "float16", "int64", "conv1"]))
    return value


@st.composite
def value_mutants(draw) -> str:
    """Seeds with plausible values changed and plausible arguments added: models that mostly load, then run."""
    data = copy.deepcopy(SEED_DATA[draw(st.sampled_from(sorted(SEED_DATA)))])
    for _ in range(draw(st.integers(1, 4))):
        layers = [p for p in paths(data) if isinstance(get(data, p), dict)
                  and any(isinstance(k, str) and k in LAYER_SPECS for k in [get(data, p).get("type"), *get(data, p)])]
        leaves = [p for p in paths(data) if p and p[-1] != "forward" and not isinstance(get(data, p), (dict, list))]
        if layers and (not leaves or draw(st.booleans())):
            node = get(data, draw(st.sampled_from(layers)))
            kind = next(k for k in [node.get("type"), *node] if isinstance(k, str) and k in LAYER_SPECS)
            own = sorted(set(LAYER_SPECS[kind].model_fields) & set(PLAUSIBLE))
            key = draw(st.sampled_from(own if own and draw(st.integers(0, 9)) else sorted(PLAUSIBLE)))
            node[key] = copy.deepcopy(draw(st.sampled_from(PLAUSIBLE[key])))
        elif leaves:
            path = draw(st.sampled_from(leaves))
            replace(data, path, tweak(draw, get(data, path)))
    return dump(draw, data)


def mutate_text(draw, text: str) -> str:
    """One edit of raw text: truncation, inserted characters, lines moved, tokens renamed."""
    how = draw(st.sampled_from(["truncate", "insert", "insert", "delete", "swap_lines", "dup_line", "del_line",
                                "indent", "token", "token", "forward", "yaml"]))
    n = len(text)
    lines = text.split("\n")
    if how == "truncate":
        return text[:draw(st.integers(0, n))]
    if how == "insert":
        i = draw(st.integers(0, n))
        return text[:i] + draw(st.one_of(st.sampled_from(HOSTILE_CHARS), st.text(min_size=1, max_size=5))) + text[i:]
    if how == "delete":
        i = draw(st.integers(0, n))
        return text[:i] + text[i + draw(st.integers(1, 10)):]
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    if how == "swap_lines":
        lines[i], lines[j] = lines[j], lines[i]
    elif how == "dup_line":
        lines.insert(i, lines[i])
    elif how == "del_line":
        del lines[i]
    elif how == "indent":
        lines[i] = draw(st.sampled_from(["", " ", "  ", "    ", "\t", "- "])) + lines[i].lstrip()
    elif how == "yaml":  # a value, or a whole line, becomes YAML syntax
        head, colon, _ = lines[i].partition(": ")
        lines[i] = head + colon + draw(st.sampled_from(YAML_VALUES)) if colon and draw(st.booleans()) else \
            draw(st.sampled_from(YAML_VALUES))
    elif how == "token":
        tokens = list(re.finditer(r"[A-Za-z_]\w*|-?\d+(?:\.\d+)?", text))
        if tokens:
            t = draw(st.sampled_from(tokens))
            word = t.group()
            new = draw(st.sampled_from(["0", "-1", "10**100", "99999999999", "1e999", ".nan", "null", "true"])) \
                if word[-1].isdigit() else near_miss(draw, word)
            return text[:t.start()] + new + text[t.end():]
    else:  # edit the code of a literal-block forward in place, keeping the file's other lines
        start = next((k for k, ln in enumerate(lines) if ln.lstrip().startswith("forward:")), None)
        if start is not None:
            end = start + 1
            while end < len(lines) and (not lines[end].strip() or lines[end].startswith(" ")):
                end += 1
            body = "\n".join(lines[start + 1:end])
            return "\n".join(lines[:start + 1] + mutate_forward_code(draw, body).split("\n") + lines[end:])
    return "\n".join(lines)


@st.composite
def text_mutants(draw) -> str:
    text = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
    for _ in range(draw(st.integers(1, 3))):
        text = mutate_text(draw, text)
    return text


# --------------------------------------------------------------------------- running a mutant


class Hang(BaseException):
    """Raised by the per-example alarm (a BaseException, so no ``except Exception`` in nnspec swallows it)."""


@contextlib.contextmanager
def memory_guard(extra: int = MEMORY_GUARD):
    """Cap the process's address space ``extra`` bytes above its size now, so a runaway allocation is a
    MemoryError (an NNSpecError, or a failure with the mutant's text) instead of the OOM killer ending
    the test run, and legal but big work (a 600 MB output) ends fast instead of looking like a hang."""
    try:
        import resource

        now = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = now + extra
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@contextlib.contextmanager
def time_guard(seconds: float):
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield  # no SIGALRM (Windows), or not the main thread: no guard
        return

    def on_alarm(signum, frame):
        raise Hang(f"no outcome after {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def plausible_shape(model: nn.Module, rng: random.Random) -> tuple[int, ...]:
    """A small input shape the model's first layer could take (random when nothing says)."""
    n = rng.randint(1, 2)
    if rng.random() < 0.25:
        return tuple(rng.randint(0, 5) for _ in range(rng.randint(0, 5)))
    for m in model.modules():
        kind = type(m).__name__
        if kind in ("Conv1d", "ConvTranspose1d"):
            return (n, m.in_channels, rng.randint(1, 12))
        if kind == "Conv2d":
            return (n, m.in_channels, rng.randint(1, 10), rng.randint(1, 10))
        if kind == "Linear":
            return (n, m.in_features)
        if kind == "Bilinear":
            return (n, m.in1_features)
        if kind == "BatchNorm1d":
            return (n + 1, m.num_features) if rng.random() < 0.5 else (n + 1, m.num_features, rng.randint(1, 5))
        if kind == "BatchNorm2d":
            return (n, m.num_features, rng.randint(1, 6), rng.randint(1, 6))
        if kind == "PixelShuffle":
            r = m.upscale_factor
            return (n, r * r * rng.randint(1, 2), rng.randint(1, 4), rng.randint(1, 4))
        if kind == "ParameterList" and len(m):
            return (m[0].shape[-1] if m[0].ndim else 1, rng.randint(1, 4))
        if kind == "ParameterDict" and len(m):
            first = next(iter(m.values()))
            return (first.shape[-1] if first.ndim else 1, rng.randint(1, 4))
        if kind in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "MaxPool2d", "AvgPool2d",
                    "AdaptiveAvgPool2d", "Dropout2d"):
            return (n, 3, rng.randint(1, 9), rng.randint(1, 9))
        if kind in ("MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d"):
            return (n, 3, rng.randint(1, 12))
    return (n, 3, rng.randint(1, 8), rng.randint(1, 8))


def dict_keys(model: nn.Module) -> list[str]:
    keys = []
    for m in model.modules():
        if isinstance(m, (nn.ModuleDict, nn.ParameterDict)):
            keys += list(m.keys())
    return keys


def inputs_for(model: nn.Module, rng: random.Random) -> list:
    nrng = numpy.random.default_rng(rng.randrange(2**32))
    names = input_names(model)
    if not (isinstance(model, nn.UserModule) and model.graph is not None):
        names = names[:2] if type(model).__name__ == "Bilinear" else names[:1]
    keys = dict_keys(model)
    args = []
    for i, name in enumerate(names):
        if keys and name != "x" and rng.random() < 0.8:
            args.append(rng.choice(keys + ["nope", ""]))
            continue
        shape = plausible_shape(model, rng)
        if type(model).__name__ == "Bilinear" and i == 1 and len(shape) == 2:
            shape = (shape[0], model.in2_features)
        if math.prod(shape) > MAX_INPUT_ELEMENTS:
            shape = (1, 3, 4, 4)
        args.append(numpy.asarray(nrng.standard_normal(shape), dtype=numpy.float32))  # 0-d: an array, not a scalar
    return args


def described(y):
    if isinstance(y, (tuple, list)):
        return [described(v) for v in y]
    return (tuple(int(s) for s in y.shape), str(y.dtype)) if hasattr(y, "shape") else repr(y)


def outcome(fn) -> tuple:
    try:
        return ("ok", described(fn()))
    except DataDependentError:
        return ("data-dependent",)
    except nnspec.NNSpecError as e:
        return ("error", str(e))


def shape_only_twin(text: str, model: nn.Module, dtype: str) -> nn.Module:
    twin = nnspec.loads(text, filename=FILENAME, memory_limit=MEMORY_LIMIT, meta=True).to(dtype)
    return twin.train(model.training)


def check(text: str, seed: int = 0) -> None:
    """Load ``text`` and run what loads: success or an NNSpecError, never anything else, never a hang."""
    rng = random.Random(seed)
    stage = "loading"
    try:
        with memory_guard(), time_guard(TIME_LIMIT):
            try:
                model = nnspec.loads(text, filename=FILENAME, memory_limit=MEMORY_LIMIT)
            except nnspec.NNSpecError as e:
                assert e.position is not None and e.position.file == FILENAME, \
                    f"a loading error without the file's position: {e!r} (position {e.position!r})\n{text}"
                return
            stage = "running"
            runnable = isinstance(model, nn.UserModule) and model.graph is not None or \
                type(model).__name__ in LAYER_SPECS or isinstance(model, nn.Sequential)
            if not runnable:
                return
            model.train(rng.random() < 0.3)
            dtype = rng.choice(["float64", "float16"]) if rng.random() < 0.2 else "float32"
            model.to(dtype)
            args = inputs_for(model, rng)
            if rng.random() < 0.9:  # mostly in the model's dtype; a mismatch is torch's error, and nnspec's
                args = [numpy.asarray(a, dtype=dtype) if isinstance(a, numpy.ndarray) else a for a in args]
            stage = "inferring"
            static = outcome(lambda: shape_only_twin(text, model, dtype)(*[
                MetaArray(a.shape, a.dtype) if isinstance(a, numpy.ndarray) else a for a in args]))
            stage = "running"
            try:
                real = ("ok", described(model(*args)))
            except nnspec.NNSpecError as e:
                real = ("error", str(e))
                if isinstance(model, nn.UserModule) and len(args) == len(model.graph.placeholders):
                    # inside a custom forward every error is placed at its node in the file
                    assert e.position is not None and e.position.file == FILENAME, \
                        f"a forward's error without the file's position: {e!r}\n{text}"
            # static inference agrees with the run: the same shapes and dtypes, or the same error; it may
            # only stop short where a shape depends on values, or pass where the run ran out of memory
            if not (static[0] == "data-dependent" or real[0] == "error" and "out of memory" in real[1]):
                assert static == real, f"static inference {static} but the run {real} on this mutant:\n{text}"
    except Hang:
        pytest.fail(f"{stage} hung (more than {TIME_LIMIT} s) on this mutant:\n{text}")
    except AssertionError:
        raise
    except Exception as e:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{stage} raised {type(e).__name__}: {e} (not an NNSpecError) on this mutant:\n{text}")


FUZZ = dict(deadline=None, derandomize=True, database=None, print_blob=False,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                   HealthCheck.large_base_example])


def test_the_seeds_load_and_run():
    for name, text in SEEDS.items():
        check(text)


@settings(max_examples=2000, **FUZZ)
@given(text=data_mutants(), seed=st.integers(0, 2**32 - 1))
def test_fuzz_mutated_data(text, seed):
    check(text, seed)


@settings(max_examples=1000, **FUZZ)
@given(text=value_mutants(), seed=st.integers(0, 2**32 - 1))
def test_fuzz_mutated_values(text, seed):
    check(text, seed)


@settings(max_examples=1000, **FUZZ)
@given(text=forward_mutants(), seed=st.integers(0, 2**32 - 1))
def test_fuzz_mutated_forwards(text, seed):
    check(text, seed)


@settings(max_examples=2000, **FUZZ)
@given(text=text_mutants(), seed=st.integers(0, 2**32 - 1))
def test_fuzz_mutated_text(text, seed):
    check(text, seed)


# --------------------------------------------------------------------------- regressions: what the fuzzer found


def _error(text: str, *inputs, train: bool = False) -> nnspec.NNSpecError:
    """The NNSpecError of loading ``text`` or, given inputs, of running it on them (a hang fails)."""
    with pytest.raises(nnspec.NNSpecError) as info, memory_guard(), time_guard(TIME_LIMIT):
        model = nnspec.loads(text, filename=FILENAME).train(train)
        if inputs:
            model(*inputs)
    return info.value


def _x(*shape):
    return numpy.random.default_rng(0).standard_normal(shape).astype(numpy.float32)


@pytest.mark.parametrize("text, line, col, char", [
    ("\x1f# a comment\nReLU", 1, 1, "U+001F"),
    ("type: Linear\nin_features: 2\nout_features: \x1b3\n", 3, 15, "U+001B"),
    ("Linear: [1, 2]\r\nname: x\ud800", 2, 8, "U+D800"),  # a lone surrogate
])
def test_control_characters_are_placed_spec_errors(text, line, col, char):
    # PyYAML's reader refuses them when the loader is made, before parsing: a ReaderError escaped
    e = _error(text)
    assert isinstance(e, nnspec.SpecError) and (e.position.line, e.position.col) == (line, col)
    assert f"unacceptable character {char}" in str(e) and str(e).startswith(f"{FILENAME}:{line}:{col}:")


@pytest.mark.parametrize("text", [
    "parameters: {w: {shape: [2], init: {type: {type: Sequential}}}}",
    "parameters: {w: {shape: [2], init: {type: [1], x: 2}}}",
])
def test_an_unknown_argument_beside_a_type_that_is_not_a_name_is_a_spec_error(text):
    # the hint for an unknown key looked up the mapping's `type` as a spec name: a dict there is unhashable
    e = _error(text)
    assert isinstance(e, nnspec.SpecError) and str(e).startswith(f"{FILENAME}:1:")


def test_a_module_list_or_parameter_list_without_contents_is_empty():
    # neither `modules:` nor `repeat:` given: range(None) raised TypeError in the builder; torch's ModuleList()
    m = nnspec.loads("Sequential: [ReLU, ParameterList, ModuleList, {ModuleList: null}, {type: ParameterList}]")
    assert [len(c) for c in list(m.children())[1:]] == [0, 0, 0, 0]
    assert repr(m[1]) == "ParameterList()" and repr(m[2]) == "ModuleList()" and m.state_dict() == {}


def test_a_layer_called_with_the_wrong_inputs_is_an_nnspec_error():
    # a Sequential passes one input, Bilinear takes two: Python's TypeError escaped (torch raises it too)
    e = _error("Sequential: [{Bilinear: [2, 3, 4]}]", _x(1, 2))
    assert isinstance(e, nnspec.NNSpecRuntimeError)
    assert str(e) == "Bilinear.forward() missing 1 required positional argument: 'input2'"
    with pytest.raises(nnspec.NNSpecRuntimeError, match="takes 2 positional arguments but 3 were given"):
        nnspec.loads("ReLU")(_x(2), _x(2))


@pytest.mark.parametrize("text, shape, out", [
    ("AdaptiveAvgPool2d: 0", (1, 3, 8, 8), (1, 3, 0, 0)),
    ("AdaptiveAvgPool2d: [[0, 3]]", (1, 3, 8, 8), (1, 3, 0, 3)),
    ("AdaptiveAvgPool2d: [[3, 0]]", (3, 8, 8), (3, 3, 0)),
    ("AdaptiveAvgPool2d: [[0, null]]", (1, 3, 8, 8), (1, 3, 0, 8)),
    ("AdaptiveAvgPool1d: 0", (1, 3, 8), (1, 3, 0)),
])
def test_adaptive_pool_to_size_zero_is_empty_as_in_torch(text, shape, out):
    # numpy's max() of no bins raised ValueError
    y = nnspec.loads(text)(_x(*shape))
    assert y.shape == out and y.dtype == numpy.float32


@pytest.mark.parametrize("text, shape, phrase", [
    # the padded input alone is 4.6 TB: numpy's MemoryError escaped from the layer
    ("{Conv2d: [16, 33, [3, 5]], stride: [2, 1], padding: [4000000000, 2]}", (1, 16, 8, 5), "conv2d: out of memory"),
    ("{Conv1d: [2, 2, 3], padding: 100000000000}", (1, 2, 4), "conv1d: out of memory"),
    ("{ConvTranspose1d: [2, 2, 3], stride: 100000000000}", (1, 2, 4), "conv_transpose1d: out of memory"),
    ("{AdaptiveAvgPool2d: [[100000000000, 100000000000]]}", (1, 3, 4, 4), "adaptive_avg_pool2d: out of memory"),
    ("{Upsample: {size: [100000000000, 100000000000]}}", (1, 3, 4, 4), "interpolate: out of memory"),
])
def test_an_output_larger_than_memory_is_refused_before_it_is_made(text, shape, phrase):
    e = _error(text, _x(*shape))
    assert isinstance(e, nnspec.NNSpecRuntimeError) and phrase in str(e) and "are free" in str(e)


def test_a_forward_asking_for_a_huge_interpolation_fails_fast_with_its_place():
    # size=10**9 on (3, 5, 3): the index tables alone touched ~20 GB before the output failed (the OOM killer
    # ended the test run); the output's size is now refused first, at the forward's line
    text = "forward: |\n  x = F.interpolate(x, size=10**9)\n  return x\n"
    e = _error(text, _x(3, 5, 3))
    assert "interpolate" in str(e) and "out of memory" in str(e) and str(e).startswith(f"{FILENAME}:2:")


@pytest.mark.parametrize("text", [
    "AvgPool1d: [3, [9223372036854775808]]", "{MaxPool1d: 3, padding: 9223372036854775808}",
    "Conv1d: [3, 3, 3, 9223372036854775808]", "{ConvTranspose1d: [3, 3, 3], dilation: 9223372036854775808}",
    "AdaptiveAvgPool1d: 9223372036854775808",
])
def test_a_hyperparameter_past_int64_is_torch_s_overflow_error(text):
    # the byte strides of the window view overflowed NumPy's C long (OverflowError)
    e = _error(text, _x(1, 3, 8))
    assert isinstance(e, nnspec.NNSpecRuntimeError) and "overflows a 64-bit integer" in str(e)


@pytest.mark.parametrize("text", ["AvgPool1d: [3, 4611686018427387904]", "{MaxPool1d: [3, 4611686018427387904], "
                                  "return_indices: true}", "Conv1d: [3, 3, 3, 4611686018427387904]"])
def test_a_huge_stride_that_fits_int64_takes_one_window_as_in_torch(text):
    y = nnspec.loads(text)(_x(1, 3, 8))
    assert (y[0] if isinstance(y, tuple) else y).shape == (1, 3, 1)


@pytest.mark.parametrize("factor", ["-1.0e+308", "1.0e+300", "-1.0e+19"])
def test_an_overflowing_scale_factor_is_torch_s_error(factor):
    # int(inf) raised OverflowError; torch: "value cannot be converted to type int64_t without overflow"
    e = _error(f"UpsamplingNearest2d: {{scale_factor: {factor}}}", _x(1, 3, 4, 4))
    assert "cannot be converted to type int64_t without overflow" in str(e)


@pytest.mark.parametrize("a, b, phrase", [
    ((), (30,), "input dimensions do not match: got 0 and 1"),
    ((20,), (), "input dimensions do not match: got 1 and 0"),
    ((), (), "tensor has no dimensions"),
])
def test_bilinear_on_0d_inputs_is_a_shape_error(a, b, phrase):
    # x.shape[-1] of a 0-d array raised IndexError
    e = _error("Bilinear: [20, 30, 40]", _x(*a), _x(*b))
    assert isinstance(e, nnspec.ShapeError) and phrase in str(e)


@pytest.mark.parametrize("shape", [(4, 2, 0), (2, 0)])
def test_conv_transpose_on_an_empty_length_is_torch_s_error(shape):
    # a zero-length input made a negative-sized dilated array (ValueError)
    e = _error("ConvTranspose1d: [2, 33, 3, 2]", _x(*shape))
    assert "Only zero batch or zero channel inputs are supported" in str(e)
    assert nnspec.loads("ConvTranspose1d: [2, 33, 3, 2]")(_x(0, 2, 5)).shape == (0, 33, 11)  # torch's too


@pytest.mark.parametrize("shape, phrase", [
    ((1, 3, 0, 4), "Input and output sizes should be greater than 0, but got input (H: 0, W: 4) output (H: 12, W: 1000)"),
    ((1, 0, 4, 4), "Non-empty 4D data tensor expected but got a tensor with sizes [1, 0, 4, 4]"),
])
def test_interpolating_an_empty_input_is_torch_s_error(shape, phrase):
    # numpy's take from an empty axis raised IndexError
    e = _error("UpsamplingBilinear2d: {size: [12, 1000]}", _x(*shape))
    assert isinstance(e, nnspec.ShapeError) and phrase in str(e)
    assert nnspec.loads("UpsamplingBilinear2d: {size: [12, 10]}")(_x(0, 3, 4, 4)).shape == (0, 3, 12, 10)


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize("shape, phrase", [
    ((2, 3, 0), "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size"),
    ((1, 0, 4, 4), "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size"),
    ((2, 3), "Padding size 4 is not supported for 2D input tensor"),
])
def test_reflect_and_replicate_padding_of_empty_or_short_inputs_is_torch_s_error(mode, shape, phrase):
    # numpy.pad refused to extend an empty axis (ValueError); torch's own checks come first
    e = _error(f"{{Conv2d: [3, 3, 3], padding: 1, padding_mode: {mode}}}", _x(*shape))
    assert phrase in str(e)
    assert nnspec.loads(f"{{Conv2d: [3, 3, 3], padding: 1, padding_mode: {mode}}}")(_x(0, 3, 4, 4)).shape == (0, 3, 4, 4)


@pytest.mark.parametrize("shape", [(2, 0), (0, 3), (2, 3, 0), (0, 3, 4)])
@pytest.mark.parametrize("options", ["", ", affine: false, track_running_stats: false", ", momentum: null"])
@pytest.mark.parametrize("train", [True, False])
def test_batch_norm_of_an_empty_input_is_empty_as_in_torch(shape, options, train):
    # zero channels divided by zero (ZeroDivisionError); torch returns an empty input as it is, statistics untouched
    m = nnspec.loads(f"{{BatchNorm1d: [3]{options}}}").train(train)
    before = None if m.running_mean is None else m.running_mean.copy()
    assert m(_x(*shape)).shape == shape
    if before is not None:
        assert (m.running_mean == before).all()


@pytest.mark.parametrize("text", ["ReLU", "Tanh", "Dropout", "PReLU", "{LeakyReLU: [0.2, true]}"])
def test_activations_of_a_0d_input_are_0d_arrays(text):
    # NumPy gives a scalar for a 0-d ufunc result: ReLU's output then broke LeakyReLU(inplace=True)'s
    # x[...] = y (TypeError); PReLU's one slope made a (1,) output where torch keeps the shape ()
    if text == "Tanh":
        y = nnspec.functional.tanh(_x())
    else:
        y = nnspec.loads(text).train(True)(_x())
    assert isinstance(y, numpy.ndarray) and y.shape == () and y.dtype == numpy.float32
    seq = nnspec.loads("Sequential: [ReLU, {LeakyReLU: [0.2, true]}, PReLU, Dropout]").train(True)
    assert seq(numpy.asarray(-0.5, dtype=numpy.float32)).shape == ()


@pytest.mark.parametrize("text", [
    "Sequential: [ReLU, {LeakyReLU: [0.2, true]}, PReLU]",
    "Sequential: [ReLU, ParameterList]",
    "AvgPool1d: [3, [9223372036854775808]]",
    "parameters: {w: {shape: [2], init: {type: {type: Sequential}}}}",
    "{AdaptiveAvgPool2d: 0}",
    "UpsamplingNearest2d: {scale_factor: -1.0e+308}",
    "{ConvTranspose1d: [2, 33, 3, 2]}",
    "{UpsamplingBilinear2d: {size: [12, 1000]}}",
    "{Conv2d: [3, 3, 3], padding: 1, padding_mode: replicate}",
    "{BatchNorm1d: [3], affine: false, track_running_stats: false}",
    "name: MyModule\nmodules: {params: {ParameterDict: {left: {shape: [5, 10]}}}}\n"
    "forward: \"def forward(self, x, choice):\\n    x = F.interpolate(x, size=10**9)\\n    return x\\n\"",
])
@pytest.mark.parametrize("seed", range(4))
def test_the_fuzzer_s_finds_stay_fixed(text, seed):
    check(text, seed)


@pytest.mark.parametrize("body, phrase", [
    ("t = (x,)\nfor i in range(300):\n    t = (t, t)\nreturn t", "more than 100,000 items"),
    ("t = (1,)\nfor i in range(300):\n    t = [t, t]\nreturn x", "more than 100,000 items"),
    ("t = (1,)\nfor i in range(16):\n    t = (t, t)\nu = t * 9999\nreturn x", "more than 100,000 items"),
    ("t = (1,)\nfor i in range(15):\n    t = (t, t)\nl = []\nfor i in range(9999):\n    l.append(t)\nreturn x",
     "more than 1,000,000 steps"),
    ("l = [x]\nl.append(l)\nreturn l", "contains itself"),
    ("l = [1]\nl.append(l)\nb = l == l\nreturn x", "contains itself"),
])
def test_a_value_nested_in_itself_is_bounded_when_compiling(body, phrase):
    # t = (t, t) doubles a value at each step while it stays small in memory: materializing it as a node's
    # argument (and comparing, printing or running it) walked 2**300 items, a hang
    start = time.perf_counter()
    e = _error("forward: |\n  " + body.replace("\n", "\n  ") + "\n")
    assert isinstance(e, nnspec.CompileError) and phrase in str(e) and str(e).startswith(f"{FILENAME}:")
    assert time.perf_counter() - start < TIME_LIMIT


def test_values_of_ordinary_size_still_compile():
    m = nnspec.loads("forward: |\n  t = (x,)\n  for i in range(12):\n    t = (t, t)\n  l = []\n"
                     "  for i in range(5000):\n    l.append((x, i))\n  return l[-1][0] + t[0][1][0][0][0][0][0][0][0][0][0][0][0]\n")
    x = _x(2, 3)
    numpy.testing.assert_array_equal(m(x), x + x)


@pytest.mark.parametrize("body, phrase", [
    # Python's round(int, -n) makes 10**n first: minutes for n = 10**8, when compiling and when running
    ("n = round(5, -10**8)\nreturn x", None),
    ("return x * round(x.size(0), -10**8)", None),
    # a printf width is a string of that many characters, made before its length was checked
    ("s = '%01000000000d' % 1\nreturn x", "a width or precision of more than 10,000 characters"),
    ("s = '%s%*d' % ('a', 10**9, 1)\nreturn x", "a width or precision of more than 10,000 characters"),
    ("s = '%.*f' % (x.size(0) * 10**9, 1.0)\nreturn x", "a width or precision of more than 10,000 characters"),
    # a broadcast view costs no memory, but a reduction walks all of it: hours
    ("return x.expand(10**6, 10**6, 2, 3).sum()", "out of memory"),
    ("return torch.broadcast_to(x, (10**7, 10**7, 2, 3)).amax()", "out of memory"),
    # every element as a Python number: gigabytes of objects from a 1 GB array
    ("return torch.zeros(10**8, dtype=torch.bool).tolist()", "more than 10,000 Python numbers"),
    ("n = int('9' * 4000)\nreturn x", "more than 4096 bits"),
])
def test_small_forwards_that_would_hang_or_allocate_fail_fast(body, phrase):
    start = time.perf_counter()
    text = "forward: |\n  " + body.replace("\n", "\n  ") + "\n"
    try:
        with memory_guard(), time_guard(TIME_LIMIT):
            y = nnspec.loads(text, filename=FILENAME)(_x(2, 3))
    except nnspec.NNSpecError as e:
        assert phrase is not None and phrase in str(e) and str(e).startswith(f"{FILENAME}:"), str(e)
    else:
        assert phrase is None and numpy.isfinite(y).all()
    assert time.perf_counter() - start < TIME_LIMIT


@pytest.mark.parametrize("body, phrase", [
    # formulas that double at each step while their terms stay few: a hang, or all memory, in static inference
    ("n = x.size(0)\nfor i in range(40):\n    n = n // 2 + n\nreturn x[:n]", "atoms"),
    ("f = math.sqrt(x.size(0))\nfor i in range(60):\n    f = f * f + f\nreturn x * f", "10,000 characters"),
    # round(N, -1) is N to the nearest ten, not N (the run would disagree)
    ("return x * round(x.size(0), -1)", "depends on symbolic sizes"),
])
def test_symbolic_formulas_stay_bounded_in_static_inference(body, phrase):
    from nnspec.runtime.symbolic import parse_size
    from nnspec.static import infer

    model = nnspec.loads("forward: |\n  " + body.replace("\n", "\n  ") + "\n", filename=FILENAME)
    start = time.perf_counter()
    with pytest.raises(nnspec.NNSpecError) as info, memory_guard(), time_guard(TIME_LIMIT):
        infer(model, [(parse_size("N"), 3)])
    assert phrase in str(info.value) and str(info.value).startswith(f"{FILENAME}:"), str(info.value)
    assert time.perf_counter() - start < TIME_LIMIT
    assert infer(model, [(20, 3)]).output_shape == model(_x(20, 3)).shape  # with numbers, as the run


# every layer on empty, 0-d and odd-rank inputs, in both modes and two dtypes: two of the bugs above were here
ODD_SHAPES = [(), (0,), (3,), (2, 0), (0, 3), (2, 3), (0, 3, 5), (2, 0, 5), (2, 3, 0), (1, 3, 5), (0, 3, 4, 4),
              (1, 0, 4, 4), (1, 3, 0, 4), (1, 3, 4, 0), (1, 3, 1, 1), (1, 1, 2, 3, 4)]
ODD_LAYERS = [
    "{Conv1d: [3, 3, 3], padding: 1, padding_mode: circular}", "{Conv2d: [3, 3, 3], padding: 1, padding_mode: reflect}",
    "{Conv2d: [3, 6, 1], padding: same, padding_mode: replicate}", "{Conv2d: [3, 3, 3], groups: 3, dilation: 2}",
    "{ConvTranspose1d: [3, 2, 3], output_padding: 1, stride: 2}", "{MaxPool2d: 2, return_indices: true}",
    "{MaxPool1d: 2, return_indices: true, ceil_mode: true}", "{AvgPool2d: 2, ceil_mode: true, count_include_pad: false}",
    "{AvgPool1d: 3, padding: 1}", "{AdaptiveAvgPool2d: [[0, null]]}", "{AdaptiveAvgPool1d: 2}",
    "{Upsample: {scale_factor: 2, mode: bicubic}}", "{Upsample: {size: 3, mode: linear}}",
    "{Upsample: {scale_factor: 0.5}}", "{BatchNorm1d: [3], affine: false, track_running_stats: false}",
    "{BatchNorm2d: [3], momentum: null}", "{PReLU: 3}", "{LeakyReLU: [0.1, true]}", "{ReLU: [true]}",
    "{Dropout: [0.5, true]}", "{Dropout2d: [0.3, true]}", "{Linear: [3, 0]}", "{Linear: [0, 3]}",
    "{Bilinear: [3, 3, 2]}", "{PixelShuffle: 2}",
]


@pytest.mark.parametrize("text", ODD_LAYERS)
def test_every_layer_on_empty_and_odd_shapes(text):
    model = nnspec.loads(text, filename=FILENAME)
    for shape in ODD_SHAPES:
        for train in (False, True):
            for dtype in ("float32", "float16"):
                model.train(train).to(dtype)
                x = numpy.asarray(_x(*shape), dtype=dtype)
                try:
                    with memory_guard(), time_guard(TIME_LIMIT):
                        model(*([x, x] if text.startswith("{Bilinear") else [x]))
                except nnspec.NNSpecError:
                    pass
                except Exception as e:  # noqa: BLE001
                    pytest.fail(f"{text} on {shape} ({'train' if train else 'eval'}, {dtype}) raised "
                                f"{type(e).__name__}: {e}")
