"""Parity cases: convolutions (3-d, transposed, lazy) and padding layers. Imported by cases.py; each add() is one case."""

from __future__ import annotations

from cases import L, add  # noqa: F401


def seq(*layers) -> dict:
    return {"type": "Sequential", "modules": list(layers)}


def calling(layer: dict, forward: str) -> dict:
    """A custom forward around one layer ``c``: a call with arguments a Sequential can't give (output_size=)."""
    return {"name": "Net", "modules": {"c": layer}, "forward": forward}


# --- Conv3d: every padding form and mode, groups, dilation, unbatched, dtypes
x3 = (2, 4, 6, 7, 5)
add("conv3d_stride_pad", L("Conv3d", 4, 6, 3, stride=2, padding=1), x3)
add("conv3d_groups_dil_nobias", L("Conv3d", 4, 6, [3, 2, 1], groups=2, dilation=[2, 1, 3], bias=False), x3)
add("conv3d_depthwise", L("Conv3d", 4, 8, [2, 3, 2], groups=4, stride=[1, 2, 1]), x3)
add("conv3d_same_even", L("Conv3d", 4, 6, [4, 3, 2], padding="same", dilation=[1, 2, 1]), x3)
add("conv3d_valid", L("Conv3d", 4, 6, [2, 3, 3], padding="valid", stride=[2, 1, 2]), x3)
for mode in ("zeros", "reflect", "replicate", "circular"):
    add(f"conv3d_{mode}", L("Conv3d", 4, 6, [3, 2, 3], padding=[2, 1, 1], padding_mode=mode, stride=[1, 2, 1]), x3)
add("conv3d_same_circular", L("Conv3d", 4, 6, 3, padding="same", padding_mode="circular"), x3)
add("conv3d_unbatched", L("Conv3d", 4, 6, 3, padding=1), (4, 5, 6, 4))
add("conv3d_unbatched_reflect", L("Conv3d", 4, 6, 2, padding=1, padding_mode="reflect"), (4, 5, 6, 4))
add("conv3d_1x1", L("Conv3d", 4, 8, 1), x3)
add("conv3d_float64", L("Conv3d", 4, 6, 3, padding=1, groups=2), (1, 4, 4, 5, 3), dtype="float64")
add("conv3d_float16", L("Conv3d", 4, 6, 2), (1, 4, 4, 4, 4), dtype="float16")

# --- ConvTranspose2d / ConvTranspose3d: stride, padding (cropping past the kernel), output_padding, groups,
# dilation, output_size, unbatched, dtypes
x2 = (2, 4, 5, 6)
add("convt2d_out_pad", L("ConvTranspose2d", 4, 6, 3, stride=2, padding=1, output_padding=1), x2)
add("convt2d_groups_dil", L("ConvTranspose2d", 4, 6, [3, 2], stride=[2, 3], groups=2, dilation=2,
                            output_padding=[1, 2]), x2)
add("convt2d_crop", L("ConvTranspose2d", 4, 6, 3, stride=3, padding=[3, 4], bias=False), x2)
add("convt2d_depthwise", L("ConvTranspose2d", 4, 8, 3, groups=4, stride=2), x2)
add("convt2d_unbatched", L("ConvTranspose2d", 4, 6, 2, stride=2), (4, 5, 6))
add("convt2d_output_size", calling(L("ConvTranspose2d", 4, 6, 3, stride=2, padding=1),
                                   "return self.c(x, output_size=[10, 12])"), x2)
add("convt2d_output_size_full", calling(L("ConvTranspose2d", 4, 6, 3, stride=[2, 3]),
                                        "return self.c(x, output_size=[x.size(0), 6, 12, 19])"), x2)
add("convt2d_output_size_unbatched", calling(L("ConvTranspose2d", 4, 6, 3, stride=2),
                                             "return self.c(x, output_size=(6, 12, 13))"), (4, 5, 6))
add("convt2d_output_size_over_output_padding", calling(L("ConvTranspose2d", 4, 6, 3, output_padding=[1, 0]),
                                                      "return self.c(x, output_size=[7, 8])"), x2)
add("convt2d_float64", L("ConvTranspose2d", 4, 6, 3, stride=2, padding=1, groups=2), x2, dtype="float64")
add("convt2d_float16", L("ConvTranspose2d", 4, 6, 3, stride=2), x2, dtype="float16")
xt3 = (2, 4, 3, 4, 3)
add("convt3d_out_pad", L("ConvTranspose3d", 4, 6, 3, stride=2, padding=1, output_padding=1), xt3)
add("convt3d_groups_dil", L("ConvTranspose3d", 4, 6, [2, 3, 1], stride=[1, 2, 3], padding=[0, 1, 1], groups=2,
                            dilation=[2, 1, 2], output_padding=[1, 1, 2], bias=False), xt3)
add("convt3d_unbatched", L("ConvTranspose3d", 4, 6, 2, stride=2), (4, 3, 4, 5))
add("convt3d_output_size", calling(L("ConvTranspose3d", 4, 6, 3, stride=2, padding=1),
                                   "return self.c(x, output_size=[6, 7, 5])"), xt3)
add("convt3d_float64", L("ConvTranspose3d", 4, 6, 2, stride=[2, 1, 2]), (1, 4, 3, 3, 3), dtype="float64")

# --- lazy convolutions: in_channels from the first input; compared with torch after that first call
add("lazy_conv1d_seq", seq(L("LazyConv1d", 6, 3), "ReLU", L("LazyConv1d", 4, 3, padding="same", dilation=2)),
    (2, 5, 17))
