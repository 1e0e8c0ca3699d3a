"""A torch.nn.Module written out as a model file and its weights: ``nnspec.from_torch`` (``nnspec import``).

The module tree is kept as it is, so the file's state_dict is the module's key for key:

- a torch.nn layer is an entry of its type with its constructor's arguments, read back from the layer
  (``Conv2d(3, 64, kernel_size=7, ...)`` has ``in_channels``, ``kernel_size``, ...; ``bias`` is whether it
  has one); only those that differ from the default are written;
- a torch.nn container is that container; a subclass of one (torchvision's ``Conv2dNormActivation``, a
  Sequential) or of a layer keeps its class name, and its own forward where it has one;
- any other module is a user-defined module of its class name, with its own parameters and buffers
  (shapes and dtypes; the values go to the weights file) and its children.

Each forward of a module that is not torch.nn's own is traced with ``torch.fx``, that module alone (its
children are calls), and written as forward text: one line per traced op, in torch's spelling
(``F.relu``, ``torch.flatten``, ``x.view(...)``, ``a + b``). Arguments that default to None are fixed at
None while tracing. What fx cannot trace (a branch on a tensor's value), a function nnspec does not know,
or a layer it does not have is an ``ImportFromTorchError`` naming the module.

The file is checked before it is returned: nnspec builds it, and its repr and state_dict layout must be
the module's; with ``example_inputs``, its outputs must equal the module's within 1e-4.
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import math
import operator
import re
from pathlib import Path
from typing import Any

import numpy

from .. import nn
from ..errors import NNSpecError
from ..runtime import tensor as T
from .to_torch import CONTAINERS

_KEYWORDS = frozenset(keyword.kwlist) | {"F", "torch", "math", "nn", "Tensor"}


# arguments a layer does not keep under their own name: how to read them back
_DERIVED = {
    "bias": lambda m: (m.in_proj_bias is not None) if hasattr(m, "in_proj_bias") else
    (m._parameters.get("bias") is not None),
    "add_bias_kv": lambda m: m.bias_k is not None,
}

_BINARY = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/", operator.floordiv: "//",
           operator.mod: "%", operator.pow: "**", operator.matmul: "@", operator.and_: "&", operator.or_: "|",
           operator.xor: "^", operator.eq: "==", operator.ne: "!=", operator.lt: "<", operator.le: "<=",
           operator.gt: ">", operator.ge: ">="}
_UNARY = {operator.neg: "-", operator.pos: "+", operator.invert: "~", operator.not_: "not "}


class ImportFromTorchError(NNSpecError):
    """A torch module nnspec cannot write as a model file."""


def from_torch(module: Any, example_inputs: tuple = (), *, path: str | Path | None = None,
               weights: str | Path | None = None) -> dict:
    """``module`` as a model file's data (a dict, as ``nnspec.from_dict`` takes it), written as YAML to ``path``
    and its state to ``weights`` (.safetensors or .npz) where given. Checked as the module says above."""
    import torch

    if not isinstance(module, torch.nn.Module):
        raise ImportFromTorchError(f"from_torch takes a torch.nn.Module, not {type(module).__name__}")
    data = _Writer(torch).module(module, "")
    state = {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}
    _check(module, data, state, example_inputs, torch)
    if path is not None:
        _write_yaml(data, Path(path), module)
    if weights is not None:
        from ..weights import save_weights

        save_weights(state, weights)
    return data


# ---------------------------------------------------------------------- the module tree
class _Writer:
    def __init__(self, torch: Any):
        self.torch = torch
        self.seen: dict[int, str] = {}

    def module(self, m: Any, path: str) -> dict:
        torch = self.torch
        if id(m) in self.seen:
            raise ImportFromTorchError(f"{path} is the module {self.seen[id(m)]} again: a module shared "
                                       "between two places is not written yet")
        self.seen[id(m)] = path or "(root)"
        cls = type(m)
        base = _torch_base(cls, torch)
        own_forward = base is not None and cls.forward is not base.forward
        if base is None:  # a user-defined module
            data: dict[str, Any] = {"name": cls.__name__}
            params = {k: _tensor_spec(p) for k, p in m._parameters.items() if p is not None}
            if any(p is None for p in m._parameters.values()):
                raise ImportFromTorchError(f"{path or '(root)'} ({cls.__name__}): a parameter registered as None")
            if params:
                data["parameters"] = params
            buffers = {}
            for k, b in m._buffers.items():
                if b is None:
                    continue
                spec = _tensor_spec(b, parameter=False)
                if k in m._non_persistent_buffers_set:  # not in the state_dict: its values must be the file's
                    spec["persistent"] = False
                    spec["init"] = _structured(b, f"{path or '(root)'}.{k}")
                buffers[k] = spec
            if buffers:
                data["buffers"] = buffers
            children = self.children(m, path)
            if children:
                data["modules"] = children
            data["forward"] = _forward_text(m, path, torch)
            return data
        name = base.__name__
        if name in ("ParameterList", "ParameterDict"):
            items = {k: _tensor_spec(p) for k, p in m._parameters.items()}
            data = {"type": name, "parameters": list(items.values()) if name == "ParameterList" else items}
        elif name in CONTAINERS:
            children = self.children(m, path)
            data = {"type": name, "modules": list(children.values()) if name in ("Sequential", "ModuleList")
                    and list(children) == [str(i) for i in range(len(children))] else children}
        else:
            if getattr(nn, name, None) is None:
                raise ImportFromTorchError(f"{path or '(root)'} ({cls.__name__}): nnspec has no {name} layer")
            data = {"type": name, **self.arguments(m, name, path)}
        if cls is not base:
            data["name"] = cls.__name__
            if own_forward:
                data["forward"] = _forward_text(m, path, torch)
        return data

    def children(self, m: Any, path: str) -> dict:
        out = {}
        for k, child in m._modules.items():
            if child is None:
                out[k] = None
            else:
                out[k] = self.module(child, f"{path}.{k}" if path else k)
        return out

    def arguments(self, m: Any, name: str, path: str) -> dict:
        """A layer's constructor arguments read back from it, those that differ from the default."""
        cls = getattr(nn, name)
        args: dict[str, Any] = {}
        for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name.startswith("_") or p.name in ("device", "dtype"):
                continue
            if p.name in _DERIVED and (p.name != "bias" or isinstance(p.default, bool)):
                value = _DERIVED[p.name](m)
            elif hasattr(m, p.name) and not isinstance(getattr(m, p.name), (self.torch.Tensor, self.torch.nn.Module)):
                value = getattr(m, p.name)
            elif p.default is not inspect.Parameter.empty:
                continue
            else:
                raise ImportFromTorchError(f"{path or '(root)'} ({type(m).__name__}): can't read its argument "
                                           f"{p.name!r} back from the layer")
            value, default = _plain(value), _plain(p.default)
            if isinstance(value, list) and value and not isinstance(default, list) and all(v == default for v in value):
                continue  # (1, 1) where the default is 1: the layer makes the same pair of it
            if p.default is inspect.Parameter.empty or default != value:
                args[p.name] = value
        dtype = next((str(t.dtype).removeprefix("torch.") for t in m.parameters(recurse=False)), "float32")
        if dtype != "float32" and "dtype" in inspect.signature(cls.__init__).parameters:
            args["dtype"] = dtype
        return args


