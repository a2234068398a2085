"""Rendering speed of the paper's full stimulus set (9 categories x 25 exemplars x 9 views,
227 x 227, 2x supersampling), on this machine's CPU, numba rasterizer; the set's build time
and the numba compile time are reported apart.

Usage: python benchmarks/bench_render.py [--exemplars 25]
"""

import argparse
import time

import numpy as np

from rsa_mirror.stimuli import CATEGORIES, PAPER_VIEWS_DEG, build_object, render_mesh, render_objects


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exemplars", type=int, default=25)
    args = parser.parse_args()
    start = time.perf_counter()
    render_mesh(build_object("car", np.random.default_rng(0)), 0.0, size=16)  # compile (or load the cache)
    print(f"numba compile or cache load: {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    stimuli = render_objects(n_exemplars=args.exemplars, random_state=0)
    seconds = time.perf_counter() - start
    n = len(stimuli)
    print(
        f"render_objects: {n} images of {len(CATEGORIES)} categories x {args.exemplars} x {len(PAPER_VIEWS_DEG)} views"
    )
    print(f"  {seconds:.1f} s in all, {n / seconds:.1f} images/s ({1000 * seconds / n:.1f} ms per image, 227 x 227)")


if __name__ == "__main__":
    main()
