"""A forward's dict output (Hugging Face's last_hidden_state, pooler_output) on the command line."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from nnspec_cli import app

runner = CliRunner()
MODEL = """name: M
modules:
  fc: {Linear: [4, 4]}
forward: |
  def forward(self, x, mask=None):
      y = self.fc(x)
      return {"last_hidden_state": y, "pooler_output": y.mean(1)}
"""


def test_a_dict_output_is_shown_saved_and_reported_by_key(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text(MODEL)
    out = tmp_path / "o.npz"
    r = runner.invoke(app, ["run", str(model), "-s", "2,4", "-q", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "output last_hidden_state: shape (2, 4), dtype float32" in r.output
    assert "output pooler_output: shape (2,), dtype float32" in r.output
    with np.load(out) as saved:
        assert sorted(saved) == ["last_hidden_state", "pooler_output"]
        np.testing.assert_allclose(saved["pooler_output"], saved["last_hidden_state"].mean(1), rtol=1e-6)
    r = runner.invoke(app, ["run", str(model), "-s", "2,4", "-q", "--json"])
    assert json.loads(r.output)["output"] == {"shape": {"last_hidden_state": [2, 4], "pooler_output": [2]},
                                              "dtype": {"last_hidden_state": "float32", "pooler_output": "float32"}}
    r = runner.invoke(app, ["validate", str(model), "-s", "N,4"])
    assert r.exit_code == 0 and "output pooler_output: shape (N,), dtype float32" in r.output, r.output


def test_a_dict_output_to_a_npy_file_is_refused(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text(MODEL)
    r = runner.invoke(app, ["run", str(model), "-s", "2,4", "-q", "-o", str(tmp_path / "o.npy")])
    assert r.exit_code == 1 and "returns 2 arrays; save them to a .npz file" in r.output
    assert not (tmp_path / "o.npy").exists()