def _torch_base(cls: type, torch: Any) -> type | None:
    """The torch.nn class ``cls`` is or subclasses (None for a user-defined module)."""
    for c in cls.__mro__:
        if c is torch.nn.Module:
            return None
        if c.__module__.startswith("torch.nn.modules") and getattr(torch.nn, c.__name__, None) is c:
            return c
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, tuple) or type(value).__name__ == "Size":
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, numpy.generic):
        return value.item()
    return value


def _tensor_spec(t: Any, parameter: bool = True) -> dict:
    spec: dict[str, Any] = {"shape": list(t.shape)}
    dtype = str(t.dtype).removeprefix("torch.")
    if dtype != "float32":
        spec["dtype"] = dtype
    if parameter and not t.requires_grad:
        spec["requires_grad"] = False
    return spec


def _structured(b: Any, where: str) -> Any:
    """A non-persistent buffer's values as an init the file can say: constant, or an arange along the last
    dim (position ids)."""
    a = b.detach().cpu().numpy()
    if a.size and (a == a.flat[0]).all():
        return {"constant": a.flat[0].item()}
    last = a.reshape(-1, a.shape[-1]) if a.ndim else a.reshape(1, 1)
    if a.ndim and a.shape[-1] > 1 and (last == last[:1]).all():
        start, step = last[0, 0].item(), (last[0, 1] - last[0, 0]).item()
        if (last[0] == start + step * numpy.arange(a.shape[-1])).all():
            return {"arange": {"start": start, "step": step}}
    raise ImportFromTorchError(f"{where}: a non-persistent buffer whose values are neither constant nor an arange "
                               "(they are in no state_dict, so the file would have to state them)")


