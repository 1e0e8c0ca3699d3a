"""The graph IR of a custom forward: fx-like nodes, printable as code and as JSON.

A node is (name, op, target, args, kwargs) plus the place in the model file it
came from. ``op`` is one of a fixed set:

- ``placeholder``: a forward input; target is its name;
- ``get_attr``: a parameter, buffer or plain attribute of the module, by dotted path
  (``key`` set: an entry of a ParameterDict chosen by a run-time string);
- ``call_module``: a submodule by dotted path (``key`` set: a ModuleDict entry chosen at run time);
- ``call_function``: an op from the registries, by the name the user wrote (``F.relu``, ``torch.cat``,
  ``operator.add``);
- ``call_method``: a tensor method; args[0] is the tensor;
- ``output``: the return value.
"""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..errors import CompileError, Position, printable

OPS = ("placeholder", "get_attr", "call_module", "call_function", "call_method", "output")

BINARY = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%", "pow": "**",
          "matmul": "@"}
UNARY = {"neg": "-", "pos": "+"}


@dataclass(eq=False)
class Node:
    """One operation of a forward."""

    name: str
    op: str
    target: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    position: Position | None = None
    key: Any = None  # for a run-time choice of ModuleDict / ParameterDict entry

    def __repr__(self) -> str:
        return self.name


