"""2-d convolutions on channels-last (NHWC) activations: im2col, Winograd and depthwise.

An execution plan keeps the activations of a convolutional network channels-last: an array of the
logical shape (N, C, H, W) whose memory is (N, H, W, C), as torch's ``channels_last`` memory format. Every
op reads it as the NCHW array it is (NumPy follows the strides), so nothing changes in what is computed;
the kernels here see the channels as the contiguous inner axis, where a convolution is a matmul over
positions: (positions, K*C) @ (K*C, O) gives (positions, O), the next layer's NHWC input with no
transposition.

The methods, chosen per layer by ``choose`` (a plan may force one):

- ``im2col``: the columns of a few images at a time (or of a block of output rows of one), (positions,
  kh*kw*C), gathered by one copy from a strided view of every window, times the weight (kh*kw*C, O). A
  1x1 stride-1 convolution is its own columns (no copy). An NCHW input with few values to a window (a
  3-channel stem) is gathered as it lies, one copy per kernel offset (see PLANAR_K).
- ``winograd4`` / ``winograd2``: Winograd's minimal filtering F(4x4, 3x3) / F(2x2, 3x3) (Lavin and Gray,
  2015) for 3x3, stride 1, one group. The input is cut into overlapping 6x6 (4x4) tiles, each tile
  transformed (B^T d B), multiplied channel-wise with the transformed weights (G g G^T, made once) as
  36 (16) matmuls of (tiles, C) @ (C, O), and transformed back (A^T m A). The transforms are matmuls
  with the Kronecker products of the 1-d matrices, over every tile and channel at once. F(4x4) does
  4x fewer multiplies in the matmul than direct convolution, F(2x2) 2.25x; in float32 F(4x4) is about
  10x less exact than im2col (its transform matrices have entries up to 8 and 1/24): relative errors of
  about 1e-5 where im2col's are about 1e-6. F(2x2)'s are about 2e-6.
- ``depthwise``: one input channel per group: one einsum per block of rows over the views of whole input
  rows, or over a view of every window where there is a stride along W (see ``_depthwise``).

``separable`` runs a depthwise convolution together with the 1x1 convolutions around it (an inverted
residual), block of rows by block of rows.

float16 computes in float32 and stores float16, as the NCHW kernels and torch's CPU kernels do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy

from ..backend import get_array_module
from .parallel import over_batch, over_batch_blas, threads

METHODS = ("im2col", "winograd2", "winograd4", "depthwise")

# a depthwise convolution without a stride along W sums its kernel offsets over blocks of output rows of
# about this many bytes (whole images where they are smaller), one einsum each whose loop runs along a row
# (Wo*C values). On one core, 4 images, ms, this / an einsum over every window / offset by offset with
# NumPy's multiply and add (two passes each): 144 channels at 56 2.4 / 3.1 / 3.9, 32 at 112 2.2 / 7.5 /
# 3.7, 576 at 14 0.58 / 0.47 / 0.97. With a stride along W (no view of the input is one run) the einsum
# over every window does best: 96 channels 112 -> 56, 4.2 against 7.3 for the rows of the input split
# by column parity and 4.9 for every column computed and every other kept
DEPTHWISE_BLOCK_BYTES = 1 << 20

# a depthwise convolution fused with the 1x1 convolutions around it (``separable``) works on blocks of
# output rows of one image whose padded input rows (the expanded channels) take about this many bytes
SEPARABLE_BLOCK_BYTES = 1 << 20

# a layer of fewer mult-adds (about) runs whole: handing half of it to a thread costs more than it saves
SPLIT_MULT_ADDS = 1 << 22

# the most memory a layer's Winograd-transformed weights may take (float32 sizes); see choose
WINOGRAD_WEIGHT_BYTES = 8 << 20

# each step of a method works on as many whole images as fit their working arrays in this many bytes;
# im2col, where one image's columns and output are larger, on blocks of output rows of about ROW_BYTES
# (ResNet's 7x7 stem: 1.1 MB blocks where a whole image's columns take 7.4 MB)
CHUNK_BYTES = 8 << 20
ROW_BYTES = 1 << 20

# im2col of an NCHW input whose window has at most this many values (kh*kw*C: an image network's stem,
# 3 channels) gathers the columns from the input as it lies (see ``_im2col_planar``), where making it
# channels-last first copies runs of C values. MobileNetV2's 3->32 3x3 stride-2 stem, 4 images on one
# core, ms: 2.4 against 3.7
PLANAR_K = 64


def _winograd_matrices(m: int) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """(B^T, G, A^T) of F(m x m, 3 x 3), interpolation points 0, +-1, +-2 and infinity (Lavin and Gray)."""
    if m == 2:
        bt = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
        g = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
        at = [[1, 1, 1, 0], [0, 1, -1, -1]]
    else:
        bt = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
              [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]
        g = [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
             [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]]
        at = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]]
    return numpy.array(bt, numpy.float64), numpy.array(g, numpy.float64), numpy.array(at, numpy.float64)


_KRON: dict[tuple[int, str], tuple[Any, Any]] = {}


def _kron(xp: Any, m: int, dtype: Any) -> tuple[Any, Any]:
    """(kron(B^T, B^T), kron(A^T, A^T)) in ``dtype``, on ``xp``'s device: the 2-d tile transforms as one
    matrix each, applied to a tile flattened row by row."""
    key = (m, xp.__name__ + str(dtype))
    if key not in _KRON:
        bt, _, at = _winograd_matrices(m)
        _KRON[key] = (xp.asarray(numpy.kron(bt, bt), dtype=dtype), xp.asarray(numpy.kron(at, at), dtype=dtype))
    return _KRON[key]


def prepare(weight: Any, method: str) -> Any:
    """The weight (O, C/groups, kh, kw) as ``method`` multiplies it, computed once per plan: (kh*kw*C, O)
    for im2col, (a*a, C, O) transformed for Winograd (in float64, rounded once), (kh, kw, C) for
    depthwise."""
    xp = get_array_module(weight)
    work = xp.float32 if weight.dtype == xp.float16 else weight.dtype
    o, c, kh, kw = weight.shape
    if method == "im2col":
        return xp.ascontiguousarray(weight.transpose(2, 3, 1, 0).reshape(kh * kw * c, o), dtype=work)
    if method == "depthwise":
        return xp.ascontiguousarray(weight.reshape(o, kh, kw).transpose(1, 2, 0), dtype=work)
    m = 4 if method == "winograd4" else 2
    _, g, _ = _winograd_matrices(m)
    g = xp.asarray(g)
    a = m + 2
    u = xp.empty((a * a, c, o), dtype=work)
    for start in range(0, o, 64):  # in float64 a block of output channels at a time (bounded working memory)
        block = g @ weight[start:start + 64].astype(xp.float64) @ g.T  # (o', C, a, a)
        u[:, :, start:start + 64] = block.reshape(block.shape[0], c, a * a).transpose(2, 1, 0)
    return u


def applicable(method: str, weight_shape: tuple, stride: tuple, dilation: tuple, groups: int) -> bool:
    o, cg, kh, kw = weight_shape
    if method == "depthwise":
        return groups > 1 and cg == 1 and o == groups
    if groups != 1:
        return False
    if method == "im2col":
        return True
    return (kh, kw) == (3, 3) and stride == (1, 1) and dilation == (1, 1)


def choose(weight_shape: tuple, stride: tuple, dilation: tuple, groups: int, size: tuple,
           exact: bool = False) -> str | None:
    """The method for a layer, by rules measured on 2 cores (bench/cpu.py); None where the NCHW kernels
    do better (grouped convolutions). ``exact`` never chooses Winograd: results as im2col's."""
    if applicable("depthwise", weight_shape, stride, dilation, groups):
        return "depthwise"
    if groups != 1:
        return None
    o, c = weight_shape[:2]
    if not exact and applicable("winograd4", weight_shape, stride, dilation, groups) and min(c, o) >= 16:
        # measured at batch 8, ms, F(4x4) / F(2x2) / im2col: 64->64 @56 12.0 / 13.9 / 15.7, 128->128 @28
        # 7.7 / 8.7 / 13.7, 256->256 @14 7.2 / 7.4 / 10.9, 512->512 @7 7.0 / 9.5 / 10.2 (its 2x2 tiles
        # of 4x4 compute 64 outputs for 49, and still win). The transformed weights are kept beside the
        # model's: 36/9 of the weight for F(4x4), 16/9 for F(2x2); above WINOGRAD_WEIGHT_BYTES a layer
        # takes the smaller form, or im2col (ResNet-18's 512-channel layers: 38 MB each in F(4x4))
        if min(size) >= 4 and 36 * c * o * 4 <= WINOGRAD_WEIGHT_BYTES:
            return "winograd4"
        if 16 * c * o * 4 <= WINOGRAD_WEIGHT_BYTES:
            return "winograd2"
    return "im2col"


