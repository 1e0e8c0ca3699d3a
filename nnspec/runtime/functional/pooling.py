"""Pooling beyond core's max/avg/adaptive-avg 1d/2d: 3-d pools, adaptive max, LP, fractional max, unpooling.

The checks follow torch's own, in torch's order, with torch's messages (each prefixed by the op's name):
the 3-d pools ATen's pooling_output_shape and pool3d_shape_check, the adaptive max pools their meta
functions, unpooling torch.nn.functional's _unpool_output_size and then ATen's max_unpooling checks.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction

import numpy  # dtype objects only

from ...errors import NNSpecRuntimeError, ShapeError
from .. import random
from ..backend import get_array_module
from ..kernels import pool
from ..kernels import pooling as kernels
from ..meta import is_meta
from .core import (
    _data,
    _fits,
    _int64,
    _meta,
    _shape,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    torch_type_name,
)

__all__ = [
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "max_pool3d",
    "max_pool3d_with_indices",
    "avg_pool3d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d",
    "adaptive_max_pool3d_with_indices",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "fractional_max_pool2d",
    "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
]


def _ints(value) -> tuple:
    """An int argument or a list of them, as the tuple ATen's IntArrayRef sees."""
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _not_implemented(op: str, kernel: str, x, allowed: str) -> None:
    """torch's dispatch error for a dtype its kernel has no loop for ('f': float16/32/64, ...)."""
    ok = {"f": x.dtype.kind == "f", "fi": x.dtype.kind in "fiu",
          "f3264l": str(x.dtype) in ("float32", "float64", "int64")}[allowed]
    if not ok:
        raise NNSpecRuntimeError(f'{op}: "{kernel}" not implemented for \'{torch_type_name(x.dtype)}\' '
                                 f"(input of size {_shape(x)})")


def _cdiv(a, b):
    """C's integer division (toward zero), as ATen computes half a kernel."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


# --------------------------------------------------------------------------- max_pool / avg_pool 3-d


def _pool3d(x, kernel, stride, padding, dilation, ceil_mode: bool, op: str, where: str, avg: bool):
    """ATen's output sizes and pool3d_shape_check for a 4-d or 5-d input: the (N, C, T, H, W) output shape."""
    if x.ndim not in (4, 5):
        raise ShapeError(f"{op}: non-empty 4D or 5D (batch mode) tensor expected for input, but got input of size "
                         f"{_shape(x)}")
    out = []
    for i in range(3):
        k, s, p, d = kernel[i], stride[i], padding[i], dilation[i]
        if s == 0:
            raise NNSpecRuntimeError(f"{op}: stride should not be zero")
        if p < 0:
            raise NNSpecRuntimeError(f"{op}: pad must be non-negative, but got pad: {p}")
        if p > _cdiv((k - 1) * d + 1, 2):
            raise NNSpecRuntimeError(f"{op}: pad should be at most half of effective kernel size, but got pad={p}, "
                                     f"kernel_size={k} and dilation={d}")
        out.append(pool.pool_out_size(x.shape[x.ndim - 3 + i], k, s, p, d, ceil_mode))
    kt, kh, kw = kernel
    if min(kernel) <= 0:
        raise NNSpecRuntimeError(f"{op}: kernel size should be greater than zero, but got kT: {kt} kH: {kh} kW: {kw}")
    if min(stride) <= 0:
        raise NNSpecRuntimeError("{}: stride should be greater than zero, but got dT: {} dH: {} dW: {}"
                                 .format(op, *stride))
    if min(dilation) <= 0:
        raise NNSpecRuntimeError("{}: dilation should be greater than zero, but got dilationT: {} dilationH: {} "
                                 "dilationW: {}".format(op, *dilation))
    for i in range(x.ndim):
        if not (x.ndim == 5 and i == 0) and x.shape[i] == 0:
            raise ShapeError(f"{op}: {where}: Expected input's non-batch dimensions to have positive length, but input "
                             f"has a shape of {_shape(x)} and non-batch dimension {x.shape[i]} has length zero!")
    it, ih, iw = x.shape[-3:]
    if avg and not (it >= kt and ih >= kh and iw >= kw):
        raise ShapeError(f"{op}: input image (T: {it} H: {ih} W: {iw}) smaller than kernel size (kT: {kt} kH: {kh} "
                         f"kW: {kw})")
    pt, ph, pw = padding
    if not (_cdiv(kt, 2) >= pt and _cdiv(kw, 2) >= pw and _cdiv(kh, 2) >= ph):
        raise NNSpecRuntimeError(f"{op}: pad should be smaller than or equal to half of kernel size, but got kT: {kt} "
                                 f"kW: {kw} kH: {kh} padT: {pt} padW: {pw} padH: {ph}")
    c = x.shape[-4]
    if min(out) < 1:
        up = " rounded up" if ceil_mode else ""
        raise ShapeError(f"{op}: Given input size: ({c}x{it}x{ih}x{iw}). Calculated output size: "
                         f"({c}x{out[0]}x{out[1]}x{out[2]}). Output size is too small (output size = (input + "
                         f"2*padding - dilation*(kernel_size - 1) - 1)//stride + 1{up}, "
                         f"with kernel_size={tuple(kernel)}, stride={tuple(stride)}, padding={tuple(padding)}, "
                         f"dilation={tuple(dilation)})")
    return (x.shape[0] if x.ndim == 5 else 1, c) + tuple(out)


