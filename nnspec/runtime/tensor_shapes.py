"""torch's shape ops: chunk/split/unbind, expand/repeat/tile/repeat_interleave, flip/roll, narrow/select,
gather/index_select/scatter, movedim/swapaxes/unflatten, view_as/reshape_as/broadcast_to, the .T/.mT
attributes, stack variants, einsum, and the batched and vector products (bmm, baddbmm, outer, dot).

Each op returns a view where torch's does and NumPy can (slices, broadcasts, transposes), checks its
arguments with torch's messages, and gives a shape-only result on shape-only input; sizes may be
symbolic where the shape arithmetic allows.
"""

from __future__ import annotations

import builtins
import math
import operator
from typing import Any

import numpy

from ..errors import NNSpecRuntimeError, ShapeError
from . import meta
from .backend import get_array_module, to_numpy
from .functional.core import _fits, torch_type_name, wrap_dim
from .meta import MetaArray, broadcast_shapes, is_meta
from .symbolic import Dim, is_symbolic
from .values import RETURN_TYPES
from .tensor import (_BOOL, _CPP_TYPE_NAMES, _F32, _I64, _array, _broadcast_check, _dims_list, _ints, _is_array,
                     _mat, _out, _quiet, _reshape, _shape, _size, _tensor_list, _varargs, cat, data_of, infer_size,
                     mul, promote_types, stack, transpose)


def _slice_along(x, d: int, start: Any, stop: Any):
    """x[..., start:stop, ...] along dim d: a view."""
    return x[(slice(None),) * d + (slice(start, stop),)]


def _int_arg(op: str, value: Any, name: str) -> Any:
    if isinstance(value, bool) or not (isinstance(value, (int, Dim)) or hasattr(value, "__index__")):
        raise NNSpecRuntimeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")
    if _is_array(value):
        x = data_of(value)
        if x.ndim != 0 or x.dtype.kind not in "iu":
            raise NNSpecRuntimeError(f"{op}(): argument '{name}' must be int, not an array of size {_shape(x.shape)}")
        if is_meta(x):
            raise meta.DataDependentError(f"{op}: the {name} depends on an array's value, which static inference "
                                          "does not know")
        return int(x)
    return value if is_symbolic(value) else operator.index(value)


# --------------------------------------------------------------------------- chunk / split / unbind


def chunk(input, chunks, dim=0):
    """torch.chunk: at most ``chunks`` views of ceil(size / chunks) along ``dim`` (the last may be smaller)."""
    x = _array(input, "chunk")
    chunks = _int_arg("chunk", chunks, "chunks")
    if x.ndim == 0:
        raise ShapeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise NNSpecRuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = wrap_dim(dim, x.ndim, "chunk")
    size = x.shape[d]
    step = (size + chunks - 1) // chunks
    return _split_even("chunk", x, d, step, chunks if size == 0 else None)


def _split_even(op: str, x, d: int, step: Any, count: int | None = None) -> tuple:
    """Views of ``step`` along dim d (the last one shorter); ``count`` empty views where the dim is empty."""
    size = x.shape[d]
    if count is not None:  # an empty dim: chunk gives `chunks` empty views, split one
        return tuple(_slice_along(x, d, 0, 0) for _ in range(count))
    if step == 0:
        return (_slice_along(x, d, 0, 0),)
    n = _concrete(op, (size + step - 1) // step)
    return tuple(_slice_along(x, d, i * step, (i + 1) * step if i < n - 1 else None) for i in range(n))


def _concrete(op: str, n: Any) -> int:
    """A number of pieces: it must be known (a symbolic size that leaves it open needs a number)."""
    if is_symbolic(n):
        return operator.index(n)  # SymbolicValueError: name the size
    if n > 100_000:
        raise NNSpecRuntimeError(f"{op}: more than 100,000 pieces")
    return n


def _split(op: str, x, split_size, dim) -> tuple:
    x = _array(x, op)
    if x.ndim == 0:
        raise ShapeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, x.ndim, op)
    if isinstance(split_size, (tuple, list)):
        return _split_sizes(op, x, list(split_size), d)
    size_ = _int_arg(op, split_size, "split_size")
    if size_ < 0:
        raise NNSpecRuntimeError(f"split expects split_size be non-negative, but got split_size={size_}")
    size = x.shape[d]
    if size_ == 0 and size != 0:
        raise NNSpecRuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
    if size == 0:
        return (_slice_along(x, d, 0, 0),)
    return _split_even(op, x, d, size_)


def _split_sizes(op: str, x, sizes: list, d: int) -> tuple:
    sizes = _ints(op, sizes, "split_sizes")
    if any(not is_symbolic(s) and s < 0 for s in sizes):
        raise NNSpecRuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                                 f"split_sizes={_shape(sizes)}")
    total: Any = 0
    for s in sizes:
        total = total + s
    if total != x.shape[d]:
        raise ShapeError(f"split_with_sizes expects split_sizes to sum exactly to {x.shape[d]} (input tensor's size at "
                         f"dimension {d}), but got split_sizes={_shape(sizes)}")
    out, start = [], 0
    for s in sizes:
        out.append(_slice_along(x, d, start, start + s))
        start = start + s
    return tuple(out)


def split(tensor, split_size_or_sections, dim=0):
    """torch.split: views of ``split_size`` along ``dim`` (the last shorter), or of the given sizes."""
    return _split("split", tensor, split_size_or_sections, dim)


def split_method(self, split_size, dim=0):
    """Tensor.split(split_size, dim=0): views of split_size along dim (the last one shorter), or of the sizes given."""
    return _split("split", self, split_size, dim)


def split_with_sizes(self, split_sizes, dim=0):
    if not isinstance(split_sizes, (tuple, list)):
        raise NNSpecRuntimeError(f"split_with_sizes(): argument 'split_sizes' must be tuple of ints, not "
                                 f"{type(split_sizes).__name__}")
    x = _array(self, "split_with_sizes")
    if x.ndim == 0:
        raise ShapeError("split expects at least a 1-dimensional tensor")
    return _split_sizes("split_with_sizes", x, list(split_sizes), wrap_dim(dim, x.ndim, "split_with_sizes"))


