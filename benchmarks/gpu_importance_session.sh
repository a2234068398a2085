#!/usr/bin/env bash
# Prepared for a lent GPU (issue 7; at most about 9.5 minutes, run with timeout_s 600): the RISE
# tests on CUDA, then bench_importance.py: eager vs compiled settings, and the paper's workload
# (5000 masks x 2025 images through AlexNet to fc6, end to end) with the fastest of them.
# Carry .whl (rsatoolbox, plyfile wheels for the device's Python, made here with
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#     -d .whl rsatoolbox==0.3.2 plyfile
# and `echo /.whl/ >> .git/info/exclude`); device tool: command "bash benchmarks/gpu_importance_session.sh",
# carry [".whl"], timeout_s 600.
set -o pipefail
source benchmarks/device_env.sh gpu_importance
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
timeout 120 python3 -m pytest -q -m gpu tests/test_gpu.py -k rise -p no:cacheprovider 2>&1 | tee "$OUT/gpu_tests.log"
# Eager and compiled at batches of 1000 and 2000 on 10 images x 5000 masks each, then the full
# workload with the fastest of them (compiled graphs are reused).
timeout 450 python3 benchmarks/bench_importance.py --device cuda --full --images 10 --modes eager compile \
  --batch-sizes 1000 2000 2>&1 | tee "$OUT/rise.log"
