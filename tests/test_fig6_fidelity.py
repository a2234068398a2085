"""Figure 6 as the paper states it: plain 1 - Pearson RDMs, exact z-scored resamples, paired bootstrap tests."""

import numpy as np
import pandas as pd
import pytest
from rsatoolbox.util.inference_util import bootstrap_pair_tests, extract_variances, t_test_nc, t_tests
from scipy import stats
from scipy.spatial.distance import squareform

from matlab_bridge import load_results, save_results
from neural_data import simulate_face_patches
from rsa_mirror import compute_rdms
from rsa_mirror.errors import DataError, InvalidArgumentError
from rsa_mirror.inference import BootstrapResult, CeilingResult, bootstrap_compare, split_half_ceiling
from rsa_mirror.pair_tests import layer_pair_table
from rsa_mirror.resampling import resample_counts
from rsa_mirror.shapley import mirror_components, shapley_decomposition
from rsa_mirror.studies.figure6 import brain_alignment
from rsa_mirror.zscore_resampling import compare_zscored, zscored_sample_rdms


def sample_correlation(x_matrix, y_matrix, sample, normalize, flat_patterns="raise"):
    """Plain loop: both RDMs recomputed on the drawn rows, copies of a stimulus removed, Pearson r."""
    options = {"normalize": normalize, "flat_patterns": flat_patterns}
    x = compute_rdms({"x": x_matrix[sample]}, **options).get_matrices()[0]
    y = compute_rdms({"y": y_matrix[sample]}, **options).get_matrices()[0]
    i, j = np.triu_indices(len(sample), 1)
    keep = sample[i] != sample[j]
    return np.corrcoef(x[i[keep], j[keep]], y[i[keep], j[keep]])[0, 1]


@pytest.fixture(scope="module")
def patterns():
    rng = np.random.default_rng(7)
    n = 18
    shared = rng.standard_normal((n, 5))
    layers = {
        f"layer{k}": np.maximum(shared @ rng.standard_normal((5, 30)) + rng.standard_normal((n, 30)), 0) + 2
        for k in range(3)
    }
    layers["layer0"][:, :4] = 0.0  # units constant on every stimulus
    layers["layer0"][3, 0] = 4.0  # ... but one, constant on every resample that misses stimulus 3
    brains = {f"patch{k}": shared @ rng.standard_normal((5, 20)) + rng.standard_normal((n, 20)) + 5 for k in range(2)}
    indices = rng.integers(0, n, size=(40, n))
    return layers, brains, indices


def test_plain_rdms_are_one_minus_pearson_of_the_raw_patterns(patterns):
    layers, _, _ = patterns
    x = layers["layer1"]
    rdm = compute_rdms({"a": x}, normalize="none")
    np.testing.assert_allclose(rdm.get_matrices()[0], 1 - np.corrcoef(x), atol=1e-13)
    assert rdm.rdm_descriptors["n_units"] == [x.shape[1]]  # every unit counts, constant ones too
    zscored = compute_rdms({"a": x}).get_matrices()[0]
    z = (x - x.mean(0)) / x.std(0)
    np.testing.assert_allclose(zscored, 1 - np.corrcoef(z), atol=1e-12)
    assert np.abs(zscored - rdm.get_matrices()[0]).max() > 0.05  # the two rules differ


def test_plain_rdms_of_float32_activations_far_from_zero_are_exact():
    rng = np.random.default_rng(5)
    x = (np.maximum(rng.standard_normal((12, 3000)), 0) + 50).astype(np.float32)  # a large common part
    rdm = compute_rdms({"a": x}, normalize="none", chunk_bytes=12 * 8 * 700)  # several column chunks
    np.testing.assert_allclose(rdm.get_matrices()[0], 1 - np.corrcoef(x.astype(np.float64)), atol=1e-12)


def test_plain_rdms_flat_patterns_raise_or_are_uncorrelated():
    x = np.random.default_rng(0).standard_normal((5, 6))
    x[2] = 3.0  # the same value on every unit
    with pytest.raises(DataError, match=r"stimuli 2 have the same value on every unit"):
        compute_rdms({"a": x}, normalize="none")
    rdm = compute_rdms({"a": x}, normalize="none", flat_patterns="uncorrelated").get_matrices()[0]
    np.testing.assert_array_equal(np.delete(rdm[2], 2), 1.0)
    np.testing.assert_allclose(rdm[:2, :2], 1 - np.corrcoef(x[:2]), atol=1e-13)


