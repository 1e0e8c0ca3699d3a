"""Compile a torch-style ``forward`` (Python text from a model file) into a Graph, never running it.

The text is parsed with ``ast`` and walked once. Everything the compiler can know
is folded at compile time: constants (``math.sqrt(2)``, ``torch.finfo(torch.float16).min``), submodule
lookups, ``for`` loops over ModuleLists, ``range`` or ``enumerate`` (unrolled), and ``if`` tests on
hyperparameters. What is left becomes graph nodes: the ops, and the Python a value only known when the
forward runs needs (``math.sqrt(k.size(-1))``, ``len(x)``, comparisons and ``*`` unpacking of tensors and
sizes). Any construct outside this
language is a CompileError at its file position, and nothing runs.
"""

from __future__ import annotations

import ast
import operator
import reprlib
from dataclasses import dataclass
from typing import Any

from .. import nn
from ..errors import CompileError, NNSpecError
from ..runtime import tensor as T
from ..runtime.pyfuncs import MATH_CONSTANTS
from ..runtime.scalars import ERRORS, MAX_SEQ, checked
from ..runtime.values import (ATTRIBUTES, DTYPES, RETURN_TYPES, TORCH_CONSTANTS, UNSUPPORTED_DTYPES, VALUE_TYPES,
                              value_attribute)
from .graph import Graph, Node
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


NAMESPACES = {"F": "F", "torch": "torch", "nn": "nn", "math": "math"}
ALIASES = {"torch.nn.functional": "F", "torch.nn": "nn", "nn.functional": "F"}
BUILTINS = {"range", "enumerate", "len", "zip", "int", "float", "bool", "min", "max", "abs", "tuple", "list",
            "reversed", "round"}
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
_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
        ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not, ast.In: lambda a, b: a in b,
        ast.NotIn: lambda a, b: a not in b}


def parse_forward(code: str, source: ForwardSource, inputs: list[str] | None) -> tuple[list[ast.stmt], list[str]]:
    """(body statements, input names) of a forward given with or without its ``def forward(self, ...)``."""
    try:
        tree = ast.parse(code, mode="exec")
    except SyntaxError as e:
        raise CompileError(f"forward: invalid Python syntax: {e.msg}",
                           position=source.position(e.lineno or 1, (e.offset or 1) - 1)) from None
    except (MemoryError, RecursionError):  # Python's parser on 100,000 nested operators (------x): its stack
        raise CompileError("forward nests too deeply to parse", position=source.position(_deep_line(code), 0)) \
            from None
    body = tree.body
    if len(body) == 1 and isinstance(body[0], ast.FunctionDef):
        fn = body[0]
        where = source.position(fn.lineno, fn.col_offset)
        if fn.name != "forward":
            raise CompileError(f"the function must be named forward, not {fn.name!r}", position=where)
        a = fn.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs or a.defaults:
            raise CompileError("forward takes plain positional inputs only (no defaults, *args or **kwargs)",
                               position=where)
        names = [arg.arg for arg in a.args]
        if not names or names[0] != "self":
            raise CompileError("forward's first parameter must be self", position=where)
        names = names[1:]
        if inputs is not None and list(inputs) != names:
            raise CompileError(f"inputs: {list(inputs)} disagrees with the forward header's {names}", position=where)
        if fn.decorator_list:
            raise CompileError("decorators are not supported", position=where)
        return fn.body, names
    return body, list(inputs) if inputs is not None else ["x"]


