"""Pictures of models (``nnspec graph``): modules as nested frames, the forward's steps as boxes, its dataflow as
edges labelled with static shapes (symbolic where the sizes are names), each box's parameters and mult-adds,
and the model file's line in its tooltip.

    html = nnspec.viz.graph("models/zoo/resnet18.yaml", [("N", 3, "H", "W")])          # a page, to explore
    nnspec.viz.save("resnet18.svg", "models/zoo/resnet18.yaml", [("N", 3, 224, 224)])  # for documents

``build`` makes the graph (``model.Graph``); ``html`` lays it out in the browser with the vendored dagre (one
self-contained page: modules open and close, pan and zoom, tooltips); ``dot`` has graphviz's ``dot`` lay it out
as an SVG; a PNG is the page drawn by headless Chromium (``chromium``). Nothing here needs torch or a network.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..files import save_atomic
from ..nn import Module
from .model import Box, Cluster, Edge, Graph, GraphError, build

FORMATS = ("html", "svg", "png", "dot")
MAX_BOXES = 150  # a graph larger than this starts with its deeper modules closed (depth=None)


def render(graph: Graph, fmt: str = "html", *, depth: int | None = None, max_boxes: int = MAX_BOXES,
           timeout: float = 120.0, scale: float = 1.5) -> str | bytes:
    """``graph`` drawn as ``fmt``: "html" (a page), "svg" (graphviz), "dot" (the text given to graphviz), or
    "png" (the page in headless Chromium, at ``scale`` pixels per unit; bytes). Modules deeper than ``depth``
    are closed (a page opens them on a click); None closes as few as keep ``max_boxes`` boxes or fewer."""
    if fmt not in FORMATS:
        raise GraphError(f"unknown format {fmt!r}; the formats are {', '.join(FORMATS)}")
    if depth is None:
        depth = graph.fitting_depth(max_boxes)
    if fmt == "html":
        from .html import to_html

        return to_html(graph, depth)
    if fmt == "png":
        from .picture import to_png

        return to_png(graph, depth, timeout=timeout, scale=scale)
    from .dot import to_dot, to_svg

    shown = graph.view(depth)
    return to_dot(shown) if fmt == "dot" else to_svg(shown, timeout)


def graph(model: Module | str | Path, shapes: Sequence[Sequence[Any]] | None = None, *, fmt: str = "html",
          dtypes: Sequence[str | None] | None = None, names: Sequence[str | None] | None = None,
          named: dict[str, Any] | None = None, training: bool = False, depth: int | None = None,
          max_boxes: int = MAX_BOXES, timeout: float = 120.0) -> str | bytes:
    """``model`` (a Module or a model file) drawn as ``fmt`` for inputs of ``shapes``: ``build``, then ``render``.

    A size may be a name (``("N", 3, "H", "W")``, or a ``Dim``) and stays symbolic in the labels; without
    ``shapes`` they are guessed from the model's first layers. ``dtypes``, ``names`` and ``named`` are as
    ``static.infer``'s ``input_dtypes``, ``names`` and ``named`` (what ``nnspec validate -s`` and ``--arg``
    give)."""
    g = build(model, shapes, dtypes=dtypes, names=names, named=named, training=training)
    return render(g, fmt, depth=depth, max_boxes=max_boxes, timeout=timeout)


def format_of(path: str | Path) -> str:
    """The format a file name asks for, by its suffix (.html/.htm, .svg, .png, .dot/.gv)."""
    suffix = Path(path).suffix.lower()
    found = {".html": "html", ".htm": "html", ".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}.get(suffix)
    if found is None:
        raise GraphError(f"{str(path)!r}: name the file .html, .svg, .png or .dot to choose what to write")
    return found


def save(path: str | Path, model: Module | str | Path, shapes: Sequence[Sequence[Any]] | None = None, *,
         fmt: str | None = None, **options: Any) -> Graph:
    """Write ``model``'s picture to ``path`` (its format from its suffix unless ``fmt`` is given), atomically:
    a failure leaves no file half-written. Takes ``build``'s options (dtypes, names, named, training) and
    ``render``'s (depth, max_boxes, timeout, scale); returns the graph drawn."""
    fmt = fmt or format_of(path)
    render_options = {k: options.pop(k) for k in ("depth", "max_boxes", "timeout", "scale") if k in options}
    g = build(model, shapes, **options)
    out = render(g, fmt, **render_options)
    data = out if isinstance(out, bytes) else out.encode()
    save_atomic(path, lambda f: f.write(data))
    return g


__all__ = [
    "FORMATS",
    "Box",
    "Cluster",
    "Edge",
    "Graph",
    "GraphError",
    "build",
    "format_of",
    "graph",
    "render",
    "save",
]
