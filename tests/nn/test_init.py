"""Default initialisation: torch's distributions, drawn from the seeded generator."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nnspec
from nnspec import nn

LAYERS = {
    "Conv1d": (lambda: nn.Conv1d(16, 33, 3), 16 * 3),
    "Conv2d": (lambda: nn.Conv2d(16, 33, (3, 5)), 16 * 15),
    "Conv2d_groups": (lambda: nn.Conv2d(16, 32, 3, groups=4), 4 * 9),
    "ConvTranspose1d": (lambda: nn.ConvTranspose1d(16, 33, 3, groups=1), 33 * 3),
    "Linear": (lambda: nn.Linear(200, 300), 200),
    "Bilinear": (lambda: nn.Bilinear(20, 30, 40), 20),
}


@pytest.mark.parametrize("name", LAYERS)
def test_weights_and_bias_are_uniform_within_one_over_sqrt_fan_in(name):
    make, fan_in = LAYERS[name]
    nnspec.manual_seed(0)
    m = make()
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) and the bias rule both give this bound
    for p in (m.weight, m.bias):
        a = p.data
        assert a.dtype == np.float32
        assert np.abs(a).max() <= bound * (1 + 1e-6)
        assert np.abs(a).max() > 0.8 * bound  # spread over the whole range, not a constant
        assert abs(a.mean()) < 0.2 * bound


def test_batchnorm_and_prelu_start_like_torch():
    bn = nn.BatchNorm2d(4)
    np.testing.assert_array_equal(bn.weight.data, np.ones(4))
    np.testing.assert_array_equal(bn.bias.data, np.zeros(4))
    np.testing.assert_array_equal(bn.running_mean, np.zeros(4))
    np.testing.assert_array_equal(bn.running_var, np.ones(4))
    assert bn.num_batches_tracked.dtype == np.int64 and int(bn.num_batches_tracked) == 0
    np.testing.assert_array_equal(nn.PReLU(3, init=0.1).weight.data, np.full(3, 0.1, dtype=np.float32))


def test_same_seed_same_weights_different_seed_different_weights():
    text = "Sequential: [{Conv2d: [3, 8, 3]}, {Linear: [8, 4]}]"
    a = nnspec.loads(text, seed=1).state_dict()
    b = nnspec.loads(text, seed=1).state_dict()
    c = nnspec.loads(text, seed=2).state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_parameter_inits_follow_the_spec():
    m = nnspec.from_dict({"parameters": {
        "z": {"shape": [3], "init": "zeros"}, "o": {"shape": [3], "init": "ones"},
        "c": {"shape": [2, 2], "init": {"constant": 2.5}},
        "u": {"shape": [1000], "init": {"uniform": [-2, -1]}},
        "n": {"shape": [4000], "init": {"normal": [3, 0.5]}},
        "r": {"shape": [1000], "init": "rand"},
        "h": {"shape": [2], "dtype": "float64", "requires_grad": False},
    }}, seed=0)
    np.testing.assert_array_equal(m.z.data, np.zeros(3))
    np.testing.assert_array_equal(m.o.data, np.ones(3))
    np.testing.assert_array_equal(m.c.data, np.full((2, 2), 2.5))
    assert m.u.data.min() >= -2 and m.u.data.max() <= -1
    assert abs(m.n.data.mean() - 3) < 0.05 and abs(m.n.data.std() - 0.5) < 0.05
    assert 0 <= m.r.data.min() and m.r.data.max() < 1
    assert m.h.dtype == np.float64 and m.h.requires_grad is False and m.z.requires_grad is True


def test_bounds_match_torch():
    torch = pytest.importorskip("torch")
    for name, (make, fan_in) in LAYERS.items():
        ours = make()
        theirs = getattr(torch.nn, name.split("_")[0])(**_args(ours))
        bound = 1 / math.sqrt(fan_in)  # torch's arrays staying inside it checks the fan_in table too
        for attr in ("weight", "bias"):
            t = getattr(theirs, attr).detach().numpy()
            o = getattr(ours, attr).data
            assert o.shape == t.shape
            assert np.abs(t).max() <= bound * (1 + 1e-6) and np.abs(o).max() <= bound * (1 + 1e-6), (name, attr)
            if o.size >= 1000:  # uniform on the same interval: the extremes agree closely
                assert abs(np.abs(o).max() - np.abs(t).max()) < 0.01 * bound, (name, attr)


def _args(m):
    if isinstance(m, nn.Linear):
        return dict(in_features=m.in_features, out_features=m.out_features)
    if isinstance(m, nn.Bilinear):
        return dict(in1_features=m.in1_features, in2_features=m.in2_features, out_features=m.out_features)
    return dict(in_channels=m.in_channels, out_channels=m.out_channels, kernel_size=m.kernel_size, groups=m.groups)


@pytest.mark.parametrize("draw", ["uniform", "normal"])
def test_a_large_array_is_drawn_a_chunk_at_a_time_with_the_same_values(draw, monkeypatch):
    """Filling an array never makes a float64 draw of its whole size (twice a float32 parameter's bytes: a
    layer that fits in the memory left failed there with numpy's MemoryError); the values are those of one
    draw of the whole."""
    import tracemalloc

    from nnspec.nn import init

    fill = {"uniform": lambda a: init.uniform_(a, -1, 2), "normal": lambda a: init.normal_(a, 0.5, 2)}[draw]
    a = np.empty((2500, 2000), np.float32)
    monkeypatch.setattr(init, "_CHUNK", 1 << 20)
    nnspec.manual_seed(3)
    tracemalloc.start()
    try:
        fill(a)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < a.nbytes  # a chunk in float64 and float32; the whole drawn at once needs three times this
    monkeypatch.setattr(init, "_CHUNK", 10**12)
    nnspec.manual_seed(3)
    whole = fill(np.empty_like(a))
    np.testing.assert_array_equal(a, whole)
