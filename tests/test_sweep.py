"""The model sweep: one task per network, one comparison; a LocalCluster gives the serial table; failures reported.

Tiny inputs (12 stimuli of 32 x 32 pixels, AlexNet and ResNet-50 untrained, 40 resamples) so
that each test runs in seconds; the numbers are checked against ``brain_alignment`` run on the
network's own activations, and against closed forms (argmax, Benjamini-Hochberg).
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from neural_data import simulate_face_patches
from rsa_mirror.errors import DataError, InvalidArgumentError, InvalidTypeError
from rsa_mirror.stimuli import StimulusSet
from rsa_mirror.studies.sweep import compare_layers, sweep_study

torch = pytest.importorskip("torch")

SEED = 3
OPTIONS = {"n_bootstrap": 40, "n_splits": 4, "random_state": SEED, "threads": 1, "device": "cpu", "verbose": False}
NETWORKS = ["alexnet", "resnet50"]


@pytest.fixture(scope="module")
def recordings():
    """MLMF/AL/AM, 4 identities x 3 mirror-paired views, 15 neurons each."""
    return simulate_face_patches(n_identities=4, views_deg=(-45, 0, 45), n_neurons=15, random_state=1)


@pytest.fixture(scope="module")
def stimuli(recordings):
    """Random 32 x 32 images, one per recorded row, in another order than the recordings'."""
    rows = next(iter(recordings.values())).obs_descriptors
    order = np.random.default_rng(5).permutation(len(rows["identity"]))
    images = np.random.default_rng(2).uniform(0, 1, (len(order), 32, 32)).astype(np.float32)
    descriptors = {"identity": np.asarray(rows["identity"])[order], "view_deg": np.asarray(rows["view_deg"])[order]}
    return StimulusSet(images, descriptors)


@pytest.fixture(scope="module")
def serial(recordings, stimuli):
    return sweep_study(recordings, stimuli, NETWORKS, weights="untrained", **OPTIONS)


def test_each_networks_rows_are_brain_alignments_and_the_flags_their_closed_forms(serial, recordings, stimuli):
    from rsa_mirror.networks.activations import extract_activations
    from rsa_mirror.networks.models import load_model
    from rsa_mirror.studies.figure6 import brain_alignment

    aligned = stimuli.aligned_to(next(iter(recordings.values())).obs_descriptors)
    torch.set_num_threads(1)
    model = load_model("alexnet", weights="untrained", random_state=SEED)
    f_x = extract_activations(model, aligned, "all", device="cpu")
    f_gx = extract_activations(model, aligned.mirrored(), "all", device="cpu")
    alone = brain_alignment(f_x, f_gx, recordings, n_bootstrap=40, n_splits=4, random_state=SEED).comparison
    sweep = serial.comparison
    columns = [i for i, network in enumerate(serial.networks) if network == "alexnet"]
    assert [serial.layers[i] for i in columns] == list(f_x) and sweep.brain_names == alone.brain_names
    np.testing.assert_array_equal(sweep.indices, alone.indices)
    np.testing.assert_allclose(sweep.estimate[:, columns], alone.estimate, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sweep.samples[:, columns], alone.samples, rtol=0, atol=1e-12)
    for patch in recordings:
        assert sweep.ceilings[patch].lower == pytest.approx(alone.ceilings[patch].lower, abs=1e-12)
        np.testing.assert_allclose(sweep.ceilings[patch].samples, alone.ceilings[patch].samples, atol=1e-12)

    table = serial.summary()
    assert len(table) == 3 * (9 + 8) and list(table.patch.unique()) == list(recordings)
    for patch, rows in table.groupby("patch", sort=False):
        assert rows.best.sum() == 1 and rows.estimate.idxmax() == rows.index[rows.best][0]
        for _, part in rows.groupby("model"):
            assert part.estimate.idxmax() == part.index[part.best_of_model][0]
            assert list(part.depth) == list(range(len(part))) and part.relative_depth.iloc[-1] == 1.0
        np.testing.assert_allclose(rows.q_vs_ceiling, stats.false_discovery_control(rows.p_vs_ceiling), atol=1e-15)
        assert rows.ceiling_lower.iloc[0] == sweep.ceilings[patch].lower
    assert set(table.weights) == {f"untrained (LeCun normal, seed {SEED})"} and serial.failures == {}


@pytest.mark.slow  # a LocalCluster of two processes, each importing torch
def test_a_local_cluster_of_two_workers_gives_the_serial_table_and_names_the_failed_network(
    serial, recordings, stimuli
):
    pytest.importorskip("distributed")
    models = ["alexnet", "no_such_net", "resnet50"]
    cluster = sweep_study(recordings, stimuli, models, weights="untrained", scheduler="local", n_jobs=2, **OPTIONS)
    pd.testing.assert_frame_equal(cluster.summary(), serial.summary(), check_exact=True)
    np.testing.assert_array_equal(cluster.comparison.samples, serial.comparison.samples)
    assert list(cluster.failures) == ["no_such_net"]
    assert cluster.failures["no_such_net"].startswith(
        f"model='no_such_net', weights='untrained', random_state={SEED}: InvalidArgumentError: Invalid value for 'name'"
    )


