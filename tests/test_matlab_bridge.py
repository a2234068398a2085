"""matlab_bridge: .mat round trips, proven against a real GNU Octave where one is installed.

Octave tests skip when ``octave-cli`` is missing, unless RSA_MIRROR_REQUIRE_OCTAVE=1 (set by
.ci/run, which installs Octave), where a missing Octave fails them (fixture in conftest.py).
"""

import sys

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io
from rsatoolbox.rdm import RDMs

from matlab_bridge import MatFormatError, load_rdms, load_results, read_mat, save_rdms, save_results
from neural_data import simulate_face_patches
from rsa_mirror import compute_rdms
from rsa_mirror.cli import main
from rsa_mirror.inference import bootstrap_compare, split_half_ceiling
from rsa_mirror.shapley import mirror_components, shapley_decomposition


@pytest.fixture(scope="module")
def patch_rdms():
    rdms = compute_rdms(simulate_face_patches(random_state=0))
    rdms.rdm_descriptors["name"] = ["MLMF", "café", "μ-Δ patch"]
    rdms.rdm_descriptors["recording session (monkey M1) with a long label"] = ["s1", "s2", "s3"]
    return rdms


def test_rdms_round_trip_keeps_matrices_and_every_descriptor(tmp_path, patch_rdms):
    save_rdms(tmp_path / "rdms.mat", patch_rdms)
    back = load_rdms(tmp_path / "rdms.mat")
    np.testing.assert_array_equal(back.get_vectors(), patch_rdms.get_vectors())
    assert back.rdm_descriptors["name"] == ["MLMF", "café", "μ-Δ patch"]
    assert back.rdm_descriptors["recording session (monkey M1) with a long label"] == ["s1", "s2", "s3"]
    assert np.array_equal(back.rdm_descriptors["n_units"], patch_rdms.rdm_descriptors["n_units"])
    for key in ("identity", "view", "view_deg", "stimulus"):
        expected = np.asarray(patch_rdms.pattern_descriptors[key])
        assert np.array_equal(back.pattern_descriptors[key], expected) and back.pattern_descriptors[key].dtype.kind == (
            expected.dtype.kind
        )
    assert back.dissimilarity_measure == "correlation"
    raw = scipy.io.loadmat(tmp_path / "rdms.mat")
    assert raw["RDMs"].shape == (1, 3) and raw["RDMs"].dtype.names[:3] == ("RDM", "name", "color")
    color = raw["RDMs"][0, 1]["color"]
    assert color.shape == (1, 3) and 0 <= color.min() and color.max() <= 1


def test_octave_reads_what_python_writes(tmp_path, patch_rdms, octave):
    save_rdms(tmp_path / "rdms.mat", patch_rdms)
    out = octave(
        "load('rdms.mat'); assert(isstruct(RDMs) && isequal(size(RDMs), [1 3]));"
        "assert(isequal(size(RDMs(2).RDM), [125 125]) && issymmetric(RDMs(2).RDM) && all(diag(RDMs(2).RDM) == 0));"
        "printf('%s|%s|%s\\n', RDMs(1).name, RDMs(2).name, RDMs(3).name);"
        "printf('%.12f\\n', RDMs(3).RDM(7, 101));"
        "printf('%s %d\\n', class(RDMs_patterns.view), numel(RDMs_patterns.view_deg));"
        "printf('%s\\n', RDMs_info.names{1, 1});",
        tmp_path,
    )
    lines = out.strip().splitlines()
    assert lines[0] == "MLMF|café|μ-Δ patch"  # non-ASCII names survive (scipy alone truncates them)
    assert float(lines[1]) == pytest.approx(patch_rdms.get_matrices()[2][6, 100], abs=1e-12)
    assert lines[2] == "cell 125"
    assert lines[3].startswith("recording_session__monkey_M1_")


