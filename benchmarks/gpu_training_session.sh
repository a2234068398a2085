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
# Many networks at once (train_many): the CUDA equality test; 8 networks x 5 epochs of the full
# schedule one after another, together (bit-identity checked) and on 8 worker processes; then the
# 35-network grid together (GRID_EPOCHS=250 is the paper's schedule; fewer give its per-epoch rate).
timeout "${MANY_TEST_S:-120}" python3 -m pytest -q -m gpu tests/test_training_many.py -p no:cacheprovider \
  2>&1 | tee "$OUT/training_many_gpu_test.log"
timeout "${MANY_S:-200}" python3 benchmarks/bench_training_many.py --device cuda --networks 8 --full-schedule --epochs 5 \
  --processes 8 \
  2>&1 | tee "$OUT/training_many_ratio.log"
timeout "${GRID_S:-1300}" python3 benchmarks/bench_training_many.py --device cuda --networks 35 --full-schedule \
  --epochs "${GRID_EPOCHS:-250}" --serial 0 2>&1 | tee "$OUT/training_many_grid.log"
# The plan's full Figure 4 grid (40 networks, 1000 images per category, 30 epochs) trained
# together, as `reproduce --profile paper` runs it; its wall time per network is in
# grid_full/grid_networks.csv (GRID_FULL_EPOCHS < 30 departs from the plan, for timing only).
timeout "${GRID_FULL_S:-600}" python3 -m rsa_mirror figure4 --grid --scale full --together --device cuda \
  --epochs "${GRID_FULL_EPOCHS:-30}" --out "$OUT/grid_full" 2>&1 | tee "$OUT/grid_full.log"
