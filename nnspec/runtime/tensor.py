"""torch-namespace functions, Tensor methods and Python operators, on arrays.

A forward written for torch calls three kinds of ops besides layers: functions
(``torch.cat``, ``F.relu``, ``math.sqrt``), methods (``x.view(n, -1)``) and operators
(``x * 2``, ``x[:, 0]``, ``x.dtype``). This module gives each one a callable that takes the
same positional and keyword arguments as torch, works on NumPy or CuPy arrays
(Parameters unwrap to their data) and on shape-only arrays, follows torch's result-dtype
rules and checks its arguments the way torch does, raising nnspec errors. The families
of ops live beside it: ``tensor_creation`` (ones, arange, tensor, tril, *_like, new_*),
``tensor_math`` (elementwise, comparisons, where/clamp/masked_fill), ``tensor_reductions``
(max/min with indices, var/std, norm, cumsum, logsumexp, ...), ``tensor_shapes`` (split,
expand, gather, einsum, bmm, ...), ``values`` (dtypes, devices, finfo) and ``pyfuncs``
(Python's math and builtins on run-time sizes).

The registries at the bottom (``FUNCTIONS``, ``METHODS``, ``OPERATORS``) are
what a forward interpreter looks names up in; a method takes the tensor as its
first argument.

Known gaps against torch: ``view`` never refuses a non-contiguous input (it
copies, as ``reshape`` does), ``view(dtype)`` is not supported, and the
numpy-style ``axis=``/``keepdims=`` aliases torch accepts are not. Devices are
checked and otherwise ignored: arrays made from sizes alone (``torch.arange(n)``)
are made where the forward runs, with or without ``device=``. ``torch.empty`` gives
zeros; random ops draw from nnspec's seeded generator (not torch's numbers); ``out=``,
``generator=`` and scatter's ``reduce=`` are refused; bfloat16 and complex dtypes do
not exist (NumPy has none).
"""

from __future__ import annotations

import builtins
import contextlib
import math
import operator
from collections.abc import Callable
from contextlib import AbstractContextManager
from contextvars import ContextVar
from types import SimpleNamespace
from typing import Any

import numpy  # dtype objects and rules only; array math goes through get_array_module

from ..errors import NNSpecRuntimeError, ShapeError
from ..nn.parameter import Parameter
from . import functional as F
from .backend import get_array_module
from .functional import as_dtype, data_of, torch_type_name, wrap_dim
from . import meta
from .meta import is_meta
from ..scoped import scoped
from .scalars import MAX_SEQ, checked
from .symbolic import Dim, SymbolicFloat, is_one, is_symbolic
from .values import DType, check_device, device_of_array, dtype_of, value_attribute

_F32 = numpy.dtype(numpy.float32)
_F64 = numpy.dtype(numpy.float64)
_I64 = numpy.dtype(numpy.int64)
_BOOL = numpy.dtype(numpy.bool_)

# --------------------------------------------------------------------------- the array module of new arrays

_creation: ContextVar[Any] = ContextVar("nnspec_creation_module", default=None)


def array_module(xp: Any) -> AbstractContextManager[Any]:
    """Inside the block, arrays made from sizes alone (``torch.arange(n)``, ``torch.zeros(...)``) are made by
    ``xp``: the module the forward runs on (the interpreter sets it from the forward's inputs)."""
    return scoped(_creation, xp)


def creation_module() -> Any:
    """The array module new arrays are made by: the running forward's, else NumPy."""
    xp = _creation.get()
    return numpy if xp is None else xp


# --------------------------------------------------------------------------- helpers


