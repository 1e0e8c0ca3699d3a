"""Attention: scaled_dot_product_attention and multi_head_attention_forward (torch.nn.functional), and the mask
helpers MultiheadAttention and the transformer layers share (torch's _canonical_mask, _none_or_dtype)."""

from __future__ import annotations

import warnings

import numpy  # dtype objects only

from ...errors import NNSpecRuntimeError, ShapeError
from .. import random
from ..backend import get_array_module
from ..kernels import attention as kernels
from ..meta import is_meta
from ..symbolic import is_one
from .core import _data, _fits, _meta, _same_dtype, check_float

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_BOOL = numpy.dtype(numpy.bool_)
_F32 = numpy.dtype(numpy.float32)
# the C++ type names torch's attention messages use
_CPP = {"float16": "c10::Half", "float32": "float", "float64": "double", "int8": "signed char",
        "uint8": "unsigned char", "int16": "short int", "int32": "int", "int64": "long int", "bool": "bool"}


def _cpp(dtype) -> str:
    return _CPP.get(str(dtype), str(dtype))


def _size(shape) -> str:
    """A shape as torch prints a torch.Size."""
    return "torch.Size([" + ", ".join(str(s) for s in shape) + "])"


def _tuple(*sizes) -> str:
    return "(" + ", ".join(str(s) for s in sizes) + ("," if len(sizes) == 1 else "") + ")"


# --------------------------------------------------------------------------- masks


def _none_or_dtype(mask):
    """torch's _none_or_dtype: a mask's dtype, or None."""
    return None if mask is None else _data(mask).dtype


def _canonical_mask(mask, mask_name: str, other_type, other_name: str, target_type, check_other: bool = True):
    """torch's _canonical_mask: a bool mask becomes an additive float mask of ``target_type`` (-inf where True);
    a float mask is kept as it is; any other dtype is refused."""
    if mask is None:
        return None
    m = _data(mask)
    if m.dtype != _BOOL and m.dtype.kind != "f":
        raise NNSpecRuntimeError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and m.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=3)
    if m.dtype != _BOOL:
        return m
    if is_meta(m):
        return _meta(m.shape, target_type)
    return kernels.float_mask(m, target_type)


def _swap01(x):
    """x with its first two dims swapped (a view): batch-first to sequence-first and back."""
    return get_array_module(x).swapaxes(x, 0, 1)


# --------------------------------------------------------------------------- scaled dot-product attention


