"""Parity cases: activations and dropout variants. Imported by cases.py; each add() is one case."""

from __future__ import annotations

from cases import L, add  # noqa: F401

add("gelu_exact", L("GELU"), (3, 4, 5))
add("gelu_tanh", L("GELU", "tanh"), (3, 4, 5))
add("gelu_float64", L("GELU"), (3, 7), dtype="float64")
add("gelu_float16", L("GELU", approximate="tanh"), (3, 7), dtype="float16")
add("op_F_gelu", {"name": "Ops", "forward": "return F.gelu(x * 3, approximate='tanh') + F.gelu(x)"}, (2, 9))


def scaled(layer: dict, k: float = 4.0) -> dict:
    """A layer on k * x: the standard-normal inputs then reach the activation's breakpoints and tails."""
    return {"name": "Scaled", "modules": {"act": layer}, "forward": f"return self.act(x * {k})"}


x3 = (3, 2, 5)
add("elu_alpha", L("ELU", 2.0), x3)
add("elu_int_alpha_inplace", L("ELU", 1, inplace=True), (2, 3, 4))  # repr alpha=1, as torch keeps the int
add("elu_float64", L("ELU", 0.5), (3, 7), dtype="float64")
add("elu_float16", L("ELU"), (3, 7), dtype="float16")
add("celu_alpha", L("CELU", 2.0), x3)
add("celu_inplace_float64", L("CELU", 0.5, True), (4,), dtype="float64")
add("selu", L("SELU"), x3)
add("selu_inplace", L("SELU", inplace=True), (4,))
add("glu_last", L("GLU"), (5, 6))
add("glu_dim", L("GLU", 1), (5, 6, 7))
add("glu_float64", L("GLU", -2), (4, 3), dtype="float64")
add("hardshrink", L("Hardshrink"), (4, 3, 2, 4))
add("hardshrink_lambd", scaled(L("Hardshrink", 2.0)), (4, 3, 2, 4))
add("hardsigmoid", scaled(L("Hardsigmoid")), (4, 3, 5))
add("hardsigmoid_inplace_float64", scaled(L("Hardsigmoid", True)), (4, 3, 5), dtype="float64")
add("hardswish", scaled(L("Hardswish")), (2, 3, 2, 5))
add("hardswish_inplace", scaled(L("Hardswish", inplace=True)), (4,))
add("hardswish_float16", scaled(L("Hardswish")), (2, 9), dtype="float16")
add("hardtanh", L("Hardtanh"), x3)
add("hardtanh_ints_inplace", scaled(L("Hardtanh", -2, 3, True)), x3)
add("hardtanh_min_value", L("Hardtanh", min_value=-0.5), x3)  # the deprecated keyword (a FutureWarning)
add("logsigmoid", scaled(L("LogSigmoid"), 10), (2, 3, 4))
add("logsigmoid_float64", L("LogSigmoid"), (4,), dtype="float64")
add("mish", scaled(L("Mish")), (5, 6, 7))
add("mish_inplace_float64", L("Mish", True), (5, 6), dtype="float64")
add("silu", L("SiLU"), (5, 6, 7))
add("silu_inplace", scaled(L("SiLU", True), 10), (4,))
add("silu_float16", L("SiLU"), (3, 7), dtype="float16")
add("softplus", scaled(L("Softplus"), 10), (10, 20))
add("softplus_beta", L("Softplus", 2), (10, 20))
add("softplus_beta_threshold", L("Softplus", 2, -100), (10, 20))
add("softplus_linear_part", scaled(L("Softplus", 0.5, 1.0)), (10, 20))  # beta * x > threshold: x itself
add("softplus_float64", scaled(L("Softplus", beta=3), 10), (4, 5), dtype="float64")
add("softshrink", L("Softshrink"), x3)
add("softshrink_lambd", L("Softshrink", 1), x3)
add("softsign", scaled(L("Softsign")), x3)
add("softsign_float64", L("Softsign"), (4,), dtype="float64")
add("tanhshrink", L("Tanhshrink"), (2, 3, 4, 5))
add("tanhshrink_float16", L("Tanhshrink"), (2, 9), dtype="float16")
add("threshold", L("Threshold", 0.1, 20), (2, 3, 4, 5))
add("threshold_inplace", L("Threshold", 0.5, -1.0, True), (2, 3, 4, 5))
add("threshold_float64", L("Threshold", threshold=-0.3, value=2), (4,), dtype="float64")
add("rrelu_eval", L("RReLU", 0.1, 0.3), (2, 3, 4))
add("rrelu_default_eval_inplace", L("RReLU", inplace=True), (2, 3, 4))
add("rrelu_float64_eval", L("RReLU"), (7,), dtype="float64")
add("rrelu_train", L("RReLU", 0.1, 0.3), (40, 50), train=True, random=True)
add("rrelu_train_inplace", L("RReLU", inplace=True), (40, 50), train=True, random=True)
add("softmax_dim1", L("Softmax", 1), (10, 20))
add("softmax_implicit", L("Softmax"), (2, 3, 4))  # the legacy implicit dim (0 for a 3-d input), with its warning
add("softmax_last_float64", L("Softmax", -1), (4, 5), dtype="float64")
add("softmin", L("Softmin", 1), (2, 3, 5, 10))
add("softmin_implicit", L("Softmin"), (4, 5))
add("softmin_float16", L("Softmin", -1), (3, 4, 10), dtype="float16")
add("logsoftmax", L("LogSoftmax", 1), (1, 3, 10, 20))
add("logsoftmax_float64", L("LogSoftmax", 0), (4, 5), dtype="float64")
add("softmax2d", L("Softmax2d"), (1, 3, 10, 20))
add("softmax2d_unbatched", L("Softmax2d"), (3, 4, 5))

