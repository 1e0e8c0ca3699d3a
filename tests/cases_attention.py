"""Parity cases: MultiheadAttention and the transformer layers. Imported by cases.py; each add() is one case.

Masks are inputs: a float mask is standard normal (added to the scores), a -inf/0 mask is made in the forward
from a standard normal input k as -b / (1 - b), b = relu(k) / k in {0, 1} (0 where k < 0, -inf where k > 0), and
a row masked everywhere as -1 / (k * k * 0). The eval cases with batch_first self-attention take torch's fast
paths (a query with every key masked gives NaN there; the encoder's nested tensors give 0 at padded positions).
"""

from __future__ import annotations

from cases import L, add  # noqa: F401

E, H, FF = 16, 2, 24
T, S, N = 5, 7, 2  # target and source lengths, batch


def _user(modules: dict, inputs: list[str], forward: str, **extra) -> dict:
    return {"name": "M", "modules": modules, "inputs": inputs, "forward": forward, **extra}


MASK = "m = F.relu(k) / k\nm = -m / (1 - m)\n"  # k standard normal -> {1, 0} -> -inf / 0
# a key padding mask (N, S) with batch element 1 masked everywhere
PAD_ONE_ROW = MASK + "z = k * k * 0\nm = torch.cat([m[:1], -1 / z[1:]], 0)\n"

# --- MultiheadAttention: (L, N, E) inputs, three arrays (cross-attention's slow path)
mha = L("MultiheadAttention", E, H)
add("mha_eval", mha, (T, N, E), (S, N, E), (S, N, E))
add("mha_train", mha, (T, N, E), (S, N, E), (S, N, E), train=True)
add("mha_kpm_float", mha, (T, N, E), (S, N, E), (S, N, E), (N, S))
add("mha_per_head_weights", _user({"attn": mha}, ["q", "k", "v"], "return self.attn(q, k, v, "
                                                                 "average_attn_weights=False)"),
    (T, N, E), (S, N, E), (S, N, E))
add("mha_no_bias", L("MultiheadAttention", E, H, bias=False), (T, N, E), (S, N, E), (S, N, E))
add("mha_bias_kv", L("MultiheadAttention", E, H, add_bias_kv=True), (T, N, E), (S, N, E), (S, N, E), (N, S))
add("mha_zero_attn", L("MultiheadAttention", E, H, add_zero_attn=True), (T, N, E), (S, N, E), (S, N, E), (N, S))
add("mha_bias_kv_zero_attn", L("MultiheadAttention", E, 4, add_bias_kv=True, add_zero_attn=True, bias=False),
    (T, N, E), (S, N, E), (S, N, E))
add("mha_kdim_vdim", L("MultiheadAttention", E, H, kdim=6, vdim=3), (T, N, E), (S, N, 6), (S, N, 3), (N, S))
add("mha_one_head", L("MultiheadAttention", E, 1), (T, N, E), (S, N, E), (S, N, E))
add("mha_batch_first", L("MultiheadAttention", E, H, batch_first=True), (N, T, E), (N, S, E), (N, S, E))
add("mha_unbatched", mha, (T, E), (S, E), (S, E), (S,))
add("mha_unbatched_batch_first", L("MultiheadAttention", E, H, batch_first=True), (T, E), (S, E), (S, E))
add("mha_float64", mha, (T, N, E), (S, N, E), (S, N, E), (N, S), dtype="float64")
add("mha_float16", mha, (T, N, E), (S, N, E), (S, N, E), dtype="float16")
add("mha_dropout_train", L("MultiheadAttention", E, H, dropout=0.5), (T, N, E), (S, N, E), (S, N, E), train=True,
    random=True)
add("mha_dropout_eval", L("MultiheadAttention", E, H, dropout=0.5), (T, N, E), (S, N, E), (S, N, E))

# masks given to a MultiheadAttention inside a custom forward
attn = {"attn": mha}
add("mha_attn_mask_2d", _user(attn, ["q", "k", "m"], "return self.attn(q, k, k, attn_mask=m)"),
    (T, N, E), (S, N, E), (T, S))