class Compiler:
    """Compiles one module's forward for one mode (``training`` is a compile-time constant)."""

    def __init__(self, module: nn.Module, source: ForwardSource, inputs: list[str] | None, training: bool,
                 path: str = ""):
        self.module = module
        self.source = source
        self.training = training
        self.path = path
        self.body, self.inputs = parse_forward(source.code, source, inputs)
        self.graph = Graph(f"{module._get_name()}.forward")
        self.env: dict[str, Any] = {}
        self.state_nodes: dict[str, Node] = {}
        self.steps = 0
        self.where: ast.AST | None = None

    # ------------------------------------------------------------------ entry

    def compile(self) -> Graph:
        for name in self.inputs:
            self.env[name] = self.graph.create_node("placeholder", name, name=name)
        try:
            self.block(self.body)
            value = None
        except _Return as r:
            value = r.value
        except (_Break, _Continue):
            raise self.error("break or continue outside a loop") from None
        self.graph.create_node("output", "output", (self.materialize(value),), name="output")
        self.graph.lint()
        return self.graph

    # ------------------------------------------------------------------ helpers

    def error(self, message: str, node: ast.AST | None = None) -> CompileError:
        node = node or self.where
        pos = self.source.position(node.lineno, node.col_offset) if node is not None and hasattr(node, "lineno") \
            else self.source.position(1, 0)
        return CompileError(message, path=f"{self.path or '(root)'}.forward", position=pos)

    def emit(self, op: str, target: str, args=(), kwargs=None, name=None, key=None, at: ast.AST | None = None) -> Node:
        """A new node, placed at ``at`` (the expression it computes), else at the statement being compiled."""
        if len(self.graph.nodes) >= MAX_NODES:
            raise self.error(f"forward unrolls to more than {MAX_NODES:,} graph nodes")
        where = at if at is not None and hasattr(at, "lineno") else self.where
        pos = self.source.position(where.lineno, where.col_offset) if where is not None else None
        return self.graph.create_node(op, target, args, kwargs, name=name, position=pos, key=key)

    def step(self, work: int = 1) -> None:
        """Count compile-time work (statements, loop iterations, items of sequences handled)."""
        self.steps += work
        if self.steps > MAX_STEPS:
            raise self.error(f"forward unrolls to more than {MAX_STEPS:,} steps")

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
        for stmt in stmts:
            self.where = stmt
            self.step()
            try:
                self.statement(stmt)
            except NNSpecError as e:
                if isinstance(e, CompileError):
                    raise
                raise self.error(e.message) from None  # bounded arithmetic refused a constant
            except ERRORS as e:  # Python refused a compile-time evaluation: 'abc'[::0], range(10**20), ...
                raise self.error(f"cannot evaluate this when compiling: {type(e).__name__}: {_cut(str(e))}") from None

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
            raise self.error("an if must be decidable when the model is compiled (a hyperparameter, a constant, "
                             "or whether a submodule is None); this one depends on the input", test)
        return bool(self.truth(value))

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

    def lookup(self, name: str, where: ast.AST) -> Any:
        if name in self.env:
            return self.env[name]
        if name == "self":
            return Self()
        if name in NAMESPACES:
            return Namespace(NAMESPACES[name])
        if name in BUILTINS:
            return Builtin(name)
        if name in REFUSED_NAMES:
            raise self.error(f"{name!r} is not allowed in a forward", where)
        m = self.module
        if name in m._modules or name in m._parameters or name in m._buffers:  # `conv1(x)` as `self.conv1(x)`
            return self.member(ModRef(m, ""), name)
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
        if isinstance(e, ast.BinOp):
            return self.binary(e.op, self.expr(e.left), self.expr(e.right), e)
        if isinstance(e, ast.UnaryOp):
            return self.unary(e.op, self.expr(e.operand), e)
        if isinstance(e, ast.Compare):
            return self.compare(e)
        if isinstance(e, ast.BoolOp):
            return self.boolop(e)
        if isinstance(e, ast.IfExp):
            return self.expr(e.body) if self.const_test(e.test) else self.expr(e.orelse)
        if isinstance(e, (ast.Tuple, ast.List)):
            items = self.items(e.elts, e)
            value = self.measure(tuple(items) if isinstance(e, ast.Tuple) else items, e)
            if any(isinstance(v, Spread) for v in items):  # (*x.shape, 1): a value the run makes
                kind = "tuple" if isinstance(e, ast.Tuple) else "list"
                return self.emit("call_function", f"builtins.{kind}", (self.materialize(list(items)),), name=kind,
                                 at=e)
            return value
        if isinstance(e, ast.Slice):
            return self.index(e)
        raise self.error(f"{_expression_name(e)} is not supported in a forward", e)

    def items(self, elts: list[ast.expr], where: ast.AST) -> list:
        """The values of a call's positional arguments or a display's items, ``*value`` spliced in: now where
        value is known (a tuple, a list, a range), when the forward runs where it is computed there."""
        out: list = []
        for x in elts:
            if not isinstance(x, ast.Starred):
                out.append(self.expr(x))
                continue
            value = self.expr(x.value)
            if isinstance(value, (tuple, list, range)):
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
        if isinstance(base, Self):
            value = self.member(ModRef(self.module, ""), name)
            if value is None:
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
                raise self.error(f"{base.path} ({base.module._get_name()}) has no submodule, parameter, buffer or "
                                 f"hyperparameter {name!r}", e)
            return value
        if isinstance(base, Namespace):
            full = ALIASES.get(f"{base.name}.{name}", f"{base.name}.{name}")
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
        if isinstance(base, (Node, StateRef, DynRef)):
            obj = self.materialize(base)
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
                    raise self.error(f"{base.path} has no key {key!r} (keys: {', '.join(registry)})", e)
                return StateRef(_join(base.path, key)) if isinstance(m, nn.ParameterDict) else \
                    ModRef(registry[key], _join(base.path, key))
            raise self.error(f"{base.path} ({m._get_name()}) can't be indexed", e)
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
        fn = self.expr(e.func)
        if any(k.arg is None for k in e.keywords):
            raise self.error("**kwargs in calls are not supported", e)
        args = self.items(e.args, e)
        kwargs = {k.arg: self.expr(k.value) for k in e.keywords}
        self.where = e
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
            if isinstance(m, (nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)):
                raise self.error(f"{fn.path} is a {m._get_name()}: call one of its entries", e)
            if isinstance(m, nn.UserModule) and not m._forward_graphs:
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
                # a submodule, parameter or tensor is never None; an absent one compiled to None. An input is
                # compiled as given: the graph notes it, and a call that passes None is refused when it runs
                for side in (left, right):
                    if isinstance(side, Node) and side.op == "placeholder":
                        self.graph.never_none.setdefault(side.target, self.source.position(e.lineno, e.col_offset))
                same = (left is None) and (right is None)
                result = same if isinstance(op, ast.Is) else not same
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
    if isinstance(v, slice):
        return any(_has_node(x) for x in (v.start, v.stop, v.step))
    return False


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


