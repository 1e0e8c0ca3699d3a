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
