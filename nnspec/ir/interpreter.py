"""Run a Graph on the module that owns it: one dispatch per op kind, errors placed in the model file.

Arrays the forward makes from sizes alone (``torch.arange(n)``) are made by the array module of its
inputs (or of the module's state): NumPy, CuPy, or shape-only arrays in static inference. The items
of ``*value`` (an ``operator.splat`` node) are spliced into the call or display that holds it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from .. import nn
from ..errors import NNSpecError, NNSpecRuntimeError, ShapeError
from ..runtime import tensor as T
from ..runtime.backend import get_array_module
from ..runtime.symbolic import Dim, SymbolicFloat
from .graph import Graph, Node, _nodes_in, map_args

# observers of functional ops inside forwards: the shape trace listens here
_op_observers: ContextVar[tuple[Callable, ...]] = ContextVar("nnspec_op_observers", default=())


def observe_ops(observer: Callable[[nn.Module, Node, tuple, dict, Any, float], None]):
    """Call ``observer(module, node, args, kwargs, result, ms)`` after every call_function/call_method;
    returns a token."""
    return _op_observers.set(_op_observers.get() + (observer,))


def stop_observing(token) -> None:
    _op_observers.reset(token)


def _shape(v: Any) -> str:
    if hasattr(v, "shape") and hasattr(v, "dtype"):
        return "(" + ", ".join(map(str, v.shape)) + ("," if len(v.shape) == 1 else "") + ")"
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(_shape(x) for x in v) + "]"
    if isinstance(v, (Dim, SymbolicFloat)):  # a size in static inference: its formula, where it is short
        return str(v) if len(str(v)) <= 40 else "a symbolic size"
    return repr(v) if isinstance(v, (int, float, str, bool, type(None))) else type(v).__name__


class Interpreter:
    """Evaluates a graph's nodes in order against ``module``."""

    def __init__(self, module: nn.Module, graph: Graph):
        self.module = module
        self.graph = graph

    def run(self, *args: Any, **kwargs: Any) -> Any:
        inputs = self.graph.placeholders
        if kwargs:  # inputs by name, as a torch forward takes them
            names = [n.target for n in inputs]
            unknown = [k for k in kwargs if k not in names[len(args):]]
            if unknown:
                raise NNSpecRuntimeError(f"{self.module._get_name()}.forward got unexpected or repeated input(s) "
                                         f"{', '.join(unknown)}; its inputs are {', '.join(names)}")
            rest = names[len(args):]
            if any(n not in kwargs for n in rest):
                missing = [n for n in rest if n not in kwargs]
                raise NNSpecRuntimeError(f"{self.module._get_name()}.forward is missing input(s) {', '.join(missing)}")
            args = args + tuple(kwargs[n] for n in rest)
        if len(args) != len(inputs):
            names = ", ".join(n.target for n in inputs)
            raise NNSpecRuntimeError(
                f"{self.module._get_name()}.forward takes {len(inputs)} input(s) ({names}), got {len(args)}"
            )
        with T.array_module(_array_module(args, self.module)):
            return self._run(args, inputs)

    def _run(self, args: tuple, inputs: list[Node]) -> Any:
        env: dict[int, Any] = {}
        observers = _op_observers.get()
        splices = _splicing_nodes(self.graph)
        for node in self.graph.nodes:
            if node.op == "placeholder":
                env[id(node)] = args[inputs.index(node)]
                continue
            if id(node) in splices:
                a, kw = _spliced(node.args, env), _spliced(node.kwargs, env)
            else:
                a = map_args(node.args, lambda n: env[id(n)])
                kw = map_args(node.kwargs, lambda n: env[id(n)])
            if node.op == "output":
                return a[0]
            start = time.perf_counter()
            try:
                env[id(node)] = result = self.execute(node, a, kw, env)
            except NNSpecError as e:
                if e.position is None and node.position is not None:  # an op's own error: place it here
                    e.position = node.position
                    if node.op != "call_module" and node.target != "operator.check":  # a module's error names
                        # its own op; a failed assert is its own line
                        own = node.target.removeprefix("operator.").split(".")[-1] + ": "
                        message = e.message[len(own):] if e.message.startswith(own) else e.message
                        e.message = f"{_describe(node)} on {', '.join(_shape(x) for x in a)}: {message}"
                raise
            except MemoryError:
                shapes = ", ".join(_shape(x) for x in a)
                raise NNSpecRuntimeError(f"{_describe(node)} on {shapes}: out of memory",
                                         position=node.position) from None
            except (ValueError, TypeError, IndexError, KeyError, ArithmeticError, AttributeError) as e:
                shapes = ", ".join(_shape(x) for x in a)
                raise ShapeError(f"{_describe(node)} on {shapes}: {type(e).__name__}: {e}",
                                 position=node.position) from None
            if observers and node.op in ("call_function", "call_method"):
                ms = (time.perf_counter() - start) * 1e3
                for observe in observers:
                    observe(self.module, node, a, kw, result, ms)
        raise NNSpecRuntimeError(f"graph {self.graph.name} has no output")  # lint() makes this unreachable

    def execute(self, node: Node, args: tuple, kwargs: dict, env: dict) -> Any:
        op = node.op
        if op == "get_attr":
            target = self._resolve(node, env)
            return target.data if isinstance(target, nn.Parameter) else target
        if op == "call_module":
            return self._resolve(node, env)(*args, **kwargs)
        if op == "call_function":
            fn = T.OPERATORS[node.target.removeprefix("operator.")] if node.target.startswith("operator.") \
                else T.FUNCTIONS[node.target]
            return fn(*args, **kwargs)
        if op == "call_method":
            return T.METHODS[node.target](*args, **kwargs)
        raise NNSpecRuntimeError(f"unknown op {op!r}")

    def _resolve(self, node: Node, env: dict) -> Any:
        """The submodule, parameter or buffer a node names, looked up when it runs (and its run-time key)."""
        target = self._lookup(node.target)
        if node.key is not None:
            key = env[id(node.key)]
            if not isinstance(key, str):
                what = f"an array of size {list(key.shape)}" if hasattr(key, "shape") else f"{type(key).__name__} {key!r}"
                raise NNSpecRuntimeError(f"{node.target}: a key must be a string, got {what} "
                                         f"(keys: {', '.join(target.keys())})")
            if key not in target:
                raise NNSpecRuntimeError(f"{node.target} has no key {key!r} (keys: {', '.join(target.keys())})")
            target = target[key]
        return target

    def _lookup(self, path: str) -> Any:
        target: Any = self.module
        for part in path.split("."):
            if isinstance(target, nn.Module) and part in target._modules:
                target = target._modules[part]
            elif isinstance(target, nn.Module) and part in target._parameters:
                target = target._parameters[part]
            elif isinstance(target, nn.Module) and part in target._buffers:
                target = target._buffers[part]
            else:
                raise NNSpecRuntimeError(f"{self.module._get_name()} has no attribute {path!r} any more")
        return target


