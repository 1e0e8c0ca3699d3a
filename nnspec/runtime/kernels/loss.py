"""Loss kernels: pure functions of validated arrays and hyperparameters (torch's CPU formulas).

Every kernel computes in ``ct``, the compute dtype its caller passes (float32 for float16 data,
torch's CPU opmath), and returns the loss in ``out``, the result dtype torch gives, reduced by
``reduction`` ('none' | 'mean' | 'sum'): a reduction is a 0-d array.
"""

from __future__ import annotations

import contextlib
import math

from ..backend import get_array_module
from . import softmax as _softmax


def _quiet(xp):
    """Silence NumPy's floating-point warnings: log(0) is -inf and 0 / 0 NaN, as in torch, without a warning."""
    errstate = getattr(xp, "errstate", None)
    return errstate(all="ignore") if errstate else contextlib.nullcontext()


def reduce(loss, reduction: str, out):
    """torch's apply_loss_reduction: the elementwise loss, its mean (NaN when empty) or its sum, as ``out``."""
    xp = get_array_module(loss)
    loss = xp.asarray(loss)  # NumPy reduces 1-d to a scalar; torch keeps a 0-d tensor
    with _quiet(xp):
        if reduction == "mean":
            loss = xp.asarray(loss.sum() / loss.size if loss.size else xp.asarray(math.nan, loss.dtype))
        elif reduction == "sum":
            loss = xp.asarray(loss.sum())
    return loss.astype(out, copy=False)


def _c(a, ct):
    return a.astype(ct, copy=False)


# --------------------------------------------------------------------------- regression


def l1_loss(x, t, weight, reduction: str, ct, out):
    """|x - t| (times weight); with a weight, 'mean' divides by the weight's sum, as torch.nn.functional does."""
    xp = get_array_module(x, t)
    loss = xp.abs(_c(x, ct) - _c(t, ct))
    return _weighted(loss, weight, reduction, ct, out)


def mse_loss(x, t, weight, reduction: str, ct, out):
    xp = get_array_module(x, t)
    d = _c(x, ct) - _c(t, ct)
    return _weighted(xp.asarray(d * d), weight, reduction, ct, out)


def _weighted(loss, weight, reduction: str, ct, out):
    if weight is None:
        return reduce(loss, reduction, out)
    xp = get_array_module(loss)
    w = _c(weight, ct)
    loss = loss * w
    if reduction == "mean":  # sum(weighted) / sum(weight)
        with _quiet(xp):
            return xp.asarray(loss.sum() / w.sum()).astype(out, copy=False)
    return reduce(loss, reduction, out)


