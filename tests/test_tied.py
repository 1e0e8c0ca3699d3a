"""tied: a parameter that is another's (GPT-2's lm_head.weight = transformer.wte.weight), as torch ties them."""

from __future__ import annotations

import numpy as np
import pytest

import nnspec
from nnspec.weights import prepare

LM = """name: LM
tied: {lm_head.weight: wte.weight}
modules:
  wte: {Embedding: [10, 4]}
  lm_head: {Linear: [4, 10], bias: false}
forward: |
  def forward(self, ids):
      return self.lm_head(self.wte(ids))
"""


def test_a_tied_parameter_is_its_source_in_state_dict_and_parameters():
    m = nnspec.loads(LM, seed=0)
    assert m.lm_head.weight is m.wte.weight
    assert list(m.state_dict()) == ["wte.weight", "lm_head.weight"]  # torch's state_dict lists both keys
    assert sum(p.numel() for p in m.parameters()) == 40  # and parameters() the shared one once


@pytest.mark.parametrize("keys", [["wte.weight"], ["lm_head.weight"], ["wte.weight", "lm_head.weight"]])
def test_weights_with_either_tied_key_load(keys):
    m = nnspec.loads(LM, seed=0)
    w = np.arange(40, dtype=np.float32).reshape(10, 4)
    state, _ = prepare(m, {k: w for k in keys})
    m.load_state_dict(state)
    np.testing.assert_array_equal(np.asarray(m.lm_head.weight), w)
    np.testing.assert_array_equal(m(np.array([[1, 2]])), (w[[1, 2]] @ w.T)[None])


@pytest.mark.parametrize("tied, phrase", [
    ("{lm_head.weight: wte.weights}", "the model has no parameter 'wte.weights' (the parameter it shares)"),
    ("{lm_head.bias: wte.weight}", "the model has no parameter 'lm_head.bias' (the parameter to tie)"),
    ("{lm_head.weight: lm_head.weight}", "lm_head.weight is tied to itself"),
    ("[lm_head.weight]", "tied maps a parameter's key to the key of the parameter it shares"),
    ("{lm_head.weight: 'a b'}", "'a b' is not a state_dict key"),
])
def test_a_wrong_tie_is_placed(tied, phrase):
    with pytest.raises(nnspec.NNSpecError) as info:
        nnspec.loads(LM.replace("{lm_head.weight: wte.weight}", tied), filename="m.yaml")
    assert str(info.value).startswith("m.yaml:2:") and phrase in str(info.value), str(info.value)


def test_a_tie_of_another_shape_is_refused():
    text = LM.replace("{Linear: [4, 10], bias: false}", "{Linear: [4, 9], bias: false}")
    with pytest.raises(nnspec.NNSpecError) as info:
        nnspec.loads(text, filename="m.yaml")
    assert "must have its source's shape and dtype" in str(info.value)
