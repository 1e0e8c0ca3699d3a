"""Every parity case through an execution plan: against torch (golden fixtures always, live torch when
importable), with all passes on."""

from __future__ import annotations

import importlib.util
import os

import pytest

from backends import BACKENDS, backend
from cases import CASE_IDS, CASES
from parity import check, load_golden, torch_reference

HAVE_TORCH = importlib.util.find_spec("torch") is not None
SKIP_LIVE = not HAVE_TORCH and not os.environ.get("NNSPEC_REQUIRE_TORCH")
RUN = [c for c in CASES if c.inputs]


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("case", RUN, ids=[c.id for c in RUN])
def test_plan_matches_torch_golden(case, name):
    check(case, load_golden(case), passes={}, device=backend(name).device)


@pytest.mark.torch
@pytest.mark.skipif(SKIP_LIVE, reason="torch is not installed: the live parity suite needs torch==2.13.0")
@pytest.mark.parametrize("case", RUN, ids=[c.id for c in RUN])
def test_plan_matches_torch_live(case):
    check(case, torch_reference(case), passes={})


def test_cases_cover_every_id():
    assert len(CASE_IDS) == len(CASES)
