"""Strict Pydantic specs for every module a model file can describe.

A layer's spec is made from its nnspec.nn class: field names, order and
defaults come from the constructor (which mirrors torch's), and the types and
bounds are declared here. Specs are frozen, forbid unknown keys, and are tagged
by ``type`` so a model file validates as one discriminated union.
"""

from __future__ import annotations

import inspect
import keyword
import re
from typing import Annotated, Any, ClassVar, Literal, NamedTuple, Optional, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    Tag,
    WithJsonSchema,
    create_model,
    model_validator,
)
from pydantic.fields import FieldInfo

from .. import nn
from ..errors import CONTROL_CHARS

MAX_REPEAT = 10_000


def _not_nan(v: float) -> float:
    """For the floats that may be infinite (a norm's order) but never NaN."""
    if v != v:
        raise ValueError("must be a number, not NaN")
    return v


def _nonzero(v: int) -> int:
    if v == 0:
        raise ValueError("must not be zero")
    return v


# an int stays an int, as in a torch call: LeakyReLU(1) shows negative_slope=1
Float = Union[StrictInt, Annotated[StrictFloat, Field(allow_inf_nan=False)]]
Pos = Annotated[StrictInt, Field(gt=0)]
NonNeg = Annotated[StrictInt, Field(ge=0)]
Prob = Annotated[Float, Field(ge=0, le=1)]


# A registry name (module, parameter, buffer): torch refuses "" and "." (it joins the names of a state_dict key).
# Control characters and bidi controls are refused too: no torch code could be written with such a name (a module
# "conv\x1b]0;title\x07"), and printed in a tree or a table it would retitle the terminal or reverse the text.
NAME_PATTERN = rf"^[^.\t\n{CONTROL_CHARS}]+$"
_NOT_IN_NAME = re.compile(rf"[.\t\n{CONTROL_CHARS}]")
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _shown(value: str, limit: int = 60) -> str:
    """repr of a name, cut so one hostile name cannot flood the message (repr escapes what a terminal must not get)."""
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."


def _name(v: str) -> str:
    bad = _NOT_IN_NAME.search(v)
    if bad is None:
        return v
    c = bad.group()
    if c == ".":
        raise ValueError(f"a name can't hold '.' (it joins the names of a state_dict key), got {_shown(v)}")
    what = "bidi control" if c in _BIDI else "control character"
    raise ValueError(f"a name can't hold the {what} {c!r} (no torch code could name it), got {_shown(v)}")


def _share_path(v: str) -> str:
    if "" in v.split("."):
        raise ValueError(f"a share path is module names joined by '.', got {_shown(v)}")
    for part in v.split("."):
        _name(part)
    return v


# checked by _name for a clear message; the schema says the same with the pattern, for editors
Name = Annotated[str, StringConstraints(min_length=1), AfterValidator(_name),
                 WithJsonSchema({"type": "string", "minLength": 1, "pattern": NAME_PATTERN})]
ClassName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
# a plain Python attribute of a user-defined module (torch's ``self.use_res_connect = ...``): a constant
Scalar = Union[StrictBool, StrictInt, Annotated[StrictFloat, Field(allow_inf_nan=False)],
               Annotated[str, StringConstraints(max_length=1000)], None]
Constant = Union[Scalar, Annotated[list[Scalar], Field(max_length=64)]]
# a forward's text (torch code, pasted), its input names where it has no `def forward(self, ...)` line, and the
# constants it reads: a user-defined module's, and those of a layer or container written as a subclass
ForwardText = Union[Annotated[str, StringConstraints(max_length=1_000_000)], None]
InputNames = Union[list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]], None]
Attributes = dict[Identifier, Constant]
# the keys that make a layer or container a subclass of it, as torch code writes one: `class LayerNorm2d(nn.LayerNorm)`
# with a forward of its own (or a name only: torchvision's `class _Transition(nn.Sequential)`)
SUBCLASS_KEYS = ("name", "forward", "inputs", "attributes")


class Subclass(NamedTuple):
    """A layer or container as a model file subclasses it: its class name (the base's when not renamed), its
    forward (None: the base's), the forward's input names, and the constants it reads (``self.dims``)."""

    name: str
    forward: str | None
    inputs: list[str] | None
    attributes: dict[str, Any]


def _size(n: int, item: Any) -> Any:
    """An int or a list of n of them, as torch's _size_n_t."""
    return Union[item, tuple[(item,) * n]]


def _size_opt(n: int) -> Any:
    """For adaptive pools: an int, None, or a list of n ints or Nones."""
    item = Union[NonNeg, None]
    return Union[NonNeg, None, tuple[(item,) * n]]