def unbind(input, dim=0):
    """torch.unbind: the views x.select(dim, i) for every i."""
    x = _array(input, "unbind")
    if x.ndim == 0:
        raise ShapeError("unbind: Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, x.ndim, "unbind")
    n = _concrete("unbind", x.shape[d])
    return tuple(x[(slice(None),) * d + (i,)] for i in range(n))


# --------------------------------------------------------------------------- expand / repeat


def _expanded(op: str, x, sizes: list) -> tuple:
    """torch's expand shape: new dims in front, -1 keeps a size, a size-1 dim stretches."""
    if len(sizes) < x.ndim:
        raise ShapeError(f"expand(torch.{_tensor_type(x.dtype)}{{{_shape(x.shape)}}}, size={_shape(sizes)}): the number "
                         f"of sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions in "
                         f"the tensor ({x.ndim})")
    lead = len(sizes) - x.ndim
    out = []
    for i in reversed(range(len(sizes))):  # torch checks from the last dim back
        s = sizes[i]
        if i < lead:
            if not is_symbolic(s) and s < 0:
                raise ShapeError(f"{op}: The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                 f"non-existing dimension {i}")
            out.append(s)
            continue
        have = x.shape[i - lead]
        if not is_symbolic(s) and s == -1:
            out.append(have)
        elif not is_symbolic(have) and have == 1:
            if not is_symbolic(s) and s < 0:
                raise ShapeError(f"{op}: The expanded size of the tensor ({s}) must match the existing size ({have}) "
                                 f"at non-singleton dimension {i}.  Target sizes: {_shape(sizes)}.  Tensor sizes: "
                                 f"{_shape(x.shape)}")
            out.append(s)
        elif s != have:
            raise ShapeError(f"{op}: The expanded size of the tensor ({s}) must match the existing size ({have}) at "
                             f"non-singleton dimension {i}.  Target sizes: {_shape(sizes)}.  Tensor sizes: "
                             f"{_shape(x.shape)}")
        else:
            out.append(s)
    return tuple(reversed(out))


_TENSOR_TYPES = {"float16": "HalfTensor", "float32": "FloatTensor", "float64": "DoubleTensor", "int8": "CharTensor",
                 "uint8": "ByteTensor", "int16": "ShortTensor", "int32": "IntTensor", "int64": "LongTensor",
                 "bool": "BoolTensor"}


def _tensor_type(dtype) -> str:
    return _TENSOR_TYPES.get(str(dtype), str(dtype))


def _broadcast_view(x, shape: tuple, op: str):
    if is_meta(x) or any(is_symbolic(s) for s in shape):
        return MetaArray(shape, x.dtype, base=x.base if isinstance(x, MetaArray) and x.base is not None else
                         x if isinstance(x, MetaArray) else None)
    # a view costs no memory, but every op on it walks all its elements: bounded as if it were made
    # (x.expand(10**6, 10**6, 3).sum() would run for hours)
    _fits(op, shape, x.dtype)
    if tuple(shape) == tuple(x.shape):
        return x[...]  # nothing expanded: a plain view, written into as torch's is
    return get_array_module(x).broadcast_to(x, shape)


def expand(self, *sizes, size=None):
    """Tensor.expand(*sizes) or (sizes): a broadcast view; -1 keeps a dim's size."""
    x = _array(self, "expand")
    shape = _expanded("expand", x, _varargs("expand", sizes, size, "size"))
    return _broadcast_view(x, shape, "expand")


def expand_as(self, other):
    x, o = _array(self, "expand_as"), _array(other, "expand_as", "other")
    return _broadcast_view(x, _expanded("expand_as", x, list(o.shape)), "expand_as")


def broadcast_to(input, size):
    """torch.broadcast_to(input, size): expand with a tuple of sizes."""
    x = _array(input, "broadcast_to")
    if not isinstance(size, (tuple, list)):
        raise NNSpecRuntimeError(f"broadcast_to(): argument 'size' must be tuple of ints, not {type(size).__name__}")
    return _broadcast_view(x, _expanded("broadcast_to", x, _ints("broadcast_to", size, "size")), "broadcast_to")


def _repeat(op: str, x, reps: list):
    if len(reps) < x.ndim:
        raise ShapeError(f"{op}: Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                         "tensor")
    padded = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    shape = tuple(r * s for r, s in zip(reps, padded))
    for s in shape:
        if not is_symbolic(s) and s < 0:
            raise ShapeError(f"{op}: Trying to create tensor with negative dimension {s}: {_shape(shape)}")
    if is_meta(x) or any(is_symbolic(s) for s in shape):
        return MetaArray(shape, x.dtype)
    _fits(op, shape, x.dtype)
    return get_array_module(x).tile(x.reshape(padded), reps)


def repeat(self, *repeats, sizes=None):
    """Tensor.repeat(*sizes): the tensor tiled ``sizes`` times along each dim (new dims in front)."""
    x = _array(self, "repeat")
    return _repeat("repeat", x, _varargs("repeat", repeats, sizes, "repeats"))


def tile(input, dims):
    """torch.tile(input, dims): repeat, with ``dims`` padded with 1s in front to the input's dims."""
    x = _array(input, "tile")
    if not isinstance(dims, (tuple, list)):
        raise NNSpecRuntimeError(f"tile(): argument 'dims' must be tuple of ints, not {type(dims).__name__}")
    reps = _ints("tile", dims, "dims")
    return _repeat("tile", x, [1] * (x.ndim - len(reps)) + reps)


def tile_method(self, *dims):
    """Tensor.tile(*dims) or (dims): the tensor repeated dims times along each dim (torch.tile)."""
    x = _array(self, "tile")
    reps = _varargs("tile", dims, None, "dims")
    return _repeat("tile", x, [1] * (x.ndim - len(reps)) + reps)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """torch.repeat_interleave: each element (or slice along ``dim``) repeated; ``repeats`` an int or a 1-d
    array of counts (one per element, or one for all); the input flattened where ``dim`` is None."""
    x = _array(input, "repeat_interleave")
    if repeats is None:  # torch.repeat_interleave(repeats): the indices, each repeated its count
        r = x
        if r.dtype.kind not in "iu":
            raise NNSpecRuntimeError(f'repeat_interleave: "repeat_interleave_cpu" not implemented for '
                                     f"'{torch_type_name(r.dtype)}'")
        if r.ndim > 1:
            raise ShapeError("repeat_interleave: repeats must be 0-dim or 1-dim tensor")
        if is_meta(r):
            raise meta.DataDependentError("repeat_interleave: the length depends on the counts' values, which static "
                                          "inference does not know")
        xp = get_array_module(r)
        counts = r.reshape(-1)
        if bool((counts < 0).any()):
            raise NNSpecRuntimeError("repeat_interleave: repeats can not be negative")
        return xp.repeat(xp.arange(counts.shape[0], dtype=xp.int64), to_numpy(counts).tolist())  # (CuPy: a list)
    if dim is None:
        x = x.reshape(-1)
        d = 0
    else:
        d = wrap_dim(dim, x.ndim, "repeat_interleave")
        if x.ndim == 0:
            x = x.reshape(1)
    size = x.shape[d]
    if _is_array(repeats):
        r = data_of(repeats)
        if r.dtype.kind not in "iu":
            raise NNSpecRuntimeError(f'repeat_interleave: "repeat_interleave_cpu" not implemented for '
                                     f"'{torch_type_name(r.dtype)}'")
        if r.ndim > 1:
            raise ShapeError("repeat_interleave: repeats must be 0-dim or 1-dim tensor")
        if r.ndim == 1 and r.shape[0] != 1 and r.shape[0] != size:
            raise ShapeError(f"repeat_interleave: repeats must have the same size as input along dim, but got "
                             f"repeats.size(0) = {r.shape[0]} and input.size({d}) = {size}")
        if is_meta(r) or is_meta(x):
            if r.ndim == 0 or r.shape[0] == 1 or output_size is None:
                if output_size is None:
                    raise meta.DataDependentError("repeat_interleave: the length depends on the counts' values, which "
                                                  "static inference does not know (give output_size)")
            shape = tuple(output_size if i == d else s for i, s in enumerate(x.shape))
            return MetaArray(shape, x.dtype)
        counts = r.reshape(-1)
        if bool((counts < 0).any()):
            raise NNSpecRuntimeError("repeat_interleave: repeats can not be negative")
        reps: Any = int(counts[0]) if counts.shape[0] == 1 else to_numpy(counts).tolist()  # (CuPy: a list)
    else:
        reps = _int_arg("repeat_interleave", repeats, "repeats")
        if reps < 0:
            raise NNSpecRuntimeError("repeat_interleave: Repeats must be non-negative")
    if isinstance(reps, (int, Dim)):
        shape = tuple(s * reps if i == d else s for i, s in enumerate(x.shape))
    else:
        shape = tuple(sum(reps) if i == d else s for i, s in enumerate(x.shape))
    if output_size is not None and output_size != shape[d]:
        raise ShapeError(f"repeat_interleave: allocated size does not match required size (output_size="
                         f"{output_size}, required {shape[d]})")
    if is_meta(x) or any(is_symbolic(s) for s in shape):
        return MetaArray(shape, x.dtype)
    _fits("repeat_interleave", shape, x.dtype)
    return get_array_module(x).repeat(x, reps, axis=d)


# --------------------------------------------------------------------------- flip / roll / narrow / select


def flip(input, dims):
    """torch.flip(input, dims): a copy with the order of ``dims`` reversed."""
    x = _array(input, "flip")
    if not isinstance(dims, (tuple, list)):
        raise NNSpecRuntimeError(f"flip(): argument 'dims' (position 2) must be tuple of ints, not {type(dims).__name__}")
    return _flip(x, _dims_list("flip", x, _ints("flip", dims, "dims")))


def flip_method(self, *dims):
    """Tensor.flip(*dims) or (dims): the order of the elements reversed along the dims (a copy)."""
    x = _array(self, "flip")
    return _flip(x, _dims_list("flip", x, _varargs("flip", dims, None, "dims")))


def _flip(x, dims: list[int]):
    if is_meta(x):
        return MetaArray(x.shape, x.dtype)
    if not dims or x.ndim == 0:
        return x.copy()
    return get_array_module(x).flip(x, axis=tuple(dims)).copy()  # a copy, as torch's flip


def roll(input, shifts, dims=None):
    """torch.roll: elements shifted along ``dims`` (of the flattened input where None), wrapping around."""
    x = _array(input, "roll")
    shift_list = list(shifts) if isinstance(shifts, (tuple, list)) else [shifts]
    dim_list = [] if dims is None else list(dims) if isinstance(dims, (tuple, list)) else [dims]
    shift_list = [_int_arg("roll", s, "shifts") for s in shift_list]
    if not dim_list:
        if len(shift_list) != 1:
            raise NNSpecRuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shift_list)}, dims:0")
        if is_meta(x):
            return MetaArray(x.shape, x.dtype)
        xp = get_array_module(x)
        return xp.roll(x.reshape(-1), shift_list[0]).reshape(x.shape)
    if len(shift_list) != len(dim_list):
        raise NNSpecRuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shift_list)}, dims:"
                                 f"{len(dim_list)}")
    wrapped = [wrap_dim(d, x.ndim, "roll") for d in dim_list]
    if is_meta(x):
        return MetaArray(x.shape, x.dtype)
    if x.ndim == 0:
        return x.copy()
    return get_array_module(x).roll(x, shift_list, axis=wrapped)


