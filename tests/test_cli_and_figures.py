"""The default study end to end, and the RDM figure."""

import matplotlib.figure
import numpy as np
import pandas as pd
import pytest
import scipy.io

from neural_data import load_freiwald_tsao
from rsa_mirror import compute_rdms, msvt_by_object, summarize_msvt
from rsa_mirror.cli import main
from rsa_mirror.vis import plot_rdms


def test_demo_writes_figure_tables_and_lab_files(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "simulated recordings (seed 3)" in printed
    summary = pd.read_csv(tmp_path / "msvt_summary.csv", index_col="patch")
    # the tables hold what the analysis computes on the recordings the demo wrote
    recordings = load_freiwald_tsao(tmp_path / "recordings")
    expected = summarize_msvt(msvt_by_object(recordings, object_key="identity"))
    np.testing.assert_allclose(summary["msvt_mean"], expected["msvt_mean"], rtol=1e-12)
    assert list(summary.index) == ["MLMF", "AL", "AM"]
    assert summary.loc["AL", "msvt_mean"] > 0.7
    assert (summary["chance_level"] == -0.25).all()
    by_identity = pd.read_csv(tmp_path / "msvt_by_identity.csv")
    assert len(by_identity) == 75 and set(by_identity.columns) >= {"patch", "identity", "msvt"}
    assert (tmp_path / "patch_rdms.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the network part: rendered faces through AlexNet, weights stated, one row per layer
    assert "using an untrained AlexNet" in printed or "imagenet (IMAGENET1K_V1)" in printed
    layers = pd.read_csv(tmp_path / "msvt_by_layer.csv", index_col="layer")
    assert list(layers.index) == ["conv1", "conv2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8"]
    assert (layers["n_objects"] == 25).all() and layers["msvt_mean"].between(-1, 1).all()
    assert (tmp_path / "msvt_by_layer.png").exists()
    if "using an untrained AlexNet" in printed:  # then the shipped trained control network stands beside it
        control = pd.read_csv(tmp_path / "msvt_by_layer_control.csv", index_col="layer")
        assert list(control.index) == ["conv1", "conv2", "conv3", "conv4", "fc1", "fc2", "fc3"]
        assert "trained on rendered (original, seed 0)" in printed
    # the alignment: 3 patches x 9 layers, Shapley parts summing to r, ceilings, replayable samples
    alignment = pd.read_csv(tmp_path / "alignment.csv")
    assert len(alignment) == 27 and list(alignment.patch.unique()) == ["MLMF", "AL", "AM"]
    np.testing.assert_allclose(alignment.invariant + alignment.sensitive, alignment.estimate, atol=1e-12)
    assert (alignment.ceiling_lower <= alignment.ceiling_upper).all() and alignment.ceiling_upper.le(1).all()
    assert (alignment["std"] > 0).all() and (alignment.ci_low <= alignment.estimate).mean() > 0.9
    sensitive = alignment.groupby("patch").sensitive.mean()
    assert sensitive["MLMF"] > sensitive["AL"] + 0.3  # view-specific MLMF needs the sensitive part
    with np.load(tmp_path / "bootstrap_samples.npz") as saved:
        assert saved["samples"].shape == (3, 9, 1000) and saved["indices"].shape == (1000, 125)
        assert saved["shapley_samples"].shape == (3, 9, 2, 1000)
    assert "best layer per patch" in printed and (tmp_path / "alignment_figure6.png").exists()
    assert not list(tmp_path.glob(".*part*"))  # no temporary files left behind


def test_demo_on_own_recordings_with_extra_views(tmp_path, capsys, simulated):
    """175-row files (5 yaw views + up + down): the demo keeps the yaw views, same numbers."""
    rng = np.random.default_rng(0)
    for patch in simulated:
        extra = rng.poisson(4.0, (50, simulated[patch].n_channel)).astype(float)
        scipy.io.savemat(
            tmp_path / f"neural_vecs_{patch}.mat", {"neural_vecs": np.r_[simulated[patch].measurements, extra]}
        )
    assert main(["demo", "--out", str(tmp_path / "out"), "--neural", str(tmp_path), "--patches-only"]) == 0
    assert not (tmp_path / "out" / "msvt_by_layer.csv").exists()
    assert f"recordings in {tmp_path}" in capsys.readouterr().out
    summary = pd.read_csv(tmp_path / "out" / "msvt_summary.csv", index_col="patch")
    expected = summarize_msvt(msvt_by_object(simulated, object_key="identity"))
    np.testing.assert_allclose(summary["msvt_mean"], expected["msvt_mean"], rtol=1e-12)


def test_demo_reports_bad_input_as_an_error(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--neural", str(tmp_path / "missing")]) == 2
    assert "rsa-mirror demo: error: no recordings at" in capsys.readouterr().err


def test_plot_rdms_sorts_by_view_and_labels_groups(simulated):
    rdms = compute_rdms(simulated)
    shuffled = rdms.copy()
    shuffled.reorder(np.random.default_rng(0).permutation(125))
    figure = plot_rdms(shuffled, titles=["a", "b", "c"])
    assert isinstance(figure, matplotlib.figure.Figure)
    heatmaps = [ax for ax in figure.axes if ax.images]
    assert [ax.get_title() for ax in heatmaps[:3]] == ["a", "b", "c"]
    # sorting by (view, identity) restores the simulated view-major order exactly
    np.testing.assert_allclose(heatmaps[1].images[0].get_array(), rdms.get_matrices()[1])
    labels = [t.get_text() for t in heatmaps[0].get_xticklabels(minor=True)]
    assert labels == [
        "left profile (-90°)",
        "left half profile (-45°)",
        "frontal (0°)",
        "right half profile (+45°)",
        "right profile (+90°)",
    ]


def test_plot_rdms_draws_into_given_axes(simulated):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3)
    assert plot_rdms(compute_rdms(simulated), axes=axes) is fig
    with pytest.raises(ValueError, match="one axis and one title per RDM \\(3\\), got 1 and 1"):
        plot_rdms(compute_rdms(simulated), axes=axes[:1], titles=["only one"])


# The figure examples run at the small setting the documentation builds them with
# (RSA_MIRROR_EXAMPLE_SCALE=docs, described in each example's docstring): the same code as the
# full scale, with fewer images, masks, resamples and epochs. Each names the figure it writes.
FIGURES = {
    "figure2_msvt_by_layer.py": "figure2_msvt_by_layer.png",
    "figure3_equivariance.py": "figure3_equivariance.png",
    "figure4_control_networks.py": "figure4/figure4.png",
    "figure5_importance.py": "figure5/figure5.png",
    "figure6_alignment.py": "figure6_alignment.png",
}


@pytest.mark.parametrize(
    "script",
    [
        "face_patch_symmetry.py",
        "load_lab_recordings.py",
        *(pytest.param(script, marks=pytest.mark.slow) for script in FIGURES),
    ],
)
def test_examples_run(script, tmp_path, monkeypatch, capsys):
    import runpy
    import sys
    from pathlib import Path

    path = Path(__file__).parent.parent / "examples" / script
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(path)])
    monkeypatch.setenv("RSA_MIRROR_EXAMPLE_SCALE", "docs")
    runpy.run_path(str(path), run_name="__main__")
    printed = capsys.readouterr().out
    if script in FIGURES:
        assert "wrote" in printed and (tmp_path / FIGURES[script]).is_file()
    else:
        assert "AL" in printed and "msvt_mean" in printed


