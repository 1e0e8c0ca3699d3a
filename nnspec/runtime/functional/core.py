"""The first functional ops (convolution, pooling, linear, dropout, vision, batch norm, the basic
activations, softmax) and the helpers every family of ops shares: argument checks, unbatched
input, shape-only results, dtype names.
"""

from __future__ import annotations

import math
import numbers
import operator
from fractions import Fraction
import warnings
from collections.abc import Sequence
from typing import Any

import numpy  # dtype objects only; array math goes through get_array_module

from ...errors import NNSpecRuntimeError, ShapeError
from ...nn.parameter import Parameter
from ...resources import available_memory
from ..meta import MetaArray, is_meta, write_target
from ..kernels import activation, conv, interpolate as _interp, linear as _linear
from ..kernels import norm, pool, shuffle
from ..kernels import softmax as _softmax
from ..kernels.window import conv_out_size, pad as _pad


# what a forward may call as F.<name> (the families add theirs: functional/__init__.py)
OPS = (
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "linear",
    "bilinear",
    "dropout",
    "dropout2d",
    "pixel_shuffle",
    "interpolate",
    "batch_norm",
    "relu",
    "relu6",
    "hardtanh",
    "leaky_relu",
    "prelu",
    "pad",
    "softmax",
    "log_softmax",
    "sigmoid",
    "tanh",
)
__all__ = [
    "data_of",
    "ntuple",
    "wrap_dim",
    "as_dtype",
    "TORCH_TYPE_NAMES",
    "torch_type_name",
    "check_float",
    "conv_padding",
    "pool_args",
    "adaptive_out",
    "INTERPOLATE_MODES",
    *OPS,
]


def data_of(x: Any) -> Any:
    """The array behind a Parameter (or the array itself); anything else is a clear error."""
    if isinstance(x, Parameter):
        return x.data
    if x is not None and not (hasattr(x, "shape") and hasattr(x, "dtype")):
        hint = " (a layer with return_indices=True returns (output, indices))" if isinstance(x, tuple) else ""
        raise NNSpecRuntimeError(f"expected an array, got {type(x).__name__}{hint}")
    return x


_data = data_of


def ntuple(value: Any, n: int) -> tuple:
    """torch's _ntuple: an int becomes n copies; a sequence is kept as a tuple."""
    if isinstance(value, (list, tuple)):
        return tuple(value) * n if len(value) == 1 else tuple(value)  # ATen expands a one-element list
    return (value,) * n


def _shape(x) -> str:
    return "[" + ", ".join(str(s) for s in x.shape) + "]"


def _int64(op: str, **args: Any) -> None:
    """torch parses sizes, strides, paddings and dilations as int64: a larger int is its overflow error."""
    for name, value in args.items():
        for v in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(v, int) and not -(2**63) <= v < 2**63:
                raise NNSpecRuntimeError(f"{op}(): argument '{name}' overflows a 64-bit integer, got {v}")


def _fits(op: str, shape: Sequence[int], dtype) -> None:
    """Refuse an array that can't fit in the memory free now, before making it (torch's allocator fails the
    same way): sizes come from a model file's hyperparameters, and a half-made huge array is an OOM kill."""
    nbytes = math.prod(int(s) for s in shape) * numpy.dtype(dtype).itemsize
    free = available_memory()
    if free is not None and nbytes > free:
        raise NNSpecRuntimeError(f"{op}: out of memory: an array of size {list(shape)} needs {nbytes:,} bytes; "
                                 f"{free:,} are free")