def test_plain_rdms_refuse_bad_input():
    x = np.ones((5, 4))
    x[2, 1] = np.nan
    with pytest.raises(DataError, match=r"NaN or Inf at stimuli 2 and units 1"):
        compute_rdms({"a": x}, normalize="none")
    with pytest.raises(DataError, match=r"1 unit"):
        compute_rdms({"a": np.arange(5.0)[:, None]}, normalize="none")
    with pytest.raises(InvalidArgumentError, match=r"'normalize'.*zscore, none.*'unit'"):
        compute_rdms({"a": np.eye(4)}, normalize="unit")


def test_resampling_cells_of_plain_rdms_is_recomputing_them_on_the_sample(patterns):
    layers, brains, indices = patterns
    models = compute_rdms(layers, normalize="none")
    result = bootstrap_compare(models, compute_rdms(brains, normalize="none"), indices=indices)
    for s, sample in enumerate(indices):
        for b, patch in enumerate(brains):
            for m, layer in enumerate(layers):
                expected = sample_correlation(layers[layer], brains[patch], sample, "none")
                assert result.samples[b, m, s] == pytest.approx(expected, abs=1e-12)


def test_zscored_cells_resampled_are_not_the_rdms_recomputed(patterns):
    layers, brains, indices = patterns
    models, patches = compute_rdms(layers), compute_rdms(brains)
    resampled = bootstrap_compare(models, patches, indices=indices).samples
    _, recomputed = compare_zscored(layers, brains, indices, "pearson", 1)
    assert np.abs(resampled - recomputed).max() > 1e-3


def test_zscored_resample_rdms_equal_a_per_resample_loop(patterns):
    layers, _, indices = patterns
    x = layers["layer0"]
    counts = resample_counts(indices, len(x))
    got = zscored_sample_rdms("layer0", x, counts)
    for s, sample in enumerate(indices):
        expected = compute_rdms({"a": x[sample]}).get_matrices()[0]
        drawn = squareform(got[s])
        i, j = np.triu_indices(len(sample), 1)
        keep = sample[i] < sample[j]
        np.testing.assert_allclose(drawn[sample[i[keep]], sample[j[keep]]], expected[i[keep], j[keep]], atol=1e-12)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_zscored_comparison_equals_a_per_resample_loop(patterns, method):
    layers, brains, indices = patterns
    estimate, samples = compare_zscored(layers, brains, indices, method, 1)
    i, j = np.triu_indices(len(indices[0]), 1)
    for b, patch in enumerate(brains):
        for m, layer in enumerate(layers):
            full = [compute_rdms({"a": v}).get_matrices()[0][i, j] for v in (layers[layer], brains[patch])]
            corr = stats.spearmanr if method == "spearman" else stats.pearsonr
            assert estimate[b, m] == pytest.approx(corr(*full)[0], abs=1e-12)
            for s, sample in enumerate(indices[:8]):
                x = compute_rdms({"x": layers[layer][sample]}).get_matrices()[0]
                y = compute_rdms({"y": brains[patch][sample]}).get_matrices()[0]
                keep = sample[i] != sample[j]
                x, y = np.round(x, 12), np.round(y, 12)  # copies of a cell tie, as they do without rounding
                expected = corr(x[i[keep], j[keep]], y[i[keep], j[keep]])[0]
                assert samples[b, m, s] == pytest.approx(expected, abs=1e-10)


def test_zscored_float32_input_is_computed_in_float64(patterns):
    layers, _, indices = patterns
    counts = resample_counts(indices, 18)
    x = layers["layer1"]
    np.testing.assert_allclose(
        zscored_sample_rdms("a", x.astype(np.float32), counts),
        zscored_sample_rdms("a", x.astype(np.float32).astype(np.float64), counts),
        atol=1e-12,
    )


