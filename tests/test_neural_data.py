"""Recordings: simulation, the Freiwald-Tsao loader, round trips and every bad-input case."""

import re

import h5py
import numpy as np
import pytest
import scipy.io

from neural_data import (
    FIV_VIEWS,
    RecordingFormatError,
    Recordings,
    StimulusLayout,
    load_freiwald_tsao,
    simulate_face_patches,
)


def write_mat(path, **variables):
    scipy.io.savemat(path, variables)
    return path


def write_mat73(path, **variables):
    """A MATLAB v7.3 file as MATLAB writes it: HDF5 with a 512-byte MAT header, column-major."""
    with h5py.File(path, "w", userblock_size=512) as handle:
        for name, value in variables.items():
            dataset = handle.create_dataset(name, data=np.asarray(value, dtype=np.float64).T)
            dataset.attrs["MATLAB_class"] = np.bytes_("double")
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Thu Nov 26 10:00:00 2026 HDF5 schema 1.00 ."
    with open(path, "r+b") as handle:
        handle.write(header.ljust(116, b" ") + b"\0" * 8 + b"\x00\x02IM")
    return path


def responses(n_rows=125, n_neurons=8, seed=0):
    return np.random.default_rng(seed).poisson(5.0, (n_rows, n_neurons)).astype(float)


# --- simulation -------------------------------------------------------------------------------


def test_simulation_shapes_descriptors_and_ground_truth(simulated):
    assert simulated.patches == ("MLMF", "AL", "AM")
    assert [simulated[p].n_channel for p in simulated] == [120, 60, 160]
    al = simulated["AL"]
    assert al.measurements.shape == (125, 60)
    # view-major: rows 0..24 are the 25 identities in the left profile
    np.testing.assert_array_equal(al.obs_descriptors["identity"][:26], list(range(25)) + [0])
    assert list(al.obs_descriptors["view"][[0, 25, 50, 75, 100]]) == list(FIV_VIEWS[:5])
    np.testing.assert_array_equal(np.unique(al.obs_descriptors["view_deg"]), [-90, -45, 0, 45, 90])
    assert set(simulated["MLMF"].channel_descriptors["tuning"]) == {"view"}
    assert set(al.channel_descriptors["tuning"]) == {"mirror"}
    assert set(simulated["AM"].channel_descriptors["tuning"]) == {"identity"}
    trials = simulated.trials["AL"]
    assert trials.shape == (125, 60, 10)
    np.testing.assert_allclose(trials.mean(axis=2), al.measurements)
    np.testing.assert_array_equal(trials, np.round(trials))  # spike counts


def test_simulated_tuning_matches_its_ground_truth():
    """Recover each neuron's generating parameters from many trials of its responses."""
    rec = simulate_face_patches(n_trials=400, random_state=5)
    for patch in rec:
        data, channels = rec[patch], rec[patch].channel_descriptors
        yaw = data.obs_descriptors["view_deg"]
        identity = data.obs_descriptors["identity"]
        gains = np.stack([channels[f"identity_gain_{k:02d}"] for k in range(25)], axis=1)
        angle = np.abs(yaw)[:, None] if patch == "AL" else yaw[:, None]
        bump = np.exp(-0.5 * ((angle - channels["preferred_view_deg"]) / channels["tuning_width_deg"]) ** 2)
        view = 1 - channels["view_modulation"] + channels["view_modulation"] * bump
        expected = channels["baseline"] + channels["amplitude"] * view * gains.T[identity]
        # Poisson: the mean of 400 trials is within 5 standard errors of the rate
        z = (data.measurements - expected) / np.sqrt(expected / 400)
        assert np.abs(z).max() < 6
    al = rec["AL"].measurements
    left, right = al[:25], al[100:]  # left and right profiles of the 25 identities
    assert np.corrcoef(left.ravel(), right.ravel())[0, 1] > 0.99


def test_same_seed_same_data_different_seed_different_data():
    a = simulate_face_patches(random_state=7)
    b = simulate_face_patches(random_state=7)
    c = simulate_face_patches(random_state=8)
    for patch in a:
        np.testing.assert_array_equal(a[patch].measurements, b[patch].measurements)
        np.testing.assert_array_equal(a.trials[patch], b.trials[patch])
        np.testing.assert_array_equal(
            a[patch].channel_descriptors["preferred_view_deg"], b[patch].channel_descriptors["preferred_view_deg"]
        )
        assert not np.array_equal(a[patch].measurements, c[patch].measurements)
    generator = simulate_face_patches(random_state=np.random.default_rng(7))
    np.testing.assert_array_equal(generator["AM"].measurements, a["AM"].measurements)


