"""Parity cases: torch functions and tensor methods inside custom forwards, as model code writes them (GPT-2's
causal self-attention, BERT's attention mask, RoPE, sinusoidal positions, mean pooling, einsum attention, ViT
tokens), and every family of ops. Imported by cases.py; each add() is one case.

``SYMBOLIC`` names, per case, the input dims static inference also runs with as symbols (tests/test_static.py).
"""

from __future__ import annotations

from cases import L, add  # noqa: F401


def model(forward: str, inputs=("x",), **extra) -> dict:
    """A custom module; inputs=None where the forward has its own ``def forward(self, ...)`` header."""
    head = {"inputs": list(inputs)} if inputs is not None else {}
    return {"name": extra.pop("name", "Ops"), **head, "forward": forward, **extra}


SYMBOLIC: dict[str, dict[int, tuple[int, ...]]] = {}  # case id -> {input index: the dims made symbolic}

# --------------------------------------------------------------------------- attention as model code writes it

GPT2_FORWARD = """
B, T, C = x.size()  # batch size, sequence length, embedding dimensionality (n_embd)
q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))
att = F.softmax(att, dim=-1)
y = att @ v  # (B, nh, T, T) x (B, nh, T, hs) -> (B, nh, T, hs)
y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-assemble all head outputs side by side
return self.c_proj(y)
"""


def gpt2(dtype: str = "float32", persistent: bool = True) -> dict:
    return model(GPT2_FORWARD, name="CausalSelfAttention",
                 modules={"c_attn": L("Linear", 32, 96), "c_proj": L("Linear", 32, 32)},
                 attributes={"n_head": 4, "n_embd": 32},
                 buffers={"bias": {"shape": [1, 1, 16, 16], "init": {"tril": {}}, "dtype": dtype,
                                   "persistent": persistent}})


add("gpt2_attention", gpt2(), (2, 8, 32))
add("gpt2_attention_float64", gpt2("float64"), (2, 5, 32), dtype="float64")
add("gpt2_attention_own_mask", gpt2(persistent=False), (2, 16, 32))  # nnspec's tril: the buffer is not in state_dict
SYMBOLIC.update({"gpt2_attention": {0: (1,)}, "gpt2_attention_own_mask": {0: (1,)}})

add("causal_bool_mask", model("""
B, T, C = x.shape
att = x @ x.mT / C ** 0.5
mask = self.causal[:T, :T]
att = att.masked_fill(~mask, torch.finfo(att.dtype).min)
att.masked_fill_(mask.logical_not(), torch.finfo(att.dtype).min)
return att.softmax(-1) @ x, mask.expand(B, T, T).sum(-1)
""", buffers={"causal": {"shape": [12, 12], "init": {"tril": {}}, "dtype": "bool", "persistent": False}}), (2, 6, 4))
SYMBOLIC["causal_bool_mask"] = {0: (1,)}

add("bert_self_attention", model("""
def forward(self, hidden_states, attention_mask):
    mixed_query_layer = self.query(hidden_states)

    def_shape = hidden_states.size()[:-1] + (self.num_attention_heads, self.attention_head_size)
    key_layer = self.key(hidden_states).view(def_shape).permute(0, 2, 1, 3)
    value_layer = self.value(hidden_states).view(*def_shape).permute(0, 2, 1, 3)
    query_layer = mixed_query_layer.view(def_shape).permute(0, 2, 1, 3)

    extended = attention_mask[:, None, None, :].to(dtype=hidden_states.dtype)
    extended = (1.0 - extended) * torch.finfo(hidden_states.dtype).min

    attention_scores = torch.matmul(query_layer, key_layer.transpose(-1, -2))
    attention_scores = attention_scores / math.sqrt(self.attention_head_size)
    attention_scores = attention_scores + extended
    attention_probs = nn.functional.softmax(attention_scores, dim=-1)
    context_layer = torch.matmul(attention_probs, value_layer)
    context_layer = context_layer.permute(0, 2, 1, 3).contiguous()
    new_context_layer_shape = context_layer.size()[:-2] + (self.all_head_size,)
    return context_layer.view(new_context_layer_shape)
""", inputs=None, name="BertSelfAttention",
    modules={"query": L("Linear", 24, 24), "key": L("Linear", 24, 24), "value": L("Linear", 24, 24)},
    attributes={"num_attention_heads": 3, "attention_head_size": 8, "all_head_size": 24}),
    (2, 7, 24), (2, 7), ints={1: 2})

