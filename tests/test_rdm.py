"""compute_rdms and compute_view_rdms against independent computations (scipy, rsatoolbox)."""

import numpy as np
import pytest
import rsatoolbox
from rsatoolbox.data import Dataset
from scipy.spatial.distance import pdist, squareform

from rsa_mirror import compute_rdms, compute_view_rdms


def zscore_units(x):
    """Independent reference: z-score columns in float64, drop constant ones."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    keep = np.ptp(x, axis=0) > 0
    x = x[:, keep]
    return (x - x.mean(0)) / x.std(0)


def reference_rdm(x):
    return pdist(zscore_units(x), metric="correlation")


@pytest.fixture
def heterogeneous():
    """60 stimuli x 500 units with unit scales spanning 4 decades, offsets and a constant unit."""
    rng = np.random.default_rng(1)
    latent = rng.standard_normal((60, 8))
    x = latent @ rng.standard_normal((8, 500)) + 0.5 * rng.standard_normal((60, 500))
    x = x * np.logspace(-2, 2, 500) + rng.uniform(-50, 50, 500)
    x[:, 17] = 3.25
    return x


@pytest.mark.parametrize("chunk_bytes", [60 * 8, 60 * 8 * 37, 2**30])
def test_matches_scipy_on_zscored_data(heterogeneous, chunk_bytes):
    rdms = compute_rdms({"layer": heterogeneous}, chunk_bytes=chunk_bytes)
    np.testing.assert_allclose(rdms.dissimilarities[0], reference_rdm(heterogeneous), rtol=0, atol=1e-12)
    assert rdms.rdm_descriptors["n_units"] == [499]
    assert rdms.dissimilarity_measure == "correlation"
    assert rdms.dissimilarities.dtype == np.float64


def test_float32_and_float16_memmap_inputs(heterogeneous, tmp_path):
    x32 = heterogeneous.astype(np.float32)
    got = compute_rdms({"a": x32}, chunk_bytes=60 * 4 * 50).dissimilarities[0]
    np.testing.assert_allclose(got, reference_rdm(x32), atol=1e-6)

    x16 = np.memmap(tmp_path / "acts.f16", dtype=np.float16, mode="w+", shape=(60, 4, 5, 5))
    x16[:] = (heterogeneous[:, :100] / np.abs(heterogeneous[:, :100]).max()).reshape(60, 4, 5, 5)
    x16.flush()
    readonly = np.memmap(tmp_path / "acts.f16", dtype=np.float16, mode="r", shape=(60, 4, 5, 5))
    got = compute_rdms({"a": readonly}, chunk_bytes=60 * 4 * 7).dissimilarities[0]
    np.testing.assert_allclose(got, reference_rdm(np.asarray(readonly)), atol=1e-6)


def test_float32_accuracy_with_large_offsets():
    """Units far from zero and one stimulus driving every unit: the float32 path stays accurate."""
    rng = np.random.default_rng(2)
    x = 1000.0 + rng.standard_normal((40, 3000))
    x[7] += 3.0  # stimulus 7 raises every unit: its z-scores share a large mean
    x32 = x.astype(np.float32)
    got = compute_rdms({"a": x32}, chunk_bytes=40 * 4 * 256).dissimilarities[0]
    np.testing.assert_allclose(got, reference_rdm(x32), atol=1e-6)


def test_agrees_with_rsatoolbox_where_it_should(heterogeneous):
    ours = compute_rdms({"a": heterogeneous}).dissimilarities[0]
    theirs_on_zscored = rsatoolbox.rdm.calc_rdm(Dataset(zscore_units(heterogeneous)), method="correlation")
    np.testing.assert_allclose(ours, theirs_on_zscored.dissimilarities[0], atol=1e-12)
    # rsatoolbox does not z-score units: on raw data with unequal unit scales the RDMs differ.
    theirs_raw = rsatoolbox.rdm.calc_rdm(Dataset(np.delete(heterogeneous, 17, axis=1)), method="correlation")
    assert np.abs(ours - theirs_raw.dissimilarities[0]).max() > 0.1


def test_unit_shape_is_flattened_and_input_untouched():
    rng = np.random.default_rng(3)
    conv = rng.standard_normal((12, 3, 4, 4))
    before = conv.copy()
    rdms = compute_rdms({"conv": conv, "flat": conv.reshape(12, -1)})
    np.testing.assert_array_equal(conv, before)
    np.testing.assert_allclose(rdms.dissimilarities[0], rdms.dissimilarities[1], atol=1e-14)
    assert rdms.rdm_descriptors["name"] == ["conv", "flat"]
    matrix = rdms.get_matrices()[0]
    np.testing.assert_allclose(matrix, squareform(reference_rdm(conv)), atol=1e-12)
    assert np.all(np.diag(matrix) == 0)


def test_descriptors_travel_and_are_copied():
    rng = np.random.default_rng(4)
    descriptors = {"identity": np.arange(6) % 3, "view_deg": np.repeat([-45.0, 45.0], 3)}
    rdms = compute_rdms({"a": rng.standard_normal((6, 10))}, descriptors=descriptors)
    np.testing.assert_array_equal(rdms.pattern_descriptors["view_deg"], descriptors["view_deg"])
    rdms.pattern_descriptors["identity"][0] = 99
    assert descriptors["identity"][0] == 0
    with pytest.raises(ValueError, match="descriptors\\['identity'\\] must have 6 values"):
        compute_rdms({"a": rng.standard_normal((6, 10))}, descriptors={"identity": [1, 2]})


def test_datasets_and_recordings(simulated):
    rdms = compute_rdms(simulated)
    assert rdms.rdm_descriptors["name"] == ["MLMF", "AL", "AM"]
    for i, patch in enumerate(simulated):
        np.testing.assert_allclose(rdms.dissimilarities[i], reference_rdm(simulated[patch].measurements), atol=1e-12)
    np.testing.assert_array_equal(rdms.pattern_descriptors["view_deg"], simulated["AL"].obs_descriptors["view_deg"])
    single = compute_rdms(simulated["AL"])
    assert single.rdm_descriptors["name"] == ["AL"]
    np.testing.assert_allclose(single.dissimilarities[0], rdms.dissimilarities[1], atol=1e-14)


def test_bad_input_errors():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((10, 20))
    x[3, 4] = np.nan
    x[6, 11] = np.inf
    with pytest.raises(ValueError, match=r"'bad'.*NaN or Inf at stimuli 3, 6 and units 4, 11"):
        compute_rdms({"bad": x})
    with pytest.raises(ValueError, match="1 of 3 units vary"):
        compute_rdms({"flat": np.c_[np.ones((10, 2)), np.arange(10.0)]})
    with pytest.raises(ValueError, match="same number of stimuli"):
        compute_rdms({"a": rng.standard_normal((10, 5)), "b": rng.standard_normal((9, 5))})
    with pytest.raises(ValueError, match="at least 3 stimuli"):
        compute_rdms({"a": rng.standard_normal((2, 5))})
    with pytest.raises(ValueError, match="must be numeric"):
        compute_rdms({"a": np.array([["x", "y"]] * 4)})
    rank_one = np.outer(np.arange(10.0), rng.uniform(1, 2, 6)) + rng.uniform(0, 1, 6)
    with pytest.raises(ValueError, match="stimuli 0, 1, 2, .* have the same z-score on every unit"):
        compute_rdms({"a": rank_one})  # every unit is the same function of the stimulus
    with pytest.raises(TypeError, match="non-empty mapping"):
        compute_rdms(rng.standard_normal((10, 5)))


def test_view_rdms_are_blocks_of_the_full_rdm():
    """z-scoring over the whole set, then per object: equal to the blocks of the full RDM."""
    rng = np.random.default_rng(6)
    views = np.array([-90.0, -45.0, 0.0, 45.0, 90.0])
    objects = np.repeat(["car", "boat", "chair", "face"], 5)
    view_deg = np.tile(views, 4)
    category = np.repeat(["two-plane", "two-plane", "one-plane", "one-plane"], 5)
    shuffle = rng.permutation(20)
    descriptors = {"object": objects[shuffle], "view_deg": view_deg[shuffle], "category": category[shuffle]}
    acts = {"conv": rng.standard_normal((20, 2, 6, 6)), "fc": rng.standard_normal((20, 50))}
    view_rdms = compute_view_rdms(acts, descriptors=descriptors, chunk_bytes=20 * 8 * 9)
    full = compute_rdms(acts, descriptors=descriptors).get_matrices()
    assert view_rdms.n_rdm == 8 and view_rdms.n_cond == 5
    np.testing.assert_array_equal(view_rdms.pattern_descriptors["view_deg"], views)
    for matrix, name, obj, cat in zip(
        view_rdms.get_matrices(),
        view_rdms.rdm_descriptors["name"],
        view_rdms.rdm_descriptors["object"],
        view_rdms.rdm_descriptors["category"],
        strict=True,
    ):
        rows = [int(np.flatnonzero((descriptors["object"] == obj) & (descriptors["view_deg"] == v))[0]) for v in views]
        np.testing.assert_allclose(matrix, full[list(acts).index(name)][np.ix_(rows, rows)], atol=1e-12)
        assert cat == category[list(objects).index(obj)]


def test_view_rdm_design_errors():
    rng = np.random.default_rng(7)
    acts = {"a": rng.standard_normal((6, 10))}
    with pytest.raises(ValueError, match=r"3 mirror-paired views, got \[0.0\] \(left out .*: 30, 60\)"):
        compute_view_rdms(acts, descriptors={"object": [0] * 3 + [1] * 3, "view_deg": [0, 30, 60] * 2})
    with pytest.raises(ValueError, match="object 1 must have each of the views"):
        compute_view_rdms(acts, descriptors={"object": [0, 0, 0, 1, 1, 1], "view_deg": [-45, 0, 45, -45, 0, 0]})
    with pytest.raises(ValueError, match=r"object 1 must have each of the views \[-45.0, 0.0, 45.0\] once"):
        compute_view_rdms(acts, descriptors={"object": [0, 0, 0, 1, 1, 1], "view_deg": [-45, 0, 45, -45, 0, np.nan]})
    with pytest.raises(ValueError, match="need 'object'"):
        compute_view_rdms(acts, descriptors={"view_deg": [-45, 0, 45] * 2})


def test_flat_patterns_are_an_error_or_uncorrelated():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 20))
    values = np.array([a, -a, b, -b, np.zeros(20)])  # unit means exactly 0: stimulus 4 is flat
    with pytest.raises(ValueError, match="stimuli 4 have the same z-score on every unit"):
        compute_rdms({"x": values})
    rdm = compute_rdms({"x": values}, flat_patterns="uncorrelated").get_matrices()[0]
    assert np.array_equal(rdm[4], [1.0, 1.0, 1.0, 1.0, 0.0]) and np.array_equal(rdm[:, 4], rdm[4])
    z = values[:4] / values.std(axis=0)
    np.testing.assert_allclose(rdm[:4, :4], 1 - np.corrcoef(z), atol=1e-12)
