"""Resampling along the trailing spatial dims, one dim at a time, as torch's upsample kernels.

Source coordinates are computed on the host in float32, as torch's CPU kernels do,
so nearest-neighbour picks land on the same pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy

from ..backend import get_array_module

f32 = numpy.float32


def _scale(in_size: int, out_size: int, align_corners: bool, scale: float | None) -> numpy.float32:
    """torch's area_pixel_compute_scale."""
    if align_corners:
        return f32((in_size - 1) / (out_size - 1)) if out_size > 1 else f32(0)
    return f32(1.0 / scale) if scale is not None and scale > 0 else f32(in_size) / f32(out_size)


def _source(out_size: int, scale: numpy.float32, align_corners: bool, cubic: bool) -> numpy.ndarray:
    """torch's area_pixel_compute_source_index, for every output index."""
    dst = numpy.arange(out_size, dtype=f32)
    if align_corners:
        return scale * dst
    src = scale * (dst + f32(0.5)) - f32(0.5)
    return src if cubic else numpy.maximum(src, f32(0))


def _nearest_index(in_size: int, out_size: int, scale: float | None, exact: bool, shortcut: bool) -> numpy.ndarray:
    """torch's nearest_idx. Its 2-d kernel maps an unchanged or doubled size directly, whatever the
    scale_factor (1.09 on 6 keeps 0..5, not floor(i/1.09)); the 1-d and 3-d kernels, and
    nearest-exact, always use the scale (checked against torch 2.13's CPU kernels)."""
    if shortcut and not exact and out_size in (in_size, 2 * in_size):
        return numpy.arange(out_size) // (out_size // in_size)
    s = f32(1.0 / scale) if scale is not None and scale > 0 else f32(in_size) / f32(out_size)
    dst = numpy.arange(out_size, dtype=f32)
    src = numpy.floor((dst + f32(0.5)) * s) if exact else numpy.floor(dst * s)
    return numpy.minimum(src.astype(numpy.int64), in_size - 1)


def _cubic_weights(t: numpy.ndarray, a: float = -0.75) -> list[numpy.ndarray]:
    """Keys' cubic convolution weights for the taps at -1, 0, 1, 2 (torch uses A = -0.75)."""
    def near(d):  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def interpolate(x, out_size: Sequence[int], scales: Sequence[float | None], mode: str, align_corners: bool):
    """Resize (N, C, *S) to (N, C, *out_size); modes: nearest, nearest-exact, linear family, bicubic."""
    xp = get_array_module(x)
    nd = len(out_size)
    for i in range(nd):
        axis = x.ndim - nd + i
        n_in, n_out = x.shape[axis], out_size[i]
        bshape = (-1,) + (1,) * (nd - 1 - i)
        if mode in ("nearest", "nearest-exact"):
            idx = _nearest_index(n_in, n_out, scales[i], mode == "nearest-exact", shortcut=nd == 2)
            x = xp.take(x, xp.asarray(idx), axis=axis)
            continue
        cubic = mode == "bicubic"
        if not cubic and n_in == n_out:
            continue  # torch's linear kernels copy a dim whose size is unchanged, whatever the scale_factor
        src = _source(n_out, _scale(n_in, n_out, align_corners, scales[i]), align_corners, cubic)
        i0 = numpy.floor(src).astype(numpy.int64)
        t = (src - i0).astype(f32)
        if cubic:
            taps = [numpy.clip(i0 + k, 0, n_in - 1) for k in (-1, 0, 1, 2)]
            weights = _cubic_weights(t)
        else:
            taps = [i0, numpy.minimum(i0 + 1, n_in - 1)]
            weights = [f32(1) - t, t]
        acc = None
        for tap, w in zip(taps, weights):
            term = xp.take(x, xp.asarray(tap), axis=axis) * xp.asarray(w.reshape(bshape), dtype=x.dtype)
            acc = term if acc is None else acc + term
        x = acc
    return x