def _three(value, message: str, empty: bool = False) -> tuple:
    v = _ints(value)
    if len(v) not in ((0, 1, 3) if empty else (1, 3)):
        raise NNSpecRuntimeError(message)
    return v * 3 if len(v) == 1 else v


def _max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices: bool):
    op = "max_pool3d"
    _int64(op, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)
    x = _data(input)
    kernel = _three(kernel_size, "max_pool3d: kernel_size must either be a single int, or a tuple of three ints")
    stride = _three(() if stride is None else stride,
                    "max_pool3d: stride must either be omitted, a single int, or a tuple of three ints", empty=True)
    stride = stride or kernel
    padding = _three(padding, "max_pool3d: padding must either be a single int, or a tuple of three ints")
    dilation = _three(dilation, "max_pool3d: dilation must be either a single int, or a tuple of three ints")
    shape = _pool3d(x, kernel, stride, padding, dilation, ceil_mode, op, "max_pool3d_with_indices_out_cpu_template()",
                    avg=False)
    if x.dtype.kind == "b":
        _not_implemented(op, "max_pool3d", x, "fi")
    unbatched = x.ndim == 4
    if is_meta(x):
        y = _meta(shape, x.dtype, unbatched)
        return (y, _meta(shape, numpy.int64, unbatched)) if return_indices else y
    _fits(op, shape + (math.prod(kernel),), x.dtype)  # the windows, gathered
    result = pool.max_pool(x[None] if unbatched else x, kernel, stride, padding, dilation, ceil_mode, return_indices)
    if unbatched:
        return tuple(r[0] for r in result) if return_indices else result[0]
    return result


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """max_pool3d's (output, int64 indices), whatever return_indices says (torch.nn.functional's)."""
    return _max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """max_pool1d's (output, int64 indices), whatever return_indices says (torch.nn.functional's)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """max_pool2d's (output, int64 indices), whatever return_indices says (torch.nn.functional's)."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    op = "avg_pool3d"
    _int64(op, kernel_size=kernel_size, stride=stride, padding=padding, divisor_override=divisor_override)
    x = _data(input)
    kernel = _three(kernel_size, "avg_pool3d: kernel_size must be a single int, or a tuple of three ints")
    stride = _three(() if stride is None else stride,
                    "avg_pool3d: stride must be omitted, a single int, or a tuple of three ints", empty=True) or kernel
    padding = _three(padding, "avg_pool3d: padding must be a single int, or a tuple of three ints")
    if divisor_override is not None and divisor_override == 0:
        raise NNSpecRuntimeError(f"{op}: divisor must be not zero")
    shape = _pool3d(x, kernel, stride, padding, (1, 1, 1), ceil_mode, op, "avg_pool3d()", avg=True)
    _not_implemented(op, "avg_pool3d_out_frame", x, "f3264l")
    unbatched = x.ndim == 4
    if is_meta(x):
        return _meta(shape, x.dtype, unbatched)
    _fits(op, shape + (math.prod(kernel),), x.dtype)
    y = pool.avg_pool(x[None] if unbatched else x, kernel, stride, padding, ceil_mode, count_include_pad,
                      divisor_override)
    return y[0] if unbatched else y