def map_args(value: Any, fn) -> Any:
    """Apply ``fn`` to every Node inside nested tuples, lists, dicts and slices."""
    if isinstance(value, Node):
        return fn(value)
    if isinstance(value, tuple):
        return tuple(map_args(v, fn) for v in value)
    if isinstance(value, list):
        return [map_args(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: map_args(v, fn) for k, v in value.items()}
    if isinstance(value, slice):
        return slice(map_args(value.start, fn), map_args(value.stop, fn), map_args(value.step, fn))
    return value


def _nodes_in(value: Any) -> list[Node]:
    found: list[Node] = []
    map_args(value, lambda n: found.append(n) or n)
    return found


@lru_cache(maxsize=4096)
def _identifier(hint: str) -> str:
    """``hint`` made a Python identifier for a node's name (an unrolled loop names the same few hints)."""
    base = re.sub(r"\W", "_", hint).strip("_").lower() or "v"
    return "_" + base if base[0].isdigit() or keyword.iskeyword(base) or base == "self" else base


class Graph:
    """An ordered list of nodes ending in one ``output``."""

    def __init__(self, name: str = "forward"):
        self.name = name
        self.nodes: list[Node] = []
        self._names: dict[str, int] = {}
        self._used: set[str] = set()
        # inputs the forward tests against None (``if mask is not None``): compiled as given, never None. A call
        # passing None to one is refused when it runs, where the other branch would be needed (see Interpreter)

    def _unique(self, hint: str, exact: bool = False) -> str:
        """A name no node has yet: the hint itself (kept exactly for inputs), else hint_1, hint_2, ..."""
        if exact and hint not in self._used:
            self._used.add(hint)
            return hint
        base = _identifier(hint)
        n = self._names.get(base, 0)
        name = base if n == 0 else f"{base}_{n}"
        while name in self._used:
            n += 1
            name = f"{base}_{n}"
        self._names[base] = n + 1
        self._used.add(name)
        return name

    def create_node(self, op: str, target: str, args: tuple = (), kwargs: dict | None = None, *,
                    name: str | None = None, position: Position | None = None, key: Any = None) -> Node:
        assert op in OPS, op
        node = Node(self._unique(name or target.split(".")[-1], exact=op == "placeholder"), op, target,
                    tuple(args), dict(kwargs or {}), position, key)
        self.nodes.append(node)
        return node

    @property
    def placeholders(self) -> list[Node]:
        return [n for n in self.nodes if n.op == "placeholder"]

    def lint(self) -> None:
        """Check the invariants: known ops, unique names, args defined before use, one output, last."""
        seen: set[int] = set()
        names: set[str] = set()
        for i, node in enumerate(self.nodes):
            if node.op not in OPS:
                raise CompileError(f"graph {self.name}: node {node.name} has unknown op {node.op!r}")
            if node.name in names:
                raise CompileError(f"graph {self.name}: node name {node.name!r} is used twice")
            names.add(node.name)
            for arg in _nodes_in((node.args, node.kwargs, node.key)):
                if id(arg) not in seen:
                    raise CompileError(f"graph {self.name}: node {node.name} uses {arg.name} before it is defined")
            if node.op == "output" and i != len(self.nodes) - 1:
                raise CompileError(f"graph {self.name}: output is not the last node")
            seen.add(id(node))
        if not self.nodes or self.nodes[-1].op != "output":
            raise CompileError(f"graph {self.name}: no output node")

    # ------------------------------------------------------------------ printing

    def python_code(self, positions: bool = False) -> str:
        """The graph as the Python a reader would write: one line per node; with ``positions``, each line
        ends in a comment naming the model file's line it came from (the file named once, above)."""
        inputs = ", ".join(["self"] + [n.target for n in self.placeholders])
        lines = [f"def forward({inputs}):"]
        files = {n.position.file for n in self.nodes if n.position is not None and n.position.line is not None}
        if positions and len(files) == 1:
            lines.insert(0, f"# {printable(next(iter(files)) or '<string>')}")
        for node in self.nodes:
            if node.op == "placeholder":
                continue
            line = f"    return {_fmt(node.args[0])}" if node.op == "output" else f"    {node.name} = {_expr(node)}"
            where = node.position
            if positions and where is not None and where.line is not None:
                line += f"  # line {where.line}" if len(files) == 1 else f"  # {where}"
            lines.append(line)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.python_code()

    def to_json(self) -> dict:
        """A JSON-ready description: every node with its op, target, args, kwargs and position."""
        return {
            "name": self.name,
            "nodes": [
                {
                    "name": n.name,
                    "op": n.op,
                    "target": n.target,
                    "args": _json(n.args),
                    "kwargs": _json(n.kwargs),
                    **({"key": _json(n.key)} if n.key is not None else {}),
                    "position": None if n.position is None else
                    {"file": n.position.file, "line": n.position.line, "col": n.position.col},
                }
                for n in self.nodes
            ],
        }


def _fmt(value: Any) -> str:
    if isinstance(value, Node):
        return value.name
    if isinstance(value, tuple):
        inner = ", ".join(_fmt(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_fmt(v)}" for k, v in value.items()) + "}"
    if isinstance(value, slice):
        parts = [("" if p is None else _fmt(p)) for p in (value.start, value.stop, value.step)]
        return ":".join(parts[:2]) + (f":{parts[2]}" if value.step is not None else "")
    if value is Ellipsis:
        return "..."
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    return repr(value)


def _call(args: tuple, kwargs: dict) -> str:
    return ", ".join([_fmt(a) for a in args] + [f"{k}={_fmt(v)}" for k, v in kwargs.items()])


def _index(value: Any) -> str:
    if isinstance(value, tuple) and value:
        return ", ".join(_fmt(v) for v in value)
    return _fmt(value)


def _expr(node: Node) -> str:
    key = f"[{_fmt(node.key)}]" if node.key is not None else ""
    if node.op == "get_attr":
        return f"self.{node.target}{key}"
    if node.op == "call_module":
        return f"self.{node.target}{key}({_call(node.args, node.kwargs)})"
    if node.op == "call_method":
        return f"{_fmt(node.args[0])}.{node.target}({_call(node.args[1:], node.kwargs)})"
    op = node.target.removeprefix("operator.")
    if node.target.startswith("operator.") and op in BINARY:
        return f"{_fmt(node.args[0])} {BINARY[op]} {_fmt(node.args[1])}"
    if node.target.startswith("operator.") and op in UNARY:
        return f"{UNARY[op]}{_fmt(node.args[0])}"
    if node.target == "operator.getitem":
        return f"{_fmt(node.args[0])}[{_index(node.args[1])}]"
    return f"{node.target}({_call(node.args, node.kwargs)})"


def _json(value: Any) -> Any:
    if isinstance(value, Node):
        return {"node": value.name}
    if isinstance(value, (tuple, list)):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, slice):
        return {"slice": [_json(value.start), _json(value.stop), _json(value.step)]}
    if value is Ellipsis:
        return {"ellipsis": True}
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": str(value)}  # JSON has no inf or nan
    if not isinstance(value, (int, float, str, bool, type(None))):  # torch.float32, torch.device('cpu'), ...
        return {"torch": repr(value)}
    return value
