"""Static inference: a model's shapes, costs and memory from its input shapes, with nothing computed.

``infer`` runs the model's forward on shape-only arrays (``runtime.meta``):
every layer, functional op and custom forward checks its input as it would
on real data and passes on the shape its rule gives, so a mismatch fails here
with the same placed message as at run time, before any array is allocated.
Sizes may be symbolic (``N,3,H,W``): they stay formulas, and the conditions
the checks had to assume about them are collected (``H >= 32``).

``layer_rows`` turns the result into the rows of a torchinfo-style summary.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy

from .errors import NNSpecError, NNSpecRuntimeError, Position
from .inputs import bind_call, call_inputs
from .nn import Module
from .runtime.backend import resolve_dtype
from .runtime.meta import MetaArray, static_run, track_memory
from .runtime.symbolic import DimLike, assumptions, is_symbolic
from .trace import Call, ShapeTrace, shapes


@dataclass
class Inference:
    """What static inference found: the trace, the output, assumptions on symbols, and memory in bytes.

    A byte count is an int, or None where a symbolic size leaves it open.
    """

    calls: list[Call]
    modules: list[Module | None]
    output: Any
    assumptions: list[str]
    input_bytes: DimLike
    param_bytes: int
    buffer_bytes: int
    activation_peak: int | None  # the most bytes of activations alive at once in the forward
    activation_total: int | None  # the bytes of every array the forward makes
    training: bool = False
    dtype: str = "float32"
    symbols: list[str] = field(default_factory=list)
    peak_call: Call | None = None  # the op or layer call that made the largest array alive at the peak
    peak_position: Position | None = None  # where the model file writes that op or layer
    inputs: list[tuple[str, Any]] = field(default_factory=list)  # the forward's inputs as given: (name, value)

    @property
    def output_shape(self) -> Any:
        return shapes(self.output)

    @property
    def mult_adds(self) -> DimLike:
        """Every call's mult-adds: leaf layers by torchinfo's rule, functional ops by theirs (runtime.cost)."""
        total: DimLike = 0
        for c in self.calls:
            total = total + c.mult_adds
        return total

    @property
    def total_bytes(self) -> int | None:
        """Parameters, buffers, inputs and peak activations: what running the model needs."""
        if self.activation_peak is None or is_symbolic(self.input_bytes):
            return None
        return self.param_bytes + self.buffer_bytes + int(self.input_bytes) + self.activation_peak


def state_bytes(model: Module) -> tuple[int, int]:
    """Bytes of the model's parameters and of its buffers, each shared array once."""
    params = {id(p.data): p.data for p in model.parameters()}
    buffers = {id(b): b for b in model.buffers()}
    return sum(int(a.nbytes) for a in params.values()), sum(int(a.nbytes) for a in buffers.values())


def infer(model: Module, input_shapes: Sequence[Sequence[DimLike]], *, named: dict[str, Any] | None = None,
          dtype: str = "float32", training: bool = False,
          input_dtypes: Sequence[str | None] | None = None,
          names: Sequence[str | None] | None = None) -> Inference:
    """Propagate ``input_shapes`` (ints, or ``Dim`` symbols) through ``model`` without computing anything.

    The model may be shape-only (``nnspec.load(path, meta=True)``, nothing allocated) or real; either way
    its state is not changed. A shape mismatch raises the NNSpecError a run would, placed in the model file.
    Inputs are of ``dtype``, except where ``input_dtypes`` names another for that input (int64 token ids).
    ``names`` names the forward's input each shape is for (None: the next one not given by name; see
    ``inputs.bind_call``); ``named`` gives non-array inputs by name.
    """
    dt = resolve_dtype(dtype)
    was_training = model.training
    model.train(training)
    try:
        kinds = list(input_dtypes or [])
        inputs = [MetaArray(tuple(s), numpy.dtype(kinds[i]) if i < len(kinds) and kinds[i] else dt)
                  for i, s in enumerate(input_shapes)]
        args, kwargs = bind_call(model, inputs, named, names)
        with assumptions() as log, track_memory() as memory, static_run(), ShapeTrace(model, kwargs) as trace:
            try:
                output = model(*args, **kwargs)
            except NNSpecError as e:
                raise trace.place(e) from None
            except RecursionError:
                raise NNSpecRuntimeError("the model nests calls too deeply to follow") from None
    finally:
        model.train(was_training)
    input_bytes: DimLike = 0
    for a in inputs:
        input_bytes = input_bytes + a.nbytes
    param_bytes, buffer_bytes = state_bytes(model)
    exact = not memory.symbolic and not is_symbolic(input_bytes)
    symbols = sorted({name for s in input_shapes for d in s if is_symbolic(d) for name in d.symbols})
    peak_call, peak_position = memory.peak_at if memory.peak_at is not None else (None, None)
    found = _strongest(log.needed())  # the assumptions, less those that others imply
    return Inference(trace.calls, trace.modules, output, found, input_bytes, param_bytes, buffer_bytes,
                     memory.peak if exact else None, memory.total if exact else None, training, str(dt), symbols,
                     peak_call, peak_position, call_inputs(model, args, kwargs))


