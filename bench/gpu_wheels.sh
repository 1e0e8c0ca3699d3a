#!/usr/bin/env bash
# Run here, before bench/gpu_check.sh: downloads the wheels nnspec and its tests need that the GPU
# machines' image lacks (it has numpy, pyyaml, safetensors, typer, pytest, hypothesis, torch and
# cupy-cuda13x, setuptools and wheel, for Python 3.12; nothing can be fetched there) into .gpu-wheels/, which git ignores
# and the device tool carries (carry: [".gpu-wheels"]).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform any -d .gpu-wheels "pydantic>=2.6" "jsonschema>=4.18" "torchinfo==1.8.0"
ls .gpu-wheels
