"""Invariants that define the methods, as property tests (hypothesis), on small random data.

Data are drawn from seeded numpy generators whose seed, sizes and parameters hypothesis
chooses, so every example is a well-posed problem (continuous values, units that vary).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import squareform

from rsa_mirror import compute_rdms
from rsa_mirror.inference import bootstrap_compare, split_half_ceiling
from rsa_mirror.shapley import shapley_decomposition
from rsa_mirror.symmetry import msvt_index

SETTINGS = settings(max_examples=30, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def view_rdm(seed, n_views):
    """A correlation-distance view RDM of a random population (zero diagonal, symmetric)."""
    patterns = np.random.default_rng(seed).standard_normal((n_views, 10))
    return 1 - np.corrcoef(patterns)


@SETTINGS
@given(seed=seeds, n_views=st.integers(3, 9))
def test_index_ignores_the_direction_of_the_view_order(seed, n_views):
    rdm = view_rdm(seed, n_views)
    assert msvt_index(rdm[::-1, ::-1]) == pytest.approx(msvt_index(rdm), abs=1e-12)


@SETTINGS
@given(
    seed=seeds,
    n_views=st.integers(3, 9),
    scale=st.floats(1e-3, 1e3),
    offset=st.floats(-5, 5),
)
def test_index_ignores_affine_rescaling(seed, n_views, scale, offset):
    """Pearson r of D and its reflection is unchanged by a D + b (a > 0), every cell alike."""
    rdm = view_rdm(seed, n_views)
    assert msvt_index(scale * rdm + offset) == pytest.approx(msvt_index(rdm), abs=1e-8)


def population(seed, n_stimuli, n_units):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_stimuli, 3)) @ rng.standard_normal((3, n_units)) + rng.standard_normal(
        (n_stimuli, n_units)
    )


@SETTINGS
@given(
    seed=seeds,
    n_stimuli=st.integers(3, 10),
    n_units=st.integers(2, 12),
    log_scale=st.floats(-3, 3),
    shift=st.floats(-1e3, 1e3),
)
def test_rdms_ignore_unit_shift_scale_and_order(seed, n_stimuli, n_units, log_scale, shift):
    x = population(seed, n_stimuli, n_units)
    rng = np.random.default_rng(seed + 1)
    scales = 10.0 ** (log_scale + rng.uniform(-1, 1, n_units))  # positive, per unit
    shifts = shift * rng.uniform(-1, 1, n_units)
    reference = compute_rdms({"x": x}).dissimilarities
    transformed = compute_rdms({"x": x * scales + shifts}).dissimilarities
    permuted = compute_rdms({"x": x[:, rng.permutation(n_units)]}).dissimilarities
    np.testing.assert_allclose(transformed, reference, atol=1e-9)
    np.testing.assert_allclose(permuted, reference, atol=1e-12)


@SETTINGS
@given(seed=seeds, n_stimuli=st.integers(3, 10), n_units=st.integers(2, 12))
def test_permuting_stimuli_permutes_the_rdm(seed, n_stimuli, n_units):
    x = population(seed, n_stimuli, n_units)
    order = np.random.default_rng(seed + 2).permutation(n_stimuli)
    matrix = squareform(compute_rdms({"x": x}).dissimilarities[0])
    permuted = squareform(compute_rdms({"x": x[order]}).dissimilarities[0])
    np.testing.assert_allclose(permuted, matrix[order][:, order], atol=1e-12)


def rdms(seed, n_stimuli, n_rdms, prefix):
    return compute_rdms({f"{prefix}{k}": population(seed + k, n_stimuli, 6) for k in range(n_rdms)})


@SETTINGS
@given(
    seed=seeds,
    n_stimuli=st.integers(4, 12),
    n_bootstrap=st.integers(2, 40),
    method=st.sampled_from(["pearson", "spearman"]),
)
def test_replaying_the_indices_reproduces_the_samples_exactly(seed, n_stimuli, n_bootstrap, method):
    models, brains = rdms(seed, n_stimuli, 2, "layer"), rdms(seed + 100, n_stimuli, 2, "patch")
    drawn = bootstrap_compare(models, brains, n_bootstrap=n_bootstrap, method=method, random_state=seed)
    replayed = bootstrap_compare(models, brains, indices=drawn.indices, method=method)
    assert np.array_equal(replayed.samples, drawn.samples) and np.array_equal(replayed.estimate, drawn.estimate)


def components(seed, n_stimuli, names):
    return {"layer": {name: population(seed + k, n_stimuli, 5) for k, name in enumerate(names)}}


@SETTINGS
@given(seed=seeds, n_stimuli=st.integers(5, 10), n_bootstrap=st.sampled_from([0, 3]))
def test_shapley_values_sum_to_the_full_correlation(seed, n_stimuli, n_bootstrap):
    brain = rdms(seed + 50, n_stimuli, 2, "patch")
    result = shapley_decomposition(
        components(seed, n_stimuli, "abc"), brain, n_bootstrap=n_bootstrap, random_state=seed
    )
    full_rdm = compute_rdms({"layer": sum(components(seed, n_stimuli, "abc")["layer"].values())}, normalize="none")
    np.testing.assert_allclose(result.values.sum(axis=-1), result.full, atol=1e-12)
    full = bootstrap_compare(full_rdm, brain, n_bootstrap=2, random_state=0).estimate  # computed on its own
    np.testing.assert_allclose(result.full, full, atol=1e-12)
    if n_bootstrap:
        replay = bootstrap_compare(full_rdm, brain, indices=result.indices).samples
        np.testing.assert_allclose(result.samples.sum(axis=2), replay, atol=1e-12)


@SETTINGS
@given(seed=seeds, n_stimuli=st.integers(5, 10))
def test_shapley_values_are_symmetric_in_the_components(seed, n_stimuli):
    """Swapping two components in the mapping swaps their values and leaves the third's."""
    brain = rdms(seed + 50, n_stimuli, 1, "patch")
    parts = components(seed, n_stimuli, "abc")["layer"]
    forward = shapley_decomposition({"layer": parts}, brain).values[0, 0]
    swapped = shapley_decomposition({"layer": {k: parts[k] for k in "bac"}}, brain).values[0, 0]
    np.testing.assert_allclose(swapped, forward[[1, 0, 2]], atol=1e-12)


