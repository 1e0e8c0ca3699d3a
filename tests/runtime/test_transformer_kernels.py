"""Attention and the transformer layers beyond the parity cases: bool masks and torch's fast paths against live
torch (a model file's inputs are float), dropout's statistics, initialisation, the encoder's copies, symbolic
static inference, and errors."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

import nnspec
from nnspec import nn, static
from nnspec.errors import NNSpecError, NNSpecRuntimeError
from nnspec.runtime import functional as F
from nnspec.runtime.symbolic import Dim

E, H = 8, 2
_R = np.random.default_rng(5)


def rnd(*shape, dtype=np.float32):
    return _R.standard_normal(shape).astype(dtype)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's enable_nested_tensor and mask-type warnings, which nnspec repeats
        yield


# --------------------------------------------------------------------------- against live torch, with bool masks


def _twins(model: dict, train: bool, dtype: str = "float32"):
    """The nnspec model and its torch twin (tests/oracle.py), with the same state."""
    torch = pytest.importorskip("torch")
    import oracle

    from nnspec.spec import validate

    spec, _ = validate(model)
    torch.manual_seed(0)
    t = oracle.build(spec)
    oracle.randomize_(t, 3)
    t = t.to(oracle.DTYPES[dtype]).train(train)
    m = nnspec.from_dict(model, seed=0).to(dtype)
    m.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()})
    return m.train(train), t


def _same(model: dict, inputs: list, kwargs: dict, train: bool = False, dtype: str = "float32", tol: float = 1e-4):
    """nnspec's outputs are torch's (NaN where torch's are), or both raise."""
    torch = pytest.importorskip("torch")

    m, t = _twins(model, train, dtype)
    to_torch = {k: torch.from_numpy(v.copy()) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    try:
        with torch.no_grad():
            tensors = {id(x): torch.from_numpy(x.copy()) for x in inputs}  # the same array is the same tensor
            want = t(*[tensors[id(x)] for x in inputs], **to_torch)
    except Exception:  # noqa: BLE001 - torch's RuntimeError or AssertionError
        with pytest.raises(NNSpecError):
            m(*inputs, **kwargs)
        return
    got = m(*inputs, **kwargs)
    want, got = (want, got) if isinstance(want, tuple) else ((want,), (got,))
    for g, w in zip(got, want):
        if w is None:
            assert g is None
            continue
        w = w.numpy()
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True)


KPM = np.array([[False, False, False, True, True], [True] * 5])  # batch element 1: every key masked
KPM_SOME = np.array([[False, False, False, True, True], [False, False, False, False, True]])
AM = np.array([[False, True, False, False, True], [True] * 5, [False] * 5, [False, False, True, True, False],
               [True, False, False, False, False]])  # query 1 sees no key
CAUSAL = np.triu(np.ones((5, 5), bool), 1)
MASKS = [{}, {"key_padding_mask": KPM}, {"key_padding_mask": KPM_SOME}, {"attn_mask": AM},
         {"attn_mask": AM, "key_padding_mask": KPM_SOME}, {"key_padding_mask": KPM, "need_weights": False},
         {"attn_mask": CAUSAL, "is_causal": True, "need_weights": False},
         {"attn_mask": AM, "is_causal": True, "need_weights": False}, {"is_causal": True, "need_weights": False},
         {"attn_mask": np.where(AM, -np.inf, 0).astype(np.float32), "key_padding_mask": KPM_SOME},
         {"attn_mask": AM[None].repeat(2 * H, 0), "average_attn_weights": False}]


@pytest.mark.torch
@pytest.mark.parametrize("batch_first,train,self_attention", list(itertools.product((False, True), repeat=3)))
@pytest.mark.parametrize("masks", range(len(MASKS)))
def test_multihead_attention_bool_masks_and_the_fast_path(batch_first, train, self_attention, masks):
    x = rnd(2, 5, E) if batch_first else rnd(5, 2, E)
    qkv = [x, x, x] if self_attention else [x, x.copy(), x.copy()]  # query is key is value: the fused kernel
    _same({"MultiheadAttention": [E, H], "batch_first": batch_first, "dropout": 0.0}, qkv, MASKS[masks], train)


LAYER_MASKS = [{}, {"src_key_padding_mask": KPM}, {"src_mask": AM}, {"src_mask": AM, "src_key_padding_mask": KPM_SOME},
               {"src_mask": rnd(5, 5, dtype=np.float64) * (rnd(5, 5) > 0)}, {"src_key_padding_mask": np.zeros((2, 5))},
               {"src_mask": CAUSAL, "is_causal": True}, {"src_mask": AM, "is_causal": True}, {"is_causal": True},
               {"src_mask": rnd(5, 5) * (rnd(5, 5) > 0)}, {"src_mask": AM, "src_key_padding_mask": rnd(2, 5)}]


@pytest.mark.torch
@pytest.mark.parametrize("batch_first,train,norm_first", list(itertools.product((False, True), repeat=3)))
@pytest.mark.parametrize("masks", range(len(LAYER_MASKS)))
def test_encoder_layer_masks_and_the_fast_path(batch_first, train, norm_first, masks):
    x = rnd(2, 5, E) if batch_first else rnd(5, 2, E)
    layer = {"TransformerEncoderLayer": {"d_model": E, "nhead": H, "dim_feedforward": 16, "dropout": 0.0,
                                         "batch_first": batch_first, "norm_first": norm_first}}
    _same(layer, [x], LAYER_MASKS[masks], train)


ENCODER_MASKS = [{"src_key_padding_mask": KPM}, {"src_key_padding_mask": KPM_SOME},
                 {"src_key_padding_mask": np.array([[True, False, False, True, False], [False] * 4 + [True]])},
                 {"src_key_padding_mask": np.array([[True] * 5, [True] * 5])}, {"mask": CAUSAL},
                 {"mask": np.where(CAUSAL, -np.inf, 0).astype(np.float32), "src_key_padding_mask": KPM_SOME}]


@pytest.mark.torch
@pytest.mark.parametrize("mask_check,nested,activation", list(itertools.product((True, False), (True, False),
                                                                            ("relu", "gelu"))))
@pytest.mark.parametrize("masks", range(len(ENCODER_MASKS)))
def test_encoder_nested_tensors(mask_check, nested, activation, masks):
    layer = {"TransformerEncoderLayer": {"d_model": E, "nhead": H, "dim_feedforward": 16, "batch_first": True,
                                         "activation": activation}}
    model = {"TransformerEncoder": {"encoder_layer": layer, "num_layers": 2, "norm": {"LayerNorm": E},
                                    "mask_check": mask_check, "enable_nested_tensor": nested}}
    _same(model, [rnd(2, 5, E)], ENCODER_MASKS[masks])


@pytest.mark.torch
@pytest.mark.parametrize("batch_first", (False, True))
@pytest.mark.parametrize("masks", [{}, {"tgt_key_padding_mask": KPM, "memory_key_padding_mask": KPM_SOME},
                                   {"tgt_mask": CAUSAL, "tgt_is_causal": None}, {"tgt_mask": AM, "tgt_is_causal": True},
                                   {"tgt_mask": AM, "memory_mask": AM, "memory_is_causal": True}],
                         ids=range(5))
def test_decoder_bool_masks(batch_first, masks):
    layer = {"TransformerDecoderLayer": {"d_model": E, "nhead": H, "dim_feedforward": 16, "batch_first": batch_first}}
    x, mem = (rnd(2, 5, E), rnd(2, 5, E)) if batch_first else (rnd(5, 2, E), rnd(5, 2, E))
    _same({"TransformerDecoder": {"decoder_layer": layer, "num_layers": 2}}, [x, mem], masks)
    src_masks = {k.replace("tgt_", "src_"): v for k, v in masks.items() if k.startswith("tgt_") and "causal" not in k}
    transformer = {"Transformer": {"d_model": E, "nhead": H, "num_encoder_layers": 1, "num_decoder_layers": 1,
                                   "dim_feedforward": 16, "batch_first": batch_first}}
    _same(transformer, [mem, x], {**masks, **src_masks})


@pytest.mark.torch
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-9), ("float16", 1e-2)])
def test_the_fast_paths_in_other_dtypes(dtype, tol):
    layer = {"TransformerEncoderLayer": {"d_model": E, "nhead": H, "dim_feedforward": 16, "batch_first": True}}
    x = rnd(2, 5, E).astype(dtype)
    _same({"TransformerEncoder": [layer, 2]}, [x], {"src_key_padding_mask": KPM_SOME}, dtype=dtype, tol=tol)
    _same({"MultiheadAttention": [E, H], "batch_first": True}, [x, x, x], {"key_padding_mask": KPM}, dtype=dtype,
          tol=tol)


