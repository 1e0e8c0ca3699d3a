"""``nnspec.compile``: a model, for given input shapes, dtype and mode, as one flat list of kernel calls.

    plan = nnspec.compile(model, [(8, 3, 224, 224)])
    y = plan(x)                       # the same result as model(x)
    y, times = plan.run(x, profile=True)

Compiling records the forward once on shape-only arrays (``record``), then runs the passes
(``passes``) over what it recorded. Running a plan is one loop over prepared steps: no module tree
walk, no hooks, no graph interpretation, no shape checks (they were made when it was compiled).

A plan reads the model's parameters and buffers when it runs, except what a pass computed from them
when it was compiled (BatchNorm folded into a convolution, constants). It recompiles by itself when
nnspec sees the model's state or mode change (``load_state_dict``, ``to``, ``train``/``eval``, setting
``training``, assigning a parameter or buffer); after writing into a parameter's array by hand, or
changing a layer's hyperparameters, call ``refresh()``. Compiling records on a shape-only clone of the
model, so the model may be used meanwhile. Hooks are not called by a plan: use the model itself to
observe calls. A module with submodules and its own Python forward can't be seen into: compiling it
raises PlanError (``nnspec run`` then runs the model's own forward, and says why).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy

from ..errors import NNSpecError, NNSpecRuntimeError, ShapeError
from ..inputs import bind_call
from ..ir import observe_ops, stop_observing
from ..ir.interpreter import _shape as describe_value
from ..nn import Module
from ..nn.lazy import first_call_pending, materialize
from ..nn.module import RECORDER, _is_array, state_version
from ..runtime.backend import get_array_module, resolve_dtype, synchronize
from ..runtime.meta import MetaArray, SymbolicValueError
from ..runtime.tensor import array_module
from ..static import call_ends
from ..trace import Call, ShapeTrace
from ..runtime.kernels.conv_nhwc import METHODS
from ..runtime.kernels.parallel import single_threaded_blas, threads
from .kernels import Fused, FusedConv, FusedConvPool, FusedSeparable
from .passes import PASSES, _assign
from .record import PlanError, Program, Recorder, Ref, Step, map_nested, refs_in, resolve, shape_only_clone


@dataclass
class Signature:
    """What a plan is made for: per positional input, an array's (shape, dtype) or a value (a string
    choosing a ModuleDict entry, say); and the named non-array inputs."""

    inputs: tuple
    named: tuple

    @classmethod
    def of(cls, inputs: Sequence[Any], named: dict | None) -> Signature:
        return cls(tuple((tuple(int(s) for s in x.shape), str(x.dtype)) if _is_array(x) else ("value", x)
                         for x in inputs), tuple(sorted((named or {}).items(), key=lambda kv: kv[0])))

    def key(self) -> tuple:
        return tuple(i if i[0] != "value" else ("value", type(i[1]).__name__, repr(i[1])) for i in self.inputs) \
            + tuple((k, type(v).__name__, repr(v)) for k, v in self.named)


# the convolution methods a plan may be told to use wherever they apply: "nchw" is the NCHW kernels alone
# (no channels-last layout), the others conv_nhwc's
CONV_METHODS = ("nchw",) + METHODS

# a step's Python errors (NumPy refusing a write into a broadcast view): nnspec errors, as a forward's are
_PYTHON_ERRORS = (ValueError, TypeError, IndexError, KeyError, ArithmeticError, AttributeError)


class Compiled:
    """One signature's program, ready to run."""

    def __init__(self, program: Program, calls: list[Call], version: int):
        self.program = program
        self.calls = calls
        self.version = version
        self.runners = [_runner(step) for step in program.steps]
        self.frees = program.frees or [[] for _ in program.steps]
        state = {id(read()) for read in program.state.values()}  # a parameter returned stays itself, as in torch
        self.constant_ids = {id(_owner(v)) for v in program.constants.values()} - state
        self.own_threads = _own_threads(program)
        for step in program.steps:  # channels-last convolutions' weights, in the form each method multiplies
            if isinstance(step.fn, (FusedConv, FusedConvPool, FusedSeparable)):
                step.fn.prepare_weights()

    def run(self, inputs: Sequence[Any], profile: bool = False) -> tuple[Any, list[float] | None]:
        p = self.program
        env: list[Any] = [None] * p.slots
        for s, x in zip(p.inputs, [x for x in inputs if _is_array(x)]):
            env[s] = x
        for s, read in p.state.items():
            env[s] = read()
        for s, v in p.constants.items():
            env[s] = v
        times: list[float] | None = [] if profile else None
        # arrays a forward makes from sizes (torch.arange) are made where the plan runs; a plan that splits its
        # batch over nnspec's threads runs with single-threaded BLAS (see _own_threads)
        blas = single_threaded_blas if self.own_threads else contextlib.nullcontext()
        with array_module(p.xp), blas:
            for step, run, free in zip(p.steps, self.runners, self.frees):
                try:
                    if profile:  # a device queues its kernels: each one's time is to its end
                        start = time.perf_counter()
                        run(env)
                        synchronize(p.xp)
                        times.append((time.perf_counter() - start) * 1e3)
                    else:
                        run(env)
                except NNSpecError as e:  # placed where the model file writes the step's op or layer
                    raise _placed(e, step, env) from None
                except _PYTHON_ERRORS as e:  # what the interpreter turns into nnspec errors, as it does
                    raise ShapeError(f"{step.kind}: {type(e).__name__}: {e}", path=step.name,
                                     position=step.position) from None
                except MemoryError:
                    raise NNSpecRuntimeError(f"{step.kind}: out of memory", path=step.name,
                                             position=step.position) from None
                for s in free:
                    env[s] = None
        out = resolve(p.output, env)
        if self.constant_ids:  # a constant leaving the plan: the caller gets a copy of it, each run its own
            out = map_nested(out, lambda v: v.copy() if _is_array(v) and id(_owner(v)) in self.constant_ids else v)
        return out, times


