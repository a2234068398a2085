"""Bootstrap model-brain comparison, noise ceilings and Shapley decomposition (issue 4)."""

import numpy as np
import pytest
from rsatoolbox.data import Dataset
from rsatoolbox.rdm import RDMs, compare
from scipy.stats import rankdata

from neural_data import simulate_face_patches
from rsa_mirror import compute_rdms
from rsa_mirror.errors import InvalidArgumentError
from rsa_mirror.inference import bootstrap_compare, leave_one_out_ceiling, split_half_ceiling
from rsa_mirror.shapley import (
    SHARE_MIN_ABS_R,
    ShapleyResult,
    flip_group_components,
    mirror_components,
    shapley_decomposition,
    shapley_weights,
)


def random_rdms(rng, n_stimuli, n_rdms, prefix, shared=1.0):
    common = rng.standard_normal((n_stimuli, 12))
    return compute_rdms({f"{prefix}{k}": shared * common + rng.standard_normal((n_stimuli, 12)) for k in range(n_rdms)})


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(3)
    return random_rdms(rng, 24, 4, "layer"), random_rdms(rng, 24, 2, "patch")


def loop_reference(models, brains, indices, method, keep_self_pairs=False):
    """Plain per-sample, per-pair loop over the expanded resampled matrices."""
    m, b = models.get_matrices(), brains.get_matrices()
    i, j = np.triu_indices(m.shape[1], 1)
    out = np.empty((len(b), len(m), len(indices)))
    for s, sample in enumerate(indices):
        keep = np.ones(len(i), bool) if keep_self_pairs else sample[i] != sample[j]
        rows, cols = sample[i][keep], sample[j][keep]
        for k in range(len(b)):
            for n in range(len(m)):
                x, y = m[n][rows, cols], b[k][rows, cols]
                if method == "spearman":
                    x, y = rankdata(x), rankdata(y)
                out[k, n, s] = np.corrcoef(x, y)[0, 1]
    return out


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_bootstrap_equals_plain_loop_and_rsatoolbox(pair, method):
    models, brains = pair
    result = bootstrap_compare(models, brains, n_bootstrap=60, method=method, random_state=0)
    assert result.samples.shape == (2, 4, 60) and result.indices.shape == (60, 24)
    np.testing.assert_allclose(result.samples, loop_reference(models, brains, result.indices, method), atol=1e-12)
    toolbox = np.stack(
        [
            compare(
                models.subsample_pattern("index", idx),
                brains.subsample_pattern("index", idx),
                {"pearson": "corr", "spearman": "spearman"}[method],
            ).T
            for idx in result.indices
        ],
        axis=-1,
    )
    np.testing.assert_allclose(result.samples, toolbox, atol=1e-12)
    all_stimuli = compare(models, brains, {"pearson": "corr", "spearman": "spearman"}[method]).T
    np.testing.assert_allclose(result.estimate, all_stimuli, atol=1e-12)
    cell = result.summary().iloc[1, 2]  # brain 1, model 2: "r ± SD [low, high]"
    low, high = np.percentile(result.samples[1, 2], [2.5, 97.5])
    sd = np.std(result.samples[1, 2], ddof=1)
    assert cell == f"{all_stimuli[1, 2]:.3f} ± {sd:.3f} [{low:.3f}, {high:.3f}]"


def test_tau_a_is_rsatoolbox_on_the_same_resamples(pair):
    models, brains = pair
    result = bootstrap_compare(models, brains, n_bootstrap=5, method="tau-a", random_state=1)
    for s, idx in enumerate(result.indices):
        expected = compare(models.subsample_pattern("index", idx), brains.subsample_pattern("index", idx), "tau-a")
        np.testing.assert_allclose(result.samples[:, :, s], expected.T, atol=1e-12)


def test_replay_seeds_and_jobs_reproduce_bit_for_bit(pair):
    models, brains = pair
    first = bootstrap_compare(models, brains, n_bootstrap=50, random_state=7)
    again = bootstrap_compare(models, brains, n_bootstrap=50, random_state=7, n_jobs=2)
    replay = bootstrap_compare(models, brains, indices=first.indices)
    other = bootstrap_compare(models, brains, n_bootstrap=50, random_state=8)
    assert np.array_equal(first.samples, again.samples) and np.array_equal(first.indices, again.indices)
    assert np.array_equal(first.samples, replay.samples)
    assert not np.array_equal(first.indices, other.indices)
    frame = first.to_frame()
    assert list(frame.columns[:4]) == ["brain", "model", "estimate", "mean"]
    row = frame[(frame.brain == "patch1") & (frame.model == "layer2")].iloc[0]
    assert row["std"] == pytest.approx(first.samples[1, 2].std(ddof=1))
    assert row["ci_low"] == pytest.approx(np.percentile(first.samples[1, 2], 2.5))


