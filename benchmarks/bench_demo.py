"""Wall time and peak memory of the default study (`rsa-mirror demo`), goal under 3 minutes.

Runs the command in a fresh process (as `make demo` does, after set-up) --repeats times and
prints each wall time, the median and the child's peak resident memory. The machine's own
thread settings are kept: this is the time a user waits.

Usage: python benchmarks/bench_demo.py [--repeats 3]
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    times = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "rsa_mirror.cli", "demo", "--out", out], check=True, stdout=subprocess.DEVNULL
            )
            times.append(time.perf_counter() - start)
        print(f"demo: {times[-1]:.1f} s", flush=True)
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    print(f"median {np.median(times):.1f} s over {len(times)} runs (goal < 180 s); peak memory {peak_gib:.2f} GiB")


if __name__ == "__main__":
    main()
