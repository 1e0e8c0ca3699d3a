"""``UserModule``: a module defined in a model file, with its own class name."""

from __future__ import annotations

from .module import Module


class UserModule(Module):
    """A user-defined module: registries filled from the model file; repr shows its ``name``.

    Its forward is defined by the model file's ``forward`` key, compiled by
    ``nnspec.ir``; without one, calling it raises torch's missing-forward error.
    """

    def __init__(self, name: str = "Module"):
        super().__init__()
        self.__dict__["_class_name"] = name

    def _get_name(self) -> str:
        return self._class_name
