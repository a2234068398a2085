#!/usr/bin/env bash
# Prepared for a lent GPU (issue 7, not yet run): the paper's RISE workload, 5000 masks x 2025
# images through AlexNet to fc6, end to end. Carry .whl (rsatoolbox, plyfile wheels).
set -o pipefail
OUT=${OUT:-/tmp/gpu_importance}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
python3 benchmarks/bench_importance.py --device cuda --images 50 --n-masks 5000 2>&1 | tee "$OUT/rise_50_images.log"
timeout 300 python3 benchmarks/bench_importance.py --device cuda --full 2>&1 | tee "$OUT/rise_full.log"
