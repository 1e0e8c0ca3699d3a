"""Errors are placed in the model file whichever way a model runs: the static memory check at the op or layer
that made the largest array alive at the activations' peak, and an error a plan's step raises at run time
where its op or layer is written (as the interpreter places it)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import nnspec
from nnspec import static
from nnspec.errors import NNSpecError, ShapeError


def _forward(body: str) -> str:
    """A model file (m.yaml) whose custom forward is ``body``: its first line is line 4, column 3."""
    return "name: M\ninputs: [x]\nforward: |\n" + textwrap.indent(textwrap.dedent(body).strip(), "  ") + "\n"


def _refusal(text: str, shape: tuple, limit: int = 10**6) -> str:
    model = nnspec.loads(text, filename="m.yaml", meta=True)
    found = static.infer(model, [shape])
    with pytest.raises(NNSpecError) as e:
        static.check_memory(found, limit, model=model)
    return str(e.value)


# --------------------------------------------------------------------------- the static memory check


@pytest.mark.parametrize("body, column, op", [
    ("return torch.ones(10 ** 6, 10 ** 6)", 10, "torch.ones"),
    ("return torch.arange(10 ** 12)", 10, "torch.arange"),
    ("return x.repeat(10 ** 5, 10 ** 5)", 10, ".repeat()"),
    ("y = x + 1\nreturn torch.einsum('i,j,k->ijk', y[0], torch.ones(10 ** 5), torch.ones(10 ** 5))", 10, "torch.einsum"),
])
def test_a_forward_over_the_memory_limit_is_refused_at_the_op_making_the_peak(body, column, op):
    line = 4 + body.count("\n")
    message = _refusal(_forward(body), (2, 3))
    assert message.startswith(f"m.yaml:{line}:{column}: running this model needs "), message
    assert f"({op}))" in message and "the limit is 1,000,000 bytes" in message


def test_the_peak_is_placed_at_the_op_making_its_largest_array_not_at_the_last_one():
    body = """
        big = torch.zeros(1000, 1000)
        s = big.sum()
        small = x * s
        return small
    """
    message = _refusal(_forward(body), (2, 3))
    assert message.startswith("m.yaml:4:9: "), message  # torch.zeros, where the 4 MB array is made


def test_a_layer_over_the_memory_limit_is_refused_at_its_entry():
    text = "type: Sequential\nmodules:\n  - ReLU\n  - {Linear: [4, 100000]}\n  - {Linear: [100000, 2]}\n"
    message = _refusal(text, (100, 4))
    assert message.startswith("m.yaml:4:5: running this model needs "), message
    assert "the largest made by 1 (Linear)" in message


def test_a_layer_called_from_a_custom_forward_is_placed_at_its_entry():
    text = "name: M\ninputs: [x]\nmodules:\n  fc: {Linear: [4, 100000]}\nforward: |\n  return self.fc(x).sum()\n"
    message = _refusal(text, (100, 4))
    assert message.startswith("m.yaml:4:7: "), message
    assert "the largest made by fc (Linear)" in message


def test_where_parameters_are_most_of_the_need_the_refusal_names_the_file():
    """No op or layer is to blame for the parameters (the build refuses one over the limit at its entry)."""
    text = "type: Sequential\nmodules:\n  - {Linear: [1000, 1000]}\n"
    message = _refusal(text, (1, 1000), limit=10)
    assert message.startswith("m.yaml: running this model needs "), message


# --------------------------------------------------------------------------- a plan's run-time errors


def _run_plan(text: str, x: np.ndarray) -> NNSpecError:
    model = nnspec.loads(text, filename="m.yaml")
    plan = nnspec.compile(model, [x.shape], dtype=x.dtype)
    with pytest.raises(NNSpecError) as e:
        plan(x)
    with pytest.raises(NNSpecError) as eager:  # the interpreter places the same error at the same place
        model(x)
    assert str(eager.value).split(": ")[0] == str(e.value).split(": ")[0]
    return e.value


def test_a_plan_step_out_of_memory_is_placed_at_its_forward_line():
    error = _run_plan(_forward("return x.expand(10 ** 6, 10 ** 6, 2, 3).sum()"), np.ones((2, 3), np.float32))
    assert str(error).startswith("m.yaml:4:10: (root): .expand() on (2, 3), 1000000, 1000000, 2, 3: out of memory"), \
        str(error)


def test_a_plan_step_value_error_is_placed_at_its_forward_line():
    error = _run_plan(_forward("y = x * 2\ni = y.argmax()\nreturn y.view(-1)[i + 100]"), np.ones((2, 3), np.float32))
    assert isinstance(error, ShapeError)
    assert str(error).startswith("m.yaml:6:10: (root): getitem on (6,), (): index 100 is out of bounds"), str(error)


def test_a_failed_assert_in_a_plan_is_placed_at_the_assert():
    error = _run_plan(_forward("assert x.sum() > 1e9, 'too small'\nreturn x"), np.ones((2, 3), np.float32))
    assert str(error) == "m.yaml:4:3: (root): assertion failed: too small"


def test_a_plan_layer_error_is_placed_at_the_layer_entry():
    model = nnspec.loads("type: Sequential\nmodules:\n  - {Embedding: [10, 4]}\n  - ReLU\n", filename="m.yaml")
    with pytest.raises(NNSpecError) as e:
        nnspec.compile(model)(np.array([[1, 100]], np.int64))
    assert str(e.value).startswith("m.yaml:3:5: 0: embedding: index out of range"), str(e.value)


def test_every_step_knows_where_it_comes_from():
    text = "name: M\ninputs: [x]\nmodules:\n  fc: {Linear: [3, 3]}\nforward: |\n  y = self.fc(x)\n  return y.relu() + 1\n"
    plan = nnspec.compile(nnspec.loads(text, filename="m.yaml"), [(2, 3)], passes={"fuse_activation": False})
    assert [(s.kind, s.position.line, s.position.col) for s in plan.steps()] == \
        [("Linear", 4, 7), (".relu()", 7, 10), ("add", 7, 10)]
