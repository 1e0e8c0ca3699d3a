// nnspec graph: draws the graph embedded in this page (nnspec/viz/model.py's Graph, as JSON) with dagre's layout.
// Modules are frames around their steps; clicking a frame collapses it into one box (and clicking that box opens
// it again), and the graph is laid out anew. Wheel zooms, dragging pans, hovering shows where a box comes from.
// Every string from the model file reaches the page as text (textContent, setAttribute), never as markup.
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  const SANS = '"Inter", "Segoe UI", system-ui, -apple-system, "Helvetica Neue", Arial, "DejaVu Sans", sans-serif';
  const MONO = 'ui-monospace, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace';
  const data = JSON.parse(document.getElementById("nnspec-graph").textContent);
  const palette = data.palette;
  const picture = !!data.view.picture;  // a still picture (PNG): no toolbar, drawn at its natural size

  const clusters = new Map(data.clusters.map((c) => [c.id, c]));
  const collapsed = new Set();
  const initialDepth = data.view.depth;
  function collapseBelow(depth) {
    collapsed.clear();
    if (depth === null || depth === undefined) return;
    for (const c of data.clusters) if (c.depth > depth) collapsed.add(c.id);
  }
  collapseBelow(initialDepth);

  // ------------------------------------------------------------------ text measure
  const measurer = document.createElement("canvas").getContext("2d");
  const STYLES = {
    title: { font: "600 12px " + SANS, height: 16 },
    type: { font: "11px " + SANS, height: 14 },
    small: { font: "10px " + SANS, height: 13 },
    mono: { font: "10.5px " + MONO, height: 14 },
    edge: { font: "9.5px " + MONO, height: 12 },
  };
  function width(text, style) {
    measurer.font = STYLES[style].font;
    return measurer.measureText(text).width;
  }

  // ------------------------------------------------------------------ the graph as it is shown now
  function shownAs(clusterId) {
    // the outermost collapsed cluster holding clusterId (itself included), or null where every one is open
    let found = null;
    for (let c = clusterId; c !== null && c !== undefined; c = clusters.get(c).parent) if (collapsed.has(c)) found = c;
    return found;
  }

  function visible() {
    const nodes = [];
    const rep = new Map();
    const made = new Set();
    for (const b of data.boxes) {
      const top = b.cluster === null ? null : shownAs(b.cluster);
      if (top === null) {
        nodes.push({ id: b.id, kind: b.kind, family: b.family, lines: b.lines, tip: b.tip, parent: b.cluster, box: b });
        rep.set(b.id, b.id);
        continue;
      }
      rep.set(b.id, top);
      if (!made.has(top)) {
        made.add(top);
        const c = clusters.get(top);
        nodes.push({ id: c.id, kind: "module", family: c.family, lines: c.box_lines, tip: c.box_tip, parent: c.parent, cluster: c });
      }
    }
    const frames = data.clusters.filter((c) => !collapsed.has(c.id) && shownAs(c.id) === null);
    const edges = [];
    const seen = new Set();
    for (const e of data.edges) {
      const v = rep.get(e.source), w = rep.get(e.target);
      const key = v + "\u0000" + w + "\u0000" + e.shape;
      if (v === w || seen.has(key)) continue;
      seen.add(key);
      edges.push({ v, w, key, shape: e.shape, dtype: e.dtype });
    }
    return { nodes, frames, edges };
  }

  function layout(shown) {
    const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
    g.setGraph({ rankdir: "TB", nodesep: 22, ranksep: 30, edgesep: 12, marginx: 24, marginy: 24 });
    g.setDefaultEdgeLabel(() => ({}));
    // a frame's title is a node of its own at the top of the frame (every step that starts the frame's work
    // is laid out below it), so that no edge or box runs over it
    for (const f of shown.frames) {
      g.setNode(f.id, { frame: f });
      const tw = Math.max(width(f.title, "title"), width(f.stats || "", "small")) + 30;
      g.setNode("title:" + f.id, { title: f, width: tw, height: f.stats ? 30 : 18 });
      g.setParent("title:" + f.id, f.id);
    }
    for (const f of shown.frames) {
      if (f.parent === null) continue;
      g.setParent(f.id, f.parent);
      g.setEdge({ v: "title:" + f.parent, w: "title:" + f.id, name: "title" }, { title: true, width: 0, height: 0 });
    }
    for (const n of shown.nodes) {
      let w = 0, h = 12;
      for (const [style, line] of n.lines) { w = Math.max(w, width(line, style)); h += STYLES[style].height; }
      g.setNode(n.id, { node: n, width: Math.max(w + 24, 64), height: h });
      if (n.parent !== null && n.parent !== undefined) g.setParent(n.id, n.parent);
    }
    const parentOf = new Map(shown.nodes.map((n) => [n.id, n.parent === undefined ? null : n.parent]));
    const inside = (id, frame) => {  // whether the node id is drawn inside frame, at any depth
      for (let c = parentOf.get(id); c !== null && c !== undefined; c = clusters.get(c).parent) if (c === frame) return true;
      return false;
    };
    const fed = new Set();  // nodes with an input from inside their own frame
    const fanout = new Map();  // an array read by many (a DenseNet's features, a mask): its shape written once
    for (const e of shown.edges) fanout.set(e.v + "\u0000" + e.shape, (fanout.get(e.v + "\u0000" + e.shape) || 0) + 1);
    const written = new Set();
    for (const e of shown.edges) {
      const array = e.v + "\u0000" + e.shape;
      e.labelled = fanout.get(array) <= data.view.fanout || !written.has(array);
      written.add(array);
      g.setEdge({ v: e.v, w: e.w, name: e.key }, e.labelled
        ? { edge: e, width: width(e.shape, "edge") + 8, height: STYLES.edge.height + 2, labelpos: "c" }
        : { edge: e, width: 0, height: 0 });
      const frame = parentOf.get(e.w);
      if (frame !== null && inside(e.v, frame)) fed.add(e.w);
      // what feeds a frame from outside comes before its title: the frame starts below its inputs
      for (let c = frame; c !== null && c !== undefined && !inside(e.v, c); c = clusters.get(c).parent) {
        if (!g.hasEdge(e.v, "title:" + c, "title")) {
          g.setEdge({ v: e.v, w: "title:" + c, name: "title" }, { title: true, width: 0, height: 0 });
        }
      }
    }
    for (const n of shown.nodes) {
      if (n.parent !== null && n.parent !== undefined && !fed.has(n.id)) {
        g.setEdge({ v: "title:" + n.parent, w: n.id, name: "title" }, { title: true, width: 0, height: 0 });
      }
    }
    dagre.layout(g);
    return g;
  }

  // ------------------------------------------------------------------ drawing
  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const k in attrs) node.setAttribute(k, String(attrs[k]));
    if (parent) parent.appendChild(node);
    return node;
  }
  function text(parent, x, y, content, style, fill, anchor) {
    const t = el("text", { x, y, fill, "text-anchor": anchor || "middle", style: "font: " + STYLES[style].font }, parent);
    t.textContent = content;
    return t;
  }
  function curve(points) {
    // d3's basis spline through dagre's points: smooth, and through the first and last point
    const p = points;
    if (p.length < 3) return "M" + p.map((q) => q.x + "," + q.y).join("L");
    let d = "M" + p[0].x + "," + p[0].y;
    d += "L" + (5 * p[0].x + p[1].x) / 6 + "," + (5 * p[0].y + p[1].y) / 6;
    for (let i = 2; i < p.length; i++) {
      const a = p[i - 2], b = p[i - 1], c = p[i];
      d += "C" + (2 * a.x + b.x) / 3 + "," + (2 * a.y + b.y) / 3 + " " + (a.x + 2 * b.x) / 3 + "," + (a.y + 2 * b.y) / 3 +
        " " + (a.x + 4 * b.x + c.x) / 6 + "," + (a.y + 4 * b.y + c.y) / 6;
    }
    const a = p[p.length - 2], b = p[p.length - 1];
    d += "C" + (2 * a.x + b.x) / 3 + "," + (2 * a.y + b.y) / 3 + " " + (a.x + 2 * b.x) / 3 + "," + (a.y + 2 * b.y) / 3 +
      " " + b.x + "," + b.y;
    return d;
  }

  const svg = document.getElementById("canvas");
  const defs = el("defs", {}, svg);
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7,
    orient: "auto-start-reverse" }, defs);
  el("path", { d: "M0,1 L10,5 L0,9 z", fill: "#64748b" }, marker);
  const viewport = el("g", { id: "viewport" }, svg);
  let graphSize = { width: 0, height: 0 };

  function draw(g) {
    viewport.replaceChildren();
    const frames = el("g", { class: "frames" }, viewport);
    const wires = el("g", { class: "edges" }, viewport);
    const boxes = el("g", { class: "boxes" }, viewport);
    const labels = el("g", { class: "edge-labels" }, viewport);
    let maxX = 0, maxY = 0, minY = 0;
    // frames, outer ones first so inner ones draw over them; the title in the band its title node holds
    const order = g.nodes().filter((id) => g.node(id).frame).sort((a, b) => g.node(a).frame.depth - g.node(b).frame.depth);
    for (const id of order) {
      const n = g.node(id), f = n.frame, t = g.node("title:" + id);
      const x = n.x - n.width / 2, y = n.y - n.height / 2, w = n.width, h = n.height;
      minY = Math.min(minY, y);
      const group = el("g", { class: "nnspec-frame", "data-id": f.id, "data-path": f.path }, frames);
      el("rect", { x, y, width: w, height: h, rx: 10, class: "frame-rect", fill: f.depth % 2 ? "#f8fafc" : "#eef2f7",
        stroke: "#94a3b8" }, group);
      const bar = el("g", { class: "frame-title" }, group);
      const tx = t.x - t.width / 2, ty = t.y - t.height / 2;
      el("rect", { x, y, width: w, height: ty + t.height - y, rx: 10, fill: "transparent" }, bar);
      text(bar, tx + 20, ty + 13, f.title, "title", "#0f172a", "start");
      if (f.stats) text(bar, tx + 20, ty + 26, f.stats, "small", "#475569", "start");
      const toggle = el("g", { class: "toggle" }, bar);
      el("rect", { x: tx + 2, y: ty + 3, width: 12, height: 12, rx: 3, fill: "#fff", stroke: "#94a3b8" }, toggle);
      el("path", { d: `M${tx + 5},${ty + 9}h6`, stroke: "#334155", "stroke-width": 1.5 }, toggle);
      group.__tip = f.tip.concat(["click the title to close this module"]);
      bar.addEventListener("click", (ev) => { if (!dragged) { ev.stopPropagation(); toggleModule(f.id); } });
      maxX = Math.max(maxX, x + w);
      maxY = Math.max(maxY, y + h);
    }
    for (const e of g.edges()) {
      const edge = g.edge(e);
      if (edge.title) continue;
      const d = curve(edge.points);
      const group = el("g", { class: "nnspec-edge" }, wires);
      el("path", { d, class: "edge-path", fill: "none", stroke: "#64748b", "stroke-width": 1.3, "marker-end": "url(#arrow)" }, group);
      el("path", { d, fill: "none", stroke: "transparent", "stroke-width": 10 }, group);  // a wider target to hover
      group.__tip = [edge.edge.shape + " " + edge.edge.dtype];
      if (!edge.edge.labelled) continue;
      const lw = edge.width, lh = edge.height;
      const label = el("g", { class: "nnspec-shape" }, labels);
      el("rect", { x: edge.x - lw / 2, y: edge.y - lh / 2, width: lw, height: lh, rx: 3, fill: "#ffffff", "fill-opacity": 0.92 }, label);
      text(label, edge.x, edge.y + 3.5, edge.edge.shape, "edge", "#334155");
      label.__tip = group.__tip;
    }
    for (const id of g.nodes()) {
      const n = g.node(id);
      if (!n.node) continue;  // a frame or a frame's title
      const b = n.node, [fill, stroke, ink] = palette[b.family] || palette.other;
      const x = n.x - n.width / 2, y = n.y - n.height / 2;
      const group = el("g", { class: "nnspec-box kind-" + b.kind, "data-id": b.id, "data-family": b.family }, boxes);
      if (b.kind === "module") {  // a closed module: a stack of cards
        el("rect", { x: x + 4, y: y + 4, width: n.width, height: n.height, rx: 8, fill: "#cbd5e1", stroke: stroke }, group);
      }
      const io = b.kind === "input" || b.kind === "output";
      el("rect", { x, y, width: n.width, height: n.height, rx: io ? n.height / 2 : 8, fill, stroke,
        "stroke-width": b.kind === "module" ? 1.6 : 1.2 }, group);
      let ty = y + 6;
      for (const [style, line] of b.lines) {
        ty += STYLES[style].height;
        text(group, n.x, ty - 3.5, line, style, style === "small" && !io ? "#475569" : ink);
      }
      group.__tip = b.tip;
      if (b.kind === "module") group.addEventListener("click", () => { if (!dragged) toggleModule(b.id); });
      maxX = Math.max(maxX, x + n.width + 4);
      maxY = Math.max(maxY, y + n.height + 4);
    }
    const pad = 16;
    const top = Math.min(minY, 0) - pad;
    graphSize = { x: -pad, y: top, width: maxX + 2 * pad, height: maxY - top + pad };
    document.body.dataset.boxes = String(boxes.childElementCount);
  }

  // ------------------------------------------------------------------ pan and zoom
  let view = { k: 1, x: 0, y: 0 };
  function apply() { viewport.setAttribute("transform", `translate(${view.x},${view.y}) scale(${view.k})`); }
  function fit() {
    const r = svg.getBoundingClientRect();
    const k = Math.min(1.25, (r.width - 32) / graphSize.width, (r.height - 32) / graphSize.height);
    view.k = Math.max(k, 0.05);
    view.x = (r.width - graphSize.width * view.k) / 2 - graphSize.x * view.k;
    view.y = Math.max(16, (r.height - graphSize.height * view.k) / 2) - graphSize.y * view.k;
    apply();
  }
  function home() {
    // the whole graph where it reads at that size; else its top, centred on the first input, at a readable size
    const r = svg.getBoundingClientRect();
    if (Math.min((r.width - 32) / graphSize.width, (r.height - 32) / graphSize.height) >= 0.6) return fit();
    view.k = Math.min(1, Math.max(0.6, (r.width - 32) / graphSize.width));
    const first = viewport.querySelector(".kind-input rect");
    const cx = first ? (+first.getAttribute("x") + +first.getAttribute("width") / 2) : graphSize.x + graphSize.width / 2;
    view.x = graphSize.width * view.k <= r.width ? (r.width - graphSize.width * view.k) / 2 - graphSize.x * view.k
      : r.width / 2 - cx * view.k;
    view.y = 16 - graphSize.y * view.k;
    apply();
  }
  let dragged = false;
  if (!picture) {
    svg.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const r = svg.getBoundingClientRect();
      const px = ev.clientX - r.left, py = ev.clientY - r.top;
      const k = Math.min(4, Math.max(0.03, view.k * Math.exp(-ev.deltaY * (ev.deltaMode ? 0.05 : 0.0015))));
      view.x = px - (px - view.x) * (k / view.k);
      view.y = py - (py - view.y) * (k / view.k);
      view.k = k;
      apply();
    }, { passive: false });
    let start = null;
    svg.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0) return;
      start = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y };
      dragged = false;
    });
    window.addEventListener("pointermove", (ev) => {
      if (start) {
        const dx = ev.clientX - start.x, dy = ev.clientY - start.y;
        if (!dragged && Math.hypot(dx, dy) > 4) { dragged = true; svg.classList.add("panning"); }
        if (dragged) { view.x = start.vx + dx; view.y = start.vy + dy; apply(); }
      }
      tipAt(ev);
    });
    window.addEventListener("pointerup", () => {
      start = null;
      svg.classList.remove("panning");
      setTimeout(() => { dragged = false; }, 0);
    });
  }

  // ------------------------------------------------------------------ tooltips
  const tip = document.getElementById("tip");
  function tipAt(ev) {
    if (picture) return;
    let t = ev.target;
    while (t && t !== svg && !t.__tip) t = t.parentNode;
    if (!t || t === svg || !t.__tip || dragged) { tip.hidden = true; return; }
    tip.replaceChildren();
    t.__tip.forEach((line, i) => {
      const div = document.createElement("div");
      div.className = i === 0 ? "tip-head" : /:\d+(:\d+)?$/.test(line) ? "tip-where" : "tip-line";
      div.textContent = line;
      tip.appendChild(div);
    });
    tip.hidden = false;
    const w = tip.offsetWidth, h = tip.offsetHeight;
    tip.style.left = Math.min(ev.clientX + 14, window.innerWidth - w - 8) + "px";
    tip.style.top = Math.min(ev.clientY + 14, window.innerHeight - h - 8) + "px";
  }

  // ------------------------------------------------------------------ opening and closing modules
  function screenOf(id) {
    const node = viewport.querySelector(`[data-id="${CSS.escape(id)}"]`);
    return node ? node.getBoundingClientRect() : null;
  }
  function relayout(keep, then) {
    const before = keep ? screenOf(keep) : null;
    status("laying out\u2026");
    if (window.nnspecGraph) window.nnspecGraph.ready = false;
    document.body.dataset.ready = "0";
    setTimeout(() => {  // after the status is painted: a large graph takes seconds
      draw(layout(visible()));
      if (before) {  // the module clicked stays where it was on the screen
        const after = screenOf(keep);
        if (after) { view.x += before.left - after.left; view.y += before.top - after.top; apply(); }
      }
      if (then) then();
      status("");
      report();
    }, 16);
  }
  function toggleModule(id) {
    if (collapsed.has(id)) {
      collapsed.delete(id);
      for (const c of data.clusters) if (c.parent === id) collapsed.add(c.id);  // open one level at a time
    } else collapsed.add(id);
    relayout(id);
  }

  // ------------------------------------------------------------------ header, legend, status
  function status(message) {
    const s = document.getElementById("status");
    if (s) s.textContent = message;
  }
  function header() {
    const bar = document.getElementById("bar");
    const h = document.createElement("div");
    h.className = "headline";
    const name = document.createElement("span");
    name.className = "model";
    name.textContent = data.title;
    h.appendChild(name);
    const facts = document.createElement("span");
    facts.className = "facts";
    facts.textContent = data.facts;
    h.appendChild(facts);
    bar.appendChild(h);
    if (data.source) {
      const file = document.createElement("span");
      file.className = "source";
      file.textContent = data.source;
      h.appendChild(file);
    }
    const sig = document.createElement("div");
    sig.className = "signature";
    sig.textContent = data.signature + (data.guessed ? "  (input shapes guessed from the first layer)" : "");
    bar.appendChild(sig);
    if (data.assumptions.length) {
      const a = document.createElement("div");
      a.className = "assumes";
      a.textContent = "assumes " + data.assumptions.join("; ");
      bar.appendChild(a);
    }
    const legend = document.createElement("div");
    legend.className = "legend";
    const used = new Set(data.boxes.map((b) => b.family).concat(data.clusters.map((c) => c.family)));
    for (const family of data.families) {
      if (!used.has(family) || family === "io") continue;
      const item = document.createElement("span");
      item.className = "swatch";
      const chip = document.createElement("i");
      chip.style.background = palette[family][0];
      chip.style.borderColor = palette[family][1];
      item.appendChild(chip);
      item.appendChild(document.createTextNode(family));
      legend.appendChild(item);
    }
    bar.appendChild(legend);
    if (picture) return;
    const tools = document.createElement("div");
    tools.className = "tools";
    const button = (label, title, act) => {
      const b = document.createElement("button");
      b.textContent = label;
      b.title = title;
      b.addEventListener("click", act);
      tools.appendChild(b);
    };
    button("Fit", "fit the graph to the window", fit);
    button("Home", "the top of the graph at a readable size", home);
    button("Open all", "open every module", () => { collapsed.clear(); relayout(null, home); });
    button("Close all", "close every module", () => { collapseBelow(0); relayout(null, home); });
    const s = document.createElement("span");
    s.id = "status";
    tools.appendChild(s);
    const hint = document.createElement("span");
    hint.className = "hint";
    hint.textContent = "wheel: zoom \u00b7 drag: pan \u00b7 click a module's title to close it, a closed module to open it";
    tools.appendChild(hint);
    bar.appendChild(tools);
  }

  function report() {
    // what a test (or a curious reader) can ask the page: how much of the graph is drawn
    window.nnspecGraph = {
      ready: true,
      boxes: viewport.querySelectorAll(".nnspec-box").length,
      frames: viewport.querySelectorAll(".nnspec-frame").length,
      edges: viewport.querySelectorAll(".nnspec-edge").length,
      size: { width: Math.ceil(graphSize.width), height: Math.ceil(graphSize.height) },
      toggle: (id) => toggleModule(id),
      openAll: () => { collapsed.clear(); relayout(null, home); },
    };
    document.body.dataset.ready = "1";
  }

  header();
  const g = layout(visible());
  draw(g);
  if (picture) {  // drawn at scale 1, the page as large as the graph
    svg.setAttribute("width", String(Math.ceil(graphSize.width)));
    svg.setAttribute("height", String(Math.ceil(graphSize.height)));
    view = { k: 1, x: -graphSize.x, y: -graphSize.y };
    apply();
    document.body.classList.add("picture");
  } else {
    home();
  }
  report();
})();
