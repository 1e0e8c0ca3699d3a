"""nnspec's models in other runtimes: as a torch.nn.Module tree (``to_torch``)."""

from .to_torch import ToTorchError, to_torch

__all__ = ["ToTorchError", "to_torch"]
