"""A model as a real ``torch.nn.Module`` tree, to train in PyTorch: ``nnspec.to_torch``.

Each nnspec module becomes its torch counterpart, made as a torch user's ``__init__`` would make it:
a layer is ``torch.nn.<Type>(**the file's arguments)``; a container is torch's; a user module is a
``torch.nn.Module`` subclass named as in the file, with its parameters, buffers (persistent or not),
attributes and children registered in the file's order; a layer the file subclasses (torchvision's
``LayerNorm2d(nn.LayerNorm)``) is a subclass of torch's class of that name. So the classes, ``repr``,
``state_dict`` (keys, order, values) and modes are torch's, and a shared module or tied parameter
stays one object.

A forward from the model file runs as the graph nnspec compiles from it (``nnspec.ir``), one op at a
time on torch tensors: each call_function is torch's function of that name (``F.relu`` is
``torch.nn.functional.relu``), each call_method the tensor's method, each call_module the torch
submodule. Nothing from the file is executed as Python: the graph's targets are looked up among the
names nnspec's registries know. Autograd, optimizers, ``torch.compile`` and DDP see ordinary torch ops.
The graph is compiled per way the forward is called, as nnspec does (``forward_graph``): the module's
nnspec twin, kept beside it (``module._nnspec_twin``), compiles it, in the torch module's mode.
``module.nnspec_code()`` prints the graph as Python.

torch is needed here only (the ``torch`` extra), imported when ``to_torch`` is called.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import math
import operator
import types
from pathlib import Path
from typing import Any

import numpy

from .. import nn
from ..errors import NNSpecError
from ..ir.compiler import forward_graph
from ..ir.graph import Graph, Node
from ..ir.interpreter import _spliced
from ..nn.lazy import is_lazy
from ..nn.user import CustomForward, base_class, has_custom_forward
from ..runtime import tensor as T
from ..runtime.backend import to_numpy
from ..runtime.functional.core import data_of
from ..runtime.values import Device, DType, FInfo, IInfo

CONTAINERS = ("Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict")


class ToTorchError(NNSpecError):
    """A module or value with no torch counterpart."""


def to_torch(model: nn.Module | str | Path, *, weights: str | Path | None = None, seed: int | None = 0) -> Any:
    """``model`` (a built nnspec Module, or a model file's path, built with ``seed``, then ``weights`` loaded
    where given) as a ``torch.nn.Module`` with the same classes, repr, state_dict and outputs, in the same
    mode. The values are copied: the two models share no memory."""
    try:
        import torch
    except ImportError:  # pragma: no cover - the torch extra is missing
        raise ToTorchError("nnspec.to_torch needs torch (pip install 'nnspec[torch]')") from None
    if not isinstance(model, nn.Module):
        from ..builder import load

        model = load(model, seed=seed)
        if weights is not None:
            from ..weights import load_into

            load_into(model, weights)
    converter = _Converter(torch)
    out = converter.module(model, "")
    out.train(model.training)
    for path, sub in model.named_modules():  # a mode set on a part alone stays (a frozen BatchNorm)
        out.get_submodule(path).training = sub.training
    return out


class _Converter:
    def __init__(self, torch: Any):
        self.torch = torch
        self.modules: dict[int, Any] = {}  # id(nnspec module) -> torch module: a shared module stays one
        self.parameters: dict[int, Any] = {}  # id(nnspec Parameter) -> torch Parameter: tied stays tied
        self.classes: dict[tuple, type] = {}

    # ------------------------------------------------------------------ values
    def array(self, a: Any) -> Any:
        return self.torch.from_numpy(numpy.array(to_numpy(data_of(a)), copy=True))

    def parameter(self, p: Any) -> Any:
        if p is None:
            return None
        made = self.parameters.get(id(p))
        if made is None:
            made = self.parameters[id(p)] = self.torch.nn.Parameter(self.array(p), requires_grad=p.requires_grad)
        return made

    def value(self, v: Any) -> Any:
        """An argument or attribute value as torch code would hold it."""
        if isinstance(v, nn.Module):
            return self.module(v, "")
        if isinstance(v, tuple):
            return tuple(self.value(x) for x in v)
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, dict):
            return {k: self.value(x) for k, x in v.items()}
        return _torch_value(self.torch, v)

    def kwargs(self, m: nn.Module) -> dict:
        """The layer's arguments, as torch takes them: a loss's class weight and fractional pooling's samples
        are tensors there, LinearCrossEntropyLoss's options torch's options object."""
        torch = self.torch
        kwargs = {}
        for k, v in m.__dict__.get("_init_kwargs", {}).items():
            if k in ("weight", "pos_weight", "_random_samples") and v is not None and not isinstance(v, nn.Module):
                v = torch.tensor(numpy.asarray(v), dtype=torch.float32)
            elif k == "options" and v is not None and hasattr(v, "model_dump"):
                fields = v.model_dump()
                fields["acc_dtype"] = getattr(torch, fields["acc_dtype"]) if fields.get("acc_dtype") else None
                v = torch.nn.LinearCrossEntropyOptions(**fields)
            else:
                v = self.value(v)
            kwargs[k] = v
        return kwargs

    @staticmethod
    def inferred(cls: type, m: nn.Module, kwargs: dict) -> dict:
        """``kwargs`` with the arguments torch's ``cls`` requires and the file left out taken from ``m``: a
        lazy layer (LazyConv2d) that has run is a Conv2d whose ``in_channels`` its first input gave."""
        try:
            params = inspect.signature(cls.__init__).parameters
        except (TypeError, ValueError):  # pragma: no cover - a builtin signature
            return kwargs
        for name, p in params.items():
            if name != "self" and name not in kwargs and p.default is inspect.Parameter.empty \
                    and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and hasattr(m, name):
                kwargs[name] = getattr(m, name)
        return kwargs

    # ------------------------------------------------------------------ modules
    def cls(self, m: nn.Module) -> type:
        """torch's class for ``m``: its base by name, or a subclass named as the file names it."""
        torch = self.torch
        base = base_class(m)
        name = base.__name__
        if name == "Module":  # a UserModule's base
            torch_base = torch.nn.Module
        else:
            torch_base = getattr(torch.nn, name, None)
            if not isinstance(torch_base, type) or not issubclass(torch_base, torch.nn.Module):
                raise ToTorchError(f"{m._get_name()}: torch.nn has no {name}")
        own = m._get_name()
        custom = has_custom_forward(m)
        if own == torch_base.__name__ and not custom and torch_base is not torch.nn.Module:
            return torch_base
        params = tuple(m.forward_parameters()) if custom else ()
        key = (own, torch_base, custom, tuple((p.name, p.kind, repr(p.default)) for p in params))
        made = self.classes.get(key)
        if made is None:
            body: dict[str, Any] = {"__module__": "nnspec.generated", "__qualname__": own}
            if custom:
                body["forward"] = _forward_with_signature(params)
            if isinstance(m, CustomForward):
                body["extra_repr"] = _text_method(torch_base, "extra_repr")
                body["__repr__"] = _text_method(torch_base, "__repr__")
                body["nnspec_code"] = _code
            made = self.classes[key] = type(own, (torch_base,), body)
        return made

    def module(self, m: nn.Module, path: str) -> Any:
        made = self.modules.get(id(m))
        if made is not None:
            return made
        torch = self.torch
        cls = self.cls(m)
        base = base_class(m).__name__
        if base in ("ParameterList", "ParameterDict"):
            out = cls()
            items = enumerate(m) if base == "ParameterList" else m.items()
            for k, p in items:
                if base == "ParameterList":
                    out.append(self.parameter(p))
                else:
                    out[k] = self.parameter(p)
        elif base in CONTAINERS or base == "Module":
            out = cls()
        else:  # a layer: made by torch's __init__ from the file's arguments
            out = cls(**self.inferred(cls, m, self.kwargs(m)))
        self.modules[id(m)] = out
        _keep_twin(out, m)
        if base not in ("ParameterList", "ParameterDict"):
            self.state(m, out)
            for k in m.__dict__.get("_attribute_names", ()):
                object.__setattr__(out, k, self.value(getattr(m, k)))
            for k, child in m._modules.items():
                if child is None:  # ``self.downsample = None``: an attribute, as in torch
                    setattr(out, k, None)
                elif base in ("Sequential", "ModuleList", "ModuleDict") or k not in out._modules:
                    out.add_module(k, self.module(child, f"{path}.{k}"))
                else:  # made by the layer's __init__ (a Transformer's layers): its parts' values
                    self.copy_into(child, out._modules[k])
        return out

    def state(self, m: nn.Module, out: Any) -> None:
        """``m``'s own parameters and buffers into ``out``, with nnspec's values and dtypes: torch's own where
        the layer's __init__ made them (their order and persistence), else registered in ``m``'s order. A
        Parameter met before (tied, or a module argument's) is that one, its values written again: an
        __init__ may have re-initialised it (Transformer's _reset_parameters on a custom encoder)."""
        for k, p in m._parameters.items():
            if p is None:
                if k not in out._parameters:
                    out.register_parameter(k, None)
                continue
            if is_lazy(p):  # not made yet: torch's lazy layer makes its own in its first call, as nnspec's would
                continue
            made = self.parameters.get(id(p))
            if made is None:
                made = out._parameters.get(k)
                if made is None:
                    made = self.torch.nn.Parameter(self.array(p), requires_grad=p.requires_grad)
                else:
                    made.data = self.array(p)
                    made.requires_grad_(p.requires_grad)
                self.parameters[id(p)] = made
            else:
                made.data = self.array(p)
            if k in out._parameters:
                out._parameters[k] = made
            else:
                out.register_parameter(k, made)
        for k, b in m._buffers.items():
            value = None if b is None else self.array(b)
            if k in out._buffers:  # made by torch's __init__: its persistence kept
                out._buffers[k] = value
            else:
                out.register_buffer(k, value, persistent=k not in m._non_persistent_buffers_set)

    def copy_into(self, m: nn.Module, out: Any) -> None:
        self.modules[id(m)] = out
        _keep_twin(out, m)
        self.state(m, out)
        for k, child in m._modules.items():
            if child is not None and out._modules.get(k) is not None:
                self.copy_into(child, out._modules[k])


