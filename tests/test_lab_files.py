"""Recordings as labs hold them: a corpus of files, each loading exactly right or refused.

The corpus is written here, from simulated patches with known ground truth, by every writer a
lab uses: scipy (v4, v5, v7), GNU Octave (``save -v7``; ``save -v7.3``, or its HDF5 format
where this Octave cannot write v7.3), hdf5storage (v7.3), MATLAB's v7.3 layout written with
h5py, and plain h5py (C order); int16, uint8 and single precision counts; 125, 175 and 200
rows; view-major and identity-major; metadata vectors (1-based identities, yaw in degrees,
cellstr view names); trials with NaN; layout tables. Every file either loads to the ground
truth (values, identity, view, yaw; row by row) or raises ``RecordingFormatError`` naming the
file, the variable and the problem.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import h5py
import hdf5storage
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse

from neural_data import FIV_VIEWS, FIV_YAW_DEG, RecordingFormatError, StimulusLayout, load_freiwald_tsao
from neural_data import simulate_face_patches as simulate
from rsa_mirror import compute_rdms, msvt_by_object, summarize_msvt
from rsa_mirror.cli import main
from rsa_mirror.errors import InvalidArgumentError

N_IDENTITIES = 25
SIZES = {"MLMF": 120, "AL": 60, "AM": 160}


@dataclasses.dataclass
class Truth:
    """What a file must load to: per patch (n_rows, n_neurons) responses; per row its labels."""

    responses: dict
    trials: dict
    identity: np.ndarray  # the labels the loader must report
    view: np.ndarray
    view_deg: np.ndarray

    def cast(self, dtype) -> Truth:
        """The same data as stored in ``dtype`` (what an exact reader returns)."""
        return dataclasses.replace(
            self, responses={p: r.astype(dtype).astype(np.float64) for p, r in self.responses.items()}
        )

    def relabel(self, identity) -> Truth:
        return dataclasses.replace(self, identity=np.asarray(identity))


def lab_truth(n_rows=125, order="view-major", seed=0) -> Truth:
    """Simulated MLMF/AL/AM for the first n_rows // 25 FIV views, rows in ``order``.

    The yaw views come from ``simulate_face_patches`` (its tuning is the ground truth of the
    index); up, down and back get Poisson counts of their own. Trials hold NaN for missing ones.
    """
    n_views = n_rows // N_IDENTITIES
    simulated = simulate(random_state=seed)
    rng = np.random.default_rng(seed + 100)
    view_index, identity = np.divmod(np.arange(n_rows), N_IDENTITIES)
    if order == "identity-major":
        identity, view_index = np.divmod(np.arange(n_rows), n_views)
    responses, trials = {}, {}
    for patch in simulated:
        counts = np.empty((n_rows, SIZES[patch], 10))
        for row, (i, v) in enumerate(zip(identity, view_index, strict=True)):
            if v < 5:
                counts[row] = simulated.trials[patch][v * N_IDENTITIES + i]
            else:
                counts[row] = rng.poisson(3.0 + v, (SIZES[patch], 10))
        counts[rng.random(counts.shape) < 0.02] = np.nan  # missing trials
        trials[patch] = counts
        responses[patch] = np.round(np.nanmean(counts, axis=2))  # whole counts: exact in int16 and uint8
    return Truth(
        responses,
        trials,
        identity,
        np.asarray(FIV_VIEWS)[view_index],
        np.asarray(FIV_YAW_DEG)[view_index],
    )


def metadata(truth, *, first_identity=1) -> dict:
    """The lab's metadata vectors: identities 1..25, yaw in degrees (NaN for up/down), view names."""
    return {
        "identity": (truth.identity + first_identity).astype(float).reshape(1, -1),
        "yaw": truth.view_deg.reshape(1, -1),
        "view": np.array(truth.view.tolist(), dtype=object).reshape(1, -1),
    }


def write_folder(folder, truth, *, dtype=np.float64, trials=False, **options):
    folder.mkdir(parents=True, exist_ok=True)
    for patch, data in truth.responses.items():
        variables = {"neural_vecs": data.astype(dtype)}
        if trials:
            variables["neural_trials"] = truth.trials[patch]
        scipy.io.savemat(folder / f"neural_vecs_{patch}.mat", variables, **options)
    return folder


def write_matlab73(path, variables):
    """A MATLAB v7.3 file as MATLAB writes it: 512-byte header, column-major, MATLAB_class.

    Text is char (uint16 codes, stored (characters, rows)); a list of text is a 1 x n cell whose
    elements are char datasets under ``#refs#``, referenced from the cell's dataset.
    """

    def char(group, name, text):
        item = group.create_dataset(name, data=np.array([[ord(c)] for c in text], dtype=np.uint16))
        item.attrs["MATLAB_class"] = np.bytes_("char")
        item.attrs["MATLAB_int_decode"] = np.int64(2)
        return item

    with h5py.File(path, "w", userblock_size=512) as handle:
        for name, value in variables.items():
            if isinstance(value, str):
                char(handle, name, value)
                continue
            if isinstance(value, list):
                refs = handle.require_group("#refs#")
                items = [char(refs, f"{name}_{k}", text).ref for k, text in enumerate(value)]
                cell = handle.create_dataset(name, data=np.array(items, dtype=h5py.ref_dtype).reshape(-1, 1))
                cell.attrs["MATLAB_class"] = np.bytes_("cell")
                continue
            value = np.asarray(value)
            item = handle.create_dataset(name, data=value.T)
            matlab = {"float64": "double", "float32": "single"}.get(value.dtype.name, value.dtype.name)
            item.attrs["MATLAB_class"] = np.bytes_(matlab)
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Tue Dec  1 10:00:00 2026 HDF5 schema 1.00 ."
    with open(path, "r+b") as handle:
        handle.write(header.ljust(116, b" ") + b"\0" * 8 + b"\x00\x02IM")
    return path


