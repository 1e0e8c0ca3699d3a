"""``Module``: the base of every network, with torch.nn.Module's registries and methods."""

from __future__ import annotations

import inspect
import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, NamedTuple

from ..errors import NNSpecRuntimeError, WeightsError
from ..runtime.backend import device_of, get_array_module, get_backend, resolve_dtype
from .parameter import Parameter

_hook_ids = itertools.count()

# the recorder of an execution plan being compiled (nnspec.plan), which sees every module call
RECORDER: ContextVar[Any] = ContextVar("nnspec_plan_recorder", default=None)

_state_version = [0]


def state_version() -> int:
    """A counter that moves whenever nnspec sees any module's state or mode change (registration,
    assignment, load_state_dict, to/_apply, train/eval): compiled plans that folded state check it."""
    return _state_version[0]


def state_changed() -> None:
    _state_version[0] += 1


class RemovableHandle:
    """Returned by the register_*_hook methods; ``remove()`` unregisters the hook."""

    def __init__(self, registry: dict[int, Callable]):
        self._registry = registry
        self.id = next(_hook_ids)

    def remove(self) -> None:
        self._registry.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns: torch's (missing_keys, unexpected_keys)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, Parameter)


def _addindent(s: str, n: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])


def _shape_str(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


class Module:
    """Base class for all modules; mirrors torch.nn.Module.

    State lives in three ordered registries, ``_parameters``, ``_buffers`` and
    ``_modules``; attribute assignment registers Parameters and Modules, and an
    absent optional entry is registered as None (so ``bias=False`` leaves no key).
    """

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        d["_forward_hooks"] = {}
        d["_forward_pre_hooks"] = {}

    # ------------------------------------------------------------------ registration

    def _check_name(self, name: Any, kind: str, registry: dict) -> None:
        if "_parameters" not in self.__dict__:
            raise NNSpecRuntimeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise NNSpecRuntimeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "":
            raise NNSpecRuntimeError(f'{kind} name can\'t be empty string ""')
        if "." in name:
            raise NNSpecRuntimeError(f'{kind} name can\'t contain ".", got: {name}')
        if hasattr(self, name) and name not in registry:
            raise NNSpecRuntimeError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, for an absent optional one) under ``name``."""
        self._check_name(name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise NNSpecRuntimeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' (Parameter or None required)"
            )
        self._parameters[name] = param
        state_changed()

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Add a buffer (or None); a non-persistent one is left out of ``state_dict``."""
        self._check_name(name, "buffer", self._buffers)
        if tensor is not None and not _is_array(tensor):
            raise NNSpecRuntimeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (array or None required)"
            )
        self._buffers[name] = tensor
        state_changed()
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module (or None) under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise NNSpecRuntimeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module", self._modules)
        self._modules[name] = module
        state_changed()

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The module at a dotted path such as ``"layer1.0.conv1"``."""
        mod: Module = self
        if target == "":
            return mod
        for item in target.split("."):
            if not isinstance(mod, Module) or item not in mod._modules:
                raise NNSpecRuntimeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = mod._modules[item]
        return mod

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params, modules, buffers = d.get("_parameters"), d.get("_modules"), d.get("_buffers")
        if isinstance(value, Parameter):
            if params is None:
                raise NNSpecRuntimeError("cannot assign parameters before Module.__init__() call")
            d.pop(name, None)
            modules.pop(name, None)
            buffers.pop(name, None)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise NNSpecRuntimeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' (Parameter or None expected)"
                )
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if modules is None:
                raise NNSpecRuntimeError("cannot assign module before Module.__init__() call")
            d.pop(name, None)
            params.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
            state_changed()
        elif modules is not None and name in modules:
            if value is not None:
                raise NNSpecRuntimeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' (Module or None expected)"
                )
            modules[name] = value
            state_changed()
        elif buffers is not None and name in buffers:
            if value is not None and not _is_array(value):
                raise NNSpecRuntimeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' (array or None expected)")
            if buffers[name] is not value:  # `self.count += 1` writes in place and assigns the same array back
                buffers[name] = value
                state_changed()
        else:
            object.__setattr__(self, name, value)
            if name == "training":  # set by hand, as torch code does to one submodule
                state_changed()

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{self._get_name()}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers_set.discard(name)
                state_changed()
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    # ------------------------------------------------------------------ iteration

    def named_children(self) -> Iterator[tuple[str, Module]]:
        memo = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in memo:
                memo.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True):
        """Every module of the tree, pre-order, each shared module once (unless remove_duplicate=False)."""
        if memo is None:
            memo = set()
        stack = [(prefix, self)]  # a loop, not nested generators: each module costs O(1) at any depth
        while stack:
            prefix, module = stack.pop()
            if id(module) in memo:
                continue
            if remove_duplicate:
                memo.add(id(module))
            yield prefix, module
            dot = prefix + "." if prefix else ""
            stack.extend(reversed([(dot + name, m) for name, m in module._modules.items() if m is not None]))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def _named_members(self, get_members, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get_members(module):
                if v is None or id(v) in memo:
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield module_prefix + ("." if module_prefix else "") + k, v

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------ state

    def state_dict(self, destination: OrderedDict | None = None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Own parameters, then own persistent buffers, then each child with ``prefix + name + "."``.

        Values are the arrays themselves (Parameters with keep_vars=True), sharing memory with the model.
        """
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.data
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict, prefix, missing_keys, unexpected_keys, error_msgs, copies) -> None:
        """Check this module's own entries in ``state_dict`` (torch's per-module hook point).

        The (target, value) pairs that fit go to ``copies``; load_state_dict copies them only
        when nothing failed, so a failed load leaves the model as it was (torch copies what fits).
        """
        persistent = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local = {k: v for k, v in itertools.chain(self._parameters.items(), persistent.items()) if v is not None}
        for name, target in local.items():
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            value = state_dict[key]
            value = value.data if isinstance(value, Parameter) else value
            if not hasattr(value, "shape"):
                error_msgs.append(
                    f'While copying the parameter named "{key}", expected an array from checkpoint but received {type(value).__name__}'
                )
                continue
            array = target.data if isinstance(target, Parameter) else target
            if tuple(value.shape) != tuple(array.shape):
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {_shape_str(value.shape)} from checkpoint, "
                    f"the shape in current model is {_shape_str(array.shape)}."
                )
                continue
            copies.append((array, value))
        # torch's rule: a key under this prefix is unexpected unless it names local state or goes into a child
        for key in state_dict:
            if key.startswith(prefix):
                head, dot, _ = key[len(prefix):].partition(".")
                if (head not in self._modules) if dot else (head not in local):
                    unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy parameters and buffers from ``state_dict`` into this tree, with torch's key checks."""
        missing: list[str] = []
        unexpected: list[str] = []
        error_msgs: list[str] = []
        copies: list[tuple[Any, Any]] = []

        def load(module: Module, local_state_dict, prefix: str) -> None:
            module._load_from_state_dict(local_state_dict, prefix, missing, unexpected, error_msgs, copies)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    load(child, {k: v for k, v in local_state_dict.items() if k.startswith(child_prefix)}, child_prefix)

        load(self, dict(state_dict), "")
        if strict:
            if unexpected:
                error_msgs.insert(0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                error_msgs.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if error_msgs:
            raise WeightsError(
                "Error(s) in loading state_dict for {}:\n\t{}".format(self._get_name(), "\n\t".join(error_msgs))
            )
        for array, value in copies:
            array[...] = get_backend(device_of(array)).asarray(value)
        state_changed()
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ modes and types

    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise NNSpecRuntimeError("training mode is expected to be boolean")
        for module in self.modules():
            module.__dict__["training"] = mode
        state_changed()
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None if set_to_none else get_array_module(p.data).zeros_like(p.data)
            else:
                p.grad[...] = 0

    def _apply(self, fn: Callable[[Any], Any]) -> Module:
        """Replace every parameter's data and every buffer by ``fn(array)``, in every module once."""
        for module in self.modules():
            for p in module._parameters.values():
                if p is not None:
                    p.data = fn(p.data)
            for name, b in module._buffers.items():
                if b is not None:
                    module._buffers[name] = fn(b)
        state_changed()
        return self

    def apply(self, fn: Callable[[Module], None]) -> Module:
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """``to(device)``, ``to(dtype)`` or ``to(device, dtype)``; dtype casts only floating-point state."""
        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        if kwargs:
            raise NNSpecRuntimeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, str) and (a in ("cpu", "cuda") or a.startswith("cuda:")):
                device = a
            else:
                dtype = a
        backend = get_backend(device) if device is not None else None
        dt = resolve_dtype(dtype) if dtype is not None else None
        if dt is not None and dt.kind != "f":
            raise NNSpecRuntimeError(f"to() only accepts floating point dtypes, but got desired dtype={dt}")

        def convert(a):
            if dt is not None and a.dtype.kind == "f":
                a = a.astype(dt, copy=False)
            if backend is not None:
                a = backend.asarray(a)
            return a

        return self._apply(convert)

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self, device: int | str | None = None) -> Module:
        return self.to("cuda" if device is None else device if isinstance(device, str) else f"cuda:{device}")

    def float(self) -> Module:
        return self.to("float32")

    def double(self) -> Module:
        return self.to("float64")

    def half(self) -> Module:
        return self.to("float16")

    # ------------------------------------------------------------------ calling

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NNSpecRuntimeError(f'Module [{self._get_name()}] is missing the required "forward" function')

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], Any]) -> RemovableHandle:
        """``hook(module, args, output)`` runs after forward; a non-None result replaces the output."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook: Callable[[Module, tuple], Any]) -> RemovableHandle:
        """``hook(module, args)`` runs before forward; a non-None result replaces the args."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        recorder = RECORDER.get()
        if recorder is not None:  # an execution plan is being recorded (nnspec.plan)
            return recorder.module_call(self, args, kwargs, self._call_impl)
        return self._call_impl(*args, **kwargs)

    def _call_impl(self, *args: Any, **kwargs: Any) -> Any:
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        try:
            output = self.forward(*args, **kwargs)
        except MemoryError:  # torch's allocator error; the hyperparameters or the input ask for too much
            raise NNSpecRuntimeError(f"{self._get_name()}: out of memory") from None
        except TypeError as e:
            try:  # the wrong inputs for this forward (Bilinear given one array): torch's TypeError, as nnspec's error
                inspect.signature(self.forward).bind(*args, **kwargs)
            except TypeError:
                raise NNSpecRuntimeError(str(e)) from None
            raise
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    # ------------------------------------------------------------------ repr

    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The hyperparameters shown inside this module's parentheses."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(module), 2) for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"
