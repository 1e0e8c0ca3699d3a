"""torch reductions beyond sum/mean: max/min (whole, per dim with indices, or elementwise), amax/amin,
argmax/argmin, var/std (correction or unbiased), norm, prod, cumsum/cumprod, logsumexp, all/any and
count_nonzero.

Dims follow torch (negative dims wrap, a 0-d input has one dim to name, no dim may repeat); integer
and bool inputs of sums and products give int64; a max or min per dim returns a named tuple
``(values, indices)``. float16 accumulates in float32.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy

from ..errors import NNSpecRuntimeError, ShapeError
from .backend import get_array_module
from .functional.core import as_dtype, torch_type_name, wrap_dim
from .meta import MetaArray, is_meta
from .tensor import _BOOL, _F32, _I64, _array, _is_array, _out, _quiet, _reduce_axes, data_of
from .tensor_math import maximum, minimum
from .values import RETURN_TYPES


def _kept_shape(shape: tuple, axes: tuple | None, keepdim: bool) -> tuple:
    """The shape after reducing ``axes`` (None: every dim)."""
    axes = tuple(range(len(shape))) if axes is None else axes
    if keepdim:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _count(shape: tuple, axes: tuple | None) -> Any:
    n: Any = 1
    for i, s in enumerate(shape):
        if axes is None or i in axes:
            n = n * s
    return n


def _opmath(dtype):
    return _F32 if dtype == numpy.float16 else dtype


def _keepdim(op: str, keepdim: Any) -> bool:
    if not isinstance(keepdim, bool):
        raise NNSpecRuntimeError(f"{op}(): argument 'keepdim' must be bool, not {type(keepdim).__name__}")
    return keepdim


def _one_dim(op: str, dim: Any) -> None:
    if isinstance(dim, (tuple, list)):
        raise NNSpecRuntimeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")


def _nonempty(op: str, x, axes: tuple | None, whole: bool) -> None:
    """Reductions without an identity (max, min, argmax, ...) refuse an empty reduction, as torch does."""
    if whole:
        if x.size == 0:
            raise ShapeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0."
                             + (" Specify the reduction dim with the 'dim' argument." if op in ("max", "min", "amax",
                                                                                                 "amin") else ""))
        return
    for a in axes or ():
        if x.ndim and x.shape[a] == 0:
            raise ShapeError(f"{op}(): Expected reduction dim {a} to have non-zero size.")


# --------------------------------------------------------------------------- max / min


def _extreme(op: str, input, dim, keepdim, other, largest: bool):
    x = _array(input, op)
    if _is_array(dim) or other is not None:  # torch.max(input, other): elementwise
        o = data_of(other if other is not None else dim)
        return maximum(x, o) if largest else minimum(x, o)
    if dim is None:
        _nonempty(op, x, None, True)
        if is_meta(x):
            return MetaArray((), x.dtype)
        xp = get_array_module(x)
        return _out(xp, x.max() if largest else x.min())
    _one_dim(op, dim)
    keepdim = _keepdim(op, keepdim)
    d = wrap_dim(dim, x.ndim, op)
    axes = (d,) if x.ndim else ()
    _nonempty(op, x, axes, False)
    shape = _kept_shape(tuple(x.shape), axes, keepdim)
    result = RETURN_TYPES["max" if largest else "min"]
    if is_meta(x):
        return result(MetaArray(shape, x.dtype), MetaArray(shape, _I64))
    xp = get_array_module(x)
    if x.ndim == 0:
        return result(x.copy(), xp.zeros((), dtype=xp.int64))
    index = xp.argmax(x, axis=d) if largest else xp.argmin(x, axis=d)  # the first extreme, NaN counted largest
    values = xp.take_along_axis(x, xp.expand_dims(index, d), axis=d)
    if not keepdim:
        values = values.squeeze(d)
    else:
        index = xp.expand_dims(index, d)
    return result(_out(xp, values), _out(xp, index.astype(xp.int64)))


def max_(input, dim=None, keepdim=False, *, other=None, out=None):
    """torch.max(input), torch.max(input, dim, keepdim=False) -> (values, indices), or torch.max(input, other)."""
    return _extreme("max", input, dim, keepdim, other, True)


def min_(input, dim=None, keepdim=False, *, other=None, out=None):
    return _extreme("min", input, dim, keepdim, other, False)


def _amax(op: str, input, dim, keepdim, largest: bool):
    x = _array(input, op)
    keepdim = _keepdim(op, keepdim)
    axes = _reduce_axes(op, x, dim)
    whole = axes is None
    _nonempty(op, x, axes, whole)
    shape = _kept_shape(tuple(x.shape), axes, keepdim)
    if is_meta(x):
        return MetaArray(shape, x.dtype)
    xp = get_array_module(x)
    y = x.max(axis=axes, keepdims=keepdim) if largest else x.min(axis=axes, keepdims=keepdim)
    return _out(xp, y)


def amax(input, dim=(), keepdim=False, *, out=None):
    """torch.amax: the largest value over ``dim`` (an int or a tuple; () is every dim); NaN propagates."""
    return _amax("amax", input, dim, keepdim, True)


def amin(input, dim=(), keepdim=False, *, out=None):
    return _amax("amin", input, dim, keepdim, False)


def aminmax(input, *, dim=None, keepdim=False, out=None):
    """torch.aminmax: the named tuple (min, max) over ``dim`` (one dim, or every one)."""
    x = _array(input, "aminmax")
    if dim is not None:
        _one_dim("aminmax", dim)
    lo = _amax("aminmax", x, () if dim is None else dim, keepdim, False)
    hi = _amax("aminmax", x, () if dim is None else dim, keepdim, True)
    return RETURN_TYPES["aminmax"](lo, hi)


def _arg(op: str, input, dim, keepdim, largest: bool):
    x = _array(input, op)
    keepdim = _keepdim(op, keepdim)
    if x.dtype == _BOOL:
        raise NNSpecRuntimeError(f"{op}(): does not support bool input")
    if dim is None:
        if x.size == 0:
            raise ShapeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
        shape = tuple(1 for _ in x.shape) if keepdim else ()
        if is_meta(x):
            return MetaArray(shape, _I64)
        xp = get_array_module(x)
        flat = x.reshape(-1)
        i = xp.argmax(flat) if largest else xp.argmin(flat)
        return _out(xp, xp.asarray(i, dtype=xp.int64).reshape(shape))
    _one_dim(op, dim)
    d = wrap_dim(dim, x.ndim, op)
    axes = (d,) if x.ndim else ()
    _nonempty(op, x, axes, False)
    shape = _kept_shape(tuple(x.shape), axes, keepdim)
    if is_meta(x):
        return MetaArray(shape, _I64)
    xp = get_array_module(x)
    if x.ndim == 0:
        return xp.zeros((), dtype=xp.int64)
    i = xp.argmax(x, axis=d) if largest else xp.argmin(x, axis=d)
    i = xp.expand_dims(i, d) if keepdim else i
    return _out(xp, i.astype(xp.int64))


def argmax(input, dim=None, keepdim=False):
    """torch.argmax: the index of the first largest value (of the flattened input where ``dim`` is None)."""
    return _arg("argmax", input, dim, keepdim, True)


def argmin(input, dim=None, keepdim=False):
    return _arg("argmin", input, dim, keepdim, False)


# --------------------------------------------------------------------------- var / std


def _correction(op: str, unbiased, correction) -> Any:
    if unbiased is not None and correction is not None:
        raise NNSpecRuntimeError(f"{op}: Cannot specify both unbiased and correction")
    if unbiased is not None:
        if not isinstance(unbiased, bool):
            raise NNSpecRuntimeError(f"{op}(): argument 'unbiased' must be bool, not {type(unbiased).__name__}")
        return 1 if unbiased else 0
    if correction is None:
        return 1
    if not isinstance(correction, (bool, int, builtins.float)):
        raise NNSpecRuntimeError(f"{op}(): argument 'correction' must be Number, not {type(correction).__name__}")
    return correction


def _moments(op: str, input, dim, unbiased, keepdim, correction, root: bool, with_mean: bool):
    x = _array(input, op)
    if isinstance(dim, bool):  # torch.var(x, False): the legacy unbiased flag in the dim's place
        if unbiased is not None:
            raise NNSpecRuntimeError(f"{op}(): got unbiased twice")
        dim, unbiased = None, dim
    keepdim = _keepdim(op, keepdim)
    c = _correction(op, unbiased, correction)
    if x.dtype.kind != "f":
        raise NNSpecRuntimeError(f"{op}: std and var only support floating point and complex dtypes")
    axes = _reduce_axes(op, x, dim)
    shape = _kept_shape(tuple(x.shape), axes, keepdim)
    if is_meta(x):
        out = MetaArray(shape, x.dtype)
        return (out, MetaArray(shape, x.dtype)) if with_mean else out
    xp = get_array_module(x)
    n = _count(tuple(x.shape), axes)
    xc = x.astype(_opmath(x.dtype), copy=False)
    with _quiet(xp):
        mean = xc.mean(axis=axes, keepdims=True) if n else xp.full(_kept_shape(tuple(x.shape), axes, True), numpy.nan,
                                                                    dtype=xc.dtype)
        sq = ((xc - mean) ** 2).sum(axis=axes, keepdims=keepdim)
        y = sq / xc.dtype.type(builtins.max(n - c, 0))
        if root:
            y = xp.sqrt(y)
    y = _out(xp, y).astype(x.dtype, copy=False)
    if with_mean:
        m = mean if keepdim else (mean.reshape(shape))
        return y, _out(xp, m).astype(x.dtype, copy=False)
    return y


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """torch.var: the variance over ``dim`` with Bessel's ``correction`` (1 by default; ``unbiased=False`` is 0)."""
    return _moments("var", input, dim, unbiased, keepdim, correction, False, False)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    return _moments("std", input, dim, unbiased, keepdim, correction, True, False)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """torch.var_mean: (var, mean)."""
    return _moments("var_mean", input, dim, unbiased, keepdim, correction, False, True)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    return _moments("std_mean", input, dim, unbiased, keepdim, correction, True, True)


