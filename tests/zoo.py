"""The zoo's parity setup: each model, its input, and the weights both sides run with.

nnspec builds a zoo model from its file with seed 0, and ``randomized_state`` then gives
its batch norms random statistics and affine terms (a fresh init has the identity
there, which would hide mistakes). The torch twin (tests/oracle.py, from the same spec)
loads exactly those arrays. tests/golden/make_golden.py stores the twin's output in
tests/golden/zoo/<name>.npz; the default run rebuilds the same weights (nnspec's init is
seeded) and compares. A change to nnspec's init changes the weights: regenerate then.

``lenet5.pt`` is a checkpoint written by ``torch.save`` from a twin with torch's own
random weights, and ``lenet5_pt.npz`` that twin's output: nnspec must load the .pt
without torch and reproduce it.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np

import nnspec

ROOT = Path(__file__).resolve().parents[1]
ZOO_DIR = ROOT / "models" / "zoo"
GOLDEN_ZOO = Path(__file__).resolve().parent / "golden" / "zoo"
TORCHVISION = Path(__file__).resolve().parent / "golden" / "torchvision"

# name: input shape for the parity run (small, so CI stays light: the models are size-agnostic)
ZOO = {
    "lenet5": (2, 1, 32, 32),
    "vgg11_bn": (1, 3, 32, 32),
    "resnet18": (2, 3, 64, 64),
    "resnet50": (1, 3, 64, 64),
    "mobilenet_v2": (2, 3, 64, 64),
}
FROM_TORCHVISION = ["vgg11_bn", "resnet18", "resnet50", "mobilenet_v2"]


def close(got: np.ndarray, want: np.ndarray) -> None:
    """nnspec's output against torch's: the same shape and dtype, within 1e-4 (relative, and of the largest value)."""
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))


def zoo_path(name: str) -> Path:
    return ZOO_DIR / f"{name}.yaml"


def build(name: str) -> nnspec.Module:
    return nnspec.load(zoo_path(name), seed=0).eval()


def randomized_state(model: nnspec.Module, name: str) -> dict[str, np.ndarray]:
    """The model's state with every 1-d float entry (batch norm and biases) drawn at random."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    state = {}
    for key, value in model.state_dict().items():
        a = np.array(value)
        if a.ndim == 1 and a.dtype.kind == "f":
            a = (np.abs(rng.standard_normal(a.shape)) + 0.5 if key.endswith("running_var")
                 else rng.standard_normal(a.shape) * 0.5).astype(a.dtype)
        state[key] = a
    return state


def zoo_input(name: str) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(f"input/{name}".encode()))
    return rng.standard_normal(ZOO[name]).astype(np.float32)


def torchvision_golden(name: str) -> dict:
    return json.loads((TORCHVISION / f"{name}.json").read_text())


def twin(name: str):
    """The torch twin of a zoo model (needs torch)."""
    from oracle import build as build_twin

    from nnspec.spec import parse, read, validate

    text, filename = read(zoo_path(name))
    spec, _ = validate(parse(text, filename), filename)
    return build_twin(spec).eval()


def torch_output(name: str, state: dict[str, np.ndarray]) -> np.ndarray:
    """The twin's output on the zoo input with ``state`` loaded (needs torch)."""
    import torch

    m = twin(name)
    m.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    with torch.no_grad():
        return m(torch.from_numpy(zoo_input(name))).numpy()


def write_golden() -> None:
    """tests/golden/zoo: every model's twin output, and the LeNet-5 checkpoint (needs torch)."""
    import torch

    GOLDEN_ZOO.mkdir(exist_ok=True)
    for name in ZOO:
        state = randomized_state(build(name), name)
        np.savez_compressed(GOLDEN_ZOO / f"{name}.npz", input=zoo_input(name), output=torch_output(name, state))
    torch.manual_seed(0)
    m = twin("lenet5")
    torch.save(m.state_dict(), GOLDEN_ZOO / "lenet5.pt")
    with torch.no_grad():
        y = m(torch.from_numpy(zoo_input("lenet5"))).numpy()
    np.savez_compressed(GOLDEN_ZOO / "lenet5_pt.npz", input=zoo_input("lenet5"), output=y)
