"""Elementwise torch math: unary functions, comparisons, logical and bitwise ops, where/clamp/masked_fill/lerp.

Each op takes torch's arguments, follows torch's result dtype (a float function of an integer or bool
input gives float32; comparisons give bool; Python scalars count only when of a higher category),
checks what torch checks with its message, broadcasts as torch does, and returns a shape-only result
on shape-only input. float16 computes in float32 and stores float16, as torch's CPU kernels do.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy

from ..errors import NNSpecRuntimeError, ShapeError
from .backend import get_array_module
from .functional.core import torch_type_name
from .kernels import special
from .meta import MetaArray, broadcast_shapes, is_meta
from .tensor import (_BOOL, _CPP_TYPE_NAMES, _F32, _array, _as, _as_computed, _broadcast_check, _is_array, _is_scalar,
                     _operands, _out, _pow, _quiet, data_of, promote_types, result_type, write_into)
from .tensor_creation import _number, _UnknownScalar, convert_scalar


def _shape_of(v: Any) -> tuple:
    return () if _is_scalar(v) else tuple(v.shape)


def _broadcast_all(op: str, *values) -> tuple:
    """The broadcast shape of every operand, in order; the first pair that can't broadcast is torch's error."""
    shape: tuple = ()
    for v in values:
        s = _shape_of(v)
        _broadcast_check(op, shape, s)
        shape = broadcast_shapes(shape, s)
    return shape


def _opmath(dtype):
    return _F32 if dtype == numpy.float16 else dtype


def _not_implemented(op: str, kernel: str, dtype) -> NNSpecRuntimeError:
    return NNSpecRuntimeError(f'{op}: "{kernel}" not implemented for \'{torch_type_name(dtype)}\'')


# --------------------------------------------------------------------------- unary


def _float_unary(op: str, input, fn):
    """A floating-point function: integer and bool inputs give float32."""
    x = _array(input, op)
    rt = x.dtype if x.dtype.kind == "f" else _F32
    if is_meta(x):
        return MetaArray(x.shape, rt)
    xp = get_array_module(x)
    with _quiet(xp):
        y = fn(xp, x.astype(_opmath(rt), copy=False))
    return _out(xp, y).astype(rt, copy=False)


def _same_unary(op: str, input, fn, kernel: str | None = None, ints: bool = True):
    """A function whose result keeps the input's dtype; bool (and, without ``ints``, integer) inputs are
    refused with torch's 'not implemented' error for ``kernel``."""
    x = _array(input, op)
    if kernel is not None and (x.dtype == _BOOL or (not ints and x.dtype.kind in "iu")):
        raise _not_implemented(op, kernel, x.dtype)
    if is_meta(x):
        return MetaArray(x.shape, x.dtype)
    xp = get_array_module(x)
    if x.dtype.kind in "biu" and fn is None:
        return x.copy()
    with _quiet(xp):
        y = fn(xp, x.astype(_opmath(x.dtype), copy=False))
    return _out(xp, y).astype(x.dtype, copy=False)


def exp(input, *, out=None):
    return _float_unary("exp", input, lambda xp, x: xp.exp(x))


def exp2(input, *, out=None):
    return _float_unary("exp2", input, lambda xp, x: xp.exp2(x))


def expm1(input, *, out=None):
    return _float_unary("expm1", input, lambda xp, x: xp.expm1(x))


def log(input, *, out=None):
    return _float_unary("log", input, lambda xp, x: xp.log(x))


def log2(input, *, out=None):
    return _float_unary("log2", input, lambda xp, x: xp.log2(x))


def log10(input, *, out=None):
    return _float_unary("log10", input, lambda xp, x: xp.log10(x))


def log1p(input, *, out=None):
    return _float_unary("log1p", input, lambda xp, x: xp.log1p(x))


def sqrt(input, *, out=None):
    return _float_unary("sqrt", input, lambda xp, x: xp.sqrt(x))


def rsqrt(input, *, out=None):
    return _float_unary("rsqrt", input, lambda xp, x: 1 / xp.sqrt(x))


def sin(input, *, out=None):
    return _float_unary("sin", input, lambda xp, x: xp.sin(x))