def smooth_l1_loss(x, t, beta: float, reduction: str, ct, out):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta > 0)."""
    xp = get_array_module(x, t)
    d = xp.abs(_c(x, ct) - _c(t, ct))
    b = ct.type(beta)
    loss = xp.where(d < b, ct.type(0.5) * d * d / b, d - ct.type(0.5) * b)
    return reduce(loss, reduction, out)


def huber_loss(x, t, delta: float, weight, reduction: str, ct, out):
    """0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta); a weight multiplies before 'mean' averages."""
    xp = get_array_module(x, t)
    d = xp.abs(_c(x, ct) - _c(t, ct))
    dl = ct.type(delta)
    loss = xp.where(d < dl, ct.type(0.5) * d * d, dl * (d - ct.type(0.5) * dl))
    if weight is not None:
        loss = loss * _c(weight, ct)
    return reduce(loss, reduction, out)


def soft_margin_loss(x, t, reduction: str, ct, out):
    """log(1 + exp(-t x)), as torch writes it (log1p of exp: a large -t x gives inf there too)."""
    xp = get_array_module(x, t)
    with _quiet(xp):
        loss = xp.log1p(xp.exp(-_c(x, ct) * _c(t, ct)))
    return reduce(loss, reduction, out)


def poisson_nll_loss(x, t, log_input: bool, full: bool, eps: float, reduction: str, ct, out):
    """exp(x) - t x (log_input) or x - t log(x + eps); full adds Stirling's t log t - t + log(2 pi t) / 2
    where t > 1."""
    xp = get_array_module(x, t)
    xc, tc = _c(x, ct), _c(t, ct)
    with _quiet(xp):
        loss = xp.exp(xc) - tc * xc if log_input else xc - tc * xp.log(xc + ct.type(eps))
        if full:
            stirling = tc * xp.log(tc) - tc + ct.type(0.5) * xp.log(ct.type(2 * math.pi) * tc)
            loss = loss + xp.where(tc <= 1, ct.type(0), stirling)
    return reduce(loss, reduction, out)


def gaussian_nll_loss(x, t, var, full: bool, eps: float, reduction: str, ct, out):
    """(log(max(var, eps)) + (x - t)^2 / max(var, eps)) / 2, plus log(2 pi) / 2 when full."""
    xp = get_array_module(x, t, var)
    v = xp.maximum(_c(var, ct), ct.type(eps))
    d = _c(x, ct) - _c(t, ct)
    with _quiet(xp):
        loss = ct.type(0.5) * (xp.log(v) + d * d / v)
    if full:
        loss = loss + ct.type(0.5 * math.log(2 * math.pi))
    return reduce(loss, reduction, out)


def kl_div(x, t, log_target: bool, reduction: str, batch: int | None, ct, out):
    """exp(t) (t - x) for a log target, else xlogy(t, t) - t x; ``batch`` divides the sum ('batchmean')."""
    xp = get_array_module(x, t)
    xc, tc = _c(x, ct), _c(t, ct)
    with _quiet(xp):
        if log_target:
            loss = xp.exp(tc) * (tc - xc)
        else:
            xlogy = xp.where(tc == 0, ct.type(0), tc * xp.log(tc))
            xlogy = xp.where(xp.isnan(tc), tc, xlogy)
            loss = xlogy - tc * xc
        y = reduce(loss, reduction, ct)
        if batch is not None:
            y = xp.asarray(y / ct.type(batch))
    return y.astype(out, copy=False)


# --------------------------------------------------------------------------- binary


def _log_sigmoid(x):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), without overflow."""
    xp = get_array_module(x)
    return xp.minimum(x, x.dtype.type(0)) - xp.log1p(xp.exp(-xp.abs(x)))


def binary_cross_entropy(x, t, weight, reduction: str, ct, out):
    """-(t log x + (1 - t) log(1 - x)), each log clamped at -100 as torch does (x in [0, 1])."""
    xp = get_array_module(x, t)
    xc, tc = _c(x, ct), _c(t, ct)
    floor = ct.type(-100)
    with _quiet(xp):
        loss = (tc - 1) * xp.maximum(xp.log1p(-xc), floor) - tc * xp.maximum(xp.log(xc), floor)
    if weight is not None:
        loss = loss * _c(weight, ct)
    return reduce(loss, reduction, out)


def binary_cross_entropy_with_logits(x, t, weight, pos_weight, reduction: str, ct, out):
    """(1 - t) x - log_sigmoid(x) (1 + (pos_weight - 1) t), times weight: torch's stable form."""
    xc, tc = _c(x, ct), _c(t, ct)
    log_sig = _log_sigmoid(xc)
    if pos_weight is not None:
        log_sig = log_sig * ((_c(pos_weight, ct) - 1) * tc + 1)
    loss = (1 - tc) * xc - log_sig
    if weight is not None:
        loss = loss * _c(weight, ct)
    return reduce(loss, reduction, out)


# --------------------------------------------------------------------------- classification


def log_softmax(x, dim: int, ct):
    return _softmax.log_softmax(_c(x, ct), dim)


def _flat(logp, target, n: int, c: int):
    """(N, C, K) log-probabilities and (N, K) targets, K the product of the spatial sizes (1 without)."""
    if logp.ndim == 1:  # one sample: (C,) and a 0-d or (1,) target
        return logp.reshape(1, c, 1), target.reshape(1, 1)
    k = math.prod(logp.shape[2:])
    return logp.reshape(n, c, k), target.reshape(n, k)


