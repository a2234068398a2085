"""The supplementary analyses: each study on toy inputs with known answers, against independent computations.

Pooling (Figure 2—figure supplement 6) against a network whose own layer is the pooling; raw-pattern
view RDMs (supplement 7) against scipy's correlation distance; shifts (supplement 8) against
np.roll and a circular network that is exactly shift invariant; per-image invariance (Figure 3
supplements) against ``symmetry.invariance`` on activations held in memory; weight symmetry
(Figure 5—figure supplement 1) against symmetric and antisymmetric kernels and a plain loop.
"""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.spatial.distance import pdist, squareform
from scipy.stats import pearsonr

from rsa_mirror.errors import DataError, InvalidArgumentError
from rsa_mirror.networks.activations import (
    equivariance_by_image,
    extract_activations,
    measure_equivariance,
    model_view_rdms,
)
from rsa_mirror.networks.models import ControlNet, LoadedModel
from rsa_mirror.stimuli import StimulusSet
from rsa_mirror.studies.supplements import (
    normalization_study,
    pooled_maps,
    pooling_study,
    raw_view_rdms,
    shift_study,
    shifted_stimuli,
)
from rsa_mirror.studies.supplements_reflection import (
    category_invariance_study,
    equivariance_distribution_study,
    kernel_symmetry,
    spatial_weights,
    untrained_control,
    weight_symmetry_study,
)
from rsa_mirror.symmetry import invariance, msvt_by_object, msvt_index

VIEWS = [-90.0, -45.0, 0.0, 45.0, 90.0]


