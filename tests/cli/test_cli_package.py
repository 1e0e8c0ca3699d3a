"""The command line is its own top-level component, ``cli/`` installed as ``nnspec_cli``: the library never imports
it, and works where typer (and click and rich, which come with it) is not installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nnspec
import nnspec_cli

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = Path(nnspec.__file__).resolve().parent


def test_the_cli_is_the_top_level_folder():
    assert Path(nnspec_cli.__file__).resolve().parent == ROOT / "cli"
    assert not (LIBRARY / "cli.py").exists() and not (LIBRARY / "__main__.py").exists()


def test_the_library_never_names_the_cli_or_typer():
    for path in LIBRARY.rglob("*.py"):
        text = path.read_text()
        for name in ("nnspec_cli", "import typer", "from typer", "import rich", "from rich", "import click"):
            assert name not in text, f"{path.relative_to(ROOT)} names {name}"


def test_the_library_builds_and_runs_a_model_without_typer():
    # typer, click and rich made unimportable (None in sys.modules is how Python spells "not installed")
    code = """
import sys
for name in ("typer", "click", "rich", "shellingham", "nnspec_cli"):
    sys.modules[name] = None
import numpy as np
import nnspec
model = nnspec.loads("Sequential:\\n  fc: {Linear: [4, 2]}\\n  act: ReLU\\n")
out = model(np.ones((3, 4), np.float32))
print(out.shape, sorted(model.state_dict()))
from nnspec.runtime.symbolic import parse_size
print(nnspec.static.infer(nnspec.loads("Linear: [4, 2]", meta=True), [(parse_size("N"), 4)]).output_shape)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["(3, 2) ['fc.bias', 'fc.weight']", "(N, 2)"]


def test_python_m_nnspec_cli_is_the_command():
    proc = subprocess.run([sys.executable, "-m", "nnspec_cli", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout.startswith("Usage:") and "Commands:" in proc.stdout
