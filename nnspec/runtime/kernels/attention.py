"""Attention: scaled dot-product attention and multi-head attention (projections, heads, masks, output).

Masks reach these kernels as additive float masks (0 where a position takes part, -inf where it is masked),
or, for scaled_dot_product_attention, as bool masks (True where a position takes part). float16 computes
in float32 (torch's CPU opmath) and stores float16.
"""

from __future__ import annotations

import math

from ..backend import get_array_module
from . import dropout as _dropout
from .linear import linear
from .softmax import _quiet, softmax


def _compute_dtype(x):
    xp = get_array_module(x)
    return xp.dtype(xp.float32) if x.dtype == xp.float16 else x.dtype


def _as(a, dtype):
    return None if a is None else a.astype(dtype, copy=False)


def float_mask(mask, dtype):
    """torch's _canonical_mask of a bool mask: 0 where False, -inf where True, in ``dtype``."""
    xp = get_array_module(mask)
    dt = xp.dtype(dtype)
    return xp.where(mask, dt.type(-math.inf), dt.type(0)).astype(dt, copy=False)


def masked_where_nonzero(mask, dtype):
    """An additive mask as the fused CPU kernels read one: any value other than 0 masks (-inf), 0 keeps."""
    xp = get_array_module(mask)
    dt = xp.dtype(dtype)
    return xp.where(mask != 0, dt.type(-math.inf), dt.type(0)).astype(dt, copy=False)


def causal_bias(length: int, source: int, xp, dtype):
    """The upper-left causal mask (L, S) as an additive mask: row i attends to keys 0..i."""
    keep = xp.tril(xp.ones((length, source), dtype=bool))  # (L, S)
    dt = xp.dtype(dtype)
    return xp.where(keep, dt.type(0), dt.type(-math.inf)).astype(dt, copy=False)


def _weights(scores, safe: bool):
    """Softmax over the last dim; ``safe``: a row that is -inf everywhere gives 0s (torch's _safe_softmax),
    not NaN."""
    xp = get_array_module(scores)
    if scores.shape[-1] == 0:
        return scores
    w = softmax(scores, scores.ndim - 1)
    if safe:
        with _quiet(xp):
            masked_rows = (scores == -math.inf).all(axis=-1, keepdims=True)  # (..., L, 1)
        w = xp.where(masked_rows, w.dtype.type(0), w)
    return w


def _attend(q, k, v, bias, scale: float, dropout_p: float, generator, safe: bool):
    """softmax(q k^T * scale + bias) v, with dropout on the weights. q: (..., L, E), k: (..., S, E),
    v: (..., S, Ev), bias: additive, broadcastable to (..., L, S). Returns (output (..., L, Ev), weights)."""
    xp = get_array_module(q, k, v)
    if q.shape[-1] == 0:  # no features: every score is 0
        scores = xp.zeros(q.shape[:-1] + (k.shape[-2],), dtype=q.dtype) + xp.zeros(k.shape[:-2] + (1, 1), q.dtype)
    else:
        scores = xp.matmul(q, xp.swapaxes(k, -1, -2)) * q.dtype.type(scale)  # (..., L, S)
    if bias is not None:
        scores = scores + bias
    w = _weights(scores, safe)
    if dropout_p > 0:
        w = _dropout.dropout(w, dropout_p, w.shape, generator)
    return xp.matmul(w, v), w


