"""Compile a torch-style ``forward`` (Python text from a model file) into a Graph, never running it.

The text is parsed with ``ast`` and walked once. Everything the compiler can know
is folded at compile time: constants (``math.sqrt(2)``, ``torch.finfo(torch.float16).min``), submodule
lookups, ``for`` loops over ModuleLists, ``range`` or ``enumerate`` (unrolled), and ``if`` tests on
hyperparameters. What is left becomes graph nodes: the ops, and the Python a value only known when the
forward runs needs (``math.sqrt(k.size(-1))``, ``len(x)``, comparisons and ``*`` unpacking of tensors and
sizes). Any construct outside this
language is a CompileError at its file position, and nothing runs.

A mistake does not stop the compiler: it is recorded, and the rest of the forward is checked, so that one run
reports a forward's independent mistakes together (``Compiler.checked``). What a mistake leaves unknown (the
names its statement binds) holds POISON, and a statement that uses POISON is skipped without a word: its error
would only be a consequence of the first.
"""

from __future__ import annotations

import ast
import operator
import re
import reprlib
from dataclasses import dataclass
from typing import Any

from .. import nn
from ..nn.user import CustomForward
from ..errors import CompileError, Consequence, ErrorLog, NNSpecError
from ..runtime import tensor as T
from ..runtime.pyfuncs import MATH_CONSTANTS
from ..runtime.scalars import ERRORS, MAX_SEQ, checked
from ..runtime.symbolic import decide_whether_one, is_symbolic
from ..runtime.values import (ATTRIBUTES, DTYPES, RETURN_TYPES, TORCH_CONSTANTS, UNSUPPORTED_DTYPES, VALUE_TYPES,
                              value_attribute)
from .graph import Graph, Node
from .interpreter import Interpreter
from .program import FunctionCode, Program, parse_program
from .source import ForwardSource

MAX_NODES = 100_000
MAX_STEPS = 1_000_000  # statements and loop iterations unrolled, nodes or not
MAX_VALUE = 100_000  # items of one compile-time value, a nested one counted each time it occurs
PLAIN_CONSTANTS = (int, float, str, bool, type(None))
CONSTANT_TYPES = (*PLAIN_CONSTANTS, *VALUE_TYPES)  # torch.float32, torch.device('cpu'), torch.finfo(...) too


# --------------------------------------------------------------------------- compile-time values


@dataclass(frozen=True)
class Self:
    """``self`` itself."""


@dataclass(frozen=True)
class ModRef:
    """A submodule (or ``self``'s own module when path is '')."""

    module: nn.Module
    path: str


@dataclass(frozen=True)
class StateRef:
    """A parameter or buffer, by dotted path; becomes a get_attr node where it is used."""

    path: str


@dataclass(frozen=True)
class DynRef:
    """An entry of a ModuleDict or ParameterDict chosen by a run-time value (an input string)."""

    container: ModRef
    key: Node


@dataclass(frozen=True)
class Namespace:
    """``F``, ``torch``, ``nn`` or ``torch.nn.functional``: only registry members resolve."""

    name: str


@dataclass(frozen=True)
class Function:
    """A registry op, by the name the user wrote (``F.relu``)."""

    name: str


@dataclass(frozen=True)
class Method:
    """A tensor method bound to a node: ``x.view``."""

    obj: Node
    name: str


@dataclass(frozen=True)
class Spread:
    """``*value`` in a call or a display, where value is known only when the forward runs: spliced in then."""

    value: Node


@dataclass(frozen=True)
class Builtin:
    """A Python builtin the compiler evaluates itself: range, enumerate, len, ..."""

    name: str


@dataclass(frozen=True)
class ListAppend:
    """``feats.append`` on a list built in the forward (the list is known when compiling; its items may be tensors)."""

    items: list

    def __hash__(self) -> int:
        return id(self.items)


@dataclass(frozen=True)
class BoundContainerMethod:
    """``items``/``values``/``keys`` of a ModuleDict or ParameterDict, evaluated at compile time."""

    container: ModRef
    name: str


@dataclass(frozen=True)
class NoOpMethod:
    """A module method that does nothing on nnspec's arrays, called in pasted torch code: an RNN's
    ``flatten_parameters()`` (cuDNN's weight layout)."""

    module: ModRef
    name: str


# module methods a forward may call for their effect in torch, which nnspec has no need of
NO_OP_METHODS = {"flatten_parameters": ("RNN", "LSTM", "GRU")}


class _Return(Exception):
    def __init__(self, value: Any):
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Poison:
    """What a mistake leaves unknown: the value of a name its statement binds (``y = undefined(x)``: y), or of
    an expression that is a mistake, while the expressions beside it are still checked."""

    def __repr__(self) -> str:
        return "<unknown after an error>"


POISON = _Poison()


class _Poisoned(Exception):
    """A statement uses POISON: it is skipped, its error being a consequence of one already recorded."""


class _Enough(Exception):
    """The compiler recorded as many errors as a report holds (ErrorLog.full): it stops looking."""


class BudgetError(CompileError):
    """A limit on the work of compiling one forward was reached (graph nodes, steps, nesting of helpers): the
    compiling stops there, rather than going on to the next statement."""


NAMESPACES = {"F": "F", "torch": "torch", "nn": "nn", "math": "math"}
ALIASES = {"torch.nn.functional": "F", "torch.nn": "nn", "nn.functional": "F"}
BUILTINS = {"range", "enumerate", "len", "zip", "int", "float", "bool", "min", "max", "abs", "tuple", "list",
            "reversed", "round", "isinstance", "dict", "sum", "any", "all", "str", "hasattr", "slice"}
RUNTIME_BUILTINS = {"int", "float", "bool", "len", "min", "max", "abs", "round", "tuple", "list"}  # on run values
REFUSED_NAMES = {"eval", "exec", "compile", "__import__", "open", "getattr", "setattr", "delattr", "globals",
                 "locals", "vars", "input", "print", "breakpoint", "type", "object", "super", "dir"}
_FOLD = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
         ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.BitAnd: operator.and_,
         ast.BitOr: operator.or_, ast.BitXor: operator.xor}
_OPNAME = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv", ast.FloorDiv: "floordiv",
           ast.Mod: "mod", ast.Pow: "pow", ast.MatMult: "matmul", ast.BitAnd: "and_", ast.BitOr: "or_",
           ast.BitXor: "xor"}
_CMP_NAME = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge"}
# what ``value.<name>`` may read where value is computed in the forward (besides tensor methods)
_VALUE_ATTRIBUTES = frozenset(T.TENSOR_ATTRIBUTES).union(*ATTRIBUTES.values(),
                                                         *(t._fields for t in RETURN_TYPES.values()))
_AS_IS = frozenset({Node, *PLAIN_CONSTANTS})  # the types _materialize passes through at once
_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
        ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not, ast.In: lambda a, b: a in b,
        ast.NotIn: lambda a, b: a not in b}


MAX_INLINE = 32  # helper calls nested in one another (a recursive helper stops here)
MAX_DICT_KEYS = MAX_SEQ


@dataclass(frozen=True)
class Leaf:
    """A run-time value a forward is compiled for: an array (or a run-time size), with its shape where the
    forward is compiled per input shape. Every other value of a call (None, numbers, strings, tuples of
    them) is bound as a constant: one compile per way the forward is called."""

    shape: tuple | None = None
    dtype: str | None = None


@dataclass(frozen=True)
class UserFunction:
    """A ``def`` of the model file: a module-level function, or a method bound to a module."""

    code: FunctionCode
    bound: ModRef | None = None  # the module a method is called on


@dataclass(frozen=True)
class DictMethod:
    """``get``/``items``/``keys``/``values``/``pop``/``update``/``setdefault`` of a dict built in the forward
    (and ``copy``/``extend``/``index``/``count`` of a list)."""

    items: dict | list | tuple
    name: str

    def __hash__(self) -> int:
        return id(self.items)


@dataclass(frozen=True)
class ClassOf:
    """``self.__class__``: only its ``__name__`` is read (the module's class name)."""

    name: str


@dataclass(frozen=True)
class Special:
    """A torch function the compiler answers itself: ``torch._assert``, ``torch.jit.is_scripting()``, the type
    ``torch.Tensor`` (for isinstance)."""

    name: str


class NeedsShapes(Exception):
    """A test depends on an input's size: compile again, for the input shapes of the call."""


# what a torch forward calls for its effect under scripting, tracing or compiling: False here, as in eager mode
FALSE_FUNCTIONS = {"torch.jit.is_scripting", "torch.jit.is_tracing", "torch.compiler.is_compiling",
                   "torch._dynamo.is_compiling", "torch.fx._symbolic_trace.is_fx_tracing", "torch.is_grad_enabled"}


# called in reference code for an effect that is not computing: torchvision's API-usage logging
NO_OP_FUNCTIONS = {"_log_api_usage_once"}
SPECIAL_FUNCTIONS = FALSE_FUNCTIONS | {"torch._assert", "torch.Tensor", "torch.jit.annotate"}