add("mha_attn_mask_3d", _user(attn, ["q", "k", "m"], "return self.attn(q, k, k, attn_mask=m)"),
    (T, N, E), (S, N, E), (N * H, T, S))
add("mha_masks_no_weights", _user(attn, ["q", "k", "m", "p"],
                                  "return self.attn(q, k, k, p, need_weights=False, attn_mask=m)[0]"),
    (T, N, E), (S, N, E), (T, S), (N, S))
add("mha_inf_masks", _user(attn, ["q", "x", "k", "a"], MASK + "return self.attn(q, x, x, m, attn_mask=a)"),
    (T, N, E), (S, N, E), (N, S), (T, S))
# batch element 1 has every key masked: NaN with need_weights, 0s without (scaled_dot_product_attention)
add("mha_masked_row_weights", _user(attn, ["q", "x", "k"], PAD_ONE_ROW + "return self.attn(q, x, x, m)"),
    (T, N, E), (S, N, E), (N, S))
add("mha_masked_row_no_weights", _user(attn, ["q", "x", "k"], PAD_ONE_ROW
                                       + "return self.attn(q, x, x, m, need_weights=False)[0]"),
    (T, N, E), (S, N, E), (N, S))
# is_causal without weights or padding: the mask given is replaced by the causal one
add("mha_is_causal", _user(attn, ["x", "k"], MASK + "return self.attn(x, x, x, attn_mask=m, is_causal=True, "
                                                    "need_weights=False)[0]"), (T, N, E), (T, T))
add("mha_is_causal_weights", _user(attn, ["x", "k"], MASK + "return self.attn(x, x, x, attn_mask=m, is_causal=True)"),
    (T, N, E), (T, T))
# batch_first self-attention (query is key is value) in eval: torch's fused kernel
fast = {"attn": L("MultiheadAttention", E, H, batch_first=True)}
add("mha_fast", _user(fast, ["x"], "return self.attn(x, x, x)"), (N, T, E))
add("mha_fast_no_weights", _user(fast, ["x"], "return self.attn(x, x, x, need_weights=False)[0]"), (N, T, E))
add("mha_fast_train", _user(fast, ["x"], "return self.attn(x, x, x)"), (N, T, E), train=True)
add("mha_fast_float_mask", _user(fast, ["x", "m"], "return self.attn(x, x, x, attn_mask=m, need_weights=False)"
                                                   "[0]"), (N, T, E), (T, T))

# --- TransformerEncoderLayer
layer = dict(d_model=E, nhead=H, dim_feedforward=FF)
enc_layer = L("TransformerEncoderLayer", **layer)
enc_layer_bf = L("TransformerEncoderLayer", **layer, batch_first=True)
add("enc_layer_eval", enc_layer, (T, N, E))
add("enc_layer_masks", enc_layer, (T, N, E), (T, T), (N, T))
add("enc_layer_train", L("TransformerEncoderLayer", **layer, dropout=0.0), (T, N, E), (T, T), (N, T), train=True)
add("enc_layer_norm_first_gelu", L("TransformerEncoderLayer", **layer, activation="gelu", norm_first=True,
                                   layer_norm_eps=1e-3), (T, N, E), (T, T))
add("enc_layer_no_bias", L("TransformerEncoderLayer", **layer, bias=False, batch_first=True), (N, T, E), (T, T))
add("enc_layer_odd_heads", L("TransformerEncoderLayer", E, 1, FF, batch_first=True), (N, T, E))
add("enc_layer_unbatched", enc_layer_bf, (T, E), (T, T), (T,))
add("enc_layer_float64", enc_layer, (T, N, E), (T, T), dtype="float64")
add("enc_layer_float16", enc_layer, (T, N, E), dtype="float16")
add("enc_layer_dropout_train", L("TransformerEncoderLayer", **layer, dropout=0.3), (T, N, E), train=True,
    random=True)
# the fused encoder-layer kernel (eval, batch_first): its masks merged, any nonzero value masking
add("enc_layer_fast", enc_layer_bf, (N, T, E))
add("enc_layer_fast_float16", enc_layer_bf, (N, T, E), dtype="float16")
add("enc_layer_fast_mask_nonzero", _user({"layer": enc_layer_bf}, ["x", "a", "k"],
                                         "return self.layer(x, src_mask=a * F.relu(k) / k)"),
    (N, T, E), (T, T), (T, T))
