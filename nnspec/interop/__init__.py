"""nnspec's models in other runtimes: as a torch.nn.Module tree (``to_torch``), and torch modules written as
model files (``from_torch``), as ONNX (``export_onnx``)."""

from .from_torch import ImportFromTorchError, from_torch
from .to_onnx import ExportError, export_onnx
from .to_torch import ToTorchError, to_torch

__all__ = ["ExportError", "ImportFromTorchError", "ToTorchError", "export_onnx", "from_torch", "to_torch"]