def _own_threads(program: Program) -> bool:
    """Whether the plan runs with single-threaded BLAS, its kernels splitting the batch over nnspec's threads
    themselves: where NumPy computes on more than one core, the inputs are batches of two or more and
    convolutions run channels-last (each then does half the batch per thread). Mixing the two kinds of
    threads costs more than either: OpenBLAS's threads spin for a while after each matmul (about 0.1 s
    unless OPENBLAS_THREAD_TIMEOUT was set before NumPy was loaded) and take the cores from nnspec's. Measured
    on 2 cores, ResNet-18 at batch 8: 132-141 ms this way whatever was imported first, against 138 (nnspec
    first) or 178-226 ms (NumPy first) with the threads mixed."""
    if getattr(program.xp, "__name__", "") != "numpy" or threads() < 2:
        return False
    if not any(isinstance(s.fn, (FusedConv, FusedConvPool, FusedSeparable)) and s.fn.method for s in program.steps):
        return False
    batches = [program.shapes[s][0][0] for s in program.inputs if program.shapes[s][0]]
    return bool(batches) and min(batches) >= 2


def _placed(e: NNSpecError, step: Step, env: list) -> NNSpecError:
    """An error a step raised, placed as the interpreter places it: at the op's line in the forward (the
    message naming the op and what it was given) or at the layer's entry in the model file."""
    if e.position is not None and e.position.line is not None:
        return e
    if step.position is not None:
        e.position = step.position
    if step.module is not None:  # a layer: its path
        e.path = e.path or step.name
        return e
    e.path = e.path or (step.name.rsplit(".", 1)[0] if "." in step.name else "(root)")  # the forward's module
    if step.kind != "check":  # an op of a custom forward: "expand: ..." becomes ".expand() on (2, 3), 10: ..."
        own = step.kind.strip(".()").split(".")[-1] + ": "  # the op's own name, as the interpreter strips it
        message = e.message.removeprefix(own) if e.message.startswith(own) else e.message
        given = ", ".join(describe_value(v) for v in resolve(step.args, env))
        e.message = f"{step.kind} on {given}: {message}" if given else f"{step.kind}: {message}"
    return e