def test_self_pairs_would_inflate_unrelated_rdms():
    rng = np.random.default_rng(0)
    models, brains = random_rdms(rng, 30, 1, "m", shared=0.0), random_rdms(rng, 30, 1, "b", shared=0.0)
    result = bootstrap_compare(models, brains, n_bootstrap=200, random_state=0)
    kept = loop_reference(models, brains, result.indices, "pearson", keep_self_pairs=True)
    assert abs(result.samples.mean()) < 0.05  # unrelated RDMs stay near 0 ...
    assert kept.mean() > result.samples.mean() + 0.2  # ... but the zeros of copied stimuli inflate r


def test_bad_input_is_refused(pair):
    models, brains = pair
    with pytest.raises(ValueError, match="24 stimuli and brain RDMs 10"):
        bootstrap_compare(models, random_rdms(np.random.default_rng(0), 10, 1, "x"))
    with pytest.raises(
        InvalidArgumentError, match=r"Invalid value for .indices.: stimulus numbers must lie in \[0, 23\]"
    ):
        bootstrap_compare(models, brains, indices=np.full((2, 24), 24))
    reordered = RDMs(
        brains.get_vectors(),
        pattern_descriptors={"view_deg": np.arange(24.0)[::-1]},
        rdm_descriptors={"name": ["a", "b"]},
    )
    shuffled = RDMs(models.get_vectors(), pattern_descriptors={"view_deg": np.arange(24.0)})
    with pytest.raises(ValueError, match="stimulus order differs.*'view_deg' of stimulus 0"):
        bootstrap_compare(shuffled, reordered)
    vectors = brains.get_vectors().copy()
    vectors[1, 5] = np.nan
    with pytest.raises(ValueError, match=r"NaN or Inf in RDM\(s\) \[1\]"):
        bootstrap_compare(models, RDMs(vectors))


def gaussian_population(rng, cholesky, n_neurons):
    return cholesky @ rng.standard_normal((len(cholesky), n_neurons))


def test_split_half_ceiling_matches_known_reliability():
    """Neurons i.i.d. across units, N(0, Sigma) across 40 stimuli; 400 neurons.

    Ground truth: the correlation between the RDMs of two independent 400-neuron populations
    (20 replicates). Analytical: R = V / (V + mean (1 - rho^2)^2 / N) with V the variance over
    cells of the true pattern correlations rho (of the stimulus-centred Sigma, as z-scoring
    centres each unit), Fisher's large-N error variance of r and errors taken as independent;
    it neglects the correlation of errors sharing a stimulus, so it is looser (about +0.04 here).
    The upper bound is checked against the correlation of a population RDM with the true RDM.
    """
    rng = np.random.default_rng(0)
    n, n_neurons = 40, 400
    latent = rng.standard_normal((n, 3))
    sigma = np.eye(n) + 0.15 * latent @ latent.T / 3
    sigma /= np.sqrt(np.outer(np.diag(sigma), np.diag(sigma)))
    centred = (np.eye(n) - 1 / n) @ sigma @ (np.eye(n) - 1 / n)
    rho = (centred / np.sqrt(np.outer(np.diag(centred), np.diag(centred))))[np.triu_indices(n, 1)]
    analytic = rho.var() / (rho.var() + np.mean((1 - rho**2) ** 2) / n_neurons)
    cholesky = np.linalg.cholesky(sigma)
    replicates, to_truth = [], []
    for _ in range(20):
        a, b = compute_rdms({k: gaussian_population(rng, cholesky, n_neurons) for k in "ab"}).dissimilarities
        replicates.append(np.corrcoef(a, b)[0, 1])
        to_truth.append(np.corrcoef(a, 1 - rho)[0, 1])
    ceilings = [
        split_half_ceiling(
            gaussian_population(rng, cholesky, n_neurons), n_splits=20, random_state=k, normalize="zscore"
        )
        for k in range(8)
    ]
    lower = np.mean([c.lower for c in ceilings])
    upper = np.mean([c.upper for c in ceilings])
    assert lower == pytest.approx(np.mean(replicates), abs=0.04)
    assert lower == pytest.approx(analytic, abs=0.07)
    assert upper == pytest.approx(np.mean(to_truth), abs=0.04)
    assert 0 < ceilings[0].lower_std < 0.1 and ceilings[0].reliability.shape == (20,)