def test_python_reads_what_octave_writes(tmp_path, octave):
    octave(
        "x = [3 1 4 1.5 9 2.6]; A = abs(x - x');"  # symmetric, zero diagonal, no toolbox needed
        "stack = cat(3, A, 2 * A); vec = A(tril(true(6), -1))'; cells = {A, 3 * A};"  # vec: squareform order
        "RDMs = struct('RDM', {A, 2 * A}, 'name', {'naïve', 'b'}, 'color', {[1 0 0], [0 0 1]});"
        "column = RDMs'; one = RDMs(1);"
        "save('-v7', 'octave7.mat', 'RDMs', 'stack', 'vec', 'cells', 'column', 'one');"
        "save('-v6', 'octave6.mat', 'stack');",
        tmp_path,
    )
    x = np.array([3, 1, 4, 1.5, 9, 2.6])
    a = np.abs(x - x[:, None])
    structs = load_rdms(tmp_path / "octave7.mat")
    assert structs.rdm_descriptors["name"] == ["naïve", "b"]
    np.testing.assert_allclose(structs.rdm_descriptors["color"][1], [0, 0, 1])
    expected = {"RDMs": [a, 2 * a], "stack": [a, 2 * a], "vec": [a], "cells": [a, 3 * a], "column": [a, 2 * a]}
    for variable, matrices in expected.items():
        np.testing.assert_allclose(load_rdms(tmp_path / "octave7.mat", variable=variable).get_matrices(), matrices)
    one = load_rdms(tmp_path / "octave7.mat", variable="one")  # a 1 x 1 struct array stays a struct array
    assert one.n_rdm == 1 and one.rdm_descriptors["name"] == ["naïve"]
    np.testing.assert_allclose(load_rdms(tmp_path / "octave6.mat").get_matrices(), [a, 2 * a])


def test_names_round_trip_through_octave(tmp_path, patch_rdms, octave):
    """Python writes, Octave loads and saves again (its own writer), Python reads: nothing lost."""
    save_rdms(tmp_path / "rdms.mat", patch_rdms)
    octave("S = load('rdms.mat'); save('-v7', 'again.mat', '-struct', 'S');", tmp_path)
    back = load_rdms(tmp_path / "again.mat")
    assert back.rdm_descriptors["name"] == ["MLMF", "café", "μ-Δ patch"]
    assert "recording session (monkey M1) with a long label" in back.rdm_descriptors
    np.testing.assert_array_equal(back.get_vectors(), patch_rdms.get_vectors())


def test_results_round_trip_every_result_type(tmp_path):
    recordings = simulate_face_patches(random_state=1)
    brains = compute_rdms(recordings)
    comparison = bootstrap_compare(brains, brains, n_bootstrap=30, random_state=0)
    comparison.ceilings["AL"] = split_half_ceiling(recordings["AL"], n_splits=4, indices=comparison.indices, name="AL")
    comparison.ceilings["AM"] = split_half_ceiling(recordings["AM"], n_splits=4, name="AM")  # samples None
    rng = np.random.default_rng(0)
    f = rng.standard_normal((125, 20))
    shapley = shapley_decomposition({"fc": mirror_components(f, f)}, brains, indices=comparison.indices[:5])
    table = pd.DataFrame({"layer": ["conv1", "fc6"], "msvt": [0.5, np.nan], "n_objects": [25, 24], "ok": [True, False]})
    for name, result in {"comparison": comparison, "shapley": shapley, "table": table}.items():
        save_results(tmp_path / f"{name}.mat", result)
        back = load_results(tmp_path / f"{name}.mat")
        if isinstance(result, pd.DataFrame):
            pd.testing.assert_frame_equal(back, result)
            continue
        assert type(back) is type(result)
        for key, value in vars(result).items():
            if key == "ceilings":
                for patch, ceiling in value.items():
                    assert vars(back.ceilings[patch]).keys() == vars(ceiling).keys()
                    np.testing.assert_array_equal(back.ceilings[patch].reliability, ceiling.reliability)
                    assert (back.ceilings[patch].samples is None) == (ceiling.samples is None)
            elif isinstance(value, np.ndarray):
                assert back.__dict__[key].dtype == value.dtype and back.__dict__[key].shape == value.shape, key
                np.testing.assert_array_equal(back.__dict__[key], value)
            else:
                assert back.__dict__[key] == value, key
    raw = scipy.io.loadmat(tmp_path / "comparison.mat")["result"][0, 0]
    assert raw["data"][0, 0]["indices"].min() == 1  # 1-based in the file
    assert raw["version"][0].startswith("rsa_mirror")


