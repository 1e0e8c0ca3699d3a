"""Loss functions (torch.nn.functional's l1_loss, mse_loss, cross_entropy, nll_loss, ctc_loss, ...).

Each op checks its inputs as torch does (shapes, dtypes, then the values only real data has: class
indices in range, BCE's input in [0, 1], CTC's lengths), with torch's conditions and messages, and gives
torch's result dtype and shape: the elementwise loss for reduction='none', else a 0-d array. The
deprecated ``size_average`` / ``reduce`` arguments map to a reduction by torch's legacy rule, with its
warning.
"""

from __future__ import annotations

import math
import warnings

import numpy

from ...errors import NNSpecError, NNSpecRuntimeError, ShapeError
from ..kernels import loss as kernels
from ..meta import is_meta
from ..symbolic import is_one
from .core import _data, _fits, _meta, torch_type_name
from .distance import pairwise_distance

__all__ = [
    "l1_loss",
    "mse_loss",
    "huber_loss",
    "smooth_l1_loss",
    "soft_margin_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    "nll_loss",
    "cross_entropy",
    "hinge_embedding_loss",
    "cosine_embedding_loss",
    "margin_ranking_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "multi_margin_loss",
    "ctc_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "linear_cross_entropy",
]

_F32 = numpy.dtype(numpy.float32)
_F16 = numpy.dtype(numpy.float16)
_I64 = numpy.dtype(numpy.int64)
_BOOL = numpy.dtype(numpy.bool_)

# --------------------------------------------------------------------------- shared checks


def legacy_reduction(size_average, reduce) -> str:
    """torch's _Reduction.legacy_get_string: the reduction the deprecated size_average / reduce flags mean."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                  stacklevel=3)
    return ret


def _enum(reduction) -> str:
    """torch's _Reduction.get_enum: 'none', 'mean' or 'sum' ('elementwise_mean' is 'mean', with a warning)."""
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.", stacklevel=3)
        return "mean"
    if reduction not in ("none", "mean", "sum"):
        raise NNSpecRuntimeError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduction(reduction, size_average=None, reduce=None) -> str:
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    return _enum(reduction)


def _arrays(op: str, **arrays):
    """The arrays behind the named arguments (a Parameter's data); a non-array is torch's type error."""
    out = []
    for name, v in arrays.items():
        a = _data(v)
        if a is None or not (hasattr(a, "shape") and hasattr(a, "dtype")):
            raise NNSpecRuntimeError(f"{op}(): argument '{name}' must be an array, not {type(v).__name__}")
        out.append(a)
    return out


def _size(shape) -> str:
    return "torch.Size([" + ", ".join(str(s) for s in shape) + "])"


