"""Normalisation beyond core's batch_norm: layer_norm, group_norm, instance_norm, local_response_norm, rms_norm,
normalize."""

from __future__ import annotations

import warnings

import numpy  # dtype objects only

from ...errors import NNSpecRuntimeError, ShapeError
from ..kernels import norm as kernels
from ..meta import is_meta
from .core import _data, _int64, _meta, _param_dtypes, _same_shape, _shape, check_float, torch_type_name, wrap_dim

__all__ = ["layer_norm", "group_norm", "instance_norm", "local_response_norm", "rms_norm", "normalize"]


def _list(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _int_arg(op: str, name: str, position: int, value) -> int:
    """torch parses this argument as an int: a bool, float or other type is its TypeError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise NNSpecRuntimeError(f"{op}(): argument '{name}' (position {position}) must be int, not "
                                 f"{type(value).__name__}")
    _int64(op, **{name: value})
    return value


def _normalized_shape(op: str, normalized_shape, x, *params) -> tuple:
    """layer_norm's and rms_norm's checks of normalized_shape, the parameters' shapes and the input's trailing dims."""
    if not isinstance(normalized_shape, (tuple, list)):
        raise NNSpecRuntimeError(f"{op}(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
                                 f"{type(normalized_shape).__name__}")
    shape = tuple(normalized_shape)
    if not shape:
        raise NNSpecRuntimeError(f"{op}: Expected normalized_shape to be at least 1-dimensional, i.e., "
                                 "containing at least one element, but got normalized_shape = []")
    for name, t in params:
        if t is not None and tuple(t.shape) != shape:
            raise ShapeError(f"{op}: Expected {name} to be of same shape as normalized_shape, but got {name} of "
                             f"shape {_shape(t)} and normalized_shape = {_list(shape)}")
    return shape


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    x, w, b = _data(input), _data(weight), _data(bias)
    shape = _normalized_shape("layer_norm", normalized_shape, x, ("weight", w), ("bias", b))
    if x.ndim < len(shape) or tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise ShapeError(f"layer_norm: Given normalized_shape={_list(shape)}, expected input with shape "
                         f"[*, {', '.join(map(str, shape))}], but got input of size{_shape(x)}")
    check_float("layer_norm", x)
    _param_dtypes("layer_norm", x, w, b)
    if is_meta(x):
        return _same_shape(x)
    return kernels.layer_norm(x, len(shape), w, b, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    x, w, b = _data(input), _data(weight), _data(bias)
    if x.ndim < 2:
        raise ShapeError(f"group_norm: Expected at least 2 dimensions for input tensor but received {x.ndim}")
    if isinstance(num_groups, int) and not isinstance(num_groups, bool) and num_groups == 0:
        raise NNSpecRuntimeError("group_norm: integer division or modulo by zero (num_groups=0)")
    if isinstance(num_groups, int) and not isinstance(num_groups, bool):
        size = [x.shape[0] * x.shape[1] // num_groups, num_groups, *x.shape[2:]]
        values = size[0]
        for s in size[2:]:
            values = values * s
        if values == 1:
            raise ShapeError(f"group_norm: Expected more than 1 value per channel when training, got input size "
                             f"{_list(size)}")
    g = _int_arg("group_norm", "num_groups", 2, num_groups)
    c = x.shape[1]
    if g <= 0:
        raise NNSpecRuntimeError(f"group_norm: Expected num groups to be greater than 0, got {g}")
    if c % g:
        raise ShapeError(f"group_norm: Expected number of channels in input to be divisible by num_groups, but got "
                         f"input of shape {_list(x.shape)} and num_groups={g}")
    for name, t in (("weight", w), ("bias", b)):
        if t is not None and (t.ndim != 1 or t.shape[0] != c):
            # torch's message about the bias shows the weight's shape ([0] without a weight); so does this one
            shown = _shape(t) if name == "weight" else "[0]" if w is None else _shape(w)
            raise ShapeError(f"group_norm: Expected {name} to be a vector of size equal to the number of channels in "
                             f"input, but got {name} of shape {shown} and input of shape {_list(x.shape)}"
                             + ("" if name == "weight" else f" (the bias is of shape {_shape(t)})"))
    if x.dtype.kind != "f":
        raise NNSpecRuntimeError(f"group_norm: \"GroupNormKernelImpl\" not implemented for "
                                 f"'{torch_type_name(x.dtype)}' (input of size {_shape(x)}); give a floating-point input")
    _param_dtypes("group_norm", x, w, b)
    if is_meta(x):
        return _same_shape(x)
    return kernels.group_norm(x, g, w, b, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalisation of each channel of each sample over its spatial dims (torch.nn.functional.instance_norm)."""
    x = _data(input)
    rm, rv, w, b = _data(running_mean), _data(running_var), _data(weight), _data(bias)
    if use_input_stats:
        spatial = 1
        for s in x.shape[2:]:
            spatial = spatial * s
        if spatial == 1:
            raise ShapeError(f"instance_norm: Expected more than 1 spatial element when training, got input size "
                             f"torch.Size({_list(x.shape)})")
    if not use_input_stats and (rm is None or rv is None):
        raise NNSpecRuntimeError("instance_norm: Expected running_mean and running_var to be defined when "
                                 "use_input_stats is false")
    if x.ndim < 2:
        raise ShapeError(f"instance_norm: Dimension out of range (expected to be in range of [{-max(x.ndim, 1)}, "
                         f"{max(x.ndim, 1) - 1}], but got 1)")
    n, c = x.shape[:2]
    for name, t in (("weight", w), ("bias", b), ("running_mean", rm), ("running_var", rv)):
        if t is not None and t.ndim != 1:
            raise ShapeError(f"instance_norm: {name} of size {_shape(t)}: Number of dimensions of repeat dims can not "
                             "be smaller than number of dimensions of tensor")
    if n == 0 and (w is not None or b is not None):  # torch repeats them 0 times, then reads the first
        raise NNSpecRuntimeError("instance_norm: select(): index 0 out of range for tensor of size [0] at dimension 0 "
                                 "(weight or bias with an input of batch size 0)")
    if x.size != 0:  # torch's batch_norm returns an empty input before checking the parameters
        for name, t in (("running_mean", rm), ("running_var", rv), ("weight", w), ("bias", b)):
            if t is not None and t.shape[0] != c:
                raise ShapeError(f"instance_norm: {name} should contain {n * c} elements not {n * t.shape[0]}")
    if x.dtype.kind != "f":
        raise NNSpecRuntimeError(f"instance_norm: \"batch_norm\" not implemented for '{torch_type_name(x.dtype)}' "
                                 f"(input of size {_shape(x)}); give a floating-point input")
    _param_dtypes("instance_norm", x, w, b)
    if is_meta(x):
        return _same_shape(x)
    return kernels.instance_norm(x, rm, rv, w, b, bool(use_input_stats), momentum, eps)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    x = _data(input)
    if x.ndim < 3:
        raise ShapeError(f"local_response_norm: Expected 3D or higher dimensionality                          input "
                         f"(got {x.ndim} dimensions)")
    if x.size == 0:  # torch returns the input itself
        return x
    if isinstance(size, bool) or not isinstance(size, int):
        raise NNSpecRuntimeError(f"local_response_norm: size must be an int, got {type(size).__name__}")
    _int64("local_response_norm", size=size)
    if size <= 0:
        raise NNSpecRuntimeError(f"local_response_norm: kernel size should be greater than zero, but got kH: {size} "
                                 "kW: 1")
    pool = "avg_pool2d" if x.ndim == 3 else "avg_pool3d_out_frame"  # what torch averages the squares with
    if (x.dtype.kind != "f" and x.dtype != numpy.int64) or (x.dtype == numpy.float16 and x.ndim > 3):
        raise NNSpecRuntimeError(f"local_response_norm: \"{pool}\" not implemented for '{torch_type_name(x.dtype)}' "
                                 f"(input of size {_shape(x)})")
    if is_meta(x):
        return _same_shape(x) if x.dtype.kind == "f" else _meta(x.shape, numpy.float32)
    return kernels.local_response_norm(x, size, alpha, beta, k)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    x, w = _data(input), _data(weight)
    shape = _normalized_shape("rms_norm", normalized_shape, x, ("weight", w))
    if x.ndim < len(shape) or tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise ShapeError(f"rms_norm: Given normalized_shape={_list(shape)}, expected input with shape "
                         f"[*{', '.join(map(str, shape))}], but got input of size{_shape(x)}")
    if x.dtype.kind != "f":
        raise NNSpecRuntimeError(f"rms_norm: \"rms_norm\" not implemented for '{torch_type_name(x.dtype)}' (input of "
                                 f"size {_shape(x)}); give a floating-point input")
    if w is not None and w.dtype.kind != "f":
        raise NNSpecRuntimeError(f"rms_norm: weight of dtype {w.dtype}: expected a floating-point weight")
    if w is not None and w.dtype != x.dtype:
        warnings.warn(f"Mismatch dtype between input and weight: input dtype = {x.dtype}, weight dtype = {w.dtype}, "
                      "Cannot dispatch to fused implementation.", stacklevel=2)
    if is_meta(x):
        return _same_shape(x)
    return kernels.rms_norm(x, len(shape), w, eps)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p, eps) along dim (torch.nn.functional.normalize)."""
    x = _data(input)
    if out is not None:
        raise NNSpecRuntimeError("normalize: out= is not supported (nnspec's arrays are values); use the result")
    if p == "fro":
        p = 2.0
    if isinstance(p, str) or not isinstance(p, (int, float)):
        raise NNSpecRuntimeError(f"normalize: p must be a number (or 'fro'), got {p!r}")
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    axes = tuple(wrap_dim(d, x.ndim, "normalize") for d in dims)
    for i, a in enumerate(axes):
        if a in axes[:i]:
            raise ShapeError(f"normalize: dim {a} appears multiple times in the list of dims")
    if x.dtype.kind != "f":
        raise NNSpecRuntimeError(f"normalize: linalg.vector_norm: Expected a floating point or complex tensor as "
                                 f"input. Got {torch_type_name(x.dtype)}")
    if p < 0 or p == float("inf"):
        for a in axes:
            if x.ndim and x.shape[a] == 0:
                raise ShapeError(f"normalize: linalg.vector_norm cannot compute the {float(p):g} norm on the dimension "
                                 f"{a}because this dimension is empty and the operation does not have an identity")
    if is_meta(x):
        return _same_shape(x)
    if x.ndim == 0:
        return kernels.normalize(x.reshape(1), float(p), 0, eps).reshape(())
    return kernels.normalize(x, float(p), axes, eps)
