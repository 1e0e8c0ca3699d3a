"""What several layer families share."""

from __future__ import annotations

import numpy

from ..module import Module
from ..parameter import Parameter


def add_weight_and_bias(module: Module, weight_shape: tuple[int, ...], bias_size: int, bias: bool) -> None:
    """Register ``weight`` and ``bias`` (None when bias=False, so no state_dict key), uninitialised."""
    module.weight = Parameter(numpy.empty(weight_shape, dtype=numpy.float32))
    if bias:
        module.bias = Parameter(numpy.empty(bias_size, dtype=numpy.float32))
    else:
        module.register_parameter("bias", None)
