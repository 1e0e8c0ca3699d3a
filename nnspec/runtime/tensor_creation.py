"""Array creation as torch has it: ones/zeros/full/empty/arange/linspace/eye/tensor, tril/triu, *_like, new_*.

Arrays a forward makes from sizes alone are made by the array module the forward runs on
(``tensor.creation_module``: NumPy, CuPy, or shape-only arrays in static inference), so a
``device=`` argument is checked and otherwise ignored. ``empty`` gives zeros. The result dtypes are
torch's: float32 by default, int64 for integer ``arange``/``full``, the input's for ``*_like`` and
``new_*``. Fill values are converted as torch converts them, refusing what overflows the dtype.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy

from ..errors import NNSpecRuntimeError, ShapeError
from . import meta, random
from .backend import get_array_module
from .functional.core import _fits, as_dtype, torch_type_name
from .meta import MetaArray, is_meta
from .symbolic import Dim, SymbolicFloat, is_symbolic
from .tensor import _BOOL, _F32, _I64, _array, _shape, _varargs, creation_module, promote_types, write_into
from .values import check_device

# the C++ type names of torch's scalar-conversion messages ("value cannot be converted to type int64_t ...")
_SCALAR_TYPE_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int8": "int8_t",
                      "uint8": "uint8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t", "bool": "bool"}


def _dtype(dtype: Any):
    dt = as_dtype(dtype)
    return dt


def _number(value: Any, op: str, name: str = "fill_value") -> Any:
    """A scalar argument: a Python number, a symbolic size, or a 0-d array (read as its value)."""
    if isinstance(value, (bool, int, builtins.float, Dim, SymbolicFloat)):
        return value
    if isinstance(value, numpy.generic):
        return value.item()
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        x = _array(value, op, name)
        if x.ndim != 0:
            raise NNSpecRuntimeError(f"{op}(): argument '{name}' must be a number or a 0-d array, got an array of "
                                     f"size {_shape(x.shape)}")
        if is_meta(x):
            return _UnknownScalar(x.dtype)
        return x.item()
    raise NNSpecRuntimeError(f"{op}(): argument '{name}' must be Number, not {type(value).__name__}")


class _UnknownScalar:
    """The value of a shape-only 0-d array: its kind is known, its value is not."""

    def __init__(self, dtype):
        self.dtype = numpy.dtype(dtype)


def _default_dtype(value: Any):
    """torch's dtype for a Python scalar: bool, int64 or float32."""
    if isinstance(value, _UnknownScalar):
        return _BOOL if value.dtype.kind == "b" else _I64 if value.dtype.kind in "iu" else _F32
    if isinstance(value, bool):
        return _BOOL
    if isinstance(value, (int, Dim)):
        return _I64
    return _F32


def convert_scalar(value: Any, dtype, op: str) -> Any:
    """``value`` as a scalar of ``dtype``, refused as torch refuses it where it overflows (ints wrap as in C)."""
    dt = numpy.dtype(dtype)
    if isinstance(value, (_UnknownScalar, Dim, SymbolicFloat)):
        return value
    overflow = NNSpecRuntimeError(f"{op}: value cannot be converted to type {_SCALAR_TYPE_NAMES.get(str(dt), dt)} "
                                  "without overflow")
    if dt.kind == "b":
        return bool(value)
    if dt.kind in "iu":
        if isinstance(value, builtins.float):
            if not math.isfinite(value):
                raise overflow
            value = int(value)  # toward zero, as C's conversion
        info = numpy.iinfo(dt)
        if not info.min <= value <= info.max:
            if dt.kind == "u" and -(2**63) <= value < 0:  # a negative int into uint8 wraps, as in torch
                return int(value) % (info.max + 1)
            raise overflow
        return int(value)
    try:
        v = builtins.float(value)
    except OverflowError:
        raise NNSpecRuntimeError(f"{op}: int too big to convert") from None
    limit = builtins.float(numpy.finfo(dt).max)
    if dt == numpy.float16:  # torch goes through float32 first: what overflows that becomes inf
        v32 = builtins.float(numpy.float32(v)) if abs(v) <= builtins.float(numpy.finfo(numpy.float32).max) else \
            math.copysign(math.inf, v)
        if math.isfinite(v32) and abs(v32) > limit:
            raise overflow
    elif math.isfinite(v) and abs(v) > limit:
        raise overflow
    return v