def _shape(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _is_array(v: Any) -> bool:
    return isinstance(v, Parameter) or (
        not isinstance(v, (bool, int, builtins.float, complex)) and hasattr(v, "shape") and hasattr(v, "dtype")
    )


def _is_scalar(v: Any) -> bool:
    """A Python number, or, in static inference, a symbolic size or a float made of sizes."""
    return isinstance(v, (bool, int, builtins.float, Dim, SymbolicFloat)) and not hasattr(v, "shape")


def _array(v: Any, op: str, name: str = "input"):
    """The array behind ``v`` (a Parameter or an array); anything else is torch's 'must be Tensor' error."""
    if not _is_array(v):
        raise NNSpecRuntimeError(f"{op}(): argument '{name}' must be an array, not {type(v).__name__}")
    if isinstance(v, numpy.generic):  # a NumPy scalar (what NumPy gives for a 0-d result): a 0-d array
        return numpy.asarray(v)
    return data_of(v)


def _out(xp, y):
    """Reductions and 0-d arithmetic give NumPy scalars; torch gives 0-d tensors."""
    return y if isinstance(y, xp.ndarray) else xp.asarray(y)


def _quiet(xp):
    """Silence NumPy's floating-point warnings: x / 0 is inf and 0 / 0 NaN, as in torch, without a warning."""
    errstate = getattr(xp, "errstate", None)
    return errstate(all="ignore") if errstate else contextlib.nullcontext()


def _category(dtype) -> int:
    return {"b": 0, "u": 1, "i": 1, "f": 2}.get(numpy.dtype(dtype).kind, 3)


def promote_types(a, b):
    """torch.promote_types for the dtypes NumPy has: across categories (bool < int < float) the higher
    category's dtype wins (int64 with float16 is float16, not NumPy's float64)."""
    if a is None:
        return b
    if b is None:
        return a
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return numpy.dtype(a if ca > cb else b)
    return numpy.promote_types(a, b)


def _combine(higher, lower):
    """torch's combine_categories: a lower-priority operand only counts when it is of a higher category."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if _category(higher) == 2:
        return higher
    if higher == _BOOL or _category(lower) == 2:
        return promote_types(higher, lower)
    return higher


def result_type(*values):
    """torch.result_type: dimensioned arrays outrank 0-d arrays, which outrank Python scalars; a scalar
    only matters when it is of a higher category, and then as torch's default dtype (float32, int64)."""
    dim = zero = wrapped = None
    for v in values:
        if isinstance(v, bool):
            wrapped = promote_types(wrapped, _BOOL)
        elif isinstance(v, (int, Dim)):
            wrapped = promote_types(wrapped, _I64)
        elif isinstance(v, (builtins.float, SymbolicFloat)):
            wrapped = promote_types(wrapped, _F32)
        elif v.ndim:
            dim = promote_types(dim, v.dtype)
        else:
            zero = promote_types(zero, v.dtype)
    return _combine(dim, _combine(zero, wrapped))


def _as(xp, v, dtype):
    """``v`` (an array or a Python scalar) as an array of ``dtype``; integers wrap around, as in torch."""
    if _is_scalar(v):
        try:
            if isinstance(v, (Dim, SymbolicFloat)):  # static inference: only the type of the scalar matters
                return xp.asarray(0, dtype=dtype)
            if isinstance(v, int) and not isinstance(v, bool) and numpy.dtype(dtype).kind in "biu":
                return xp.asarray(v, dtype=xp.int64).astype(dtype)
            return xp.asarray(v, dtype=dtype)
        except OverflowError:
            raise NNSpecRuntimeError(f"value cannot be converted to type {dtype} without overflow: {v}") from None
    return v.astype(dtype, copy=False)


def _as_computed(xp, v, rt, ct, full: bool = False):
    """An operand as the dtype the op computes in (``ct``, float32 for a float16 result ``rt``): first rounded to
    ``rt``, as torch casts its operands to the common dtype (``h - 0.1`` is ``h - half(0.1)``), except with
    ``full``: mul's and div's CPU kernels read a scalar second operand (a number, a 0-d tensor) unrounded."""
    if ct != rt and not (full and (_is_scalar(v) or v.ndim == 0)):
        v = _as(xp, v, rt)
    return _as(xp, v, ct)


def _broadcast_check(op: str, sa, sb) -> None:
    """torch's infer_size message, from the last dim back (a symbolic size is not asked whether it is 1: see
    symbolic.is_one)."""
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    for i in reversed(range(n)):
        if not (is_one(pa[i]) or is_one(pb[i])) and pa[i] != pb[i]:
            raise ShapeError(
                f"{op}: The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) "
                f"at non-singleton dimension {i} (sizes {_shape(sa)} and {_shape(sb)})"
            )


def _operands(op: str, a, b):
    """Unwrapped operands and their array module; each must be an array or a Python number."""
    out = []
    for v in (a, b):
        if isinstance(v, numpy.generic):
            v = v.item()
        if _is_array(v):
            v = data_of(v)
        elif not _is_scalar(v):
            raise NNSpecRuntimeError(f"{op}: unsupported operand type {type(v).__name__} (expected an array or a number)")
        out.append(v)
    arrays = [v for v in out if not _is_scalar(v)]
    return out[0], out[1], get_array_module(*arrays)


def _elementwise(op: str, a, b, fn, *, true_div: bool = False, dtype=None, full_scalar: bool = False):
    """fn(xp, a, b) on both operands cast to torch's result dtype; float16 computes in float32 (``full_scalar``:
    a scalar ``b`` unrounded, see _as_computed)."""
    a, b, xp = _operands(op, a, b)
    rt = dtype if dtype is not None else result_type(a, b)
    if true_div and rt.kind in "biu":
        rt = _F32  # torch's default dtype
    ct = _F32 if rt == numpy.float16 else rt
    _broadcast_check(op, numpy.shape(a) if _is_scalar(a) else a.shape, numpy.shape(b) if _is_scalar(b) else b.shape)
    xa, xb = _as_computed(xp, a, rt, ct), _as_computed(xp, b, rt, ct, full_scalar)
    with _quiet(xp):
        y = fn(xp, xa, xb)
    return _out(xp, y).astype(rt, copy=False)


def _dtype_of(v):
    return _BOOL if isinstance(v, bool) else None if _is_scalar(v) else v.dtype


def _check_zero_division(xp, b, rt) -> None:
    """torch refuses integer division and remainder by zero ("ZeroDivisionError")."""
    if is_meta(b):
        return  # the divisor's values are not known statically
    if rt.kind in "biu" and bool((b == 0).any() if not _is_scalar(b) else b == 0):
        raise NNSpecRuntimeError("ZeroDivisionError: integer division or remainder by zero")


def _check_not_bool(op: str, rt) -> None:
    """torch has no bool kernel for floor/trunc division, remainder or pow."""
    if rt == _BOOL:
        raise NNSpecRuntimeError(f"{op}: not implemented for 'Bool' (both operands are bool)")


def _trunc_div(xp, a, b):
    if a.dtype.kind in "biu":
        q = xp.floor_divide(a, b)
        fix = (xp.remainder(a, b) != 0) & ((a < 0) != (b < 0))
        return q + fix.astype(q.dtype)
    return xp.trunc(a / b)


def _check_alpha(op: str, alpha, rt) -> None:
    if isinstance(alpha, bool) and rt != _BOOL:
        raise NNSpecRuntimeError(f"{op}: Boolean alpha only supported for Boolean results.")
    if rt.kind in "biu" and not isinstance(alpha, (bool, int, Dim)):
        raise NNSpecRuntimeError(f"{op}: For integral input tensors, argument alpha must not be a floating point number.")


def _add_sub(op: str, input, other, alpha, sign):
    a, b, _ = _operands(op, input, other)
    rt = result_type(a, b)
    if sign < 0:
        da, db = _dtype_of(a), _dtype_of(b)
        if da == _BOOL and db == _BOOL:
            raise NNSpecRuntimeError(
                f"{op}: Subtraction, the `-` operator, with two bool tensors is not supported. "
                "Use the `^` or `logical_xor()` operator instead."
            )
        if da == _BOOL or db == _BOOL:
            raise NNSpecRuntimeError(
                f"{op}: Subtraction, the `-` operator, with a bool tensor is not supported. "
                "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
            )
    _check_alpha(op, alpha, rt)
    if alpha == 1 and not isinstance(alpha, bool):
        fn = (lambda xp, x, y: x + y) if sign > 0 else (lambda xp, x, y: x - y)
    else:
        def fn(xp, x, y):
            scaled = y * _as(xp, alpha, y.dtype)
            return x + scaled if sign > 0 else x - scaled
    return _elementwise(op, a, b, fn, dtype=rt)


# --------------------------------------------------------------------------- arithmetic (torch.* and methods)


def add(input, other, *, alpha=1):
    return _add_sub("add", input, other, alpha, 1)


def sub(input, other, *, alpha=1):
    return _add_sub("sub", input, other, alpha, -1)


def mul(input, other):
    return _elementwise("mul", input, other, lambda xp, x, y: x * y, full_scalar=True)


def div(input, other, *, rounding_mode=None):
    if rounding_mode is None:
        return _elementwise("div", input, other, lambda xp, x, y: x / y, true_div=True, full_scalar=True)
    if rounding_mode not in ("trunc", "floor"):
        raise NNSpecRuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found {rounding_mode!r}"
        )
    a, b, xp = _operands("div", input, other)
    _check_not_bool(f"div (rounding_mode={rounding_mode!r})", result_type(a, b))
    _check_zero_division(xp, b, result_type(a, b))
    fn = _trunc_div if rounding_mode == "trunc" else (lambda xp, x, y: xp.floor_divide(x, y))
    return _elementwise("div", a, b, fn, full_scalar=True)


def _floordiv(input, other):
    return div(input, other, rounding_mode="floor")


def _mod(input, other):
    a, b, xp = _operands("remainder", input, other)
    _check_not_bool("remainder", result_type(a, b))
    _check_zero_division(xp, b, result_type(a, b))
    return _elementwise("remainder", a, b, lambda xp, x, y: xp.remainder(x, y))


def _int_pow(xp, base, exp):
    """torch's integer pow: a negative exponent gives 0, except for bases 1 and -1."""
    neg = exp < 0
    y = xp.power(base, xp.where(neg, 0, exp).astype(exp.dtype, copy=False))
    if is_meta(y) or not bool(neg.any()):
        return y
    one = xp.ones_like(y)
    special = xp.where(base == 1, one, xp.where(base == -1, xp.where(exp % 2 == 0, one, -one), 0 * one))
    return xp.where(neg, special, y)


def _pow(input, exponent):
    a, b, xp = _operands("pow", input, exponent)
    rt = result_type(a, b)
    if rt == _BOOL and isinstance(b, bool):  # torch's scalar-exponent shortcuts: x ** 1 is x, x ** 0 is ones
        return a.copy() if b else xp.ones_like(a)
    _check_not_bool("pow", rt)
    if rt.kind in "biu":
        if _is_scalar(b) and b < 0:
            raise NNSpecRuntimeError("pow: Integers to negative integer powers are not allowed.")
        return _elementwise("pow", a, b, _int_pow, dtype=rt)
    shortcut = _POW_BY.get(b) if type(b) in (int, builtins.float) and rt in (_F32, _F64) else None
    if shortcut is not None and not _is_scalar(a):
        return _elementwise("pow", a, b, shortcut, dtype=rt)
    return _elementwise("pow", a, b, lambda xp, x, y: xp.power(x, y), dtype=rt)


# torch's CPU pow of a float tensor by these scalars, bit for bit (ATen's pow_tensor_scalar_optimized_kernel);
# NumPy's power by 3 takes about 300 times as long as x * x * x (GPT-2's gelu_new is torch.pow(input, 3.0))
_POW_BY = {3: lambda xp, x, y: x * x * x, -2: lambda xp, x, y: 1 / (x * x), -0.5: lambda xp, x, y: 1 / xp.sqrt(x)}


# the C++ type names torch's matmul messages use
_CPP_TYPE_NAMES = {
    "float16": "c10::Half", "float32": "float", "float64": "double", "int8": "signed char", "uint8": "unsigned char",
    "int16": "short int", "int32": "int", "int64": "long int", "bool": "bool",
}


def _same_dtype(op: str, a, b) -> None:
    if a.dtype != b.dtype:
        ta, tb = (_CPP_TYPE_NAMES.get(str(d), str(d)) for d in (a.dtype, b.dtype))
        raise NNSpecRuntimeError(f"{op}: expected m1 and m2 to have the same dtype, but got: {ta} != {tb}")
    if a.dtype == _BOOL:
        raise NNSpecRuntimeError(f"{op}: not implemented for 'Bool'")


