"""Parity cases: 3-d, adaptive max, LP, fractional max pooling and unpooling. Imported by cases.py; each add() is one case."""

from __future__ import annotations

import numpy as np

from cases import L, add  # noqa: F401


def samples(*shape, seed=0) -> list:
    """Fixed fractional-pooling samples in [0, 1), as a model file writes them (nested lists)."""
    return np.random.default_rng(seed).random(shape).round(4).tolist()


def unpool(pool: dict, unpool_: dict, forward: str = "y, i = self.pool(x)\nreturn self.unpool(y, i)") -> dict:
    """A pool with return_indices=True, then its unpooling: the indices an unpool needs."""
    return {"name": "Ops", "modules": {"pool": pool, "unpool": unpool_}, "forward": forward}


x3 = (2, 3, 5, 6, 7)

# --- MaxPool3d, AvgPool3d, AdaptiveAvgPool3d
add("maxpool3d_cube", L("MaxPool3d", 2), x3)
# ceil mode: sizes with the remainders by the strides of the static test's symbolic sizes' hints (even; the last
# one's also divisible by 3), as the symbolic output size decides ceil mode's last-window step on the hints
add("maxpool3d_indices_ceil", L("MaxPool3d", [2, 3, 1], [1, 2, 3], [1, 1, 0], [1, 2, 1], return_indices=True,
                                 ceil_mode=True), (2, 3, 5, 6, 9))
add("maxpool3d_unbatched_pad", L("MaxPool3d", 3, 2, [1, 0, 1]), (3, 5, 6, 7))
add("maxpool3d_float64", L("MaxPool3d", 2, 1, return_indices=True), (1, 2, 4, 4, 4), dtype="float64")
add("maxpool3d_float16", L("MaxPool3d", 2, 1), (1, 2, 4, 4, 4), dtype="float16")
add("avgpool3d_cube", L("AvgPool3d", 3), x3)
add("avgpool3d_pad_exclude_ceil", L("AvgPool3d", 3, 2, 1, True, False), x3)
add("avgpool3d_ceil_include", L("AvgPool3d", [2, 3, 3], 2, 1, ceil_mode=True), (2, 3, 4, 6, 8))
add("avgpool3d_divisor", L("AvgPool3d", [2, 2, 3], 2, [1, 0, 1], divisor_override=5), x3)
add("avgpool3d_unbatched", L("AvgPool3d", 2), (3, 4, 4, 4))
add("avgpool3d_float64", L("AvgPool3d", 2, 1, 1, count_include_pad=False), (1, 2, 4, 4, 4), dtype="float64")
add("adaptive_avg3d_none", L("AdaptiveAvgPool3d", [2, None, 3]), x3)
add("adaptive_avg3d_grow", L("AdaptiveAvgPool3d", 4), (1, 2, 3, 2, 5))
add("adaptive_avg3d_unbatched", L("AdaptiveAvgPool3d", [3, 2, 2]), (1, 3, 2, 6))
add("adaptive_avg3d_float16", L("AdaptiveAvgPool3d", 2), (1, 2, 5, 4, 3), dtype="float16")

# --- AdaptiveMaxPool1d/2d/3d
add("adaptive_max1d", L("AdaptiveMaxPool1d", 3), (2, 3, 10))
add("adaptive_max1d_indices_unbatched", L("AdaptiveMaxPool1d", 4, True), (3, 9))
add("adaptive_max2d_indices", L("AdaptiveMaxPool2d", [5, 7], return_indices=True), (2, 3, 11, 13))
add("adaptive_max2d_none_grow", L("AdaptiveMaxPool2d", [None, 12]), (2, 3, 6, 9))
add("adaptive_max2d_float64", L("AdaptiveMaxPool2d", 3, True), (2, 3, 7, 8), dtype="float64")
add("adaptive_max2d_float16", L("AdaptiveMaxPool2d", 3), (2, 3, 7, 8), dtype="float16")
add("adaptive_max3d_indices", L("AdaptiveMaxPool3d", [3, None, 2], True), x3)
add("adaptive_max3d_unbatched", L("AdaptiveMaxPool3d", 2), (3, 5, 6, 7))