add("einsum_attention", model("""
B, N, _ = x.shape
q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
att = torch.einsum('bhqd,bhkd->bhqk', q, k) * self.scale
att = att.softmax(dim=-1)
out = torch.einsum('bhqk,bhkd->bhqd', att, v)
return self.proj(torch.einsum('bhnd->bnhd', out).flatten(2)), torch.einsum('bhqd,bhkd', q, k)
""", modules={"qkv": L("Linear", 16, 48), "proj": L("Linear", 16, 16)}, attributes={"heads": 2, "scale": 0.35}),
    (2, 5, 16))
SYMBOLIC["einsum_attention"] = {0: (1,)}

# --------------------------------------------------------------------------- positions

add("rope", model("""
B, H, T, D = x.shape
inv_freq = 1.0 / (10000 ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
t = torch.arange(T, device=x.device).type_as(inv_freq)
freqs = torch.outer(t, inv_freq)
emb = torch.cat((freqs, freqs), dim=-1)
cos, sin = emb.cos()[None, None, :, :], emb.sin()[None, None, :, :]
x1 = x[..., : x.shape[-1] // 2]
x2 = x[..., x.shape[-1] // 2 :]
rotated = torch.cat((-x2, x1), dim=-1)
return (x * cos) + (rotated * sin)
"""), (2, 3, 6, 8))
SYMBOLIC["rope"] = {0: (2,)}

add("sinusoidal_positions", model("""
T, d = x.size(1), x.size(2)
pe = torch.zeros(T, d, device=x.device)
position = torch.arange(0, T, dtype=torch.float).unsqueeze(1)
div_term = torch.exp(torch.arange(0, d, 2).float() * (-math.log(10000.0) / d))
pe[:, 0::2] = torch.sin(position * div_term)
pe[:, 1::2] = torch.cos(position * div_term)
return x + pe.unsqueeze(0)
"""), (2, 6, 16))
SYMBOLIC["sinusoidal_positions"] = {0: (1,)}

add("position_ids_buffer", model("""
T = x.size(1)
ids = self.position_ids[:, :T]
own = self.own_ids[:, :T]
return x + self.table[ids[0]], ((ids == own).all() & (ids >= 0).all()).float()
""", parameters={"table": {"shape": [10, 4], "init": "randn"}},
    buffers={"position_ids": {"shape": [1, 10], "init": {"arange": {}}, "dtype": "int64"},
             "own_ids": {"shape": [1, 10], "init": {"arange": {"start": 0, "step": 1}}, "dtype": "int64",
                         "persistent": False}}), (2, 7, 4))

# --------------------------------------------------------------------------- pooling and tokens

add("masked_mean_pooling", model("""
def forward(self, token_embeddings, attention_mask):
    input_mask_expanded = attention_mask.unsqueeze(-1).expand(token_embeddings.size()).float()
    summed = torch.sum(token_embeddings * input_mask_expanded, 1)
    counts = torch.clamp(input_mask_expanded.sum(1), min=1e-9)
    mean = summed / counts
    masked = token_embeddings.masked_fill(attention_mask[..., None] == 0, -1e9)
    return mean, masked.max(dim=1).values, mean / mean.norm(dim=1, keepdim=True)
""", inputs=None), (3, 5, 8), (3, 5), ints={1: 2})

add("vit_tokens", model("""
x = self.patch(img).flatten(2).transpose(1, 2)
b, n, _ = x.shape
cls_tokens = self.cls_token.expand(b, -1, -1)
x = torch.cat((cls_tokens, x), dim=1)
x = x + self.pos_embedding[:, :(n + 1)]
pooled = x.mean(dim=1) if self.pool == 'mean' else x[:, 0]
return pooled, x[:, 0]
""", inputs=["img"], modules={"patch": L("Conv2d", 3, 8, 4, stride=4)}, attributes={"pool": "mean"},
    parameters={"cls_token": {"shape": [1, 1, 8], "init": "randn"}, "pos_embedding": {"shape": [1, 5, 8], "init": "randn"}}),
    (2, 3, 8, 8))

# --------------------------------------------------------------------------- the families of ops, as forwards call them

add("tensor_elementwise", model("""
a = x.abs() + 0.1
outs = [torch.exp(x), a.log(), torch.log1p(a), x.expm1(), a.sqrt(), torch.rsqrt(a), x.sign(), x.sin(), torch.cos(x),
        torch.tanh(x), torch.sigmoid(x), torch.erf(x), (x * 3).floor(), torch.ceil(x * 3), (x * 3).round(),
        torch.trunc(x * 3), x.clamp(-0.5, 0.5), torch.clip(x, min=0), x.clamp(max=y), torch.where(x > 0, x, y),
        torch.maximum(x, y), torch.minimum(x, y), x.pow(2), torch.pow(a, y), a.reciprocal(), x.square(),
        torch.lerp(x, y, 0.25), torch.addcmul(x, x, y, value=0.5), torch.nan_to_num(x.log()),
        x.masked_fill(x < y, 0.0), torch.atan(x), x.exp2(), torch.frac(x * 3), x.neg(), torch.log2(a) + a.log10()]
return torch.stack(outs)
""", inputs=["x", "y"]), (3, 4), (3, 4))

