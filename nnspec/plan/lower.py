"""Layers as their kernels: a layer's step calls the kernel its forward would reach, with the
arguments normalised and checked once, when the plan was compiled for this input signature.
A lowered step reads the layer's hyperparameters when it is compiled (a plan is for one signature)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from ..runtime import functional as F
from ..runtime.kernels import activation, pool
from .kernels import EvalBatchNorm, FusedConv, FusedLinear
from .record import Step


def _batched(kernel: Callable[[Any], Any], nd: int, ndim: int) -> Callable[[Any], Any]:
    """``kernel`` on a batched input; an unbatched one (its ndim known now) gets its batch dim and back."""
    if ndim == nd + 2:
        return kernel
    return lambda x: kernel(x[None])[0]


def lower(step: Step, input_ndim: int, dtype: Any = None) -> Callable[[Any], Any] | None:
    """The kernel for a layer's step on an input of ``input_ndim`` dims and ``dtype``, or None to keep
    its forward."""
    m, kind = step.module, step.kind
    if m is None or step.kwargs or len(step.args) != 1 or getattr(dtype, "kind", "f") != "f":
        return None  # integer or bool input keeps the layer's own conversions
    if kind in ("Conv1d", "Conv2d", "Conv3d"):
        return FusedConv(m)
    if kind == "Linear":
        return FusedLinear(m)
    if kind.startswith("BatchNorm") and not m.training and m.running_mean is not None \
            and str(dtype) in ("float32", "float64"):  # float16 keeps the layer's own float32 arithmetic
        return EvalBatchNorm(m)
    if kind == "Tanh":
        return activation.tanh
    if kind == "Sigmoid":
        return activation.sigmoid
    if kind == "ReLU":
        return partial(activation.relu, inplace=m.inplace)
    if kind == "ReLU6":
        return partial(activation.hardtanh, min_val=0.0, max_val=6.0, inplace=m.inplace)
    if kind in ("MaxPool1d", "MaxPool2d", "MaxPool3d") and not m.return_indices:
        nd = int(kind[-2])
        k, s, p, d = F.pool_args(m.kernel_size, m.stride, m.padding, m.dilation, nd)
        ceil = m.ceil_mode
        return _batched(lambda x: pool.max_pool(x, k, s, p, d, ceil, False), nd, input_ndim)
    if kind in ("AvgPool1d", "AvgPool2d", "AvgPool3d"):
        nd = int(kind[-2])
        k, s, p, _ = F.pool_args(m.kernel_size, m.stride, m.padding, 1, nd)
        ceil, include, div = m.ceil_mode, m.count_include_pad, getattr(m, "divisor_override", None)
        return _batched(lambda x: pool.avg_pool(x, k, s, p, ceil, include, div), nd, input_ndim)
    if kind in ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d"):
        nd = int(kind[-2])
        out = m.output_size
        return _batched(lambda x: pool.adaptive_avg_pool(x, F.adaptive_out(x.shape, out, nd)), nd, input_ndim)
    return None
