"""The authors' stimulus file layout, colour noise, fixed points of even-sized maps and views,
and the rank-sum comparison of two networks (Figure 2-figure supplement 2B)."""

import math

import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.stats
from matplotlib.colors import to_hex

from matlab_bridge import write_mat
from rsa_mirror import compare_msvt, msvt_index
from rsa_mirror.cli import commands
from rsa_mirror.cli.main import build_parser, main
from rsa_mirror.errors import DataError, FileFormatError, InvalidArgumentError, InvalidTypeError
from rsa_mirror.stimuli import PAPER_VIEWS_DEG, load_stimuli, natural_images, noise_images
from rsa_mirror.studies.figure2 import MsvtResult
from rsa_mirror.studies.figure3 import figure3_images
from rsa_mirror.symmetry import _off_fixed_points, equivariance, invariance
from rsa_mirror.vis import plot_msvt_categories

CATEGORIES = ["car", "boat", "face"]


def code(c, e, v):
    """The pixel value that identifies category c, exemplar e, view v (all from 0)."""
    return 100 * c + 10 * e + v


def released_cells(n_categories=3, n_exemplars=2, n_views=9):
    """cm_imgs in the authors' layout: row v*E+e (from 0) is exemplar e at view v, column c category c.

    Every image is constant at ``code(c, e, v)`` (uint16), its mask True on the first v+1 pixels.
    """
    cells = np.empty((n_views * n_exemplars, n_categories), dtype=object)
    masks = np.empty_like(cells)
    for c in range(n_categories):
        for e in range(n_exemplars):
            for v in range(n_views):
                cells[v * n_exemplars + e, c] = np.full((4, 5), code(c, e, v), np.uint16)
                mask = np.zeros((4, 5), bool)
                mask.flat[: v + 1] = True
                masks[v * n_exemplars + e, c] = mask
    return cells, masks


def text_cell(names):
    cell = np.empty((1, len(names)), dtype=object)
    cell[0, :] = names
    return cell


def assert_released_set(stimuli, n_categories=3, n_exemplars=2, views=PAPER_VIEWS_DEG, names=CATEGORIES, masks=True):
    """Every image carries the (category, exemplar, view) its descriptors say."""
    n_views = len(views)
    assert len(stimuli) == n_categories * n_exemplars * n_views
    decoded = np.rint(stimuli.images[:, 0, 0].astype(np.float64) * 65535).astype(int)
    category = np.array([names.index(name) for name in stimuli.descriptors["category"]])
    exemplar = stimuli.descriptors["exemplar"].astype(int)
    view = np.searchsorted(np.asarray(views), stimuli.descriptors["view_deg"])
    np.testing.assert_array_equal(decoded, [code(c, e, v) for c, e, v in zip(category, exemplar, view, strict=True)])
    # each (c, e, v) exactly once, in category, exemplar, view order
    expected = [(c, e, v) for c in range(n_categories) for e in range(n_exemplars) for v in range(n_views)]
    assert list(zip(category, exemplar, view, strict=True)) == expected
    objects = [f"{names[c]}_{e:02d}" for c, e, _ in expected]
    assert list(stimuli.descriptors["object"]) == objects
    if masks:
        np.testing.assert_array_equal(stimuli.masks.reshape(len(stimuli), -1).sum(axis=1), view + 1)


# --- the released layout ------------------------------------------------------------------------


def test_released_layout_written_by_scipy_puts_every_image_in_its_place(tmp_path):
    cells, masks = released_cells()
    path = tmp_path / "stimuli.mat"
    scipy.io.savemat(path, {"cm_imgs": cells, "names": text_cell(CATEGORIES), "cm_bw_masks": masks})
    stimuli = load_stimuli(path)  # 18 x 3 with 3 names: only the released layout fits
    assert_released_set(stimuli)
    np.testing.assert_array_equal(stimuli.descriptors["view_deg"][:9], np.linspace(-90, 90, 9))
    assert_released_set(load_stimuli(path, layout="released"))