# --------------------------------------------------------------------------- adaptive pools


def _with_default(output_size, x, op: str) -> tuple:
    """torch.nn.functional's _list_with_default: None in a list of sizes means the input's own size there."""
    if not isinstance(output_size, (list, tuple)):
        if output_size is None:
            raise NNSpecRuntimeError(f"{op}: object of type 'NoneType' has no len() (output_size None; give an int "
                                     "or a list with None where the input's size is kept)")
        return output_size
    if x.ndim <= len(output_size):
        raise ShapeError(f"{op}: Input dimension should be at least {len(output_size) + 1}")
    return tuple(x.shape[x.ndim - len(output_size) + i] if v is None else v for i, v in enumerate(output_size))


def _empty_dim(x, op: str, prefix: str = "input has sizes", suffix: str = "") -> None:
    for i in range(1, x.ndim):
        if x.shape[i] == 0:
            raise ShapeError(f"{op}: Expected input to have non-zero size for non-batch dimensions, but {prefix} "
                             f"{_shape(x)} with dimension {i} being empty{suffix}")


def adaptive_avg_pool3d(input, output_size):
    op = "adaptive_avg_pool3d"
    x = _data(input)
    out = _with_default(output_size, x, op)
    _int64(op, output_size=out)
    out = _ints(out)
    out = out * 3 if len(out) == 1 else out
    if len(out) != 3:
        raise NNSpecRuntimeError(f"{op}: output_size must be 3")
    if min(out) < 0:
        raise ShapeError(f"{op}: elements of output_size must be greater than or equal to 0 but received "
                         f"{{{out[0]}, {out[1]},{out[2]}}}")
    _empty_dim(x, f"{op}()")
    if x.ndim not in (4, 5):
        raise ShapeError(f"{op}(): Expected 4D or 5D tensor, but got {_shape(x)}")
    _not_implemented(op, "adaptive_avg_pool3d_cpu", x, "f")
    unbatched = x.ndim == 4
    if is_meta(x):
        return _meta((x.shape[0] if not unbatched else 1, x.shape[-4]) + out, x.dtype, unbatched)
    # each dim gathers (out, longest bin) slots, fewer than size + 2 * out of them
    _fits(op, x.shape[:-3] + tuple(s + 2 * o for o, s in zip(out, x.shape[-3:])), x.dtype)
    y = pool.adaptive_avg_pool(x[None] if unbatched else x, out)
    return y[0] if unbatched else y


