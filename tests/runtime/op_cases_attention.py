"""Registry parity cases of the attention family (merged by test_tensor_ops.py)."""

from __future__ import annotations

import numpy as np

from nnspec.errors import NNSpecRuntimeError, ShapeError

from op_cases import P, c, c_tol, checked, err, err_msg, rnd

q4, k4, v4 = rnd(2, 2, 3, 4), rnd(2, 2, 5, 4), rnd(2, 2, 5, 6)
bool_mask = np.random.default_rng(1).random((3, 5)) > 0.4
bool_mask[1] = False  # a query with no key: 0s
inf_mask = np.where(bool_mask, 0, -np.inf).astype(np.float32)


def _sdpa_dropout(p):
    """Dropout on the weights: some outputs change, none becomes NaN; the same shape and dtype as torch's."""

    def check(got, want):
        w = want.numpy()
        assert got.shape == w.shape and got.dtype == w.dtype
        assert np.isfinite(got).all()

    return check


E, H = 8, 2
L, S, N = 4, 6, 3


def _mha(q_shape=(L, N, E), k_shape=(S, N, E), heads=H, *, kdim=None, bias=True, bias_kv=False, zero_attn=False,
         dtype=np.float32, **kwargs):
    """F.multi_head_attention_forward's arguments for a layer of embedding size E."""
    def r(*s):
        return rnd(*s).astype(dtype)

    e = q_shape[-1]
    kd = k_shape[-1] if kdim is None else kdim
    args = (r(*q_shape), r(*k_shape), r(*k_shape), e, heads, P(r(3 * e, e)), P(r(3 * e)) if bias else None,
            P(r(1, 1, e)) if bias_kv else None, P(r(1, 1, e)) if bias_kv else None, zero_attn, 0.0,
            P(r(e, e)), P(r(e)) if bias else None)
    if kd != e:
        args = args[:5] + (None,) + args[6:]
        kwargs = dict(use_separate_proj_weight=True, q_proj_weight=P(r(e, e)), k_proj_weight=P(r(e, kd)),
                      v_proj_weight=P(r(e, kd)), **kwargs)
    return args, kwargs


def mha(*a, **k) -> object:
    args, kwargs = _mha(*a, **k)
    return c(*args, **kwargs)


def mha_tol(tol, *a, **k) -> object:
    args, kwargs = _mha(*a, **k)
    return c_tol(tol, *args, **kwargs)


def mha_err(exc, same_message, *a, **k) -> object:
    args, kwargs = _mha(*a, **k)
    return (err_msg if same_message else err)(exc, *args, **kwargs)


kpm = np.zeros((N, S), bool)
kpm[0, 4:] = True
kpm[2, :] = True  # a batch element with every key masked: NaN with weights, 0s without

