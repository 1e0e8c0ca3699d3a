"""Lazy modules (torch.nn.modules.lazy): parameters whose shapes the first input gives.

A lazy module holds ``UninitializedParameter``s until its first call; that call infers the missing sizes
from the input, makes and initialises the parameters (from the seeded generator, at that moment, as torch
draws them at its first forward) and turns the module into its ``cls_to_become`` (a LazyConv2d becomes a
Conv2d). Before that, ``state_dict`` holds the UninitializedParameters themselves, as torch's does, and
``load_state_dict`` materialises them from the checkpoint's shapes (the module's class and its inferred
hyperparameters stay as they are until the first call, as in torch).

Shape-only runs: a shape-only model (``nnspec.load(..., meta=True)``) materialises shape-only at its first
call (nothing drawn); a real model given shape-only input (``nnspec.infer``) is run on shape-only twins of
the parameters it would make and is left as it was; ``materializing()`` (an execution plan being
compiled) makes a real model materialise for real on shape-only input.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import numpy

from ..errors import NNSpecError, NNSpecRuntimeError
from ..resources import Budget, _budget, empty, shape_only
from ..runtime.backend import device_of, get_backend
from ..runtime.meta import is_meta, track_memory
from ..scoped import scoped
from .module import Module, state_changed
from .parameter import Parameter

_SHAPE_MESSAGE = (
    "Can't access the shape of an uninitialized parameter or buffer. This error usually happens in `load_state_dict` "
    "when trying to load an uninitialized parameter into an initialized one. Call `forward` to initialize the "
    "parameters before accessing their attributes."
)


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (torch.nn.UninitializedParameter): a lazy module's before
    its first call. It has a dtype and a device (``to()`` moves it) but no shape; ``materialize`` gives it
    one and makes it a Parameter."""

    __slots__ = ()

    def __init__(self, requires_grad: bool = True, dtype: Any = numpy.float32):
        self.data = empty((0,), dtype)  # shape-only inside a shape-only build
        self.requires_grad = bool(requires_grad)
        self.grad = None

    @property
    def shape(self):
        raise NNSpecRuntimeError(_SHAPE_MESSAGE)

    def numel(self) -> int:
        raise NNSpecRuntimeError("Attempted to use an uninitialized parameter in numel(). This error happens when "
                                 "you are using a `LazyModule`: call `forward` with a dummy batch to initialize the "
                                 "parameters first")

    def size(self, dim: int | None = None):
        raise NNSpecRuntimeError(_SHAPE_MESSAGE)

    def __len__(self) -> int:
        raise NNSpecRuntimeError(_SHAPE_MESSAGE)

    def __array__(self, dtype=None, copy=None):
        raise NNSpecRuntimeError(_SHAPE_MESSAGE)

    def __repr__(self) -> str:
        return "<UninitializedParameter>"

    def materialize(self, shape: tuple, dtype: Any = None) -> None:
        """Make its data: an uninitialised array of ``shape`` (shape-only where its data was), of its own
        dtype and on its own device; it is a Parameter from then on."""
        old = self.data
        dt = old.dtype if dtype is None else dtype
        with shape_only(is_meta(old)), track_memory():  # parameters: no run's activations
            data = empty(tuple(shape), dt)
        device = device_of(old)
        if device != "cpu":
            data = get_backend(device).asarray(data)
        self.data = data
        self.__class__ = Parameter


def is_lazy(p: Any) -> bool:
    return isinstance(p, UninitializedParameter)


# an execution plan being compiled: a real lazy module called on shape-only input materialises for real
_materializing: ContextVar[bool] = ContextVar("nnspec_lazy_materializing", default=False)


def materializing(enabled: bool = True):
    return scoped(_materializing, enabled)


def first_call_pending(model: Module) -> list[tuple[str, Module]]:
    """The lazy modules of ``model`` not called yet (their parameters may have come from a state_dict), with
    their paths: the first call still makes their parameters or changes their class."""
    return [(path, m) for path, m in model.named_modules() if m.__dict__.get("_initialize_pending")]


def materialize(model: Module, args: tuple, kwargs: dict | None = None) -> None:
    """Run ``model`` once on ``args`` (shape-only ones may do) as the first call of each of its lazy modules:
    each makes its parameters for real (drawn from the seeded generator) and becomes ``cls_to_become``.
    What an execution plan does before it records a lazy model."""
    with materializing():
        model(*args, **(kwargs or {}))


def _first_array(args: tuple, kwargs: dict) -> Any:
    for v in itertools.chain(args, kwargs.values()):
        if hasattr(v, "shape") and hasattr(v, "dtype"):
            return v
    return None


