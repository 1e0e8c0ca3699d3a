"""What the picture says, written once for every medium: a box's lines, its tooltip, and the colours.

``dot`` and the HTML page draw these strings as they are; each medium escapes them its own way.
"""

from __future__ import annotations

import re

from ..runtime.symbolic import DimLike, is_symbolic
from .model import Box, Cluster, Graph

# family -> (fill, stroke, text): pale fills with a darker outline of the same hue, so text stays readable
PALETTE: dict[str, tuple[str, str, str]] = {
    "conv": ("#dbeafe", "#3b82f6", "#1e3a8a"),
    "linear": ("#dcfce7", "#22c55e", "#14532d"),
    "norm": ("#ede9fe", "#8b5cf6", "#4c1d95"),
    "activation": ("#ffedd5", "#f97316", "#7c2d12"),
    "pool": ("#ccfbf1", "#14b8a6", "#134e4a"),
    "attention": ("#fce7f3", "#ec4899", "#831843"),
    "recurrent": ("#e0e7ff", "#6366f1", "#312e81"),
    "embedding": ("#fef9c3", "#ca8a04", "#713f12"),
    "dropout": ("#f1f5f9", "#94a3b8", "#334155"),
    "merge": ("#fef3c7", "#d97706", "#78350f"),
    "shape": ("#f8fafc", "#cbd5e1", "#475569"),
    "other": ("#f3f4f6", "#6b7280", "#1f2937"),
    "module": ("#e2e8f0", "#475569", "#0f172a"),
    "io": ("#1e293b", "#0f172a", "#f8fafc"),
}


def count(n: int) -> str:
    """A count as people read it at a glance: 864, 36.9K, 11.7M, 1.82G."""
    for limit, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= limit:
            value = n / limit
            return f"{value:.3g}{suffix}" if value < 100 else f"{value:.0f}{suffix}"
    return str(n)


def compact(v: DimLike) -> str:
    """A size or cost, its large numbers shortened: ``36.9K*((H + 1)//2)*((W + 1)//2)*N``."""
    if not is_symbolic(v):
        return count(int(v))
    return re.sub(r"\d{4,}", lambda m: count(int(m.group())), str(v))


def cost(v: DimLike, width: int = 30) -> str:
    """Mult-adds for a box: compact, or where that is still long, the symbols they depend on."""
    text = compact(v)
    if len(text) <= width:
        return f"{text} MACs"
    return f"MACs f({', '.join(sorted(v.symbols))})"


def stats(params: int, mult_adds: DimLike, shared: bool = False) -> str:
    parts = []
    if shared:
        parts.append("shared")
    elif params:
        parts.append(f"{count(params)} params")
    if is_symbolic(mult_adds) or mult_adds:
        parts.append(cost(mult_adds))
    return " \u00b7 ".join(parts)


def box_lines(box: Box) -> list[tuple[str, str]]:
    """The lines a box shows, each with its style ("title", "type", "small" or "mono"): its name or op, its
    type, then its parameters and mult-adds where it has any."""
    if box.kind in ("input", "output"):
        return [("title", box.label), ("mono", box.detail)]
    if box.kind == "op":
        lines = [("title", box.type)]
    elif box.label != box.type:
        lines = [("title", box.label), ("type", box.type)]
    else:  # the model itself is one layer
        lines = [("title", box.type)]
    line = stats(box.params, box.mult_adds, box.shared)
    return lines + [("small", line)] if line else lines


def cluster_title(c: Cluster) -> str:
    return f"{c.label}: {c.type}"


def cluster_stats(c: Cluster) -> str:
    return stats(c.params, c.mult_adds)


def box_tip(box: Box) -> list[str]:
    """A box's tooltip: where it is in the model and the file, what it is, what it holds and costs."""
    if box.kind in ("input", "output"):
        return [f"{box.kind} {box.label}", box.detail]
    lines = [f"{box.name} ({box.type})" if box.kind != "op" else f"{box.name}: {box.type}"]
    if box.detail:
        lines.append(box.detail)
    if box.kind == "module":
        lines.append("a module: click to open it")
    if box.params or box.shared:
        lines.append("parameters: counted at its first call" if box.shared else f"parameters: {box.params:,}")
    if is_symbolic(box.mult_adds) or box.mult_adds:
        lines.append(f"mult-adds: {box.mult_adds:,}" if not is_symbolic(box.mult_adds) else f"mult-adds: {box.mult_adds}")
    if box.where:
        lines.append(box.where)
    return lines


def cluster_tip(c: Cluster) -> list[str]:
    lines = [f"{c.path} ({c.type})" + (", custom forward" if c.custom else "")]
    if c.params:
        lines.append(f"parameters: {c.params:,}")
    if is_symbolic(c.mult_adds) or c.mult_adds:
        lines.append(f"mult-adds: {c.mult_adds:,}" if not is_symbolic(c.mult_adds) else f"mult-adds: {c.mult_adds}")
    if c.where:
        lines.append(c.where)
    return lines


def headline(graph: Graph) -> str:
    """One line about the whole model: its class, parameters, mult-adds."""
    macs = compact(graph.mult_adds)
    macs = f"{macs} mult-adds" if len(macs) <= 40 else f"mult-adds f({', '.join(sorted(graph.mult_adds.symbols))})"
    return f"{graph.title} \u00b7 {graph.params:,} parameters \u00b7 {macs}"


def signature(graph: Graph) -> str:
    """The inputs and outputs: ``x (N, 3, H, W) -> output (N, 1000)``."""
    def side(items: list[tuple[str, str, str]]) -> str:
        return ", ".join(f"{n} {s}" + (f" {d}" if d != "float32" else "") for n, s, d in items)

    return f"{side(graph.inputs)} \u2192 {side(graph.outputs)}"