def test_the_command_writes_what_finished_and_exits_3_naming_the_network_that_failed(
    serial, recordings, stimuli, tmp_path, monkeypatch, capsys
):
    from rsa_mirror.cli import main, write
    from rsa_mirror.networks.models import load_model

    # a torchvision cache holding AlexNet's "ImageNet" weights only (here: the untrained ones of SEED)
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    state = load_model("alexnet", weights="untrained", random_state=SEED).module.state_dict()
    torch.save(state, checkpoints / "alexnet-owt-7be5be79.pth")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    labels = []
    save_figure = write.save_figure

    def keep_labels(figure, path):
        labels.extend((ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) for ax in figure.axes)
        save_figure(figure, path)

    monkeypatch.setattr(write, "save_figure", keep_labels)
    folder, out = recordings.save(tmp_path / "recordings"), tmp_path / "out"
    args = ["sweep", "--neural", str(folder), "--stimuli", str(stimuli.save(tmp_path / "stimuli.npz"))]
    args += ["--models", *NETWORKS, "--weights", "imagenet", "--seed", str(SEED), "--n-bootstrap", "40"]
    args += ["--n-splits", "4", "--threads", "1", "--device", "cpu", "--out", str(out), "--quiet"]
    assert main([*args, "--mat", str(out / "sweep.mat")]) == 3
    printed = capsys.readouterr()
    assert "error: 1 of 2 networks failed (the others were compared and written)" in printed.err
    assert "model='resnet50', weights='imagenet'" in printed.err and "--weights untrained" in printed.err
    table = pd.read_csv(out / "sweep.csv")
    assert set(table.model) == {"alexnet"} and set(table.weights) == {"imagenet (IMAGENET1K_V1)"}
    expected = serial.summary()
    expected = expected[expected.model == "alexnet"].reset_index(drop=True)
    same = ["estimate", "std", "ci_low", "ci_high", "ceiling_lower", "ceiling_upper", "q_vs_model_best"]
    np.testing.assert_allclose(table[same], expected[same], rtol=1e-12, atol=1e-12)
    assert list(table.best_of_model) == list(expected.best_of_model) and list(table.best) == list(table.best_of_model)
    assert (out / "sweep.png").stat().st_size > 0 and (out / "sweep.mat").stat().st_size > 0
    panels = [entry for entry in labels if entry[2]]
    assert [title.split(":")[0] for _, _, title in panels] == list(recordings)
    assert all(x.startswith("relative layer depth") for x, _, _ in panels) and panels[0][1].startswith("model-brain")

    # a rerun reads AlexNet's RDMs from out/rdms and runs only the network that failed
    from rsa_mirror.studies import sweep

    ran = []
    model_rdms = sweep.model_rdms
    monkeypatch.setattr(sweep, "model_rdms", lambda model, **options: ran.append(model) or model_rdms(model, **options))
    assert main(args) == 3 and ran == ["resnet50"]
    pd.testing.assert_frame_equal(pd.read_csv(out / "sweep.csv"), table)
    (entry,) = (out / "rdms").glob("alexnet-*.npz")
    entry.write_bytes(entry.read_bytes()[:100])  # truncated: computed again, with a warning
    assert main(args) == 3 and ran == ["resnet50", "alexnet", "resnet50"]
    assert f"{entry}: unreadable cache entry" in capsys.readouterr().err
    pd.testing.assert_frame_equal(pd.read_csv(out / "sweep.csv"), table)


def test_bad_arguments_are_refused_before_any_network_runs(recordings, stimuli):
    with pytest.raises(InvalidTypeError, match="'models': expected a non-empty list"):
        sweep_study(recordings, stimuli, "alexnet")
    with pytest.raises(InvalidArgumentError, match="'models': alexnet named more than once"):
        sweep_study(recordings, stimuli, ["alexnet", "vgg16", "alexnet"])
    with pytest.raises(InvalidTypeError, match="'stimuli': expected a StimulusSet, got ndarray"):
        sweep_study(recordings, stimuli.images, ["alexnet"])
    with pytest.raises(InvalidArgumentError, match="'n_jobs'"):
        sweep_study(recordings, stimuli, ["alexnet"], n_jobs=0)
    with pytest.raises(DataError, match="the model RDMs are over 3 stimuli, the recordings 12"):
        from rsatoolbox.rdm import RDMs

        compare_layers(RDMs(np.ones((1, 3)), rdm_descriptors={"name": ["x"]}), recordings)
