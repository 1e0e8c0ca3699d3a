"""Loss functions (torch.nn.functional's mse_loss, cross_entropy, nll_loss, ...)."""

from __future__ import annotations

__all__: list[str] = []
