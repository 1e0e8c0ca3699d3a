"""torch.nn's vocabulary on NumPy/CuPy: Module, Parameter, containers and layers."""

from . import init
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .layers import *  # noqa: F403
from .layers import __all__ as _layers
from .module import Module
from .parameter import Parameter
from .user import CustomForward, UserModule

__all__ = ["Module", "Parameter", "CustomForward", "UserModule", "Sequential", "ModuleList", "ModuleDict",
           "ParameterList", "ParameterDict", "init", *_layers]