def test_zscored_ceiling_equals_a_per_resample_loop():
    rng = np.random.default_rng(2)
    responses = rng.standard_normal((14, 9)) + rng.standard_normal((14, 1)) * 2 + 3
    indices = rng.integers(0, 14, size=(12, 14))
    ceiling = split_half_ceiling(responses, n_splits=3, random_state=5, indices=indices, normalize="zscore")
    splits = np.random.default_rng(5)
    order = [splits.permutation(9) for _ in range(3)]
    for s, sample in enumerate(indices):
        values = []
        for perm in order:
            r = sample_correlation(responses[:, perm[:4]], responses[:, perm[4:]], sample, "zscore")
            values.append(2 * r / (1 + r))
        assert ceiling.samples[s] == pytest.approx(np.mean(values), abs=1e-10)
    plain = split_half_ceiling(responses, n_splits=3, random_state=5, indices=indices)
    for s, sample in enumerate(indices[:4]):
        values = [sample_correlation(responses[:, p[:4]], responses[:, p[4:]], sample, "none") for p in order]
        assert plain.samples[s] == pytest.approx(np.mean([2 * r / (1 + r) for r in values]), abs=1e-12)


def test_shapley_values_follow_the_normalize_rule(patterns):
    layers, brains, indices = patterns
    rng = np.random.default_rng(4)
    f_x = {name: v for name, v in layers.items()}
    f_gx = {name: v + rng.standard_normal(v.shape) for name, v in layers.items()}
    components = {name: mirror_components(f_x[name], f_gx[name]) for name in layers}
    plain = shapley_decomposition(components, compute_rdms(brains, normalize="none"), indices=indices)
    assert plain.normalize == "none"
    full = bootstrap_compare(
        compute_rdms(layers, normalize="none"), compute_rdms(brains, normalize="none"), indices=indices
    )
    np.testing.assert_allclose(plain.samples.sum(axis=2), full.samples, atol=1e-12)
    zscored = shapley_decomposition(components, brains, indices=indices[:6], normalize="zscore")
    # value of the invariant part alone = r of its recomputed RDM; Shapley of 2 players from the 3 values
    for m, layer in enumerate(layers):
        parts = components[layer]
        for s, sample in enumerate(indices[:6]):
            v_inv = sample_correlation(parts["invariant"], brains["patch0"], sample, "zscore", "uncorrelated")
            v_sen = sample_correlation(parts["sensitive"], brains["patch0"], sample, "zscore", "uncorrelated")
            v_all = sample_correlation(f_x[layer], brains["patch0"], sample, "zscore", "uncorrelated")
            expected = 0.5 * (v_inv + (v_all - v_sen))
            assert zscored.samples[0, m, 0, s] == pytest.approx(expected, abs=1e-10)
    with pytest.raises(InvalidArgumentError, match="brain responses"):
        shapley_decomposition(components, compute_rdms(brains), indices=indices, normalize="zscore")


def _loop_pair_tests(result, center="estimate"):
    """Plain Python loop over patches and layer pairs, the rules written out one value at a time."""
    n_resamples, n = result.samples.shape[-1], result.indices.shape[1]
    rows = []
    for b, patch in enumerate(result.brain_names):
        for i in range(len(result.model_names)):
            for j in range(i + 1, len(result.model_names)):
                d = [result.samples[b, i, s] - result.samples[b, j, s] for s in range(n_resamples)]
                below = sum(1 for v in d if v < 0)
                ties = sum(1 for v in d if v == 0)
                share = below / (n_resamples - ties)
                p = 2 * min(share, 1 - share) * (n_resamples - 1) / n_resamples + 1 / n_resamples
                mean = sum(d) / n_resamples
                sd = (sum((v - mean) ** 2 for v in d) / (n_resamples - 1)) ** 0.5
                se = sd * (n / (n - 1)) ** 0.5
                centre = result.estimate[b, i] - result.estimate[b, j] if center == "estimate" else mean
                t = centre / se
                rows.append(
                    (
                        patch,
                        p,
                        2 * stats.t.sf(abs(t), n - 1),
                        np.percentile(d, 2.5),
                        np.percentile(d, 97.5),
                        centre - stats.t.ppf(0.975, n - 1) * se,
                    )
                )
    return rows


@pytest.fixture(scope="module")
def alignment():
    recordings = simulate_face_patches(n_identities=6, random_state=1)
    rng = np.random.default_rng(0)
    n = len(next(iter(recordings.values())).measurements)
    base = {k: v.measurements for k, v in recordings.items()}
    activations = {
        "conv": np.maximum(base["MLMF"] @ rng.standard_normal((120, 50)), 0),
        "fc6": base["AL"] @ rng.standard_normal((60, 40)) + 0.5 * rng.standard_normal((n, 40)),
        "fc7": base["AL"] @ rng.standard_normal((60, 40)) + 2 * rng.standard_normal((n, 40)),
        "fc8": rng.standard_normal((n, 30)),
    }
    mirror = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in activations.items()}
    return brain_alignment(activations, mirror, recordings, n_bootstrap=200, n_splits=5, random_state=3)