# ---------------------------------------------------------------------- forwards
def _forward_text(m: Any, path: str, torch: Any) -> str:
    import torch.fx as fx

    class Tracer(fx.Tracer):
        def is_leaf_module(self, sub: Any, qualname: str) -> bool:  # every child is a call: one module's forward
            return sub is not m

    where = f"{path or '(root)'} ({type(m).__name__})"
    sig = inspect.signature(type(m).forward)
    fixed = {p.name: None for p in list(sig.parameters.values())[1:] if p.default is None}
    try:
        graph = Tracer().trace(m, concrete_args=fixed or None)
    except Exception as e:  # noqa: BLE001 - fx's refusals are many kinds; each is this module's
        raise ImportFromTorchError(f"{where}: torch.fx cannot trace its forward: {type(e).__name__}: "
                                   f"{str(e).splitlines()[0] if str(e) else ''}") from None
    return _Printer(where, torch).code(graph, list(sig.parameters.values())[1:], fixed)


class _Printer:
    def __init__(self, where: str, torch: Any):
        self.where, self.torch = where, torch

    def code(self, graph: Any, params: list, fixed: dict) -> str:
        """The forward text: what no result depends on dropped (fx keeps asserts), each value named after its
        op by nnspec's rules (not fx's), so that a file imported, made a torch module and imported again is
        the same file. An input that defaults to None was traced as None: it keeps its default, and an
        assert refuses any other value (that path was not traced)."""
        self.drop_unused(graph)
        names: dict = {}
        used: dict[str, int] = {p.name: 1 for p in params}
        lines = [f"assert {name} is None, 'imported with {name}=None: only that call was traced'" for name in fixed]
        for n in graph.nodes:
            if n.op == "placeholder":
                names[n] = str(n.target).lstrip("*")
        header = "def forward(self" + "".join(f", {p.name}=None" if p.name in fixed else f", {p.name}"
                                              for p in params) + "):"
        for n in graph.nodes:
            if n.op == "placeholder":
                continue
            if n.op == "output":
                lines.append(f"return {self.value(n.args[0], names)}")
                continue
            expr = self.expr(n, names)
            if n.op == "call_function" and n.target is self.torch._assert:
                lines.append(expr)
                continue
            base = self.hint(n)
            count = used.get(base, 0)
            used[base] = count + 1
            names[n] = base if count == 0 else f"{base}_{count}"
            lines.append(f"{names[n]} = {expr}")
        return header + "\n" + "".join(f"    {line}\n" for line in lines)

    def drop_unused(self, graph: Any) -> None:
        """Remove the values nothing reads (an assert's f-string read ``x.shape``): never a module call, an
        assert or an in-place op, which act by themselves."""
        for n in reversed(list(graph.nodes)):
            if n.users or n.op in ("placeholder", "output", "call_module"):
                continue
            if n.op == "call_function" and (n.target is self.torch._assert or n.target is operator.setitem):
                continue
            if n.op == "call_method" and n.target.endswith("_"):
                continue
            graph.erase_node(n)

    def hint(self, n: Any) -> str:
        """The name a value takes: the module or attribute path, the method, the function (``x.shape`` is
        written ``x.size()``, and named so)."""
        if n.op in ("call_module", "get_attr"):
            base = n.target.replace(".", "_")
        elif n.op == "call_method":
            base = n.target
        elif n.target is builtins.getattr:
            base = "size" if n.args[1] == "shape" else str(n.args[1])
        else:
            base = getattr(n.target, "__name__", "v")
        base = "".join(c if c.isalnum() or c == "_" else "_" for c in base).strip("_").lower() or "v"
        return f"_{base}" if base[0].isdigit() or base in ("self", "input") or base in _KEYWORDS else base

    def attribute(self, target: str) -> str:
        out = "self"
        for part in target.split("."):
            out += f"[{part}]" if part.isdigit() else f".{part}" if part.isidentifier() else f"[{part!r}]"
        return out

    def expr(self, n: Any, names: dict) -> str:
        args = [self.value(a, names) for a in n.args]
        kwargs = [f"{k}={self.value(v, names)}" for k, v in n.kwargs.items()]
        if n.op == "get_attr":
            if n.target.startswith("_tensor_constant"):
                raise ImportFromTorchError(f"{self.where}: its forward computes a tensor from the module's state "
                                           "alone (self.buffer.sum(), no input involved), which torch.fx records "
                                           "as a constant: compute it from an input, or make it a buffer")
            return self.attribute(n.target)
        if n.op == "call_module":
            return f"{self.attribute(n.target)}({', '.join(args + kwargs)})"
        if n.op == "call_method":
            if n.target not in T.METHODS:
                raise ImportFromTorchError(f"{self.where}: its forward calls the tensor method {n.target!r}, which "
                                           "nnspec does not know")
            return f"{args[0]}.{n.target}({', '.join(args[1:] + kwargs)})"
        fn = n.target
        if fn in _BINARY and len(args) == 2 and not kwargs:
            return f"{args[0]} {_BINARY[fn]} {args[1]}"
        if fn in _UNARY and len(args) == 1:
            return f"{_UNARY[fn]}{args[0]}"
        if fn is operator.getitem:
            return f"{args[0]}[{self.index(n.args[1], names)}]"
        if fn is builtins.getattr and len(args) == 2 and n.args[1] == "shape":
            return f"{args[0]}.size()"
        if fn is builtins.getattr and len(args) == 2 and isinstance(n.args[1], str) and n.args[1].isidentifier():
            return f"{args[0]}.{n.args[1]}"
        if fn is self.torch._assert:
            return f"assert {args[0]}" + (f", {args[1]}" if len(args) > 1 else "")
        name = self.function_name(fn)
        return f"{name}({', '.join(args + kwargs)})"

    def function_name(self, fn: Any) -> str:
        torch = self.torch
        short = getattr(fn, "__name__", None)
        for prefix, space in (("F.", torch.nn.functional), ("torch.", torch), ("math.", math)):
            if short and getattr(space, short, None) is fn and f"{prefix}{short}" in T.FUNCTIONS:
                return f"{prefix}{short}"
        if short and getattr(builtins, short, None) is fn and f"builtins.{short}" in T.FUNCTIONS:
            return short
        where = f"{getattr(fn, '__module__', '?')}.{short}"
        raise ImportFromTorchError(f"{self.where}: its forward calls {where}, which nnspec does not know")

    def index(self, value: Any, names: dict) -> str:
        if isinstance(value, tuple) and value:
            return ", ".join(self.value(v, names) for v in value)
        return self.value(value, names)

    def value(self, v: Any, names: dict) -> str:
        torch = self.torch
        if type(v).__name__ == "Node":
            return names[v]
        if isinstance(v, tuple):
            inner = ", ".join(self.value(x, names) for x in v)
            return f"({inner},)" if len(v) == 1 else f"({inner})"
        if isinstance(v, list):
            return "[" + ", ".join(self.value(x, names) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k!r}: {self.value(x, names)}" for k, x in v.items()) + "}"
        if isinstance(v, slice):
            parts = ["" if p is None else self.value(p, names) for p in (v.start, v.stop, v.step)]
            return ":".join(parts[:2]) + (f":{parts[2]}" if v.step is not None else "")
        if v is Ellipsis:
            return "..."
        if isinstance(v, torch.dtype):
            return str(v)
        if isinstance(v, torch.device):
            return f"torch.device({str(v)!r})"
        if isinstance(v, float) and not math.isfinite(v):
            return f"float({str(v)!r})"
        if isinstance(v, str):  # an f-string of a traced value (an assert's message) holds its Proxy's name
            return repr(re.sub(r"Proxy\(\w+\)", "?", v))
        if v is None or isinstance(v, (bool, int, float)):
            return repr(v)
        raise ImportFromTorchError(f"{self.where}: its forward uses a constant nnspec can't write: "
                                   f"{type(v).__name__}")


