"""The parity cases: one model, its inputs and its mode each.

The same list drives the golden-fixture script (tests/golden/make_golden.py,
which needs torch) and both parity suites (golden files, and live torch).
A case's model is a model-file dict or a path under models/; torch builds the
same model from the validated spec (tests/oracle.py), since nnspec's argument
names are torch's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "models" / "seed"


@dataclass(frozen=True)
class Case:
    id: str
    model: dict | str  # a model dict, or a path relative to the repo root
    inputs: list = field(default_factory=list)  # input shapes; empty: compare structure only
    train: bool = False
    dtype: str = "float32"
    random: bool = False  # output depends on the generator (dropout in train): compared by statistics
    named: dict = field(default_factory=dict)  # non-array inputs of a custom forward, by name


def L(type_: str, *args, **kwargs) -> dict:
    """A layer in the one-key form, as a model file would write it."""
    return {type_: list(args), **kwargs} if args else {"type": type_, **kwargs}


CASES: list[Case] = []


def add(id: str, model, *inputs, train: bool = False, dtype: str = "float32", random: bool = False,
        named: dict | None = None) -> None:
    CASES.append(Case(id, model, [tuple(s) for s in inputs], train, dtype, random, dict(named or {})))


# --- the seed models (every file in models/seed is a case)
SEED_INPUTS = {
    "conv1d": [(20, 16, 50)], "conv2d": [(20, 16, 50, 100)], "conv_transpose1d": [(20, 16, 50)],
    "maxpool1d": [(20, 16, 50)], "maxpool2d": [(20, 16, 50, 32)], "avgpool1d": [(20, 16, 50)],
    "avgpool2d": [(20, 16, 50, 32)], "adaptive_avgpool1d": [(1, 64, 8)], "adaptive_avgpool2d": [(1, 64, 8, 9)],
    "adaptive_avgpool2d_square": [(1, 64, 10, 9)], "linear": [(128, 20)], "bilinear": [(128, 20), (128, 30)],
    "dropout": [(20, 16)], "dropout2d": [(20, 16, 8, 8)], "pixelshuffle": [(1, 9, 4, 4)],
    "upsample": [(1, 3, 8, 8)], "upsampling_nearest2d": [(1, 3, 8, 8)], "upsampling_bilinear2d": [(1, 3, 8, 8)],
    "batchnorm1d": [(20, 100)], "batchnorm2d": [(20, 100, 35, 45)], "activations": [(2, 3, 4, 5)],
    "sequential": [(1, 1, 32, 32)], "sequential_ordereddict": [(1, 1, 32, 32)],
    "state_dict": [], "model_two_convs": [(1, 1, 28, 28)], "shared_submodule": [(1, 20, 28, 28)],
    "module_list": [(4, 10)], "module_dict": [(1, 10, 32, 32)], "parameter_list": [(10, 3)],
    "parameter_dict": [(10, 3)],
}
SEED_NAMED = {"module_dict": {"choice": "conv", "act": "prelu"}, "parameter_dict": {"choice": "left"}}
for name, inputs in SEED_INPUTS.items():
    add(f"seed_{name}", f"models/seed/{name}.yaml", *inputs, named=SEED_NAMED.get(name))
for choice in ("conv", "pool"):  # every choice and act of the seed's ModuleDict
    for act in ("lrelu", "prelu"):
        add(f"seed_module_dict_{choice}_{act}", "models/seed/module_dict.yaml", (1, 10, 32, 32),
            named={"choice": choice, "act": act})
add("seed_parameter_dict_right", "models/seed/parameter_dict.yaml", (10, 3), named={"choice": "right"})
for train in (False, True):  # torchvision's BasicBlock forward, nested, with and without downsample
    add(f"resnet_blocks_{'train' if train else 'eval'}", "models/resnet_blocks.yaml", (2, 3, 32, 32), train=train)
for name in ("batchnorm1d", "batchnorm2d"):
    add(f"seed_{name}_train", f"models/seed/{name}.yaml", *SEED_INPUTS[name], train=True)

# --- convolutions
x1, x2 = (2, 4, 17), (2, 4, 11, 13)
add("conv1d_pad_dil", L("Conv1d", 4, 6, 3, padding=2, dilation=2), x1)
add("conv1d_groups_nobias", L("Conv1d", 4, 6, 3, groups=2, bias=False), x1)
add("conv1d_same_even", L("Conv1d", 4, 6, 4, padding="same", dilation=2), x1)
add("conv1d_valid", L("Conv1d", 4, 6, 5, padding="valid", stride=3), x1)
for mode in ("reflect", "replicate", "circular"):
    add(f"conv1d_{mode}", L("Conv1d", 4, 6, 3, padding=2, padding_mode=mode), x1)
    add(f"conv2d_{mode}", L("Conv2d", 4, 6, [3, 2], padding=[2, 1], padding_mode=mode), x2)
add("conv1d_unbatched", L("Conv1d", 4, 6, 3), (4, 17))
add("conv2d_seed_dilation", L("Conv2d", 16, 33, [3, 5], stride=[2, 1], padding=[4, 2], dilation=[3, 1]), (2, 16, 50, 100))
add("conv2d_groups", L("Conv2d", 4, 8, 3, groups=4, stride=2, padding=1), x2)
add("conv2d_depthwise", L("Conv2d", 4, 4, 3, groups=4, bias=False), x2)
add("conv2d_same", L("Conv2d", 4, 6, [4, 3], padding="same"), x2)
add("conv2d_same_reflect", L("Conv2d", 4, 6, 3, padding="same", padding_mode="reflect", dilation=2), x2)
add("conv2d_unbatched", L("Conv2d", 4, 6, 3, padding=1), (4, 11, 13))
add("conv2d_1x1", L("Conv2d", 4, 8, 1), x2)
add("convt1d_out_pad", L("ConvTranspose1d", 4, 6, 3, stride=2, padding=1, output_padding=1), x1)
add("convt1d_groups_dil", L("ConvTranspose1d", 4, 6, 3, stride=2, groups=2, dilation=2), x1)
add("convt1d_crop", L("ConvTranspose1d", 4, 6, 3, stride=3, padding=3, bias=False), x1)
add("convt1d_unbatched", L("ConvTranspose1d", 4, 6, 2, stride=2), (4, 17))

# --- pooling
add("maxpool1d_pad_dil", L("MaxPool1d", 3, 2, 1, 2), x1)
add("maxpool1d_ceil", L("MaxPool1d", 3, 2, ceil_mode=True), (2, 4, 16))
add("maxpool1d_indices", L("MaxPool1d", 3, 2, 1, return_indices=True), x1)
add("maxpool2d_ceil_pad", L("MaxPool2d", 3, 2, 1, ceil_mode=True), x2)
add("maxpool2d_indices_dil", L("MaxPool2d", [3, 2], [2, 1], [1, 0], [1, 2], return_indices=True), x2)
add("maxpool2d_unbatched", L("MaxPool2d", 2), (4, 11, 13))
add("avgpool1d_pad_exclude", L("AvgPool1d", 3, 2, 1, count_include_pad=False), x1)
add("avgpool1d_ceil", L("AvgPool1d", 3, 2, 1, ceil_mode=True), (2, 4, 16))
add("avgpool2d_ceil_exclude", L("AvgPool2d", [3, 2], [2, 1], [1, 1], ceil_mode=True, count_include_pad=False), x2)
add("avgpool2d_ceil_include", L("AvgPool2d", 3, 2, 1, ceil_mode=True), x2)
add("avgpool2d_divisor", L("AvgPool2d", 3, divisor_override=3), x2)
add("avgpool2d_unbatched", L("AvgPool2d", 2), (4, 11, 13))
add("adaptive1d_uneven", L("AdaptiveAvgPool1d", 3), (2, 4, 10))
add("adaptive1d_grow", L("AdaptiveAvgPool1d", 7), (2, 4, 3))
add("adaptive2d_none", L("AdaptiveAvgPool2d", [None, 7]), x2)
add("adaptive2d_grow", L("AdaptiveAvgPool2d", 5), (2, 4, 3, 3))
add("adaptive2d_unbatched", L("AdaptiveAvgPool2d", [2, 3]), (4, 11, 13))

# --- linear
add("linear_nobias", L("Linear", 20, 30, bias=False), (7, 20))
add("linear_3d", L("Linear", 20, 30), (3, 5, 20))
add("linear_1d", L("Linear", 20, 30), (20,))
add("bilinear_nobias", L("Bilinear", 5, 6, 7, bias=False), (4, 5), (4, 6))
add("bilinear_3d", L("Bilinear", 5, 6, 7), (2, 4, 5), (2, 4, 6))

# --- dropout: identity in eval; train compared by statistics
add("dropout_eval", L("Dropout", 0.3), (20, 16))
add("dropout2d_eval", L("Dropout2d", 0.3), (2, 4, 8, 8))
add("dropout_train", L("Dropout", 0.3), (200, 160), train=True, random=True)
add("dropout2d_train", L("Dropout2d", 0.3), (40, 64, 4, 4), train=True, random=True)

# --- vision
add("pixelshuffle_2", L("PixelShuffle", 2), (2, 8, 3, 5))
add("pixelshuffle_5d", L("PixelShuffle", 2), (2, 3, 8, 3, 5))
up = (1, 2, 5, 7)
add("up_nearest_scale", L("Upsample", scale_factor=2), up)
add("up_nearest_frac", L("Upsample", scale_factor=1.7), up)
add("up_nearest_size", L("Upsample", size=[8, 11]), up)
add("up_nearest_down", L("Upsample", size=[3, 4]), up)
add("up_nearest_1d", L("Upsample", scale_factor=2.5), (1, 2, 5))
add("up_nearest_3d", L("Upsample", scale_factor=[2, 1.5, 2]), (1, 2, 3, 4, 5))
add("up_nearest_exact", L("Upsample", scale_factor=1.7, mode="nearest-exact"), up)
for ac in (False, True):
    add(f"up_linear_ac{int(ac)}", L("Upsample", scale_factor=2.5, mode="linear", align_corners=ac), (1, 2, 5))
    add(f"up_bilinear_ac{int(ac)}", L("Upsample", scale_factor=2, mode="bilinear", align_corners=ac), up)
    add(f"up_bilinear_size_ac{int(ac)}", L("Upsample", size=[9, 4], mode="bilinear", align_corners=ac), up)
    add(f"up_bicubic_ac{int(ac)}", L("Upsample", scale_factor=1.5, mode="bicubic", align_corners=ac), up)
    add(f"up_trilinear_ac{int(ac)}", L("Upsample", scale_factor=2, mode="trilinear", align_corners=ac), (1, 2, 3, 4, 5))
add("up_bilinear_recompute", L("Upsample", scale_factor=1.7, mode="bilinear", recompute_scale_factor=True), up)
add("up_nearest2d_size", L("UpsamplingNearest2d", size=[9, 10]), up)
add("up_bilinear2d_scale", L("UpsamplingBilinear2d", scale_factor=2), up)

# --- normalization, in both modes
for train in (False, True):
    t = "train" if train else "eval"
    add(f"bn1d_3d_{t}", L("BatchNorm1d", 5), (4, 5, 6), train=train)
    add(f"bn1d_momentum_none_{t}", L("BatchNorm1d", 5, momentum=None), (8, 5), train=train)
    add(f"bn1d_no_affine_{t}", L("BatchNorm1d", 5, affine=False), (8, 5), train=train)
    add(f"bn1d_no_stats_{t}", L("BatchNorm1d", 5, track_running_stats=False), (8, 5), train=train)
    add(f"bn2d_{t}", L("BatchNorm2d", 3, eps=1e-3, momentum=0.3), (4, 3, 5, 6), train=train)
    add(f"bn2d_no_bias_{t}", L("BatchNorm2d", 3, bias=False), (4, 3, 5, 6), train=train)

# --- activations
add("relu_inplace", L("ReLU", inplace=True), (3, 4))
add("leaky_relu", L("LeakyReLU", 0.2, inplace=True), (3, 4))
add("prelu_channels", L("PReLU", 3, 0.1), (2, 3, 4, 5))
add("prelu_1d", L("PReLU"), (7,))

# --- containers and dtypes
add("nested_sequential", {"Sequential": [L("Conv2d", 4, 6, 3), {"Sequential": {"bn": L("BatchNorm2d", 6), "act": "ReLU"}},
                                          L("AdaptiveAvgPool2d", 1)]}, x2, train=True)
add("float64_conv", L("Conv2d", 4, 6, 3, padding=1), x2, dtype="float64")
add("float64_bn_train", L("BatchNorm2d", 4), x2, train=True, dtype="float64")
add("float16_linear", L("Linear", 20, 30), (7, 20), dtype="float16")

CASE_IDS = [c.id for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "case ids must be unique"
