"""Match what a caller has (arrays, by position or by name, and named values such as ``--arg choice=conv``)
to a model's inputs, as a Python call binds arguments to a forward's parameters."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from .errors import NNSpecRuntimeError
from .nn import Module
from .nn.user import CustomForward

_P = inspect.Parameter
_BY_POSITION = (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD)


def forward_parameters(model: Module) -> list[inspect.Parameter]:
    """The parameters of ``model``'s forward, ``self`` left out: every other function here reads them from this one.

    A custom forward's are its header's (``CustomForward.forward_parameters``: ``mask=None`` may be left out);
    any other module's are its Python forward's signature (a layer's ``need_weights=True``), or for a custom
    forward not given, the forward of the class it is made over."""
    if isinstance(model, CustomForward):
        if model.has_forward:
            return model.forward_parameters()
        return list(inspect.signature(super(CustomForward, model).forward).parameters.values())
    return list(inspect.signature(model.forward).parameters.values())


def input_names(model: Module) -> list[str]:
    """The names of the inputs ``model``'s forward takes by position, in order."""
    return [p.name for p in forward_parameters(model) if p.kind in _BY_POSITION]


def describe(params: Sequence[inspect.Parameter]) -> str:
    """The inputs as a forward's header writes them: ``input_ids, attention_mask=None``."""
    return ", ".join(p.name if p.default is _P.empty else f"{p.name}={p.default!r}" for p in params)


def bind_call(model: Module, arrays: Sequence[Any], named: dict[str, Any] | None = None,
              names: Sequence[str | None] | None = None) -> tuple[list[Any], dict[str, Any]]:
    """The arguments for ``model(*args, **kwargs)``.

    ``names[i]`` names the input ``arrays[i]`` is for; an array without a name (None, or no ``names``) fills
    the next input not given by name, in order. ``named`` gives other values by name (``choice="conv"``).
    An input with a default that is not given is left out of the call, so that the forward's default applies:
    inputs after it are passed by keyword. Arrays left over go to ``*args`` where the forward has one."""
    named = dict(named or {})
    names = [None] * len(arrays) if names is None else list(names)
    if len(names) != len(arrays):
        raise ValueError(f"{len(names)} names for {len(arrays)} arrays")
    everything = forward_parameters(model)
    params = [p for p in everything if p.kind in (*_BY_POSITION, _P.KEYWORD_ONLY)]
    by_position = [p for p in params if p.kind in _BY_POSITION]
    varargs = any(p.kind is _P.VAR_POSITIONAL for p in everything)
    if not params and not named and not any(names) and varargs:
        return list(arrays), {}  # forward(*args): nothing to check here (a module without a forward says so itself)
    given: dict[str, Any] = {}
    for name, value in [*((n, a) for n, a in zip(names, arrays) if n is not None), *named.items()]:
        if name in given:
            raise NNSpecRuntimeError(f"{model._get_name()}'s input {name!r} is given twice")
        given[name] = value
    unknown = [k for k in given if k not in {p.name for p in params}]
    if unknown:
        raise NNSpecRuntimeError(
            f"{model._get_name()} has no input {', '.join(map(repr, unknown))}; its inputs are: {describe(params)}"
        )
    loose = [a for n, a in zip(names, arrays) if n is None]
    free = [p for p in by_position if p.name not in given]
    missing = [p.name for p in free[len(loose):] if p.default is _P.empty]  # required ones precede the others
    missing += [p.name for p in params if p.kind is _P.KEYWORD_ONLY and p.default is _P.empty and p.name not in given]
    extra = loose[len(free):]  # every input by position is then given, so none is left out: they go to *args
    if missing or extra and not varargs:
        got = f"{len(loose)} array(s)" + (f" by position and {', '.join(given)} by name" if given else "")
        left = ", ".join(p.name for p in free)
        why = f"{', '.join(missing)} missing" if missing else \
            f"too many for the {len(free)} input(s) left to fill by position ({left})" if free else \
            "too many: every input is given by name"
        raise NNSpecRuntimeError(
            f"{model._get_name()} takes the input(s) {describe(params)}; got {got}: {why}; give one --input-shape "
            "or --input per array input (NAME=... for one by name) and --arg name=value for the others"
        )
    values = dict(zip((p.name for p in free), loose)) | given
    # a positional-only input cannot be left out before a later one: it gets its default
    last_fixed = max((i for i, p in enumerate(params) if p.kind is _P.POSITIONAL_ONLY and p.name in values), default=-1)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for i, p in enumerate(params):
        if p.name in values:
            value = values[p.name]
        elif i < last_fixed:
            value = p.default
        else:
            continue
        if p.kind is _P.KEYWORD_ONLY or len(args) < i:  # after a gap, or keyword-only: by name
            kwargs[p.name] = value
        else:
            args.append(value)
    return args + extra, kwargs


def call_inputs(model: Module, args: Sequence[Any], kwargs: dict[str, Any]) -> list[tuple[str, Any]]:
    """Each argument of ``model(*args, **kwargs)`` with the name of the input it is (``input0``... for a
    forward that takes ``*args``), in the forward's order."""
    names = input_names(model)
    return [(names[i] if i < len(names) else f"input{i}", a) for i, a in enumerate(args)] + list(kwargs.items())