def test_simulation_options():
    rec = simulate_face_patches(
        n_identities=4, views_deg=(-60, -30, 0, 30, 60), n_neurons={"AL": 7}, n_trials=3, random_state=0
    )
    assert rec["AL"].measurements.shape == (20, 7)
    assert rec["MLMF"].n_channel == 120
    assert rec.layout.views == ("yaw-60", "yaw-30", "frontal", "yaw+30", "yaw+60")
    assert rec.trials["AM"].shape == (20, 160, 3)
    with pytest.raises(ValueError, match="Invalid patch in 'n_neurons'"):
        simulate_face_patches(n_neurons={"ML": 3})
    with pytest.raises(ValueError, match="n_trials"):
        simulate_face_patches(n_trials=0)


# --- loader: round trips and layouts ------------------------------------------------------------


def test_round_trip_through_lab_layout(simulated, tmp_path):
    folder = simulated.save(tmp_path / "recs")
    assert sorted(p.name for p in folder.iterdir()) == [
        "neural_vecs_AL.mat",
        "neural_vecs_AM.mat",
        "neural_vecs_MLMF.mat",
        "rsa_mirror_save.json",
    ]
    assert scipy.io.loadmat(folder / "neural_vecs_AL.mat")["neural_vecs"].shape == (125, 60)
    loaded = load_freiwald_tsao(folder)
    assert loaded.patches == ("MLMF", "AL", "AM")
    for patch in simulated:
        np.testing.assert_array_equal(loaded[patch].measurements, simulated[patch].measurements)
        np.testing.assert_array_equal(loaded.trials[patch], simulated.trials[patch])
        for key in ("stimulus", "identity", "view", "view_deg"):
            np.testing.assert_array_equal(loaded[patch].obs_descriptors[key], simulated[patch].obs_descriptors[key])
        np.testing.assert_array_equal(
            loaded[patch].channel_descriptors["neuron"], np.arange(simulated[patch].n_channel)
        )
    assert load_freiwald_tsao(folder, patches=["AM"]).patches == ("AM",)


def test_round_trip_with_custom_views_carries_the_layout_as_metadata(tmp_path):
    rec = simulate_face_patches(n_identities=3, views_deg=(-60, 0, 60), n_trials=2, random_state=1)
    folder = rec.save(tmp_path / "with")
    for loaded in (load_freiwald_tsao(folder, layout=rec.layout), load_freiwald_tsao(folder)):
        np.testing.assert_array_equal(loaded["AL"].obs_descriptors["view_deg"], np.repeat([-60.0, 0.0, 60.0], 3))
    assert "metadata vectors" in load_freiwald_tsao(folder).layout.describe()
    bare = tmp_path / "without"  # the same files as a lab writes them, without metadata
    bare.mkdir()
    for patch in rec:
        write_mat(bare / f"neural_vecs_{patch}.mat", neural_vecs=rec[patch].measurements)
    np.testing.assert_array_equal(
        load_freiwald_tsao(bare, layout=rec.layout)["AM"].measurements, rec["AM"].measurements
    )
    with pytest.raises(RecordingFormatError, match="9 rows do not fit"):
        load_freiwald_tsao(bare)