# --- LPPool1d/2d/3d
add("lppool1d", L("LPPool1d", 2, 3, 2), (2, 3, 10))
add("lppool1d_norm", L("LPPool1d", 1.5, 2), (1, 3, 7))
add("lppool1d_unbatched_ceil", L("LPPool1d", 2, 3, ceil_mode=True), (3, 10))
add("lppool2d", L("LPPool2d", 2, 3, 2), (2, 3, 9, 9))
add("lppool2d_rect_ceil", L("LPPool2d", 3, [3, 2], [1, 2], True), (2, 3, 8, 7))
add("lppool2d_inf", L("LPPool2d", float("inf"), 2), (2, 3, 6, 6))
add("lppool2d_minus_inf_unbatched", L("LPPool2d", float("-inf"), [2, 3], 1), (3, 6, 6))
add("lppool2d_float64", L("LPPool2d", 4, 2), (2, 3, 6, 6), dtype="float64")
add("lppool2d_float16", L("LPPool2d", 2, 2), (2, 3, 6, 6), dtype="float16")
add("lppool3d", L("LPPool3d", 2, 2), (1, 3, 5, 5, 5))
add("lppool3d_norm_unbatched", L("LPPool3d", 1.5, [2, 3, 2], [1, 2, 2]), (3, 5, 5, 5))

# --- FractionalMaxPool2d/3d: fixed samples equal torch's output; drawn ones are checked window by window
add("fracmax2d_ratio_fixed", L("FractionalMaxPool2d", 2, output_ratio=0.5, _random_samples=samples(1, 3, 2)),
    (1, 3, 5, 7))
add("fracmax2d_size_indices_fixed", L("FractionalMaxPool2d", [2, 3], output_size=[4, 3], return_indices=True,
                                      _random_samples=samples(3, 3, 2, seed=1)), (2, 3, 7, 6))
add("fracmax2d_unbatched_fixed", L("FractionalMaxPool2d", 3, [6, 5], _random_samples=samples(1, 2, 2, seed=2)),
    (2, 11, 9))
add("fracmax2d_float64_fixed", L("FractionalMaxPool2d", 2, output_ratio=[0.6, 0.4], _random_samples=samples(2, 2, 2)),
    (2, 2, 9, 12), dtype="float64")
add("fracmax3d_ratio_fixed", L("FractionalMaxPool3d", 2, output_ratio=0.5, _random_samples=samples(2, 4, 3)),
    (2, 4, 5, 5, 5))
add("fracmax3d_asym_indices_fixed", L("FractionalMaxPool3d", [4, 2, 3], output_size=[10, 3, 2], return_indices=True,
                                      _random_samples=samples(2, 4, 3, seed=3)), (2, 4, 16, 7, 5))
add("fracmax3d_unbatched_fixed", L("FractionalMaxPool3d", 2, [3, 3, 3], _random_samples=samples(2, 4, 3, seed=4)),
    (4, 7, 7, 7))
add("fracmax2d_drawn", L("FractionalMaxPool2d", 3, output_size=[5, 6]), (2, 4, 13, 14), random=True)
add("fracmax2d_drawn_train_indices", L("FractionalMaxPool2d", 2, output_ratio=0.5, return_indices=True),
    (3, 4, 12, 10), train=True, random=True)
add("fracmax3d_drawn_indices", L("FractionalMaxPool3d", 2, output_ratio=[0.5, 0.6, 0.7], return_indices=True),
    (1, 3, 8, 9, 10), random=True)
add("fracmax3d_drawn_unbatched", L("FractionalMaxPool3d", [2, 3, 2], [3, 4, 5]), (3, 6, 8, 9), random=True)

# --- MaxUnpool1d/2d/3d: the indices of a max pool, unpooled
add("maxunpool1d", unpool(L("MaxPool1d", 2, return_indices=True), L("MaxUnpool1d", 2)), (2, 3, 10))
add("maxunpool1d_output_size", unpool(L("MaxPool1d", 3, 2, 1, return_indices=True), L("MaxUnpool1d", 3, 2, 1),
                                      "y, i = self.pool(x)\nreturn self.unpool(y, i, output_size=x.size())"),
    (2, 3, 10))
add("maxunpool2d_output_size", unpool(L("MaxPool2d", 2, return_indices=True), L("MaxUnpool2d", 2),
                                      "y, i = self.pool(x)\nreturn self.unpool(y, i, x.shape[-2:])"), (2, 3, 7, 9))
add("maxunpool2d_overlap_unbatched", unpool(L("MaxPool2d", 3, 2, 1, return_indices=True), L("MaxUnpool2d", 3, 2, 1)),
    (3, 7, 9))
add("maxunpool3d", unpool(L("MaxPool3d", 2, return_indices=True), L("MaxUnpool3d", 2)), (2, 3, 4, 6, 4))
add("maxunpool3d_float64", unpool(L("MaxPool3d", [2, 1, 2], [2, 1, 1], return_indices=True),
                                  L("MaxUnpool3d", [2, 1, 2], [2, 1, 1])), (1, 2, 4, 3, 5), dtype="float64")
add("maxunpool2d_float16", unpool(L("MaxPool2d", 2, return_indices=True), L("MaxUnpool2d", 2)), (2, 3, 6, 6),
    dtype="float16")
