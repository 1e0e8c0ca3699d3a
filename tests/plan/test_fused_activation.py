"""The activation a fused kernel applies in place (relu, relu6, hardtanh): torch's values, NaN kept, any
dtype, and an object that survives pickling and copying (its per-dtype ways are made again)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from nnspec.plan.kernels import Activation


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_clamps_in_place_and_keeps_nan(dtype):
    relu6, relu, tanh = Activation("relu6", 0.0, 6.0), Activation("relu", 0.0), Activation("hardtanh", -1.0, 1.0)
    for act, want in [(relu6, [0, 0, 0.5, 6, np.nan, 6]), (relu, [0, 0, 0.5, 7, np.nan, np.inf]),
                      (tanh, [-1, 0, 0.5, 1, np.nan, 1])]:
        a = np.array([-np.inf, 0, 0.5, 7, np.nan, np.inf], dtype)
        got = act(a)
        assert got is a and a.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, np.array(want, dtype))


def test_integers_and_views():
    a = np.array([-3, 0, 5], np.int64)
    Activation("relu", 0.0)(a)
    assert a.tolist() == [0, 0, 5]
    base = np.array([[-1.0, 9.0], [3.0, -2.0]], np.float32)
    Activation("relu6", 0.0, 6.0)(base.T)  # a strided view: written through
    assert base.tolist() == [[0.0, 6.0], [3.0, 0.0]]


def test_survives_pickle_and_copy():
    act = Activation("relu6", 0.0, 6.0)
    act(np.zeros(2, np.float32))  # a way made for float32
    for twin in (pickle.loads(pickle.dumps(act)), copy.deepcopy(act)):
        a = np.array([-1.0, 8.0], np.float32)
        twin(a)
        assert a.tolist() == [0.0, 6.0] and repr(twin) == "relu6"
