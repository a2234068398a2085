"""The same seed gives bit-identical resamples under every joblib backend.

Serial, loky (worker processes), threading (threads of this process, which share its BLAS
thread limit) and Dask (``joblib.parallel_config(backend="dask")`` over a local cluster of
worker processes): ``bootstrap_compare``, ``shapley_decomposition`` and ``brain_alignment``,
the functions that hand resamples to joblib, must agree to the last bit.
"""

import joblib
import numpy as np
import pytest

from rsa_mirror import compute_rdms
from rsa_mirror.inference import bootstrap_compare
from rsa_mirror.shapley import mirror_components, shapley_decomposition
from rsa_mirror.studies.figure6 import brain_alignment

N_STIMULI = 60
N_BOOTSTRAP = 750  # three tasks of 250 resamples
REPEATS = 3  # the threading race showed in some runs only


def populations(rng, n_units, names):
    common = rng.standard_normal((N_STIMULI, 4))
    return {
        name: common @ rng.standard_normal((4, n_units)) + rng.standard_normal((N_STIMULI, n_units)) for name in names
    }


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    activations = populations(rng, 30, ["conv", "fc"])
    mirror = {layer: values[::-1] + 0.3 * rng.standard_normal(values.shape) for layer, values in activations.items()}
    recordings = populations(rng, 16, ["MLMF", "AL", "AM"])
    return activations, mirror, recordings


def runs(data):
    """name -> function of the data returning the arrays that must not depend on the backend."""
    activations, mirror, recordings = data
    models, brains = compute_rdms(activations), compute_rdms(recordings)
    components = {layer: mirror_components(activations[layer], mirror[layer]) for layer in activations}

    def bootstrap():
        result = bootstrap_compare(models, brains, n_bootstrap=N_BOOTSTRAP, random_state=0, n_jobs=2)
        return result.estimate, result.samples

    def spearman():
        result = bootstrap_compare(models, brains, n_bootstrap=N_BOOTSTRAP, method="spearman", random_state=0)
        return result.estimate, result.samples

    def shapley():
        result = shapley_decomposition(components, brains, n_bootstrap=N_BOOTSTRAP, random_state=0, n_jobs=2)
        return result.values, result.samples

    def alignment():
        result = brain_alignment(activations, mirror, recordings, n_bootstrap=300, n_splits=5, random_state=0)
        ceilings = [c.samples for c in result.comparison.ceilings.values()]
        return result.comparison.samples, result.shapley.samples, *ceilings

    return {"bootstrap": bootstrap, "spearman": spearman, "shapley": shapley, "alignment": alignment}


@pytest.fixture(scope="module")
def serial(data):
    with joblib.parallel_config(backend="sequential"):
        return {name: run() for name, run in runs(data).items()}


def assert_identical(expected, got):
    assert len(expected) == len(got)
    for a, b in zip(expected, got, strict=True):
        assert a.shape == b.shape and np.array_equal(a, b), f"largest difference {np.abs(a - b).max():.3g}"


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_local_backends_are_bit_identical_to_serial(data, serial, backend):
    with joblib.parallel_config(backend=backend, n_jobs=4):
        for name, run in runs(data).items():
            for _ in range(REPEATS if backend == "threading" else 1):
                assert_identical(serial[name], run())


def test_a_dask_cluster_is_bit_identical_to_serial(data, serial):
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client, joblib.parallel_config(backend="dask"):
        with distributed.get_task_stream(client) as stream:
            got = {name: run() for name, run in runs(data).items()}
        assert len(stream.data) >= 3  # the resamples ran as tasks on the cluster
    for name in serial:
        assert_identical(serial[name], got[name])
