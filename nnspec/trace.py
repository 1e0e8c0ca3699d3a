"""The shape trace: one record per module call, gathered with forward hooks."""

from __future__ import annotations

import time
import weakref
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .errors import NNSpecError, ShapeError
from .nn import Module
from .runtime.cost import module_mult_adds, op_mult_adds
from .runtime.meta import note_call
from .runtime.symbolic import is_symbolic


def shapes(value: Any) -> Any:
    """The shape of an array, or the nested shapes of a tuple or list of them."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        shape = value.shape
        if type(shape) is tuple and all(type(s) is int for s in shape):  # the common case, checked cheaply
            return shape
        return tuple(s if is_symbolic(s) else int(s) for s in shape)
    if is_symbolic(value):  # a size from x.size(0) in static inference
        return value
    if isinstance(value, (tuple, list)):
        return [shapes(v) for v in value]
    if isinstance(value, dict):  # a forward's named outputs (Hugging Face's last_hidden_state, pooler_output)
        return {str(k): shapes(v) for k, v in value.items()}
    if value is None:
        return "None"
    if isinstance(value, (str, int, float, bool)):  # a string input of a forward, an int from x.size(0)
        return repr(value)
    return type(value).__name__


def format_shape(s: Any) -> str:
    if isinstance(s, tuple):
        return "(" + ", ".join(map(str, s)) + ("," if len(s) == 1 else "") + ")"
    if isinstance(s, list):
        return ", ".join(format_shape(x) for x in s)
    if isinstance(s, dict):
        return ", ".join(f"{k}: {format_shape(v)}" for k, v in s.items())
    return str(s)


@dataclass
class Call:
    """One module call: where it sits, what went in and out, and how long it took."""

    path: str
    type: str
    depth: int
    inputs: list = field(default_factory=list)
    output: Any = None
    ms: float = 0.0
    mult_adds: Any = 0  # an int, or an expression of symbolic sizes (see runtime.cost)
    ran_in: str | None = None  # under a plan: the kernel that did this call's work, where another one did

    def to_json(self) -> dict:
        data = {k: (v if isinstance(v, int) else str(v)) if k == "mult_adds" else v for k, v in asdict(self).items()}
        if self.ran_in is None:
            del data["ran_in"]
        return data


class ShapeTrace:
    """Record every module call inside ``with ShapeTrace(model) as trace: model(x)``; a call that passes
    inputs by keyword, ``model(x, mask=m)``, gives them as ``kwargs`` (forward hooks see the positional ones)."""

    def __init__(self, model: Module, kwargs: dict[str, Any] | None = None):
        self.model = model
        self.kwargs = dict(kwargs or {})
        self.calls: list[Call] = []
        self.modules: list[Module | None] = []  # the module of each call (None for a functional op)
        self._stack: list[tuple[Call, float, Module, list]] = []
        self._handles: list = []
        self._made: dict[int, tuple[Any, Call, Module]] = {}  # id(output) -> (weakref, its call, its module)

    def __enter__(self) -> ShapeTrace:
        from .ir import observe_ops

        self._paths = {}
        for path, module in self.model.named_modules():
            self._paths[id(module)] = path
            self._handles.append(module.register_forward_pre_hook(self._pre(path or "(root)")))
            self._handles.append(module.register_forward_hook(self._post))
        self._token = observe_ops(self._op)
        return self

    def _op(self, module: Module, node, args: tuple, kwargs: dict, result: Any, ms: float) -> None:
        """A functional op inside a custom forward: recorded like a module call, named after its node."""
        base = self._paths.get(id(module), "")
        target = node.target.removeprefix("operator.")
        kind = f".{target}()" if node.op == "call_method" else target
        call = Call(f"{base}.{node.name}" if base else node.name, kind, len(self._stack),
                    [shapes(a) for a in args if hasattr(a, "shape")], shapes(result), ms,
                    op_mult_adds(node.target, args, kwargs, result))
        self.calls.append(call)
        self.modules.append(None)
        note_call((call, node.position or module.__dict__.get("_spec_position")))

    @property
    def failed_at(self) -> Call | None:
        """The innermost call still open: where an exception in the forward was raised."""
        return self._stack[-1][0] if self._stack else None

    @property
    def failed_module(self) -> Module | None:
        """The module of ``failed_at``."""
        return self._stack[-1][2] if self._stack else None

    def place(self, e: NNSpecError) -> NNSpecError:
        """Name the module an error in the forward came from, and where the model file defines it."""
        call = self.failed_at
        if call is not None:
            e.path = f"{call.path} ({call.type})" + (f" {e.path}" if e.path else "")
            if e.position is None:
                e.position = self.failed_module.__dict__.get("_spec_position")
            sources = self._stack[-1][3]
            if isinstance(e, ShapeError) and sources and "its input comes from" not in e.message:
                where = []
                for source, module in sources:
                    pos = module.__dict__.get("_spec_position")
                    at = f", line {pos.line}" if pos is not None and pos.line is not None else ""
                    where.append(f"{source.path} ({source.type}{at}), output {format_shape(source.output)}")
                e.message += f" (its input comes from {'; '.join(where)})"
        return e

    def _source(self, value: Any) -> tuple[Call, Module] | None:
        """The module call whose output ``value`` is (while that array is alive)."""
        entry = self._made.get(id(value))
        if entry is None or entry[0]() is not value:
            return None
        return entry[1], entry[2]

    def __exit__(self, *exc) -> None:
        from .ir import stop_observing

        for h in self._handles:
            h.remove()
        self._handles.clear()
        stop_observing(self._token)

    def _pre(self, path: str):
        def hook(module: Module, args: tuple) -> None:
            given = (*args, *self.kwargs.values()) if module is self.model and not self._stack else args
            call = Call(path, module._get_name(), len(self._stack), [shapes(a) for a in given])
            self.calls.append(call)
            self.modules.append(module)
            sources = [s for s in map(self._source, args) if s is not None]
            self._stack.append((call, time.perf_counter(), module, sources))

        return hook

    def _post(self, module: Module, args: tuple, output: Any) -> None:
        call, start, _, _ = self._stack.pop()
        call.ms = (time.perf_counter() - start) * 1e3
        call.output = shapes(output)
        call.mult_adds = module_mult_adds(module, output, args)
        note_call((call, module.__dict__.get("_spec_position")))
        if hasattr(output, "shape"):
            try:
                self._made[id(output)] = (weakref.ref(output), call, module)
            except TypeError:  # an array type without weak references: no provenance for it
                pass

    def table(self) -> list[list[str]]:
        return table(self.calls)


def with_subtotals(calls: list[Call]) -> list[Call]:
    """The calls (in call order, nested ones after their caller, one level deeper) with each one's mult-adds
    counting those of the calls nested in it, as its time does: a container's are its contents', the root's
    the model's total. Leaf layers and ops keep their own. The calls given are not changed."""
    out = [replace(c) for c in calls]
    open_calls: list[Call] = []
    for own, call in zip(calls, out):
        while open_calls and open_calls[-1].depth >= call.depth:
            open_calls.pop()
        for caller in open_calls:
            caller.mult_adds = caller.mult_adds + own.mult_adds
        open_calls.append(call)
    return out


