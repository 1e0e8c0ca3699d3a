"""Activation functions beyond the basic ones in core (torch.nn.functional's elu, gelu, silu, softplus, ...),
and the in-place F.<op>_ twins torch.nn.functional has for them and for core's relu, hardtanh and leaky_relu."""

from __future__ import annotations

import math
import numbers
import operator

import numpy  # dtype objects only

from ...errors import NNSpecRuntimeError, ShapeError
from .. import random
from ..kernels import activation as kernels
from ..meta import is_meta
from .core import _data, _inplace_data, _meta, _same_shape, _shape, _softmax_dim, check_float, leaky_relu, relu, softmax
from .core import torch_type_name, wrap_dim

__all__ = [
    "gelu", "elu", "elu_", "selu", "selu_", "celu", "celu_", "glu", "hardshrink", "softshrink", "hardsigmoid",
    "hardswish", "logsigmoid", "mish", "silu", "softplus", "softsign", "tanhshrink", "threshold", "threshold_",
    "rrelu", "rrelu_", "softmin", "relu_", "hardtanh_", "leaky_relu_",
]

# SELU's constants (Klambauer et al., 2017), as torch has them
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

# the C++ type names torch's scalar conversion errors use
_C_TYPES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int8": "int8_t", "uint8": "uint8_t",
            "int16": "int16_t", "int32": "int", "int64": "int64_t"}


# --------------------------------------------------------------------------- argument checks


def _number(op: str, **args) -> None:
    """torch parses each of these as a Scalar: a real number (bool included) that fits 64 bits."""
    for name, v in args.items():
        if not isinstance(v, numbers.Real):
            raise NNSpecRuntimeError(f"{op}(): argument '{name}' must be Number, not {type(v).__name__}")
        if isinstance(v, numbers.Integral) and not -(2**63) <= int(v) < 2**64:
            raise NNSpecRuntimeError(f"{op}(): argument '{name}': int too big to convert")


def _convertible(op: str, x, *values, opmath: bool) -> None:
    """torch converts a scalar to x's dtype, or to its compute type (``opmath``: float32 for float16) where the
    kernel computes in it: a finite value out of that type's range is its overflow error."""
    dt = numpy.dtype(numpy.float32) if opmath and x.dtype == numpy.float16 else numpy.dtype(x.dtype)
    if dt.kind != "f":
        return
    for v in values:
        f = float(v)
        if math.isfinite(f) and abs(f) > float(numpy.finfo(dt).max):
            raise NNSpecRuntimeError(f"{op}: value cannot be converted to type {_C_TYPES[dt.name]} without overflow")


def _int_scalar(op: str, v, dtype) -> int:
    """A scalar as torch converts it to an integer dtype: truncated toward zero, refused out of the type's range
    (an unsigned type takes -max..max, negatives wrapping), then wrapped to the type's bits."""
    info = numpy.iinfo(dtype)
    bad = NNSpecRuntimeError(f"{op}: value cannot be converted to type {_C_TYPES[numpy.dtype(dtype).name]} "
                             "without overflow")
    if isinstance(v, numbers.Integral):
        n = int(v)
        if (info.min < 0 and not info.min <= n <= info.max) or (info.min == 0 and abs(n) > info.max):
            raise bad
    else:
        f = float(v)
        lo = float(info.min) if info.min < 0 else -float(info.max)
        if not math.isfinite(f) or f > float(info.max) or f < lo:  # C++ compares in double
            raise bad
        n = int(f)
    span = 2 ** (8 * numpy.dtype(dtype).itemsize)
    return (n - int(info.min)) % span + int(info.min)


def _no_bool(op: str, x, message: str) -> None:
    if x.dtype == numpy.bool_:
        raise NNSpecRuntimeError(f"{op}: {message}")


def _float_result(x):
    """An integer input made float32 (torch's default dtype), as division and tanh make it."""
    return x if x.dtype.kind == "f" else x.astype(numpy.float32)


# --------------------------------------------------------------------------- ops


def gelu(input, *, approximate="none"):
    x = _data(input)
    if approximate not in ("none", "tanh"):
        raise NNSpecRuntimeError(f"gelu: approximate argument must be either none or tanh, got {approximate!r}")
    check_float("gelu", x)
    return _same_shape(x) if is_meta(x) else kernels.gelu(x, approximate)