def narrow(input, dim, start, length):
    """torch.narrow: the view of ``length`` elements from ``start`` (which may be negative) along ``dim``."""
    x = _array(input, "narrow")
    if x.ndim == 0:
        raise ShapeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, x.ndim, "narrow")
    start, length = _int_arg("narrow", start, "start"), _int_arg("narrow", length, "length")
    size = x.shape[d]
    if length < 0:
        raise ShapeError("narrow(): length must be non-negative.")
    if start < -size or start > size:
        raise ShapeError(f"narrow: start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start = start + size
    if start + length > size:
        raise ShapeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return _slice_along(x, d, start, start + length)


def select(input, dim, index):
    """torch.select: the view at ``index`` along ``dim`` (that dim removed)."""
    x = _array(input, "select")
    if x.ndim == 0:
        raise ShapeError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, x.ndim, "select")
    i = _int_arg("select", index, "index")
    size = x.shape[d]
    if i < -size or i >= size:
        raise ShapeError(f"select(): index {i} out of range for tensor of size {_shape(x.shape)} at dimension {d}")
    if i < 0:
        i = i + size
    return x[(slice(None),) * d + (i,)]


# --------------------------------------------------------------------------- gather / index_select / scatter


def _check_bounds(op: str, xp, idx, size, d: int, message: str | None = None) -> None:
    if is_meta(idx) or idx.size == 0 or is_symbolic(size):
        return
    lo, hi = int(idx.min()), int(idx.max())
    if lo < 0 or hi >= size:
        bad = lo if lo < 0 else hi
        raise ShapeError(message or f"{op}: index {bad} is out of bounds for dimension {d} with size {size}")


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """torch.gather: out[i][j] = input[index[i][j]][j] (for dim 0); the index's shape is the result's."""
    x = _array(input, "gather")
    idx = _array(index, "gather", "index")
    d = wrap_dim(dim, x.ndim, "gather")
    if idx.dtype != _I64 and idx.dtype != numpy.int32:
        raise NNSpecRuntimeError("gather(): Expected dtype int32/int64 for index")
    if max(idx.ndim, 1) != max(x.ndim, 1):
        raise ShapeError("gather: Index tensor must have the same number of dimensions as input tensor")
    if x.ndim:
        for k in range(x.ndim):
            if k != d and idx.shape[k] > x.shape[k]:
                raise ShapeError(f"gather: Size does not match at dimension {k} expected index {_shape(idx.shape)} to "
                                 f"be no larger than self {_shape(x.shape)} apart from dimension {d}")
    if is_meta(x, idx):
        return MetaArray(idx.shape, x.dtype)
    xp = get_array_module(x, idx)
    if x.ndim == 0:
        _check_bounds("gather", xp, idx, 1, 0)
        return x.copy().reshape(idx.shape)
    _check_bounds("gather", xp, idx, x.shape[d], d)
    if idx.size == 0:
        return xp.zeros(idx.shape, dtype=x.dtype)
    part = x[tuple(slice(None) if k == d else slice(0, idx.shape[k]) for k in range(x.ndim))]
    return xp.take_along_axis(part, idx.astype(xp.int64), axis=d)


