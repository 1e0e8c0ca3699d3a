"""Attention and transformers (torch.nn.MultiheadAttention, torch.nn.modules.transformer).

torch runs these layers in eval mode on fused kernels where it can (a "fast path"), and their results differ
from the layer-by-layer computation in a few observable ways, which nnspec reproduces (nnspec runs no autograd,
so a torch model's fast path is taken as under torch.no_grad(); forward hooks, which turn torch's fast path
off, do not change nnspec's results):

- MultiheadAttention (eval, batch_first, batched self-attention ``query is key is value``, an even number of
  heads, bias, no bias_k/bias_v/add_zero_attn, no float mask): softmax weights as with need_weights=True, so a
  query whose keys are all masked gives NaN (not 0), and ``is_causal`` is ignored (the masks given are used);
- TransformerEncoderLayer (eval, batch_first, batched, an even number of heads, bias): the same, and its masks
  are read as the fused kernel reads them: any nonzero value masks the position;
- TransformerEncoder (enable_nested_tensor, that fast path, a src_key_padding_mask and no mask): the sequences
  run as a nested tensor, padded back with zeros, so the padded positions' outputs are 0 (before ``norm``).
"""

from __future__ import annotations

import copy
import warnings

from ...errors import CompileError, NNSpecRuntimeError
from ...resources import empty, take_modules
from ...runtime import functional as F
from ...runtime.backend import resolve_dtype
from ...runtime.functional import attention as A
from ...runtime.meta import is_meta
from .. import init
from ..containers import ModuleList
from ..module import Module
from ..parameter import Parameter
from .dropout import Dropout
from .linear import Linear
from .normalization import LayerNorm

__all__ = ["MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerDecoder", "Transformer"]


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear that torch's quantization leaves alone: MultiheadAttention's out_proj
    (torch.nn.modules.linear.NonDynamicallyQuantizableLinear). Shape: (*, in_features) -> (*, out_features)."""


def _is_float(mask) -> bool:
    return mask is not None and F.data_of(mask).dtype.kind == "f"


class MultiheadAttention(Module):
    """Attention over num_heads projections of the query, key and value (torch.nn.MultiheadAttention). Shape:
    query (L, N, E) (batch_first: (N, L, E); unbatched: (L, E)), key (S, N, kdim), value (S, N, vdim) ->
    ((L, N, E), weights (N, L, S), per head (N, num_heads, L, S), or None)."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False):
        if embed_dim <= 0 or num_heads <= 0:
            raise CompileError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                               f"num_heads={num_heads} instead")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != self.embed_dim:
            raise CompileError(f"embed_dim must be divisible by num_heads (embed_dim={embed_dim}, "
                               f"num_heads={num_heads})")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim)))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim)))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim)))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim)))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty((3 * embed_dim,)))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias)
        if add_bias_kv:
            self.bias_k = Parameter(empty((1, 1, embed_dim)))
            self.bias_v = Parameter(empty((1, 1, embed_dim)))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def _fast_path(self, query, key, value, attn_mask, key_padding_mask) -> bool:
        """Whether torch would run the fused kernel (see the module's doc)."""
        w, b = self.in_proj_weight, self.in_proj_bias
        return (not _is_float(attn_mask) and not _is_float(key_padding_mask) and query.ndim == 3
                and query is key and key is value and w is not None and b is not None
                and query.dtype == b.dtype == w.dtype and not self.training and self.num_heads % 2 == 0
                and self.batch_first and self.bias_k is None and self.bias_v is None and not self.add_zero_attn
                and self._qkv_same_embed_dim)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        query, key, value = F.data_of(query), F.data_of(key), F.data_of(value)
        is_batched = query.ndim == 3
        fast = self._fast_path(query, key, value, attn_mask, key_padding_mask)
        key_padding_mask = A._canonical_mask(key_padding_mask, "key_padding_mask", A._none_or_dtype(attn_mask),
                                             "attn_mask", query.dtype)
        attn_mask = A._canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if fast:  # torch's fused kernel: softmax weights (NaN for a query with every key masked), no is_causal
            x = A._swap01(query)
            out, weights = F.multi_head_attention_forward(
                x, x, x, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias, None, None, False,
                self.dropout, self.out_proj.weight, self.out_proj.bias, training=False,
                key_padding_mask=key_padding_mask, need_weights=True, attn_mask=attn_mask,
                average_attn_weights=average_attn_weights)
            return A._swap01(out), (weights if need_weights else None)
        if self.batch_first and is_batched:  # (N, L, E) -> (L, N, E), keeping which of them are the same array
            if key is value:
                if query is key:
                    query = key = value = A._swap01(query)
                else:
                    query, key = A._swap01(query), A._swap01(key)
                    value = key
            else:
                query, key, value = A._swap01(query), A._swap01(key), A._swap01(value)
        separate = {} if self._qkv_same_embed_dim else dict(
            use_separate_proj_weight=True, q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight)
        out, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias, self.bias_k,
            self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, average_attn_weights=average_attn_weights, is_causal=is_causal, **separate)
        if self.batch_first and is_batched:
            return A._swap01(out), weights
        return out, weights


