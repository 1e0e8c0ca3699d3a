"""Losses (torch.nn.modules.loss)."""

from __future__ import annotations

import math
import warnings

import numpy

from ...errors import CompileError
from ...resources import empty
from ...runtime import functional as F
from ...runtime.functional.loss import legacy_reduction
from ...runtime.meta import is_meta
from ..module import Module
from .distance import PairwiseDistance
from .linear import Linear

__all__ = [
    "L1Loss", "NLLLoss", "NLLLoss2d", "PoissonNLLLoss", "GaussianNLLLoss", "KLDivLoss", "MSELoss", "BCELoss",
    "BCEWithLogitsLoss", "HingeEmbeddingLoss", "MultiLabelMarginLoss", "SmoothL1Loss", "HuberLoss", "SoftMarginLoss",
    "CrossEntropyLoss", "LinearCrossEntropyLoss", "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss",
    "MarginRankingLoss", "MultiMarginLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss", "CTCLoss",
    "LinearCrossEntropyOptions",
]


def weight_buffer(value, name: str):
    """A class weight as torch holds it: an array stays as given; a number or a (nested) list of numbers, as a
    model file writes it, becomes a float32 array of that shape (shape-only under ``shape_only()``)."""
    if value is None:
        return None
    value = F.data_of(value) if hasattr(value, "shape") else value
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return value
    try:
        values = numpy.asarray(value, dtype=numpy.float64)
    except (TypeError, ValueError):
        raise CompileError(f"{name} must be a number or a list of numbers (of equal lengths when nested), got "
                           f"{type(value).__name__}") from None
    buf = empty(values.shape)
    if not is_meta(buf):
        buf[...] = values
    return buf


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            self.reduction = legacy_reduction(size_average, reduce)
        else:
            self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight_buffer(weight, "weight"))