def _mat(xp, a, b):
    """a @ b; float16 accumulates in float32, as torch's CPU gemm does."""
    if a.dtype == xp.float16:
        return _out(xp, xp.matmul(a.astype(xp.float32), b.astype(xp.float32))).astype(a.dtype)
    return _out(xp, xp.matmul(a, b))


def mm(input, mat2):
    a, b = _array(input, "mm"), _array(mat2, "mm", "mat2")
    if a.ndim != 2:
        raise ShapeError(f"mm: self must be a matrix, got a tensor of size {_shape(a.shape)}")
    if b.ndim != 2:
        raise ShapeError(f"mm: mat2 must be a matrix, got a tensor of size {_shape(b.shape)}")
    if a.shape[1] != b.shape[0]:
        raise ShapeError(
            f"mm: mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})"
        )
    _same_dtype("mm", a, b)
    return _mat(get_array_module(a, b), a, b)


def matmul(input, other):
    a, b = _array(input, "matmul"), _array(other, "matmul", "other")
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    ka, kb = a.shape[-1], b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        if a.ndim == 1 and b.ndim == 1:
            msg = (f"inconsistent tensor size, expected tensor [{ka}] and src [{kb}] to have the same number "
                   f"of elements, but got {ka} and {kb} elements respectively")
        elif b.ndim == 1:
            rows = math.prod(a.shape[:-1])
            msg = f"size mismatch, got input ({rows}), mat ({rows}x{ka}), vec ({kb})"
        else:
            rows = math.prod(a.shape[:-1]) if b.ndim == 2 else (a.shape[-2] if a.ndim > 1 else 1)
            msg = f"mat1 and mat2 shapes cannot be multiplied ({rows}x{ka} and {kb}x{b.shape[-1]})"
        raise ShapeError(f"matmul: {msg} (input of size {_shape(a.shape)}, other of size {_shape(b.shape)})")
    if a.ndim > 2 or b.ndim > 2:
        _broadcast_check("matmul", a.shape[:-2], b.shape[:-2] if b.ndim > 1 else ())
    _same_dtype("matmul", a, b)
    return _mat(get_array_module(a, b), a, b)


# --------------------------------------------------------------------------- activations


def relu(input):
    return F.relu(_array(input, "relu"))


def sigmoid(input):
    return F.sigmoid(_array(input, "sigmoid"))


def tanh(input):
    """tanh(x), elementwise (integer input gives float32)."""
    return F.tanh(_array(input, "tanh"))


def softmax(input, dim, dtype=None):
    if dim is None:
        raise NNSpecRuntimeError("softmax(): argument 'dim' must be an int, not NoneType")
    return F.softmax(_array(input, "softmax"), dim, dtype=dtype)


def log_softmax(input, dim, dtype=None):
    if dim is None:
        raise NNSpecRuntimeError("log_softmax(): argument 'dim' must be an int, not NoneType")
    return F.log_softmax(_array(input, "log_softmax"), dim, dtype=dtype)


# --------------------------------------------------------------------------- reductions


def _dims_list(op: str, x, dims) -> list[int]:
    """``dims`` of ``x`` wrapped to indexes >= 0; a dim given twice is torch's error."""
    wrapped = []
    for v in dims:
        w = wrap_dim(v, x.ndim, op)
        if w in wrapped:
            raise ShapeError(f"{op}: dim {w} appears multiple times in the list of dims")
        wrapped.append(w)
    return wrapped


def _reduce_axes(op: str, x, dim):
    """NumPy axes for torch's dim argument: None or () is every dim; negative dims wrap; no repeats."""
    if dim is None:
        return None
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if not dims:
        return None
    wrapped = _dims_list(op, x, dims)
    return tuple(wrapped) if x.ndim else ()


def sum_(input, dim=None, keepdim=False, *, dtype=None):
    """torch.sum: integer and bool inputs sum to int64; float16 accumulates in float32."""
    x = _array(input, "sum")
    xp = get_array_module(x)
    axes = _reduce_axes("sum", x, dim)
    dt = as_dtype(dtype)
    if dt is not None:
        x = x.astype(dt, copy=False)
    out = x.dtype if dt is not None or x.dtype.kind == "f" else _I64
    acc = _F32 if x.dtype == numpy.float16 else _I64 if x.dtype.kind in "biu" else x.dtype
    with _quiet(xp):
        y = x.sum(axis=axes, keepdims=bool(keepdim), dtype=acc)
    return _out(xp, y).astype(out, copy=False)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """torch.mean: floating-point input (or dtype=) only; float16 accumulates in float32."""
    x = _array(input, "mean")
    xp = get_array_module(x)
    axes = _reduce_axes("mean", x, dim)
    dt = as_dtype(dtype)
    if dt is not None:
        if dt.kind != "f":
            raise NNSpecRuntimeError(
                "mean(): could not infer output dtype. Optional dtype must be either a floating point or "
                f"complex dtype. Got: {torch_type_name(dt)}"
            )
        x = x.astype(dt, copy=False)
    elif x.dtype.kind != "f":
        raise NNSpecRuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {torch_type_name(x.dtype)}"
        )
    acc = _F32 if x.dtype == numpy.float16 else x.dtype
    with _quiet(xp):
        y = x.mean(axis=axes, keepdims=bool(keepdim), dtype=acc)
    return _out(xp, y).astype(x.dtype, copy=False)


# --------------------------------------------------------------------------- shapes


def _ints(op: str, values, what: str) -> list[int]:
    out = []
    for v in values:
        if isinstance(v, (bool, builtins.float)):
            raise NNSpecRuntimeError(f"{op}(): {what} must be a sequence of ints, got {type(v).__name__} {v!r}")
        if is_symbolic(v):
            out.append(v)
            continue
        try:
            out.append(operator.index(v))
        except TypeError:
            raise NNSpecRuntimeError(f"{op}(): {what} must be a sequence of ints, got {type(v).__name__}") from None
    return out


def _varargs(op: str, args: tuple, keyword, what: str) -> list[int]:
    """Tensor methods' ``*sizes``: view(2, -1), view((2, -1)), view([2, -1]) or view(size=(2, -1))."""
    if keyword is not None:
        if args:
            raise NNSpecRuntimeError(f"{op}(): got both positional {what} and {what}=")
        args = (keyword,)
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    elif not args:
        raise NNSpecRuntimeError(f"{op}(): missing the {what}")
    return _ints(op, args, what)


def infer_size(op: str, shape: list[int], numel: int) -> tuple[int, ...]:
    """torch's infer_size: at most one -1, inferred from the element count; the rest >= 0."""
    known, infer = 1, None
    for i, s in enumerate(shape):
        if s == -1:
            if infer is not None:
                raise ShapeError(f"{op}: only one dimension can be inferred (shape {_shape(shape)})")
            infer = i
        elif s >= 0:
            known *= s
        else:
            raise ShapeError(f"{op}: invalid shape dimension {s} at index {i} of shape {_shape(shape)}")
    # with a -1, numel == known needs no asking (the -1 is then 1): a symbolic N*T == T would assume N != 1
    if (infer is not None and known > 0 and numel % known == 0) or numel == known:
        out = list(shape)
        if infer is not None:
            if known == 0:
                raise ShapeError(
                    f"{op}: cannot reshape tensor of 0 elements into shape {_shape(shape)} because the "
                    "unspecified dimension size -1 can be any value and is ambiguous"
                )
            out[infer] = numel // known
        return tuple(out)
    raise ShapeError(f"{op}: shape '{_shape(shape)}' is invalid for input of size {numel}")


def _reshape(op: str, x, shape: list[int]):
    """A view where the strides allow one, a copy otherwise (nnspec's view never refuses a layout)."""
    return x.reshape(infer_size(op, shape, _size(x.size)))