def _check_shape(op: str, shape: tuple) -> tuple:
    for s in shape:
        if not is_symbolic(s) and s < 0:
            raise ShapeError(f"{op}: Trying to create tensor with negative dimension {s}: {_shape(shape)}")
    return shape


def _make(op: str, shape: tuple, dtype, fill: Any = 0):
    """An array of ``shape`` filled with ``fill`` (already converted to ``dtype``), on the forward's array module."""
    xp = creation_module()
    if xp is meta or any(is_symbolic(s) for s in shape) or isinstance(fill, (_UnknownScalar, Dim, SymbolicFloat)):
        return MetaArray(shape, dtype)
    _fits(op, shape, dtype)
    return xp.full(shape, fill, dtype=dtype)


def _size_args(op: str, sizes: tuple, size: Any) -> tuple:
    return _check_shape(op, tuple(_varargs(op, sizes, size, "size")))


def _filled(op: str, sizes: tuple, size, fill, dtype, device) -> Any:
    check_device(device, op)
    dt = _dtype(dtype) or _F32
    return _make(op, _size_args(op, sizes, size), dt, convert_scalar(fill, dt, op))


# --------------------------------------------------------------------------- from sizes


def ones(*sizes, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """torch.ones(*size), torch.ones(size) or torch.ones(size=...): float32 unless ``dtype``."""
    _no_out("ones", out)
    return _filled("ones", sizes, size, 1, dtype, device)


def zeros(*sizes, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    _no_out("zeros", out)
    return _filled("zeros", sizes, size, 0, dtype, device)


def empty(*sizes, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    """torch.empty: its values are unspecified in torch; nnspec's are zeros."""
    _no_out("empty", out)
    return _filled("empty", sizes, size, 0, dtype, device)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """torch.full(size, fill_value): the dtype follows the fill value (bool, int64, float32) unless given."""
    _no_out("full", out)
    if not isinstance(size, (tuple, list)):
        raise NNSpecRuntimeError(f"full(): argument 'size' (position 1) must be tuple of ints, not "
                                 f"{type(size).__name__}")
    value = _number(fill_value, "full")
    check_device(device, "full")
    dt = _dtype(dtype) or _default_dtype(value)
    return _make("full", _size_args("full", (tuple(size),), None), dt, convert_scalar(value, dt, "full"))


def _no_out(op: str, out: Any) -> None:
    if out is not None:
        raise NNSpecRuntimeError(f"{op}(): out= is not supported (a forward returns new arrays)")


def _integral(v: Any) -> bool:
    return isinstance(v, (bool, int, Dim)) or (isinstance(v, _UnknownScalar) and v.dtype.kind in "biu")


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
           pin_memory=False):
    """torch.arange(end), (start, end) or (start, end, step): int64 when every bound is an int, else float32."""
    _no_out("arange", out)
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v, "arange", n) for v, n in ((start, "start"), (end, "end"), (step, "step")))
    check_device(device, "arange")
    dt = _dtype(dtype) or (_I64 if all(_integral(v) for v in (start, end, step)) else _F32)
    if any(isinstance(v, (_UnknownScalar, SymbolicFloat)) for v in (start, end, step)):
        raise meta.DataDependentError("arange: its length depends on values static inference does not know")
    if dt.kind in "biu":  # the bounds in the integer type first, as torch does
        start, end, step = (v if isinstance(v, Dim) else int(v) for v in (start, end, step))
    for v in (start, end):
        if isinstance(v, builtins.float) and not math.isfinite(v):
            raise NNSpecRuntimeError(f"arange: unsupported range: {_fmt(start)} -> {_fmt(end)}")
    if step == 0:
        raise NNSpecRuntimeError("arange: step must be nonzero")
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise NNSpecRuntimeError("arange: upper bound and lower bound inconsistent with step sign")
    if all(isinstance(v, (int, Dim)) for v in (start, end, step)):
        n = (end - start + step - (1 if step > 0 else -1)) // step
    else:
        n = math.ceil((builtins.float(end) - builtins.float(start)) / builtins.float(step))
    xp = creation_module()
    if xp is meta or is_symbolic(n):
        return MetaArray((n,), dt)
    _fits("arange", (n,), dt)
    if dt.kind in "biu":
        values = xp.arange(n, dtype=xp.int64) * step + start
    else:
        values = xp.arange(n, dtype=xp.float64) * builtins.float(step) + builtins.float(start)
    return values.astype(dt, copy=False)


