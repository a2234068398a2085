"""The figures as a reader of the paper judges them: labels, colorbars, legends, ticks and the numbers drawn.

Each figure is drawn from small hand-made inputs whose values are known, and checked for what
a reader needs (axis labels, a colorbar, legend entries naming the error bars, every layer's
tick) and for the values drawn, computed here independently (numpy, scipy.stats).
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from scipy import stats

from rsa_mirror import compute_rdms, compute_view_rdms
from rsa_mirror.errors import InvalidArgumentError
from rsa_mirror.stimuli import StimulusSet
from rsa_mirror.symmetry import msvt_by_object, msvt_chance_level, summarize_msvt
from rsa_mirror.vis import (
    plot_alignment,
    plot_contact_sheet,
    plot_control_networks,
    plot_equivariance,
    plot_importance_study,
    plot_msvt_by_layer,
    plot_msvt_categories,
    plot_normalization,
    plot_projection_symmetry,
    plot_rdms,
    plot_shapley,
    plot_view_rdms,
)

VIEWS = np.linspace(-90.0, 90.0, 9)


# The nine views of the paper (-90° to +90° in steps of 22.5°) as the figures title them.
VIEW_TITLES = ["-90°", "-67.5°", "-45°", "-22.5°", "0°", "+22.5°", "+45°", "+67.5°", "+90°"]


def _drawn(figure):
    figure.canvas.draw()
    return figure


def _colorbars(figure):
    return [ax for ax in figure.axes if ax.get_label() == "<colorbar>"]


def _ticks(ax):
    return [t.get_text() for t in ax.get_xticklabels()]


def _legend_texts(legend):
    return [t.get_text() for t in legend.get_texts()]


def _outside_right(ax, legend):
    """The legend starts right of the axes' data area (in display coordinates)."""
    renderer = ax.figure.canvas.get_renderer()
    return legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1 - 1


def _errorbar_halves(container):
    """(centres, half lengths) of the vertical error bars of an ErrorbarContainer."""
    segments = [s for s in container.lines[2][0].get_segments() if np.ndim(s) == 2 and np.isfinite(s).all()]
    return np.array([s[:, 1].mean() for s in segments]), np.array([np.ptp(s[:, 1]) / 2 for s in segments])


