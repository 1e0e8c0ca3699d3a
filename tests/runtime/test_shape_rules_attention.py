"""Shape rules of the attention family agree with their kernels (see tests/shape_rules.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nnspec.runtime import functional as F

from shape_rules import SETTINGS, agree, covers, shape, size


@SETTINGS
@given(st.data())
def test_scaled_dot_product_attention(data):
    batch = data.draw(shape(0, 2, max_size=3))
    heads = data.draw(st.sampled_from([1, 2, 4]))
    length, source, embed, value = (data.draw(st.integers(0, 4)) for _ in range(4))
    gqa = data.draw(st.booleans())
    kv_heads = data.draw(st.sampled_from([1, 2, heads])) if gqa else heads
    lead = batch + (heads,)
    q = lead + (length, embed)
    k = data.draw(st.sampled_from([batch + (kv_heads,), lead[1:], (1,) * len(lead)])) + (source, embed)
    v = k[:-2] + (source if data.draw(st.integers(0, 5)) else source + 1, value)
    if not data.draw(st.integers(0, 5)):  # a wrong embedding size or too few dims
        k = data.draw(st.sampled_from([k[:-1] + (embed + 1,), k[-1:]]))
    mask_shape = data.draw(st.sampled_from([None, (length, source), (source,), (), (heads, 1, source),
                                            (2,) + lead + (length, source), (length + 1, source)]))
    dtype = data.draw(st.sampled_from(["float32", "float32", "float64", "int64"]))
    mask = None if mask_shape is None else (mask_shape, data.draw(st.sampled_from(["bool", dtype, "float64"])))
    causal = data.draw(st.booleans()) and data.draw(st.booleans())
    p = data.draw(st.sampled_from([0.0, 0.0, 0.5, 1.5]))
    agree(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m, p, causal, enable_gqa=gqa),
          (q, dtype), (k, dtype), (v, dtype), mask)


@SETTINGS
@given(st.data())
def test_multi_head_attention_forward(data):
    heads = data.draw(st.sampled_from([1, 2, 3]))
    embed = heads * data.draw(size) + (0 if data.draw(st.integers(0, 6)) else 1)
    kdim = data.draw(st.sampled_from([embed, embed, 3]))
    length, source, batch = (data.draw(size) for _ in range(3))
    batched = data.draw(st.booleans())
    lead = (batch,) if batched else ()
    q = (length, *lead, embed)
    k = (source, *lead, kdim) if data.draw(st.integers(0, 6)) else (source, kdim)
    v = k if data.draw(st.integers(0, 6)) else k[:-1] + (kdim + 1,)
    bias_kv, zero_attn = data.draw(st.booleans()), data.draw(st.booleans())
    need_weights, average = data.draw(st.booleans()), data.draw(st.booleans())
    extra = bias_kv + zero_attn
    kpm = data.draw(st.sampled_from([None, lead + (source,), lead + (source + extra,), (source,)]))
    am = data.draw(st.sampled_from([None, (length, source), (batch * heads, length, source), (heads, length, source),
                                    (length, source + 1), (1, 1, length, source)]))
    kinds = [data.draw(st.sampled_from(["bool", "float32"])) for _ in range(2)]
    separate = kdim != embed
    w_in = None if separate else (3 * embed, embed)
    separate_weights = [(embed, embed), (embed, kdim), (embed, v[-1])] if separate else [None, None, None]
    causal = am is not None and data.draw(st.booleans())

    def op(q, k, v, w_in, b_in, bias_k, bias_v, w_out, b_out, kpm, am, wq, wk, wv):
        return F.multi_head_attention_forward(
            q, k, v, embed, heads, w_in, b_in, bias_k, bias_v, zero_attn, 0.0, w_out, b_out, training=False,
            key_padding_mask=kpm, need_weights=need_weights, attn_mask=am, use_separate_proj_weight=separate,
            q_proj_weight=wq, k_proj_weight=wk, v_proj_weight=wv, average_attn_weights=average, is_causal=causal)

    bkv = (1, 1, embed) if bias_kv else None
    agree(op, q, k, v, w_in, (3 * embed,), bkv, bkv, (embed, embed), (embed,),
          None if kpm is None else (kpm, kinds[0]), None if am is None else (am, kinds[1]), *separate_weights)


covers(F.scaled_dot_product_attention, F.multi_head_attention_forward)
