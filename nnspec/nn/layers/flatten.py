"""Shape-only layers: Flatten, Unflatten and Identity (torch.nn.modules.flatten, torch.nn.modules.linear)."""

from __future__ import annotations

import math

from ...errors import CompileError, ShapeError
from ...runtime import functional as F
from ...runtime import tensor as T
from ...runtime.symbolic import is_symbolic
from ..module import Module

__all__ = ["Flatten", "Unflatten", "Identity"]


class Flatten(Module):
    """Flattens dims start_dim..end_dim into one (torch.nn.Flatten). Shape: (N, *dims) -> (N, prod(dims))."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return T.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    """Returns its input (torch.nn.Identity). Shape: any."""

    def forward(self, input):
        return input


class Unflatten(Module):
    """Splits dim into unflattened_size (torch.nn.Unflatten). Shape: (*, S, *) -> (*, *unflattened_size, *), where
    prod(unflattened_size) = S (one -1 is inferred)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise CompileError(f"unflattened_size must be a tuple of ints, but found type {type(unflattened_size).__name__}")
        for i, size in enumerate(unflattened_size):
            if not isinstance(size, int):
                raise CompileError(f"unflattened_size must be tuple of ints, but found element of type "
                                   f"{type(size).__name__} at pos {i}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        return unflatten(F.data_of(input), self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def unflatten(x, dim, sizes):
    """torch's Tensor.unflatten(dim, sizes): dim of x split into sizes (at most one -1, inferred), as a view."""
    sizes = list(sizes)
    if not sizes:
        raise ShapeError("unflatten: sizes must be non-empty")
    if x.ndim == 0:
        raise ShapeError(f"unflatten: Dimension specified as {dim} but tensor has no dimensions")
    d = F.wrap_dim(dim, x.ndim, "unflatten")
    size = x.shape[d]
    shown = "[" + ", ".join(map(str, sizes)) + "]"
    infer, known = None, 1
    for i, s in enumerate(sizes):
        if s == -1:
            if infer is not None:
                raise ShapeError("unflatten: only one dimension can be inferred")
            infer = i
        elif s >= 0:
            known = known * s
        else:
            raise ShapeError(f"unflatten: invalid shape dimension {s} at index {i} of shape {shown}")
    if infer is not None and known == 0 and size == 0:
        raise ShapeError(f"unflatten: cannot reshape tensor of 0 elements into shape {shown} because the unspecified "
                         "dimension size -1 can be any value and is ambiguous")
    if (known != size) if infer is None else (known == 0 or size % known != 0):
        raise ShapeError(f"unflatten: Provided sizes {shown} don't multiply up to the size of dim {d} ({size}) in the "
                         "input tensor")
    if infer is not None:
        sizes[infer] = size // known
    shape = tuple(x.shape[:d]) + tuple(sizes) + tuple(x.shape[d + 1:])
    # an empty input takes any sizes with a 0 among them, however large the others (torch's until its strides overflow)
    if not any(is_symbolic(s) for s in shape) and math.prod(s for s in shape if s) * x.dtype.itemsize >= 2**63:
        raise ShapeError(f"unflatten: sizes {shown} of dim {d} of an input of size {list(x.shape)} make a shape "
                         f"{list(shape)} larger than any array can be")
    return x.reshape(shape)