# --------------------------------------------------------------------------- norm, prod, cumulative


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """torch.norm: the vector p-norm over ``dim`` (every dim where None); 'fro' is the 2-norm."""
    x = _array(input, "norm")
    keepdim = _keepdim("norm", keepdim)
    dt = as_dtype(dtype)
    if dt is not None:
        if dt.kind != "f":
            raise NNSpecRuntimeError(f"linalg.vector_norm: dtype should be floating point or complex, but got "
                                     f"{torch_type_name(dt)}")
        x = x.astype(dt, copy=False)
    if x.dtype.kind != "f":
        raise NNSpecRuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                                 f"{torch_type_name(x.dtype)}")
    if isinstance(p, str):
        if p != "fro":
            raise NNSpecRuntimeError(f"norm: p={p!r} is not supported (only vector norms: 'fro' or a number)")
        p = 2
    if p is None:
        p = 2
    if isinstance(p, bool) or not isinstance(p, (int, builtins.float)):
        raise NNSpecRuntimeError(f"norm(): argument 'p' must be Number, not {type(p).__name__}")
    axes = _reduce_axes("norm", x, dim)
    shape = _kept_shape(tuple(x.shape), axes, keepdim)
    if math.isinf(p):
        if axes is None and x.size == 0:
            raise ShapeError(f"linalg.vector_norm cannot compute the {'' if p > 0 else '-'}inf norm on an empty tensor "
                             "because the operation does not have an identity")
        for a in axes or ():
            if x.shape[a] == 0:
                raise ShapeError(f"linalg.vector_norm cannot compute the {'' if p > 0 else '-'}inf norm on the "
                                 f"dimension {a}because this dimension is empty and the operation does not have an "
                                 "identity")
    if is_meta(x):
        return MetaArray(shape, x.dtype)
    xp = get_array_module(x)
    a = xp.abs(x.astype(_opmath(x.dtype), copy=False))
    with _quiet(xp):
        if p == numpy.inf:
            y = a.max(axis=axes, keepdims=keepdim)
        elif p == -numpy.inf:
            y = a.min(axis=axes, keepdims=keepdim)
        elif p == 0:
            y = (a != 0).sum(axis=axes, keepdims=keepdim).astype(a.dtype)
        elif p == 1:
            y = a.sum(axis=axes, keepdims=keepdim)
        elif p == 2:
            y = xp.sqrt((a * a).sum(axis=axes, keepdims=keepdim))
        else:
            y = (a ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)
    return _out(xp, y).astype(x.dtype, copy=False)


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """torch.prod: over every element, or one ``dim``; integer and bool inputs give int64."""
    x = _array(input, "prod")
    if dim is not None:
        _one_dim("prod", dim)
    keepdim = _keepdim("prod", keepdim)
    dt = as_dtype(dtype)
    if dt is not None:
        x = x.astype(dt, copy=False)
    out_dt = x.dtype if dt is not None or x.dtype.kind == "f" else _I64
    axes = None
    if dim is not None:
        d = wrap_dim(dim, x.ndim, "prod")
        axes = (d,) if x.ndim else ()
    shape = _kept_shape(tuple(x.shape), axes, keepdim if dim is not None else False)
    if is_meta(x):
        return MetaArray(shape, out_dt)
    xp = get_array_module(x)
    acc = _F32 if x.dtype == numpy.float16 else _I64 if x.dtype.kind in "biu" else x.dtype
    with _quiet(xp):
        y = x.prod(axis=axes, keepdims=keepdim if dim is not None else False, dtype=acc)
    return _out(xp, y).astype(out_dt, copy=False)