add("adaptive_max_unpool2d", unpool(L("AdaptiveMaxPool2d", 3, True), L("MaxUnpool2d", 2)), (2, 3, 6, 6))
add("fracmax_unpool2d_fixed", unpool(L("FractionalMaxPool2d", 2, [4, 4], return_indices=True,
                                       _random_samples=samples(2, 3, 2)),
                                     L("MaxUnpool2d", 2), "y, i = self.pool(x)\nreturn self.unpool(y, i, (9, 9))"),
    (2, 3, 9, 9))

# --- every new F op in a custom forward
FRAC = {"buffers": {"s": {"shape": [2, 3, 2], "init": "rand"}, "t": {"shape": [2, 3, 3], "init": "rand"}}}
OPS = [  # (id, forward, input shape)
    ("max_pool3d", "return F.max_pool3d(x, 2, 1, 1, ceil_mode=True)", (2, 3, 4, 5, 6)),
    ("max_pool3d_with_indices", "return F.max_pool3d_with_indices(x, (2, 2, 3))[1]", (2, 3, 4, 5, 6)),
    ("max_pool1d_with_indices", "y, i = F.max_pool1d_with_indices(x, 3, 2)\nreturn y, i", (2, 3, 9)),
    ("max_pool2d_with_indices", "return F.max_pool2d_with_indices(x, 2, return_indices=False)", (2, 3, 6, 6)),
    ("avg_pool3d", "return F.avg_pool3d(x, 3, 2, 1, False, False)", (2, 3, 5, 6, 7)),
    ("adaptive_avg_pool3d", "return F.adaptive_avg_pool3d(x, (None, 2, 3))", (2, 3, 4, 5, 6)),
    ("adaptive_max_pool1d", "return F.adaptive_max_pool1d(x, 4, return_indices=True)", (2, 3, 9)),
    ("adaptive_max_pool1d_with_indices", "return F.adaptive_max_pool1d_with_indices(x, [5])[1]", (2, 3, 9)),
    ("adaptive_max_pool2d", "return F.adaptive_max_pool2d(x, (3, None))", (2, 3, 7, 5)),
    ("adaptive_max_pool2d_with_indices", "return F.adaptive_max_pool2d_with_indices(x, 4)", (3, 7, 5)),
    ("adaptive_max_pool3d", "return F.adaptive_max_pool3d(x, 2) * 2", (2, 3, 5, 4, 3)),
    ("adaptive_max_pool3d_with_indices", "return F.adaptive_max_pool3d_with_indices(x, (1, 2, 3), True)",
     (2, 3, 5, 4, 3)),
    ("lp_pool1d", "return F.lp_pool1d(x, 3, 2, ceil_mode=True)", (2, 3, 9)),
    ("lp_pool2d", "return F.lp_pool2d(F.relu(x), 1.5, (2, 3), 1)", (2, 3, 6, 7)),
    ("lp_pool3d", "return F.lp_pool3d(x, float('inf'), 2)", (2, 3, 4, 5, 6)),
    ("fractional_max_pool2d", "return F.fractional_max_pool2d(x, 2, (3, 4), _random_samples=self.s)", (2, 3, 7, 8)),
    ("fractional_max_pool2d_with_indices",
     "return F.fractional_max_pool2d_with_indices(x, 3, output_ratio=(0.5, 0.5), _random_samples=self.s)",
     (2, 3, 9, 8)),
    ("fractional_max_pool3d", "return F.fractional_max_pool3d(x, 2, 3, None, True, self.t)", (2, 3, 6, 5, 7)),
    ("fractional_max_pool3d_with_indices",
     "return F.fractional_max_pool3d_with_indices(x, (2, 1, 2), output_ratio=0.6, _random_samples=self.t)[0]",
     (2, 3, 6, 5, 7)),
    ("max_unpool1d", "y, i = F.max_pool1d(x, 2, return_indices=True)\nreturn F.max_unpool1d(y, i, 2, output_size=[9])",
     (2, 3, 9)),
    ("max_unpool2d", "y, i = F.max_pool2d(x, 3, 2, 1, return_indices=True)\nreturn F.max_unpool2d(y, i, 3, 2, 1)",
     (2, 3, 7, 7)),
    ("max_unpool3d", "y, i = F.max_pool3d(x, 2, return_indices=True)\nreturn F.max_unpool3d(y, i, (2, 2, 2), "
     "output_size=x.size())", (2, 3, 4, 5, 5)),
]
for op_id, forward, shape in OPS:
    add(f"op_F_{op_id}", {"name": "Ops", **(FRAC if "fractional" in op_id else {}), "forward": forward}, shape)
