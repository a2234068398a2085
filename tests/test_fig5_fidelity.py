"""Figure 5 as the paper's text states: |map| ranking, the released ranking, unit selection, whole components."""

import numpy as np
import pytest
from scipy import ndimage, stats

from rsa_mirror.errors import InvalidArgumentError
from rsa_mirror.image_edits import (
    RELEASED_DILATION,
    insertion_deletion,
    ranked_pixels,
    released_count,
    shuffle_components,
)
from rsa_mirror.mirror_units import select_mirror_units

VIEWS = np.linspace(-90, 90, 9)


def test_paper_ranking_keeps_a_strongly_negative_foreground_pixel_and_ignores_the_background():
    importance = np.full((6, 6), 0.1)
    importance[1, 1], importance[2, 3], importance[4, 4] = -5.0, 2.0, 1.0
    importance[0, 5] = 9.0  # background: never ranked
    foreground = np.zeros((6, 6), bool)
    foreground[1:5, 1:5] = True  # 16 pixels
    kept = ranked_pixels(importance, foreground, 3 / 16)
    assert set(zip(*np.nonzero(kept), strict=True)) == {(1, 1), (2, 3), (4, 4)}  # by |map|
    signed_top = np.argsort(np.where(foreground, importance, -np.inf), axis=None)[::-1][:3]  # the old ranking
    assert np.ravel_multi_index((1, 1), (6, 6)) not in signed_top
    image = np.arange(36.0).reshape(6, 6) / 36
    insertion, deletion, same = insertion_deletion(image, importance, foreground, 3 / 16, background=0.5)
    assert np.array_equal(same, kept) and insertion[1, 1] == np.float32(image[1, 1]) and deletion[1, 1] == 0.5
    assert ranked_pixels(importance, foreground, 0.5).sum() == 8  # round(0.5 x 16) foreground pixels


def test_the_released_dilation_is_matlabs_strel_disk_5():
    """MATLAB's strel('disk', 5) (4 periodic lines, Adams 1993) built independently: the lines'
    Minkowski sum, then the horizontal and vertical lines that bring it to its 9 x 9 box."""
    theta = np.pi / 8
    k = 2 * 5 / (1 / np.tan(theta) + 1 / np.sin(theta))
    shape = np.zeros((15, 15), bool)
    shape[7, 7] = True
    for v in ([1, 0], [1, 1], [0, 1], [-1, 1]):
        reach = int(np.floor(k / np.hypot(*v)))
        line = np.zeros((2 * reach + 1,) * 2, bool)
        for t in range(-reach, reach + 1):
            line[reach + t * v[0], reach + t * v[1]] = True
        shape = ndimage.binary_dilation(shape, structure=line)
    extra = (shape[3:12, 3:12].sum(axis=1) == 0).sum() + 1  # empty rows of the (2r - 1) box, plus one
    shape = ndimage.binary_dilation(shape, structure=np.ones((extra, extra), bool))
    rows, cols = np.nonzero(shape)
    assert np.array_equal(shape[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1], RELEASED_DILATION)
    assert RELEASED_DILATION.shape == (9, 9) and RELEASED_DILATION.sum() == 69


def test_released_ranking_dilates_a_one_pixel_foreground_by_the_octagon():
    foreground = np.zeros((15, 15), bool)
    foreground[7, 7] = True
    importance = np.random.default_rng(0).uniform(1, 2, (15, 15))  # centred map never 0
    kept = ranked_pixels(importance, foreground, 1.0, ranking="released")
    dy, dx = np.abs(np.mgrid[-7:8, -7:8])
    assert np.array_equal(kept, (dy <= 4) & (dx <= 4) & (dy + dx <= 6))  # closed form, 69 pixels
    assert ranked_pixels(importance, foreground, 1.0).sum() == 1  # the paper: the one pixel


def test_released_ranking_subtracts_the_spatial_mean():
    importance = np.ones((10, 10))
    importance[2, 2], importance[6, 6] = 1.5, 0.0  # mean 0.995: |0 - mean| > |1.5 - mean|
    foreground = np.ones((10, 10), bool)
    paper = ranked_pixels(importance, foreground, 0.01)
    released = ranked_pixels(importance, foreground, 0.02, ranking="released")  # round(1 x 100 / 99) = 1 pixel
    assert np.argwhere(paper).tolist() == [[2, 2]] and np.argwhere(released).tolist() == [[6, 6]]
    rng = np.random.default_rng(1)
    importance = rng.normal(size=(20, 20)) + 3.0
    foreground = np.zeros((20, 20), bool)
    foreground[8:12, 6:14] = True
    region = ndimage.binary_dilation(foreground, structure=RELEASED_DILATION)
    centred = importance - importance.mean()  # the mean over the whole image, background included
    n = released_count(0.25, region.sum())
    expected = sorted(zip(*np.nonzero(region), strict=True), key=lambda p: -abs(centred[p]))[:n]
    kept = ranked_pixels(importance, foreground, 0.25, ranking="released")
    assert set(zip(*np.nonzero(kept), strict=True)) == set(expected)


@pytest.mark.parametrize("n", [1, 7, 99, 990, 1234, 51529])
def test_released_counts_are_the_entries_of_matlabs_linspace(n):
    numpixels = np.floor(np.linspace(0, n, 100) + 0.5).astype(int)  # MATLAB round(linspace(0, n, 100))
    for percent in range(1, 101):
        assert released_count(percent / 100, n) == numpixels[percent - 1]
    assert released_count(0.0, n) == 0


