#!/usr/bin/env bash
# One run on a CUDA machine (about 8 minutes on one H200): the RISE
# tests on CUDA, then bench_importance.py: eager vs compiled, gray vs plain stem, and the paper's workload
# (5000 masks x 2025 images through AlexNet to fc6, end to end) with the fastest of them.
# On a machine without package access, put wheels of what it lacks into .whl (rsatoolbox, plyfile for
# its Python, e.g.
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#     -d .whl rsatoolbox==0.3.2 plyfile
# ); benchmarks/device_env.sh installs them. Run: bash benchmarks/gpu_importance_session.sh
set -o pipefail
source benchmarks/device_env.sh gpu_importance
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
timeout 120 python3 -m pytest -q -m gpu tests/test_gpu.py -k "rise or stem" -p no:cacheprovider 2>&1 | tee "$OUT/gpu_tests.log"
# The costliest kernels of one forward pass per stem; eager and compiled, gray and plain stem, at a
# batch of 1000 on 20 images x 5000 masks each; then the full workload with the fastest setting.
timeout 330 python3 benchmarks/bench_importance.py --device cuda --full --images 20 --modes eager compile \
  --stems gray plain --batch-sizes 1000 --profile --full-repeats 3 2>&1 | tee "$OUT/rise.log"
