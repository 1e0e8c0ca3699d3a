"""Distances: cosine_similarity, pairwise_distance, pdist (torch.nn.functional)."""

from __future__ import annotations

import numpy  # dtype objects only

from ...errors import NNSpecRuntimeError, ShapeError
from ..backend import get_array_module
from ..kernels import distance as kernels
from ..meta import is_meta
from ..symbolic import is_one
from .core import _data, _fits, _meta, torch_type_name, wrap_dim

__all__ = ["pairwise_distance", "pdist", "cosine_similarity"]


def _array(op: str, v, name: str):
    a = _data(v)
    if a is None:
        raise NNSpecRuntimeError(f"{op}(): argument '{name}' must be Tensor, not NoneType")
    return a


def _broadcast(op: str, a, b) -> tuple:
    """torch's expand of two shapes to one (its message names the first mismatch from the last dim back); a
    symbolic size is not asked whether it is 1 (see symbolic.is_one)."""
    sa, sb = tuple(a.shape), tuple(b.shape)
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    out = []
    for i in range(n - 1, -1, -1):
        x, y = sa[i], sb[i]
        if not (is_one(x) or is_one(y)) and x != y:
            raise ShapeError(f"{op}: The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                             f"dimension {i}")
        out.append(y if is_one(x) else x)
    return tuple(reversed(out))


def _result_type(a, b):
    from .. import tensor  # the promotion rules of the tensor ops (imported here: tensor imports functional)

    return numpy.dtype(tensor.result_type(a, b))


def _norm_p(op: str, p) -> float:
    if isinstance(p, str) or not isinstance(p, (int, float)):
        raise NNSpecRuntimeError(f"{op}: p must be a number, got {p!r}")
    return float(p)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    a, b = _array("cosine_similarity", x1, "x1"), _array("cosine_similarity", x2, "x2")
    common = _result_type(a, b)
    if common.kind != "f":
        raise NNSpecRuntimeError("cosine_similarity: expected common dtype to be floating point, yet common dtype is "
                                 f"{torch_type_name(common)}")
    da = common if a.dtype.kind != "f" else a.dtype  # torch casts only an integer or bool input
    db = common if b.dtype.kind != "f" else b.dtype
    out_dtype = numpy.dtype(numpy.promote_types(da, db))
    shape = _broadcast("cosine_similarity", a, b)
    axis = wrap_dim(dim, len(shape), "cosine_similarity")
    result = shape[:axis] + shape[axis + 1:]
    if is_meta(a, b):
        return _meta(result, out_dtype)
    xp = get_array_module(a, b)
    _fits("cosine_similarity", shape, out_dtype)
    if not shape:  # two 0-d inputs: dim 0 is the one element
        a, b, shape = a.reshape(1), b.reshape(1), (1,)
    a = xp.broadcast_to(a.astype(da, copy=False), shape)
    b = xp.broadcast_to(b.astype(db, copy=False), shape)
    return kernels.cosine_similarity(a, b, axis, eps, out_dtype).reshape(result)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    a, b = _array("pairwise_distance", x1, "x1"), _array("pairwise_distance", x2, "x2")
    p = _norm_p("pairwise_distance", p)
    if a.dtype == numpy.bool_ or b.dtype == numpy.bool_:  # torch's x1 - x2 refuses a bool operand
        raise NNSpecRuntimeError(
            "pairwise_distance: Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
            "`logical_xor()` operator instead." if a.dtype == b.dtype else
            "pairwise_distance: Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead.")
    shape = _broadcast("pairwise_distance", a, b)
    dtype = _result_type(a, b)
    diff = dtype  # x1 - x2 is computed in it: integers wrap around, as torch's do
    if dtype.kind != "f":  # x1 - x2 + eps: an integer difference becomes float32
        dtype = numpy.dtype(numpy.float32)
    if shape and shape[-1] == 0 and (p < 0 or p == float("inf")):
        raise ShapeError(f"pairwise_distance: linalg.vector_norm cannot compute the {p:g} norm on the dimension "
                         f"{len(shape) - 1}because this dimension is empty and the operation does not have an identity")
    result = shape[:-1] + ((1,) if keepdim and shape else ())
    if is_meta(a, b):
        return _meta(result, dtype)
    xp = get_array_module(a, b)
    _fits("pairwise_distance", shape, dtype)
    if not shape:
        a, b = a.reshape(1), b.reshape(1)
    a = xp.broadcast_to(a.astype(diff, copy=False), shape or (1,))
    b = xp.broadcast_to(b.astype(diff, copy=False), shape or (1,))
    return kernels.pairwise_distance(a, b, p, eps, keepdim, dtype).reshape(result)


def pdist(input, p=2):
    """The p-norm distance of every pair of rows i < j of an (N, M) input -> (N*(N-1)/2,) (torch.nn.functional.pdist)."""
    x = _array("pdist", input, "input")
    p = _norm_p("pdist", p)
    if x.ndim != 2:
        raise ShapeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    if x.dtype.kind != "f":
        raise NNSpecRuntimeError(f"pdist only supports floating-point dtypes (got {torch_type_name(x.dtype)})")
    if p < 0:
        raise NNSpecRuntimeError(f"pdist only supports non-negative p values (got p={p:g})")
    if x.dtype == numpy.float16:
        raise NNSpecRuntimeError("pdist: \"pdist\" not implemented for 'Half'")
    n = x.shape[0]
    pairs = n * (n - 1) // 2
    if is_meta(x):
        return _meta((pairs,), x.dtype)
    _fits("pdist", (pairs, x.shape[1]), x.dtype)
    return kernels.pdist(x, p)
