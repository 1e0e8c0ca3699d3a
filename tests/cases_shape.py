"""Parity cases: Embedding, EmbeddingBag, Flatten/Unflatten, PixelUnshuffle, ChannelShuffle, Fold/Unfold, distances. Imported by cases.py; each add() is one case."""

from __future__ import annotations

from cases import L, add  # noqa: F401

# --- Embedding: ids are int64 inputs (ints={0: n}); max_norm renormalises the looked-up rows in place
add("embedding_basic", L("Embedding", 10, 3), (2, 3), ints={0: 10})
add("embedding_ids_3d", L("Embedding", 10, 4), (2, 3, 5), ints={0: 10})
add("embedding_ids_1d", L("Embedding", 4, 3), (7,), ints={0: 4})
add("embedding_padding_idx", L("Embedding", 6, 3, padding_idx=0), (4, 5), ints={0: 6})
add("embedding_padding_idx_negative", L("Embedding", 6, 3, padding_idx=-2), (4, 5), ints={0: 6})
add("embedding_max_norm", L("Embedding", 10, 3, max_norm=1.0), (2, 4), ints={0: 10})
add("embedding_max_norm_p1_train", L("Embedding", 10, 3, max_norm=1.5, norm_type=1), (2, 4), ints={0: 10}, train=True)
add("embedding_max_norm_inf", L("Embedding", 10, 3, max_norm=0.5, norm_type=float("inf")), (2, 4), ints={0: 10})
add("embedding_grad_flags", L("Embedding", 5, 2, scale_grad_by_freq=True, sparse=True), (3,), ints={0: 5})
add("embedding_float64", L("Embedding", 10, 3, max_norm=1.0), (2, 4), ints={0: 10}, dtype="float64")
add("embedding_float16", L("Embedding", 10, 3, max_norm=1.0), (2, 4), ints={0: 10}, dtype="float16")

# --- EmbeddingBag: 2-D ids are bags of fixed length; 1-D ids take offsets (torch.cat of sizes builds them)
add("embeddingbag_mean", L("EmbeddingBag", 10, 3), (4, 5), ints={0: 10})
add("embeddingbag_sum", L("EmbeddingBag", 10, 3, mode="sum"), (4, 5), ints={0: 10})
add("embeddingbag_max", L("EmbeddingBag", 10, 3, mode="max"), (4, 5), ints={0: 10})
add("embeddingbag_padding_mean", L("EmbeddingBag", 4, 3, padding_idx=1), (6, 3), ints={0: 4})
add("embeddingbag_padding_max", L("EmbeddingBag", 4, 3, mode="max", padding_idx=-1), (6, 3), ints={0: 4})
add("embeddingbag_max_norm", L("EmbeddingBag", 10, 3, 1.0, 1, mode="sum"), (3, 4), ints={0: 10})
add("embeddingbag_float64", L("EmbeddingBag", 10, 3, max_norm=1.0), (3, 4), ints={0: 10}, dtype="float64")
add("embeddingbag_float16", L("EmbeddingBag", 10, 3, mode="sum"), (3, 4), ints={0: 10}, dtype="float16")
_bags = {"name": "Bags", "inputs": ["ids", "o"], "modules": {"bag": L("EmbeddingBag", 10, 3, mode="sum")},
         "forward": "return self.bag(ids, torch.cat([o, o + 2, o + 2, o + 5]))"}
add("embeddingbag_offsets", _bags, (9,), (1,), ints={0: 10, 1: 1})
for mode in ("mean", "max"):
    add(f"embeddingbag_offsets_{mode}_padding", {**_bags, "modules": {"bag": L("EmbeddingBag", 10, 3, mode=mode,
                                                                                padding_idx=2)}},
        (9,), (1,), ints={0: 3, 1: 1})
add("embeddingbag_include_last_offset", {**_bags, "modules": {"bag": L("EmbeddingBag", 10, 3, include_last_offset=True)},
                                         "forward": "return self.bag(ids, torch.cat([o, o + 4, o + 4, o + 9]))"},
    (9,), (1,), ints={0: 10, 1: 1})
add("embeddingbag_per_sample_weights", {"name": "Weighted", "inputs": ["ids", "w"],
                                        "modules": {"bag": L("EmbeddingBag", 10, 3, mode="sum", padding_idx=0)},
                                        "forward": "return self.bag(ids, per_sample_weights=w)"},
    (3, 4), (3, 4), ints={0: 10})