class Spec(BaseModel):
    """Base of every spec: strict keys, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on use: see the module's end


class LayerSpec(Spec):
    """A torch.nn layer: ``type`` plus the constructor's arguments, and the subclass keys (SUBCLASS_KEYS)."""

    layer: ClassVar[type]  # the nnspec.nn class it builds
    positional: ClassVar[tuple[str, ...]]  # argument names in torch's positional order
    module_fields: ClassVar[tuple[str, ...]] = ()  # arguments that are modules, built first (ModuleArg)
    # the subclass keys it takes: all of them, but one that is also a torch argument's name stays the argument
    subclass_keys: ClassVar[tuple[str, ...]] = ()

    def kwargs(self) -> dict[str, Any]:
        return {f.alias or k: getattr(self, k) for k, f in type(self).model_fields.items()
                if k != "type" and k not in self.subclass_keys}

    def subclass(self) -> Subclass:
        keys = self.subclass_keys
        return Subclass(self.name if "name" in keys else self.layer.__name__,
                        self.forward if "forward" in keys else None,
                        self.inputs if "inputs" in keys else None,
                        self.attributes if "attributes" in keys else {})

    @model_validator(mode="after")
    def _subclass_keys(self):
        arguments = {f.alias or k for k, f in type(self).model_fields.items()
                     if k != "type" and k not in self.subclass_keys}
        _check_subclass(self.subclass(), self.layer.__name__, arguments)
        return self


# a constructor argument that is itself a module (TransformerEncoder's encoder_layer), written as a nested module:
# the builder builds it first and passes the module; a forward reference to ModuleSpec, resolved by model_rebuild
ModuleArg = "ModuleSpec"
OptionalModuleArg = Optional["ModuleSpec"]


def layer_spec(cls: type, **types: Any) -> type[LayerSpec]:
    """The spec of ``cls``: one field per constructor argument, typed by ``types``, defaulted by ``cls``."""
    fields: dict[str, Any] = {"type": (Literal[cls.__name__], ...)}
    positional = []
    module_fields = []
    for name, param in list(inspect.signature(cls.__init__).parameters.items())[1:]:
        if name not in types:
            raise TypeError(f"{cls.__name__}Spec: no type given for argument {name!r}")
        default = ... if param.default is inspect.Parameter.empty else param.default
        key = name.lstrip("_")  # pydantic keeps no field named with a leading _: torch's _random_samples is the
        # field random_samples, written _random_samples (its alias), by keyword only
        kind = types.pop(name)
        if kind == ModuleArg or kind == OptionalModuleArg:
            module_fields.append(key)
        fields[key] = (kind, default if key == name else Field(default, alias=name))
        if param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and key == name:
            positional.append(name)
    if types:
        raise TypeError(f"{cls.__name__}Spec: {sorted(types)} are not arguments of {cls.__name__}")
    taken = {f.alias if isinstance(f, FieldInfo) and f.alias else k for k, (_, f) in fields.items()}
    subclass_keys = tuple(k for k in SUBCLASS_KEYS if k not in taken)  # a torch argument keeps its own name
    subclass_fields = {"name": (ClassName, cls.__name__), "forward": (ForwardText, None),
                       "inputs": (InputNames, None), "attributes": (Attributes, Field(default_factory=dict))}
    fields.update((k, subclass_fields[k]) for k in subclass_keys)
    spec = create_model(f"{cls.__name__}Spec", __base__=LayerSpec, __doc__=f"Spec of {cls.__name__}.", **fields)
    spec.layer = cls
    spec.positional = tuple(positional)
    spec.module_fields = tuple(module_fields)
    spec.subclass_keys = subclass_keys
    return spec


PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]


def _conv(cls: type, n: int, transposed: bool = False) -> type[LayerSpec]:
    padding = _size(n, NonNeg) if transposed else Union[Literal["same", "valid"], _size(n, NonNeg)]
    extra = {"output_padding": _size(n, NonNeg)} if transposed else {}
    return layer_spec(
        cls, in_channels=Pos, out_channels=Pos, kernel_size=_size(n, Pos), stride=_size(n, Pos), padding=padding,
        dilation=_size(n, Pos), groups=Pos, bias=StrictBool, padding_mode=PaddingMode, **extra,
    )


def _max_pool(cls: type, n: int) -> type[LayerSpec]:
    return layer_spec(cls, kernel_size=_size(n, Pos), stride=Union[_size(n, Pos), None], padding=_size(n, NonNeg),
                      dilation=_size(n, Pos), return_indices=StrictBool, ceil_mode=StrictBool)


def _upsampling(cls: type) -> dict[str, Any]:
    return dict(size=Union[Pos, tuple[Pos, Pos], None], scale_factor=Union[Float, tuple[Float, Float], None])


InterpolateMode = Literal["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"]
_bn = dict(num_features=Pos, eps=Float, momentum=Union[Float, None], affine=StrictBool,
           track_running_stats=StrictBool, bias=StrictBool)