@pytest.mark.parametrize(("n_rows", "last_views"), [(175, ["up", "down"]), (200, ["up", "down", "back"])])
def test_extra_views_are_kept_with_labels(tmp_path, n_rows, last_views):
    write_mat(tmp_path / "neural_vecs_AL.mat", neural_vecs=responses(n_rows))
    data = load_freiwald_tsao(tmp_path)["AL"]
    views = list(dict.fromkeys(data.obs_descriptors["view"]))
    assert views == list(FIV_VIEWS[:5]) + last_views
    assert np.isnan(data.obs_descriptors["view_deg"][5 * 25])  # 'up' has no yaw
    assert load_freiwald_tsao(tmp_path).layout.views == FIV_VIEWS[: n_rows // 25]
    if n_rows == 200:
        assert data.obs_descriptors["view_deg"][-1] == 180.0


def test_select_views_keeps_the_yaw_views(simulated, tmp_path):
    write_mat(tmp_path / "neural_vecs_AM.mat", neural_vecs=responses(175), neural_trials=np.ones((175, 8, 2)))
    rec = load_freiwald_tsao(tmp_path).select_views(FIV_VIEWS[:5])
    assert rec["AM"].measurements.shape == (125, 8)
    assert rec.trials["AM"].shape == (125, 8, 2)
    assert rec.layout.views == FIV_VIEWS[:5]
    with pytest.raises(ValueError, match="Invalid view"):
        rec.select_views(["sideways"])
    write_mat(tmp_path / "neural_vecs_AM.mat", neural_vecs=responses(200))
    mirrored = load_freiwald_tsao(tmp_path).mirror_views()
    assert list(dict.fromkeys(mirrored["AM"].obs_descriptors["view"])) == list(FIV_VIEWS[:5])
    assert simulated.mirror_views() is simulated


def test_identity_major_layout(tmp_path):
    data = responses(125)
    write_mat(tmp_path / "neural_vecs_AM.mat", neural_vecs=data)
    layout = StimulusLayout(order="identity-major")
    rec = load_freiwald_tsao(tmp_path, layout=layout)["AM"]
    np.testing.assert_array_equal(rec.obs_descriptors["identity"][:6], [0, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(rec.obs_descriptors["view_deg"][:6], [-90, -45, 0, 45, 90, -90])
    with pytest.raises(ValueError, match="Invalid value for 'order'"):
        StimulusLayout(order="by-view")


def test_single_file_with_one_variable_per_patch(tmp_path):
    file = write_mat(
        tmp_path / "all_patches.mat",
        MLMF=responses(125, 5, seed=1),
        neural_vecs_AL=responses(125, 6, seed=2),
        neural_trials_AL=np.ones((125, 6, 4)),
    )
    rec = load_freiwald_tsao(file)
    assert set(rec.patches) == {"MLMF", "AL"}
    assert rec["AL"].n_channel == 6 and rec.trials["AL"].shape == (125, 6, 4)
    assert "MLMF" not in rec.trials
    assert load_freiwald_tsao(file, patches=["AL"]).patches == ("AL",)


def test_v73_files_are_read_with_h5py(tmp_path):
    data = responses(125, 7)
    trials = np.random.default_rng(1).poisson(5.0, (125, 7, 3)).astype(float)
    write_mat73(tmp_path / "neural_vecs_AL.mat", neural_vecs=data, neural_trials=trials)
    with pytest.raises(NotImplementedError):
        scipy.io.loadmat(tmp_path / "neural_vecs_AL.mat")  # what scipy alone does with v7.3
    rec = load_freiwald_tsao(tmp_path)
    np.testing.assert_array_equal(rec["AL"].measurements, data)
    np.testing.assert_array_equal(rec.trials["AL"], trials)
    write_mat73(tmp_path / "both.mat", AM=data)
    np.testing.assert_array_equal(load_freiwald_tsao(tmp_path / "both.mat")["AM"].measurements, data)


# --- loader: bad input --------------------------------------------------------------------------


def test_missing_paths_files_and_variables(tmp_path):
    with pytest.raises(FileNotFoundError, match="no recordings at"):
        load_freiwald_tsao(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no neural_vecs_<PATCH>.mat files"):
        load_freiwald_tsao(tmp_path)
    write_mat(tmp_path / "neural_vecs_AL.mat", neural_vecs=responses())
    with pytest.raises(FileNotFoundError, match=r"neural_vecs_AM\.mat; found patches AL"):
        load_freiwald_tsao(tmp_path, patches=["AL", "AM"])
    write_mat(tmp_path / "neural_vecs_AM.mat", responses=responses())
    with pytest.raises(
        RecordingFormatError, match=r"neural_vecs_AM\.mat: no variable 'neural_vecs'; the file holds 'responses'"
    ):
        load_freiwald_tsao(tmp_path)
    single = write_mat(tmp_path / "one.mat", MLMF=responses())
    with pytest.raises(RecordingFormatError, match="no variable for patch 'AL' .*neural_vecs_AL or AL.*holds 'MLMF'"):
        load_freiwald_tsao(single, patches=["AL"])


def test_a_file_named_for_no_patch_is_refused(tmp_path):
    write_mat(tmp_path / "neural_vecs_AL.mat", neural_vecs=responses())
    write_mat(tmp_path / "neural_vecs_.mat", neural_vecs=responses())
    with pytest.raises(RecordingFormatError, match=r"neural_vecs_\.mat: the file name names no patch; expected "):
        load_freiwald_tsao(tmp_path)


def test_unreadable_files(tmp_path):
    (tmp_path / "neural_vecs_AL.mat").write_bytes(b"this is not a mat file at all" * 10)
    with pytest.raises(RecordingFormatError, match="neural_vecs_AL.mat"):
        load_freiwald_tsao(tmp_path)
    good = write_mat(tmp_path / "good.mat", AL=responses())
    (tmp_path / "truncated.mat").write_bytes(good.read_bytes()[:300])
    with pytest.raises(RecordingFormatError, match="truncated.mat"):
        load_freiwald_tsao(tmp_path / "truncated.mat")


def test_wrong_shapes(tmp_path):
    write_mat(tmp_path / "neural_vecs_AL.mat", neural_vecs=responses(130))
    with pytest.raises(
        RecordingFormatError, match=r"shape \(130, 8\): 130 rows do not fit .* expected one of 25, 50, .*200 rows"
    ):
        load_freiwald_tsao(tmp_path)
    write_mat(tmp_path / "neural_vecs_AL.mat", neural_vecs=responses(125, 30).T)
    with pytest.raises(RecordingFormatError, match="stored neurons x stimuli, say orientation=.neurons-by-stimuli."):
        load_freiwald_tsao(tmp_path)
    write_mat(tmp_path / "neural_vecs_AL.mat", neural_vecs=np.ones((125, 3, 2)))
    with pytest.raises(RecordingFormatError, match=r"must have shape \(stimuli, neurons\), got shape \(125, 3, 2\)"):
        load_freiwald_tsao(tmp_path)
    write_mat(tmp_path / "neural_vecs_AL.mat", neural_vecs=responses(), neural_trials=np.ones((125, 7, 2)))
    with pytest.raises(
        RecordingFormatError, match=r"'neural_trials' has shape \(125, 7, 2\); expected \(125, 8, 'n_trials'\)"
    ):
        load_freiwald_tsao(tmp_path)


def test_non_numeric_data(tmp_path):
    write_mat(tmp_path / "neural_vecs_AL.mat", neural_vecs=np.array(["abc", "def"]))
    with pytest.raises(RecordingFormatError, match="must be a numeric matrix, got text"):
        load_freiwald_tsao(tmp_path)
    cell = np.empty((125, 2), dtype=object)
    cell[:] = [[np.ones(2), np.ones(2)]] * 125
    write_mat(tmp_path / "neural_vecs_AL.mat", neural_vecs=cell)
    with pytest.raises(RecordingFormatError, match="must be a numeric matrix, got a cell array"):
        load_freiwald_tsao(tmp_path)


def test_nan_and_inf_name_neurons_and_stimuli(tmp_path):
    data = responses()
    data[7, 3] = np.nan
    data[90, 5] = np.inf
    write_mat(tmp_path / "neural_vecs_AL.mat", neural_vecs=data)
    message = re.escape("contains NaN or Inf for neurons (columns) 3, 5 at stimuli (rows) 7, 90")
    with pytest.raises(RecordingFormatError, match=message):
        load_freiwald_tsao(tmp_path)
    write_mat(tmp_path / "neural_vecs_AL.mat", neural_vecs=responses(), neural_trials=np.full((125, 8, 2), np.inf))
    with pytest.raises(RecordingFormatError, match="'neural_trials' contains Inf"):
        load_freiwald_tsao(tmp_path)


def test_zero_variance_neurons_are_dropped_with_a_warning(tmp_path):
    data = responses()
    data[:, [2, 6]] = 4.0
    trials = np.random.default_rng(0).poisson(5.0, (125, 8, 3)).astype(float)
    write_mat(tmp_path / "neural_vecs_AL.mat", neural_vecs=data, neural_trials=trials)
    with pytest.warns(UserWarning, match=r"dropping 2 neuron\(s\) with zero variance across stimuli: columns 2, 6"):
        rec = load_freiwald_tsao(tmp_path)
    np.testing.assert_array_equal(rec["AL"].channel_descriptors["neuron"], [0, 1, 3, 4, 5, 7])
    np.testing.assert_array_equal(rec["AL"].measurements, data[:, [0, 1, 3, 4, 5, 7]])
    np.testing.assert_array_equal(rec.trials["AL"], trials[:, [0, 1, 3, 4, 5, 7]])
    write_mat(tmp_path / "neural_vecs_AL.mat", neural_vecs=np.ones((125, 4)))
    with pytest.raises(RecordingFormatError, match="every neuron has the same response"):
        load_freiwald_tsao(tmp_path)


def test_recordings_container_checks(simulated):
    with pytest.raises(KeyError, match="no patch 'ML'; available: MLMF, AL, AM"):
        simulated["ML"]
    with pytest.raises(ValueError, match="trials\\['AL'\\] must have shape"):
        Recordings({"AL": simulated["AL"]}, trials={"AL": np.ones((125, 3, 2))})
    assert "AL: 60 neurons" in repr(simulated)