def _owner(a: Any) -> Any:
    """The array that owns ``a``'s memory (NumPy and CuPy keep it as ``base``)."""
    base = getattr(a, "base", None)
    return a if base is None else base


def _runner(step: Step):
    """``step`` as a function of the slot list, with its argument lists prepared once."""
    fn, out = step.fn, step.out
    args, kwargs = list(step.args), step.kwargs
    # (slot 0 is falsy: whether there is a Ref inside is asked of the Refs themselves, not their slot numbers)
    flat = all(isinstance(a, Ref) or not refs_in(a) for a in args) and not refs_in(kwargs)
    if flat:
        refs = [(i, a.slot) for i, a in enumerate(args) if isinstance(a, Ref)]
        if len(refs) == 1 and len(args) == 1 and not kwargs and isinstance(out, Ref):
            (_, src), dst = refs[0], out.slot

            def one(env: list) -> None:
                env[dst] = fn(env[src])
            return one

        def call(env: list) -> None:
            a = args.copy()
            for i, s in refs:
                a[i] = env[s]
            result = fn(*a, **kwargs)
            if isinstance(out, Ref):
                env[out.slot] = result
            elif out is not None:
                _assign(out, result, env)
        return call

    def nested(env: list) -> None:
        result = fn(*resolve(tuple(args), env), **resolve(kwargs, env))
        if out is not None:
            _assign(out, result, env)
    return nested