def nll_loss(logp, target, weight, ignore_index: int, reduction: str, out_shape, ct, out):
    """-weight[t] logp[t] per element (0 where t is ignore_index); 'mean' divides by the weights' sum.
    logp: (C,) or (N, C, *S) in ``ct``; target: the class indices, already checked in range."""
    xp = get_array_module(logp, target)
    n = logp.shape[0] if logp.ndim > 1 else 1
    c = logp.shape[1] if logp.ndim > 1 else logp.shape[0]
    lp, tg = _flat(logp, target, n, c)  # (N, C, K), (N, K)
    tg = tg.astype(xp.int64, copy=False)
    keep = tg != ignore_index
    safe = xp.where(keep, tg, 0)
    picked = xp.take_along_axis(lp, safe[:, None, :], axis=1)[:, 0, :]  # (N, K)
    w = xp.ones(tg.shape, ct) if weight is None else _c(weight, ct)[safe]
    w = xp.where(keep, w, ct.type(0))
    loss = -picked * w
    with _quiet(xp):
        if reduction == "none":
            return loss.reshape(out_shape).astype(out, copy=False)
        total = loss.sum()
        if reduction == "mean":
            total = total / w.sum()
    return xp.asarray(total).astype(out, copy=False)


def smoothing_term(logp, target, weight, ignore_index: int, reduction: str, class_dim: int, ct):
    """cross_entropy's label-smoothing part: -sum_c weight_c logp_c per element (0 where ignored), reduced;
    'mean' divides by the ignored-free count (or by the target weights' sum)."""
    xp = get_array_module(logp, target)
    if weight is not None:
        shape = [1] * logp.ndim
        shape[class_dim] = weight.shape[0]
        smooth = -(logp * _c(weight, ct).reshape(shape)).sum(axis=class_dim)
    else:
        smooth = -logp.sum(axis=class_dim)
    keep = target.astype(xp.int64, copy=False) != ignore_index
    smooth = xp.where(keep, smooth, ct.type(0))
    with _quiet(xp):
        if reduction == "none":
            return smooth
        if reduction == "sum":
            return xp.asarray(smooth.sum())
        if weight is not None:
            tg = target.astype(xp.int64, copy=False)[keep]
            return xp.asarray(smooth.sum() / _c(weight, ct)[tg].sum())
        return xp.asarray(smooth.sum() / ct.type(int(keep.sum())))