def wrap_dim(dim: Any, ndim: int, op: str) -> int:
    """torch's maybe_wrap_dim: ``dim`` in [-ndim, ndim - 1] (a 0-d tensor counts as 1-d) as an index >= 0."""
    if isinstance(dim, bool):
        raise NNSpecRuntimeError(f"{op}: dim must be an int, got bool")
    try:
        d = operator.index(dim)
    except TypeError:
        raise NNSpecRuntimeError(f"{op}: dim must be an int, got {type(dim).__name__}") from None
    n = max(ndim, 1)
    if not -n <= d < n:
        raise ShapeError(f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    if ndim == 0:
        return 0
    return d + n if d < 0 else d


# torch's dtype names (``torch.long`` is int64, ``torch.int`` int32) beside numpy's
_TORCH_DTYPES = {
    "float16": "float16", "half": "float16", "float32": "float32", "float": "float32",
    "float64": "float64", "double": "float64", "int8": "int8", "uint8": "uint8",
    "int16": "int16", "short": "int16", "int32": "int32", "int": "int32",
    "int64": "int64", "long": "int64", "bool": "bool",
}


def as_dtype(dtype: Any):
    """A numpy dtype (None stays None) from a torch dtype, a name ("float64", "torch.long") or a numpy dtype."""
    if dtype is None:
        return None
    if type(dtype).__module__.split(".")[0] == "torch":  # a torch.dtype, read by name; torch is never imported
        dtype = str(dtype)
    if isinstance(dtype, str):
        name = dtype.removeprefix("torch.")
        if name not in _TORCH_DTYPES:
            raise NNSpecRuntimeError(f"unknown dtype {dtype!r}; expected one of {', '.join(sorted(_TORCH_DTYPES))}")
        return numpy.dtype(_TORCH_DTYPES[name])
    try:
        return numpy.dtype(dtype)
    except TypeError:
        raise NNSpecRuntimeError(f"unknown dtype {dtype!r}") from None


# torch's ScalarType names, for messages
TORCH_TYPE_NAMES = {
    "float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "uint8": "Byte",
    "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool",
}


def torch_type_name(dtype) -> str:
    return TORCH_TYPE_NAMES.get(str(dtype), str(dtype))


def _meta(shape: Sequence, dtype, unbatched: bool = False) -> MetaArray:
    """An op's result on shape-only (meta) input: the shape its shape rule computed, and no kernel run."""
    return MetaArray(tuple(shape)[1:] if unbatched else tuple(shape), dtype)


def _batched(x, nd: int, op: str):
    """Add the batch dim to an unbatched (C, *S) input; returns (x, was_unbatched)."""
    if x.ndim == nd + 1:
        return x[None], True
    if x.ndim == nd + 2:
        return x, False
    raise ShapeError(
        f"{op}: expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input, but got input of size: {_shape(x)}"
    )


# --------------------------------------------------------------------------- convolution


def _param_dtypes(op: str, x, *params) -> None:
    """torch's CPU norms take parameters of the input's dtype, or float32 ones with a float16 input (mixed type);
    anything else is its 'mixed dtype' error."""
    for t in params:
        if t is None or t.dtype == x.dtype or (x.dtype == numpy.float16 and t.dtype == numpy.float32):
            continue
        if x.dtype == numpy.float64 and t.dtype == numpy.float32:
            raise NNSpecRuntimeError(f"{op}: mixed dtype (CPU): all inputs must share same datatype. (input "
                                     f"{x.dtype}, parameter {t.dtype})")
        raise NNSpecRuntimeError(f"{op}: mixed dtype (CPU): expect parameter to have scalar type of Float (input "
                                 f"{x.dtype}, parameter {t.dtype})")


def _same_dtype(op: str, x, w) -> None:
    """torch refuses mixed dtypes ("expected both inputs to have same dtype"); so does nnspec."""
    if w is not None and x.dtype != w.dtype:
        if x.dtype.kind != "f":  # integer inputs keep their dtype (token ids): this one reached a float layer
            raise NNSpecRuntimeError(f"{op}: input dtype {x.dtype} does not match the weight dtype {w.dtype}; "
                                     f"this layer takes floating-point input (convert the input to {w.dtype})")
        raise NNSpecRuntimeError(
            f"{op}: input dtype {x.dtype} does not match the weight dtype {w.dtype}; "
            f"convert the input or the model (model.to('{x.dtype}'))"
        )


def _conv(x, weight, bias, stride, padding, dilation, groups, nd: int, op: str):
    _int64(op, stride=stride, padding=padding, dilation=dilation, groups=groups)
    x, w, b = _data(x), _data(weight), _data(bias)
    _same_dtype(op, x, w)
    x, unbatched = _batched(x, nd, op)
    stride, dilation = ntuple(stride, nd), ntuple(dilation, nd)
    _weight_groups(op, w, groups)
    if x.shape[1] != w.shape[1] * groups:
        raise ShapeError(
            f"{op}: Given groups={groups}, weight of size {_shape(w)}, expected input{_shape(x)} to have "
            f"{w.shape[1] * groups} channels, but got {x.shape[1]} channels instead"
        )
    _bias_size(op, w, b, w.shape[0], f"groups={groups}")
    pads = conv_padding(padding, w.shape[2:], stride, dilation)
    padded = x.shape[:2] + tuple(s + a + b_ for s, (a, b_) in zip(x.shape[2:], pads))
    dilated = [dilation[i] * (w.shape[2 + i] - 1) + 1 for i in range(nd)]  # the kernel's extent, torch's "size"
    if any(padded[2 + i] < dilated[i] for i in range(nd)):
        raise ShapeError(
            f"{op}: Calculated padded input size per channel: ({' x '.join(map(str, padded[2:]))}). Kernel size: "
            f"({' x '.join(map(str, dilated))}). Kernel size can't be greater than actual input size"
        )
    out = tuple(conv_out_size(padded[2 + i], w.shape[2 + i], stride[i], 0, dilation[i]) for i in range(nd))
    if is_meta(x):
        return _meta((x.shape[0], w.shape[0]) + out, x.dtype, unbatched)
    _fits(op, padded, x.dtype)
    _fits(op, (x.shape[0], *out, x.shape[1] * math.prod(w.shape[2:])), x.dtype)  # the im2col columns
    y = conv.conv(_pad(x, pads), w, b, stride, dilation, groups)
    return y[0] if unbatched else y


def _bias_size(op: str, w, b, out: int, what: str) -> None:
    """torch's check of the bias: one value per output channel."""
    if b is not None and (b.ndim != 1 or b.shape[0] != out):
        raise ShapeError(f"{op}: Given {what}, weight of size {_shape(w)}, expected bias to be 1-dimensional with {out} "
                         f"elements, but got bias of size {_shape(b)} instead")


def _weight_groups(op: str, w, groups) -> None:
    """torch's check that the groups split the weight's first dim (out channels; in channels transposed)."""
    if groups <= 0:
        raise NNSpecRuntimeError(f"{op}: non-positive groups is not supported, got groups={groups}")
    if w.shape[0] % groups:
        raise ShapeError(f"{op}: Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                         f"but got weight of size [{_shape(w)}] instead")


def conv_padding(padding, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]) -> list[tuple[int, int]]:
    """(before, after) pairs per spatial dim for an int, a tuple, 'valid' or 'same'."""
    nd = len(kernel)
    if padding == "valid":
        return [(0, 0)] * nd
    if padding == "same":
        if any(s != 1 for s in stride):
            raise NNSpecRuntimeError("padding='same' is not supported for strided convolutions")
        pairs = []
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)
            pairs.append((total // 2, total - total // 2))
        return pairs
    return [(p, p) for p in ntuple(padding, nd)]


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def _conv_transpose(x, weight, bias, stride, padding, output_padding, groups, dilation, nd: int, op: str):
    _int64(op, stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)
    x, w, b = _data(x), _data(weight), _data(bias)
    _same_dtype(op, x, w)
    x, unbatched = _batched(x, nd, op)
    _weight_groups(op, w, groups)
    if x.shape[1] != w.shape[0]:
        raise ShapeError(
            f"{op}: Given transposed=1, weight of size {_shape(w)}, expected input{_shape(x)} to have "
            f"{w.shape[0]} channels, but got {x.shape[1]} channels instead"
        )
    _bias_size(op, w, b, w.shape[1] * groups, "transposed=1")
    if any(s == 0 for s in x.shape[2:]):  # torch's kernel: empty inputs only by batch or channel
        raise ShapeError(f"{op}: Only zero batch or zero channel inputs are supported, but got input shape: "
                         f"{_shape(x)}")
    stride, padding = ntuple(stride, nd), ntuple(padding, nd)
    output_padding, dilation = ntuple(output_padding, nd), ntuple(dilation, nd)
    for i in range(nd):
        if output_padding[i] >= max(stride[i], dilation[i]):
            raise NNSpecRuntimeError(
                f"{op}: output padding must be smaller than either stride or dilation, but got "
                f"output_padding={output_padding}, stride={stride}, dilation={dilation}"
            )
    out = tuple((x.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (w.shape[2 + i] - 1)
                + output_padding[i] + 1 for i in range(nd))
    if any(s <= 0 for s in out):
        # torch's kernels disagree on an empty output (oneDNN returns one, the native path refuses); refuse it
        raise ShapeError(
            f"{op}: given input size per channel: {tuple(x.shape[2:])}, calculated output size per channel: {out}; "
            "output size is too small"
        )
    if is_meta(x):
        return _meta((x.shape[0], w.shape[1] * groups) + out, x.dtype, unbatched)
    dilated = [(s - 1) * st + 1 + 2 * max(d * (k - 1) - p, 0) + op_
               for s, st, d, k, p, op_ in zip(x.shape[2:], stride, dilation, w.shape[2:], padding, output_padding)]
    _fits(op, x.shape[:2] + tuple(dilated), x.dtype)  # the zero-dilated, padded input
    _fits(op, (x.shape[0], *out, x.shape[1] * math.prod(w.shape[2:])), x.dtype)  # its im2col columns
    y = conv.conv_transpose(x, w, b, stride, padding, output_padding, dilation, groups)
    return y[0] if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1, "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2, "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3, "conv_transpose3d")


# --------------------------------------------------------------------------- pooling


def _pool_sizes(x, kernel, stride, padding, dilation, ceil_mode, op: str):
    nd = len(kernel)
    for i in range(nd):
        if padding[i] > kernel[i] // 2:  # torch compares with the kernel, not the dilated one
            raise NNSpecRuntimeError(
                f"{op}: pad should be at most half of kernel size, but got pad={padding[i]}, kernel_size={kernel[i]}"
            )
    out = tuple(
        pool.pool_out_size(x.shape[2 + i], kernel[i], stride[i], padding[i], dilation[i], ceil_mode) for i in range(nd)
    )
    if any(o < 1 for o in out):
        raise ShapeError(
            f"{op}: given input size: ({'x'.join(map(str, x.shape[1:]))}). Calculated output size: "
            f"({'x'.join(map(str, (x.shape[1],) + out))}). Output size is too small (output size = "
            f"(input + 2*padding - dilation*(kernel_size - 1) - 1)//stride + 1{' rounded up' if ceil_mode else ''}, "
            f"with kernel_size={kernel}, stride={stride}, padding={padding}, dilation={dilation})"
        )
    if not is_meta(x):
        _fits(op, x.shape[:2] + out + (math.prod(kernel),), x.dtype)  # the windows, gathered
    return x.shape[:2] + out


def pool_args(kernel_size, stride, padding, dilation, nd: int) -> tuple[tuple, tuple, tuple, tuple]:
    """A pooling op's (kernel, stride, padding, dilation) as nd-tuples; no stride means the kernel's."""
    kernel = ntuple(kernel_size, nd)
    stride = kernel if stride is None or stride == [] or stride == () else ntuple(stride, nd)
    return kernel, stride, ntuple(padding, nd), ntuple(dilation, nd)


def adaptive_out(x_shape: Sequence[int], output_size, nd: int) -> tuple:
    """An adaptive pool's output size, None meaning the input's own size in that dim."""
    out = ntuple(output_size, nd)
    return tuple(x_shape[-nd + i] if o is None else o for i, o in enumerate(out))


def _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd: int, op: str):
    _int64(op, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)
    x, unbatched = _batched(_data(x), nd, op)
    kernel, stride, padding, dilation = pool_args(kernel_size, stride, padding, dilation, nd)
    shape = _pool_sizes(x, kernel, stride, padding, dilation, ceil_mode, op)
    if is_meta(x):
        y = _meta(shape, x.dtype, unbatched)
        return (y, _meta(shape, numpy.int64, unbatched)) if return_indices else y
    result = pool.max_pool(x, kernel, stride, padding, dilation, ceil_mode, return_indices)
    if unbatched:
        result = tuple(r[0] for r in result) if return_indices else result[0]
    return result


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2, "max_pool2d")


