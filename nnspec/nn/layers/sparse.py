"""Lookup layers (torch.nn.modules.sparse): Embedding, EmbeddingBag."""

from __future__ import annotations

from ...errors import CompileError
from ...resources import empty
from ...runtime import functional as F
from ...runtime.meta import is_meta
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["Embedding", "EmbeddingBag"]


def _padding_idx(padding_idx, num_embeddings, what: str):
    """torch's constructor check of padding_idx; a negative one counts from the end."""
    if padding_idx is None:
        return None
    if padding_idx > 0 and padding_idx >= num_embeddings or padding_idx < 0 and padding_idx < -num_embeddings:
        raise CompileError(f"{what} must be within num_embeddings (padding_idx={padding_idx}, "
                           f"num_embeddings={num_embeddings})")
    return num_embeddings + padding_idx if padding_idx < 0 else padding_idx


class _Lookup(Module):
    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is None:
            return
        if self.padding_idx >= self.weight.shape[0]:  # padding_idx=0 of an empty table
            raise CompileError(f"index {self.padding_idx} is out of bounds for dimension 0 with size "
                               f"{self.weight.shape[0]}")
        if not is_meta(self.weight):
            self.weight.data[self.padding_idx] = 0


class Embedding(_Lookup):
    """A lookup table of num_embeddings rows of embedding_dim (torch.nn.Embedding). Shape: (*) int ids -> (*, D)."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _padding_idx(padding_idx, num_embeddings, "Padding_idx")
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.weight = Parameter(empty((num_embeddings, embedding_dim)))
        self.reset_parameters()
        self.sparse = sparse

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s


class EmbeddingBag(_Lookup):
    """Sums, means or maxima of bags of embeddings (torch.nn.EmbeddingBag). Shape: (B, T) int ids, or (n,) ids with
    offsets (B,) (B + 1 with include_last_offset) -> (B, D).

    torch's private ``_weight`` argument stands between sparse and include_last_offset; nnspec has no such argument,
    so include_last_offset and padding_idx are keyword-only here (a model file names them)."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, *, include_last_offset=False, padding_idx=None):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.padding_idx = _padding_idx(padding_idx, num_embeddings, "padding_idx")
        self.weight = Parameter(empty((num_embeddings, embedding_dim)))
        self.reset_parameters()
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings!r}, {self.embedding_dim!r}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm!r}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type!r}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq!r}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx!r}"
        return s
