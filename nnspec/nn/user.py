"""``UserModule``: a module defined in a model file, with its own class name and forward."""

from __future__ import annotations

from typing import Any

from .module import Module


class UserModule(Module):
    """A user-defined module: registries filled from the model file; repr shows its ``name``.

    Its forward comes from the model file's ``forward`` key, compiled by ``nnspec.ir``
    into one graph per mode (``training`` is known when the graph is compiled);
    without one, calling it raises torch's missing-forward error.
    """

    def __init__(self, name: str = "Module"):
        super().__init__()
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
