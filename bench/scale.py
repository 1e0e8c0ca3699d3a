"""How nnspec's stages grow with the size of a model: 1k, 10k and 100k modules (past MAX_MODULES, 50k).

    python bench/scale.py                  # every model kind at 1k, 10k and 100k modules
    python bench/scale.py --sizes 1000,10000 --kind seq
    python bench/scale.py --cli            # also time `nnspec validate` and `nnspec run` as commands

Each model is timed stage by stage, in one process:

- ``parse``: read the file and parse its YAML (positions kept for errors);
- ``validate``: expand blocks and validate the spec (Pydantic);
- ``build``: build the module tree (shape-only, as ``nnspec validate`` does; and real, as ``nnspec run`` does);
- ``infer``: static inference (what ``nnspec validate -s`` and ``nnspec run``'s memory check do);
- ``plan``: record the forward and run the plan's passes;
- ``run``: run the plan once on a (2, 4) input;
- ``trace``: the timed shape trace ``nnspec run`` prints (``timed_calls``);
- ``summary``: ``nnspec summary``'s data (repr, state_dict entries, totals) and the static layer rows;
- ``weights``: ``nnspec weights check``'s comparison (``weights.compare_state``) of the model's state_dict
  with one whose every tenth key is renamed (missing and unexpected keys, with did-you-mean hints).

Sizes past the module cap (resources.MAX_MODULES, 50,000) are timed in this process with the cap lifted, to
show the growth past it; ``--cli`` times the commands only at sizes within the cap (the commands refuse more).

The table gives each stage's seconds per size and the ratio of each size's time to the previous one's:
for sizes 10x apart, linear growth gives ~10x, n log n ~13x (log2(10k)/log2(1k) = 1.33), quadratic 100x.
The models (made by ``model_text``):

- ``seq``: a Sequential of Linear(4, 4) / ReLU pairs;
- ``nested``: a Sequential of Sequentials of 10 such layers (two levels of containers);
- ``forward``: a module with a custom forward looping over a ModuleList of Linear(4, 4) layers
  (one graph node per layer; a forward's graph holds at most 100,000 nodes).

The collector's thresholds are the ``nnspec`` command's (``nnspec_cli.main``). This is a measuring tool,
never a test: tests/plan/test_scale.py asserts the same growth as operation
counts, without timing anything.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

THREADS = "2"
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, THREADS)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = ("seq", "nested", "forward")
STAGES = ("parse", "validate", "build", "infer", "plan", "run", "trace", "summary", "weights")


def model_text(kind: str, modules: int) -> str:
    """A model file of ``kind`` with about ``modules`` modules (the root and containers counted)."""
    if kind == "seq":
        pairs = max(1, (modules - 1) // 2)
        return "type: Sequential\nmodules:\n" + "  - {Linear: [4, 4]}\n  - ReLU\n" * pairs
    if kind == "nested":
        groups = max(1, (modules - 1) // 11)
        group = "  - Sequential:\n" + "    - {Linear: [4, 4]}\n    - ReLU\n" * 5
        return "type: Sequential\nmodules:\n" + group * groups
    if kind == "forward":
        layers = max(1, modules - 2)
        return ("name: Deep\ninputs: [x]\nmodules:\n  layers:\n    ModuleList:\n"
                + "      - {Linear: [4, 4]}\n" * layers
                + "forward: |\n  for layer in self.layers:\n      x = layer(x)\n  return x\n")
    raise ValueError(f"unknown kind {kind!r}; the kinds are {', '.join(KINDS)}")


def stages(path: Path) -> dict[str, float]:
    """Seconds per stage for the model file at ``path``."""
    import numpy

    from nnspec import builder, static, weights
    from nnspec.plan.plan import Plan, timed_calls
    from nnspec.resources import budget, shape_only
    from nnspec.spec import parse, read, validate, weight_renames
    from nnspec.summary import summary

    times: dict[str, float] = {}

    def timed(stage: str, fn: Callable[[], object]) -> object:
        start = time.perf_counter()
        result = fn()
        times[stage] = times.get(stage, 0.0) + time.perf_counter() - start
        return result

    text, filename = timed("parse", lambda: read(path))
    data = timed("parse", lambda: parse(text, filename))
    spec, expanded = timed("validate", lambda: (weight_renames(data, filename), validate(data, filename))[1])

    def build(meta: bool):
        with budget(None), shape_only(meta):
            return builder.Builder(expanded, filename, text).module(spec)

    meta = timed("build", lambda: build(True))
    net = timed("build", lambda: build(False))
    timed("infer", lambda: static.infer(meta, [(2, 4)]))
    x = numpy.random.default_rng(0).standard_normal((2, 4)).astype(numpy.float32)
    plan = Plan(net)
    compiled = timed("plan", lambda: plan.compiled([x]))
    _, step_ms = timed("run", lambda: compiled.run([x], profile=True))
    timed("trace", lambda: timed_calls(compiled, step_ms))
    found = static.infer(meta, [(2, 4)])
    timed("summary", lambda: (summary(net), static.layer_rows(found)))
    own = net.state_dict()
    state = {(f"renamed.{k}" if i % 10 == 0 else k): v for i, (k, v) in enumerate(own.items())}
    timed("weights", lambda: weights.compare_state(own, state))
    return times


def lift_module_cap(n: int) -> None:
    """Let this process build models of ``n`` modules (only the in-process stages: a measuring tool's choice)."""
    from nnspec import builder, resources
    from nnspec.spec import count

    for module in (resources, builder, count):
        module.MAX_MODULES = max(module.MAX_MODULES, n + n // 10)


def cli_seconds(path: Path, command: str) -> float:
    """Wall seconds of ``python -m nnspec_cli <command> <path> -s 2,4`` (a fresh process, imports included)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "nnspec_cli", command, str(path), "-s", "2,4", "-q"] if command == "run"
                          else [sys.executable, "-m", "nnspec_cli", command, str(path), "-s", "2,4"],
                          cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"nnspec {command} {path} failed:\n{proc.stderr[-2000:]}")
    return seconds


def table(kind: str, sizes: list[int], results: dict[int, dict[str, float]]) -> str:
    names = [s for s in STAGES if any(s in results[n] for n in sizes)] + ["total"]
    for n in sizes:
        results[n]["total"] = sum(v for k, v in results[n].items() if k in STAGES)
    head = [f"{kind}: stage"] + [f"{n:,}" for n in sizes] + [f"{b // 1000}k/{a // 1000}k" for a, b in zip(sizes, sizes[1:])]
    rows = [head]
    for s in names + [c for c in ("cli validate", "cli run") if c in results[sizes[0]]]:
        row = [s] + [f"{results[n][s]:.3f} s" if s in results[n] else "-" for n in sizes]
        row += [f"{results[b][s] / results[a][s]:.1f}x" if results[a].get(s) and s in results[b] else "-"
                for a, b in zip(sizes, sizes[1:])]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                     for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000", help="module counts, comma-separated")
    ap.add_argument("--kind", action="append", choices=KINDS, help="model kinds (default: all)")
    ap.add_argument("--cli", action="store_true", help="also time `nnspec validate` and `nnspec run` as commands")
    ap.add_argument("--keep", type=Path, help="write the model files into this folder and keep them")
    args = ap.parse_args()
    gc.set_threshold(50_000, 50, 50)  # as the nnspec command sets it (nnspec_cli.main)
    sizes = [int(s) for s in args.sizes.split(",")]
    from nnspec.resources import MAX_MODULES

    cap = MAX_MODULES
    lift_module_cap(max(sizes))
    with tempfile.TemporaryDirectory(prefix="nnspec-scale-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for kind in args.kind or KINDS:
            results: dict[int, dict[str, float]] = {}
            for n in sizes:
                path = folder / f"{kind}{n}.yaml"
                path.write_text(model_text(kind, n))
                results[n] = stages(path)
                if args.cli and n <= cap:
                    results[n]["cli validate"] = cli_seconds(path, "validate")
                    results[n]["cli run"] = cli_seconds(path, "run")
                print(f"  {kind} {n:,}: {sum(results[n].values()):.2f} s", file=sys.stderr, flush=True)
            print(table(kind, sizes, results) + "\n", flush=True)


if __name__ == "__main__":
    main()
