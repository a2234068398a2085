#!/usr/bin/env bash
# One prepared run on a GPU machine: the streamed analyses with their statistics on the device
# (statistics_on="device") against the host (NumPy), beside the bare forward pass. First the
# CUDA tests of the device statistics (tests/test_device_statistics.py, tests/test_gpu.py), then
# benchmarks/bench_gpu_extraction.py for AlexNet and VGG16: bare forward, extraction paths, and
# model_view_rdms (Figure 2) and measure_equivariance (Figure 3) over 2025 images, all preset
# layers, device vs host statistics (host timed over HOST_IMAGES). Carry .whl (rsatoolbox and
# plyfile wheels, see benchmarks/device_env.sh). Logs go to $OUT when set. At most 10 minutes
# (the timeouts), about 5 expected.
set -o pipefail
source benchmarks/device_env.sh gpu_statistics
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
timeout "${TESTS_S:-120}" python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_device_statistics.py tests/test_gpu.py \
  2>&1 | tee "$OUT/gpu_tests.log"
timeout "${BENCH_S:-450}" python3 benchmarks/bench_gpu_extraction.py --models alexnet vgg16 --batch-size 256 --repeats 3 \
  --analyses 2025 --host-images "${HOST_IMAGES:-18}" 2>&1 | tee "$OUT/bench_statistics.log"
