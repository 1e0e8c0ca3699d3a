"""The parity cases: one model, its inputs and its mode each.

The same list drives the golden-fixture script (tests/golden/make_golden.py,
which needs torch) and both parity suites (golden files, and live torch).
A case's model is a model-file dict or a path under models/; torch builds the
same model from the validated spec (tests/oracle.py), since nnspec's argument
names are torch's.
"""

from __future__ import annotations

import importlib
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
    ints: dict = field(default_factory=dict)  # input index -> n: that input is int64 in [0, n) (token ids, targets)


def L(type_: str, *args, **kwargs) -> dict:
    """A layer in the one-key form, as a model file would write it."""
    return {type_: list(args), **kwargs} if args else {"type": type_, **kwargs}


CASES: list[Case] = []


def add(id: str, model, *inputs, train: bool = False, dtype: str = "float32", random: bool = False,
        named: dict | None = None, ints: dict | None = None) -> None:
    CASES.append(Case(id, model, [tuple(s) for s in inputs], train, dtype, random, dict(named or {}), dict(ints or {})))


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
add("relu6_inplace", {"type": "Sequential", "modules": [L("Linear", 4, 6), L("ReLU6", inplace=True)]}, (3, 4))
add("flatten_identity", {"type": "Sequential", "modules": [L("Conv2d", 2, 3, 2), L("Flatten"), L("Identity"),
                                                           L("Linear", 27, 5), L("Flatten", 0)]}, (2, 2, 4, 4))
add("flatten_middle", L("Flatten", 1, 2), (2, 3, 4, 5))

# --- containers and dtypes
add("nested_sequential", {"Sequential": [L("Conv2d", 4, 6, 3), {"Sequential": {"bn": L("BatchNorm2d", 6), "act": "ReLU"}},
                                          L("AdaptiveAvgPool2d", 1)]}, x2, train=True)
add("float64_conv", L("Conv2d", 4, 6, 3, padding=1), x2, dtype="float64")
add("float64_bn_train", L("BatchNorm2d", 4), x2, train=True, dtype="float64")
add("float16_linear", L("Linear", 20, 30), (7, 20), dtype="float16")