OCTAVE_SCRIPT = """
load('src_125.mat');
for p = {'MLMF', 'AL', 'AM'}
  neural_vecs = int16(eval(p{1}));
  save('-v7', ['octave_v7/neural_vecs_' p{1} '.mat'], 'neural_vecs');
end
load('src_175.mat');
MLMF = single(MLMF); AL = single(AL); AM = single(AM);
save('-v7', 'octave_v7_metadata.mat', 'MLMF', 'AL', 'AM', 'identity', 'yaw', 'view');
try
  save('-v7.3', 'octave_v73.mat', 'MLMF', 'AL', 'AM', 'identity', 'yaw', 'view');
  printf('octave v7.3: native\\n');
catch err
  save('-hdf5', 'octave_v73.mat', 'MLMF', 'AL', 'AM', 'identity', 'yaw', 'view');
  printf('octave v7.3: %s; written with -hdf5\\n', err.message);
end
load('src_200.mat');
save('-hdf5', 'octave_hdf5_200.h5', 'MLMF', 'AL', 'AM');
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, octave_session):
    """name -> (path, load options, Truth or (error regex, variable)), all written once."""
    root = tmp_path_factory.mktemp("lab_files")
    t125, t175, t200 = lab_truth(125), lab_truth(175), lab_truth(200)
    identity_major = lab_truth(125, order="identity-major")
    cases = {}

    # scipy: v5 and v7 (compressed) folders, v4 single files
    cases["scipy_v5_folder_125"] = (write_folder(root / "v5", t125, format="5"), {}, t125)
    cases["scipy_v7_folder_175"] = (write_folder(root / "v7", t175, do_compression=True), {}, t175)
    cases["scipy_v7_folder_200_trials"] = (write_folder(root / "v7t", t200, trials=True), {}, t200)
    v4 = root / "all_v4.mat"
    scipy.io.savemat(v4, t125.responses, format="4")
    cases["scipy_v4_single_file"] = (v4, {}, t125)
    cases["scipy_int16_counts"] = (write_folder(root / "int16", t125, dtype=np.int16), {}, t125)
    cases["scipy_uint8_counts"] = (write_folder(root / "uint8", t125, dtype=np.uint8), {}, t125)
    cases["scipy_single_precision"] = (write_folder(root / "single", t175, dtype=np.float32), {}, t175)
    cases["scipy_identity_major"] = (
        write_folder(root / "idmajor", identity_major),
        {"layout": StimulusLayout(order="identity-major")},
        identity_major,
    )
    with_metadata = root / "metadata_175.mat"
    scipy.io.savemat(with_metadata, {**t175.responses, **metadata(t175)})
    cases["scipy_metadata_1based_yaw_cellstr"] = (with_metadata, {}, t175.relabel(t175.identity + 1))
    table = root / "identity_major_layout.csv"
    pd.DataFrame({"identity": identity_major.identity + 1, "view": identity_major.view}).to_csv(table, index=False)
    cases["layout_table_csv"] = (
        root / "idmajor",
        {"layout": StimulusLayout.from_table(table)},
        identity_major.relabel(identity_major.identity + 1),
    )
    tsv = root / "layout.tsv"
    pd.DataFrame(
        {
            "stimulus": np.arange(1, 176),
            "identity": t175.identity + 1,
            "view_deg": t175.view_deg,
            "view": t175.view,
            "image": [f"img{k:03d}.png" for k in range(1, 176)],
        }
    ).to_csv(tsv, sep="\t", index=False)
    cases["layout_table_tsv_with_images"] = (
        root / "v7",
        {"layout": StimulusLayout.from_table(tsv)},
        t175.relabel(t175.identity + 1),
    )

    # HDF5: hdf5storage v7.3, MATLAB's own layout, plain h5py in C order
    h5s = root / "hdf5storage_73.mat"
    hdf5storage.savemat(str(h5s), {**t175.responses, **metadata(t175)}, format="7.3", matlab_compatible=True)
    cases["hdf5storage_v73_metadata"] = (h5s, {}, t175.relabel(t175.identity + 1))
    m73 = root / "matlab73"
    m73.mkdir()
    for patch, data in t125.responses.items():
        write_matlab73(m73 / f"neural_vecs_{patch}.mat", {"neural_vecs": data})
    cases["matlab_v73_folder"] = (m73, {}, t125)
    m73_meta = root / "matlab73_metadata.mat"
    rows = {"identity": (t175.identity + 1.0).reshape(1, -1), "yaw": t175.view_deg.reshape(1, -1)}
    counts = {patch: data.astype(np.int16) for patch, data in t175.responses.items()}
    write_matlab73(m73_meta, {**counts, **rows, "view": t175.view.tolist()})
    cases["matlab_v73_int16_metadata_cellstr"] = (m73_meta, {}, t175.relabel(t175.identity + 1))
    plain = root / "plain.h5"
    with h5py.File(plain, "w") as handle:
        for patch, data in t175.responses.items():
            handle[patch] = data  # (stimuli, neurons), read as stored
        handle["identity"] = t175.identity + 1
        handle["view_deg"] = t175.view_deg
        handle["view"] = np.array(t175.view.tolist(), dtype=h5py.string_dtype())
    cases["plain_h5py_c_order_metadata"] = (plain, {}, t175.relabel(t175.identity + 1))
    plain_mat = root / "plain_h5py.mat"
    with h5py.File(plain_mat, "w") as handle:
        for patch, data in t125.responses.items():
            handle[f"neural_vecs_{patch}"] = data.astype(np.float32)
    cases["plain_h5py_named_mat"] = (plain_mat, {}, t125.cast(np.float32))

    # GNU Octave
    for n, truth in ((125, t125), (175, t175), (200, t200)):
        scipy.io.savemat(root / f"src_{n}.mat", {**truth.responses, **metadata(truth)})
    (root / "octave_v7").mkdir()
    octave_note = octave_session(OCTAVE_SCRIPT, root)
    cases["octave_v7_int16_folder"] = (root / "octave_v7", {}, t125)
    cases["octave_v7_single_metadata"] = (
        root / "octave_v7_metadata.mat",
        {},
        t175.cast(np.float32).relabel(t175.identity + 1),
    )
    cases["octave_v73_or_hdf5_metadata"] = (root / "octave_v73.mat", {}, t175.relabel(t175.identity + 1))
    cases["octave_hdf5_200"] = (root / "octave_hdf5_200.h5", {}, t200)

    # refused, with the file, the variable and the problem named
    ambiguous = root / "ambiguous"
    ambiguous.mkdir()
    scipy.io.savemat(ambiguous / "neural_vecs_AL.mat", {"neural_vecs": t125.responses["MLMF"][:, :100].T})
    cases["neurons_by_stimuli_fits_both_ways"] = (ambiguous, {}, (r"both dimensions fit the layout", "neural_vecs"))
    cases["neurons_by_stimuli_stated"] = (
        ambiguous,
        {"orientation": "neurons-by-stimuli"},
        dataclasses.replace(t125, responses={"AL": t125.responses["MLMF"][:, :100]}, trials={}),
    )
    mixed = root / "mixed_saves"
    simulate(random_state=1).save(mixed)
    replaced = mixed / "neural_vecs_AL.mat"
    simulate(random_state=2).save(root / "other_save")
    replaced.write_bytes((root / "other_save" / "neural_vecs_AL.mat").read_bytes())
    cases["folder_mixing_two_saves"] = (mixed, {}, (r"do not come from one finished save.*neural_vecs_AL\.mat", None))
    sizes = root / "mixed_sizes"
    write_folder(sizes, t125)
    scipy.io.savemat(sizes / "neural_vecs_AM.mat", {"neural_vecs": t175.responses["AM"]})
    cases["mixed_patch_sizes"] = (
        sizes,
        {},
        (
            r"different numbers of stimuli \(neural_vecs_MLMF\.mat 125, neural_vecs_AL\.mat 125, "
            r"neural_vecs_AM\.mat 175",
            None,
        ),
    )
    chars = root / "char73"
    chars.mkdir()
    write_matlab73(chars / "neural_vecs_AL.mat", {"neural_vecs": "spikes"})
    cases["v73_char_as_responses"] = (chars, {}, (r"must be a numeric matrix, got text", "neural_vecs"))
    struct = root / "struct73.mat"
    hdf5storage.savemat(str(struct), {"data": dict(t125.responses)}, format="7.3", matlab_compatible=True)
    cases["v73_struct_of_patches"] = (
        struct,
        {},
        (
            r"no numeric matrix to read as a patch.*'data' \(struct with fields numeric: MLMF 125x120, AL 125x60, AM",
            "data",
        ),
    )
    disagree = root / "disagree.mat"
    scipy.io.savemat(disagree, {**t175.responses, **metadata(t175)})
    cases["layout_disagrees_with_metadata"] = (
        disagree,
        {"layout": StimulusLayout(order="identity-major")},
        (r"disagrees with the metadata vectors \(identity, view, yaw\)", None),
    )
    yaw_numbers = root / "view_numbers.mat"
    scipy.io.savemat(
        yaw_numbers, {**t125.responses, "identity": t125.identity + 1.0, "view": np.repeat(np.arange(1.0, 6.0), 25)}
    )
    cases["numeric_view_labels_without_yaw"] = (
        yaw_numbers,
        {},
        (r"'view' holds numbers.*view numbers or degrees", None),
    )
    return cases, octave_note


CASES = [
    "scipy_v5_folder_125",
    "scipy_v7_folder_175",
    "scipy_v7_folder_200_trials",
    "scipy_v4_single_file",
    "scipy_int16_counts",
    "scipy_uint8_counts",
    "scipy_single_precision",
    "scipy_identity_major",
    "scipy_metadata_1based_yaw_cellstr",
    "layout_table_csv",
    "layout_table_tsv_with_images",
    "hdf5storage_v73_metadata",
    "matlab_v73_folder",
    "matlab_v73_int16_metadata_cellstr",
    "plain_h5py_c_order_metadata",
    "plain_h5py_named_mat",
    "octave_v7_int16_folder",
    "octave_v7_single_metadata",
    "octave_v73_or_hdf5_metadata",
    "octave_hdf5_200",
    "neurons_by_stimuli_fits_both_ways",
    "neurons_by_stimuli_stated",
    "folder_mixing_two_saves",
    "mixed_patch_sizes",
    "v73_char_as_responses",
    "v73_struct_of_patches",
    "layout_disagrees_with_metadata",
    "numeric_view_labels_without_yaw",
]


def test_the_corpus_is_complete(corpus):
    cases, octave_note = corpus
    assert sorted(cases) == sorted(CASES) and len(cases) >= 20
    assert "octave v7.3:" in octave_note  # which writer made the Octave v7.3 case is printed there


@pytest.mark.parametrize("name", CASES)
def test_each_lab_file_loads_exactly_or_is_refused_with_the_reason(corpus, name):
    path, options, expected = corpus[0][name]
    if isinstance(expected, tuple):
        pattern, variable = expected
        with pytest.raises(RecordingFormatError) as caught:
            load_freiwald_tsao(path, **options)
        message = str(caught.value)
        assert re.search(pattern, message), message
        assert str(path) in message or path.name in message or any(f.name in message for f in path.glob("*"))
        if variable is not None:
            assert f"'{variable}'" in message
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a well-formed file warns about nothing
        recordings = load_freiwald_tsao(path, **options)
    assert set(recordings.patches) == set(expected.responses)
    for patch, values in expected.responses.items():
        dataset = recordings[patch]
        np.testing.assert_array_equal(dataset.measurements, values, err_msg=f"{name}: {patch} values")
        rows = dataset.obs_descriptors
        np.testing.assert_array_equal(rows["identity"], expected.identity, err_msg=f"{name}: identity")
        np.testing.assert_array_equal(rows["view"], expected.view, err_msg=f"{name}: view")
        np.testing.assert_array_equal(rows["view_deg"], expected.view_deg, err_msg=f"{name}: yaw")
        if patch in recordings.trials:
            np.testing.assert_array_equal(recordings.trials[patch], expected.trials[patch], err_msg=f"{name}: trials")
    assert recordings.layout.n_stimuli == len(expected.identity)
    assert recordings.layout.describe()


def test_layout_tables_keep_the_labs_stimulus_numbers_and_images(corpus):
    path, options, _ = corpus[0]["layout_table_tsv_with_images"]
    rows = load_freiwald_tsao(path, **options)["AL"].obs_descriptors
    assert rows["stimulus"].tolist() == list(range(1, 176))
    assert rows["image"][0] == "img001.png" and rows["identity"].min() == 1
    assert "layout.tsv" in load_freiwald_tsao(path, **options).layout.describe()


def test_layout_table_errors_name_the_table_and_the_rows(tmp_path):
    def table(**columns):
        path = tmp_path / f"layout{len(list(tmp_path.iterdir()))}.csv"
        pd.DataFrame(columns).to_csv(path, index=False)
        return path

    cases = [
        (table(view=["frontal"] * 3), r"layout0\.csv: needs a column 'identity'"),
        (table(identity=[1, 2, 3]), r"needs 'view' \(labels\) or 'view_deg'"),
        (table(identity=[1, 2, 3], view=["L90", "F", "R90"]), r"view labels \['F', 'L90', 'R90'\] are not FIV"),
        (table(identity=[1, 1, 2], view=["frontal", "frontal", "up"]), r"identity 1 in view 'frontal' appears more"),
        (table(identity=[1, 2, 3], view_deg=[0, "left", 0]), r"'view_deg' must hold yaw angles .* rows 1"),
        (table(identity=[1, None, 3], view=["up", "down", "up"]), r"'identity' is empty at rows 1"),
        (table(identity=[1, 2, 3], view=["a", "a", "b"], view_deg=[0, 45, 45]), r"view 'a' has several yaws"),
        (table(identity=[1, 2], view=["a", "b"], view_deg=[45, 45]), r"views 'a' and 'b' have the same yaw 45"),
    ]
    for path, pattern in cases:
        with pytest.raises(RecordingFormatError, match=pattern):
            StimulusLayout.from_table(path)
    with pytest.raises(FileNotFoundError, match="no layout table"):
        StimulusLayout.from_table(tmp_path / "missing.csv")


def test_a_layout_that_fits_the_metadata_is_accepted_and_the_metadata_labels_kept(corpus):
    path, _, expected = corpus[0]["scipy_metadata_1based_yaw_cellstr"]
    recordings = load_freiwald_tsao(path, layout=StimulusLayout())
    np.testing.assert_array_equal(recordings["AL"].obs_descriptors["identity"], expected.identity)
    assert expected.identity.min() == 1
    assert "which agree with" in recordings.layout.describe()


def test_175_rows_give_full_rdms_equal_to_a_direct_computation(corpus):
    path, _, truth = corpus[0]["scipy_v7_folder_175"]
    recordings = load_freiwald_tsao(path)
    rdms = compute_rdms(recordings)
    assert rdms.n_cond == 175 and rdms.n_rdm == 3
    for k, patch in enumerate(recordings.patches):
        data = truth.responses[patch]
        z = (data - data.mean(axis=0)) / data.std(axis=0)
        np.testing.assert_allclose(rdms.get_matrices()[k], 1 - np.corrcoef(z), atol=1e-12)
    assert rdms.pattern_descriptors["view"][150] == "down"
    table = msvt_by_object(recordings, object_key="identity")
    assert (table["views_left_out"] == "up, down").all()
    mirrored = msvt_by_object(recordings.mirror_views(), object_key="identity")
    np.testing.assert_allclose(table["msvt"], mirrored["msvt"], atol=1e-12)
    assert summarize_msvt(table)["views_left_out"].tolist() == ["up, down"] * 3


# -- end to end through the command line --------------------------------------------------------


def truth_index(truth):
    """The index per patch computed on the ground truth's own, correctly labelled rows (no loader)."""
    from rsatoolbox.data import Dataset

    rows = {"identity": truth.identity, "view": truth.view, "view_deg": truth.view_deg}
    datasets = {p: Dataset(r, obs_descriptors=rows, descriptors={"name": p}) for p, r in truth.responses.items()}
    return summarize_msvt(msvt_by_object(datasets, object_key="identity"))["msvt_mean"]


