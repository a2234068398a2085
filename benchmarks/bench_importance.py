"""RISE throughput: masked images per second through AlexNet up to fc6, same run.

  bare   the network cut after fc6 on ready batches (no masks): the forward pass alone;
  rise   rise_maps on --images images x --n-masks masks for 205 fc6 units (5%, as many as the
         mirror-symmetric units the paper maps), giving what importance_study keeps per image:
         the best unit's map and the 205 units' mean map (--per-unit: all 205 maps); mask
         generation on the device, masking, the forward pass to fc6 and the response-weighted
         accumulation of the maps, end to end.
Each setting (--modes eager / compile x --stems gray / plain x --batch-sizes; gray: the first
convolution folded onto the grayscale input, rsa_mirror.networks.forward.GrayStem; plain: three
channels into the network's own convolution) runs one image first (warm-up: cuDNN
autotuning, and for compile the compilation, timed apart), then the timed runs; a setting that
fails is reported and skipped. Prints masked images per second of both and their ratio, and
on CUDA the fraction of the card's bf16 peak (--peak-tflops, default 989, the dense bf16 of an
H100 SXM or H200) from AlexNet-to-fc6's forward FLOPs (the network's own: plain stem) counted by
torch.utils.flop_counter.
--profile prints the GPU kernels of one bare forward pass of each stem (torch.profiler).
--full then runs the paper's workload (5000 masks x 2025 images; goal under 60 s on one H200)
with the setting of the fastest bare forward pass (--full-repeats times, median); on a CUDA
machine benchmarks/gpu_importance_session.sh runs it with the GPU tests.

Usage: python benchmarks/bench_importance.py [--device cpu] [--images 2] [--n-masks 256]
           [--modes eager compile] [--stems gray plain] [--batch-sizes 128] [--profile] [--full]
"""

import argparse
import time
import traceback

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from rsa_mirror.importance import rise_maps
from rsa_mirror.networks import forward as importance
from rsa_mirror.networks.devices import fast_kernels as _fast_kernels
from rsa_mirror.networks.devices import resolve_device
from rsa_mirror.networks.forward import layer_function as _layer_function
from rsa_mirror.networks.models import load_model

UNITS = np.arange(205)  # 5% of fc6: the mirror-symmetric units whose maps the paper draws
BEST_AND_MEAN = np.vstack([np.eye(len(UNITS))[0], np.full(len(UNITS), 1 / len(UNITS))])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--images", type=int, default=2, help="images of each timed setting")
    parser.add_argument("--n-masks", type=int, default=256)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128])
    parser.add_argument("--modes", nargs="+", choices=("eager", "compile"), default=["eager"])
    parser.add_argument("--stems", nargs="+", choices=("gray", "plain"), default=["gray"])
    parser.add_argument("--profile", action="store_true", help="GPU kernels of one bare forward pass per stem")
    parser.add_argument("--full", action="store_true", help="then 2025 images x 5000 masks, fastest forward")
    parser.add_argument("--full-images", type=int, default=2025, help="images of --full (2025: the paper's)")
    parser.add_argument("--full-repeats", type=int, default=1, help="runs of --full (median printed)")
    parser.add_argument("--peak-tflops", type=float, default=989.0)
    parser.add_argument("--per-unit", action="store_true", help="205 maps per image, not the study's two")
    args = parser.parse_args()
    if args.full:
        args.n_masks = 5000
    device = resolve_device(args.device)
    model = load_model("alexnet", weights="untrained")
    network = model.module.to(device).eval()
    path = model.resolve_layers(["fc6"])["fc6"]
    n_images = args.full_images if args.full else args.images
    images = np.random.default_rng(0).uniform(0, 1, (n_images, 227, 227)).astype(np.float32)
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        _layer_function(network, path, model, gray_stem=False)(torch.as_tensor(images[:1], device=device))
    peak_rate = args.peak_tflops * 1e12 / counter.get_total_flops()  # images/s at the card's peak
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"{name}, torch {torch.__version__}: AlexNet to fc6, {counter.get_total_flops() / 1e9:.3f} GFLOP per image")
    if args.profile:
        for stem in args.stems:
            profile(network, path, model, images, stem, max(args.batch_sizes), device)
    rates = {}
    for mode in args.modes:
        for stem in args.stems:
            for batch_size in args.batch_sizes:
                setting = (mode, stem, batch_size)
                try:
                    rates[setting] = measure(model, network, path, images[: args.images], setting, args)
                except Exception:  # noqa: BLE001  (report and go on: one failed setting must not lose the others)
                    print(f"{setting}: failed\n{traceback.format_exc()}")
                    continue
                rate, bare_rate = rates[setting]
                if device.type == "cuda":
                    print(f"  fraction of bf16 peak {rate / peak_rate:.1%} (bare forward {bare_rate / peak_rate:.1%})")
    if args.full and rates:
        # the forward pass dominates the full workload; short end-to-end runs carry per-call overheads
        setting = max(rates, key=lambda setting: rates[setting][1])
        runs = [timed_rise(model, images, setting, args, device, random_state=0) for _ in range(args.full_repeats)]
        seconds = float(np.median(runs))
        rate = len(images) * args.n_masks / seconds
        print(
            f"FULL {setting}: {len(images)} images x {args.n_masks} masks in {seconds:.1f} s "
            f"(median of {', '.join(f'{run:.1f}' for run in runs)}), "
            f"{rate:,.0f} masked images/s" + (f", {rate / peak_rate:.1%} of bf16 peak" if device.type == "cuda" else "")
        )


