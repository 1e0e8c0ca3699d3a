"""A graph as a PNG: its page drawn still (no toolbar, at its natural size) by headless Chromium."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .chromium import Chromium, find_chromium
from .html import to_html
from .model import Graph, GraphError

READY = "window.nnspecGraph && window.nnspecGraph.ready"
MAX_PIXELS = 16000  # Chromium's largest screenshot side


def to_png(graph: Graph, depth: int | None, *, timeout: float = 120.0, scale: float = 1.5) -> bytes:
    """The PNG of ``graph`` with modules deeper than ``depth`` closed, ``scale`` pixels per CSS pixel (less where
    the picture would be over MAX_PIXELS on a side). A GraphError where Chromium is missing or the page fails."""
    if find_chromium() is None:
        raise GraphError("a PNG is drawn by headless Chromium, which is not installed: install it (apt-get install "
                         "chromium) or set NNSPEC_CHROMIUM to its path, or write an .html or .svg file instead")
    page = to_html(graph, depth, picture=True)
    with tempfile.TemporaryDirectory(prefix="nnspec-graph-") as folder:
        path = Path(folder) / "graph.html"
        path.write_text(page, encoding="utf-8")
        with Chromium(timeout=timeout) as browser:
            browser.open(path.as_uri(), ready=READY, timeout=timeout)
            if browser.errors:
                raise GraphError(f"the graph's page failed in Chromium: {browser.errors[0]}")
            # the body is as wide as its content in a picture (page.css), whatever the window's width
            width, height = browser.evaluate(
                "[Math.ceil(document.body.getBoundingClientRect().width), document.documentElement.scrollHeight]")
            scale = min(scale, MAX_PIXELS / max(width, height, 1))
            browser.resize(width, height, scale)
            return browser.screenshot()
