"""Distances: cosine similarity, the p-norm distance of pairs, and of every pair of rows (pdist)."""

from __future__ import annotations

from ..backend import get_array_module
from .norm import vector_norm


def _compute_dtype(xp, dtype):
    return xp.dtype(xp.float32) if dtype == xp.float16 else xp.dtype(dtype)


def cosine_similarity(x1, x2, axis: int, eps: float, out_dtype):
    """sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps)) along ``axis``, as torch computes it: each input (already
    broadcast to the common shape, floating point) divided by its clamped 2-norm in its own dtype, then the product
    summed in ``out_dtype``. float16 computes in float32."""
    xp = get_array_module(x1, x2)

    def unit(x):
        ct = _compute_dtype(xp, x.dtype)
        norm = vector_norm(x, 2, axis, keepdims=True)  # rounded to x's dtype, as torch's is
        norm = xp.maximum(norm, x.dtype.type(eps))
        return (x.astype(ct, copy=False) / norm.astype(ct, copy=False)).astype(x.dtype, copy=False)

    ct = _compute_dtype(xp, out_dtype)
    y = (unit(x1).astype(ct, copy=False) * unit(x2).astype(ct, copy=False)).sum(axis=axis)
    return xp.asarray(y).astype(out_dtype, copy=False)


def pairwise_distance(x1, x2, p: float, eps: float, keepdim: bool, dtype):
    """The p-norm of x1 - x2 + eps over the last dim, in ``dtype`` (inputs broadcast, at least 1-d). Integer
    inputs (of one dtype) are subtracted in it, wrapping around as torch's are, and then made ``dtype``."""
    xp = get_array_module(x1, x2)
    ct = _compute_dtype(xp, dtype)
    if x1.dtype.kind in "iu":
        x1, x2 = x1 - x2, xp.zeros((), ct)  # (*, D): the wrapped integer difference
    diff = (x1.astype(ct, copy=False) - x2.astype(ct, copy=False) + ct.type(eps)).astype(dtype, copy=False)
    return vector_norm(diff, p, -1, keepdims=keepdim)


def pdist(x, p: float):
    """The p-norm distance of rows i < j of x (N, M), row-major over the pairs -> (N*(N-1)/2,)."""
    xp = get_array_module(x)
    n, m = x.shape
    i, j = xp.triu_indices(n, 1)  # (P,) each
    if m == 0 or i.shape[0] == 0:
        return xp.zeros((i.shape[0],), x.dtype)
    return vector_norm(x[i] - x[j], p, 1)  # (P, M) -> (P,)