def test_render_command_writes_a_stimulus_set(tmp_path, capsys):
    from rsa_mirror.stimuli import load_stimuli

    assert main(["render", "--out", str(tmp_path), "--n-exemplars", "1", "--size", "32", "--seed", "1"]) == 0
    stimuli = load_stimuli(tmp_path / "stimuli.npz")
    assert stimuli.images.shape == (81, 32, 32)
    assert (tmp_path / "stimuli.png").exists()
    assert "81 images (objects)" in capsys.readouterr().out


@pytest.fixture(scope="module")
def alexnet_file(tmp_path_factory):
    """A state-dict file standing in for trained weights (an untrained AlexNet, seed 7)."""
    import torch

    from rsa_mirror.networks.models import load_model

    path = tmp_path_factory.mktemp("weights") / "alexnet_seed7.pt"
    torch.save(load_model("alexnet", weights="untrained", random_state=7).module.state_dict(), path)
    return path


def test_msvt_command_compares_with_the_untrained_network(tmp_path, alexnet_file, capsys):
    from rsa_mirror.stimuli import render_objects

    stimuli = render_objects(categories=("chair", "fruit"), n_exemplars=2, size=64, random_state=0)
    stimuli.save(tmp_path / "set.npz")
    args = ["msvt", "--weights", str(alexnet_file), "--stimuli", str(tmp_path / "set.npz"), "--out", str(tmp_path)]
    assert main([*args, "--device", "cpu", "--batch-size", "9"]) == 0
    table = pd.read_csv(tmp_path / "msvt_by_object.csv")
    assert set(table["network"]) == {f"alexnet, file {alexnet_file}", "alexnet, untrained (LeCun normal, seed 0)"}
    assert len(table) == 2 * 12 * 4  # networks x Figure 2C's layers (image .. fc8) x objects
    for figure in ("msvt_figure2.png", "view_rdms_figure2a.png"):
        assert (tmp_path / figure).read_bytes()[:4] == b"\x89PNG"