def index_select(input, dim, index, *, out=None):
    """torch.index_select: the slices at ``index`` (a 1-d or 0-d int array) along ``dim``."""
    x = _array(input, "index_select")
    idx = _array(index, "index_select", "index")
    d = wrap_dim(dim, x.ndim, "index_select")
    if idx.ndim > 1:
        raise ShapeError("index_select(): Index is supposed to be a vector")
    if idx.dtype != _I64 and idx.dtype != numpy.int32:
        raise NNSpecRuntimeError("index_select(): Expected dtype int32 or int64 for index")
    n = idx.shape[0] if idx.ndim else 1
    shape = tuple(n if k == d else s for k, s in enumerate(x.shape))
    if is_meta(x, idx):
        return MetaArray(shape, x.dtype)
    xp = get_array_module(x, idx)
    _check_bounds("index_select", xp, idx, x.shape[d] if x.ndim else 1, d, "index_select: index out of range in self")
    if x.ndim == 0:
        return x.copy()
    return xp.take(x, idx.reshape(-1).astype(xp.int64), axis=d)


def scatter(input, dim, index, src=None, *, value=None, reduce=None, out=None):
    """torch.scatter: a copy of input with ``src`` (an array, or a number ``value``) written at the indices
    ``index`` gives along ``dim`` (no ``reduce``)."""
    x = _array(input, "scatter")
    idx = _array(index, "scatter", "index")
    if reduce is not None:
        raise NNSpecRuntimeError("scatter(): reduce= is not supported")
    if src is not None and value is not None:
        raise NNSpecRuntimeError("scatter(): give src or value, not both")
    if src is None and value is None:
        raise NNSpecRuntimeError("scatter(): missing src (or value)")
    source = src if src is not None else value
    d = wrap_dim(dim, x.ndim, "scatter")
    if idx.dtype != _I64:
        raise NNSpecRuntimeError("scatter(): Expected dtype int64 for index")
    s = None
    if _is_array(source):
        s = data_of(source)
        if s.dtype != x.dtype:
            raise NNSpecRuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if max(idx.ndim, 1) != max(x.ndim, 1) or (s is not None and max(s.ndim, 1) != max(x.ndim, 1)):
        raise ShapeError("scatter: Index tensor must have the same number of dimensions as self tensor")
    if x.ndim:
        for k in range(x.ndim):
            if (k != d and idx.shape[k] > x.shape[k]) or (s is not None and s.ndim and idx.shape[k] > s.shape[k]):
                raise ShapeError(f"scatter: Expected index {_shape(idx.shape)} to be no larger than self "
                                 f"{_shape(x.shape)} apart from dimension {d}"
                                 + (f" and to be no larger size than src {_shape(s.shape)}" if s is not None else ""))
    if is_meta(x, idx, s):
        return MetaArray(x.shape, x.dtype)
    xp = get_array_module(x, idx, *([s] if s is not None else []))
    result = x.copy()
    if idx.size == 0:
        return result
    if x.ndim == 0:
        _check_bounds("scatter", xp, idx, 1, 0)
        result[...] = s.reshape(()) if s is not None else source
        return result
    _check_bounds("scatter", xp, idx, x.shape[d], d)
    grid = list(xp.indices(idx.shape))
    grid[d] = idx.astype(xp.int64)
    if s is not None:
        result[tuple(grid)] = s[tuple(slice(0, n) for n in idx.shape)]
    else:
        from .tensor_creation import _number, convert_scalar

        result[tuple(grid)] = convert_scalar(_number(source, "scatter", "value"), x.dtype, "scatter")
    return result