# The specs, one list per family of layers (the same families as nnspec/nn/layers/), so each grows on its own
CORE_SPECS: list[type[LayerSpec]] = [
    _conv(nn.Conv1d, 1),
    _conv(nn.Conv2d, 2),
    _conv(nn.ConvTranspose1d, 1, transposed=True),
    _max_pool(nn.MaxPool1d, 1),
    _max_pool(nn.MaxPool2d, 2),
    layer_spec(nn.AvgPool1d, kernel_size=_size(1, Pos), stride=Union[_size(1, Pos), None],
               padding=_size(1, NonNeg), ceil_mode=StrictBool, count_include_pad=StrictBool),
    layer_spec(nn.AvgPool2d, kernel_size=_size(2, Pos), stride=Union[_size(2, Pos), None],
               padding=_size(2, NonNeg), ceil_mode=StrictBool, count_include_pad=StrictBool,
               divisor_override=Union[Annotated[StrictInt, AfterValidator(_nonzero)], None]),
    layer_spec(nn.AdaptiveAvgPool1d, output_size=_size_opt(1)),
    layer_spec(nn.AdaptiveAvgPool2d, output_size=_size_opt(2)),
    layer_spec(nn.Linear, in_features=NonNeg, out_features=NonNeg, bias=StrictBool),
    layer_spec(nn.Bilinear, in1_features=Pos, in2_features=Pos, out_features=NonNeg, bias=StrictBool),
    layer_spec(nn.Dropout, p=Prob, inplace=StrictBool),
    layer_spec(nn.Dropout2d, p=Prob, inplace=StrictBool),
    layer_spec(nn.PixelShuffle, upscale_factor=Pos),
    layer_spec(nn.Upsample, size=Union[Pos, tuple[Pos, ...], None],
               scale_factor=Union[Float, tuple[Float, ...], None], mode=InterpolateMode,
               align_corners=Union[StrictBool, None], recompute_scale_factor=Union[StrictBool, None]),
    layer_spec(nn.UpsamplingNearest2d, **_upsampling(nn.UpsamplingNearest2d)),
    layer_spec(nn.UpsamplingBilinear2d, **_upsampling(nn.UpsamplingBilinear2d)),
    layer_spec(nn.BatchNorm1d, **_bn),
    layer_spec(nn.BatchNorm2d, **_bn),
    layer_spec(nn.ReLU, inplace=StrictBool),
    layer_spec(nn.ReLU6, inplace=StrictBool),
    layer_spec(nn.Flatten, start_dim=StrictInt, end_dim=StrictInt),
    layer_spec(nn.Identity),
    layer_spec(nn.Tanh),
    layer_spec(nn.Sigmoid),
    layer_spec(nn.LeakyReLU, negative_slope=Float, inplace=StrictBool),
    layer_spec(nn.PReLU, num_parameters=Pos, init=Float),
]

# --- activation
_dim_opt = Union[StrictInt, None]
ACTIVATION_SPECS: list[type[LayerSpec]] = [
    layer_spec(nn.GELU, approximate=Literal["none", "tanh"]),
    layer_spec(nn.Threshold, threshold=Float, value=Float, inplace=StrictBool),
    layer_spec(nn.Hardtanh, min_val=Float, max_val=Float, inplace=StrictBool, min_value=Union[Float, None],
               max_value=Union[Float, None]),
    layer_spec(nn.RReLU, lower=Float, upper=Float, inplace=StrictBool),
    layer_spec(nn.Hardsigmoid, inplace=StrictBool),
    layer_spec(nn.SiLU, inplace=StrictBool),
    layer_spec(nn.Mish, inplace=StrictBool),
    layer_spec(nn.Hardswish, inplace=StrictBool),
    layer_spec(nn.ELU, alpha=Float, inplace=StrictBool),
    layer_spec(nn.CELU, alpha=Float, inplace=StrictBool),
    layer_spec(nn.SELU, inplace=StrictBool),
    layer_spec(nn.GLU, dim=StrictInt),
    layer_spec(nn.Hardshrink, lambd=Float),
    layer_spec(nn.LogSigmoid),
    layer_spec(nn.Softplus, beta=Float, threshold=Float),
    layer_spec(nn.Softshrink, lambd=Float),
    layer_spec(nn.Softsign),
    layer_spec(nn.Tanhshrink),
    layer_spec(nn.Softmin, dim=_dim_opt),
    layer_spec(nn.Softmax, dim=_dim_opt),
    layer_spec(nn.Softmax2d),
    layer_spec(nn.LogSoftmax, dim=_dim_opt),
]

# --- conv
def _lazy_conv(cls: type, n: int, transposed: bool = False) -> type[LayerSpec]:
    padding = _size(n, NonNeg) if transposed else Union[Literal["same", "valid"], _size(n, NonNeg)]
    extra = {"output_padding": _size(n, NonNeg)} if transposed else {}
    return layer_spec(cls, out_channels=Pos, kernel_size=_size(n, Pos), stride=_size(n, Pos), padding=padding,
                      dilation=_size(n, Pos), groups=Pos, bias=StrictBool, padding_mode=PaddingMode, **extra)


CONV_SPECS: list[type[LayerSpec]] = [
    _conv(nn.Conv3d, 3),
    _conv(nn.ConvTranspose2d, 2, transposed=True),
    _conv(nn.ConvTranspose3d, 3, transposed=True),
    _lazy_conv(nn.LazyConv1d, 1),
    _lazy_conv(nn.LazyConv2d, 2),
    _lazy_conv(nn.LazyConv3d, 3),
    _lazy_conv(nn.LazyConvTranspose1d, 1, transposed=True),
    _lazy_conv(nn.LazyConvTranspose2d, 2, transposed=True),
    _lazy_conv(nn.LazyConvTranspose3d, 3, transposed=True),
]

