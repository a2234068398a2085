"""Importance maps (issue 7): RISE on a toy network with known receptive fields, resume, shuffles."""

import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from rsa_mirror.errors import InvalidArgumentError
from rsa_mirror.image_edits import insertion_deletion, shuffle_components
from rsa_mirror.importance import make_masks, rise_maps
from rsa_mirror.mirror_units import select_mirror_units
from rsa_mirror.networks.forward import unit_responses

SIZE = 24
TOY = """
import torch
class Toy(torch.nn.Module):
    '''Unit 0: mean of channel 0 over the top-left 6 x 6 square; unit 1: over the bottom-right one.'''
    def __init__(self, size=24):
        super().__init__()
        self.read = torch.nn.Linear(3 * size * size, 2, bias=False)
        weight = torch.zeros(2, 3, size, size)
        weight[0, 0, 2:8, 2:8] = 1 / 36
        weight[1, 0, 16:22, 16:22] = 1 / 36
        with torch.no_grad():
            self.read.weight.copy_(weight.reshape(2, -1))
    def forward(self, x):
        return self.read(x.flatten(1))
"""
namespace = {}
exec(TOY, namespace)
Toy = namespace["Toy"]


@pytest.fixture(scope="module")
def images():
    """Three 'objects' (one view each): white squares on gray."""
    out = np.full((3, SIZE, SIZE), 0.5, dtype=np.float32)
    out[:, 1:23, 1:23] = 1.0
    out[1, 10:14] = 0.0
    return out


