"""Lookups: embedding rows by id, bags of rows reduced by sum, mean or max, one-hot codes."""

from __future__ import annotations

from ..backend import get_array_module
from .norm import vector_norm


def _compute_dtype(xp, a):
    return xp.dtype(xp.float32) if a.dtype == xp.float16 else a.dtype


def embedding(weight, ids):
    """The rows of ``weight`` (V, D) at ``ids`` (any shape, in [0, V)) -> (*ids.shape, D)."""
    xp = get_array_module(weight, ids)
    return xp.take(weight, ids, axis=0)


def embedding_renorm_(weight, ids, max_norm: float, norm_type: float) -> None:
    """torch's embedding_renorm_: each row of ``weight`` that ``ids`` looks up whose norm_type-norm (in the weight's
    dtype) exceeds max_norm is scaled, in place, by max_norm / (norm + 1e-7)."""
    xp = get_array_module(weight, ids)
    rows = xp.unique(ids.reshape(-1))
    if rows.size == 0:
        return
    picked = weight[rows]  # (R, D)
    norms = vector_norm(picked, norm_type, axis=1).astype(xp.float64)  # (R,), rounded as torch's norm is
    over = norms > max_norm
    if not bool(over.any()):
        return
    ct = _compute_dtype(xp, weight)
    scale = (max_norm / (norms[over] + 1e-7)).astype(ct)
    weight[rows[over]] = (picked[over].astype(ct) * scale[:, None]).astype(weight.dtype)


def embedding_bag(weight, ids, starts, ends, mode: str, per_sample_weights, padding_idx):
    """Bag b reduces the rows of ``weight`` (V, D) at ids[starts[b]:ends[b]] by sum (each row times its per-sample
    weight, where given), mean or max; ids equal to padding_idx are left out (and out of the mean's count). An empty
    bag is zeros. ids: (n,); starts, ends: (B,) -> (B, D). float16 computes in float32."""
    xp = get_array_module(weight, ids)
    nbags, dim = starts.shape[0], weight.shape[1]
    ct = _compute_dtype(xp, weight)
    lengths = ends - starts  # (B,)
    longest = int(lengths.max()) if nbags else 0
    if nbags == 0 or longest == 0:
        return xp.zeros((nbags, dim), weight.dtype)
    step = xp.arange(longest)
    valid = step[None, :] < lengths[:, None]  # (B, L)
    where = xp.where(valid, starts[:, None] + step[None, :], 0)  # (B, L): positions in ids
    picked = ids[where]  # (B, L)
    if padding_idx is not None:
        valid = valid & (picked != padding_idx)
    rows = xp.take(weight, picked, axis=0).astype(ct, copy=False)  # (B, L, D)
    keep = valid[:, :, None]  # (B, L, 1)
    if mode == "max":
        lowest = xp.asarray(-xp.inf, dtype=ct)
        y = xp.where(keep, rows, lowest).max(axis=1)  # (B, D)
        y = xp.where(valid.any(axis=1)[:, None], y, ct.type(0))
    else:
        if per_sample_weights is not None:
            rows = rows * per_sample_weights[where].astype(ct, copy=False)[:, :, None]
        y = xp.where(keep, rows, ct.type(0)).sum(axis=1)  # (B, D)
        if mode == "mean":
            count = valid.sum(axis=1)[:, None]  # (B, 1)
            y = y / xp.maximum(count, 1).astype(ct)
    return y.astype(weight.dtype, copy=False)


def one_hot(ids, num_classes: int):
    """(*) int64 ids in [0, num_classes) -> (*, num_classes) int64 of zeros with a 1 at each id."""
    xp = get_array_module(ids)
    return (ids[..., None] == xp.arange(num_classes)).astype(xp.int64)