def cli_index(tmp_path, name, argv, capsys):
    out = tmp_path / name
    assert main(["demo", "--out", str(out), *argv]) == 0
    printed = capsys.readouterr().out
    return pd.read_csv(out / "msvt_summary.csv", index_col="patch")["msvt_mean"], printed, out


def test_cli_reads_every_layout_the_lab_states(tmp_path, capsys):
    truth = lab_truth(125, order="identity-major")
    expected = truth_index(truth)
    assert expected["AL"] > 0.9 and expected["MLMF"] < -0.7  # AL mirror-symmetric, MLMF view-specific
    folder = write_folder(tmp_path / "identity_major", truth)

    by_order, printed, out = cli_index(
        tmp_path, "order", ["--neural", str(folder), "--order", "identity-major"], capsys
    )
    assert "layout 25 identities x 5 views" in printed and "identity-major" in printed
    assert "the options --order identity-major" in printed
    api = load_freiwald_tsao(folder, layout=StimulusLayout(order="identity-major"))
    api_index = summarize_msvt(msvt_by_object(api, object_key="identity"))["msvt_mean"]
    for patch in ("AL", "MLMF"):
        assert by_order[patch] == pytest.approx(expected[patch], abs=1e-9)
        assert by_order[patch] == pytest.approx(api_index[patch], abs=1e-9)
    written = pd.read_csv(out / "layout.csv")
    assert written.identity.tolist()[:6] == [0, 0, 0, 0, 0, 1] and not (out / "msvt_by_layer.csv").exists()

    table = tmp_path / "rows.csv"
    pd.DataFrame({"identity": truth.identity + 1, "view": truth.view}).to_csv(table, index=False)
    by_table, printed, _ = cli_index(tmp_path, "table", ["--neural", str(folder), "--layout", str(table)], capsys)
    assert f"the layout table {table}" in printed

    single = tmp_path / "one_file.mat"
    scipy.io.savemat(single, {**truth.responses, **metadata(truth)})
    by_metadata, printed, _ = cli_index(tmp_path, "metadata", ["--neural", str(single)], capsys)
    assert "the metadata vectors (identity, view, yaw)" in printed
    for index in (by_table, by_metadata):
        for patch in ("AL", "MLMF"):
            assert index[patch] == pytest.approx(expected[patch], abs=1e-9)

    # nothing states the layout: the default is assumed, and said (here it is wrong, as it must be)
    wrong, printed, _ = cli_index(tmp_path, "default", ["--neural", str(folder)], capsys)
    assert "the FIV default, assumed: nothing stated the layout (state it with --layout" in printed
    assert abs(wrong["AL"] - expected["AL"]) > 0.5


