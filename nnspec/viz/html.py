"""A graph as one self-contained HTML page: the graph as JSON, dagre (vendored) to lay it out, render.js to draw it.

Nothing is fetched: the scripts and styles are inline, and the page's Content-Security-Policy forbids every
load from elsewhere. The model's strings travel only inside the JSON (``<``, ``>`` and ``&`` written as
``\\u`` escapes, so no ``</script>`` can close it early) and render.js sets them as text, never as markup.
"""

from __future__ import annotations

import html
import json
from importlib import resources

from .model import FAMILIES, FANOUT, Graph, closed, family_of_module
from .text import (
    PALETTE,
    box_lines,
    box_tip,
    cluster_stats,
    cluster_tip,
    cluster_title,
    headline,
    signature,
)

VENDORED = "vendor/dagre.min.js"
# the page may run its own inline scripts and styles and show data: images, and load nothing
CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _script(code: str, name: str) -> str:
    """Code to inline in a <script>: without its source-map comment (nothing to fetch), and refused if it could
    end the element early."""
    code = "\n".join(line for line in code.splitlines() if not line.startswith("//# sourceMappingURL="))
    lowered = code.lower()
    if "</script" in lowered or "<!--" in lowered:
        raise ValueError(f"{name} cannot be inlined in a <script>: it holds '</script' or '<!--'")
    return code


def embed_json(value: object) -> str:
    """JSON safe inside a <script> element: no ``<``, ``>`` or ``&`` (so no ``</script>`` or ``<!--``), no line
    separators."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def page_data(graph: Graph, depth: int | None, picture: bool = False) -> dict:
    """What render.js reads: the graph with every box's lines and tooltip written (text.py), and the view."""
    data = graph.to_json()
    for box, out in zip(graph.boxes, data["boxes"]):
        out["lines"] = [list(line) for line in box_lines(box)]
        out["tip"] = box_tip(box)
    for c, out in zip(graph.clusters, data["clusters"]):
        out.update(title=cluster_title(c), stats=cluster_stats(c), tip=cluster_tip(c), family=family_of_module(c.type))
        box = closed(c)  # the cluster as the page shows it when it is closed
        out["box_lines"] = [list(line) for line in box_lines(box)]
        out["box_tip"] = box_tip(box)
    data["facts"] = headline(graph).removeprefix(graph.title).lstrip(" \u00b7")
    data["signature"] = signature(graph)
    data["palette"] = {k: list(v) for k, v in PALETTE.items()}
    data["families"] = list(FAMILIES)
    data["view"] = {"depth": depth, "picture": picture, "fanout": FANOUT}
    return data


def to_html(graph: Graph, depth: int | None = None, picture: bool = False) -> str:
    """The page: modules deeper than ``depth`` start closed (None: every module open); ``picture`` draws it
    still, at its natural size, without the toolbar (what a PNG is made from)."""
    data = page_data(graph, depth, picture)
    title = html.escape(f"{graph.title} \u2014 nnspec graph")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="nnspec graph">',
        f"<title>{title}</title>",
        f"<style>\n{_asset('page.css')}</style>",
        "</head>",
        "<body>",
        '<header id="bar"></header>',
        '<main id="stage"><svg id="canvas" xmlns="http://www.w3.org/2000/svg" role="img"></svg></main>',
        '<div id="tip" hidden></div>',
        f'<script type="application/json" id="nnspec-graph">{embed_json(data)}</script>',
        f"<script>\n{_script(_asset(VENDORED), VENDORED)}\n</script>",
        f"<script>\n{_script(_asset('render.js'), 'render.js')}\n</script>",
        "</body>",
        "</html>",
        "",
    ])
