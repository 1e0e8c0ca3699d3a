"""Initialisers with torch.nn.init's names and distributions.

Values are drawn on the host from the seeded default generator
(``nnspec.manual_seed``) and written into the array in place, whatever its
device, so the same seed gives the same model on every backend.
"""

from __future__ import annotations

import math
from typing import Any

from ..runtime import random
from ..runtime.backend import get_array_module
from .parameter import Parameter


def _array(t: Any) -> Any:
    return t.data if isinstance(t, Parameter) else t


_CHUNK = 1 << 16  # elements drawn at once (512 KiB of float64): freed draws of many MiB stay resident in the C heap


def _draw(t: Any, draw) -> Any:
    """Fill ``t`` with ``draw(shape)``; shape-only (meta) state draws nothing. A large array is drawn a chunk at a
    time (the same values: each element is one draw, in order), so that filling it never needs twice its size
    again in float64 (an array that fits in the memory left must not fail there)."""
    a = _array(t)
    if type(a).__name__ == "MetaArray":
        return t
    if a.size <= _CHUNK or not a.flags.c_contiguous:
        return _fill(t, draw(a.shape))
    flat, xp = a.reshape(-1), get_array_module(a)  # a view of a
    for start in range(0, a.size, _CHUNK):
        flat[start:start + _CHUNK] = xp.asarray(draw((min(_CHUNK, a.size - start),)), dtype=a.dtype)
    return t


def _fill(t: Any, values: Any) -> Any:
    a = _array(t)
    a[...] = get_array_module(a).asarray(values, dtype=a.dtype)
    return t


def calculate_fan_in_and_fan_out(t: Any) -> tuple[int, int]:
    shape = _array(t).shape
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def uniform_(t: Any, a: float = 0.0, b: float = 1.0) -> Any:
    return _draw(t, lambda shape: random.generator().uniform(a, b, size=shape))


def normal_(t: Any, mean: float = 0.0, std: float = 1.0) -> Any:
    return _draw(t, lambda shape: random.generator().normal(mean, std, size=shape))


def constant_(t: Any, val: float) -> Any:
    _array(t)[...] = val
    return t


def zeros_(t: Any) -> Any:
    return constant_(t, 0)


def ones_(t: Any) -> Any:
    return constant_(t, 1)


def kaiming_uniform_(t: Any, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Any:
    fan_in, fan_out = calculate_fan_in_and_fan_out(t)
    fan = fan_in if mode == "fan_in" else fan_out
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0
    return uniform_(t, -bound, bound)


def bias_uniform_(bias: Any, fan_in: int) -> Any:
    """The bias rule every torch layer shares: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    return uniform_(bias, -bound, bound)


def xavier_uniform_(t: Any, gain: float = 1.0) -> Any:
    """uniform(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(t)
    a = gain * math.sqrt(2.0 / float(fan_in + fan_out)) * math.sqrt(3.0)
    return uniform_(t, -a, a)


def xavier_normal_(t: Any, gain: float = 1.0) -> Any:
    """normal(0, std), std = gain * sqrt(2 / (fan_in + fan_out)) (Glorot)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)))