@pytest.mark.parametrize("format", ["v7", "v7.3"])
def test_released_layout_through_write_mat_with_names_in_a_second_file(tmp_path, format):
    cells, _ = released_cells(n_categories=2, n_exemplars=3, n_views=5)
    write_mat(tmp_path / "stimuli.mat", {"cm_imgs": cells}, format=format)
    write_mat(tmp_path / "names.mat", {"names": text_cell(["car", "boat"])}, format=format)
    views = [-90, -45, 0, 45, 90]
    stimuli = load_stimuli(tmp_path / "stimuli.mat", names=tmp_path / "names.mat", views_deg=views)
    assert_released_set(stimuli, n_categories=2, n_exemplars=3, views=views, names=["car", "boat"], masks=False)
    np.testing.assert_array_equal(stimuli.descriptors["view_deg"][:5], views)
    # the names as a list, or as the only variable of another file
    listed = load_stimuli(tmp_path / "stimuli.mat", names=["car", "boat"], views_deg=views)
    np.testing.assert_array_equal(listed.images, stimuli.images)
    write_mat(tmp_path / "other.mat", {"categories": text_cell(["car", "boat"])}, format=format)
    other = load_stimuli(tmp_path / "stimuli.mat", names=str(tmp_path / "other.mat"), views_deg=views)
    np.testing.assert_array_equal(other.descriptors["category"], stimuli.descriptors["category"])


def test_released_layout_written_by_octave(tmp_path, octave):
    octave(
        "E = 2; V = 9; C = 3; cm_imgs = cell(V * E, C);"
        "for c = 1:C, for e = 1:E, for v = 1:V,"
        "  cm_imgs{(v - 1) * E + e, c} = uint16(100 * (c - 1) + 10 * (e - 1) + (v - 1)) * ones(4, 5, 'uint16');"
        "end, end, end;"
        "names = {'car', 'boat', 'face'};"
        "save('-v7', 'stimuli.mat', 'cm_imgs'); save('-v7', 'names.mat', 'names');",
        tmp_path,
    )
    with pytest.raises(FileFormatError, match=r"no variable 'names'.*pass names="):
        load_stimuli(tmp_path / "stimuli.mat")
    assert_released_set(load_stimuli(tmp_path / "stimuli.mat", names=tmp_path / "names.mat"), masks=False)


def test_a_square_file_is_refused_until_the_layout_is_named(tmp_path):
    """9 x 9 with 9 names: 9 objects x 9 views, or 1 exemplar x 9 views x 9 categories."""
    names = [f"c{k}" for k in range(9)]
    cells, _ = released_cells(n_categories=9, n_exemplars=1)
    path = tmp_path / "square.mat"
    scipy.io.savemat(path, {"cm_imgs": cells, "names": text_cell(names)})
    with pytest.raises(FileFormatError, match=r"9 x 9 with 9 names, which fits both layouts; pass layout='released'"):
        load_stimuli(path)
    assert_released_set(load_stimuli(path, layout="released"), n_categories=9, n_exemplars=1, names=names, masks=False)
    # read as objects x views, row i is object i and column j view j: cell (j, i) of the released file
    objects = load_stimuli(path, layout="objects_x_views")
    decoded = np.rint(objects.images[:, 0, 0] * 65535).astype(int)
    np.testing.assert_array_equal(decoded, [code(j, 0, i) for i in range(9) for j in range(9)])
    assert list(objects.descriptors["object"][:2]) == ["c0", "c0"]


def test_objects_x_views_files_load_as_before(tmp_path):
    cells = np.empty((2, 9), dtype=object)
    for i in range(2):
        for j in range(9):
            cells[i, j] = np.full((3, 3), 10 * i + j, np.uint8)
    path = tmp_path / "objects.mat"
    scipy.io.savemat(path, {"cm_imgs": cells, "names": text_cell(["car_01", "face_12"])})
    for layout in (None, "objects_x_views"):
        stimuli = load_stimuli(path, layout=layout)
        np.testing.assert_array_equal(
            np.rint(stimuli.images[:, 0, 0] * 255), [10 * i + j for i in range(2) for j in range(9)]
        )
        assert list(stimuli.descriptors["category"][[0, 9]]) == ["car", "face"]
        assert "exemplar" not in stimuli.descriptors
    with pytest.raises(FileFormatError, match=r"2 x 9 with 2 names; layout='released' expects one column per name"):
        load_stimuli(path, layout="released")