# --------------------------------------------------------------------------- dims


def movedim(input, source, destination):
    """torch.movedim: the dims ``source`` moved to ``destination`` (ints or sequences), others in order."""
    x = _array(input, "movedim")
    src = list(source) if isinstance(source, (tuple, list)) else [source]
    dst = list(destination) if isinstance(destination, (tuple, list)) else [destination]
    if len(src) != len(dst):
        raise ShapeError(f"movedim: Invalid source or destination dims: source ({_shape(src)} dims) should contain the "
                         f"same number of dims as destination ({_shape(dst)} dims)")
    s = [wrap_dim(v, x.ndim, "movedim") for v in src]
    t = [wrap_dim(v, x.ndim, "movedim") for v in dst]
    if len(set(s)) != len(s):
        raise ShapeError(f"movedim: repeated dim in `source` ({_shape(src)})")
    if len(set(t)) != len(t):
        raise ShapeError(f"movedim: repeated dim in `destination` ({_shape(dst)})")
    if x.ndim == 0:
        return x
    order = [None] * x.ndim
    for a, b in zip(s, t):
        order[b] = a
    rest = iter(k for k in range(x.ndim) if k not in s)
    order = [o if o is not None else next(rest) for o in order]
    return get_array_module(x).transpose(x, order)


def swapaxes(input, axis0, axis1):
    """torch.swapaxes: transpose under NumPy's name."""
    return transpose(input, axis0, axis1)


def swapdims(input, dim0, dim1):
    return transpose(input, dim0, dim1)