def test_octave_helper_loads_results(tmp_path, octave):
    comparison = bootstrap_compare(
        *(compute_rdms(simulate_face_patches(random_state=0)),) * 2, n_bootstrap=8, random_state=0
    )
    save_results(tmp_path / "comparison.mat", comparison)
    out = octave(
        "r = rsa_mirror_load('comparison.mat'); assert(strcmp(r.type, 'BootstrapResult'));"
        "assert(isequal(size(r.samples), [3 3 8])); assert(isequal(r.dims.samples, {'brain', 'model', 'bootstrap'}));"
        "printf('%d %d %s\\n', min(r.indices(:)), max(r.indices(:)), r.brain_names{2});"
        "printf('%.12f\\n', r.samples(2, 3, 5));",
        tmp_path,
        env={"RSA_MIRROR": f"{sys.executable} -m rsa_mirror.cli"},
    )
    first, value = out.strip().splitlines()[-2:]
    low, high, name = first.split()
    assert int(low) >= 1 and int(high) <= 125 and name == "AL"
    assert float(value) == pytest.approx(comparison.samples[1, 2, 4], abs=1e-12)


def test_octave_runs_an_analysis_through_the_cli_and_loads_its_results(tmp_path, octave):
    out = octave(
        "r = rsa_mirror_run('demo', '--out', 'demo', '--patches-only');"
        "s = r.msvt_by_patch; printf('%s %.6f\\n', s.patch{2}, s.msvt_mean(2));",
        tmp_path,
        env={"RSA_MIRROR": f"{sys.executable} -m rsa_mirror.cli"},
    )
    patch, value = out.strip().splitlines()[-1].split()
    summary = pd.read_csv(tmp_path / "demo" / "msvt_summary.csv", index_col="patch")
    assert patch == "AL" and float(value) == pytest.approx(summary.loc["AL", "msvt_mean"], abs=1e-6)
    failing = (
        "try, rsa_mirror_run('demo', '--neural', 'missing'); disp('no error'); catch err, disp(err.identifier); end"
    )
    assert "rsa_mirror:run" in octave(failing, tmp_path, env={"RSA_MIRROR": f"{sys.executable} -m rsa_mirror.cli"})


def test_v73_round_trips_through_h5py_and_octave_reads_its_numbers(tmp_path, patch_rdms, octave):
    save_rdms(tmp_path / "big.mat", patch_rdms, format="v7.3")
    with h5py.File(tmp_path / "big.mat") as file:
        assert file["RDMs"].attrs["MATLAB_class"] == b"struct"
    back = load_rdms(tmp_path / "big.mat")
    np.testing.assert_array_equal(back.get_vectors(), patch_rdms.get_vectors())
    assert back.rdm_descriptors["name"] == ["MLMF", "café", "μ-Δ patch"]
    from matlab_bridge import write_mat

    write_mat(tmp_path / "plain73.mat", {"stack": patch_rdms.get_matrices().transpose(1, 2, 0)}, format="v7.3")
    out = octave("load('plain73.mat'); printf('%d %d %d %.12f\\n', size(stack), stack(3, 9, 2));", tmp_path)
    assert out.split()[:3] == ["125", "125", "3"]
    assert float(out.split()[3]) == pytest.approx(patch_rdms.get_matrices()[1][2, 8], abs=1e-12)
    save_results(
        tmp_path / "r73.mat", bootstrap_compare(patch_rdms, patch_rdms, n_bootstrap=3, random_state=0), format="v7.3"
    )
    message = octave("try, rsa_mirror_load('r73.mat'); disp('read'); catch err, disp(err.message); end", tmp_path)
    assert "is a v7.3 (HDF5) file" in message and "format v7" in message  # Octave cannot: the helper says so


def test_large_variables_switch_to_v73_with_a_warning(tmp_path, monkeypatch):
    from matlab_bridge import _matfile

    monkeypatch.setattr(_matfile, "V7_LIMIT_BYTES", 1000)
    with pytest.warns(UserWarning, match="exceeds the 2 GB limit of MAT v7: writing .* as v7.3"):
        _matfile.write_mat(tmp_path / "x.mat", {"x": np.zeros((20, 20))})
    assert b"\x89HDF\r\n\x1a\n" in (tmp_path / "x.mat").read_bytes()[:520]
    np.testing.assert_array_equal(read_mat(tmp_path / "x.mat")["x"], np.zeros((20, 20)))