add("enc_layer_fast_masked_row", _user({"layer": enc_layer_bf}, ["x", "k"],
                                       PAD_ONE_ROW + "return self.layer(x, src_key_padding_mask=m)"),
    (N, T, E), (N, T))
add("enc_layer_fast_both_masks", _user({"layer": L("TransformerEncoderLayer", **layer, batch_first=True,
                                                   norm_first=True)}, ["x", "a", "k"],
                                       MASK + "return self.layer(x, a, m)"), (N, T, E), (N * H, T, T), (N, T))
add("enc_layer_slow_masked_row", _user({"layer": enc_layer}, ["x", "k"],
                                       PAD_ONE_ROW + "return self.layer(x, src_key_padding_mask=m)"), (T, N, E), (N, T))
# is_causal: the slow path replaces the mask by the causal one, the fused kernel ignores the hint
add("enc_layer_is_causal", _user({"layer": enc_layer}, ["x", "a"], "return self.layer(x, a, is_causal=True)"),
    (T, N, E), (T, T))
add("enc_layer_fast_is_causal", _user({"layer": enc_layer_bf}, ["x", "a"], "return self.layer(x, a, is_causal=True)"),
    (N, T, E), (T, T))

# --- TransformerEncoder: num_layers copies of one layer (the same initial weights), nested in the model file
def _encoder(layer_args: dict, num_layers: int = 2, norm: bool = True, **extra) -> dict:
    enc = {"encoder_layer": {"TransformerEncoderLayer": layer_args}, "num_layers": num_layers, **extra}
    if norm:
        enc["norm"] = {"LayerNorm": E}
    return {"TransformerEncoder": enc}


add("encoder_eval", _encoder(layer), (T, N, E), (T, T), (N, T))
add("encoder_train", _encoder({**layer, "dropout": 0.0}, 3, norm=False), (T, N, E), (T, T), train=True)
add("encoder_positional", {"TransformerEncoder": [{"TransformerEncoderLayer": [E, H, FF]}, 2, {"LayerNorm": E}]},
    (T, N, E))
add("encoder_batch_first", _encoder({**layer, "batch_first": True}), (N, T, E))
add("encoder_unbatched", _encoder(layer), (T, E), (T, T))
add("encoder_float64", _encoder({**layer, "norm_first": True}), (T, N, E), (T, T), dtype="float64")
# torch's nested-tensor path: each sequence as long as its unmasked prefix, 0 at the padded positions
LEFT_ALIGNED = ("z = x[:, :, 0] * x[:, :, 0] * 0\n"  # lengths 3 and 4
                "m = torch.cat([torch.cat([z[:1, :3], -1 / z[:1, 3:]], 1), "
                "torch.cat([z[1:, :4], -1 / z[1:, 4:]], 1)], 0)\n")
enc_bf = {"enc": _encoder({**layer, "batch_first": True})}
add("encoder_nested", _user(enc_bf, ["x"], LEFT_ALIGNED + "return self.enc(x, src_key_padding_mask=m)"), (N, T, E))
add("encoder_nested_no_norm", _user({"enc": _encoder({**layer, "batch_first": True, "activation": "gelu"},
                                                      norm=False)}, ["x"],
                                    LEFT_ALIGNED + "return self.enc(x, src_key_padding_mask=m)"), (N, T, E))
add("encoder_nested_disabled", _user({"enc": _encoder({**layer, "batch_first": True}, enable_nested_tensor=False)},
                                     ["x"], LEFT_ALIGNED + "return self.enc(x, src_key_padding_mask=m)"), (N, T, E))
NOT_LEFT_ALIGNED = ("z = x[:, :, 0] * x[:, :, 0] * 0\n"
                    "m = torch.cat([z[:, :1], -1 / z[:, 1:2], z[:, 2:4], -1 / z[:, 4:]], 1)\n")  # [0, -inf, 0, 0, -inf]