def test_equivariance_command_on_natural_images(tmp_path, capsys):
    args = ["equivariance", "--weights", "untrained", "--images", "natural", "--n-images", "6", "--size", "64"]
    assert main([*args, "--out", str(tmp_path), "--device", "cpu", "--mat", str(tmp_path / "eq.mat")]) == 0
    table = pd.read_csv(tmp_path / "equivariance.csv")
    assert set(table["transform"]) == {"hflip", "vflip", "rot90"}
    from matlab_bridge import load_results

    pd.testing.assert_frame_equal(load_results(tmp_path / "eq.mat")["equivariance"], table, check_exact=False)
    assert set(table.loc[table["layer"] == "fc6", "measure"]) == {"invariance"}
    assert (tmp_path / "equivariance_figure3.png").exists()


def test_missing_imagenet_weights_make_a_clear_cli_error(tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "empty_hub"))
    assert main(["msvt", "--out", str(tmp_path), "--n-exemplars", "1"]) == 2
    error = capsys.readouterr().err
    assert "rsa-mirror msvt: error: ImageNet weights for alexnet are not in the torchvision cache" in error


def test_view_rdm_panels_show_each_objects_rdm_per_layer():
    from rsa_mirror import compute_view_rdms
    from rsa_mirror.vis import plot_view_rdms

    rng = np.random.default_rng(0)
    descriptors = {"object": np.repeat(["a", "b"], 5), "view_deg": np.tile([-90.0, -45.0, 0.0, 45.0, 90.0], 2)}
    view_rdms = compute_view_rdms(
        {"l1": rng.standard_normal((10, 20)), "l2": rng.standard_normal((10, 8))}, descriptors=descriptors
    )
    table = msvt_by_object(view_rdms)
    figure = plot_view_rdms(view_rdms, objects=["b", "a"], msvt=table)
    panels = [ax for ax in figure.axes if ax.images]
    assert len(panels) == 4
    # row 0 is object b, column 1 is layer l2: the panel shows exactly that RDM
    names, objects = (np.asarray(view_rdms.rdm_descriptors[k]) for k in ("name", "object"))
    index = int(np.flatnonzero((names == "l2") & (objects == "b"))[0])
    np.testing.assert_allclose(panels[1].images[0].get_array(), view_rdms.get_matrices()[index])
    expected = table[(table["name"] == "l2") & (table["object"] == "b")]["msvt"].iloc[0]
    assert panels[1].texts[0].get_text() == f"{expected:.2f}"
    with pytest.raises(ValueError, match="no view RDM for object 'c'"):
        plot_view_rdms(view_rdms, objects=["c"])


