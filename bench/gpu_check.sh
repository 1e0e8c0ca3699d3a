#!/usr/bin/env bash
# The GPU checks of issue 7, in one run on a lent GPU machine, a report written to $OUT:
#   1. nnspec installed from the carried wheels (bench/gpu_wheels.sh, run here first), and `nnspec info`;
#   2. `nnspec run --device cuda` on a seed model (the trace, on the GPU);
#   3. the cupy leg of the parity tests, with NNSPEC_REQUIRE_GPU=1 (a missing GPU fails, never skips);
#   4. bench/gpu.py: CuPy against PyTorch CUDA eager (its JSON rewritten after every row).
# With the device tool: run(command="bash bench/gpu_check.sh", carry=[".gpu-wheels"], timeout_s=420). The
# steps' limits sum to under 400 s, so a machine start (1-2 min) and this leave time for a second try
# inside the 15 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-bench/results}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1 NNSPEC_DEBUG=1  # output as it comes; nnspec's own errors with their traceback
step() { echo; echo "== $1 (at ${SECONDS}s)"; }
{
    step install
    python3 -m pip install -q --no-index --find-links .gpu-wheels --no-build-isolation -e '.[test]' 2>&1 | tail -20
    echo "pip rc=${PIPESTATUS[0]}"
    if command -v nnspec >/dev/null; then cli=(nnspec); else cli=(python3 -m nnspec_cli); fi
    step "nnspec info"
    "${cli[@]}" info; "${cli[@]}" info --json > "$out/info.json"
    step "nnspec run --device cuda"
    timeout 60 "${cli[@]}" run models/seed/conv2d.yaml --input-shape 20,16,50,100 --device cuda
    echo "rc=$?"
    step "cupy leg (NNSPEC_REQUIRE_GPU=1)"
    extra=(); python3 -c "import pytest_timeout" 2>/dev/null && extra=(--timeout 90)
    NNSPEC_REQUIRE_GPU=1 timeout 180 python3 -m pytest -q -rfEs --tb=short --durations 15 -p no:cacheprovider \
        "${extra[@]}" -k "cupy and not without_cupy" \
        tests/test_parity.py tests/plan/test_parity_plan.py tests/runtime/test_backend.py > "$out/pytest-cupy.txt" 2>&1
    echo "rc=$?"; tail -30 "$out/pytest-cupy.txt"
    step "bench/gpu.py"
    timeout 150 python3 bench/gpu.py --repeats 10 --out "$out"
    echo "rc=$?"
    step done
} 2>&1 | tee "$out/gpu-check.txt"
