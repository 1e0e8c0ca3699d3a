"""Activation functions beyond the basic ones in core (torch.nn.functional's elu, gelu, silu, softplus, ...)."""

from __future__ import annotations

from ...errors import NNSpecRuntimeError
from ..kernels import activation as kernels
from ..meta import is_meta
from .core import _data, _same_shape, check_float

__all__ = ["gelu"]


def gelu(input, *, approximate="none"):
    x = _data(input)
    if approximate not in ("none", "tanh"):
        raise NNSpecRuntimeError(f"gelu: approximate argument must be either none or tanh, got {approximate!r}")
    check_float("gelu", x)
    return _same_shape(x) if is_meta(x) else kernels.gelu(x, approximate)