def cos(input, *, out=None):
    return _float_unary("cos", input, lambda xp, x: xp.cos(x))


def tan(input, *, out=None):
    return _float_unary("tan", input, lambda xp, x: xp.tan(x))


def asin(input, *, out=None):
    return _float_unary("asin", input, lambda xp, x: xp.arcsin(x))


def acos(input, *, out=None):
    return _float_unary("acos", input, lambda xp, x: xp.arccos(x))


def atan(input, *, out=None):
    return _float_unary("atan", input, lambda xp, x: xp.arctan(x))


def sinh(input, *, out=None):
    return _float_unary("sinh", input, lambda xp, x: xp.sinh(x))


def cosh(input, *, out=None):
    return _float_unary("cosh", input, lambda xp, x: xp.cosh(x))


def _erf(x):
    return special.erf(x.reshape(-1)).reshape(x.shape)  # 1-d: the kernel writes into its (non-scalar) result


def erf(input, *, out=None):
    return _float_unary("erf", input, lambda xp, x: _erf(x))


def erfc(input, *, out=None):
    return _float_unary("erfc", input, lambda xp, x: 1 - _erf(x))


def reciprocal(input, *, out=None):
    return _float_unary("reciprocal", input, lambda xp, x: 1 / x)


def abs_(input, *, out=None):
    """torch.abs: integer inputs stay integer; bool has no kernel."""
    return _same_unary("abs", input, lambda xp, x: xp.abs(x), "abs_cpu")


def neg(input, *, out=None):
    x = _array(input, "neg")
    if x.dtype == _BOOL:
        raise NNSpecRuntimeError("neg: Negation, the `-` operator, on a bool tensor is not supported. If you are "
                                 "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return MetaArray(x.shape, x.dtype) if is_meta(x) else _out(get_array_module(x), -x)


def sign(input, *, out=None):
    """torch.sign: -1, 0 or 1 in the input's dtype (NaN gives 0, as on torch's CPU); bool stays bool."""
    x = _array(input, "sign")
    if is_meta(x):
        return MetaArray(x.shape, x.dtype)
    xp = get_array_module(x)
    if x.dtype == _BOOL:
        return x.copy()
    return _out(xp, (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype))


def floor(input, *, out=None):
    return _same_unary("floor", input, lambda xp, x: xp.floor(x) if x.dtype.kind == "f" else x, "floor_vml_cpu")


def ceil(input, *, out=None):
    return _same_unary("ceil", input, lambda xp, x: xp.ceil(x) if x.dtype.kind == "f" else x, "ceil_vml_cpu")


def trunc(input, *, out=None):
    return _same_unary("trunc", input, lambda xp, x: xp.trunc(x) if x.dtype.kind == "f" else x, "trunc_vml_cpu")


def frac(input, *, out=None):
    return _same_unary("frac", input, lambda xp, x: x - xp.trunc(x), "frac_cpu", ints=False)


def round_(input, *, decimals=0, out=None):
    """torch.round: halves to even; ``decimals`` (floating-point input only) scales by 10**decimals first."""
    if isinstance(decimals, bool) or not isinstance(decimals, int):
        raise NNSpecRuntimeError(f"round(): argument 'decimals' must be int, not {type(decimals).__name__}")
    if decimals == 0:
        return _same_unary("round", input, lambda xp, x: xp.round(x) if x.dtype.kind == "f" else x, "round_vml_cpu")

    def fn(xp, x):
        if decimals > 0:
            scale = x.dtype.type(10.0 ** decimals)
            return xp.round(x * scale) / scale
        scale = x.dtype.type(10.0 ** -decimals)
        return xp.round(x / scale) * scale

    return _same_unary("round", input, fn, "round_cpu", ints=False)


def square(input, *, out=None):
    """torch.square: input ** 2 (bool gives int64, as torch's pow does)."""
    return _pow(_array(input, "square"), 2)


def pow_(input, exponent, *, out=None):
    """torch.pow(input, exponent): either may be a Python number (not both)."""
    if not _is_array(input) and not _is_array(exponent):
        raise NNSpecRuntimeError(f"pow(): expected an array, got {type(input).__name__} and {type(exponent).__name__}")
    return _pow(input, exponent)


def positive(input):
    x = _array(input, "positive")
    if x.dtype == _BOOL:
        raise NNSpecRuntimeError("positive: The `+` operator, on a bool tensor is not supported.")
    return x


def _float_test(op: str, otherwise: bool):
    """isnan/isinf/isfinite: NumPy's test of that name on floats; an integer or bool is never NaN or infinite."""
    def test(input):
        x = _array(input, op)
        if is_meta(x):
            return MetaArray(x.shape, _BOOL)
        xp = get_array_module(x)
        return getattr(xp, op)(x) if x.dtype.kind == "f" else (xp.ones if otherwise else xp.zeros)(x.shape,
                                                                                                 dtype=_BOOL)

    test.__name__ = test.__qualname__ = op
    return test


isnan = _float_test("isnan", False)
isinf = _float_test("isinf", False)
isfinite = _float_test("isfinite", True)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """torch.nan_to_num: NaN, +inf and -inf replaced (by 0 and the dtype's largest and lowest by default)."""
    x = _array(input, "nan_to_num")
    for name, v in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, builtins.float))):
            raise NNSpecRuntimeError(f"nan_to_num(): argument '{name}' must be float, not {type(v).__name__}")
    if is_meta(x):
        return MetaArray(x.shape, x.dtype)
    xp = get_array_module(x)
    if x.dtype.kind != "f":
        return x.copy()
    info = numpy.finfo(x.dtype)
    big, low = builtins.float(info.max), builtins.float(info.min)
    values = {"nan": 0.0 if nan is None else builtins.float(nan), "posinf": big if posinf is None else builtins.float(posinf),
              "neginf": low if neginf is None else builtins.float(neginf)}
    with _quiet(xp):
        fill = {k: x.dtype.type(v) for k, v in values.items()}  # an out-of-range value becomes +-inf, as in torch
        y = xp.where(xp.isnan(x), fill["nan"], x)
        y = xp.where(y == numpy.inf, fill["posinf"], y)
        y = xp.where(y == -numpy.inf, fill["neginf"], y)
    return _out(xp, y).astype(x.dtype, copy=False)