def test_masks_are_seeded_coarse_and_shifted():
    g = torch.Generator().manual_seed(0)
    masks = make_masks(400, SIZE, grid=4, p=0.5, generator=g)
    assert masks.shape == (400, SIZE, SIZE) and float(masks.min()) >= 0 and float(masks.max()) <= 1
    assert float(masks.mean()) == pytest.approx(0.5, abs=0.03)
    again = make_masks(400, SIZE, grid=4, p=0.5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(masks, again)


def test_masks_equal_the_upsampled_grid_cropped_at_its_shift():
    """Separable matrices vs torch's 2-d bilinear upsampling of each grid, cropped pixel by pixel."""
    for size, grid in (((24, 24), 4), ((31, 20), 6), ((227, 227), 7)):
        masks = make_masks(40, size, grid=grid, generator=torch.Generator().manual_seed(1))
        g = torch.Generator().manual_seed(1)  # the same draws, in make_masks' order
        coarse = (torch.rand(40, grid, grid, generator=g) < 0.5).float()
        cells = [int(np.ceil(length / grid)) for length in size]
        dy, dx = (torch.randint(0, cell, (40,), generator=g) for cell in cells)
        up = torch.nn.functional.interpolate(coarse[:, None], size=[(grid + 1) * c for c in cells], mode="bilinear")
        for i in range(40):
            crop = up[i, 0, dy[i] : dy[i] + size[0], dx[i] : dx[i] + size[1]]
            torch.testing.assert_close(masks[i], crop, rtol=0, atol=1e-6)


def test_maps_peak_where_the_unit_reads(images):
    maps = rise_maps(Toy(), images, None, [0, 1], n_masks=600, grid=6, batch_size=128, random_state=0, device="cpu")
    assert maps.shape == (2, 3, SIZE, SIZE)
    inside0 = np.zeros((SIZE, SIZE), bool)
    inside0[2:8, 2:8] = True
    inside1 = np.zeros((SIZE, SIZE), bool)
    inside1[16:22, 16:22] = True
    for k in range(3):
        assert maps[0, k][inside0].mean() > maps[0, k][~inside0].mean() + 0.02
        assert maps[1, k][inside1].mean() > maps[1, k][~inside1].mean() + 0.02
        peak = np.unravel_index(maps[0, k].argmax(), (SIZE, SIZE))
        assert 0 <= peak[0] < 11 and 0 <= peak[1] < 11  # within about a mask cell of the region


def test_many_units_in_one_pass_equal_one_at_a_time_and_seeds_reproduce(images):
    options = {"n_masks": 200, "grid": 5, "batch_size": 64, "device": "cpu"}
    both = rise_maps(Toy(), images, None, [0, 1], random_state=3, **options)
    first = rise_maps(Toy(), images, None, [0], random_state=3, **options)
    second = rise_maps(Toy(), images, None, [1], random_state=3, **options)
    np.testing.assert_allclose(both, np.concatenate([first, second]), atol=1e-6)
    assert np.array_equal(both, rise_maps(Toy(), images, None, [0, 1], random_state=3, **options))
    assert not np.array_equal(both, rise_maps(Toy(), images, None, [0, 1], random_state=4, **options))
    batched = rise_maps(Toy(), images, None, [0, 1], random_state=3, **{**options, "batch_size": 50})
    np.testing.assert_allclose(batched, both, atol=1e-6)  # masks do not depend on batching
    weights = np.array([[1.0, 0.0], [0.5, 0.5], [2.0, -1.0]])
    combined = rise_maps(Toy(), images, None, [0, 1], weights=weights, random_state=3, **options)
    np.testing.assert_allclose(combined, np.einsum("mu,uiyx->miyx", weights, both), atol=1e-6)
    with pytest.raises(InvalidArgumentError, match=r"Invalid value for 'weights': expected shape \(n_maps >= 1, 2\)"):
        rise_maps(Toy(), images, None, [0, 1], weights=np.ones((2, 3)), **options)


def test_a_killed_run_resumes_to_the_same_maps(tmp_path, images):
    np.save(tmp_path / "images.npy", np.repeat(images, 4, axis=0))  # 12 images, one file each
    script = f"""{TOY}
import numpy as np
from rsa_mirror.importance import rise_maps
images = np.load({str(tmp_path / "images.npy")!r})
rise_maps(Toy(), images, None, [0, 1], n_masks=3000, grid=5, batch_size=100, random_state=7, device="cpu",
          checkpoint_dir={str(tmp_path / "ckpt")!r})
"""
    process = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 120
    while time.time() < deadline and len(list((tmp_path / "ckpt").glob("rise-*.npy"))) < 2:
        time.sleep(0.05)
    process.kill()
    process.wait()
    done = sorted((tmp_path / "ckpt").glob("rise-*.npy"))
    assert 2 <= len(done) < 12, "the run should be killed midway"
    stamps = {f: f.stat().st_mtime_ns for f in done}
    every = np.load(tmp_path / "images.npy")
    options = {"n_masks": 3000, "grid": 5, "batch_size": 100, "random_state": 7, "device": "cpu"}
    resumed = rise_maps(Toy(), every, None, [0, 1], checkpoint_dir=tmp_path / "ckpt", **options)
    assert all(f.stat().st_mtime_ns == stamp for f, stamp in stamps.items())  # reused, not recomputed
    assert np.array_equal(resumed, rise_maps(Toy(), every, None, [0, 1], **options))
    assert not list((tmp_path / "ckpt").glob(".*"))  # no partial files


def test_select_mirror_units_strict_and_baek():
    views = np.linspace(-90, 90, 9)
    v_shaped = np.abs(views) / 90  # mirror-symmetric, V-template positive
    peaked = np.exp(-(views**2) / 800)  # mirror-symmetric but inverted V
    slope = views / 90  # view-specific
    noise = np.random.default_rng(0).normal(size=(37, 9))
    tuning = np.vstack([slope, peaked, v_shaped + 0.01 * np.arange(9) % 2, noise])
    strict = select_mirror_units(tuning, views, fraction=0.05)
    n_positive = 1 + (np.corrcoef(noise, np.abs(views))[-1, :-1] > 0).sum()  # V-shaped and noise units
    assert len(select_mirror_units(tuning, views, fraction=1.0)) == n_positive
    assert len(strict) == np.ceil(0.05 * n_positive) and strict.unit.iloc[0] == 2  # 5% of those, V-shaped first
    assert 1 not in strict.unit.values and 0 not in strict.unit.values
    baek = select_mirror_units(tuning, views, criterion="baek")
    assert {1, 2} <= set(baek.unit) and 0 not in set(baek.unit)  # the looser criterion keeps both
    with pytest.raises(ValueError, match="mirror pairs"):
        select_mirror_units(tuning, np.arange(9.0))


def test_insertion_deletion_and_component_shuffle():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (20, 20)).astype(np.float32)
    foreground = np.zeros((20, 20), bool)
    foreground[4:16, 4:16] = True
    importance = np.zeros((20, 20))
    importance[4:7, 4:7], importance[12:16, 10:14] = 2.0, 1.0
    insertion, deletion, kept = insertion_deletion(image, importance, foreground, 25 / 144)
    assert kept.sum() == 25 and kept[4:7, 4:7].all() and not kept[~foreground].any()
    assert np.array_equal(insertion[kept], image[kept]) and (insertion[~kept] == 0.5).all()
    assert (deletion[kept] == 0.5).all() and np.array_equal(deletion[~kept], image[~kept])
    shuffled = shuffle_components(image, kept, random_state=1)
    assert np.array_equal(np.sort(shuffled[shuffled != 0.5]), np.sort(image[kept]))  # every pixel kept, once
    assert np.array_equal(shuffled, shuffle_components(image, kept, random_state=1))
    assert not np.array_equal(shuffled, insertion)


