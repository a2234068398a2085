"""StimulusSet: mirroring, subsets, luminance matching, model input, files."""

import numpy as np
import pytest
import torch

from rsa_mirror.networks.models import IMAGENET_MEAN, IMAGENET_STD
from rsa_mirror.stimuli import StimulusSet, load_stimuli


@pytest.fixture
def blobs():
    """6 gray-background images, each a bright rectangle of varying contrast, off centre."""
    rng = np.random.default_rng(0)
    images = np.full((6, 20, 24), 0.5, dtype=np.float32)
    for i in range(6):
        images[i, 4 : 12 + i, 3 : 10 + i] = 0.5 + 0.05 * (i + 1) + 0.02 * rng.standard_normal((8 + i, 7 + i))
    descriptors = {"object": np.repeat(["a", "b"], 3), "view_deg": np.tile([-45.0, 0.0, 45.0], 2)}
    return StimulusSet(images, descriptors)


def test_mirrored_flips_images_and_negates_views(blobs):
    mirror = blobs.mirrored()
    np.testing.assert_array_equal(mirror.images, blobs.images[:, :, ::-1])
    np.testing.assert_array_equal(mirror.descriptors["view_deg"], [45.0, -0.0, -45.0] * 2)
    twice = mirror.mirrored()
    np.testing.assert_array_equal(twice.images, blobs.images)
    np.testing.assert_array_equal(twice.descriptors["view_deg"], blobs.descriptors["view_deg"])


def test_subset_by_descriptor_and_index(blobs):
    b = blobs.subset(object="b")
    assert len(b) == 3 and set(b.descriptors["object"]) == {"b"}
    np.testing.assert_array_equal(b.images, blobs.images[3:])
    both = blobs.subset([0, 4, 5], view_deg=[0.0, 45.0])
    np.testing.assert_array_equal(both.descriptors["view_deg"], [0.0, 45.0])
    with pytest.raises(ValueError, match="Invalid descriptor 'colour'"):
        blobs.subset(colour="red")


def test_equalize_luminance_hits_the_set_averages(blobs):
    foreground = blobs.foreground
    means = [image[mask].mean() for image, mask in zip(blobs.images, foreground, strict=True)]
    stds = [image[mask].std() for image, mask in zip(blobs.images, foreground, strict=True)]
    matched = blobs.equalize_luminance()
    for image, mask in zip(matched.images, foreground, strict=True):
        assert image[mask].mean() == pytest.approx(np.mean(means), abs=1e-6)
        assert image[mask].std() == pytest.approx(np.mean(stds), abs=1e-6)
        assert np.all(image[~mask] == 0.5)
    np.testing.assert_array_equal(matched.masks, foreground)