# --------------------------------------------------------------------------- binary


def _binary(op: str, a, b, fn, *, out_dtype=None, kinds: str | None = None, kernel: str | None = None):
    """fn(xp, a, b) on the operands cast to their result type; ``out_dtype`` (bool for comparisons) or the
    result type is the result's dtype. ``kinds`` refuses other result types with torch's 'not implemented'."""
    a, b, xp = _operands(op, a, b)
    rt = result_type(a, b)
    if kinds is not None and rt.kind not in kinds:
        raise _not_implemented(op, kernel or f"{op}_cpu", rt)
    shape = _broadcast_all(op, a, b)
    out = rt if out_dtype is None else out_dtype
    if is_meta(a) or is_meta(b):
        return MetaArray(shape, out)
    ct = _opmath(rt)
    with _quiet(xp):
        y = fn(xp, _as_computed(xp, a, rt, ct), _as_computed(xp, b, rt, ct))
    return _out(xp, y).astype(out, copy=False)


def _tensor_other(op: str, other, position: int = 2, name: str = "other"):
    if not _is_array(other):
        raise NNSpecRuntimeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not "
                                 f"{type(other).__name__}")
    return data_of(other)


def _compare(op: str, pyop):
    def compare(input, other, *, out=None):
        _array(input, op)
        if other is None or isinstance(other, str):
            raise NNSpecRuntimeError(f"{op}(): argument 'other' must be Tensor or Number, not {type(other).__name__}")
        return _binary(op, input, other, lambda xp, x, y: pyop(x, y), out_dtype=_BOOL)

    compare.__name__ = compare.__qualname__ = op
    compare.__doc__ = f"torch.{op}: elementwise, in the operands' result type; the result is bool."
    return compare


eq = _compare("eq", lambda x, y: x == y)
ne = _compare("ne", lambda x, y: x != y)
lt = _compare("lt", lambda x, y: x < y)
le = _compare("le", lambda x, y: x <= y)
gt = _compare("gt", lambda x, y: x > y)
ge = _compare("ge", lambda x, y: x >= y)


