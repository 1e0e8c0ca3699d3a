"""Parity cases: loss modules. Imported by cases.py; each add() is one case."""

from __future__ import annotations

from cases import L, add  # noqa: F401


def M(loss: dict, forward: str, inputs=("x", "t")) -> dict:
    """A loss inside a custom forward that shapes its inputs (probabilities, +-1 targets, lengths)."""
    return {"name": "Ops", "modules": {"loss": loss}, "inputs": list(inputs), "forward": forward}


def Ops(forward: str, inputs=("x", "t")) -> dict:
    return {"name": "Ops", "inputs": list(inputs), "forward": forward}


PM1 = "t * 2 - 1"  # an int64 target in [0, 2) as -1 / +1

# --- regression
add("loss_l1", L("L1Loss"), (3, 4, 5), (3, 4, 5))
add("loss_l1_sum", L("L1Loss", reduction="sum"), (3, 4), (3, 4))
add("loss_l1_none_float64", L("L1Loss", reduction="none"), (3, 4), (3, 4), dtype="float64")
add("loss_l1_legacy_size_average", L("L1Loss", size_average=False), (3, 4), (3, 4))
add("loss_l1_legacy_reduce", L("L1Loss", None, False), (3, 4), (3, 4))
add("loss_l1_unbatched", L("L1Loss"), (4,), (4,))
add("loss_mse", L("MSELoss"), (2, 3, 4, 5), (2, 3, 4, 5))
add("loss_mse_none", L("MSELoss", reduction="none"), (3, 4), (3, 4))
add("loss_mse_float16", L("MSELoss"), (3, 4), (3, 4), dtype="float16")
add("loss_mse_float64_sum", L("MSELoss", reduction="sum"), (3, 4), (3, 4), dtype="float64")
add("loss_smooth_l1", L("SmoothL1Loss"), (5, 10), (5, 10))
add("loss_smooth_l1_beta", L("SmoothL1Loss", reduction="none", beta=0.5), (5, 10), (5, 10))
add("loss_smooth_l1_beta0", L("SmoothL1Loss", beta=0.0), (5, 10), (5, 10))
add("loss_huber", L("HuberLoss"), (5, 10), (5, 10))
add("loss_huber_delta", L("HuberLoss", "sum", 0.5), (5, 10), (5, 10), dtype="float64")
add("loss_huber_none", L("HuberLoss", reduction="none", delta=2), (5, 10), (5, 10))
add("loss_soft_margin", M(L("SoftMarginLoss"), f"return self.loss(x, {PM1})"), (5, 6), (5, 6), ints={1: 2})
add("loss_soft_margin_none", M(L("SoftMarginLoss", reduction="none"), f"return self.loss(x, {PM1})"), (5, 6), (5, 6),
    ints={1: 2})
add("loss_poisson", L("PoissonNLLLoss"), (2, 3, 4), (2, 3, 4))
add("loss_poisson_full", M(L("PoissonNLLLoss", False, True, eps=1e-6, reduction="none"),
                           "return self.loss(x * x + 0.001, t)"), (3, 5), (3, 5), ints={1: 6})
add("loss_poisson_log_input_full", M(L("PoissonNLLLoss", full=True, reduction="sum"), "return self.loss(x, t * t)"),
    (3, 5), (3, 5), dtype="float64")
add("loss_gaussian", M(L("GaussianNLLLoss"), "return self.loss(x, t, v * v)", ("x", "t", "v")), (4, 3), (4, 3), (4, 3))
add("loss_gaussian_homoscedastic", M(L("GaussianNLLLoss", full=True, eps=1e-3, reduction="none"),
                                     "return self.loss(x, t, v.sigmoid())", ("x", "t", "v")), (4, 3), (4, 3), (4,))
add("loss_gaussian_var_column", M(L("GaussianNLLLoss", reduction="sum"), "return self.loss(x, t, v * v)",
                                  ("x", "t", "v")), (4, 3), (4, 3), (4, 1), dtype="float64")