def _adaptive_max(input, output_size, nd: int):
    op = f"adaptive_max_pool{nd}d"
    x = _data(input)
    if nd == 1:  # torch.adaptive_max_pool1d: no None, then the 2-d op on (N, C, 1, L)
        if output_size is None or (isinstance(output_size, (list, tuple)) and None in output_size):
            raise NNSpecRuntimeError(f"{op}(): argument 'output_size' (position 2) must be tuple of ints, not "
                                     f"{type(output_size).__name__ if output_size is None else 'a list with None'}")
        if not 2 <= x.ndim <= 3:
            raise ShapeError(f"{op}: Expected 2 to 3 dimensions, but got {x.ndim}-dimensional tensor for argument #1 "
                             f"'self' (while checking arguments for adaptive_max_pool1d)")
        _empty_dim(x, f"{op}()")
        out = _ints(output_size)
        if len(out) != 1:
            raise NNSpecRuntimeError(f"{op}() argument 'output_size' should contain one int (got {len(out)})")
    else:
        out = _with_default(output_size, x, op)
        if x.ndim not in (nd + 1, nd + 2):
            raise ShapeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {_shape(x)}")
        _empty_dim(x, f"{op}()")
        out = _ints(out)
        out = out * nd if len(out) == 1 else out
        if len(out) != nd:
            raise NNSpecRuntimeError(f"{op}(): internal error: output_size.size() must be {nd}")
    _int64(op, output_size=out)
    unbatched = x.ndim == nd + 1
    shape = (1 if unbatched else x.shape[0], x.shape[-nd - 1]) + tuple(out)
    if min(out) < 0:
        shown = (x.shape[:-1] + (1,) if nd == 1 else x.shape[:-nd]) + tuple(out)
        raise ShapeError(f"{op}: Trying to create tensor with negative dimension {min(out)}: "
                         f"[{', '.join(map(str, shown))}]")
    _not_implemented(op, "adaptive_max_pool2d" if nd < 3 else "adaptive_max_pool3d_cpu", x, "f")
    if is_meta(x):
        return _meta(shape, x.dtype, unbatched), _meta(shape, numpy.int64, unbatched)
    # each dim gathers (out, longest bin) slots, fewer than size + 2 * out of them
    _fits(op, x.shape[:-nd] + tuple(s + 2 * o for o, s in zip(out, x.shape[-nd:])), x.dtype)
    y, i = kernels.adaptive_max_pool(x[None] if unbatched else x, out)
    return (y[0], i[0]) if unbatched else (y, i)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    y, i = _adaptive_max(input, output_size, 1)
    return (y, i) if return_indices else y


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool1d's (output, int64 indices), whatever return_indices says."""
    return _adaptive_max(input, output_size, 1)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    y, i = _adaptive_max(input, output_size, 2)
    return (y, i) if return_indices else y


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool2d's (output, int64 indices), whatever return_indices says."""
    return _adaptive_max(input, output_size, 2)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    y, i = _adaptive_max(input, output_size, 3)
    return (y, i) if return_indices else y


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool3d's (output, int64 indices), whatever return_indices says."""
    return _adaptive_max(input, output_size, 3)


# --------------------------------------------------------------------------- LP pools


def _norm(op: str, norm_type):
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real):
        raise NNSpecRuntimeError(f"{op}: norm_type must be an int or a float, got {type(norm_type).__name__}")
    return norm_type


def _lp_pool(x, norm_type, kernel_size, stride, ceil_mode, nd: int, op: str, pooled):
    """torch's lp_pool: the max pool of |x| for norm_type inf (-inf: minus that of -|x|), else the average
    pool of x ** p, then (sign * relu(abs) * kernel size) ** (1 / p)."""
    p = _norm(op, norm_type)
    if nd == 1:
        if isinstance(kernel_size, (list, tuple)):  # torch multiplies by kernel_size itself
            raise NNSpecRuntimeError(f"{op}: mul(): argument 'other' (position 1) must be Tensor, not "
                                     f"{type(kernel_size).__name__} (lp_pool1d's kernel_size must be an int)")
        size = kernel_size
    else:
        k = _ints(kernel_size)
        k = k * nd if len(k) == 1 and not isinstance(kernel_size, (list, tuple)) else k
        if len(k) != nd:
            word = "too many" if len(k) > nd else "not enough"
            got = "" if len(k) > nd else f", got {len(k)}"
            raise NNSpecRuntimeError(f"{op}: {word} values to unpack (expected {nd}{got}) (kernel_size {kernel_size})")
        size = math.prod(k)
    if p == math.inf or p == -math.inf:
        a = abs(x) if p > 0 else -abs(x)
        y = pooled["max"](a, kernel_size, stride, 0, 1, ceil_mode)
        return y if p > 0 else -y
    if p == 0:
        raise NNSpecRuntimeError(f"{op}: float division by zero (norm_type 0)")
    if x.dtype.kind not in "fiu":
        raise NNSpecRuntimeError(f"{op}: not implemented for '{torch_type_name(x.dtype)}' (input of size {_shape(x)})")
    if x.dtype.kind in "iu" and isinstance(p, int) and p < 0:
        raise NNSpecRuntimeError(f"{op}: Integers to negative integer powers are not allowed.")
    if is_meta(x):
        powered = x.astype(numpy.float32) if x.dtype.kind != "f" and not isinstance(p, int) else _meta(x.shape, x.dtype)
    else:
        powered = kernels.lp_power(x, p)
    out = pooled["avg"](powered, kernel_size, stride, 0, ceil_mode) if stride is not None \
        else pooled["avg"](powered, kernel_size, padding=0, ceil_mode=ceil_mode)
    if is_meta(out):
        return _meta(out.shape, out.dtype if out.dtype.kind == "f" else numpy.float32)
    return kernels.lp_root(out, size, p)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(_data(input), norm_type, kernel_size, stride, ceil_mode, 1, "lp_pool1d",
                    {"max": max_pool1d, "avg": avg_pool1d})


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(_data(input), norm_type, kernel_size, stride, ceil_mode, 2, "lp_pool2d",
                    {"max": max_pool2d, "avg": avg_pool2d})


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(_data(input), norm_type, kernel_size, stride, ceil_mode, 3, "lp_pool3d",
                    {"max": max_pool3d, "avg": avg_pool3d})


