"""nnspec.viz's graph: boxes, nesting, dataflow edges with static shapes, costs equal to the summary's, views,
guessed inputs, and the escaping of the model's names in every format."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import nnspec
from nnspec import static, viz
from nnspec.runtime.symbolic import Dim
from nnspec.summary import totals
from nnspec.viz.dot import to_dot
from nnspec.viz.html import page_data, to_html
from nnspec.viz.model import FANOUT, GraphError, labelled

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = ROOT / "models" / "resnet_blocks.yaml"
SYMBOLIC = [("N", 3, "H", "W")]
HALF = "(N, 64, (H + 1)//2, (W + 1)//2)"
QUARTER = "(N, 128, (H + 3)//4, (W + 3)//4)"


@pytest.fixture(scope="module")
def blocks() -> viz.Graph:
    return viz.build(BLOCKS, SYMBOLIC)


def by_name(graph: viz.Graph, name: str, kind: str | None = None) -> list[viz.Box]:
    return [b for b in graph.boxes if b.name == name and (kind is None or b.kind == kind)]


def edge(graph: viz.Graph, source: str, target: str) -> viz.Edge:
    ids = {b.id: b.name for b in graph.boxes}
    found = [e for e in graph.edges if ids[e.source] == source and ids[e.target] == target]
    assert len(found) == 1, (source, target, found)
    return found[0]


# ---------------------------------------------------------------------------------------------- boxes and frames

def test_every_layer_call_and_op_is_a_box_in_forward_order(blocks):
    steps = [b.name for b in blocks.boxes if b.kind in ("layer", "op")]
    assert steps[:5] == ["conv1", "bn1", "relu", "maxpool", "layer1.conv1"]
    assert steps.count("layer1.relu") == 2  # the block's ReLU is called twice: two boxes
    assert [b.kind for b in blocks.boxes if b.name.endswith(".add")] == ["op", "op"]
    assert (blocks.boxes[0].kind, blocks.boxes[0].label) == ("input", "x")
    assert (blocks.boxes[-1].kind, blocks.boxes[-1].detail) == ("output", f"{QUARTER} float32")
    conv = by_name(blocks, "layer2.conv1")[0]
    assert (conv.label, conv.type, conv.family) == ("conv1", "Conv2d", "conv")
    assert conv.detail == "Conv2d(64, 128, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)"
    add = by_name(blocks, "layer1.add")[0]
    assert (add.type, add.family) == ("iadd", "merge")
    assert add.detail == f"iadd({HALF}, {HALF})"  # the op's arguments, each array as its shape


def test_modules_are_nested_frames(blocks):
    frames = {c.path: c for c in blocks.clusters}
    assert set(frames) == {"layer1", "layer2", "layer2.downsample"}
    assert (frames["layer1"].type, frames["layer1"].depth, frames["layer1"].custom) == ("BasicBlock", 1, True)
    down = frames["layer2.downsample"]
    assert (down.type, down.parent, down.depth, down.custom) == ("Sequential", frames["layer2"].id, 2, False)
    assert by_name(blocks, "layer2.downsample.0")[0].cluster == down.id
    assert by_name(blocks, "layer2.add")[0].cluster == frames["layer2"].id  # an op sits in its forward's module
    assert by_name(blocks, "conv1")[0].cluster is None  # the model itself is the picture, not a frame


def test_the_file_line_of_each_box(blocks):
    text = BLOCKS.read_text().splitlines()
    conv = by_name(blocks, "layer2.downsample.0")[0]
    file, line, _ = conv.where.rsplit(":", 2)
    assert file == str(BLOCKS) and "{Conv2d: [64, 128, 1]" in text[int(line) - 1]
    resnet = ROOT / "models" / "zoo" / "resnet18.yaml"
    add = by_name(viz.build(resnet, SYMBOLIC), "layer3.1.add")[0]
    line = int(add.where.rsplit(":", 2)[1])
    assert resnet.read_text().splitlines()[line - 1].strip() == "out += identity"  # an op: its line in the forward


# ---------------------------------------------------------------------------------------------- dataflow

def test_edges_follow_the_dataflow_with_symbolic_shapes(blocks):
    assert edge(blocks, "x", "conv1").shape == "(N, 3, H, W)"
    assert edge(blocks, "maxpool", "layer1.conv1").shape == HALF
    assert edge(blocks, "maxpool", "layer1.add").shape == HALF  # the residual: identity = x
    assert edge(blocks, "layer2.downsample.1", "layer2.add").shape == QUARTER
    assert edge(blocks, "layer2.relu", "output").shape == QUARTER
    assert all(e.dtype == "float32" for e in blocks.edges)
    assert blocks.inputs == [("x", "(N, 3, H, W)", "float32")]
    assert blocks.outputs == [("output", QUARTER, "float32")]


def test_a_sequential_without_a_forward_is_a_chain():
    g = viz.build(ROOT / "models" / "seed" / "sequential.yaml", [(2, 1, 32, 32)])
    names = [b.name for b in g.boxes]
    assert names == ["input", "0", "1", "2", "3", "output"]
    assert [(e.source, e.target) for e in g.edges] == list(zip([b.id for b in g.boxes], [b.id for b in g.boxes][1:]))
    assert [e.shape for e in g.edges] == ["(2, 1, 32, 32)", "(2, 20, 28, 28)", "(2, 20, 28, 28)", "(2, 64, 24, 24)",
                                          "(2, 64, 24, 24)"]


def test_token_ids_and_named_outputs():
    g = viz.build(ROOT / "models" / "examples" / "transformer_classifier.yaml", [("N", "T")], dtypes=["int64"])
    assert g.inputs == [("tokens", "(N, T)", "int64")]
    assert g.edges[0].dtype == "int64"
    assert len(g.outputs) == 1 and g.outputs[0][1].startswith("(N, ")


# ---------------------------------------------------------------------------------------------- costs

@pytest.mark.parametrize("model, shape", [(BLOCKS, SYMBOLIC[0]), (ROOT / "models/zoo/resnet18.yaml", (1, 3, 64, 64)),
                                          (ROOT / "models/seed/shared_submodule.yaml", ("N", 20, "H", "W")),
                                          (ROOT / "models/examples/gpt_block.yaml", ("N", "T", 64))])
def test_parameters_and_mult_adds_are_the_summarys(model, shape):
    g = viz.build(model, [shape])
    net = nnspec.load(model, meta=True)
    found = static.infer(net, [tuple(Dim.symbol(s) if isinstance(s, str) else s for s in shape)])
    assert (g.params, g.trainable) == (totals(net)["params"], totals(net)["trainable"])
    assert str(g.mult_adds) == str(found.mult_adds)
    # each layer box is a leaf row of the summary's table (nnspec summary -s ...), in order
    module_calls = [c for c, m in zip(found.calls, found.modules) if m is not None]
    rows = [r for r in static.layer_rows(found) if not r.is_op]
    leaves = [(c.path, r.params, str(r.mult_adds)) for c, r in zip(module_calls, rows) if r.is_leaf and c.depth > 0]
    layers = [(b.name, None if b.shared else b.params, str(b.mult_adds)) for b in g.boxes if b.kind == "layer"]
    assert layers == leaves
    # each frame is its module's row with the rows below it folded in (nnspec summary --depth)
    for c in g.clusters:
        folded = static.layer_rows(found, depth=c.depth)
        row = next(r for call, r in zip(module_calls, [r for r in folded if not r.is_op]) if call.path == c.path)
        assert (c.params, str(c.mult_adds)) == (row.params, str(row.mult_adds)), c.path


def test_a_shared_module_counts_its_parameters_once():
    g = viz.build(ROOT / "models" / "seed" / "shared_submodule.yaml", [(1, 20, 16, 16)])
    convs = [b for b in g.boxes if b.type == "Conv2d"]
    assert len(convs) == 2 and [b.shared for b in convs] == [False, True] and convs[1].params == 0
    assert sum(b.params for b in g.boxes) == g.params


# ---------------------------------------------------------------------------------------------- views

def test_a_view_closes_the_deeper_modules(blocks):
    top = blocks.view(0)
    assert [(b.kind, b.label) for b in top.boxes if b.kind == "module"] == [("module", "layer1"), ("module", "layer2")]
    assert top.clusters == []
    ids = {b.id: b.name for b in top.boxes}
    assert [(ids[e.source], ids[e.target], e.shape) for e in top.edges][-3:] == [
        ("maxpool", "layer1", HALF), ("layer1", "layer2", HALF), ("layer2", "output", QUARTER)]  # the two edges
    # from maxpool into layer1 (conv1 and the residual) are one now
    closed = next(b for b in top.boxes if b.label == "layer2")
    frame = next(c for c in blocks.clusters if c.path == "layer2")
    assert (closed.params, str(closed.mult_adds)) == (frame.params, str(frame.mult_adds))
    one = blocks.view(1)
    assert [c.path for c in one.clusters] == ["layer1", "layer2"]
    assert [b.label for b in one.boxes if b.kind == "module"] == ["downsample"]
    assert blocks.view(None) is blocks and blocks.view(5) is blocks


def test_the_fitting_depth(blocks):
    assert blocks.fitting_depth(100) is None
    assert blocks.fitting_depth(len(blocks.view(1).boxes)) == 1
    assert blocks.fitting_depth(3) == 0


def test_an_array_read_by_many_has_its_shape_written_once():
    g = viz.build(ROOT / "models" / "zoo" / "densenet121.yaml", [("N", 3, "H", "W")]).view(2)
    marks = labelled(g.edges)
    readers: dict = {}
    for e, mark in zip(g.edges, marks):
        readers.setdefault((e.source, e.shape), []).append(mark)
    assert any(len(m) > FANOUT for m in readers.values())
    for m in readers.values():
        assert m == [True] * len(m) if len(m) <= FANOUT else m == [True] + [False] * (len(m) - 1)


# ---------------------------------------------------------------------------------------------- inputs guessed

@pytest.mark.parametrize("model, inputs", [
    ("models/resnet_blocks.yaml", [("x", "(N, 3, H, W)", "float32")]),
    ("models/zoo/lenet5.yaml", [("x", "(N, 1, 32, 32)", "float32")]),  # symbolic sizes can't reach its Linear
    ("models/examples/gru_lm.yaml", [("x", "(N, T)", "int64")]),  # token ids for its Embedding
    ("models/seed/bilinear.yaml", [("input1", "(N, 20)", "float32"), ("input2", "(N, 30)", "float32")]),
])
def test_inputs_are_guessed_from_the_first_layers(model, inputs):
    g = viz.build(ROOT / model)
    assert g.inputs == inputs and g.guessed


def test_a_model_whose_inputs_cant_be_guessed_asks_for_them():
    with pytest.raises(GraphError, match=r"give the input shapes .* could not guess them from Dropout"):
        viz.build(ROOT / "models" / "seed" / "dropout.yaml")


def test_a_mismatch_in_given_shapes_is_the_placed_error():
    with pytest.raises(nnspec.ShapeError, match=r"resnet_blocks.yaml:\d+:\d+: conv1 \(Conv2d\).*3 channels"):
        viz.build(BLOCKS, [(1, 4, 32, 32)])


# ---------------------------------------------------------------------------------------------- formats

def test_the_format_comes_from_the_suffix(tmp_path):
    assert [viz.format_of(n) for n in ("a.html", "b.HTM", "c.svg", "d.png", "e.dot", "f.gv")] == \
        ["html", "html", "svg", "png", "dot", "dot"]
    with pytest.raises(GraphError, match=r"name the file .html, .svg, .png or .dot"):
        viz.format_of("model.pdf")
    with pytest.raises(GraphError, match=r"unknown format 'pdf'"):
        viz.graph(BLOCKS, SYMBOLIC, fmt="pdf")


def test_save_writes_the_page(tmp_path):
    out = tmp_path / "blocks.html"
    g = viz.save(out, BLOCKS, SYMBOLIC)
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and len(g.boxes) == 22
    assert not list(tmp_path.glob(".*"))  # written through a temporary file, renamed


def test_an_svg_without_graphviz_says_to_install_it(monkeypatch, blocks):
    monkeypatch.setattr("nnspec.viz.dot.dot_path", lambda: None)
    with pytest.raises(GraphError, match=r"graphviz's dot, which is not installed: install graphviz"):
        viz.render(blocks, "svg")


def test_a_png_without_chromium_says_to_install_it(monkeypatch, blocks):
    monkeypatch.setattr("nnspec.viz.picture.find_chromium", lambda: None)
    with pytest.raises(GraphError, match=r"headless Chromium, which is not installed: install it"):
        viz.render(blocks, "png")


def test_the_page_is_self_contained(blocks):
    page = to_html(blocks)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", page)
    assert "default-src 'none'" in page  # the page's policy refuses any load from elsewhere
    assert page.count("<script") == 3 and "sourceMappingURL" not in page


def test_the_page_embeds_the_graph_as_json(blocks):
    page = to_html(blocks, depth=1)
    text = re.search(r'<script type="application/json" id="nnspec-graph">(.*?)</script>', page, re.DOTALL).group(1)
    data = json.loads(text)
    assert data == json.loads(json.dumps(page_data(blocks, 1)))
    assert data["view"]["depth"] == 1
    assert [b["lines"] for b in data["boxes"] if b["name"] == "layer2.conv1"] == \
        [[["title", "conv1"], ["type", "Conv2d"], ["small", "73.7K params \u00b7 MACs f(H, N, W)"]]]


def test_the_dot_text(blocks):
    text = to_dot(blocks)
    assert text.count("subgraph cluster_") == 3
    assert f'label=" {HALF} "' in text
    assert len(re.findall(r"^\s*\w+ -> \w+ ", text, re.MULTILINE)) == len(blocks.edges)


# ---------------------------------------------------------------------------------------------- hostile names

HOSTILE = '''type: Sequential
modules:
  "</script><script>alert(1)</script>": {Conv2d: [3, 4, 3]}
  "x\\" onmouseover=\\"alert(2)": ReLU
  "a\\\\N\\\\G&amp;<!--": {Sequential: {"q'\\"<>\\u2028": Identity}}
'''
NAMES = ["</script><script>alert(1)</script>", 'x" onmouseover="alert(2)', "a\\N\\G&amp;<!--", "q'\"<>\u2028"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, viz.Graph]:
    path = tmp_path_factory.mktemp("hostile") / "h<b>&'.yaml"
    path.write_text(HOSTILE)
    return path, viz.build(path, [(1, 3, 8, 8)])


def test_hostile_names_reach_the_graph_as_they_are(hostile):
    _, g = hostile
    assert [b.label for b in g.boxes if b.kind == "layer"] == NAMES[:2] + [NAMES[3]]
    assert [c.label for c in g.clusters] == [NAMES[2]]


def test_hostile_names_stay_data_in_the_page(hostile):
    _, g = hostile
    page = to_html(g)
    assert page.count("<script") == 3 and page.count("</script>") == 3  # the model's names close nothing
    found = re.search(r'<script type="application/json" id="nnspec-graph">(.*?)</script>', page, re.DOTALL)
    text = found.group(1)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    rest = page[:found.start()] + page[found.end():]
    assert not [name for name in NAMES if name in rest] and "alert(" not in rest  # the names are only data
    data = json.loads(text)
    assert [b["label"] for b in data["boxes"] if b["kind"] == "layer"] == NAMES[:2] + [NAMES[3]]
    title = re.search(r"<title>(.*)</title>", page).group(1)
    assert "<" not in title


def test_hostile_names_are_escaped_for_graphviz(hostile, dot):
    _, g = hostile
    svg = viz.render(g, "svg")
    root = ET.fromstring(svg.split("?>", 1)[-1].split("]>", 1)[-1] if "<!DOCTYPE" in svg else svg)
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    tips = [a.get("{http://www.w3.org/1999/xlink}title", "").replace("\u200b", "") for a in root.iter()]
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    for name in NAMES[:2] + [NAMES[2] + ": Sequential"]:  # a box's or frame's first line, as written (graphviz's
        assert name in texts, name  # \N and \G not expanded)
    assert any("q'\"<>" in t for t in texts)
    assert any(t.startswith(NAMES[2] + " (Sequential)") for t in tips)  # tooltips too