class Plan:
    """A model compiled per input signature (see the module's doc). Call it like the model."""

    def __init__(self, model: Module, passes: dict[str, bool] | None = None, named: dict | None = None,
                 names: Sequence[str | None] | None = None, conv_method: str | None = None):
        unknown = sorted(set(passes or {}) - set(PASSES))
        if unknown:
            raise NNSpecRuntimeError(f"unknown pass(es) {', '.join(unknown)}; the passes are {', '.join(PASSES)}")
        if conv_method is not None and conv_method not in CONV_METHODS:
            raise NNSpecRuntimeError(f"unknown convolution method {conv_method!r}; the methods are "
                                     f"{', '.join(CONV_METHODS)}")
        self.conv_method = conv_method
        self.model = model
        self.passes = {name: (passes or {}).get(name, True) for name in PASSES}
        self.named = dict(named or {})
        self.names = None if names is None else list(names)  # the input each array is for (inputs.bind_call)
        self._compiled: dict[tuple, Compiled] = {}

    def __repr__(self) -> str:
        off = [n for n, on in self.passes.items() if not on]
        return f"Plan({self.model._get_name()}, {len(self._compiled)} signature(s)" + \
            (f", passes off: {', '.join(off)})" if off else ")")

    def __call__(self, *inputs: Any) -> Any:
        return self.run(*inputs)[0]

    def run(self, *inputs: Any, profile: bool = False) -> tuple[Any, list[float] | None]:
        """The output, and where ``profile`` is set, each step's time in ms."""
        return self.compiled(inputs).run(inputs, profile)

    def refresh(self) -> None:
        """Forget every compiled signature (after writing into the model's arrays by hand)."""
        self._compiled.clear()

    def compiled(self, inputs: Sequence[Any]) -> Compiled:
        """The program for these inputs' signature, compiled now if it is new or the state changed."""
        sig = Signature.of(inputs, self.named)
        key = sig.key()
        found = self._compiled.get(key)
        if found is not None and found.version == state_version():
            return found
        if found is not None:
            self._compiled.clear()
        found = self._compiled[key] = self._compile(sig, get_array_module(*[x for x in inputs if _is_array(x)]))
        return found

    def compile(self, shapes: Sequence[Sequence[int]], dtype: Any = "float32") -> Compiled:
        """Compile for inputs of these shapes (each of ``dtype``) ahead of the first call."""
        dt = resolve_dtype(dtype)
        fakes = [MetaArray(tuple(int(s) for s in shape), dt) for shape in shapes]
        sig = Signature.of(fakes, self.named)
        found = self._compiled[sig.key()] = self._compile(sig, _array_module_of(self.model))
        return found

    # ------------------------------------------------------------------ compiling
    def _compile(self, sig: Signature, xp: Any) -> Compiled:
        given = [MetaArray(*i) if i[0] != "value" else i[1] for i in sig.inputs]
        if first_call_pending(self.model):  # lazy modules make their parameters at their first call: before recording
            inputs = [x for x in given if isinstance(x, MetaArray)]
            args, kwargs = bind_call(self.model, inputs, self.named, self.names) if len(inputs) == len(given) \
                else (given, {})
            with ShapeTrace(self.model, kwargs) as trace:
                try:
                    materialize(self.model, args, kwargs)
                except NNSpecError as e:
                    raise trace.place(e) from None
        version = state_version()
        clone, readers, originals = shape_only_clone(self.model)
        inputs = [x for x in given if isinstance(x, MetaArray)]
        args, kwargs = bind_call(clone, inputs, self.named, self.names) if len(inputs) == len(given) else (given, {})
        paths = {id(m): path for path, m in clone.named_modules()}
        with ShapeTrace(clone, kwargs) as trace:
            recorder = Recorder(trace, readers, paths, originals)
            slots = [recorder.slot(x) for x in inputs]
            token, op_token = RECORDER.set(recorder), observe_ops(recorder.op_call)
            try:
                output = clone(*args, **kwargs)
            except SymbolicValueError as e:
                raise PlanError(f"this forward cannot be planned ahead: {e}") from None
            except NNSpecError as e:
                raise trace.place(e) from None
            finally:
                stop_observing(op_token)
                RECORDER.reset(token)
            program = recorder.program(slots, output)
        program.xp = xp
        program.conv_method = self.conv_method
        with array_module(xp):  # arrays a forward makes from sizes (torch.arange) are made where the plan runs
            for name, fn in PASSES.items():
                if self.passes[name]:
                    fn(program)
        calls = [_copy_call(c) for c in trace.calls]
        return Compiled(program, calls, version)

    # ------------------------------------------------------------------ reading a plan
    def steps(self, inputs: Sequence[Any] | None = None) -> list[Step]:
        """The steps of the (only, or ``inputs``') compiled signature."""
        return self._one(inputs).program.steps

    def _one(self, inputs: Sequence[Any] | None) -> Compiled:
        if inputs is not None:
            return self.compiled(inputs)
        if len(self._compiled) != 1:
            raise NNSpecRuntimeError(f"this plan has {len(self._compiled)} compiled signatures; give the inputs")
        return next(iter(self._compiled.values()))


def _array_module_of(model: Module) -> Any:
    for p in model.parameters():
        return get_array_module(p.data)
    for b in model.buffers():
        return get_array_module(b)
    return get_array_module()


def _copy_call(call: Call) -> Call:
    """A shallow copy of a trace record (``copy.copy``'s generic path costs several times more, per record)."""
    twin = object.__new__(Call)
    twin.__dict__.update(call.__dict__)
    return twin