# --- distance
# the order of a p-norm: any number, inf (the max norm) and -inf included
_NormOrder = Union[StrictInt, Annotated[StrictFloat, Field(allow_inf_nan=True), AfterValidator(_not_nan)]]

DISTANCE_SPECS: list[type[LayerSpec]] = [
    layer_spec(nn.PairwiseDistance, p=_NormOrder, eps=Float, keepdim=StrictBool),
    layer_spec(nn.CosineSimilarity, dim=StrictInt, eps=Float),
]

# --- dropout
DROPOUT_SPECS: list[type[LayerSpec]] = [
    layer_spec(nn.Dropout1d, p=Prob, inplace=StrictBool),
    layer_spec(nn.Dropout3d, p=Prob, inplace=StrictBool),
    layer_spec(nn.AlphaDropout, p=Prob, inplace=StrictBool),
    layer_spec(nn.FeatureAlphaDropout, p=Prob, inplace=StrictBool),
]

# --- loss
_Reduction = Literal["none", "mean", "sum"]
_Legacy = Union[StrictBool, None]  # the deprecated size_average / reduce flags
_legacy = dict(size_average=_Legacy, reduce=_Legacy, reduction=_Reduction)
_ClassWeight = Union[list[Float], None]  # a weight per class, a tensor in torch (written as a list)
_Weight = Union[Float, list[Float], list[list[Float]], None]  # broadcast to the target
_PosFloat = Annotated[Float, Field(gt=0)]


class LinearCrossEntropyOptionsSpec(Spec):
    """torch.nn.LinearCrossEntropyOptions: the chunking of LinearCrossEntropyLoss (values are unchanged by it)."""

    allow_retain_graph: StrictBool = False
    batch_chunk_size: Union[Pos, None] = None
    chunking_method: Union[Annotated[str, StringConstraints(pattern=r"^(auto|aspect_ratio(:[0-9]*[1-9][0-9]*)?)$")],
                           None] = "auto"
    acc_policy: Literal["accurate", "balanced", "compact", "auto"] = "auto"
    acc_dtype: Union[Literal["float16", "bfloat16", "float32", "float64"], None] = None


LOSS_SPECS: list[type[LayerSpec]] = [
    layer_spec(nn.L1Loss, **_legacy),
    layer_spec(nn.MSELoss, **_legacy),
    layer_spec(nn.NLLLoss, weight=_ClassWeight, ignore_index=StrictInt, **_legacy),
    layer_spec(nn.NLLLoss2d, weight=_ClassWeight, ignore_index=StrictInt, **_legacy),
    layer_spec(nn.CrossEntropyLoss, weight=_ClassWeight, ignore_index=StrictInt,
               label_smoothing=Annotated[Float, Field(le=1)], **_legacy),
    layer_spec(nn.LinearCrossEntropyLoss, in_features=NonNeg, num_classes=Pos, out_features=tuple[Pos, ...],
               bias=StrictBool, reduction=_Reduction, weight=_ClassWeight, ignore_index=Union[StrictInt, None],
               label_smoothing=Prob, options=Union[LinearCrossEntropyOptionsSpec, None]),
    layer_spec(nn.BCELoss, weight=_Weight, **_legacy),
    layer_spec(nn.BCEWithLogitsLoss, weight=_Weight, pos_weight=_Weight, **_legacy),
    layer_spec(nn.KLDivLoss, size_average=_Legacy, reduce=_Legacy,
               reduction=Literal["none", "mean", "sum", "batchmean"], log_target=StrictBool),
    layer_spec(nn.PoissonNLLLoss, log_input=StrictBool, full=StrictBool, eps=Float, **_legacy),
    layer_spec(nn.GaussianNLLLoss, full=StrictBool, eps=Float, reduction=_Reduction),
    layer_spec(nn.HuberLoss, reduction=_Reduction, delta=_PosFloat),
    layer_spec(nn.SmoothL1Loss, beta=Annotated[Float, Field(ge=0)], **_legacy),
    layer_spec(nn.SoftMarginLoss, **_legacy),
    layer_spec(nn.HingeEmbeddingLoss, margin=Float, **_legacy),
    layer_spec(nn.CosineEmbeddingLoss, margin=Float, **_legacy),
    layer_spec(nn.MarginRankingLoss, margin=Float, **_legacy),
    layer_spec(nn.MultiLabelMarginLoss, **_legacy),
    layer_spec(nn.MultiLabelSoftMarginLoss, weight=_Weight, **_legacy),
    layer_spec(nn.MultiMarginLoss, p=Literal[1, 2], margin=Float, weight=_ClassWeight, **_legacy),
    layer_spec(nn.TripletMarginLoss, margin=_PosFloat, p=Float, eps=Float, swap=StrictBool, **_legacy),
    layer_spec(nn.TripletMarginWithDistanceLoss, distance_function=None, margin=_PosFloat, swap=StrictBool,
               reduction=_Reduction),
    layer_spec(nn.CTCLoss, blank=NonNeg, reduction=_Reduction, zero_infinity=StrictBool),
]