def _cumulative(op: str, input, dim, dtype, product: bool):
    x = _array(input, op)
    _one_dim(op, dim)
    d = wrap_dim(dim, x.ndim, op)
    dt = as_dtype(dtype)
    if dt is not None:
        x = x.astype(dt, copy=False)
    out_dt = x.dtype if dt is not None or x.dtype.kind == "f" else _I64
    if is_meta(x):
        return MetaArray(x.shape, out_dt)
    xp = get_array_module(x)
    if x.ndim == 0:
        return x.astype(out_dt)
    acc = _F32 if x.dtype == numpy.float16 else _I64 if x.dtype.kind in "biu" else x.dtype
    with _quiet(xp):
        y = xp.cumprod(x, axis=d, dtype=acc) if product else xp.cumsum(x, axis=d, dtype=acc)
    return _out(xp, y).astype(out_dt, copy=False)


def cumsum(input, dim, *, dtype=None, out=None):
    """torch.cumsum along ``dim``; integer and bool inputs give int64."""
    return _cumulative("cumsum", input, dim, dtype, False)


def cumprod(input, dim, *, dtype=None, out=None):
    return _cumulative("cumprod", input, dim, dtype, True)


def logsumexp(input, dim, keepdim=False, *, out=None):
    """torch.logsumexp: log(sum(exp(x))) over ``dim``, shifted by the maximum so nothing overflows."""
    x = _array(input, "logsumexp")
    keepdim = _keepdim("logsumexp", keepdim)
    if isinstance(dim, (tuple, list)) and not dim:
        raise ShapeError("logsumexp: dim must name at least one dim")
    axes = _reduce_axes("logsumexp", x, dim)
    rt = x.dtype if x.dtype.kind == "f" else _F32
    shape = _kept_shape(tuple(x.shape), axes, keepdim)
    if is_meta(x):
        return MetaArray(shape, rt)
    xp = get_array_module(x)
    xc = x.astype(_opmath(rt), copy=False)
    if _count(tuple(x.shape), axes) == 0:
        return xp.full(shape, -numpy.inf, dtype=rt)
    with _quiet(xp):
        m = xc.max(axis=axes, keepdims=True)
        m = xp.where(xp.isinf(m), xp.zeros((), dtype=m.dtype), m)
        y = xp.log(xp.exp(xc - m).sum(axis=axes, keepdims=True)) + m
    if not keepdim:
        y = y.reshape(shape)
    return _out(xp, y).astype(rt, copy=False)