def _list(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _broadcast(op: str, a, b) -> tuple:
    """torch's infer_size of two shapes, with its message (a and b in the order torch names them); a symbolic
    size is not asked whether it is 1 (see symbolic.is_one)."""
    a, b = tuple(a), tuple(b)
    n = max(len(a), len(b))
    out = []
    for i in range(n - 1, -1, -1):
        off = n - 1 - i
        sa = a[len(a) - 1 - off] if len(a) - 1 - off >= 0 else 1
        sb = b[len(b) - 1 - off] if len(b) - 1 - off >= 0 else 1
        if is_one(sb):
            out.append(sa)
        elif is_one(sa):
            out.append(sb)
        elif sa == sb:
            out.append(sa)
        else:
            raise ShapeError(f"{op}: The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                             f"non-singleton dimension {i}")
    return tuple(reversed(out))


def _into(op: str, out, other) -> tuple:
    """An in-place op's broadcast: ``other`` must broadcast into ``out``'s shape."""
    shape = _broadcast(op, out, other)
    if shape != tuple(out):
        raise ShapeError(f"{op}: output with shape {_list(out)} doesn't match the broadcast shape {_list(shape)}")
    return shape


def _size_warning(x, t) -> None:
    if tuple(x.shape) != tuple(t.shape):
        warnings.warn(f"Using a target size ({_size(t.shape)}) that is different to the input size ({_size(x.shape)}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", stacklevel=3)


def _category(dt) -> int:
    return {"b": 0, "u": 1, "i": 1, "f": 2}.get(numpy.dtype(dt).kind, 3)


def _promote(*dtypes):
    """torch.promote_types: across categories (bool < int < float) the higher one's dtype wins."""
    out = None
    for d in dtypes:
        if d is None:
            continue
        d = numpy.dtype(d)
        if out is None:
            out = d
        elif _category(out) != _category(d):
            out = out if _category(out) > _category(d) else d
        else:
            out = numpy.promote_types(out, d)
    return out


def _float(dt):
    """The dtype an op that makes floats gives: floats stay, integers and bool become float32."""
    return dt if dt.kind == "f" else _F32


def _ct(dt):
    """The compute dtype: float16 computes in float32 (torch's CPU opmath)."""
    return _F32 if dt == _F16 else numpy.dtype(dt)


def _not_implemented(op: str, kernel: str, dt) -> NNSpecRuntimeError:
    return NNSpecRuntimeError(f'{op}: "{kernel}" not implemented for \'{torch_type_name(dt)}\'')


def _cast_error(op: str, result, out) -> NNSpecRuntimeError:
    return NNSpecRuntimeError(f"{op}: result type {torch_type_name(result)} can't be cast to the desired output type "
                              f"{torch_type_name(out)}")


def _no_bool_sub(op: str, *dtypes) -> None:
    bools = sum(numpy.dtype(d) == _BOOL for d in dtypes)
    if bools == 2:
        raise NNSpecRuntimeError(f"{op}: Subtraction, the `-` operator, with two bool tensors is not supported. "
                                 "Use the `^` or `logical_xor()` operator instead.")
    if bools:
        raise NNSpecRuntimeError(f"{op}: Subtraction, the `-` operator, with a bool tensor is not supported. "
                                 "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def _mean_dtype(op: str, dt) -> None:
    if dt.kind != "f":
        raise NNSpecRuntimeError(f"{op}: mean(): could not infer output dtype. Input dtype must be either a floating "
                                 f"point or complex dtype. Got: {torch_type_name(dt)}")


def _result(shape, dt, reduction: str):
    """A loss's shape-only result: the elementwise shape for 'none', else 0-d."""
    return _meta(shape if reduction == "none" else (), dt)


def _check_margin(margin) -> None:
    if margin <= 0:
        raise NNSpecRuntimeError(f"margin must be greater than 0, got {margin}")


def _number(op: str, name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise NNSpecRuntimeError(f"{op}(): argument '{name}' must be a number, not {type(value).__name__}")


def _int(op: str, name: str, value) -> int:
    """An int argument (ignore_index, blank): torch's argument parser refuses anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, numpy.integer)):
        raise NNSpecRuntimeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")
    return int(value)


# --------------------------------------------------------------------------- regression


def _regression_inputs(op: str, input, target, size_average, reduce, reduction):
    x, t = _arrays(op, input=input, target=target)
    _size_warning(x, t)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    shape = _broadcast(op, x.shape, t.shape)  # torch.broadcast_tensors(input, target)
    return x, t, shape, reduction


def _weighted_reduction(op: str, reduction) -> str:
    if reduction not in ("none", "mean", "sum"):
        raise NNSpecRuntimeError(f"{op}: Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")
    return reduction


def _elementwise_weight(op: str, x, w, shape, dt):
    """l1/mse/huber's weight: exactly the input's shape; the weighted loss is their broadcast."""
    if tuple(w.shape) != tuple(x.shape):
        raise ShapeError(f"{op}: Weights and input must have the same size.")
    return _broadcast(op, shape, w.shape), _promote(dt, w.dtype)


def _weighted(op: str, x, t, w, shape, dt, reduction):
    """l1_loss's and mse_loss's weighted form (torch's Python code): (shape, dtype, reduction, output dtype)."""
    shape, dt = _elementwise_weight(op, x, w, shape, dt)
    _no_bool_sub(op, x.dtype, t.dtype)
    reduction = _weighted_reduction(op, reduction)
    return shape, dt, reduction, _float(dt) if reduction == "mean" else dt  # a mean is sum / sum


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    x, t, shape, reduction = _regression_inputs("l1_loss", input, target, size_average, reduce, reduction)
    dt = _promote(x.dtype, t.dtype)
    w = _data(weight)
    if w is not None:
        shape, dt, reduction, out = _weighted("l1_loss", x, t, w, shape, dt, reduction)
    else:
        reduction = _enum(reduction)
        _no_bool_sub("l1_loss", x.dtype, t.dtype)
        if reduction == "mean":
            _mean_dtype("l1_loss", dt)
        out = dt
    if is_meta(x, t, w):
        return _result(shape, out, reduction)
    _fits("l1_loss", shape, numpy.float64)  # the broadcast intermediates
    return kernels.l1_loss(x, t, w, reduction, _ct(_float(dt)) if dt.kind == "f" or reduction == "mean" else dt, out)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    x, t, shape, reduction = _regression_inputs("mse_loss", input, target, size_average, reduce, reduction)
    dt = _promote(x.dtype, t.dtype)
    w = _data(weight)
    if w is not None:
        shape, dt, reduction, out = _weighted("mse_loss", x, t, w, shape, dt, reduction)
    else:
        reduction = _enum(reduction)
        if dt.kind != "f":
            raise _not_implemented("mse_loss", "mse_cpu", dt)
        out = dt
    if is_meta(x, t, w):
        return _result(shape, out, reduction)
    _fits("mse_loss", shape, numpy.float64)  # the broadcast intermediates
    return kernels.mse_loss(x, t, w, reduction, _ct(_float(dt)) if dt.kind == "f" or reduction == "mean" else dt, out)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    _number("smooth_l1_loss", "beta", beta)
    if beta == 0.0:  # torch's F.smooth_l1_loss calls l1_loss (its warnings included)
        x, t = _arrays("smooth_l1_loss", input=input, target=target)
        return l1_loss(x, t, size_average, reduce, reduction)
    x, t, shape, reduction = _regression_inputs("smooth_l1_loss", input, target, size_average, reduce, reduction)
    reduction = _enum(reduction)
    if beta < 0:
        raise NNSpecRuntimeError("smooth_l1_loss: smooth_l1_loss does not support negative values for beta.")
    dt = _promote(x.dtype, t.dtype)
    if dt.kind != "f":
        raise _not_implemented("smooth_l1_loss", "smooth_l1_cpu", dt)
    if is_meta(x, t):
        return _result(shape, dt, reduction)
    _fits("smooth_l1_loss", shape, numpy.float64)  # the broadcast intermediates
    return kernels.smooth_l1_loss(x, t, beta, reduction, _ct(dt), dt)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _number("huber_loss", "delta", delta)
    x, t = _arrays("huber_loss", input=input, target=target)
    _size_warning(x, t)
    shape = _broadcast("huber_loss", x.shape, t.shape)
    w = _data(weight)
    if w is not None:
        if tuple(w.shape) != tuple(x.shape):
            raise ShapeError("huber_loss: Weights and input must have the same size.")
    else:
        reduction = _enum(reduction)
    if delta <= 0:
        raise NNSpecRuntimeError("huber_loss: huber_loss does not support non-positive values for delta.")
    dt = _promote(x.dtype, t.dtype)
    if dt.kind != "f":
        raise _not_implemented("huber_loss", "huber_cpu", dt)
    if x.dtype.kind != "f":  # the output is of the input's dtype
        raise _cast_error("huber_loss", dt, x.dtype)
    out = x.dtype
    if w is not None:
        shape = _broadcast("huber_loss", shape, w.shape)
        out = _promote(out, w.dtype)
        reduction = _weighted_reduction("huber_loss", reduction)
    if is_meta(x, t, w):
        return _result(shape, out, reduction)
    _fits("huber_loss", shape, numpy.float64)  # the broadcast intermediates
    return kernels.huber_loss(x, t, delta, w, reduction, _ct(_promote(dt, out)), out)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    x, t = _arrays("soft_margin_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    if x.dtype == _BOOL:
        raise NNSpecRuntimeError("soft_margin_loss: Negation, the `-` operator, on a bool tensor is not supported. If "
                                 "you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    _into("soft_margin_loss", x.shape, t.shape)  # the output is the input's shape and dtype
    dt = _float(_promote(x.dtype, t.dtype))
    if x.dtype.kind != "f":
        raise _cast_error("soft_margin_loss", dt, x.dtype)
    if is_meta(x, t):
        return _result(x.shape, x.dtype, reduction)
    return kernels.soft_margin_loss(x, t, reduction, _ct(dt), x.dtype)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    x, t = _arrays("poisson_nll_loss", input=input, target=target)
    _number("poisson_nll_loss", "eps", eps)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise NNSpecRuntimeError(f"{reduction} is not a valid value for reduction")
    shape = _broadcast("poisson_nll_loss", t.shape, x.shape)  # target * input
    dt = _float(_promote(x.dtype, t.dtype))
    if is_meta(x, t):
        return _result(shape, dt, reduction)
    _fits("poisson_nll_loss", shape, numpy.float64)  # the broadcast intermediates
    return kernels.poisson_nll_loss(x, t, bool(log_input), bool(full), eps, reduction, _ct(dt), dt)


_C_TYPES = {"int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    x, t = _arrays("gaussian_nll_loss", input=input, target=target)
    _number("gaussian_nll_loss", "eps", eps)
    v = var if isinstance(var, (bool, int, float)) and not isinstance(var, numpy.generic) else _data(var)
    if isinstance(v, float) and not isinstance(v, numpy.generic):  # a Python float; a NumPy scalar is 0-d data
        if v < 0:
            raise NNSpecRuntimeError("gaussian_nll_loss: var has negative entry/entries")
        vdt = x.dtype if x.dtype.kind == "f" else _F32  # var * torch.ones_like(input)
        vshape = tuple(x.shape)
        if not is_meta(x):
            xp = _xp(x)
            v = xp.full(x.shape, v, dtype=vdt)
        else:
            v = _meta(vshape, vdt)
    elif isinstance(v, numpy.generic):
        v = numpy.asarray(v)
    if isinstance(v, (bool, int)) or not (hasattr(v, "shape") and hasattr(v, "dtype")):
        raise NNSpecRuntimeError(f"gaussian_nll_loss: var must be an array or a float, not {type(var).__name__}")
    if not is_meta(v) and not isinstance(v, float) and v.dtype.kind in "fiu" and bool((v < 0).any()):
        raise NNSpecRuntimeError("gaussian_nll_loss: var has negative entry/entries")
    vshape = tuple(v.shape)
    if vshape != tuple(x.shape):
        if tuple(x.shape[:-1]) == vshape and x.ndim > 0:  # homoscedastic: one variance per sample
            vshape = vshape + (1,)
            v = v.reshape(vshape)
        elif not (x.ndim == v.ndim and sum(b for a, b in zip(x.shape, v.shape) if a != b) == 1):
            raise ShapeError("gaussian_nll_loss: var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise NNSpecRuntimeError(f"gaussian_nll_loss: {reduction} is not valid")
    if v.dtype.kind != "f":  # var.clamp_(min=eps) in place
        raise NNSpecRuntimeError("gaussian_nll_loss: result type Float can't be cast to the desired output type "
                                 f"{_C_TYPES.get(str(v.dtype), str(v.dtype))}")
    shape = _broadcast("gaussian_nll_loss", x.shape, t.shape)
    shape = _broadcast("gaussian_nll_loss", shape, vshape)
    dt = _promote(v.dtype, _promote(x.dtype, t.dtype))
    if is_meta(x, t, v):
        return _result(shape, dt, reduction)
    _fits("gaussian_nll_loss", shape, numpy.float64)  # the broadcast intermediates
    return kernels.gaussian_nll_loss(x, t, v, bool(full), eps, reduction, _ct(dt), dt)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence of a target from log-probabilities (torch.nn.KLDivLoss)."""
    x, t = _arrays("kl_div", input=input, target=target)
    batch = None
    if size_average is not None or reduce is not None:
        red = legacy_reduction(size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                          "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                          "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                          stacklevel=2)
        red = "sum" if reduction == "batchmean" else _enum(reduction)
        if reduction == "batchmean" and x.ndim != 0:
            batch = x.shape[0]
    shape = _broadcast("kl_div", t.shape, x.shape)  # target * input
    if x.dtype.kind != "f" or t.dtype.kind != "f":
        raise NNSpecRuntimeError("kl_div: Integral inputs not supported.")
    dt = _promote(x.dtype, t.dtype)
    if is_meta(x, t):
        return _result(shape, dt, red)
    _fits("kl_div", shape, numpy.float64)  # the broadcast intermediates
    return kernels.kl_div(x, t, bool(log_target), red, batch, _ct(dt), dt)


# --------------------------------------------------------------------------- binary


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross entropy of probabilities, its logs clamped at -100 (torch.nn.BCELoss)."""
    x, t = _arrays("binary_cross_entropy", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(t.shape) != tuple(x.shape):
        raise ShapeError(f"binary_cross_entropy: Using a target size ({_size(t.shape)}) that is different to the input "
                         f"size ({_size(x.shape)}) is deprecated. Please ensure they have the same size.")
    w = _data(weight)
    if w is not None:  # weight.expand(broadcast_shapes(target, weight))
        new = _broadcast_shapes("binary_cross_entropy", t.shape, w.shape)
        if tuple(new) != tuple(t.shape):
            raise ShapeError(f"binary_cross_entropy: output with shape {_list(t.shape)} doesn't match the broadcast "
                             f"shape {_list(new)}")
    if t.dtype != x.dtype:
        raise NNSpecRuntimeError(f"binary_cross_entropy: Found dtype {torch_type_name(t.dtype)} but expected "
                                 f"{torch_type_name(x.dtype)}")
    if x.dtype.kind != "f":
        raise _not_implemented("binary_cross_entropy", "binary_cross_entropy", x.dtype)
    if is_meta(x, t, w):
        return _result(x.shape, x.dtype, reduction)
    xp = _xp(x)
    if x.size and not bool(((x >= 0) & (x <= 1)).all()):  # NaN is out of range too
        raise NNSpecRuntimeError("binary_cross_entropy: all elements of input should be between 0 and 1")
    return kernels.binary_cross_entropy(x, t, None if w is None else xp.broadcast_to(w, x.shape), reduction,
                                        _ct(x.dtype), x.dtype)


def _broadcast_shapes(op: str, target, weight) -> tuple:
    """torch.broadcast_shapes(target, weight), with its message (a symbolic size is not asked whether it is 1)."""
    n = max(len(target), len(weight))
    out = [1] * n
    for shape in (target, weight):
        for i in range(-1, -len(shape) - 1, -1):
            if is_one(shape[i]) or shape[i] == out[i]:
                continue
            if not is_one(out[i]):
                raise ShapeError(f"{op}: Attempting to broadcast a dimension of length {shape[i]} at {i}! Mismatching "
                                 f"argument at index 1 had {_size(weight)}; but expected shape should be broadcastable "
                                 f"to {_list(out)}")
            out[i] = shape[i]
    return tuple(out)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross entropy of logits, in a stable form, with pos_weight for the positives (torch.nn.BCEWithLogitsLoss)."""
    op = "binary_cross_entropy_with_logits"
    x, t = _arrays(op, input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(t.shape) != tuple(x.shape):
        raise ShapeError(f"{op}: Target size ({_size(t.shape)}) must be the same as input size ({_size(x.shape)})")
    w, pw = _data(weight), _data(pos_weight)
    if x.dtype.kind != "f":
        raise _not_implemented(op, "log_sigmoid_cpu", x.dtype)
    if pw is not None:  # log_sigmoid(input) *= (pos_weight - 1) * target + 1, in place
        _into(op, x.shape, _broadcast(op, pw.shape, t.shape))
    if t.dtype.kind != "f":  # (1 - target).mul_(input): the loss is of the target's dtype
        raise _cast_error(op, _promote(t.dtype, x.dtype), t.dtype)
    if w is not None:
        _into(op, t.shape, w.shape)
    if is_meta(x, t, w, pw):
        return _result(x.shape, t.dtype, reduction)
    ct = _ct(_promote(x.dtype, t.dtype, None if w is None else w.dtype, None if pw is None else pw.dtype))
    return kernels.binary_cross_entropy_with_logits(x, t, w, pw, reduction, ct, t.dtype)


# --------------------------------------------------------------------------- classification


def _target_dtype(op: str, t) -> None:
    if t.dtype not in (_I64, numpy.dtype(numpy.uint8)):
        raise NNSpecRuntimeError(f"{op}: expected target dtype to be Long or Byte, but got {torch_type_name(t.dtype)}")


def _weight_dtype(op: str, x, w) -> None:
    if w is not None and w.dtype != x.dtype:
        raise NNSpecRuntimeError(f"{op}: expected scalar type {torch_type_name(x.dtype)} but found "
                                 f"{torch_type_name(w.dtype)}")


def _check_nll(op: str, x, t, w):
    """nll_loss_nd's shape and dtype checks; returns the elementwise ('none') shape."""
    if x.ndim < 1:
        raise ShapeError(f"{op}: Expected 1 or more dimensions (got {x.ndim})")
    if x.ndim != 1 and x.shape[0] != (t.shape[0] if t.ndim else 0):
        raise ShapeError(f"{op}: Expected input batch_size ({x.shape[0]}) to match target batch_size "
                         f"({t.shape[0] if t.ndim else 0}).")
    if x.ndim <= 2:
        if t.ndim > 1:
            raise ShapeError(f"{op}: 0D or 1D target tensor expected, multi-target not supported")
        if x.ndim == 1 and t.ndim == 1 and t.shape[0] != 1:
            raise ShapeError(f"{op}: For 1D input, 1D target must have size 1, but got target size: {t.shape[0]}")
        _target_dtype(op, t)
        c = x.shape[-1]
        if w is not None and not (w.ndim == 1 and w.shape[0] == c):
            raise ShapeError(f"{op}: weight tensor should be defined either for all {c} classes or no classes but got "
                             f"weight tensor of shape: {_list(w.shape)}")
        out = () if x.ndim == 1 else (x.shape[0],)
    else:
        out = (x.shape[0],) + tuple(x.shape[2:])
        if x.ndim != 4 and tuple(t.shape[1:]) != tuple(x.shape[2:]):
            raise ShapeError(f"{op}: Expected target size {_list(out)}, got {_list(t.shape)}")
        _target_dtype(op, t)
        if x.ndim == 4:  # nll_loss2d's own checks
            if t.ndim != 3:
                raise ShapeError(f"{op}: only batches of spatial targets supported (3D tensors) but got targets of "
                                 f"dimension: {t.ndim}")
        if w is not None and not (w.ndim == 1 and w.shape[0] == x.shape[1]):
            raise ShapeError(f"{op}: weight tensor should be defined either for all or no classes")
        if x.ndim == 4 and tuple(t.shape) != (x.shape[0],) + tuple(x.shape[2:]):
            raise ShapeError(f"{op}: size mismatch (got input: {_list(x.shape)} , target: {_list(t.shape)}")
    _weight_dtype(op, x, w)
    if x.dtype.kind != "f":
        raise _not_implemented(op, "nll_loss_out_frame" if x.ndim <= 2 else "nll_loss2d_forward_out_frame", x.dtype)
    return out


def _check_targets(op: str, t, c, ignore_index: int) -> None:
    """torch's kernel check: every target not ignored is a class index in [0, C)."""
    if t.size == 0:
        return
    xp = _xp(t)
    tg = t.astype(xp.int64, copy=False)
    bad = (tg != ignore_index) & ((tg < 0) | (tg >= c))
    if bool(bad.any()):
        first = int(tg.reshape(-1)[int(xp.argmax(bad.reshape(-1)))])
        raise NNSpecRuntimeError(f"{op}: Target {first} is out of bounds.")


def _nll(op: str, logp, t, w, ignore_index: int, reduction: str, out_shape, ct, out):
    c = logp.shape[0] if logp.ndim == 1 else logp.shape[1]
    _check_targets(op, t, c, ignore_index)
    return kernels.nll_loss(logp, t, w, ignore_index, reduction, out_shape, ct, out)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    x, t = _arrays("nll_loss", input=input, target=target)
    w = _data(weight)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    reduction = _enum(reduction)
    ignore_index = _int("nll_loss", "ignore_index", ignore_index)
    out_shape = _check_nll("nll_loss", x, t, w)
    if is_meta(x, t, w):
        return _result(out_shape, x.dtype, reduction)
    return _nll("nll_loss", x.astype(_ct(x.dtype), copy=False), t, w, ignore_index, reduction, out_shape, _ct(x.dtype),
                x.dtype)


def _class_dim(op: str, x) -> int:
    if x.ndim == 0:
        raise ShapeError(f"{op}: Dimension specified as 1 but tensor has no dimensions")
    return 0 if x.ndim == 1 else 1


def _check_smoothing(op: str, label_smoothing) -> None:
    if label_smoothing > 1.0:
        raise NNSpecRuntimeError(f"{op}: label_smoothing must be between 0.0 and 1.0. Got: {float(label_smoothing)}")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Log-softmax and negative log likelihood of class indices or probabilities, over dim 1 (torch.nn.CrossEntropyLoss)."""
    op = "cross_entropy"
    x, t = _arrays(op, input=input, target=target)
    w = _data(weight)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    reduction = _enum(reduction)
    ignore_index = _int(op, "ignore_index", ignore_index)
    _number(op, "label_smoothing", label_smoothing)
    if tuple(x.shape) == tuple(t.shape):  # class probabilities
        if t.dtype.kind != "f":
            raise NNSpecRuntimeError(f"{op}: Expected floating point type for target with class probabilities, got "
                                     f"{torch_type_name(t.dtype)}")
        if ignore_index >= 0:
            raise NNSpecRuntimeError(f"{op}: ignore_index is not supported for floating point target")
        dim = _class_dim(op, x)
        c = x.shape[dim]
        if w is not None and not (w.ndim == 1 and w.shape[0] == c):
            raise ShapeError(f"{op}: cross_entropy: weight tensor should be defined either for all {c} classes or no "
                             f"classes but got weight tensor of shape: {_list(w.shape)}")
        _log_softmax_dtype(op, x)
        if label_smoothing > 0:
            _check_smoothing(op, label_smoothing)
        dt = _promote(x.dtype, t.dtype, None if w is None else w.dtype)
        shape = tuple(x.shape[:dim]) + tuple(x.shape[dim + 1:])
        if is_meta(x, t, w):
            return _result(shape, dt, reduction)
        ct = _ct(dt)
        logp = kernels.log_softmax(x, dim, _ct(x.dtype))
        return kernels.cross_entropy_probs(logp, t, w, label_smoothing, reduction, dim, ct, dt)
    if label_smoothing > 0:
        _check_smoothing(op, label_smoothing)
    if x.ndim == 0:
        raise ShapeError(f"{op}: Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    dim = 0 if x.ndim == 1 else 1
    _log_softmax_dtype(op, x)
    out_shape = _check_nll(op, x, t, w)
    if label_smoothing > 0 and reduction == "mean" and w is not None and t.dtype != _I64:
        raise NNSpecRuntimeError(f"{op}: gather(): Expected dtype int32/int64 for index")
    if is_meta(x, t, w):
        return _result(out_shape, x.dtype, reduction)
    ct = _ct(x.dtype)
    logp = kernels.log_softmax(x, dim, ct)
    loss = _nll(op, logp, t, w, ignore_index, reduction, out_shape, ct, ct)
    if label_smoothing > 0:
        c = x.shape[dim]
        smooth = kernels.smoothing_term(logp, t, w, ignore_index, reduction, dim, ct)
        loss = ct.type(1 - label_smoothing) * loss + smooth * ct.type(label_smoothing / c)
    return _xp(x).asarray(loss).astype(x.dtype, copy=False)


def _log_softmax_dtype(op: str, x) -> None:
    if x.dtype.kind != "f":
        raise _not_implemented(op, "log_softmax_lastdim_kernel_impl", x.dtype)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    op = "multi_margin_loss"
    x, t = _arrays(op, input=input, target=target)
    w = _data(weight)
    reduction = _reduction(reduction, size_average, reduce)
    _number(op, "margin", margin)
    if p != 1 and p != 2:
        raise NNSpecRuntimeError(f"{op}: only p == 1 and p == 2 supported")
    if w is not None and w.ndim != 1:
        raise ShapeError(f"{op}: weight must be one-dimensional")
    nframe, dim = _margin_frames(op, x)
    if not (t.ndim <= 1 and _numel(t.shape) == nframe):
        raise ShapeError(f"{op}: multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                         f"samples (batch size). Expected target size [{nframe}], but got {_list(t.shape)}. Input has "
                         f"shape {_list(x.shape)}.")
    if w is not None and _numel(w.shape) != dim:
        raise ShapeError(f"{op}: inconsistent weight size, expected {dim} but got {_list(w.shape)}")
    if x.dtype not in (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64)):
        raise _not_implemented(op, "multi_margin_loss_cpu_kernel", x.dtype)
    if t.dtype != _I64:
        raise NNSpecRuntimeError(f"{op}: expected scalar type Long but found {torch_type_name(t.dtype)}")
    _weight_dtype(op, x, w)
    out_shape = tuple(t.shape)
    if is_meta(x, t, w):
        return _result(out_shape, x.dtype, reduction)
    if t.size and bool(((t < 0) | (t >= dim)).any()):
        raise NNSpecRuntimeError(f"{op}: target out of range")
    return kernels.multi_margin_loss(x.reshape(nframe, dim), t, p, margin, w, reduction, out_shape, x.dtype, x.dtype)


def _numel(shape):
    n = 1
    for s in shape:
        n = n * s
    return n


def _margin_frames(op: str, x):
    """multi(label)_margin_loss's input: non-empty (C,) or (N, C), or 0-d; returns (frames, classes)."""
    if not ((x.ndim == 2 and x.shape[1] != 0) or (x.ndim == 1 and x.shape[0] != 0) or x.ndim == 0):
        raise ShapeError(f"{op}: Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                         f"{_list(x.shape)}")
    if x.ndim <= 1:
        return 1, (1 if x.ndim == 0 else x.shape[0])
    return x.shape[0], x.shape[1]


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    op = "multilabel_margin_loss"
    x, t = _arrays(op, input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    nframe, dim = _margin_frames(op, x)
    if x.ndim <= 1:
        if not (t.ndim <= 1 and _numel(t.shape) == dim):
            raise ShapeError(f"{op}: inconsistent target size: {_list(t.shape)} for input of size: {_list(x.shape)}")
    elif not (t.ndim == 2 and t.shape[0] == nframe and t.shape[1] == dim):
        raise ShapeError(f"{op}: inconsistent target size: {_list(t.shape)} for input of size: {_list(x.shape)}")
    if x.dtype not in (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64)):
        raise _not_implemented(op, "multilabel_margin_loss_forward_out_frame", x.dtype)
    if t.dtype != _I64:
        raise NNSpecRuntimeError(f"{op}: expected scalar type Long but found {torch_type_name(t.dtype)}")
    out_shape = () if t.ndim <= 1 else (nframe,)
    if is_meta(x, t):
        return _result(out_shape, x.dtype, reduction)
    if x.size == 0:  # torch returns before computing: nothing to add up
        return _xp(x).zeros(out_shape if reduction == "none" else (), x.dtype)
    if bool(((t < -1) | (t >= dim)).any()):
        raise NNSpecRuntimeError(f"{op}: argument #2 'target' is out of range")
    _fits(op, (nframe, dim, dim), x.dtype)
    return kernels.multilabel_margin_loss(x.reshape(nframe, dim), t.reshape(nframe, dim), reduction, out_shape,
                                          x.dtype, x.dtype)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    op = "multilabel_soft_margin_loss"
    x, t = _arrays(op, input=input, target=target)
    w = _data(weight)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    if x.dtype.kind != "f":
        raise _not_implemented(op, "log_sigmoid_cpu", x.dtype)
    shape = _broadcast(op, t.shape, x.shape)  # target * logsigmoid(input)
    dt = _promote(t.dtype, x.dtype)
    if w is not None:
        shape = _broadcast(op, shape, w.shape)
        dt = _promote(dt, w.dtype)
    if x.ndim == 0:
        raise ShapeError(f"{op}: Dimension specified as -1 but tensor has no dimensions")
    class_dim = x.ndim - 1
    c = x.shape[class_dim]
    shape = shape[:class_dim] + shape[class_dim + 1:]
    if reduction not in ("none", "mean", "sum"):
        raise NNSpecRuntimeError(f"{op}: {reduction} is not valid")
    if is_meta(x, t, w):
        return _result(shape, dt, reduction)
    _fits(op, tuple(_broadcast(op, t.shape, x.shape)), numpy.float64)  # the broadcast intermediates
    return kernels.multilabel_soft_margin_loss(x, t, w, reduction, class_dim, c, _ct(dt), dt)


# --------------------------------------------------------------------------- embeddings and margins


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    op = "hinge_embedding_loss"
    x, t = _arrays(op, input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    _number(op, "margin", margin)
    if x.dtype == _BOOL:
        raise NNSpecRuntimeError(f"{op}: Subtraction, the `-` operator, with a bool tensor is not supported. If you "
                                 "are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    shape = _broadcast(op, t.shape, x.shape)
    if reduction == "mean":
        _mean_dtype(op, x.dtype)
    if is_meta(x, t):
        return _result(shape, x.dtype, reduction)
    _fits(op, shape, numpy.float64)  # the broadcast intermediates
    if x.dtype.kind != "f":  # the margin is taken in the input's integer dtype
        return kernels.hinge_embedding_loss(x, t, int(margin), reduction, x.dtype, x.dtype)
    return kernels.hinge_embedding_loss(x, t, margin, reduction, _ct(x.dtype), x.dtype)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    op = "cosine_embedding_loss"
    x1, x2, t = _arrays(op, input1=input1, input2=input2, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    _number(op, "margin", margin)
    if t.ndim not in (0, 1):
        raise ShapeError(f"{op}: 0D or 1D target tensor expected, multi-target not supported")
    if t.ndim == 1 and not (x1.ndim == 2 and x2.ndim == 2):
        raise ShapeError(f"{op}: 1D target tensor expects 2D input tensors, but found inputs with sizes "
                         f"{_list(x1.shape)} and {_list(x2.shape)}.")
    if t.ndim == 0 and not (x1.ndim == 1 and x2.ndim == 1):
        raise ShapeError(f"{op}: 0D target tensor expects 1D input tensors, but found inputs with sizes "
                         f"{_list(x1.shape)} and {_list(x2.shape)}.")
    both = _broadcast(op, x1.shape, x2.shape)
    cos = both[:t.ndim] + both[t.ndim + 1:]
    shape = _broadcast(op, t.shape, cos)
    dt = _float(_promote(x1.dtype, x2.dtype))
    if is_meta(x1, x2, t):
        return _result(shape, dt, reduction)
    _fits(op, both, numpy.float64)  # the broadcast intermediates
    return kernels.cosine_embedding_loss(x1, x2, t, margin, reduction, t.ndim, _ct(dt), dt)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    op = "margin_ranking_loss"
    x1, x2, t = _arrays(op, input1=input1, input2=input2, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    _number(op, "margin", margin)
    if x1.ndim != x2.ndim or x1.ndim != t.ndim:
        raise ShapeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: input1: "
                         f"{_size(x1.shape)}, input2: {_size(x2.shape)}, target: {_size(t.shape)} ")
    if t.dtype == _BOOL:
        raise NNSpecRuntimeError(f"{op}: Negation, the `-` operator, on a bool tensor is not supported. If you are "
                                 "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    _no_bool_sub(op, x1.dtype, x2.dtype)
    diff = _broadcast(op, x1.shape, x2.shape)
    shape = _broadcast(op, t.shape, diff)
    dt = _float(_promote(t.dtype, x1.dtype, x2.dtype))
    if is_meta(x1, x2, t):
        return _result(shape, dt, reduction)
    _fits(op, shape, numpy.float64)  # the broadcast intermediates
    return kernels.margin_ranking_loss(x1, x2, t, margin, reduction, _ct(dt), dt)


def _triplet_dims(op: str, a, p, n) -> None:
    if not (a.ndim == p.ndim == n.ndim):
        raise ShapeError(f"{op}: The anchor, positive, and negative tensors are expected to have the same number of "
                         f"dimensions, but got: anchor {a.ndim}D, positive {p.ndim}D, and negative {n.ndim}D inputs")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    op = "triplet_margin_loss"
    a, pos, neg = _arrays(op, anchor=anchor, positive=positive, negative=negative)
    reduction = _reduction(reduction, size_average, reduce)
    _number(op, "margin", margin)
    _number(op, "p", p)
    _number(op, "eps", eps)
    _check_margin(margin)
    _triplet_dims(op, a, pos, neg)
    d_pos = pairwise_distance(a, pos, p, eps)  # torch.pairwise_distance, as ATen's triplet_margin_loss calls it
    d_neg = pairwise_distance(a, neg, p, eps)
    d_swap = pairwise_distance(pos, neg, p, eps) if swap else None
    shape = _broadcast(op, d_pos.shape, d_neg.shape)
    if d_swap is not None:
        shape = _broadcast(op, shape, _broadcast(op, d_neg.shape, d_swap.shape))
    dt = _promote(d_pos.dtype, d_neg.dtype, None if d_swap is None else d_swap.dtype)
    if is_meta(a, pos, neg):
        return _result(shape, dt, reduction)
    return kernels.triplet_margin_loss(d_pos, d_neg, d_swap, margin, reduction, _ct(dt), dt)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    op = "triplet_margin_with_distance_loss"
    if reduction not in ("mean", "sum", "none"):
        raise NNSpecRuntimeError(f"{reduction} is not a valid value for reduction")
    _number(op, "margin", margin)
    _check_margin(margin)
    a, pos, neg = _arrays(op, anchor=anchor, positive=positive, negative=negative)
    _triplet_dims(op, a, pos, neg)
    if distance_function is None:
        distance_function = pairwise_distance
    elif not callable(distance_function):
        raise NNSpecRuntimeError(f"{op}: distance_function must be callable, not {type(distance_function).__name__}")
    d_pos = _data(distance_function(anchor, positive))
    d_neg = _data(distance_function(anchor, negative))
    d_swap = _data(distance_function(positive, negative)) if swap else None
    for d in (d_pos, d_neg, d_swap):
        if d is not None and not (hasattr(d, "shape") and hasattr(d, "dtype")):
            raise NNSpecRuntimeError(f"{op}: distance_function must return an array, not {type(d).__name__}")
    shape = _broadcast(op, d_pos.shape, d_neg.shape)
    dt = _promote(d_pos.dtype, d_neg.dtype)
    if d_swap is not None:
        shape = _broadcast(op, shape, _broadcast(op, d_neg.shape, d_swap.shape))
        dt = _promote(dt, d_swap.dtype)
    dt = _float(dt) if dt.kind == "b" else dt
    if reduction == "mean":
        _mean_dtype(op, dt)
    if is_meta(d_pos, d_neg, d_swap):
        return _result(shape, dt, reduction)
    ct = _ct(dt) if dt.kind == "f" else dt
    return kernels.triplet_margin_loss(d_pos, d_neg, d_swap, margin if dt.kind == "f" else int(margin), reduction, ct,
                                       dt)


# --------------------------------------------------------------------------- CTC


def _lengths(op: str, name: str, value, batch):
    """CTC's input or target lengths: a list of ints or an integer array (flattened); returns (list of values or
    None for shape-only data, count)."""
    v = value if isinstance(value, (list, tuple, int)) else _data(value)
    if isinstance(v, (list, tuple)):
        for item in v:
            if isinstance(item, bool) or not isinstance(item, int):
                raise NNSpecRuntimeError(f"{op}(): {name} must be a list of ints or an integer array, got an element "
                                         f"of type {type(item).__name__}")
        return list(v), len(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return [v], 1
    if not (hasattr(v, "shape") and hasattr(v, "dtype")):
        raise NNSpecRuntimeError(f"{op}(): {name} must be a list of ints or an integer array, not "
                                 f"{type(value).__name__}")
    if v.dtype.kind not in "iu":
        raise NNSpecRuntimeError(f"{op}: {name} must be integral")
    n = _numel(v.shape)
    if is_meta(v):
        return None, n
    return [int(i) for i in v.reshape(-1).tolist()], n


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    op = "ctc_loss"
    lp, tg = _arrays(op, log_probs=log_probs, targets=targets)
    blank = _int(op, "blank", blank)
    reduction = _enum(reduction)
    if isinstance(input_lengths, (list, tuple)) != isinstance(target_lengths, (list, tuple)):
        raise NNSpecRuntimeError(f"{op}(): input_lengths and target_lengths must both be arrays or both lists of ints")
    batched = lp.ndim == 3
    il, n_il = _lengths(op, "input_lengths", input_lengths, None)
    tl, n_tl = _lengths(op, "target_lengths", target_lengths, None)
    where = "(while checking arguments for ctc_loss_allocate_outputs)"
    nd = lp.ndim if batched else lp.ndim + 1  # an unbatched (T, C) gains the batch dim
    if nd != 3:
        raise ShapeError(f"{op}: Expected 3-dimensional tensor, but got {nd}-dimensional tensor for argument #1 "
                         f"'log_probs' {where}")
    if not 1 <= tg.ndim <= 2:
        raise ShapeError(f"{op}: Expected 1 to 2 dimensions, but got {tg.ndim}-dimensional tensor for argument #2 "
                         f"'targets' {where}")
    t_len = lp.shape[0]
    n = lp.shape[1] if batched else 1
    c = lp.shape[-1]
    if not 0 <= blank < c:
        raise NNSpecRuntimeError(f"{op}: blank must be in label range")
    if n_il != n:
        raise ShapeError(f"{op}: input_lengths must be of size batch_size")
    if n_tl != n:
        raise ShapeError(f"{op}: target_lengths must be of size batch_size")
    if tl is not None:
        for v in tl:
            if v < 0:
                raise NNSpecRuntimeError(f"{op}: Expected target_lengths to have value at least 0, but got value {v} "
                                         f"{where}")
    if tg.ndim == 1:
        if tl is not None and tg.shape[0] != sum(tl):
            raise ShapeError(f"{op}: Expected tensor to have size {sum(tl)} at dimension 0, but got size "
                             f"{tg.shape[0]} for argument #2 'targets' {where}")
    else:
        if tg.shape[0] != n:
            raise ShapeError(f"{op}: Expected tensor to have size {n} at dimension 0, but got size {tg.shape[0]} for "
                             f"argument #2 'targets' {where}")
        if tl is not None and tg.shape[1] < max(tl, default=0):
            raise ShapeError(f"{op}: Expected tensor to have size at least {max(tl)} at dimension 1, but got size "
                             f"{tg.shape[1]} for argument #2 'targets' {where}")
    if il is not None:
        for v in il:
            if v < 0:
                raise NNSpecRuntimeError(f"{op}: Expected input_lengths to have value at least 0, but got value {v} "
                                         f"{where}")
            if v > t_len:
                raise NNSpecRuntimeError(f"{op}: Expected input_lengths to have value at most {t_len}, but got value "
                                         f"{v} {where}")
    if _numel(lp.shape) == 0:
        raise ShapeError(f"{op}: log_probs tensor must not be empty")
    if lp.dtype not in (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64)):
        raise _not_implemented(op, "ctc_loss_cpu", lp.dtype)
    if tg.dtype.kind not in "iuf":
        raise NNSpecRuntimeError(f"{op}: targets must be a numeric array, got {torch_type_name(tg.dtype)}")
    if is_meta(lp, tg) or il is None or tl is None:
        return _meta((n,) if reduction == "none" and batched else (), lp.dtype)
    xp = _xp(lp)
    labels = tg.astype(xp.int64, copy=False)  # torch converts the targets to int64
    offsets = [sum(tl[:b]) for b in range(n)]
    used = (labels if tg.ndim == 1 else labels[:, :max(tl, default=0)])
    if used.size:  # torch reads a label out of [0, C) from outside the array; refuse it
        mask = xp.ones(used.shape, bool) if tg.ndim == 1 else (xp.arange(used.shape[1])[None, :]
                                                                < xp.asarray(tl)[:, None])
        if bool((((used < 0) | (used >= c)) & mask).any()):
            raise NNSpecRuntimeError(f"{op}: targets must be class indices in [0, {c}) (the {c} classes of log_probs)")
    _fits(op, (3, n, 2 * max(tl, default=0) + 1), lp.dtype)
    if not batched:  # one sample: (T, 1, C), and a padded target as one row
        lp, labels = lp[:, None, :], labels if tg.ndim == 1 else labels.reshape(1, -1)
    res = kernels.ctc_loss(lp, labels, offsets, il, tl, blank, lp.dtype)
    if zero_infinity:
        res = xp.where(res == math.inf, lp.dtype.type(0), res)
    if reduction == "mean":
        lengths = xp.maximum(xp.asarray(tl, dtype=lp.dtype), lp.dtype.type(1))
        return xp.asarray((res / lengths).mean()).astype(lp.dtype, copy=False)
    if reduction == "sum":
        return xp.asarray(res.sum()).astype(lp.dtype, copy=False)
    return res if batched else xp.asarray(res[0])


# --------------------------------------------------------------------------- linear + cross entropy


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean",
                         ignore_index=None, label_smoothing=0.0, options=None):
    """cross_entropy(input @ linear_weight^T + linear_bias, target): linear_weight (C, *out_features, in_features)
    gives logits (*batch, C, *out_features). ``options`` (torch's chunking) changes no value; it is accepted."""
    from . import core

    op = "linear_cross_entropy"
    x, lw, t = _arrays(op, input=input, linear_weight=linear_weight, target=target)
    b = _data(linear_bias)
    if x.ndim < 1 or x.ndim > 2:
        raise ShapeError(f"{op}: expected input with dimensionality 1 or 2, got {x.ndim}")
    if lw.ndim < 2:
        raise ShapeError(f"{op}: expected linear_weight with dimensionality at least 2, got {lw.ndim}")
    batch = tuple(x.shape[:-1])
    in_features = x.shape[-1]
    if in_features != lw.shape[-1]:
        raise ShapeError(f"{op}: expected equal input and linear_weight last dimensions (in_features), got "
                         f"{x.shape[-1]} and {lw.shape[-1]}, respectively")
    c = lw.shape[0]
    out_features = tuple(lw.shape[1:-1])
    if b is not None and tuple(b.shape) != (c, *out_features):
        raise ShapeError(f"{op}: expected linear_bias shape {(c, *out_features)}, got {tuple(b.shape)}")
    if out_features and not batch:
        raise ShapeError(f"{op}: K-dimensional loss defined by linear_weight shape {tuple(lw.shape)} requires batched "
                         f"input, (N, {in_features}), got unbatched input with shape {tuple(x.shape)}")
    logits_shape = (*batch, c, *out_features)
    if tuple(t.shape) == logits_shape and ignore_index is not None:
        raise NNSpecRuntimeError(f"{op}: ignore_index cannot be specified when target contains probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    if options is not None and (out_features or reduction not in ("mean", "sum", "none") or label_smoothing != 0.0
                                or t.dtype != _I64):
        warnings.warn("linear_cross_entropy: ``options`` ignored; chunked path needs reduction in "
                      "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, out_features == (). Got "
                      f"reduction={reduction!r}, label_smoothing={label_smoothing}, "
                      f"target.dtype=torch.{'int64' if t.dtype == _I64 else t.dtype}, "
                      f"out_features={tuple(out_features)}, tracing=False, linear_bias.shape="
                      f"{tuple(b.shape) if b is not None else None}.", stacklevel=2)
    elif options is not None and x.ndim and hasattr(options, "check"):  # the chunked path: its options' own check
        try:
            options.check(x.shape[0] if x.ndim == 2 else 1, in_features, c, x.dtype == _F16)
        except NNSpecError as e:
            raise NNSpecRuntimeError(f"{op}: {e.message}") from None
    if out_features:
        flat = c * _numel(out_features)
        lw = lw.reshape(flat, in_features)
        if b is not None:
            b = b.reshape(flat)
    logits = core.linear(x, lw, b).reshape(logits_shape)
    return cross_entropy(logits, t, weight=weight, reduction=reduction, ignore_index=ignore_index,
                         label_smoothing=label_smoothing)


def _xp(a):
    from ..backend import get_array_module

    return get_array_module(a)