def _strongest(log: list[str]) -> list[str]:
    """The assumptions, a symbol's lower bounds (H >= 4, then H >= 32) kept only at their strongest."""
    best: dict[str, int] = {}
    for text in log:
        name, op, value = text.partition(" >= ")
        if op and name.isidentifier() and value.isdigit():
            best[name] = max(best.get(name, 0), int(value))
    out, shown = [], set()
    for text in log:
        name, op, value = text.partition(" >= ")
        if op and name.isidentifier() and value.isdigit():
            if name in shown:
                continue
            shown.add(name)
            text = f"{name} >= {best[name]}"
        out.append(text)
    return out


def check_memory(inference: Inference, limit: int | None, what: str = "the memory free",
                 model: Module | None = None) -> None:
    """Refuse a run that would need more than ``limit`` bytes, before anything is allocated. Where the
    activations are most of the need, the error is placed at the op or layer that made the largest array
    alive at their peak (a forward's line, a layer's entry); else at the model's file, where ``model`` was
    built from one."""
    need = inference.total_bytes
    if limit is None or need is None or need <= limit:
        return
    call = inference.peak_call
    at = f", the largest made by {call.path} ({call.type})" if call is not None and inference.activation_peak else ""
    mostly = inference.activation_peak * 2 >= need
    position = inference.peak_position if mostly else None
    raise NNSpecRuntimeError(
        f"running this model needs {need:,} bytes (parameters {inference.param_bytes:,}, buffers "
        f"{inference.buffer_bytes:,}, inputs {int(inference.input_bytes):,}, activations at peak "
        f"{inference.activation_peak:,}{at}); the limit is {limit:,} bytes ({what})",
        position=position if position is not None and position.line is not None else _file_of(model),
    )


def _file_of(model: Module | None) -> Position | None:
    where = model.__dict__.get("_spec_position") if model is not None else None
    return Position(file=where.file) if where is not None else None


# --------------------------------------------------------------------------- summary rows


@dataclass
class Row:
    """One line of the summary table: a module call, or a functional op with a cost."""

    name: str
    type: str
    depth: int
    output: Any
    params: int | None  # None: shared, counted where it was first seen
    trainable: int
    kernel: list[int] | int | None
    mult_adds: DimLike
    is_leaf: bool
    is_op: bool = False
    again: bool = False  # the module was called before (torchinfo's "recursive")
    hidden: bool = False  # deeper than --depth: folded into its ancestor's row

    def to_json(self) -> dict:
        return {
            "name": self.name, "type": self.type, "depth": self.depth, "output": _json(self.output),
            "params": self.params, "trainable": self.trainable, "shared": self.params is None,
            "called_before": self.again,
            "kernel": self.kernel, "mult_adds": _json(self.mult_adds), "op": self.is_op,
        }


def _json(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_json(x) for x in v]
    return str(v) if is_symbolic(v) else v


def _kernel(module: Module) -> list[int] | int | None:
    """The module's kernel_size as torchinfo shows it: a list, or the int a pooling layer keeps."""
    k = getattr(module, "kernel_size", None)
    if k is None:
        return None
    return [int(v) for v in k] if isinstance(k, (tuple, list)) else int(k)


def layer_rows(inference: Inference, depth: int | None = None) -> list[Row]:
    """torchinfo's rows: one per module call in call order, plus functional ops that cost mult-adds.

    A module's parameter count is what none of the modules called inside it hold (torchinfo's
    "leftover"), so the column sums to the total; a parameter seen before (a shared module or tied
    weight) is counted once and its later rows say so. Below ``depth``, rows fold into the row above:
    its parameters and mult-adds include theirs.
    """
    calls, modules = inference.calls, inference.modules
    inside = _Inside(calls, modules)
    seen: set[int] = set()
    called: set[int] = set()
    rows: list[Row] = []
    for i, (call, module) in enumerate(zip(calls, modules)):
        if module is None:
            if call.mult_adds == 0:
                continue
            rows.append(Row(call.path.rsplit(".", 1)[-1], call.type, call.depth, call.output, 0, 0, None,
                            call.mult_adds, True, is_op=True))
            continue
        mine = inside.own_parameters(i)
        # a module called again, or one whose parameters all were counted already: torchinfo's "(recursive)"
        again = id(module) in called
        called.add(id(module))
        shared = bool(mine) and (again or all(id(p) in seen for p in mine))
        fresh = [] if again else [p for p in mine if id(p) not in seen]
        seen |= {id(p) for p in mine}
        rows.append(Row(
            call.path.rsplit(".", 1)[-1] if call.path != "(root)" else call.path,
            call.type, call.depth, call.output,
            None if shared else sum(p.numel() for p in fresh),
            sum(p.numel() for p in fresh if p.requires_grad),
            _kernel(module), call.mult_adds, not module._modules, again=again,
        ))
    if depth is not None:
        _fold(rows, depth)
    return rows