def table(calls: list[Call]) -> list[list[str]]:
    """Rows of (indented path, type, input shapes, output shape, ms) for printing."""
    rows = [["module", "type", "input", "output", "ms"]]
    for c in calls:
        rows.append(["  " * c.depth + c.path, c.type, "; ".join(format_shape(s) for s in c.inputs),
                     format_shape(c.output), f"{c.ms:.3f}" if c.ran_in is None else
                     "not run" if c.ran_in == "not run" else f"in {c.ran_in}"])
    return rows


def profile_table(rows: list[dict]) -> list[list[str]]:
    """Rows of a plan's profile (``nnspec.plan.timing.profile_rows``) for printing."""
    out = [["kernel", "kind", "ms", "share", "mult-adds", "GFLOP/s", "of peak"]]
    for r in rows:
        out.append([r["kernel"], r["kind"], f"{r['ms']:.3f}", f"{r['share']:.1%}", f"{r['mult_adds']:,}",
                    f"{r['gflops']:.1f}" if r["gflops"] else "--", f"{r['of_peak']:.0%}" if r["gflops"] else "--"])
    return out


def render(rows: list[list[str]], right: set[int] = frozenset()) -> str:
    """Rows as aligned columns, the first row a header underlined with dashes."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def line(r: list[str]) -> str:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        return "  ".join(cells).rstrip()

    return "\n".join([line(rows[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in rows[1:]])