add("loss_gaussian_float_var", M(L("GaussianNLLLoss"), "return self.loss(x, t, 0.5)"), (4, 3), (4, 3))
add("loss_kl_div", M(L("KLDivLoss", reduction="batchmean"), "return self.loss(x.log_softmax(1), t.softmax(1))"),
    (10, 10), (10, 10))
add("loss_kl_div_mean", M(L("KLDivLoss"), "return self.loss(x.log_softmax(1), t.softmax(1))"), (4, 5), (4, 5))
add("loss_kl_div_log_target", M(L("KLDivLoss", reduction="none", log_target=True),
                                "return self.loss(x.log_softmax(1), t.log_softmax(1))"), (4, 5), (4, 5))
add("loss_kl_div_legacy", M(L("KLDivLoss", False), "return self.loss(x.log_softmax(1), t.softmax(1))"), (4, 5), (4, 5))

# --- binary
add("loss_bce", M(L("BCELoss"), "return self.loss(x.sigmoid(), t.sigmoid())"), (15, 10), (15, 10))
add("loss_bce_weight", M(L("BCELoss", [0.5, 1, 2, 0.25], reduction="none"), "return self.loss(x.sigmoid(), t * 1.0)"),
    (3, 4), (3, 4), ints={1: 2})
add("loss_bce_scalar_weight", M(L("BCELoss", weight=2.5, reduction="sum"), "return self.loss(x.sigmoid(), t.sigmoid())"),
    (3, 4), (3, 4), dtype="float64")
add("loss_bce_float16", M(L("BCELoss"), "return self.loss(x.sigmoid(), t.sigmoid())"), (3, 4), (3, 4), dtype="float16")
add("loss_bce_logits", M(L("BCEWithLogitsLoss"), "return self.loss(x * 10, t.sigmoid())"), (15, 10), (15, 10))
add("loss_bce_logits_weights", M(L("BCEWithLogitsLoss", [1, 2, 3, 4], pos_weight=[0.5, 3, 1, 2], reduction="none"),
                                 "return self.loss(x, t.sigmoid())"), (3, 4), (3, 4))
add("loss_bce_logits_pos_weight_2d", M(L("BCEWithLogitsLoss", pos_weight=[[2], [1], [0.5]], reduction="sum"),
                                       "return self.loss(x, t.sigmoid())"), (3, 4), (3, 4), dtype="float64")

# --- classification
add("loss_nll", L("NLLLoss"), (15, 4), (15,), ints={1: 4})
add("loss_nll_weight_ignore", L("NLLLoss", [1, 2, 0.5, 3], ignore_index=2), (15, 4), (15,), ints={1: 4})
add("loss_nll_nd_none", L("NLLLoss", reduction="none", ignore_index=0), (2, 4, 5, 5), (2, 5, 5), ints={1: 4})
add("loss_nll_3d_sum", L("NLLLoss", [1, 2, 0.5, 3], reduction="sum"), (2, 4, 5), (2, 5), ints={1: 4})
add("loss_nll_higher_dim", L("NLLLoss", [1, 2, 0.5, 3]), (2, 4, 3, 2, 2), (2, 3, 2, 2), ints={1: 4})
add("loss_nll_unbatched", L("NLLLoss", reduction="none"), (4,), (), ints={1: 4})
add("loss_nll_float64", L("NLLLoss", [1, 2, 0.5, 3], ignore_index=-1), (6, 4), (6,), ints={1: 4}, dtype="float64")
add("loss_nll2d", L("NLLLoss2d", ignore_index=1), (2, 3, 4, 4), (2, 4, 4), ints={1: 3})
add("loss_ce", L("CrossEntropyLoss"), (15, 4), (15,), ints={1: 4})
add("loss_ce_weight_ignore_smoothing", L("CrossEntropyLoss", [1, 2, 0.5, 3], ignore_index=1, label_smoothing=0.15),
    (15, 4), (15,), ints={1: 4})
add("loss_ce_smoothing_none", L("CrossEntropyLoss", reduction="none", label_smoothing=0.2), (6, 4), (6,), ints={1: 4})
add("loss_ce_smoothing_sum_weight", L("CrossEntropyLoss", [1, 2, 0.5], reduction="sum", label_smoothing=0.1),
    (2, 3, 5, 5), (2, 5, 5), ints={1: 3})