def _compare_operator(name: str, tensor_op, pyop):
    """``a == b`` and friends: torch's comparison where an operand is an array, Python's otherwise
    (an array compared with None or a string is simply unequal, as in torch)."""
    from .tensor import _python

    def apply(a, b):
        if _is_array(a) or _is_array(b):
            other = b if _is_array(a) else a
            if other is None or isinstance(other, str) or (not _is_array(other) and not _is_scalar(other)):
                if name in ("eq", "ne"):
                    return name == "ne"
                raise NNSpecRuntimeError(f"'{_SYMBOLS[name]}' not supported between an array and "
                                         f"{type(other).__name__}")
            if _is_array(a):
                return tensor_op(a, b)
            return _binary(name, a, b, lambda xp, x, y: pyop(x, y), out_dtype=_BOOL)
        return _python(name, pyop, a, b)

    apply.__name__ = apply.__qualname__ = f"operator_{name}"
    apply.__doc__ = f"Python's ``{_SYMBOLS[name]}`` with torch's semantics where an operand is an array."
    return apply


_SYMBOLS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "and_": "&", "or_": "|",
            "xor": "^"}


def _logical(op: str, fn):
    def logical(input, other, *, out=None):
        _array(input, op)
        _tensor_other(op, other)
        return _binary(op, input, other, lambda xp, x, y: fn(xp, x != 0, y != 0), out_dtype=_BOOL)

    logical.__name__ = logical.__qualname__ = op
    logical.__doc__ = f"torch.{op}: nonzero is true; the result is bool."
    return logical


logical_and = _logical("logical_and", lambda xp, x, y: x & y)
logical_or = _logical("logical_or", lambda xp, x, y: x | y)
logical_xor = _logical("logical_xor", lambda xp, x, y: x ^ y)


def logical_not(input, *, out=None):
    x = _array(input, "logical_not")
    return MetaArray(x.shape, _BOOL) if is_meta(x) else _out(get_array_module(x), x == 0)


def _bitwise(op: str, kernel: str, fn):
    def bitwise(input, other, *, out=None):
        if not _is_array(input) and not _is_array(other):
            raise NNSpecRuntimeError(f"{op}(): expected an array")
        return _binary(op, input, other, fn, kinds="biu", kernel=kernel)

    bitwise.__name__ = bitwise.__qualname__ = op
    bitwise.__doc__ = f"torch.{op}: bool and integer operands only."
    return bitwise


bitwise_and = _bitwise("bitwise_and", "bitwise_and_cpu", lambda xp, x, y: x & y)
bitwise_or = _bitwise("bitwise_or", "bitwise_or_cpu", lambda xp, x, y: x | y)
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor_cpu", lambda xp, x, y: x ^ y)


def bitwise_not(input, *, out=None):
    x = _array(input, "bitwise_not")
    if x.dtype.kind == "f":
        raise _not_implemented("bitwise_not", "bitwise_not_cpu", x.dtype)
    if is_meta(x):
        return MetaArray(x.shape, x.dtype)
    return _out(get_array_module(x), ~x)


