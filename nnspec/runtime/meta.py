"""The meta backend: arrays with a shape and a dtype and no data (torch's ``device="meta"``).

Static inference runs the model's own code (layers, functional ops, custom
forwards) on :class:`MetaArray` inputs. Every op checks its arguments as it
always does and then, instead of running its kernel, returns a MetaArray of the
shape its shape rule gives. Sizes may be symbolic (:class:`~.symbolic.Dim`).

This module is also the array module of a MetaArray (``get_array_module``
returns it, as it returns numpy or cupy), with the part of NumPy's API that the
shape-level ops use: arithmetic and broadcasting, reshapes, transposes,
indexing, joins and reductions. Reading a value (``bool(x)``, ``float(x)``) is
an error: nothing static knows it.

Each MetaArray that owns its memory (not a view) counts its bytes in the
active :func:`track_memory` tracker while it is alive, so a static run
measures the peak of live activations the real run would reach.
"""

from __future__ import annotations

import heapq
import operator
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any

import numpy

from ..scoped import scoped
from .symbolic import SymbolicValueError, assume_at_most, is_one, is_symbolic

# dtypes under NumPy's names, as the kernels' ``xp.float32`` expects
bool_ = numpy.bool_
float16, float32, float64 = numpy.float16, numpy.float32, numpy.float64
int8, int16, int32, int64, uint8 = numpy.int8, numpy.int16, numpy.int32, numpy.int64, numpy.uint8
dtype = numpy.dtype
newaxis = None


# --------------------------------------------------------------------------- memory


class MemoryTracker:
    """Bytes of live arrays: now, at peak, and in total over the run (symbolic sizes are not counted).

    It also finds where the peak is made: each op or layer call reports itself when it ends (``note_call``),
    each array remembers the call it was made in, and at the peak the largest array alive names the call
    (found with a heap of the live arrays by size, so each allocation costs O(log n))."""

    def __init__(self) -> None:
        self.live = 0
        self.peak = 0
        self.total = 0
        self.symbolic = False
        self.calls: list[Any] = []  # what each finished op or layer call reported, in the order they ended
        self._token_of: dict[int, int] = {}  # id of a live array -> its token
        self._live: set[int] = set()  # the tokens of the live arrays
        self._heap: list[tuple[int, int, int]] = []  # (-bytes, token, the call it is made in); freed ones too
        self._tokens = 0
        self._peak_call: int | None = None  # the index in ``calls`` of the call that made the largest array at peak

    def alloc(self, nbytes: Any, key: int | None = None) -> bool:
        if is_symbolic(nbytes):
            self.symbolic = True
            return False
        self.live += nbytes
        self.total += nbytes
        if key is not None:
            self._tokens += 1
            self._token_of[key] = self._tokens
            self._live.add(self._tokens)
            heapq.heappush(self._heap, (-nbytes, self._tokens, len(self.calls)))  # made in the call that ends next
        if self.live > self.peak:
            self.peak = self.live
            heap = self._heap
            while heap and heap[0][1] not in self._live:  # freed since: dropped once, so O(log n) amortised
                heapq.heappop(heap)
            self._peak_call = heap[0][2] if heap else None
        return True

    def free(self, nbytes: int, key: int | None = None) -> None:
        self.live -= nbytes
        if key is not None:
            self._live.discard(self._token_of.pop(key, 0))

    @property
    def peak_at(self) -> Any:
        """What the call that made the largest array alive at the peak reported (None where none did)."""
        i = self._peak_call
        if i is None or not self.calls:
            return None
        return self.calls[min(i, len(self.calls) - 1)]


_tracker: ContextVar[MemoryTracker | None] = ContextVar("nnspec_meta_memory", default=None)


def track_memory() -> AbstractContextManager[MemoryTracker]:
    """Count the bytes of the MetaArrays made inside the block that own their memory."""
    return scoped(_tracker, MemoryTracker())


