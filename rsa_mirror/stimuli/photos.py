"""Figure 3's natural and noise image sets, gray or colour.

``natural_images`` crops the photographs shipped with scikit-image and scikit-learn (no
download); ``noise_images`` draws uniform white noise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._utils import check_count, check_option, check_random_state
from .base import StimulusSet

if TYPE_CHECKING:
    from .._typing import RandomState

# Photographs shipped inside scikit-image's and scikit-learn's wheels (no download).
NATURAL_SCENES = (
    "astronaut", "camera", "coffee", "chelsea", "rocket", "brick", "grass", "gravel", "moon", "coins",
    "hubble_deep_field", "retina", "immunohistochemistry", "china.jpg", "flower.jpg",
)  # fmt: skip


def natural_images(
    n_images: int = 200, *, size: int = 227, color: bool = False, random_state: RandomState = None
) -> StimulusSet:
    """Random square crops of the photographs shipped with scikit-image and scikit-learn.

    Each crop is taken from a random scene (``NATURAL_SCENES``), with a side of 40-100 % of the
    scene's shorter side at a random position, and resized (antialiased). The crops are the
    same whatever ``color`` is (same ``random_state``, same scenes and windows).

    Args:
        n_images: number of crops.
        size: side of each image in pixels.
        color: False: gray images (n, size, size); True: RGB (n, 3, size, size), gray scenes
            (camera, moon, coins, ...) repeated on the three channels.
        random_state: int, Generator or None.

    Returns:
        ``StimulusSet`` in [0, 1] with descriptors ``scene`` and ``crop`` (row, column, side in
        source pixels, as a string).
    """
    import skimage.data
    from skimage.color import gray2rgb, rgb2gray
    from skimage.transform import resize
    from sklearn.datasets import load_sample_images

    n_images, size = check_count("n_images", n_images), check_count("size", size)
    check_option("color", color, (False, True))
    rng = check_random_state(random_state)
    samples = dict(zip(("china.jpg", "flower.jpg"), load_sample_images().images, strict=True))
    images, scenes, crops = [], [], []
    for _ in range(n_images):
        scene = NATURAL_SCENES[rng.integers(len(NATURAL_SCENES))]
        photo = samples[scene] if scene in samples else getattr(skimage.data, scene)()
        photo = photo[..., :3] if photo.ndim == 3 else photo
        gray = rgb2gray(photo) if photo.ndim == 3 else photo / 255.0
        side = int(rng.uniform(0.4, 1.0) * min(gray.shape))
        top, left = rng.integers(gray.shape[0] - side + 1), rng.integers(gray.shape[1] - side + 1)
        if color:
            rgb = photo / 255.0 if photo.ndim == 3 else gray2rgb(gray)
            crop = resize(rgb[top : top + side, left : left + side], (size, size), anti_aliasing=True)
            images.append(np.moveaxis(crop, -1, 0))
        else:
            images.append(resize(gray[top : top + side, left : left + side], (size, size), anti_aliasing=True))
        scenes.append(scene)
        crops.append(f"{top},{left},{side}")
    stacked = np.clip(np.stack(images), 0, 1).astype(np.float32)
    return StimulusSet(stacked, {"scene": np.array(scenes), "crop": np.array(crops)})


def noise_images(
    n_images: int = 200, *, size: int = 227, color: bool = False, random_state: RandomState = None
) -> StimulusSet:
    """Uniform white-noise images in [0, 1] (Figure 3's noise condition).

    Every pixel (and, in colour, every channel of every pixel) is drawn independently from
    U(0, 1). The paper's methods say only "a sample of 2025 random noise images", so gray is
    the default; the authors' released noise images are colour (``color=True``).

    Args:
        n_images: number of images.
        size: side of each image in pixels.
        color: False: gray images (n, size, size); True: RGB (n, 3, size, size), the channels
            independent.
        random_state: int, Generator or None.

    Returns:
        ``StimulusSet`` without descriptors.
    """
    n_images, size = check_count("n_images", n_images), check_count("size", size)
    check_option("color", color, (False, True))
    rng = check_random_state(random_state)
    shape = (n_images, 3, size, size) if color else (n_images, size, size)
    return StimulusSet(rng.uniform(0.0, 1.0, shape).astype(np.float32))