def _avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd: int, op: str):
    _int64(op, kernel_size=kernel_size, stride=stride, padding=padding, divisor_override=divisor_override)
    x, unbatched = _batched(_data(x), nd, op)
    kernel, stride, padding, _ = pool_args(kernel_size, stride, padding, 1, nd)
    if divisor_override is not None and divisor_override == 0:
        raise NNSpecRuntimeError(f"{op}: divisor must be not zero")
    shape = _pool_sizes(x, kernel, stride, padding, (1,) * nd, ceil_mode, op)
    if is_meta(x):
        return _meta(shape, x.dtype, unbatched)
    y = pool.avg_pool(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    return y[0] if unbatched else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2, "avg_pool2d")


def _adaptive_avg_pool(x, output_size, nd: int, op: str):
    if nd == 1 and (output_size is None or isinstance(output_size, (list, tuple)) and None in output_size):
        # torch.adaptive_avg_pool1d takes ints only (None, the input's own size, is for the 2-d and 3-d pools)
        what = "not NoneType" if output_size is None else \
            f"but found element of type NoneType at pos {list(output_size).index(None)}"
        raise NNSpecRuntimeError(f"{op}(): argument 'output_size' (position 2) must be tuple of ints, {what}")
    _int64(op, output_size=output_size)
    x, unbatched = _batched(_data(x), nd, op)
    out = adaptive_out(x.shape, output_size, nd)
    if any(s == 0 for s in x.shape[2:]):
        raise ShapeError(f"{op}: expected input with non-zero spatial sizes, but got input of size {_shape(x)}")
    if is_meta(x):
        return _meta(x.shape[:2] + out, x.dtype, unbatched)
    # each dim gathers (out, longest bin) slots, fewer than size + 2 * out of them
    _fits(op, x.shape[:2] + tuple(s + 2 * o for o, s in zip(out, x.shape[2:])), x.dtype)
    y = pool.adaptive_avg_pool(x, out)
    return y[0] if unbatched else y


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg_pool(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg_pool(input, output_size, 2, "adaptive_avg_pool2d")


# --------------------------------------------------------------------------- linear


def linear(input, weight, bias=None):
    x, w, b = _data(input), _data(weight), _data(bias)
    _same_dtype("linear", x, w)
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ShapeError(
            f"linear: mat1 and mat2 shapes cannot be multiplied (input of size {_shape(x)}, "
            f"weight of size {_shape(w)}: the last input dim must be {w.shape[1]})"
        )
    if is_meta(x):
        return _meta(x.shape[:-1] + (w.shape[0],), x.dtype)
    return _linear.linear(x, w, b)


def bilinear(input1, input2, weight, bias=None):
    x1, x2, w, b = _data(input1), _data(input2), _data(weight), _data(bias)
    _same_dtype("bilinear", x1, w)
    _same_dtype("bilinear", x2, w)
    if x1.ndim != x2.ndim:
        raise ShapeError(f"bilinear: input dimensions do not match: got {x1.ndim} and {x2.ndim}")
    if x1.ndim == 0:
        raise ShapeError("bilinear: Dimension specified as -1 but tensor has no dimensions")
    if x1.shape[:-1] != x2.shape[:-1]:
        raise ShapeError(f"bilinear: input1 and input2 must have the same batch dims, got {_shape(x1)} and {_shape(x2)}")
    if x1.shape[-1] != w.shape[1] or x2.shape[-1] != w.shape[2]:
        raise ShapeError(
            f"bilinear: input1 of size {_shape(x1)} and input2 of size {_shape(x2)} do not match weight of size "
            f"{_shape(w)} (expected last dims {w.shape[1]} and {w.shape[2]})"
        )
    if is_meta(x1, x2):
        return _meta(x1.shape[:-1] + (w.shape[0],), x1.dtype)
    return _linear.bilinear(x1, x2, w, b)


# --------------------------------------------------------------------------- dropout


def _check_p(p: float):
    if p < 0 or p > 1:
        raise NNSpecRuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    from .dropouts import _random  # (the dropout family's shared tail; it imports this module)

    return _random("dropout", _data(input), p, training, inplace, tuple(_data(input).shape), alpha=False)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel dropout: whole entries of dims 0 and 1 of (N, C, H, W). As torch does, with its warnings, a 3-D
    input is taken as (N, C, L), and any other (deprecated) as (N, C, *) too: a 2-D one per element."""
    _check_p(p)
    x = _data(input)
    from .dropouts import _deprecated_dims, _feature_mask, _random  # (the dropout family's; it imports this module)

    if x.ndim not in (3, 4):
        _deprecated_dims("dropout2d", x.ndim, 2)
    if x.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape (C, H, "
            "W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _random("dropout2d", x, p, training, inplace, _feature_mask(x.shape), alpha=False)


# --------------------------------------------------------------------------- vision


def pixel_shuffle(input, upscale_factor):
    _int64("pixel_shuffle", upscale_factor=upscale_factor)
    x = _data(input)
    r = upscale_factor
    if x.ndim < 3:
        raise ShapeError(f"pixel_shuffle: expected input to have at least 3 dims, but got input of size {_shape(x)}")
    if x.shape[-3] % (r * r):
        raise ShapeError(
            f"pixel_shuffle: expected the channel dim of input of size {_shape(x)} to be divisible by "
            f"the square of upscale_factor, {r * r}"
        )
    if is_meta(x):
        if r == 1:  # the kernel's reshapes are then views of the input
            return x.reshape(x.shape)
        return _meta(x.shape[:-3] + (x.shape[-3] // (r * r), x.shape[-2] * r, x.shape[-1] * r), x.dtype)
    return shuffle.pixel_shuffle(x, r)


_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
INTERPOLATE_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None, antialias=False):
    """Resampling to a size or by a scale factor: nearest, linear, bilinear, bicubic or trilinear (torch.nn.Upsample)."""
    _int64("interpolate", size=size)
    x = _data(input)
    if mode not in INTERPOLATE_MODES:
        raise NNSpecRuntimeError(f"interpolate: unknown mode {mode!r}; expected one of {', '.join(INTERPOLATE_MODES)}")
    if antialias:
        raise NNSpecRuntimeError("interpolate: antialias=True is not supported")
    nd = x.ndim - 2
    if nd not in (1, 2, 3):
        raise ShapeError(f"interpolate: expected a 3D, 4D or 5D input (N, C, *spatial), but got input of size {_shape(x)}")
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != nd:
        raise ShapeError(f"interpolate: got {x.ndim}D input, but {mode} mode needs {_MODE_DIMS[mode] + 2}D input")
    if mode.startswith("nearest"):
        if align_corners is not None:
            raise NNSpecRuntimeError(
                "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"
            )
    elif align_corners is None:
        align_corners = False
    if (size is None) == (scale_factor is None):
        raise NNSpecRuntimeError("interpolate: exactly one of size or scale_factor must be given")
    if size is not None and recompute_scale_factor:
        raise NNSpecRuntimeError("interpolate: recompute_scale_factor is not meaningful with an explicit size")
    spatial = x.shape[2:]
    if size is not None:
        out = ntuple(size, nd)
        if len(out) != nd:
            raise ShapeError(f"interpolate: input with spatial size {tuple(spatial)} needs a size with {nd} elements, got {size}")
        scales = (None,) * nd
    else:
        factors = ntuple(scale_factor, nd)
        if len(factors) != nd:
            raise ShapeError(
                f"interpolate: input with spatial size {tuple(spatial)} needs a scale_factor with {nd} elements, got {scale_factor}"
            )
        out = tuple(_scaled_size(s, f, scale_factor, x) for s, f in zip(spatial, factors))
        scales = (None,) * nd if recompute_scale_factor else tuple(float(f) for f in factors)
    if any(o <= 0 for o in out):
        raise ShapeError(f"interpolate: output size {out} for input of size {_shape(x)} must be positive")
    if any(s == 0 for s in spatial):  # torch's upsample checks: nothing to sample from
        names = ("D", "H", "W")[3 - nd:]
        raise ShapeError("interpolate: Input and output sizes should be greater than 0, but got input ("
                         + ", ".join(f"{n}: {s}" for n, s in zip(names, spatial)) + ") output ("
                         + ", ".join(f"{n}: {o}" for n, o in zip(names, out)) + ")")
    if x.shape[1] == 0 and x.shape[0] != 0:
        raise ShapeError(f"interpolate: Non-empty {x.ndim}D data tensor expected but got a tensor with sizes {_shape(x)}")
    if is_meta(x):
        return _meta(x.shape[:2] + tuple(out), x.dtype)
    _fits("interpolate", x.shape[:2] + tuple(out), x.dtype)
    return _interp.interpolate(x, out, scales, mode, bool(align_corners))


def _scaled_size(size, factor, scale_factor, x) -> int:
    """floor(size * factor) in floating point, torch's output size for a scale factor.

    A symbolic size scales by the fraction with the smallest denominator that is the factor as a float
    (1.7 is 17/10), which gives the float's rounding: floor(10 * 1.7) is 17, not the 16 of the float's
    exact binary value."""
    overflow = NNSpecRuntimeError(f"interpolate: scale_factor {scale_factor} on input of size {_shape(x)}: value "
                                  "cannot be converted to type int64_t without overflow")
    if not isinstance(size, int):
        f = float(factor)
        if not math.isfinite(f) or abs(f) >= 2.0**31:  # a size of at least 2 times it overflows int64
            raise overflow
        frac = Fraction(f).limit_denominator(2**20)
        if float(frac) != f:
            frac = Fraction(f)
        return (size * frac.numerator) // frac.denominator
    v = float(size) * float(factor)
    if not (math.isfinite(v) and abs(v) < 2.0**63):  # torch's int64 conversion check
        raise overflow
    return int(math.floor(v))


# --------------------------------------------------------------------------- normalization


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalisation per channel (dim 1) by batch or running statistics (torch.nn.BatchNorm1d/2d/3d)."""
    if training and eps <= 0.0:  # torch's F.batch_norm checks eps first (BatchNorm*d(eps=0) fails at forward)
        raise NNSpecRuntimeError(f"batch_norm: batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise NNSpecRuntimeError(f"batch_norm: batch_norm eps must be non-negative, but got {eps}")
    x = _data(input)
    rm, rv, w, b = _data(running_mean), _data(running_var), _data(weight), _data(bias)
    _param_dtypes("batch_norm", x, w, b, rm, rv)
    if x.size == 0 and x.ndim >= 2:  # torch returns an empty input as it is, checks and statistics skipped
        return x.copy()
    c = x.shape[1] if x.ndim >= 2 else None
    for name, t in (("running_mean", rm), ("running_var", rv), ("weight", w), ("bias", b)):
        if t is not None and t.shape != (c,):
            raise ShapeError(f"batch_norm: {name} should contain {c} elements, not {t.size}")
    if training:
        n = x.size // c
        if n <= 1:
            raise ShapeError(f"batch_norm: expected more than 1 value per channel when training, got input size {_shape(x)}")
    if is_meta(x):
        return _meta(x.shape, x.dtype)
    return norm.batch_norm(x, rm, rv, w, b, training or rm is None, momentum, eps)


# --------------------------------------------------------------------------- activations


def _inplace_data(input, inplace: bool):
    """An op's input array; for an in-place op in static inference, the shape-only stand-in it writes into
    (a model's state is never written by a static run: see meta.write_target)."""
    x = _data(input)
    return write_target(x) if inplace else x


def _same_shape(x, inplace: bool = False):
    """The shape rule of an elementwise op: the input's shape (in place: the input itself)."""
    return x if inplace else _meta(x.shape, x.dtype)


def relu(input, inplace=False):
    x = _inplace_data(input, inplace)
    if x.dtype == numpy.bool_:
        raise NNSpecRuntimeError("relu: Boolean inputs not supported for relu")
    if is_meta(x):
        return _same_shape(x, inplace)
    return activation.relu(x, inplace)


def _scalar_arg(op: str, x, *values) -> None:
    """torch converts a scalar argument to the input's dtype first: one that doesn't fit is its error."""
    for v in values:
        try:
            f = float(v)
        except OverflowError:
            raise NNSpecRuntimeError(f"{op}: int too big to convert ({_int_digits(v)})") from None
        if x.dtype.kind == "f" and math.isfinite(f) and abs(f) > float(numpy.finfo(x.dtype).max):
            raise NNSpecRuntimeError(f"{op}: value cannot be converted to type {x.dtype} without overflow: {v}")


def _int_digits(v) -> str:
    return f"an int of {len(str(abs(v)))} digits" if isinstance(v, int) else repr(v)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    x = _inplace_data(input, inplace)
    _scalar_arg("hardtanh", x, min_val, max_val)
    if min_val > max_val:
        raise NNSpecRuntimeError(f"hardtanh: min_val cannot be greater than max_val, got {min_val} > {max_val}")
    if x.dtype.kind not in "fiu":
        raise NNSpecRuntimeError(f"hardtanh: not implemented for '{torch_type_name(x.dtype)}'")
    if is_meta(x):
        return _same_shape(x, inplace)
    return activation.hardtanh(x, min_val, max_val, inplace)


def relu6(input, inplace=False):
    """min(max(0, x), 6): hardtanh(x, 0, 6), as torch computes it."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    x = _inplace_data(input, inplace)
    check_float("leaky_relu", x)  # torch has no integer or bool leaky_relu kernel
    _scalar_arg("leaky_relu", x, negative_slope)
    if is_meta(x):
        return _same_shape(x, inplace)
    return activation.leaky_relu(x, negative_slope, inplace)


def prelu(input, weight):
    x, w = _data(input), _data(weight)
    _same_dtype("prelu", x, w)
    if w.size > 1 and (x.ndim < 2 or x.shape[1] != w.size):
        raise ShapeError(
            f"prelu: mismatch of parameter numbers and input channel size: found {w.size} parameters, "
            f"input of size {_shape(x)}"
        )
    if is_meta(x):
        return _same_shape(x)
    return activation.prelu(x, w)


# the C++ type names torch's "value cannot be converted" messages give
_C_TYPES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
            "float16": "c10::Half", "float32": "float", "float64": "double"}


def _pad_value(x, value) -> float | int:
    """F.pad's fill value as torch takes it (a number, checked first): converted to the input's dtype through a
    double (an integer input truncates it), refused where that overflows the dtype (NaN and inf fill a
    floating-point input)."""
    if value is None:
        return 0.0
    try:
        v = float(value)
    except OverflowError:  # an int past any double
        v = math.copysign(math.inf, value)
    kind = x.dtype.kind
    if kind == "f":
        bad = math.isfinite(v) and abs(v) > float(numpy.finfo(x.dtype).max)
    elif kind in "iu":
        info = numpy.iinfo(x.dtype)
        bad = not info.min <= v <= info.max  # NaN and inf too
    else:
        bad = False
    if bad:
        raise NNSpecRuntimeError(f"pad: value cannot be converted to type {_C_TYPES[x.dtype.name]} without overflow "
                                 f"(value {value} for an input of dtype {x.dtype})")
    return int(v) if kind in "iu" else v


def pad(input, pad, mode="constant", value=None):
    """Padding of the last dims, ``pad`` listing (left, right) for the last dim first: constant, reflect, replicate or
    circular (torch.nn.ConstantPad2d and its kin); negative amounts crop."""
    _int64("pad", pad=pad)
    if value is not None and not isinstance(value, numbers.Real):
        raise NNSpecRuntimeError(f"pad(): argument 'value' (position 4) must be float, not {type(value).__name__}")
    x = _data(input)
    if len(pad) % 2:
        raise NNSpecRuntimeError(f"pad: padding length must be even, got {len(pad)}")
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)][::-1]
    if len(pairs) > x.ndim:
        raise NNSpecRuntimeError(f"pad: Padding length should be less than or equal to two times the input dimension "
                                 f"but got padding length {len(pad)} and input of dimension {x.ndim}")
    if mode != "constant" and value is not None and value != 0:
        raise NNSpecRuntimeError(f'pad: Padding mode "{mode}" doesn\'t take in value argument')
    if mode != "constant":  # torch's reflection, replication and circular pads: 1 to 3 dims, batched or not
        n = len(pairs)
        if not (1 <= n <= 3 and x.ndim in (n + 1, n + 2)):
            raise NNSpecRuntimeError(f"pad: Padding size {len(pad)} is not supported for {x.ndim}D input tensor. "
                                     f"({mode} mode pads the last 1 to 3 dims of a 2D to 5D input)")
        if mode != "circular" and 0 in x.shape[x.ndim - n - 1:]:
            raise ShapeError(f"pad: Expected {n + 1}D or {n + 2}D (batch mode) tensor with possibly 0 batch size and "
                             f"other non-zero dimensions for input, but got: {_shape(x)}")
        for dim, (a, b) in zip(range(x.ndim - len(pairs), x.ndim), pairs):
            size = x.shape[dim]
            if (mode == "reflect" and max(a, b) >= size) or (mode == "circular" and max(a, b) > size):
                raise ShapeError(
                    f"pad: {mode} padding {(a, b)} at dimension {dim} of input {_shape(x)} must be "
                    f"{'less than' if mode == 'reflect' else 'at most'} the size of that dimension"
                )
            kept = size + min(a, 0) + min(b, 0)
            if mode == "circular" and kept >= 0 and max(a, b) > kept:
                # torch crops, then wraps the rest around: past what is left it reads memory it never wrote
                raise ShapeError(f"pad: circular padding {(a, b)} at dimension {dim} of input {_shape(x)} wraps "
                                 f"around more than the {kept} elements its cropping leaves")
        if mode != "circular":  # torch's reflection and replication pads: negative amounts crop the padded result
            out = [s + a + b for s, (a, b) in zip(x.shape[x.ndim - n:], pairs)]
            if (n == 1 and out[0] < 1) or all(o < 1 for o in out):
                names = ("D", "H", "W")[3 - n:]
                raise ShapeError(f"pad: input ({', '.join(f'{k}: {s}' for k, s in zip(names, x.shape[x.ndim - n:]))}) "
                                 f"is too small. Calculated output {' '.join(f'{k}: {o}' for k, o in zip(names, out))}")
            if min(out) < 0:
                raise ShapeError(f"pad: Trying to create tensor with negative dimension {min(out)}: "
                                 f"[{', '.join(map(str, x.shape[:x.ndim - n] + tuple(out)))}]")
            if x.dtype == numpy.bool_:
                kind = "reflection" if mode == "reflect" else "replication"
                raise NNSpecRuntimeError(f"pad: \"{kind}_pad{n}d\" not implemented for 'Bool'")
    lead = x.ndim - len(pairs)
    # cropping more than there is: torch's constant and circular pads crop first, then pad, so this fails even where
    # the padding would make up for it (its reflection and replication pads crop last: checked above)
    if mode in ("constant", "circular") and any(s + min(a, 0) + min(b, 0) < 0
                                                for s, (a, b) in zip(x.shape[lead:], pairs)):
        raise ShapeError(f"pad: narrow(): length must be non-negative (padding {tuple(pad)} of input {_shape(x)})")
    fill = _pad_value(x, value) if mode == "constant" else 0.0
    if is_meta(x):
        if mode == "constant" and all(a <= 0 and b <= 0 for a, b in pairs):
            # as pad_or_crop: no padding gives the input itself, cropping a view of it (aliases a plan must know)
            if all(pair == (0, 0) for pair in pairs):
                return x
            return x[(Ellipsis,) + tuple(slice(-a, s + b) for s, (a, b) in zip(x.shape[lead:], pairs))]
        return _meta(x.shape[:lead] + tuple(s + a + b for s, (a, b) in zip(x.shape[lead:], pairs)), x.dtype)
    _fits("pad", x.shape[:lead] + tuple(s + max(a, 0) + max(b, 0) for s, (a, b) in zip(x.shape[lead:], pairs)),
          x.dtype)
    return _pad(x, pairs, mode, fill)


def sigmoid(input):
    """torch.sigmoid: integer and bool inputs give float32 (torch's default dtype)."""
    x = _float_input(_data(input))
    return _same_shape(x) if is_meta(x) else activation.sigmoid(x)


def tanh(input):
    """torch.tanh: integer and bool inputs give float32 (torch's default dtype)."""
    x = _float_input(_data(input))
    return _same_shape(x) if is_meta(x) else activation.tanh(x)


def check_float(op: str, x) -> None:
    """torch has no integer or bool kernel for this op: its 'not implemented for' error."""
    if x.dtype.kind != "f":
        raise NNSpecRuntimeError(f"{op}: not implemented for '{torch_type_name(x.dtype)}' (input of size {_shape(x)}); "
                                 "give a floating-point input")


def _float_input(x):
    if x is None:
        raise NNSpecRuntimeError("expected an array, got NoneType")
    return x if x.dtype.kind == "f" else x.astype(numpy.float32)


# --------------------------------------------------------------------------- softmax


def _softmax_dim(op: str, ndim: int, stacklevel: int) -> int:
    """torch's legacy implicit dim (``_get_softmax_dim``), with its deprecation warning."""
    warnings.warn(
        f"Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_input(op: str, input, dim, stacklevel: int, dtype):
    x = _data(input)
    if x is None:
        raise NNSpecRuntimeError(f"{op}: expected an array, got NoneType")
    if dim is None:
        dim = _softmax_dim(op, x.ndim, stacklevel + 1)
    d = wrap_dim(dim, x.ndim, op)
    dt = as_dtype(dtype)
    if dt is not None:
        x = x.astype(dt, copy=False)
    if x.dtype.kind != "f":
        raise NNSpecRuntimeError(
            f"{op}: not implemented for {torch_type_name(x.dtype)} input of size {_shape(x)}; "
            "pass a floating-point input or dtype="
        )
    return x, d


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    x, d = _softmax_input("softmax", input, dim, _stacklevel, dtype)
    return _same_shape(x) if is_meta(x) else _softmax.softmax(x, d)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    x, d = _softmax_input("log_softmax", input, dim, _stacklevel, dtype)
    return _same_shape(x) if is_meta(x) else _softmax.log_softmax(x, d)