# --- normalization
_NormalizedShape = Union[NonNeg, Annotated[tuple[NonNeg, ...], Field(min_length=1)]]

NORMALIZATION_SPECS: list[type[LayerSpec]] = [
    layer_spec(nn.LayerNorm, normalized_shape=Union[Pos, tuple[Pos, ...]], eps=Float, elementwise_affine=StrictBool,
               bias=StrictBool),
    layer_spec(nn.BatchNorm3d, **_bn),
    layer_spec(nn.InstanceNorm1d, **_bn),
    layer_spec(nn.InstanceNorm2d, **_bn),
    layer_spec(nn.InstanceNorm3d, **_bn),
    layer_spec(nn.GroupNorm, num_groups=Pos, num_channels=NonNeg, eps=Float, affine=StrictBool, bias=StrictBool),
    layer_spec(nn.LocalResponseNorm, size=Pos, alpha=Float, beta=Float, k=Float),
    layer_spec(nn.RMSNorm, normalized_shape=_NormalizedShape, eps=Union[Float, None], elementwise_affine=StrictBool),
]

# --- padding
def _pad(n: int) -> Any:
    """A padding layer's padding: an int for every side, or (left, right[, top, bottom[, front, back]]);
    negative crops (in the zero and constant pads)."""
    return _size(2 * n, StrictInt)


PADDING_SPECS: list[type[LayerSpec]] = [
    *(layer_spec(getattr(nn, f"{kind}Pad{n}d"), padding=_pad(n))
      for kind in ("Zero", "Reflection", "Replication", "Circular") for n in (1, 2, 3)),
    *(layer_spec(getattr(nn, f"ConstantPad{n}d"), padding=_pad(n), value=Float) for n in (1, 2, 3)),
]

# --- pooling
def _pool_window(n: int) -> dict[str, Any]:
    return dict(kernel_size=_size(n, Pos), stride=Union[_size(n, Pos), None], padding=_size(n, NonNeg))


_NormType = Annotated[Union[StrictInt, Annotated[StrictFloat, AfterValidator(_not_nan)]],
                      AfterValidator(_nonzero)]  # inf: a max pool of |x|
_Ratio = Annotated[Float, Field(gt=0, lt=1)]
_Sample = Annotated[Float, Field(ge=0, lt=1)]


def _adaptive_max(cls: type, n: int) -> type[LayerSpec]:
    size = _size(1, NonNeg) if n == 1 else Union[NonNeg, tuple[(Union[NonNeg, None],) * n]]
    return layer_spec(cls, output_size=size, return_indices=StrictBool)


def _lp_pool(cls: type, n: int) -> type[LayerSpec]:
    return layer_spec(cls, norm_type=_NormType, kernel_size=Pos if n == 1 else _size(n, Pos),
                      stride=Union[_size(n, Pos), None], ceil_mode=StrictBool)


def _fractional(cls: type, n: int) -> type[LayerSpec]:
    # _random_samples: (N, C, n) samples in [0, 1), torch's buffer of that name
    return layer_spec(cls, kernel_size=_size(n, Pos), output_size=Union[_size(n, NonNeg), None],
                      output_ratio=Union[_size(n, _Ratio), None], return_indices=StrictBool,
                      _random_samples=Union[list[list[tuple[(_Sample,) * n]]], None])


POOLING_SPECS: list[type[LayerSpec]] = [
    _max_pool(nn.MaxPool3d, 3),
    layer_spec(nn.AvgPool3d, **_pool_window(3), ceil_mode=StrictBool, count_include_pad=StrictBool,
               divisor_override=Union[Annotated[StrictInt, AfterValidator(_nonzero)], None]),
    layer_spec(nn.AdaptiveAvgPool3d, output_size=Union[NonNeg, tuple[(Union[NonNeg, None],) * 3]]),
    _adaptive_max(nn.AdaptiveMaxPool1d, 1),
    _adaptive_max(nn.AdaptiveMaxPool2d, 2),
    _adaptive_max(nn.AdaptiveMaxPool3d, 3),
    _lp_pool(nn.LPPool1d, 1),
    _lp_pool(nn.LPPool2d, 2),
    _lp_pool(nn.LPPool3d, 3),
    _fractional(nn.FractionalMaxPool2d, 2),
    _fractional(nn.FractionalMaxPool3d, 3),
    layer_spec(nn.MaxUnpool1d, **_pool_window(1)),
    layer_spec(nn.MaxUnpool2d, **_pool_window(2)),
    layer_spec(nn.MaxUnpool3d, **_pool_window(3)),
]

# --- rnn
# num_layers is bounded as a repeat is (MAX_REPEAT): a file can't ask for a build that runs for hours
_Layers = Annotated[StrictInt, Field(gt=0, le=MAX_REPEAT)]
_rnn = dict(input_size=Pos, hidden_size=Pos, num_layers=_Layers, bias=StrictBool, batch_first=StrictBool, dropout=Prob,
            bidirectional=StrictBool)