class Compiler:
    """Compiles one module's forward for one mode (``training`` is a compile-time constant) and one way of
    calling it: ``binding`` gives each parameter a Leaf (a run-time value: a placeholder) or a constant.
    Without ``binding``, parameters without a default are run-time values and the others take their default."""

    def __init__(self, module: nn.Module, source: ForwardSource | Program, inputs: list[str] | None, training: bool,
                 path: str = "", functions: dict[str, FunctionCode] | None = None, binding: dict | None = None,
                 values: list | None = None):
        self.module = module
        self.program = source if isinstance(source, Program) else parse_program(source.code, source, inputs)
        self.source = self.program.source
        self.training = training
        self.path = path
        self.functions = functions or {}
        self.body, self.inputs = self.program.body, self.program.inputs
        self.binding = binding
        self.shaped = binding is not None and any(isinstance(v, Leaf) and v.shape is not None
                                                  for v in _leaves(binding))
        self.graph = Graph(f"{module._get_name()}.forward")
        self.env: dict[str, Any] = {}
        self.state_nodes: dict[str, Node] = {}
        self.steps = 0
        self.depth = 0  # helper calls being inlined
        self.where: ast.AST | None = None
        self.shapes: dict[int, Leaf] = {}  # id(placeholder) -> its Leaf, where compiled per input shape
        self.values = list(values or [])  # the call's run-time values, in placeholder order (their real shapes)
        self.actual: dict[int, tuple] = {}  # id(placeholder) -> its value's shape (symbolic sizes as they are)
        self.meta: dict[int, Any] = {}  # id(node) -> its shape-only value, where compiled per input shape
        self.meta_next = 0  # the next node of the graph to give a shape-only value
        self.log = ErrorLog()  # the mistakes found so far, raised together at the end (checked)
        self.failed: set[ast.stmt] = set()  # statements with a mistake: skipped where they are reached again
        self.skipped = 0  # statements skipped so far (see inline)
        self.effects: dict[ast.stmt, tuple] = {}  # a statement's _effects, found once

    # ------------------------------------------------------------------ entry

    def compile(self) -> Graph:
        """The forward's graph; its mistakes, all of them, raised together (see ``checked``)."""
        return self.checked(self._compile)

    def _compile(self) -> Graph | _Poison:
        if self.binding is None:
            self.binding = self.default_binding()
        for name, spec in self.binding.items():
            self.env[name] = self.realize(name, spec)
        try:
            self.block(self.body)
            value = None
        except _Return as r:
            value = r.value
        except (_Break, _Continue):
            self.record(self.error("break or continue outside a loop"))
            value = POISON
        if self.log or value is POISON:  # no graph to finish: the errors are the result
            return POISON
        self.graph.create_node("output", "output", (self.materialize(value),), name="output")
        self.graph.lint()
        return self.graph

    def checked(self, work, *args: Any) -> Any:
        """``work(*args)``, then the mistakes it recorded raised together (one CompileError, or a CompileErrors
        in file order). A limit of the compiling reached (BudgetError) ends it; after a mistake, it is left out
        of the report, as the work of going on past the mistake may be what reached it. A forward that needs
        its input shapes is compiled again for them only where it has no mistake so far."""
        try:
            value = work(*args)
        except BudgetError as e:
            if not self.log:
                self.log.add(e)
            value = POISON
        except (_Poisoned, _Enough):
            value = POISON
        except NeedsShapes:
            if self.log:
                raise self.log.error() from None
            raise
        if self.log:
            raise self.log.error()
        if value is POISON:  # unknown only because of mistakes reported elsewhere (a broken def it calls)
            raise Consequence("not compiled: it depends on a mistake reported with this one",
                              path=f"{self.path or '(root)'}.forward", position=self.source.position(1, 0))
        return value

    def record(self, error: CompileError) -> None:
        """Note a mistake and go on (a limit reached is not a mistake to go on from: it is raised again)."""
        if isinstance(error, BudgetError):
            raise error
        self.log.add(error)
        self.step()
        if self.log.full:
            raise _Enough()

    def placed(self, e: Exception) -> CompileError:
        """What went wrong while compiling the current statement, as a CompileError placed there."""
        if isinstance(e, CompileError):
            return e
        if isinstance(e, NNSpecError):
            return self.error(e.message)  # bounded arithmetic refused a constant
        # Python refused a compile-time evaluation: 'abc'[::0], range(10**20), ...
        return self.error(f"cannot evaluate this when compiling: {type(e).__name__}: {_cut(str(e))}")

    def attempt(self, work, *args: Any) -> Any:
        """``work(*args)`` (the value of a part of an expression); where it is a mistake, the mistake recorded and
        POISON given instead, so that the parts beside it are still checked. The caller raises _Poisoned after
        them (``_poisoned``)."""
        try:
            return work(*args)
        except _Poisoned:
            return POISON
        except (NNSpecError, *ERRORS) as e:
            self.record(self.placed(e))
            return POISON

    def default_binding(self) -> dict:
        """The forward called with an array for each parameter without a default, the others left out."""
        a = self.program.params
        if a is None:
            return {name: Leaf() for name in self.inputs}
        positional = (a.posonlyargs + a.args)[1:]
        defaults = [None] * (len(a.posonlyargs + a.args) - len(a.defaults)) + list(a.defaults)
        binding: dict = {}
        for arg, default in zip(positional, defaults[1:]):
            binding[arg.arg] = Leaf() if default is None else self.constant_default(default)
        for arg, default in zip(a.kwonlyargs, a.kw_defaults):
            binding[arg.arg] = Leaf() if default is None else self.constant_default(default)
        if a.vararg:
            binding[a.vararg.arg] = ()
        if a.kwarg:
            binding[a.kwarg.arg] = {}
        return binding

    def constant_default(self, e: ast.expr) -> Any:
        value = self.expr(e)
        if not _is_const(value):
            raise self.error(f"a forward's default must be a constant, not {_describe(value)}", e)
        return value

    def realize(self, name: str, spec: Any) -> Any:
        """A parameter's compile-time value: placeholders for its Leafs, constants as they are."""
        if isinstance(spec, Leaf):
            node = self.graph.create_node("placeholder", name, name=name)
            if spec.shape is not None:
                self.shapes[id(node)] = spec
                i = sum(1 for n in self.graph.nodes if n.op == "placeholder") - 1
                if i < len(self.values) and hasattr(self.values[i], "shape"):
                    self.actual[id(node)] = tuple(self.values[i].shape)
            return node
        if isinstance(spec, (tuple, list)):
            items = [self.realize(f"{name}_{i}", v) for i, v in enumerate(spec)]
            return tuple(items) if isinstance(spec, tuple) else items
        if isinstance(spec, dict):
            return {k: self.realize(f"{name}_{k}" if str(k).isidentifier() else f"{name}_{i}", v)
                    for i, (k, v) in enumerate(spec.items())}
        return spec

    # ------------------------------------------------------------------ helpers

    def error(self, message: str, node: ast.AST | None = None, kind: type[CompileError] = CompileError) \
            -> CompileError:
        node = node or self.where
        pos = self.source.position(node.lineno, node.col_offset) if node is not None and hasattr(node, "lineno") \
            else self.source.position(1, 0)
        return kind(message, path=f"{self.path or '(root)'}.forward", position=pos)

    def emit(self, op: str, target: str, args=(), kwargs=None, name=None, key=None, at: ast.AST | None = None) -> Node:
        """A new node, placed at ``at`` (the expression it computes), else at the statement being compiled."""
        if len(self.graph.nodes) >= MAX_NODES:
            raise self.error(f"forward unrolls to more than {MAX_NODES:,} graph nodes", kind=BudgetError)
        where = at if at is not None and hasattr(at, "lineno") else self.where
        pos = self.source.position(where.lineno, where.col_offset) if where is not None else None
        return self.graph.create_node(op, target, args, kwargs, name=name, position=pos, key=key)

    def step(self, work: int = 1) -> None:
        """Count compile-time work (statements, loop iterations, items of sequences handled)."""
        self.steps += work
        if self.steps > MAX_STEPS:
            raise self.error(f"forward unrolls to more than {MAX_STEPS:,} steps", kind=BudgetError)

    def measure(self, value: Any, where: ast.AST | None = None) -> Any:
        """``value``, its items counted as compile-time work: as a tree, a nested value each time it occurs.

        ``t = (t, t)`` in a loop doubles a value at each step while it stays small in memory; walking,
        materializing, comparing or printing it would not end. Counting is linear in the distinct values
        (sizes are memoised); a value of more than MAX_VALUE items, or a list holding itself, is refused.
        """
        if not isinstance(value, _NESTED):
            return value
        if isinstance(value, (tuple, list)) and len(value) < MAX_VALUE and \
                not any(isinstance(v, _NESTED) for v in value):  # flat: the usual case, counted at once
            self.step(len(value) + 1)
            return value
        sizes: dict[int, int] = {}
        open_: set[int] = set()

        def size(v: Any) -> int:
            if not isinstance(v, _NESTED):
                return 1
            items = (v.start, v.stop, v.step) if isinstance(v, slice) else v.values() if isinstance(v, dict) else v
            key = id(v)
            if key in sizes:
                return sizes[key]
            if key in open_:
                raise self.error("a list in the forward contains itself", where)
            open_.add(key)
            n = 1 + sum(size(item) for item in items)
            open_.discard(key)
            if n > MAX_VALUE:
                raise self.error(f"a value in the forward has more than {MAX_VALUE:,} items (nested ones counted "
                                 "each time they occur)", where)
            sizes[key] = n
            return n

        n = size(value)
        if n > 1:
            self.step(n)
        return value

    def materialize(self, value: Any) -> Any:
        """A value usable as a node argument: state becomes get_attr nodes; refs that can't be data are errors."""
        return self._materialize(self.measure(value))

    def _materialize(self, value: Any) -> Any:
        if type(value) in _AS_IS:  # the usual argument: a node or a number, checked first
            return value
        if isinstance(value, StateRef):
            if value.path not in self.state_nodes:
                self.state_nodes[value.path] = self.emit("get_attr", value.path, name=value.path.replace(".", "_"))
            return self.state_nodes[value.path]
        if isinstance(value, DynRef):
            if not isinstance(value.container.module, nn.ParameterDict):
                raise self.error(f"{value.container.path} is a {value.container.module._get_name()}: call its entry, "
                                 "it is not data")
            return self.emit("get_attr", value.container.path, key=value.key, name=value.container.path)
        if isinstance(value, tuple):
            return tuple(self._materialize(v) for v in value)
        if isinstance(value, list):
            return [self._materialize(v) for v in value]
        if isinstance(value, dict):  # call keyword arguments
            return {k: self._materialize(v) for k, v in value.items()}
        if isinstance(value, slice):
            return slice(self._materialize(value.start), self._materialize(value.stop), self._materialize(value.step))
        if isinstance(value, (Node, *CONSTANT_TYPES)) or value is Ellipsis:
            return value
        if isinstance(value, Method) and value.name in _VALUE_ATTRIBUTES:  # finfo.min, read not called
            return self.emit("call_function", "operator.getattr", (value.obj, value.name), name=value.name)
        if isinstance(value, Spread):
            return self.emit("call_function", "operator.splat", (value.value,), name="splat")
        raise self.error(f"{_describe(value)} can't be used as a value here")

    # ------------------------------------------------------------------ statements

    def block(self, stmts: list[ast.stmt]) -> None:
        """Compile statements one after another. A statement with a mistake has it recorded, and the next is
        compiled (``skip``); reached again (a loop, a helper called twice), it is skipped without a word."""
        for stmt in stmts:
            self.where = stmt
            self.step()
            if stmt in self.failed:
                self.skip(stmt)
                continue
            try:
                self.statement(stmt)
            except _Poisoned:
                self.failed.add(stmt)
                self.skip(stmt)
            except (NNSpecError, *ERRORS) as e:
                self.record(self.placed(e))
                self.failed.add(stmt)
                self.skip(stmt)

    def skip(self, stmt: ast.stmt) -> None:
        """Go on after a statement with a mistake: the names it binds, and the lists and dicts it reads (which
        it may have changed half-way), hold POISON, so that their uses are not checked (their errors would be
        consequences). Where the statement may leave the function (a return, a raise, an assert, a break or
        continue of a loop around it), what follows may be unreachable: the function stops there."""
        if stmt not in self.effects:
            self.effects[stmt] = _effects(stmt)
        bound, read, leaves = self.effects[stmt]
        self.skipped += 1
        self.step(len(bound) + len(read))
        for name in bound:  # an import of a name known anyway (torch, F, Tensor) leaves it as it is
            if name != "self" and not (isinstance(stmt, (ast.Import, ast.ImportFrom)) and self.known(name)):
                self.env[name] = POISON
        changed: set[int] = set()  # the lists and dicts the statement could reach, inside tuples too
        for name in read:
            self.step(_mutables(self.env.get(name), changed))
        if changed:  # every name that reaches one of them (the names read, and other names of the same list)
            for name, value in list(self.env.items()):
                reached, walked = _reaches(value, changed)
                self.step(walked)  # counted as compile work: a hostile forward can't make this quadratic
                if name != "self" and reached:
                    self.env[name] = POISON
        if leaves:
            raise _Return(POISON)

    def statement(self, s: ast.stmt) -> None:
        if isinstance(s, ast.Expr):
            if isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
                return  # a docstring
            self.expr(s.value)
        elif isinstance(s, ast.Assign):
            value = self.expr(s.value)
            for target in s.targets:
                self.assign(target, value)
        elif isinstance(s, ast.AnnAssign):
            if s.value is None:
                return
            self.assign(s.target, self.expr(s.value))
        elif isinstance(s, ast.AugAssign):
            if isinstance(s.target, ast.Subscript):  # x[i] += v: x[i] = x[i].__iadd__(v), as Python does
                base, key = self.expr(s.target.value), self.index(s.target.slice)
                current = self.subscript(base, key, s.target)
                self.store(base, key, self.binary(s.op, current, self.expr(s.value), s, inplace=True), s.target)
                return
            if not isinstance(s.target, ast.Name):
                raise self.error("augmented assignment works on names and subscripts only", s)
            current = self.lookup(s.target.id, s.target)
            self.env[s.target.id] = self.binary(s.op, current, self.expr(s.value), s, inplace=True)
        elif isinstance(s, ast.Return):
            raise _Return(self.expr(s.value) if s.value is not None else None)
        elif isinstance(s, ast.If):
            test = self.const_test(s.test)
            self.block(s.body if test else s.orelse)
        elif isinstance(s, ast.For):
            self.for_loop(s)
        elif isinstance(s, ast.Assert):
            self.assertion(s)
        elif isinstance(s, ast.With) and all(self.gradient_context(item) for item in s.items):
            self.block(s.body)  # no gradients are ever computed: torch.no_grad() and the like change nothing
        elif isinstance(s, ast.Pass):
            pass
        elif isinstance(s, ast.Raise):  # reached when compiling: torch would raise here for this model and call
            text = ast.get_source_segment(self.source.code, s.exc) if s.exc is not None else None
            raise self.error(f"the forward raises {_cut(text or ast.unparse(s.exc) if s.exc else 'an error', 200)}"
                             " (reached for this model and this call)", s)
        elif isinstance(s, ast.Break):
            raise _Break()
        elif isinstance(s, ast.Continue):
            raise _Continue()
        else:
            raise self.error(f"{_statement_name(s)} is not supported in a forward", s)

    def assertion(self, s: ast.Assert) -> None:
        """``assert test, message``: decided now where the test is known, else checked when the forward runs
        (a size in static inference: the condition is assumed and recorded). The message is shown as written,
        never evaluated (an f-string stays its source text)."""
        message = ast.get_source_segment(self.source.code, s.msg) if s.msg is not None else None
        if s.msg is not None and message is None:
            message = ast.unparse(s.msg)
        if isinstance(s.msg, ast.Constant) and isinstance(s.msg.value, str):
            message = s.msg.value
        if isinstance(s.test, ast.Compare) and len(s.test.ops) == 1 and type(s.test.ops[0]) in _CMP_NAME:
            left, right = self.expr(s.test.left), self.expr(s.test.comparators[0])
            if _has_node(self.measure((left, right), s)):  # a comparison of sizes may be assumed statically
                self.emit("call_function", "operator.check", (self.materialize(left), message,
                                                              _CMP_NAME[type(s.test.ops[0])], self.materialize(right)),
                          name="check", at=s)
                return
        test = self.expr(s.test)
        if _has_node(self.measure(test, s)):
            self.emit("call_function", "operator.check", (self.materialize(test), message), name="check", at=s)
            return
        if not self.truth(test):
            raise self.error("assertion failed" + (f": {_cut(message, 200)}" if message else ""), s)

    _GRADIENT_CONTEXTS = ("torch.no_grad", "torch.inference_mode", "torch.enable_grad", "torch.set_grad_enabled")

    def gradient_context(self, item: ast.withitem) -> bool:
        """Whether a ``with`` item is one of torch's gradient switches (no ``as``), which a forward here ignores."""
        e = item.context_expr
        if item.optional_vars is not None or not isinstance(e, ast.Call):
            return False
        name = ast.unparse(e.func) if isinstance(e.func, (ast.Attribute, ast.Name)) else ""
        return name in self._GRADIENT_CONTEXTS and "torch" not in self.env

    def assign(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            if target.id == "self":
                raise self.error("can't assign to self", target)
            self.env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            if any(isinstance(e, ast.Starred) for e in target.elts):
                raise self.error("starred assignment is not supported", target)
            items = self.unpack(value, len(target.elts), target)
            for t, v in zip(target.elts, items):
                self.assign(t, v)
        elif isinstance(target, ast.Attribute):
            raise self.error("assigning to an attribute is not supported (a forward can't change its module)", target)
        elif isinstance(target, ast.Subscript):
            self.store(self.expr(target.value), self.index(target.slice), value, target)
        else:
            raise self.error("assigning to a starred target is not supported", target)

    def store(self, base: Any, key: Any, value: Any, where: ast.AST) -> None:
        """``base[key] = value``: written into a tensor when the forward runs (as torch's setitem), or into a
        list the forward built (a known index)."""
        if isinstance(base, (Node, StateRef, DynRef)):
            self.emit("call_function", "operator.setitem", (self.materialize(base), self.materialize(key),
                                                            self.materialize(value)), name="setitem", at=where)
            return
        if isinstance(base, dict):
            self.dict_store(base, key, value, where)
            return
        if isinstance(base, list) and not _has_node(self.measure(key, where)):
            _no_spread(self, base, where)
            if isinstance(key, bool) or not isinstance(key, int):
                raise self.error(f"a list's index must be an int known when compiling, not {_describe(key)}", where)
            if not -len(base) <= key < len(base):
                raise self.error(f"list assignment index {key} out of range (length {len(base)})", where)
            base[key] = self.measure(value, where)
            return
        raise self.error(f"assigning to an item of {_describe(base)} is not supported", where)

    def unpack(self, value: Any, n: int, where: ast.AST) -> list:
        if isinstance(value, (tuple, list)):
            _no_spread(self, value, where)
            if len(value) != n:
                raise self.error(f"cannot unpack {len(value)} values into {n} names", where)
            return list(value)
        if isinstance(value, Node):  # e.g. n, c, h, w = x.shape: the length is checked when it runs
            parts = self.emit("call_function", "operator.unpack", (value, n), name="unpack", at=where)
            return [self.emit("call_function", "operator.getitem", (parts, i), name="getitem", at=where)
                    for i in range(n)]
        raise self.error(f"cannot unpack {_describe(value)}", where)

    def const_test(self, test: ast.expr) -> bool:
        value = self.expr(test)
        if isinstance(value, Node):
            self.needs_shapes(value)
            if self.shaped and _from_sizes(value):
                # one that asks only whether a size is 1 (if x.size(0) == 1:) is decided, N >= 2 assumed (see
                # symbolic.decide_whether_one); the graph is then compiled again for each call, to assume it again
                for arg in value.args:
                    if isinstance(arg, Node):
                        self.meta_of(arg)  # the sizes compared, with what computing them assumed
                decided = decide_whether_one(lambda: self.meta_of(value))
                if decided is not None:
                    self.graph.assumes_sizes = True
                    return decided
                raise self.error("this if tests a size that is symbolic here (static inference with a named "
                                 "size): give that input's sizes as numbers in --input-shape", test)
            raise self.error("an if must be decidable when the model is compiled (a hyperparameter, a constant, "
                             "or whether a submodule is None); this one depends on the input", test)
        return bool(self.truth(value))

    def needs_shapes(self, value: Any) -> None:
        """A test on a value the run computes: where it is computed from input sizes alone (Swin's
        ``if window_size >= pad_H``) and the forward was not compiled for its inputs' shapes, compile again
        for the shapes of the call. A test on data (``if x.sum() > 0``) is an error, as is one on a size
        that stays unknown (a symbolic size in static inference)."""
        if not self.shaped and _from_sizes(value) and any(isinstance(v, Leaf) for v in _leaves(self.binding or {})):
            raise NeedsShapes()

    def truth(self, value: Any) -> Any:
        if isinstance(value, ModRef):  # torch: an empty ModuleList/ModuleDict is falsy, other modules truthy
            m = value.module
            return len(m) > 0 if isinstance(m, (nn.ModuleList, nn.ModuleDict, nn.Sequential, nn.ParameterList,
                                                  nn.ParameterDict)) else True
        if isinstance(value, (StateRef, DynRef)):
            return True
        return value

    def for_loop(self, s: ast.For) -> None:
        if s.orelse:
            raise self.error("for ... else is not supported", s)
        items = self.iterable(self.expr(s.iter), s.iter)
        for item in items:
            self.step()
            self.where = s
            self.assign(s.target, item)
            try:
                self.block(s.body)
            except _Break:
                break
            except _Continue:
                continue

    def iterable(self, value: Any, where: ast.AST) -> list | range:
        if isinstance(value, Self):  # for layer in self: a ModuleList or Sequential subclass's own entries
            value = ModRef(self.module, "")
        if isinstance(value, range):
            return value
        if isinstance(value, (list, tuple)):
            _no_spread(self, value, where)
            return list(value)
        if isinstance(value, ModRef):
            m = value.module
            if isinstance(m, (nn.ModuleList, nn.Sequential)):
                return [ModRef(child, _join(value.path, k)) for k, child in m._modules.items()]
            if isinstance(m, nn.ParameterList):
                return [StateRef(_join(value.path, k)) for k in m._parameters]
            if isinstance(m, (nn.ModuleDict, nn.ParameterDict)):
                return list(m.keys())
        raise self.error(f"can only loop over what is known when the model is compiled (a ModuleList, "
                         f"ParameterList, range(n), enumerate(...), a dict's items()), not {_describe(value)}", where)

    # ------------------------------------------------------------------ names

    def known(self, name: str) -> bool:
        """Whether ``name`` means something in a forward without being assigned (torch, F, len, a function)."""
        return name in ("self", "Tensor") or name in self.functions or name in NO_OP_FUNCTIONS or \
            name in NAMESPACES or name in BUILTINS

    def lookup(self, name: str, where: ast.AST) -> Any:
        if name in self.env:
            value = self.env[name]
            if value is POISON:
                raise _Poisoned()
            return value
        if name == "self":
            return Self()
        if name in self.functions:
            if self.functions[name].broken:  # its def has a mistake, reported: its calls are not checked
                raise _Poisoned()
            return UserFunction(self.functions[name])
        if name in NO_OP_FUNCTIONS:
            return Special(name)
        if name == "Tensor":  # from torch import Tensor, as reference code has it (isinstance(input, Tensor))
            return Special("torch.Tensor")
        if name in NAMESPACES:
            return Namespace(NAMESPACES[name])
        if name in BUILTINS:
            return Builtin(name)
        if name in REFUSED_NAMES:
            raise self.error(f"{name!r} is not allowed in a forward", where)
        m = self.module
        if name in m._modules or name in m._parameters or name in m._buffers:  # `conv1(x)` as `self.conv1(x)`
            return self.member(ModRef(m, ""), name)
        self.env[name] = POISON  # reported at its first use only: later uses are the same mistake
        raise self.error(f"name {name!r} is not defined", where)

    def member(self, ref: ModRef, name: str) -> Any:
        """A submodule, parameter, buffer or hyperparameter of ``ref``'s module; None if it has none."""
        m = ref.module
        path = _join(ref.path, name)
        if name.startswith("__"):
            return None
        if name in m._modules:
            child = m._modules[name]
            return _NONE if child is None else ModRef(child, path)
        if name in m._parameters or name in m._buffers:
            return StateRef(path) if (m._parameters.get(name) if name in m._parameters else m._buffers[name]) is not None \
                else _NONE
        if name == "training":
            return self.training
        if name in m.__dict__ and not name.startswith("_"):
            value = m.__dict__[name]
            if name in m.__dict__.get("_list_attributes", ()):  # a list, as torch's: a fresh copy each read, so
                return list(value)  # a forward's shift_size[0] = 0 changes its own copy, never the module
            if value is None or isinstance(value, CONSTANT_TYPES) or _is_const_tuple(value):
                return _NONE if value is None else value
        return None

    # ------------------------------------------------------------------ expressions

    def expr(self, e: ast.expr) -> Any:
        self.where = e if hasattr(e, "lineno") else self.where
        value = self._expr(e)
        return None if value is _NONE else value

    def _expr(self, e: ast.expr) -> Any:
        if isinstance(e, ast.Constant):
            if isinstance(e.value, CONSTANT_TYPES) or e.value is Ellipsis:
                return e.value
            raise self.error(f"constant {e.value!r} is not supported", e)
        if isinstance(e, ast.Name):
            return self.lookup(e.id, e)
        if isinstance(e, ast.Attribute):
            return self.attribute(self.expr(e.value), e.attr, e)
        if isinstance(e, ast.Subscript):
            return self.subscript(self.expr(e.value), self.index(e.slice), e)
        if isinstance(e, ast.Call):
            return self.call(e)
        if isinstance(e, ast.BinOp):  # each side checked, whether or not the other is a mistake
            try:  # the left side inline, not through attempt: a chain a + b + c + ... nests on the left, and a
                left = self.expr(e.left)  # frame more per term would halve the terms a forward may chain
            except _Poisoned:
                left = POISON
            except (NNSpecError, *ERRORS) as error:
                self.record(self.placed(error))
                left = POISON
            left, right = _poisoned([left, self.attempt(self.expr, e.right)])
            return self.binary(e.op, left, right, e)
        if isinstance(e, ast.UnaryOp):
            return self.unary(e.op, self.expr(e.operand), e)
        if isinstance(e, ast.Compare):
            return self.compare(e)
        if isinstance(e, ast.BoolOp):
            return self.boolop(e)
        if isinstance(e, ast.IfExp):
            return self.expr(e.body) if self.const_test(e.test) else self.expr(e.orelse)
        if isinstance(e, (ast.Tuple, ast.List)):
            items = _poisoned(self.items(e.elts, e))
            value = self.measure(tuple(items) if isinstance(e, ast.Tuple) else items, e)
            if any(isinstance(v, Spread) for v in items):  # (*x.shape, 1): a value the run makes
                kind = "tuple" if isinstance(e, ast.Tuple) else "list"
                return self.emit("call_function", f"builtins.{kind}", (self.materialize(list(items)),), name=kind,
                                 at=e)
            return value
        if isinstance(e, ast.Slice):
            return self.index(e)
        if isinstance(e, ast.JoinedStr):  # an f-string of values known when compiling (a module's repr)
            return self.fstring(e)
        if isinstance(e, ast.Dict):  # a dict built in the forward: constant keys, any values
            d: dict = {}
            for k, v in zip(e.keys, e.values):
                if k is None:  # {**other}
                    for key, value in self.dict_items(self.expr(v), e):
                        self.dict_store(d, key, value, e)
                else:
                    self.dict_store(d, self.expr(k), self.expr(v), e)
            return d
        raise self.error(f"{_expression_name(e)} is not supported in a forward", e)

    def fstring(self, e: ast.JoinedStr) -> str:
        parts = []
        for v in e.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
                continue
            value = self.expr(v.value)
            if not _is_const(self.measure(value, v)) or isinstance(value, list) and len(value) > MAX_SEQ:
                raise self.error(f"an f-string takes values known when the model is compiled, not {_describe(value)}",
                                 v)
            spec = self.fstring(v.format_spec) if v.format_spec is not None else ""
            if any(int(n) > 10_000 for n in re.findall(r"[0-9]+", spec)):
                raise self.error(f"format spec {_cut(spec)!r}: a width or precision over 10,000", v)
            if v.conversion in (ord("r"), ord("a")):
                value = checked("repr", repr, value)
            elif v.conversion == ord("s"):
                value = checked("str", str, value)
            parts.append(checked("format", format, value, spec))
            if sum(map(len, parts)) > MAX_SEQ * 10:
                raise self.error("an f-string longer than 100,000 characters", e)
        return "".join(parts)

    def items(self, elts: list[ast.expr], where: ast.AST) -> list:
        """The values of a call's positional arguments or a display's items, ``*value`` spliced in: now where
        value is known (a tuple, a list, a range), when the forward runs where it is computed there."""
        out: list = []
        for x in elts:  # an item that is a mistake is POISON in the list, the items after it still checked
            if not isinstance(x, ast.Starred):
                out.append(self.attempt(self.expr, x))
                continue
            value = self.attempt(self.expr, x.value)
            if value is POISON:
                out.append(value)
            elif isinstance(value, (tuple, list, range)):
                if len(value) > MAX_SEQ:
                    raise self.error(f"*: more than {MAX_SEQ:,} items", x)
                self.step(len(value))
                out.extend(value)
            elif isinstance(value, (Node, StateRef, DynRef)):
                out.append(Spread(self.materialize(value)))
            elif isinstance(value, str):
                self.step(len(value))
                out.extend(value)
            else:
                raise self.error(f"* needs a sequence, not {_describe(value)}", x)
        return out

    def index(self, e: ast.expr) -> Any:
        if isinstance(e, ast.Slice):
            parts = [None if p is None else self.expr(p) for p in (e.lower, e.upper, e.step)]
            return self.measure(slice(*parts), e)
        if isinstance(e, ast.Tuple):
            return self.measure(tuple(self.index(x) for x in e.elts), e)
        return self.expr(e)

    def attribute(self, base: Any, name: str, e: ast.AST) -> Any:
        if isinstance(base, ClassOf) and name in ("__name__", "__qualname__"):
            return base.name
        if isinstance(base, (Self, ModRef)):
            ref = ModRef(self.module, "") if isinstance(base, Self) else base
            if name == "__class__":
                return ClassOf(ref.module._get_name())
            method = _methods(ref.module).get(name)
            if method is not None:
                if method.broken:  # its def has a mistake, reported: its calls are not checked
                    raise _Poisoned()
                return UserFunction(method, ref if method.method else None)
            if isinstance(ref.module, (nn.ModuleDict, nn.ParameterDict)) and name in ("items", "values", "keys"):
                return BoundContainerMethod(ref, name)
        if isinstance(base, dict) and name in ("get", "items", "keys", "values", "pop", "update", "setdefault"):
            return DictMethod(base, name)
        if isinstance(base, Self):
            value = self.member(ModRef(self.module, ""), name)
            if value is None:
                _unknown_text(self.module)
                raise self.error(f"{self.module._get_name()} has no submodule, parameter, buffer or "
                                 f"hyperparameter {name!r}", e)
            return value
        if isinstance(base, ModRef):
            if isinstance(base.module, (nn.ModuleDict, nn.ParameterDict)) and name in ("items", "values", "keys"):
                return BoundContainerMethod(base, name)
            if base.module._get_name() in NO_OP_METHODS.get(name, ()):
                return NoOpMethod(base, name)
            value = self.member(base, name)
            if value is None:
                _unknown_text(base.module)
                raise self.error(f"{base.path} ({base.module._get_name()}) has no submodule, parameter, buffer or "
                                 f"hyperparameter {name!r}", e)
            return value
        if isinstance(base, Namespace):
            full = ALIASES.get(f"{base.name}.{name}", f"{base.name}.{name}")
            if full in SPECIAL_FUNCTIONS:
                return Special(full)
            if any(f.startswith(full + ".") for f in SPECIAL_FUNCTIONS) and full not in T.FUNCTIONS:
                return Namespace(full)
            if full in ("F", "nn"):
                return Namespace(full)
            if full in T.FUNCTIONS:
                return Function(full)
            if base.name == "torch" and name in DTYPES:
                return DTYPES[name]
            if base.name == "torch" and name in TORCH_CONSTANTS:
                return TORCH_CONSTANTS[name]
            if base.name == "math" and name in MATH_CONSTANTS:
                return MATH_CONSTANTS[name]
            if base.name == "torch" and name in UNSUPPORTED_DTYPES:
                raise self.error(f"{full} is not supported: nnspec computes with NumPy's dtypes (float16, float32, "
                                 "float64, int8/16/32/64, uint8, bool)", e)
            raise self.error(f"{full} is not supported ({_near(full, T.FUNCTIONS, 'function')})", e)
        if isinstance(base, VALUE_TYPES):  # torch.float32.is_floating_point, torch.finfo(...).min
            try:
                return value_attribute(base, name)
            except NNSpecError as err:
                raise self.error(err.message, e) from None
        if isinstance(base, list) and name == "append":
            return ListAppend(base)
        if isinstance(base, (list, tuple)) and name in ("copy", "extend", "index", "count") and \
                (isinstance(base, list) or name in ("index", "count")):
            return DictMethod(base, name)  # a list's copy/extend/index/count, done when compiling
        if isinstance(base, (Node, StateRef, DynRef)):
            obj = self.materialize(base)
            if name == "requires_grad" and isinstance(base, Node):  # no input or result has gradients here
                return False
            if name in ("shape", "ndim") and self.known_shape(obj) is not None:
                return self.shape_value(obj, None if name == "shape" else "dim")
            if name == "shape":
                return self.emit("call_method", "size", (obj,), name="size", at=e)
            if name == "ndim":
                return self.emit("call_method", "dim", (obj,), name="ndim", at=e)
            if name in T.METHODS:
                return Method(obj, name)  # called, or read as an attribute (finfo.min) when used as a value
            if name in _VALUE_ATTRIBUTES:
                return self.emit("call_function", "operator.getattr", (obj, name), name=name, at=e)
            raise self.error(f"tensor attribute or method {name!r} is not supported "
                             f"({_near(name, {**T.METHODS, **dict.fromkeys(_VALUE_ATTRIBUTES)}, 'method')})", e)
        raise self.error(f"attribute {name!r} of {_describe(base)} is not supported", e)

    def subscript(self, base: Any, key: Any, e: ast.AST) -> Any:
        if isinstance(base, Self):  # self[0]: an entry of a container subclass
            base = ModRef(self.module, "")
        if isinstance(base, ModRef):
            m = base.module
            if isinstance(m, (nn.ModuleList, nn.Sequential, nn.ParameterList)) and isinstance(key, slice) \
                    and not _has_node(key):
                return self.iterable(base, e)[key]  # a compile-time list of its entries, for loops
            if isinstance(m, (nn.ModuleList, nn.Sequential, nn.ParameterList)):
                if isinstance(key, bool) or not isinstance(key, int):
                    raise self.error(f"{base.path} ({m._get_name()}) takes a constant integer index here, "
                                     f"not {_describe(key)}", e)
                keys = list(m._parameters if isinstance(m, nn.ParameterList) else m._modules)
                if not -len(keys) <= key < len(keys):
                    raise self.error(f"index {key} is out of range for {base.path} ({m._get_name()} of length "
                                     f"{len(keys)})", e)
                k = keys[key]
                return StateRef(_join(base.path, k)) if isinstance(m, nn.ParameterList) else \
                    ModRef(m._modules[k], _join(base.path, k))
            if isinstance(m, (nn.ModuleDict, nn.ParameterDict)):
                if isinstance(key, Node):
                    return DynRef(base, key)
                if not isinstance(key, str):
                    raise self.error(f"{base.path} ({m._get_name()}) takes a string key, not {_describe(key)}", e)
                registry = m._parameters if isinstance(m, nn.ParameterDict) else m._modules
                if key not in registry:
                    raise self.error(f"{base.path} has no key {key!r} (keys: {_cut(', '.join(registry))})", e)
                return StateRef(_join(base.path, key)) if isinstance(m, nn.ParameterDict) else \
                    ModRef(registry[key], _join(base.path, key))
            raise self.error(f"{base.path} ({m._get_name()}) can't be indexed", e)
        if isinstance(base, dict):
            if not _is_const(key) or isinstance(key, list):
                raise self.error(f"a dict's key must be a constant, not {_describe(key)}", e)
            if key not in base:
                raise self.error(f"no key {key!r} in the dict (keys: {_cut(', '.join(map(repr, base)))})", e)
            return base[key]
        if isinstance(base, (tuple, list, str, range)) and not _has_node(self.measure(key, e)):
            if isinstance(base, (tuple, list)):
                _no_spread(self, base, e)
            try:
                result = base[key]
            except (IndexError, TypeError, ValueError) as err:
                raise self.error(f"indexing {_describe(base)} with {_describe(key)}: {err}", e) from None
            self.step(len(result) if isinstance(result, (tuple, list, str)) else 1)
            return self.measure(list(result) if isinstance(result, range) else result, e)
        if isinstance(base, (Node, StateRef, DynRef, tuple, list)):
            return self.emit("call_function", "operator.getitem", (self.materialize(base), self.materialize(key)),
                             name="getitem", at=e)
        raise self.error(f"{_describe(base)} can't be indexed", e)

    def call(self, e: ast.Call) -> Any:
        # the function and each argument are checked, whether or not the others are mistakes
        fn = self.attempt(self.expr, e.func)
        if isinstance(fn, Special) and fn.name == "torch._assert":
            return self.torch_assert(e)
        args = self.items(e.args, e)
        values = [self.attempt(self.expr, k.value) for k in e.keywords]
        _poisoned([fn, *args, *values])
        kwargs: dict[str, Any] = {}
        for k, value in zip(e.keywords, values):
            if k.arg is not None:
                kwargs[k.arg] = value
                continue
            if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
                raise self.error(f"** needs a dict with string keys built in the forward, not {_describe(value)}", k)
            self.step(len(value))
            kwargs.update(value)
        self.where = e
        if isinstance(fn, UserFunction):
            return self.inline(fn, args, kwargs, e)
        if isinstance(fn, DictMethod):
            return self.dict_method(fn, args, kwargs, e)
        if isinstance(fn, Special):
            return self.special(fn.name, args, kwargs, e)
        if isinstance(fn, Method) and fn.name in ("size", "dim") and self.known_shape(fn.obj) is not None:
            if kwargs or len(args) > (fn.name == "size"):
                raise self.error(f"{fn.name}() takes {'at most one argument' if fn.name == 'size' else 'no arguments'}",
                                 e)
            return self.shape_value(fn.obj, fn.name, *args)
        if isinstance(fn, Builtin):
            if fn.name in RUNTIME_BUILTINS and any(_has_node(a) for a in (*args, *kwargs.values())):
                return self.emit("call_function", f"builtins.{fn.name}", self.materialize(tuple(args)),
                                 self.materialize(kwargs), name=fn.name, at=e)
            if any(isinstance(a, Spread) for a in args):
                raise self.error(f"{fn.name}() needs values known when the model is compiled", e)
            return self.builtin(fn.name, args, kwargs, e)
        if isinstance(fn, ListAppend):
            if len(args) != 1 or kwargs:
                raise self.error("append() takes exactly one argument", e)
            self.step(1)
            if len(fn.items) >= MAX_SEQ:
                raise self.error(f"a list in the forward grows past {MAX_SEQ:,} items", e)
            fn.items.append(self.measure(args[0], e))
            return None
        if isinstance(fn, NoOpMethod):
            if args or kwargs:
                raise self.error(f"{fn.name}() takes no arguments", e)
            return None
        if isinstance(fn, BoundContainerMethod):
            if args or kwargs:
                raise self.error(f"{fn.name}() takes no arguments", e)
            return self.container_method(fn)
        if isinstance(fn, ModRef):
            m = fn.module
            _unknown_text(m)  # a module whose forward text has a mistake: what calling it gives is unknown
            if isinstance(m, (nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)) and \
                    not (isinstance(m, CustomForward) and m.has_forward):
                raise self.error(f"{fn.path} is a {m._get_name()}: call one of its entries", e)
            if isinstance(m, CustomForward) and not m.has_forward and isinstance(m, nn.UserModule):
                raise self.error(f"{fn.path} ({m._get_name()}) has no forward", e)
            return self.emit("call_module", fn.path, self.materialize(tuple(args)), self.materialize(kwargs),
                             name=fn.path.replace(".", "_"), at=e)
        if isinstance(fn, DynRef):
            if isinstance(fn.container.module, nn.ParameterDict):
                raise self.error(f"{fn.container.path} holds parameters, which can't be called", e)
            return self.emit("call_module", fn.container.path, self.materialize(tuple(args)),
                             self.materialize(kwargs), key=fn.key, name=fn.container.path.replace(".", "_"), at=e)
        if isinstance(fn, Function):
            if fn.name in T.FOLDABLE and not _has_node(self.measure((args, kwargs), e)):
                return self.fold(fn.name, args, kwargs, e)
            return self.emit("call_function", fn.name, self.materialize(tuple(args)), self.materialize(kwargs),
                             name=fn.name.split(".")[-1], at=e)
        if isinstance(fn, Method):
            return self.emit("call_method", fn.name, (fn.obj,) + self.materialize(tuple(args)),
                             self.materialize(kwargs), name=fn.name, at=e)
        if isinstance(fn, Self):
            raise self.error("calling self (recursion) is not supported", e)
        raise self.error(f"{_describe(fn)} is not callable", e)

    # ------------------------------------------------------------------ helpers of the model file

    def inline(self, f: UserFunction, args: list, kwargs: dict, e: ast.AST) -> Any:
        """A helper method or function called: its body compiled here, its parameters bound to the call's
        values (nothing is called when the forward runs: the graph holds what the body computes)."""
        if self.depth >= MAX_INLINE:
            raise self.error(f"helper calls nest more than {MAX_INLINE} deep (a recursive helper?)", e,
                             kind=BudgetError)
        if any(isinstance(a, Spread) for a in args):
            raise self.error(f"{f.code.name}(): *(a value computed in the forward) can't be bound to its "
                             "parameters (its length is known only when the forward runs)", e)
        if f.code.method:
            if f.bound is None:
                raise self.error(f"{f.code.name} is a method: call it on a module (self.{f.code.name}(...))", e)
            args = [f.bound, *args]
        saved, skipped = (self.env, self.source, self.where), self.skipped
        self.source = f.code.source
        try:
            self.env = self.bind(f.code, args, kwargs, e)
            if f.bound is not None:
                self.env["self"] = Self() if f.bound.path == "" and f.bound.module is self.module else f.bound
            self.depth += 1
            try:
                self.block(f.code.fn.body)
                value = None
            except _Return as r:
                value = r.value
            except (_Break, _Continue):
                raise self.error("break or continue outside a loop") from None
            finally:
                self.depth -= 1
        finally:
            self.env, self.source, self.where = saved
        if value is POISON or self.skipped != skipped:
            # a statement of the helper was skipped: what it returns, and what it did to the lists and dicts it was
            # given, are unknown
            raise _Poisoned()
        return value

    def bind(self, code: FunctionCode, args: list, kwargs: dict, e: ast.AST) -> dict[str, Any]:
        """Python's binding of a call's values to a def's parameters (defaults evaluated in the def's text)."""
        a = code.fn.args
        name = code.name
        positional = a.posonlyargs + a.args
        env: dict[str, Any] = {}
        for param, value in zip(positional, args):
            env[param.arg] = value
        extra = list(args[len(positional):])
        if extra and a.vararg is None:
            raise self.error(f"{name}() takes {len(positional) - code.method} positional argument(s) but "
                             f"{len(args) - code.method} were given", e)
        if a.vararg is not None:
            env[a.vararg.arg] = tuple(extra)
        rest: dict[str, Any] = {}
        names = {p.arg for p in a.args + a.kwonlyargs}
        for key, value in kwargs.items():
            if key in env and key in names:
                raise self.error(f"{name}() got multiple values for argument {key!r}", e)
            if key in names:
                env[key] = value
            elif a.kwarg is not None:
                rest[key] = value
            else:
                raise self.error(f"{name}() got an unexpected keyword argument {key!r}", e)
        if a.kwarg is not None:
            env[a.kwarg.arg] = rest
        defaults = dict(zip([p.arg for p in positional][len(positional) - len(a.defaults):], a.defaults))
        defaults.update({p.arg: d for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None})
        missing = [p.arg for p in positional + a.kwonlyargs if p.arg not in env and p.arg not in defaults]
        if missing:
            raise self.error(f"{name}() missing required argument(s): {', '.join(map(repr, missing))}", e)
        for key, default in defaults.items():
            if key not in env:
                env[key] = self.expr(default)
        return env

    def dict_method(self, fn: DictMethod, args: list, kwargs: dict, e: ast.AST) -> Any:
        d, name = fn.items, fn.name
        if isinstance(d, (list, tuple)):
            return self.list_method(d, name, args, kwargs, e)
        if name in ("items", "keys", "values"):
            if args or kwargs:
                raise self.error(f"{name}() takes no arguments", e)
            self.step(len(d))
            return list(d.items()) if name == "items" else list(d) if name == "keys" else list(d.values())
        if name == "update":
            if len(args) > 1:
                raise self.error("update() takes at most one positional argument", e)
            for key, value in [*(self.dict_items(args[0], e) if args else []), *kwargs.items()]:
                self.dict_store(d, key, value, e)
            return None
        if kwargs or not 1 <= len(args) <= 2:
            raise self.error(f"{name}() takes a key and an optional default", e)
        key = args[0]
        if not _is_const(key) or isinstance(key, list):
            raise self.error(f"a dict's key must be a constant, not {_describe(key)}", e)
        if name == "get":
            return d.get(key, args[1] if len(args) > 1 else None)
        if name == "setdefault":
            if key not in d:
                self.dict_store(d, key, args[1] if len(args) > 1 else None, e)
            return d[key]
        if key in d:  # pop
            return d.pop(key)
        if len(args) > 1:
            return args[1]
        raise self.error(f"pop(): no key {key!r} (keys: {_cut(', '.join(map(repr, d)))})", e)

    def list_method(self, items: list | tuple, name: str, args: list, kwargs: dict, e: ast.AST) -> Any:
        _no_spread(self, items, e)
        if kwargs or len(args) != (name != "copy"):
            raise self.error(f"{name}() takes {'no arguments' if name == 'copy' else 'one argument'} here", e)
        self.step(len(items))
        if name == "copy":
            return list(items)
        if name == "extend":
            more = self.iterable(args[0], e)
            if len(items) + len(more) > MAX_SEQ:
                raise self.error(f"a list in the forward grows past {MAX_SEQ:,} items", e)
            items.extend(self.measure(list(more), e))
            return None
        if not _is_const(args[0]) or _has_node(list(items)):
            raise self.error(f"{name}() of a value computed in the forward is not supported", e)
        if name == "count":
            return list(items).count(args[0])
        if args[0] not in items:
            raise self.error(f"index(): {_describe(args[0])} is not in the list", e)
        return list(items).index(args[0])

    def dict_items(self, value: Any, e: ast.AST) -> list:
        if isinstance(value, dict):
            return list(value.items())
        if isinstance(value, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
            return [tuple(p) for p in value]
        raise self.error(f"a dict is made from a dict or (key, value) pairs, not {_describe(value)}", e)

    def dict_store(self, d: dict, key: Any, value: Any, e: ast.AST) -> None:
        if not _is_const(key) or isinstance(key, list):
            raise self.error(f"a dict's key must be a constant, not {_describe(key)}", e)
        if key not in d and len(d) >= MAX_DICT_KEYS:
            raise self.error(f"a dict in the forward grows past {MAX_DICT_KEYS:,} keys", e)
        self.step(1)
        d[key] = self.measure(value, e)

    def special(self, name: str, args: list, kwargs: dict, e: ast.AST) -> Any:
        if name in FALSE_FUNCTIONS:
            if args or kwargs:
                raise self.error(f"{name}() takes no arguments", e)
            return False
        if name in NO_OP_FUNCTIONS:
            return None
        if name == "torch.jit.annotate":  # torch.jit.annotate(List[int], []): the value
            if len(args) != 2 or kwargs:
                raise self.error("torch.jit.annotate() takes a type and a value", e)
            return args[1]
        raise self.error(f"{name} can't be called", e)  # torch.Tensor(...)

    def torch_assert(self, e: ast.Call) -> None:
        """``torch._assert(condition, message)``, as an assert statement: decided now where the condition is
        known, else checked when the forward runs. The message is shown as written, never evaluated (torch
        formats it only when the assertion fails: an f-string of run-time sizes is fine)."""
        if any(isinstance(a, ast.Starred) for a in e.args) or any(k.arg not in ("condition", "message")
                                                                   for k in e.keywords) \
                or not 1 <= len(e.args) + len(e.keywords) <= 2:
            raise self.error("torch._assert() takes a condition and a message", e)
        given = dict(zip(("condition", "message"), e.args)) | {k.arg: k.value for k in e.keywords}
        if "condition" not in given:
            raise self.error("torch._assert() takes a condition and a message", e)
        self.assertion(ast.Assert(test=given["condition"], msg=given.get("message"), lineno=e.lineno,
                                  col_offset=e.col_offset))
        return None

    def hasattr_(self, value: Any, name: str) -> bool:
        """``hasattr(self, "token_type_ids")``: whether a module has that submodule, state, hyperparameter or
        method; a tensor its attribute or method; other values (None, numbers, dicts) none of those."""
        if isinstance(value, (Self, ModRef)):
            ref = ModRef(self.module, "") if isinstance(value, Self) else value
            return self.member(ref, name) is not None or name in _methods(ref.module) or name == "training"
        if isinstance(value, (Node, StateRef, DynRef)):
            return name in T.METHODS or name in _VALUE_ATTRIBUTES or name in ("shape", "ndim", "requires_grad")
        return False

    def isinstance_(self, value: Any, kind: Any, e: ast.AST) -> bool:
        kinds = kind if isinstance(kind, tuple) else (kind,)
        for k in kinds:
            if isinstance(k, Special) and k.name == "torch.Tensor":
                if isinstance(value, (Node, StateRef, DynRef)):
                    return True  # a value the run computes is a tensor here (a size is one too, as in tracing)
            elif isinstance(k, Builtin) and k.name in ("int", "float", "bool", "str", "tuple", "list", "dict"):
                if isinstance(value, {"int": int, "float": float, "bool": bool, "str": str, "tuple": tuple,
                                      "list": list, "dict": dict}[k.name]):
                    return True
            else:
                raise self.error(f"isinstance() of {_describe(k)} is not supported (torch.Tensor, int, float, "
                                 "bool, str, tuple, list, dict)", e)
        return False

    def known_shape(self, obj: Any) -> tuple | None:
        """The shape of a value of the graph, where the forward is compiled for its inputs' shapes: an input's,
        or a value computed from them by ops (``F.pad(input, ...)``), found by running those ops on shape-only
        arrays (a value a submodule returns, or one that depends on data, stays unknown: None)."""
        if not isinstance(obj, Node) or not self.shaped:
            return None
        if id(obj) in self.shapes:
            return self.actual.get(id(obj), self.shapes[id(obj)].shape)
        value = self.meta_of(obj)
        shape = getattr(value, "shape", None) if hasattr(value, "dtype") else None
        return tuple(shape) if shape is not None else None

    def meta_of(self, node: Node) -> Any:
        from ..runtime.meta import MetaArray

        nodes = self.graph.nodes
        while self.meta_next < len(nodes) and id(node) not in self.meta:
            n = nodes[self.meta_next]
            self.meta_next += 1
            value: Any = _UNKNOWN
            if n.op == "placeholder" and id(n) in self.shapes:
                leaf = self.shapes[id(n)]
                shape = self.actual.get(id(n), leaf.shape)
                if all(type(d) is int or is_symbolic(d) for d in shape):
                    value = MetaArray(shape, leaf.dtype or "float32")
            elif n.op == "get_attr" and n.key is None:
                try:
                    array = Interpreter(self.module, self.graph)._lookup(n.target)
                    array = array.data if isinstance(array, nn.Parameter) else array
                    value = MetaArray(tuple(array.shape), array.dtype)
                except Exception:  # noqa: BLE001 - a plain attribute: no shape to give
                    value = _UNKNOWN
            elif n.op in ("call_function", "call_method") and n.target != "operator.check":
                value = self._meta_call(n)
            self.meta[id(n)] = value
        return self.meta.get(id(node), _UNKNOWN)

    def _meta_call(self, n: Node) -> Any:
        from ..runtime import meta as meta_xp
        from .interpreter import _spliced

        try:
            args, kwargs = _spliced(n.args, self.meta), _spliced(n.kwargs, self.meta)
        except KeyError:
            return _UNKNOWN
        if _unknown_in((args, kwargs)):
            return _UNKNOWN
        try:
            with T.array_module(meta_xp):
                return Interpreter(self.module, self.graph).execute(n, args, kwargs, self.meta)
        except Exception:  # noqa: BLE001 - anything the op refuses is refused again when it runs
            return _UNKNOWN

    def shape_value(self, obj: Node, name: str | None, *args: Any) -> Any:
        """``x.shape``/``x.size()``/``x.size(i)``/``x.dim()`` of a value whose shape is known when compiling
        (see known_shape): its concrete sizes as constants."""
        shape = self.known_shape(obj)
        if name == "dim":
            return len(shape)
        sizes = [d if type(d) is int else None for d in shape]
        if args:
            (i,) = args
            if isinstance(i, bool) or not isinstance(i, int) or not -len(shape) <= i < len(shape):
                raise self.error(f"size(): dimension {_describe(i)} is out of range for {len(shape)} dims")
            if sizes[i] is not None:
                return sizes[i]
            return self.emit("call_method", "size", (obj, i), name="size")
        if all(d is not None for d in sizes):
            return tuple(sizes)
        whole = self.emit("call_method", "size", (obj,), name="size")
        return tuple(d if d is not None else self.emit("call_function", "operator.getitem", (whole, i),
                                                       name="getitem") for i, d in enumerate(sizes))

    def fold(self, name: str, args: list, kwargs: dict, e: ast.AST) -> Any:
        """A function of constants (``math.sqrt(2)``, ``torch.finfo(torch.float16)``), evaluated now."""
        try:
            value = T.FUNCTIONS[name](*args, **kwargs)
        except NNSpecError as err:
            raise self.error(err.message, e) from None
        except ERRORS as err:
            raise self.error(f"{name}(): {type(err).__name__}: {_cut(str(err))}", e) from None
        self.step(1)
        return value

    def container_method(self, fn: BoundContainerMethod) -> list:
        m, path = fn.container.module, fn.container.path
        is_params = isinstance(m, nn.ParameterDict)
        keys = list(m.keys())
        values = [StateRef(_join(path, k)) if is_params else ModRef(m[k], _join(path, k)) for k in keys]
        return {"keys": keys, "values": values, "items": list(zip(keys, values))}[fn.name]

    def builtin(self, name: str, args: list, kwargs: dict, e: ast.AST) -> Any:
        if name == "isinstance":
            if len(args) != 2 or kwargs:
                raise self.error("isinstance() takes two arguments", e)
            return self.isinstance_(args[0], args[1], e)
        if name == "hasattr":
            if len(args) != 2 or kwargs or not isinstance(args[1], str):
                raise self.error("hasattr() takes an object and an attribute name", e)
            return self.hasattr_(args[0], args[1])
        if name == "slice":
            if kwargs or not 1 <= len(args) <= 3 or any(isinstance(a, Spread) for a in args):
                raise self.error("slice() takes one to three arguments", e)
            return self.measure(slice(*args), e)
        if name == "dict":
            if len(args) > 1:
                raise self.error("dict() takes at most one positional argument", e)
            items = dict(self.dict_items(args[0], e)) if args else {}
            items.update(kwargs)
            return self.measure(items, e)
        if name in ("sum", "any", "all") and args and not kwargs and isinstance(args[0], (list, tuple)) and \
                any(_has_node(a) for a in args[0]) and name == "sum":
            total = args[1] if len(args) > 1 else 0
            for item in args[0]:  # sum of tensors or run-time sizes: a chain of additions, as Python's is
                total = self.binary(ast.Add(), total, item, e)
            return total
        if name != "len":
            self.measure((*args, *kwargs.values()), e)
        if any(_has_node(a) for a in (*args, *kwargs.values())) and name != "len":
            raise self.error(f"{name}() needs values known when the model is compiled", e)
        if kwargs and not (name == "enumerate" and set(kwargs) == {"start"}):
            raise self.error(f"keyword arguments to {name}() are not supported", e)
        args = args + list(kwargs.values())
        try:
            if name == "range":
                if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
                    raise self.error("range() takes integers", e)
                r = range(*args)
                if len(r) > MAX_STEPS:
                    raise self.error(f"range of {len(r):,} steps is more than {MAX_STEPS:,}", e)
                return r
            if name == "enumerate":
                return self.measure(list(enumerate(self.iterable(args[0], e), *args[1:])), e)
            if name == "zip":
                return self.measure(list(zip(*[self.iterable(a, e) for a in args])), e)
            if name == "reversed":
                return self.measure(list(reversed(self.iterable(args[0], e))), e)
            if name == "len":
                (v,) = args
                if isinstance(v, Self):
                    v = ModRef(self.module, "")
                if isinstance(v, ModRef):
                    return len(v.module)
                if isinstance(v, (list, tuple, str)):
                    _no_spread(self, v, e)
                    return len(v)
                raise self.error(f"len() of {_describe(v)} is not known when the model is compiled", e)
            if name in ("tuple", "list"):
                items = self.iterable(args[0], e) if args else []
                if len(items) > MAX_SEQ:
                    raise self.error(f"{name}() of {len(items):,} items is more than {MAX_SEQ:,}", e)
                self.step(len(items))
                return self.measure((tuple if name == "tuple" else list)(items), e)
            if name in ("sum", "any", "all"):
                items = self.iterable(args[0], e)
                if not all(_is_const(v) for v in items):
                    raise self.error(f"{name}() takes constants here", e)
                self.step(len(items))
                return checked(name, {"sum": sum, "any": any, "all": all}[name], items, *args[1:])
            if name == "str":
                if len(args) != 1 or not isinstance(args[0], (str, int, float, bool, type(None))):
                    raise self.error("str() takes one number, string, bool or None here", e)
                return checked("str", str, args[0])
            fn = {"int": int, "float": float, "bool": bool, "min": min, "max": max, "abs": abs, "round": round}[name]
            if not all(isinstance(a, (*CONSTANT_TYPES, range)) or _is_const_tuple(a) for a in args):
                raise self.error(f"{name}() takes constants here", e)
            self.step(sum(len(a) for a in args if isinstance(a, (tuple, list, str, range))))
            return checked(name, fn, *args)  # bounded as the run's builtins are: round(5, -10**8), int('9' * 4000)
        except NNSpecError:
            raise
        except ERRORS as err:
            raise self.error(f"{name}(): {type(err).__name__}: {_cut(str(err))}", e) from None

    def binary(self, op: ast.operator, left: Any, right: Any, e: ast.AST, inplace: bool = False) -> Any:
        kind = type(op)
        if kind not in _OPNAME:
            raise self.error(f"operator {type(op).__name__} is not supported", e)
        name = _OPNAME[kind]
        if _is_const(self.measure(left, e)) and _is_const(self.measure(right, e)) and kind in _FOLD:
            try:
                result = checked(name, _FOLD[kind], left, right)
            except NNSpecError as err:
                raise self.error(err.message, e) from None
            self.step(len(result) if isinstance(result, (tuple, list, str)) else 1)
            return self.measure(result, e)
        target = f"operator.i{name.rstrip('_')}" if inplace and isinstance(left, (Node, StateRef, DynRef)) \
            else f"operator.{name}"
        return self.emit("call_function", target, (self.materialize(left), self.materialize(right)), name=name, at=e)

    def unary(self, op: ast.unaryop, value: Any, e: ast.AST) -> Any:
        if isinstance(op, ast.Not):
            if _has_node(self.measure(value, e)):
                raise self.error("'not' of a tensor is not supported", e)
            return not self.truth(value)
        if isinstance(op, (ast.USub, ast.UAdd)):
            if isinstance(value, (int, float)):  # bool included
                return -value if isinstance(op, ast.USub) else +value
            name = "neg" if isinstance(op, ast.USub) else "pos"
            return self.emit("call_function", f"operator.{name}", (self.materialize(value),), name=name, at=e)
        if isinstance(op, ast.Invert):
            if isinstance(value, int):  # bool included
                return ~int(value)
            return self.emit("call_function", "operator.invert", (self.materialize(value),), name="invert", at=e)
        raise self.error(f"operator {type(op).__name__} is not supported", e)

    def compare(self, e: ast.Compare) -> Any:
        left = self.expr(e.left)
        for k, (op, comparator) in enumerate(zip(e.ops, e.comparators)):
            right = self.expr(comparator)
            if type(op) in _CMP_NAME and (_has_node(self.measure(left, e)) or _has_node(self.measure(right, e))):
                if len(e.ops) > 1:  # a < b < c is (a < b) and (b < c): the truth of an array, known only then
                    raise self.error("a chained comparison of values computed in the forward is not supported "
                                     "(compare them one at a time)", e)
                name = _CMP_NAME[type(op)]
                return self.emit("call_function", f"operator.{name}", (self.materialize(left),
                                                                       self.materialize(right)), name=name, at=e)
            if type(op) in (ast.Is, ast.IsNot) and (left is None or right is None):
                # a submodule, parameter or tensor is never None; an absent one compiled to None. An input given
                # None is compiled as None (one graph per way the forward is called)
                same = (left is None) and (right is None)
                result = same if isinstance(op, ast.Is) else not same
            elif type(op) in (ast.In, ast.NotIn) and isinstance(right, dict) and _is_const(left) and \
                    not isinstance(left, list):
                result = (left in right) == isinstance(op, ast.In)  # 'labels' in kwargs
            elif type(op) in (ast.In, ast.NotIn) and isinstance(right, ModRef) and \
                    isinstance(right.module, (nn.ModuleDict, nn.ParameterDict)) and isinstance(left, str):
                result = (left in right.module) == isinstance(op, ast.In)  # 'conv' in self.choices
            elif _has_node(self.measure(left, e)) or _has_node(self.measure(right, e)) or not _is_const(left) \
                    or not _is_const(right):
                raise self.error("comparisons must be between values known when the model is compiled", e)
            else:
                self.step(sum(len(v) for v in (left, right) if isinstance(v, (tuple, list, str, range))))
                result = _CMP[type(op)](left, right)
            if not result:
                return False
            left = right
        return True

    def boolop(self, e: ast.BoolOp) -> Any:
        for i, v in enumerate(e.values):
            value = self.expr(v)
            if _has_node(self.measure(value, e)):
                self.needs_shapes(value)
                raise self.error("'and'/'or' work on values known when the model is compiled", e)
            truth = bool(self.truth(value))
            last = i == len(e.values) - 1
            if isinstance(e.op, ast.And) and (not truth or last):
                return value
            if isinstance(e.op, ast.Or) and (truth or last):
                return value
        raise AssertionError("unreachable: the last value is always returned")


class _NoneMarker:
    """An absent submodule or state entry: ``self.downsample is None``."""


_NONE = _NoneMarker()
_NESTED = (tuple, list, dict, slice)  # compile-time values that hold others


_SIZE_OPS = {"operator.add", "operator.sub", "operator.mul", "operator.floordiv", "operator.mod", "operator.neg",
             "operator.eq", "operator.ne", "operator.lt", "operator.le", "operator.gt", "operator.ge",
             "operator.getitem", "operator.truediv", "builtins.int", "builtins.min", "builtins.max", "builtins.len",
             "builtins.abs", "builtins.tuple", "builtins.list", "operator.unpack"}


def _from_sizes(value: Any, depth: int = 0) -> bool:
    """Whether a run-time value is computed from tensors' sizes alone (``x.size(1) % 7``), not their data."""
    if isinstance(value, (tuple, list)):
        return all(_from_sizes(v, depth) for v in value)
    if not isinstance(value, Node):
        return not isinstance(value, (StateRef, DynRef, Spread))
    if depth > 200:
        return False
    if value.op == "call_method" and value.target in ("size", "dim", "numel"):
        return True
    if value.op == "call_function" and value.target in _SIZE_OPS:
        return all(_from_sizes(a, depth + 1) for a in value.args)
    return False


class _Unknown:
    """A value whose shape the compiler can't know before the run."""


_UNKNOWN = _Unknown()


def _unknown_in(value: Any, depth: int = 0) -> bool:
    if value is _UNKNOWN:
        return True
    if depth > 50:
        return True
    if isinstance(value, (tuple, list)):
        return any(_unknown_in(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(_unknown_in(v, depth + 1) for v in value.values())
    if isinstance(value, slice):
        return any(_unknown_in(v, depth + 1) for v in (value.start, value.stop, value.step))
    return False


def _leaves(spec: Any) -> list:
    """The Leafs of a binding (a parameter's spec, or a dict of them), in placeholder order."""
    if isinstance(spec, Leaf):
        return [spec]
    if isinstance(spec, (tuple, list)):
        return [leaf for v in spec for leaf in _leaves(v)]
    if isinstance(spec, dict):
        return [leaf for v in spec.values() for leaf in _leaves(v)]
    return []


def _methods(module: nn.Module) -> dict[str, FunctionCode]:
    """The helper methods of a module's forward text (none for a module without one)."""
    program = module.__dict__.get("_forward_program")
    return program.methods if program is not None else {}


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else str(name)


def _is_const(v: Any) -> bool:
    return isinstance(v, CONSTANT_TYPES) or _is_const_tuple(v)


def _is_const_tuple(v: Any) -> bool:
    return isinstance(v, (tuple, list)) and all(_is_const(x) for x in v)


def _has_node(v: Any) -> bool:
    if isinstance(v, (Node, StateRef, DynRef, Spread)):
        return True
    if isinstance(v, (tuple, list)):
        return any(_has_node(x) for x in v)
    if isinstance(v, dict):
        return any(_has_node(x) for x in v.values())
    if isinstance(v, slice):
        return any(_has_node(x) for x in (v.start, v.stop, v.step))
    return False


def _poisoned(values: list) -> list:
    """``values`` (the parts of an expression, each checked); _Poisoned where one of them is a mistake."""
    if any(v is POISON for v in values):
        raise _Poisoned()
    return values


def _unknown_text(module: nn.Module) -> None:
    """_Poisoned for a module whose forward text could not be read (its mistake reported where it is): what it
    defines (helper methods) and what calling it gives are unknown, so their uses are not checked."""
    if module.__dict__.get("_forward_broken"):
        raise _Poisoned()


_LOOPS = (ast.For, ast.While, ast.AsyncFor)


def _effects(stmt: ast.stmt) -> tuple[frozenset, frozenset, bool]:
    """What a statement may do beyond its value, read from its text: the names it binds, the names it reads,
    and whether it may leave its block early (a return, a raise, an assert; a break or continue of an
    enclosing loop)."""
    bound, read = set(), set()
    leaves = False
    stack = [(stmt, False)]  # (node, inside a loop of the statement)
    while stack:
        node, in_loop = stack.pop()
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        if isinstance(node, (ast.Return, ast.Raise, ast.Assert)) or \
                isinstance(node, (ast.Break, ast.Continue)) and not in_loop or \
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "_assert":
            leaves = True
        inner = in_loop or isinstance(node, _LOOPS)  # a break in a loop's body leaves that loop only
        stack.extend((child, inner) for child in ast.iter_child_nodes(node))
    return frozenset(bound), frozenset(read), leaves


def _no_spread(compiler: Compiler, value: Any, where: ast.AST) -> None:
    """A sequence with ``*value`` of a run-time value in it has a length only the run knows."""
    if isinstance(value, (tuple, list)) and any(isinstance(v, Spread) for v in value):
        raise compiler.error("the length of a sequence with *(a value computed in the forward) in it is known only "
                             "when the forward runs", where)


def _describe(v: Any) -> str:
    if isinstance(v, Node):
        return "a tensor computed in the forward"
    if isinstance(v, ModRef):
        return f"{v.path or 'self'} ({v.module._get_name()})"
    if isinstance(v, StateRef):
        return f"the parameter or buffer {v.path}"
    if isinstance(v, Namespace):
        return f"the namespace {v.name}"
    if isinstance(v, Builtin):
        return f"{v.name}()"
    if isinstance(v, Self):
        return "self"
    if isinstance(v, Function):
        return f"the function {v.name}"
    if isinstance(v, Method):
        return f"the method .{v.name}()"
    if isinstance(v, BoundContainerMethod):
        return f"{v.container.path}.{v.name}"
    if isinstance(v, ListAppend):
        return "list.append"
    if isinstance(v, DynRef):
        return f"an entry of {v.container.path}"
    return _cut(_REPR.repr(v))


_REPR = reprlib.Repr()  # a value's repr for a message, its depth and lengths cut before it is made
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 60, 60


def _near(name: str, registry: dict, kind: str) -> str:
    """The registered names closest to ``name``, and where to find them all (``nnspec ops``)."""
    import difflib

    close = difflib.get_close_matches(name, list(registry), n=3, cutoff=0.6)
    every = f"`nnspec ops --kind {kind}` lists them all"
    return f"did you mean {', '.join(close)}? {every}" if close else every


_STATEMENTS = {ast.While: "while", ast.Import: "import", ast.ImportFrom: "import", ast.With: "with",
               ast.Try: "try", ast.Raise: "raise", ast.Global: "global", ast.Nonlocal: "nonlocal",
               ast.Delete: "del", ast.FunctionDef: "def", ast.ClassDef: "class", ast.AsyncFunctionDef: "async def",
               ast.Assert: "assert", ast.AsyncFor: "async for", ast.AsyncWith: "async with"}


def _statement_name(s: ast.stmt) -> str:
    return f"'{_STATEMENTS[type(s)]}'" if type(s) in _STATEMENTS else type(s).__name__


_EXPRESSIONS = {ast.Lambda: "lambda", ast.ListComp: "a list comprehension", ast.SetComp: "a set comprehension",
                ast.DictComp: "a dict comprehension", ast.GeneratorExp: "a generator expression",
                ast.JoinedStr: "an f-string", ast.Dict: "a dict display", ast.Set: "a set display",
                ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield from", ast.NamedExpr: "':='",
                ast.Starred: "a starred expression"}


def _expression_name(e: ast.expr) -> str:
    return _EXPRESSIONS.get(type(e), type(e).__name__)


MAX_VARIANTS = 64  # ways one module's forward is called (each compiled once)


def module_text(module: nn.Module, method: str) -> str | None:
    """What a ``def extra_repr(self)`` or ``def __repr__(self)`` of the module's forward text returns, evaluated
    when compiling (None where it has no such method): a str of the module's hyperparameters."""
    d = module.__dict__
    program = d.get("_forward_program")
    if program is None or method not in program.methods:
        return None
    code = program.methods[method]
    compiler = Compiler(module, program, None, bool(module.training), d["_forward_path"], d["_forward_functions"], {})
    value = _guard(d["_forward_path"], program.source,
                   lambda: compiler.checked(compiler.inline, UserFunction(code, ModRef(module, "")), [], {}, code.fn),
                   compiler.log)
    if not isinstance(value, str):
        raise CompileError(f"{method}() must return a str, not {_describe(value)}", path=d["_forward_path"] or "(root)",
                           position=program.source.position(code.fn.lineno, code.fn.col_offset))
    return value


def _guard(path: str, source: ForwardSource, compile_: Any, log: ErrorLog | None = None) -> Any:
    """``compile_()``, with Python's own limits as placed errors (reported with the mistakes in ``log``, the
    compiler's, found before the limit was hit)."""
    try:
        return compile_()
    except RecursionError:
        error = CompileError("forward nests too deeply to compile", path=f"{path or '(root)'}.forward",
                             position=source.position(1, 0))
        if log:
            log.add(error)
            raise log.error() from None
        raise error from None
    except MemoryError:
        raise CompileError("forward needs more memory to compile than there is", path=f"{path or '(root)'}.forward",
                           position=source.position(1, 0)) from None


def _mode_independent(program: Program, functions: dict[str, FunctionCode]) -> bool:
    """Whether no text the forward may compile says ``training``: then one graph serves both modes."""
    return "training" not in program.source.code and not any("training" in f.source.code for f in functions.values())


def attach_forward(module: nn.Module, source: ForwardSource, inputs: list[str] | None, path: str = "",
                   functions: dict[str, FunctionCode] | None = None) -> None:
    """Give ``module`` the forward of ``source`` (with the file's ``functions``), compiled now for its default
    call, one graph per mode: ``_forward_graphs`` = {True: train graph, False: eval graph}.

    The mode reaches a graph only through a ``training`` attribute (``self.training``, ``self.bn.training``):
    submodules called from it pick their own mode when they run. A forward whose text never says ``training``
    compiles once, and both modes share that graph. Another way of calling it (``mask=None`` given a value,
    a list of arrays, a flag) compiles when it first happens (``forward_graph``). A forward that tests an
    input's size is compiled per input shape, when it runs.

    The forward's mistakes, those of each mode and those around its defs, are raised together. Where its text
    can't be read at all, the module is marked ``_forward_broken``: the forwards that use it skip those uses."""
    d = module.__dict__
    try:
        program = _guard(path, source, lambda: parse_program(source.code, source, inputs))
    except CompileError:
        d["_forward_broken"] = True  # what its text defines is unknown: the forwards using it are not checked there
        raise
    d.update(_forward_program=program, _forward_functions=dict(functions or {}), _forward_path=path,
             _forward_variants={}, _forward_shaped=False, _forward_graphs={})
    problems = ErrorLog(program.problems)  # the mistakes around its defs, reported with the forward's own
    compiler = Compiler(module, program, None, True, path, d["_forward_functions"])
    try:
        d["_forward_defaults"] = defaults = _guard(path, source, lambda: compiler.checked(compiler.default_binding), compiler.log)
    except CompileError as e:
        problems.add(e)
        raise problems.error() from None
    # found once here, not at each call: one graph for both modes where the text never says training
    d["_forward_one_mode"] = _mode_independent(program, d["_forward_functions"])
    modes = (True,) if d["_forward_one_mode"] else (True, False)
    errors = ErrorLog()  # each mode's, a mistake found in both reported once
    consequence: Consequence | None = None  # not compiled, for a mistake reported elsewhere
    for mode in modes:
        try:
            d["_forward_graphs"][mode] = _compile(module, mode, defaults)
        except NeedsShapes:
            if errors or problems:
                break
            d["_forward_shaped"], d["_forward_graphs"] = True, {}
            return
        except Consequence as e:
            consequence = e
        except CompileError as e:
            errors.add(e)
    if (errors or consequence) and any(v is None for v in defaults.values()):
        # Hugging Face's forwards default every input to None, and their default call raises ("You have to
        # specify either input_ids or inputs_embeds"): such a forward is compiled when it is called, for how
        # it is called (its errors are placed then)
        errors, consequence = ErrorLog(), None
        d["_forward_graphs"] = {}
        if not problems:
            return
    if errors or problems:
        raise ErrorLog([*problems.errors, *errors.errors]).error()
    if consequence is not None:
        raise consequence
    if len(modes) == 1:
        d["_forward_graphs"][False] = d["_forward_graphs"][True]
    for mode in modes:  # the default call is the first variant of each mode
        d["_forward_variants"][(mode if len(modes) == 2 else None, _key(defaults))] = d["_forward_graphs"][mode]


def compile_forward(module: nn.Module, source: ForwardSource, inputs: list[str] | None, path: str = "",
                    functions: dict[str, FunctionCode] | None = None) -> dict:
    """``attach_forward``, returning the default graphs ({} for a forward compiled per input shape)."""
    attach_forward(module, source, inputs, path, functions)
    return module.__dict__["_forward_graphs"]


def _compile(module: nn.Module, mode: bool, binding: dict, values: list | None = None) -> Graph:
    d = module.__dict__
    program, path = d["_forward_program"], d["_forward_path"]
    compiler = Compiler(module, program, None, mode, path, d["_forward_functions"], binding, values)
    return _guard(path, program.source, compiler.compile, compiler.log)


def _spec(value: Any, shaped: bool) -> Any:
    """What a forward is compiled for, given a call's value: a Leaf for an array (or a run-time size),
    the value itself for a constant, the same for the items of a tuple, list or dict."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        if not shaped:
            return Leaf()
        return Leaf(tuple(d if type(d) is int else str(d) for d in value.shape), str(value.dtype))
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        items = [_spec(v, shaped) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict) and all(isinstance(k, (str, int)) for k in value):
        return {k: _spec(v, shaped) for k, v in value.items()}
    return Leaf()  # a run-time size (symbolic in static inference), or another value the run makes


def _key(spec: Any) -> Any:
    if isinstance(spec, list):
        return ("list",) + tuple(_key(v) for v in spec)
    if isinstance(spec, tuple):
        return ("tuple",) + tuple(_key(v) for v in spec)
    if isinstance(spec, dict):
        return ("dict",) + tuple((k, _key(v)) for k, v in spec.items())
    return (type(spec).__name__, spec)  # 1, 1.0 and True apart


def _flatten(value: Any, spec: Any, out: list) -> list:
    if isinstance(spec, Leaf):
        out.append(value)
    elif isinstance(spec, (tuple, list)):
        for v, s in zip(value, spec):
            _flatten(v, s, out)
    elif isinstance(spec, dict):
        for k, s in spec.items():
            _flatten(value[k], s, out)
    return out


def bind_call(module: nn.Module, args: tuple, kwargs: dict) -> dict[str, Any]:
    """A call's values by parameter name, as Python binds them (an omitted parameter takes its default)."""
    from ..errors import NNSpecRuntimeError

    d = module.__dict__
    program, defaults = d["_forward_program"], d["_forward_defaults"]
    name = f"{module._get_name()}.forward"
    a = program.params
    if a is None:
        positional, kwonly, vararg, kwarg = list(program.inputs), [], None, None
    else:
        positional = [p.arg for p in (a.posonlyargs + a.args)[1:]]
        kwonly = [p.arg for p in a.kwonlyargs]
        vararg, kwarg = (a.vararg.arg if a.vararg else None), (a.kwarg.arg if a.kwarg else None)
    if len(args) > len(positional) and vararg is None:
        raise NNSpecRuntimeError(f"{name} takes {len(positional)} input(s) ({', '.join(positional)}), "
                                 f"got {len(args)}")
    values: dict[str, Any] = dict(zip(positional, args))
    if vararg is not None:
        values[vararg] = tuple(args[len(positional):])
    rest: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in values or key not in positional + kwonly and kwarg is None:
            raise NNSpecRuntimeError(f"{name} got an unexpected or repeated input {key!r}; its inputs are "
                                     f"{', '.join(positional + kwonly)}")
        if key in positional or key in kwonly:
            values[key] = value
        else:
            rest[key] = value
    if kwarg is not None:
        values[kwarg] = rest
    missing = [n for n in positional + kwonly if n not in values and isinstance(defaults.get(n, Leaf()), Leaf)]
    if missing:
        raise NNSpecRuntimeError(f"{name} is missing input(s) {', '.join(missing)}")
    return {n: values[n] if n in values else defaults[n] for n in defaults}


def forward_graph(module: nn.Module, args: tuple, kwargs: dict) -> tuple[Graph, list]:
    """The graph compiled for this call of ``module``'s forward (compiled now if it is a new way of calling
    it), and the call's run-time values in its placeholders' order."""
    from ..errors import NNSpecRuntimeError

    d = module.__dict__
    values = bind_call(module, args, kwargs)
    mode = bool(module.training)
    for _ in range(2):
        spec = {n: _spec(v, d["_forward_shaped"]) for n, v in values.items()}
        key = (None if d["_forward_one_mode"] else mode, _key(spec))
        graph = d["_forward_variants"].get(key)
        if graph is None:
            if len(d["_forward_variants"]) >= MAX_VARIANTS:
                raise NNSpecRuntimeError(f"{module._get_name()}.forward was called in more than {MAX_VARIANTS} "
                                         "ways (argument values, or input shapes where it tests them); each compiles "
                                         "a graph, so nnspec stops there")
            try:
                graph = _compile(module, mode, spec, _flatten(values, spec, []))
            except NeedsShapes:
                d["_forward_shaped"] = True
                continue
            if not getattr(graph, "assumes_sizes", False):  # else compiled again per call, its assumptions again
                d["_forward_variants"][key] = graph
        return graph, _flatten(values, spec, [])
    raise AssertionError("unreachable: a forward compiled for shapes never asks for them again")


def _deep_line(code: str) -> int:
    """The line of a forward that Python's parser could not nest: its longest (the first where several are)."""
    lines = code.splitlines() or [""]
    return max(range(len(lines)), key=lambda i: len(lines[i])) + 1


MAX_WALKED = 10_000  # values _mutables and _reaches look at in one value; past them it is taken to reach one


def _walk(value: Any) -> list:
    """The tuples, lists and dicts inside ``value``, itself first: at most MAX_WALKED, then None."""
    stack, seen, found = [value], set(), []
    while stack:
        v = stack.pop()
        if not isinstance(v, (tuple, list, dict)) or id(v) in seen:
            continue
        if len(found) >= MAX_WALKED:
            found.append(None)
            break
        seen.add(id(v))
        found.append(v)
        stack.extend(v.values() if isinstance(v, dict) else v)
    return found


def _mutables(value: Any, out: set[int]) -> int:
    """Add the ids of the lists and dicts inside ``value`` (a statement with a mistake may have half-changed
    them, through a tuple or an alias as well as by name); returns the values looked at."""
    found = _walk(value)
    for v in found:
        if v is None:
            out.add(-1)  # too large to look through: everything that holds a list or dict is suspect
        elif isinstance(v, (list, dict)):
            out.add(id(v))
    return len(found)


def _reaches(value: Any, ids: set[int]) -> tuple[bool, int]:
    """Whether ``value`` holds one of the lists or dicts ``ids`` names (any one, where ``ids`` holds -1), and
    the values looked at."""
    found = _walk(value)
    return any(v is None or isinstance(v, (list, dict)) and (id(v) in ids or -1 in ids) for v in found), len(found)


def _cut(text: str, limit: int = 80) -> str:
    """A value's text, cut so an error message stays one readable line."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


__all__ = ["Compiler", "attach_forward", "compile_forward", "forward_graph", "MAX_NODES"]


def evaluate(expression: str, names: dict[str, Any], source: ForwardSource) -> Any:
    """A constant expression (a block's ``${...}`` or ``when:``) by the forward compiler's own folding rules:
    the same names, builtins, bounded arithmetic and refusals, with ``names`` as its variables. A value
    that would depend on an input is an error (there are none)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as e:
        raise CompileError(f"invalid expression {_cut(expression)!r}: {e.msg}", position=source.position(1, 0)) \
            from None
    except (MemoryError, RecursionError):  # Python's parser on 100,000 nested operators (not not ... x)
        raise CompileError("expression nests too deeply to parse", position=source.position(1, 0)) from None
    compiler = Compiler(nn.Module(), ForwardSource("pass"), [], False)
    compiler.source = source
    compiler.env = dict(names)
    try:
        value = compiler.checked(compiler.expr, tree.body)
    except RecursionError:
        raise CompileError("expression nests too deeply", position=source.position(1, 0)) from None
    except ERRORS as e:  # Python refused it, as a forward's statement would be: 1 < 'a' names '<' and the types
        raise CompileError(f"cannot evaluate {_cut(expression)!r}: {type(e).__name__}: {_cut(str(e))}",
                           position=source.position(1, 0)) from None
    if not isinstance(value, PLAIN_CONSTANTS) and not _is_const_tuple(value) and not isinstance(value, list):
        raise CompileError(f"{_cut(expression)!r} is not a constant ({_describe(value)})", position=source.position(1, 0))
    return value
