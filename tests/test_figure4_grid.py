"""The Figure 4 grid: chiral geometry, the class_split regime, the yaw rule, statistics, resuming, CLI."""

import itertools
import json

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from rsa_mirror.errors import InvalidArgumentError
from rsa_mirror.networks.datasets import ImageData, apply_regime, render_training_set
from rsa_mirror.networks.training import _fingerprint, train
from rsa_mirror.stimuli.mesh import symmetric_mesh
from rsa_mirror.stimuli.objects import _BUILDERS, build_object
from rsa_mirror.studies.grid import METRICS, GridResult, collect_grid, figure4_grid
from rsa_mirror.studies.grid_config import GRID_CELLS, GRID_SCALES, cell_yaw_range, grid_settings
from rsa_mirror.studies.grid_statistics import mirror_r, permutation_p, planned_tests, t_interval

# data_sha256 of render_training_set(n_per_class=30, random_state=7), by the version before
# geometry, yaw_range and elevation_deg existed: the images of existing training sets must not change.
PREVIOUS_SHA256 = "c0b1e72fee2c4caee9ffc713a5495b139a0200377b598ffadc6d145c12d7d81e"


def test_bilateral_training_set_is_bit_identical_to_the_previous_version():
    data = render_training_set(n_per_class=30, random_state=7)
    assert _fingerprint(data, torch.device("cpu"), {})["data_sha256"] == PREVIOUS_SHA256
    assert data.name == "rendered" and data.elevation_deg.shape == (180,)
    assert float(data.elevation_deg.abs().max()) <= 25


@pytest.mark.parametrize("category", ["car", "chair", "airplane", "animal"])
def test_chiral_objects_fail_the_mirror_test_bilateral_ones_pass(category):
    for exemplar in range(3):
        bilateral = build_object(category, np.random.default_rng([5, exemplar]))
        explicit = build_object(category, np.random.default_rng([5, exemplar]), geometry="bilateral")
        np.testing.assert_array_equal(bilateral.vertices, explicit.vertices)
        rng = np.random.default_rng([5, exemplar])
        chiral = build_object(category, rng, geometry="chiral")
        # the same draws: the chiral mesh is the builder's half, and the stream is left where bilateral leaves it
        half = symmetric_mesh(_BUILDERS[category](np.random.default_rng([5, exemplar])), 0)
        np.testing.assert_array_equal(chiral.vertices, half.vertices)
        after = np.random.default_rng([5, exemplar])
        build_object(category, after)
        assert rng.random() == after.random()
        assert mirror_r(bilateral, 45.0, size=48) > 0.999
        assert mirror_r(chiral, 45.0, size=48) < 0.97


def test_chiral_training_set_differs_and_is_named():
    bilateral = render_training_set(n_per_class=4, random_state=3)
    chiral = render_training_set(n_per_class=4, geometry="chiral", random_state=3)
    assert chiral.name == "rendered (chiral)"
    torch.testing.assert_close(chiral.elevation_deg, bilateral.elevation_deg)  # the same draws
    assert not torch.equal(chiral.images, bilateral.images)
    with pytest.raises(InvalidArgumentError, match="yaw_range"):
        render_training_set(n_per_class=2, yaw_range=(10, 10))
    with pytest.raises(InvalidArgumentError, match="geometry"):
        render_training_set(n_per_class=2, geometry="mirrored")


def test_class_split_labels_are_exact_and_need_elevations():
    images = torch.rand(5, 3, 32, 32)
    data = ImageData(images, torch.tensor([0, 1, 2, 1, 0]), 3, "toy", torch.tensor([-10.0, 5.0, 0.0, 20.0, 0.1]))
    split = apply_regime(data, "class_split")
    assert split.labels.tolist() == [0, 4, 2, 4, 3]  # k + 3 * [elevation > 0]
    assert split.n_classes == 6 and torch.equal(split.images, images)  # nothing mirrored
    with pytest.raises(InvalidArgumentError, match="elevation"):
        apply_regime(ImageData(images, data.labels, 3, "toy"), "class_split")
    result = train(split.__class__(images, data.labels, 3, "toy", data.elevation_deg), regime="class_split", epochs=1)
    assert result.network.fc3.out_features == 6


def test_the_yaw_is_restricted_only_in_bilateral_mirror_sensitive():
    ranges = {cell: cell_yaw_range(cell) for cell in GRID_CELLS}
    assert ranges.pop(("bilateral", "mirror_sensitive")) == (0.0, 180.0)
    assert set(ranges.values()) == {(-180.0, 180.0)} and len(ranges) == 7
    half = render_training_set(n_per_class=3, yaw_range=(0, 180), random_state=1)
    full = render_training_set(n_per_class=3, random_state=1)
    assert half.name == "rendered (yaw 0 to 180)" and not torch.equal(half.images, full.images)
    assert GRID_SCALES["reduced"].n_per_class == 300 and GRID_SCALES["reduced"].epochs == 20
    assert GRID_SCALES["full"].n_per_class == 1000 and GRID_SCALES["full"].epochs == 30


