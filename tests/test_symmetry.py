"""The mirror-symmetric viewpoint tuning index: closed forms, a hand-computed case, ground truth
of simulated face patches."""

import numpy as np
import pandas as pd
import pytest
from rsatoolbox.rdm import RDMs
from scipy.spatial.distance import pdist, squareform

from neural_data import simulate_face_patches
from rsa_mirror import msvt_by_object, msvt_chance_level, msvt_index, summarize_msvt


def random_rdm(n, rng):
    return squareform(rng.uniform(0.2, 1.5, n * (n - 1) // 2))


def test_perfectly_mirror_symmetric_rdm_gives_one():
    """Patterns that depend on |yaw| only: D[j, k] = D[j, n-1-k] exactly."""
    rng = np.random.default_rng(0)
    yaw = np.linspace(-90, 90, 9)
    patterns_by_abs_yaw = {a: rng.standard_normal(40) for a in np.abs(yaw)}
    patterns = np.array([patterns_by_abs_yaw[a] for a in np.abs(yaw)])
    rdm = squareform(pdist(patterns, "correlation"))
    assert msvt_index(rdm) == pytest.approx(1.0, abs=1e-12)


def test_hand_computed_5x5():
    # D[j, k] = |j - k|. Without the central column, x = D[:, [0, 1, 3, 4]] and
    # y = D[:, [4, 3, 1, 0]] (rows 0 0 1 3 4 / 4 3 1 0, ...). Over the 20 cells:
    # sum x = sum y = 34 (means 1.7), sum x^2 = sum y^2 = 90, sum xy = 34, so
    # r = (34 - 20 * 1.7^2) / (90 - 20 * 1.7^2) = -23.8 / 32.2 = -17/23.
    rdm = np.abs(np.subtract.outer(np.arange(5), np.arange(5))).astype(float)
    assert msvt_index(rdm) == pytest.approx(-17 / 23, abs=1e-15)
    # An RDM of mirror-view identity for a 3-view set: views 0 and 2 identical.
    three = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    assert msvt_index(three) == pytest.approx(1.0)


@pytest.mark.parametrize("n", [3, 5, 6, 9])
def test_reversing_view_order_leaves_index_unchanged(n):
    rng = np.random.default_rng(n)
    for _ in range(20):
        rdm = random_rdm(n, rng)
        assert msvt_index(rdm[::-1, ::-1]) == pytest.approx(msvt_index(rdm), abs=1e-12)


@pytest.mark.parametrize("n", [5, 9])
def test_view_invariant_population_sits_at_chance_level(n):
    """Views that differ only by noise: the index averages -1/(n-1), i.e. -0.25 (5 views) and
    -0.125 (9 views); tolerance 0.03 for the mean over 400 objects (its SEM is about 0.007)."""
    rng = np.random.default_rng(10 + n)
    values = []
    for _ in range(400):
        identity_pattern = rng.standard_normal(200)
        views = identity_pattern + 0.3 * rng.standard_normal((n, 200))  # same for every view + noise
        values.append(msvt_index(squareform(pdist(views, "correlation"))))
    assert np.mean(values) == pytest.approx(msvt_chance_level(n), abs=0.03)
    assert abs(np.mean(values)) <= 0.3  # "near zero" on the index's scale of -1..1


def test_chance_level_closed_form_on_constant_offdiagonal():
    """All off-diagonal cells equal plus vanishing noise: r -> -1/(n-1) exactly."""
    rng = np.random.default_rng(1)
    for n in (3, 4, 5, 9, 12):
        rdm = 1.0 + 1e-9 * random_rdm(n, rng)
        np.fill_diagonal(rdm, 0.0)
        assert msvt_index(rdm) == pytest.approx(-1 / (n - 1), abs=1e-6)


def test_index_input_checks():
    rng = np.random.default_rng(2)
    rdm = random_rdm(5, rng)
    assert msvt_index(RDMs(rdm[None])) == pytest.approx(msvt_index(rdm))
    with pytest.raises(ValueError, match="takes one RDM"):
        msvt_index(RDMs(np.stack([rdm, rdm])))
    with pytest.raises(ValueError, match="square"):
        msvt_index(rdm[:, :4])
    with pytest.raises(ValueError, match="at least 3 views"):
        msvt_index(np.array([[0.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="not symmetric"):
        asymmetric = rdm.copy()
        asymmetric[0, 1] += 0.1
        msvt_index(asymmetric)
    with pytest.raises(ValueError, match="NaN"):
        msvt_index(np.where(rdm > 1, np.nan, rdm))
    with pytest.warns(RuntimeWarning, match="undefined"):
        assert np.isnan(msvt_index(np.zeros((5, 5))))


def test_ground_truth_of_simulated_patches(simulated):
    """Seed 0: AL 0.983, MLMF -0.800, AM -0.278 (chance -0.25); see docs/validation.md."""
    summary = summarize_msvt(msvt_by_object(simulated, object_key="identity"))
    assert list(summary.index) == ["MLMF", "AL", "AM"]
    assert (summary["n_objects"] == 25).all()
    assert summary.loc["AL", "msvt_mean"] > 0.7
    assert summary.loc["MLMF", "msvt_mean"] < -0.5  # view-specific tuning: anti-mirror RDM
    assert summary.loc["AM", "msvt_mean"] == pytest.approx(msvt_chance_level(5), abs=0.1)
    assert summary.loc["AL", "msvt_mean"] - summary.loc["AM", "msvt_mean"] > 1.0


def test_ground_truth_holds_across_seeds():
    for seed in range(1, 4):
        summary = summarize_msvt(msvt_by_object(simulate_face_patches(random_state=seed), object_key="identity"))
        assert summary.loc["AL", "msvt_mean"] > 0.7
        assert summary.loc["MLMF", "msvt_mean"] < -0.5
        assert abs(summary.loc["AM", "msvt_mean"] - msvt_chance_level(5)) < 0.1


def test_table_by_object_and_category():
    rng = np.random.default_rng(3)
    views = np.linspace(-90, 90, 5)
    n_objects = 6
    category = np.repeat(["symmetric", "noise"], 3)
    rows = []
    for obj in range(n_objects):
        base = rng.standard_normal(30)
        for v in views:
            if category[obj] == "symmetric":
                rows.append(base + np.cos(np.radians(v)) * np.arange(30) / 10)  # depends on |yaw| only
            else:
                rows.append(base + 0.3 * rng.standard_normal(30))
    descriptors = {
        "object": np.repeat(np.arange(n_objects), 5),
        "view_deg": np.tile(views, n_objects),
        "category": np.repeat(category, 5),
    }
    table = msvt_by_object({"layer": np.array(rows)}, descriptors=descriptors)
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["name", "n_units", "object", "category", "msvt", "views_left_out"]
    assert (table["views_left_out"] == "").all()
    assert len(table) == n_objects
    symmetric = table[table.category == "symmetric"].msvt
    assert np.allclose(symmetric, 1.0)  # cos(yaw) is mirror-symmetric: exactly reflection-invariant
    by_category = summarize_msvt(table, by=("name", "category"))
    assert by_category.loc[("layer", "symmetric"), "msvt_mean"] == pytest.approx(1.0)
    noise = table[table.category == "noise"].msvt
    assert by_category.loc[("layer", "noise"), "msvt_sem"] == pytest.approx(noise.std(ddof=1) / np.sqrt(3))