def test_align_command_matches_stimuli_to_recordings(tmp_path, capsys):
    """Recordings are view-major, rendered faces identity-major: align must pair them by
    (identity, view) before correlating. Checked against an independent computation."""
    from neural_data import simulate_face_patches
    from rsa_mirror.networks.activations import extract_activations
    from rsa_mirror.networks.models import load_model
    from rsa_mirror.stimuli import render_faces

    recordings = simulate_face_patches(random_state=2)  # the FIV layout: 25 identities x 5 views
    folder = recordings.save(tmp_path / "recordings")
    faces = render_faces(n_identities=25, size=32, random_state=2)
    faces.save(tmp_path / "faces.npz")
    args = ["align", "--neural", str(folder), "--stimuli", str(tmp_path / "faces.npz"), "--out", str(tmp_path / "out")]
    options = ["--weights", "untrained", "--n-bootstrap", "20", "--n-splits", "5", "--device", "cpu"]
    assert main([*args, *options]) == 0
    alignment = pd.read_csv(tmp_path / "out" / "alignment.csv")
    order = [
        np.flatnonzero((faces.descriptors["identity"] == i) & (faces.descriptors["view_deg"] == v))[0]
        for i, v in zip(*(recordings["AL"].obs_descriptors[k] for k in ("identity", "view_deg")), strict=True)
    ]
    conv2 = extract_activations(load_model("alexnet", weights="untrained"), faces, ["conv2"], device="cpu")["conv2"]
    model = compute_rdms({"conv2": conv2[order]}, normalize="none").get_vectors()[0]  # Figure 6's plain RDMs
    brain = compute_rdms(load_freiwald_tsao(folder), normalize="none").get_vectors()[1]  # AL
    expected = np.corrcoef(model, brain)[0, 1]
    row = alignment[(alignment.patch == "AL") & (alignment.layer == "conv2")].iloc[0]
    assert row.estimate == pytest.approx(expected, abs=1e-6)
    assert main(["align", "--neural", str(folder), "--out", str(tmp_path / "x")]) == 2
    assert "--neural needs --stimuli" in capsys.readouterr().err


def test_train_command_trains_measures_and_resumes(tmp_path, capsys):
    args = ["train", "--dataset", "digits", "--epochs", "1", "--device", "cpu", "--out", str(tmp_path)]
    assert main([*args, "--mat", str(tmp_path / "train.mat")]) == 0
    history = pd.read_csv(tmp_path / "history.csv")
    assert history.epoch.tolist() == [1] and (tmp_path / "network.pt").exists()
    table = pd.read_csv(tmp_path / "msvt_by_object.csv")
    assert set(table.layer) == {"conv1", "conv2", "conv3", "conv4", "fc1", "fc2", "fc3"}
    assert set(table.category) >= {"face", "car", "fruit"}
    for figure in ("training_curves.png", "msvt_figure4.png"):
        assert (tmp_path / figure).read_bytes()[:4] == b"\x89PNG"
    assert "digits, original, seed 0: 1 epochs" in capsys.readouterr().out
    assert main([*args[:-4], "--epochs", "2", "--device", "cpu", "--out", str(tmp_path)]) == 0  # resumes at epoch 2
    assert pd.read_csv(tmp_path / "history.csv").epoch.tolist() == [1, 2]
    assert pd.read_csv(tmp_path / "history.csv").train_loss.iloc[0] == pytest.approx(history.train_loss.iloc[0])