add("encoder_nested_not_left_aligned",
    _user(enc_bf, ["x"], NOT_LEFT_ALIGNED + "return self.enc(x, src_key_padding_mask=m)"), (N, T, E))
# mask_check=False: the first (count of unmasked positions) ones are taken as the sequence
add("encoder_nested_no_mask_check", _user({"enc": _encoder({**layer, "batch_first": True}, mask_check=False)},
                                          ["x"], NOT_LEFT_ALIGNED + "return self.enc(x, src_key_padding_mask=m)"),
    (N, T, E))
add("encoder_nested_random_mask", _user({"enc": _encoder({**layer, "batch_first": True}, mask_check=False)},
                                        ["x", "k"], MASK + "return self.enc(x, src_key_padding_mask=m)"),
    (N, T, E), (N, T))
# a square causal mask given without is_causal: detected
CAUSAL = ("z = x[:, 0, 0] * x[:, 0, 0] * 0\nrows = []\nfor i in range(5):\n"
          "    rows.append(torch.cat([z[:i + 1], -1 / z[i + 1:]]))\nc = torch.stack(rows)\n")
add("encoder_causal_mask", _user({"enc": _encoder(layer)}, ["x"], CAUSAL + "return self.enc(x, c)"), (T, N, E))
add("encoder_causal_mask_fast", _user(enc_bf, ["x"], CAUSAL.replace("x[:, 0, 0]", "x[0, :, 0]")
                                      + "return self.enc(x, c)"), (N, T, E))

# --- TransformerDecoderLayer and TransformerDecoder: tgt (T, N, E), memory (S, N, E)
dec_layer = L("TransformerDecoderLayer", **layer)
add("dec_layer_eval", dec_layer, (T, N, E), (S, N, E))
add("dec_layer_masks", dec_layer, (T, N, E), (S, N, E), (T, T), (T, S), (N, T), (N, S))
add("dec_layer_train", L("TransformerDecoderLayer", **layer, dropout=0.0, norm_first=True, activation="gelu"),
    (T, N, E), (S, N, E), (T, T), train=True)
add("dec_layer_batch_first", L("TransformerDecoderLayer", **layer, batch_first=True), (N, T, E), (N, S, E))
add("dec_layer_no_bias", L("TransformerDecoderLayer", **layer, bias=False), (T, N, E), (S, N, E))
add("dec_layer_unbatched", dec_layer, (T, E), (S, E), (T, T))
add("dec_layer_float16", dec_layer, (T, N, E), (S, N, E), dtype="float16")
add("dec_layer_dropout_train", L("TransformerDecoderLayer", **layer, dropout=0.2), (T, N, E), (S, N, E), train=True,
    random=True)
add("dec_layer_causal", _user({"dec": dec_layer}, ["x", "mem", "k"],
                              MASK + "return self.dec(x, mem, tgt_mask=m, tgt_is_causal=True, memory_is_causal=False)"),
    (T, N, E), (S, N, E), (T, T))
add("dec_layer_masked_row", _user({"dec": L("TransformerDecoderLayer", **layer, batch_first=True)},
                                       ["x", "mem", "k"], PAD_ONE_ROW + "return self.dec(x, mem, "
                                                                        "tgt_key_padding_mask=m)"),
    (N, T, E), (N, S, E), (N, T))
decoder = {"TransformerDecoder": {"decoder_layer": {"TransformerDecoderLayer": layer}, "num_layers": 2,
                                  "norm": {"LayerNorm": E}}}
add("decoder_eval", decoder, (T, N, E), (S, N, E), (T, T), (T, S))
add("decoder_train", {"TransformerDecoder": [{"TransformerDecoderLayer": {**layer, "dropout": 0.0}}, 2]},
    (T, N, E), (S, N, E), train=True)
add("decoder_causal_mask", _user({"dec": decoder}, ["x", "mem"], CAUSAL + "return self.dec(x, mem, c)"),
    (T, N, E), (S, N, E))

# --- Transformer: src (S, N, E), tgt (T, N, E)
small = dict(d_model=E, nhead=H, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=FF)
add("transformer_eval", L("Transformer", **small), (S, N, E), (T, N, E))
add("transformer_masks", L("Transformer", **small), (S, N, E), (T, N, E), (S, S), (T, T), (T, S), (N, S), (N, T),
    (N, S))
