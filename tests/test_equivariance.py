"""Invariance and equivariance (Eq. 2 and 3) against closed forms."""

import numpy as np
import pytest
import torch

from rsa_mirror.stimuli import StimulusSet, transform_maps
from rsa_mirror.symmetry import equivariance, invariance


def symmetric_conv(channels=4, seed=0):
    """3x3 convolution whose kernels are left-right symmetric: exactly hflip-equivariant."""
    torch.manual_seed(seed)
    conv = torch.nn.Conv2d(1, channels, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight[:] = (conv.weight + conv.weight.flip(-1)) / 2
    return conv


def maps_of(conv, images):
    with torch.no_grad():
        return conv(torch.from_numpy(images[:, None])).numpy().astype(np.float64)


@pytest.fixture
def noise():
    return np.random.default_rng(0).standard_normal((300, 9, 9)).astype(np.float32)


def test_identity_map_of_noise_is_not_invariant_once_fixed_points_are_dropped(noise):
    x = noise[:, None]  # (n, 1, 9, 9): the pixels as a "layer"
    r = invariance(x, transform_maps(x, "hflip"), "hflip")
    assert abs(r.mean()) < 0.02
    # keeping the central column (9 of 81 pixels identical in both) would give about 1/9
    naive = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(x, transform_maps(x, "hflip"), strict=True)]
    assert np.mean(naive) == pytest.approx(1 / 9, abs=0.03)


def test_identity_map_is_exactly_equivariant(noise):
    x = noise[:, None]
    for transform in ("hflip", "vflip", "rot90"):
        np.testing.assert_allclose(equivariance(x, transform_maps(x, transform), transform), 1.0, atol=1e-12)


def test_symmetric_kernels_are_hflip_equivariant_not_vflip(noise):
    conv = symmetric_conv()
    maps = maps_of(conv, noise)
    assert equivariance(maps, maps_of(conv, transform_maps(noise, "hflip")), "hflip") == pytest.approx(1.0, abs=1e-6)
    vertical = equivariance(maps, maps_of(conv, transform_maps(noise, "vflip")), "vflip")
    assert vertical.mean() < 0.9


def test_pooling_an_equivariant_map_gives_invariance(noise):
    """The paper's mechanism: global average pooling of hflip-equivariant maps is hflip-invariant."""
    conv = symmetric_conv(channels=6)
    relu = np.maximum
    pooled = relu(maps_of(conv, noise), 0).mean(axis=(2, 3))  # (n, 6) "fully connected" units
    pooled_mirror = relu(maps_of(conv, transform_maps(noise, "hflip")), 0).mean(axis=(2, 3))
    np.testing.assert_allclose(invariance(pooled, pooled_mirror, "hflip"), 1.0, atol=1e-6)
    pooled_flip = relu(maps_of(conv, transform_maps(noise, "vflip")), 0).mean(axis=(2, 3))
    assert invariance(pooled, pooled_flip, "vflip").mean() < 0.99


def test_input_checks(noise):
    x = noise[:, None]
    with pytest.raises(ValueError, match="differ in shape"):
        invariance(x, x[:10], "hflip")
    with pytest.raises(ValueError, match="needs convolutional maps"):
        equivariance(x[:, 0, 0], x[:, 0, 0], "hflip")
    with pytest.raises(ValueError, match="Invalid value for 'transform'"):
        invariance(x, x, "flip")
    with pytest.raises(ValueError, match="rot90 needs square maps"):
        transform_maps(np.zeros((2, 3, 4)), "rot90")


def test_stimulus_transforms(noise):
    stimuli = StimulusSet(np.clip(noise * 0.1 + 0.5, 0, 1), {"view_deg": np.zeros(300)})
    np.testing.assert_array_equal(stimuli.transformed("vflip").images, stimuli.images[:, ::-1])
    np.testing.assert_array_equal(stimuli.transformed("rot90").images, np.rot90(stimuli.images, axes=(1, 2)))
    np.testing.assert_array_equal(stimuli.transformed("hflip").images, stimuli.mirrored().images)