def _array_module(args: tuple, module: nn.Module) -> Any:
    """The array module of the forward's first array input, else of the module's state, else NumPy."""
    for a in args:
        data = a.data if isinstance(a, nn.Parameter) else a
        if hasattr(data, "shape") and hasattr(data, "dtype") and not isinstance(data, (int, float, bool)):
            return get_array_module(data)
    for p in module.parameters():
        return get_array_module(p.data)
    for b in module.buffers():
        return get_array_module(b)
    return get_array_module()


def _is_splat(n: Any) -> bool:
    return isinstance(n, Node) and n.op == "call_function" and n.target == "operator.splat"


def _splicing_nodes(graph: Graph) -> frozenset[int]:
    """The nodes with a ``*value`` among their arguments (found once per graph)."""
    found = graph.__dict__.get("_splicing_nodes")
    if found is None:
        found = frozenset(id(n) for n in graph.nodes if any(_is_splat(m) for m in _nodes_in((n.args, n.kwargs))))
        graph.__dict__["_splicing_nodes"] = found
    return found


def _spliced(value: Any, env: dict, constant: Callable[[Any], Any] | None = None) -> Any:
    """map_args, with the items of each splat node spliced into the tuple or list that holds it; each constant
    passed through ``constant`` where given (to_torch makes nnspec's dtypes torch's)."""
    if isinstance(value, Node):
        return env[id(value)]
    if isinstance(value, (tuple, list)):
        items: list = []
        for v in value:
            if _is_splat(v):
                items.extend(env[id(v)])
            else:
                items.append(_spliced(v, env, constant))
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {k: _spliced(v, env, constant) for k, v in value.items()}
    if isinstance(value, slice):
        return slice(*(_spliced(v, env, constant) for v in (value.start, value.stop, value.step)))
    return value if constant is None else constant(value)


def _describe(node: Node) -> str:
    if node.op == "call_module":
        return f"self.{node.target}(...)"
    if node.op == "call_method":
        return f".{node.target}()"
    if node.op == "get_attr":
        return f"self.{node.target}"
    return node.target.removeprefix("operator.")
