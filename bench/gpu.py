"""nnspec on CuPy against PyTorch CUDA eager, side by side in one run, on a GPU machine.

    python bench/gpu.py                    # every zoo model at batch 1 and 64, float32 and float16, and the seed models
    python bench/gpu.py -k resnet          # only the rows whose name contains this
    python bench/gpu.py --dry-run          # the same script on NumPy and torch's CPU, a few small rows:
                                           # checks the script itself where there is no GPU

Each runtime runs the same model, with the same weights (drawn on the host from the seed, then
copied), on the same input. nnspec runs its execution plan (``nnspec.compile``). Each runtime is
timed in its own block, after warm-up, synchronising the device after every call; the table gives
the median ms, the ratio nnspec/torch, each one's GPU memory over its block (what CuPy's memory pool
holds; torch's peak reserved memory: both count cached blocks) and the largest difference between
the outputs. TF32 is off on
both sides (CuPy's default; torch's allow_tf32 flags are set False), so float32 results compare.
The results go to bench/results/gpu-<date>.json (or --out). A measuring tool, never a test.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the torch twin builder (tests/oracle.py)
sys.path.insert(0, str(ROOT / "bench"))

# bench/cpu.py pins 2 threads for its CPU comparison; here the host only feeds the GPU: let it use its cores
os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))

import nnspec  # noqa: E402
from cpu import MODELS as CPU_MODELS, torch_twin  # noqa: E402 - the same models and twins as the CPU bench
from nnspec.runtime.backend import describe  # noqa: E402

ZOO = ["lenet5", "resnet18", "resnet50", "mobilenet_v2", "vgg11_bn"]
ZOO_INPUT = {"lenet5": (1, 32, 32)}  # the others take (3, 224, 224)
SEEDS = {name: spec for name, spec in CPU_MODELS.items() if name.startswith("seed ")}


def rows(dry_run: bool) -> list[tuple[str, object, tuple, str]]:
    """(name, model, input shape, dtype) for every row."""
    out = []
    batches = (1, 2) if dry_run else (1, 64)
    zoo = ["lenet5", "resnet18"] if dry_run else ZOO
    for name in zoo:
        for batch in batches:
            for dtype in ("float32", "float16"):
                shape = (batch,) + ZOO_INPUT.get(name, (3, 224, 224) if not dry_run else (3, 64, 64))
                out.append((f"{name} b{batch} {dtype}", f"models/zoo/{name}.yaml", shape, dtype))
    for name, (model, shape) in SEEDS.items():
        if not dry_run or name in ("seed conv2d", "seed sequential"):
            out.append((f"{name} float32", model, shape, "float32"))
    return out


class Device:
    """The array module and torch device of one run: CuPy and CUDA, or NumPy and the CPU (--dry-run)."""

    def __init__(self, dry_run: bool):
        import torch

        self.torch = torch
        if dry_run:
            self.xp, self.nnspec_device, self.torch_device = np, "cpu", "cpu"
        else:
            import cupy

            self.xp, self.nnspec_device, self.torch_device = cupy, "cuda", "cuda"
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False

    def sync(self) -> None:
        if self.xp is not np:
            self.xp.cuda.get_current_stream().synchronize()
        if self.torch_device == "cuda":
            self.torch.cuda.synchronize()

    def reset_memory(self) -> None:
        gc.collect()  # a model's arrays go with its reference cycles: free them before counting
        if self.xp is not np:
            self.xp.get_default_memory_pool().free_all_blocks()
        if self.torch_device == "cuda":
            self.torch.cuda.empty_cache()
            self.torch.cuda.reset_peak_memory_stats()

    def nnspec_memory(self) -> int | None:
        return None if self.xp is np else int(self.xp.get_default_memory_pool().total_bytes())

    def torch_memory(self) -> int | None:
        """torch's peak reserved memory: like CuPy's pool total, it counts the cached blocks too."""
        return int(self.torch.cuda.max_memory_reserved()) if self.torch_device == "cuda" else None


def timed(fn, sync, repeats: int, warmup: int = 3) -> tuple[float, float]:
    """(median ms, spread ms) of ``repeats`` calls after ``warmup``, the device synchronised after each."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), max(times) - min(times)


def bench_row(dev: Device, name: str, model, shape: tuple, dtype: str, repeats: int) -> dict:
    torch = dev.torch
    net = nnspec.load(ROOT / model, seed=0) if isinstance(model, str) else nnspec.from_dict(model, seed=0)
    net.eval()
    state = {k: np.array(v) for k, v in net.state_dict().items()}  # drawn on the host, the same for both
    twin = torch_twin(model, state).to(dev.torch_device)
    if dtype == "float16":
        twin = twin.half()
    net.to(dtype).to(dev.nnspec_device)
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    xd, tx = dev.xp.asarray(x), torch.from_numpy(x).to(dev.torch_device)
    row = {"name": name, "input": list(shape), "dtype": dtype}

    dev.reset_memory()
    plan = nnspec.compile(net)
    got = plan(xd)
    row["nnspec_ms"], row["nnspec_spread"] = timed(lambda: plan(xd), dev.sync, repeats)
    row["nnspec_memory"] = dev.nnspec_memory()
    plan.refresh()  # its buffers go before torch runs

    dev.reset_memory()
    with torch.no_grad():
        want = twin(tx)
        row["torch_ms"], row["torch_spread"] = timed(lambda: twin(tx), dev.sync, repeats)
    row["torch_memory"] = dev.torch_memory()
    got = got.get() if hasattr(got, "get") else np.asarray(got)
    want = want.float().cpu().numpy()
    row["max_abs_diff"] = float(np.abs(got.astype(np.float32) - want).max())
    row["max_abs_output"] = float(np.abs(want).max())
    return row


def print_row(r: dict) -> None:
    def mib(v):
        return f"{v / 2**20:9.0f}" if v is not None else f"{'--':>9}"

    print(f"{r['name']:34} {r['nnspec_ms']:10.3f} {r['torch_ms']:10.3f} {r['nnspec_ms'] / r['torch_ms']:6.2f}x "
          f"{mib(r['nnspec_memory'])} {mib(r['torch_memory'])} {r['max_abs_diff']:10.1e}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="NumPy and torch's CPU, a few small rows")
    parser.add_argument("-k", default="", help="only the rows whose name contains this")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    dev = Device(args.dry_run)
    import torch

    device_name = torch.cuda.get_device_name(0) if dev.torch_device == "cuda" else "CPU (dry run)"
    print(f"nnspec {nnspec.__version__} on {dev.xp.__name__} {dev.xp.__version__}, torch {torch.__version__}; "
          f"{device_name}")
    print(f"\n{'model':34} {'nnspec ms':>10} {'torch ms':>10} {'ratio':>7} {'nn MiB':>9} {'torch MiB':>9} "
          f"{'max|diff|':>10}")
    results = []
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"gpu-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.json"
    found = describe()
    for name, model, shape, dtype in rows(args.dry_run):
        if args.k not in name:
            continue
        try:
            results.append(bench_row(dev, name, model, shape, dtype, 3 if args.dry_run else args.repeats))
        except Exception as e:  # noqa: BLE001 - one row failing (out of memory, say) must not lose the others
            print(f"{name:34} failed: {type(e).__name__}: {e}", flush=True)
            results.append({"name": name, "error": f"{type(e).__name__}: {e}"})
        else:
            print_row(results[-1])
        # after every row: a run cut short by its time limit keeps what it measured
        out.write_text(json.dumps({"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                   "device": device_name, "torch": torch.__version__, "backend": dev.xp.__name__,
                                   "cupy": found.get("cupy"), "rows": results}, indent=1) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