def _invert(a):
    """``~a``: logical not of a bool array, bitwise not of an integer one; Python's ``~`` on an int."""
    from .tensor import _python
    import operator

    if not _is_array(a):
        if isinstance(a, builtins.float):
            raise NNSpecRuntimeError("invert: bad operand type for unary ~: 'float'")
        return _python("invert", operator.invert, a)
    x = data_of(a)
    if x.dtype.kind == "f":
        raise NNSpecRuntimeError("invert: ~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return bitwise_not(x)


def _bitwise_operator(name: str, fn, pyop):
    from .tensor import _binary_operator

    apply = _binary_operator(name, fn, pyop)
    apply.__doc__ = f"Python's ``{_SYMBOLS[name]}``: torch's bitwise op where an operand is an array."
    return apply


def maximum(input, other, *, out=None):
    """torch.maximum: both arrays; NaN propagates."""
    _array(input, "maximum")
    _tensor_other("maximum", other)
    return _binary("maximum", input, other, lambda xp, x, y: xp.maximum(x, y))


def minimum(input, other, *, out=None):
    _array(input, "minimum")
    _tensor_other("minimum", other)
    return _binary("minimum", input, other, lambda xp, x, y: xp.minimum(x, y))


def atan2(input, other, *, out=None):
    _array(input, "atan2")
    _tensor_other("atan2", other)
    a, b = data_of(input), data_of(other)
    rt = result_type(a, b)
    rt = rt if rt.kind == "f" else _F32
    return _binary("atan2", a, b, lambda xp, x, y: xp.arctan2(x.astype(_opmath(rt)), y.astype(_opmath(rt))),
                   out_dtype=rt)


def where(condition, input=None, other=None, *, out=None):
    """torch.where(condition, input, other): input where condition holds, else other (either may be a number);
    torch.where(condition) is the indices of its true elements, one array per dim."""
    cond = _array(condition, "where", "condition")
    if input is None and other is None:
        return nonzero(cond, as_tuple=True)
    if input is None or other is None:
        raise NNSpecRuntimeError("where(): expected both input and other (or neither)")
    if cond.dtype != _BOOL:
        raise NNSpecRuntimeError("where expected condition to be a boolean tensor, but got a tensor with dtype "
                                 f"{torch_type_name(cond.dtype)}")
    a, b, xp = _operands("where", input, other)
    xp = get_array_module(cond, *[v for v in (a, b) if not _is_scalar(v)])
    rt = result_type(a, b)
    shape = _broadcast_all("where", cond, a, b)
    if is_meta(cond) or is_meta(a) or is_meta(b):
        return MetaArray(shape, rt)
    return _out(xp, xp.where(cond, _as(xp, a, rt), _as(xp, b, rt)))


def nonzero(input, *, out=None, as_tuple=False):
    """torch.nonzero: the indices of the nonzero elements (an (n, ndim) int64 array, or a tuple of n-long ones)."""
    x = _array(input, "nonzero")
    if is_meta(x):
        from .meta import DataDependentError

        raise DataDependentError("nonzero: how many elements are nonzero depends on the values, which static "
                                 "inference does not know")
    xp = get_array_module(x)
    found = xp.nonzero(x.reshape(1) if x.ndim == 0 else x)
    found = tuple(f.astype(xp.int64) for f in found)
    if as_tuple:
        return found if x.ndim else (found[0],)
    if x.ndim == 0:
        return xp.zeros((int(found[0].size), 0), dtype=xp.int64)
    return xp.stack(found, axis=1) if found else xp.zeros((0, 0), dtype=xp.int64)


def clamp(input, min=None, max=None, *, out=None):
    """torch.clamp: min(max(input, min), max); the bounds are both numbers or both arrays (or None)."""
    return _clamp("clamp", input, min, max)


def clamp_min(input, min):
    return _clamp("clamp_min", input, min, None)


def clamp_max(input, max):
    return _clamp("clamp_max", input, None, max)


def _clamp(op: str, input, lo, hi):
    x = _array(input, op)
    if lo is None and hi is None:
        raise NNSpecRuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    bounds = [v for v in (lo, hi) if v is not None]
    arrays = [_is_array(v) for v in bounds]
    if any(arrays) and not all(arrays):  # torch's Scalar overload: a 0-d array beside a number is a number
        if any(_is_array(v) and data_of(v).ndim for v in bounds):
            raise NNSpecRuntimeError(f"{op}(): the bounds must be both numbers or both arrays")
        lo, hi = (_as_number(v) for v in (lo, hi))
        bounds = [v for v in (lo, hi) if v is not None]
        arrays = [False for _ in bounds]
    for v in bounds:
        if not _is_array(v) and not _is_scalar(v):
            raise NNSpecRuntimeError(f"{op}(): argument 'min' must be Number, not {type(v).__name__}")
    lo = data_of(lo) if _is_array(lo) else lo
    hi = data_of(hi) if _is_array(hi) else hi
    rt = result_type(x, *bounds)
    if rt == _BOOL and (not any(arrays) or len(bounds) == 2):  # one array bound is maximum/minimum, which take bool
        kernel = "clamp_cpu" if any(arrays) else "clamp_scalar_cpu" if lo is not None and hi is not None else \
            "clamp_min_scalar_cpu" if lo is not None else "clamp_max_scalar_cpu"
        raise _not_implemented(op, kernel, rt)
    shape = _broadcast_all(op, x, *[v for v in (lo, hi) if v is not None])
    if is_meta(x, lo, hi):
        return MetaArray(shape, rt)
    xp = get_array_module(x, *[v for v in (lo, hi) if _is_array(v)])
    ct = _opmath(rt)
    y = x.astype(ct, copy=False)
    with _quiet(xp):
        if lo is not None:
            y = xp.maximum(y, _as(xp, lo, ct))
        if hi is not None:
            y = xp.minimum(y, _as(xp, hi, ct))
    return _out(xp, y).astype(rt, copy=False)


def _as_number(v):
    """A 0-d array as the Python number torch's Scalar arguments read it as (its kind, for a shape-only one)."""
    if not _is_array(v):
        return v
    x = data_of(v)
    if is_meta(x):
        return {"b": False, "i": 0, "u": 0}.get(x.dtype.kind, 0.0)
    return x.item()


def masked_fill(input, mask, value):
    """torch.masked_fill: ``value`` (a number or a 0-d array, converted to the input's dtype) where ``mask``
    (bool) is true; input and mask broadcast together."""
    x = _array(input, "masked_fill")
    m, fill = _mask_and_value(x, mask, value)
    shape = _broadcast_all("masked_fill", m, x)
    if is_meta(x, m) or isinstance(fill, _UnknownScalar):
        return MetaArray(shape, x.dtype)
    xp = get_array_module(x, m)
    return _out(xp, xp.where(m, xp.asarray(fill, dtype=x.dtype), x))


def inplace_masked_fill(self, mask, value):
    """Tensor.masked_fill_: in place; the mask must broadcast to the tensor's shape."""
    x = _array(self, "masked_fill_")
    m, fill = _mask_and_value(x, mask, value)
    _broadcast_check("masked_fill_", x.shape, m.shape)
    shape = broadcast_shapes(tuple(x.shape), tuple(m.shape))
    if tuple(shape) != tuple(x.shape):
        raise ShapeError(f"masked_fill_: output with shape {list(x.shape)} doesn't match the broadcast shape "
                         f"{list(shape)}")
    if is_meta(x, m) or isinstance(fill, _UnknownScalar):
        return write_into("masked_fill_", x, MetaArray(x.shape, x.dtype))
    xp = get_array_module(x, m)
    return write_into("masked_fill_", x, xp.where(m, xp.asarray(fill, dtype=x.dtype), x))


def _mask_and_value(x, mask, value):
    m = _array(mask, "masked_fill", "mask")
    if m.dtype != _BOOL:
        raise NNSpecRuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                                 f"{_CPP_TYPE_NAMES.get(str(m.dtype), str(m.dtype))}")
    if _is_array(value):
        v = data_of(value)
        if v.ndim != 0:
            raise NNSpecRuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                                     f"{v.ndim} dimension(s).")
    fill = convert_scalar(_number(value, "masked_fill", "value"), x.dtype, "masked_fill")
    return m, fill