add("tensor_comparisons_and_masks", model("""
m = x > 0
n = (y <= x) | (x == x.max(dim=-1, keepdim=True).values)
both = m & ~n ^ (x != y)
ok = torch.logical_and(m, n) | torch.logical_not(m)
k = torch.logical_or(m, n).int() + torch.logical_xor(m, n).long()
flags = torch.stack([both, ok, torch.isfinite(x / (x > 0)), torch.isnan(x.sqrt()), torch.isinf(1 / (x * 0)),
                     x.eq(y), x.ne(0), torch.lt(x, y), x.le(y), torch.gt(x, 0.5), x.ge(y)])
return flags.float().sum(0), k, (m.int() & 1) | n.long(), ~k, m.to(torch.int64).bitwise_xor(1)
""", inputs=["x", "y"]), (4, 5), (4, 5))

add("tensor_reductions", model("""
v, i = x.max(dim=-1)
r = x.min(1, keepdim=True)
return (v, i, r.values, r.indices, x.amax((0, 2)), x.amin(-1), x.argmax(1), torch.argmin(x, dim=0, keepdim=True),
        x.max(), torch.min(x), x.var(1), x.std(dim=(0, 2), keepdim=True), torch.var(x, 1, unbiased=False),
        x.std(correction=0), x.norm(), x.norm(p=1, dim=-1), torch.norm(x, float('inf'), dim=1), x.prod(1),
        torch.cumsum(x, 2), x.cumprod(dim=1), x.logsumexp(-1), torch.logsumexp(x, (0, 1)), (x > 0).all(1),
        torch.any(x > 2, dim=-1), torch.count_nonzero(x > 0, dim=0), x.sum(-1).sum(), torch.aminmax(x).max,
        torch.var_mean(x, 2)[1], torch.std_mean(x, dim=1)[0])
"""), (3, 4, 5))

add("tensor_shapes", model("""
a, b = x.chunk(2, dim=-1)
p, q, r = torch.split(x, [1, 2, 3], dim=-1)
rows = x.unbind(1)
e = x[:, :1].expand(-1, 4, -1) + x.expand_as(x)
outs = (a, b, p, q, r, rows[0] + rows[-1], e, x.repeat(1, 2, 1), x.tile((2,)), x.repeat_interleave(2, dim=1),
        x.flip(-1), torch.flip(x, [0, 1]), x.roll(1, 2), torch.roll(x, (1, -1), (0, 2)), x.narrow(2, 1, 3),
        x.select(1, -1), x.gather(2, idx), x.index_select(1, idx[0, :, 0]), x.movedim(0, -1), x.swapaxes(0, 1),
        x.unflatten(-1, (2, 3)), x.view_as(x.flatten(1)), x.reshape_as(x.mT), torch.broadcast_to(x[0, 0], (2, 6)),
        x.triu(), torch.tril(x, -1), x.mT, x[0].T, x[0].t(), x.split(4, dim=2)[1], x.scatter(2, idx, 0.0),
        torch.hstack([x, x]), torch.vstack([x[0], x[1]]), torch.concat([x, x], 1), torch.stack([x, x], -1),
        torch.unsqueeze(x, 1), torch.squeeze(x[:, :1]), x.bmm(x.mT), torch.baddbmm(x[:, :, :4], x, x.mT[:, :, :4],
        alpha=0.5), torch.outer(x[0, 0], x[1, 1]), torch.dot(x[0, 0], x[1, 1]), x.moveaxis(2, 0), x[1, 2:])
return outs
""", inputs=["x", "idx"]), (2, 4, 6), (2, 4, 6), ints={1: 4})

add("tensor_dtypes", model("""
f = x.double()
i = (x * 10).long()
h = x.half().float()
b = x.bool()
same = x.to(x.dtype)
g = x.to(torch.float64).type_as(x) + f.to(x).float() + x.to(x.device) + x.to('cpu', torch.float32)
n = i.int().to(dtype=torch.float32) + i.short().float() + i.byte().float() + i.char().float()
big = torch.finfo(x.dtype).max / torch.finfo(torch.float16).max
flag = x.new_tensor([x.is_floating_point(), f.dtype == torch.float64, x.dtype is not None, i.dtype == torch.long])
return g, n, h, b.int(), same, f, torch.full_like(x, big), flag, x.type(torch.float64), torch.iinfo(i.dtype).bits + x
"""), (3, 4))