_cell = dict(input_size=NonNeg, hidden_size=NonNeg, bias=StrictBool)
RNN_SPECS: list[type[LayerSpec]] = [
    layer_spec(nn.RNN, nonlinearity=Literal["tanh", "relu"], **_rnn),
    layer_spec(nn.LSTM, proj_size=NonNeg, **_rnn),
    layer_spec(nn.GRU, **_rnn),
    layer_spec(nn.RNNCell, nonlinearity=Literal["tanh", "relu"], **_cell),
    layer_spec(nn.LSTMCell, **_cell),
    layer_spec(nn.GRUCell, **_cell),
]

# --- shape
_MaxNorm = Union[Float, None]

SHAPE_SPECS: list[type[LayerSpec]] = [
    layer_spec(nn.Embedding, num_embeddings=NonNeg, embedding_dim=NonNeg, padding_idx=Union[StrictInt, None],
               max_norm=_MaxNorm, norm_type=_NormOrder, scale_grad_by_freq=StrictBool, sparse=StrictBool),
    layer_spec(nn.EmbeddingBag, num_embeddings=NonNeg, embedding_dim=NonNeg, max_norm=_MaxNorm, norm_type=_NormOrder,
               scale_grad_by_freq=StrictBool, mode=Literal["sum", "mean", "max"], sparse=StrictBool,
               include_last_offset=StrictBool, padding_idx=Union[StrictInt, None]),
    layer_spec(nn.Unflatten, dim=StrictInt, unflattened_size=tuple[StrictInt, ...]),
    layer_spec(nn.PixelUnshuffle, downscale_factor=Pos),
    layer_spec(nn.ChannelShuffle, groups=Pos),
    layer_spec(nn.Fold, output_size=_size(2, Pos), kernel_size=_size(2, Pos), dilation=_size(2, Pos),
               padding=_size(2, NonNeg), stride=_size(2, Pos)),
    layer_spec(nn.Unfold, kernel_size=_size(2, Pos), dilation=_size(2, Pos), padding=_size(2, NonNeg),
               stride=_size(2, Pos)),
]

# --- transformer
_Activation = Literal["relu", "gelu"]  # torch also takes a callable, which a model file cannot hold
_Copies = Annotated[StrictInt, Field(ge=0, le=MAX_REPEAT)]  # num_layers: 0 is an empty stack, as in torch
_layer = dict(d_model=Pos, nhead=Pos, dim_feedforward=Pos, dropout=Prob, activation=_Activation, layer_norm_eps=Float,
              batch_first=StrictBool, norm_first=StrictBool, bias=StrictBool)
TRANSFORMER_SPECS: list[type[LayerSpec]] = [
    layer_spec(nn.MultiheadAttention, embed_dim=Pos, num_heads=Pos, dropout=Prob, bias=StrictBool,
               add_bias_kv=StrictBool, add_zero_attn=StrictBool, kdim=Union[Pos, None], vdim=Union[Pos, None],
               batch_first=StrictBool),
    layer_spec(nn.TransformerEncoderLayer, **_layer),
    layer_spec(nn.TransformerDecoderLayer, **_layer),
    layer_spec(nn.TransformerEncoder, encoder_layer=ModuleArg, num_layers=_Copies, norm=OptionalModuleArg,
               enable_nested_tensor=StrictBool, mask_check=StrictBool),
    layer_spec(nn.TransformerDecoder, decoder_layer=ModuleArg, num_layers=_Copies, norm=OptionalModuleArg),
    layer_spec(nn.Transformer, d_model=Pos, nhead=Pos, num_encoder_layers=_Copies, num_decoder_layers=_Copies,
               dim_feedforward=Pos, dropout=Prob, activation=_Activation, custom_encoder=OptionalModuleArg,
               custom_decoder=OptionalModuleArg, layer_norm_eps=Float, batch_first=StrictBool,
               norm_first=StrictBool, bias=StrictBool),
]

LAYER_SPECS: dict[str, type[LayerSpec]] = {
    s.layer.__name__: s
    for s in [*CORE_SPECS, *ACTIVATION_SPECS, *CONV_SPECS, *DISTANCE_SPECS, *DROPOUT_SPECS, *LOSS_SPECS,
              *NORMALIZATION_SPECS, *PADDING_SPECS, *POOLING_SPECS, *RNN_SPECS, *SHAPE_SPECS, *TRANSFORMER_SPECS]
}

# --------------------------------------------------------------------------- state


class ConstantInit(Spec):
    constant: Float


class UniformInit(Spec):
    uniform: tuple[Float, Float]


class NormalInit(Spec):
    normal: tuple[Float, Float]


class TriangleArgs(Spec):
    """Which diagonal bounds the triangle: 0 is the main one, 1 the one above it, -1 the one below."""

    diagonal: StrictInt = 0