def test_pair_tests_equal_a_plain_loop(alignment):
    table = alignment.pair_tests()
    comparison = alignment.comparison
    for center in ("estimate", "mean"):
        table = comparison.pair_tests(center=center)
        loop = _loop_pair_tests(comparison, center=center)
        assert len(table) == len(loop) == 3 * 6
        for row, (patch, p, p_t, low, high, t_low) in zip(table.itertuples(), loop, strict=True):
            assert row.patch == patch
            assert row.p == pytest.approx(p, abs=1e-12)
            assert row.p_t == pytest.approx(p_t, rel=1e-9, abs=1e-300)
            assert (row.ci_low, row.ci_high, row.t_low) == pytest.approx((low, high, t_low), abs=1e-12)
    for patch in comparison.brain_names:  # q: Benjamini-Hochberg over the 6 pairs of each patch
        rows = table[table.patch == patch]
        p = rows.p.to_numpy()
        order = np.argsort(p)
        q = np.minimum.accumulate((p[order] * len(p) / np.arange(1, len(p) + 1))[::-1])[::-1]
        np.testing.assert_allclose(rows.q.to_numpy()[order], np.minimum(q, 1), atol=1e-12)


def test_pair_tests_are_rsatoolbox_on_the_same_samples(alignment):
    comparison = alignment.comparison
    n = comparison.indices.shape[1]
    table = comparison.pair_tests(center="mean")
    ceiling_table = comparison.ceiling_tests(center="mean")
    for b, patch in enumerate(comparison.brain_names):
        evaluations = comparison.samples[b].T  # (n_resamples, n_layers), rsatoolbox's layout
        a, c = np.triu_indices(evaluations.shape[1], 1)
        rows = table[table.patch == patch]
        np.testing.assert_allclose(rows.p, bootstrap_pair_tests(evaluations)[a, c], atol=1e-12)
        _, diff_var, _ = extract_variances(np.cov(evaluations.T), nc_included=False, n_pattern=n)
        np.testing.assert_allclose(rows.p_t, t_tests(evaluations, diff_var, dof=n - 1)[a, c], atol=1e-9)
        ceiling = comparison.ceilings[patch]
        noise = np.stack([ceiling.samples, ceiling.samples])  # lower and (unused) upper bound per resample
        variances = np.cov(np.concatenate([evaluations.T, noise]))
        _, _, nc_var = extract_variances(variances, nc_included=True, n_pattern=n)
        expected = t_test_nc(evaluations, nc_var[:, 0], ceiling.samples.mean(), dof=n - 1)
        np.testing.assert_allclose(ceiling_table[ceiling_table.patch == patch].p_t, expected, atol=1e-9)
        with_ceiling = np.column_stack([evaluations, ceiling.samples])
        expected = bootstrap_pair_tests(with_ceiling)[:-1, -1]
        np.testing.assert_allclose(ceiling_table[ceiling_table.patch == patch].p, expected, atol=1e-12)


def test_identical_layers_have_p_one_and_tests_need_two_resamples():
    samples = np.random.default_rng(0).standard_normal((1, 1, 50))
    result = BootstrapResult(
        estimate=np.zeros((1, 2)),
        samples=np.repeat(samples, 2, axis=1),
        indices=np.zeros((50, 6), dtype=int),
        brain_names=["p"],
        model_names=["a", "b"],
        method="pearson",
    )
    row = layer_pair_table(result).iloc[0]
    assert (row.p, row.q, row.difference) == (1.0, 1.0, 0.0)
    with pytest.raises(InvalidArgumentError, match="'level'"):
        layer_pair_table(result, level=1.5)
    with pytest.raises(InvalidArgumentError, match="'center'"):
        layer_pair_table(result, center="median")