@SETTINGS
@given(seed=seeds, n_stimuli=st.integers(5, 10))
def test_a_null_component_is_worth_nothing(seed, n_stimuli):
    """An all-zero component gets 0 and leaves the others' values as they were."""
    brain = rdms(seed + 50, n_stimuli, 2, "patch")
    parts = components(seed, n_stimuli, "ab")["layer"]
    without = shapley_decomposition({"layer": parts}, brain).values
    with_null = shapley_decomposition({"layer": {**parts, "null": np.zeros_like(parts["a"])}}, brain).values
    np.testing.assert_allclose(with_null[..., 2], 0.0, atol=1e-12)
    np.testing.assert_allclose(with_null[..., :2], without, atol=1e-12)


@SETTINGS
@given(seed=seeds, n_stimuli=st.integers(3, 10), n_neurons=st.integers(4, 12), signal=st.floats(0, 3))
def test_split_half_reliabilities_are_correlations(seed, n_stimuli, n_neurons, signal):
    rng = np.random.default_rng(seed)
    data = signal * rng.standard_normal((n_stimuli, 1)) * rng.standard_normal((1, n_neurons))
    data = data + rng.standard_normal((n_stimuli, n_neurons))
    indices = rng.integers(0, n_stimuli, size=(4, n_stimuli))
    result = split_half_ceiling(data, n_splits=10, random_state=seed, indices=indices)
    for values in (result.reliability, result.samples):
        assert np.all(np.isfinite(values)) and values.min() >= -1.0 and values.max() <= 1.0
