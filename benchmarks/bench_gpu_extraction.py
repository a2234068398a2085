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
<<<<<<< HEAD
--figure2 N also times model_view_rdms (both passes, NumPy statistics on the host) of alexnet
over N random images (N/9 objects x 9 views): the whole Figure-2 analysis of one network.
Images/s are medians of --repeats timed calls after --warmup calls; ratios to bare are printed
per model. Written for a GPU (benchmarks/gpu_session.sh); on CPU it is a smoke test.
=======
--analyses N also times the streamed analyses over N random images (N/9 objects x 9 views,
all preset layers) for each of --analysis-models (alexnet, vgg16), with the statistics on the
device (statistics_on="device": torch where the network runs) and on the host ("host": every
layer's output copied to host memory, NumPy; timed over --host-images of the N, as the host
path is slow and its cost per image constant):
  figure 2  model_view_rdms: two forward passes per image (statistics, then view RDMs);
  figure 3  measure_equivariance, hflip, vflip and rot90: each image and its three copies,
            twice: eight forward passes per image.
For each, images/s and "of bare": images/s x forward passes per image / bare images/s (bare
measured in the same run, the model's --batch-size), so 100% means the analysis costs no more
than its forward passes.
Images/s of the extraction paths are medians of --repeats timed calls after --warmup calls;
each analysis is timed once (with device statistics on CUDA, after a warm-up call on 2 objects). Written for a GPU
(benchmarks/gpu_statistics_session.sh); on CPU it is a smoke test (say so with its numbers).
>>>>>>> devstats

Usage: python benchmarks/bench_gpu_extraction.py [--batch-size 256] [--batches 8] [--models ...]
       [--analyses 2025 --analysis-models alexnet vgg16 --host-images 225]
"""

import argparse
import time

import numpy as np
import torch

from rsa_mirror.networks.activations import measure_equivariance, model_view_rdms, stream_activations
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
    parser.add_argument("--analyses", type=int, default=0, metavar="N", help="images for the analyses (0: none)")
    parser.add_argument("--analysis-models", nargs="+", default=["alexnet", "vgg16"])
    parser.add_argument("--host-images", type=int, default=225, help="images for the host-statistics timings")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    dtype = torch.bfloat16 if device.type == "cuda" else None
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    threads = f"; {torch.get_num_threads()} torch threads" if device.type == "cpu" else ""
    setting = f"batch {args.batch_size} x {args.batches}; autocast {dtype}; torch {torch.__version__}{threads}"
    print(f"device: {name}; {setting}")
    bare = {}
    for model_name in dict.fromkeys([*args.models, *(args.analysis_models if args.analyses else [])]):
        rates = measure(model_name, args, device, dtype)
        bare[model_name] = rates["bare"]
        summary = ", ".join(f"{label} {rate:8.1f} img/s ({rate / rates['bare']:.0%})" for label, rate in rates.items())
        print(f"{model_name:9s} {summary}", flush=True)
    for model_name in args.analysis_models if args.analyses else []:
        analyses(model_name, args, device, bare[model_name])


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


def object_set(n_images, seed=0):
    """n_images // 9 objects x 9 views of random 227 x 227 grayscale images."""
    n_objects = n_images // 9
    rng = np.random.default_rng(seed)
    return StimulusSet(
        rng.uniform(0, 1, (n_objects * 9, 227, 227)).astype(np.float32),
        {"object": np.repeat(np.arange(n_objects), 9), "view_deg": np.tile(np.linspace(-90, 90, 9), n_objects)},
    )


def analyses(model_name, args, device, bare):
    """Images/s of Figure 2's and Figure 3's streamed analyses, statistics on the device and on the host."""
    model = load_model(model_name, weights="untrained")
    tasks = {"figure 2": (2, model_view_rdms), "figure 3": (8, measure_equivariance)}
    for label, (passes, analysis) in tasks.items():
        for statistics_on in ("device", "host"):
            n_images = args.analyses if statistics_on == "device" else min(args.host_images, args.analyses)
            batch_size = args.batch_size if label == "figure 2" else max(1, args.batch_size // 4)
            options = {"device": device, "batch_size": batch_size, "statistics_on": statistics_on}

            def run(stimuli, analysis=analysis, options=options):
                analysis(model, stimuli, "all", **options)

            if device.type == "cuda" and statistics_on == "device":
                run(object_set(18, seed=1))  # warm-up: kernels, allocator (the host path is bound by the host)
            stimuli = object_set(n_images)
            if device.type == "cuda":
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats(device)
            start = time.perf_counter()
            run(stimuli)
            seconds = time.perf_counter() - start
            rate = len(stimuli) / seconds
            peak = (
                f", peak GPU memory {torch.cuda.max_memory_allocated(device) / 2**30:.1f} GiB"
                if device.type == "cuda"
                else ""
            )
            print(
                f"{model_name:9s} {label} ({passes} passes/image), statistics on the {statistics_on:6s}: "
                f"{len(stimuli)} images in {seconds:7.1f} s, {rate:10.2f} img/s ({rate * passes / bare:.0%} of bare)"
                f"{peak}",
                flush=True,
            )


if __name__ == "__main__":
    main()