def _broadcast(op: str, shapes: list[tuple]) -> tuple:
    """The broadcast of batch shapes, with torch's message for sizes that don't match (a symbolic size is not asked
    whether it is 1: see symbolic.is_one)."""
    n = max(len(s) for s in shapes)
    out = [1] * n
    for s in shapes:
        padded = (1,) * (n - len(s)) + tuple(s)
        for i, d in enumerate(padded):
            if not is_one(d):
                if not is_one(out[i]) and out[i] != d:
                    raise ShapeError(f"{op}: The size of tensor a ({out[i]}) must match the size of tensor b ({d}) "
                                     f"at non-singleton dimension {i}")
                out[i] = d
    return tuple(out)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, *, scale=None,
                                 enable_gqa=False):
    """softmax(q k^T * scale + mask) v over the last two dims, with a bool or float mask or a causal one."""
    op = "scaled_dot_product_attention"
    q, k, v, m = _data(query), _data(key), _data(value), _data(attn_mask)
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ShapeError(f"{op}: Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                         f"{q.ndim} key.dim: {k.ndim} and value.dim: {v.ndim} instead.")
    if not q.dtype == k.dtype == v.dtype:
        raise NNSpecRuntimeError(f"{op}: Expected query, key, and value to have the same dtype, but got query.dtype: "
                                 f"{_cpp(q.dtype)} key.dtype: {_cpp(k.dtype)} and value.dtype: {_cpp(v.dtype)} "
                                 "instead.")
    if m is not None and m.dtype not in (_BOOL, _F32, q.dtype):
        raise NNSpecRuntimeError(f"{op}: Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                                 f"attn_mask.dtype: {_cpp(m.dtype)} and  query.dtype: {_cpp(q.dtype)} instead.")
    if is_causal and m is not None:
        raise NNSpecRuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                                 "is_causal=True")
    if dropout_p > 1:
        raise NNSpecRuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    check_float(op, q)
    kb, vb = k.shape[:-2], v.shape[:-2]
    if enable_gqa:
        if q.ndim < 3 or k.ndim < 3 or v.ndim < 3:
            raise ShapeError(f"{op}: Dimension out of range (expected to be in range of [-2, 1], but got -3)")
        heads = q.shape[-3]
        if heads % k.shape[-3] or heads % v.shape[-3]:
            raise ShapeError(f"{op}: Number of heads in key and value must divide the number of heads in query "
                             f"(query {list(q.shape)}, key {list(k.shape)}, value {list(v.shape)})")
        kb, vb = kb[:-1] + (heads,), vb[:-1] + (heads,)
    length, embed = q.shape[-2:]
    source = k.shape[-2]
    if k.shape[-1] != embed:
        raise ShapeError(f"{op}: query and key must have the same last dim (embedding size), but got query of size "
                         f"{list(q.shape)} and key of size {list(k.shape)}")
    if v.shape[-2] != source:
        raise ShapeError(f"{op}: key and value must have the same sequence length (dim -2), but got key of size "
                         f"{list(k.shape)} and value of size {list(v.shape)}")
    scores = _broadcast(op, [q.shape[:-2], kb]) + (length, source)
    if m is not None and m.ndim < 2 and q.ndim == k.ndim == v.ndim == 4 and q.shape[0] == k.shape[0] == v.shape[0] \
            and (enable_gqa or q.shape[1] == k.shape[1] == v.shape[1]) and not dropout_p > 0 and length:
        # torch's fused CPU kernel (4-D inputs of one batch and head count, no dropout) reads the mask's dim -2
        raise ShapeError(f"{op}: Dimension out of range (expected to be in range of [-1, 0], but got -2)" if m.ndim
                         else f"{op}: Dimension specified as -2 but tensor has no dimensions")
    if m is not None:
        if m.ndim > len(scores):
            raise ShapeError(f"{op}: output with shape {list(scores)} doesn't match the broadcast shape "
                             f"{list(_broadcast(op, [scores, m.shape]))}")
        if _broadcast(op, [scores, m.shape]) != scores:
            raise ShapeError(f"{op}: attn_mask of size {list(m.shape)} does not broadcast to the attention weights' "
                             f"size {list(scores)}")
    out = _broadcast(op, [scores[:-2], vb]) + (length, v.shape[-1])
    if is_meta(q, k, v, m):
        return _meta(out, q.dtype)
    compute = numpy.float32 if q.dtype == numpy.float16 else q.dtype
    _fits(op, scores, compute)
    _fits(op, out, compute)
    return kernels.scaled_dot_product_attention(q, k, v, m, dropout_p, is_causal, scale, enable_gqa,
                                                random.generator())


# --------------------------------------------------------------------------- multi-head attention

_MHA = "multi_head_attention_forward"


def _mha_shape_check(q, k, v, kpm, am, num_heads: int) -> bool:
    """torch's _mha_shape_check: batched (3-D) or unbatched (2-D) query, key, value and masks alike."""
    if q.ndim not in (2, 3):
        raise ShapeError(f"{_MHA}: query should be unbatched 2D or batched 3D tensor but received {q.ndim}-D query "
                         "tensor")
    batched = q.ndim == 3
    which = "For batched (3-D) `query`" if batched else "For unbatched (2-D) `query`"
    if k.ndim != q.ndim or v.ndim != q.ndim:
        raise ShapeError(f"{_MHA}: {which}, expected `key` and `value` to be {q.ndim}-D but found {k.ndim}-D and "
                         f"{v.ndim}-D tensors respectively")
    if kpm is not None and kpm.ndim != q.ndim - 1:
        raise ShapeError(f"{_MHA}: {which}, expected `key_padding_mask` to be `None` or {q.ndim - 1}-D but found "
                         f"{kpm.ndim}-D tensor instead")
    if am is not None and am.ndim not in (2, 3):
        raise ShapeError(f"{_MHA}: {which}, expected `attn_mask` to be `None`, 2-D or 3-D but found {am.ndim}-D "
                         "tensor instead")
    if not batched and am is not None and am.ndim == 3:
        expected = (num_heads, q.shape[0], k.shape[0])
        if tuple(am.shape) != expected:
            raise ShapeError(f"{_MHA}: Expected `attn_mask` shape to be {_tuple(*expected)} but got "
                             f"{_size(am.shape)}")
    return batched


def _check_projection(name: str, w, b, embed, features) -> None:
    """torch's _in_projection checks: weight (E, features), bias (E,)."""
    if tuple(w.shape) != (embed, features):
        raise ShapeError(f"{_MHA}: expecting {name} weights shape of {_tuple(embed, features)}, but got "
                         f"{_size(w.shape)}")
    if b is not None and tuple(b.shape) != (embed,):
        raise ShapeError(f"{_MHA}: expecting {name} bias shape of {_tuple(embed)}, but got {_size(b.shape)}")


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention with its projections given as arrays (what torch.nn.MultiheadAttention calls)."""
    op = _MHA
    q, k, v = _data(query), _data(key), _data(value)
    w_in, b_in, bias_k, bias_v = _data(in_proj_weight), _data(in_proj_bias), _data(bias_k), _data(bias_v)
    w_out, b_out = _data(out_proj_weight), _data(out_proj_bias)
    kpm, am = _data(key_padding_mask), _data(attn_mask)
    static_k, static_v = _data(static_k), _data(static_v)
    is_batched = _mha_shape_check(q, k, v, kpm, am, num_heads)
    check_float(op, q)
    if not is_batched:  # (L, E) -> (L, 1, E)
        q, k, v = q[:, None], k[:, None], v[:, None]
        kpm = None if kpm is None else kpm[None]
    tgt_len, bsz, embed_dim = q.shape
    src_len = k.shape[0]
    kpm = _canonical_mask(kpm, "key_padding_mask", _none_or_dtype(am), "attn_mask", q.dtype)
    if is_causal and am is None:
        raise NNSpecRuntimeError(f"{_MHA}: Need attn_mask if specifying the is_causal hint. You may use the "
                                 "Transformer module method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and kpm is None and not need_weights:
        am = None  # scaled_dot_product_attention's own causal mask takes its place
    else:
        am = _canonical_mask(am, "attn_mask", None, "", q.dtype, check_other=False)
        if kpm is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise ShapeError(f"{_MHA}: was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ShapeError(f"{_MHA}: embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(k.shape[:2]) != tuple(v.shape[:2]):
            raise ShapeError(f"{_MHA}: key's sequence and batch dims {_size(k.shape[:2])} do not match value's "
                             f"{_size(v.shape[:2])}")
    elif tuple(k.shape) != tuple(v.shape):
        raise ShapeError(f"{_MHA}: key shape {_size(k.shape)} does not match value shape {_size(v.shape)}")

    # the projections: weights (E, E), (E, Ek), (E, Ev), from one packed (3E, E) weight or three
    if not use_separate_proj_weight:
        if w_in is None:
            raise NNSpecRuntimeError(f"{_MHA}: use_separate_proj_weight is False but in_proj_weight is None")
        if tuple(w_in.shape) != (3 * embed_dim, embed_dim) or \
                (b_in is not None and tuple(b_in.shape) != (3 * embed_dim,)):
            raise ShapeError(f"{_MHA}: in_proj_weight of size {list(w_in.shape)}"
                             + ("" if b_in is None else f" and in_proj_bias of size {list(b_in.shape)}")
                             + f" do not pack three projections of embedding size {embed_dim} (expected "
                             f"[{3 * embed_dim}, {embed_dim}] and [{3 * embed_dim}])")
        w_q, w_k, w_v = w_in[:embed_dim], w_in[embed_dim:2 * embed_dim], w_in[2 * embed_dim:]
    else:
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise NNSpecRuntimeError(f"{_MHA}: use_separate_proj_weight is True but {name}_proj_weight is None")
        w_q, w_k, w_v = _data(q_proj_weight), _data(k_proj_weight), _data(v_proj_weight)
        if b_in is not None and tuple(b_in.shape) != (3 * embed_dim,):
            raise ShapeError(f"{_MHA}: in_proj_bias of size {list(b_in.shape)} does not pack three biases of size "
                             f"{embed_dim}")
    b_q, b_k, b_v = (None, None, None) if b_in is None else \
        (b_in[:embed_dim], b_in[embed_dim:2 * embed_dim], b_in[2 * embed_dim:])
    _check_projection("query", w_q, b_q, embed_dim, embed_dim)
    _check_projection("key", w_k, b_k, embed_dim, k.shape[-1])
    _check_projection("value", w_v, b_v, embed_dim, v.shape[-1])
    for x in (k, v):
        check_float(op, x)
        _same_dtype(op, q, x)
    for w in (w_q, w_k, w_v, b_in, w_out, b_out, bias_k, bias_v, static_k, static_v):
        _same_dtype(op, q, w)

    if am is not None:
        if am.ndim == 2:
            if tuple(am.shape) != (tgt_len, src_len):
                raise ShapeError(f"{_MHA}: The shape of the 2D attn_mask is {_size(am.shape)}, but should be "
                                 f"{_tuple(tgt_len, src_len)}.")
            am = am[None]
        elif am.ndim == 3:
            if tuple(am.shape) != (bsz * num_heads, tgt_len, src_len):
                raise ShapeError(f"{_MHA}: The shape of the 3D attn_mask is {_size(am.shape)}, but should be "
                                 f"{_tuple(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise ShapeError(f"{_MHA}: attn_mask's dimension {am.ndim} is not supported")

    # the keys' length: + the bias column, or a static key's own, + the zero column
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise NNSpecRuntimeError(f"{_MHA}: bias cannot be added to static key.")
        if static_v is not None:
            raise NNSpecRuntimeError(f"{_MHA}: bias cannot be added to static value.")
        for name, b in (("bias_k", bias_k), ("bias_v", bias_v)):
            if tuple(b.shape) != (1, 1, embed_dim):
                raise ShapeError(f"{_MHA}: {name} of size {list(b.shape)}: expected size [1, 1, {embed_dim}]")
        src_len = src_len + 1
    elif bias_k is not None:
        raise NNSpecRuntimeError(f"{_MHA}: bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise NNSpecRuntimeError(f"{_MHA}: bias_v is set but bias_k is None")
    am_len = k.shape[0]
    mask_len = src_len  # the columns the masks get (a static key does not change them)
    for name, s in (("static_k", static_k), ("static_v", static_v)):
        if s is not None:
            if s.ndim != 3 or s.shape[0] != bsz * num_heads:
                raise ShapeError(f"{_MHA}: expecting {name}.size(0) of {bsz * num_heads}, but got "
                                 f"{s.shape[0] if s.ndim else s.ndim}")
            if s.shape[2] != head_dim:
                raise ShapeError(f"{_MHA}: expecting {name}.size(2) of {head_dim}, but got {s.shape[2]}")
    if static_k is not None:
        src_len = static_k.shape[1]
    if static_v is not None and static_v.shape[1] != src_len:
        raise ShapeError(f"{_MHA}: static_v of size {list(static_v.shape)} has {static_v.shape[1]} values for "
                         f"{src_len} keys")
    if add_zero_attn:
        src_len, mask_len = src_len + 1, mask_len + 1
    if kpm is not None:
        if kpm.shape[0] != bsz:
            raise ShapeError(f"{_MHA}: Expected key_padded_mask.shape[0] to be {bsz}, but got {kpm.shape[0]}")
        if kpm.shape[1] + (mask_len - am_len) != src_len:  # the mask gets the bias and zero columns too
            raise ShapeError(f"{_MHA}: Expected key_padded_mask.shape[1] to be {src_len}, but got "
                             f"{kpm.shape[1] + (mask_len - am_len)}")
    if am is not None and mask_len != src_len:
        raise ShapeError(f"{_MHA}: attn_mask for {mask_len} keys, but there are {src_len} (static_k)")
    if w_out.ndim != 2 or w_out.shape[1] != embed_dim or \
            (b_out is not None and tuple(b_out.shape) != (w_out.shape[0],)):
        raise ShapeError(f"{_MHA}: out_proj_weight of size {list(w_out.shape)}"
                         + ("" if b_out is None else f" and out_proj_bias of size {list(b_out.shape)}")
                         + f" do not map embedding size {embed_dim}")
    masks = [m.dtype for m in (am, kpm) if m is not None]
    if masks:  # the masks, added to the scores: of the query's dtype (float32 too, for the fused kernels)
        merged = numpy.result_type(*masks)
        if need_weights and merged != q.dtype:
            raise NNSpecRuntimeError(f"{_MHA}: Input dtypes must be the same, got: input {_cpp(merged)}, batch1: "
                                     f"{_cpp(q.dtype)}, batch2: {_cpp(q.dtype)}")
        if not need_weights and merged not in (_F32, q.dtype):
            raise NNSpecRuntimeError(f"{_MHA}: Expected attn_mask dtype to be bool or float or to match query "
                                     f"dtype, but got attn_mask.dtype: {_cpp(merged)} and  query.dtype: "
                                     f"{_cpp(q.dtype)} instead.")
    if not training:
        dropout_p = 0.0
    if dropout_p > 1:
        raise NNSpecRuntimeError(f"{_MHA}: dropout probability has to be between 0 and 1, but got {dropout_p}")

    out_shape = (tgt_len, bsz, w_out.shape[0])
    weights_shape = None
    if need_weights:
        weights_shape = (bsz, tgt_len, src_len) if average_attn_weights else (bsz, num_heads, tgt_len, src_len)
    if is_meta(q, k, v, w_q, am, kpm):
        out = _meta(out_shape[:1] + out_shape[2:] if not is_batched else out_shape, q.dtype)
        if weights_shape is None:
            return out, None
        return out, _meta(weights_shape[1:] if not is_batched else weights_shape, q.dtype)
    compute = numpy.float32 if q.dtype == numpy.float16 else q.dtype
    _fits(op, (bsz * num_heads, tgt_len, src_len), compute)  # the attention weights
    _fits(op, (max(src_len, tgt_len), bsz, 3 * embed_dim), compute)  # the projections
    out, weights = kernels.multi_head_attention(
        q, k, v, num_heads, w_q, w_k, w_v, b_q, b_k, b_v, bias_k, bias_v, add_zero_attn, static_k, static_v,
        w_out, b_out, kpm, am, dropout_p if dropout_p > 0 else 0.0, random.generator(), need_weights,
        average_attn_weights, is_causal)
    if not is_batched:
        out = out[:, 0]
        weights = None if weights is None else weights[0]
    return out, weights


def _square_subsequent_mask(size, dtype, xp=numpy):
    """torch's _generate_square_subsequent_mask: (size, size), -inf above the diagonal, 0 on and below it."""
    return kernels.causal_bias(size, size, xp, dtype)


# --------------------------------------------------------------------------- the transformer layers' helpers


def _detect_is_causal_mask(mask, is_causal, size):
    """torch's _detect_is_causal_mask: is_causal as given, or, when it is None, whether ``mask`` is the square
    causal mask (a value only a real run knows: shape-only inference says False, which changes no shape)."""
    make_causal = is_causal is True
    if is_causal is None and mask is not None:
        m = _data(mask)
        if is_meta(m):
            return False
        sz = size if size is not None else m.shape[-2]
        causal = _square_subsequent_mask(sz, m.dtype, get_array_module(m))
        make_causal = tuple(m.shape) == tuple(causal.shape) and bool((m == causal).all())
    return make_causal


def _merge_masks(attn_mask, key_padding_mask, query, num_heads: int):
    """What MultiheadAttention.merge_masks gives the fused kernels, as the fused CPU kernels read it: any nonzero
    value masks. Returns (attn_mask (N*H, L, L) or None, key_padding_mask (N, L) or None), additive -inf/0."""
    am, kpm = _data(attn_mask), _data(key_padding_mask)
    if am is None:
        return None, None if kpm is None else _nonzero_masks(kpm, query.dtype)
    batch, seq, _ = query.shape
    if am.ndim == 3:
        if batch * seq * seq == 0 or am.size % (batch * seq * seq) != 0:
            raise ShapeError(f"shape '[{batch}, -1, {seq}, {seq}]' is invalid for input of size {am.size}")
        heads = am.size // (batch * seq * seq)
    else:
        if am.size != seq * seq:
            raise ShapeError(f"shape '[1, 1, {seq}, {seq}]' is invalid for input of size {am.size}")
        heads = num_heads
    if kpm is not None and kpm.size != batch * seq:
        raise ShapeError(f"shape '[{batch}, 1, 1, {seq}]' is invalid for input of size {kpm.size}")
    if is_meta(am, kpm):
        return _meta((batch * heads, seq, seq), query.dtype), None
    xp = get_array_module(am)
    merged = xp.broadcast_to(am.reshape(-1, heads if am.ndim == 3 else 1, seq, seq), (batch, heads, seq, seq))
    if kpm is not None:
        merged = merged + kpm.reshape(batch, 1, 1, seq)  # (N, H, L, L)
    return kernels.masked_where_nonzero(merged.reshape(batch * heads, seq, seq), query.dtype), None


def _nonzero_masks(mask, dtype):
    return _meta(mask.shape, dtype) if is_meta(mask) else kernels.masked_where_nonzero(mask, dtype)


def _nested_padding(key_padding_mask, src, mask_check: bool):
    """TransformerEncoder's nested-tensor path: the padding its nested tensor has, as a bool (N, S) mask (True
    from each sequence's length on, the length being its count of unmasked positions), or None where the path
    is not taken (a mask not left-aligned, with mask_check; a mask of another shape)."""
    kpm, x = _data(key_padding_mask), _data(src)
    if is_meta(kpm, x) or kpm.ndim != 2 or tuple(kpm.shape) != tuple(x.shape[:2]):
        return None
    xp = get_array_module(kpm)
    valid = kpm == 0  # (N, S)
    if mask_check and bool((valid[:, 1:] & ~valid[:, :-1]).any()):  # a valid position after a padded one
        return None
    lengths = valid.sum(axis=1)  # (N,)
    if x.shape[0] and not bool((lengths > 0).any()):
        raise NNSpecRuntimeError("to_padded_tensor: at least one constituent tensor should have non-zero numel "
                                 "(src_key_padding_mask masks every position of every sequence)")
    return xp.arange(kpm.shape[1])[None, :] >= lengths[:, None]  # (N, S)


def _zero_padding(x, padding):
    """x (N, S, E) with the padded positions set to 0 (a nested tensor padded back)."""
    xp = get_array_module(x)
    return xp.where(padding[:, :, None], x.dtype.type(0), x)