def msvt_table(layers, categories=("car", "face", "flower"), n_exemplars=4, nan_layer=None, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for li, layer in enumerate(layers):
        for ci, category in enumerate(categories):
            for e in range(n_exemplars):
                value = (
                    np.nan if layer == nan_layer else np.tanh(0.3 * li - 0.5 + 0.1 * ci) + 0.1 * rng.standard_normal()
                )
                rows.append((layer, category, f"{category}{e}", value))
    return pd.DataFrame(rows, columns=["layer", "category", "object", "msvt"])


# --- Figure 2A: view RDMs -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def view_rdms():
    rng = np.random.default_rng(0)
    descriptors = {"object": np.repeat(["face0", "car0"], 9), "view_deg": np.tile(VIEWS, 2)}
    layers = {"conv1": rng.standard_normal((18, 30)), "fc6": 0.1 * rng.standard_normal((18, 12)) + 1}
    return compute_view_rdms(layers, descriptors=descriptors)


def test_view_rdms_have_a_shared_colorbar_view_ticks_and_the_corner_explained(view_rdms):
    table = msvt_by_object(view_rdms)
    figure = plot_view_rdms(view_rdms, objects=["face0", "car0"], msvt=table)
    (colorbar,) = _colorbars(figure)
    assert "1 - Pearson r" in colorbar.get_ylabel()
    title = figure._suptitle.get_text()
    assert "corner: MSVT index" in title and "one colour scale for all panels" in title
    panels = [ax for ax in figure.axes if ax.images]
    shown = np.stack([ax.images[0].get_array() for ax in panels])
    for ax in panels:  # one scale: the range of every matrix shown
        assert ax.images[0].get_clim() == pytest.approx((shown.min(), shown.max()))
    bottom_left = panels[2]  # rows: objects, columns: layers
    assert _ticks(bottom_left) == ["-90", "", "-45", "", "0", "", "45", "", "90"]
    assert [t.get_text() for t in bottom_left.get_yticklabels()] == _ticks(bottom_left)
    assert not any(_ticks(panels[0])) and not any(t.get_text() for t in panels[3].get_yticklabels())
    expected = table[(table["name"] == "fc6") & (table["object"] == "car0")]["msvt"].iloc[0]
    assert panels[3].texts[0].get_text() == f"{expected:.2f}"


def test_view_rdms_per_layer_scale_has_a_colorbar_per_column(view_rdms):
    figure = plot_view_rdms(view_rdms, objects=["face0", "car0"], scale="layer")
    assert len(_colorbars(figure)) == 2
    assert "one colour scale per layer" in figure._suptitle.get_text()
    assert "corner" not in figure._suptitle.get_text()  # no index given, nothing in the corners
    matrices = view_rdms.get_matrices()
    names = np.asarray(view_rdms.rdm_descriptors["name"])
    panels = [ax for ax in figure.axes if ax.images]
    fc6 = matrices[names == "fc6"]
    assert panels[1].images[0].get_clim() == pytest.approx((fc6.min(), fc6.max()))
    with pytest.raises(InvalidArgumentError, match="'scale'"):
        plot_view_rdms(view_rdms, objects=["face0"], scale="panel")


def test_patch_rdms_name_views_with_their_yaw_and_the_shared_scale(simulated):
    figure = plot_rdms(compute_rdms(simulated), titles=["MLMF", "AL", "AM"])
    (colorbar,) = _colorbars(figure)
    assert "one scale, all panels" in colorbar.get_ylabel()
    labels = [t.get_text() for t in figure.axes[0].get_xticklabels(minor=True)]
    assert labels[0] == "left profile (-90°)" and labels[2] == "frontal (0°)" and labels[-1] == "right profile (+90°)"


# --- Figure 2C and the demo's index by layer ------------------------------------------------------


def test_index_by_layer_names_its_error_bars_chance_and_keeps_a_silent_layer():
    layers = ["conv1", "conv2", "fc6", "fc7"]
    table = msvt_table(layers, nan_layer="fc7")
    summary = summarize_msvt(table, by=("layer",))
    figure = _drawn(plot_msvt_by_layer({"net": summary}, chance_level=msvt_chance_level(9), over="identities"))
    ax = figure.axes[0]
    assert ax.get_xlabel() == "layer" and "tuning index" in ax.get_ylabel()
    assert _ticks(ax) == ["conv1", "conv2", "fc6", "fc7 (n/a)"]
    assert "n/a: no index (all units silent)" in [t.get_text() for t in ax.texts]
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "mean ± SEM over identities"
    assert "chance (9 views): -0.125" in _legend_texts(legend) and "net" in _legend_texts(legend)
    assert _outside_right(ax, legend)
    (chance,) = [line for line in ax.lines if line.get_label().startswith("chance")]
    assert chance.get_ydata()[0] == pytest.approx(-1 / 8)
    centres, halves = _errorbar_halves(ax.containers[0])
    grouped = table[table.layer != "fc7"].groupby("layer", sort=False)["msvt"]
    np.testing.assert_allclose(centres, grouped.mean().to_numpy())
    np.testing.assert_allclose(halves, grouped.apply(stats.sem).to_numpy())


def test_figure2c_panels_label_layers_chance_error_bars_and_a_legend_off_the_data():
    layers = ["conv1", "pool1", "fc6", "fc8"]
    tables = {"trained": msvt_table(layers, nan_layer="fc8"), "untrained": msvt_table(layers, seed=1)}
    figure = _drawn(plot_msvt_categories(tables, layer_key="layer", chance_level=msvt_chance_level(9)))
    first, second, difference = figure.axes[:3]
    for ax in (first, second, difference):
        assert ax.get_xlabel() == "layer" and ax.get_ylabel()
    assert "mean ± SEM over exemplars" in first.get_title() and "combined SEM" in difference.get_title()
    assert _ticks(first) == ["conv1", "pool1", "fc6", "fc8 (n/a)"] and _ticks(second) == layers
    assert any("n/a" in t.get_text() for t in first.texts) and not second.texts
    legend = difference.get_legend()
    texts = _legend_texts(legend)
    assert {"car", "face", "flower", "chance (9 views): -0.125", "rank-sum, BH FDR q < 0.05"} <= set(texts)
    assert _outside_right(difference, legend) and first.get_legend() is None
    # the untrained panel's face line: mean ± SEM over its exemplars, per layer
    face = [c for c in second.containers if c.get_label() == "face"][0]
    centres, halves = _errorbar_halves(face)
    grouped = tables["untrained"].query("category == 'face'").groupby("layer", sort=False)["msvt"]
    np.testing.assert_allclose(centres, grouped.mean().to_numpy())
    np.testing.assert_allclose(halves, grouped.apply(stats.sem).to_numpy())


# --- Figure 4 -----------------------------------------------------------------------------------


def test_control_networks_keep_a_dead_layer_as_a_gap_and_name_the_band():
    layers = ["conv1", "conv2", "fc1", "fc2"]
    tables = {"cifar10": msvt_table(layers, seed=2), "svhn": msvt_table(layers, nan_layer="conv1", seed=3)}
    figure = _drawn(plot_control_networks(tables, dashed=("svhn",), chance_level=msvt_chance_level(9)))
    cifar, svhn = figure.axes[:2]
    assert _ticks(cifar) == layers and _ticks(svhn) == ["conv1 (n/a)", "conv2", "fc1", "fc2"]
    assert svhn.get_xlim() == (-0.5, 3.5)  # the silent layer's tick is in view
    assert cifar.get_xlabel() == svhn.get_xlabel() == "layer"
    legend = svhn.get_legend()
    assert legend.get_title().get_text() == "mean ± SEM over objects (band)"
    assert {"car", "face", "flower", "chance (9 views): -0.125"} <= set(_legend_texts(legend))
    assert _outside_right(svhn, legend)
    assert all(line.get_linestyle() == "--" for line in svhn.lines if line.get_label() in ("car", "face"))
    # the band of cifar10's car: mean ± SEM over the category's objects
    band = cifar.collections[0].get_paths()[0].vertices[:, 1]
    rows = tables["cifar10"].query("category == 'car'").groupby("layer", sort=False)["msvt"]
    mean, sem = rows.mean().to_numpy(), rows.apply(stats.sem).to_numpy()
    np.testing.assert_allclose(band.max(), (mean + sem).max())
    np.testing.assert_allclose(band.min(), (mean - sem).min())


# --- Figure 3 -----------------------------------------------------------------------------------


def equivariance_table(shift, conv=("conv1", "conv2"), fc=("fc6",)):
    rows = []
    for k, layer in enumerate((*conv, *fc)):
        for t, transform in enumerate(("hflip", "vflip", "rot90")):
            rows.append((layer, transform, "invariance", shift + 0.1 * k - 0.05 * t, 0.01, 7))
            if layer in conv:
                rows.append((layer, transform, "equivariance", shift + 0.2 * k - 0.05 * t, 0.02, 7))
    return pd.DataFrame(rows, columns=["layer", "transform", "measure", "mean", "sem", "n_images"])


def test_figure3_lays_out_three_image_sets_by_two_networks_with_letters_labels_and_a_legend():
    networks, sets = ("alexnet, imagenet", "alexnet, untrained (LeCun normal, seed 0)"), ("objects", "natural", "noise")
    tables = {
        f"{n}, {s}": equivariance_table(0.1 * i + 0.3 * j) for j, n in enumerate(networks) for i, s in enumerate(sets)
    }
    figure = _drawn(plot_equivariance(tables))
    panels = [ax for ax in figure.axes if ax.get_visible() and ax.lines]
    assert len(panels) == 6
    grid = {ax.get_title(): ax for ax in panels}
    assert set(grid) == set(tables)
    letters = {ax.get_title(): [t.get_text() for t in ax.texts if t.get_text() in "ABCDEF"] for ax in panels}
    # rows: image sets, columns: networks, letters row by row (A objects trained ... F noise untrained)
    assert letters["alexnet, imagenet, objects"] == ["A"] and letters[f"{networks[1]}, objects"] == ["B"]
    assert letters["alexnet, imagenet, noise"] == ["E"] and letters[f"{networks[1]}, noise"] == ["F"]
    top_left, below = grid["alexnet, imagenet, objects"], grid["alexnet, imagenet, natural"]
    assert top_left.get_window_extent().x0 == pytest.approx(below.get_window_extent().x0)
    assert top_left.get_window_extent().y0 > below.get_window_extent().y0
    for ax in panels:
        assert ax.get_xlabel() == "layer" and _ticks(ax) == ["conv1", "conv2", "fc6"]
    assert grid["alexnet, imagenet, natural"].get_ylabel() == "correlation r (mean ± SD over images)"
    legends = [ax.get_legend() for ax in panels if ax.get_legend() is not None]
    assert len(legends) == 1
    assert _legend_texts(legends[0]) == ["hflip", "vflip", "rot90", "invariance", "equivariance (conv layers)"]
    # solid invariance over every layer, dashed equivariance over the convolutional ones, the table's values
    ax = grid[f"{networks[1]}, natural"]
    table = tables[f"{networks[1]}, natural"]
    solid = [c for c in ax.containers if c.lines[0].get_linestyle() == "-"]
    dashed = [c for c in ax.containers if c.lines[0].get_linestyle() == "--"]
    assert len(solid) == len(dashed) == 3
    hflip = table.query("transform == 'hflip'")
    np.testing.assert_allclose(
        np.asarray(solid[0].lines[0].get_ydata(), float), hflip.query("measure == 'invariance'")["mean"]
    )
    equivariance = np.asarray(dashed[0].lines[0].get_ydata(), dtype=float)
    np.testing.assert_allclose(equivariance[:2], hflip.query("measure == 'equivariance'")["mean"])
    assert np.isnan(equivariance[2])  # fc6: no maps, no equivariance
    _, halves = _errorbar_halves(solid[0])
    np.testing.assert_allclose(halves, 0.01 * np.sqrt(7))  # the paper's SD over 7 images: sem x sqrt(n)
    sem = _drawn(plot_equivariance(tables, error="sem"))
    first = next(ax for ax in sem.axes if ax.get_title() == "alexnet, imagenet, natural")
    assert first.get_ylabel() == "correlation r (mean ± SEM over images)"
    ax = next(ax for ax in sem.axes if ax.get_title() == f"{networks[1]}, natural")
    _, halves = _errorbar_halves([c for c in ax.containers if c.lines[0].get_linestyle() == "-"][0])
    np.testing.assert_allclose(halves, 0.01)
    with pytest.raises(InvalidArgumentError, match="'error'"):
        plot_equivariance(tables, error="ci")


def test_figure3_still_draws_into_two_axes_per_table():
    tables = {"net, objects": equivariance_table(0.2)}
    fig, axes = plt.subplots(1, 2)
    assert plot_equivariance(tables, axes=axes) is fig
    assert "invariance" in axes[0].get_title() and "equivariance" in axes[1].get_title()
    assert axes[0].get_xlabel() == "layer" and axes[1].get_ylabel() == "equivariance r"


@pytest.mark.slow
def test_the_equivariance_command_measures_each_image_set_on_the_count_asked(tmp_path, capsys):
    from rsa_mirror.cli import main

    argv = ["equivariance", "--weights", "untrained", "--images", "natural", "noise", "--n-images", "5"]
    assert main([*argv, "--size", "48", "--out", str(tmp_path), "--device", "cpu", "--quiet"]) == 0
    assert "5 images (natural), 5 images (noise)" in capsys.readouterr().out
    table = pd.read_csv(tmp_path / "equivariance.csv")
    assert set(table["network"]) == {
        "alexnet, untrained (LeCun normal, seed 0), natural",
        "alexnet, untrained (LeCun normal, seed 0), noise",
    }
    assert (table["n_images"] == 5).all()
    assert (tmp_path / "equivariance_figure3.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["equivariance", "--images", "objects", "noise", "--n-images", "80", "--out", str(tmp_path)]) == 2
    assert "--n-images 80" in capsys.readouterr().err


# --- Figure 5 -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def importance():
    """A hand-made ImportanceResult on 2 objects x 9 views of 16 x 16 images (a bright disc on gray)."""
    from rsa_mirror.studies.figure5 import ImportanceResult

    rng, size = np.random.default_rng(4), 16
    yy, xx = np.mgrid[:size, :size]
    images, names = [], []
    for o in range(2):
        for view in VIEWS:
            image = np.full((size, size), 0.5, np.float32)
            disc = (xx - size / 2 - view / 30) ** 2 + (yy - size / 2) ** 2 < 25
            image[disc] = rng.uniform(0.0, 0.3, disc.sum())
            images.append(image)
            names.append(f"obj{o}")
    stimuli = StimulusSet(np.stack(images), {"object": np.array(names), "view_deg": np.tile(VIEWS, 2)})
    objects = ["obj0", "obj1"]
    maps = {obj: rng.standard_normal((9, size, size)) for obj in objects}
    shares = (0.25, 0.5, 0.75)
    tuning = [
        (obj, 3, q, kind, view, (2.0 if kind != "deletion" else 0.3) * abs(view) / 90 + o + rng.uniform(0, 0.1))
        for o, obj in enumerate(objects)
        for kind, qs in (("original", (0.0,)), ("insertion", shares), ("deletion", shares), ("shuffled", (0.25,)))
        for q in qs
        for view in VIEWS
    ]
    result = ImportanceResult(
        layer="fc6_pre",
        units={obj: np.array([3, 1]) for obj in objects},
        unit_maps=maps,
        blank={"obj0": 0.4, "obj1": -0.2},
        maps=maps,
        tuning=pd.DataFrame(tuning, columns=["object", "unit", "threshold", "images", "view_deg", "response"]),
        similarity=pd.DataFrame(
            [(obj, q, 0.9 - 0.1 * q + 0.01 * o, 0.2 + 0.5 * q) for o, obj in enumerate(objects) for q in shares],
            columns=["object", "threshold", "r_insertion", "r_deletion"],
        ),
        msvt=pd.DataFrame(
            [
                (obj, k, q, v)
                for obj in objects
                for (k, q), v in zip(
                    (("original", 0), ("insertion", 0.25), ("shuffled", 0.25)), (0.8, 0.7, 0.6), strict=True
                )
            ],
            columns=["object", "images", "threshold", "msvt"],
        ),
    )
    return result, stimuli


def test_figure5_has_the_papers_rows_letters_colorbars_and_tuning_relative_to_blank(importance):
    result, stimuli = importance
    figure = _drawn(plot_importance_study(result, stimuli))
    letters = [t.get_text() for sub in figure.subfigs for t in sub.texts]
    assert letters == ["A", "B"]
    assert [t.get_text() for ax in figure.axes for t in ax.texts if t.get_text() in "CD"] == ["C", "D"]
    colorbars = _colorbars(figure)
    assert len(colorbars) == 2 and all("importance" in ax.get_ylabel() for ax in colorbars)
    assert all(ax.get_visible() for ax in figure.axes)  # the grid is the content, no empty cells
    images = [ax for ax in figure.axes if ax.images]
    assert len(images) == 2 * 4 * 9
    row_names = [ax.get_ylabel() for ax in images if ax.get_ylabel()]
    assert row_names[:4] == [
        "importance map",
        "deletion\n(top 25% hidden)",
        "insertion\n(top 25% only)",
        "shuffled\ninsertion",
    ]
    assert [ax.get_title() for ax in images[:9]] == VIEW_TITLES
    charts = [ax for ax in figure.axes if ax.get_xlabel() == "view (yaw, deg)"]
    assert len(charts) == 2
    for chart, obj in zip(charts, ("obj0", "obj1"), strict=True):
        assert chart.get_ylabel() == "response - response to blank"
        lines = {line.get_label(): line for line in chart.lines}
        assert {"original", "deletion", "insertion", "shuffled", "blank image"} <= set(lines)
        assert lines["blank image"].get_ydata()[0] == 0.0
        tuning = result.tuning.query("object == @obj")
        for kind, q in (("original", 0.0), ("insertion", 0.25), ("deletion", 0.75), ("shuffled", 0.25)):
            expected = tuning[(tuning.images == kind) & np.isclose(tuning.threshold, q)].response - result.blank[obj]
            np.testing.assert_allclose(lines[kind].get_ydata(), expected.to_numpy())
        assert chart.get_legend() is not None and _outside_right(chart, chart.get_legend())


def test_figure5_rows_show_the_top_quarter_of_the_foreground_by_absolute_importance(importance):
    result, stimuli = importance
    figure = plot_importance_study(result, stimuli, objects=["obj1"], views=(-90.0, 90.0))
    images = [ax for ax in figure.axes if ax.images]
    assert len(images) == 4 * 2  # rows x the views asked for
    original = stimuli.images[9]  # obj1 at -90
    foreground = np.abs(original - 0.5) > 1 / 512
    score = np.where(foreground, np.abs(result.unit_maps["obj1"][0]), -np.inf).ravel()
    n_top = int(round(0.25 * foreground.sum()))
    top = np.zeros(original.size, bool)
    top[np.argsort(score, kind="stable")[::-1][:n_top]] = True
    top = top.reshape(original.shape)
    deletion, insertion = (images[r * 2].images[0].get_array() for r in (1, 2))
    np.testing.assert_array_equal(deletion, np.where(top, 0.5, original))
    np.testing.assert_array_equal(insertion, np.where(top, original, 0.5))
    shuffled = np.asarray(images[6].images[0].get_array())
    assert (shuffled != 0.5).sum() == top.sum()  # the same pixels, moved
    assert np.sort(shuffled[shuffled != 0.5]) == pytest.approx(np.sort(original[top]))
    c_panel = [ax for ax in figure.axes if ax.get_xlabel() == "share of foreground shown"][0]
    assert {"insertion (median ± SD over objects)", "deletion (median ± SD over objects)"} <= set(
        _legend_texts(c_panel.get_legend())
    )
    assert any("(mean ± SEM)" in ax.get_ylabel() for ax in figure.axes)


# --- Figure 6 -----------------------------------------------------------------------------------


def test_figure6_labels_the_noise_ceiling_band_and_colours_the_parts_as_the_paper():
    from rsa_mirror.inference import BootstrapResult, CeilingResult
    from rsa_mirror.shapley import ShapleyResult

    rng = np.random.default_rng(5)
    samples = 0.5 + 0.1 * rng.standard_normal((2, 3, 30))
    ceilings = {"AL": CeilingResult("AL", np.array([0.64, 0.7, 0.76]))}
    result = BootstrapResult(
        samples.mean(-1),
        samples,
        rng.integers(0, 10, (30, 10)),
        ["MLMF", "AL"],
        ["conv5", "fc6", "fc7"],
        "pearson",
        ceilings,
    )
    figure = _drawn(plot_alignment(result))
    mlmf, al = figure.axes[:2]
    (band,) = [p for p in al.patches if p.get_label() == "noise ceiling (lower–upper)"]
    assert band.get_y() == pytest.approx(0.7)  # lower bound: mean corrected reliability
    assert band.get_y() + band.get_height() == pytest.approx(np.sqrt([0.64, 0.7, 0.76]).mean())  # upper
    assert not [p for p in mlmf.patches if "noise ceiling" in p.get_label()]  # no ceiling given for MLMF
    legend = al.get_legend()
    assert "noise ceiling (lower–upper)" in _legend_texts(legend) and _outside_right(al, legend)
    assert "model-brain RDM correlation" in mlmf.get_ylabel()
    values = rng.standard_normal((2, 3, 2)) * 0.2
    shapley = ShapleyResult(
        values,
        values.sum(-1),
        None,
        None,
        ["MLMF", "AL"],
        ["conv5", "fc6", "fc7"],
        ["invariant", "sensitive"],
        np.zeros((3, 4), bool),
    )
    figure = _drawn(plot_shapley(shapley))
    legend = figure.axes[-1].get_legend()
    handles = dict(zip(_legend_texts(legend), legend.legend_handles, strict=True))
    assert to_hex(handles["reflection-invariant"].get_facecolor()) == "#f2c500"  # yellow
    assert to_hex(handles["reflection-sensitive"].get_facecolor()) == "#7b3294"  # purple
    assert "full r" in handles and _outside_right(figure.axes[-1], legend)
    heights = [p.get_height() for p in figure.axes[0].patches]
    np.testing.assert_allclose(heights, values[0].T.ravel())


# --- the contact sheet, the supplements --------------------------------------------------------


def test_contact_sheet_names_views_categories_and_exemplars():
    order = np.array([4, 0, 8, 1, 2, 3, 5, 6, 7])  # views stored out of order
    images = np.stack([np.full((6, 6), v / 9, np.float32) for v in order] * 2)
    descriptors = {
        "object": np.repeat(["car0", "face1"], 9),
        "category": np.repeat(["car", "face"], 9),
        "exemplar": np.repeat([0, 1], 9),
        "view_deg": np.tile(VIEWS[order], 2),
    }
    figure = plot_contact_sheet(StimulusSet(images, descriptors))
    axes = np.array(figure.axes).reshape(2, 9)
    assert [ax.get_title() for ax in axes[0]] == VIEW_TITLES
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["car\nexemplar 0", "face\nexemplar 1"]
    np.testing.assert_allclose([ax.images[0].get_array()[0, 0] for ax in axes[0]], np.arange(9) / 9)
    assert figure._suptitle.get_text() == "view (yaw)"


def test_supplement_lines_name_the_error_bars_and_keep_a_layer_without_values():
    from rsa_mirror.studies.supplements import NormalizationResult

    rows = [
        ("toy", normalize, layer, f"o{k}", "x", np.nan if (normalize == "none" and layer == "fc") else 0.1 * k)
        for normalize in ("zscore", "none")
        for layer in ("conv", "fc")
        for k in range(3)
    ]
    table = pd.DataFrame(rows, columns=["network", "normalize", "layer", "object", "category", "msvt"])
    figure = plot_normalization(NormalizationResult(table, {"toy": "seeded"}))
    zscored, raw = figure.axes[:2]
    assert zscored.get_ylabel() == "MSVT index (mean ± SEM over objects)"
    assert _ticks(zscored) == ["conv", "fc"] and _ticks(raw) == ["conv", "fc (n/a)"]
    assert raw.get_xlim() == (-0.5, 1.5)
    _, halves = _errorbar_halves(zscored.containers[0])
    np.testing.assert_allclose(halves, stats.sem([0.0, 0.1, 0.2]))


def test_projection_panel_labels_chance_and_its_error_bars(object_views):
    from rsa_mirror.projection_symmetry import projection_symmetry

    stimuli = object_views(2, VIEWS, 8, seed=2, categories=["x", "y"])
    figure = _drawn(plot_projection_symmetry(projection_symmetry(stimuli), chance_level=msvt_chance_level(9)))
    left, right = figure.axes[:2]
    assert "chance (9 views): -0.125" in _legend_texts(right.get_legend())
    assert "mean ± SEM over objects" in right.get_ylabel()
    assert _outside_right(left, left.get_legend()) and left.get_xlabel() == "view (yaw, degrees)"
