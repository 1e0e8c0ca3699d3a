"""Write tests/golden/<case>.npz from live torch, for every case in tests/cases.py.

Run from the repo root with torch==2.13.0 and torchinfo installed:  python tests/golden/make_golden.py
It also writes tests/golden/torchinfo.json, torchinfo's summaries of tests/summaries.py's models.
The default test run then checks parity against these files without torch.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from cases import CASES  # noqa: E402
from parity import GOLDEN, torch_reference  # noqa: E402
from summaries import GOLDEN_TORCHINFO, SUMMARY_CASES, torchinfo_numbers  # noqa: E402


def main() -> None:
    """All fixtures, or only the cases named on the command line (``make_golden.py relu6_inplace ...``)."""
    import torch

    only = set(sys.argv[1:])
    cases = [c for c in CASES if not only or c.id in only]
    print(f"torch {torch.__version__}: writing {len(cases)} fixtures to {GOLDEN}")
    stale = {p.stem for p in GOLDEN.glob("*.npz")} - {c.id for c in CASES}
    for name in stale:
        (GOLDEN / f"{name}.npz").unlink()
    for case in cases:
        np.savez_compressed(GOLDEN / f"{case.id}.npz", **torch_reference(case))
    size = sum(p.stat().st_size for p in GOLDEN.glob("*.npz"))
    print(f"done: {len(cases)} files written, {size / 1e6:.1f} MB in all")
    if only:
        return
    import torchinfo

    from zoo import GOLDEN_ZOO, write_golden

    print(f"writing the zoo's outputs and the LeNet-5 checkpoint to {GOLDEN_ZOO}")
    write_golden()
    print(f"torchinfo {torchinfo.__version__}: writing {len(SUMMARY_CASES)} summaries to {GOLDEN_TORCHINFO}")
    numbers = {case.id: torchinfo_numbers(case) for case in SUMMARY_CASES}
    GOLDEN_TORCHINFO.write_text(json.dumps(numbers, indent=1) + "\n")


if __name__ == "__main__":
    main()