add("tensor_creation", model("""
n, d = x.shape
a = torch.arange(d) + torch.arange(1, 1 + d, dtype=torch.float32) + torch.arange(0, 2 * d, 2) * 0.5
e = torch.eye(d) + torch.eye(n, d, dtype=torch.float64).float().sum() + torch.linspace(0, 1, d) + torch.linspace(-1, 1, steps=d)
e = e[:n]
z = torch.zeros(n, d) + torch.ones((n, d)) * 2 + torch.full((n, d), 0.5) + torch.empty(n, d, dtype=x.dtype).zero_()
t = torch.tensor([1.5, -2.0, 3.0, 0.0]) * torch.tensor(2) + torch.tensor([[True], [False], [True]]).float()
like = torch.zeros_like(x) + torch.ones_like(x) + torch.full_like(x, 3) + torch.empty_like(x).fill_(1)
new = x.new_zeros(n, d) + x.new_ones((n, d)) + x.new_full((n, d), 2.0) + x.new_empty(n, d).fill_(0) + x.new_tensor([1, 2, 3, 4])
return a, e + z + t + like + new + x, torch.tril(torch.ones(d, d)), torch.triu(torch.ones(n, d, dtype=torch.bool), diagonal=1).long()
"""), (3, 4))

add("python_in_forward", model("""
B, T, C = x.shape
half = x.view(*x.shape[:-1], 2, C // 2)
parts = [*half.unbind(-2), x[..., :1]]
y = torch.cat([*parts, *x.chunk(2, -1)], dim=-1)
scale = 1.0 / math.sqrt(C) + math.pi * 0 + math.log(math.e) - math.exp(0) + math.floor(2.5) - math.ceil(1.2)
n = len(x) + len(parts) + int(float(C) ** 0.5) + max(T, 2) + min(x.size(1), 3) + abs(-1) + round(2.6)
y = y * scale + n
z = torch.zeros(B, T, C, dtype=x.dtype)
z[:, 0] = x[:, 0]
z[:, 1:, :2] = 1.0
z[..., -1] += x[..., -1]
mask = (x > 0) & (x < 1)
mask |= x < -1
z[mask] = -5.0
w = x.clone()
w *= 2
w.add_(1).mul_(0.5).sub_(x).div_(2)
w.clamp_(-1, 1)
return y, z, w, x.permute(*reversed(range(3))), x.sum(*[-1]), torch.tensor([B, T, C]) * 1.0
"""), (2, 4, 6))
SYMBOLIC["python_in_forward"] = {0: (1,)}

# --------------------------------------------------------------------------- sizes as model code computes them

add("lstm_tagger", model("""
embeds = self.word_embeddings(sentence)
lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
tag_scores = F.log_softmax(tag_space, dim=1)
return tag_scores
""", inputs=["sentence"], name="LSTMTagger",
    modules={"word_embeddings": L("Embedding", 20, 6), "lstm": L("LSTM", 6, 8), "hidden2tag": L("Linear", 8, 5)}),
    (7,), ints={0: 20})
SYMBOLIC["lstm_tagger"] = {0: (0,)}

add("vit_unpatchify", model("""
B, N, C = x.shape
h = w = int(N ** 0.5)
grid = x.reshape(B, h, w, C).permute(0, 3, 1, 2)
up = F.interpolate(grid, scale_factor=2)
return up.flatten(2).transpose(1, 2).contiguous(), torch.tensor(float(h)).expand(B), torch.tensor(h * w == N).float()
"""), (2, 9, 4))

# --------------------------------------------------------------------------- a whole model file

add("gpt_mini", "models/gpt.yaml", (2, 8), ints={0: 64})  # nanoGPT's forwards, causal through its tril buffers
SYMBOLIC["gpt_mini"] = {0: (1,)}

add("conv1d_addmm_topk", model("""
size_out = x.size()[:-1] + (self.nf,)
h = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)  # HF GPT-2's Conv1D
h = h.view(size_out)
values, indices = h.topk(2, dim=-1)
one_hot = torch.zeros_like(h).scatter_(-1, indices, 1.0)
ordered, order = torch.sort(h, dim=1, descending=True)
return h, values, one_hot, ordered, order, h.argsort(-1), torch.argsort(h, dim=0, descending=True)
""", parameters={"weight": {"shape": [6, 5], "init": "randn"}, "bias": {"shape": [5], "init": "randn"}},
    attributes={"nf": 5}), (2, 3, 6))
SYMBOLIC["conv1d_addmm_topk"] = {0: (1,)}