# --- dropout variants: identity in eval; train compared by statistics (tests/parity.py _check_random)
add("dropout1d_eval", L("Dropout1d", 0.3), (2, 4, 8))
add("dropout1d_train", L("Dropout1d", 0.3), (40, 64, 8), train=True, random=True)
add("dropout1d_unbatched_train", L("Dropout1d", 0.4), (400, 8), train=True, random=True)
add("dropout3d_eval", L("Dropout3d"), (2, 3, 2, 2, 2))
add("dropout3d_train", L("Dropout3d", 0.2), (40, 64, 2, 2, 2), train=True, random=True)
add("dropout3d_unbatched_train", L("Dropout3d", 0.5, True), (400, 2, 2, 2), train=True, random=True)
add("dropout2d_2d_train", L("Dropout2d", 0.3), (200, 50), train=True, random=True)  # per element, as torch
add("dropout2d_3d_train", L("Dropout2d", 0.3), (40, 64, 8), train=True, random=True)  # (N, C, L), with a warning
add("alpha_dropout_eval", L("AlphaDropout", 0.2), (20, 16))
add("alpha_dropout_train", L("AlphaDropout", 0.2), (200, 160), train=True, random=True)
add("feature_alpha_dropout_eval", L("FeatureAlphaDropout"), (2, 4, 3, 3))
add("feature_alpha_dropout_train", L("FeatureAlphaDropout", 0.3), (40, 64, 4, 4), train=True, random=True)

# --- every F op of the family, in a custom forward
OPS = [  # (id, forward's expression, input shape); the input is x
    ("elu", "F.elu(x, 0.5) + F.elu(x, alpha=2.0) + F.selu(x) + F.celu(x * 2, 0.7)", (2, 9)),
    ("elu_inplace", "F.elu(x * 1, 2.0, True) + F.selu(x * 1, inplace=True) + F.celu(x * 1, 1.5, inplace=True)",
     (2, 9)),
    ("elu_", "F.elu_(x * 1) + F.elu_(x * 2, 0.5, 2.0, 0.5) + F.selu_(x * 1) + F.celu_(x * 1, alpha=3.0)", (2, 9)),
    ("glu", "F.glu(x).sum() + F.glu(x, dim=0)", (4, 6)),
    ("shrink", "F.hardshrink(x) + F.hardshrink(x, lambd=1.0) + F.softshrink(x, 0.3) + F.softshrink(x)", (2, 9)),
    ("hard", "F.hardsigmoid(x * 4) + F.hardswish(x * 4) + F.hardsigmoid(x * 1, True) + "
             "F.hardswish(x * 2, inplace=True)", (2, 9)),
    ("smooth", "F.logsigmoid(x * 5) + F.mish(x * 5) + F.silu(x) + F.mish(x * 1, True) + F.silu(x * 1, inplace=True)",
     (2, 9)),
    ("softplus", "F.softplus(x * 10) + F.softplus(x, 2) + F.softplus(x, beta=0.5, threshold=1)", (2, 9)),
    ("soft", "F.softsign(x * 3) + F.tanhshrink(x * 2)", (2, 9)),
    ("threshold", "F.threshold(x, 0.1, 20.0) + F.threshold(x * 1, -0.2, value=-3, inplace=True) + "
                  "F.threshold_(x * 1, 0.0, 1.5)", (2, 9)),
    ("rrelu_eval", "F.rrelu(x) + F.rrelu(x, 0.2, 0.5) + F.rrelu(x * 1, 0.1, 0.2, False, True) + "
                   "F.rrelu_(x * 1, upper=0.25)", (2, 9)),
    ("softmin", "F.softmin(x, 1) + F.softmin(x, dim=0) + F.softmin(x.double(), -1).float()", (2, 3, 4)),
    ("inplace_core", "F.relu_(x * 1) + F.hardtanh_(x * 3) + F.hardtanh_(x * 3, -0.5, max_val=2.0) + "
                     "F.leaky_relu_(x * 1) + F.leaky_relu_(x * 1, 0.2)", (2, 9)),
    ("dropouts_eval", "F.dropout1d(x[0], 0.5, self.training) + F.dropout3d(x.unsqueeze(0), training=False)[0] + "
                      "F.alpha_dropout(x) + F.feature_alpha_dropout(x, 0.2, False)", (2, 3, 4, 5)),
]
for op_id, expression, shape in OPS:
    add(f"op_F_{op_id}", {"name": "Ops", "forward": f"return {expression}"}, shape)
add("op_F_inplace_alias", {"name": "Ops", "forward": "y = x * 1\nF.elu_(y)\nF.threshold_(y, 0.2, 5.0)\n"
                                                      "z = F.silu(y, inplace=True)\nreturn x + y + z"}, (2, 9))
