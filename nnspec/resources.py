"""Bounds on what a model may allocate: a model file is untrusted, and a typo in a shape is common."""

from __future__ import annotations

import math
import os
from contextlib import AbstractContextManager
from contextvars import ContextVar

import numpy

from .errors import CompileError
from .scoped import scoped

MAX_MODULES = 100_000  # ResNet-50 has about 150


def available_memory() -> int | None:
    """Bytes of memory free now, where the OS says (Linux and most Unixes)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


class Budget:
    """Bytes the state of one model may take, counted as it is allocated."""

    def __init__(self, limit: int | None, what: str = "the memory free"):
        self.limit = limit
        self.what = what
        self.used = 0
        self.modules = 0  # modules a constructor made itself (a TransformerEncoder's copies of its layer)

    def take(self, nbytes: int, what: str) -> None:
        self.used += nbytes
        if self.limit is not None and self.used > self.limit:
            raise CompileError(
                f"with {what}, the model's parameters and buffers need {self.used:,} bytes; "
                f"the limit is {self.limit:,} bytes ({self.what})"
            )


_budget: ContextVar[Budget | None] = ContextVar("nnspec_budget", default=None)


def take_modules(n: int, what: str) -> None:
    """Count modules a constructor makes by copying (a TransformerEncoder's num_layers copies of its layer, which
    may itself hold copies) against MAX_MODULES, for the model being built: nested copies multiply."""
    b = _budget.get()
    total = n + (b.modules if b is not None else 0)
    if b is not None:
        b.modules = total
    if total > MAX_MODULES:
        raise CompileError(f"{what} make the model more than {MAX_MODULES:,} modules")
_meta: ContextVar[bool] = ContextVar("nnspec_meta_state", default=False)


def shape_only(enabled: bool = True) -> AbstractContextManager[bool]:
    """Model state made inside the block is shape-only (MetaArray): counted, never allocated."""
    return scoped(_meta, enabled)


def budget(limit: int | None = None) -> AbstractContextManager[Budget]:
    """Count every allocation of model state inside the block against one limit (default: free memory)."""
    if limit is None:
        return scoped(_budget, Budget(available_memory()))
    return scoped(_budget, Budget(limit, "the memory limit"))


def empty(shape: tuple[int, ...], dtype=numpy.float32) -> numpy.ndarray:
    """An uninitialised host array for model state, refused before allocation if it cannot fit
    (inside ``shape_only()``, a MetaArray of that shape, counted against the budget all the same)."""
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise CompileError(f"shape {list(shape)} has a negative size")
    itemsize = numpy.dtype(dtype).itemsize
    if math.prod(s for s in shape if s) * itemsize >= 2**62:  # numpy refuses it even when another size is 0
        raise CompileError(f"shape {list(shape)} is larger than any array can be")
    nbytes = math.prod(shape) * itemsize
    what = f"an array of shape {list(shape)}"
    b = _budget.get()
    if b is None:
        b = Budget(available_memory())
    b.take(nbytes, what)
    if _meta.get():
        from .runtime.meta import MetaArray

        return MetaArray(shape, dtype)
    return numpy.empty(shape, dtype=dtype)