@pytest.mark.parametrize(
    ("case", "error", "match"),
    [
        ("layout_name", InvalidArgumentError, r"Invalid value for 'layout': expected one of released, objects_x_views"),
        ("rows", FileFormatError, r"has 16 rows, not a whole number of exemplars of 9 views"),
        ("no_fit", FileFormatError, r"18 x 3 with 2 names, which fits neither layout"),
        ("repeated", FileFormatError, r"'names' names car more than once"),
        ("names_file", FileNotFoundError, r"no names file at .*absent\.mat"),
        ("names_list", InvalidArgumentError, r"Invalid value for 'names'.*must hold text"),
        ("npz", InvalidArgumentError, r"Invalid value for 'layout': describes \.mat stimulus files only"),
    ],
)
def test_bad_layouts_and_names_say_what_is_wrong(tmp_path, case, error, match):
    cells, _ = released_cells()
    names = CATEGORIES
    options = {"layout": "released"}
    if case == "layout_name":
        options = {"layout": "authors"}
    elif case == "rows":
        cells = cells[:16]
    elif case == "no_fit":
        names, options = ["car", "boat"], {}
    elif case == "repeated":
        names = ["car", "boat", "car"]
    elif case == "names_file":
        options["names"] = tmp_path / "absent.mat"
    elif case == "names_list":
        options["names"] = ["car", 3, "face"]
    path = tmp_path / "stimuli.mat"
    scipy.io.savemat(path, {"cm_imgs": cells, "names": text_cell(names)})
    if case == "npz":
        path = load_stimuli(path).save(tmp_path / "stimuli.npz")
    with pytest.raises(error, match=match):
        load_stimuli(path, **options)


def test_the_command_line_reads_the_released_layout(tmp_path, capsys):
    cells, _ = released_cells()
    scipy.io.savemat(tmp_path / "stimuli.mat", {"cm_imgs": cells})
    scipy.io.savemat(tmp_path / "names.mat", {"names": text_cell(CATEGORIES)})
    parser, _ = build_parser()
    for command in ("msvt", "align", "demo"):
        argv = [command, "--stimuli", str(tmp_path / "stimuli.mat"), "--stimuli-names", str(tmp_path / "names.mat")]
        argv += ["--stimuli-layout", "released"] + (["--out", str(tmp_path)] if command != "demo" else [])
        argv += ["--simulate"] if command == "align" else []
        assert_released_set(commands._stimuli(parser.parse_args(argv)), masks=False)
    square, _ = released_cells(n_categories=9, n_exemplars=1)
    scipy.io.savemat(tmp_path / "square.mat", {"cm_imgs": square, "names": text_cell([f"c{k}" for k in range(9)])})
    argv = ["msvt", "--out", str(tmp_path / "out"), "--stimuli", str(tmp_path / "square.mat"), "--weights", "untrained"]
    assert main(argv) == 2
    assert "fits both layouts; pass --stimuli-layout 'released'" in capsys.readouterr().err
    argv = ["msvt", "--out", str(tmp_path / "out"), "--stimuli", str(tmp_path / "square.npz")]
    assert main([*argv, "--weights", "untrained", "--stimuli-layout", "released"]) == 2
    assert "--stimuli-layout and --stimuli-names describe a .mat --stimuli" in capsys.readouterr().err


# --- colour noise and natural images ------------------------------------------------------------


def test_colour_noise_is_three_independent_uniform_channels():
    gray = noise_images(6, size=16, random_state=3)
    color = noise_images(6, size=16, color=True, random_state=3)
    assert gray.images.shape == (6, 16, 16) and color.images.shape == (6, 3, 16, 16)
    np.testing.assert_array_equal(noise_images(6, size=16, color=True, random_state=3).images, color.images)
    values = noise_images(200, size=16, color=True, random_state=0).images
    assert values.min() >= 0 and values.max() <= 1
    assert values.mean() == pytest.approx(0.5, abs=0.005) and values.var() == pytest.approx(1 / 12, abs=0.001)
    channels = values.transpose(1, 0, 2, 3).reshape(3, -1)
    assert np.abs(np.corrcoef(channels)[np.triu_indices(3, 1)]).max() < 0.01
    assert figure3_images("noise", 4, size=8, color=True).images.shape == (4, 3, 8, 8)
    with pytest.raises(InvalidArgumentError, match="Invalid value for 'color'"):
        noise_images(2, color="rgb")
    with pytest.raises(InvalidArgumentError, match="the rendered objects are gray"):
        figure3_images("objects", 81, size=8, color=True)


