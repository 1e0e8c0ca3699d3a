"""nnspec's models in other runtimes: as a torch.nn.Module tree (``to_torch``), and torch modules written as
model files (``from_torch``)."""

from .from_torch import ImportFromTorchError, from_torch
from .to_torch import ToTorchError, to_torch

__all__ = ["ImportFromTorchError", "ToTorchError", "from_torch", "to_torch"]