def test_unit_responses_match_the_toy_closed_form(images):
    responses = unit_responses(Toy(), images, None, [0, 1], device="cpu")
    np.testing.assert_allclose(responses[0], images[:, 2:8, 2:8].mean(axis=(1, 2)), atol=1e-6)
    np.testing.assert_allclose(responses[1], images[:, 16:22, 16:22].mean(axis=(1, 2)), atol=1e-6)


def test_importance_study_end_to_end_on_rendered_objects(tmp_path, capsys):
    from rsa_mirror.cli import main

    args = ["importance", "--weights", "untrained", "--categories", "car", "face", "--n-masks", "40"]
    assert main([*args, "--size", "32", "--layer", "conv5", "--device", "cpu", "--out", str(tmp_path)]) == 0
    similarity = __import__("pandas").read_csv(tmp_path / "similarity.csv")
    assert list(similarity.threshold.unique()) == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    assert similarity.r_insertion.between(-1, 1).all() and set(similarity.object) == {"car_00", "face_00"}
    msvt = __import__("pandas").read_csv(tmp_path / "msvt.csv")
    assert set(msvt.images) == {"original", "insertion", "shuffled"} and msvt.msvt.between(-1, 1).all()
    with np.load(tmp_path / "maps.npz") as maps:
        assert maps["car_00"].shape == (9, 32, 32)
    assert (tmp_path / "figure5.png").read_bytes()[:4] == b"\x89PNG"
    assert len(list((tmp_path / "rise_checkpoints").glob("rise-*.npy"))) == 2  # one per object
    summary = __import__("pandas").read_csv(tmp_path / "summary.csv").set_index("object")
    for row in msvt.itertuples():
        assert summary.loc[row.object, f"msvt_{row.images}"] == pytest.approx(row.msvt, abs=1e-12)
    means = similarity.groupby("object")[["r_insertion", "r_deletion"]].mean()
    np.testing.assert_allclose(summary.loc[means.index, ["r_insertion", "r_deletion"]], means, atol=1e-12)
    from rsa_mirror.networks.models import load_model
    from rsa_mirror.stimuli.objects import render_objects

    stimuli = render_objects(categories=["car", "face"], n_exemplars=1, size=32, random_state=0)
    responses = unit_responses(load_model("alexnet", weights="untrained", random_state=0), stimuli, "conv5", None)
    for obj in ("car_00", "face_00"):  # 5% of the conv5 units (input resized to 227) whose tuning is V-positive
        rows = np.flatnonzero(stimuli.descriptors["object"] == obj)
        template = np.abs(stimuli.descriptors["view_deg"][rows])
        with np.errstate(invalid="ignore", divide="ignore"):
            r = [np.corrcoef(curve, template)[0, 1] for curve in responses[:, rows]]
        assert summary.loc[obj, "n_units"] == np.ceil(0.05 * np.sum(np.nan_to_num(r) > 0))
    assert "r_insertion" in capsys.readouterr().out