@pytest.mark.parametrize(
    "a, b",
    [
        ([1.0, 2.5, 3.1, 0.4, 2.2], [0.3, -0.5, 1.1, 0.2, -1.0]),
        ([0.1, 0.2, 0.2, 0.5, 0.1], [0.2, 0.1, 0.3, 0.2, 0.2]),  # ties
        ([1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]),  # the most extreme split
    ],
)
def test_permutation_p_equals_an_exact_enumeration(a, b):
    pooled, n = np.array(a + b), len(a)
    observed = abs(np.mean(a) - np.mean(b))
    extreme, splits = 0, 0
    for chosen in itertools.combinations(range(len(pooled)), n):
        mask = np.zeros(len(pooled), bool)
        mask[list(chosen)] = True
        extreme += abs(pooled[mask].mean() - pooled[~mask].mean()) >= observed - 1e-12
        splits += 1
    p, n_splits = permutation_p(a, b)
    assert n_splits == splits
    assert p == pytest.approx(extreme / splits, abs=1e-12)


def test_t_interval_equals_scipy():
    values = np.array([0.31, 0.12, 0.45, 0.27, 0.38])
    mean, low, high, n = t_interval(values)
    expected = stats.ttest_1samp(values, 0.0).confidence_interval(0.95)
    assert n == 5 and mean == pytest.approx(values.mean())
    assert (low, high) == pytest.approx((expected.low, expected.high), rel=1e-12)
    assert t_interval([np.nan, 0.2, 0.4])[3] == 2  # NaN (a silent layer) is left out
    assert np.isnan(t_interval([0.2])[1])


def test_planned_tests_q_is_benjamini_hochberg():
    rng = np.random.default_rng(0)
    rows = [
        {"geometry": g, "regime": r, "seed": s, "face_fc1": rng.normal(i * 0.1), "face_fc2": rng.normal()}
        for i, (g, r) in enumerate(GRID_CELLS)
        for s in range(5)
    ]
    table = planned_tests(pd.DataFrame(rows))
    assert len(table) == 12 and set(table.n_splits) == {252}
    p = table.p.to_numpy()
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1)
    np.testing.assert_allclose(table.q.to_numpy()[order], q, rtol=1e-12)


TINY = {"n_per_class": 12, "epochs": 1, "seeds": (0, 1), "n_heldout": 6, "test_exemplars": 1, "test_size": 32}
TINY_CELLS = (("bilateral", "original"), ("bilateral", "mirror_sensitive"), ("chiral", "class_split"))


@pytest.fixture(scope="module")
def tiny_grid(tmp_path_factory):
    out = tmp_path_factory.mktemp("grid")
    settings = grid_settings("reduced", cells=TINY_CELLS, match_exemplars=1, **TINY)
    return settings, out, figure4_grid(settings, out, verbose=False)


def test_tiny_grid_tables(tiny_grid):
    settings, out, result = tiny_grid
    networks = result.networks
    assert len(networks) == 6 and len(result.computed) == 6
    assert list(networks.columns[3 : 3 + len(METRICS)]) == list(METRICS)
    sensitive = networks[networks.regime == "mirror_sensitive"]
    assert set(sensitive.yaw_low) == {0.0} and set(networks[networks.regime != "mirror_sensitive"].yaw_low) == {-180.0}
    assert set(networks[networks.regime != "original"].n_classes) == {12}
    assert (networks.active_fc1 <= 128).all() and (networks.active_fc2 <= 256).all()
    rows = result.summary[(result.summary.metric == "face_fc1") & (result.summary.regime == "original")]
    mean, low, high, n = t_interval(networks[networks.regime == "original"].face_fc1)
    assert rows[["mean", "ci_low", "ci_high", "n"]].to_numpy().ravel() == pytest.approx([mean, low, high, n])
    tested = result.tests.dropna(subset=["p"])  # only the comparisons between the cells run
    assert set(zip(tested.cell_a, tested.cell_b, strict=True)) == {("bilateral original", "bilateral mirror_sensitive")}
    match = result.mirror_match.set_index(["category", "geometry"]).r_mean
    assert match[("car", "bilateral")] > 0.999 and match[("car", "chiral")] < 0.97
    restored = GridResult.from_dict(result.to_dict())
    pd.testing.assert_frame_equal(restored.networks, networks)


