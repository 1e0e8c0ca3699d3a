"""Parity with PyTorch for every case in cases.py: golden fixtures always, live torch when importable."""

from __future__ import annotations

import importlib.util
import os

import pytest

from backends import BACKENDS, backend
from cases import CASE_IDS, CASES
from parity import GOLDEN, check, load_golden, torch_reference

HAVE_TORCH = importlib.util.find_spec("torch") is not None
# CI sets NNSPEC_REQUIRE_TORCH=1 so that a missing torch fails the live suite instead of skipping it
SKIP_LIVE = not HAVE_TORCH and not os.environ.get("NNSPEC_REQUIRE_TORCH")


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_golden(case, name):
    assert (GOLDEN / f"{case.id}.npz").exists(), "run python tests/golden/make_golden.py"
    check(case, load_golden(case), device=backend(name).device)


@pytest.mark.torch
@pytest.mark.skipif(SKIP_LIVE, reason="torch is not installed: the live parity suite needs torch==2.13.0")
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_live(case):
    check(case, torch_reference(case))


def test_every_seed_model_is_a_case():
    from cases import SEED, SEED_INPUTS

    assert sorted(p.stem for p in SEED.glob("*.yaml")) == sorted(SEED_INPUTS)
