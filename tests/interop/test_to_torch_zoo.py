"""nnspec.to_torch on the zoo (models/zoo): each model made a torch module gives nnspec's outputs, and one
SGD step on it gives the same parameters as the same step on the reference itself (torchvision's,
transformers' or the hand-written one of tests/twins.py) loaded with the same weights. Needs torch and the
reference's package: skipped without them, as tests/test_references.py's live rows are."""

from __future__ import annotations

import numpy as np
import pytest

import nnspec
from references import (REFERENCES, build_reference, golden_model, load_state, make_inputs, missing_packages,
                        nnspec_outputs)
from zoo import close

pytestmark = pytest.mark.torch


def _named(ref, y) -> dict:
    """A torch model's outputs by the reference's names (a tensor, a tuple, a dict or a ModelOutput)."""
    if isinstance(y, dict) or hasattr(y, "keys"):
        return {name: y[name] for name in ref.outputs}
    ys = list(y) if isinstance(y, (tuple, list)) else [y]
    return dict(zip(ref.outputs, ys))


def _step(ref, model, inputs: dict, call: dict) -> None:
    """One SGD step (lr 0.01, momentum 0.9) on every output weighted by fixed random numbers."""
    import torch

    g = torch.Generator().manual_seed(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    y = _named(ref, model(*[torch.from_numpy(v) for v in inputs.values()], **call))
    loss = sum((v * torch.randn(v.shape, generator=g)).sum() for v in y.values())
    loss.backward()
    opt.step()


@pytest.mark.parametrize("ref", REFERENCES, ids=[r.name for r in REFERENCES])
def test_a_zoo_model_in_torch_runs_and_trains_as_its_reference(ref):
    missing = missing_packages(ref)
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    import torch

    m = golden_model(ref)  # seeded weights, the constant ones redrawn, batch norms calibrated; eval mode
    t = nnspec.to_torch(m)
    reference = build_reference(ref)
    assert list(t.state_dict()) == list(reference.state_dict())
    if ref.same_repr:
        assert repr(t) == repr(reference)
    x = make_inputs(ref, 0)
    want = nnspec_outputs(ref, m(*x.values()))
    with torch.no_grad():
        got = _named(ref, t(*[torch.from_numpy(v) for v in x.values()]))
    for name in ref.outputs:
        close(got[name].numpy(), want[name])
    load_state(reference, {k: np.asarray(v) for k, v in m.state_dict().items()})
    call = ref.call if ref.source == "transformers" else {}
    _step(ref, t, x, {})
    _step(ref, reference, x, call)
    theirs = reference.state_dict()
    for k, v in t.state_dict().items():
        np.testing.assert_allclose(v.numpy(), theirs[k].numpy(), rtol=1e-4, atol=1e-6, err_msg=k)
