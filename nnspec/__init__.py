"""nnspec: torch.nn models from YAML or JSON, compiled to a Module tree and run on NumPy or CuPy."""

from . import nn, static
from .builder import from_dict, load, loads
from .errors import CompileError, NNSpecError, NNSpecRuntimeError, ShapeError, SpecError, WeightsError
from .nn import Module, Parameter
from .plan import Plan, PlanError, compile
from .runtime import functional
from .runtime.random import manual_seed
from .static import infer
from .weights import load_weights, save_weights

__version__ = "0.1.0"

__all__ = [
    "CompileError", "Module", "NNSpecError", "NNSpecRuntimeError", "Parameter", "Plan", "PlanError", "ShapeError",
    "SpecError", "WeightsError", "compile", "from_dict", "functional", "infer", "load", "load_weights", "loads",
    "manual_seed", "nn", "save_weights", "static",
]
