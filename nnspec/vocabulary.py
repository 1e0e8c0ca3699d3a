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
    text = " ".join((doc or "").strip().split("\n\n")[0].split()).replace("``", "`")
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


# each operator as a forward writes it, and what it does (torch's semantics where an operand is an array)
_OPERATORS = {
    "add": ("a + b", "Elementwise sum, broadcast, with torch's result dtype."),
    "sub": ("a - b", "Elementwise difference, broadcast."),
    "mul": ("a * b", "Elementwise product, broadcast."),
    "truediv": ("a / b", "Elementwise true division (integers give float32)."),
    "floordiv": ("a // b", "Elementwise division rounded down."),
    "mod": ("a % b", "Elementwise remainder, with the divisor's sign (Python's and torch's)."),
    "pow": ("a ** b", "Elementwise power."),
    "matmul": ("a @ b", "Matrix product, batched and broadcast (torch.matmul)."),
    "neg": ("-a", "Elementwise negation."),
    "pos": ("+a", "The operand itself."),
    "getitem": ("a[index]", "Indexing: ints, slices, None, ..., and integer or boolean index arrays."),
    "unpack": ("x, y = a", "Unpacking a tuple, a list or an array's first dim into names."),
    "eq": ("a == b", "Elementwise equality, a bool array."),
    "ne": ("a != b", "Elementwise inequality, a bool array."),
    "lt": ("a < b", "Elementwise less-than, a bool array."),
    "le": ("a <= b", "Elementwise less-or-equal, a bool array."),
    "gt": ("a > b", "Elementwise greater-than, a bool array."),
    "ge": ("a >= b", "Elementwise greater-or-equal, a bool array."),
    "and_": ("a & b", "Elementwise and of bool (or bitwise of integer) arrays."),
    "or_": ("a | b", "Elementwise or of bool (or bitwise of integer) arrays."),
    "xor": ("a ^ b", "Elementwise exclusive or of bool (or bitwise of integer) arrays."),
    "invert": ("~a", "Elementwise not of a bool (or bitwise not of an integer) array."),
    "setitem": ("a[index] = b", "Item assignment: written into the array, the value broadcast and converted to its "
                                "dtype."),
    "getattr": ("a.name", "An attribute: a tensor's dtype, device, T, mT, H, mH, data, or a field of a result "
                          "(x.max(1).values, torch.finfo(t).min)."),
    "splat": ("f(*a)", "Unpacking a run-time tuple, list or array into a call's arguments or a display's items."),
    "check": ("assert a", "An assert on values computed in the forward (a comparison of symbolic sizes is assumed "
                          "and recorded)."),
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
        shown = f"{name.removeprefix('builtins.')}()" if name.startswith("builtins.") else name  # len(), as written
        out.append(Entry("function", shown, line or f"torch's {name}"))
    for name, fn in T.METHODS.items():
        out.append(Entry("method", f".{name}", _describe(fn, f"Tensor.{name}")))
    for name, fn in T.OPERATORS.items():
        base = next((b for b in (name[1:], name[1:] + "_") if name.startswith("i") and b in T.OPERATORS), None)
        if base is not None and base in _OPERATORS:  # augmented assignment: a += b, in place on arrays
            a, op, b = _OPERATORS[base][0].split(" ")
            out.append(Entry("operator", f"{a} {op}= {b}", f"In place: {_OPERATORS[base][1][0].lower()}"
                                                            f"{_OPERATORS[base][1][1:]}"))
        elif name in _OPERATORS:
            out.append(Entry("operator", *_OPERATORS[name]))
        else:
            out.append(Entry("operator", name, _describe(fn, f"Python's {name}")))
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