def test_colour_natural_images_are_the_same_crops_as_the_gray_ones():
    gray = natural_images(5, size=24, random_state=1)
    color = natural_images(5, size=24, color=True, random_state=1)
    assert color.images.shape == (5, 3, 24, 24)
    np.testing.assert_array_equal(color.descriptors["crop"], gray.descriptors["crop"])
    luminance = np.tensordot([0.2125, 0.7154, 0.0721], color.images, axes=(0, 1))  # skimage's rgb2gray weights
    np.testing.assert_allclose(luminance, gray.images, atol=2e-6)


# --- even sizes: nothing is its own mirror ------------------------------------------------------


def test_fixed_points_exist_only_on_odd_sizes():
    dropped = {
        (shape, transform): np.argwhere(~_off_fixed_points(shape, transform)).tolist()
        for shape in [(4, 4), (4, 5), (5, 4), (5, 5)]
        for transform in ("hflip", "vflip", "rot90")
        if transform != "rot90" or shape[0] == shape[1]
    }
    assert dropped[((4, 5), "hflip")] == [[i, 2] for i in range(4)]
    assert dropped[((5, 4), "vflip")] == [[2, j] for j in range(4)]
    assert dropped[((5, 5), "rot90")] == [[2, 2]]
    assert all(not dropped[key] for key in [((4, 4), "hflip"), ((4, 4), "vflip"), ((4, 4), "rot90"), ((4, 5), "vflip")])
    assert all(not dropped[key] for key in [((5, 4), "hflip")])


