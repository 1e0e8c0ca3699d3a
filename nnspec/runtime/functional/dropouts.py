"""Dropout variants beyond core's dropout and dropout2d: dropout1d/3d, alpha_dropout, feature_alpha_dropout.

As torch's: identity in eval (and for p = 0 or an empty input), all zeros for p = 1, else a random mask from
nnspec's seeded generator, per element or per channel (the feature variants: dims 0 and 1 of a batched input)."""

from __future__ import annotations

import warnings

from ...errors import NNSpecRuntimeError, ShapeError
from .. import random
from ..kernels import dropout as kernels
from ..meta import is_meta, write_target
from .core import _check_p, _data, _meta, torch_type_name

__all__ = ["dropout1d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]


def _feature_mask(shape: tuple):
    """torch's feature noise: (N, C, 1, ...) over an input of at least 2 dims; None below that."""
    return tuple(shape[:2]) + (1,) * (len(shape) - 2) if len(shape) >= 2 else None


def _deprecated_dims(op: str, ndim: int, spatial: int) -> None:
    """torch's warning for dropout2d/3d of an input without the dims they are for (still dropped, as torch does)."""
    warnings.warn(
        f"{op}: Received a {ndim}-D input to {op}, which is deprecated and will result in an error in a future "
        f"release. To retain the behavior and silence this warning, please use dropout instead. Note that {op} "
        f"exists to provide channel-wise dropout on inputs with {spatial} spatial dimensions, a channel dimension, "
        f"and an optional batch dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).", stacklevel=3)


def _random(op: str, x, p, training, inplace, mask_shape, alpha: bool):
    """The shared tail: identity, zeros, or the mask (``mask_shape`` None: torch's feature dropout of a
    1-d or 0-d input, refused)."""
    if not training or p == 0 or x.size == 0:
        return x
    if inplace:
        x = write_target(x)  # static inference: a stand-in, the model's state unchanged
    if p != 1:
        if mask_shape is None:
            raise ShapeError(f"{op}: Feature dropout requires at least 2 dimensions in the input, but got input of "
                             f"size: [{', '.join(str(s) for s in x.shape)}]")
        if x.dtype.kind != "f":  # the noise is made in x's dtype and then scaled by a float
            name = "Long" if alpha and x.dtype.kind == "b" else torch_type_name(x.dtype)
            raise NNSpecRuntimeError(f"{op}: result type Float can't be cast to the desired output type {name}")
    if is_meta(x):
        return x if inplace else _meta(x.shape, x.dtype)
    mask = x.shape if mask_shape is None else mask_shape  # p = 1: zeros, whatever the dims
    if alpha:
        return kernels.alpha_dropout(x, p, mask, random.generator(), inplace)
    return kernels.dropout(x, p, mask, random.generator(), inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or unbatched (C, L) input."""
    _check_p(p)
    x = _data(input)
    if x.ndim not in (2, 3):
        raise ShapeError(
            f"dropout1d: Expected 2D or 3D input, but received a {x.ndim}D input. Note that dropout1d exists to "
            "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional "
            "batch dimension (i.e. 2D or 3D inputs)."
        )
    mask = _feature_mask(x.shape) if x.ndim == 3 else (x.shape[0], 1)  # unbatched: the channels are dim 0
    return _random("dropout1d", x, p, training, inplace, mask, alpha=False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or unbatched (C, D, H, W) input. As torch does (with its warning),
    any other input is taken as unbatched: its dim 0 is the channels."""
    _check_p(p)
    x = _data(input)
    if x.ndim not in (4, 5):
        _deprecated_dims("dropout3d", x.ndim, 3)
    if x.ndim == 5:
        mask = _feature_mask(x.shape)
    else:  # torch adds a batch dim of 1 and takes the feature mask of that
        mask = (x.shape[0],) + (1,) * (x.ndim - 1) if x.ndim >= 1 else None
    return _random("dropout3d", x, p, training, inplace, mask, alpha=False)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout per element: mean and variance of a SELU network's activations kept."""
    _check_p(p)
    x = _data(input)
    return _random("alpha_dropout", x, p, training, inplace, tuple(x.shape), alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels (dim 1) of an input of at least 2 dims."""
    _check_p(p)
    x = _data(input)
    return _random("feature_alpha_dropout", x, p, training, inplace, _feature_mask(x.shape), alpha=True)