def timed_calls(compiled: Compiled, times: Sequence[float]) -> list[Call]:
    """The shape trace's records with the time of the steps that did each one's work. A record whose
    work a fused kernel did names it (``ran_in``, the kernel's first record's path); one no step did
    (an identity dropped, an op computed when the plan was compiled) says "not run"; the records inside a layer
    that runs as one step (a TransformerEncoder's layers) name that layer. A container's time is the sum of what
    it contains."""
    calls = [_copy_call(c) for c in compiled.calls]
    own = [0.0] * len(calls)
    done = set()
    for step, ms in zip(compiled.program.steps, times):
        if step.calls and 0 <= step.calls[0] < len(calls):
            own[step.calls[0]] += ms
            done.add(step.calls[0])
            for i in step.calls[1:]:
                if 0 <= i < len(calls) and i not in done:
                    calls[i].ran_in = calls[step.calls[0]].path
    # each record's time with what it contains, from one pass from the back: its own and its direct children's
    n, ends, total = len(calls), call_ends(calls), list(own)
    for i in range(n - 1, -1, -1):
        j = i + 1
        while j < ends[i]:  # the direct children: each child's end is where the next one starts
            total[i] += total[j]
            j = ends[j]
    for i, c in enumerate(calls):
        c.ms = total[i]
    # a step for a layer made of others (a TransformerEncoder) did its children's work: each record inside
    # such a layer names the outermost one
    inside: list[int] = []  # the records with a step that contain this one, outermost first
    for j in range(n):
        while inside and ends[inside[-1]] <= j:
            inside.pop()
        if inside and j not in done and calls[j].ran_in is None:
            calls[j].ran_in = calls[inside[0]].path
        if j in done:
            inside.append(j)
    for i, c in enumerate(calls):
        if ends[i] == i + 1 and i not in done and c.ran_in is None:
            c.ran_in = "not run"
    return calls


def compile(model: Module, input_shapes: Sequence[Sequence[int]] | None = None, *, dtype: Any = "float32",
            named: dict | None = None, names: Sequence[str | None] | None = None,
            passes: dict[str, bool] | None = None, conv_method: str | None = None) -> Plan:
    """``model`` as an execution plan: compiled now for ``input_shapes`` where given, else per input
    signature on first call. ``passes`` switches passes off by name (``{"fold_batchnorm": False}``, and
    ``{"winograd": False}`` for results as exact as im2col's); ``conv_method`` forces one of
    ``CONV_METHODS`` on every convolution it applies to (the others keep their choice); ``names`` names the
    input each array is for, as ``static.infer``'s does."""
    plan = Plan(model, passes, named, names, conv_method)
    if input_shapes is not None:
        plan.compile(input_shapes, dtype)
    return plan


def record(model: Module, input_shapes: Sequence[Sequence[Any]], dtypes: Sequence[str] | None = None, *,
           named: dict | None = None) -> Program:
    """``model``'s forward for inputs of these shapes recorded as a Program, with no pass run: the steps an
    exporter translates. A size may be symbolic (a ``Dim``): the sizes computed from it are then Dims in the
    steps' arguments (``x.view(N, -1)``)."""
    return record_traced(model, input_shapes, dtypes, named=named).program


def record_traced(model: Module, input_shapes: Sequence[Sequence[Any]], dtypes: Sequence[str | None] | None = None,
                  *, named: dict | None = None, names: Sequence[str | None] | None = None) -> Compiled:
    """``record``'s Program with the shape trace it was recorded with (``Compiled.calls``, which each step's
    ``call`` indexes: its mult-adds, symbolic ones too, and those of the calls inside it). ``names`` names
    the input each shape is for, as ``static.infer``'s does; a dtype of None is float32."""
    plan = Plan(model, {name: False for name in PASSES}, named, names, None)
    dtypes = [dt or "float32" for dt in dtypes or [None] * len(input_shapes)]
    def dtype_of(dt: Any) -> str:  # torch's float names, or an integer or bool input (token ids)
        return str(numpy.dtype(dt)) if numpy.dtype(str(dt)).kind in "iub" else str(resolve_dtype(dt))

    sig = Signature(tuple((tuple(s), dtype_of(dt)) for s, dt in zip(input_shapes, dtypes)),
                    tuple(sorted((named or {}).items(), key=lambda kv: kv[0])))
    return plan._compile(sig, _array_module_of(model))


__all__ = ["CONV_METHODS", "Compiled", "Fused", "Plan", "PlanError", "compile", "record", "record_traced", "timed_calls"]