def _torch_value(torch: Any, v: Any) -> Any:
    """nnspec's value of a torch one (a dtype, device, finfo/iinfo, a NumPy number or array) as torch's; any
    other value as it is."""
    if isinstance(v, DType):
        return getattr(torch, v.name)
    if isinstance(v, Device):
        return torch.device(str(v))
    if isinstance(v, (FInfo, IInfo)):
        return (torch.finfo if isinstance(v, FInfo) else torch.iinfo)(getattr(torch, v.dtype))  # its dtype's name
    if isinstance(v, numpy.generic):
        return v.item()
    if isinstance(v, numpy.ndarray):
        return torch.from_numpy(v.copy())
    return v


# ---------------------------------------------------------------------- the torch side of a file's forward
class _Twin:
    """The nnspec module a torch module was made from, which compiles its forward. A copy of the torch
    module (``copy.deepcopy``: an EMA of the weights) shares it: what it compiles depends on the modules'
    structure and constants, never on the values of their weights."""

    __slots__ = ("module",)

    def __init__(self, module: nn.Module):
        self.module = module

    def __deepcopy__(self, memo: dict) -> _Twin:
        return self


def _keep_twin(out: Any, m: nn.Module) -> None:
    object.__setattr__(out, "_nnspec_twin", _Twin(m))