class L1Loss(_Loss):
    """Mean absolute error (torch.nn.L1Loss). Shape: (*), (*) -> () or (*) for reduction='none'."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class NLLLoss(_WeightedLoss):
    """Negative log likelihood of class indices (torch.nn.NLLLoss). Shape: (C) or (N, C, *S), () or (N, *S) -> ()."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class NLLLoss2d(NLLLoss):
    """NLLLoss under its deprecated name (torch.nn.NLLLoss2d). Shape: as NLLLoss."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        warnings.warn("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a drop-in replacement and see "
                      "https://pytorch.org/docs/main/nn.html#torch.nn.NLLLoss for more details.", FutureWarning,
                      stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class PoissonNLLLoss(_Loss):
    """Negative log likelihood of a Poisson target (torch.nn.PoissonNLLLoss). Shape: (*), (*) -> ()."""

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Negative log likelihood of a Gaussian target (torch.nn.GaussianNLLLoss). Shape: (N, *), (N, *), var -> ()."""

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(None, None, reduction)
        self.full = full
        self.eps = eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence of log-probabilities (torch.nn.KLDivLoss). Shape: (*), (*) -> ()."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MSELoss(_Loss):
    """Mean squared error (torch.nn.MSELoss). Shape: (*), (*) -> ()."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross entropy of probabilities (torch.nn.BCELoss). Shape: (*), (*) -> ()."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy of logits, in a stable form (torch.nn.BCEWithLogitsLoss). Shape: (*), (*) -> ()."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight_buffer(weight, "weight"))
        self.register_buffer("pos_weight", weight_buffer(pos_weight, "pos_weight"))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """Hinge loss of a distance and a +-1 target (torch.nn.HingeEmbeddingLoss). Shape: (*), (*) -> ()."""

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-class multi-label hinge loss (torch.nn.MultiLabelMarginLoss). Shape: (C) or (N, C), same -> ()."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Squared error below beta, absolute error above (torch.nn.SmoothL1Loss). Shape: (*), (*) -> ()."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Squared error below delta, delta-scaled absolute error above (torch.nn.HuberLoss). Shape: (*), (*) -> ()."""

    def __init__(self, reduction="mean", delta=1.0):
        if isinstance(delta, bool) or not isinstance(delta, (float, int)):
            raise CompileError(f"delta must be a float or int, got: {type(delta)}")
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss of a +-1 target (torch.nn.SoftMarginLoss). Shape: (*), (*) -> ()."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy of logits and class indices or probabilities (torch.nn.CrossEntropyLoss). Shape: (C) or
    (N, C, *S), and () or (N, *S) indices or the input's shape of probabilities -> ()."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class LinearCrossEntropyLoss(_WeightedLoss):
    """Cross entropy of a linear layer's logits (torch.nn.LinearCrossEntropyLoss). Shape: (in_features) or
    (N, in_features), and () or (N, *out_features) indices or (N, C, *out_features) probabilities -> ()."""

    def __init__(self, in_features, num_classes, *, out_features=(), bias=False, reduction="mean", weight=None,
                 ignore_index=None, label_smoothing=0.0, options=None):
        w = weight_buffer(weight, "weight")
        if w is not None and tuple(w.shape) != (num_classes,):
            raise CompileError(f"expected weight shape to be {(num_classes,)}, got {tuple(w.shape)}")
        if label_smoothing < 0 or label_smoothing > 1.0:
            raise CompileError(f"expected label_smoothing to be in range [0, 1], got {label_smoothing}")
        super().__init__(weight=w, size_average=None, reduce=None, reduction=reduction)
        self.num_classes = num_classes
        self.out_features = out_features
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        self.linear = Linear(in_features, math.prod(out_features, start=num_classes), bias=bias)
        self.options = _options(options)

    def forward(self, input, target):
        linear_weight = self.linear.weight.data.reshape((self.num_classes, *self.out_features, self.linear.in_features))
        linear_bias = (self.linear.bias.data.reshape((self.num_classes, *self.out_features))
                       if self.linear.bias is not None else None)
        return F.linear_cross_entropy(input, linear_weight, target, linear_bias=linear_bias, weight=self.weight,
                                      reduction=self.reduction, ignore_index=self.ignore_index,
                                      label_smoothing=self.label_smoothing, options=self.options)

    def extra_repr(self) -> str:
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, reduction={self.reduction}, "
                f"ignore_index={self.ignore_index}, label_smoothing={self.label_smoothing}, options={self.options}")


