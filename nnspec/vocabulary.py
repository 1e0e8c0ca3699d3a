"""What a model file can say: every module type, and every function, method and operator a custom forward
may call, each with a one-line description (``nnspec ops`` prints it; error messages point there).

Descriptions come from the code itself: a module's class docstring, an op's docstring. An F op without
one borrows the line of the layer it is the functional twin of (``F.layer_norm`` -> ``LayerNorm``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .nn import containers
from .runtime import tensor as T
from .spec.models import CONTAINER_SPECS, LAYER_SPECS

KINDS = ("module", "function", "method", "operator")


@dataclass(frozen=True)
class Entry:
    kind: str  # one of KINDS
    name: str  # as written in a model file or a forward: "Conv2d", "F.relu", "torch.cat", ".view", "+"
    summary: str

    def to_json(self) -> dict:
        return {"kind": self.kind, "name": self.name, "summary": self.summary}


def first_sentence(doc: str | None) -> str:
    """The first sentence of a docstring, on one line."""
    text = " ".join((doc or "").strip().split("\n\n")[0].split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


_OPERATOR_SIGNS = {
    "add": "a + b", "sub": "a - b", "mul": "a * b", "truediv": "a / b", "floordiv": "a // b", "mod": "a % b",
    "pow": "a ** b", "matmul": "a @ b", "neg": "-a", "pos": "+a", "getitem": "a[index]",
    "unpack": "x, y = a", "eq": "a == b", "ne": "a != b", "lt": "a < b", "le": "a <= b", "gt": "a > b",
    "ge": "a >= b", "and_": "a & b", "or_": "a | b", "xor": "a ^ b", "invert": "~a", "setitem": "a[index] = b",
    "getattr": "a.name", "splat": "f(*a)",
}


def _layer_line(name: str) -> str | None:
    """The docstring line of the layer whose name is this F op's without underscores (layer_norm: LayerNorm)."""
    key = name.rstrip("_").replace("_", "").lower()
    for kind, spec in LAYER_SPECS.items():
        if kind.lower() == key:
            return first_sentence(spec.layer.__doc__)
    return None


def _describe(fn: Callable, fallback: str) -> str:
    return first_sentence(getattr(fn, "__doc__", None)) or fallback


def entries() -> list[Entry]:
    """Every entry, by kind, then by name."""
    out = [Entry("module", kind, first_sentence(spec.layer.__doc__) or f"torch.nn.{kind}")
           for kind, spec in LAYER_SPECS.items()]
    for kind in CONTAINER_SPECS:
        if kind == "Module":
            out.append(Entry("module", "Module", "A user-defined module: parameters, buffers, submodules and a "
                                                 "forward in torch's own words (a mapping with no type)."))
        else:
            out.append(Entry("module", kind, first_sentence(getattr(containers, kind).__doc__)))
    for name, fn in T.FUNCTIONS.items():
        if name.startswith("torch.nn.functional."):
            continue  # the same ops as F.<name>
        line = first_sentence(fn.__doc__)
        if not line and name.startswith("F."):
            line = _layer_line(name[2:]) or ""
        out.append(Entry("function", name, line or f"torch's {name}"))
    for name, fn in T.METHODS.items():
        out.append(Entry("method", f".{name}", _describe(fn, f"Tensor.{name}")))
    for name, fn in T.OPERATORS.items():
        base = next((b for b in (name[1:], name[1:] + "_") if name.startswith("i") and b in T.OPERATORS), None)
        if base is not None:  # augmented assignment: a += b
            a, op, b = _OPERATOR_SIGNS[base].split(" ")
            sign = f"{a} {op}= {b}"
        else:
            sign = _OPERATOR_SIGNS.get(name, name)
        out.append(Entry("operator", sign, _describe(fn, f"Python's {name}")))
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(out, key=lambda e: (order[e.kind], e.name.lower()))


def search(term: str | None = None, kind: str | None = None) -> list[Entry]:
    """The entries whose name or summary contains ``term`` (any case), of ``kind`` if given."""
    found = entries()
    if kind is not None:
        found = [e for e in found if e.kind == kind]
    if term:
        t = term.lower()
        found = [e for e in found if t in e.name.lower() or t in e.summary.lower()]
    return found


def module_types() -> list[str]:
    """The type names a model file may use, layers then containers."""
    return sorted(LAYER_SPECS) + sorted(set(CONTAINER_SPECS) - {"Module"})