def lerp(input, end, weight, *, out=None):
    """torch.lerp: input + weight * (end - input), floating-point input only; end (and an array weight) of
    the input's dtype."""
    x = _array(input, "lerp")
    e = _tensor_other("lerp", end, 2, "end")
    if x.dtype.kind != "f":
        raise _not_implemented("lerp", "lerp_kernel_scalar" if not _is_array(weight) else "lerp_kernel_tensor",
                               x.dtype)
    if e.dtype != x.dtype:
        raise NNSpecRuntimeError(f"lerp: expected dtype {_CPP_TYPE_NAMES.get(str(x.dtype))} for `end` but got dtype "
                                 f"{_CPP_TYPE_NAMES.get(str(e.dtype))}")
    w = data_of(weight) if _is_array(weight) else weight
    if not _is_array(w) and not _is_scalar(w):
        raise NNSpecRuntimeError(f"lerp(): argument 'weight' must be Number or Tensor, not {type(w).__name__}")
    if _is_array(w) and w.dtype != x.dtype and w.ndim:
        raise NNSpecRuntimeError(f"lerp: expected dtype {_CPP_TYPE_NAMES.get(str(x.dtype))} for `weight` but got "
                                 f"dtype {_CPP_TYPE_NAMES.get(str(w.dtype))}")
    shape = _broadcast_all("lerp", x, e, w)
    if is_meta(x, e, w):
        return MetaArray(shape, x.dtype)
    xp = get_array_module(x, e, *([w] if _is_array(w) else []))
    ct = _opmath(x.dtype)
    a, b = x.astype(ct, copy=False), e.astype(ct, copy=False)
    wt = _as(xp, w, ct)
    with _quiet(xp):
        diff = b - a
        y = xp.where(xp.abs(wt) < 0.5, a + wt * diff, b - diff * (1 - wt))  # torch's two-sided formula
    return _out(xp, y).astype(x.dtype, copy=False)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """torch.addcmul: input + value * tensor1 * tensor2, in the three arrays' result type."""
    x = _array(input, "addcmul")
    t1, t2 = _array(tensor1, "addcmul", "tensor1"), _array(tensor2, "addcmul", "tensor2")
    if not _is_scalar(value):
        raise NNSpecRuntimeError(f"addcmul(): argument 'value' must be Number, not {type(value).__name__}")
    rt = result_type(x, t1, t2)  # a 0-d operand counts only by category, as in any elementwise op
    if rt == _BOOL:
        raise _not_implemented("addcmul", "addcmul_cpu_out", rt)
    shape = _broadcast_all("addcmul", x, t1, t2)
    if is_meta(x, t1, t2):
        return MetaArray(shape, rt)
    xp = get_array_module(x, t1, t2)
    ct = _opmath(rt)
    v = int(value) if rt.kind in "iu" else value
    with _quiet(xp):
        y = _as_computed(xp, x, rt, ct) + _as(xp, v, ct) * _as_computed(xp, t1, rt, ct) * _as_computed(xp, t2, rt, ct)
    return _out(xp, y).astype(rt, copy=False)