add("lazy_conv2d_bn_train", seq(L("LazyConv2d", 6, 3, stride=2, padding=1, bias=False), L("BatchNorm2d", 6), "ReLU",
                                L("LazyConv2d", 4, 1)), (2, 3, 9, 8), train=True)
add("lazy_conv2d_groups_reflect", seq(L("LazyConv2d", 6, [3, 2], groups=2, padding=[1, 2], padding_mode="reflect")),
    (2, 4, 7, 6))
add("lazy_conv3d_circular", seq(L("LazyConv3d", 4, 3, padding=1, padding_mode="circular")), (2, 3, 4, 5, 4))
add("lazy_conv3d_same_unbatched", seq(L("LazyConv3d", 4, 3, padding="same")), (3, 4, 5, 4))
add("lazy_convt1d", seq(L("LazyConvTranspose1d", 4, 3, stride=2, output_padding=1, dilation=2)), (2, 5, 7))
add("lazy_convt2d_groups", seq(L("LazyConvTranspose2d", 6, 3, stride=2, padding=1, groups=3, bias=False), "Tanh"),
    (2, 6, 4, 5))
add("lazy_convt3d_unbatched", seq(L("LazyConvTranspose3d", 4, 2, stride=2)), (3, 3, 4, 2))
add("lazy_conv2d_float64", seq(L("LazyConv2d", 5, 3), L("LazyConv2d", 2, 2)), (2, 3, 7, 7), dtype="float64")
add("lazy_conv_custom_forward", {"name": "Net", "modules": {"a": L("LazyConv2d", 4, 3, padding=1),
                                                            "b": L("LazyConvTranspose2d", 3, 2, stride=2)},
                                 "forward": "return self.b(self.a(x) + x[:, :1])"}, (2, 3, 5, 6))
add("lazy_convt2d_output_size", calling(L("LazyConvTranspose2d", 6, 3, stride=2),
                                        "return self.c(x, output_size=[12, 14])"), x2)

# --- padding layers: every class, the int and tuple forms, negative (cropping) pads in every mode,
# unbatched inputs, and the widest pads each mode allows
for n, x in ((1, (2, 3, 7)), (2, (2, 3, 5, 6)), (3, (2, 3, 4, 5, 3))):
    sides = [1, 2, 0, 3, 2, 1][:2 * n]
    add(f"zeropad{n}d_int", L(f"ZeroPad{n}d", 2), x)
    add(f"zeropad{n}d_tuple", L(f"ZeroPad{n}d", sides), x)
    add(f"zeropad{n}d_crop", L(f"ZeroPad{n}d", [-1, 2, 1, -2, 0, -1][:2 * n]), x)
    add(f"constpad{n}d_int", L(f"ConstantPad{n}d", 1, 3.5), x)
    add(f"constpad{n}d_tuple", L(f"ConstantPad{n}d", sides, value=-2), x[1:])
    for kind, mode in (("Reflection", "reflect"), ("Replication", "replicate"), ("Circular", "circular")):
        add(f"{mode}pad{n}d_int", L(f"{kind}Pad{n}d", 2), x)
        add(f"{mode}pad{n}d_tuple_unbatched", L(f"{kind}Pad{n}d", sides), x[1:])
        add(f"{mode}pad{n}d_crop", L(f"{kind}Pad{n}d", [-1, 2, 1, -2, 0, -1][:2 * n]), x)  # torch crops in every mode
    widest = [min(s - 1, 4) for s in x[:1:-1] for _ in (0, 1)]  # reflect: less than the size
    add(f"reflectpad{n}d_widest", L(f"ReflectionPad{n}d", widest), x)
    add(f"circularpad{n}d_widest", L(f"CircularPad{n}d", [s for s in x[:1:-1] for _ in (0, 1)]), x)
add("zeropad2d_any_dims", L("ZeroPad2d", [1, 0, 2, 1]), (6, 5))  # a constant pad takes any input of 2+ dims
add("constpad3d_6d", L("ConstantPad3d", 1, value=0.5), (2, 1, 3, 2, 3, 2))
add("reflectpad2d_float64", L("ReflectionPad2d", [1, 2, 2, 1]), (2, 3, 4, 5), dtype="float64")
add("replicatepad3d_float16", L("ReplicationPad3d", 1), (1, 2, 3, 3, 3), dtype="float16")
add("padding_conv_seq", seq(L("ReflectionPad2d", 1), L("Conv2d", 3, 4, 3), L("ZeroPad2d", [0, 1, 0, 1]),
                            L("CircularPad2d", [1, 1, 2, 0]), L("LazyConv2d", 2, 2)), (2, 3, 6, 7))

# --- the new F op, and F.pad's 3-d modes, inside a custom forward
add("op_F_conv_transpose3d", {"name": "Ops", "parameters": {"w": {"shape": [4, 3, 2, 3, 2], "init": "randn"},
                                                            "b": {"shape": [6], "init": "randn"}},
                              "forward": "return F.conv_transpose3d(x, self.w, self.b, (2, 1, 2), 1, (1, 0, 1), 2)"},
    (2, 4, 3, 4, 3))
add("op_F_conv_transpose3d_unbatched", {"name": "Ops", "parameters": {"w": {"shape": [4, 2, 2, 2, 2], "init": "randn"}},
                                        "forward": "return F.conv_transpose3d(x, self.w, stride=2, dilation=(1, 2, 1))"},
    (4, 3, 2, 3))
for mode in ("reflect", "replicate", "circular"):
    add(f"op_F_pad3d_{mode}", {"name": "Ops", "forward": f"return F.pad(x, (1, 2, 0, 1, 2, 1), mode='{mode}')"},
        (2, 3, 4, 3, 5))
