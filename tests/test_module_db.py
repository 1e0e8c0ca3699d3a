"""PyTorch's conformance corpus (module_db) against nnspec: live when torch is importable, and a golden
subset (tests/golden/module_db/subset.npz, written by ``python tests/module_db.py --write-golden``) always.

The live run prints its per-type table at the end of the session (tests/conftest.py)."""

from __future__ import annotations

import importlib.util
import os

import pytest

import module_db
from nnspec.spec.models import LAYER_SPECS

HAVE_TORCH = importlib.util.find_spec("torch") is not None and importlib.util.find_spec("expecttest") is not None
SKIP_LIVE = not HAVE_TORCH and not os.environ.get("NNSPEC_REQUIRE_TORCH")


def _types() -> list[str]:
    if SKIP_LIVE:
        return []
    from torch.testing._internal.common_modules import module_db as db

    return sorted({info.module_cls.__name__ for info in db})


TYPES = _types()
# the module_db types nnspec has no layer for yet (issue 12 empties this set)
MISSING: set[str] = {
    "MultiheadAttention", "Transformer", "TransformerDecoderLayer", "TransformerEncoder", "TransformerEncoderLayer",
}


@pytest.mark.torch
@pytest.mark.skipif(SKIP_LIVE, reason="torch (and expecttest) are not installed: the live module_db suite needs them")
@pytest.mark.parametrize("type_name", [t for t in TYPES if t in LAYER_SPECS])
def test_module_db_type(type_name):
    """Every writable sample of the type: the same repr, state_dict layout, outputs and state after the call."""
    outcomes = module_db.run_all({type_name})
    module_db.RESULTS.extend(outcomes)
    failed = [o for o in outcomes if o.status == "fail"]
    assert outcomes and not failed, "\n\n".join(
        f"{o.type}[{o.index}] {'train' if o.training else 'eval'} {o.desc!r}: {o.detail}" for o in failed[:5])


@pytest.mark.torch
@pytest.mark.skipif(SKIP_LIVE, reason="torch (and expecttest) are not installed: the live module_db suite needs them")
def test_every_module_db_type_is_in_the_vocabulary():
    assert TYPES and {t for t in TYPES if t not in LAYER_SPECS} == MISSING


GOLDEN, ENTRIES = module_db.load_golden() if module_db.GOLDEN_MODULE_DB.exists() else ({}, None)


@pytest.mark.parametrize("key", sorted(GOLDEN))
def test_module_db_golden(key):
    module_db.check_golden(GOLDEN[key], ENTRIES)


def test_the_golden_subset_covers_every_type_nnspec_has_from_module_db():
    types = {key.split("/")[0] for key in GOLDEN}
    assert types and types <= set(LAYER_SPECS)
