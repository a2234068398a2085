"""RISE throughput (issue 7): masked images per second through AlexNet up to fc6, same run.

  bare   the network's forward pass on ready batches (no masks), stopping after fc6;
  rise   rise_maps on --images images x --n-masks masks for 205 fc6 units (5%, as many as the
         mirror-symmetric units the paper maps): mask generation on the device, masking, the
         forward pass to fc6 and the response-weighted accumulation of the maps, end to end.
Prints masked images per second of both and their ratio. --full runs the paper's workload
(5000 masks x 2025 images; for a lent GPU, see benchmarks/gpu_importance_session.sh; goal
under 60 s on one H200) and reports the fraction of the card's bf16 peak (--peak-tflops,
default 989, the H200's dense bf16) using AlexNet-to-fc6's forward FLOPs at 227 x 227.

Usage: python benchmarks/bench_importance.py [--device cpu] [--images 2] [--n-masks 256] [--full]
"""

import argparse
import time

import numpy as np
import torch

from rsa_mirror.activations import resolve_device
from rsa_mirror.importance import _responses, rise_maps
from rsa_mirror.models import load_model

FLOPS_TO_FC6 = 2 * 0.715e9  # multiply-adds of AlexNet (227 x 227) up to fc6, x2


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--n-masks", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--peak-tflops", type=float, default=989.0)
    args = parser.parse_args()
    if args.full:
        args.images, args.n_masks, args.batch_size = 2025, 5000, 1000
    device = resolve_device(args.device)
    model = load_model("alexnet", weights="untrained")
    network = model.module.to(device).eval()
    path = model.resolve_layers(["fc6"])["fc6"]
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (args.images, 227, 227)).astype(np.float32)
    units = np.arange(205)  # 5% of fc6: the mirror-symmetric units whose maps the paper draws
    autocast = {"device_type": device.type, "dtype": torch.bfloat16, "enabled": device.type == "cuda"}
    batch = torch.as_tensor(images[:1], device=device).expand(args.batch_size, -1, -1).contiguous()

    def bare():
        with torch.inference_mode(), torch.autocast(**autocast):
            _responses(network, path, model, batch)

    bare()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(3):
        bare()
    synchronize(device)
    bare_rate = 3 * args.batch_size / (time.perf_counter() - start)
    start = time.perf_counter()
    rise_maps(
        model, images, "fc6", units, n_masks=args.n_masks, batch_size=args.batch_size, device=device, random_state=0
    )
    synchronize(device)
    seconds = time.perf_counter() - start
    rate = args.images * args.n_masks / seconds
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"{name}: {args.images} images x {args.n_masks} masks in {seconds:.1f} s: {rate:,.0f} masked images/s "
        f"(bare forward to fc6 {bare_rate:,.0f} images/s; ratio {rate / bare_rate:.2f})"
    )
    if device.type == "cuda":
        print(f"fraction of bf16 peak: {rate * FLOPS_TO_FC6 / (args.peak_tflops * 1e12):.1%}")


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


if __name__ == "__main__":
    main()