def _fmt(v: Any) -> str:
    return str(v) if not isinstance(v, builtins.float) or not v.is_integer() else str(int(v))


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """torch.linspace: ``steps`` evenly spaced values from start to end, float32 unless ``dtype``."""
    _no_out("linspace", out)
    start, end = _number(start, "linspace", "start"), _number(end, "linspace", "end")
    if isinstance(steps, bool) or not isinstance(steps, (int, Dim)):
        raise NNSpecRuntimeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise NNSpecRuntimeError("linspace: number of steps must be non-negative")
    check_device(device, "linspace")
    dt = _dtype(dtype) or _F32
    xp = creation_module()
    if xp is meta or is_symbolic(steps) or any(isinstance(v, (_UnknownScalar, Dim, SymbolicFloat))
                                               for v in (start, end)):
        return MetaArray((steps,), dt)
    _fits("linspace", (steps,), dt)
    a, b = builtins.float(start), builtins.float(end)
    if steps == 1:
        return xp.full((1,), a, dtype=xp.float64).astype(dt)
    i = xp.arange(steps, dtype=xp.float64)
    step = (b - a) / (steps - 1)
    half = steps // 2
    values = xp.where(i < half, a + i * step, b - (steps - 1 - i) * step)  # torch's two-sided formula
    return values.astype(dt)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """torch.eye(n, m=n): ones on the diagonal."""
    _no_out("eye", out)
    for name, v in (("n", n), ("m", m)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, Dim))):
            raise NNSpecRuntimeError(f"eye(): argument '{name}' must be int, not {type(v).__name__}")
    if n < 0:
        raise NNSpecRuntimeError(f"eye: n must be greater or equal to 0, got {n}")
    if m is None:
        m = n
    if m < 0:
        raise NNSpecRuntimeError(f"eye: m must be greater or equal to 0, got {m}")
    check_device(device, "eye")
    dt = _dtype(dtype) or _F32
    xp = creation_module()
    if xp is meta or is_symbolic(n) or is_symbolic(m):
        return MetaArray((n, m), dt)
    _fits("eye", (n, m), dt)
    return xp.eye(n, m, dtype=dt)


# --------------------------------------------------------------------------- from data


def _scan(op: str, data: Any, depth: int = 0) -> tuple[tuple, Any]:
    """(shape, dtype) of nested sequences of scalars and arrays; ragged data is torch's error."""
    if depth > 64:
        raise NNSpecRuntimeError(f"{op}: data nests too deeply")
    if isinstance(data, (tuple, list)):
        if not data:
            return (0,), None
        shapes, kinds = [], None
        for item in data:
            s, k = _scan(op, item, depth + 1)
            shapes.append(s)
            kinds = promote_types(kinds, k)
        first = shapes[0]
        for s in shapes[1:]:
            if len(s) != len(first) or any(not _eq(a, b) for a, b in zip(s, first)):
                where = next((i for i, (a, b) in enumerate(zip(s, first)) if not _eq(a, b)), min(len(s), len(first)))
                got = s[where] if where < len(s) else "a scalar"
                raise NNSpecRuntimeError(f"{op}: expected sequence of length {first[where]} at dim {depth + 1 + where} "
                                         f"(got {got})" if where < len(first) else
                                         f"{op}: expected a scalar at dim {depth + 1}, got a sequence")
        return (len(data), *first), kinds
    if hasattr(data, "shape") and hasattr(data, "dtype"):
        x = _array(data, op, "data")
        return tuple(x.shape), x.dtype
    if isinstance(data, numpy.generic):
        data = data.item()
    if isinstance(data, (bool, int, builtins.float, Dim, SymbolicFloat)):
        return (), _default_dtype(data)
    raise NNSpecRuntimeError(f"{op}: could not infer dtype of {type(data).__name__}")


def _eq(a: Any, b: Any) -> bool:
    return a is b or (not is_symbolic(a) and not is_symbolic(b) and a == b) or (is_symbolic(a) and a == b)


def _leaves(data: Any, out: list) -> bool:
    """The scalars of nested sequences, in order, into ``out``; False where an array is among them."""
    if isinstance(data, (tuple, list)):
        return all(_leaves(item, out) for item in data)
    if hasattr(data, "shape") and hasattr(data, "dtype") and not isinstance(data, numpy.generic):
        return False
    out.append(data.item() if isinstance(data, numpy.generic) else data)
    return True


