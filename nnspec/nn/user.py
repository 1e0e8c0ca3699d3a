"""Modules whose forward comes from a model file: ``UserModule``, and the ``CustomForward`` mixin it is made of.

``CustomForward`` holds what a model file's ``forward`` compiles to (``nnspec.ir``): one graph per mode
(``training`` is known when a graph is compiled). A ``UserModule`` is a plain Module with it; a subclass of a
torch layer or container with its own forward (torchvision's ``LayerNorm2d(nn.LayerNorm)``) is the mixin
over that class.
"""

from __future__ import annotations

from typing import Any

from .module import Module


class CustomForward:
    """A forward compiled from a model file; without one, calling the module is its base class's call."""

    def _init_custom_forward(self, name: str) -> None:
        self.__dict__["_class_name"] = name
        self.__dict__["_forward_graphs"] = {}

    def _get_name(self) -> str:
        return self._class_name

    @property
    def graph(self):
        """The compiled forward graph for the current mode (None without a forward)."""
        return self._forward_graphs.get(self.training)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if not self._forward_graphs:
            return super().forward(*args, **kwargs)
        from ..ir.interpreter import Interpreter

        return Interpreter(self, self._forward_graphs[self.training]).run(*args, **kwargs)


class UserModule(CustomForward, Module):
    """A user-defined module: registries filled from the model file; repr shows its ``name``.

    Without a forward, calling it raises torch's missing-forward error.
    """

    def __init__(self, name: str = "Module"):
        super().__init__()
        self._init_custom_forward(name)