def reshape(input, shape):
    """torch.reshape(input, shape): shape is a tuple or list of ints."""
    x = _array(input, "reshape")
    if not isinstance(shape, (tuple, list)):
        raise NNSpecRuntimeError(f"reshape(): argument 'shape' must be tuple of ints, not {type(shape).__name__}")
    return _reshape("reshape", x, _ints("reshape", shape, "shape"))


def reshape_method(x, *sizes, shape=None):
    """Tensor.reshape(*shape), Tensor.reshape(shape) or Tensor.reshape(shape=...)."""
    return _reshape("reshape", _array(x, "reshape"), _varargs("reshape", sizes, shape, "shape"))


def view(x, *sizes, size=None):
    """Tensor.view(*shape), Tensor.view(shape) or Tensor.view(size=...)."""
    return _reshape("view", _array(x, "view"), _varargs("view", sizes, size, "size"))


def flatten(input, start_dim=0, end_dim=-1):
    x = _array(input, "flatten")
    s, e = wrap_dim(start_dim, x.ndim, "flatten"), wrap_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise ShapeError(f"flatten() has invalid args: start_dim cannot come after end_dim (got {start_dim} and {end_dim})")
    if x.ndim == 0:
        return x.reshape(1)
    if s == e:
        return x
    return x.reshape(x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:])


def transpose(input, dim0, dim1):
    x = _array(input, "transpose")
    d0, d1 = wrap_dim(dim0, x.ndim, "transpose"), wrap_dim(dim1, x.ndim, "transpose")
    if x.ndim == 0:
        return x
    return get_array_module(x).swapaxes(x, d0, d1)


def _permute(x, dims: list[int]):
    if len(dims) != x.ndim:
        raise ShapeError(
            "permute: number of dimensions in the tensor input does not match the length of the desired "
            f"ordering of dimensions i.e. input.dim() = {x.ndim} is not equal to len(dims) = {len(dims)}"
        )
    wrapped = [wrap_dim(d, x.ndim, "permute") for d in dims]
    if len(set(wrapped)) != len(wrapped):
        raise ShapeError(f"permute(): duplicate dims are not allowed. Got dims {tuple(dims)}")
    return get_array_module(x).transpose(x, wrapped) if x.ndim else x


def permute(input, dims):
    """torch.permute(input, dims): dims is a tuple or list."""
    x = _array(input, "permute")
    if not isinstance(dims, (tuple, list)):
        raise NNSpecRuntimeError(f"permute(): argument 'dims' must be tuple of ints, not {type(dims).__name__}")
    return _permute(x, _ints("permute", dims, "dims"))


def permute_method(x, *ordering, dims=None):
    """Tensor.permute(*dims), Tensor.permute(dims) or Tensor.permute(dims=...)."""
    return _permute(_array(x, "permute"), _varargs("permute", ordering, dims, "dims"))


def unsqueeze(x, dim):
    x = _array(x, "unsqueeze")
    return get_array_module(x).expand_dims(x, wrap_dim(dim, x.ndim + 1, "unsqueeze"))


def squeeze(x, dim=None):
    """Drop size-1 dims: all of them, or those among ``dim`` (an int or a tuple); other dims are kept."""
    x = _array(x, "squeeze")
    xp = get_array_module(x)
    if dim is None:
        axes = tuple(i for i, s in enumerate(x.shape) if s == 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = tuple(sorted({w for w in (wrap_dim(d, x.ndim, "squeeze") for d in dims) if x.ndim and x.shape[w] == 1}))
    return xp.squeeze(x, axis=axes) if axes else x


def t(x):
    x = _array(x, "t")
    if x.ndim > 2:
        raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return x.T if x.ndim == 2 else x


def contiguous(x, memory_format=None):
    x = _array(x, "contiguous")
    return x if x.flags.c_contiguous else x.copy(order="C")


def clone(x, *, memory_format=None):
    """A copy that keeps the layout (torch's preserve_format)."""
    return _array(x, "clone").copy(order="K")


def size(x, dim=None):
    x = _array(x, "size")
    if dim is None:
        return tuple(_size(s) for s in x.shape)
    d = wrap_dim(dim, x.ndim, "size")
    if x.ndim == 0:
        raise ShapeError(f"size: Dimension specified as {dim} but tensor has no dimensions")
    return _size(x.shape[d])


def _size(s):
    """A size as a Python int, or the symbolic size it is in static inference."""
    return s if is_symbolic(s) else int(s)


def dim_(x):
    return int(_array(x, "dim").ndim)


def numel(x):
    return _size(_array(x, "numel").size)


def _cast(x, dtype, op: str):
    x = _array(x, op)
    return x.astype(dtype, copy=False)


def float_(x, memory_format=None):
    return _cast(x, numpy.float32, "float")


def double(x, memory_format=None):
    return _cast(x, numpy.float64, "double")


def half(x, memory_format=None):
    return _cast(x, numpy.float16, "half")


def long(x, memory_format=None):
    return _cast(x, numpy.int64, "long")


def int_(x, memory_format=None):
    """Tensor.int(): int32."""
    return _cast(x, numpy.int32, "int")


def short(x, memory_format=None):
    return _cast(x, numpy.int16, "short")


def char(x, memory_format=None):
    return _cast(x, numpy.int8, "char")


def byte(x, memory_format=None):
    return _cast(x, numpy.uint8, "byte")


def bool_(x, memory_format=None):
    return _cast(x, numpy.bool_, "bool")


# --------------------------------------------------------------------------- dtypes, devices and attributes


def _is_dtype(v: Any) -> bool:
    return isinstance(v, (DType, numpy.dtype)) or (isinstance(v, str) and v.removeprefix("torch.") in _DTYPE_NAMES) \
        or type(v).__module__.split(".")[0] == "torch"


_DTYPE_NAMES = {"float16", "half", "float32", "float", "float64", "double", "int8", "uint8", "int16", "short",
                "int32", "int", "int64", "long", "bool"}


def _converted(x, dtype, copy: bool):
    """x as ``dtype``: itself where nothing changes (unless ``copy``); floats to ints toward zero, as torch."""
    if dtype is None or dtype == x.dtype:
        return x.copy() if copy else x
    with _quiet(get_array_module(x)):
        return x.astype(dtype)


def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False, memory_format=None):
    """Tensor.to(dtype), .to(device, dtype=None), .to(other) (its dtype): a copy only where the dtype
    changes (or ``copy``). The device is checked and otherwise ignored: arrays stay where the model runs."""
    x = _array(self, "to")
    rest = list(args)
    target = as_dtype(dtype)
    if rest:
        first = rest.pop(0)
        if _is_array(first):
            if dtype is not None:
                raise NNSpecRuntimeError("to(): got an array and dtype=")
            target = data_of(first).dtype
        elif _is_dtype(first):
            if dtype is not None:
                raise NNSpecRuntimeError("to(): got a dtype twice")
            target = as_dtype(first)
        elif first is not None:
            check_device(first, "to")
            if rest and (_is_dtype(rest[0]) or rest[0] is None):
                if dtype is not None:
                    raise NNSpecRuntimeError("to(): got a dtype twice")
                target = as_dtype(rest.pop(0))
        if len(rest) > 2 or not all(isinstance(v, bool) for v in rest):
            raise NNSpecRuntimeError("to() received an invalid combination of arguments")
        if len(rest) == 2:
            copy = rest[1]
    check_device(device, "to")
    return _converted(x, target, bool(copy))


def type_as(self, other):
    """Tensor.type_as(other): the tensor in other's dtype."""
    x, o = _array(self, "type_as"), _array(other, "type_as", "other")
    return _converted(x, o.dtype, False)


_TENSOR_TYPE_NAMES = {"float16": "HalfTensor", "float32": "FloatTensor", "float64": "DoubleTensor",
                      "int8": "CharTensor", "uint8": "ByteTensor", "int16": "ShortTensor", "int32": "IntTensor",
                      "int64": "LongTensor", "bool": "BoolTensor"}