class LinearCrossEntropyOptions:
    """torch.nn.LinearCrossEntropyOptions: how LinearCrossEntropyLoss would split its batch into chunks. The loss
    is the same either way; nnspec checks and shows the options as torch does and computes it whole."""

    __slots__ = ("allow_retain_graph", "batch_chunk_size", "chunking_method", "acc_policy", "acc_dtype")
    _DTYPES = ("float16", "bfloat16", "float32", "float64")

    def __init__(self, allow_retain_graph=False, batch_chunk_size=None, chunking_method="auto", acc_policy="auto",
                 acc_dtype=None):
        if acc_policy not in ("auto", "accurate", "balanced", "compact"):
            raise CompileError(f"invalid acc_policy: {acc_policy!r}")
        if chunking_method is not None and chunking_method != "auto":
            name, sep, factor = str(chunking_method).partition(":")
            if not sep:
                factor = "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise CompileError(f"invalid chunking_method: {chunking_method!r}")
        positive = isinstance(batch_chunk_size, int) and not isinstance(batch_chunk_size, bool) and batch_chunk_size > 0
        if not (batch_chunk_size is None or positive):
            raise CompileError(f"batch_chunk_size must be positive int or None, got {batch_chunk_size!r}")
        if acc_dtype is not None:
            acc_dtype = str(acc_dtype).removeprefix("torch.")
            if acc_dtype not in self._DTYPES:
                raise CompileError("acc_dtype must be one of {None, torch.float16, torch.bfloat16, torch.float32, "
                                   f"torch.float64}}, got {acc_dtype!r}. Pass acc_dtype=None to let the op pick "
                                   "automatically.")
        for name, value in zip(self.__slots__, (allow_retain_graph, batch_chunk_size, chunking_method, acc_policy,
                                                acc_dtype)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"cannot assign to field {name!r}")  # frozen, as torch's dataclass

    def __eq__(self, other):
        return type(other) is type(self) and all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __hash__(self):
        return hash(tuple(getattr(self, n) for n in self.__slots__))

    def __repr__(self):
        dtype = "None" if self.acc_dtype is None else f"torch.{self.acc_dtype}"
        return (f"LinearCrossEntropyOptions(allow_retain_graph={self.allow_retain_graph}, "
                f"batch_chunk_size={self.batch_chunk_size}, chunking_method={self.chunking_method!r}, "
                f"acc_policy={self.acc_policy!r}, acc_dtype={dtype})")

    def check(self, num_batches: int, in_features: int, num_classes: int, half: bool) -> None:
        """torch's _adjust at call time: a batch_chunk_size and a chunking_method that give different chunk sizes
        are its ValueError."""
        method = self.chunking_method
        if method == "auto" and self.batch_chunk_size is not None:
            method = None
        if method == "auto":
            method = "aspect_ratio" if half else "aspect_ratio:2"  # torch's CPU picks
        if method is None or self.batch_chunk_size is None:
            return
        factor = int(method.split(":", 1)[1]) if ":" in method else 1
        inc = -(-num_classes // max(in_features, 1))
        target = -(-num_batches // inc)
        size = min((1 << (target - 1).bit_length()) // factor, num_batches)
        if self.batch_chunk_size != size:
            raise CompileError(f"batch_chunk_size (={self.batch_chunk_size}) and chunking_method ('{method}') give "
                               f"different chunk sizes ({self.batch_chunk_size} vs {size}); pass only one.")


def _options(options):
    """LinearCrossEntropyLoss's options: None, nnspec's LinearCrossEntropyOptions, or its fields (a model file's)."""
    if options is None or isinstance(options, LinearCrossEntropyOptions):
        return options
    if hasattr(options, "model_dump"):  # the spec's LinearCrossEntropyOptionsSpec
        options = options.model_dump()
    if isinstance(options, dict):
        return LinearCrossEntropyOptions(**options)
    raise CompileError(f"options must be None or LinearCrossEntropyOptions, got {type(options).__name__}")


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Multi-label one-versus-all logistic loss (torch.nn.MultiLabelSoftMarginLoss). Shape: (N, C), (N, C) -> ()."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """Cosine similarity loss of two inputs and a +-1 target (torch.nn.CosineEmbeddingLoss). Shape: (N, D) or (D)
    twice, (N) or () -> ()."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """Ranking hinge loss of two inputs and a +-1 target (torch.nn.MarginRankingLoss). Shape: (N) or () thrice -> ()."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss of class indices (torch.nn.MultiMarginLoss). Shape: (C) or (N, C), () or (N) -> ()."""

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p != 1 and p != 2:
            raise CompileError("only p == 1 and p == 2 supported")
        if self.weight is not None and self.weight.ndim != 1:
            raise CompileError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got {self.weight.ndim}D "
                               "instead")
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """Triplet loss of p-norm distances (torch.nn.TripletMarginLoss). Shape: (N, D) or (D) thrice -> ()."""

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise CompileError(f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet loss of a distance function, PairwiseDistance by default (torch.nn.TripletMarginWithDistanceLoss).
    Shape: (N, *) or (*) thrice -> ()."""

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(size_average=None, reduce=None, reduction=reduction)
        if margin <= 0:
            raise CompileError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} "
                               "instead")
        self.distance_function = distance_function if distance_function is not None else PairwiseDistance()
        self.margin = margin
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=self.distance_function,
                                                   margin=self.margin, swap=self.swap, reduction=self.reduction)


class CTCLoss(_Loss):
    """Connectionist temporal classification loss (torch.nn.CTCLoss). Shape: (T, N, C) or (T, C) log-probabilities,
    (N, S) or (sum of target_lengths) targets, (N) or () lengths each -> ()."""

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                          self.zero_infinity)
