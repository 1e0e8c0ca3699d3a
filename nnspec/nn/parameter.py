"""``Parameter``: an array a Module registers as learnable state (torch.nn.Parameter)."""

from __future__ import annotations

from typing import Any

from ..runtime.backend import device_of, get_array_module


class Parameter:
    """An array registered in its module's ``parameters()``; mirrors torch.nn.Parameter.

    nnspec runs inference only, so ``requires_grad`` is kept as metadata (it is
    what torch's state and ``parameters()`` filters see) and ``grad`` is never
    filled except by ``zero_grad``.
    """

    __slots__ = ("data", "requires_grad", "grad")

    def __init__(self, data: Any, requires_grad: bool = True):
        if isinstance(data, Parameter):
            data = data.data
        xp = get_array_module(data)
        self.data = xp.asarray(data)
        self.requires_grad = bool(requires_grad)
        self.grad = None

    # Array-like surface, enough for kernels and users to treat it as its data.
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def device(self) -> str:
        return device_of(self.data)

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return int(self.data.size)

    def __array__(self, dtype=None, copy=None):

        from ..runtime.backend import to_numpy

        a = to_numpy(self.data)
        return a.astype(dtype) if dtype is not None else a

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"Parameter containing:\n{self.data!r}"