class TrilInit(Spec):
    """Ones on and below the ``diagonal`` of the last two dims, zeros above: torch.tril(torch.ones(n, n)),
    the causal mask of GPT-style attention (any leading dims are copies)."""

    tril: TriangleArgs


class TriuInit(Spec):
    """Ones on and above the ``diagonal`` of the last two dims, zeros below: torch.triu(torch.ones(n, n))."""

    triu: TriangleArgs


class ArangeArgs(Spec):
    start: StrictInt = 0
    step: Annotated[StrictInt, AfterValidator(_nonzero)] = 1


class ArangeInit(Spec):
    """start, start + step, ... along the last dim, the same in every row: torch.arange(n).expand((1, -1)),
    the position ids of BERT-style embeddings."""

    arange: ArangeArgs


class WindowArgs(Spec):
    window_size: tuple[Pos, Pos]


class RelativePositionIndexInit(Spec):
    """Swin's relative position index of a (Wh, Ww) window: for tokens a, b at (ha, wa), (hb, wb), the row of
    the (2Wh-1)(2Ww-1)-row bias table for their offset, (ha - hb + Wh - 1) * (2Ww - 1) + wa - wb + Ww - 1.
    Shape (Wh*Ww * Wh*Ww,), as torchvision's ShiftedWindowAttention registers it, or (Wh*Ww, Wh*Ww)."""

    relative_position_index: WindowArgs


Init = Union[Literal["zeros", "ones", "rand", "randn"], ConstantInit, UniformInit, NormalInit, TrilInit, TriuInit,
             ArangeInit, RelativePositionIndexInit]
FloatDtype = Literal["float16", "float32", "float64"]


class ParameterSpec(Spec):
    """A Parameter: its shape, how to fill it, and whether it requires grad."""

    shape: tuple[NonNeg, ...]
    init: Init = "zeros"
    requires_grad: StrictBool = True
    dtype: FloatDtype = "float32"


class BufferSpec(Spec):
    """A buffer: its shape, how to fill it, and whether state_dict saves it."""

    shape: tuple[NonNeg, ...]
    init: Init = "zeros"
    persistent: StrictBool = True
    dtype: Union[FloatDtype, Literal["int64", "bool"]] = "float32"


# --------------------------------------------------------------------------- containers


def _tag(v: Any) -> str | None:
    if isinstance(v, dict):
        if "type" in v:
            return v["type"] if isinstance(v["type"], str) else None
        return "Share" if "share" in v else "Module"
    return getattr(v, "type", "Share")


class ShareSpec(Spec):
    """The same module instance again, by its dotted path among the modules registered before it."""

    share: Annotated[str, AfterValidator(_share_path), WithJsonSchema(
        {"type": "string", "pattern": rf"^{NAME_PATTERN[1:-1]}(\.{NAME_PATTERN[1:-1]})*$"})]


class _SubclassOf:
    """A container that a model file may subclass (``name``, ``forward``, ``inputs``, ``attributes``)."""

    def subclass(self) -> Subclass:
        return Subclass(self.name, self.forward, self.inputs, self.attributes)

    @model_validator(mode="after")
    def _subclass_keys(self):
        modules = self.modules if isinstance(self.modules, dict) else {}  # a dict's keys are attributes of it too
        _check_subclass(self.subclass(), self.type, set(modules))
        return self


class SequentialSpec(_SubclassOf, Spec):
    """torch.nn.Sequential: a list (keys "0", "1", ...) or a mapping of named modules."""

    type: Literal["Sequential"]
    name: ClassName = "Sequential"  # a subclass's name, for its repr (torchvision's Conv2dNormActivation)
    modules: Union[list[ModuleSpec], dict[Name, ModuleSpec]] = Field(default_factory=list)
    forward: ForwardText = None  # a subclass's own forward, else Sequential's
    inputs: InputNames = None
    attributes: Attributes = Field(default_factory=dict)


class ModuleListSpec(_SubclassOf, Spec):
    """torch.nn.ModuleList: ``modules: [...]``, or ``repeat: N`` independent copies of ``module``."""

    type: Literal["ModuleList"]
    name: ClassName = "ModuleList"
    modules: Union[list[ModuleSpec], None] = None
    repeat: Union[Annotated[StrictInt, Field(ge=0, le=MAX_REPEAT)], None] = None
    module: Union[ModuleSpec, None] = None
    forward: ForwardText = None
    inputs: InputNames = None
    attributes: Attributes = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_form(self):
        _check_repeat(self.modules, self.repeat, self.module, "modules", "module")
        return self


class ModuleDictSpec(_SubclassOf, Spec):
    """torch.nn.ModuleDict: a mapping of named modules."""

    type: Literal["ModuleDict"]
    name: ClassName = "ModuleDict"  # torchvision's _DenseBlock(nn.ModuleDict)
    modules: dict[Name, ModuleSpec] = Field(default_factory=dict)
    forward: ForwardText = None
    inputs: InputNames = None
    attributes: Attributes = Field(default_factory=dict)