def _values(xp, data: Any, dtype):
    """Nested data as an array of ``dtype`` (each scalar converted as torch converts it)."""
    flat: list = []
    if _leaves(data, flat):  # numbers only: converted one by one, made in one go
        return xp.asarray([convert_scalar(v, dtype, "tensor") for v in flat], dtype=dtype)
    if isinstance(data, (tuple, list)):
        return xp.stack([_values(xp, item, dtype).reshape(_scan("tensor", item)[0]) for item in data])
    x = _array(data, "tensor", "data")
    return xp.asarray(x).astype(dtype)


def _contains_unknown(data: Any) -> bool:
    if isinstance(data, (tuple, list)):
        return any(_contains_unknown(d) for d in data)
    return is_meta(data) or isinstance(data, (Dim, SymbolicFloat))


def _from_data(op: str, data: Any, dtype, xp) -> Any:
    shape, kind = _scan(op, data)
    dt = dtype or (kind if kind is not None else _F32)
    if xp is meta or _contains_unknown(data) or any(is_symbolic(s) for s in shape):
        return MetaArray(shape, dt)
    _fits(op, shape, dt)
    return _values(xp, data, dt).reshape(shape)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """torch.tensor(data): a new array from (nested) numbers and arrays; bool, int64 or float32 by what it holds."""
    check_device(device, "tensor")
    if isinstance(data, (tuple, list)) and len(data) > 100_000:
        raise NNSpecRuntimeError("tensor: more than 100,000 items of data")
    return _from_data("tensor", data, _dtype(dtype), creation_module())


# --------------------------------------------------------------------------- tril / triu


def _triangle(op: str, input, diagonal, lower: bool):
    x = _array(input, op)
    if isinstance(diagonal, bool) or not isinstance(diagonal, int):
        raise NNSpecRuntimeError(f"{op}(): argument 'diagonal' must be int, not {type(diagonal).__name__}")
    if x.ndim < 2:
        raise ShapeError(f"{op}: input tensor must have at least 2 dimensions")
    if is_meta(x):
        return MetaArray(x.shape, x.dtype)
    xp = get_array_module(x)
    n, m = x.shape[-2], x.shape[-1]
    offset = xp.arange(m)[None, :] - xp.arange(n)[:, None]  # (n, m): column - row
    keep = offset <= diagonal if lower else offset >= diagonal
    return xp.where(keep, x, xp.zeros((), dtype=x.dtype))


def tril(input, diagonal=0, *, out=None):
    """torch.tril: the elements on and below the ``diagonal``-th diagonal of the last two dims; the rest 0."""
    _no_out("tril", out)
    return _triangle("tril", input, diagonal, True)


def triu(input, diagonal=0, *, out=None):
    _no_out("triu", out)
    return _triangle("triu", input, diagonal, False)


# --------------------------------------------------------------------------- *_like and new_*


def _like(op: str, input, dtype, device, fill) -> Any:
    x = _array(input, op)
    check_device(device, op)
    dt = _dtype(dtype) or x.dtype
    value = convert_scalar(_number(fill, op), dt, op)
    if is_meta(x) or isinstance(value, (_UnknownScalar, Dim, SymbolicFloat)):
        return MetaArray(x.shape, dt)
    xp = get_array_module(x)
    _fits(op, x.shape, dt)
    return xp.full(x.shape, value, dtype=dt)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _like("ones_like", input, dtype, device, 1)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _like("zeros_like", input, dtype, device, 0)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """torch.empty_like: zeros, as nnspec's empty."""
    return _like("empty_like", input, dtype, device, 0)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _like("full_like", input, dtype, device, fill_value)


def _random(op: str, shape: tuple, dt, xp, normal: bool):
    if dt.kind != "f":
        kernel = "normal_kernel_cpu" if normal else "check_uniform_bounds"
        raise NNSpecRuntimeError(f'{op}: "{kernel}" not implemented for \'{torch_type_name(dt)}\'')
    if xp is meta or any(is_symbolic(s) for s in shape):
        return MetaArray(shape, dt)  # shape-only: nothing is drawn
    _fits(op, shape, dt)
    gen = random.generator()
    host = gen.standard_normal(shape) if normal else gen.random(shape)
    values = host.astype(dt)
    return values if xp is numpy else xp.asarray(values)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """torch.rand_like: uniform in [0, 1), from nnspec's seeded generator (so not torch's numbers)."""
    x = _array(input, "rand_like")
    check_device(device, "rand_like")
    return _random("rand_like", tuple(x.shape), _dtype(dtype) or x.dtype, get_array_module(x), False)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """torch.randn_like: standard normal, from nnspec's seeded generator."""
    x = _array(input, "randn_like")
    check_device(device, "randn_like")
    return _random("randn_like", tuple(x.shape), _dtype(dtype) or x.dtype, get_array_module(x), True)