def conv2d(x: Any, prepared: Any, method: str, bias: Any, kernel: tuple, stride: tuple, dilation: tuple,
           pads: tuple, out: Any = None, scratch: Callable | None = None,
           epilogue: Callable | None = None) -> Any:
    """The convolution of ``x`` (N, C, H, W), of any memory layout, zero-padded by ``pads`` ((top, bottom),
    (left, right)), as ``method`` with its ``prepared`` weight; returns (N, O, Ho, Wo) channels-last: a
    transposed view of ``out`` (N, Ho, Wo, O) where given, else of a new array. ``epilogue(part, index)``
    runs on each part of the output (a channels-last (n, O, rows, Wo) view) once it is written, after the
    bias: ``index`` is where the part lies in the output, a batch slice or (batch slice, all channels, row
    slice). The batch is split over threads (parallel.over_batch_blas) where the layer is large enough."""
    xp = get_array_module(x, prepared)
    take = scratch or (lambda shape, dtype: xp.empty(shape, dtype=dtype))
    store = x.dtype
    work = xp.float32 if store == xp.float16 else store
    n, c, h, w = x.shape
    kh, kw = kernel
    o = prepared.shape[-1]
    hp, wp = h + pads[0][0] + pads[0][1], w + pads[1][0] + pads[1][1]
    ho = (hp - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wp - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    y = xp.empty((n, ho, wo, o), dtype=store) if out is None else out
    if method in ("winograd2", "winograd4"):
        m = 4 if method == "winograd4" else 2
        # padded to whole tiles: the tiles cover (th*m + 2, tw*m + 2) of the padded input
        extent = (-(-ho // m) * m + 2, -(-wo // m) * m + 2)
    else:
        extent = (hp, wp)
    # a channels-last input with nothing to pad is read as it lies (a 1x1 stride-1 one is its own columns)
    as_is = extent == (h, w) and pads == ((0, 0), (0, 0)) and x.dtype == work \
        and x.transpose(0, 2, 3, 1).flags.c_contiguous
    planar = method == "im2col" and not as_is and kh * kw * c <= PLANAR_K and x.flags.c_contiguous

    # the bias tiled along an output row: added to a (rows, Wo*O) view, NumPy's loop runs over Wo*O values at
    # once, not over O (MobileNetV2's 96-channel 112x112 layer: 2.4 ms against 3.4 on one core)
    row_bias = None if bias is None else xp.tile(bias.astype(store, copy=False), wo)

    def run(batch: slice) -> None:
        xb = x[batch]
        yb = y[batch]
        src = xb if planar else xb.transpose(0, 2, 3, 1) if as_is \
            else _padded_nhwc(xp, xb, pads, extent, work, take)

        def finish(part: Any, start: int, rows: slice | None = None) -> None:
            if row_bias is not None:
                _add_along_rows(part, row_bias)
            if epilogue is not None:
                at = slice(batch.start + start, batch.start + start + part.shape[0])
                epilogue(part.transpose(0, 3, 1, 2), at if rows is None else (at, slice(None), rows))

        if method == "depthwise":
            _depthwise(xp, src, prepared, stride, dilation, (ho, wo), yb, work, take, finish)
        elif planar:
            _im2col_planar(xp, src, prepared, (kh, kw), stride, dilation, pads, (ho, wo), yb, work, take, finish)
        elif method == "im2col":
            _im2col(xp, src, prepared, (kh, kw), stride, dilation, (ho, wo), yb, work, take, finish)
        else:
            _winograd(xp, src, prepared, m, (ho, wo), yb, work, take, finish)

    if method == "depthwise":  # elementwise: the batch split over threads
        over_batch(xp, n, y.size * kh * kw, run)
    elif n * ho * wo * o * kh * kw * c >= SPLIT_MULT_ADDS:  # parts of the batch on threads, each with
        over_batch_blas(xp, n, run)  # single-threaded BLAS (see parallel.over_batch_blas)
    else:
        run(slice(0, n))
    return y.transpose(0, 3, 1, 2)


def _add_along_rows(part: Any, row_bias: Any) -> None:
    """``part`` (n, rows, Wo, O) += the bias, given tiled to (Wo*O,): over (n, rows, Wo*O) where each row is
    one run of memory (always so for a part of the output), else broadcast."""
    n, rows, wo, o = part.shape
    if part.strides[3] == part.itemsize and part.strides[2] == o * part.itemsize:
        flat = part.reshape(n, rows, wo * o)  # a view: (Wo, O) is contiguous
        flat += row_bias
    else:
        part += row_bias[:o]


def _padded_nhwc(xp: Any, x: Any, pads: tuple, extent: tuple, work: Any, take: Callable) -> Any:
    """x (N, C, H, W) as an (N, *extent, C) array in ``work``'s dtype: zeros before and after the input as
    ``pads`` says, and after it up to ``extent`` (whole tiles)."""
    n, c, h, w = x.shape
    (top, _), (left, _) = pads
    buf = take((n,) + tuple(extent) + (c,), work)
    bottom, right = extent[0] - top - h, extent[1] - left - w
    if top:
        buf[:, :top] = 0
    if bottom > 0:
        buf[:, top + h:] = 0
    if left:
        buf[:, :, :left] = 0
    if right > 0:
        buf[:, :, left + w:] = 0
    # the input cropped where a pad is negative or the tiles end before it
    hs, ws = min(h, extent[0] - top), min(w, extent[1] - left)
    buf[:, top:top + hs, left:left + ws] = x[:, :, :hs, :ws].transpose(0, 2, 3, 1)
    return buf


def _chunk(n: int, per_image: int) -> int:
    """How many images a step works on at once."""
    return max(1, min(n, CHUNK_BYTES // max(per_image, 1)))


def _im2col(xp, src, wm, kernel, stride, dilation, size, y, work, take, finish) -> None:
    """Columns of a few whole images at a time (CHUNK_BYTES), or of a block of output rows of one image
    (ROW_BYTES) where one image's are larger, times the weight; the bias and epilogue on each part as it is
    written (in cache)."""
    n, hp, wp, c = src.shape
    kh, kw = kernel
    ho, wo = size
    o = wm.shape[1]
    direct = (kh, kw) == (1, 1) and stride == (1, 1) and (hp, wp) == (ho, wo)
    store = y.dtype
    itemsize = numpy.dtype(work).itemsize
    per_row = wo * ((0 if direct else kh * kw * c) + o) * itemsize
    step = _chunk(n, ho * per_row)
    rows = ho if step > 1 else max(1, ROW_BYTES // max(per_row, 1))
    s0, s1, s2, s3 = src.strides
    # a window's row (kw * C values) is one run where the dilation is 1 and the channels of a position are
    # next to each other's (not so for an NCHW input of one channel read as it lies): one run to copy
    merged = dilation[1] == 1 and s2 == c * s3
    row = (kw * c,) if merged else (kw, c)
    inner = (s3,) if merged else (s2 * dilation[1], s3)
    for b in range(0, n, step):
        m = min(step, n - b)
        for r0 in range(0, ho, rows):
            r1 = min(ho, r0 + rows)
            q = m * (r1 - r0) * wo
            if direct:
                cols = src[b:b + m, r0:r1].reshape(q, c)
            else:
                win = xp.lib.stride_tricks.as_strided(
                    src[b:b + m, r0 * stride[0]:], shape=(m, r1 - r0, wo, kh) + row,
                    strides=(s0, s1 * stride[0], s2 * stride[1], s1 * dilation[0]) + inner)
                cols = take((m, r1 - r0, wo, kh) + row, work)
                cols[...] = win
                cols = cols.reshape(q, kh * kw * c)
            yb = y[b:b + m, r0:r1]  # contiguous: whole images, or a block of rows of one
            if store == work:
                xp.matmul(cols, wm, out=yb.reshape(q, o))
            else:
                yb[...] = xp.matmul(cols, wm).reshape(yb.shape)
            finish(yb, b, None if rows == ho else slice(r0, r1))


def _inside(first: int, step: int, extent: int, count: int) -> tuple[int, int]:
    """The range [a, b) of q in [0, count) for which first + q * step lies in [0, extent)."""
    a = max(0, -(first // step))
    b = min(count, (extent - 1 - first) // step + 1)
    return a, max(a, b)


def _im2col_planar(xp, x, wm, kernel, stride, dilation, pads, size, y, work, take, finish) -> None:
    """im2col of an NCHW input ``x`` read as it lies, unpadded: the columns of a few images (or of a block
    of output rows of one) as (m, kh, kw, C, rows, Wo), each kernel offset one copy of a strided view of
    every channel's plane, zero where the window leaves the input; times the weight as (positions, K) @
    (K, O), the columns read transposed."""
    n, c, h, w = x.shape
    kh, kw = kernel
    sh, sw = stride
    dh, dw = dilation
    (pt, _), (pl, _) = pads
    ho, wo = size
    o = wm.shape[1]
    k = kh * kw * c
    store = y.dtype
    per_row = wo * (k + o) * numpy.dtype(work).itemsize
    step = _chunk(n, ho * per_row)
    rows = ho if step > 1 else max(1, ROW_BYTES // max(per_row, 1))
    spans = [_inside(j * dw - pl, sw, w, wo) for j in range(kw)]  # each kernel column's output columns
    for b in range(0, n, step):
        m = min(step, n - b)
        for r0 in range(0, ho, rows):
            nr = min(ho, r0 + rows) - r0
            cols = take((m, kh, kw, c, nr, wo), work)
            for i in range(kh):
                first = r0 * sh + i * dh - pt  # the input row of the block's first output row
                ra, rb = _inside(first, sh, h, nr)
                for j, (ca, cb) in enumerate(spans):
                    dst = cols[:, i, j]
                    if ra > 0:  # (the window's parts outside the input: most offsets have none)
                        dst[:, :, :ra] = 0
                    if rb < nr:
                        dst[:, :, rb:] = 0
                    if ca > 0:
                        dst[:, :, ra:rb, :ca] = 0
                    if cb < wo:
                        dst[:, :, ra:rb, cb:] = 0
                    if rb > ra and cb > ca:
                        top, left = first + ra * sh, ca * sw + j * dw - pl
                        dst[:, :, ra:rb, ca:cb] = x[b:b + m, :, top:top + (rb - ra - 1) * sh + 1:sh,
                                                    left:left + (cb - ca - 1) * sw + 1:sw]
            a = cols.reshape(m, k, nr * wo).transpose(0, 2, 1)
            yb = y[b:b + m, r0:r0 + nr]
            if store == work:
                xp.matmul(a, wm, out=yb.reshape(m, nr * wo, o))
            else:
                yb[...] = xp.matmul(a, wm).reshape(yb.shape)
            finish(yb, b, None if rows == ho else slice(r0, r0 + nr))


def _winograd(xp, src, u, m, size, y, work, take, finish) -> None:
    """F(m x m, 3 x 3) over the whole tiles of ``src`` (N, th*m + 2, tw*m + 2, C) padded already."""
    n, hp, wp, c = src.shape
    a = m + 2
    th, tw = (hp - 2) // m, (wp - 2) // m
    ho, wo = size
    o = u.shape[2]
    kb, ka = _kron(xp, m, work)
    t = th * tw
    itemsize = numpy.dtype(work).itemsize
    step = _chunk(n, t * (2 * a * a * c + a * a * o + m * m * o) * itemsize)
    s0, s1, s2, s3 = src.strides
    whole = ho == th * m and wo == tw * m and y.dtype == work
    for b in range(0, n, step):
        k = min(step, n - b)
        tiles = xp.lib.stride_tricks.as_strided(src[b:b + k], shape=(a, a, k, th, tw, c),
                                                strides=(s1, s2, s0, s1 * m, s2 * m, s3))
        d = take((a, a, k, th, tw, c), work)
        d[...] = tiles
        v = take((a * a, k * t, c), work)
        xp.matmul(kb, d.reshape(a * a, k * t * c), out=v.reshape(a * a, k * t * c))
        mm = take((a * a, k * t, o), work)
        xp.matmul(v, u, out=mm)
        z = take((m, m, k, th, tw, o), work)
        xp.matmul(ka, mm.reshape(a * a, k * t * o), out=z.reshape(m * m, k * t * o))
        tiles_out = z.transpose(2, 3, 0, 4, 1, 5)  # (k, th, m, tw, m, O)
        yb = y[b:b + k]
        if whole:
            yb.reshape(k, th, m, tw, m, o)[...] = tiles_out
        else:
            full = take((k, th, m, tw, m, o), work)
            full[...] = tiles_out
            yb[...] = full.reshape(k, th * m, tw * m, o)[:, :ho, :wo]
        finish(yb, b)


def _by_rows(stride_w: int, s2: int, s3: int, c: int) -> bool:
    """Whether a depthwise convolution reads its input by rows: no stride along W, and each position's C
    values next to the next position's (a padded copy or a channels-last input always has them so)."""
    return stride_w == 1 and s2 == c * s3


def _tiled(xp: Any, wk: Any, wo: int) -> Any:
    """Depthwise weights (kh, kw, C) tiled along an output row: (kh, kw, Wo*C)."""
    kh, kw, c = wk.shape
    return xp.ascontiguousarray(xp.broadcast_to(wk[:, :, None, :], (kh, kw, wo, c))).reshape(kh, kw, wo * c)


def _depthwise_einsum(xp: Any, src: Any, wk: Any, tiled: Any, stride: tuple, dilation: tuple, r0: int, nr: int,
                      wo: int) -> tuple:
    """(subscripts, view, weights): the einsum giving output rows ``r0:r0 + nr`` (``wo`` columns) of the
    depthwise convolution of ``src`` (m, Hp, Wp, C), padded already: by rows where ``tiled`` (the weights
    tiled along a row) is given, over the kh*kw views of whole rows; else over a view of every window."""
    m, _, _, c = src.shape
    kh, kw = wk.shape[:2]
    sh, sw = stride
    dh, dw = dilation
    s0, s1, s2, s3 = src.strides
    base = src[:, r0 * sh:]
    if tiled is not None:
        return "nrijl,ijl->nrl", xp.lib.stride_tricks.as_strided(
            base, shape=(m, nr, kh, kw, wo * c), strides=(s0, s1 * sh, s1 * dh, s2 * dw, s3)), tiled
    return "nhwijc,ijc->nhwc", xp.lib.stride_tricks.as_strided(
        base, shape=(m, nr, wo, kh, kw, c), strides=(s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3)), wk


def _depthwise_run(xp: Any, einsum: tuple, out: Any) -> None:
    """``_depthwise_einsum``'s einsum into ``out`` (m, nr, Wo, C), in the working dtype."""
    subscripts, view, weights = einsum
    _einsum(xp, subscripts, view, weights, out.reshape(view.shape[:2] + (-1,)) if subscripts == "nrijl,ijl->nrl"
            else out)


def _depthwise_rows(xp: Any, src: Any, wk: Any, tiled: Any, stride: tuple, dilation: tuple, r0: int, r1: int,
                    out: Any) -> None:
    """Output rows ``r0:r1`` of the depthwise convolution of ``src`` into ``out`` (m, r1 - r0, Wo, C)."""
    _depthwise_run(xp, _depthwise_einsum(xp, src, wk, tiled, stride, dilation, r0, r1 - r0, out.shape[2]), out)


def _einsum(xp: Any, subscripts: str, a: Any, b: Any, out: Any) -> None:
    if getattr(xp, "__name__", "") == "numpy":
        xp.einsum(subscripts, a, b, out=out)
    else:  # CuPy's einsum takes no out
        out[...] = xp.einsum(subscripts, a, b)


def _depthwise(xp, src, wk, stride, dilation, size, y, work, take, finish) -> None:
    """Without a stride along W, each output row is one sum of products over the kh*kw views of the input
    rows it reads, each view an (H, W*C) run (a step along W is C values): one einsum per block of rows,
    its loop over Wo*C values with the weights tiled along the row. With a stride along W no view is one
    run, and one einsum over a view of every window does better (see DEPTHWISE_BLOCK_BYTES)."""
    n = src.shape[0]
    ho, wo = size
    c = y.shape[3]
    s0, s1, s2, s3 = src.strides
    acc_all = y if y.dtype == work else take(y.shape, work)
    if not _by_rows(stride[1], s2, s3, c):  # one einsum over a view of every window
        _depthwise_rows(xp, src, wk, None, stride, dilation, 0, ho, acc_all)
        if acc_all is not y:
            y[...] = acc_all
        finish(y, 0)
        return
    tiled = _tiled(xp, wk, wo)
    per_row = wo * c * numpy.dtype(work).itemsize
    images = max(1, min(n, DEPTHWISE_BLOCK_BYTES // max(ho * per_row, 1)))
    rows = ho if images > 1 else max(1, DEPTHWISE_BLOCK_BYTES // max(per_row, 1))
    for b in range(0, n, images):  # the bias and epilogue on each block, in cache
        m = min(images, n - b)
        for r0 in range(0, ho, rows):
            r1 = min(ho, r0 + rows)
            acc = acc_all[b:b + m, r0:r1]
            _depthwise_rows(xp, src[b:b + m], wk, tiled, stride, dilation, r0, r1, acc)
            part = y[b:b + m, r0:r1]
            if acc_all is not y:
                part[...] = acc
            finish(part, b, None if rows == ho else slice(r0, r1))


def separable(x: Any, depthwise: tuple, expand: tuple | None = None, project: tuple | None = None,
              residual: Any = None, out: Any = None, scratch: Callable | None = None, memo: dict | None = None) -> Any:
    """A depthwise convolution with the 1x1 stride-1 convolutions before and after it (a MobileNet inverted
    residual: expand, depthwise, project), done together on blocks of output rows of one image, so the
    expanded channels never leave the cache: for each block, the expand's rows it needs (its halo
    included), their bias and activation, written into a zero-padded block; the depthwise convolution of
    that block (see ``_depthwise_rows``), its bias and activation; then the project, its bias, ``residual``
    and activation, into the output's rows. The blocks are split over threads, each calling BLAS
    single-threaded. On 2 cores at batch 8, ms, this / the three layers one after the other: MobileNetV2's
    16->96->24 at 112 stride 2 9.5 / 12.1, 24->144->24 at 56 6.0 / 8.5, 64->384->64 at 14 1.7 / 2.1.

    ``x`` is (N, Cin, H, W) of any memory layout, float32 or float64; ``depthwise`` is (weight (kh, kw, C)
    as ``prepare`` makes it, bias, activation, stride, dilation, pads ((top, bottom), (left, right))),
    ``expand`` and ``project`` (weight (Cin, C) / (C, O) as ``prepare`` makes it, bias, activation) or
    None; an activation is a function applied in place, or None. Returns (N, O, Ho, Wo) channels-last: a
    transposed view of ``out`` (N, Ho, Wo, O) where given. ``memo``, a dict the caller keeps between calls
    with the same weights (a plan's kernel), keeps what they give (see ``_separable_constants``)."""
    xp = get_array_module(x)
    take = scratch or (lambda shape, dtype: xp.empty(shape, dtype=dtype))
    wk, bd, act_d, stride, dilation, pads = depthwise
    n, cin, h, w = x.shape
    kh, kw, c = wk.shape
    (pt, pb), (pl, pr) = pads
    sh, sw = stride
    dh, dw = dilation
    ho = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    wo = (w + pl + pr - dw * (kw - 1) - 1) // sw + 1
    wp = (wo - 1) * sw + dw * (kw - 1) + 1  # the padded columns the windows read
    cols = max(0, min(w, wp - pl))  # the input's columns among them (a negative pad crops)
    o = c if project is None else project[0].shape[1]
    dtype = x.dtype
    y = xp.empty((n, ho, wo, o), dtype=dtype) if out is None else out
    xn = x.transpose(0, 2, 3, 1)
    if not xn.flags.c_contiguous:
        xn = xp.ascontiguousarray(xn)
    res = None if residual is None else residual.transpose(0, 2, 3, 1)

    def span(rows: int) -> int:  # input rows that ``rows`` output rows read
        return (rows - 1) * sh + dh * (kh - 1) + 1

    per_row = wp * c * dtype.itemsize
    most = max(1, min(ho, (SEPARABLE_BLOCK_BYTES // per_row - dh * (kh - 1) - 1) // sh + 1))
    images, rows, blocks = _separable_blocks(n, ho, most, SEPARABLE_BLOCK_BYTES // (span(ho) * per_row), threads())
    w1 = b1 = act1 = w2 = b2 = act2 = None
    if expand is not None:
        w1, b1, act1 = expand
    if project is not None:
        w2, b2, act2 = project
    # what the weights, biases and sizes give, made once where the caller keeps ``memo`` (a plan's kernel: the
    # same arrays at every call), else per call: 40-80 us a call for MobileNetV2's layers
    key = (wo, cols, dtype.str, stride[1]) + tuple(id(a) for a in (wk, bd, w1, b1, act1, b2))
    made = None if memo is None else memo.get("constants")
    if made is None or made[0] != key:
        made = (key, _separable_constants(xp, wk, bd, w1, b1, act1, b2, wo, cols, sw, dtype),
                (wk, bd, w1, b1, act1, b2))  # (held, so that their ids stay theirs while kept)
        if memo is not None:
            memo["constants"] = made
    direct, w1x, tiled, bd_t, b1_cols, b2_t = made[1]
    w1 = w1x if direct else w1
    k_in = w1.shape[0] if expand is not None else cin

    def part(chunk: slice) -> None:
        padded = take((images, span(rows), wp, c), dtype)
        if direct:  # the expand writes every column of the block's rows; its input, rows of the block's width
            rows_in = take((images, span(rows), wp, k_in), dtype)
            rows_in[...] = 0
            if b1 is not None:
                rows_in[:, :, pl:pl + cols, cin] = 1
        else:
            padded[...] = 0  # the pad columns stay zero: only the input's columns are written below
            e = take((images * span(rows) * w, c), dtype) if expand is not None else None
        acc = take((images, rows, wo, c), dtype) if project is not None else None
        # the views a block works through, made once per shape of block (most blocks share one: a view
        # costs a few us of Python, while the GIL is held and the other thread may wait on it)
        made: dict[tuple, tuple] = {}

        def views(m: int, nr: int, a: int, b: int) -> tuple:
            """For a block of ``m`` images and ``nr`` output rows whose input rows are its rows a:b: (the
            padded block, where the input's columns go, the expand's input and output as matrices, the
            depthwise's einsum, its result or None, that result as rows of Wo*C and as a matrix)."""
            block = padded[:m, :span(nr)]
            into = rows_in[:m, a:b, pl:pl + cols, :cin] if direct else block[:, a:b, pl:pl + cols]
            gemm = (rows_in[:m, :span(nr)].reshape(-1, k_in), block.reshape(-1, c)) if direct else None
            d = None if project is None else acc[:m, :nr]
            flat = None if d is None else (d.reshape(m * nr, wo * c), d.reshape(m * nr * wo, c))
            return block, into, gemm, _depthwise_einsum(xp, block, wk, tiled, stride, dilation, 0, nr, wo), d, flat

        for i0, i1, r0, r1 in blocks[chunk]:
            m, nr = i1 - i0, r1 - r0
            top, k = r0 * sh - pt, span(nr)
            lo, hi = max(top, 0), min(top + k, h)  # the input rows inside the block
            key = (m, nr, lo - top, hi - top)
            if key not in made:
                made[key] = views(*key)
            block, into, gemm, einsum, d, flat = made[key]
            if hi > lo:
                src = xn[i0:i1, lo:hi, :cols]
                if direct:
                    into[...] = src
                    xp.matmul(gemm[0], w1, out=gemm[1])
                    if act1 is not None:
                        act1(block)
                elif expand is not None:
                    q = m * (hi - lo) * w
                    xp.matmul(xn[i0:i1, lo:hi].reshape(q, cin), w1, out=e[:q])
                    rows_e = e[:q].reshape(m, hi - lo, w, c)[:, :, :cols]
                    if b1_cols is not None:  # the bias added on the way into the block: no pass of its own
                        xp.add(rows_e, b1_cols, out=into)
                    else:
                        into[...] = rows_e
                    if act1 is not None:
                        act1(into)
                else:
                    into[...] = src
            if lo > top:  # rows above the input (after the expand: it writes every row of the block)
                block[:, :min(lo, top + k) - top] = 0
            if hi < top + k:  # and below it
                block[:, max(hi, lo) - top:] = 0
            out = y[i0:i1, r0:r1] if d is None else d
            _depthwise_run(xp, einsum, out)
            if bd_t is not None:
                rows_d = out.reshape(m * nr, wo * c) if flat is None else flat[0]
                rows_d += bd_t
            if act_d is not None:
                act_d(out)
            if project is not None:
                yb = y[i0:i1, r0:r1]
                xp.matmul(flat[1], w2, out=yb.reshape(m * nr * wo, o))
                if b2_t is not None:
                    rows_y = yb.reshape(m * nr, wo * o)
                    rows_y += b2_t
                if res is not None:
                    yb += res[i0:i1, r0:r1]
                if act2 is not None:
                    act2(yb)

    over_batch_blas(xp, len(blocks), part)
    return y.transpose(0, 3, 1, 2)


def _separable_blocks(n: int, ho: int, most_rows: int, most_images: int, k: int) -> tuple[int, int, list]:
    """(images, rows, blocks): how ``separable`` cuts ``n`` images of ``ho`` output rows into blocks of at
    most ``most_rows`` rows of one image, or where a whole image fits, of at most ``most_images`` whole
    images, for ``k`` threads; each block (first image, end, first row, end).

    The rows are cut as evenly as they come (56 rows of at most 11: 10 x 5 + 6, not 11 x 5 + 1, a block
    of one row costing about as much Python as one of eleven). Images go several to a block (larger
    matmuls) in a number of blocks every thread gets as many of: 8 images of at most 3 to a block on 2
    threads go 2 to a block, where 3, 3, 2 gave one thread twice the other's work (MobileNetV2's 960
    channels at 7x7, 2 cores: 2.3 ms against 2.9)."""
    rows = -(-ho // -(-ho // max(1, min(ho, most_rows))))
    images = 1
    if rows == ho and n > 0:  # (an empty batch: no blocks)
        images = -(-n // (k * -(-n // (k * max(1, most_images)))))
    return images, rows, [(i, min(n, i + images), r0, min(ho, r0 + rows)) for i in range(0, n, images)
                          for r0 in range(0, ho, rows)]


def _separable_constants(xp: Any, wk: Any, bd: Any, w1: Any, b1: Any, act1: Any, b2: Any, wo: int, cols: int,
                         sw: int, dtype: Any) -> tuple:
    """(direct, the expand's weight with its bias as one more row where direct, the depthwise weights tiled
    along a row (without a stride along W), and the biases tiled along a row: depthwise (Wo*C), expand's
    (cols, C) where not direct, project's (Wo*O)).

    The expand writes its rows straight into the padded block, pad columns and all (``direct``), where its
    activation keeps zero at zero: its input is copied first into rows of the block's width, zero in the pad
    columns, and the bias is one more input column, 1 at the input's columns and 0 in the pad ones, so the
    matmul gives the bias where it belongs and 0 in the padding (two passes over the expanded channels, where
    the matmul's result added to the bias on the way into the block and then activated took three).
    MobileNetV2's 16 -> 96 at 112, a block of 23 rows, one core: 188 us against 216. Not with a weight or bias
    of inf or NaN: the padding would not be zero."""
    c = wk.shape[2]

    def row_bias(bias: Any, length: int) -> Any:
        return None if bias is None else xp.tile(bias.astype(dtype, copy=False), length)

    direct = w1 is not None and (act1 is None or _keeps_zero(xp, act1, dtype)) \
        and bool(xp.isfinite(w1).all()) and (b1 is None or bool(xp.isfinite(b1).all()))
    w1x = w1 if not direct or b1 is None else xp.concatenate([w1, b1.astype(dtype, copy=False).reshape(1, c)])
    b1_cols = None if direct or b1 is None else row_bias(b1, cols).reshape(cols, c)
    return direct, w1x, _tiled(xp, wk, wo) if sw == 1 else None, row_bias(bd, wo), b1_cols, row_bias(b2, wo)


def _keeps_zero(xp: Any, act: Callable, dtype: Any) -> bool:
    """Whether the in-place activation ``act`` leaves 0 at 0 (relu, relu6; not a clamp to [1, 2])."""
    z = xp.zeros(1, dtype=dtype)
    act(z)
    return bool(z[0] == 0)
