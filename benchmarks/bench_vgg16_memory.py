"""Peak memory and wall time of the Figure-2 analysis of VGG16 over all its preset layers (21)
on the full 2025-image set (9 categories x 25 exemplars x 9 views, 224 x 224), CPU.

Holding every layer's activations for every image would take 2025 x 15.2 M units x 4 bytes =
123 GB; model_view_rdms streams: two forward passes, per-unit statistics, per-object blocks.
Weights do not change the memory, so an untrained VGG16 is used (no download needed).
Peak resident memory is the process's VmHWM (whole process: Python, torch, the model, the
rendered images and the analysis).

--statistics-on chooses where the streamed statistics run (model_view_rdms's statistics_on:
"host" NumPy, "device" torch on the CPU here, "auto" the package's default); --threads sets
torch's CPU threads.

Usage: python benchmarks/bench_vgg16_memory.py [--exemplars 25] [--batch-size 18] [--statistics-on auto]
"""

import argparse
import time

import numpy as np


def peak_gib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exemplars", type=int, default=25)
    parser.add_argument("--batch-size", type=int, default=18)
    parser.add_argument("--statistics-on", default="auto", choices=["auto", "device", "host"])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from rsa_mirror import load_model, model_view_rdms, msvt_by_object
    from rsa_mirror.stimuli import render_objects

    start = time.perf_counter()
    stimuli = render_objects(n_exemplars=args.exemplars, size=224, random_state=0)
    rendered = time.perf_counter() - start
    model = load_model("vgg16", weights="untrained", random_state=0)
    n_units = 0
    print(f"{len(stimuli)} images rendered in {rendered:.0f} s; peak so far {peak_gib():.2f} GiB")
    start = time.perf_counter()
    options = {"batch_size": args.batch_size, "device": "cpu", "statistics_on": args.statistics_on}
    view_rdms = model_view_rdms(model, stimuli, "all", verbose=True, **options)
    seconds = time.perf_counter() - start
    table = msvt_by_object(view_rdms)
    n_units = int(np.sum(table.drop_duplicates("name")["n_units"]))
    print(f"VGG16, {table['name'].nunique()} layers, {n_units / 1e6:.1f} M informative units per image")
    print(
        f"model_view_rdms (statistics_on={args.statistics_on}, {torch.get_num_threads()} torch threads): "
        f"{seconds / 60:.1f} min; peak resident memory {peak_gib():.2f} GiB"
    )
    print(
        f"naive (all informative units of all layers x all images, float32): {len(stimuli) * n_units * 4 / 1e9:.0f} GB"
    )
    print(table.groupby(["name", "category"], sort=False)["msvt"].mean().unstack().round(2).to_string())


if __name__ == "__main__":
    main()
