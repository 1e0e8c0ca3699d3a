"""nnspec: torch.nn models from YAML or JSON, compiled to a Module tree and run on NumPy or CuPy."""

import os

# OpenBLAS's threads spin for 2**28 cycles (about 0.1 s) after each matmul before they sleep, and on a
# small machine they then take the cores from the NumPy loops between matmuls (pooling, depthwise
# convolutions). 2**22 cycles (about 1.5 ms) keeps them awake across a plan's back-to-back matmuls.
# Measured on 2 cores, batch 8: MobileNetV2 462 -> 299 ms, ResNet-18 318 -> 300 ms, LeNet-5 and the
# MLP unchanged. OpenBLAS reads it when NumPy is first imported, so this only acts where nnspec is
# imported first (as the nnspec command does); a value already set is kept.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "22")

from . import nn, static
from .builder import from_dict, load, loads
from .errors import CompileError, NNSpecError, NNSpecRuntimeError, ShapeError, SpecError, WeightsError
from .interop import export_onnx, from_torch, to_torch
from .nn import Module, Parameter
from .plan import Plan, PlanError, compile
from .runtime import functional
from .runtime.random import manual_seed
from .static import infer
from .weights import load_weights, save_weights

__version__ = "0.1.0"

__all__ = [
    "CompileError", "Module", "NNSpecError", "NNSpecRuntimeError", "Parameter", "Plan", "PlanError", "ShapeError",
    "SpecError", "WeightsError", "compile", "export_onnx", "from_dict", "from_torch", "functional", "infer", "load", "load_weights", "loads",
    "manual_seed", "nn", "predict", "save_weights", "static", "to_torch",
]


def __getattr__(name: str):
    """``nnspec.predict`` and ``nnspec.dask``, imported on first use: they need the ``[dask]`` extra, which
    ``import nnspec`` must not (Dask itself is imported only when they run)."""
    if name == "predict":
        from .distributed import predict

        return predict
    if name == "dask":
        import importlib

        return importlib.import_module(".dask", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