add("transformer_train", L("Transformer", **small, dropout=0.0, norm_first=True, activation="gelu"),
    (S, N, E), (T, N, E), (S, S), train=True)
add("transformer_batch_first", L("Transformer", **small, batch_first=True), (N, S, E), (N, T, E))
add("transformer_unbatched", L("Transformer", **small, bias=False), (S, E), (T, E))
add("transformer_float64", L("Transformer", **small), (S, N, E), (T, N, E), dtype="float64")
add("transformer_custom_encoder", L("Transformer", **small, custom_encoder=_encoder(layer, 1, norm=False)),
    (S, N, E), (T, N, E))
add("transformer_nested", _user({"t": L("Transformer", **small, batch_first=True)}, ["x", "y"],
                                LEFT_ALIGNED.replace("x[", "x[:, :5][") + "return self.t(x[:, :5], y, "
                                                                         "src_key_padding_mask=m)"),
    (N, S, E), (N, T, E))
add("transformer_dropout_train", L("Transformer", **{**small, "num_encoder_layers": 1}, dropout=0.5),
    (S, N, E), (T, N, E), train=True, random=True)

# --- the functional ops
add("op_F_sdpa", {"name": "Ops", "inputs": ["q", "k", "v"],
                  "forward": "return F.scaled_dot_product_attention(q, k, v)"},
    (N, H, T, 8), (N, H, S, 8), (N, H, S, 6))
add("op_F_sdpa_mask", {"name": "Ops", "inputs": ["q", "k", "v", "m"],
                       "forward": "return F.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.3)"},
    (N, H, T, 8), (N, 1, S, 8), (1, H, S, 6), (T, S))
add("op_F_sdpa_causal_gqa", {"name": "Ops", "inputs": ["q", "k", "v"],
                             "forward": "return F.scaled_dot_product_attention(q, k, v, is_causal=True, "
                                        "enable_gqa=True)"}, (N, 4, S, 8), (N, 2, T, 8), (N, 1, T, 6))
add("op_F_sdpa_inf_mask", {"name": "Ops", "inputs": ["q", "k", "v", "x"],
                           "forward": MASK.replace("(k) / k", "(x) / x")
                           + "return F.scaled_dot_product_attention(q, k, v, m)"},
    (T, 8), (S, 8), (S, 6), (T, S))
add("op_F_sdpa_dropout", {"name": "Ops", "inputs": ["q", "k", "v"],
                          "forward": "return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)"},
    (N, H, T, 8), (N, H, S, 8), (N, H, S, 6), random=True)
MHA_STATE = {"w": {"shape": [3 * E, E], "init": "randn"}, "b": {"shape": [3 * E], "init": "randn"},
             "ow": {"shape": [E, E], "init": "randn"}, "ob": {"shape": [E], "init": "randn"},
             "kw": {"shape": [E, 6], "init": "randn"}, "bk": {"shape": [1, 1, E], "init": "randn"},
             "bv": {"shape": [1, 1, E], "init": "randn"}}
add("op_F_mha", {"name": "Ops", "parameters": MHA_STATE, "inputs": ["q", "k", "m"],
                 "forward": "out, w = F.multi_head_attention_forward(q, k, k, 16, 2, self.w, self.b, self.bk, self.bv, "
                            "True, 0.0, self.ow, self.ob, training=False, key_padding_mask=m)\nreturn out * 0.1, w"},
    (T, N, E), (S, N, E), (N, S))
add("op_F_mha_separate", {"name": "Ops", "parameters": MHA_STATE, "inputs": ["q", "k", "a"],
                          "forward": "return F.multi_head_attention_forward(q, k, q[:2] * 2, 16, 4, None, None, None, "
                                     "None, False, 0.0, self.ow, None, attn_mask=a, need_weights=False, "
                                     "use_separate_proj_weight=True, q_proj_weight=self.ow, k_proj_weight=self.kw, "
                                     "v_proj_weight=self.ow)[0]"}, (T, N, E), (2, N, 6), (T, 2))