def test_the_released_25_percent_is_24_of_99_pixels():
    foreground = np.ones((30, 33), bool)  # 990 pixels, no room to dilate
    importance = np.random.default_rng(2).uniform(1, 2, (30, 33))
    counts = {q: ranked_pixels(importance, foreground, q, ranking="released").sum() for q in (0.1, 0.25, 0.9)}
    assert counts == {0.1: 90, 0.25: 240, 0.9: 890}  # 9/99, 24/99, 89/99 of 990
    assert ranked_pixels(importance, foreground, 0.25).sum() == 248  # the paper: round(247.5)
    with pytest.raises(InvalidArgumentError, match="'ranking'"):
        ranked_pixels(importance, foreground, 0.25, ranking="signed")


def _curves(eps, sign):
    """sign |v| + eps v: r with the template is sign x (> 0); r with the mirror is (a - eps^2 b) / (a + eps^2 b)."""
    return sign * np.abs(VIEWS)[None, :] + np.asarray(eps)[:, None] * VIEWS[None, :]


@pytest.mark.parametrize(("n_positive", "expected"), [(40, 2), (60, 3), (19, 1), (100, 5)])
def test_selection_takes_five_percent_of_the_template_positive_units(n_positive, expected):
    rng = np.random.default_rng(n_positive)
    eps = rng.permutation(np.linspace(0.01, 2, n_positive))
    tuning = np.vstack([_curves(rng.uniform(0, 2, 100 - n_positive), -1), _curves(eps, 1)])
    tuning = tuning[(order := rng.permutation(100))]
    chosen = select_mirror_units(tuning, VIEWS, fraction=0.05)
    assert len(chosen) == expected  # 5% of all 100 units would be 5
    a, b = np.var(np.abs(VIEWS)), np.var(VIEWS)
    positive = np.flatnonzero(order >= 100 - n_positive)
    best = positive[np.argsort(eps[order[positive] - (100 - n_positive)])][:expected]  # smallest eps first
    assert chosen.unit.tolist() == best.tolist()
    closed = (a - eps**2 * b) / (a + eps**2 * b)
    np.testing.assert_allclose(chosen.r_mirror, np.sort(closed)[::-1][:expected], atol=1e-12)
    for row in chosen.itertuples():
        assert row.r_template == pytest.approx(stats.pearsonr(tuning[row.unit], np.abs(VIEWS))[0], abs=1e-12)
        assert row.r_template > 0


def test_a_shuffled_component_moves_whole_with_its_shape():
    rng = np.random.default_rng(3)
    image = rng.uniform(0.6, 1.0, (40, 40))  # distinct values, none background gray
    kept = np.zeros((40, 40), bool)
    kept[5:10, 5:10] = True  # a 5 x 5 block (the released code keeps 16 of its values)
    kept[20:26, 20], kept[25, 20:24] = True, True  # an L
    kept[30, 30], kept[31, 31] = True, True  # touching by a corner: two 4-connected components
    labels, count = ndimage.label(kept)
    assert count == 4
    moved_pair = set()
    for seed in range(6):
        out = shuffle_components(image, kept, random_state=seed)
        assert (out != 0.5).sum() == kept.sum()
        for index in range(1, count + 1):
            ys, xs = np.nonzero(labels == index)
            y, x = np.argwhere(out == np.float32(image[ys[0], xs[0]]))[0]  # where its first pixel went
            np.testing.assert_array_equal(out[ys - ys[0] + y, xs - xs[0] + x], image[ys, xs].astype(np.float32))
        places = [tuple(np.argwhere(out == np.float32(image[p]))[0]) for p in ((30, 30), (31, 31))]
        moved_pair.add((places[1][0] - places[0][0], places[1][1] - places[0][1]))
    assert len(moved_pair) > 1  # the corner-touching pixels move apart: separate components


def test_the_study_records_its_ranking_and_refuses_an_unknown_one(tmp_path):
    import torch

    from matlab_bridge import load_results, save_results
    from rsa_mirror.stimuli import StimulusSet
    from rsa_mirror.studies.figure5 import importance_study

    class Toy(torch.nn.Module):
        """Unit 0: mean of channel 0 over rows and columns 2..7; unit 1: over 16..21."""

        def forward(self, x):
            return torch.stack([x[:, 0, 2:8, 2:8].mean((1, 2)), x[:, 0, 16:22, 16:22].mean((1, 2))], 1)

    images = np.full((9, 24, 24), 0.5, dtype=np.float32)
    for k, v in enumerate(VIEWS):
        images[k, 2:8, 2:8] = 0.6 + 0.4 * abs(v) / 90
        images[k, 16:22, 16:22] = 0.2 + 0.1 * (v + 90) / 180
    stimuli = StimulusSet(images, {"object": np.array(["x"] * 9), "view_deg": VIEWS})
    with pytest.raises(InvalidArgumentError, match="'ranking'.*paper, released"):
        importance_study(Toy(), stimuli, None, n_masks=8, grid=4, ranking="signed")
    options = {"n_masks": 400, "grid": 4, "index_units": "layer", "random_state": 0}
    with pytest.warns(UserWarning):
        result = importance_study(Toy(), stimuli, None, ranking="released", **options)
    assert result.ranking == "released" and "released ranking" in repr(result)
    save_results(tmp_path / "r.mat", result)
    assert load_results(tmp_path / "r.mat").ranking == "released"


def test_the_importance_command_takes_a_ranking():
    from rsa_mirror.cli.main import build_parser

    parser = build_parser()[0]
    args = parser.parse_args(["importance", "--out", "x", "--ranking", "released", "--layer", "fc6_pre"])
    assert args.ranking == "released" and args.layer == "fc6_pre"
    assert parser.parse_args(["importance", "--out", "x"]).ranking == "paper"