# --------------------------------------------------------------------------- fractional max pools


def _ratio_size(size, ratio: float):
    """int(size * ratio) as torch computes it in floating point; a symbolic size scales by the fraction
    with the smallest denominator that is the ratio as a float (0.5 is 1/2)."""
    if isinstance(size, int):
        return int(size * float(ratio))
    f = float(ratio)
    frac = Fraction(f).limit_denominator(2**20)
    if float(frac) != f:
        frac = Fraction(f)
    return (size * frac.numerator) // frac.denominator


def _fractional(input, kernel_size, output_size, output_ratio, _random_samples, nd: int):
    op = f"fractional_max_pool{nd}d"
    x, samples = _data(input), _data(_random_samples)
    if output_size is None and output_ratio is None:
        raise NNSpecRuntimeError(f"{op} requires specifying either an output_size or an output_ratio")

    def size(dim: int):  # input.size(dim), dim < 0
        if -dim > x.ndim:
            raise ShapeError(f"{op}: Dimension out of range (expected to be in range of [{-x.ndim}, {x.ndim - 1}], "
                             f"but got {dim})")
        return x.shape[dim]

    if output_size is None:
        if nd == 2 and not isinstance(output_ratio, (list, tuple)):  # torch takes len() of it first
            raise NNSpecRuntimeError(f"{op}: object of type '{type(output_ratio).__name__}' has no len() (give "
                                     "output_ratio as a list of 2)")
        ratio = tuple(output_ratio) if isinstance(output_ratio, (list, tuple)) else (output_ratio,) * nd
        if nd == 2 and len(ratio) > 2:
            raise NNSpecRuntimeError(f"{op} requires output_ratio to either be a single Int or tuple of Ints.")
        if len(ratio) != nd:
            raise NNSpecRuntimeError(f"{op}: tuple index out of range (output_ratio {output_ratio}: give a number "
                                     f"or a list of {nd})")
        output_size = [_ratio_size(size(i - nd), ratio[i]) for i in range(nd)]
    if samples is None:
        size(-nd - 1)
    kernel, out = _ints(kernel_size), _ints(output_size)
    kernel = kernel * nd if len(kernel) == 1 else kernel
    out = out * nd if len(out) == 1 else out
    _int64(op, kernel_size=kernel, output_size=out)
    where = op + ("()" if nd == 2 else "_out()")
    if len(kernel) != nd:
        raise NNSpecRuntimeError(f"{op}: kernel_size must either be a single Int or tuple of Ints")
    if len(out) != nd:
        raise NNSpecRuntimeError(f"{op}: output_size must either be a single Int or tuple of Ints")
    if x.ndim not in (nd + 1, nd + 2):
        raise ShapeError(f"{where}: Expected {nd + 1}D or {nd + 2}D tensor, but got: {_shape(x)}")
    for i in range(1, x.ndim):
        if x.shape[i] == 0:
            raise ShapeError(f"{where}: Expected input to have non-zero size for non-batch dimensions, but got"
                             f"{_shape(x)} with dimension {i} being empty.")
    if min(kernel) <= 0:  # torch takes windows of no element (reading nothing, index past the input): refused
        raise NNSpecRuntimeError(f"{op}: kernel_size must be greater than 0, but got {tuple(kernel)}")
    unbatched = x.ndim == nd + 1
    n, c = (1 if unbatched else x.shape[0]), x.shape[-nd - 1]
    spatial = x.shape[-nd:]
    names = ("height", "width") if nd == 2 else ("time", "height", "width")
    for i in (0, 1) if nd == 2 else (0, 2, 1):  # torch's order: 3-d checks the width before the height
        fits = out[i] + kernel[i] - 1 <= spatial[i] if nd == 2 else out[i] + kernel[i] - 1 < spatial[i]
        if not fits:
            raise ShapeError(f"{where}: pool {names[i]} {kernel[i]} too large relative to input {names[i]} "
                             f"{spatial[i]} (output {tuple(out)}, kernel {tuple(kernel)}, input of size {_shape(x)})")
    if min(out) < 0:
        raise ShapeError(f"{op}: Trying to create tensor with negative dimension {min(out)}: "
                         f"[{', '.join(map(str, x.shape[:-nd] + tuple(out)))}]")
    if samples is not None:
        if samples.ndim != 3:
            raise ShapeError(f"{op}: Expect _random_samples to have 3 dimensions, got {samples.ndim}")
        if samples.shape[0] < n:
            raise ShapeError(f"{op}: Expect _random_samples.size(0) no less then input batch size. (_random_samples "
                             f"of size {_shape(samples)}, input of size {_shape(x)})")
        if samples.shape[1] != c:
            raise ShapeError(f"{op}: Expect _random_samples.size(1) equals to input channel size. (_random_samples "
                             f"of size {_shape(samples)}, input of size {_shape(x)})")
        if samples.shape[2] != nd:
            raise ShapeError(f"{op}: Expect _random_samples.size(2) equals to {nd}; got {samples.shape[2]}.")
        if samples.dtype != x.dtype:
            raise NNSpecRuntimeError(f"{op}: Expect _random_samples to have the same dtype as input (_random_samples "
                                     f"{samples.dtype}, input {x.dtype})")
    _not_implemented(op, f"fractional_max_pool{nd}d_out_frame", x, "f")
    shape = (n, c) + tuple(out)
    if is_meta(x):
        return _meta(shape, x.dtype, unbatched), _meta(shape, numpy.int64, unbatched)
    _fits(op, (n, c) + tuple(spatial[:-1]) + (out[-1] * kernel[-1],), x.dtype)  # the first dim's windows
    if samples is None:  # torch.rand(N, C, nd) in the input's dtype, one draw per call
        samples = kernels.random_samples(random.generator(), (n, c, nd), x.dtype)
    samples = get_array_module(x).asarray(samples)  # host draws go to the input's device
    y, i = kernels.fractional_max_pool(x[None] if unbatched else x, kernel, out, samples)
    return (y[0], i[0]) if unbatched else (y, i)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    y, i = _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 2)
    return (y, i) if return_indices else y


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """fractional_max_pool2d's (output, int64 indices), whatever return_indices says."""
    return _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 2)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    y, i = _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 3)
    return (y, i) if return_indices else y


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """fractional_max_pool3d's (output, int64 indices), whatever return_indices says."""
    return _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 3)