# ---------------------------------------------------------------------- checking and writing
def _check(module: Any, data: dict, state: dict, example_inputs: tuple, torch: Any) -> None:
    """nnspec builds ``data``: the same repr and state_dict layout as ``module``, and with ``example_inputs``
    the same outputs (within 1e-4 of the largest)."""
    from ..builder import from_dict

    built = from_dict(data, seed=0)
    if repr(built) != repr(module):
        raise ImportFromTorchError("the written file builds a model whose repr differs from the module's:\n"
                                   + _first_difference(repr(built), repr(module)))
    want = [(k, tuple(v.shape), str(v.dtype)) for k, v in state.items()]
    got = [(k, tuple(v.shape), str(numpy.asarray(v).dtype)) for k, v in built.state_dict().items()]
    if got != want:
        raise ImportFromTorchError("the written file's state_dict differs from the module's: "
                                   + str(next(((a, b) for a, b in zip(got, want) if a != b), (got, want))))
    if not example_inputs:
        return
    built.load_state_dict(state)
    built.train(module.training)
    for path, sub in module.named_modules():
        built.get_submodule(path).train(sub.training)
    xs = [x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x for x in example_inputs]
    with torch.no_grad():
        expected = _arrays(module(*example_inputs), torch)
    got_out = _arrays(built(*xs), torch)
    if len(got_out) != len(expected):
        raise ImportFromTorchError(f"the written file's model returns {len(got_out)} outputs, the module "
                                   f"{len(expected)}")
    for i, (g, w) in enumerate(zip(got_out, expected)):
        scale = float(numpy.abs(w).max()) if w.size else 1.0
        if g.shape != w.shape or (w.size and float(numpy.abs(g - w).max()) > 1e-4 * max(scale, 1e-30)):
            raise ImportFromTorchError(f"output {i}: the written file's model gives other values than the module "
                                       f"(shape {g.shape} against {w.shape})")