def _logical_reduce(op: str, input, dim, keepdim, every: bool):
    x = _array(input, op)
    keepdim = _keepdim(op, keepdim)
    axes = _reduce_axes(op, x, dim)
    out_dt = x.dtype if x.dtype == numpy.uint8 else _BOOL
    shape = _kept_shape(tuple(x.shape), axes, keepdim)
    if is_meta(x):
        return MetaArray(shape, out_dt)
    xp = get_array_module(x)
    y = (x != 0).all(axis=axes, keepdims=keepdim) if every else (x != 0).any(axis=axes, keepdims=keepdim)
    return _out(xp, y).astype(out_dt, copy=False)


def all_(input, dim=None, keepdim=False, *, out=None):
    """torch.all: whether every element (over ``dim``) is nonzero; bool (uint8 for uint8 input)."""
    return _logical_reduce("all", input, dim, keepdim, True)


def any_(input, dim=None, keepdim=False, *, out=None):
    return _logical_reduce("any", input, dim, keepdim, False)


def count_nonzero(input, dim=None):
    """torch.count_nonzero: int64, over ``dim`` (an int or a tuple) or every dim."""
    x = _array(input, "count_nonzero")
    axes = _reduce_axes("count_nonzero", x, dim)
    shape = _kept_shape(tuple(x.shape), axes, False)
    if is_meta(x):
        return MetaArray(shape, _I64)
    xp = get_array_module(x)
    return _out(xp, (x != 0).sum(axis=axes, dtype=xp.int64))


__all__ = ["all_", "amax", "amin", "aminmax", "any_", "argmax", "argmin", "count_nonzero", "cumprod", "cumsum",
           "logsumexp", "max_", "min_", "norm", "prod", "std", "std_mean", "var", "var_mean"]
