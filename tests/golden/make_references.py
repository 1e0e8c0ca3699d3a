"""Write tests/golden/references/<name>.json and <name>.npz: each zoo model's reference, for a run without torch.

Run from the repo root in the test venv, with the reference packages .ci/run installs (torch==2.13.0,
torchvision==0.28.0, transformers==5.25.0, safetensors==0.8.0) and torchinfo:

    python tests/golden/make_references.py            # every row of tests/references.py whose model file exists
    python tests/golden/make_references.py gpt2 unet  # these rows only

For each model, nnspec builds its file with seed 0 (its own initialisation, which is seeded), its 1-d and
constant float entries are redrawn and its batch norms calibrated by nnspec itself (references.golden_model),
and the reference (torchvision's model, transformers', or the twin in tests/twins.py) loads exactly that
state and runs each input set. Kept:

    <name>.npz   "<i>/<output>": the reference's output on input set i (for GPT-2 and BERT a strided slice,
                 references.view), float32; no inputs and no weights: both are rebuilt from seeds
    <name>.json  the reference's state_dict layout ([[key, shape, dtype], ...] in order), parameter count
                 (a tied weight once), repr; each input set's shapes, dtypes and sha256 (references.digest);
                 torchinfo's numbers per input set (its total, and per layer that ran: dotted name, class,
                 output shape, parameters, leaf, recursive); the versions that wrote it

A change to nnspec's initialisation changes the weights, and so the outputs: rerun this script then.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parents[1]
# running this file puts tests/golden/ first on sys.path, where its folder torchvision/ would pass for a
# namespace package; the helpers are in tests/, and nnspec is this checkout's (not whichever one an editable
# install in a shared venv points to)
sys.path[:] = [str(TESTS), str(TESTS.parent)] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from references import GOLDEN_REFERENCES, REFERENCES, build_reference, depends_on_input, digest, golden_model, \
    TORCHINFO_FIELDS, load_state, make_inputs, run_reference, state_layout, torchinfo_of, versions, view  # noqa: E402


def dumps(value, indent: str = "") -> str:
    """JSON that keeps a short value on one line and puts each item of a long one on a line of its own."""
    flat = json.dumps(value)
    if len(flat) <= 160 or not isinstance(value, (list, dict)) or not value:
        return flat
    inner = indent + " "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    return "[\n" + ",\n".join(inner + dumps(v, inner) for v in value) + f"\n{indent}]"


def compact(ti: dict) -> dict:
    """torchinfo's numbers as the tests read them: its total, and the layers that ran as rows of TORCHINFO_FIELDS."""
    return {"total_params": ti["total_params"],
            "layers": [[t[f] for f in TORCHINFO_FIELDS] for t in ti["layers"] if t["executed"]]}


def write(ref) -> None:
    import torch

    state = {k: np.array(v) for k, v in golden_model(ref).state_dict().items()}
    reference = build_reference(ref, seed="golden")
    load_state(reference, state)
    own = reference.state_dict()
    # a weight the reference ties (GPT-2's lm_head and wte) holds whichever key loaded last: nnspec's
    # state must give both keys the same array, else the golden would not be nnspec's model
    untied = [k for k, v in state.items() if not torch.equal(own[k], torch.from_numpy(np.array(v)))]
    if untied:
        raise SystemExit(f"{ref.name}: nnspec's seeded state gives different arrays to entries the reference "
                         f"ties: {', '.join(untied)}")
    outputs, inputs, summaries = {}, [], []
    for i in range(len(ref.inputs)):
        x = make_inputs(ref, i)
        ys = run_reference(ref, reference, x)
        if (moved := depends_on_input(ref, reference, x, ys)) < 1e-2:
            raise SystemExit(f"{ref.name}: its outputs on input set {i} move by {moved:.1e} of their size when its "
                             "input changes; a golden of them would prove little")
        for name, y in ys.items():
            outputs[f"{i}/{name}"] = view(ref, name, y)
        inputs.append({k: {"shape": list(a.shape), "dtype": str(a.dtype), "sha256": digest(a)} for k, a in x.items()})
        summaries.append(compact(torchinfo_of(ref, reference, x)))
    record = {
        "model": ref.name,
        "reference": ref.constructor + (f"({ref.config.rpartition('.')[2]}())" if ref.config else ""),
        "versions": versions(),
        "params": sum(p.numel() for p in reference.parameters()),
        "state_dict": state_layout(own),
        "repr": repr(reference),
        "inputs": inputs,
        "outputs": {k: list(v.shape) for k, v in outputs.items()},
        "torchinfo": summaries,
    }
    GOLDEN_REFERENCES.mkdir(exist_ok=True)
    text = dumps(record) + "\n"
    assert json.loads(text) == record
    (GOLDEN_REFERENCES / f"{ref.name}.json").write_text(text)
    np.savez_compressed(GOLDEN_REFERENCES / f"{ref.name}.npz", **outputs)
    size = sum((GOLDEN_REFERENCES / f"{ref.name}{s}").stat().st_size for s in (".json", ".npz"))
    print(f"{ref.name}: {len(own)} state_dict entries, {record['params']:,} parameters, "
          f"{len(outputs)} outputs; {size / 1e3:.0f} kB written")


def main() -> None:
    only = set(sys.argv[1:])
    unknown = only - {r.name for r in REFERENCES}
    if unknown:
        raise SystemExit(f"no reference named {', '.join(sorted(unknown))} in tests/references.py")
    rows = [r for r in REFERENCES if (r.name in only if only else r.exists)]
    absent = [r.name for r in rows if not r.exists]
    if absent:
        raise SystemExit(f"models/zoo/{absent[0]}.yaml does not exist")
    print(f"{versions()}: writing {len(rows)} references to {GOLDEN_REFERENCES}")
    for ref in rows:
        write(ref)


if __name__ == "__main__":
    main()
