"""Activation extraction throughput against the bare forward pass, measured in the same run.

For alexnet, vgg16 and resnet50 (untrained weights: speed does not depend on them), bfloat16
autocast on CUDA, batches of 256 (--batch-size), one call covering --batches batches (as a
real extraction does; per-call set-up is then paid once):
  bare      the network's forward passes alone over random input already on the device;
  hooks     stream_activations over the same input, all preset layers, consumer keeping the
            tensors on the device (hook, slicing and early-stop overhead);
  stimuli   the same fed from a StimulusSet of 227 x 227 grayscale images in host memory
            (copy to the device, resizing and normalization there, included);
  to host   stream_activations handing every layer to a NumPy consumer (what
            extract_activations and the NumPy analyses receive), over one batch only.
--figure2 N also times model_view_rdms (both passes, NumPy statistics on the host) of alexnet
over N random images (N/9 objects x 9 views): the whole Figure-2 analysis of one network.
Images/s are medians of --repeats timed calls after --warmup calls; ratios to bare are printed
per model. Written for a GPU (benchmarks/gpu_session.sh); on CPU it is a smoke test.

Usage: python benchmarks/bench_gpu_extraction.py [--batch-size 256] [--batches 8] [--models ...]
"""

import argparse
import time

import numpy as np
import torch

from rsa_mirror.networks.activations import model_view_rdms, stream_activations
from rsa_mirror.networks.devices import resolve_device
from rsa_mirror.networks.models import load_model
from rsa_mirror.stimuli import StimulusSet


def images_per_second(run, n_images, device, repeats, warmup):
    """n_images / median seconds of ``run()`` over ``repeats`` calls after ``warmup`` calls."""
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
    return n_images / float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["alexnet", "vgg16", "resnet50"])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--figure2", type=int, default=0, metavar="N")
    args = parser.parse_args()
    device = resolve_device(args.device)
    dtype = torch.bfloat16 if device.type == "cuda" else None
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device: {name}; batch {args.batch_size} x {args.batches}; autocast {dtype}; torch {torch.__version__}")
    for model_name in args.models:
        rates = measure(model_name, args, device, dtype)
        summary = ", ".join(f"{label} {rate:8.1f} img/s ({rate / rates['bare']:.0%})" for label, rate in rates.items())
        print(f"{model_name:9s} {summary}", flush=True)
    if args.figure2:
        figure2(args.figure2, args.batch_size, device)


def measure(model_name, args, device, dtype):
    """Images/s of the bare forward and of the three extraction paths (see the module docstring)."""
    model = load_model(model_name, weights="untrained")
    network = model.module.to(device).eval()
    n_images, size = args.batch_size * args.batches, model.input_size
    inputs = torch.randn(n_images, 3, size, size, device=device)
    rng = np.random.default_rng(0)
    stimuli = StimulusSet(rng.uniform(0, 1, (n_images, 227, 227)).astype(np.float32))
    options = {"device": device, "batch_size": args.batch_size, "dtype": dtype}

    def bare():
        with torch.inference_mode(), torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            for start in range(0, n_images, args.batch_size):
                network(inputs[start : start + args.batch_size])

    def hooks():
        stream_activations(model, inputs, "all", lambda *a: None, as_numpy=False, **options)

    def from_stimuli():
        stream_activations(model, stimuli, "all", lambda *a: None, as_numpy=False, **options)

    def to_host():
        stream_activations(model, inputs[: args.batch_size], "all", lambda *a: None, **options)

    timing = (device, args.repeats, args.warmup)
    rates = {label: images_per_second(run, n_images, *timing) for label, run in [("bare", bare), ("hooks", hooks)]}
    rates["stimuli"] = images_per_second(from_stimuli, n_images, *timing)
    rates["to host"] = images_per_second(to_host, args.batch_size, device, min(args.repeats, 3), 1)
    return rates


def figure2(n_images, batch_size, device):
    """Wall time of the streamed Figure-2 analysis of alexnet (all presets) on random images."""
    n_objects = n_images // 9
    rng = np.random.default_rng(0)
    stimuli = StimulusSet(
        rng.uniform(0, 1, (n_objects * 9, 227, 227)).astype(np.float32),
        {"object": np.repeat(np.arange(n_objects), 9), "view_deg": np.tile(np.linspace(-90, 90, 9), n_objects)},
    )
    model = load_model("alexnet", weights="untrained")
    start = time.perf_counter()
    rdms = model_view_rdms(model, stimuli, "all", device=device, batch_size=batch_size)
    seconds = time.perf_counter() - start
    rate = len(stimuli) / seconds
    print(f"figure 2, alexnet, {len(stimuli)} images, {rdms.n_rdm} view RDMs: {seconds:.1f} s ({rate:.0f} img/s)")


if __name__ == "__main__":
    main()