add("loss_ce_4d", L("CrossEntropyLoss", ignore_index=1), (2, 3, 5, 5), (2, 5, 5), ints={1: 3})
add("loss_ce_higher_dim_none", L("CrossEntropyLoss", reduction="none"), (2, 3, 5, 2, 2), (2, 5, 2, 2), ints={1: 3})
add("loss_ce_unbatched", L("CrossEntropyLoss", reduction="none"), (3,), (), ints={1: 3})
add("loss_ce_legacy", L("CrossEntropyLoss", None, None, -100, False), (5, 3), (5,), ints={1: 3})
add("loss_ce_float64", L("CrossEntropyLoss", [1, 2, 0.5], label_smoothing=0.3), (5, 3), (5,), ints={1: 3},
    dtype="float64")
add("loss_ce_float16", L("CrossEntropyLoss"), (5, 3), (5,), ints={1: 3}, dtype="float16")
add("loss_ce_probs", M(L("CrossEntropyLoss"), "return self.loss(x, t.softmax(1))"), (5, 3, 4), (5, 3, 4))
add("loss_ce_probs_weight_smoothing", M(L("CrossEntropyLoss", [1, 2, 0.5], reduction="none", label_smoothing=0.15),
                                        "return self.loss(x, t.softmax(1))"), (5, 3), (5, 3))
add("loss_ce_probs_unbatched", M(L("CrossEntropyLoss", reduction="sum"), "return self.loss(x, t.softmax(0))"), (3,),
    (3,))
add("loss_linear_ce", L("LinearCrossEntropyLoss", 5, 4), (8, 5), (8,), ints={1: 4})
add("loss_linear_ce_kdim", L("LinearCrossEntropyLoss", 5, 4, out_features=[3, 2], bias=True, weight=[1, 2, 0.5, 3],
                             reduction="none", ignore_index=1, label_smoothing=0.1), (8, 5), (8, 3, 2), ints={1: 4})
add("loss_linear_ce_probs", M(L("LinearCrossEntropyLoss", 5, 4, out_features=[2], reduction="sum"),
                              "return self.loss(x, t.softmax(1))"), (8, 5), (8, 4, 2))
add("loss_linear_ce_unbatched", L("LinearCrossEntropyLoss", 8, 4, bias=True, label_smoothing=0.1), (8,), (),
    ints={1: 4})
add("loss_linear_ce_options", L("LinearCrossEntropyLoss", 5, 4, options={"batch_chunk_size": 2}, weight=[1, 2, 3, 4]),
    (8, 5), (8,), ints={1: 4})
add("loss_multi_margin", L("MultiMarginLoss"), (5, 10), (5,), ints={1: 10})
add("loss_multi_margin_p2_weight", L("MultiMarginLoss", 2, 0.5, [1, 2, 3, 4], reduction="none"), (5, 4), (5,),
    ints={1: 4})
add("loss_multi_margin_unbatched", L("MultiMarginLoss", reduction="sum"), (6,), (), ints={1: 6}, dtype="float64")
add("loss_multilabel_margin", M(L("MultiLabelMarginLoss"), "return self.loss(x, t - 1)"), (5, 10), (5, 10),
    ints={1: 11})
add("loss_multilabel_margin_1d_none", M(L("MultiLabelMarginLoss", reduction="none"), "return self.loss(x, t - 1)"),
    (10,), (10,), ints={1: 11})
add("loss_multilabel_margin_none", M(L("MultiLabelMarginLoss", reduction="none"), "return self.loss(x, t - 1)"),
    (4, 6), (4, 6), ints={1: 7}, dtype="float64")
add("loss_multilabel_soft_margin", L("MultiLabelSoftMarginLoss"), (5, 10), (5, 10), ints={1: 2})
add("loss_multilabel_soft_margin_weight", M(L("MultiLabelSoftMarginLoss", [1, 2, 0.5, 3], reduction="none"),
                                            "return self.loss(x, t.sigmoid())"), (3, 4), (3, 4))