def test_summary_names_the_best_layer_and_its_tests(alignment):
    summary = alignment.summary()
    table = alignment.pair_tests()
    ceilings = alignment.ceiling_tests()
    assert set(summary.normalize) == {"none"}
    for patch, rows in summary.groupby("patch", sort=False):
        ranked = rows.sort_values("estimate", ascending=False)
        best, runner_up = ranked.layer.iloc[0], ranked.layer.iloc[1]
        assert rows.best.sum() == 1 and rows[rows.best].layer.iloc[0] == best
        pair = table[
            (table.patch == patch) & table.layer_a.isin([best, runner_up]) & table.layer_b.isin([best, runner_up])
        ]
        top = rows[rows.best].iloc[0]
        assert top.vs_best == pytest.approx(ranked.estimate.iloc[0] - ranked.estimate.iloc[1])
        assert (top.p_vs_best, top.q_vs_best) == (pair.p.iloc[0], pair.q.iloc[0])
        against = ceilings[ceilings.patch == patch]
        np.testing.assert_array_equal(rows.q_vs_ceiling.to_numpy(), against.q.to_numpy())
    assert "normalize=none" in repr(alignment)
    t_summary = alignment.summary(test="t")
    assert not np.allclose(t_summary.p_vs_best, summary.p_vs_best, equal_nan=True)


def test_the_choice_round_trips_through_the_bridge(tmp_path, alignment):
    save_results(tmp_path / "a.mat", alignment)
    back = load_results(tmp_path / "a.mat")
    assert back.comparison.normalize == "none" and back.shapley.normalize == "none"
    pd.testing.assert_frame_equal(back.pair_tests(), alignment.pair_tests())
    assert isinstance(back.comparison.ceilings["AL"], CeilingResult)


def test_brain_alignment_zscore_recomputes_every_rdm_per_resample():
    recordings = simulate_face_patches(n_identities=3, random_state=1)
    rng = np.random.default_rng(0)
    n = len(recordings["AL"].measurements)
    activations = {"a": rng.standard_normal((n, 12)), "b": np.abs(rng.standard_normal((n, 10)))}
    mirror = {k: v[::-1].copy() for k, v in activations.items()}
    plain = brain_alignment(activations, mirror, recordings, n_bootstrap=6, n_splits=2, random_state=9)
    exact = brain_alignment(
        activations, mirror, recordings, n_bootstrap=6, n_splits=2, random_state=9, normalize="zscore"
    )
    np.testing.assert_array_equal(plain.comparison.indices, exact.comparison.indices)
    assert exact.comparison.normalize == "zscore" and exact.shapley.normalize == "zscore"
    brains = {k: v.measurements for k, v in recordings.items()}
    for s, sample in enumerate(exact.comparison.indices):
        for b, patch in enumerate(recordings):
            for m, layer in enumerate(activations):
                expected = sample_correlation(activations[layer], brains[patch], sample, "zscore")
                assert exact.comparison.samples[b, m, s] == pytest.approx(expected, abs=1e-10)
                expected = sample_correlation(activations[layer], brains[patch], sample, "none")
                assert plain.comparison.samples[b, m, s] == pytest.approx(expected, abs=1e-10)
    np.testing.assert_allclose(exact.shapley.samples.sum(axis=2), exact.comparison.samples, atol=1e-10)
    with pytest.raises(InvalidArgumentError, match="tau-a"):
        brain_alignment(activations, mirror, recordings, n_bootstrap=6, method="tau-a", normalize="zscore")


def test_plot_alignment_marks_the_best_layer_and_those_not_below_it(alignment):
    from rsa_mirror.vis import plot_alignment

    figure = plot_alignment(alignment.comparison)
    tests = alignment.summary()
    for b, ax in enumerate(figure.axes[: len(alignment.comparison.brain_names)]):
        rows = tests.iloc[b * 4 : (b + 1) * 4]
        lines = {line.get_label(): line for line in ax.get_lines()}
        best = lines["best layer"].get_xdata()
        tied = lines["not below best (q ≥ 0.05)"].get_xdata()
        below = lines["below best (q < 0.05)"].get_xdata()
        assert list(best) == list(np.flatnonzero(rows.best))
        assert sorted([*tied, *below]) == list(np.flatnonzero(~rows.best))
        assert list(below) == list(np.flatnonzero(~rows.best & (rows.q_vs_best < 0.05)))
    (legend,) = [ax.get_legend() for ax in figure.axes if ax.get_legend() is not None]
    labels = legend.get_texts()
    assert {"best layer", "below best (q < 0.05)"} <= {t.get_text() for t in labels}
