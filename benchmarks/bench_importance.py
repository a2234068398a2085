"""RISE throughput (issue 7): masked images per second through AlexNet up to fc6, same run.

  bare   the network cut after fc6 on ready batches (no masks): the forward pass alone;
  rise   rise_maps on --images images x --n-masks masks for 205 fc6 units (5%, as many as the
         mirror-symmetric units the paper maps): mask generation on the device, masking, the
         forward pass to fc6 and the response-weighted accumulation of the maps, end to end.
Each of --modes (eager, compile) runs one image first (warm-up: cuDNN autotuning, and for
compile the compilation, timed apart), then the timed runs. Prints masked images per second of
both and their ratio, and on CUDA the fraction of the card's bf16 peak (--peak-tflops, default
989, the dense bf16 of an H100 SXM or H200) from AlexNet-to-fc6's forward FLOPs counted by
torch.utils.flop_counter. --full runs the paper's workload (5000 masks x 2025 images; for a
lent GPU, see benchmarks/gpu_importance_session.sh; goal under 60 s on one H200).

Usage: python benchmarks/bench_importance.py [--device cpu] [--images 2] [--n-masks 256]
           [--modes eager compile] [--full]
"""

import argparse
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from rsa_mirror.activations import resolve_device
from rsa_mirror.importance import _fast_kernels, _layer_function, rise_maps
from rsa_mirror.models import load_model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--n-masks", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--modes", nargs="+", choices=("eager", "compile"), default=["eager"])
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
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        _layer_function(network, path, model)(batch[:1])
    flops = counter.get_total_flops()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"{name}, torch {torch.__version__}: AlexNet to fc6, {flops / 1e9:.3f} GFLOP per 227 x 227 image")
    options = {"n_masks": args.n_masks, "batch_size": args.batch_size, "device": device}
    for mode in args.modes:
        compile = mode == "compile"
        forward = _layer_function(network, path, model, compile=compile)
        start = time.perf_counter()
        rise_maps(model, images[:1], "fc6", units, random_state=1, compile=compile, **options)
        synchronize(device)
        warm_up = time.perf_counter() - start
        with _fast_kernels(device), torch.inference_mode(), torch.autocast(**autocast):
            forward(batch)
            synchronize(device)
            start = time.perf_counter()
            for _ in range(5):
                forward(batch)
            synchronize(device)
        bare_rate = 5 * args.batch_size / (time.perf_counter() - start)
        start = time.perf_counter()
        rise_maps(model, images, "fc6", units, random_state=0, compile=compile, **options)
        synchronize(device)
        seconds = time.perf_counter() - start
        rate = args.images * args.n_masks / seconds
        print(
            f"{mode}: {args.images} images x {args.n_masks} masks (batch {args.batch_size}) in {seconds:.1f} s "
            f"(+ {warm_up:.1f} s warm-up): {rate:,.0f} masked images/s; bare forward to fc6 "
            f"{bare_rate:,.0f} images/s; ratio {rate / bare_rate:.2f}"
        )
        if device.type == "cuda":
            peak = args.peak_tflops * 1e12 / flops  # images/s at the card's peak
            print(f"{mode}: fraction of bf16 peak {rate / peak:.1%} (bare forward {bare_rate / peak:.1%})")


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


if __name__ == "__main__":
    main()
