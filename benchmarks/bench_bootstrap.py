"""Benchmark of rsa_mirror.inference.bootstrap_compare, one BLAS thread (threadpoolctl).

125 stimuli, 20 model RDMs x 3 brain RDMs, 1000 stimulus resamples, Pearson, against:
  (a)  rsatoolbox's own bootstrap path: eval_bootstrap_pattern(ModelFixed per layer, brain RDM,
       method='corr', boot_noise_ceil=False), once per brain RDM (it averages over the data
       RDMs it is given); its own random resamples, so only its time is compared;
  (a') rsatoolbox given our resamples: per resample RDMs.subsample_pattern('index', sample) on
       both sides (self-pairs become NaN) and rsatoolbox.rdm.compare(method='corr');
  (b)  a plain NumPy loop over resamples and RDM pairs: index, drop self-pairs, np.corrcoef;
  (b') a NumPy loop over resamples only, all pairs of a resample in one np.corrcoef.
Prints medians (bootstrap_compare over --repeats runs, baselines once), the largest
difference from (a') and (b), and the ratios. Goal: >= 200x (a) and >= 40x (b).

Usage: OPENBLAS_NUM_THREADS=1 python benchmarks/bench_bootstrap.py [--n-bootstrap 1000]
"""

import argparse
import time

import numpy as np
from rsatoolbox.rdm import compare
from threadpoolctl import threadpool_limits

from rsa_mirror import compute_rdms
from rsa_mirror.inference import bootstrap_compare


def rdms(n_stimuli, n_rdms, rng, prefix):
    shared = rng.standard_normal((n_stimuli, 30))  # some common structure, as real RDMs have
    activations = {f"{prefix}{k}": shared + rng.standard_normal((n_stimuli, 30)) for k in range(n_rdms)}
    return compute_rdms(activations)


def rsatoolbox_path(models, brains, indices):
    out = np.empty((len(indices), brains.n_rdm, models.n_rdm))
    for s, sample in enumerate(indices):
        out[s] = compare(models.subsample_pattern("index", sample), brains.subsample_pattern("index", sample), "corr").T
    return out.transpose(1, 2, 0)


def rsatoolbox_bootstrap(models, brains, n_bootstrap):
    import contextlib
    import io

    from rsatoolbox.inference import eval_bootstrap_pattern
    from rsatoolbox.model import ModelFixed

    fixed = [ModelFixed(name, models.subset("name", name)) for name in models.rdm_descriptors["name"]]
    with contextlib.redirect_stderr(io.StringIO()):  # its progress bar cannot be turned off
        return [
            eval_bootstrap_pattern(fixed, brains[k], method="corr", N=n_bootstrap, boot_noise_ceil=False)
            for k in range(brains.n_rdm)
        ]


def plain_loop(models, brains, indices):
    m, b = models.get_matrices(), brains.get_matrices()
    i, j = np.triu_indices(m.shape[1], 1)
    out = np.empty((len(b), len(m), len(indices)))
    for s, sample in enumerate(indices):
        keep = sample[i] != sample[j]
        rows, cols = sample[i][keep], sample[j][keep]
        for k in range(len(b)):
            for n in range(len(m)):
                out[k, n, s] = np.corrcoef(b[k][rows, cols], m[n][rows, cols])[0, 1]
    return out


def numpy_loop(models, brains, indices):
    m, b = models.get_matrices(), brains.get_matrices()
    n = m.shape[1]
    i, j = np.triu_indices(n, 1)
    out = np.empty((len(b), len(m), len(indices)))
    for s, sample in enumerate(indices):
        keep = sample[i] != sample[j]
        rows, cols = sample[i][keep], sample[j][keep]
        x, y = m[:, rows, cols], b[:, rows, cols]
        out[:, :, s] = np.corrcoef(np.vstack([y, x]))[: len(b), len(b) :]
    return out


def timed(function, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-stimuli", type=int, default=125)
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    models, brains = rdms(args.n_stimuli, 20, rng, "layer"), rdms(args.n_stimuli, 3, rng, "patch")
    with threadpool_limits(1):
        ours, result = timed(
            lambda: bootstrap_compare(models, brains, n_bootstrap=args.n_bootstrap, random_state=0), args.repeats
        )
        indices = result.indices
        plain, by_plain = timed(lambda: plain_loop(models, brains, indices), 1)
        loop, _ = timed(lambda: numpy_loop(models, brains, indices), 1)
        replay, by_replay = timed(lambda: rsatoolbox_path(models, brains, indices), 1)
        toolbox, _ = timed(lambda: rsatoolbox_bootstrap(models, brains, args.n_bootstrap), 1)
    print(f"{args.n_stimuli} stimuli, 20 model x 3 brain RDMs, {args.n_bootstrap} resamples, Pearson, one BLAS thread")
    print(f"(a)  rsatoolbox eval_bootstrap_pattern:            {toolbox:8.3f} s")
    print(f"(a') rsatoolbox subsample_pattern + compare:       {replay:8.3f} s")
    print(f"(b)  NumPy loop over resamples x RDM pairs:        {plain:8.3f} s")
    print(f"(b') NumPy loop over resamples:                    {loop:8.3f} s")
    print(f"     bootstrap_compare:                            {ours:8.3f} s  (median of {args.repeats})")
    differences = [np.abs(result.samples - other).max() for other in (by_replay, by_plain)]
    print(f"max |difference|: vs (a') {differences[0]:.1e}, vs (b) {differences[1]:.1e}")
    print(
        f"speed-up: {toolbox / ours:.0f}x over (a) (goal 200x), {replay / ours:.0f}x over (a'), "
        f"{plain / ours:.0f}x over (b) (goal 40x), {loop / ours:.0f}x over (b')"
    )


if __name__ == "__main__":
    main()