def _arrays(y: Any, torch: Any) -> list:
    if isinstance(y, dict):
        y = list(y.values())
    ys = list(y) if isinstance(y, (tuple, list)) else [y]
    return [v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else numpy.asarray(v) for v in ys
            if v is not None]


def _first_difference(a: str, b: str) -> str:
    for la, lb in zip(a.splitlines(), b.splitlines()):
        if la != lb:
            return f"  file:   {la.strip()}\n  module: {lb.strip()}"
    return "  (one is longer)"


def _write_yaml(data: dict, path: Path, module: Any) -> None:
    """The data as YAML, forward texts as block scalars, written atomically."""
    import yaml

    from ..files import save_atomic

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper, value: str):
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    def flow_list(dumper, value: list):
        flat = all(not isinstance(v, (dict, list)) for v in value)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flat)

    def flow_dict(dumper, value: dict):  # a layer, a shape: one line, as the zoo's files write them
        flat = len(value) <= 8 and all(not isinstance(v, dict) and not (isinstance(v, list) and any(
            isinstance(x, (dict, list)) for x in v)) and not (isinstance(v, str) and "\n" in v) for v in value.values())
        inner = all(isinstance(v, dict) and len(v) <= 2 and all(not isinstance(x, (dict, list)) for x in v.values())
                    for v in value.values()) and len(value) == 1  # {arange: {start: 0, step: 1}}
        return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=flat or inner)

    Dumper.add_representer(str, text)
    Dumper.add_representer(list, flow_list)
    Dumper.add_representer(dict, flow_dict)
    body = yaml.dump(data, Dumper=Dumper, sort_keys=False, width=120, allow_unicode=True)
    head = f"# {type(module).__name__}, written by nnspec import (nnspec.from_torch) from torch's module.\n"
    save_atomic(path, lambda f: f.write((head + body).encode()))


__all__ = ["ImportFromTorchError", "from_torch"]