class ParameterListSpec(Spec):
    """torch.nn.ParameterList: ``parameters: [...]``, or ``repeat: N`` copies of ``parameter``."""

    type: Literal["ParameterList"]
    parameters: Union[list[ParameterSpec], None] = None
    repeat: Union[Annotated[StrictInt, Field(ge=0, le=MAX_REPEAT)], None] = None
    parameter: Union[ParameterSpec, None] = None

    @model_validator(mode="after")
    def _one_form(self):
        _check_repeat(self.parameters, self.repeat, self.parameter, "parameters", "parameter")
        return self


class ParameterDictSpec(Spec):
    """torch.nn.ParameterDict: a mapping of named parameters."""

    type: Literal["ParameterDict"]
    parameters: dict[Name, ParameterSpec] = Field(default_factory=dict)


def _check_repeat(items, repeat, item, items_name: str, item_name: str) -> None:
    if items is not None and (repeat is not None or item is not None):
        raise ValueError(f"give either {items_name}: [...] or repeat: N with {item_name}: {{...}}, not both")
    if (repeat is None) != (item is None):
        raise ValueError(f"repeat: N and {item_name}: {{...}} go together")


class LocatedValueError(ValueError):
    """A model validator's error about one entry: ``loc`` (keys below the model) says which, for the position."""

    def __init__(self, message: str, loc: tuple):
        super().__init__(message)
        self.loc = tuple(loc)


class UserModuleSpec(Spec):
    """A user-defined module: a class name, torch's three registries and a forward.

    A module given as null is absent, as torch's ``self.downsample = None``; ``forward``
    is torch forward text, with or without its ``def forward(self, ...)`` line, and
    ``inputs`` names the inputs when there is no such line (default ``[x]``).
    """

    type: Literal["Module"] = "Module"
    name: ClassName = "Module"
    parameters: dict[Name, ParameterSpec] = Field(default_factory=dict)
    buffers: dict[Name, BufferSpec] = Field(default_factory=dict)
    modules: dict[Name, Union[ModuleSpec, None]] = Field(default_factory=dict)
    attributes: Attributes = Field(default_factory=dict)
    inputs: InputNames = None
    forward: ForwardText = None

    @model_validator(mode="after")
    def _distinct_names(self):
        seen: dict[str, str] = {}
        for registry in ("parameters", "buffers", "modules", "attributes"):
            for key in getattr(self, registry):
                if key in seen:
                    raise LocatedValueError(f"{key!r} is registered twice, in {seen[key]} and in {registry}",
                                            (registry, key))
                if keyword.iskeyword(key) or key in _RESERVED:
                    what = "an attribute" if registry == "attributes" else f"a {registry[:-1]}"
                    raise LocatedValueError(f"{key!r} can't be {what} name: it is a Module attribute",
                                            (registry, key))
                seen[key] = registry
        _check_inputs(self.forward, self.inputs)
        return self


def _check_inputs(forward: str | None, inputs: list[str] | None) -> None:
    if inputs is not None:
        if forward is None:
            raise LocatedValueError("inputs are given but there is no forward", ("inputs",))
        if "self" in inputs or len(set(inputs)) != len(inputs):
            raise LocatedValueError(f"inputs must be distinct names other than self, got {inputs}", ("inputs",))


def _check_subclass(sub: Subclass, base: str, own: set[str]) -> None:
    """A layer's or container's subclass keys: inputs only with a forward, and attributes that replace
    nothing the class has (a Module attribute, or ``own``: the layer's arguments, the ModuleDict's keys)."""
    _check_inputs(sub.forward, sub.inputs)
    for key in sub.attributes:
        if keyword.iskeyword(key) or key in _RESERVED:
            raise LocatedValueError(f"{key!r} can't be an attribute name: it is a Module attribute", ("attributes", key))
        if key in own:
            what = "a module" if base in CONTAINER_SPECS else "an argument"
            raise LocatedValueError(f"{key!r} can't be an attribute name: it is {what} of the {base}", ("attributes", key))


# a registry entry may not shadow anything a Module instance already has: methods, dunders, internals
_RESERVED = set(dir(nn.UserModule)) | set(vars(nn.UserModule()))

CONTAINER_SPECS: dict[str, type[Spec]] = {
    "Sequential": SequentialSpec,
    "ModuleList": ModuleListSpec,
    "ModuleDict": ModuleDictSpec,
    "ParameterList": ParameterListSpec,
    "ParameterDict": ParameterDictSpec,
    "Module": UserModuleSpec,
}

ModuleSpec = Annotated[
    Union[
        tuple(Annotated[s, Tag(name)] for name, s in {**LAYER_SPECS, **CONTAINER_SPECS}.items())
        + (Annotated[ShareSpec, Tag("Share")],)
    ],
    Discriminator(_tag),
]

# no spec class is built here (defer_build): the containers' fields refer to ModuleSpec, and each class built on
# its own would hold a compiled copy of the whole union (five copies were 28 MiB and 0.4 s of every import).
# nnspec.spec validates through one TypeAdapter of ModuleSpec, built on first use; a class used directly
# (SequentialSpec(...)) builds itself then, its forward reference resolved from this module
