"""Modules whose forward comes from a model file: ``UserModule``, and the ``CustomForward`` mixin it is made of.

``CustomForward`` holds what a model file's ``forward`` compiles to (``nnspec.ir``): a graph per mode
(``training`` is known when a graph is compiled) and per way the forward is called (which inputs are arrays,
None or flags; their shapes too where the forward tests a size). A ``UserModule`` is a plain Module with it; a
subclass of a torch layer or container with its own forward (torchvision's ``LayerNorm2d(nn.LayerNorm)``) is
the mixin over that class.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from .module import Module


class CustomForward:
    """A forward compiled from a model file; without one, calling the module is its base class's call."""

    def _init_custom_forward(self, name: str) -> None:
        self.__dict__["_class_name"] = name
        self.__dict__["_forward_graphs"] = {}
        self.__dict__["_forward_program"] = None

    def _get_name(self) -> str:  # (from __dict__: while copy.deepcopy rebuilds one, it has no name yet)
        return self.__dict__.get("_class_name", type(self).__name__)

    @property
    def has_forward(self) -> bool:
        return self.__dict__.get("_forward_program") is not None

    @property
    def graph(self):
        """The forward's graph for the current mode and its default call (None without a forward, or where
        the forward is compiled per input shape)."""
        return self._forward_graphs.get(self.training)

    def forward_parameters(self) -> list[inspect.Parameter]:
        """The forward's inputs as its header writes them (after self); those with a default may be left out."""
        from ..ir.compiler import Leaf

        program = self.__dict__.get("_forward_program")
        if program is None:
            return []
        defaults = self._forward_defaults
        a = program.params
        kinds = {}
        if a is not None:
            kinds = {p.arg: inspect.Parameter.KEYWORD_ONLY for p in a.kwonlyargs}
        return [inspect.Parameter(n, kinds.get(n, inspect.Parameter.POSITIONAL_OR_KEYWORD),
                                  default=inspect.Parameter.empty if isinstance(defaults[n], Leaf) else defaults[n])
                for n in program.inputs]

    def extra_repr(self) -> str:
        from ..ir.compiler import module_text

        text = module_text(self, "extra_repr")
        return super().extra_repr() if text is None else text

    def __repr__(self) -> str:
        from ..ir.compiler import module_text

        text = module_text(self, "__repr__")
        return super().__repr__() if text is None else text

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if not self.has_forward:
            return super().forward(*args, **kwargs)
        from ..ir.compiler import forward_graph
        from ..ir.interpreter import Interpreter

        graph, values = forward_graph(self, args, kwargs)
        return Interpreter(self, graph).run(*values)


class UserModule(CustomForward, Module):
    """A user-defined module: registries filled from the model file; repr shows its ``name``.

    Without a forward, calling it raises torch's missing-forward error.
    """

    def __init__(self, name: str = "Module"):
        super().__init__()
        self._init_custom_forward(name)


@functools.lru_cache(maxsize=4096)  # one class per (name, base), not one per module built (50,000 LayerNorm2d)
def custom_class(name: str, base: type) -> type:
    """``class <name>(base)`` with a forward from a model file: torchvision's ``LayerNorm2d(nn.LayerNorm)``,
    ``_DenseBlock(nn.ModuleDict)``; without a compiled forward its instances run ``base``'s."""
    return type(name, (CustomForward, base), {"__module__": __name__, "__qualname__": name})


def base_class(module: Module) -> type:
    """The nnspec class ``module`` subclasses in a model file (LayerNorm for a LayerNorm2d; Module for a
    UserModule), else its own class: what its kernel, its cost and a plan's passes go by."""
    mro = type(module).__mro__
    return mro[mro.index(CustomForward) + 1] if CustomForward in mro else type(module)


def has_custom_forward(module: Module) -> bool:
    """Whether ``module`` runs a forward from a model file (not its base class's)."""
    return isinstance(module, CustomForward) and module.has_forward