def _elu(op: str, input, alpha, scale, input_scale, inplace: bool):
    x = _inplace_data(input, inplace)
    check_float(op, x)
    _convertible(op, x, alpha, scale, input_scale, opmath=True)
    if is_meta(x):
        return _same_shape(x, inplace)
    return kernels.elu(x, alpha, scale, input_scale, inplace)


def elu(input, alpha=1.0, inplace=False):
    _number("elu", alpha=alpha)
    return _elu("elu", input, alpha, 1.0, 1.0, inplace)


def elu_(input, alpha=1.0, scale=1, input_scale=1):
    _number("elu_", alpha=alpha, scale=scale, input_scale=input_scale)
    return _elu("elu_", input, alpha, scale, input_scale, True)


def selu(input, inplace=False):
    return _elu("selu", input, _SELU_ALPHA, _SELU_SCALE, 1.0, inplace)


def selu_(input):
    return _elu("selu_", input, _SELU_ALPHA, _SELU_SCALE, 1.0, True)


def _celu(op: str, input, alpha, inplace: bool):
    _number(op, alpha=alpha)
    if float(alpha) == 0:
        raise NNSpecRuntimeError(f"{op}: ZeroDivisionError: alpha cannot be 0 for CELU")
    return _elu(op, input, alpha, 1.0, 1.0 / float(alpha), inplace)


def celu(input, alpha=1.0, inplace=False):
    return _celu("celu", input, alpha, inplace)


def celu_(input, alpha=1.0):
    return _celu("celu_", input, alpha, True)


