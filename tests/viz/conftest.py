"""The tools the graph tests need beyond Python: graphviz's ``dot`` (SVG) and Chromium (pages and PNGs).

A test that needs one is skipped, with the reason, where it is missing, unless NNSPEC_REQUIRE_TOOLS=1 (CI,
which installs both): then it fails.
"""

from __future__ import annotations

import os

import pytest

from nnspec.viz.chromium import Chromium, find_chromium
from nnspec.viz.dot import dot_path

REQUIRE = os.environ.get("NNSPEC_REQUIRE_TOOLS") == "1"


def need(found: object, what: str) -> None:
    if found:
        return
    if REQUIRE:
        pytest.fail(f"{what} is missing and NNSPEC_REQUIRE_TOOLS=1")
    pytest.skip(f"{what} is not installed")


@pytest.fixture
def dot() -> str:
    need(dot_path(), "graphviz's dot (apt-get install graphviz)")
    return dot_path()


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for a test file's pages (each test opens its own)."""
    need(find_chromium(), "Chromium (apt-get install chromium)")
    with Chromium(width=1280, height=900, timeout=120) as b:
        yield b