def note_call(where: Any) -> None:
    """Called when an op or layer call ends, with what names it: the arrays made since the last call ended
    were made in this one (an inner call ends first, so a layer's arrays are its own, not its container's)."""
    tracker = _tracker.get()
    if tracker is not None:
        tracker.calls.append(where)


# --------------------------------------------------------------------------- the array


def _size(shape: tuple) -> Any:
    n: Any = 1
    for s in shape:
        n = n * s
    return n


def _dim(v: Any) -> Any:
    if is_symbolic(v):
        return v
    if isinstance(v, bool) or not hasattr(v, "__index__"):
        raise TypeError(f"a size must be an int, got {type(v).__name__}")
    return operator.index(v)


class DataDependentError(SymbolicValueError):
    """Static inference reached something that depends on the values in an array."""


class MetaArray:
    """An array of known shape and dtype whose values are not known (and take no memory)."""

    __slots__ = ("shape", "dtype", "base", "_owner", "__weakref__")
    __array_priority__ = 1000  # NumPy scalars and arrays defer to our operators

    def __init__(self, shape: Any, dtype: Any = numpy.float32, base: MetaArray | None = None):
        if type(shape) is tuple and all(type(s) is int for s in shape):  # the common case, checked cheaply
            self.shape = shape
        else:
            self.shape = tuple(_dim(s) for s in (shape if isinstance(shape, (tuple, list)) else (shape,)))
        self.dtype = dtype if isinstance(dtype, numpy.dtype) else numpy.dtype(dtype)
        self.base = base
        self._owner = None
        if base is None:
            tracker = _tracker.get()
            if tracker is not None and tracker.alloc(self.nbytes, id(self)):
                self._owner = tracker

    def __del__(self) -> None:
        if getattr(self, "_owner", None) is not None:  # not set where __init__ failed (a size not an int)
            self._owner.free(self.nbytes, id(self))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> Any:
        return _size(self.shape)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> Any:
        return self.size * self.dtype.itemsize

    @property
    def T(self) -> MetaArray:
        return self._view(self.shape[::-1])

    @property
    def flags(self) -> Any:
        return _Flags()

    def __repr__(self) -> str:
        return f"MetaArray(shape=({', '.join(map(str, self.shape))}{',' if self.ndim == 1 else ''}), dtype={self.dtype})"

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return operator.index(self.shape[0])

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # -- reading values: never possible
    def _no_value(self, what: str) -> DataDependentError:
        return DataDependentError(f"{what} of an array depends on its values, which static inference does not know")

    def __bool__(self) -> bool:
        raise self._no_value("the truth value")

    def __float__(self) -> float:
        raise self._no_value("the float value")

    def __int__(self) -> int:
        raise self._no_value("the int value")

    def __index__(self) -> int:
        raise self._no_value("the int value")

    def item(self) -> Any:
        raise self._no_value("the value")

    # -- new arrays
    def _view(self, shape: tuple, dtype: Any = None) -> MetaArray:
        return MetaArray(shape, self.dtype if dtype is None else dtype, base=self.base if self.base is not None else self)

    def _like(self, shape: tuple | None = None, dtype: Any = None) -> MetaArray:
        return MetaArray(self.shape if shape is None else shape, self.dtype if dtype is None else dtype)

    def astype(self, dtype: Any, copy: bool = True, **_: Any) -> MetaArray:
        if not copy and numpy.dtype(dtype) == self.dtype:
            return self
        return self._like(dtype=dtype)

    def copy(self, order: str = "K") -> MetaArray:
        return self._like()

    def reshape(self, *shape: Any, order: str = "C") -> MetaArray:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if any(not is_symbolic(s) and s == -1 for s in shape):
            known = _size([s for s in shape if is_symbolic(s) or s != -1])
            shape = tuple(self.size // known if not is_symbolic(s) and s == -1 else s for s in shape)
        if _size(shape) != self.size:
            raise ValueError(f"cannot reshape array of size {self.size} into shape {tuple(shape)}")
        return self._view(tuple(shape))

    def ravel(self) -> MetaArray:
        return self._view((self.size,))

    def fill(self, value: Any) -> None:
        return None

    def __setitem__(self, index: Any, value: Any) -> None:
        # writes into an array change values, not shapes; the shape of what is written must broadcast
        if isinstance(value, MetaArray) or hasattr(value, "shape"):
            broadcast_shapes(tuple(value.shape), self[index].shape if index is not Ellipsis else self.shape)

    # -- elementwise
    def _binary(self, other: Any, result_dtype: Any = None, reverse: bool = False) -> MetaArray:
        oshape = tuple(getattr(other, "shape", ()))
        shape = broadcast_shapes(oshape, self.shape) if reverse else broadcast_shapes(self.shape, oshape)
        if result_dtype is None:
            result_dtype = _result_dtype(self, other)
        return MetaArray(shape, result_dtype)

    def __add__(self, o): return self._binary(o)
    def __radd__(self, o): return self._binary(o, reverse=True)
    def __sub__(self, o): return self._binary(o)
    def __rsub__(self, o): return self._binary(o, reverse=True)
    def __mul__(self, o): return self._binary(o)
    def __rmul__(self, o): return self._binary(o, reverse=True)
    def __floordiv__(self, o): return self._binary(o)
    def __rfloordiv__(self, o): return self._binary(o, reverse=True)
    def __mod__(self, o): return self._binary(o)
    def __rmod__(self, o): return self._binary(o, reverse=True)
    def __pow__(self, o): return self._binary(o)
    def __rpow__(self, o): return self._binary(o, reverse=True)

    def __truediv__(self, o):
        dt = _result_dtype(self, o)
        return self._binary(o, dt if dt.kind == "f" else numpy.float64)

    def __rtruediv__(self, o):
        dt = _result_dtype(self, o)
        return self._binary(o, dt if dt.kind == "f" else numpy.float64, reverse=True)

    def __and__(self, o): return self._binary(o)
    def __rand__(self, o): return self._binary(o, reverse=True)
    def __or__(self, o): return self._binary(o)
    def __ror__(self, o): return self._binary(o, reverse=True)
    def __xor__(self, o): return self._binary(o)
    def __rxor__(self, o): return self._binary(o, reverse=True)
    def __eq__(self, o): return self._binary(o, numpy.bool_)  # type: ignore[override]
    def __ne__(self, o): return self._binary(o, numpy.bool_)  # type: ignore[override]
    def __lt__(self, o): return self._binary(o, numpy.bool_)
    def __le__(self, o): return self._binary(o, numpy.bool_)
    def __gt__(self, o): return self._binary(o, numpy.bool_)
    def __ge__(self, o): return self._binary(o, numpy.bool_)
    def __neg__(self): return self._like()
    def __pos__(self): return self
    def __invert__(self): return self._like()
    def __abs__(self): return self._like()
    __hash__ = None  # type: ignore[assignment]

    def __matmul__(self, o): return matmul(self, o)
    def __rmatmul__(self, o): return matmul(o, self)

    # -- reductions
    def _reduce(self, axis: Any, keepdims: bool, dtype: Any) -> MetaArray:
        axes = range(self.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
        axes = {a % self.ndim for a in axes} if self.ndim else set()
        if keepdims:
            shape = tuple(1 if i in axes else s for i, s in enumerate(self.shape))
        else:
            shape = tuple(s for i, s in enumerate(self.shape) if i not in axes)
        return MetaArray(shape, self.dtype if dtype is None else dtype)

    def sum(self, axis=None, dtype=None, keepdims=False, **_): return self._reduce(axis, keepdims, dtype)
    def mean(self, axis=None, dtype=None, keepdims=False, **_): return self._reduce(axis, keepdims, dtype)
    def max(self, axis=None, keepdims=False, **_): return self._reduce(axis, keepdims, None)
    def min(self, axis=None, keepdims=False, **_): return self._reduce(axis, keepdims, None)
    def any(self, axis=None, keepdims=False, **_): return self._reduce(axis, keepdims, numpy.bool_)
    def all(self, axis=None, keepdims=False, **_): return self._reduce(axis, keepdims, numpy.bool_)

    # -- indexing
    def __getitem__(self, index: Any) -> MetaArray:
        return self._view(_index_shape(self.shape, index if isinstance(index, tuple) else (index,)))


class _Flags:
    c_contiguous = True
    f_contiguous = False


ndarray = MetaArray


def _result_dtype(a: Any, b: Any) -> numpy.dtype:
    """NumPy's result dtype of an operation; the ops in ``tensor`` cast both operands alike first."""
    da = a.dtype if hasattr(a, "dtype") else None
    db = b.dtype if hasattr(b, "dtype") else None
    if da is not None and db is not None:
        return numpy.result_type(da, db)
    return numpy.dtype(da if da is not None else db if db is not None else numpy.float64)


def is_meta(*values: Any) -> bool:
    """Whether any of the values is a MetaArray (or a Parameter holding one)."""
    return any(isinstance(getattr(v, "data", v), MetaArray) for v in values)


_static: ContextVar[bool] = ContextVar("nnspec_static_run", default=False)


def static_run() -> AbstractContextManager[bool]:
    """Static inference: inside the block, an in-place op on a real array (a model's state) writes nothing."""
    return scoped(_static, True)


def write_target(x: Any) -> Any:
    """The array an in-place op writes into: ``x``, or, in static inference, a shape-only stand-in for a real
    one, so that ``self.steps += 1`` or ``F.relu(self.w, inplace=True)`` leaves the model's state as it was."""
    return MetaArray(x.shape, x.dtype) if _static.get() and not isinstance(x, MetaArray) else x


def empty(shape: Any, dtype: Any = numpy.float32, **_: Any) -> MetaArray:
    return MetaArray(shape, dtype)


zeros = ones = empty


def full(shape: Any, fill_value: Any, dtype: Any = numpy.float32, **_: Any) -> MetaArray:
    return MetaArray(shape, dtype)


def empty_like(a: Any, dtype: Any = None, **_: Any) -> MetaArray:
    return MetaArray(a.shape, a.dtype if dtype is None else dtype)


zeros_like = ones_like = empty_like


def asarray(a: Any, dtype: Any = None, **_: Any) -> MetaArray:
    if isinstance(a, MetaArray):
        return a if dtype is None else a.astype(dtype, copy=False)
    shape = numpy.shape(a)
    if dtype is None:
        dtype = numpy.asarray(a).dtype
    return MetaArray(shape, dtype)


array = asarray


# --------------------------------------------------------------------------- shape rules


def broadcast_shapes(a: tuple, b: tuple) -> tuple:
    """NumPy's broadcast of two shapes; a size-1 dim stretches, others must be equal (a symbolic size is not
    asked whether it is 1: see ``symbolic.is_one``)."""
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for i, (x, y) in enumerate(zip(pa, pb)):
        if is_one(x):
            out.append(y)
        elif is_one(y) or x == y:
            out.append(x)
        else:
            raise ValueError(f"operands could not be broadcast together with shapes {_fmt(a)} {_fmt(b)} "
                             f"(dimension {i}: {x} and {y})")
    return tuple(out)


def _fmt(shape: tuple) -> str:
    return "(" + ",".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _slice_len(size: Any, s: slice) -> Any:
    """len(range(size)[s]) for a step > 0, with a symbolic size allowed."""
    step = 1 if s.step is None else s.step

    def bound(v: Any, default: Any) -> Any:
        if v is None:
            return default
        if v < 0:
            v = v + size
            return 0 if v < 0 else v
        if is_symbolic(v) or is_symbolic(size):  # a symbolic bound is taken to be in range (recorded)
            return v if assume_at_most(v, size) else size
        return size if v > size else v

    start, stop = bound(s.start, 0), bound(s.stop, size)
    if stop <= start:
        return 0
    return (stop - start + step - 1) // step


def _index_shape(shape: tuple, items: tuple) -> tuple:
    """The shape of ``x[items]`` under NumPy's rules (basic indexing, int and bool array indices)."""
    consumed = sum(1 for it in items if it is not None and it is not Ellipsis and not isinstance(it, bool)
                   and not (hasattr(it, "dtype") and numpy.dtype(it.dtype).kind == "b")) + sum(
        it.ndim for it in items if hasattr(it, "dtype") and numpy.dtype(it.dtype).kind == "b")
    if sum(it is Ellipsis for it in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > len(shape):
        raise IndexError(f"too many indices for array: array is {len(shape)}-dimensional, but {consumed} were indexed")
    expanded: list = []
    for it in items:
        if it is Ellipsis:
            expanded.extend([slice(None)] * (len(shape) - consumed))
        else:
            expanded.append(it)
    if not any(it is Ellipsis for it in items):
        expanded.extend([slice(None)] * (len(shape) - consumed))
    out: list = []
    advanced: list = []  # (position in out, shape of the index)
    # NumPy's advanced indices: arrays, and a Python bool (a 0-d mask); beside them an int is one too
    has_arrays = any(isinstance(it, bool) or hasattr(it, "dtype") and (it.ndim or not isinstance(it, MetaArray))
                     for it in expanded)
    # NumPy checks masks first, then the bounds of ints, then broadcasting, then the bounds of index arrays
    bounds: IndexError | None = None
    array_bounds: IndexError | None = None
    dim = 0
    for it in expanded:
        if it is None:
            out.append(1)
        elif isinstance(it, bool):  # a 0-d mask: one index (True) or none
            advanced.append((len(out), (1,) if it else (0,)))
        elif isinstance(it, slice):
            out.append(_slice_len(shape[dim], it))
            dim += 1
        elif isinstance(it, MetaArray) and it.ndim == 0 and it.dtype.kind in "iu":
            # a 0-d index whose value is unknown acts as an int (torch's rule): its dim goes, bounds unchecked
            if has_arrays:
                advanced.append((len(out), ()))
            dim += 1
        elif hasattr(it, "dtype"):
            kind = numpy.dtype(it.dtype).kind
            if kind == "b":
                if isinstance(it, MetaArray):
                    raise DataDependentError("indexing with a boolean mask gives a size that depends on the mask's "
                                             "values, which static inference does not know")
                for k in range(it.ndim):
                    if it.shape[k] != shape[dim + k]:
                        raise IndexError(f"boolean index did not match indexed array along axis {dim + k}; size of "
                                         f"axis is {shape[dim + k]} but size of corresponding boolean axis is "
                                         f"{it.shape[k]}")
                advanced.append((len(out), (int(numpy.count_nonzero(it)),)))
                dim += it.ndim
            else:
                if isinstance(it, numpy.ndarray) and it.size:  # known values: NumPy's bounds check
                    size = shape[dim]
                    bad = [int(v) for v in it.ravel() if not -size <= int(v) < size]
                    if bad and array_bounds is None:
                        array_bounds = IndexError(f"index {bad[0]} is out of bounds for axis {dim} with size {size}")
                advanced.append((len(out), tuple(it.shape)))
                dim += 1
        else:
            i = operator.index(it)
            size = shape[dim]
            if not -size <= i < size and bounds is None:
                bounds = IndexError(f"index {i} is out of bounds for axis {dim} with size {size}")
            if has_arrays:  # beside an index array, an int is one too (a 0-d one)
                advanced.append((len(out), ()))
            dim += 1
    if not advanced:
        if bounds is not None:
            raise bounds
        return tuple(out)
    if bounds is not None:
        raise bounds
    bshape: tuple = ()
    try:
        for _, s in advanced:
            bshape = broadcast_shapes(bshape, s)
    except ValueError:
        shapes = " ".join(_fmt(s) for _, s in advanced if s)
        raise IndexError(f"shape mismatch: indexing arrays could not be broadcast together with shapes {shapes} ") \
            from None
    if array_bounds is not None and _size(bshape) != 0:  # NumPy checks the values it takes, none here
        raise array_bounds
    positions = [p for p, _ in advanced]
    adjacent = len(set(positions)) == 1  # nothing (a slice, None, ...) between them
    # an advanced index adds no entry to ``out``: its dims go in where the first one stood, or in front
    at = positions[0] if adjacent else 0
    return tuple(out[:at]) + bshape + tuple(out[at:])


def reshape(a: MetaArray, shape: Any) -> MetaArray:
    return a.reshape(shape)


def swapaxes(a: MetaArray, i: int, j: int) -> MetaArray:
    shape = list(a.shape)
    shape[i], shape[j] = shape[j], shape[i]
    return a._view(tuple(shape))


def transpose(a: MetaArray, axes: Any = None) -> MetaArray:
    axes = range(a.ndim)[::-1] if axes is None else axes
    return a._view(tuple(a.shape[i] for i in axes))


def expand_dims(a: MetaArray, axis: int) -> MetaArray:
    shape = list(a.shape)
    shape.insert(axis % (a.ndim + 1), 1)
    return a._view(tuple(shape))


def squeeze(a: MetaArray, axis: Any = None) -> MetaArray:
    # every size is asked whether it is 1: a symbolic one is kept, and that it is not 1 recorded (N >= 2)
    axes = {i for i, s in enumerate(a.shape) if s == 1} if axis is None else \
        {axis % a.ndim} if isinstance(axis, int) else {x % a.ndim for x in axis}
    return a._view(tuple(s for i, s in enumerate(a.shape) if i not in axes))


def concatenate(arrays: Any, axis: int = 0, **_: Any) -> MetaArray:
    arrays = list(arrays)
    ref = arrays[0]
    axis = axis % ref.ndim
    total: Any = 0
    for a in arrays:
        total = total + a.shape[axis]
    shape = tuple(total if i == axis else s for i, s in enumerate(ref.shape))
    return MetaArray(shape, numpy.result_type(*(a.dtype for a in arrays)))


def stack(arrays: Any, axis: int = 0, **_: Any) -> MetaArray:
    arrays = list(arrays)
    shape = list(arrays[0].shape)
    shape.insert(axis % (len(shape) + 1), len(arrays))
    return MetaArray(tuple(shape), numpy.result_type(*(a.dtype for a in arrays)))


def matmul(a: Any, b: Any) -> MetaArray:
    """NumPy's matmul shape rule (a 1-d operand is promoted, then its dim dropped)."""
    sa, sb = tuple(a.shape), tuple(b.shape)
    ka, kb = sa[-1], sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ValueError(f"matmul: mismatch in its core dimension: {ka} and {kb}")
    if len(sa) == 1 and len(sb) == 1:
        shape: tuple = ()
    elif len(sb) == 1:
        shape = sa[:-1]
    elif len(sa) == 1:
        shape = sb[:-2] + sb[-1:]
    else:
        shape = broadcast_shapes(sa[:-2], sb[:-2]) + (sa[-2], sb[-1])
    return MetaArray(shape, numpy.result_type(a.dtype, b.dtype))


def _elementwise(*args: Any, dtype: Any = None) -> MetaArray:
    shape: tuple = ()
    for a in args:
        shape = broadcast_shapes(shape, tuple(getattr(a, "shape", ())))
    if dtype is None:
        dtype = numpy.result_type(*(a.dtype if hasattr(a, "dtype") else numpy.asarray(a).dtype for a in args))
    return MetaArray(shape, dtype)


def where(cond: Any, a: Any, b: Any) -> MetaArray:
    return _elementwise(cond, a, b, dtype=_result_dtype(a, b))


def floor_divide(a, b): return _elementwise(a, b)
def remainder(a, b): return _elementwise(a, b)
def power(a, b): return _elementwise(a, b)
def maximum(a, b): return _elementwise(a, b)
def minimum(a, b): return _elementwise(a, b)
def trunc(a): return _elementwise(a)
def exp(a): return _elementwise(a)
def log(a): return _elementwise(a)
def sqrt(a): return _elementwise(a)
def tanh(a): return _elementwise(a)


def prod(shape: Any) -> Any:
    return _size(tuple(shape))


