"""The kernels a plan's passes put in place of layer calls: convolution and linear with BatchNorm folded
in and the activation applied in place, writing into arrays the plan reuses."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy

from ..runtime import functional as F
from ..runtime.backend import get_array_module
from ..runtime.kernels import conv as _conv
from ..runtime.kernels import conv_nhwc as _nhwc
from ..runtime.kernels import linear as _linear
from ..runtime.kernels import pool as _pool
from ..runtime.kernels.parallel import (
    MIN_ELEMENTS,
    over_batch,
    over_batch_blas,
    single_threaded_blas,
)
from ..runtime.kernels.window import empty_as
from ..runtime.kernels.window import pad as _pad


class Pool:
    """Memory a plan hands out again once nothing refers to it.

    The pool keeps raw byte buffers, smallest first; ``take`` gives a view of the smallest free one
    large enough, whatever the shape and dtype asked. A buffer is free when its only references are
    the pool's own: CPython counts every other one exactly (a slot still live, a view of it, anything
    that kept it), so reuse can never overwrite a value someone holds. Buffers are kept across runs,
    so after the first run a plan allocates nothing for its kernels, and what it holds is about the
    largest set of arrays live at once. Each thread takes from buffers of its own: the working arrays
    of a kernel that splits its batch over threads are then taken in the same order at every run, where
    with shared buffers the threads' interleaving could leave a larger buffer held for a smaller array
    and make a later run allocate again.
    """

    def __init__(self, xp: Any):
        self.xp = xp
        self.by_thread: dict[int, list[Any]] = {}  # thread -> raw uint8 arrays, by size
        self.lock = threading.Lock()  # two threads running one plan never take the same buffer

    def take(self, shape: tuple, dtype: Any) -> Any:
        dtype = self.xp.dtype(dtype)
        need = dtype.itemsize
        for s in shape:
            need *= s
        with self.lock:
            buffers = self.by_thread.setdefault(threading.get_ident(), [])
            for buf in buffers:
                if buf.nbytes >= need and sys.getrefcount(buf) <= _FREE:
                    break
            else:
                buf = self.xp.empty(max(need, 1), dtype=self.xp.uint8)
                buffers.append(buf)
                buffers.sort(key=lambda b: b.nbytes)
            return buf[:need].view(dtype).reshape(shape)  # the view holds the buffer before the lock opens

    @property
    def buffers(self) -> list[Any]:
        return [b for buffers in self.by_thread.values() for b in buffers]

    @property
    def nbytes(self) -> int:
        return sum(int(b.nbytes) for b in self.buffers)


def _free_refcount() -> int:
    """The reference count ``Pool.take`` sees for an array only the pool holds."""
    kept = [object()]
    for a in kept:
        return sys.getrefcount(a)
    return 0


_FREE = _free_refcount()


def _clip_ufunc(xp: Any) -> Any:
    """NumPy's clip ufunc, which ``numpy.clip`` reaches through three Python calls (5 us a call), or None
    (another array module, or a NumPy without it: ``clip`` is then called)."""
    ufunc = getattr(getattr(getattr(xp, "_core", None), "umath", None), "clip", None)
    return ufunc if isinstance(ufunc, numpy.ufunc) else None


class Activation:
    """An elementwise activation applied in place: relu, a clamp (relu6, hardtanh: to [low, high]), or
    tanh (named so, no bounds; float16 computed in float32, as the Tanh layer's kernel does)."""

    def __init__(self, name: str, low: float | None = 0.0, high: float | None = None):
        self.name, self.low, self.high = name, low, high
        self._ways: dict[Any, Callable[[Any], Any]] = {}  # per (array type, dtype): how to apply it

    def __call__(self, y: Any) -> Any:
        # a fused kernel calls this once per block of rows (MobileNetV2: about 600 times a forward): the
        # ufunc and bounds are found once per array type and dtype, a call then costs 0.6 us, not 6
        way = self._ways.get((type(y), y.dtype))
        if way is None:
            way = self._ways[(type(y), y.dtype)] = self._way(get_array_module(y), y.dtype)
        return way(y)

    def __getstate__(self) -> dict:  # (the ways are closures: made again where it is unpickled)
        return {**self.__dict__, "_ways": {}}

    def _way(self, xp: Any, dtype: Any) -> Callable[[Any], Any]:
        if self.name == "tanh":
            if dtype == xp.float16:
                def tanh16(y: Any) -> Any:
                    y[...] = xp.tanh(y.astype(xp.float32))
                    return y
                return tanh16
            return lambda y: xp.tanh(y, out=y)
        low, high = dtype.type(self.low), self.high
        if high is None and dtype.kind != "f":
            return lambda y: xp.maximum(y, low, out=y)
        # clip to [low, high or inf]: NumPy's clip has a SIMD loop, maximum by a scalar none (2.7x faster on
        # 38 MB); NaN stays NaN
        high = dtype.type(float("inf") if high is None else high)
        clip = _clip_ufunc(xp)
        if clip is not None:
            return lambda y: clip(y, low, high, out=y)
        return lambda y: xp.clip(y, low, high, out=y)

    def __repr__(self) -> str:
        return self.name


class Fused:
    """What a fused kernel shares: the layer it replaces, its folded parameters, its activation and
    where its output goes."""

    op = ""

    def __init__(self, module: Any, folded: tuple | None = None, act: Activation | None = None):
        self.module = module
        self.folded = folded  # (weight, bias) with BatchNorm folded in, or None: the layer's own, read per call
        self.act = act
        self.pool: Pool | None = None  # set by the memory pass
        self.fresh = True  # the output must be a new array (it leaves the plan)
        self.residual = False  # adds its second input (fuse_residual)
        self.weight, self.bias = module._parameters["weight"], module._parameters.get("bias")

    def params(self) -> tuple:
        """The folded weight and bias, or the layer's own as they are now."""
        if self.folded is not None:
            return self.folded
        return self.weight.data, None if self.bias is None else self.bias.data

    def out(self, shape: tuple, dtype: Any) -> Any:
        return None if self.pool is None or self.fresh else self.pool.take(shape, dtype)

    def describe(self) -> str:
        parts = [self.op] + (["BatchNorm folded"] if self.folded is not None else []) \
            + (["residual add"] if self.residual else []) + ([repr(self.act)] if self.act else [])
        return " + ".join(parts)


class FusedConv(Fused):
    """Conv1d/2d/3d (zero, reflect, replicate or circular padding), with BatchNorm and activation.

    ``method`` (set by the channels_last and winograd passes, for a batched Conv2d) is one of
    ``conv_nhwc.METHODS``: the output is then channels-last, computed by that method from the weight as
    it prepares it once (see ``prepared``); None runs the NCHW kernels of ``runtime.kernels.conv``."""

    op = "conv"

    def __init__(self, module: Any, folded: tuple | None = None, act: Activation | None = None):
        super().__init__(module, folded, act)
        self.method: str | None = None
        self.size: tuple | None = None  # the output's spatial sizes, as compiled (for choosing a method)
        self._prepared: tuple = (None, None, None)  # (the weight it was made from, method, prepared weight)
        self.shape: tuple = tuple(self.weight.shape)  # the weight's (O, C/groups, *k)
        m = module
        self.nd = len(m.kernel_size)
        self.stride, self.dilation, self.groups = tuple(m.stride), tuple(m.dilation), m.groups  # as compiled
        if m.padding_mode == "zeros":
            self.pads = F.conv_padding(m.padding, m.kernel_size, m.stride, m.dilation)
            self.mode = "constant"
        else:
            rev = m._reversed_padding_repeated_twice
            self.pads = [(rev[2 * i], rev[2 * i + 1]) for i in reversed(range(self.nd))]
            self.mode = m.padding_mode

    def __call__(self, x: Any, residual: Any = None) -> Any:
        """The convolution of ``x``, plus ``residual`` (``out += identity``) where given, then the activation:
        both applied to each part of the output as soon as it is written, while it is in cache."""
        w, b = self.params()
        unbatched = x.ndim == self.nd + 1
        if unbatched:
            x = x[None]
            residual = None if residual is None else residual[None]
        act = self.act

        def epilogue(part: Any, index: Any) -> None:  # index: where part is in the output (see conv_nhwc.conv2d)
            if residual is not None:
                part += residual[index]
            if act is not None:
                act(part)
        if self.method is not None and not unbatched:
            return self._channels_last(x, w, b, epilogue if residual is not None or act is not None else None)
        if any(p for pair in self.pads for p in pair):
            x = self._padded(x)
        size = tuple((x.shape[2 + i] - self.dilation[i] * (w.shape[2 + i] - 1) - 1) // self.stride[i] + 1
                     for i in range(self.nd))
        n = x.shape[0]
        out = self.out((n, w.shape[0]) + size, x.dtype)
        if out is None:
            out = get_array_module(x).empty((n, w.shape[0]) + size, dtype=x.dtype)
        scratch = None if self.pool is None else self.pool.take
        tail = epilogue if residual is not None or act is not None else None

        def part(batch: slice) -> None:
            shifted = None if tail is None else \
                (lambda y, b: tail(y, slice(batch.start + b.start, batch.start + b.stop)))
            _conv.conv(x[batch], w, b, self.stride, self.dilation, self.groups, out=out[batch], scratch=scratch,
                       epilogue=shifted)

        if single_threaded_blas.active:  # a plan that splits its work itself (see plan._own_threads)
            over_batch(get_array_module(x), n, MIN_ELEMENTS, part)
        else:
            part(slice(0, n))
        return out[0] if unbatched else out

    def prepare_weights(self) -> None:
        """Make the weight its method multiplies (at compile, so the first run is not slower)."""
        if self.method:
            self.prepared(self.params()[0])

    def stage(self) -> tuple:
        """(prepared weight, bias, activation): what ``conv_nhwc.separable`` takes of a channels-last layer."""
        w, b = self.params()
        return self.prepared(w), b, self.act

    def prepared(self, w: Any) -> Any:
        """The weight as ``method`` multiplies it, made at the first call and kept while the layer's weight is
        the same array (a plan reads the layer's weights as they are when it was compiled; see
        ``Plan.refresh``). A folded weight is dropped once prepared: the plan keeps one form of it."""
        made_from, method, prepared = self._prepared
        if w is None:  # folded, and prepared already
            return prepared
        if made_from is not w or method != self.method:
            prepared = _nhwc.prepare(w, self.method)
            self._prepared = (None if self.folded is not None else w, self.method, prepared)
            self.shape = tuple(w.shape)
            if self.folded is not None:
                self.folded = (None, self.folded[1])
        return prepared

    def _channels_last(self, x: Any, w: Any, b: Any, epilogue: Any) -> Any:
        prepared = self.prepared(w)
        w = self.shape  # (O, C, kh, kw)
        pads = tuple(self.pads)
        if self.mode != "constant":  # reflect, replicate, circular: padded first
            x, pads = _pad(x, self.pads, self.mode), ((0, 0), (0, 0))
        kernel = tuple(w[2:])
        size = tuple((x.shape[2 + i] + sum(pads[i]) - self.dilation[i] * (kernel[i] - 1) - 1) // self.stride[i] + 1
                     for i in range(2))
        out = self.out((x.shape[0],) + size + (w[0],), x.dtype)
        return _nhwc.conv2d(x, prepared, self.method, b, kernel, self.stride, self.dilation, pads, out=out,
                            scratch=None if self.pool is None else self.pool.take, epilogue=epilogue)

    def _padded(self, x: Any) -> Any:
        if self.mode != "constant" or self.pool is None:
            return _pad(x, self.pads, self.mode)
        shape = x.shape[:2] + tuple(s + a + b for s, (a, b) in zip(x.shape[2:], self.pads))
        buf = self.pool.take(shape, x.dtype)
        for d, (a, b) in enumerate(self.pads):  # zero the borders only, then copy the inside
            lead = (slice(None),) * (2 + d)
            if a:
                buf[lead + (slice(0, a),)] = 0
            if b:
                buf[lead + (slice(shape[2 + d] - b, None),)] = 0
        buf[(slice(None), slice(None)) + tuple(slice(a, a + s) for s, (a, _) in zip(x.shape[2:], self.pads))] = x
        return buf


class FusedSeparable(Fused):
    """A channels-last depthwise convolution with the 1x1 convolutions around it, each with its BatchNorm
    and activation, run together by ``conv_nhwc.separable`` (the fuse_separable pass): ``expand`` or
    ``project`` may be None, and the project may add a residual (fuse_residual's)."""

    op = "separable"
    method = "separable"

    def __init__(self, expand: FusedConv | None, depthwise: FusedConv, project: FusedConv | None):
        super().__init__(depthwise.module)
        self.stages = (expand, depthwise, project)
        self.residual = project is not None and project.residual
        self.memo: dict = {}  # what conv_nhwc.separable derives from the weights, made at the first call

    def prepare_weights(self) -> None:
        for k in self.stages:
            if k is not None:
                k.prepare_weights()

    def __call__(self, x: Any, residual: Any = None) -> Any:
        expand, dw, project = self.stages
        wk, bias, act = dw.stage()
        o = dw.shape[0] if project is None else project.shape[0]
        out = self.out((x.shape[0],) + tuple(dw.size) + (o,), x.dtype)
        return _nhwc.separable(
            x, (wk, bias, act, dw.stride, dw.dilation, tuple(dw.pads)),
            expand=None if expand is None else expand.stage(), project=None if project is None else project.stage(),
            residual=residual, out=out, scratch=None if self.pool is None else self.pool.take, memo=self.memo)


class FusedConvPool(Fused):
    """A channels-last convolution and the max pool that alone reads its output (a ResNet's stem), one image
    at a time: each image's convolution output is pooled into the result while it is in cache, and the
    whole batch's is never made (25 MB of ResNet-18's peak at batch 8). ``pool_args`` are max_pool's
    (kernel, stride, padding, dilation, ceil_mode)."""

    op = "conv+max_pool"

    def __init__(self, conv: FusedConv, pool_args: tuple):
        super().__init__(conv.module)
        self.conv, self.pool_args = conv, pool_args
        self.method = conv.method

    def prepare_weights(self) -> None:
        self.conv.prepare_weights()

    def __call__(self, x: Any) -> Any:
        conv = self.conv
        conv.pool, conv.fresh = self.pool, self.pool is None  # its output per image: a working array
        k, s, p, d, ceil = self.pool_args
        size = tuple(_pool.pool_out_size(conv.size[i], k[i], s[i], p[i], d[i], ceil) for i in range(2))
        n, c = x.shape[0], conv.shape[0]
        out = self.out((n,) + size + (c,), x.dtype)
        y = (get_array_module(x).empty((n,) + size + (c,), dtype=x.dtype) if out is None else out).transpose(0, 3, 1, 2)

        def part(batch: slice) -> None:
            for i in range(batch.start, batch.stop):
                y[i:i + 1] = _pool.max_pool(conv(x[i:i + 1]), k, s, p, d, ceil, False)

        over_batch_blas(get_array_module(x), n, part)
        return y


class FusedLinear(Fused):
    """Linear, with BatchNorm1d (on a 2-d output) and activation."""

    op = "linear"

    def __call__(self, x: Any) -> Any:
        w, b = self.params()
        out = self.out(x.shape[:-1] + (w.shape[0],), x.dtype) if x.ndim >= 1 else None
        y = _linear.linear(x, w, b, out=out)
        if self.act is not None:
            self.act(y)
        return y


class EvalBatchNorm:
    """BatchNorm in eval mode with running statistics, float32 or float64: x * scale + shift per
    channel (scale and shift from the layer's current statistics, as the layer computes them), into a
    buffer of the plan's pool, the batch split over threads."""

    def __init__(self, module: Any):
        self.module = module
        self.pool: Pool | None = None
        self.fresh = True

    def __call__(self, x: Any) -> Any:
        m = self.module
        xp = get_array_module(x)
        inv = 1 / xp.sqrt(m.running_var + x.dtype.type(m.eps))
        scale = inv if m.weight is None else inv * m.weight.data
        shift = -m.running_mean * scale if m.bias is None else m.bias.data - m.running_mean * scale
        shape = (1, -1) + (1,) * (x.ndim - 2)
        scale, shift = scale.reshape(shape), shift.reshape(shape)
        take = None if self.pool is None or self.fresh else self.pool.take
        y = empty_as(x, x.shape, x.dtype, take)  # in the input's layout (channels-last stays so)

        def part(b: slice) -> None:
            xp.multiply(x[b], scale, out=y[b])
            y[b] += shift

        over_batch(xp, x.shape[0], x.size, part)
        return y


def folded_params(weight: Any, bias: Any, bn: Any) -> tuple:
    """The weight and bias of a conv or linear layer followed by ``bn`` in eval mode, as one layer:
    W' = W * gamma / sqrt(var + eps) per output channel, b' = (b - mean) * gamma / sqrt(var + eps) + beta.
    The per-channel factors are computed in float64; the weight is scaled once in its own dtype
    (float32 for float16), one rounding per element."""
    xp = get_array_module(weight)
    f64 = xp.float64
    scale = 1.0 / xp.sqrt(bn.running_var.astype(f64) + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight.data.astype(f64)
    b = -bn.running_mean.astype(f64) if bias is None else bias.astype(f64) - bn.running_mean.astype(f64)
    b = b * scale
    if bn.bias is not None:
        b = b + bn.bias.data.astype(f64)
    work = xp.float32 if weight.dtype == xp.float16 else weight.dtype
    w = weight.astype(work) * scale.astype(work).reshape((-1,) + (1,) * (weight.ndim - 1))
    return xp.ascontiguousarray(w.astype(weight.dtype, copy=False)), b.astype(weight.dtype)