# --- Unflatten, PixelUnshuffle, ChannelShuffle, Fold, Unfold
add("unflatten", L("Unflatten", 1, [2, 5]), (2, 10, 3))
add("unflatten_inferred_last", L("Unflatten", -1, [3, -1]), (2, 4, 12))
add("unflatten_one", L("Unflatten", 0, [1, 2]), (2, 3))
add("pixelunshuffle", L("PixelUnshuffle", 2), (2, 3, 4, 6))
add("pixelunshuffle_5d", L("PixelUnshuffle", 3), (2, 2, 1, 6, 3))
add("pixelunshuffle_unbatched", L("PixelUnshuffle", 2), (1, 4, 4))
add("channelshuffle", L("ChannelShuffle", 3), (2, 6, 4, 4))
add("channelshuffle_3d", L("ChannelShuffle", 2), (2, 4, 5))
add("channelshuffle_5d_float64", L("ChannelShuffle", 2), (1, 4, 2, 3, 2), dtype="float64")
add("unfold", L("Unfold", 2), (2, 3, 4, 5))
add("unfold_all_args", L("Unfold", [2, 3], dilation=[2, 1], padding=1, stride=[1, 2]), (2, 3, 7, 8))
add("unfold_unbatched", L("Unfold", 3, padding=1), (2, 5, 5))
add("unfold_float16", L("Unfold", 2, stride=2), (1, 2, 4, 6), dtype="float16")
add("fold", L("Fold", [4, 5], 2), (2, 12, 12))
add("fold_overlapping_all_args", L("Fold", [7, 8], [2, 3], dilation=[2, 1], padding=1, stride=[1, 2]), (2, 18, 28))
add("fold_unbatched", L("Fold", 5, 3, padding=1), (18, 25))
add("fold_float16", L("Fold", 4, 2, stride=2), (1, 8, 4), dtype="float16")
add("fold_unfold_round_trip", {"type": "Sequential", "modules": [L("Unfold", 3, stride=2), L("Fold", [9, 7], 3, stride=2)]},
    (1, 2, 9, 7))

# --- CosineSimilarity, PairwiseDistance (two inputs, broadcast)
add("cosine_similarity", L("CosineSimilarity"), (4, 5), (4, 5))
add("cosine_similarity_dim_broadcast", L("CosineSimilarity", -1, 1e-3), (3, 1, 5), (4, 5))
add("cosine_similarity_float64", L("CosineSimilarity", 0), (6, 2), (6, 2), dtype="float64")
add("cosine_similarity_float16", L("CosineSimilarity"), (4, 5, 2), (4, 5, 2), dtype="float16")
add("pairwise_distance", L("PairwiseDistance"), (4, 5), (4, 5))
add("pairwise_distance_p1_keepdim", L("PairwiseDistance", 1, 1e-3, True), (2, 3, 5), (5,))
add("pairwise_distance_pinf", L("PairwiseDistance", float("inf")), (4, 5), (4, 5))
add("pairwise_distance_p0_float64", L("PairwiseDistance", 0), (4, 5), (4, 5), dtype="float64")
add("pairwise_distance_p_fraction_1d", L("PairwiseDistance", 0.5), (5,), (5,))
add("pairwise_distance_float16", L("PairwiseDistance"), (4, 5), (4, 5), dtype="float16")

# --- the F ops in custom forwards
add("op_F_embedding", {"name": "Ops", "inputs": ["ids"], "parameters": {"w": {"shape": [8, 3], "init": "randn"}},
                       "forward": "return F.embedding(ids, self.w, padding_idx=1, max_norm=1.2) * 2"}, (2, 5),
    ints={0: 8})
add("op_F_embedding_bag", {"name": "Ops", "inputs": ["ids"], "parameters": {"w": {"shape": [8, 3], "init": "randn"}},
                           "forward": "return F.embedding_bag(ids, self.w, mode='max')"}, (3, 5), ints={0: 8})
add("op_F_one_hot", {"name": "Ops", "inputs": ["ids"], "forward": "return F.one_hot(ids, 7) + F.one_hot(ids, num_classes=5)[..., :1]"},
    (2, 3), ints={0: 5})
add("op_F_pixel_unshuffle", {"name": "Ops", "forward": "return F.pixel_unshuffle(x, 2) * 3"}, (2, 3, 4, 6))
add("op_F_channel_shuffle", {"name": "Ops", "forward": "return F.channel_shuffle(x, 2) + x"}, (2, 4, 3, 3))
add("op_F_fold_unfold", {"name": "Ops", "forward": "c = F.unfold(x, (2, 3), padding=1)\n"
                                                   "return F.fold(c, (x.size(2), x.size(3)), (2, 3), padding=1)"},
    (2, 3, 5, 6))
add("op_F_distances", {"name": "Ops", "inputs": ["a", "b"],
                       "forward": "return F.cosine_similarity(a, b, dim=-1) + F.pairwise_distance(a, b, p=3)"
                                  " + F.pdist(a.flatten(0, 1), 1.5).sum() + F.pdist(b.flatten(0, 1))[4]"}, (2, 3, 4), (2, 3, 4))
