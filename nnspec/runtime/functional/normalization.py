"""Normalisation beyond core's batch_norm: layer_norm, group_norm, instance_norm, rms_norm, ..."""

from __future__ import annotations

from ...errors import NNSpecRuntimeError, ShapeError
from ..kernels import norm as kernels
from ..meta import is_meta
from .core import _data, _same_dtype, _same_shape, _shape, check_float

__all__ = ["layer_norm"]


def _list(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    x, w, b = _data(input), _data(weight), _data(bias)
    if not isinstance(normalized_shape, (tuple, list)):
        raise NNSpecRuntimeError("layer_norm(): argument 'normalized_shape' must be tuple of ints, not "
                                 f"{type(normalized_shape).__name__}")
    shape = tuple(normalized_shape)
    if not shape:
        raise NNSpecRuntimeError("layer_norm: Expected normalized_shape to be at least 1-dimensional, i.e., "
                                 "containing at least one element, but got normalized_shape = []")
    for name, t in (("weight", w), ("bias", b)):
        if t is not None and tuple(t.shape) != shape:
            raise ShapeError(f"layer_norm: Expected {name} to be of same shape as normalized_shape, but got {name} of "
                             f"shape {_shape(t)} and normalized_shape = {_list(shape)}")
    if x.ndim < len(shape) or tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise ShapeError(f"layer_norm: Given normalized_shape={_list(shape)}, expected input with shape "
                         f"[*, {', '.join(map(str, shape))}], but got input of size{_shape(x)}")
    check_float("layer_norm", x)
    _same_dtype("layer_norm", x, w if w is not None else b)
    if is_meta(x):
        return _same_shape(x)
    return kernels.layer_norm(x, len(shape), w, b, eps)