NN_CASES = {
    "scaled_dot_product_attention": [
        c(q4, k4, v4), c(q4[0, 0], k4[0, 0], v4[0, 0]), c(q4[0], k4[:1, 0], v4[:1, 0]),
        c(q4, k4, v4, bool_mask), c(q4, k4, v4, inf_mask), c(q4, k4, v4, rnd(2, 1, 3, 5)),
        c(q4[0], k4[0], v4[0], attn_mask=rnd(5)), c(q4, k4[:1], v4[:1], rnd(5)),
        checked(_sdpa_dropout(0.5), q4, k4, v4, rnd(5), 0.5),  # 4-D, 1-D mask: torch's math kernel, not its fused one
        err_msg(ShapeError, q4, k4, v4, rnd(5)), err_msg(ShapeError, q4, k4, v4, np.array(0.3, np.float32)),
        c(q4, k4, v4, rnd(3, 5), scale=0.25),
        c(q4, k4, v4, is_causal=True), c(rnd(2, 7, 4), k4[0], v4[0], is_causal=True), c(q4, k4, v4, scale=-2.0),
        c(rnd(2, 4, 3, 4), k4, v4, enable_gqa=True), c(rnd(4, 3, 4), rnd(2, 5, 4), rnd(1, 5, 6), enable_gqa=True),
        c(q4.astype(np.float64), k4.astype(np.float64), v4.astype(np.float64), rnd(3, 5)),
        c_tol(1e-2, q4.astype(np.float16), k4.astype(np.float16), v4.astype(np.float16), rnd(3, 5)),
        c_tol(1e-2, q4.astype(np.float16), k4.astype(np.float16), v4.astype(np.float16), inf_mask.astype(np.float16)),
        c(rnd(2, 2, 0, 4), k4, v4), c(q4, rnd(2, 2, 0, 4), rnd(2, 2, 0, 6)), c(q4, k4, v4, dropout_p=-0.5),
        checked(_sdpa_dropout(0.5), q4, k4, v4, dropout_p=0.5),
        err_msg(ShapeError, rnd(4), rnd(4), rnd(4)),
        err_msg(NNSpecRuntimeError, q4, k4.astype(np.float64), v4),
        err_msg(NNSpecRuntimeError, q4, k4, v4, rnd(3, 5).astype(np.float64)),
        err_msg(NNSpecRuntimeError, q4, k4, v4, np.ones((3, 5), np.int64)),
        err_msg(NNSpecRuntimeError, q4, k4, v4, inf_mask, is_causal=True),
        err_msg(NNSpecRuntimeError, q4, k4, v4, dropout_p=1.5),
        err(NNSpecRuntimeError, *(np.ones((2, s, e), np.int64) for s, e in ((3, 4), (5, 4), (5, 6)))),
        err(ShapeError, q4, rnd(2, 2, 5, 3), v4), err(ShapeError, q4, k4, rnd(2, 2, 6, 6)),
        err_msg(ShapeError, q4[0], rnd(3, 5, 4), rnd(3, 5, 6)),
        err(ShapeError, q4, k4, v4, rnd(4, 5)), err(ShapeError, q4, k4, v4, rnd(1, 2, 2, 3, 5)),
        err(ShapeError, rnd(2, 3, 3, 4), k4, v4, enable_gqa=True),
        err(ShapeError, q4[0, 0], k4[0, 0], v4[0, 0], enable_gqa=True),
    ],
    "multi_head_attention_forward": [
        mha(), mha(key_padding_mask=kpm), mha(key_padding_mask=kpm, need_weights=False),
        mha(key_padding_mask=np.where(kpm, -np.inf, 0).astype(np.float32), attn_mask=rnd(L, S)),
        mha(attn_mask=rnd(N * H, L, S), average_attn_weights=False),
        mha(attn_mask=np.random.default_rng(2).random((L, S)) > 0.5),
        mha(k_shape=(S, N, 5)), mha(bias=False, bias_kv=True, zero_attn=True, key_padding_mask=kpm),
        mha(zero_attn=True, attn_mask=rnd(L, S), need_weights=False), mha(bias_kv=True, attn_mask=rnd(N * H, L, S)),
        mha((L, E), (S, E), key_padding_mask=kpm[0], attn_mask=rnd(H, L, S)), mha((L, E), (S, E), need_weights=False),
        mha((L, N, E), (L, N, E), attn_mask=np.triu(np.full((L, L), -np.inf, np.float32), 1), is_causal=True,
            need_weights=False),
        mha(attn_mask=rnd(L, S), is_causal=True, need_weights=False),
        mha(attn_mask=rnd(L, S), is_causal=True, key_padding_mask=kpm, need_weights=False),
        mha(attn_mask=rnd(L, S), is_causal=True),
        mha(heads=1), mha(heads=4), mha(dtype=np.float64, attn_mask=rnd(L, S).astype(np.float64)),
        mha_tol(2e-2, dtype=np.float16),
        mha(training=True, key_padding_mask=kpm),
        mha_err(NNSpecRuntimeError, True, is_causal=True),
        mha_err(ShapeError, True, (L, N, E), (S, N, E), attn_mask=rnd(L, S + 1)),
        mha_err(ShapeError, True, attn_mask=rnd(H, L, S)),
        mha_err(ShapeError, True, attn_mask=rnd(1, 1, L, S)),
        mha_err(ShapeError, True, key_padding_mask=kpm[:, :5]),
        mha_err(ShapeError, True, key_padding_mask=kpm[:2]),
        mha_err(ShapeError, True, key_padding_mask=kpm[0]),
        mha_err(ShapeError, True, (L, E), (S, E), attn_mask=rnd(N, L, S)),
        mha_err(ShapeError, True, (L, E), (S, N, E)),
        mha_err(ShapeError, True, (2, L, N, E), (S, N, E)),
        err_msg(ShapeError, rnd(L, N, 6), *_mha()[0][1:]),
        mha_err(ShapeError, True, (L, N, E), (S, N, E), heads=3),
        mha_err(NNSpecRuntimeError, True, key_padding_mask=np.zeros((N, S), np.int64)),
        mha_err(NNSpecRuntimeError, True, attn_mask=rnd(L, S).astype(np.float64)),
        mha_err(NNSpecRuntimeError, True, key_padding_mask=rnd(N, S).astype(np.float16), need_weights=False),
        mha_err(NNSpecRuntimeError, True, dtype=np.float64, key_padding_mask=rnd(N, S)),
        mha(dtype=np.float64, key_padding_mask=rnd(N, S), attn_mask=rnd(L, S), need_weights=False),
        err_msg(ShapeError, *_mha()[0][:2], rnd(S, 2, E), *_mha()[0][3:]),
        err(ShapeError, *_mha()[0][:5], P(rnd(2 * E, E)), *_mha()[0][6:]),
        err(NNSpecRuntimeError, *_mha(dtype=np.float64)[0][:5], P(rnd(3 * E, E)), *_mha(dtype=np.float64)[0][6:]),
    ],
}