def call_ends(calls: list[Call]) -> list[int]:
    """For each record of a trace, the index of the first record after it that is not inside it (records
    nest by depth), in one pass."""
    ends, open_ = [len(calls)] * len(calls), []  # open_: records whose end is not found yet, innermost last
    for i, c in enumerate(calls):
        while open_ and calls[open_[-1]].depth >= c.depth:
            ends[open_.pop()] = i
        open_.append(i)
    return ends


class _Inside:
    """Which of a called module's parameters none of the modules called inside that call hold (torchinfo's
    "leftover"), in O(the module's own part of the tree) per call, not O(everything inside it).

    The module's tree is walked in ``parameters()``'s order, skipping each child called inside the call (its
    parameters are the inner calls'). A parameter met on the way belongs to the call unless a module called
    inside holds it too, which can only be where it is held twice or its holder is reachable two ways (a
    shared parameter or module): only then is the set of the inner calls' parameters made, once per call."""

    def __init__(self, calls: list[Call], modules: list[Module | None]):
        self.modules = modules
        self.ends = call_ends(calls)
        self.called_at: dict[int, list[int]] = {}  # id(module) -> the indices of its calls, ascending
        for j, m in enumerate(modules):
            if m is not None:
                self.called_at.setdefault(id(m), []).append(j)
        self.parents: dict[int, int] = {}  # id(module) -> how many times it is registered as a child
        self.parent_of: dict[int, Module] = {}
        self.holders: dict[int, int] = {}  # id(parameter) -> how many times it is registered
        visited: set[int] = set()
        stack = [m for m in modules if m is not None]
        while stack:
            m = stack.pop()
            if id(m) in visited:
                continue
            visited.add(id(m))
            for p in m._parameters.values():
                if p is not None:
                    self.holders[id(p)] = self.holders.get(id(p), 0) + 1
            for c in m._modules.values():
                if c is not None:
                    self.parents[id(c)] = self.parents.get(id(c), 0) + 1
                    self.parent_of[id(c)] = m
                    stack.append(c)
        self.single: dict[int, bool] = {}  # id(module) -> it and every module above it have one parent
        self.exact: dict[int, set[int]] = {}  # call -> the ids of its inner calls' parameters (made where needed)

    def called_inside(self, module: Module, i: int) -> bool:
        at = self.called_at.get(id(module))
        if not at:
            return False
        k = bisect.bisect_right(at, i)
        return k < len(at) and at[k] < self.ends[i]

    def _single_path(self, module: Module) -> bool:
        chain, m, result = [], module, True
        while id(m) not in self.single:
            chain.append(id(m))
            if self.parents.get(id(m), 0) > 1:
                result = False
                break
            parent = self.parent_of.get(id(m))
            if parent is None:
                break
            m = parent
        else:
            result = self.single[id(m)]
        for key in chain:
            self.single[key] = result
        return result

    def _inner(self, i: int) -> set[int]:
        found = self.exact.get(i)
        if found is None:
            found = self.exact[i] = set()
            done: set[int] = set()
            for j in range(i + 1, self.ends[i]):
                m = self.modules[j]
                if m is not None and id(m) not in done:
                    done.add(id(m))
                    found |= {id(p) for p in m.parameters()}
        return found

    def own_parameters(self, i: int) -> list:
        """``[p for p in module.parameters() if no module called inside call i holds p]``."""
        module = self.modules[i]
        if self.called_inside(module, i):  # called again inside its own call: every parameter is an inner call's
            return []
        out, seen_params, seen_modules, stack = [], set(), set(), [module]
        while stack:
            m = stack.pop()
            if id(m) in seen_modules:
                continue
            seen_modules.add(id(m))
            for p in m._parameters.values():
                if p is None or id(p) in seen_params:
                    continue
                seen_params.add(id(p))
                simple = self.holders.get(id(p), 1) == 1 and self._single_path(m)
                if simple or id(p) not in self._inner(i):
                    out.append(p)
            stack.extend(reversed([c for c in m._modules.values()
                                   if c is not None and not self.called_inside(c, i)]))
        return out


def _fold(rows: list[Row], depth: int) -> None:
    """Hide rows deeper than ``depth``, adding their params and mult-adds to the visible row above."""
    top: Row | None = None
    for r in rows:
        if r.depth <= depth:
            top = r
            continue
        r.hidden = True
        if top is not None:
            top.params = (top.params or 0) + (r.params or 0)
            top.trainable += r.trainable
            top.mult_adds = top.mult_adds + r.mult_adds
            top.is_leaf = True