def test_count_mirror_units_on_known_tuning():
    from rsa_mirror.mirror_units import count_mirror_units
    from rsa_mirror.stimuli import StimulusSet

    views = np.linspace(-90, 90, 9)
    images = np.full((9, SIZE, SIZE), 0.5, dtype=np.float32)
    for k, v in enumerate(views):
        images[k, 2:8, 2:8] = abs(v) / 90  # unit 0: V-shaped, mirror-symmetric
        images[k, 16:22, 16:22] = 0.5 + v / 200  # unit 1: view-specific
    stimuli = StimulusSet(images, {"object": np.array(["x"] * 9), "category": np.array(["c"] * 9), "view_deg": views})
    table = count_mirror_units(Toy(), stimuli, None, device="cpu")
    assert table.to_dict("records") == [{"object": "x", "category": "c", "n_units": 2, "n_baek": 1, "n_strict": 1}]


def test_cut_network_equals_the_hooked_activations_and_untraceable_modules_fall_back(alexnet):
    from rsa_mirror.networks.activations import extract_activations
    from rsa_mirror.networks.forward import layer_function as _layer_function
    from rsa_mirror.stimuli import StimulusSet

    gray = np.random.default_rng(1).uniform(0, 1, (3, 40, 40)).astype(np.float32)
    hooked = extract_activations(alexnet, StimulusSet(gray, {}, 0.5), ["conv2", "fc6"], device="cpu")
    network = alexnet.module.eval()
    for layer in ("conv2", "fc6"):
        path = alexnet.resolve_layers([layer])[layer]
        cut = _layer_function(network, path, alexnet)
        assert _layer_function(network, path, alexnet) is cut  # traced once per network and layer
        with torch.inference_mode():
            np.testing.assert_allclose(cut(torch.as_tensor(gray)).numpy(), hooked[layer].reshape(3, -1), atol=1e-5)

    class Branchy(torch.nn.Module):  # data-dependent control flow: FX cannot trace it
        def __init__(self):
            super().__init__()
            self.first, self.second = torch.nn.Linear(3 * 8 * 8, 4), torch.nn.Linear(4, 2)

        def forward(self, x):
            hidden = self.first(x.flatten(1))
            return self.second(hidden if hidden.sum() > 0 else -hidden)

    branchy, batch = Branchy(), torch.rand(5, 8, 8)
    with torch.inference_mode():
        expected = branchy.first(batch[:, None].expand(-1, 3, -1, -1).flatten(1))
        np.testing.assert_array_equal(_layer_function(branchy, "first")(batch).numpy(), expected.numpy())


@pytest.mark.parametrize(
    ("conv", "size", "normalized"),
    [
        (torch.nn.Conv2d(3, 8, 7, stride=2, padding=3, bias=False), (37, 37), True),  # ResNet's stem, odd size
        (torch.nn.Conv2d(3, 8, 4, stride=4), (30, 30), True),  # ConvNeXt's patchify: the last rows are not read
        (torch.nn.Conv2d(3, 8, (5, 3), stride=(3, 2), padding=(1, 2)), (26, 31), False),  # a plain module
    ],
)
def test_the_gray_stem_equals_the_first_convolution_on_three_channels(conv, size, normalized):
    from rsa_mirror.networks.forward import layer_function as _layer_function
    from rsa_mirror.networks.models import LoadedModel

    network = torch.nn.Sequential(conv, torch.nn.ReLU(), torch.nn.Conv2d(8, 4, 3)).eval()
    mean, std = ((0.3, 0.5, 0.6), (0.2, 0.25, 0.4)) if normalized else ((0.0,) * 3, (1.0,) * 3)
    loaded = LoadedModel("stem", network, "random", {}, size[0], mean, std) if normalized else None
    gray = torch.rand(5, *size)
    channels = (gray[:, None] - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    with torch.inference_mode():
        folded = _layer_function(network, "2", loaded, gray_stem=True)
        torch.testing.assert_close(folded(gray), network(channels).flatten(1), rtol=1e-5, atol=1e-5)
    assert type(network[0]) is torch.nn.Conv2d  # the network keeps its own convolution


def test_compiled_rise_equals_eager(images):
    options = {"n_masks": 200, "grid": 5, "batch_size": 64, "device": "cpu", "random_state": 3}
    eager = rise_maps(Toy(), images, None, [0, 1], **options)
    compiled = rise_maps(Toy(), images, None, [0, 1], compile=True, **options)
    np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-6)


