"""The pages in headless Chromium (the Debian package, started here over the DevTools pipe): each renders with no
console error, its boxes and shape labels are in the document, modules close and open, and a screenshot is made.

Set NNSPEC_SCREENSHOTS to a folder to keep the screenshots (CI can keep them as artifacts).
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest
from test_viz_model import BLOCKS, HALF, HOSTILE, NAMES, QUARTER, SYMBOLIC
from test_viz_zoo import ZOO_INPUTS
from zoo import ZOO_DIR

from nnspec import viz
from nnspec.viz.picture import READY

WIDTH, HEIGHT = 1280, 900


def png_info(data: bytes) -> tuple[int, int, int]:
    """A PNG's width, height, and how many distinct byte values its (decompressed, filtered) pixel rows hold:
    a blank or one-colour image has a handful."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + size]
        pos += size + 12
    return width, height, len(set(zlib.decompress(idat)))


def keep(name: str, png: bytes, tmp_path: Path) -> Path:
    folder = Path(os.environ.get("NNSPEC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    path.write_bytes(png)
    return path


def show(browser, graph: viz.Graph, tmp_path: Path, name: str, depth: int | None = None) -> None:
    page = tmp_path / f"{name}.html"
    page.write_text(viz.render(graph, "html", depth=depth))
    browser.open(page.as_uri(), ready=READY)


def texts(browser, selector: str) -> list[str]:
    return browser.evaluate(f"Array.from(document.querySelectorAll({selector!r})).map((e) => e.textContent)")


def test_the_driver_sees_console_errors(browser, tmp_path):
    """What the checks below rely on: an exception, console.error and a refused load are reported."""
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
                    "script-src 'unsafe-inline'\"><img src='https://example.com/x.png'>"
                    "<script>console.error('logged'); window.nope.nope;</script>")
    browser.open(page.as_uri())
    errors = " | ".join(browser.errors)
    assert "console.error: logged" in errors and "TypeError" in errors
    assert "Content Security Policy" in errors or "example.com" in errors


def test_a_page_renders_its_boxes_frames_and_shapes(browser, tmp_path):
    g = viz.build(BLOCKS, SYMBOLIC)
    show(browser, g, tmp_path, "resnet_blocks")
    assert browser.errors == []
    drawn = browser.evaluate("({boxes: nnspecGraph.boxes, frames: nnspecGraph.frames, edges: nnspecGraph.edges})")
    assert drawn == {"boxes": len(g.boxes), "frames": len(g.clusters), "edges": len(g.edges)}
    boxes = texts(browser, ".nnspec-box")
    assert "conv1Conv2d1.73K params \u00b7 1.73K*H*N*W MACs" in boxes
    assert "x(N, 3, H, W) float32" in boxes and any(b.startswith("iadd") for b in boxes)
    shapes = set(texts(browser, ".nnspec-shape text"))
    assert {"(N, 3, H, W)", HALF, QUARTER} <= shapes
    assert {"layer1: BasicBlock", "downsample: Sequential"} <= set(texts(browser, ".frame-title text"))
    png = browser.screenshot()
    width, height, variety = png_info(png)
    assert (width, height) == (WIDTH, HEIGHT) and variety > 100 and len(png) > 20_000
    keep("resnet_blocks", png, tmp_path)


def test_a_module_closes_and_opens_again(browser, tmp_path):
    g = viz.build(BLOCKS, SYMBOLIC)
    show(browser, g, tmp_path, "toggle")
    layer2 = next(c for c in g.clusters if c.path == "layer2")
    browser.evaluate(f"document.querySelector('.nnspec-frame[data-id={layer2.id}] .frame-title')"
                     ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    browser.wait_for("nnspecGraph.ready")
    closed = len([b for b in g.boxes if b.cluster not in (layer2.id, *[c.id for c in g.clusters
                                                                      if c.parent == layer2.id])]) + 1
    assert browser.evaluate("nnspecGraph.boxes") == closed
    assert texts(browser, f".nnspec-box[data-id={layer2.id}]") == ["layer2BasicBlock230K params \u00b7 MACs f(H, N, W)"]
    browser.evaluate(f"document.querySelector('.nnspec-box[data-id={layer2.id}]')"
                     ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    browser.wait_for("nnspecGraph.ready")
    # opened one level: its own steps are boxes again, its downsample a closed module
    assert browser.evaluate("nnspecGraph.boxes") == len(g.view(1).boxes)
    assert browser.errors == []


def test_hostile_names_are_text_in_the_page(browser, tmp_path):
    model = tmp_path / "h<b>&'.yaml"
    model.write_text(HOSTILE)
    g = viz.build(model, [(1, 3, 8, 8)])
    show(browser, g, tmp_path, "hostile")
    assert browser.errors == []
    assert browser.evaluate("document.scripts.length") == 3
    assert browser.evaluate("document.querySelectorAll('img, iframe, [onmouseover], [onerror]').length") == 0
    boxes = texts(browser, ".nnspec-box text")
    assert NAMES[0] in boxes and NAMES[1] in boxes and NAMES[3] in boxes
    assert f"{NAMES[2]}: Sequential" in texts(browser, ".frame-title text")


@pytest.mark.parametrize("name", sorted(ZOO_INPUTS))
def test_every_zoo_page_renders(browser, tmp_path, name):
    shapes, dtypes = ZOO_INPUTS[name]
    g = viz.build(ZOO_DIR / f"{name}.yaml", shapes, dtypes=dtypes)
    shown = g.view(g.fitting_depth(viz.MAX_BOXES))
    show(browser, g, tmp_path, name)
    assert browser.errors == []
    drawn = browser.evaluate("({boxes: nnspecGraph.boxes, frames: nnspecGraph.frames})")
    assert drawn == {"boxes": len(shown.boxes), "frames": len(shown.clusters)}
    assert shown.edges[0].shape in texts(browser, ".nnspec-shape text")
    png = browser.screenshot()
    width, height, variety = png_info(png)
    assert (width, height) == (WIDTH, HEIGHT) and variety > 50
    keep(name, png, tmp_path)


def test_a_png_of_a_model(tmp_path):
    from conftest import need

    from nnspec.viz.chromium import find_chromium

    need(find_chromium(), "Chromium (apt-get install chromium)")
    out = tmp_path / "blocks.png"
    viz.save(out, BLOCKS, SYMBOLIC)
    width, height, variety = png_info(out.read_bytes())
    assert width > 600 and height > 2 * width and variety > 100  # the whole graph, at 1.5 pixels a unit