def cross_entropy_probs(logp, target, weight, label_smoothing: float, reduction: str, class_dim: int, ct, out):
    """-sum_c weight_c target_c logp_c, with target smoothed towards uniform; 'mean' divides by N * prod(S)."""
    xp = get_array_module(logp, target)
    c = logp.shape[class_dim]
    tc = _c(target, ct)
    if label_smoothing > 0:
        tc = tc * ct.type(1 - label_smoothing) + ct.type(label_smoothing / c)
    prod = logp * tc
    if weight is not None:
        shape = [1] * logp.ndim
        shape[class_dim] = c
        prod = prod * _c(weight, ct).reshape(shape)
    with _quiet(xp):
        if reduction == "none":
            return xp.asarray(-prod.sum(axis=class_dim)).astype(out, copy=False)
        total = -prod.sum()
        if reduction == "mean":
            total = total / ct.type(logp.size // c) if logp.size else xp.asarray(math.nan, ct)
    return xp.asarray(total).astype(out, copy=False)


def multi_margin_loss(x, target, p: int, margin: float, weight, reduction: str, out_shape, ct, out):
    """Per sample: sum over i != y of max(0, margin - x[y] + x[i])^p (times weight[y]), over the classes.
    x: (N, C); target: (N,) in range."""
    xp = get_array_module(x, target)
    xc = _c(x, ct)
    n, c = xc.shape
    tg = target.reshape(n).astype(xp.int64, copy=False)
    at = xp.take_along_axis(xc, tg[:, None], axis=1)  # (N, 1)
    z = ct.type(margin) - at + xc
    z = xp.where(z > 0, z, ct.type(0))
    h = z if p == 1 else z * z
    if weight is not None:
        h = h * _c(weight, ct)[tg][:, None]
    h = xp.where(xp.arange(c)[None, :] == tg[:, None], ct.type(0), h)  # i != y
    loss = h.sum(axis=1) / ct.type(c)  # (N,)
    if reduction == "none":
        return loss.reshape(out_shape).astype(out, copy=False)
    total = loss.sum() if reduction == "sum" else (loss.sum() / ct.type(n) if n else ct.type(0))
    return xp.asarray(total).astype(out, copy=False)


def multilabel_margin_loss(x, target, reduction: str, out_shape, ct, out):
    """Per sample: the targets are target[:k], k the first -1; sum over them j and the non-targets i of
    max(0, 1 - (x[j] - x[i])), over the classes. x: (N, C); target: (N, C) in [-1, C)."""
    xp = get_array_module(x, target)
    xc = _c(x, ct)
    n, c = xc.shape
    tg = target.astype(xp.int64, copy=False)
    valid = xp.cumprod(tg >= 0, axis=1).astype(bool)  # (N, C): before the first -1
    safe = xp.where(valid, tg, 0)
    is_target = xp.zeros((n, c), bool)
    rows = xp.broadcast_to(xp.arange(n)[:, None], (n, c))
    is_target[rows[valid], safe[valid]] = True
    at = xp.take_along_axis(xc, safe, axis=1)  # (N, C): x at each listed target
    z = 1 - at[:, :, None] + xc[:, None, :]  # (N, targets, classes)
    z = xp.where(z > 0, z, ct.type(0))
    z = xp.where(valid[:, :, None] & ~is_target[:, None, :], z, ct.type(0))
    loss = z.sum(axis=(1, 2)) / ct.type(c)  # (N,)
    if reduction == "none":
        return loss.reshape(out_shape).astype(out, copy=False)
    total = loss.sum() if reduction == "sum" else (loss.sum() / ct.type(n) if n else ct.type(0))
    return xp.asarray(total).astype(out, copy=False)


def multilabel_soft_margin_loss(x, t, weight, reduction: str, class_dim: int, c: int, ct, out):
    """-(t log_sigmoid(x) + (1 - t) log_sigmoid(-x)) (times weight), summed over ``class_dim`` and divided by C."""
    xc, tc = _c(x, ct), _c(t, ct)
    loss = -(tc * _log_sigmoid(xc) + (1 - tc) * _log_sigmoid(-xc))
    if weight is not None:
        loss = loss * _c(weight, ct)
    loss = loss.sum(axis=class_dim) / ct.type(c)
    return reduce(loss, reduction, out)


# --------------------------------------------------------------------------- embeddings and margins


def hinge_embedding_loss(x, t, margin, reduction: str, ct, out):
    """x where t != -1, plus max(0, margin - x) where t != 1 (both where t is neither)."""
    xp = get_array_module(x, t)
    xc = _c(x, ct)
    zero = ct.type(0)
    clamp = xp.maximum(ct.type(margin) - xc, zero)
    loss = xp.where(t != 1, clamp, zero) + xp.where(t != -1, xc, zero)
    return reduce(loss, reduction, out)


def cosine_embedding_loss(x1, x2, t, margin: float, reduction: str, dim: int, ct, out):
    """cos = <x1, x2> / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)) over ``dim``; 1 - cos where t == 1,
    max(0, cos - margin) where t == -1, else 0."""
    xp = get_array_module(x1, x2, t)
    a, b = _c(x1, ct), _c(x2, ct)
    eps = ct.type(1e-12)
    with _quiet(xp):
        cos = (a * b).sum(axis=dim) / xp.sqrt(((a * a).sum(axis=dim) + eps) * ((b * b).sum(axis=dim) + eps))
    zero = ct.type(0)
    loss = xp.where(t == 1, 1 - cos, zero) + xp.where(t == -1, xp.maximum(cos - ct.type(margin), zero), zero)
    return reduce(loss, reduction, out)


def margin_ranking_loss(x1, x2, t, margin: float, reduction: str, ct, out):
    """max(0, -t (x1 - x2) + margin)."""
    xp = get_array_module(x1, x2, t)
    loss = xp.maximum(-_c(t, ct) * (_c(x1, ct) - _c(x2, ct)) + ct.type(margin), ct.type(0))
    return reduce(loss, reduction, out)


def triplet_margin_loss(d_pos, d_neg, d_swap, margin: float, reduction: str, ct, out):
    """max(0, margin + d(a, p) - d(a, n)), d(a, n) replaced by min(d(a, n), d(p, n)) when swapping."""
    xp = get_array_module(d_pos, d_neg)
    dp, dn = _c(d_pos, ct), _c(d_neg, ct)
    if d_swap is not None:
        dn = xp.minimum(dn, _c(d_swap, ct))
    loss = xp.maximum(ct.type(margin) + dp - dn, ct.type(0))
    return reduce(loss, reduction, out)


# --------------------------------------------------------------------------- CTC


def ctc_loss(log_probs, targets, offsets, input_lengths, target_lengths, blank: int, ct):
    """-log p(target | input) per sample, by the forward (alpha) recursion in log space over the target with
    blanks between and around its labels. log_probs: (T, N, C); targets: 1-d (concatenated) or (N, S);
    offsets: where each sample's target starts; lengths: lists of ints. Returns (N,) in ``ct``; a target
    the input is too short for gives inf."""
    xp = get_array_module(log_probs)
    lp = _c(log_probs, ct)
    n = lp.shape[1]
    max_tl = max(target_lengths, default=0)
    s = 2 * max_tl + 1
    width = max(max_tl, 1)
    if targets.ndim == 1:  # concatenated: sample b's labels start at offsets[b]
        idx = xp.asarray(offsets, dtype=xp.int64)[:, None] + xp.arange(width)[None, :]  # (N, width)
        flat = targets.astype(xp.int64, copy=False)
        labels = flat[xp.clip(idx, 0, max(flat.shape[0] - 1, 0))] if flat.shape[0] else xp.zeros((n, width), xp.int64)
    else:  # padded (N, S)
        labels = targets[:, :width].astype(xp.int64, copy=False)
        if labels.shape[1] < width:
            labels = xp.concatenate([labels, xp.zeros((n, width - labels.shape[1]), xp.int64)], axis=1)
    tl = xp.asarray(target_lengths, dtype=xp.int64)
    labels = xp.where(xp.arange(width)[None, :] < tl[:, None], labels, blank)  # padding: any value, never read
    ext = xp.full((n, s), blank, dtype=xp.int64)  # (N, 2*S+1): blank, l1, blank, l2, ..., blank
    ext[:, 1::2] = labels[:, :max_tl]
    il = xp.asarray(input_lengths, dtype=xp.int64)
    pos = xp.arange(s)
    live = pos[None, :] < (2 * tl + 1)[:, None]  # (N, S'): positions inside each sample's extended target
    # the skip from s-2 to s: torch's condition, the label at s differs from the one at s-2 (never at a blank)
    skip = xp.zeros((n, s), bool)
    if s > 2:
        skip[:, 2:] = ext[:, 2:] != ext[:, :-2]
    neg_inf = ct.type(-math.inf)
    rows = xp.arange(n)[:, None]
    with _quiet(xp):
        alpha = xp.full((n, s), neg_inf, dtype=ct)
        if lp.shape[0] > 0:
            emit = lp[0][rows, ext]  # (N, S')
            alpha[:, 0] = emit[:, 0]
            if s > 1:
                alpha[:, 1] = emit[:, 1]
            alpha = xp.where(live, alpha, neg_inf)
        final = xp.full((n, s), neg_inf, dtype=ct)
        final = xp.where((il == 1)[:, None], alpha, final)
        for time in range(1, lp.shape[0]):
            prev1 = xp.concatenate([xp.full((n, 1), neg_inf, ct), alpha[:, :-1]], axis=1)
            prev2 = xp.concatenate([xp.full((n, 2), neg_inf, ct), alpha[:, :-2]], axis=1)[:, :s]
            prev2 = xp.where(skip, prev2, neg_inf)
            stacked = xp.stack([alpha, prev1, prev2])  # (3, N, S')
            top = stacked.max(axis=0)
            safe_top = xp.where(xp.isfinite(top), top, ct.type(0))
            summed = xp.log(xp.exp(stacked - safe_top).sum(axis=0)) + safe_top
            summed = xp.where(xp.isfinite(top), summed, top)
            alpha = xp.where(live, summed + lp[time][rows, ext], neg_inf)
            final = xp.where((il == time + 1)[:, None], alpha, final)
        last = xp.take_along_axis(final, (2 * tl)[:, None], axis=1)[:, 0]
        before = xp.take_along_axis(final, xp.maximum(2 * tl - 1, 0)[:, None], axis=1)[:, 0]
        before = xp.where(tl > 0, before, neg_inf)
        top = xp.maximum(last, before)
        safe_top = xp.where(xp.isfinite(top), top, ct.type(0))
        ll = xp.log(xp.exp(last - safe_top) + xp.exp(before - safe_top)) + safe_top
        ll = xp.where(xp.isfinite(top), ll, top)
        ll = xp.where(il == 0, xp.where(tl == 0, ct.type(0), neg_inf), ll)
    return -ll
