"""nnspec predict's throughput: rows/s of ResNet-18 over a Zarr array on 1 and 2 Dask workers, against a plain
loop in one process (the same plan over the same chunks, read from the same store, kept in memory), and the
overhead per chunk (what the Dask and Zarr machinery adds to each chunk: reading, digests, writing, reading back,
records), all in one run.

    python bench/predict.py                 # 192 rows of 3x224x224 in chunks of 32 (about a minute on 2 cores)
    python bench/predict.py --rows 64       # quicker

Each worker of a local cluster is one process with one thread; the plain loop runs with 1 thread (to compare with
one worker, and to measure the overhead) and with 2 (the machine's cores, as nnspec run would). predict's time
runs from its workers being ready, so it includes each worker building the model and its plan once; the plain
loop's plan is warm: the overhead per chunk counts that build, shared out over the chunks. Writes
bench/results/predict-<time>.json. Needs the dask extra (pip install 'nnspec[dask]').
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "zoo" / "resnet18.yaml"

PLAIN = """
import json, sys, time
import numpy as np, zarr
import nnspec
store, batch = sys.argv[1], int(sys.argv[2])
data = zarr.open_array(store, mode="r")
plan = nnspec.compile(nnspec.load(sys.argv[3], seed=0).eval())
chunk = data.chunks[0]
plan(np.asarray(data[:batch]))  # the plan made and warm, as a worker's is after its first chunk
start = time.perf_counter()
for c0 in range(0, data.shape[0], chunk):
    x = np.asarray(data[c0:c0 + chunk])
    out = [np.asarray(plan(x[b:b + batch])) for b in range(0, len(x), batch)]
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def plain_loop(store: str, batch: int, threads: int) -> float:
    env = dict(os.environ, NNSPEC_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    proc = subprocess.run([sys.executable, "-c", PLAIN, store, str(batch), str(MODEL)], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=192)
    parser.add_argument("--chunk", type=int, default=32)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()

    import zarr

    import nnspec

    rows, chunk = args.rows, args.chunk
    with tempfile.TemporaryDirectory() as tmp:
        store = str(Path(tmp) / "in.zarr")
        z = zarr.create_array(store, shape=(rows, 3, 224, 224), chunks=(chunk, 3, 224, 224), dtype="float32")
        rng = np.random.default_rng(0)
        for c0 in range(0, rows, chunk):
            z[c0:c0 + chunk] = rng.standard_normal((min(chunk, rows - c0), 3, 224, 224), dtype=np.float32)
        chunks = -(-rows // chunk)
        result = {"model": "resnet18", "rows": rows, "chunk": chunk, "batch": args.batch, "chunks": chunks}
        for threads in (1, 2):
            seconds = plain_loop(store, args.batch, threads)
            result[f"plain_{threads}_thread"] = {"seconds": seconds, "rows_per_s": rows / seconds}
        for workers in (1, 2):
            out = str(Path(tmp) / f"out{workers}.zarr")
            summary = nnspec.predict(MODEL, store, out, workers=workers, batch_size=args.batch)
            result[f"predict_{workers}_worker"] = {"seconds": summary.seconds, "rows_per_s": summary.rows_per_second,
                                                  "model_loads": summary.model_loads}
        # the same compute on one core, with and without the machinery: what each chunk pays for it
        one, plain = result["predict_1_worker"]["seconds"], result["plain_1_thread"]["seconds"]
        result["overhead_per_chunk_ms"] = (one - plain) / chunks * 1e3
    print(f"ResNet-18, {rows} rows of 3x224x224 float32, chunks of {chunk}, batches of {args.batch}")
    print(f"{'':24}{'seconds':>9}{'rows/s':>9}{'vs plain, 2 threads':>22}")
    base = result["plain_2_thread"]["rows_per_s"]
    for key in ("plain_1_thread", "plain_2_thread", "predict_1_worker", "predict_2_worker"):
        r = result[key]
        print(f"{key.replace('_', ' '):24}{r['seconds']:9.2f}{r['rows_per_s']:9.1f}{r['rows_per_s'] / base:21.2f}x")
    print(f"overhead per chunk (1 worker against the 1-thread loop): {result['overhead_per_chunk_ms']:.1f} ms")
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"predict-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
