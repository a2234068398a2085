"""Activation extraction throughput against the bare forward pass, measured in the same run.

For alexnet, vgg16 and resnet50 (untrained weights: speed does not depend on them), random
input at the model's size, batch 256 (--batch-size), bfloat16 autocast on CUDA:
  bare      the network's forward pass alone, under inference_mode;
  hooks     stream_activations over all preset layers with a consumer that keeps the tensors
            on the device (hook and early-stop overhead only);
  to host   stream_activations handing every layer to a NumPy consumer in host memory (what
            extract_activations and the CPU analyses do).
Images/s are medians of --repeats timed batches after --warmup batches; the ratio to bare is
printed per model. Written for a lent GPU (see the device tool); runs on CPU too (smaller
--batch-size) as a smoke test.

Usage: python benchmarks/bench_gpu_extraction.py [--batch-size 256] [--repeats 5] [--models ...]
"""

import argparse
import time

import numpy as np
import torch

from rsa_mirror.activations import resolve_device, stream_activations
from rsa_mirror.models import load_model


def images_per_second(run, batch_size, device, repeats, warmup):
    times = []
    for i in range(warmup + repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return batch_size / float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["alexnet", "vgg16", "resnet50"])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    dtype = torch.bfloat16 if device.type == "cuda" else None
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device: {name}; batch {args.batch_size}; autocast {dtype}; torch {torch.__version__}")
    for model_name in args.models:
        rates = measure(model_name, args, device, dtype)
        summary = ", ".join(f"{label} {rate:8.1f} img/s ({rate / rates['bare']:.0%})" for label, rate in rates.items())
        print(f"{model_name:9s} {summary}")


def measure(model_name, args, device, dtype):
    """Images/s of the bare forward, hooks kept on the device, and hooks copied to the host."""
    model = load_model(model_name, weights="untrained")
    network = model.module.to(device)
    batch = torch.randn(args.batch_size, 3, model.input_size, model.input_size, device=device)
    options = {"device": device, "batch_size": args.batch_size, "dtype": dtype}

    def bare():
        with torch.inference_mode(), torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            network(batch)

    def on_device():
        stream_activations(model, batch, "all", lambda *a: None, as_numpy=False, **options)

    def to_host():
        stream_activations(model, batch, "all", lambda *a: None, **options)

    runs = {"bare": bare, "hooks": on_device, "to host": to_host}
    return {
        label: images_per_second(run, args.batch_size, device, args.repeats, args.warmup) for label, run in runs.items()
    }


if __name__ == "__main__":
    main()
