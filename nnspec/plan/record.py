"""Recording a model's forward, for one input signature, as a flat list of steps.

The model runs once on shape-only inputs (``MetaArray``), with its parameters and buffers swapped
for shape-only twins, so recording computes nothing and changes no state. Every call of a leaf
module (a layer with no children and no custom forward) and every op of a custom forward becomes a
``Step``; containers and custom forwards leave no step of their own: they are inlined. Each array
the forward makes gets a slot; a step names its inputs by ``Ref(slot)``. Everything else an op is
given (sizes from ``x.size(0)``, dims, flags) is a constant of this signature.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import NNSpecRuntimeError
from ..nn import Module, Parameter, UserModule
from ..nn.module import _is_array
from ..nn.user import base_class, has_custom_forward
from ..runtime import tensor as T
from ..runtime.meta import MetaArray


class PlanError(NNSpecRuntimeError):
    """A forward that cannot be planned ahead (it depends on values only a run knows)."""


@dataclass(frozen=True)
class Ref:
    """An argument or result that is the array in slot ``slot``."""

    slot: int


@dataclass(eq=False)
class Step:
    """One kernel call of the plan: ``fn(*args, **kwargs)``, its arrays given as ``Ref``s."""

    fn: Callable
    args: tuple
    kwargs: dict
    out: Any  # a Ref, a nested tuple/list of Refs and constants, or None
    name: str  # where it comes from: a module path, or a forward's node ("layer1.0.add")
    kind: str  # the layer's class name, or the op ("relu", ".view()", "iadd")
    module: Module | None = None  # the leaf module, for a layer's step
    call: int = -1  # the index of its record in the shape trace
    mutates: int | None = None  # the slot it writes into in place
    pure: bool = True  # no effect but its result: may be folded or dropped
    mult_adds: int = 0
    calls: list[int] = field(default_factory=list)  # trace records whose work it does (after fusion)
    position: Any = None  # where it comes from in the model file (a Position), to place errors raised running it
    dropped: bool = False  # merged into another step by a pass: removed when the pass ends

    def refs(self) -> list[int]:
        """The slots this step reads."""
        return refs_in(self.args) + refs_in(self.kwargs) if self.kwargs else refs_in(self.args)

    def outputs(self) -> list[int]:
        return refs_in(self.out)


def map_nested(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """``value`` with ``leaf`` applied to everything inside its tuples (named ones too), lists, dicts
    and slices: the structures an op's arguments and results come in."""
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(map_nested(v, leaf) for v in value))
    if isinstance(value, (tuple, list)):
        return type(value)(map_nested(v, leaf) for v in value)
    if isinstance(value, dict):
        return {k: map_nested(v, leaf) for k, v in value.items()}
    if isinstance(value, slice):
        return slice(*(map_nested(v, leaf) for v in (value.start, value.stop, value.step)))
    return leaf(value)