def test_importance_cli_on_the_shipped_control_network(tmp_path, capsys):
    from rsa_mirror.cli import main

    args = ["importance", "--model", "control", "--layer", "fc2", "--categories", "face", "--n-masks", "60"]
    assert main([*args, "--device", "cpu", "--out", str(tmp_path)]) == 0
    summary = __import__("pandas").read_csv(tmp_path / "summary.csv")
    assert summary.object.tolist() == ["face_00"] and 1 <= summary.n_units[0] <= 13  # at most 5% of 256 units
    with np.load(tmp_path / "maps.npz") as maps, np.load(tmp_path / "unit_maps.npz") as unit_maps:
        assert maps["face_00"].shape == unit_maps["face_00"].shape == (9, 64, 64)  # rendered at 64 px
    assert "control (trained on rendered" in capsys.readouterr().out


def test_the_layer_function_cache_does_not_keep_networks_alive():
    import gc
    import weakref

    from rsa_mirror.networks.forward import _LAYER_FUNCTIONS
    from rsa_mirror.networks.forward import layer_function as _layer_function

    for path in (None, "read"):  # the network itself, and a layer cut by FX
        toy = Toy()
        _layer_function(toy, path)(torch.rand(2, SIZE, SIZE))
        alive = weakref.ref(toy)
        del toy
        gc.collect()
        assert alive() is None and alive not in _LAYER_FUNCTIONS.keyrefs()


def test_importance_study_on_a_known_mirror_unit():
    """Unit 0 reads a square whose gray is V-shaped in the view (mirror-symmetric, always brighter
    than the background); unit 1 reads a darker, view-specific square. Half the foreground is
    unit 0's square, so (if its map ranks its square first) insertion showing >= 50% of the
    foreground gives back its tuning exactly and deletion showing <= 50% leaves it flat."""
    from rsa_mirror.stimuli import StimulusSet
    from rsa_mirror.studies.figure5 import importance_study

    views = np.linspace(-90, 90, 9)
    images = np.full((9, SIZE, SIZE), 0.5, dtype=np.float32)
    for k, v in enumerate(views):
        images[k, 2:8, 2:8] = 0.6 + 0.4 * abs(v) / 90
        images[k, 16:22, 16:22] = 0.2 + 0.1 * (v + 90) / 180
    stimuli = StimulusSet(images, {"object": np.array(["x"] * 9), "view_deg": views})
    with pytest.warns(UserWarning) as caught:  # unit 1 silent on insertion / shuffled images: one unit varies
        result = importance_study(Toy(), stimuli, None, n_masks=2000, grid=4, index_units="layer", random_state=0)
    assert sorted(str(w.message).split()[0] for w in caught) == ["insertion", "shuffled"]
    assert np.isfinite(result.msvt.set_index("images").loc["original", "msvt"])  # both units vary there
    with pytest.warns(UserWarning, match="original images: no index"):  # one selected unit: no view RDM
        importance_study(Toy(), stimuli, None, n_masks=20, grid=4, random_state=0)
    assert result.msvt.set_index("images").loc[["insertion", "shuffled"], "msvt"].isna().all()
    assert list(result.units["x"]) == [0]  # ceil(5% of the 1 template-positive unit), the V-shaped one
    for m in result.unit_maps["x"]:  # its map ranks its own square above the other one
        assert m[2:8, 2:8].min() > m[16:22, 16:22].max() and m[2:8, 2:8].mean() > m.mean() + 0.01
    original = result.tuning[result.tuning.images == "original"].response.to_numpy()
    np.testing.assert_allclose(original, images[:, 2:8, 2:8].mean(axis=(1, 2)), atol=1e-6)
    similarity = result.similarity.set_index("threshold")
    np.testing.assert_allclose(similarity.loc[0.5:, "r_insertion"], 1, atol=1e-6)  # its square shown
    assert similarity.loc[:0.5, "r_deletion"].isna().all()  # the least important half shown: its square hidden
    assert similarity.loc[0.6:, "r_deletion"].notna().all()  # part of its square shown again
    assert result.summary().loc[0, "best_unit"] == 0
    assert result.blank["x"] == pytest.approx(0.5)  # unit 0 reads the background gray