@pytest.mark.torch
def test_scaled_dot_product_attention_sweep():
    """Shapes, masks and dtypes against torch: values, and 0s for a query with no key."""
    torch = pytest.importorskip("torch")
    for dtype, tol in (("float32", 1e-5), ("float64", 1e-12), ("float16", 2e-3)):
        for n, heads, length, source, embed in [(1, 1, 1, 1, 1), (2, 3, 4, 9, 5), (3, 1, 7, 2, 16)]:
            q, k, v = (rnd(n, heads, s, embed).astype(dtype) for s in (length, source, source))
            for mask in (None, _R.random((length, source)) > 0.5, rnd(length, source).astype(dtype)):
                want = torch.nn.functional.scaled_dot_product_attention(
                    *(torch.from_numpy(a) for a in (q, k, v)), None if mask is None else torch.from_numpy(mask))
                got = F.scaled_dot_product_attention(q, k, v, mask)
                np.testing.assert_allclose(got, want.numpy(), rtol=tol, atol=tol)
    q = rnd(1, 2, 4)
    q[0, 0, 0] = np.inf  # an infinite score: NaN, as in torch
    got = F.scaled_dot_product_attention(q, rnd(1, 3, 4), rnd(1, 3, 2))
    assert np.isnan(got[0, 0]).all() and np.isfinite(got[0, 1]).all()