def unflatten(input, dim, sizes):
    """torch.unflatten: dim ``dim`` split into ``sizes`` (one of which may be -1)."""
    x = _array(input, "unflatten")
    if not isinstance(sizes, (tuple, list)):
        raise NNSpecRuntimeError(f"unflatten(): argument 'sizes' must be tuple of ints, not {type(sizes).__name__}")
    if x.ndim == 0:
        raise ShapeError("unflatten: Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, x.ndim, "unflatten")
    sz = _ints("unflatten", sizes, "sizes")
    if not sz:
        raise ShapeError("unflatten: sizes must be non-empty")
    if sum(1 for s in sz if not is_symbolic(s) and s == -1) > 1:
        raise ShapeError("unflatten: only one dimension can be inferred")
    known: Any = 1
    for s in sz:
        if is_symbolic(s) or s != -1:
            known = known * s
    if all(is_symbolic(s) or s != -1 for s in sz):
        if known != x.shape[d]:
            raise ShapeError(f"unflatten: Provided sizes {_shape(sz)} don't multiply up to the size of dim {d} "
                             f"({x.shape[d]}) in the input tensor")
    else:
        if known == 0 or x.shape[d] % known != 0:
            raise ShapeError(f"unflatten: Provided sizes {_shape(sz)} don't multiply up to the size of dim {d} "
                             f"({x.shape[d]}) in the input tensor")
        sz = [x.shape[d] // known if not is_symbolic(s) and s == -1 else s for s in sz]
    return x.reshape(tuple(x.shape[:d]) + tuple(sz) + tuple(x.shape[d + 1:]))


def view_as(self, other):
    """Tensor.view_as(other): view(other.size())."""
    x, o = _array(self, "view_as"), _array(other, "view_as", "other")
    return _reshape("view", x, list(o.shape))


def reshape_as(self, other):
    x, o = _array(self, "reshape_as"), _array(other, "reshape_as", "other")
    return _reshape("reshape", x, list(o.shape))


# --------------------------------------------------------------------------- attributes that are views


def attr_T(x):
    """Tensor.T: every dim reversed (torch deprecates it beyond 2-d, but allows it)."""
    x = _array(x, "T")
    return x if x.ndim < 2 else get_array_module(x).transpose(x)


def _matrix_swap(x, name: str):
    """Tensor.mT and Tensor.mH: the last two dims swapped (real arrays: no conjugate)."""
    x = _array(x, name)
    if x.ndim == 0:
        return x
    if x.ndim < 2:
        raise ShapeError(f"tensor.{name} is only supported on matrices or batches of matrices. Got {x.ndim}-D tensor.")
    return get_array_module(x).swapaxes(x, -2, -1)


def attr_mT(x):
    """Tensor.mT: the last two dims swapped."""
    return _matrix_swap(x, "mT")


def attr_H(x):
    """Tensor.H: the (conjugate) transpose of a matrix."""
    x = _array(x, "H")
    if x.ndim == 0:
        return x
    if x.ndim != 2:
        raise ShapeError(f"tensor.H is only supported on matrices (2-D tensors). Got {x.ndim}-D tensor."
                         + (" For batches of matrices, consider using tensor.mH" if x.ndim > 2 else ""))
    return get_array_module(x).transpose(x)


def attr_mH(x):
    """Tensor.mH: the conjugate of mT (the same, for real arrays)."""
    return _matrix_swap(x, "mH")


# --------------------------------------------------------------------------- joining


def concat(tensors, dim=0):
    """torch.concat: cat under another name."""
    return cat(tensors, dim)


def concatenate(tensors, axis=0, *, dim=None):
    """torch.concatenate(tensors, axis=0): cat under NumPy's name (``dim=`` too)."""
    return cat(tensors, axis if dim is None else dim)


def _atleast(x, n: int):
    if x.ndim >= n:
        return x
    if n == 1:
        return x.reshape(1)
    if n == 2:
        return x.reshape(1, -1) if x.ndim == 1 else x.reshape(1, 1)
    return x.reshape(1, -1, 1) if x.ndim == 1 else x.reshape(x.shape + (1,)) if x.ndim == 2 else x.reshape(1, 1, 1)


def hstack(tensors):
    """torch.hstack: cat along dim 1 (dim 0 for 1-d arrays); 0-d arrays count as 1-d."""
    ts = [_atleast(t, 1) for t in _tensor_list("hstack", tensors)]
    if not ts:
        raise NNSpecRuntimeError("hstack expects a non-empty TensorList")
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    """torch.vstack: cat along dim 0 of the arrays made at least 2-d."""
    ts = [_atleast(t, 2) for t in _tensor_list("vstack", tensors)]
    if not ts:
        raise NNSpecRuntimeError("vstack expects a non-empty TensorList")
    return cat(ts, 0)


def dstack(tensors):
    ts = [_atleast(t, 3) for t in _tensor_list("dstack", tensors)]
    if not ts:
        raise NNSpecRuntimeError("dstack expects a non-empty TensorList")
    return cat(ts, 2)


# --------------------------------------------------------------------------- products


def _same_scalar_type(op: str, arrays: list) -> None:
    first = arrays[0].dtype
    for a in arrays[1:]:
        if a.dtype != first:
            raise NNSpecRuntimeError(f"{op}: expected scalar type {torch_type_name(first)} but found "
                                     f"{torch_type_name(a.dtype)}")


def bmm(input, mat2, *, out=None):
    """torch.bmm: (b, n, m) @ (b, m, p), no broadcasting."""
    a, b = _array(input, "bmm"), _array(mat2, "bmm", "mat2")
    _check_bmm("bmm", a, b)
    _same_scalar_type("bmm", [a, b])
    if a.dtype == _BOOL:
        raise NNSpecRuntimeError("bmm: \"bmm\" not implemented for 'Bool'")
    shape = (a.shape[0], a.shape[1], b.shape[2])
    if is_meta(a, b):
        return MetaArray(shape, a.dtype)
    return _mat(get_array_module(a, b), a, b)


def _check_bmm(op: str, a, b) -> None:
    if a.ndim != 3:
        raise ShapeError(f"{op}: batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise ShapeError(f"{op}: batch2 must be a 3D tensor")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ShapeError(f"{op}: Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, "
                         f"{a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """torch.baddbmm: beta * input + alpha * (batch1 @ batch2); input broadcasts to the product's shape."""
    x = _array(input, "baddbmm")
    a, b = _array(batch1, "baddbmm", "batch1"), _array(batch2, "baddbmm", "batch2")
    _check_bmm("baddbmm", a, b)
    if not (x.dtype == a.dtype == b.dtype):
        raise NNSpecRuntimeError(f"baddbmm: Input dtypes must be the same, got: input {_CPP_TYPE_NAMES.get(str(x.dtype))}"
                                 f", batch1: {_CPP_TYPE_NAMES.get(str(a.dtype))}, batch2: "
                                 f"{_CPP_TYPE_NAMES.get(str(b.dtype))}")
    shape = (a.shape[0], a.shape[1], b.shape[2])
    _expanded("baddbmm", x, list(shape))
    for name, v in (("beta", beta), ("alpha", alpha)):
        if isinstance(v, bool) or not isinstance(v, (int, builtins.float)):
            raise NNSpecRuntimeError(f"baddbmm(): argument '{name}' must be Number, not {type(v).__name__}")
    if is_meta(x, a, b):
        return MetaArray(shape, x.dtype)
    xp = get_array_module(x, a, b)
    prod_ = _mat(xp, a, b)
    ct = _F32 if x.dtype == numpy.float16 else x.dtype
    with _quiet(xp):
        y = prod_.astype(ct) * ct.type(alpha) if alpha != 1 else prod_.astype(ct)
        if beta != 0:
            y = y + (x.astype(ct) * ct.type(beta) if beta != 1 else x.astype(ct))
    return _out(xp, xp.broadcast_to(y, shape)).astype(x.dtype)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """torch.addmm: beta * input + alpha * (mat1 @ mat2) (HF's Conv1D); input broadcasts to the product's shape."""
    x = _array(input, "addmm")
    a, b = _array(mat1, "addmm", "mat1"), _array(mat2, "addmm", "mat2")
    if a.ndim != 2:
        raise ShapeError(f"addmm: mat1 must be a matrix, got {a.ndim}-D tensor")
    if b.ndim != 2:
        raise ShapeError(f"addmm: mat2 must be a matrix, got {b.ndim}-D tensor")
    if a.shape[1] != b.shape[0]:
        raise ShapeError(f"addmm: mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
                         f"{b.shape[0]}x{b.shape[1]})")
    if a.dtype != b.dtype:
        raise NNSpecRuntimeError(f"addmm: expected m1 and m2 to have the same dtype, but got: "
                                 f"{_CPP_TYPE_NAMES.get(str(a.dtype))} != {_CPP_TYPE_NAMES.get(str(b.dtype))}")
    if x.dtype != b.dtype:
        raise NNSpecRuntimeError(f"addmm: self and mat2 must have the same dtype, but got "
                                 f"{torch_type_name(x.dtype)} and {torch_type_name(b.dtype)}")
    shape = (a.shape[0], b.shape[1])
    _expanded("addmm", x, list(shape))
    for name, v in (("beta", beta), ("alpha", alpha)):
        if isinstance(v, bool) or not isinstance(v, (int, builtins.float)):
            raise NNSpecRuntimeError(f"addmm(): argument '{name}' must be Number, not {type(v).__name__}")
    if is_meta(x, a, b):
        return MetaArray(shape, x.dtype)
    xp = get_array_module(x, a, b)
    ct = _F32 if x.dtype == numpy.float16 else x.dtype
    with _quiet(xp):
        y = _mat(xp, a, b).astype(ct)
        y = y * ct.type(alpha) if alpha != 1 else y
        if beta != 0:
            y = y + (x.astype(ct) * ct.type(beta) if beta != 1 else x.astype(ct))
    return _out(xp, xp.broadcast_to(y, shape)).astype(x.dtype)


def outer(input, vec2, *, out=None):
    """torch.outer: input[i] * vec2[j] (both 1-d), in their result type."""
    a, b = _array(input, "outer"), _array(vec2, "outer", "vec2")
    if a.ndim != 1:
        raise ShapeError(f"outer: Expected 1-D argument self, but got {a.ndim}-D")
    if b.ndim != 1:
        raise ShapeError(f"outer: Expected 1-D argument vec2, but got {b.ndim}-D")
    return mul(a.reshape(a.shape[0], 1), b)


def dot(input, other, *, out=None):
    """torch.dot: the inner product of two 1-d arrays of one dtype."""
    a, b = _array(input, "dot"), _array(other, "dot", "other")
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise ShapeError(f"dot: inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have "
                         f"the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively")
    if a.dtype != b.dtype:
        raise NNSpecRuntimeError(f"dot : expected both vectors to have same dtype, but found "
                                 f"{torch_type_name(a.dtype)} and {torch_type_name(b.dtype)}")
    if a.dtype == _BOOL:
        raise NNSpecRuntimeError("dot: \"dot\" not implemented for 'Bool'")
    if is_meta(a, b):
        return MetaArray((), a.dtype)
    return _mat(get_array_module(a, b), a, b)


# --------------------------------------------------------------------------- sort / topk


def _order(xp, x, d: int, descending: bool):
    """Stable sort indices along dim d: ascending with NaN last, or descending with NaN first (torch's order),
    equal elements in their original order either way."""
    if not descending:
        return xp.argsort(x, axis=d, kind="stable")
    n = x.shape[d]
    flipped = xp.flip(x, axis=d)
    return (n - 1) - xp.flip(xp.argsort(flipped, axis=d, kind="stable"), axis=d)


def _sorted(op: str, x, dim, descending):
    d = wrap_dim(dim, x.ndim, op)
    if not isinstance(descending, bool):
        raise NNSpecRuntimeError(f"{op}(): argument 'descending' must be bool, not {type(descending).__name__}")
    return d


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """torch.sort: (values, indices) along ``dim``; equal elements keep their order (torch only promises that
    with stable=True), NaN sorts as the largest."""
    x = _array(input, "sort")
    d = _sorted("sort", x, dim, descending)
    result = RETURN_TYPES["sort"]
    if is_meta(x):
        return result(MetaArray(x.shape, x.dtype), MetaArray(x.shape, _I64))
    xp = get_array_module(x)
    if x.ndim == 0:
        return result(x.copy(), xp.zeros((), dtype=xp.int64))
    idx = _order(xp, x, d, descending).astype(xp.int64)
    return result(xp.take_along_axis(x, idx, axis=d), idx)


def argsort(input, dim=-1, descending=False, stable=False):
    """torch.argsort: the indices that sort ``dim`` (as torch.sort's)."""
    return sort(input, dim, descending, stable).indices


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """torch.topk: the k largest (or smallest) values along ``dim`` and their indices, largest first."""
    x = _array(input, "topk")
    d = wrap_dim(dim, x.ndim, "topk")
    k = _int_arg("topk", k, "k")
    size = x.shape[d] if x.ndim else 1
    if k < 0 or k > size:
        raise ShapeError("topk: selected index k out of range")
    if x.dtype == _BOOL:
        raise NNSpecRuntimeError("topk does not support bool dtypes on CPU")
    shape = tuple(k if i == d else s for i, s in enumerate(x.shape))
    result = RETURN_TYPES["topk"]
    if is_meta(x):
        return result(MetaArray(shape, x.dtype), MetaArray(shape, _I64))
    xp = get_array_module(x)
    if x.ndim == 0:
        return result(x.copy(), xp.zeros((), dtype=xp.int64))
    idx = _order(xp, x, d, bool(largest))
    idx = idx[(slice(None),) * d + (slice(0, k),)].astype(xp.int64)
    return result(xp.take_along_axis(x, idx, axis=d), idx)


# --------------------------------------------------------------------------- einsum


def _parse_einsum(equation: str, ndims: list[int]) -> tuple[list[list], list | None]:
    """Each operand's subscripts (letters and "..."), and the output's (None: implicit), checked as torch does."""
    if not isinstance(equation, str):
        raise NNSpecRuntimeError(f"einsum(): argument 'equation' must be str, not {type(equation).__name__}")
    if len(equation) > 1000:
        raise NNSpecRuntimeError("einsum(): the equation is longer than 1,000 characters")
    lhs, arrow, rhs = equation.partition("->")

    def terms(text: str, offset: int) -> list[list]:
        out, cur, i = [], [], 0
        while i < len(text):
            ch = text[i]
            if ch == " ":
                i += 1
                continue
            if ch == ",":
                out.append(cur)
                cur = []
                i += 1
                continue
            if text.startswith("...", i):
                if "..." in cur:
                    raise NNSpecRuntimeError("einsum(): found '.' for operand that is not part of any ellipsis")
                cur.append("...")
                i += 3
                continue
            if ch == ".":
                raise NNSpecRuntimeError(f"einsum(): found '.' for operand {len(out)} that is not part of any ellipsis")
            if not ("a" <= ch <= "z" or "A" <= ch <= "Z"):
                raise NNSpecRuntimeError(f"einsum(): invalid subscript given at index {offset + i} in the equation "
                                         "string, subscripts must be in [a-zA-Z]")
            cur.append(ch)
            i += 1
        out.append(cur)
        return out

    inputs = terms(lhs, 0)
    if len(inputs) > len(ndims):
        raise NNSpecRuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(inputs) < len(ndims):
        raise NNSpecRuntimeError("einsum(): more operands were provided than specified in the equation")
    for k, (subs, nd) in enumerate(zip(inputs, ndims)):
        letters = [s for s in subs if s != "..."]
        if "..." in subs:
            if len(letters) > nd:
                raise ShapeError(f"einsum(): the number of subscripts in the equation ({len(letters)}) is more than "
                                 f"the number of dimensions ({nd}) for operand {k}")
        elif len(letters) != nd:
            raise ShapeError(f"einsum(): the number of subscripts in the equation ({len(letters)}) does not match the "
                             f"number of dimensions ({nd}) for operand {k} and no ellipsis was given")
    if not arrow:
        return inputs, None
    (output,) = terms(rhs, len(lhs) + 2) if "," not in rhs else (None,)
    if output is None:
        raise NNSpecRuntimeError("einsum(): the output may not contain ','")
    seen = {s for subs in inputs for s in subs}
    for s in output:
        if s == "...":
            continue
        if output.count(s) > 1:
            raise NNSpecRuntimeError(f"einsum(): output subscript {s} appears more than once in the output")
        if s not in seen:
            raise NNSpecRuntimeError(f"einsum(): output subscript {s} does not appear in the equation for any input "
                                     "operand")
    return inputs, output


def einsum_mult_adds(equation, *operands) -> Any:
    """The multiply-adds of an einsum of two or more operands, summed without reordering: one per combination of
    every subscript's index (times the operands less one); 0 for one operand (a sum or a transpose)."""
    if len(operands) == 1 and isinstance(operands[0], (tuple, list)):
        operands = tuple(operands[0])
    if len(operands) < 2 or not all(hasattr(o, "shape") for o in operands):
        return 0
    inputs, _ = _parse_einsum(equation, [len(o.shape) for o in operands])
    sizes: dict[str, Any] = {}
    ell: tuple = ()
    for subs, o in zip(inputs, operands):
        n_ell = len(o.shape) - sum(1 for x in subs if x != "...")
        dim = 0
        for x in subs:
            if x == "...":
                ell = broadcast_shapes(ell, tuple(o.shape[dim:dim + n_ell]))
                dim += n_ell
                continue
            size = o.shape[dim]
            dim += 1
            if x not in sizes or (not is_symbolic(sizes[x]) and sizes[x] == 1):
                sizes[x] = size
    total: Any = len(operands) - 1
    for v in (*sizes.values(), *ell):
        total = total * v
    return total


def einsum(equation, *operands):
    """torch.einsum(equation, *operands) (or a list of operands): subscripts a-z, A-Z and "...", with an
    explicit output after "->" or torch's implicit one (the subscripts seen once, in order, after "...")."""
    if len(operands) == 1 and isinstance(operands[0], (tuple, list)):
        operands = tuple(operands[0])
    arrays = [_array(o, "einsum", "operands") for o in operands]
    if not arrays:
        raise NNSpecRuntimeError("einsum(): must provide at least one operand")
    inputs, output = _parse_einsum(equation, [a.ndim for a in arrays])
    _same_scalar_type("einsum", arrays)
    sizes: dict[str, Any] = {}
    ell: tuple = ()
    for k, (subs, a) in enumerate(zip(inputs, arrays)):
        n_ell = a.ndim - sum(1 for s in subs if s != "...")
        dim = 0
        local: dict[str, Any] = {}
        for s in subs:
            if s == "...":
                try:
                    ell = broadcast_shapes(ell, tuple(a.shape[dim:dim + n_ell]))
                except ValueError:
                    raise ShapeError(f"einsum(): operands do not broadcast: the ellipsis of operand {k} covers "
                                     f"{_shape(a.shape[dim:dim + n_ell])}, earlier ones {_shape(ell)}") from None
                dim += n_ell
                continue
            size = a.shape[dim]
            dim += 1
            if s in local and local[s] != size:
                raise ShapeError(f"einsum(): subscript {s} is repeated for operand {k} but the sizes don't match, "
                                 f"{size} != {local[s]}")
            local[s] = size
            have = sizes.get(s)
            if have is None or (not is_symbolic(have) and have == 1):
                sizes[s] = size
            elif not (not is_symbolic(size) and size == 1) and size != have:
                raise ShapeError(f"einsum(): subscript {s} has size {size} for operand {k} which does not broadcast "
                                 f"with previously seen size {have}")
    if output is None:
        counts: dict[str, int] = {}
        for subs in inputs:
            for s in subs:
                if s != "...":
                    counts[s] = counts.get(s, 0) + 1
        output = (["..."] if any("..." in subs for subs in inputs) else []) + sorted(s for s, n in counts.items()
                                                                                      if n == 1)
    shape = tuple(d for s in output for d in (ell if s == "..." else (sizes[s],)))
    dtype = arrays[0].dtype
    if any(is_meta(a) for a in arrays):
        return MetaArray(shape, dtype)
    xp = get_array_module(*arrays)
    _fits("einsum", shape, dtype)
    # size-1 dims of a subscript another operand has larger: broadcast them first (NumPy does not)
    ready = []
    for subs, a in zip(inputs, arrays):
        n_ell = a.ndim - sum(1 for s in subs if s != "...")
        target = []
        for s in subs:
            target.extend(a.shape[len(target):len(target) + n_ell] if s == "..." else [sizes[s]])
        ready.append(xp.broadcast_to(a, tuple(target)) if tuple(target) != tuple(a.shape) else a)
    spec = ",".join("".join(subs) for subs in inputs) + "->" + "".join(output)
    ct = _F32 if dtype == numpy.float16 else dtype
    with _quiet(xp):
        y = xp.einsum(spec, *[a.astype(ct, copy=False) for a in ready], optimize=len(ready) > 2 or "greedy")
    return _out(xp, y).astype(dtype, copy=False)


__all__ = ["addmm", "argsort", "attr_H", "attr_T", "attr_mH", "attr_mT", "baddbmm", "bmm", "broadcast_to", "chunk", "concat",
           "concatenate", "dot", "dstack", "einsum", "expand", "expand_as", "flip", "flip_method", "gather", "hstack",
           "index_select", "movedim", "narrow", "outer", "repeat", "repeat_interleave", "reshape_as", "roll",
           "scatter", "select", "sort", "split", "split_method", "split_with_sizes", "swapaxes", "swapdims", "tile", "topk",
           "tile_method", "unbind", "unflatten", "view_as", "vstack"]
