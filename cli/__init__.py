"""The ``nnspec`` command: a thin Typer layer over the library, one module per command or command group.

Installed as the package ``nnspec_cli`` (this folder), so that it claims no generic import name; the library,
``nnspec``, never imports it and works without typer. ``python -m nnspec_cli`` is the command too.
"""

from __future__ import annotations

import gc

from . import check, graph, info, interop, predict, run, schema, weights  # noqa: F401 - each registers its commands on app
from .common import app

__all__ = ["app", "main"]


def main() -> None:
    # A command builds a model's objects all at once and keeps them to the end: with the default thresholds
    # (700, 10, 10) the cycle collector re-walks them over and over (a third of `run`'s time at 100,000
    # modules). Larger ones collect as surely, a few MB later.
    gc.set_threshold(50_000, 50, 50)
    app()