# --- every functional op, torch function, tensor method and operator, inside a custom forward
OP_STATE = {
    "parameters": {
        "cw1": {"shape": [6, 4, 3], "init": "randn"}, "cw2": {"shape": [6, 4, 3, 3], "init": "randn"},
        "cw3": {"shape": [6, 4, 2, 2, 2], "init": "randn"}, "ctw1": {"shape": [4, 6, 3], "init": "randn"},
        "ctw2": {"shape": [4, 6, 3, 3], "init": "randn"}, "cb": {"shape": [6], "init": "randn"},
        "lw": {"shape": [5, 6], "init": "randn"}, "lb": {"shape": [5], "init": "randn"},
        "bw": {"shape": [3, 6, 5], "init": "randn"}, "bb": {"shape": [3], "init": "randn"},
        "g": {"shape": [4], "init": "randn"}, "b": {"shape": [4], "init": "randn"},
        "pw": {"shape": [4], "init": "randn"}, "m": {"shape": [6, 5], "init": "randn"},
    },
    "buffers": {"rm": {"shape": [4]}, "rv": {"shape": [4], "init": "ones"}},
}
X4 = (2, 4, 6, 6)
OPS = [  # (id, expression, input shapes); inputs are x, y, z in order
    ("F_conv1d", "F.conv1d(x, self.cw1, self.cb, stride=2, padding=1)", [(2, 4, 9)]),
    ("F_conv2d", "F.conv2d(x, self.cw2, self.cb, padding='same', dilation=2)", [X4]),
    ("F_conv3d", "F.conv3d(x, self.cw3, None, 1, 1)", [(1, 4, 4, 4, 4)]),
    ("F_conv_transpose1d", "F.conv_transpose1d(x, self.ctw1, self.cb, stride=2, output_padding=1)", [(2, 4, 5)]),
    ("F_conv_transpose2d", "F.conv_transpose2d(x, self.ctw2, None, 2, 1)", [X4]),
    ("F_max_pool1d", "F.max_pool1d(x, 3, 2, 1, ceil_mode=True)", [(2, 4, 9)]),
    ("F_max_pool2d", "F.max_pool2d(x, kernel_size=3, stride=2, padding=1)", [X4]),
    ("F_avg_pool1d", "F.avg_pool1d(x, 3, count_include_pad=False, padding=1)", [(2, 4, 9)]),
    ("F_avg_pool2d", "F.avg_pool2d(x, 2, divisor_override=3)", [X4]),
    ("F_adaptive_avg_pool1d", "F.adaptive_avg_pool1d(x, 4)", [(2, 4, 9)]),
    ("F_adaptive_avg_pool2d", "F.adaptive_avg_pool2d(x, (None, 4))", [X4]),
    ("F_linear", "F.linear(x, self.lw, self.lb)", [(3, 6)]),
    ("F_bilinear", "F.bilinear(x, y, self.bw, self.bb)", [(3, 6), (3, 5)]),
    ("F_dropout_eval", "F.dropout(x, 0.5, self.training)", [X4]),
    ("F_dropout2d_eval", "F.dropout2d(x, training=self.training)", [X4]),
    ("F_pixel_shuffle", "F.pixel_shuffle(x, 2)", [X4]),
    ("F_interpolate", "F.interpolate(x, scale_factor=1.5, mode='bilinear', align_corners=True)", [X4]),
    ("F_batch_norm", "F.batch_norm(x, self.rm, self.rv, self.g, self.b, False, 0.1, 1e-5)", [X4]),
    ("F_relu", "F.relu(x)", [X4]),
    ("F_leaky_relu", "F.leaky_relu(x, negative_slope=0.3)", [X4]),
    ("F_relu6", "F.relu6(x * 4)", [X4]),
    ("F_hardtanh", "F.hardtanh(x, -0.5, 0.25)", [X4]),
    ("F_prelu", "F.prelu(x, self.pw)", [X4]),
    ("F_pad", "F.pad(x, (1, 2, 0, 1), mode='reflect')", [X4]),
    ("F_softmax", "F.softmax(x, dim=1)", [X4]),
    ("F_log_softmax", "F.log_softmax(x, -1)", [X4]),
    ("F_sigmoid", "F.sigmoid(x)", [X4]),
    ("F_tanh", "torch.nn.functional.tanh(x)", [X4]),
    ("torch_cat", "torch.cat([x, y], dim=1)", [X4, (2, 3, 6, 6)]),
    ("torch_stack", "torch.stack((x, y), -1)", [X4, X4]),
    ("torch_flatten", "torch.flatten(x, 1)", [X4]),
    ("torch_matmul", "torch.matmul(x, y)", [(2, 3, 4), (4, 5)]),
    ("torch_mm", "torch.mm(x, self.m)", [(3, 6)]),
    ("torch_relu", "torch.relu(x)", [X4]),
    ("torch_sigmoid", "torch.sigmoid(x)", [X4]),
    ("torch_tanh", "torch.tanh(x)", [X4]),
    ("torch_softmax", "torch.softmax(x, 2)", [X4]),
    ("torch_log_softmax", "torch.log_softmax(x, dim=0)", [X4]),
    ("torch_add", "torch.add(x, y, alpha=2)", [X4, X4]),
    ("torch_mul", "torch.mul(x, 3)", [X4]),
    ("torch_sub", "torch.sub(x, y)", [X4, (6,)]),
    ("torch_div", "torch.div(x, y)", [X4, (1, 4, 1, 1)]),
    ("torch_mean", "torch.mean(x, (2, 3), keepdim=True)", [X4]),
    ("torch_sum", "torch.sum(x, dim=1)", [X4]),
    ("torch_transpose", "torch.transpose(x, 1, 3)", [X4]),
    ("torch_permute", "torch.permute(x, (0, 2, 3, 1))", [X4]),
    ("torch_reshape", "torch.reshape(x, (2, -1))", [X4]),
    ("m_view", "x.view(x.size(0), -1)", [X4]),
    ("m_reshape", "x.reshape(-1, x.shape[-1])", [X4]),
    ("m_permute", "x.permute(3, 2, 1, 0)", [X4]),
    ("m_transpose", "x.transpose(0, 1).contiguous()", [X4]),
    ("m_dim_numel", "x.view(x.numel() // x.size(-1), x.size()[x.dim() - 1])", [X4]),
    ("m_flatten", "x.flatten(start_dim=1, end_dim=2)", [X4]),
    ("m_mm", "x.mm(self.m)", [(3, 6)]),
    ("m_matmul", "x.matmul(y)", [(2, 3, 4), (2, 4, 5)]),
    ("m_mean", "x.mean(dim=-1)", [X4]),
    ("m_sum", "x.sum((1, 2), True)", [X4]),
    ("m_relu", "x.relu()", [X4]),
    ("m_sigmoid", "x.sigmoid()", [X4]),
    ("m_tanh", "x.tanh()", [X4]),
    ("m_softmax", "x.softmax(1)", [X4]),
    ("m_log_softmax", "x.log_softmax(dim=-1)", [X4]),
    ("m_unsqueeze_squeeze", "x.unsqueeze(1).squeeze(1).squeeze()", [(2, 1, 4)]),
    ("m_add_sub", "x.add(y).sub(2)", [X4, X4]),
    ("m_mul_div", "x.mul(y).div(4)", [X4, X4]),
    ("m_t", "x.t()", [(3, 6)]),
    ("m_double", "x.double() * 2", [X4]),
    ("m_half_float", "x.half().float()", [X4]),
    ("m_clone", "x.clone()", [X4]),
    ("op_arith", "(x + y) * 2 - x / 3 + (-y) ** 2 + x // 1.5 + x % 2 + (+x)", [X4, X4]),
    ("op_matmul", "x @ y", [(3, 4), (4, 5)]),
    ("op_getitem", "x[:, 1:3, ..., ::2] + x[0, None, :2, :, -1:].sum()", [X4]),
]
for op_id, expression, shapes in OPS:
    names = ["x", "y", "z"][: len(shapes)]
    add(f"op_{op_id}", {"name": "Ops", **OP_STATE, "inputs": names, "forward": f"return {expression}"}, *shapes)

# --- the layer families that grow on their own: tests/cases_<family>.py, each calling add() above
FAMILIES = ("activation", "attention", "conv", "loss", "normalization", "pooling", "rnn", "shape", "tensor",
            "examples", "subclass")
for _family in FAMILIES:
    importlib.import_module(f"cases_{_family}")

CASE_IDS = [c.id for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "case ids must be unique"
