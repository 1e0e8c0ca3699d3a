"""A graph as Graphviz DOT text, and as the SVG graphviz's ``dot`` lays out from it.

Labels are HTML-like (a bold name over a smaller type and cost), so every string from the model file is
XML-escaped into them; tooltips are quoted strings, escaped for DOT (``\\`` and ``"``). Nodes and clusters
are named by the graph's own ids (``s12``, ``c3``), never by the model's names.
"""

from __future__ import annotations

import html
import shutil
import subprocess

from .model import Box, Cluster, Graph, GraphError, labelled
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

SANS = "Helvetica,Arial,DejaVu Sans,sans-serif"
MONO = "DejaVu Sans Mono,Menlo,Consolas,monospace"


def _q(text: str) -> str:
    """A DOT quoted string: backslashes doubled (so graphviz's ``\\N``, ``\\G`` escapes never apply), quotes escaped,
    ``&`` written ``&amp;`` (graphviz reads entities in strings: a name's ``&amp;`` would show as ``&``)."""
    text = text.replace("&", "&amp;").replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")
    return f'"{text}"'


def _tip(lines: list[str]) -> str:
    """A tooltip: lines joined by DOT's ``\\n`` escape, each line's own text escaped. A backslash is followed by a
    zero-width space: graphviz (2.43) drops the backslash of a doubled one in a tooltip before a letter."""
    return '"' + "\\n".join(_q(line.replace("\\", "\\\u200b"))[1:-1] for line in lines) + '"'


def _h(text: str) -> str:
    """Text inside an HTML-like label: XML-escaped, and backslashes doubled (graphviz reads ``\\G`` there as the
    graph's name)."""
    return html.escape(text, quote=True).replace("\\", "\\\\")


_STYLES = {  # a box line's style (text.box_lines) in an HTML-like label: (before, after), given the text colour
    "title": lambda ink: ("<B>", "</B>"),
    "type": lambda ink: (f'<FONT POINT-SIZE="9" COLOR="{ink}">', "</FONT>"),
    "small": lambda ink: ('<FONT POINT-SIZE="8" COLOR="#475569">', "</FONT>"),
    "mono": lambda ink: (f'<FONT FACE="{MONO}" POINT-SIZE="9">', "</FONT>"),
}


def _box(box: Box) -> str:
    fill, stroke, ink = PALETTE.get(box.family, PALETTE["other"])
    if box.kind in ("input", "output"):
        ink = PALETTE["io"][2]
    parts = []
    for style, line in box_lines(box):
        before, after = _STYLES[style](ink)
        parts.append(f"{before}{_h(line)}{after}")
    label = "<BR/>".join(parts)
    peripheries = ", peripheries=2" if box.kind == "module" else ""
    return (f'  {box.id} [id={_q(box.id)}, label=<{label}>, fillcolor="{fill}", color="{stroke}", fontcolor="{ink}", '
            f'tooltip={_tip(box_tip(box))}{peripheries}];')


def _cluster_open(c: Cluster, indent: str) -> list[str]:
    title = f'<B>{_h(cluster_title(c))}</B>'
    line = cluster_stats(c)
    if line:
        title += f'<BR/><FONT POINT-SIZE="8" COLOR="#475569">{_h(line)}</FONT>'
    fill = "#f8fafc" if c.depth % 2 else "#eef2f7"
    return [f"{indent}subgraph cluster_{c.id} {{",
            f'{indent}  id={_q(c.id)}; label=<{title}>; tooltip={_tip(cluster_tip(c))};',
            f'{indent}  style="rounded,filled"; fillcolor="{fill}"; color="#94a3b8"; fontcolor="#0f172a";']


def to_dot(graph: Graph) -> str:
    """The graph as DOT: clusters nested as the modules are, boxes coloured by family, edges labelled with shapes."""
    out = [
        "digraph nnspec {",
        (f'  graph [rankdir=TB, fontname="{SANS}", fontsize=11, nodesep=0.25, ranksep=0.32, labelloc=t, '
         f'labeljust=l, bgcolor="white", pad=0.2, label=<<B>{_h(headline(graph))}</B><BR ALIGN="LEFT"/>'
         f'<FONT FACE="{MONO}" POINT-SIZE="9">{_h(signature(graph))}</FONT><BR ALIGN="LEFT"/>'
         + (f'<FONT POINT-SIZE="9">{_h("assumes " + "; ".join(graph.assumptions))}</FONT><BR ALIGN="LEFT"/>'
            if graph.assumptions else "") + '>, '
         f'tooltip={_tip([graph.source or graph.title])}];'),
        (f'  node [shape=box, style="rounded,filled", fontname="{SANS}", fontsize=10, penwidth=1.2, '
         f'margin="0.12,0.05", height=0.3];'),
        f'  edge [fontname="{MONO}", fontsize=8, color="#64748b", fontcolor="#334155", arrowsize=0.6, penwidth=1.1];',
    ]
    children: dict[str | None, list[Cluster]] = {}
    for c in graph.clusters:
        children.setdefault(c.parent, []).append(c)
    inside: dict[str | None, list[Box]] = {}
    for b in graph.boxes:
        inside.setdefault(b.cluster, []).append(b)

    def emit(cid: str | None, indent: str) -> None:
        for b in inside.get(cid, []):
            out.append(indent + _box(b).lstrip())
        for c in children.get(cid, []):
            out.extend(_cluster_open(c, indent))
            emit(c.id, indent + "  ")
            out.append(f"{indent}}}")

    emit(None, "  ")
    for e, written in zip(graph.edges, labelled(graph.edges)):
        label = f"label={_q(' ' + e.shape + ' ')}, " if written else ""
        out.append(f"  {e.source} -> {e.target} [{label}tooltip={_q(f'{e.shape} {e.dtype}')}];")
    out.append("}")
    return "\n".join(out) + "\n"


def dot_path() -> str | None:
    return shutil.which("dot")


def to_svg(graph: Graph, timeout: float = 120.0) -> str:
    """The graph laid out by graphviz's ``dot`` as an SVG document (a GraphError where dot is missing, fails
    or takes longer than ``timeout`` seconds)."""
    exe = dot_path()
    if exe is None:
        raise GraphError("an SVG is laid out by graphviz's dot, which is not installed: install graphviz "
                         "(apt-get install graphviz, brew install graphviz), or write an .html file instead")
    text = to_dot(graph)
    # many edges (a DenseNet's block, every layer reading every earlier one): fewer network-simplex rounds,
    # which lay it out about four times faster and hardly worse
    quick = ["-Gnslimit=1", "-Gnslimit1=1"] if len(graph.edges) > 300 else []
    try:
        done = subprocess.run([exe, "-Tsvg", *quick], input=text.encode(), capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise GraphError(f"graphviz's dot took over {timeout:g} s to lay out {len(graph.boxes)} boxes; draw fewer "
                         "by collapsing deeper modules (a smaller depth)") from None
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        raise GraphError(f"graphviz's dot failed: {why[-1] if why else f'exit status {done.returncode}'}")
    return done.stdout.decode()
