"""Match what a caller has (arrays, and named values such as ``--arg choice=conv``) to a model's inputs."""

from __future__ import annotations

import inspect
from typing import Any

from .errors import NNSpecRuntimeError
from .nn import Module, UserModule


def input_names(model: Module) -> list[str]:
    """The forward's input names: a custom forward's placeholders, or the Python signature's."""
    if isinstance(model, UserModule) and model.graph is not None:
        return [n.target for n in model.graph.placeholders]
    params = inspect.signature(model.forward).parameters.values()
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def bind(model: Module, arrays: list[Any], named: dict[str, Any] | None = None) -> list[Any]:
    """The positional arguments for ``model(*args)``: arrays fill the inputs not given by name, in order."""
    named = dict(named or {})
    params = inspect.signature(model.forward).parameters.values()
    if not named and any(p.kind is p.VAR_POSITIONAL for p in params) and input_names(model) == []:
        return list(arrays)  # forward(*args): nothing to check here (a module without a forward says so itself)
    names = input_names(model)
    unknown = [k for k in named if k not in names]
    if unknown:
        raise NNSpecRuntimeError(
            f"{model._get_name()} has no input {', '.join(map(repr, unknown))}; its inputs are: {', '.join(names)}"
        )
    free = [n for n in names if n not in named]
    required = free
    if not isinstance(model, UserModule) or model.graph is None:  # a layer: trailing optional inputs may be left out
        params = inspect.signature(model.forward).parameters
        required = [n for n in free if params[n].default is inspect.Parameter.empty]
    if not len(required) <= len(arrays) <= len(free):
        raise NNSpecRuntimeError(
            f"{model._get_name()} takes the input(s) {', '.join(names)}; got {len(arrays)} array(s)"
            + (f" and {', '.join(named)} by name" if named else "")
            + "; give one --input-shape or --input per array input and --arg name=value for the others"
        )
    values = dict(zip(free, arrays)) | named
    if not isinstance(model, UserModule) or model.graph is None:  # a layer: a gap before a named input gets its default
        params = inspect.signature(model.forward).parameters
        last = max((names.index(n) for n in values), default=-1)
        values = {n: values[n] if n in values else params[n].default for n in names[:last + 1]}
    return [values[n] for n in names if n in values]