def test_ceiling_within_resamples_replays_the_same_splits():
    rng = np.random.default_rng(2)
    data = Dataset(rng.standard_normal((15, 3)) @ rng.standard_normal((3, 40)) + rng.standard_normal((15, 40)))
    indices = rng.integers(0, 15, (6, 15))
    result = split_half_ceiling(data, n_splits=5, random_state=4, indices=indices)
    assert result.samples.shape == (6,)
    split_rng = np.random.default_rng(4)
    orders = [split_rng.permutation(40) for _ in range(5)]
    i, j = np.triu_indices(15, 1)
    for s, sample in enumerate(indices):
        keep = sample[i] != sample[j]
        corrected = []
        for order in orders:
            halves = {"a": data.measurements[:, order[:20]], "b": data.measurements[:, order[20:]]}
            halves = compute_rdms(halves, normalize="none")  # plain RDMs: resampled cells = recomputed
            a, b = halves.get_matrices()
            r = np.corrcoef(a[sample[i][keep], sample[j][keep]], b[sample[i][keep], sample[j][keep]])[0, 1]
            corrected.append(2 * r / (1 + r))
        assert result.samples[s] == pytest.approx(np.mean(corrected), abs=1e-12)
    summary = result.summary().iloc[0]
    assert summary["lower"] == result.reliability.mean() and summary["upper"] <= 1


def test_leave_one_out_ceiling_goes_through_rsatoolbox():
    rng = np.random.default_rng(5)
    sessions = random_rdms(rng, 20, 4, "session", shared=2.0)
    lower, upper = leave_one_out_ceiling(sessions)
    vectors = sessions.get_vectors()
    vectors = (vectors - vectors.mean(1, keepdims=True)) / vectors.std(1, keepdims=True)  # pooled as rsatoolbox does
    others = [np.corrcoef(vectors[k], np.delete(vectors, k, 0).mean(0))[0, 1] for k in range(4)]
    assert lower == pytest.approx(np.mean(others), abs=1e-10)
    assert upper > lower
    with pytest.raises(ValueError, match="at least 2 RDMs"):
        leave_one_out_ceiling(sessions[0])


# -- Shapley ---------------------------------------------------------------------------------


def test_shapley_weights_closed_forms():
    two = shapley_weights(2)  # phi_1 = (v1 + v12 - v2) / 2
    np.testing.assert_allclose(two, [[-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5], [0.5, 0.5]])
    for n in (3, 4):
        weights = shapley_weights(n)
        np.testing.assert_allclose(weights.sum(axis=1)[1:-1], 0, atol=1e-15)  # efficiency
        assert weights[-1].sum() == pytest.approx(1.0)


def test_shapley_values_sum_to_the_full_correlation_in_every_resample(pair):
    rng = np.random.default_rng(1)
    _, brains = pair
    f_x, f_gx = rng.standard_normal((24, 30)), rng.standard_normal((24, 30))
    components = {"fc": mirror_components(f_x, f_gx), "conv": mirror_components(f_x[:, :20] ** 2, f_gx[:, :20])}
    result = shapley_decomposition(components, brains, n_bootstrap=40, random_state=0)
    models = compute_rdms({"fc": f_x, "conv": f_x[:, :20] ** 2}, normalize="none")  # Figure 6's RDMs
    full = bootstrap_compare(models, brains, indices=result.indices)
    np.testing.assert_allclose(result.values.sum(axis=-1), full.estimate, atol=1e-12)
    np.testing.assert_allclose(result.full, full.estimate, atol=1e-12)
    np.testing.assert_allclose(result.samples.sum(axis=2), full.samples, atol=1e-12)
    assert result.values.shape == (2, 2, 2) and result.samples.shape == (2, 2, 2, 40)
    frame = result.to_frame()
    assert set(frame.component) == {"invariant", "sensitive"} and len(frame) == 8
    summary = result.summary()
    np.testing.assert_allclose(summary.invariant + summary.sensitive, full.estimate.ravel(), atol=1e-12)
    defined = summary.full.abs() >= SHARE_MIN_ABS_R
    np.testing.assert_allclose((summary.invariant_share + summary.sensitive_share)[defined], 1, atol=1e-9)
    assert summary.invariant_share[~defined].isna().all() and (summary.share_note[~defined] != "").all()


def test_shares_are_nan_with_a_note_where_r_is_near_zero():
    """Parts of +0.2 and -0.195 around r = 0.005 are not 'shares' of +40 and -39."""
    values = np.array([[[0.2, -0.195], [0.3, 0.1]]])
    result = ShapleyResult(
        values=values,
        full=values.sum(axis=-1),
        samples=None,
        indices=None,
        brain_names=["AM"],
        layer_names=["conv1", "fc6"],
        component_names=["invariant", "sensitive"],
        degenerate=np.zeros((2, 4), dtype=bool),
    )
    summary = result.summary()
    assert np.isnan(summary.loc[0, ["invariant_share", "sensitive_share"]].astype(float)).all()
    assert summary.loc[0, "share_note"] == f"|r| < {SHARE_MIN_ABS_R:g}: shares undefined"
    np.testing.assert_allclose(summary.loc[1, ["invariant_share", "sensitive_share"]].astype(float), [0.75, 0.25])
    assert summary.loc[1, "share_note"] == ""
    np.testing.assert_allclose(summary.invariant + summary.sensitive, [0.005, 0.4])


