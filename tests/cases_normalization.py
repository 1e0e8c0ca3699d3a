"""Parity cases: LayerNorm, GroupNorm, InstanceNorm, LocalResponseNorm, RMSNorm, BatchNorm3d. Imported by cases.py; each add() is one case."""

from __future__ import annotations

from cases import L, add  # noqa: F401

add("layernorm_last", L("LayerNorm", 5), (2, 3, 5))
add("layernorm_two_dims_train", L("LayerNorm", [3, 5], eps=1e-3), (2, 3, 5), train=True)
add("layernorm_no_bias", L("LayerNorm", 5, bias=False), (4, 5))
add("layernorm_no_affine", L("LayerNorm", [5], elementwise_affine=False), (5,))
add("layernorm_float64", L("LayerNorm", 6), (3, 6), dtype="float64")
add("layernorm_float16", L("LayerNorm", 6), (3, 6), dtype="float16")
add("op_F_layer_norm", {"name": "Ops", "parameters": {"w": {"shape": [6], "init": "randn"}},
                        "forward": "return F.layer_norm(x, (6,), self.w, None, 1e-6)"}, (2, 4, 6))

# --- BatchNorm3d
add("batchnorm3d_eval", L("BatchNorm3d", 3), (2, 3, 4, 3, 5))
add("batchnorm3d_train", L("BatchNorm3d", 3, 1e-3, 0.7), (2, 3, 4, 3, 5), train=True)
add("batchnorm3d_cumulative_train", L("BatchNorm3d", 3, 1e-3, None), (2, 3, 2, 3, 2), train=True)
add("batchnorm3d_no_affine_no_stats", L("BatchNorm3d", 3, affine=False, track_running_stats=False), (2, 3, 2, 3, 2))
add("batchnorm3d_no_bias_float64", L("BatchNorm3d", 3, bias=False), (2, 3, 2, 3, 2), dtype="float64", train=True)
add("batchnorm3d_zero_batch", L("BatchNorm3d", 5, 1e-3, 0.3, False), (0, 5, 2, 2, 2), train=True)

# --- InstanceNorm: batch statistics in both modes unless the running ones are tracked (then in eval)
add("instancenorm1d_default", L("InstanceNorm1d", 3), (4, 3, 15))
add("instancenorm1d_unbatched", L("InstanceNorm1d", 3, 1e-3, 0.3), (3, 15))
add("instancenorm1d_tracking_train", L("InstanceNorm1d", 3, 1e-3, 0.3, False, True), (4, 3, 15), train=True)
add("instancenorm1d_tracking_eval", L("InstanceNorm1d", 3, 1e-3, 0.3, False, True), (4, 3, 15))
add("instancenorm1d_tracking_unbatched_train", L("InstanceNorm1d", 3, 1e-3, 0.3, False, True), (3, 15), train=True)
add("instancenorm1d_momentum_none_train", L("InstanceNorm1d", 3, momentum=None, track_running_stats=True), (2, 3, 5),
    train=True)
add("instancenorm1d_mismatch_not_affine", L("InstanceNorm1d", 5), (2, 3, 7))
add("instancenorm2d_affine", L("InstanceNorm2d", 3, 1e-3, 0.3, affine=True), (4, 3, 6, 6))
add("instancenorm2d_affine_no_bias_train", L("InstanceNorm2d", 3, affine=True, bias=False), (2, 3, 4, 5), train=True)
add("instancenorm2d_unbatched_tracking_eval", L("InstanceNorm2d", 3, track_running_stats=True), (3, 6, 6))
add("instancenorm2d_float64_tracking_train", L("InstanceNorm2d", 3, affine=True, track_running_stats=True),
    (2, 3, 4, 5), dtype="float64", train=True)
add("instancenorm2d_float16", L("InstanceNorm2d", 3, affine=True), (2, 3, 4, 5), dtype="float16")
add("instancenorm3d_tracking_train", L("InstanceNorm3d", 3, 1e-3, 0.3, True, True), (2, 3, 4, 4, 4), train=True)
add("instancenorm3d_unbatched", L("InstanceNorm3d", 3), (3, 4, 4, 4))