def test_cli_keeps_every_row_and_says_which_views_the_index_leaves_out(tmp_path, capsys):
    folder = write_folder(tmp_path / "rec175", lab_truth(175))
    assert main(["export-mat", "--neural", str(folder), "--out", str(tmp_path / "rdms.mat")]) == 0
    printed = capsys.readouterr().out
    assert "175 x 175 stimuli" in printed
    assert len(pd.read_csv(tmp_path / "rdms.layout.csv")) == 175
    assert scipy.io.loadmat(tmp_path / "rdms.mat")["RDMs"][0, 0]["RDM"].shape == (175, 175)
    assert main(["export-mat", "--neural", str(folder), "--mirror-views", "--out", str(tmp_path / "yaw.mat")]) == 0
    printed = capsys.readouterr().out
    assert "left out: up, down" in printed and "125 x 125 stimuli" in printed
    _, printed, out = cli_index(tmp_path, "demo175", ["--neural", str(folder)], capsys)
    assert "left out for want of a mirror view: up, down" in printed and "over all 175 stimuli" in printed
    assert pd.read_csv(out / "msvt_summary.csv")["views_left_out"].tolist() == ["up, down"] * 3


def test_cli_refuses_an_ambiguous_matrix_and_reads_it_once_told(tmp_path, capsys):
    truth = lab_truth(125)
    folder = tmp_path / "transposed"
    folder.mkdir()
    scipy.io.savemat(folder / "neural_vecs_AL.mat", {"neural_vecs": truth.responses["MLMF"][:, :100].T})
    assert main(["export-mat", "--neural", str(folder), "--out", str(tmp_path / "x.mat")]) == 2
    error = capsys.readouterr().err
    assert "neural_vecs_AL.mat: variable 'neural_vecs' of shape (100, 125): both dimensions fit" in error
    assert "--orientation" in error and not (tmp_path / "x.mat").exists()
    argv = [
        "export-mat",
        "--neural",
        str(folder),
        "--orientation",
        "neurons-by-stimuli",
        "--out",
        str(tmp_path / "y.mat"),
    ]
    assert main(argv) == 0 and "125 x 125 stimuli" in capsys.readouterr().out


