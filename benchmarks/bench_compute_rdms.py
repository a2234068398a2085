"""Benchmark of rsa_mirror.compute_rdms, one BLAS thread (threadpoolctl).

1. Speed on 1000 stimuli x 43,264 units float32 (AlexNet conv5 size), against rsatoolbox's
   calc_rdm(method='correlation') and against the bare BLAS product Z @ Z.T, all measured in
   this run; medians of --repeats runs and their ratios.
2. Peak resident memory of compute_rdms on 2025 x 290,400 float32 and float64 (AlexNet-size
   conv1 for the paper's 2025 images: 2.2 and 4.4 GiB), in a fresh subprocess, as a multiple
   of the input's size.

Usage: python benchmarks/bench_compute_rdms.py [--repeats 3] [--quick] [--skip-memory]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits


def median_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def speed(n_stimuli, n_units, repeats):
    import rsatoolbox

    from rsa_mirror import compute_rdms

    rng = np.random.default_rng(0)
    activations = rng.standard_normal((n_stimuli, n_units), dtype=np.float32) * rng.uniform(0.1, 3, n_units).astype(
        np.float32
    )
    zscored = (activations - activations.mean(0)) / activations.std(0)  # rsatoolbox gets z-scored input (untimed)
    ours_s, ours = median_time(lambda: compute_rdms({"layer": activations}), repeats)
    rsat_s, theirs = median_time(
        lambda: rsatoolbox.rdm.calc_rdm(rsatoolbox.data.Dataset(zscored), method="correlation"), repeats
    )
    bare_s, _ = median_time(lambda: zscored @ zscored.T, repeats)
    difference = float(np.abs(ours.dissimilarities[0] - theirs.dissimilarities[0]).max())
    print(f"speed, {n_stimuli} x {n_units} float32, median of {repeats}:")
    print(f"  rsatoolbox calc_rdm(correlation)   {rsat_s:8.3f} s")
    print(f"  rsa_mirror compute_rdms            {ours_s:8.3f} s   {rsat_s / ours_s:6.1f}x faster than rsatoolbox")
    print(
        f"  bare float32 Z @ Z.T (BLAS floor)  {bare_s:8.3f} s   {rsat_s / bare_s:6.1f}x"
        " (the most any exact method gets)"
    )
    print(f"  max |difference| from rsatoolbox: {difference:.2e}")


def memory_child(n_stimuli, n_units, dtype):
    """Runs in a fresh process: peak RSS of compute_rdms relative to its input."""
    from rsa_mirror import compute_rdms

    def peak_bytes():
        # VmHWM is this process's own peak (ru_maxrss would carry the parent's across exec).
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))

    baseline = peak_bytes()
    activations = np.empty((n_stimuli, n_units), dtype=dtype)
    np.random.default_rng(0).standard_normal(dtype=dtype, out=activations)  # filled in place
    with_input = peak_bytes()
    start = time.perf_counter()
    compute_rdms({"conv1": activations})
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "input": activations.nbytes,
                "baseline": baseline,
                "with_input": with_input,
                "peak": peak_bytes(),
                "seconds": seconds,
            }
        )
    )


def memory(n_stimuli, n_units, dtype):
    command = [sys.executable, __file__, "--memory-child", str(n_stimuli), str(n_units), dtype]
    result = json.loads(
        subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    )
    gib = 2**30
    print(f"peak memory, {n_stimuli} x {n_units} {dtype} ({result['input'] / gib:.2f} GiB input), fresh process:")
    print(f"  interpreter + imports before the input {result['baseline'] / gib:6.2f} GiB")
    print(
        f"  peak resident memory                   {result['peak'] / gib:6.2f} GiB"
        f" = {result['peak'] / result['input']:.3f}x the input"
    )
    print(f"  added by compute_rdms                  {(result['peak'] - result['with_input']) / 2**20:6.0f} MiB")
    print(f"  compute_rdms time                      {result['seconds']:6.1f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    with threadpool_limits(1):
        if args.memory_child:
            n_stimuli, n_units, dtype = args.memory_child
            memory_child(int(n_stimuli), int(n_units), np.dtype(dtype).type)
            return
        blas = [(i["internal_api"], i.get("architecture"), i["num_threads"]) for i in threadpool_info()]
        print(f"BLAS (limited to 1 thread): {blas}")
        if not args.skip_memory:
            for dtype in ("float32", "float64"):
                memory(*((500, 20_000) if args.quick else (2025, 290_400)), dtype)
        speed(*((200, 4000) if args.quick else (1000, 43_264)), args.repeats)


if __name__ == "__main__":
    main()