def compile_forward(module: nn.Module, source: ForwardSource, inputs: list[str] | None, path: str = "") -> dict:
    """The graphs of a forward, one per mode: {True: train graph, False: eval graph}.

    The mode reaches a graph only through a ``training`` attribute (``self.training``, ``self.bn.training``):
    submodules called from it pick their own mode when they run. A forward whose text never says ``training``
    compiles once, and both modes share that graph (half the compile time of a model of many modules)."""
    try:
        if "training" not in source.code:
            graph = Compiler(module, source, inputs, True, path).compile()
            return {True: graph, False: graph}
        return {mode: Compiler(module, source, inputs, mode, path).compile() for mode in (True, False)}
    except RecursionError:
        raise CompileError("forward nests too deeply to compile", path=f"{path or '(root)'}.forward",
                           position=source.position(1, 0)) from None
    except MemoryError:
        raise CompileError("forward needs more memory to compile than there is", path=f"{path or '(root)'}.forward",
                           position=source.position(1, 0)) from None


def _deep_line(code: str) -> int:
    """The line of a forward that Python's parser could not nest: its longest (the first where several are)."""
    lines = code.splitlines() or [""]
    return max(range(len(lines)), key=lambda i: len(lines[i])) + 1


def _cut(text: str, limit: int = 80) -> str:
    """A value's text, cut so an error message stays one readable line."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


__all__ = ["Compiler", "compile_forward", "MAX_NODES"]


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
        value = compiler.expr(tree.body)
    except RecursionError:
        raise CompileError("expression nests too deeply", position=source.position(1, 0)) from None
    except ERRORS as e:  # Python refused it, as a forward's statement would be: 1 < 'a' names '<' and the types
        raise CompileError(f"cannot evaluate {_cut(expression)!r}: {type(e).__name__}: {_cut(str(e))}",
                           position=source.position(1, 0)) from None
    if not isinstance(value, PLAIN_CONSTANTS) and not _is_const_tuple(value) and not isinstance(value, list):
        raise CompileError(f"{_cut(expression)!r} is not a constant ({_describe(value)})", position=source.position(1, 0))
    return value