def test_the_figure_counts_the_networks_with_an_index_and_marks_a_cell_without(tiny_grid):
    import dataclasses

    import matplotlib.pyplot as plt

    from rsa_mirror.studies import grid_statistics
    from rsa_mirror.vis import plot_figure4_grid

    result = tiny_grid[2]
    networks = result.networks.copy()
    silent = (networks.geometry == "chiral") & (networks.regime == "class_split")
    networks.loc[silent, "face_fc1"] = np.nan  # as when fc1 is silent on every face
    networks.loc[(networks.regime == "original") & (networks.seed == 0), "face_fc1"] = np.nan
    summary = grid_statistics.cell_summary(networks, METRICS)
    figure = plot_figure4_grid(dataclasses.replace(result, networks=networks, summary=summary), chance_level=-0.125)
    fc1, fc2 = figure.axes[:2]
    assert [t.get_text() for t in fc1.texts] == ["n = 1/2", "n = 2/2", "n = 0/2", "no index"]
    assert [t.get_text() for t in fc2.texts] == ["n = 2/2"] * 3
    assert fc1.get_ylabel().startswith("mirror-symmetric viewpoint") and fc1.get_xlabel()
    plt.close(figure)


def test_grid_result_round_trips_through_a_mat_file(tiny_grid, tmp_path):
    from matlab_bridge import load_results, save_results

    result = tiny_grid[2]
    save_results(tmp_path / "grid.mat", result)
    restored = load_results(tmp_path / "grid.mat")
    assert isinstance(restored, GridResult)
    for name in ("networks", "summary", "tests", "mirror_match"):
        pd.testing.assert_frame_equal(getattr(restored, name), getattr(result, name), check_dtype=False)
    assert restored.settings == result.settings and restored.computed == result.computed


def test_rerun_recomputes_only_the_missing_network(tiny_grid):
    settings, out, first = tiny_grid
    folders = sorted((out / "networks").iterdir())
    stamps = {folder.name: (folder / "metrics.json").stat().st_mtime_ns for folder in folders}
    missing = folders[2]
    (missing / "metrics.json").unlink()
    second = figure4_grid(settings, out, verbose=False)
    assert second.computed == [missing.name]
    for folder in folders:
        if folder != missing:
            assert (folder / "metrics.json").stat().st_mtime_ns == stamps[folder.name]
    timing = ["train_seconds", "task_seconds"]
    pd.testing.assert_frame_equal(second.networks.drop(columns=timing), first.networks.drop(columns=timing))
    assert not (missing / "checkpoint.pt").exists() and (missing / "network.pt").is_file()
    part = collect_grid(settings.replaced(seeds=(0, 1, 7)), out)  # seed 7 never ran: the finished ones only
    pd.testing.assert_frame_equal(part.networks.drop(columns=timing), first.networks.drop(columns=timing))
    with pytest.raises(InvalidArgumentError, match="no finished"):
        collect_grid(settings.replaced(seeds=(7,)), out)
    with pytest.raises(InvalidArgumentError, match="epochs: 1 vs 2"):
        figure4_grid(settings.replaced(epochs=2), out, verbose=False)


def test_training_together_gives_the_networks_of_the_tasks(tiny_grid, tmp_path):
    settings, _, apart = tiny_grid
    together = figure4_grid(settings, tmp_path, together=True, verbose=False)
    assert sorted(together.computed) == sorted(apart.computed)
    timing = ["train_seconds", "task_seconds"]
    pd.testing.assert_frame_equal(together.networks.drop(columns=timing), apart.networks.drop(columns=timing))
    pd.testing.assert_frame_equal(together.tests, apart.tests)
    again = figure4_grid(settings, tmp_path, together=True, verbose=False)  # nothing left to train
    assert again.computed == [] and len(again.networks) == len(apart.networks)
    log = (tmp_path / "grid_log.csv").read_text().splitlines()
    assert len(log) == len(apart.networks) and all(",True," in line for line in log)


def test_cli_runs_a_tiny_grid_and_resumes(tmp_path, capsys):
    from rsa_mirror.cli.main import main

    argv = ["figure4", "--grid", "--out", str(tmp_path), "--seeds", "0", "--cells", "bilateral:original"]
    argv += ["chiral:original", "--n-per-class", "12", "--epochs", "1", "--test-exemplars", "1", "--quiet"]
    assert main([*argv, "--together"]) == 0  # trained at once; the rerun below, as tasks, finds them done
    for stem in ("networks", "summary", "tests", "mirror_match"):
        assert (tmp_path / f"grid_{stem}.csv").is_file()
    assert (tmp_path / "figure4_grid.png").is_file()
    table = pd.read_csv(tmp_path / "grid_networks.csv")
    assert list(zip(table.geometry, table.regime, strict=True)) == [("bilateral", "original"), ("chiral", "original")]
    assert "2 trained now" in capsys.readouterr().out
    assert main(argv) == 0
    assert "0 trained now" in capsys.readouterr().out
    assert main([*argv, "--tables-only", "--seeds", "0", "1"]) == 0  # seed 1 not trained: reported as missing
    assert "2 of 4 networks (0 trained now" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "networks" / "chiral_original_seed0" / "metrics.json").read_text())
    assert metrics["face_fc1"] == pytest.approx(pd.read_csv(tmp_path / "grid_networks.csv").face_fc1[1])
    with pytest.raises(SystemExit):
        main(["figure4", "--out", str(tmp_path)])  # --grid is required
