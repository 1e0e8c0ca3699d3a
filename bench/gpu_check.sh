#!/usr/bin/env bash
# The GPU checks of issue 7, in one run on a lent GPU machine, a report written to $OUT:
#   1. nnspec installed from the carried wheels (bench/gpu_wheels.sh, run here first), and `nnspec info`;
#   2. the cupy leg of the tests, with NNSPEC_REQUIRE_GPU=1 so that a missing GPU fails instead of skipping;
#   3. `nnspec run --device cuda` on a seed model (the trace, on the GPU);
#   4. bench/gpu.py: CuPy against PyTorch CUDA eager.
# With the device tool: run(command="bash bench/gpu_check.sh", carry=[".gpu-wheels"], timeout_s=540).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-bench/results}"
mkdir -p "$out"
{
    echo "== install"
    python3 -m pip install -q --no-index --find-links .gpu-wheels --no-build-isolation -e '.[test]' 2>&1 | tail -5
    nnspec info
    echo "== cupy leg (NNSPEC_REQUIRE_GPU=1)"
    NNSPEC_REQUIRE_GPU=1 timeout 240 python3 -m pytest -q --tb=line -p no:cacheprovider -k cupy tests 2>&1 | tail -40
    echo "== nnspec run --device cuda"
    timeout 60 nnspec run models/seed/conv2d.yaml --input-shape 20,16,50,100 --device cuda
    echo "== bench/gpu.py"
    timeout 240 python3 bench/gpu.py --out "$out"
} 2>&1 | tee "$out/gpu-check.txt"