# --- embeddings and margins
add("loss_hinge", M(L("HingeEmbeddingLoss"), f"return self.loss(x, {PM1})"), (10,), (10,), ints={1: 2})
add("loss_hinge_margin_none", M(L("HingeEmbeddingLoss", 0.5, reduction="none"), f"return self.loss(x, {PM1})"),
    (3, 4), (3, 4), ints={1: 2})
add("loss_cosine", M(L("CosineEmbeddingLoss"), f"return self.loss(x, y, {PM1})", ("x", "y", "t")), (15, 10),
    (15, 10), (15,), ints={2: 2})
add("loss_cosine_margin_none", M(L("CosineEmbeddingLoss", 0.7, reduction="none"), f"return self.loss(x, y, {PM1})",
                                 ("x", "y", "t")), (5, 4), (5, 4), (5,), ints={2: 2})
add("loss_cosine_unbatched", M(L("CosineEmbeddingLoss", reduction="sum"), f"return self.loss(x, y, {PM1})",
                               ("x", "y", "t")), (4,), (4,), (), ints={2: 2})
add("loss_margin_ranking", M(L("MarginRankingLoss"), f"return self.loss(x, y, {PM1})", ("x", "y", "t")), (50,),
    (50,), (50,), ints={2: 2})
add("loss_margin_ranking_margin", M(L("MarginRankingLoss", 0.5, reduction="none"), f"return self.loss(x, y, {PM1})",
                                    ("x", "y", "t")), (5,), (5,), (5,), ints={2: 2}, dtype="float64")
add("loss_triplet", L("TripletMarginLoss"), (5, 8), (5, 8), (5, 8))
add("loss_triplet_swap_p1", L("TripletMarginLoss", 0.5, 1, swap=True, reduction="none"), (5, 8), (5, 8), (5, 8))
add("loss_triplet_unbatched", L("TripletMarginLoss", p=3, eps=1e-3, reduction="sum"), (8,), (8,), (8,))
add("loss_triplet_distance", L("TripletMarginWithDistanceLoss"), (5, 8), (5, 8), (5, 8))
add("loss_triplet_distance_swap", L("TripletMarginWithDistanceLoss", margin=2, swap=True, reduction="none"), (5, 8),
    (5, 8), (5, 8), dtype="float64")

# --- CTC: log-probabilities (T, N, C), labels 1..C-1 (0 is the blank), lengths as lists
add("loss_ctc", M(L("CTCLoss"), "return self.loss(x.log_softmax(2), t + 1, [6, 5, 4], [3, 2, 4])"), (6, 3, 5),
    (3, 4), ints={1: 4})
add("loss_ctc_none_blank", M(L("CTCLoss", 4, "none"), "return self.loss(x.log_softmax(2), t, [6, 5, 6], [3, 2, 0])"),
    (6, 3, 5), (3, 4), ints={1: 4})
add("loss_ctc_concatenated_sum", M(L("CTCLoss", reduction="sum"),
                                   "return self.loss(x.log_softmax(2), t + 1, [6, 5, 4], [3, 2, 4])"), (6, 3, 5), (9,),
    ints={1: 4}, dtype="float64")
add("loss_ctc_zero_infinity", M(L("CTCLoss", reduction="none", zero_infinity=True),
                                "return self.loss(x.log_softmax(2), t + 1, [6, 2], [3, 3])"), (6, 2, 5), (2, 3),
    ints={1: 4})
add("loss_ctc_unbatched", M(L("CTCLoss"), "return self.loss(x.log_softmax(1), t + 1, [7], [4])"), (7, 5), (4,),
    ints={1: 4})

