"""Shape rules of the loss family agree with their kernels (see tests/shape_rules.py).

Integer inputs are drawn in [1, 4) there, so class-index targets meet at least 4 classes wherever a test
means them to be in range; a transform inside the lambda keeps the values real data must have (BCE's
input in [0, 1], a variance >= 0) on both sides, so only shapes and dtypes decide the outcome.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nnspec.runtime import functional as F

from shape_rules import SETTINGS, agree, covers, shape

REDUCTIONS = ["none", "mean", "sum", "bad"]
FLOATS = ["float32", "float32", "float64", "float16"]


def _pair(data, min_dims=0, max_dims=4):
    """Two shapes: equal, broadcastable or not, of one to two ranks."""
    a = data.draw(shape(min_dims, max_dims, 1, 4))
    kind = data.draw(st.sampled_from(["same", "same", "suffix", "ones", "any"]))
    if kind == "same":
        b = a
    elif kind == "suffix":
        b = a[data.draw(st.integers(0, len(a))):]
    elif kind == "ones":
        b = tuple(1 if data.draw(st.booleans()) else s for s in a)
    else:
        b = data.draw(shape(min_dims, max_dims, 1, 4))
    return (a, b) if data.draw(st.booleans()) else (b, a)


@SETTINGS
@given(st.data())
def test_regression(data):
    x, t = _pair(data)
    fn = data.draw(st.sampled_from([F.l1_loss, F.mse_loss, F.smooth_l1_loss, F.huber_loss, F.soft_margin_loss,
                                    F.kl_div, F.poisson_nll_loss]))
    dx, dt = data.draw(st.sampled_from(FLOATS + ["int64"])), data.draw(st.sampled_from(FLOATS + ["int64"]))
    reduction = data.draw(st.sampled_from(REDUCTIONS + (["batchmean"] if fn is F.kl_div else [])))
    kwargs = {"reduction": reduction}
    if fn in (F.l1_loss, F.mse_loss, F.huber_loss) and data.draw(st.booleans()):
        w = data.draw(st.sampled_from([x, t, x[1:]]))
        agree(lambda x, t, w: fn(x, t, weight=w, **kwargs), (x, dx), (t, dt), w)
        return
    if fn is F.smooth_l1_loss:
        kwargs["beta"] = data.draw(st.sampled_from([1.0, 0.0, 0.5]))
    agree(lambda x, t: fn(x, t, **kwargs), (x, dx), (t, dt))


@SETTINGS
@given(st.data())
def test_gaussian_nll_loss(data):
    x, t = _pair(data, 1)
    v = data.draw(st.sampled_from([x, x[:-1], x[:-1] + (1,), (1,) + x[1:], t, ()]))
    dtypes = [data.draw(st.sampled_from(FLOATS + ["int64"])) for _ in range(3)]
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    agree(lambda x, t, v: F.gaussian_nll_loss(x, t, v * v, full=True, reduction=reduction), (x, dtypes[0]),
          (t, dtypes[1]), (v, dtypes[2]))
    agree(lambda x, t: F.gaussian_nll_loss(x, t, 0.5, reduction=reduction), (x, dtypes[0]), (t, dtypes[1]))


@SETTINGS
@given(st.data())
def test_binary_cross_entropy(data):
    x, t = _pair(data)
    w = data.draw(st.sampled_from([None, x, x[1:], (1,), (), (2,) + x, (5,)]))
    pw = data.draw(st.sampled_from([None, x[1:], (3,), (2,) + x]))
    dx, dt = data.draw(st.sampled_from(FLOATS + ["int64"])), data.draw(st.sampled_from(FLOATS + ["int64"]))
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    agree(lambda x, t, w: F.binary_cross_entropy(x * x / (x * x + 1), t, w, reduction=reduction), (x, dx),
          (t, dt), w)
    agree(lambda x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, w, reduction=reduction, pos_weight=pw),
          (x, dx), (t, dt), w, pw)


def _class_inputs(data):
    """An input (C) or (N, C, *S) with C >= 4, and a target of class indices or probabilities, right or not."""
    n, c = data.draw(st.integers(0, 3)), data.draw(st.integers(4, 6))
    spatial = data.draw(shape(0, 3, 1, 3))
    x = data.draw(st.sampled_from([(n, c) + spatial, (n, c), (c,), ()]))
    kind = data.draw(st.sampled_from(["index", "index", "probs", "wrong"]))
    if kind == "index":
        t, dt = ((x[:1] + x[2:]) if len(x) > 1 else ()), data.draw(st.sampled_from(["int64", "int64", "uint8", "int32"]))
    elif kind == "probs":
        t, dt = x, data.draw(st.sampled_from(FLOATS + ["int64"]))
    else:
        t, dt = data.draw(shape(0, 4, 1, 3)), "int64"
    return x, t, dt, c


@SETTINGS
@given(st.data())
def test_nll_loss_and_cross_entropy(data):
    x, t, dt, c = _class_inputs(data)
    dx = data.draw(st.sampled_from(FLOATS + ["int64"]))
    w = data.draw(st.sampled_from([None, None, ((c,), dx), ((c,), "float64"), ((c - 1,), dx), ((2, c), dx)]))
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    smoothing = data.draw(st.sampled_from([0.0, 0.0, 0.2, 1.5]))
    ignore = data.draw(st.sampled_from([-100, 1, -1]))
    agree(lambda x, t, w: F.nll_loss(x, t, w, ignore_index=ignore, reduction=reduction), (x, dx), (t, dt), w)
    agree(lambda x, t, w: F.cross_entropy(x, t, w, ignore_index=ignore, reduction=reduction,
                                          label_smoothing=smoothing), (x, dx), (t, dt), w)


@SETTINGS
@given(st.data())
def test_linear_cross_entropy(data):
    n, f, c = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4)), data.draw(st.integers(4, 5))
    out = data.draw(shape(0, 2, 1, 3))
    x = data.draw(st.sampled_from([(n, f), (f,), (n, f + 1), (2, n, f)]))
    w = data.draw(st.sampled_from([(c,) + out + (f,), (f,)]))
    batch = x[:-1]
    t = data.draw(st.sampled_from([batch + out, batch + (c,) + out, (n + 1,)]))
    dt = "int64" if data.draw(st.booleans()) else "float32"
    b = data.draw(st.sampled_from([None, (c,) + out, (c + 1,)]))
    ignore = data.draw(st.sampled_from([None, 1]))
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    agree(lambda x, w, t, b: F.linear_cross_entropy(x, w, t, linear_bias=b, ignore_index=ignore, reduction=reduction),
          x, w, (t, dt), b)


@SETTINGS
@given(st.data())
def test_margin_losses(data):
    n, c = data.draw(st.integers(0, 3)), data.draw(st.integers(4, 6))
    x = data.draw(st.sampled_from([(n, c), (c,), (), (n, 0), (2, n, c)]))
    dx = data.draw(st.sampled_from(FLOATS + ["int64"]))
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    t = data.draw(st.sampled_from([x[:1], (), (1,), (n + 1,), x]))
    dt = data.draw(st.sampled_from(["int64", "int64", "int32"]))
    w = data.draw(st.sampled_from([None, ((c,), dx), ((c,), "float64"), ((c + 1,), dx), ((1, c), dx)]))
    p = data.draw(st.sampled_from([1, 2, 3]))
    # targets * 0: class 0 is in range for every input (values are not what these tests compare)
    agree(lambda x, t, w: F.multi_margin_loss(x, t * 0, p=p, weight=w, reduction=reduction), (x, dx), (t, dt), w)
    agree(lambda x, t: F.multilabel_margin_loss(x, t * 0, reduction=reduction), (x, dx), (x, dt))
    agree(lambda x, t: F.multilabel_margin_loss(x, t * 0, reduction=reduction), (x, dx), (t, dt))
    xs, ts = _pair(data)
    agree(lambda x, t, w: F.multilabel_soft_margin_loss(x, t, w, reduction=reduction), (xs, dx), ts,
          data.draw(st.sampled_from([None, xs[-1:], (7,)])))


@SETTINGS
@given(st.data())
def test_embedding_losses(data):
    x, t = _pair(data)
    dx, dt = data.draw(st.sampled_from(FLOATS + ["int64"])), data.draw(st.sampled_from(FLOATS + ["int64", "bool"]))
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    agree(lambda x, t: F.hinge_embedding_loss(x, t, margin=1.5, reduction=reduction), (x, dx), (t, dt))
    a, b = _pair(data)
    target = data.draw(st.sampled_from([a[:1], (), a, (1,), (5,)]))
    agree(lambda x, y, t: F.cosine_embedding_loss(x, y, t, reduction=reduction), (a, dx), b, (target, dt))
    agree(lambda x, y, t: F.margin_ranking_loss(x, y, t, reduction=reduction), (a, dx), b, (target, dt))


@SETTINGS
@given(st.data())
def test_triplet_losses_and_pairwise_distance(data):
    a, b = _pair(data)
    c = data.draw(st.sampled_from([a, b, a[1:]]))
    dx = data.draw(st.sampled_from(FLOATS + ["int64", "bool"]))
    p = data.draw(st.sampled_from([2.0, 1, 0, -1, float("inf"), 3.5]))
    keepdim, swap = data.draw(st.booleans()), data.draw(st.booleans())
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    agree(lambda x, y: F.pairwise_distance(x, y, p, keepdim=keepdim), (a, dx), b)
    agree(lambda x, y, z: F.triplet_margin_loss(x, y, z, p=p, swap=swap, reduction=reduction), (a, dx), b, c)
    agree(lambda x, y, z: F.triplet_margin_with_distance_loss(x, y, z, swap=swap, reduction=reduction), (a, dx), b, c)


@SETTINGS
@given(st.data())
def test_ctc_loss(data):
    n, c, t_len = data.draw(st.integers(1, 3)), data.draw(st.integers(4, 6)), data.draw(st.integers(1, 6))
    lp = data.draw(st.sampled_from([(t_len, n, c), (t_len, c), (t_len, n, c, 1), (t_len,)]))
    batched = len(lp) == 3
    b = n if batched else 1
    tl = [data.draw(st.integers(0, 4)) for _ in range(b)]
    il = [data.draw(st.integers(0, t_len + 1)) for _ in range(b)]
    kind = data.draw(st.sampled_from(["padded", "concatenated", "wrong"]))
    if kind == "padded":
        targets = (b, max(tl) + data.draw(st.integers(-1, 1))) if batched or data.draw(st.booleans()) else (max(tl),)
    elif kind == "concatenated":
        targets = (sum(tl),)
    else:
        targets = data.draw(shape(0, 3, 0, 4))
    dlp = data.draw(st.sampled_from(["float32", "float64", "float16"]))
    dtg = data.draw(st.sampled_from(["int64", "int32"]))
    blank = data.draw(st.sampled_from([0, c - 1, c]))
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    agree(lambda x, y: F.ctc_loss(x, y, il, tl, blank=blank, reduction=reduction), (lp, dlp), (targets, dtg))


covers(F.l1_loss, F.mse_loss, F.huber_loss, F.smooth_l1_loss, F.soft_margin_loss, F.binary_cross_entropy,
       F.binary_cross_entropy_with_logits, F.kl_div, F.poisson_nll_loss, F.gaussian_nll_loss, F.nll_loss,
       F.cross_entropy, F.hinge_embedding_loss, F.cosine_embedding_loss, F.margin_ranking_loss,
       F.multilabel_margin_loss, F.multilabel_soft_margin_loss, F.multi_margin_loss, F.ctc_loss, F.triplet_margin_loss,
       F.triplet_margin_with_distance_loss, F.linear_cross_entropy, F.pairwise_distance)