def test_square_subsequent_mask():
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    assert mask.dtype == np.float32 and mask.shape == (4, 4)
    assert (mask[np.tril_indices(4)] == 0).all() and (mask[np.triu_indices(4, 1)] == -np.inf).all()
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype="float64").dtype == np.float64


# --------------------------------------------------------------------------- dropout


def test_attention_dropout_keeps_weights_scaled_and_drops_at_rate_p():
    nnspec.manual_seed(0)
    m = nn.MultiheadAttention(E, H, dropout=0.3)
    q, k = rnd(20, 8, E), rnd(30, 8, E)
    _, w_eval = m.eval()(q, k, k, average_attn_weights=False)
    _, w = m.train()(q, k, k, average_attn_weights=False)
    kept = w != 0
    np.testing.assert_allclose(w[kept], w_eval[kept] / 0.7, rtol=1e-5)
    assert abs((1 - kept.mean()) - 0.3) < 5 * math.sqrt(0.3 * 0.7 / w.size)


def test_sdpa_dropout_drops_weights_at_rate_p():
    source = 40
    q, k = rnd(4, 3, 6, 5), rnd(4, 3, source, 5)
    v = np.broadcast_to(np.eye(source, dtype=np.float32), (4, 3, source, source))  # output = the weights
    weights = F.scaled_dot_product_attention(q, k, v)
    nnspec.manual_seed(1)
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=0.25)
    kept = dropped != 0
    np.testing.assert_allclose(dropped[kept], weights[kept] / 0.75, rtol=1e-5)
    assert abs((1 - kept.mean()) - 0.25) < 5 * math.sqrt(0.25 * 0.75 / kept.size)
    assert (F.scaled_dot_product_attention(q, k, v, dropout_p=1.0) == 0).all()


