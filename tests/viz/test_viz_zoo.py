"""Every zoo model drawn: the page and the SVG are written, for symbolic sizes where the model allows them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from zoo import ZOO_DIR

from nnspec import viz

# name: the inputs drawn (N, H, W, T symbolic; ViT and Swin need their image size, LeNet-5 its 32x32)
ZOO_INPUTS = {
    "bert_base": ([("N", "T")], ["int64"]),
    "convnext_tiny": ([("N", 3, "H", "W")], None),
    "densenet121": ([("N", 3, "H", "W")], None),
    "efficientnet_b0": ([("N", 3, "H", "W")], None),
    "gpt2": ([("N", "T")], ["int64"]),
    "lenet5": ([("N", 1, 32, 32)], None),
    "mobilenet_v2": ([("N", 3, "H", "W")], None),
    "mobilenet_v3_large": ([("N", 3, "H", "W")], None),
    "resnet18": ([("N", 3, "H", "W")], None),
    "resnet50": ([("N", 3, "H", "W")], None),
    "swin_t": ([("N", 3, 224, 224)], None),
    "unet": ([("N", 3, "H", "W")], None),
    "vgg11_bn": ([("N", 3, "H", "W")], None),
    "vit_b_16": ([("N", 3, 224, 224)], None),
}


def test_every_zoo_model_is_listed():
    assert sorted(ZOO_INPUTS) == sorted(p.stem for p in ZOO_DIR.glob("*.yaml"))


@pytest.fixture(scope="module")
def graphs() -> dict[str, viz.Graph]:
    return {}


def graph_of(graphs: dict, name: str) -> viz.Graph:
    if name not in graphs:
        shapes, dtypes = ZOO_INPUTS[name]
        graphs[name] = viz.build(ZOO_DIR / f"{name}.yaml", shapes, dtypes=dtypes)
    return graphs[name]


@pytest.mark.parametrize("name", sorted(ZOO_INPUTS))
def test_the_page_is_written(graphs, name, tmp_path):
    g = graph_of(graphs, name)
    out = tmp_path / f"{name}.html"
    out.write_text(viz.render(g, "html"))
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert f'"title":"{g.title}"' in page
    assert len(g.boxes) > 10 and len(g.edges) >= len(g.boxes) - 1
    # the outputs' symbolic shapes, as static inference gives them
    symbolic = [o for o in g.outputs if re.search(r"[NT]", o[1])]
    assert symbolic and all(o[1].startswith("(N") for o in g.outputs)


@pytest.mark.parametrize("name", sorted(ZOO_INPUTS))
def test_the_svg_is_written(graphs, name, tmp_path, dot):
    g = graph_of(graphs, name)
    out = tmp_path / f"{name}.svg"
    svg = viz.render(g, "svg")
    out.write_text(svg)
    root = ET.fromstring(svg.split("?>", 1)[-1])
    shown = g.view(g.fitting_depth(viz.MAX_BOXES))
    nodes = [e for e in root.iter("{http://www.w3.org/2000/svg}g") if e.get("class") == "node"]
    assert len(nodes) == len(shown.boxes)
    texts = {"".join(t.itertext()).strip() for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert shown.edges[0].shape in texts  # the first edge's shape label