@pytest.mark.parametrize(("height", "width"), [(6, 6), (6, 7), (7, 6), (7, 7)])
@pytest.mark.parametrize("transform", ["hflip", "vflip", "rot90"])
def test_invariance_of_the_identity_map_against_a_plain_loop(height, width, transform):
    """Eq. 2 for f = identity: a loop of np.corrcoef over the positions a plain rule keeps."""
    if transform == "rot90" and height != width:
        return
    rng = np.random.default_rng(height * width)
    x = rng.standard_normal((40, 2, height, width))
    g = {
        "hflip": lambda m: m[..., ::-1],
        "vflip": lambda m: m[..., ::-1, :],
        "rot90": lambda m: np.rot90(m, 1, (-2, -1)),
    }
    gx = g[transform](x)
    keep = np.ones((height, width), bool)
    if transform == "hflip" and width % 2:
        keep[:, width // 2] = False
    if transform == "vflip" and height % 2:
        keep[height // 2] = False
    if transform == "rot90" and height % 2:
        keep[height // 2, width // 2] = False
    za, zb = (x - x.mean(0)) / x.std(0), (gx - gx.mean(0)) / gx.std(0)
    expected = [np.corrcoef(a[:, keep].ravel(), b[:, keep].ravel())[0, 1] for a, b in zip(za, zb, strict=True)]
    np.testing.assert_allclose(invariance(x, gx, transform), expected, atol=1e-12)
    np.testing.assert_allclose(equivariance(x, gx, transform), 1.0, atol=1e-12)


def test_even_view_counts_keep_every_column():
    """D[j, k] = |j - k|, 4 views: all 16 cells. sum x = sum y = 20, sum x^2 = sum y^2 = 40 and
    sum xy = 16, so r = (16 - 16 * 1.25^2) / (40 - 16 * 1.25^2) = -9/15."""
    rdm = np.abs(np.subtract.outer(np.arange(4), np.arange(4))).astype(float)
    assert msvt_index(rdm) == pytest.approx(-3 / 5, abs=1e-15)


# --- Figure 2-figure supplement 2B: rank-sum tests with BH FDR ----------------------------------


def msvt_tables(seed=0, n_exemplars=8, shift=("fc6", "face", 0.8)):
    """Two msvt_by_object-like tables; ``shift`` raises one cell of the first."""
    rng = np.random.default_rng(seed)
    rows = {0: [], 1: []}
    for network in (0, 1):
        for layer in ("conv1", "conv5", "fc6"):
            for category in ("car", "face", "fruit"):
                for e in range(n_exemplars + network):  # the objects need not match in number
                    value = rng.normal(0.1, 0.2) + (shift[2] if (network, layer, category) == (0, *shift[:2]) else 0)
                    rows[network].append((layer, category, f"{category}_{e:02d}", value))
    first, second = (pd.DataFrame(rows[k], columns=["name", "category", "object", "msvt"]) for k in (0, 1))
    first.loc[3, "msvt"] = np.nan  # a constant RDM's index
    return first, second


def benjamini_hochberg(p):
    """q_(i) = min over j >= i of p_(j) m / j, a plain loop."""
    p = np.asarray(p, float)
    order = np.argsort(p)
    q = np.empty_like(p)
    running = 1.0
    for rank in range(len(p), 0, -1):
        running = min(running, p[order[rank - 1]] * len(p) / rank)
        q[order[rank - 1]] = running
    return q


@pytest.mark.parametrize(("test", "alternative"), [("ranksums", "two-sided"), ("mannwhitneyu", "greater")])
def test_compare_msvt_matches_scipy_in_a_loop_and_a_hand_bh(test, alternative):
    first, second = msvt_tables()
    table = compare_msvt(first, second, test=test, alternative=alternative)
    assert len(table) == 9 and list(table[["name", "category"]].iloc[0]) == ["conv1", "car"]
    run = getattr(scipy.stats, test)
    expected_p = []
    for row in table.itertuples():
        a = first[(first["name"] == row.name) & (first["category"] == row.category)]["msvt"].dropna().to_numpy()
        b = second[(second["name"] == row.name) & (second["category"] == row.category)]["msvt"].to_numpy()
        statistic, p = run(a, b, alternative=alternative)
        assert (row.n_first, row.n_second) == (len(a), len(b))
        assert row.statistic == pytest.approx(statistic, abs=1e-12)
        assert (row.mean_first, row.median_second) == pytest.approx((a.mean(), np.median(b)), abs=1e-12)
        expected_p.append(p)
    np.testing.assert_allclose(table["p"], expected_p, rtol=1e-12)
    np.testing.assert_allclose(table["q"], benjamini_hochberg(expected_p), rtol=1e-12)
    np.testing.assert_array_equal(table["significant"], benjamini_hochberg(expected_p) < 0.05)
    assert table.loc[table["significant"], ["name", "category"]].values.tolist() == [["fc6", "face"]]
    assert table["n_first"].iloc[0] == 7  # conv1 car: 8 exemplars, one NaN


def test_compare_msvt_closed_form_and_errors():
    """a = 1, 2, 3 against b = 4, 5, 6: rank sum 6, mean 10.5, sd sqrt(9 * 7 / 12), z = -4.5 / sd."""
    first = pd.DataFrame({"name": "fc6", "category": "face", "msvt": [1.0, 2.0, 3.0]})
    second = first.assign(msvt=[4.0, 5.0, 6.0])
    row = compare_msvt(first, second).iloc[0]
    z = -4.5 / math.sqrt(9 * 7 / 12)
    assert row.statistic == pytest.approx(z, abs=1e-12)
    assert row.p == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), abs=1e-12)  # 2 * Phi(-|z|) = 0.0495
    assert row.q == row.p and row.difference == -3.0
    with pytest.raises(DataError, match=r"same name x category cells: second alone has \('fc7', 'face'\)"):
        compare_msvt(first, pd.concat([second, second.assign(name="fc7")]))
    with pytest.raises(InvalidArgumentError, match="Invalid value for 'test': expected one of ranksums, mannwhitneyu"):
        compare_msvt(first, second, test="ttest")
    with pytest.raises(InvalidTypeError, match="Invalid type for 'second'"):
        compare_msvt(first, second.to_numpy())
    with pytest.raises(InvalidArgumentError, match="Invalid value for 'alpha'"):
        compare_msvt(first, second, alpha=1.5)


def test_the_figure2_result_compares_its_two_networks_and_the_figure_marks_them():
    first, second = msvt_tables()
    tables = {label: t.rename(columns={"name": "layer"}) for label, t in (("trained", first), ("untrained", second))}
    result = MsvtResult(tables, {}, {"trained": "control", "untrained": "untrained"})
    compared = result.compare()
    pd.testing.assert_frame_equal(
        compared, compare_msvt(tables["trained"], tables["untrained"], by=("layer", "category"))
    )
    reverse = result.compare("untrained", "trained")
    np.testing.assert_allclose(reverse["statistic"], -compared["statistic"], atol=1e-12)
    with pytest.raises(InvalidArgumentError, match="expected one of trained, untrained, got 'imagenet'"):
        result.compare("imagenet", "trained")
    with pytest.raises(InvalidArgumentError, match="name both networks"):
        result.compare("trained")
    figure = plot_msvt_categories(tables, layer_key="layer")
    difference = figure.axes[2]
    starred = [line for line in difference.lines if line.get_marker() == "*" and len(line.get_xdata())]
    assert [(list(line.get_xdata()), to_hex(line.get_color())) for line in starred] == [(["fc6"], "#ff7f0e")]  # face
    assert "rank-sum, BH FDR q < 0.05" in [t.get_text() for t in difference.get_legend().get_texts()]
    unmarked = plot_msvt_categories(tables, layer_key="layer", comparison=False)
    assert not [line for line in unmarked.axes[2].lines if line.get_marker() == "*"]
    with pytest.raises(InvalidArgumentError, match="marks the difference of two networks"):
        plot_msvt_categories({"trained": tables["trained"]}, layer_key="layer", comparison=compared)


# --- the commands ------------------------------------------------------------------------------


def test_msvt_command_on_a_released_file_writes_the_comparison(tmp_path, capsys):
    """Two untrained AlexNets (seeds 7 and 0) on 2 categories x 2 exemplars x 9 views of a released-layout file."""
    torch = pytest.importorskip("torch")
    from rsa_mirror.networks.models import load_model
    from rsa_mirror.stimuli import render_objects

    stimuli = render_objects(categories=("chair", "fruit"), n_exemplars=2, size=64, random_state=0)
    cells = np.empty((9 * 2, 2), dtype=object)
    for image, c, e, v in zip(
        stimuli.images,
        np.repeat([0, 1], 18),
        stimuli.descriptors["exemplar"],
        np.tile(np.arange(9), 4),
        strict=True,
    ):
        cells[v * 2 + e, c] = np.rint(image * 255).astype(np.uint8)
    write_mat(tmp_path / "stimuli.mat", {"cm_imgs": cells})
    write_mat(tmp_path / "names.mat", {"names": text_cell(["chair", "fruit"])})
    weights = tmp_path / "alexnet_seed7.pt"
    torch.save(load_model("alexnet", weights="untrained", random_state=7).module.state_dict(), weights)
    argv = ["msvt", "--weights", str(weights), "--stimuli", str(tmp_path / "stimuli.mat"), "--out", str(tmp_path)]
    argv += ["--stimuli-names", str(tmp_path / "names.mat"), "--device", "cpu", "--batch-size", "12"]
    assert main([*argv, "--mat", str(tmp_path / "msvt.mat")]) == 0
    table = pd.read_csv(tmp_path / "msvt_by_object.csv")
    assert sorted(set(table["object"])) == ["chair_00", "chair_01", "fruit_00", "fruit_01"]
    comparison = pd.read_csv(tmp_path / "msvt_comparison.csv")
    assert len(comparison) == 12 * 2 and set(comparison["category"]) == {"chair", "fruit"}  # the 12 layers of Figure 2C
    first, second = sorted(set(table["network"]), key=lambda label: "untrained" in label)
    cell = comparison.iloc[0]
    a = table[(table.network == first) & (table.layer == cell.layer) & (table.category == cell.category)]["msvt"]
    b = table[(table.network == second) & (table.layer == cell.layer) & (table.category == cell.category)]["msvt"]
    assert cell.p == pytest.approx(scipy.stats.ranksums(a, b).pvalue, rel=1e-9)
    assert "layer x category cells differ" in capsys.readouterr().out


def test_equivariance_command_takes_colour_noise(tmp_path, capsys):
    argv = ["equivariance", "--weights", "untrained", "--images", "noise", "--color", "--n-images", "4", "--size", "64"]
    assert main([*argv, "--out", str(tmp_path), "--device", "cpu"]) == 0
    table = pd.read_csv(tmp_path / "equivariance.csv")
    assert set(table["n_images"]) == {4} and set(table["transform"]) == {"hflip", "vflip", "rot90"}
    assert main([*argv[:4], "objects", "--color", "--out", str(tmp_path), "--device", "cpu"]) == 2
    assert "--color is for --images natural or noise" in capsys.readouterr().err