class LazyModuleMixin:
    """torch's LazyModuleMixin: the parameters are made at the first call (``initialize_parameters``), after
    which the module becomes ``cls_to_become``. Put it before the module class: ``class LazyX(Mixin, X)``."""

    cls_to_become: type | None = None

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.__dict__["_initialize_pending"] = True  # torch's _initialize_hook: the first call removes it
        # the memory budget of the build that made it (its memory_limit): the first call's parameters count there
        self.__dict__["_build_budget"] = _budget.get()

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        raise NNSpecRuntimeError(f"initialize_parameters is not implemented for {self._get_name()}")

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer of this module is still uninitialised."""
        return any(is_lazy(v) for v in itertools.chain(self._parameters.values(), self._buffers.values()))

    def _infer_parameters(self, args: tuple, kwargs: dict, keep: bool = True) -> None:
        """torch's first forward pre-hook: make what is uninitialised (a module loaded from a state_dict has
        nothing left to make: its inferred hyperparameters then stay as they were, as in torch), then become
        ``cls_to_become``. It runs once. What it makes counts against the budget of the model's build, after
        what the build made (a file's memory_limit holds for its lazy parameters too); ``keep`` (not for a
        shape-only call) leaves it counted there."""
        build = self.__dict__.get("_build_budget")
        spent = None
        if build is not None:
            spent = Budget(build.limit, build.what)
            spent.used = build.used
        try:
            with scoped(_budget, spent) if spent is not None else contextlib.nullcontext():
                self.initialize_parameters(*args, **kwargs)
        except NNSpecError:
            for hook in list(self._forward_pre_hooks.values()):  # an observer (a shape trace) sees the failing call,
                hook(self, args)  # so that the error is placed at this module
            raise
        if self.has_uninitialized_params():
            raise NNSpecRuntimeError(f"module {self._get_name()} has not been fully initialized")
        if keep and spent is not None:
            build.used = spent.used
        del self.__dict__["_initialize_pending"]
        if self.cls_to_become is not None:
            object.__setattr__(self, "__class__", self.cls_to_become)

    def _call_impl(self, *args: Any, **kwargs: Any) -> Any:
        # torch's first forward pre-hook runs before any other hook, so they see the module it becomes
        if self.__dict__.get("_initialize_pending"):
            state = [v for v in itertools.chain(self._parameters.values(), self._buffers.values()) if v is not None]
            if is_meta(_first_array(args, kwargs)) and not is_meta(*state) and not _materializing.get():
                return self._shape_only_call(args, kwargs)  # static inference on a real model: no state changes
            self._infer_parameters(args, kwargs)
            state_changed()
        return Module._call_impl(self, *args, **kwargs)

    def _shape_only_call(self, args: tuple, kwargs: dict) -> Any:
        """This call on shape-only twins of the parameters it would make, the module then put back as it was."""
        cls, attrs = type(self), dict(self.__dict__)
        params, buffers = dict(self._parameters), dict(self._buffers)
        try:
            with shape_only():
                for registry in (self._parameters, self._buffers):
                    for name, v in registry.items():
                        if is_lazy(v):
                            registry[name] = UninitializedParameter(v.requires_grad, v.dtype)
            self._infer_parameters(args, kwargs, keep=False)
            return Module._call_impl(self, *args, **kwargs)
        finally:
            object.__setattr__(self, "__class__", cls)
            self._parameters.clear()
            self._parameters.update(params)
            self._buffers.clear()
            self._buffers.update(buffers)
            self.__dict__.clear()
            self.__dict__.update(attrs)

    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """torch's: an uninitialised parameter is there as itself (an UninitializedParameter), not as data."""
        out = Module.state_dict(self, destination, prefix, keep_vars)
        for name, p in self._parameters.items():
            if is_lazy(p):
                out[prefix + name] = p
        return out

    def _load_from_state_dict(self, state_dict, prefix, missing_keys, unexpected_keys, error_msgs, copies) -> None:
        """torch's lazy load hook: an uninitialised parameter given an array is materialised to its shape. The
        parameter is made only if the whole load succeeds (nnspec's loads change nothing when they fail)."""
        lazy = {name: p for name, p in self._parameters.items() if is_lazy(p)}
        for name, p in lazy.items():
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            value = state_dict[key]
            if is_lazy(value):
                continue  # uninitialised into uninitialised: nothing to copy
            value = value.data if isinstance(value, Parameter) else value
            if not hasattr(value, "shape"):
                error_msgs.append(f'While copying the parameter named "{key}", expected an array from checkpoint '
                                  f"but received {type(value).__name__}")
                continue
            copies.append((_Materialize(p, tuple(value.shape)), value))
        rest = {k: v for k, v in state_dict.items() if k[len(prefix):] not in lazy}
        registry = dict(self._parameters)
        for name in lazy:  # checked above: hidden from the generic checks
            del self._parameters[name]
        try:
            Module._load_from_state_dict(self, rest, prefix, missing_keys, unexpected_keys, error_msgs, copies)
        finally:
            self._parameters.clear()
            self._parameters.update(registry)


class _Materialize:
    """A load target that materialises its parameter when the load copies into it (load_state_dict copies
    only once every key has been checked)."""

    def __init__(self, param: UninitializedParameter, shape: tuple):
        self.param, self.shape = param, shape

    def __setitem__(self, index: Any, value: Any) -> None:
        self.param.materialize(self.shape)
        self.param.data[index] = get_backend(device_of(self.param.data)).asarray(value)


__all__ = ["LazyModuleMixin", "UninitializedParameter", "is_lazy", "materialize", "materializing",
           "first_call_pending"]