def test_model_input_tensor(blobs):
    uniform = StimulusSet(np.full((2, 30, 30), 0.25, dtype=np.float32))
    tensor = uniform.to_tensor(size=16)
    assert tensor.shape == (2, 3, 16, 16) and tensor.dtype == torch.float32
    expected = (0.25 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    np.testing.assert_allclose(tensor[0, :, 5, 5].numpy(), expected, rtol=1e-6)
    raw = blobs.to_tensor([1, 2], size=20, mean=None)
    assert raw.shape == (2, 3, 20, 20)
    # resizing to the same height as the source (20) but square: values stay in the image's range
    assert float(raw.min()) >= 0.5 - 1e-6 and float(raw.max()) <= blobs.images[1:3].max() + 1e-6


def test_save_and_load(blobs, tmp_path):
    path = blobs.mirrored().save(tmp_path / "set.npz")
    loaded = load_stimuli(path)
    np.testing.assert_array_equal(loaded.images, blobs.images[:, :, ::-1])
    np.testing.assert_array_equal(loaded.descriptors["object"], blobs.descriptors["object"])
    with pytest.raises(FileNotFoundError, match="no stimulus file"):
        load_stimuli(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", pictures=np.zeros(3))
    with pytest.raises(ValueError, match="no 'images' array; the file holds pictures"):
        load_stimuli(tmp_path / "other.npz")


def test_bad_input():
    with pytest.raises(ValueError, match="shape \\(n, H, W\\) or \\(n, 3, H, W\\)"):
        StimulusSet(np.zeros((2, 4, 5, 5)))
    with pytest.raises(ValueError, match="images \\[1\\] contain NaN"):
        StimulusSet(np.stack([np.zeros((3, 3)), np.full((3, 3), np.nan)]))
    with pytest.raises(ValueError, match="descriptors\\['view_deg'\\] must have 2 values"):
        StimulusSet(np.zeros((2, 3, 3)), {"view_deg": [0.0]})
    with pytest.raises(ValueError, match="no foreground pixels"):
        StimulusSet(np.full((2, 3, 3), 0.5)).equalize_luminance()


def test_natural_and_noise_images():
    from rsa_mirror.stimuli import natural_images, noise_images

    natural = natural_images(5, size=32, random_state=1)
    assert natural.images.shape == (5, 32, 32) and 0 <= natural.images.min() and natural.images.max() <= 1
    assert len(natural.descriptors["scene"]) == 5
    np.testing.assert_array_equal(natural.images, natural_images(5, size=32, random_state=1).images)
    noise = noise_images(4, size=16, random_state=2)
    assert noise.images.shape == (4, 16, 16) and abs(noise.images.mean() - 0.5) < 0.05


def test_load_folder_with_descriptor_table(tmp_path):
    from skimage.io import imsave

    rng = np.random.default_rng(4)
    rows = []
    for i in range(3):
        image = (rng.uniform(0, 1, (12, 10)) * 255).astype(np.uint8)
        imsave(tmp_path / f"img{i}.png", image, check_contrast=False)
        rows.append(f"img{i}.png,chair_{i},chair,{[-45, 0, 45][i]}")
    (tmp_path / "descriptors.csv").write_text("file,object,category,view_deg\n" + "\n".join(rows) + "\n")
    stimuli = load_stimuli(tmp_path)
    assert stimuli.images.shape == (3, 12, 10)
    np.testing.assert_array_equal(stimuli.descriptors["view_deg"], [-45, 0, 45])
    from skimage.io import imread

    np.testing.assert_allclose(stimuli.images[1], imread(tmp_path / "img1.png") / 255.0, atol=1e-6)
    (tmp_path / "descriptors.csv").write_text("file,object\nmissing.png,x\n")
    with pytest.raises(FileNotFoundError, match="lists missing.png"):
        load_stimuli(tmp_path)


def test_load_the_papers_cell_array_mat_layout(tmp_path):
    import scipy.io

    rng = np.random.default_rng(5)
    names = ["car_01", "face_12"]
    cells = np.empty((2, 9), dtype=object)
    masks = np.empty((2, 9), dtype=object)
    for i in range(2):
        for j in range(9):
            cells[i, j] = (rng.uniform(0, 1, (8, 8)) * 255).astype(np.uint8)
            masks[i, j] = cells[i, j] > 127
    names_cell = np.empty((1, 2), dtype=object)
    names_cell[0, :] = names
    scipy.io.savemat(tmp_path / "stimuli.mat", {"cm_imgs": cells, "names": names_cell, "cm_bw_masks": masks})
    stimuli = load_stimuli(tmp_path / "stimuli.mat")
    assert stimuli.images.shape == (18, 8, 8)
    np.testing.assert_allclose(stimuli.images[9 + 4], cells[1, 4] / 255.0, atol=1e-6)
    np.testing.assert_array_equal(stimuli.masks[3], masks[0, 3])
    assert list(stimuli.descriptors["category"][[0, 9]]) == ["car", "face"]
    np.testing.assert_array_equal(stimuli.descriptors["view_deg"][:9], np.linspace(-90, 90, 9))
    scipy.io.savemat(tmp_path / "other.mat", {"images": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="no variable 'cm_imgs'"):
        load_stimuli(tmp_path / "other.mat")


def test_aligned_to_follows_the_rows_of_a_recording():
    images = np.arange(6, dtype=np.float32)[:, None, None] * np.ones((6, 4, 4), np.float32) / 6
    stimuli = StimulusSet(images, {"identity": np.repeat([0, 1], 3), "view_deg": np.tile([-45.0, 0.0, 45.0], 2)})
    rows = {"identity": [1, 0, 1, 0], "view_deg": [45.0, 45.0, -45.0, 0.0]}  # view-major, a subset
    aligned = stimuli.aligned_to(rows)
    assert aligned.images[:, 0, 0].tolist() == pytest.approx(np.array([5, 2, 3, 1]) / 6)
    assert aligned.descriptors["identity"].tolist() == [1, 0, 1, 0]
    with pytest.raises(ValueError, match=r"no image with \{'identity': 2, 'view_deg': 0.0\}"):
        stimuli.aligned_to({"identity": [2], "view_deg": [0.0]})
    with pytest.raises(ValueError, match=r"need descriptors \['view_deg'\]"):
        stimuli.aligned_to({"identity": [0]})
    # a lab's identities 1..2 against the set's 0..1: the error names the offset
    with pytest.raises(ValueError, match=r"every row's 'identity' is the stimulus set's 'identity' \+ 1"):
        stimuli.aligned_to({"identity": [2, 1, 2], "view_deg": [45.0, 45.0, 0.0]})
    with pytest.raises(ValueError, match=r"unmatched\)$"):  # no offset explains an unknown view
        stimuli.aligned_to({"identity": [1, 0], "view_deg": [30.0, 0.0]})