def _activation(activation):
    """torch's _get_activation_fn: the name of the feed-forward block's activation -> the function."""
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise CompileError(f"activation should be relu/gelu, not {activation}")


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual and a LayerNorm
    (torch.nn.TransformerEncoderLayer). Shape: (S, N, d_model) (batch_first: (N, S, d_model); unbatched:
    (S, d_model)), unchanged."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        fn = _activation(activation)
        self.activation_relu_or_gelu = 1 if fn is F.relu else 2
        self.activation = fn

    def _fast_path(self, src) -> bool:
        """Whether torch would run its fused encoder-layer kernel (see the module's doc)."""
        a = self.self_attn
        return (src.ndim == 3 and not self.training and a.batch_first and a.in_proj_bias is not None
                and a._qkv_same_embed_dim and bool(self.activation_relu_or_gelu)
                and self.norm1.eps == self.norm2.eps and a.num_heads % 2 == 0)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = F.data_of(src)
        src_key_padding_mask = A._canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                                 A._none_or_dtype(src_mask), "src_mask", x.dtype)
        src_mask = A._canonical_mask(src_mask, "src_mask", None, "", x.dtype, check_other=False)
        if self._fast_path(x):  # torch's fused kernel: its masks merged, nonzero masks, no is_causal
            mask, padding = A._merge_masks(src_mask, src_key_padding_mask, x, self.self_attn.num_heads)

            def attend(y):
                return self.self_attn(y, y, y, attn_mask=mask, key_padding_mask=padding, need_weights=True)[0]
        else:
            def attend(y):
                return self._sa_block(y, src_mask, src_key_padding_mask, is_causal=is_causal)
        if self.norm_first:
            x = x + attend(self.norm1(x))
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + attend(x))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the memory and a feed-forward block, each with a residual and a LayerNorm
    (torch.nn.TransformerDecoderLayer). Shape: tgt (T, N, d_model), memory (S, N, d_model) (batch_first: batch
    first; unbatched: no batch dim) -> (T, N, d_model)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = F.data_of(tgt)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=is_causal,
                           need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


def _copy_array(a):
    """A copy of a parameter's or buffer's array, counted against the memory budget (shape-only stays so)."""
    if type(a).__module__.split(".")[0] == "cupy":
        return a.copy()
    out = empty(tuple(a.shape), a.dtype)
    if not is_meta(out):
        out[...] = a
    return out


def _deepcopy(module: Module) -> Module:
    """copy.deepcopy of a module tree (what sharing there is inside it kept), its parameters and buffers allocated
    as model state is; hooks' functions and a custom forward's compiled graphs, never changed, are shared."""
    memo: dict = {}
    tree = list(module.named_modules(remove_duplicate=True))
    for _, m in tree:
        memo[id(m)] = object.__new__(type(m))
    for _, m in tree:
        d = memo[id(m)].__dict__
        for key, value in m.__dict__.items():
            if key == "_parameters":
                d[key] = {n: None if p is None else _copy_parameter(p, memo) for n, p in value.items()}
            elif key == "_buffers":
                d[key] = {n: None if b is None else _copy_buffer(b, memo) for n, b in value.items()}
            elif key == "_modules":
                d[key] = {n: None if c is None else memo[id(c)] for n, c in value.items()}
            elif key in ("_forward_hooks", "_forward_pre_hooks", "_forward_graphs", "_non_persistent_buffers_set"):
                d[key] = copy.copy(value)
            else:
                d[key] = copy.deepcopy(value, memo)
    return memo[id(module)]


def _copy_parameter(p: Parameter, memo: dict) -> Parameter:
    if id(p) not in memo:
        memo[id(p)] = Parameter(_copy_array(p.data), requires_grad=p.requires_grad)
    return memo[id(p)]


def _copy_buffer(b, memo: dict):
    if id(b) not in memo:
        memo[id(b)] = _copy_array(b)
    return memo[id(b)]


def _get_clones(module: Module, n: int) -> ModuleList:
    """n deep copies of ``module``: all start with its (already drawn) initial weights, as in torch."""
    size = sum(1 for _ in module.modules())
    take_modules(n * size, f"{n} copies of a {module._get_name()} of {size} module(s)")
    return ModuleList([_deepcopy(module) for _ in range(n)])


def _first_layer(layers: ModuleList, kind: str) -> Module:
    if len(layers) == 0:
        raise NNSpecRuntimeError(f"{kind}: index 0 is out of range (num_layers=0: there is no layer to run)")
    first = layers[0]
    if not isinstance(getattr(first, "self_attn", None), MultiheadAttention):
        raise NNSpecRuntimeError(f"{kind}: '{first._get_name()}' object has no attribute 'self_attn' (the layers "
                                 f"must be {kind}Layers)")
    return first


def _seq_len(src, batch_first: bool):
    """torch's _get_seq_len: the sequence dim's size."""
    if src.ndim == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


