"""Lookups: embedding, embedding_bag, one_hot (torch.nn.functional)."""

from __future__ import annotations

import warnings

import numpy  # dtype objects only

from ...errors import NNSpecRuntimeError, ShapeError
from ..backend import get_array_module
from ..kernels import embedding as kernels
from ..meta import DataDependentError, is_meta
from .core import _data, _fits, _int64, _meta, _shape, torch_type_name

__all__ = ["embedding", "embedding_bag", "one_hot"]

# torch's legacy tensor-type names, as its argument checks print them
_TENSOR_TYPES = {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor", "float16": "torch.HalfTensor",
                 "int64": "torch.LongTensor", "int32": "torch.IntTensor", "int16": "torch.ShortTensor",
                 "int8": "torch.CharTensor", "uint8": "torch.ByteTensor", "bool": "CPUBoolType"}


def _tensor_type(dtype) -> str:
    return _TENSOR_TYPES.get(str(dtype), str(dtype))


def _check_ids(op: str, ids, arg: str, where: str) -> None:
    """torch takes int64 or int32 ids only."""
    if ids.dtype not in (numpy.int64, numpy.int32):
        raise NNSpecRuntimeError(f"{op}: Expected tensor for argument {arg} 'indices' to have one of the following "
                                 f"scalar types: Long, Int; but got {_tensor_type(ids.dtype)} instead (while checking "
                                 f"arguments for {where})")