def test_failed_saves_leave_no_file(tmp_path):
    with pytest.raises(MatFormatError, match="Basic Multilingual Plane"):
        save_rdms(tmp_path / "x.mat", RDMs(np.ones((1, 3)), rdm_descriptors={"name": ["😀"]}))
    with pytest.raises(TypeError, match="cannot write"):
        save_results(tmp_path / "y.mat", object())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("variables", "options", "message"),
    [
        ({"RDMs": np.ones((3, 4))}, {}, r"RDMs\(1,:\) is a vector of length 4, not n\(n-1\)/2"),
        ({"other": np.zeros((3, 3))}, {"variable": "RDMs"}, "no variable 'RDMs'; the file holds other"),
        ({"RDM": np.array([[0, 1.0], [np.nan, 0]])}, {}, r"NaN or Inf at \(2, 1\)"),
        ({"RDM": np.array([[0, 1.0, 2], [1, 0, 3], [2, 4, 0]])}, {}, r"not symmetric at \(2, 3\)"),
        ({"RDM": np.array([[1, 1.0], [1, 0]])}, {}, r"non-zero diagonal at \(1, 1\)"),
        ({"RDMs": np.zeros((3, 3, 2))[:, :2]}, {}, r"RDMs\(:,:,1\) of shape \(3, 2\) is not a square RDM"),
        ({"RDMs": np.empty((1, 0), dtype=[("RDM", object)])}, {}, "holds no RDMs|empty"),
        ({"a": np.zeros((2, 2)), "b": np.zeros((2, 2))}, {}, "cannot tell which variable"),
    ],
)
def test_bad_input_gives_one_clear_error(tmp_path, variables, options, message):
    scipy.io.savemat(tmp_path / "bad.mat", variables)
    with pytest.raises(MatFormatError, match=message):
        load_rdms(tmp_path / "bad.mat", **options)


def test_mismatched_sizes_truncated_and_missing_files(tmp_path):
    struct = np.empty((1, 2), dtype=[("RDM", object)])
    struct[0, 0], struct[0, 1] = (np.zeros((3, 3)),), (np.zeros((4, 4)),)
    scipy.io.savemat(tmp_path / "mixed.mat", {"RDMs": struct})
    with pytest.raises(MatFormatError, match=r"mixes RDMs of \[3, 4\] stimuli"):
        load_rdms(tmp_path / "mixed.mat")
    save_rdms(tmp_path / "good.mat", RDMs(np.ones((2, 3))))
    (tmp_path / "cut.mat").write_bytes((tmp_path / "good.mat").read_bytes()[:300])
    with pytest.raises(MatFormatError, match="not a readable MAT file.*truncated"):
        load_rdms(tmp_path / "cut.mat")
    with pytest.raises(MatFormatError, match="no such file"):
        load_rdms(tmp_path / "absent.mat")
    (tmp_path / "cut73.mat").write_bytes(b"\0" * 512 + b"\x89HDF\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(MatFormatError, match="not a readable MAT v7.3"):
        load_rdms(tmp_path / "cut73.mat")


def test_import_and_export_commands(tmp_path, capsys):
    assert main(["export-mat", "--simulate", "--seed", "2", "--out", str(tmp_path / "p.mat")]) == 0
    assert main(["import-mat", str(tmp_path / "p.mat"), "--out", str(tmp_path / "p.hdf5")]) == 0
    from rsatoolbox.rdm import load_rdm

    loaded = load_rdm(str(tmp_path / "p.hdf5"))
    expected = compute_rdms(simulate_face_patches(random_state=2))
    np.testing.assert_allclose(loaded.get_vectors(), expected.get_vectors(), atol=1e-15)
    assert "3 RDMs of 125 stimuli (MLMF, AL, AM)" in capsys.readouterr().out
    assert main(["import-mat", str(tmp_path / "absent.mat"), "--out", str(tmp_path / "q.hdf5")]) == 2
