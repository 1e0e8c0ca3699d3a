"""What several layer families share."""

from __future__ import annotations

from ...resources import empty
from ..module import Module
from ..parameter import Parameter


def add_weight_and_bias(module: Module, weight_shape: tuple[int, ...], bias_size: int, bias: bool) -> None:
    """Register ``weight`` and ``bias`` (None when bias=False, so no state_dict key), uninitialised."""
    module.weight = Parameter(empty(weight_shape))
    if bias:
        module.bias = Parameter(empty((bias_size,)))
    else:
        module.register_parameter("bias", None)