def test_cli_checks_the_weights_before_rendering_and_says_it_in_cli_words(tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "empty_hub"))
    assert main(["align", "--simulate", "--out", str(tmp_path / "a")]) == 2
    captured = capsys.readouterr()
    assert "--weights untrained" in captured.err and "weights='untrained'" not in captured.err
    assert "simulated" not in captured.out  # refused before loading anything


# -- saves are atomic as a whole ----------------------------------------------------------------

KILLER = """
import os, signal, sys
import numpy as np
import neural_data.recordings as recordings
from neural_data import simulate_face_patches
write = recordings.__dict__.get("write_mat")
import matlab_bridge
real = matlab_bridge.write_mat
calls = {{"n": 0}}
def dying(*args, **kwargs):
    if calls["n"] == {kill_after}:
        os.kill(os.getpid(), signal.SIGKILL)
    calls["n"] += 1
    return real(*args, **kwargs)
matlab_bridge.write_mat = dying
import neural_data.saves as saves
real_manifest = saves.write_manifest
def dying_manifest(*args, **kwargs):
    if {kill_after} == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return real_manifest(*args, **kwargs)
recordings.write_manifest = dying_manifest
simulate_face_patches(random_state=9).save(sys.argv[1])
"""


@pytest.mark.parametrize("kill_after", [0, 1, 2, 3])
def test_a_save_killed_between_patches_never_loads_as_a_mix(tmp_path, kill_after):
    """kill_after = k: SIGKILL before writing file k (3: all files written, before the manifest)."""
    folder = tmp_path / "recordings"
    old = simulate(random_state=8)
    old.save(folder)
    new = simulate(random_state=9)
    script = textwrap.dedent(KILLER.format(kill_after=kill_after))
    done = subprocess.run([sys.executable, "-c", script, str(folder)], capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    try:
        loaded = load_freiwald_tsao(folder)
    except RecordingFormatError as error:
        assert "do not come from one finished save" in str(error) and "neural_vecs_" in str(error)
        assert kill_after > 0  # nothing was written yet at 0: the old save must load
        return
    for source in (old, new):
        if all(np.array_equal(loaded[p].measurements, source[p].measurements) for p in source):
            break
    else:
        pytest.fail(f"killed after {kill_after} files, the folder loads as a mix of two saves")
    assert kill_after == 0 and all(np.array_equal(loaded[p].measurements, old[p].measurements) for p in old)
    assert not [f for f in os.listdir(folder) if f.startswith(".")]  # no temporary left behind


def test_saves_replace_stale_patches_and_never_touch_a_labs_files(tmp_path):
    folder = tmp_path / "recordings"
    simulate(random_state=1).save(folder)
    subset = simulate(random_state=2)
    from neural_data import Recordings

    Recordings({"AL": subset["AL"]}, trials={"AL": subset.trials["AL"]}, layout=subset.layout).save(folder)
    assert sorted(f.name for f in folder.glob("neural_vecs_*.mat")) == ["neural_vecs_AL.mat"]
    assert load_freiwald_tsao(folder).patches == ("AL",)
    lab = write_folder(tmp_path / "lab", lab_truth(125))
    with pytest.raises(RecordingFormatError, match=r"holds neural_vecs_AL\.mat, neural_vecs_AM\.mat, .*which no save"):
        simulate(random_state=3).save(lab)
    (folder / "neural_vecs_PL.mat").write_bytes((lab / "neural_vecs_AL.mat").read_bytes())
    with pytest.raises(RecordingFormatError, match=r"neural_vecs_PL\.mat are not part of that save"):
        load_freiwald_tsao(folder)


# -- from MATLAB / Octave -----------------------------------------------------------------------


def test_octave_runs_export_mat_and_reports_the_clis_error(tmp_path, octave):
    write_folder(tmp_path / "rec", lab_truth(175))
    env = {"RSA_MIRROR": f"{sys.executable} -m rsa_mirror.cli"}
    out = octave(
        "r = rsa_mirror_run('export-mat', '--neural', 'rec', '--out', 'rdms.mat');"
        "s = load('rdms.mat'); printf('%d %d\\n', size(s.RDMs(2).RDM)); printf('%s\\n', s.RDMs_info.positions);"
        "printf('[%s]\\n', strjoin(s.RDMs_info.labels, ','));"
        "assert(~isempty(strfind(r.output, 'layout')));",
        tmp_path,
        env=env,
    )
    lines = out.strip().splitlines()
    assert lines[-3] == "175 175" and "1-based" in lines[-2] and "identity" in lines[-1]
    failing = (
        "try, rsa_mirror_run('export-mat', '--neural', 'nowhere', '--out', 'x.mat'); disp('no error');"
        "catch err, disp(err.identifier); disp(err.message); end"
    )
    out = octave(failing, tmp_path, env=env)
    assert "rsa_mirror:run" in out and "rsa-mirror export-mat: error: no recordings at nowhere" in out


def test_metadata_errors_name_the_file_and_the_variable(tmp_path):
    truth = lab_truth(125)
    meta = metadata(truth)
    folder = write_folder(tmp_path / "partial", truth)
    scipy.io.savemat(folder / "neural_vecs_AL.mat", {"neural_vecs": truth.responses["AL"], **meta})
    with pytest.raises(RecordingFormatError, match=r"neural_vecs_AL\.mat hold metadata vectors but neural_vecs_MLMF"):
        load_freiwald_tsao(folder)
    for patch in truth.responses:
        shuffled = {**meta, "identity": meta["identity"][:, ::-1]} if patch == "AM" else meta
        scipy.io.savemat(folder / f"neural_vecs_{patch}.mat", {"neural_vecs": truth.responses[patch], **shuffled})
    with pytest.raises(RecordingFormatError, match=r"neural_vecs_AM\.mat: its metadata vectors disagree with those of"):
        load_freiwald_tsao(folder)
    cases = [
        ({"identity": meta["identity"], "yaw": meta["yaw"][:, :100]}, r"differ in length \(identity 125, yaw 100\)"),
        ({"identity": np.ones((125, 2)), "yaw": meta["yaw"]}, r"metadata variable 'identity' must be a vector"),
        ({"yaw": meta["yaw"]}, r"metadata vectors \(yaw\) in .*one\.mat: needs a column 'identity'"),
    ]
    for variables, pattern in cases:
        scipy.io.savemat(tmp_path / "one.mat", {**truth.responses, **variables})
        with pytest.raises(RecordingFormatError, match=pattern):
            load_freiwald_tsao(tmp_path / "one.mat")
    # same yaws row by row, but the metadata group the rows into other identities (rolled per view)
    view, position = np.divmod(np.arange(125), 25)
    rolled = {**meta, "identity": ((position + view) % 25 + 1.0).reshape(1, -1)}
    scipy.io.savemat(tmp_path / "one.mat", {**truth.responses, **rolled})
    assert load_freiwald_tsao(tmp_path / "one.mat")["AL"].n_obs == 125  # consistent on its own
    with pytest.raises(RecordingFormatError, match=r"row 25 \(0-based\) shows identity 0 against 2, which group"):
        load_freiwald_tsao(tmp_path / "one.mat", layout=StimulusLayout())


SLOW_SAVE = """
import sys, time
import matlab_bridge
from neural_data import simulate_face_patches
real = matlab_bridge.write_mat
def slow(*args, **kwargs):
    out = real(*args, **kwargs)
    time.sleep(float(sys.argv[3]))
    return out
matlab_bridge.write_mat = slow
simulate_face_patches(random_state=int(sys.argv[2])).save(sys.argv[1])
"""


def test_two_saves_at_once_into_one_folder_never_load_as_a_mix(tmp_path):
    folder = tmp_path / "recordings"
    first = subprocess.Popen([sys.executable, "-c", SLOW_SAVE, str(folder), "1", "1.0"])
    time.sleep(3.0)  # the first save is between its patches
    second = subprocess.run([sys.executable, "-c", SLOW_SAVE, str(folder), "2", "0"], timeout=120)
    assert first.wait(timeout=120) == 0 and second.returncode == 0
    loaded = load_freiwald_tsao(folder)
    sources = [simulate(random_state=seed) for seed in (1, 2)]
    whole = [all(np.array_equal(loaded[p].measurements, s[p].measurements) for p in s) for s in sources]
    assert sorted(whole) == [False, True]  # one save, whole: saves into one folder wait for each other


def test_metadata_names_in_any_case_and_only_patch_named_matrices(tmp_path):
    truth = lab_truth(125, order="identity-major")
    meta = {k.capitalize(): v for k, v in metadata(truth).items()}  # Identity, Yaw, View
    extra = {"rt_ms": np.random.default_rng(0).normal(300, 20, (125, 2)), "stim_info": np.ones((125, 3))}
    scipy.io.savemat(tmp_path / "one.mat", {**truth.responses, **meta, **extra})
    with pytest.warns(UserWarning, match=r"reading the patches MLMF, AL, AM; not the other matrices 'rt_ms'"):
        recordings = load_freiwald_tsao(tmp_path / "one.mat")
    assert set(recordings.patches) == {"MLMF", "AL", "AM"}
    np.testing.assert_array_equal(recordings["AL"].obs_descriptors["view"], truth.view)
    np.testing.assert_array_equal(recordings["AL"].obs_descriptors["identity"], truth.identity + 1)
    assert load_freiwald_tsao(tmp_path / "one.mat", patches="AL").patches == ("AL",)
    with pytest.raises(InvalidArgumentError, match="Invalid value for 'patches'.*empty"):
        load_freiwald_tsao(tmp_path / "one.mat", patches=[])
    scipy.io.savemat(tmp_path / "twice.mat", {**truth.responses, "identity": meta["Identity"], **meta})
    with pytest.raises(RecordingFormatError, match=r"twice\.mat: holds the metadata variable 'identity' twice"):
        load_freiwald_tsao(tmp_path / "twice.mat")


def test_sparse_ranges_and_headerless_v73_read_exactly(tmp_path, octave):
    truth = lab_truth(125)
    sparse = {p: scipy.sparse.csc_matrix(r) for p, r in truth.responses.items()}
    scipy.io.savemat(tmp_path / "sparse.mat", sparse)
    loaded = load_freiwald_tsao(tmp_path / "sparse.mat")
    for patch, values in truth.responses.items():
        np.testing.assert_array_equal(loaded[patch].measurements, values)
    scipy.io.savemat(tmp_path / "src.mat", truth.responses)
    octave(
        "load('src.mat'); AL = sparse(AL); stimulus = 1:125; identity = repmat(1:25, 1, 5);"
        "yaw = kron([-90 -45 0 45 90], ones(1, 25)); save('-hdf5', 'octave.h5', 'AL', 'stimulus', 'identity', 'yaw');"
        "save('text.mat', 'AL');",
        tmp_path,
    )
    loaded = load_freiwald_tsao(tmp_path / "octave.h5")
    np.testing.assert_array_equal(loaded["AL"].measurements, truth.responses["AL"])
    assert loaded["AL"].obs_descriptors["stimulus"].tolist() == list(range(1, 126))
    with pytest.raises(RecordingFormatError, match=r"text\.mat: written in GNU Octave's own text format.*-v7"):
        load_freiwald_tsao(tmp_path / "text.mat")
    for patch, values in truth.responses.items():  # hdf5storage's MATLAB layout, without MATLAB's header
        hdf5storage.write(values, path=f"/{patch}", filename=str(tmp_path / "bare73.mat"), matlab_compatible=True)
    loaded = load_freiwald_tsao(tmp_path / "bare73.mat")
    np.testing.assert_array_equal(loaded["AM"].measurements, truth.responses["AM"])


@pytest.mark.parametrize(
    ("yaw", "pattern"),
    [
        (360.0, r"from -180 to 180 .* got 360 at row 0"),
        (np.inf, r"from -180 to 180 .* got inf at row 0"),
    ],
)
def test_yaw_out_of_range_is_refused(tmp_path, yaw, pattern):
    truth = lab_truth(125)
    meta = metadata(truth)
    meta["yaw"] = meta["yaw"].copy()
    meta["yaw"][0, 0] = yaw
    scipy.io.savemat(tmp_path / "one.mat", {**truth.responses, **meta})
    with pytest.raises(RecordingFormatError, match=pattern):
        load_freiwald_tsao(tmp_path / "one.mat")


def test_back_view_given_two_yaws_and_signed_zero_yaws(tmp_path):
    with pytest.raises(RecordingFormatError, match="180 and -180 are the same"):
        StimulusLayout.from_table({"identity": [1, 2, 1, 2], "view_deg": [180, 180, -180, -180]})
    truth = lab_truth(125)
    folder = write_folder(tmp_path / "zeros", truth)
    for k, patch in enumerate(truth.responses):
        meta = metadata(truth)
        meta["yaw"] = np.where(meta["yaw"] == 0, -0.0 if k else 0.0, meta["yaw"])
        scipy.io.savemat(folder / f"neural_vecs_{patch}.mat", {"neural_vecs": truth.responses[patch], **meta})
    assert load_freiwald_tsao(folder)["AL"].n_obs == 125  # 0.0 and -0.0 are the same yaw


def test_a_save_never_overwrites_a_labs_file_of_a_saved_name(tmp_path):
    folder = simulate(random_state=1).save(tmp_path / "saved")
    lab = write_folder(tmp_path / "lab", lab_truth(125))
    (folder / "neural_vecs_AL.mat").write_bytes((lab / "neural_vecs_AL.mat").read_bytes())
    with pytest.raises(RecordingFormatError, match=r"holds neural_vecs_AL\.mat, which no save wrote"):
        simulate(random_state=2).save(folder)
    assert (folder / "neural_vecs_AL.mat").read_bytes() == (lab / "neural_vecs_AL.mat").read_bytes()
