"""Make docs/graph.png, the README's picture of a model: ``python docs/make_graph_png.py`` (needs Chromium).

It is what ``nnspec graph models/resnet_blocks.yaml -s N,3,H,W -o docs/graph.png`` writes: the model's page
(``nnspec.viz``) drawn still by headless Chromium. Run from anywhere; the model's path in the picture is the
repository's relative one.
"""

from __future__ import annotations

import os
from pathlib import Path

import nnspec.viz

ROOT = Path(__file__).resolve().parents[1]
MODEL = "models/resnet_blocks.yaml"
OUT = ROOT / "docs" / "graph.png"


def main() -> None:
    os.chdir(ROOT)  # the picture names the model file as the README does
    nnspec.viz.save(OUT, MODEL, [("N", 3, "H", "W")])
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