def test_four_component_shapley_equals_shap_exact_explainer():
    shap = pytest.importorskip("shap")
    rng = np.random.default_rng(2)
    images = [rng.standard_normal((16, 25)) for _ in range(4)]
    components = {"layer": flip_group_components(*images)}
    np.testing.assert_allclose(sum(components["layer"].values()), images[0], atol=1e-12)
    brains = compute_rdms({"patch": rng.standard_normal((16, 25)) + images[0]})
    result = shapley_decomposition(components, brains)
    names = list(components["layer"])
    brain = brains.get_vectors()[0]

    def value(masks):  # the coalition game on 0/1 masks of the four components
        out = []
        for mask in np.atleast_2d(masks):
            if not mask.any():
                out.append(0.0)
                continue
            total = sum(components["layer"][c] for c, keep in zip(names, mask, strict=True) if keep)
            rdm = compute_rdms({"x": total}, normalize="none")  # Figure 6's RDMs, Shapley's default
            out.append(np.corrcoef(rdm.get_vectors()[0], brain)[0, 1])
        return np.array(out)

    explainer = shap.explainers.Exact(value, shap.maskers.Independent(np.zeros((1, 4))))
    expected = explainer(np.ones((1, 4))).values[0]
    np.testing.assert_allclose(result.values[0, 0], expected, atol=1e-10)


def test_reflection_invariant_activations_have_no_sensitive_share(pair):
    rng = np.random.default_rng(3)
    _, brains = pair
    f = rng.standard_normal((24, 30))
    result = shapley_decomposition({"fc": mirror_components(f, f + 1e-9)}, brains, n_bootstrap=10, random_state=0)
    assert result.degenerate[0].tolist() == [True, False, True, False]  # empty, -, sensitive, -
    np.testing.assert_allclose(result.values[:, 0, 1], 0.0, atol=1e-12)
    np.testing.assert_allclose(result.values[:, 0, 0], result.full[:, 0], atol=1e-12)
    assert np.isfinite(result.samples).all()


def test_brain_built_from_the_sensitive_part_is_explained_by_it():
    rng = np.random.default_rng(4)
    f_x, f_gx = rng.standard_normal((30, 40)), rng.standard_normal((30, 40))
    parts = mirror_components(f_x, f_gx)
    brains = compute_rdms({"sensitive brain": parts["sensitive"]})
    result = shapley_decomposition({"layer": parts}, brains)
    invariant, sensitive = result.values[0, 0]
    # the sensitive part takes all of the correlation (and more: the invariant part only adds
    # unrelated structure to the full RDM, so its marginal contribution is negative)
    assert sensitive / result.full[0, 0] > 0.9 and sensitive > invariant + 0.5


def test_simulated_patches_split_as_their_tuning_says():
    """Model: a simulated population (all three patches, another seed) with f(g(x)) its responses
    to yaw -> -yaw. AL (mirror-symmetric) and AM (view-invariant) are explained by the invariant
    part; MLMF (view-specific) needs a clear sensitive share."""
    brain = simulate_face_patches(random_state=0)
    model = simulate_face_patches(random_state=1, n_neurons=200)
    f_x = np.hstack([model[p].measurements for p in model.patches])
    yaw, identity = model["AL"].obs_descriptors["view_deg"], model["AL"].obs_descriptors["identity"]
    mirror = [np.flatnonzero((yaw == -v) & (identity == i))[0] for v, i in zip(yaw, identity, strict=True)]
    components = {"population": mirror_components(f_x, f_x[mirror])}
    result = shapley_decomposition(components, compute_rdms(brain))
    share = dict(zip(result.brain_names, result.values[:, 0, 1] / result.full[:, 0], strict=True))
    assert share["AL"] < 0.1 and share["AM"] < 0.1
    assert share["MLMF"] > 0.25


def test_a_dask_cluster_runs_the_resamples_through_joblib(pair):
    distributed = pytest.importorskip("distributed")
    joblib = pytest.importorskip("joblib")
    models, brains = pair
    expected = bootstrap_compare(models, brains, n_bootstrap=600, random_state=0)  # 3 tasks of 250
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client, joblib.parallel_config(backend="dask"):
        with distributed.get_task_stream(client) as stream:
            result = bootstrap_compare(models, brains, n_bootstrap=600, random_state=0, n_jobs=2)
        workers = {task["worker"] for task in stream.data}
    assert len(workers) >= 1 and len(stream.data) >= 2  # the chunks ran as tasks on the cluster
    assert np.array_equal(result.samples, expected.samples)