def _int_arg(op: str, name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise NNSpecRuntimeError(f"{op}: {name} must be an int, got {type(value).__name__}")
    _int64(op, **{name: value})


def _renorm(op: str, w, ids, max_norm, norm_type) -> None:
    """F.embedding's and F.embedding_bag's max_norm: torch.embedding_renorm_'s checks, then the rows the ids look
    up renormalised in place (not in static inference, which changes no state)."""
    if w.ndim != 2:
        raise ShapeError(f"{op}: Expected 2-dimensional tensor, but got {w.ndim}-dimensional tensor for argument #1 "
                         "'self' (while checking arguments for embedding_renorm_)")
    _check_ids(op, ids, "#2", "embedding_renorm_")
    if ids.size == 0 or is_meta(w, ids):
        return
    xp = get_array_module(w, ids)
    n = w.shape[0]
    low, high = int(ids.min()), int(ids.max())
    if low < -n or high >= n:  # torch renorms the distinct ids in ascending order: the first bad one stops it
        bad = low if low < -n else int(xp.where(ids >= n, ids, xp.iinfo(ids.dtype).max).min())
        raise NNSpecRuntimeError(f"{op}: select(): index {bad} out of range for tensor of size {_shape(w)} at "
                                 "dimension 0")
    if low < 0:
        raise NNSpecRuntimeError(f"{op}: index out of range in self (ids must be in [0, {n}), got {low})")
    if w.dtype.kind != "f":
        raise NNSpecRuntimeError(f"{op}: norm(): input dtype should be either floating point or complex. Got "
                                 f"{torch_type_name(w.dtype)} instead.")
    kernels.embedding_renorm_(w, ids, float(max_norm), float(norm_type))


def _padding_idx(op: str, padding_idx, n) -> None:
    if padding_idx >= n if padding_idx > 0 else padding_idx < -n:
        raise NNSpecRuntimeError(f"{op}: Padding_idx must be within num_embeddings (padding_idx={padding_idx}, "
                                 f"num_embeddings={n})")


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    ids, w = _data(input), _data(weight)
    if w.ndim != 2 and max_norm is None:
        raise ShapeError(f"embedding: 'weight' must be 2-D (got weight of size {_shape(w)})")
    if padding_idx is not None:
        _padding_idx("embedding", padding_idx, w.shape[0] if w.ndim else 1)
    if max_norm is not None:
        _renorm("embedding", w, ids, max_norm, norm_type)
    if w.ndim != 2:
        raise ShapeError(f"embedding: 'weight' must be 2-D (got weight of size {_shape(w)})")
    _check_ids("embedding", ids, "#1", "embedding")
    if w.shape[0] == 0 and ids.size:
        raise NNSpecRuntimeError("embedding: index_select(): self indexing axis dim should be positive (the weight "
                                 f"of size {_shape(w)} has no rows)")
    if is_meta(ids, w):
        return _meta(tuple(ids.shape) + (w.shape[1],), w.dtype)
    if ids.size:
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= w.shape[0]:
            raise NNSpecRuntimeError(f"embedding: index out of range in self (ids must be in [0, {w.shape[0]}), got "
                                     f"{low if low < 0 else high})")
    _fits("embedding", tuple(ids.shape) + (w.shape[1],), w.dtype)
    return kernels.embedding(w, ids)


_MODES = {"sum": 0, "mean": 1, "max": 2}


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    ids, w, off, psw = _data(input), _data(weight), _data(offsets), _data(per_sample_weights)
    if w.dtype == numpy.int64 and ids.dtype.kind == "f":
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag(weight, "
                      "input, ...)` is deprecated, and should now be `embedding_bag(input, weight, ...)`.", stacklevel=2)
        w, ids = ids, w
    if psw is not None and tuple(ids.shape) != tuple(psw.shape):
        raise ShapeError(f"embedding_bag: If per_sample_weights (torch.Size({_shape(psw)})) is not None, then it must "
                         f"have the same shape as the input (torch.Size({_shape(ids)}))")
    if w.ndim != 2:
        raise ShapeError(f"embedding_bag: weight has to be a 2D Tensor, but got Tensor of dimension {w.ndim}")
    if ids.ndim == 2:
        if off is not None:
            raise NNSpecRuntimeError("embedding_bag: if input is 2D, then offsets has to be None, as input is treated "
                                     "is a mini-batch of fixed length sequences. However, found offsets of type "
                                     f"{type(off)}")
        if ids.shape[1] == 0 and ids.shape[0] != 0:
            raise NNSpecRuntimeError(f"embedding_bag: step must be nonzero (an input of size {_shape(ids)}: bags of "
                                     "no ids)")
        include_last_offset = False
        nbags = ids.shape[0]
    elif ids.ndim == 1:
        if off is None:
            raise NNSpecRuntimeError("embedding_bag: offsets has to be a 1D Tensor but got None")
        if off.ndim != 1:
            raise ShapeError("embedding_bag: offsets has to be a 1D Tensor")
        nbags = off.shape[0] - 1 if include_last_offset else off.shape[0]
    else:
        raise ShapeError(f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of dimension {ids.ndim}")
    if mode not in _MODES:
        raise NNSpecRuntimeError(f"embedding_bag: mode has to be one of sum, mean or max (got {mode!r})")
    if mode == "max" and scale_grad_by_freq:
        raise NNSpecRuntimeError("embedding_bag: max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise NNSpecRuntimeError("embedding_bag: max mode does not support sparse weights")
    if max_norm is not None:
        _renorm("embedding_bag", w, ids, max_norm, norm_type)
    if psw is not None and mode != "sum":
        raise NNSpecRuntimeError("embedding_bag: per_sample_weights was not None. per_sample_weights is only supported "
                                 f"for mode='sum' (got mode='{mode}'). Please open a feature request on GitHub.")
    _check_ids("embedding_bag", ids, "#1", "embedding_bag")
    if off is not None:
        _check_ids("embedding_bag", off, "#1", "embedding_bag")
    if w.dtype.kind != "f":
        raise NNSpecRuntimeError("embedding_bag: Expected tensor for argument #1 'weight' to have one of the following "
                                 f"scalar types: Half, BFloat16, Float, Double; but got {_tensor_type(w.dtype)} instead "
                                 "(while checking arguments for embedding_bag)")
    if psw is not None and psw.dtype != w.dtype:
        raise NNSpecRuntimeError("embedding_bag: Expected tensor for argument #1 'weight' to have the same type as "
                                 "tensor for argument #1 'per_sample_weights'; but type "
                                 f"{_tensor_type(w.dtype)} does not equal {_tensor_type(psw.dtype)} (while checking "
                                 "arguments for embedding_bag)")
    n = w.shape[0]
    if padding_idx is not None:
        _int_arg("embedding_bag", "padding_idx", padding_idx)
        if not -n <= padding_idx < n:
            raise NNSpecRuntimeError(f"embedding_bag: padding_idx must be within the number of embeddings, -{n} "
                                     f"through {n - 1}, but got {padding_idx}")
        padding_idx = padding_idx + n if padding_idx < 0 else padding_idx
    if include_last_offset and off.shape[0] < 1:
        raise NNSpecRuntimeError("embedding_bag: include_last_offset: number of offset should be at least 1")
    if is_meta(ids, w, off, psw):
        return _meta((nbags, w.shape[1]), w.dtype)
    xp = get_array_module(w, ids)
    flat = ids.reshape(-1)
    count = flat.shape[0]
    if ids.ndim == 2:  # fixed-length bags: offsets 0, T, 2T, ...
        starts = xp.arange(0, count, max(ids.shape[1], 1))
        ends = starts + ids.shape[1]
    else:
        starts, ends = _bags(off, count, include_last_offset, xp)
    if count:
        low, high = int(flat.min()), int(flat.max())
        if low < 0 or high >= n:
            bad = int(xp.nonzero((flat < 0) | (flat >= n))[0][0])
            value = int(flat[bad])
            if mode == "max":
                raise NNSpecRuntimeError("embedding_bag: Expected idx >= 0 && idx < num_embeddings but found idx to be "
                                         f"{value}")
            raise NNSpecRuntimeError(f"embedding_bag: Index {bad} of input takes value {value} which is not in the "
                                     f"valid range [0, {n})")
    longest = int((ends - starts).max()) if nbags else 0
    _fits("embedding_bag", (nbags, longest, w.shape[1]), numpy.float32 if w.dtype == numpy.float16 else w.dtype)
    return kernels.embedding_bag(w, flat.astype(xp.int64, copy=False), starts, ends, mode,
                                 None if psw is None else psw.reshape(-1), padding_idx)


def _bags(off, count: int, include_last_offset: bool, xp):
    """Each bag's (start, end) positions in the ids from 1-D offsets, with torch's checks of their values."""
    off = off.astype(xp.int64, copy=False)
    if off.shape[0] == 0:
        return off, off
    first, last = int(off[0]), int(off[-1])
    if first != 0:
        raise NNSpecRuntimeError("embedding_bag: offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                                 f"has to start from position 0. However, got {first}")
    if last > count:
        raise NNSpecRuntimeError(f"embedding_bag: offsets[-1] can not be greater than input's length {count} but got "
                                 f"offsets[-1] of {last}")
    if off.shape[0] > 1 and bool((off[1:] < off[:-1]).any()):
        raise NNSpecRuntimeError(f"embedding_bag: offsets must be non-decreasing (each bag starts where the one before "
                                 f"it does or after), got offsets of size {_shape(off)} that decrease")
    if include_last_offset:
        if off.shape[0] > 1 and last != count:
            # torch's kernels disagree here (float32 ends the last bag at offsets[-1] but averages it over the ids to
            # the end; float64 runs it to the end): nnspec refuses, with the message torch gives in some such cases
            raise NNSpecRuntimeError("embedding_bag: Your input appears to be incorrect: the last offset value should "
                                     "be the size of the indices tensor, but it seems not to be the case. (offsets[-1]="
                                     f"{last}, {count} ids; include_last_offset=True)")
        return off[:-1], off[1:]
    return off, xp.concatenate([off[1:], xp.asarray([count], dtype=off.dtype)])


def one_hot(tensor, num_classes=-1):
    """int64 ids (*) -> (*, num_classes) int64 one-hot codes (torch.nn.functional.one_hot)."""
    x = _data(tensor)
    if x.dtype != numpy.int64:
        raise NNSpecRuntimeError("one_hot: one_hot is only applicable to index tensor of type LongTensor. (got "
                                 f"{torch_type_name(x.dtype)})")
    _int_arg("one_hot", "num_classes", num_classes)
    if x.size == 0:
        if num_classes <= 0:
            raise ShapeError("one_hot: Can not infer total number of classes from empty tensor.")
        return _meta(tuple(x.shape) + (num_classes,), numpy.int64) if is_meta(x) \
            else get_array_module(x).zeros(tuple(x.shape) + (num_classes,), numpy.int64)
    if is_meta(x):
        if num_classes == -1:
            raise DataDependentError("one_hot: num_classes=-1 takes the number of classes from the largest value of "
                                     "the input, which static inference does not know; give num_classes")
        if num_classes <= 0:
            raise NNSpecRuntimeError("one_hot: Class values must be smaller than num_classes.")
        return _meta(tuple(x.shape) + (num_classes,), numpy.int64)
    if int(x.min()) < 0:
        raise NNSpecRuntimeError("one_hot: Class values must be non-negative.")
    high = int(x.max())
    if num_classes == -1:
        num_classes = high + 1
    elif num_classes <= high:
        raise NNSpecRuntimeError("one_hot: Class values must be smaller than num_classes.")
    _fits("one_hot", tuple(x.shape) + (num_classes,), numpy.int64)
    return kernels.one_hot(x, num_classes)