# --- GroupNorm (torch's module_db samples among them)
add("groupnorm_1d_affine", L("GroupNorm", 3, 6, 1e-3), (4, 6, 5))
add("groupnorm_1d_affine_no_bias", L("GroupNorm", 3, 6, 1e-3, bias=False), (4, 6, 5))
add("groupnorm_2d_input", L("GroupNorm", 3, 12, 1e-3), (4, 12))
add("groupnorm_large_batch", L("GroupNorm", 1, 6, 1e-3), (150, 6))
add("groupnorm_instance", L("GroupNorm", 5, 5, 1e-3, False), (4, 5, 5))
add("groupnorm_2d_no_affine_ln", L("GroupNorm", 1, 3, 1e-3, False), (4, 3, 2, 3))
add("groupnorm_3d_train", L("GroupNorm", 2, 4), (2, 4, 3, 2, 2), train=True)
add("groupnorm_float64", L("GroupNorm", 2, 4), (3, 4, 5), dtype="float64")
add("groupnorm_float16", L("GroupNorm", 2, 4), (3, 4, 5), dtype="float16")

# --- LocalResponseNorm: the window over channels, zero-padded size//2 before and (size-1)//2 after
add("lrn_1d", L("LocalResponseNorm", 3), (1, 5, 7))
add("lrn_2d_uneven_pad", L("LocalResponseNorm", 2), (1, 5, 7, 7))
add("lrn_3d_custom", L("LocalResponseNorm", 1, 1.0, 0.5, 2.0), (1, 5, 3, 4, 3))
add("lrn_window_wider_than_channels", L("LocalResponseNorm", 9, 0.5, 0.9, 0.5), (2, 3, 4))
add("lrn_float64", L("LocalResponseNorm", 4, alpha=0.1), (2, 6, 3, 3), dtype="float64")
add("lrn_float16", L("LocalResponseNorm", 3, alpha=0.1), (2, 6, 3), dtype="float16")  # torch: 3-D only

# --- RMSNorm: eps None is the machine epsilon of the compute dtype
add("rmsnorm_affine", L("RMSNorm", [5], 1e-3), (4, 5, 5))
add("rmsnorm_no_affine", L("RMSNorm", [5], 1e-3, False), (4, 5, 5))
add("rmsnorm_3d", L("RMSNorm", [2, 2, 5]), (4, 2, 2, 5))
add("rmsnorm_int_shape_eps_none", L("RMSNorm", 6), (3, 6))
add("rmsnorm_float64", L("RMSNorm", [3, 4]), (2, 3, 4), dtype="float64")
add("rmsnorm_float16", L("RMSNorm", 6), (3, 6), dtype="float16")
add("rmsnorm_empty_batch", L("RMSNorm", [5], 1e-3), (0, 5))

# --- the F ops in custom forwards
add("op_F_group_norm", {"name": "Ops", "parameters": {"w": {"shape": [6], "init": "randn"}, "b": {"shape": [6]}},
                        "forward": "return F.group_norm(x, 3, self.w, self.b, 1e-3) + F.group_norm(x, 2)"}, (2, 6, 4))
add("op_F_instance_norm", {"name": "Ops", "buffers": {"m": {"shape": [4]}, "v": {"shape": [4], "init": "ones"}},
                           "forward": "y = F.instance_norm(x, self.m, self.v, momentum=0.5)\n"
                                      "return y + F.instance_norm(x, self.m, self.v, use_input_stats=False)"},
    (2, 4, 5, 3))
add("op_F_local_response_norm", {"name": "Ops", "forward": "return F.local_response_norm(x, 3, alpha=0.5, beta=1.5, k=2)"},
    (2, 5, 6))
add("op_F_rms_norm", {"name": "Ops", "parameters": {"w": {"shape": [3, 4], "init": "randn"}},
                      "forward": "return F.rms_norm(x, (3, 4), self.w) + F.rms_norm(x, [4], eps=0.1)"}, (2, 3, 4))
add("op_F_normalize", {"name": "Ops",
                       "forward": "return F.normalize(x) + F.normalize(x, p=1, dim=-1) + F.normalize(x, 3.5, (0, 2))"
                                  " + F.normalize(x, float('inf'), 0, eps=0.5) + F.normalize(x, 0, 2)"}, (3, 4, 5))