# --------------------------------------------------------------------------- unpooling


def _unpool_output_size(op: str, x, kernel, stride, padding, output_size) -> tuple:
    """torch.nn.functional's _unpool_output_size: (in - 1) * stride + kernel - 2 * padding per dim, or the
    given size (the spatial dims, or all of them) when it is within a stride of that."""
    nd = len(kernel)
    if x.ndim < nd:
        raise ShapeError(f"{op}: input of size {_shape(x)} has fewer dims than the kernel {tuple(kernel)}")
    default = [(x.shape[x.ndim - nd + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(nd)]
    if output_size is None:
        ret = default
    else:
        if not isinstance(output_size, (list, tuple)) and not hasattr(output_size, "__len__"):
            raise NNSpecRuntimeError(f"{op}: object of type '{type(output_size).__name__}' has no len() "
                                     "(output_size must be a list of sizes)")
        sizes = list(output_size)
        if len(sizes) == nd + 2:
            sizes = sizes[2:]
        if len(sizes) != nd:
            raise NNSpecRuntimeError(f"{op}: output_size should be a sequence containing {nd} or {nd + 2} elements, "
                                     f"but it has a length of '{len(sizes)}'")
        for d in range(nd):
            low, high = default[d] - stride[d], default[d] + stride[d]
            if not low < sizes[d] < high:
                raise ShapeError(f'{op}: invalid output_size "{_shown(output_size)}" (dim {d} must be between {low} '
                                 f"and {high})")
        ret = sizes
    for d in range(nd):
        if ret[d] < 0:
            raise ShapeError(f"{op}: max_unpooling: output_size must contain non-negative spatial dimensions, but got "
                             f"output_size[{d}]={ret[d]}")
    return tuple(ret)


def _shown(sizes) -> str:
    """A size list as torch's message prints it: a list as [a, b], a tuple as (a, b)."""
    if isinstance(sizes, tuple):
        return f"({sizes[0]},)" if len(sizes) == 1 else "(" + ", ".join(map(str, sizes)) + ")"
    return "[" + ", ".join(map(str, sizes)) + "]"


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, nd: int):
    op = f"max_unpool{nd}d"
    x, idx = _data(input), _data(indices)
    _int64(op, kernel_size=kernel_size, stride=stride, padding=padding)
    kernel = _ints(kernel_size)
    kernel = kernel * nd if len(kernel) == 1 else kernel
    stride = kernel if stride is None else _ints(stride)
    stride = stride * nd if len(stride) == 1 else stride
    padding = _ints(padding)
    padding = padding * nd if len(padding) == 1 else padding
    if not len(kernel) == len(stride) == len(padding) == nd:
        raise NNSpecRuntimeError(f"{op}: kernel_size, stride and padding must be an int or a list of {nd}, got "
                                 f"{kernel_size}, {stride} and {padding}")
    out = _unpool_output_size(op, x, kernel, stride, padding, output_size)
    if idx is None:
        raise NNSpecRuntimeError(f"{op}: expected an array of indices, got None")
    # ATen's checks, on the input as its 2-d or 3-d op sees it (max_unpool1d is the 2-d op on (..., L, 1))
    aten = 3 if nd == 3 else 2
    xs, ids = (x.shape + (1,), idx.shape + (1,)) if nd == 1 else (x.shape, idx.shape)
    shown = (lambda s: "[" + ", ".join(map(str, s)) + "]")
    if idx.dtype != numpy.int64:
        extra = "" if aten == 3 else f" but got: {torch_type_name(idx.dtype)}"
        raise NNSpecRuntimeError(f"{op}: elements in indices should be type int64{extra}")
    if len(xs) not in (aten + 1, aten + 2):
        lo, hi = ("3d", "4d") if aten == 2 else ("4d", "5d")
        raise ShapeError(f"{op}: Input to max_unpooling{aten}d should be a {lo} or {hi} Tensor, but got a tensor with "
                         f"{len(xs)} dimensions.")
    if tuple(xs) != tuple(ids):
        raise ShapeError(f"{op}: Expected shape of indices to be same as that of the input tensor ({shown(xs)}) "
                         f"but got indices tensor with shape: {shown(ids)}")
    for i in range(1, len(xs)):
        if xs[i] == 0:
            raise ShapeError(f"{op}: max_unpooling{aten}d_forward_out_cpu(): Expected input to have non-zero size for "
                             f"non-batch dimensions, but got {shown(xs)} with dimension {i} being empty.")
    if nd == 3 and min(stride) <= 0:
        raise NNSpecRuntimeError(f"{op}: strides should be greater than zero, but got stride: {shown(stride)}")
    _not_implemented(op, f"max_unpool{aten}d", x, "f")
    unbatched = x.ndim == nd + 1
    shape = (1 if unbatched else x.shape[0], x.shape[-nd - 1]) + out
    if is_meta(x, idx):
        return _meta(shape, x.dtype, unbatched)
    size = math.prod(out)
    bad = (idx < 0) | (idx >= size)
    if bool(bad.any()):
        value = int(idx.reshape(-1)[bad.reshape(-1).argmax()])
        volume = "x".join(map(str, out + ((1,) if nd == 1 else ())))
        raise NNSpecRuntimeError(f"{op}: Found an invalid max index: {value} (output volumes are of size {volume})")
    _fits(op, shape, x.dtype)
    y = kernels.max_unpool(x[None] if unbatched else x, idx[None] if unbatched else idx, out)
    return y[0] if unbatched else y


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3)