def scaled_dot_product_attention(q, k, v, mask, dropout_p: float, is_causal: bool, scale, enable_gqa: bool,
                                 generator):
    """torch's F.scaled_dot_product_attention. q: (*B, Hq, L, E), k: (*B, H, S, E), v: (*B, H, S, Ev) (any
    number of batch dims, broadcast); mask: bool (True takes part) or additive float, broadcastable to
    (*B, Hq, L, S), or None. A row with every position masked gives 0s. -> (*B, Hq, L, Ev)."""
    xp = get_array_module(q, k, v)
    ct = _compute_dtype(q)
    qc, kc, vc = _as(q, ct), _as(k, ct), _as(v, ct)
    if enable_gqa:  # each key/value head serves a group of query heads (repeat_interleave over dim -3)
        kc = xp.repeat(kc, q.shape[-3] // k.shape[-3], axis=-3)
        vc = xp.repeat(vc, q.shape[-3] // v.shape[-3], axis=-3)
    length, source = q.shape[-2], k.shape[-2]
    bias = None
    if is_causal:
        bias = causal_bias(length, source, xp, ct)
    elif mask is not None:
        bias = float_mask(~mask, ct) if mask.dtype == xp.bool_ else _as(mask, ct)
    if scale is None:
        scale = 1 / math.sqrt(q.shape[-1]) if q.shape[-1] else 1.0
    out, _ = _attend(qc, kc, vc, bias, scale, dropout_p, generator, safe=True)
    return out.astype(q.dtype, copy=False)


def _pad_last(mask, xp):
    """A zero column after the last one (torch's pad(mask, (0, 1)))."""
    if mask is None:
        return None
    return xp.concatenate([mask, xp.zeros(mask.shape[:-1] + (1,), dtype=mask.dtype)], axis=-1)


def multi_head_attention(query, key, value, num_heads: int, w_q, w_k, w_v, b_q, b_k, b_v, bias_k, bias_v,
                         add_zero_attn: bool, static_k, static_v, out_w, out_b, key_padding_mask, attn_mask,
                         dropout_p: float, generator, need_weights: bool, average: bool, is_causal: bool):
    """torch's F.multi_head_attention_forward after its checks. query: (L, N, E), key: (S, N, Ek), value:
    (S, N, Ev); w_q: (E, E), w_k: (E, Ek), w_v: (E, Ev) and their biases (or None); bias_k, bias_v: (1, 1, E)
    or None; static_k, static_v: (N*H, S', E/H) or None; attn_mask: additive (1 or N*H, L, S) or None;
    key_padding_mask: additive (N, S) or None (S counts the bias_k and zero-attention columns they get here).

    need_weights: softmax weights (a row masked everywhere is NaN, as in torch), returned averaged over heads
    (N, L, S) or per head (N, H, L, S); otherwise scaled_dot_product_attention's path (a row masked everywhere
    gives 0s; is_causal there replaces the mask by the upper-left causal one). -> (output (L, N, E'), weights)."""
    xp = get_array_module(query, key, value)
    dt = query.dtype
    ct = _compute_dtype(query)
    length, batch, embed = query.shape
    heads = num_heads
    head_dim = embed // heads
    q = linear(_as(query, ct), _as(w_q, ct), _as(b_q, ct))  # (L, N, E)
    k = linear(_as(key, ct), _as(w_k, ct), _as(b_k, ct))  # (S, N, E)
    v = linear(_as(value, ct), _as(w_v, ct), _as(b_v, ct))  # (S, N, E)
    am, kpm = _as(attn_mask, ct), _as(key_padding_mask, ct)
    if bias_k is not None:
        k = xp.concatenate([k, xp.broadcast_to(_as(bias_k, ct), (1, batch, embed))], axis=0)  # (S+1, N, E)
        v = xp.concatenate([v, xp.broadcast_to(_as(bias_v, ct), (1, batch, embed))], axis=0)  # (S+1, N, E)
        am, kpm = _pad_last(am, xp), _pad_last(kpm, xp)
    q = q.reshape(length, batch * heads, head_dim).transpose(1, 0, 2)  # (N*H, L, E/H)
    if static_k is None:
        k = k.reshape(k.shape[0], batch * heads, head_dim).transpose(1, 0, 2)  # (N*H, S, E/H)
    else:
        k = _as(static_k, ct)
    if static_v is None:
        v = v.reshape(v.shape[0], batch * heads, head_dim).transpose(1, 0, 2)  # (N*H, S, E/H)
    else:
        v = _as(static_v, ct)
    if add_zero_attn:
        zeros = xp.zeros((batch * heads, 1, head_dim), dtype=ct)
        k = xp.concatenate([k, zeros], axis=1)  # (N*H, S+1, E/H)
        v = xp.concatenate([v, zeros], axis=1)
        am, kpm = _pad_last(am, xp), _pad_last(kpm, xp)
    source = k.shape[1]
    if kpm is not None:
        kpm = xp.broadcast_to(kpm.reshape(batch, 1, 1, source), (batch, heads, 1, source))
        kpm = kpm.reshape(batch * heads, 1, source)  # (N*H, 1, S)
        am = kpm if am is None else am + kpm
    if need_weights:
        scale = math.sqrt(1.0 / float(head_dim)) if head_dim else 1.0
        out, w = _attend(q, k, v, am, scale, dropout_p, generator, safe=False)  # (N*H, L, E/H), (N*H, L, S)
        weights = w.reshape(batch, heads, length, source)  # (N, H, L, S)
        if average:
            weights = weights.mean(axis=1)  # (N, L, S)
        weights = weights.astype(dt, copy=False)
        out = out.transpose(1, 0, 2).reshape(length * batch, embed)  # (L*N, E)
    else:
        if am is not None:
            am = am[None] if am.shape[0] == 1 else am.reshape(batch, heads, -1, source)  # (1 or N, 1 or H, L or 1, S)
        elif is_causal:
            am = causal_bias(length, source, xp, ct)
        q4 = q.reshape(batch, heads, length, head_dim)
        k4 = k.reshape(batch, heads, source, head_dim)
        v4 = v.reshape(batch, heads, source, head_dim)
        scale = 1 / math.sqrt(head_dim) if head_dim else 1.0
        out, _ = _attend(q4, k4, v4, am, scale, dropout_p, generator, safe=True)  # (N, H, L, E/H)
        out = out.transpose(2, 0, 1, 3).reshape(length * batch, embed)  # (L*N, E)
        weights = None
    out = linear(out, _as(out_w, ct), _as(out_b, ct))  # (L*N, E')
    return out.reshape(length, batch, out.shape[-1]).astype(dt, copy=False), weights
