"""What ``nnspec summary`` shows: the module tree and every state_dict entry."""

from __future__ import annotations

import math
from typing import Any

from .nn import Module
from .nn.lazy import is_lazy


def state_entries(model: Module) -> list[dict[str, Any]]:
    """One entry per state_dict key, in torch's order: kind, shape, dtype, element count."""
    params = {id(p.data) for p in model.parameters()}
    entries = []
    for key, value in model.state_dict().items():
        if is_lazy(value):  # a lazy module's, before its first call: no shape yet (torch's <UninitializedParameter>)
            entries.append({"key": key, "kind": "parameter", "shape": None, "dtype": str(value.dtype), "numel": None})
            continue
        entries.append({
            "key": key,
            "kind": "parameter" if id(value) in params else "buffer",
            "shape": [int(s) for s in value.shape],
            "dtype": str(value.dtype),
            "numel": int(math.prod(value.shape)),
        })
    return entries


def totals(model: Module) -> dict[str, int]:
    """Parameter counts with shared parameters counted once, as ``sum(p.numel() for p in parameters())``."""
    params = [p for p in model.parameters() if not is_lazy(p)]  # a lazy module's have no size until its first call
    return {
        "params": sum(p.numel() for p in params),
        "trainable": sum(p.numel() for p in params if p.requires_grad),
        "buffers": sum(int(math.prod(b.shape)) for b in model.buffers()),
        "param_bytes": sum(p.data.nbytes for p in params),
        "buffer_bytes": sum(b.nbytes for b in model.buffers()),
    }


def summary(model: Module) -> dict[str, Any]:
    """The whole summary as data (what ``--json`` prints)."""
    return {"repr": repr(model), "state_dict": state_entries(model), "totals": totals(model)}


def forward_graphs(model: Module, training: bool = False) -> list[tuple[str, str, Any]]:
    """(path, class name, graph) of every module with a custom forward, each shared module once."""
    from .nn.user import has_custom_forward

    return [(path, m._get_name(), m._forward_graphs[training]) for path, m in model.named_modules()
            if has_custom_forward(m) and m._forward_graphs]