# --------------------------------------------------------------------------- initialisation and copies


def test_initialisation_follows_torch():
    nnspec.manual_seed(0)
    m = nn.MultiheadAttention(32, 4, add_bias_kv=True)
    bound = math.sqrt(6 / (32 + 96))  # xavier_uniform over (3E, E)
    w = m.in_proj_weight.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert (m.in_proj_bias.data == 0).all() and (m.out_proj.bias.data == 0).all()
    assert np.abs(m.out_proj.weight.data).max() <= 1 / math.sqrt(32)  # the Linear's own init
    assert 0.5 < m.bias_k.data.std() * math.sqrt(32) < 1.5  # xavier_normal: std 1/sqrt(E)
    m = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False)
    assert [k for k, _ in m.named_parameters()] == ["q_proj_weight", "k_proj_weight", "v_proj_weight",
                                                    "out_proj.weight"]
    assert np.abs(m.k_proj_weight.data).max() <= math.sqrt(6 / 11)


def test_the_transformer_draws_every_matrix_again():
    nnspec.manual_seed(0)
    t = nn.Transformer(16, 2, 2, 2, 32)
    enc = t.encoder.layers
    assert not (enc[0].linear1.weight.data == enc[1].linear1.weight.data).all()  # xavier again, per copy
    bound = math.sqrt(6 / (16 + 32))
    assert np.abs(enc[1].linear1.weight.data).max() <= bound
    assert (enc[0].linear1.bias.data == enc[1].linear1.bias.data).all()  # vectors keep the copied init
    assert (t.encoder.norm.weight.data == 1).all()


def test_encoder_copies_share_the_first_draw():
    nnspec.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    enc = nn.TransformerEncoder(layer, 3, enable_nested_tensor=False)
    for copy in enc.layers:
        assert copy is not layer
        for (_, a), (_, b) in zip(copy.named_parameters(), layer.named_parameters()):
            assert (a.data == b.data).all() and a.data is not b.data
    assert enc.layers[0].activation is F.relu and enc.layers[0].activation_relu_or_gelu == 1


def test_enable_nested_tensor_warns_as_torch_does():
    with pytest.warns(UserWarning, match="self.use_nested_tensor is False because encoder_layer.self_attn."
                                         "batch_first was not True"):
        enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 1)
    assert enc.enable_nested_tensor and not enc.use_nested_tensor


# --------------------------------------------------------------------------- static inference


def test_symbolic_sequence_lengths():
    T, S, N = (Dim.symbol(s) for s in "TSN")
    layer = {"TransformerEncoderLayer": {"d_model": 16, "nhead": 2, "dim_feedforward": 32, "batch_first": True}}
    enc = nnspec.from_dict({"TransformerEncoder": [layer, 2, {"LayerNorm": 16}]}, meta=True)
    found = static.infer(enc, [(N, T, 16), (T, T), (N, T)])
    assert found.output_shape == (N, T, 16)
    mha = nnspec.from_dict({"MultiheadAttention": [16, 2], "add_bias_kv": True, "add_zero_attn": True}, meta=True)
    found = static.infer(mha, [(T, N, 16), (S, N, 16), (S, N, 16), (N, S)])
    assert [tuple(o.shape) for o in found.output] == [(T, N, 16), (N, T, S + 2)]
    t = nnspec.from_dict({"Transformer": {"d_model": 16, "nhead": 2, "num_encoder_layers": 1,
                                          "num_decoder_layers": 1, "dim_feedforward": 32}}, meta=True)
    assert static.infer(t, [(S, N, 16), (T, N, 16)], training=True).output_shape == (T, N, 16)
    for s, tt in ((3, 4), (9, 1)):
        numeric = static.infer(t, [(s, 2, 16), (tt, 2, 16)])
        assert numeric.output_shape == (tt, 2, 16)