class TransformerEncoder(Module):
    """num_layers copies of encoder_layer, run in turn, then norm (torch.nn.TransformerEncoder). Shape: as
    TransformerEncoderLayer."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        enc_layer = "encoder_layer"
        why_not = ""
        if not isinstance(encoder_layer, TransformerEncoderLayer):
            why_not = f"{enc_layer} was not TransformerEncoderLayer"
        elif encoder_layer.norm_first:
            why_not = f"{enc_layer}.norm_first was True"
        elif not encoder_layer.self_attn.batch_first:
            why_not = (f"{enc_layer}.self_attn.batch_first was not True"
                       "(use batch_first for better inference performance)")
        elif not encoder_layer.self_attn._qkv_same_embed_dim:
            why_not = f"{enc_layer}.self_attn._qkv_same_embed_dim was not True"
        elif encoder_layer.self_attn.in_proj_bias is None:
            why_not = f"{enc_layer}.self_attn was passed bias=False"
        elif not encoder_layer.activation_relu_or_gelu:
            why_not = f"{enc_layer}.activation_relu_or_gelu was not True"
        elif encoder_layer.norm1.eps != encoder_layer.norm2.eps:
            why_not = f"{enc_layer}.norm1.eps was not equal to {enc_layer}.norm2.eps"
        elif encoder_layer.self_attn.num_heads % 2 == 1:
            why_not = f"{enc_layer}.self_attn.num_heads is odd"
        if enable_nested_tensor and why_not:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False because {why_not}",
                          stacklevel=2)
            self.use_nested_tensor = False

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        src = F.data_of(src)
        src_key_padding_mask = A._canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                                 A._none_or_dtype(mask), "mask", src.dtype)
        mask = A._canonical_mask(mask, "mask", None, "", src.dtype, check_other=False)
        first = _first_layer(self.layers, "TransformerEncoder")
        batch_first = first.self_attn.batch_first
        padding = None  # the nested tensor's padding, where torch's nested-tensor path runs
        if self.use_nested_tensor and not first.training and src.ndim == 3 and src_key_padding_mask is not None \
                and mask is None:
            padding = A._nested_padding(src_key_padding_mask, src, self.mask_check)
        layers_padding = src_key_padding_mask
        if padding is not None:  # each sequence alone, as long as its count of unmasked positions
            layers_padding = A._canonical_mask(padding, "src_key_padding_mask", None, "", src.dtype)
        is_causal = A._detect_is_causal_mask(mask, is_causal, _seq_len(src, batch_first))
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=layers_padding)
        if padding is not None:
            output = A._zero_padding(output, padding)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """num_layers copies of decoder_layer, run in turn, then norm (torch.nn.TransformerDecoder). Shape: as
    TransformerDecoderLayer."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        output = F.data_of(tgt)
        first = _first_layer(self.layers, "TransformerDecoder")
        tgt_is_causal = A._detect_is_causal_mask(tgt_mask, tgt_is_causal, _seq_len(output, first.self_attn.batch_first))
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """An encoder and a decoder of d_model features (torch.nn.Transformer). Shape: src (S, N, d_model), tgt
    (T, N, d_model) (batch_first: batch first; unbatched: no batch dim) -> (T, N, d_model)."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation="relu", custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True):
        super().__init__()
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            encoder_layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                                    layer_norm_eps, batch_first, norm_first, bias)
            encoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
            self.encoder = TransformerEncoder(encoder_layer, num_encoder_layers, encoder_norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            decoder_layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                                    layer_norm_eps, batch_first, norm_first, bias)
            decoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
            self.decoder = TransformerDecoder(decoder_layer, num_decoder_layers, decoder_norm)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        src, tgt = F.data_of(src), F.data_of(tgt)
        is_batched = src.ndim == 3
        if is_batched and not self.batch_first and (tgt.ndim < 2 or src.shape[1] != tgt.shape[1]):
            raise NNSpecRuntimeError(f"the batch number of src and tgt must be equal (src of size {list(src.shape)}, "
                                     f"tgt of size {list(tgt.shape)})")
        if is_batched and self.batch_first and (tgt.ndim < 1 or src.shape[0] != tgt.shape[0]):
            raise NNSpecRuntimeError(f"the batch number of src and tgt must be equal (src of size {list(src.shape)}, "
                                     f"tgt of size {list(tgt.shape)})")
        if src.ndim == 0 or tgt.ndim == 0 or src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise NNSpecRuntimeError(f"the feature number of src and tgt must be equal to d_model ({self.d_model}; "
                                     f"src of size {list(src.shape)}, tgt of size {list(tgt.shape)})")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """A (sz, sz) mask, -inf above the diagonal and 0 on and below it (float32 unless dtype is given)."""
        mask = A._square_subsequent_mask(sz, resolve_dtype("float32" if dtype is None else F.as_dtype(dtype)))
        if device is not None and device != "cpu":
            from ...runtime.backend import get_backend

            mask = get_backend(device).asarray(mask)
        return mask

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
