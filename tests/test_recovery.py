"""recovery_study: patches read out from a known toy layer are traced back to it by Figure 6's alignment."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from rsa_mirror._utils import seed_sequence
from rsa_mirror.errors import DataError, InvalidArgumentError, InvalidTypeError
from rsa_mirror.studies import RecoveryResult, recovery_study

N_STIMULI = 30


@pytest.fixture(scope="module")
def toy():
    """Three hand-built layers of independent random patterns (very different RDMs), and row descriptors."""
    rng = np.random.default_rng(7)
    activations = {f"layer{i}": rng.standard_normal((N_STIMULI, 40 + 10 * i)) for i in range(3)}
    mirror = {name: values[::-1].copy() for name, values in activations.items()}
    rows = {"identity": np.tile(np.arange(6), 5), "view_deg": np.repeat([-90.0, -45.0, 0.0, 45.0, 90.0], 6)}
    return activations, mirror, rows


def run(toy, **options):
    activations, mirror, rows = toy
    settings = {"source_layer": "layer1", "n_neurons": 20, "n_bootstrap": 40, "n_splits": 4, "random_state": 3}
    return recovery_study(activations, mirror, rows, **{**settings, **options})


def test_without_noise_the_source_layer_is_always_best(toy):
    for source in ("layer0", "layer2"):
        result = run(toy, source_layer=source, noise_levels=(0.0,), n_seeds=6)
        assert (result.table.best_layer == source).all()
        assert result.table.recovered.all() and result.table.not_different.all()
        summary = result.summary()
        assert summary.recovery_rate.tolist() == [1.0] and summary.n_seeds.tolist() == [6]
        assert summary.chance.iloc[0] == pytest.approx(1 / 3)


def test_under_enormous_noise_recovery_falls_to_chance(toy):
    # At 1000 x the signal SD the patch is noise, and by symmetry each of the 3 layers is best
    # with probability 1/3: over 60 seeds the rate is 1/3 +- 0.061 (binomial SD); 0.2 is 3.3 SD.
    result = run(toy, noise_levels=(1000.0,), n_seeds=60, n_bootstrap=10, n_splits=1)
    rate = result.summary().recovery_rate.iloc[0]
    assert abs(rate - 1 / 3) < 0.2
    assert result.table.best_layer.nunique() == 3


def test_r_and_best_layer_match_a_plain_recomputation_of_the_documented_patch(toy):
    activations, _, _ = toy
    result = run(toy, noise_levels=(0.5, 3.0), n_seeds=2)
    layer_rdms = {name: pdist(values, "correlation") for name, values in activations.items()}
    source = activations["layer1"]
    for seed in range(2):
        rng = np.random.default_rng(seed_sequence(3, seed, 0))
        signal = source @ (rng.standard_normal((source.shape[1], 20)) / np.sqrt(source.shape[1]))
        noise = rng.standard_normal(signal.shape)
        for level in (0.5, 3.0):
            patch = pdist(signal + level * signal.std(axis=0) * noise, "correlation")
            r = {name: np.corrcoef(rdm, patch)[0, 1] for name, rdm in layer_rdms.items()}
            row = result.table[(result.table.seed == seed) & (result.table.noise_sd == level)].iloc[0]
            assert row.r_source == pytest.approx(r["layer1"], abs=1e-10)
            assert row.best_layer == max(r, key=r.get)
            assert row.r_best == pytest.approx(max(r.values()), abs=1e-10)
            assert row.not_different == (row.recovered or row.q_source_vs_best >= 0.05)


def test_recovery_falls_with_noise_and_the_table_has_one_row_per_level_and_seed(toy):
    result = run(toy, noise_levels=(0.0, 2.0, 1000.0), n_seeds=8, n_bootstrap=20)
    assert isinstance(result, RecoveryResult) and len(result.table) == 24
    assert sorted(map(tuple, result.table[["noise_sd", "seed"]].to_numpy())) == sorted(
        (level, seed) for level in (0.0, 2.0, 1000.0) for seed in range(8)
    )
    rates = result.summary().set_index("noise_sd").recovery_rate
    assert rates[0.0] == 1.0 and rates[0.0] >= rates[2.0] >= rates[1000.0]
    assert (result.table.r_best >= result.table.r_source).all()
    assert result.layers == ["layer0", "layer1", "layer2"]


def test_a_seed_reproduces_the_table_and_another_changes_it(toy):
    first = run(toy, noise_levels=(2.0,), n_seeds=3)
    again = run(toy, noise_levels=(2.0,), n_seeds=3)
    other = run(toy, noise_levels=(2.0,), n_seeds=3, random_state=4)
    assert first.table.equals(again.table)
    assert not np.allclose(first.table.r_source, other.table.r_source)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"source_layer": "conv9"}, InvalidArgumentError, "'source_layer'"),
        ({"noise_levels": (1.0, -1.0)}, InvalidArgumentError, "'noise_levels'"),
        ({"noise_levels": ()}, InvalidArgumentError, "'noise_levels'"),
        ({"noise_levels": (np.inf,)}, InvalidArgumentError, "'noise_levels'"),
        ({"n_neurons": 3}, InvalidArgumentError, "'n_neurons'"),
        ({"n_seeds": 0}, InvalidArgumentError, "'n_seeds'"),
        ({"alpha": 1.5}, InvalidArgumentError, "'alpha'"),
        ({"n_bootstrap": 1}, InvalidArgumentError, "'n_bootstrap'"),
    ],
)
def test_bad_arguments_are_named(toy, options, error, message):
    with pytest.raises(error, match=message):
        run(toy, **{"noise_levels": (1.0,), "n_seeds": 1, **options})


def test_bad_descriptors_and_flat_layers_are_refused(toy):
    activations, mirror, rows = toy
    options = {"source_layer": "layer0", "n_neurons": 8, "n_seeds": 1, "n_bootstrap": 4, "n_splits": 1}
    with pytest.raises(InvalidTypeError, match="'descriptors'"):
        recovery_study(activations, mirror, [1, 2], **options)
    with pytest.raises(DataError, match=r"\['view_deg'\].*expected 30"):
        recovery_study(activations, mirror, {**rows, "view_deg": rows["view_deg"][:-1]}, **options)
    flat = {**activations, "layer0": np.ones((N_STIMULI, 5))}
    with pytest.raises(DataError, match="do not vary"):
        recovery_study(flat, {**mirror, "layer0": np.ones((N_STIMULI, 5))}, rows, **options)
