#!/usr/bin/env bash
# One run on a CUDA machine: GPU tests, then extraction throughput.
# Wheels for what the machine lacks (rsatoolbox, plyfile) can be put in .whl;
# the package runs from the checkout. Logs go to $OUT when set.
set -o pipefail
source benchmarks/device_env.sh gpu_session
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, torchvision, numpy; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'numpy', numpy.__version__)"
echo "cached weights:"; timeout 20 find "$(python3 -c 'import torch; print(torch.hub.get_dir())')" /root /opt /home /data /mnt \
  -name '*.pth' -size +1M 2>/dev/null | head -20
python3 -m pytest -q -m gpu tests/test_gpu.py -p no:cacheprovider 2>&1 | tee "$OUT/gpu_tests.log"
python3 benchmarks/bench_gpu_extraction.py --batch-size 256 --repeats 5 2>&1 | tee "$OUT/bench_gpu_extraction.log"