def rand(*sizes, size=None, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """torch.rand(*size): uniform in [0, 1), from nnspec's seeded generator."""
    _no_out("rand", out)
    _no_generator("rand", generator)
    check_device(device, "rand")
    return _random("rand", _size_args("rand", sizes, size), _dtype(dtype) or _F32, creation_module(), False)


def randn(*sizes, size=None, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    _no_out("randn", out)
    _no_generator("randn", generator)
    check_device(device, "randn")
    return _random("randn", _size_args("randn", sizes, size), _dtype(dtype) or _F32, creation_module(), True)


def bernoulli_(self, p=0.5, *, generator=None):
    """Tensor.bernoulli_(p): each element set to 1 with probability p, else 0, from nnspec's seeded generator
    (torchvision's stochastic_depth draws its noise so); p is a number or a 0-d array."""
    x = _array(self, "bernoulli_")
    _no_generator("bernoulli_", generator)
    prob = _number(p, "bernoulli_", "p")
    if isinstance(prob, builtins.float) and not 0.0 <= prob <= 1.0 or isinstance(prob, int) and not 0 <= prob <= 1:
        raise NNSpecRuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={prob}")
    if is_meta(x) or not isinstance(prob, (int, builtins.float)):
        return write_into("bernoulli_", x, MetaArray(x.shape, x.dtype))  # shape-only: nothing is drawn
    draw = random.generator().random(x.shape) < prob  # (*x.shape) bool, drawn on the host
    return write_into("bernoulli_", x, get_array_module(x).asarray(draw.astype(x.dtype)))


def _no_generator(op: str, generator: Any) -> None:
    if generator is not None:
        raise NNSpecRuntimeError(f"{op}(): generator= is not supported (nnspec draws from its seeded generator)")


def _new(op: str, x, sizes: tuple, size, dtype, device, fill) -> Any:
    x = _array(x, op)
    check_device(device, op)
    dt = _dtype(dtype) or x.dtype
    shape = _size_args(op, sizes, size)
    value = convert_scalar(_number(fill, op), dt, op)
    if is_meta(x) or any(is_symbolic(s) for s in shape) or isinstance(value, (_UnknownScalar, Dim, SymbolicFloat)):
        return MetaArray(shape, dt)
    _fits(op, shape, dt)
    return get_array_module(x).full(shape, value, dtype=dt)


def new_zeros(self, *sizes, size=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """Tensor.new_zeros(*size) or (size): the tensor's dtype unless ``dtype``."""
    return _new("new_zeros", self, sizes, size, dtype, device, 0)


def new_ones(self, *sizes, size=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return _new("new_ones", self, sizes, size, dtype, device, 1)


def new_empty(self, *sizes, size=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """Tensor.new_empty: zeros, as nnspec's empty."""
    return _new("new_empty", self, sizes, size, dtype, device, 0)


def new_full(self, size, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    if not isinstance(size, (tuple, list)):
        raise NNSpecRuntimeError(f"new_full(): argument 'size' (position 1) must be tuple of ints, not "
                                 f"{type(size).__name__}")
    return _new("new_full", self, (tuple(size),), None, dtype, device, fill_value)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """Tensor.new_tensor(data): a new array of the tensor's dtype (unless ``dtype``) from the data."""
    x = _array(self, "new_tensor")
    check_device(device, "new_tensor")
    xp = get_array_module(x)
    return _from_data("new_tensor", data, _dtype(dtype) or x.dtype, meta if is_meta(x) else xp)


__all__ = ["arange", "bernoulli_", "empty", "empty_like", "eye", "full", "full_like", "linspace", "new_empty",
           "new_full", "new_ones", "new_tensor", "new_zeros", "ones", "ones_like", "rand", "rand_like", "randn",
           "randn_like", "tensor", "tril", "triu", "zeros", "zeros_like", "convert_scalar"]