def measure(model, network, path, images, setting, args) -> tuple:
    """(masked images/s of rise_maps, images/s of the bare cut network), printed, same setting."""
    mode, stem, batch_size = setting
    device = next(network.parameters()).device
    warm_up = timed_rise(model, images[:1], setting, args, device, random_state=1)
    forward = _layer_function(network, path, model, compile=mode == "compile", gray_stem=stem == "gray")
    batch = torch.as_tensor(images[:1], device=device).expand(batch_size, -1, -1).contiguous()
    autocast = {"device_type": device.type, "dtype": torch.bfloat16, "enabled": device.type == "cuda"}
    with _fast_kernels(device), torch.inference_mode(), torch.autocast(**autocast):
        forward(batch)
        synchronize(device)
        start = time.perf_counter()
        for _ in range(5):
            forward(batch)
        synchronize(device)
    bare_rate = 5 * batch_size / (time.perf_counter() - start)
    seconds = timed_rise(model, images, setting, args, device, random_state=0)
    rate = len(images) * args.n_masks / seconds
    print(
        f"{mode}, {stem} stem, batch {batch_size}: {len(images)} images x {args.n_masks} masks in {seconds:.1f} s "
        f"(+ {warm_up:.1f} s warm-up): {rate:,.0f} masked images/s; bare forward to fc6 {bare_rate:,.0f} "
        f"images/s; ratio {rate / bare_rate:.2f}"
    )
    return rate, bare_rate


def timed_rise(model, images, setting, args, device, random_state) -> float:
    """Seconds of one rise_maps call on ``images`` (all 205 maps with --per-unit, else best + mean)."""
    mode, stem, batch_size = setting
    weights = None if args.per_unit else BEST_AND_MEAN
    options = {"n_masks": args.n_masks, "batch_size": batch_size, "compile": mode == "compile", "weights": weights}
    importance.GRAY_STEM = stem == "gray"  # rise_maps' cut network: folded stem or the network's own
    start = time.perf_counter()
    rise_maps(model, images, "fc6", UNITS, device=device, random_state=random_state, **options)
    synchronize(device)
    return time.perf_counter() - start


def profile(network, path, model, images, stem, batch_size, device):
    """Print the 12 costliest kernels of one bare forward pass (eager) of ``batch_size`` images."""
    forward = _layer_function(network, path, model, gray_stem=stem == "gray")
    batch = torch.as_tensor(images[:1], device=device).expand(batch_size, -1, -1).contiguous()
    activities = [torch.profiler.ProfilerActivity.CPU]
    activities += [torch.profiler.ProfilerActivity.CUDA] if device.type == "cuda" else []
    autocast = torch.autocast(device.type, torch.bfloat16, device.type == "cuda")
    with _fast_kernels(device), torch.inference_mode(), autocast:
        forward(batch)
        synchronize(device)
        with torch.profiler.profile(activities=activities) as profiler:
            forward(batch)
            synchronize(device)
    sort = "cuda_time_total" if device.type == "cuda" else "cpu_time_total"
    print(f"{stem} stem, batch {batch_size}, eager:\n{profiler.key_averages().table(sort_by=sort, row_limit=12)}")


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


if __name__ == "__main__":
    main()