def _toy(padding_mode="zeros"):
    """Conv 3x3 (3 -> 6 channels, seeded) -> ReLU -> global average pool -> flatten, as a LoadedModel."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        conv = torch.nn.Conv2d(3, 6, 3, padding=1, padding_mode=padding_mode)
    module = torch.nn.Sequential(conv, torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).eval()
    return LoadedModel("toy", module, "seeded", {"conv": "1", "gap": "3"}, 12, mean=None, std=None)


@pytest.fixture(scope="module")
def toy_objects(object_views):
    """4 objects x 5 views of smooth random 12 x 12 images, categories x, x, y, y."""
    return object_views(4, VIEWS, 12, seed=1, categories=["x", "x", "y", "y"], block=2)


def _mirror_tuned_maps(n_objects=3, n_channels=8, size=5, seed=0):
    """(n_objects * 5, C, H, W) maps whose mirror views are reflections of each other, and descriptors."""
    rng = np.random.default_rng(seed)
    maps = []
    for _ in range(n_objects):
        left = [rng.standard_normal((n_channels, size, size)) for _ in range(2)]
        front = rng.standard_normal((n_channels, size, size))
        front = front + front[..., ::-1]  # a frontal view symmetric about the midline
        maps += [left[0], left[1], front, left[1][..., ::-1], left[0][..., ::-1]]
    descriptors = {
        "object": np.repeat([f"o{i}" for i in range(n_objects)], 5),
        "category": np.repeat(["c"] * n_objects, 5),
        "view_deg": np.tile(VIEWS, n_objects),
    }
    return np.stack(maps), descriptors


def test_average_pooling_of_mirror_reflected_maps_is_mirror_symmetric():
    maps, descriptors = _mirror_tuned_maps()
    pooled = pooled_maps(maps)
    np.testing.assert_allclose(pooled, maps.mean(axis=(2, 3)))
    by_object = msvt_by_object({"gap": pooled, "maps": maps}, descriptors=descriptors)
    np.testing.assert_allclose(by_object.loc[by_object.name == "gap", "msvt"], 1.0, atol=1e-9)
    assert (by_object.loc[by_object.name == "maps", "msvt"] < 0.9).all()  # the maps themselves are not


def test_zscore_then_average_equals_a_plain_loop_and_drops_constant_channels():
    rng = np.random.default_rng(2)
    maps = rng.standard_normal((7, 3, 2, 2))
    maps[:, 1, 0, 1] = 4.0  # one constant position: left out of channel 1's mean
    maps[:, 2] = 1.5  # a channel constant everywhere: dropped
    expected = np.empty((7, 2))
    for c in range(2):
        values = [
            (maps[:, c, i, j] - maps[:, c, i, j].mean()) / maps[:, c, i, j].std()
            for i in range(2)
            for j in range(2)
            if maps[:, c, i, j].std() > 0
        ]
        expected[:, c] = np.mean(values, axis=0)
    np.testing.assert_allclose(pooled_maps(maps, pooling="zscore_average"), expected, atol=1e-12)


def test_pooling_study_matches_the_networks_own_pooling_layer(toy_objects):
    result = pooling_study({"toy": _toy()}, toy_objects, layers=("conv", "gap"), device="cpu")
    wide = result.paired()
    assert list(wide.columns) == ["conv", "conv GAP", "conv GAP of z-scores", "gap"]
    np.testing.assert_allclose(wide["conv GAP"], wide["gap"], atol=1e-5)  # GAP of conv is the gap layer
    assert set(result.table.layer) == {"conv", "gap"}
    summary = result.summary()
    assert summary.loc[("toy", "gap", "x"), "n"] == 2
    np.testing.assert_allclose(summary.loc[("toy", "gap", "x"), "mean"], wide.xs("x", level=1)["gap"].mean())


def test_raw_view_rdms_are_scipys_correlation_distance():
    rng = np.random.default_rng(4)
    values = rng.uniform(0, 3, (10, 6))
    values[:, 0] = 7.0  # a constant unit stays in, as in pdist
    descriptors = {"object": np.repeat(["a", "b"], 5), "view_deg": np.tile(VIEWS, 2)}
    rdms = raw_view_rdms({"layer": values}, descriptors).get_matrices()
    for k in range(2):
        np.testing.assert_allclose(
            rdms[k], squareform(pdist(values[5 * k : 5 * k + 5], metric="correlation")), atol=1e-6
        )


def test_streamed_raw_view_rdms_equal_pdist_on_the_activations(toy_objects):
    toy = _toy()
    streamed = model_view_rdms(toy, toy_objects, ["conv"], normalize="none", device="cpu", batch_size=7)
    values = extract_activations(toy, toy_objects, ["conv"], device="cpu")["conv"].reshape(20, -1)
    for k, matrix in enumerate(streamed.get_matrices()):
        expected = squareform(pdist(values[5 * k : 5 * k + 5].astype(np.float64), metric="correlation"))
        np.testing.assert_allclose(matrix, expected, atol=1e-5)
    with pytest.raises(InvalidArgumentError, match="normalize"):
        model_view_rdms(toy, toy_objects, ["conv"], normalize="unit")


def test_normalization_study_holds_both_indices(toy_objects):
    toy = _toy()
    result = normalization_study({"toy": toy}, toy_objects, layers=["conv", "gap"], device="cpu")
    raw = result.table[result.table.normalize == "none"].reset_index(drop=True)
    values = extract_activations(toy, toy_objects, ["conv"], device="cpu")["conv"].reshape(20, -1)
    expected = [msvt_index(squareform(pdist(values[5 * k : 5 * k + 5], metric="correlation"))) for k in range(4)]
    np.testing.assert_allclose(raw.loc[raw.layer == "conv", "msvt"], expected, atol=1e-5)
    zscored = result.table[result.table.normalize == "zscore"]
    paper = msvt_by_object(model_view_rdms(toy, toy_objects, ["conv", "gap"], device="cpu"))
    np.testing.assert_allclose(zscored["msvt"], paper["msvt"])


def test_a_silent_pattern_leaves_the_raw_index_undefined_not_the_zscored_one(toy_objects):
    toy = _toy()
    with torch.no_grad():
        toy.module[0].bias.zero_()
    images = toy_objects.images.copy()
    images[7] = 0.0  # black: every unit silent after the ReLU
    stimuli = StimulusSet(images, toy_objects.descriptors)
    with pytest.warns(UserWarning, match="no index without z-scoring"):
        result = normalization_study({"toy": toy}, stimuli, layers=["conv", "gap"], device="cpu")
    table = result.table
    assert table.loc[table.normalize == "none", "msvt"].isna().all()
    assert np.isfinite(table.loc[table.normalize == "zscore", "msvt"]).all()


def test_shifted_stimuli_move_content_and_fill_with_the_background():
    images = np.full((2, 5, 5), 0.5, dtype=np.float32)
    images[:, 1, 1] = 1.0
    images[:, 4, 0] = 0.0
    stimuli = StimulusSet(images, {"view_deg": np.array([-1.0, 1.0])})
    moved = shifted_stimuli(stimuli, 2, -1)
    expected = np.full((5, 5), 0.5, dtype=np.float32)
    expected[3, 0] = 1.0  # (1, 1) -> (3, 0); (4, 0) is pushed out at the bottom and left
    np.testing.assert_array_equal(moved.images[0], expected)
    np.testing.assert_array_equal(moved.descriptors["shift_y"], [2, 2])
    wrapped = shifted_stimuli(stimuli, 2, -1, fill="wrap")
    np.testing.assert_array_equal(wrapped.images, np.roll(images, (2, -1), axis=(1, 2)))
    np.testing.assert_array_equal(
        moved.foreground, np.roll(stimuli.foreground, (2, -1), axis=(1, 2)) & (expected != 0.5)
    )
    for bad in (5, 1.5, True):
        with pytest.raises(InvalidArgumentError, match="shift_y"):
            shifted_stimuli(stimuli, bad, 0)


def test_a_circular_network_keeps_its_pooled_index_under_wrapped_shifts(toy_objects):
    result = shift_study(
        {"toy": _toy("circular")}, toy_objects, offsets=((0, 0), (3, 2), (-5, 4)), fill="wrap", device="cpu"
    )
    gap = result.table[result.table.layer == "gap"]
    by_offset = [rows["msvt"].to_numpy() for _, rows in gap.groupby(["shift_y", "shift_x"], sort=False)]
    for other in by_offset[1:]:
        np.testing.assert_allclose(other, by_offset[0], atol=1e-5)
    filled = shift_study({"toy": _toy()}, toy_objects, offsets=((0, 0), (3, 2)), layers=["gap"], device="cpu")
    msvt = filled.table["msvt"].to_numpy()
    assert not np.allclose(msvt[:4], msvt[4:], atol=1e-3)  # content pushed out of the frame changes the index
    with pytest.raises(InvalidArgumentError, match="offsets"):
        shift_study({"toy": _toy()}, toy_objects, offsets=((1, 2, 3),))


def test_per_image_equivariance_is_what_figure_3_averages(toy_objects):
    toy = _toy()
    per_image = equivariance_by_image(toy, toy_objects, ["conv", "gap"], device="cpu", batch_size=6)
    values = extract_activations(toy, toy_objects, ["conv"], device="cpu")["conv"]
    flipped = extract_activations(toy, toy_objects.transformed("hflip"), ["conv"], device="cpu")["conv"]
    rows = per_image[
        (per_image.layer == "conv") & (per_image["transform"] == "hflip") & (per_image.measure == "invariance")
    ]
    np.testing.assert_array_equal(rows["image"], np.arange(20))
    np.testing.assert_allclose(rows["r"], invariance(values, flipped, "hflip"), atol=1e-5)
    summary = measure_equivariance(toy, toy_objects, ["conv", "gap"], device="cpu", batch_size=6)
    means = per_image.groupby(["layer", "transform", "measure"], sort=False)["r"].mean().to_numpy()
    np.testing.assert_allclose(summary["mean"], means, atol=1e-12)
    result = equivariance_distribution_study({"toy": toy}, {"objects": toy_objects}, layers=["conv"], device="cpu")
    assert set(result.table.category) == {"x", "y"} and len(result.table) == 20 * 3 * 2


def test_category_invariance_groups_the_images_invariance(toy_objects):
    toy = _toy()
    result = category_invariance_study({"toy": toy}, toy_objects, layers=["gap"], device="cpu")
    values = extract_activations(toy, toy_objects, ["gap"], device="cpu")["gap"]
    flipped = extract_activations(toy, toy_objects.transformed("hflip"), ["gap"], device="cpu")["gap"]
    r = invariance(values, flipped, "hflip")
    category = np.asarray(toy_objects.descriptors["category"])
    summary = result.summary()
    for name in ("x", "y"):
        np.testing.assert_allclose(summary.loc[("toy", "gap", name), "mean"], r[category == name].mean(), atol=1e-5)
    with pytest.raises(InvalidArgumentError, match="no fc presets"):
        category_invariance_study({"toy": toy}, toy_objects)


@pytest.mark.parametrize("method", ["full", "half"])
@pytest.mark.parametrize("transform", ["hflip", "vflip"])
def test_symmetric_kernels_give_one_and_antisymmetric_ones_minus_one(method, transform):
    rng = np.random.default_rng(5)
    axis = 3 if transform == "hflip" else 2
    for size in (3, 4, 5):
        w = rng.standard_normal((4, 2, size, size))
        symmetric, antisymmetric = w + np.flip(w, axis), w - np.flip(w, axis)
        np.testing.assert_allclose(kernel_symmetry(symmetric, transform=transform, method=method), 1.0, atol=1e-12)
        r = kernel_symmetry(antisymmetric, transform=transform, method=method)
        np.testing.assert_allclose(r, -1.0, atol=1e-12)


def test_kernel_symmetry_equals_a_plain_loop():
    rng = np.random.default_rng(6)
    w = rng.standard_normal((5, 3, 5, 5))
    for unit in range(5):
        kernel = w[unit]
        full = pearsonr(kernel[..., [0, 1, 3, 4]].ravel(), kernel[..., ::-1][..., [0, 1, 3, 4]].ravel())[0]
        half = pearsonr(kernel[..., :2].ravel(), kernel[..., ::-1][..., :2].ravel())[
            0
        ]  # the released code's fix(1:k/2)
        assert kernel_symmetry(w, method="full")[unit] == pytest.approx(full, abs=1e-12)
        assert kernel_symmetry(w, method="half")[unit] == pytest.approx(half, abs=1e-12)
    with pytest.raises(InvalidArgumentError, match="method"):
        kernel_symmetry(w, method="quarter")
    with pytest.raises(DataError, match="finite"):
        kernel_symmetry(w[0])


def test_spatial_weights_lay_fc_weights_over_their_input_maps(alexnet):
    control = untrained_control(n_classes=6, random_state=1)
    weights = spatial_weights(control)
    assert list(weights) == ["conv1", "conv2", "conv3", "conv4", "fc1"]
    np.testing.assert_array_equal(weights["fc1"], control.module.fc1.weight.double().numpy().reshape(128, 128, 10, 10))
    shapes = {name: w.shape for name, w in spatial_weights(alexnet).items()}
    assert shapes == {
        "conv1": (64, 3, 11, 11),
        "conv2": (192, 64, 5, 5),
        "conv3": (384, 192, 3, 3),
        "conv4": (256, 384, 3, 3),
        "conv5": (256, 256, 3, 3),
        "fc6": (4096, 256, 6, 6),
    }  # pool5 has no weights of its own; fc7 and fc8 read vectors
    second = untrained_control(n_classes=6, random_state=1)
    assert torch.equal(second.module.conv1.weight, control.module.conv1.weight)  # seeded


def test_weight_symmetry_study_tables_every_unit():
    symmetric = ControlNet(3).eval()
    with torch.no_grad():
        for module in symmetric.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.weight.copy_(module.weight + module.weight.flip(-1))
    model = LoadedModel("control", symmetric, "symmetric by hand", {"conv1": "relu1", "conv2": "relu2"}, 32, None, None)
    result = weight_symmetry_study({"hand": model}, transforms=("hflip", "vflip"))
    table = result.table
    np.testing.assert_allclose(table.loc[table["transform"] == "hflip", "r"], 1.0, atol=1e-6)
    assert (table.loc[table["transform"] == "vflip", "r"] < 0.99).all()
    assert len(table) == 2 * (32 + 32)


def test_supplement_figures_name_their_axes(toy_objects):
    from rsa_mirror import vis

    toy = _toy()
    results = {
        vis.plot_pooling: pooling_study({"toy": toy}, toy_objects, layers=("conv", "gap"), device="cpu"),
        vis.plot_normalization: normalization_study({"toy": toy}, toy_objects, device="cpu"),
        vis.plot_shift: shift_study({"toy": toy}, toy_objects, offsets=((0, 0), (1, 1)), device="cpu"),
        vis.plot_equivariance_distribution: equivariance_distribution_study(
            {"toy": toy}, {"objects": toy_objects}, device="cpu"
        ),
        vis.plot_category_invariance: category_invariance_study(
            {"toy": toy}, toy_objects, layers=["gap"], device="cpu"
        ),
        vis.plot_weight_symmetry: weight_symmetry_study({"control": untrained_control()}),
    }
    for plot, result in results.items():
        figure = plot(result)
        ax = figure.axes[0]
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None, plot.__name__
        assert isinstance(result.summary(), pd.DataFrame)


def test_the_supplement_command_writes_its_table_and_figure(tmp_path, capsys):
    from rsa_mirror.cli.main import main

    out = tmp_path / "weights"
    assert main(["supplement", "weight-symmetry", "--model", "control", "--out", str(out)]) == 0
    table = pd.read_csv(out / "weight_symmetry.csv")
    assert set(table["transform"]) == {"hflip", "vflip"} and table.network.nunique() == 2
    assert (out / "weight_symmetry.png").stat().st_size > 0 and (out / "weight_symmetry_summary.csv").exists()
    assert "Figure 5—figure supplement 1" in capsys.readouterr().out
    odd = ["supplement", "shift", "--model", "control", "--offsets", "1", "2", "3", "--out", str(tmp_path / "s")]
    assert main(odd) == 2
    assert "--offsets takes pairs" in capsys.readouterr().err