def leaves(value: Any) -> Iterator[Any]:
    """Everything inside ``value``'s tuples, lists, dicts and slices, in order."""
    if isinstance(value, (tuple, list)):
        for v in value:
            yield from leaves(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    elif isinstance(value, slice):
        yield from leaves((value.start, value.stop, value.step))
    else:
        yield value


def refs_in(value: Any) -> list[int]:
    """The slots of the Refs inside ``value``, in order (as ``leaves`` finds them: the passes ask this of
    every step several times, so it is a plain loop, not a chain of generators)."""
    out: list[int] = []
    _collect_refs(value, out)
    return out


def _collect_refs(value: Any, out: list[int]) -> None:
    if isinstance(value, Ref):
        out.append(value.slot)
    elif isinstance(value, (tuple, list)):
        for v in value:
            if isinstance(v, Ref):
                out.append(v.slot)
            elif isinstance(v, (tuple, list, dict, slice)):
                _collect_refs(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _collect_refs(v, out)
    elif isinstance(value, slice):
        _collect_refs((value.start, value.stop, value.step), out)


def substitute(value: Any, mapping: dict[int, int]) -> Any:
    """``value`` with every ``Ref(a)`` whose slot is in ``mapping`` replaced by ``Ref(mapping[a])``."""
    return map_nested(value, lambda v: Ref(mapping.get(v.slot, v.slot)) if isinstance(v, Ref) else v)


def resolve(value: Any, env: Any) -> Any:
    """``value`` with every ``Ref`` replaced by the value of its slot in ``env``."""
    return map_nested(value, lambda v: env[v.slot] if isinstance(v, Ref) else v)


@dataclass(eq=False)
class Program:
    """What recording gives and the passes rewrite: steps over numbered slots."""

    steps: list[Step]
    slots: int  # how many
    inputs: list[int]  # the slots the inputs go into, in order
    state: dict[int, Callable[[], Any]]  # slot -> reads a parameter or buffer when the plan runs
    output: Any  # the forward's result: Refs in a structure
    roots: dict[int, int]  # slot -> the slot whose memory it is (itself where it owns its memory)
    shapes: list[tuple] = field(default_factory=list)  # slot -> (shape, dtype), as recorded
    xp: Any = None  # the array module the plan runs on
    constants: dict[int, Any] = field(default_factory=dict)  # slot -> a value computed at compile time
    pool: Any = None  # the arrays its kernels reuse (reuse_memory)
    frees: list[list[int]] | None = None  # per step, the slots to drop after it (reuse_memory)
    views: set[int] = field(default_factory=set)  # slots that view another's memory (not the same array)
    conv_method: str | None = None  # the convolution method forced on every layer it applies to ("nchw": none)

    def root(self, slot: int) -> int:
        """The slot whose memory ``slot`` is (the chain is followed once, then remembered)."""
        root = self.roots.get(slot, slot)
        if root == slot or self.roots.get(root, root) == root:
            return root
        chain = [slot]
        while self.roots.get(root, root) != root:
            chain.append(root)
            root = self.roots[root]
        for s in chain:
            self.roots[s] = root
        return root


_ATTENTION = ("scaled_dot_product_attention", "multi_head_attention_forward")  # random where dropout_p > 0
_INPLACE_OPERATORS = {"iadd", "isub", "imul", "itruediv", "ifloordiv", "imod", "ipow", "imatmul", "iand", "ior", "ixor",
                      "setitem"}
_RANDOM = re.compile(r"dropout|rand|bernoulli|^normal_?$|uniform|multinomial|rrelu|fractional")  # not normalize
# layers that, in train mode, update buffers or draw random numbers (a dropout between RNN layers, RReLU's
# slopes, fractional pooling's samples): their steps are never folded or dropped
_STATEFUL_IN_TRAINING = ("BatchNorm", "InstanceNorm", "Dropout", "RReLU", "FractionalMaxPool", "RNN", "LSTM", "GRU")


def bound_arguments(fn: Callable, args: tuple, kwargs: dict) -> dict[str, Any]:
    """The arguments of a call by parameter name (empty where the signature can't be read or bound)."""
    try:
        return dict(inspect.signature(fn).bind(*args, **kwargs).arguments)
    except (TypeError, ValueError):
        return {}


def _known_forward(module: Module) -> bool:
    """A forward the recorder sees through: a custom forward's graph, or a container's own loop (a subclass
    of a container or a layer without a forward of its own runs its base's)."""
    from ..nn.containers import Sequential

    if has_custom_forward(module):
        return True
    forward = base_class(module).forward
    return forward is Sequential.forward or forward is Module.forward


def is_leaf(module: Module) -> bool:
    """A layer whose own forward does the work: no children and no custom forward, or one of nnspec's layers
    made of others (MultiheadAttention's out_proj, a TransformerEncoderLayer's), recorded as one step. A
    layer subclassed with a forward of its own is no leaf: its graph's ops are the steps."""
    if has_custom_forward(module):
        return False
    return (not module._modules and not isinstance(module, UserModule)) or _is_layer(module)


def _is_layer(module: Module) -> bool:
    return base_class(module).__module__.startswith("nnspec.nn.layers.")


def shape_only_clone(model: Module) -> tuple[Module, dict[int, Callable[[], Any]], dict[int, Module]]:
    """A copy of ``model``'s tree whose parameters and buffers are shape-only twins, to record on:
    the model itself is never touched, so it may run (or compile) in another thread meanwhile.

    Returns the clone, ``{id(twin): a function that reads the real array}``, and ``{id(clone's module):
    the model's module}``. Shared modules, parameters and arrays stay shared in the clone; hooks are
    left out (a plan calls none)."""
    clones: dict[int, Module] = {}
    params: dict[int, Parameter] = {}
    twins: dict[int, MetaArray] = {}
    readers: dict[int, Callable[[], Any]] = {}
    originals: dict[int, Module] = {}

    def twin(array: Any, read: Callable[[], Any]) -> MetaArray:
        t = twins.get(id(array))
        if t is None:
            t = twins[id(array)] = MetaArray(tuple(array.shape), array.dtype)
            readers[id(t)] = read
        return t

    def param(p: Parameter) -> Parameter:
        q = params.get(id(p))
        if q is None:
            q = params[id(p)] = Parameter.__new__(Parameter)
            q.data, q.requires_grad, q.grad = twin(p.data, lambda: p.data), p.requires_grad, None
        return q

    def clone(m: Module) -> Module:
        c = clones.get(id(m))
        if c is None:
            c = clones[id(m)] = object.__new__(type(m))
            originals[id(c)] = m
            d = c.__dict__
            d.update(m.__dict__)
            d["_forward_hooks"], d["_forward_pre_hooks"] = {}, {}
            d["_parameters"] = {n: None if p is None else param(p) for n, p in m._parameters.items()}
            d["_buffers"] = {n: None if b is None else twin(b, lambda m=m, n=n: m._buffers[n])
                             for n, b in m._buffers.items()}
            d["_modules"] = {n: None if ch is None else clone(ch) for n, ch in m._modules.items()}
        return c

    return clone(model), readers, originals


class Recorder:
    """Turns the calls of one forward on shape-only inputs into a Program (see the module's doc)."""

    def __init__(self, trace, readers: dict[int, Callable[[], Any]], paths: dict[int, str],
                 originals: dict[int, Module]):
        self.trace = trace
        self.readers = readers
        self.paths = paths
        self.originals = originals  # the clone's modules -> the model's
        self.values: list[Any] = []  # each slot's shape-only value (kept alive: slots are found by id)
        self.index: dict[int, int] = {}
        self.roots: dict[int, int] = {}
        self.views: set[int] = set()
        self.steps: list[Step] = []
        self.state: dict[int, Callable[[], Any]] = {}
        self.inside_leaf = 0

    def slot(self, value: Any) -> int:
        """A new slot for ``value``. Its root is the slot whose memory it is: the same array where an op
        returned its input (``+=``, ``inplace=True``), the array it views, or else the new slot itself."""
        i = len(self.values)
        same = self.index.get(id(value))
        base = getattr(value, "base", None)
        owner = same if same is not None else self.index.get(id(base), i) if base is not None else i
        self.roots[i] = self.roots[owner] if owner != i else i  # its owner's root: roots are one step away
        if same is None and self.roots[i] != i:
            self.views.add(i)
        self.values.append(value)
        self.index[id(value)] = i
        return i

    def ref(self, value: Any) -> Any:
        """An argument as the plan will give it: arrays as Refs to their slots, the rest as it is."""
        return map_nested(value, self._ref)

    def _ref(self, value: Any) -> Any:
        if isinstance(value, Parameter):
            value = value.data
        if not _is_array(value):
            return value
        i = self.index.get(id(value))
        if i is None:
            reader = self.readers.get(id(value))
            if reader is None:
                raise PlanError(f"an array of size {list(value.shape)} comes from outside the forward")
            i = self.slot(value)
            self.state[i] = reader
        return Ref(i)

    def result(self, value: Any) -> Any:
        """A step's result: every array in it gets a new slot."""
        return map_nested(value, lambda v: Ref(self.slot(v)) if _is_array(v) else v)

    # -- what the model's calls report
    def module_call(self, module: Module, args: tuple, kwargs: dict, impl: Callable) -> Any:
        if self.inside_leaf:
            return impl(*args, **kwargs)
        if not is_leaf(module):
            if not _known_forward(module):
                raise PlanError(f"{module._get_name()} has submodules and a forward written in Python, which a "
                                "plan cannot see into")
            return impl(*args, **kwargs)
        call = len(self.trace.calls)
        a, kw = self.ref(args), self.ref(kwargs)
        self.inside_leaf += 1
        try:
            out = impl(*args, **kwargs)
        finally:
            self.inside_leaf -= 1
        real = self.originals.get(id(module), module)
        kind = base_class(module).__name__  # a renamed layer's (LayerNorm2d's) kernel, and passes, are its base's
        inplace = getattr(module, "inplace", False) is True
        stateful = module.training and (any(k in kind for k in _STATEFUL_IN_TRAINING) or bool(module._modules))
        # fractional max pooling without fixed samples draws them in every call, eval mode too
        stateful = stateful or (kind.startswith("FractionalMaxPool") and getattr(module, "_random_samples", None) is None)
        mutates = a[0].slot if inplace and a and isinstance(a[0], Ref) else None
        self._add(Step(real.forward, a, kw, None, self.paths.get(id(module), "") or "(root)", kind, real, call,
                       mutates, pure=not (stateful or inplace), position=real.__dict__.get("_spec_position")), out)
        return out

    def op_call(self, module: Module, node, args: tuple, kwargs: dict, result: Any, ms: float) -> None:
        if self.inside_leaf:
            return
        target = node.target.removeprefix("operator.")
        name = target.split(".")[-1]
        if node.op == "call_method":
            fn = T.METHODS[node.target]
        elif node.target.startswith("operator."):
            fn = T.OPERATORS[target]
        else:
            fn = T.FUNCTIONS[node.target]
        bound = bound_arguments(fn, args, kwargs)  # inplace= or training= given by position too
        inplace = (node.target.startswith("operator.") and target in _INPLACE_OPERATORS) or \
            (node.op in ("call_method", "call_function") and name.endswith("_")) or bound.get("inplace") is True
        checks = target == "check" and any(_is_array(v) for v in leaves(args))  # assert on values: each run's
        if not inplace and not checks and not any(_is_array(v) for v in leaves(result)):
            return  # a size or a flag: a constant of this signature
        a, kw = self.ref(args), self.ref(kwargs)
        mutates = a[0].slot if inplace and a and isinstance(a[0], Ref) else None
        random = bool(_RANDOM.search(name) or (name in _ATTENTION and bound.get("dropout_p", 0))) \
            and bound.get("training", True) is not False
        base = self.paths.get(id(module), "")
        kind = f".{target}()" if node.op == "call_method" else target
        self._add(Step(fn, a, kw, None, f"{base}.{node.name}" if base else node.name, kind, None,
                       len(self.trace.calls) - 1, mutates, pure=not (inplace or random or checks),
                       position=node.position or module.__dict__.get("_spec_position")), result)

    def _add(self, step: Step, result: Any) -> None:
        step.out = self.result(result)
        step.calls = [step.call]
        call = self.trace.calls[step.call] if 0 <= step.call < len(self.trace.calls) else None
        step.mult_adds = call.mult_adds if call is not None and isinstance(call.mult_adds, int) else 0
        self.steps.append(step)

    def program(self, inputs: list[int], output: Any) -> Program:
        ins = list(inputs)  # the input slots as made (a step that returns its input gives a new slot)
        shapes = [(tuple(v.shape), v.dtype) if _is_array(v) else ((), None) for v in self.values]
        return Program(self.steps, len(self.values), ins, self.state, self.ref(output), self.roots, shapes,
                       views=self.views)

