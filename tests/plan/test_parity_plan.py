"""Every parity case through an execution plan: against torch (golden fixtures always, live torch when
importable), with all passes on."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from backends import BACKENDS, backend
from cases import CASE_IDS, CASES
from nnspec.plan.plan import CONV_METHODS
from parity import check, load_golden, torch_reference

HAVE_TORCH = importlib.util.find_spec("torch") is not None
SKIP_LIVE = not HAVE_TORCH and not os.environ.get("NNSPEC_REQUIRE_TORCH")
RUN = [c for c in CASES if c.inputs]
ROOT = Path(__file__).resolve().parents[2]


def _has_conv2d(case) -> bool:
    text = json.dumps(case.model) if isinstance(case.model, dict) else (ROOT / case.model).read_text()
    return "conv2d" in text.lower()


# the cases a convolution method can change: each one with every method forced in turn, in its own dtype
# and (float32 cases) in float16 too
CONV = [c for c in RUN if _has_conv2d(c) and not c.random]
FORCED = [(c, m, d) for c in CONV for m in CONV_METHODS for d in ([c.dtype] + (["float16"] if c.dtype == "float32" else []))]


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("case", RUN, ids=[c.id for c in RUN])
def test_plan_matches_torch_golden(case, name):
    check(case, load_golden(case), passes={}, device=backend(name).device)


@pytest.mark.torch
@pytest.mark.skipif(SKIP_LIVE, reason="torch is not installed: the live parity suite needs torch==2.13.0")
@pytest.mark.parametrize("case", RUN, ids=[c.id for c in RUN])
def test_plan_matches_torch_live(case):
    check(case, torch_reference(case), passes={})


@pytest.mark.parametrize("case,method,dtype", FORCED, ids=[f"{c.id}-{m}-{d}" for c, m, d in FORCED])
def test_plan_with_each_convolution_method_matches_torch_golden(case, method, dtype):
    check(case, load_golden(case), passes={}, conv_method=method, dtype=dtype)


def test_the_forced_methods_cover_the_convolution_cases():
    assert len(CONV) >= 20 and {m for _, m, _ in FORCED} == set(CONV_METHODS)


def test_cases_cover_every_id():
    assert len(CASE_IDS) == len(CASES)
