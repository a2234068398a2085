#!/usr/bin/env bash
# One run on a CUDA machine: the Figure-4 experiment
# (examples/figure4_control_networks.py, 3 seeds x 4 regimes) and the paper's full training
# schedule (benchmarks/bench_training.py --full-schedule). Carry .whl (rsatoolbox, plyfile
# wheels) and rsa_mirror/data (the face mesh). Outputs go to $OUT when set.
set -o pipefail
source benchmarks/device_env.sh gpu_training
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
timeout "${EXPERIMENT_S:-150}" python3 -W ignore examples/figure4_control_networks.py --device cuda --out "$OUT/figure4" \
  2>&1 | tee "$OUT/figure4.log"
timeout "${SCHEDULE_S:-200}" python3 benchmarks/bench_training.py --full-schedule --device cuda --n-rendered 1200 \
  2>&1 | tee "$OUT/full_schedule.log"