def type_(self, dtype=None, non_blocking=False):
    """Tensor.type(): its type's name ('torch.FloatTensor'); Tensor.type(dtype): the tensor in that dtype."""
    x = _array(self, "type")
    if dtype is None:
        return f"torch.{_TENSOR_TYPE_NAMES[str(x.dtype)]}"
    if isinstance(dtype, str) and dtype.removeprefix("torch.") in _TENSOR_TYPE_NAMES.values():
        name = dtype.removeprefix("torch.")
        target = next(numpy.dtype(k) for k, v in _TENSOR_TYPE_NAMES.items() if v == name)
    else:
        target = as_dtype(dtype)
    return _converted(x, target, False)


def is_floating_point(input):
    return _array(input, "is_floating_point").dtype.kind == "f"


def _getattr(obj, name: str):
    """``obj.name`` of a tensor (dtype, device, T, mT, H, mH, is_cuda, ...) or of a dtype, device, finfo or named
    result tuple (``x.max(dim=1).values``)."""
    if not isinstance(name, str):
        raise NNSpecRuntimeError(f"getattr: an attribute name must be a string, not {type(name).__name__}")
    if _is_array(obj):
        x = data_of(obj)
        if name == "dtype":
            return dtype_of(x.dtype)
        if name == "device":
            return device_of_array(x)
        if name == "is_cuda":
            return device_of_array(x).type == "cuda"
        if name == "ndim":
            return dim_(x)
        if name == "shape":
            return size(x)
        if name == "data":  # the array itself (nothing here tracks gradients)
            return x
        if name in TENSOR_VIEW_ATTRIBUTES:
            return TENSOR_VIEW_ATTRIBUTES[name](x)
        what = "a method (call it)" if name in METHODS else "not supported"
        raise NNSpecRuntimeError(f"getattr: tensor attribute {name!r} is {what}")
    return value_attribute(obj, name)


# --------------------------------------------------------------------------- joining


def _tensor_list(op: str, tensors) -> list:
    if isinstance(tensors, (tuple, list)):
        return [_array(t, op, "tensors") for t in tensors]
    raise NNSpecRuntimeError(f"{op}(): argument 'tensors' must be a tuple or list of arrays, not {type(tensors).__name__}")


