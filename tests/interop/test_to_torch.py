"""nnspec.to_torch (needs torch: skipped without it, required in CI by NNSPEC_REQUIRE_TORCH).

Every non-random parity case (tests/cases.py: every model of models/seed and models/examples, the
vocabulary's layers, custom forwards) made a torch module: torch's classes, repr and state_dict keys, and
nnspec's outputs and state after the call. One SGD step on the torch module gives the same parameters as
the same step on the hand-written twin (tests/oracle.py builds it from the file, its forward run by
Python); for the zoo, on torchvision's, transformers' or the hand-written reference (tests/references.py).
"""

from __future__ import annotations

import importlib.util
import os
import re
import zlib

import numpy as np
import pytest

import nnspec
from cases import CASE_IDS, CASES
from parity import TOL, _prefixed, bind_call, build_nnspec, load_golden, spec_of

HAVE_TORCH = importlib.util.find_spec("torch") is not None
SKIP = not HAVE_TORCH and not os.environ.get("NNSPEC_REQUIRE_TORCH")
pytestmark = [pytest.mark.torch, pytest.mark.skipif(SKIP, reason="nnspec.to_torch needs torch")]

RUN = [(c, i) for c, i in zip(CASES, CASE_IDS) if c.inputs and not c.random]


def _ready(case):
    """The case's nnspec model with its golden state (after a first call where a layer is lazy), and inputs."""
    m = build_nnspec(case)
    ref = load_golden(case)
    xs = list(_prefixed(ref, "input/").values())
    m.to(case.dtype)
    if "repr_after" in ref:
        m.train(case.train)
        args, kwargs = bind_call(m, [x.copy() for x in xs], case.named)
        m(*args, **kwargs)
    m.load_state_dict(_prefixed(ref, "state/"))
    m.train(case.train)
    return m, xs


def _outputs(y) -> list:
    if isinstance(y, dict):
        return [v for v in y.values() if v is not None]
    return [v for v in y if v is not None] if isinstance(y, (tuple, list)) else [y]


@pytest.mark.parametrize("case", [c for c, _ in RUN], ids=[i for _, i in RUN])
def test_every_case_runs_in_torch_as_in_nnspec(case):
    import torch

    m, xs = _ready(case)
    t = nnspec.to_torch(m)
    assert isinstance(t, torch.nn.Module) and type(t).__name__ == m._get_name()
    assert repr(t) == repr(m)
    assert list(t.state_dict()) == list(m.state_dict())
    assert [n for n, _ in t.named_modules()] == [n for n, _ in m.named_modules()]
    assert t.training == m.training
    args, kwargs = bind_call(m, [x.copy() for x in xs], case.named)
    want = _outputs(m(*args, **kwargs))
    with torch.no_grad():
        got = _outputs(t(*[torch.from_numpy(x.copy()) for x in xs], **case.named))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        w = np.asarray(w)
        g = g.numpy() if isinstance(g, torch.Tensor) else np.asarray(g)
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, **TOL[case.dtype])
    theirs = t.state_dict()
    for k, v in m.state_dict().items():  # running statistics after a train-mode call
        np.testing.assert_allclose(theirs[k].numpy(), np.asarray(v), err_msg=k, **TOL[case.dtype])


def _loss(y, seed: int):
    """A scalar of every floating output, weighted by fixed random numbers (a plain sum would give every
    element the same gradient)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    total = 0
    for v in _outputs(y):
        if isinstance(v, torch.Tensor) and v.is_floating_point():
            total = total + (v * torch.randn(v.shape, generator=g, dtype=v.dtype)).sum()
    return total


def _step(model, inputs: list, named: dict, seed: int) -> bool | str:
    """One SGD step (lr 0.1, momentum 0.9) on ``_loss``: True; False where no output depends on a parameter;
    torch's message where its backward refuses (an EmbeddingBag's sparse gradient scaled by frequency)."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    loss = _loss(model(*[torch.from_numpy(x.copy()) for x in inputs], **named), seed)
    if not params or not isinstance(loss, torch.Tensor) or not loss.requires_grad:
        return False
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    try:
        loss.backward()
    except RuntimeError as e:
        return str(e)
    opt.step()
    return True


STEP = [(c, i) for c, i in RUN if c.dtype == "float32"]


@pytest.mark.parametrize("case", [c for c, _ in STEP], ids=[i for _, i in STEP])
def test_one_sgd_step_is_the_hand_written_twin_s(case):
    import torch

    import oracle

    m, xs = _ready(case)
    t = nnspec.to_torch(m)
    twin = oracle.build(spec_of(case)[0]).to(torch.float32)
    if "repr_after" in load_golden(case):  # a lazy layer makes its parameters in its first call
        with torch.no_grad():
            twin(*[torch.from_numpy(x.copy()) for x in xs], **case.named)
    twin.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in m.state_dict().items()})
    twin.train(case.train)
    seed = zlib.crc32(case.id.encode())
    stepped = _step(t, xs, case.named, seed)
    assert stepped == _step(twin, xs, case.named, seed)
    want = twin.state_dict()
    for k, v in t.state_dict().items():
        np.testing.assert_allclose(v.detach().numpy(), want[k].detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=k)


SEED = "models/seed/model_two_convs.yaml"


def test_a_model_file_and_its_weights_made_a_torch_module(tmp_path):
    import torch

    m = nnspec.load(SEED, seed=3)
    nnspec.save_weights(m, tmp_path / "w.safetensors")
    t = nnspec.to_torch(SEED, weights=tmp_path / "w.safetensors", seed=0)  # the file's weights, not seed 0's
    for k, v in m.state_dict().items():
        assert torch.equal(t.state_dict()[k], torch.from_numpy(np.asarray(v)))
    assert not t.state_dict()["conv1.weight"].numpy().base is np.asarray(m.state_dict()["conv1.weight"])


def test_a_torch_module_copies_compiles_and_prints_its_forward():
    """copy.deepcopy (an EMA of the weights) and torch.compile (dynamo traces the graph's ops) work on it;
    ``nnspec_code()`` prints the forward's graph as Python."""
    import copy

    import torch

    t = nnspec.to_torch(SEED)
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        want = t(x)
        twin = copy.deepcopy(t)
        twin.conv1.weight.mul_(2)  # the copy's weights are its own
        assert torch.equal(t(x), want) and not torch.equal(twin(x), want)
        assert torch.allclose(torch.compile(t, backend="eager")(x), want)
    code = t.nnspec_code()
    assert code.startswith(f"# {SEED}\ndef forward(self, x):") and "F.relu" in code
    assert re.search(r"conv1 = self\.conv1\(x\)  # line \d+", code)


def test_without_torch_the_error_says_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(nnspec.interop.ToTorchError, match=r"pip install 'nnspec\[torch\]'"):
        nnspec.to_torch(SEED)


def test_nnspec_values_in_a_forward_become_torch_s():
    import torch

    from nnspec.interop.to_torch import _torch_value
    from nnspec.runtime.values import Device, dtype_of, finfo, iinfo

    assert _torch_value(torch, dtype_of("float16")) is torch.float16
    assert _torch_value(torch, Device("cpu")) == torch.device("cpu")
    assert _torch_value(torch, finfo(dtype_of("float16"))).max == torch.finfo(torch.float16).max
    assert _torch_value(torch, iinfo(dtype_of("int32"))).min == torch.iinfo(torch.int32).min
    assert _torch_value(torch, np.float32(0.5)) == 0.5 and type(_torch_value(torch, np.float32(0.5))) is float
    assert _torch_value(torch, "keep") == "keep"