def _text_method(base: type, method: str):
    """``extra_repr`` / ``__repr__`` as the file's forward text defines it (nnspec evaluates it), else torch's."""
    def text(self) -> str:
        from ..ir.compiler import module_text

        found = module_text(self._nnspec_twin.module, method)
        return getattr(base, method)(self) if found is None else found
    text.__name__ = method
    return text


def _code(self) -> str | None:
    """The forward's graph for the default call in this mode, as Python, each line ending in the model file's
    line it came from (after a first call, else None)."""
    twin = self._nnspec_twin.module
    twin.training = self.training
    graph = twin.graph
    return None if graph is None else graph.python_code(positions=True)


class _Shaped:
    """A torch tensor as nnspec's forward compiler sees a call's array: its shape and NumPy dtype, read when
    asked (a forward compiled per input shape). Under torch.fx's tracing the tensor is a Proxy, whose shape is
    not known: there it has none."""

    __slots__ = ("tensor", "traced")

    def __init__(self, tensor: Any, traced: bool = False):
        self.tensor, self.traced = tensor, traced  # (a Proxy's attributes are ops: never read here)

    @property
    def shape(self) -> tuple | None:
        return None if self.traced else tuple(self.tensor.shape)

    @property
    def dtype(self) -> Any:
        if self.traced:
            return None
        name = str(self.tensor.dtype).removeprefix("torch.")
        return numpy.dtype(name) if hasattr(numpy, name) else numpy.dtype("float32")