def glu(input, dim=-1):
    x = _data(input)
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise NNSpecRuntimeError(f"glu(): argument 'dim' (position 2) must be int, not {type(dim).__name__}")
    if x.ndim == 0:
        raise ShapeError("glu: glu does not support scalars because halving size must be even")
    d = wrap_dim(operator.index(dim), x.ndim, "glu")
    if x.shape[d] % 2 != 0:
        raise ShapeError(f"glu: Halving dimension must be even, but dimension {d} is size {x.shape[d]} "
                         f"(input of size {_shape(x)})")
    check_float("glu", x)
    if is_meta(x):
        return _meta(x.shape[:d] + (x.shape[d] // 2,) + x.shape[d + 1:], x.dtype)
    return kernels.glu(x, d)


def hardshrink(input, lambd=0.5):
    _number("hardshrink", lambd=lambd)
    x = _data(input)
    check_float("hardshrink", x)
    _convertible("hardshrink", x, lambd, opmath=False)
    return _same_shape(x) if is_meta(x) else kernels.hardshrink(x, lambd)


def softshrink(input, lambd=0.5):
    _number("softshrink", lambd=lambd)
    x = _data(input)
    check_float("softshrink", x)
    top = float(numpy.finfo(x.dtype).max)
    if not 0 <= float(lambd) <= top:  # NaN too
        raise NNSpecRuntimeError(f"softshrink: lambda must be in range [0, {top:g}] for input dtype "
                                 f"{torch_type_name(x.dtype)}, but found {float(lambd):g}")
    return _same_shape(x) if is_meta(x) else kernels.softshrink(x, lambd)


def hardsigmoid(input, inplace=False):
    x = _inplace_data(input, inplace)
    check_float("hardsigmoid", x)
    return _same_shape(x, inplace) if is_meta(x) else kernels.hardsigmoid(x, inplace)


def hardswish(input, inplace=False):
    x = _inplace_data(input, inplace)
    check_float("hardswish", x)
    return _same_shape(x, inplace) if is_meta(x) else kernels.hardswish(x, inplace)


def logsigmoid(input):
    x = _data(input)
    check_float("logsigmoid", x)
    return _same_shape(x) if is_meta(x) else kernels.logsigmoid(x)


def mish(input, inplace=False):
    x = _inplace_data(input, inplace)
    check_float("mish", x)
    return _same_shape(x, inplace) if is_meta(x) else kernels.mish(x, inplace)


def silu(input, inplace=False):
    x = _inplace_data(input, inplace)
    check_float("silu", x)
    return _same_shape(x, inplace) if is_meta(x) else kernels.silu(x, inplace)


def softplus(input, beta=1.0, threshold=20.0):
    _number("softplus", beta=beta, threshold=threshold)
    x = _data(input)
    check_float("softplus", x)
    _convertible("softplus", x, beta, threshold, opmath=True)
    return _same_shape(x) if is_meta(x) else kernels.softplus(x, beta, threshold)


def softsign(input):
    """x / (|x| + 1); an integer input gives float32, as torch's division does."""
    x = _data(input)
    _no_bool("softsign", x, "\"abs_cpu\" not implemented for 'Bool'")
    x = _float_result(x)
    return _same_shape(x) if is_meta(x) else kernels.softsign(x)


def tanhshrink(input):
    """x - tanh(x); an integer input gives float32, as torch's tanh does."""
    x = _data(input)
    _no_bool("tanhshrink", x, "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
                              "to invert a mask, use the `~` or `logical_not()` operator instead.")
    x = _float_result(x)
    return _same_shape(x) if is_meta(x) else kernels.tanhshrink(x)


def _threshold(op: str, input, threshold, value, inplace: bool):
    _number(op, threshold=threshold, value=value)
    x = _inplace_data(input, inplace)
    _no_bool(op, x, "\"threshold_cpu\" not implemented for 'Bool'")
    if x.dtype.kind == "f":
        _convertible(op, x, threshold, opmath=True)
        _convertible(op, x, value, opmath=False)
    else:
        threshold, value = _int_scalar(op, threshold, x.dtype), _int_scalar(op, value, x.dtype)
    if is_meta(x):
        return _same_shape(x, inplace)
    return kernels.threshold(x, threshold, value, inplace)


def threshold(input, threshold, value, inplace=False):
    """value where input <= threshold, else input; integer inputs too (the scalars converted to their type)."""
    return _threshold("threshold", input, threshold, value, inplace)


def threshold_(input, threshold, value):
    return _threshold("threshold_", input, threshold, value, True)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """LeakyReLU with a random slope per element in training (uniform(lower, upper), from nnspec's seeded
    generator) and the mean slope (lower + upper) / 2 in eval."""
    _number("rrelu", lower=lower, upper=upper)
    x = _inplace_data(input, inplace)
    if float(lower) > float(upper):
        raise NNSpecRuntimeError(f"rrelu: Lower bound should be less than or equal to the upper bound, got "
                                 f"lower={lower}, upper={upper}")
    if training:
        if x.dtype.kind != "f" or x.dtype == numpy.float16:  # torch's training kernel has no float16
            raise NNSpecRuntimeError(f"rrelu: \"rrelu_with_noise_out_cpu\" not implemented for "
                                     f"'{torch_type_name(x.dtype)}' (input of size {_shape(x)})")
        _convertible("rrelu", x, lower, upper, opmath=True)
    else:
        check_float("rrelu", x)
        _convertible("rrelu", x, (float(lower) + float(upper)) / 2, opmath=True)
    if is_meta(x):
        return _same_shape(x, inplace)
    return kernels.rrelu(x, float(lower), float(upper), bool(training), random.generator() if training else None,
                         inplace)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, True)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-input) along dim (torch's implicit dim, with its warning, where none is given)."""
    x = _data(input)
    if x is None:
        raise NNSpecRuntimeError("softmin: expected an array, got NoneType")
    if dim is None:
        dim = _softmax_dim("softmin", x.ndim, _stacklevel)
    _no_bool("softmin", x, "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return softmax(x if is_meta(x) else -x, dim, _stacklevel, dtype)  # negation keeps the shape and dtype


def relu_(input):
    return relu(input, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """F.hardtanh in place, but as torch's C function: min_val > max_val is not refused (the result is max_val)."""
    _number("hardtanh_", min_val=min_val, max_val=max_val)
    x = _inplace_data(input, True)
    if x.dtype == numpy.bool_:
        raise NNSpecRuntimeError("hardtanh_: Bool inputs not supported for hardtanh")
    _convertible("hardtanh_", x, min_val, max_val, opmath=False)
    return _same_shape(x, True) if is_meta(x) else kernels.hardtanh(x, min_val, max_val, True)


def leaky_relu_(input, negative_slope=0.01):
    x = _data(input)
    check_float("leaky_relu_", x)  # torch's leaky_relu has no integer kernel
    return leaky_relu(x, negative_slope, inplace=True)