# --- the F ops in custom forwards
add("op_F_l1_loss", Ops("return F.l1_loss(x, t) + F.l1_loss(x, t, weight=t * t, reduction='sum')"), (3, 4), (3, 4))
add("op_F_mse_loss", Ops("return F.mse_loss(x, t, reduction='none', weight=x * x) + F.mse_loss(x, t)"), (3, 4), (4,))
add("op_F_huber_loss", Ops("return F.huber_loss(x, t, delta=0.5) + F.huber_loss(x, t, weight=x * x)"), (3, 4), (3, 4))
add("op_F_smooth_l1_loss", Ops("return F.smooth_l1_loss(x, t, beta=2.0, reduction='none')"), (3, 4), (3, 4))
add("op_F_soft_margin_loss", Ops(f"return F.soft_margin_loss(x, {PM1}, reduction='sum')"), (3, 4), (3, 4), ints={1: 2})
add("op_F_binary_cross_entropy", Ops("return F.binary_cross_entropy(x.sigmoid(), t.sigmoid(), weight=t * t)"),
    (3, 4), (3, 4))
add("op_F_binary_cross_entropy_with_logits", Ops("return F.binary_cross_entropy_with_logits(x, t.sigmoid(), "
                                                 "pos_weight=t * t, reduction='none')"), (3, 4), (3, 4))
add("op_F_kl_div", Ops("return F.kl_div(x.log_softmax(1), t.log_softmax(1), reduction='batchmean', log_target=True)"),
    (3, 4), (3, 4))
add("op_F_poisson_nll_loss", Ops("return F.poisson_nll_loss(x, t * t, full=True)"), (3, 4), (3, 4))
add("op_F_gaussian_nll_loss", Ops("return F.gaussian_nll_loss(x, t, x * x, full=True, reduction='none')"), (3, 4),
    (3, 4))
add("op_F_nll_loss", Ops("return F.nll_loss(x.log_softmax(1), t, ignore_index=1, reduction='sum')"), (6, 4), (6,),
    ints={1: 4})
add("op_F_cross_entropy", Ops("return F.cross_entropy(x, t, label_smoothing=0.25) + F.cross_entropy(x, x.softmax(1))"),
    (6, 4), (6,), ints={1: 4})
add("op_F_hinge_embedding_loss", Ops(f"return F.hinge_embedding_loss(x, {PM1}, margin=2.0)"), (6,), (6,), ints={1: 2})
add("op_F_cosine_embedding_loss", Ops(f"return F.cosine_embedding_loss(x, y, {PM1}, 0.2, reduction='none')",
                                      ("x", "y", "t")), (4, 6), (4, 6), (4,), ints={2: 2})
add("op_F_margin_ranking_loss", Ops(f"return F.margin_ranking_loss(x, y, {PM1}, margin=0.1)", ("x", "y", "t")), (6,),
    (6,), (6,), ints={2: 2})
add("op_F_multilabel_margin_loss", Ops("return F.multilabel_margin_loss(x, t - 1, reduction='none')"), (3, 5), (3, 5),
    ints={1: 6})
add("op_F_multilabel_soft_margin_loss", Ops("return F.multilabel_soft_margin_loss(x, t.sigmoid(), weight=t[0] * t[0])"),
    (3, 5), (3, 5))
add("op_F_multi_margin_loss", Ops("return F.multi_margin_loss(x, t, p=2, margin=0.5, reduction='sum')"), (3, 5), (3,),
    ints={1: 5})
add("op_F_ctc_loss", Ops("return F.ctc_loss(x.log_softmax(2), t + 1, [5, 4], [2, 3], reduction='none')"), (5, 2, 4),
    (2, 3), ints={1: 3})
add("op_F_triplet_margin_loss", Ops("return F.triplet_margin_loss(x, y, z, margin=0.5, p=1, swap=True)",
                                    ("x", "y", "z")), (4, 6), (4, 6), (4, 6))
add("op_F_triplet_margin_with_distance_loss", Ops("return F.triplet_margin_with_distance_loss(x, y, z, swap=True, "
                                                  "reduction='sum')", ("x", "y", "z")), (4, 6), (4, 6), (4, 6))
add("op_F_linear_cross_entropy", {"name": "Ops", "inputs": ["x", "t"],
                                  "parameters": {"w": {"shape": [4, 2, 5], "init": "randn"},
                                                 "b": {"shape": [4, 2], "init": "randn"}},
                                  "forward": "return F.linear_cross_entropy(x, self.w, t, linear_bias=self.b, "
                                             "label_smoothing=0.1)"}, (6, 5), (6, 2), ints={1: 4})