def test_static_errors_are_the_run_errors():
    mha = {"MultiheadAttention": [16, 2]}
    shapes = [(5, 2, 16), (7, 2, 16), (7, 2, 16), (2, 6)]
    with pytest.raises(NNSpecError) as meta:
        static.infer(nnspec.from_dict(mha, meta=True), shapes)
    with pytest.raises(NNSpecError) as real:
        nnspec.from_dict(mha)(*(np.zeros(s, np.float32) for s in shapes))
    assert "Expected key_padded_mask.shape[1] to be 7, but got 6" in str(meta.value) and \
        "Expected key_padded_mask.shape[1] to be 7, but got 6" in str(real.value)


# --------------------------------------------------------------------------- errors


def test_errors_are_nnspec_errors():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 0, enable_nested_tensor=False)
    with pytest.raises(NNSpecRuntimeError, match="index 0 is out of range"):
        enc(rnd(5, 2, 8))
    enc = nn.TransformerEncoder(nn.Linear(8, 8), 2, enable_nested_tensor=False)
    with pytest.raises(NNSpecRuntimeError, match="has no attribute 'self_attn'"):
        enc(rnd(5, 2, 8))
    t = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(NNSpecRuntimeError, match="the batch number of src and tgt must be equal"):
        t(rnd(5, 2, 8), rnd(5, 3, 8))
    with pytest.raises(NNSpecRuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        t(rnd(5, 2, 8), rnd(5, 2, 6))
    with pytest.raises(NNSpecError, match="embed_dim and num_heads must be greater than 0"):
        nn.MultiheadAttention(0, 2)
    with pytest.raises(NNSpecError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerDecoderLayer(8, 2, activation="tanh")
    with pytest.raises(NNSpecRuntimeError, match="only bool and floating types of key_padding_mask"):
        nn.MultiheadAttention(8, 2)(rnd(5, 2, 8), rnd(5, 2, 8), rnd(5, 2, 8), np.zeros((2, 5), np.int64))
    with pytest.raises(NNSpecRuntimeError, match="to_padded_tensor"):  # every sequence empty: torch's error
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 1).eval()(
            rnd(2, 5, 8), src_key_padding_mask=np.ones((2, 5), bool))
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        nn.MultiheadAttention(8, 2)(rnd(5, 2, 8), rnd(5, 2, 8), rnd(5, 2, 8), KPM, attn_mask=rnd(5, 5))


def test_copies_of_copies_are_bounded_as_modules_are():
    # each level's num_layers is at most MAX_REPEAT, but nested encoders multiply: 1000**3 copies took hours
    import time

    inner = "{TransformerEncoder: {encoder_layer: {Linear: [1, 1]}, num_layers: 1000, enable_nested_tensor: false}}"
    middle = f"{{TransformerEncoder: {{encoder_layer: {inner}, num_layers: 1000, enable_nested_tensor: false}}}}"
    start = time.perf_counter()
    with pytest.raises(NNSpecError, match="make the model more than 50,000 modules") as info:
        nnspec.loads(f"TransformerEncoder: {{encoder_layer: {middle}, num_layers: 1000, enable_nested_tensor: false}}",
                     filename="m.yaml")
    assert str(info.value).startswith("m.yaml:") and time.perf_counter() - start < 10
    layer = "{TransformerEncoderLayer: [4, 1, 4]}"
    with pytest.raises(NNSpecError, match="more than 50,000 modules"):  # copies in different layers add up
        nnspec.loads(f"Sequential: [{', '.join([f'{{TransformerEncoder: [{layer}, 4000, null, false]}}'] * 3)}]")
    assert len(nnspec.loads(f"TransformerEncoder: [{layer}, 300, null, false]").layers) == 300