def _shaped(value: Any, torch: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return _Shaped(value)
    if isinstance(value, torch.fx.Proxy):
        return _Shaped(value, traced=True)
    if isinstance(value, tuple):
        return tuple(_shaped(v, torch) for v in value)
    if isinstance(value, list):
        return [_shaped(v, torch) for v in value]
    if isinstance(value, dict):
        return {k: _shaped(v, torch) for k, v in value.items()}
    return value


def _forward(self, *args: Any, **kwargs: Any) -> Any:
    import torch

    twin = self._nnspec_twin.module
    twin.training = self.training
    graph, values = forward_graph(twin, _shaped(args, torch), _shaped(kwargs, torch))
    values = [v.tensor if isinstance(v, _Shaped) else v for v in values]
    return _Run(self, graph, torch).run(values)


def _forward_with_signature(params: tuple) -> Any:
    """``_forward`` for one class, whose ``inspect.signature`` (and torch.fx's placeholders) are the file's
    forward's inputs, not ``*args, **kwargs``: its ``__wrapped__`` is a function of those parameters, made by
    renaming the parameters of an empty one (no code is generated)."""
    def template(self):  # pragma: no cover - never called: only its signature is read
        return None

    positional = [p for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    keyword = [p for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
    names = ("self", *(p.name for p in positional), *(p.name for p in keyword))
    code = template.__code__.replace(co_argcount=1 + len(positional), co_kwonlyargcount=len(keyword),
                                     co_varnames=names, co_nlocals=len(names))
    defaults = tuple(p.default for p in positional if p.default is not inspect.Parameter.empty)
    signature = types.FunctionType(code, {}, "forward", defaults or None)
    signature.__kwdefaults__ = {p.name: p.default for p in keyword if p.default is not inspect.Parameter.empty} \
        or None
    forward = types.FunctionType(_forward.__code__, _forward.__globals__, "forward", None, _forward.__closure__)
    forward.__doc__ = "The model file's forward, run as nnspec's compiled graph on torch tensors."
    forward.__wrapped__ = signature
    return forward


_NAMESPACES = {"builtins": builtins, "math": math}


class _Run:
    """One run of a graph on torch values, against the torch module that owns it."""

    def __init__(self, module: Any, graph: Graph, torch: Any):
        self.module, self.graph, self.torch = module, graph, torch
        self.constant = functools.partial(_torch_value, torch)

    def run(self, values: list) -> Any:
        env: dict[int, Any] = {}
        inputs = iter(values)
        for node in self.graph.nodes:
            if node.op == "placeholder":
                env[id(node)] = next(inputs)
                continue
            args, kwargs = self.spliced(node.args, env), self.spliced(node.kwargs, env)
            if node.op == "output":
                return args[0]
            env[id(node)] = self.execute(node, args, kwargs, env)
        raise ToTorchError(f"graph {self.graph.name} has no output")

    def spliced(self, value: Any, env: dict) -> Any:
        """Node arguments with their values (and each ``*value`` spliced in), constants made torch's."""
        return _spliced(value, env, self.constant)

    def execute(self, node: Node, args: tuple, kwargs: dict, env: dict) -> Any:
        op = node.op
        if op == "get_attr":
            return self.resolve(node, env)
        if op == "call_module":
            return self.resolve(node, env)(*args, **kwargs)
        if op == "call_method":
            if node.target not in T.METHODS:
                raise ToTorchError(f"no method {node.target!r}")
            return getattr(args[0], node.target)(*args[1:], **kwargs)
        if op != "call_function":
            raise ToTorchError(f"unknown op {op!r}")
        target = node.target
        if target.startswith("operator."):
            return self.operator(target.removeprefix("operator."), args, kwargs)
        return self.function(target)(*args, **kwargs)

    def function(self, target: str) -> Any:
        """torch's (or Python's) function of a name nnspec's registry knows."""
        if target not in T.FUNCTIONS:
            raise ToTorchError(f"no function {target!r}")
        head, *rest = target.split(".")
        obj: Any = {"F": self.torch.nn.functional, "torch": self.torch}.get(head) or _NAMESPACES.get(head)
        for part in rest:
            obj = getattr(obj, part, None)
        if obj is None or not callable(obj):
            raise ToTorchError(f"torch has no {target}")
        return obj

    def operator(self, name: str, args: tuple, kwargs: dict) -> Any:
        if name == "check":  # torch._assert: an AssertionError as Python's, and what torch.fx traces
            condition, message, op, other = (list(args) + [None, None, None])[:4]
            if op is not None:
                condition = getattr(operator, op)(condition, other)
            self.torch._assert(condition, "" if message is None else message)
            return None
        if name == "unpack":
            value, n = args
            items = tuple(value)
            if len(items) != n:
                raise ValueError(f"cannot unpack {len(items)} values into {n} names")
            return items
        if name == "splat":
            return tuple(args[0])
        if name == "getattr":
            obj, attr = args
            if not isinstance(attr, str) or attr.startswith("_"):
                raise ToTorchError(f"getattr: {attr!r} is not an attribute a forward may read")
            return getattr(obj, attr)
        if name not in T.OPERATORS:
            raise ToTorchError(f"no operator {name!r}")
        return getattr(operator, name)(*args, **kwargs)

    def resolve(self, node: Node, env: dict) -> Any:
        target: Any = self.module
        for part in node.target.split("."):
            if not any(part in registry for registry in (target._modules, target._parameters, target._buffers)):
                raise ToTorchError(f"{type(self.module).__name__} has no attribute {node.target!r}")
            target = getattr(target, part)  # torch's own lookup: under torch.fx, a parameter is then a get_attr
        if node.key is not None:
            target = target[env[id(node.key)]]
        return target


__all__ = ["ToTorchError", "to_torch"]