def cat(tensors, dim=0):
    """Arrays joined along an existing dim. As torch does, 1-d empty arrays are skipped (they still count for the
    result dtype)."""
    ts = _tensor_list("cat", tensors)
    if not ts:
        raise NNSpecRuntimeError("torch.cat(): expected a non-empty list of Tensors")
    for i, t_ in enumerate(ts):
        if t_.ndim == 0:
            raise ShapeError(f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated")
    rt = None
    for t_ in ts:
        rt = promote_types(rt, t_.dtype)
    xp = get_array_module(*ts)
    kept = [(i, t_) for i, t_ in enumerate(ts) if t_.shape != (0,)]
    if not kept:
        return xp.concatenate([t_.astype(rt, copy=False) for t_ in ts])
    ref = kept[0][1]
    d = wrap_dim(dim, ref.ndim, "cat")
    for i, t_ in kept:
        if t_.ndim != ref.ndim:
            raise ShapeError(f"cat: Tensors must have same number of dimensions: got {ref.ndim} and {t_.ndim}")
        for k in range(ref.ndim):
            if k != d and t_.shape[k] != ref.shape[k]:
                raise ShapeError(
                    f"cat: Sizes of tensors must match except in dimension {d}. Expected size {ref.shape[k]} but "
                    f"got size {t_.shape[k]} for tensor number {i} in the list."
                )
    return xp.concatenate([t_.astype(rt, copy=False) for _, t_ in kept], axis=d)


def stack(tensors, dim=0):
    ts = _tensor_list("stack", tensors)
    if not ts:
        raise NNSpecRuntimeError("stack expects a non-empty TensorList")
    d = wrap_dim(dim, ts[0].ndim + 1, "stack")
    for i, t_ in enumerate(ts):
        if t_.shape != ts[0].shape:
            raise ShapeError(
                f"stack expects each tensor to be equal size, but got {_shape(ts[0].shape)} at entry 0 and "
                f"{_shape(t_.shape)} at entry {i}"
            )
    rt = None
    for t_ in ts:
        rt = promote_types(rt, t_.dtype)
    return get_array_module(*ts).stack([t_.astype(rt, copy=False) for t_ in ts], axis=d)


# --------------------------------------------------------------------------- Python operators


def _python(op: str, fn, *values):
    """The Python operator on non-array values (shape arithmetic, tuple indexing), bounded, errors as nnspec's."""
    return checked(op, fn, *values)


def _binary_operator(name: str, fn, pyfn):
    def apply(a, b):
        if _is_array(a) or _is_array(b):
            return fn(a, b)
        return _python(name, pyfn, a, b)

    apply.__name__ = apply.__qualname__ = f"operator_{name}"
    apply.__doc__ = f"Python's ``{name}`` with torch's semantics where an operand is an array."
    return apply


def _neg(a):
    if not _is_array(a):
        return _python("neg", operator.neg, a)
    x = data_of(a)
    if x.dtype == _BOOL:
        raise NNSpecRuntimeError(
            "neg: Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a "
            "mask, use the `~` or `logical_not()` operator instead."
        )
    return _out(get_array_module(x), -x)


def _pos(a):
    if not _is_array(a):
        return _python("pos", operator.pos, a)
    x = data_of(a)
    if x.dtype == _BOOL:
        raise NNSpecRuntimeError("pos: The `+` operator, on a bool tensor is not supported.")
    return x


def _index_item(xp, item):
    if isinstance(item, Parameter):
        item = item.data
    if item is None or item is Ellipsis or isinstance(item, bool):
        return item
    if isinstance(item, slice):
        parts = []
        for part in (item.start, item.stop, item.step):
            if part is None:
                parts.append(None)
                continue
            try:
                parts.append(part if is_symbolic(part) else _int64_index(operator.index(part)))
            except TypeError:
                raise NNSpecRuntimeError(
                    f"getitem: slice indices must be integers or None, got {type(part).__name__}"
                ) from None
        if parts[2] is not None and parts[2] <= 0:
            raise NNSpecRuntimeError(
                "getitem: slice step cannot be zero" if parts[2] == 0 else "getitem: step must be greater than zero"
            )
        return slice(*parts)
    if isinstance(item, list) and xp is meta and any(is_symbolic(v) for v in item):
        return meta.MetaArray((len(item),), numpy.int64)  # sizes as indices: values unknown, the shape known
    if isinstance(item, list):  # its values are known: a NumPy index array, even for shape-only input
        ixp = numpy if xp is meta else xp
        arr = ixp.asarray(item) if item else ixp.zeros(0, dtype=ixp.int64)
        return _index_item(xp, arr)
    if _is_array(item):
        item = data_of(item)
        if item.dtype.kind not in "biu":
            raise NNSpecRuntimeError(
                f"getitem: tensors used as indices must be long, int, byte or bool tensors, got {item.dtype}"
            )
        if item.ndim:
            return item
        if is_meta(item) and item.dtype.kind != "b":
            return item  # an int whose value static inference does not know: meta indexing drops its dim
        return bool(item) if item.dtype.kind == "b" else int(item)  # a 0-d index acts as a Python scalar
    try:
        index = operator.index(item)
    except TypeError:
        raise NNSpecRuntimeError(
            "getitem: only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
            f"valid indices (got {type(item).__name__})"
        ) from None
    if not -(2**63) <= index < 2**63:  # torch parses an index as int64: a larger one is its overflow error
        raise NNSpecRuntimeError(f"getitem: index {index} overflows a 64-bit integer")
    return index


def _symbolic_index(index) -> bool:
    """Whether an index has a symbolic size in it (a slice to T, an index T - 1)."""
    for it in index if isinstance(index, tuple) else (index,):
        parts = (it.start, it.stop, it.step) if isinstance(it, slice) else it if isinstance(it, list) else (it,)
        if any(is_symbolic(p) for p in parts):
            return True
    return False


def _int64_index(v: int) -> int:
    if not -(2**63) <= v < 2**63:
        raise NNSpecRuntimeError(f"getitem: slice index {v} overflows a 64-bit integer")
    return v


def _getitem(obj, index):
    """x[index] for arrays (ints, slices with step > 0, None, Ellipsis, int/bool arrays and tuples of
    them; the result is always an array, a view where NumPy gives one); obj[index] for anything else."""
    if not _is_array(obj):
        return _python("getitem", operator.getitem, obj, index)
    x = data_of(obj)
    if not is_meta(x) and _symbolic_index(index):  # static inference on a real model's state: shapes only
        x = meta.MetaArray(x.shape, x.dtype)
    xp = get_array_module(x)
    items = [_index_item(xp, it) for it in (index if isinstance(index, tuple) else (index,))]
    if not any(it is Ellipsis for it in items):
        items.append(Ellipsis)  # keeps a full integer index a 0-d array (a view), not a NumPy scalar
    try:
        return _out(xp, x[tuple(items)])
    except IndexError as e:
        msg = str(e).replace("axis", "dimension").replace("array", "tensor")
        raise ShapeError(f"getitem: {msg} (indexing a tensor of size {_shape(x.shape)})") from None


# --------------------------------------------------------------------------- in place, unpacking, splicing


def _check_overlap(op: str, x) -> None:
    """torch refuses to write into an expanded view, where one memory location is several elements."""
    if not is_meta(x) and any(st == 0 and n > 1 for st, n in zip(x.strides, x.shape)):
        raise NNSpecRuntimeError(f"{op}: unsupported operation: more than one element of the written-to tensor "
                                 "refers to a single memory location. Please clone() the tensor before performing "
                                 "the operation.")


def write_into(name: str, x, result):
    """An in-place op's ``result`` written into ``x`` (its shape and dtype kept, as torch's in-place ops do);
    returns ``x``. Static inference on a real model writes into nothing."""
    x = data_of(x)
    _check_overlap(name, x)
    x = meta.write_target(x)
    if is_meta(result) and not is_meta(x):
        x = meta.MetaArray(x.shape, x.dtype)
    if tuple(result.shape) != tuple(x.shape):
        raise ShapeError(f"{name}: output with shape {list(x.shape)} doesn't match the broadcast shape "
                         f"{list(result.shape)}")
    if result.dtype != x.dtype and not numpy.can_cast(result.dtype, x.dtype, casting="same_kind"):
        raise NNSpecRuntimeError(f"{name}: result type {torch_type_name(result.dtype)} can't be cast to the "
                                 f"desired output type {torch_type_name(x.dtype)}")
    if result is not x:
        x[...] = result
    return x


def _inplace(name: str, binary: Callable) -> Callable:
    """``a op= b`` on an array writes into ``a``, as torch's in-place ops do; plain values fall back to ``op``."""
    def apply(a, b):
        result = binary(a, b)
        if not _is_array(a):
            return result
        return write_into(name, a, result)

    apply.__name__ = apply.__qualname__ = f"operator_{name}"
    apply.__doc__ = f"Python's ``{name}`` (augmented assignment), in place on arrays as in torch."
    return apply


def _unpack(value, n: int):
    """``a, b = value``: Python's length check, for a tuple, list or the first dim of an array."""
    length = len(value) if not _is_array(value) else (data_of(value).shape[0] if data_of(value).ndim else None)
    if length is None:
        raise NNSpecRuntimeError("cannot unpack a 0-d array")
    if length != n:
        raise NNSpecRuntimeError(f"cannot unpack {length} values into {n} names")
    return tuple(value[i] for i in range(n)) if not _is_array(value) else tuple(data_of(value)[i] for i in range(n))



def _setitem(obj, index, value):
    """``x[index] = value``: written into x, the value (an array or a number) broadcast to the indexed part
    and converted to x's dtype, as torch's copy_ converts it."""
    from .tensor_creation import convert_scalar

    if not _is_array(obj):
        raise NNSpecRuntimeError(f"setitem: '{type(obj).__name__}' object does not support item assignment")
    x = meta.write_target(data_of(obj))  # static inference on a real model's state: nothing written
    if not is_meta(x) and _symbolic_index(index):
        x = meta.MetaArray(x.shape, x.dtype)
    xp = get_array_module(x)
    items = [_index_item(xp, it) for it in (index if isinstance(index, tuple) else (index,))]
    if not any(it is Ellipsis for it in items):
        items.append(Ellipsis)
    key = tuple(items)
    if isinstance(value, numpy.generic):
        value = value.item()
    if _is_array(value):
        v = data_of(value)
    elif _is_scalar(value):
        v = convert_scalar(value, x.dtype, "setitem")
    else:
        raise NNSpecRuntimeError(f"setitem: can't assign a {type(value).__name__} to an array")
    shape = numpy.shape(v) if not _is_array(v) else tuple(v.shape)
    if is_meta(x) or is_meta(v) or isinstance(v, (Dim, SymbolicFloat)):
        try:
            part = meta._index_shape(tuple(x.shape), key)
        except meta.DataDependentError:
            if all(not is_symbolic(s) and s == 1 for s in shape):
                return None  # a number written where a mask says: the shape stays
            raise
        except IndexError as e:
            msg = str(e).replace("axis", "dimension").replace("array", "tensor")
            raise ShapeError(f"setitem: {msg} (indexing a tensor of size {_shape(x.shape)})") from None
        _broadcast_into("setitem", shape, part, x.dtype)
        return None
    _check_overlap("setitem", x)
    try:
        part = x[key]
    except IndexError as e:
        msg = str(e).replace("axis", "dimension").replace("array", "tensor")
        raise ShapeError(f"setitem: {msg} (indexing a tensor of size {_shape(x.shape)})") from None
    _broadcast_into("setitem", shape, tuple(part.shape), x.dtype)
    with _quiet(xp):
        x[key] = v.astype(x.dtype, copy=False) if _is_array(v) else v
    return None


def _broadcast_into(op: str, src: tuple, dst: tuple, dtype) -> None:
    """torch's copy_ of a source into an indexed part: the source's leading size-1 dims dropped, it must expand
    to the part's shape (torch's expand messages)."""
    from .tensor_shapes import _expanded

    src = tuple(src)
    while len(src) > len(dst) and not is_symbolic(src[0]) and src[0] == 1:
        src = src[1:]
    _expanded(op, SimpleNamespace(ndim=len(src), shape=src, dtype=dtype), list(dst))


def _check(condition, message=None, op=None, other=None):
    """``assert condition, message`` where the condition is computed in the forward: an error where it is false.
    ``assert a < b`` comes as (a, message, "lt", b): where a or b is a symbolic size (static inference), the
    comparison is assumed to hold unless it can't (the assumption is recorded: T <= 1024). The truth of a
    shape-only array is not known statically and passes."""
    from .symbolic import assume_holds

    if op is not None:
        if op not in ("eq", "ne", "lt", "le", "gt", "ge"):
            raise NNSpecRuntimeError(f"assert: unknown comparison {op!r}")
        if (is_symbolic(condition) or is_symbolic(other)) and not _is_array(condition) and not _is_array(other):
            truth = assume_holds(condition, op, other)
            if not truth:
                raise NNSpecRuntimeError("assertion failed" + (f": {message}" if message else ""))
            return None
        condition = OPERATORS[op](condition, other)
    if _is_array(condition):
        x = data_of(condition)
        if is_meta(x):
            return None
        if int(x.size) != 1:
            raise NNSpecRuntimeError("assert: Boolean value of Tensor with more than one value is ambiguous")
        truth = bool(x.reshape(()).item())
    else:
        truth = bool(condition)
    if not truth:
        raise NNSpecRuntimeError("assertion failed" + (f": {message}" if message else ""))
    return None


def item(self):
    """Tensor.item(): the value of a one-element array as a Python number."""
    x = _array(self, "item")
    if is_meta(x):
        raise meta.DataDependentError("item: the value of an array, which static inference does not know")
    if int(x.size) != 1:
        raise NNSpecRuntimeError(f"item: a Tensor with {int(x.size)} elements cannot be converted to Scalar")
    return x.reshape(()).item()


def tolist(self):
    """Tensor.tolist(): the values as (nested) Python lists of numbers."""
    x = _array(self, "tolist")
    if is_meta(x):
        raise meta.DataDependentError("tolist: the values of an array, which static inference does not know")
    if int(x.size) > MAX_SEQ:  # Python values stay bounded in the forward, as a tuple's items are
        raise NNSpecRuntimeError(f"tolist: a tensor of {int(x.size):,} elements is more than {MAX_SEQ:,} Python "
                                 "numbers")
    return get_array_module(x).asnumpy(x).tolist() if hasattr(get_array_module(x), "asnumpy") else x.tolist()


def _splat(value):
    """``*value`` inside a call or a list or tuple display, where value is only known when the forward runs:
    its items (of a tuple or list, or an array along its first dim); the interpreter splices them in."""
    from .pyfuncs import _items

    return tuple(_items("*", value))


# --------------------------------------------------------------------------- registries

# the families of torch ops beyond this module's (they use its helpers, so they are imported here)
from . import pyfuncs as _py  # noqa: E402
from . import tensor_creation as _C  # noqa: E402
from . import tensor_math as _M  # noqa: E402
from . import tensor_reductions as _R  # noqa: E402
from . import tensor_shapes as _S  # noqa: E402
from . import values as _V  # noqa: E402

# torch.nn.functional ops, under the name after "F." / "torch.nn.functional."
_NN_FUNCTIONAL: dict[str, Callable] = F.NN_FUNCTIONAL

# tensor attributes that are views (x.T, x.mT); x.shape, x.ndim, x.dtype, x.device are served by _getattr too
TENSOR_VIEW_ATTRIBUTES: dict[str, Callable] = {"T": _S.attr_T, "mT": _S.attr_mT, "H": _S.attr_H, "mH": _S.attr_mH}
TENSOR_ATTRIBUTES = frozenset({"shape", "ndim", "dtype", "device", "is_cuda", "data", *TENSOR_VIEW_ATTRIBUTES})

# ops that take the same arguments as torch.<name> and Tensor.<name> (the tensor first)
_BOTH: dict[str, Callable] = {
    # arithmetic, activations, reductions and shapes of this module
    "matmul": matmul, "mm": mm, "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax,
    "log_softmax": log_softmax, "add": add, "mul": mul, "sub": sub, "div": div, "mean": mean, "sum": sum_,
    "transpose": transpose, "flatten": flatten, "squeeze": squeeze, "unsqueeze": unsqueeze, "numel": numel,
    "t": t, "clone": clone, "is_floating_point": is_floating_point,
    # creation from a tensor
    "tril": _C.tril, "triu": _C.triu,
    # elementwise
    **{name: getattr(_M, name) for name in (
        "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "asin",
        "acos", "atan", "sinh", "cosh", "erf", "erfc", "reciprocal", "neg", "sign", "floor", "ceil", "trunc",
        "frac", "square", "positive", "isnan", "isinf", "isfinite", "nan_to_num", "eq", "ne", "lt", "le", "gt",
        "ge", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or",
        "bitwise_xor", "bitwise_not", "maximum", "minimum", "atan2", "nonzero", "clamp", "clamp_min", "clamp_max",
        "masked_fill", "lerp", "addcmul")},
    "abs": _M.abs_, "round": _M.round_, "pow": _M.pow_, "clip": _M.clamp,
    # reductions
    **{name: getattr(_R, name) for name in (
        "amax", "amin", "aminmax", "argmax", "argmin", "var", "std", "norm", "prod", "cumsum", "cumprod",
        "logsumexp", "count_nonzero")},
    "max": _R.max_, "min": _R.min_, "all": _R.all_, "any": _R.any_,
    # shapes and products
    **{name: getattr(_S, name) for name in (
        "chunk", "unbind", "broadcast_to", "repeat_interleave", "roll", "narrow", "select", "gather",
        "index_select", "scatter", "movedim", "swapaxes", "swapdims", "unflatten", "bmm", "baddbmm", "addmm", "outer",
        "dot", "sort", "argsort", "topk")},
    "moveaxis": _S.movedim,
}

FUNCTIONS: dict[str, Callable] = {
    **{f"F.{name}": fn for name, fn in _NN_FUNCTIONAL.items()},
    **{f"torch.nn.functional.{name}": fn for name, fn in _NN_FUNCTIONAL.items()},
    **{f"torch.{name}": fn for name, fn in _BOTH.items()},
    "torch.cat": cat,
    "torch.concat": _S.concat,
    "torch.concatenate": _S.concatenate,
    "torch.stack": stack,
    "torch.hstack": _S.hstack,
    "torch.vstack": _S.vstack,
    "torch.dstack": _S.dstack,
    "torch.permute": permute,
    "torch.reshape": reshape,
    "torch.split": _S.split,
    "torch.tile": _S.tile,
    "torch.flip": _S.flip,
    "torch.einsum": _S.einsum,
    "torch.where": _M.where,
    "torch.var_mean": _R.var_mean,
    "torch.std_mean": _R.std_mean,
    # creation
    **{f"torch.{name}": getattr(_C, name) for name in (
        "ones", "zeros", "empty", "full", "arange", "linspace", "eye", "tensor", "ones_like", "zeros_like",
        "empty_like", "full_like", "rand_like", "randn_like", "rand", "randn")},
    # dtypes and devices
    "torch.finfo": _V.finfo,
    "torch.iinfo": _V.iinfo,
    "torch.device": _V.device,
    # Python's math module and builtins on values known when the forward runs (sizes, floats)
    **{f"math.{name}": fn for name, fn in _py.MATH_FUNCTIONS.items()},
    **{f"builtins.{name}": fn for name, fn in _py.BUILTIN_FUNCTIONS.items()},
}

# functions of constants only: the compiler evaluates them when their arguments are known
FOLDABLE = frozenset({"torch.finfo", "torch.iinfo", "torch.device", *(f"math.{n}" for n in _py.MATH_FUNCTIONS)})


def _method_where(self, condition, y):
    """Tensor.where(condition, y): torch.where(condition, self, y)."""
    return _M.where(condition, self, y)


def _inplace_method(name: str, fn: Callable) -> Callable:
    def method(self, *args, **kwargs):
        return write_into(name, _array(self, name), fn(self, *args, **kwargs))

    method.__name__ = method.__qualname__ = f"inplace_{name.rstrip('_')}"
    method.__doc__ = f"Tensor.{name}: {fn.__name__}, written into the tensor (its shape and dtype kept)."
    return method


# Tensor methods: the tensor is the first argument, then the method's own arguments
METHODS: dict[str, Callable] = {
    **_BOTH,
    "view": view,
    "reshape": reshape_method,
    "permute": permute_method,
    "contiguous": contiguous,
    "size": size,
    "dim": dim_,
    "nelement": numel,
    "float": float_,
    "double": double,
    "half": half,
    "long": long,
    "int": int_,
    "short": short,
    "char": char,
    "byte": byte,
    "bool": bool_,
    "to": to,
    "type_as": type_as,
    "type": type_,
    "where": _method_where,
    "item": item,
    "tolist": tolist,
    "split": _S.split_method,
    "split_with_sizes": _S.split_with_sizes,
    "expand": _S.expand,
    "expand_as": _S.expand_as,
    "repeat": _S.repeat,
    "tile": _S.tile_method,
    "flip": _S.flip_method,
    "view_as": _S.view_as,
    "reshape_as": _S.reshape_as,
    "new_zeros": _C.new_zeros,
    "new_ones": _C.new_ones,
    "new_empty": _C.new_empty,
    "new_full": _C.new_full,
    "new_tensor": _C.new_tensor,
    # in place: the result written into the tensor
    "masked_fill_": _M.inplace_masked_fill,
    "fill_": _M.inplace_fill,
    "zero_": _M.inplace_zero,
    "bernoulli_": _C.bernoulli_,
    "add_": _inplace_method("add_", add),
    "sub_": _inplace_method("sub_", sub),
    "mul_": _inplace_method("mul_", mul),
    "div_": _inplace_method("div_", div),
    "clamp_": _inplace_method("clamp_", _M.clamp),
    "scatter_": _inplace_method("scatter_", _S.scatter),
}
del METHODS["is_floating_point"], METHODS["numel"]
METHODS.update({"is_floating_point": is_floating_point, "numel": numel})

# one line for the ops whose functions have no docstring of their own (``nnspec ops`` prints it)
_SUMMARIES = {
    "add": "torch.add: input + alpha * other, in torch's result dtype.",
    "sub": "torch.sub: input - alpha * other, in torch's result dtype.",
    "mul": "torch.mul: input * other, in torch's result dtype.",
    "div": "torch.div: input / other (true division, or rounding_mode 'trunc' or 'floor').",
    "matmul": "torch.matmul: the matrix product, with torch's rules for 1-d operands and batch broadcasting.",
    "mm": "torch.mm: the product of two matrices.",
    "relu": "torch.relu: max(x, 0).", "sigmoid": "torch.sigmoid: 1 / (1 + exp(-x)).", "tanh": "torch.tanh.",
    "softmax": "torch.softmax along dim.", "log_softmax": "torch.log_softmax along dim.",
    "transpose": "torch.transpose: dims dim0 and dim1 swapped (a view).",
    "flatten": "torch.flatten: dims start_dim..end_dim as one.", "t": "torch.t: a matrix transposed (<= 2 dims).",
    "unsqueeze": "torch.unsqueeze: a size-1 dim inserted at dim.", "numel": "torch.numel: the number of elements.",
    "stack": "torch.stack: the arrays joined along a new dim.", "dstack": "torch.dstack: cat along dim 2 (at least 3-d).",
    "is_floating_point": "Whether the array's dtype is a floating-point one.",
    "exp": "torch.exp, elementwise (integer and bool inputs give float32).", "exp2": "torch.exp2: 2 ** x, elementwise.",
    "expm1": "torch.expm1: exp(x) - 1, accurate near 0.", "log": "torch.log, elementwise (the natural logarithm).",
    "log2": "torch.log2, elementwise.", "log10": "torch.log10, elementwise.",
    "log1p": "torch.log1p: log(1 + x), accurate near 0.", "sqrt": "torch.sqrt, elementwise.",
    "rsqrt": "torch.rsqrt: 1 / sqrt(x).", "sin": "torch.sin, elementwise.", "cos": "torch.cos, elementwise.",
    "tan": "torch.tan, elementwise.", "asin": "torch.asin, elementwise.", "acos": "torch.acos, elementwise.",
    "atan": "torch.atan, elementwise.", "sinh": "torch.sinh, elementwise.", "cosh": "torch.cosh, elementwise.",
    "atan2": "torch.atan2(input, other): the angle of (other, input), elementwise.",
    "erf": "torch.erf: the error function, elementwise.", "erfc": "torch.erfc: 1 - erf(x).",
    "reciprocal": "torch.reciprocal: 1 / x (integer inputs give float32).",
    "neg": "torch.neg: -x (not for bool).", "positive": "torch.positive: x itself (not for bool).",
    "floor": "torch.floor, elementwise (integers unchanged).", "ceil": "torch.ceil, elementwise (integers unchanged).",
    "trunc": "torch.trunc: toward zero, elementwise.", "frac": "torch.frac: x - trunc(x) (floating-point input).",
    "isnan": "torch.isnan: bool, elementwise.", "isinf": "torch.isinf: bool, elementwise.",
    "isfinite": "torch.isfinite: bool, elementwise.", "logical_not": "torch.logical_not: x == 0, as bool.",
    "bitwise_not": "torch.bitwise_not: ~x for bool and integer arrays.",
    "minimum": "torch.minimum: the smaller of two arrays, elementwise (NaN propagates).",
    "clamp_min": "torch.clamp_min: clamp(input, min=min).", "clamp_max": "torch.clamp_max: clamp(input, max=max).",
    "amin": "torch.amin: the smallest value over dim (an int or a tuple; () is every dim).",
    "min": "torch.min(input), torch.min(input, dim, keepdim=False) -> (values, indices), or torch.min(input, other).",
    "argmin": "torch.argmin: the index of the first smallest value.",
    "any": "torch.any: whether any element (over dim) is nonzero.",
    "std": "torch.std: the standard deviation over dim, with Bessel's correction (1 by default).",
    "std_mean": "torch.std_mean: (std, mean).", "cumprod": "torch.cumprod along dim; integer and bool inputs give int64.",
    "triu": "torch.triu: the elements on and above the diagonal-th diagonal of the last two dims; the rest 0.",
    "swapdims": "torch.swapdims: transpose under another name.",
    "zeros": "torch.zeros(*size): float32 unless dtype.", "zeros_like": "torch.zeros_like: zeros of the input's shape.",
    "ones_like": "torch.ones_like: ones of the input's shape (and dtype, unless dtype).",
    "full_like": "torch.full_like: the input's shape filled with fill_value.",
    "randn": "torch.randn(*size): standard normal, from nnspec's seeded generator.",
    "iinfo": "torch.iinfo(dtype): the limits of an integer dtype (bits, min, max).",
    "contiguous": "Tensor.contiguous: a C-contiguous copy where the array is not one.",
    "size": "Tensor.size(dim=None): the shape, or one dim's size.", "dim": "Tensor.dim: the number of dims.",
    "nelement": "Tensor.nelement: the number of elements.", "float": "Tensor.float: as float32.",
    "double": "Tensor.double: as float64.", "half": "Tensor.half: as float16.", "long": "Tensor.long: as int64.",
    "int": "Tensor.int: as int32.", "short": "Tensor.short: as int16.", "char": "Tensor.char: as int8.",
    "byte": "Tensor.byte: as uint8.", "bool": "Tensor.bool: as bool (nonzero is True).",
    "expand_as": "Tensor.expand_as(other): expand to other's shape.",
    "reshape_as": "Tensor.reshape_as(other): reshape to other's shape.",
    "split_with_sizes": "Tensor.split_with_sizes(split_sizes, dim=0): views of the given sizes.",
    "new_ones": "Tensor.new_ones(*size): ones of the tensor's dtype (unless dtype).",
    "new_full": "Tensor.new_full(size, fill_value): the tensor's dtype unless dtype.",
}
for _name, _text in _SUMMARIES.items():
    for _fn in (FUNCTIONS.get(f"torch.{_name}"), METHODS.get(_name)):
        if _fn is not None and not (_fn.__doc__ or "").strip():
            _fn.__doc__ = _text

OPERATORS: dict[str, Callable] = {
    "add": _binary_operator("add", add, operator.add),
    "sub": _binary_operator("sub", sub, operator.sub),
    "mul": _binary_operator("mul", mul, operator.mul),
    "truediv": _binary_operator("truediv", div, operator.truediv),
    "floordiv": _binary_operator("floordiv", _floordiv, operator.floordiv),
    "mod": _binary_operator("mod", _mod, operator.mod),
    "pow": _binary_operator("pow", _pow, operator.pow),
    "matmul": _binary_operator("matmul", matmul, operator.matmul),
    "and_": _M._bitwise_operator("and_", _M.bitwise_and, operator.and_),
    "or_": _M._bitwise_operator("or_", _M.bitwise_or, operator.or_),
    "xor": _M._bitwise_operator("xor", _M.bitwise_xor, operator.xor),
    "eq": _M._compare_operator("eq", _M.eq, operator.eq),
    "ne": _M._compare_operator("ne", _M.ne, operator.ne),
    "lt": _M._compare_operator("lt", _M.lt, operator.lt),
    "le": _M._compare_operator("le", _M.le, operator.le),
    "gt": _M._compare_operator("gt", _M.gt, operator.gt),
    "ge": _M._compare_operator("ge", _M.ge, operator.ge),
    "neg": _neg,
    "pos": _pos,
    "invert": _M._invert,
    "getitem": _getitem,
    "setitem": _setitem,
    "getattr": _getattr,
    "unpack": _unpack,
    "splat": _splat,
    "check": _check,
}
INPLACE_OPERATORS = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_", "xor")
OPERATORS.update({f"i{k.rstrip('_')}": _inplace(f"i{k.rstrip('_')}", OPERATORS[k]) for k in INPLACE_OPERATORS})
