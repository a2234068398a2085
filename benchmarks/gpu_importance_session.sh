#!/usr/bin/env bash
# Prepared for a lent GPU (issue 7, not yet run): the paper's RISE workload, 5000 masks x 2025
# images through AlexNet to fc6, end to end. Carry .whl (rsatoolbox, plyfile wheels).
set -o pipefail
source benchmarks/device_env.sh gpu_importance
python3 benchmarks/bench_importance.py --device cuda --images 50 --n-masks 5000 2>&1 | tee "$OUT/rise_50_images.log"
timeout 300 python3 benchmarks/bench_importance.py --device cuda --full 2>&1 | tee "$OUT/rise_full.log"