# --------------------------------------------------------------------------- in place


def _inplace_method(name: str, fn):
    def method(self, *args, **kwargs):
        x = _array(self, name)
        return write_into(name, x, fn(x, *args, **kwargs))

    method.__name__ = method.__qualname__ = f"inplace_{name.rstrip('_')}"
    method.__doc__ = f"Tensor.{name}: {fn.__name__}, written into the tensor (its dtype and shape kept)."
    return method


def _fill(self, value):
    x = _array(self, "fill_")
    if _is_array(value) and data_of(value).ndim != 0:
        raise NNSpecRuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                                 f"{data_of(value).ndim} dimensions.")
    fill = convert_scalar(_number(value, "fill_", "value"), x.dtype, "fill_")
    if is_meta(x) or isinstance(fill, _UnknownScalar):
        return MetaArray(x.shape, x.dtype)
    return get_array_module(x).full(x.shape, fill, dtype=x.dtype)


def inplace_fill(self, value):
    """Tensor.fill_(value): every element set to value (a number or a 0-d array)."""
    return write_into("fill_", _array(self, "fill_"), _fill(self, value))


def inplace_zero(self):
    """Tensor.zero_(): every element set to 0."""
    return write_into("zero_", _array(self, "zero_"), _fill(self, 0))


__all__ = [
    "abs_", "acos", "addcmul", "asin", "atan", "atan2", "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor",
    "ceil", "clamp", "clamp_max", "clamp_min", "cos", "cosh", "eq", "erf", "erfc", "exp", "exp2", "expm1", "floor",
    "frac", "ge", "gt", "inplace_fill", "inplace_masked_fill", "inplace_zero", "isfinite", "isinf", "isnan", "le",
    "lerp", "log", "log10", "log1p", "log2", "logical_and", "logical_not", "logical_or", "logical_xor", "lt",
    "masked_fill", "maximum", "minimum", "nan_to_num", "ne", "neg", "nonzero", "positive", "pow_", "reciprocal",
    "round_", "rsqrt", "sign", "sin", "sinh", "sqrt", "square", "tan", "trunc", "where",
]
