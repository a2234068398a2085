"""Stimulus sets: images with per-image descriptors.

Also their mirror images, luminance matching, and conversion to model input tensors.

Images are float32 in [0, 1], grayscale (n, H, W) or colour (n, 3, H, W), objects on a uniform
background of gray level ``background``. Descriptors (object, category, exemplar, view_deg,
identity, ...) are arrays of one value per image; views run left to right (negative yaw = the
viewer's left), so ``mirrored()`` negates ``view_deg``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._utils import atomic_path, check_option, check_random_state

TRANSFORMS = ("hflip", "vflip", "rot90")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
# Photographs shipped inside scikit-image's and scikit-learn's wheels (no download).
NATURAL_SCENES = (
    "astronaut", "camera", "coffee", "chelsea", "rocket", "brick", "grass", "gravel", "moon", "coins",
    "hubble_deep_field", "retina", "immunohistochemistry", "china.jpg", "flower.jpg",
)  # fmt: skip
IMAGENET_STD = (0.229, 0.224, 0.225)


def transform_maps(maps, transform) -> np.ndarray:
    """Apply a geometric transform to the last two (height, width) axes of an array.

    Args:
        maps: array (..., H, W): images or convolutional feature maps.
        transform: ``"hflip"`` (left-right mirror), ``"vflip"`` (up-down mirror) or ``"rot90"``
            (90 degrees counter-clockwise; needs H == W).

    Returns:
        A new array of the same shape.
    """
    check_option("transform", transform, TRANSFORMS)
    if transform == "hflip":
        return maps[..., ::-1].copy()
    if transform == "vflip":
        return maps[..., ::-1, :].copy()
    if maps.shape[-1] != maps.shape[-2]:
        raise ValueError(f"rot90 needs square maps, got height x width {maps.shape[-2:]}")
    return np.rot90(maps, k=1, axes=(-2, -1)).copy()


@dataclass
class StimulusSet:
    """Images plus one descriptor value per image.

    Attributes:
        images: float32 array (n, H, W) or (n, 3, H, W), values in [0, 1].
        descriptors: mapping name -> array of n values (e.g. ``object``, ``category``,
            ``view_deg``).
        background: gray level of the uniform background, in [0, 1].
        masks: optional boolean (n, H, W), True on the object (foreground). When absent, the
            foreground is every pixel that differs from ``background`` by more than 1/512.
    """

    images: np.ndarray
    descriptors: dict = field(default_factory=dict)
    background: float = 0.5
    masks: np.ndarray | None = None

    def __post_init__(self):
        self.images = np.asarray(self.images, dtype=np.float32)
        if self.images.ndim not in (3, 4) or (self.images.ndim == 4 and self.images.shape[1] != 3):
            raise ValueError(f"images must have shape (n, H, W) or (n, 3, H, W), got {self.images.shape}")
        if not np.all(np.isfinite(self.images)):
            bad = np.flatnonzero(~np.isfinite(self.images.reshape(len(self.images), -1)).all(axis=1))
            raise ValueError(f"images {bad[:10].tolist()} contain NaN or Inf")
        n = len(self.images)
        self.descriptors = {k: np.asarray(v) for k, v in self.descriptors.items()}
        for key, values in self.descriptors.items():
            if values.shape[:1] != (n,):
                raise ValueError(f"descriptors[{key!r}] must have {n} values (one per image), got {values.shape}")
        if self.masks is not None:
            self.masks = np.asarray(self.masks, dtype=bool)
            if self.masks.shape != (n, *self.images.shape[-2:]):
                raise ValueError(f"masks must have shape {(n, *self.images.shape[-2:])}, got {self.masks.shape}")

    def __len__(self):
        return len(self.images)

    @property
    def foreground(self) -> np.ndarray:
        """Boolean (n, H, W): True on the object."""
        if self.masks is not None:
            return self.masks
        gray = self.images if self.images.ndim == 3 else self.images.mean(axis=1)
        return np.abs(gray - self.background) > 1 / 512

    def subset(self, indices=None, **criteria) -> StimulusSet:
        """Images selected by position and/or descriptor values, in their original order.

        Args:
            indices: integer positions or a boolean mask; default all.
            **criteria: descriptor name -> value or list of values to keep, e.g.
                ``category=["face", "car"]``.
        """
        keep = np.zeros(len(self), dtype=bool)
        keep[np.arange(len(self)) if indices is None else np.asarray(indices)] = True
        for key, wanted in criteria.items():
            if key not in self.descriptors:
                raise ValueError(f"Invalid descriptor {key!r}: expected one of {', '.join(self.descriptors)}")
            keep &= np.isin(self.descriptors[key], np.atleast_1d(wanted))
        rows = np.flatnonzero(keep)
        return StimulusSet(
            self.images[rows],
            {k: v[rows] for k, v in self.descriptors.items()},
            self.background,
            None if self.masks is None else self.masks[rows],
        )

    def mirrored(self) -> StimulusSet:
        """Left-right mirror images; ``view_deg`` (when present) is negated."""
        descriptors = dict(self.descriptors)
        if "view_deg" in descriptors:
            descriptors["view_deg"] = -descriptors["view_deg"]
        masks = None if self.masks is None else self.masks[..., ::-1].copy()
        return StimulusSet(self.images[..., ::-1].copy(), descriptors, self.background, masks)

    def transformed(self, transform) -> StimulusSet:
        """The images under ``transform_maps`` (``"hflip"`` is ``mirrored()``, view negated too)."""
        if transform == "hflip":
            return self.mirrored()
        masks = None if self.masks is None else transform_maps(self.masks, transform)
        return StimulusSet(transform_maps(self.images, transform), dict(self.descriptors), self.background, masks)

    def equalize_luminance(self) -> StimulusSet:
        """Set every image's foreground mean and standard deviation to the set's averages.

        The SHINE toolbox's lumMatch on the foreground: each image's foreground pixels are
        standardized and rescaled to the average (over images) of the foreground means and of
        the foreground standard deviations; the background is set to ``background``; values
        are clipped to [0, 1]. Colour images are matched on each channel.
        """
        foreground = self.foreground
        empty = np.flatnonzero(~foreground.reshape(len(self), -1).any(axis=1))
        if len(empty):
            raise ValueError(f"images {empty[:10].tolist()} have no foreground pixels to match")
        images = self.images if self.images.ndim == 4 else self.images[:, None]
        matched = np.empty_like(images)
        for channel in range(images.shape[1]):
            values = [image[mask] for image, mask in zip(images[:, channel], foreground, strict=True)]
            means = np.array([v.mean() for v in values])
            stds = np.array([v.std() for v in values])
            target_mean, target_std = means.mean(), stds.mean()
            plane = np.full(images.shape[-2:], self.background, dtype=np.float32)
            for i, v in enumerate(values):
                matched[i, channel] = plane
                scale = target_std / stds[i] if stds[i] > 0 else 0.0
                matched[i, channel][foreground[i]] = target_mean + (v - means[i]) * scale
        np.clip(matched, 0.0, 1.0, out=matched)
        return StimulusSet(
            matched if self.images.ndim == 4 else matched[:, 0], dict(self.descriptors), self.background, foreground
        )

    def to_tensor(self, indices=None, *, size=224, mean=IMAGENET_MEAN, std=IMAGENET_STD):
        """Model input: torch float32 (n, 3, size, size), resized and normalized.

        Args:
            indices: which images (default all); convert batch by batch for large sets.
            size: output height and width in pixels (224 for most torchvision models, 227 for
                the paper's AlexNet); resizing is bilinear with antialiasing.
            mean: per-channel mean subtracted (ImageNet's by default); None to skip normalizing.
            std: per-channel standard deviation divided by (ImageNet's by default).
        """
        import torch

        images = self.images if indices is None else self.images[indices]
        batch = torch.from_numpy(np.ascontiguousarray(images))
        if batch.ndim == 3:
            batch = batch[:, None].expand(-1, 3, -1, -1)
        if batch.shape[-2:] != (size, size):
            batch = torch.nn.functional.interpolate(
                batch, size=(size, size), mode="bilinear", antialias=True, align_corners=False
            )
        if mean is not None:
            batch = (batch - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
        return batch.contiguous()

    def save(self, path) -> Path:
        """Write the set to a compressed .npz file (atomically); ``load_stimuli`` reads it."""
        path = Path(path)
        arrays = {"images": self.images, "background": np.float32(self.background)}
        if self.masks is not None:
            arrays["masks"] = self.masks
        arrays.update({f"descriptor_{k}": v for k, v in self.descriptors.items()})
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)
        return path


def load_stimuli(path) -> StimulusSet:
    """Read a StimulusSet written by ``StimulusSet.save`` (.npz).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file holds no ``images`` array.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no stimulus file at {path}")
    with np.load(path, allow_pickle=False) as contents:
        if "images" not in contents:
            raise ValueError(f"{path}: no 'images' array; the file holds {', '.join(contents.files)}")
        descriptors = {
            k.removeprefix("descriptor_"): contents[k] for k in contents.files if k.startswith("descriptor_")
        }
        masks = contents["masks"] if "masks" in contents else None
        background = float(contents["background"]) if "background" in contents else 0.5
        return StimulusSet(contents["images"], descriptors, background, masks)


def natural_images(n_images=200, *, size=227, random_state=None) -> StimulusSet:
    """Random square crops of the photographs shipped with scikit-image and scikit-learn.

    Each crop is taken from a random scene (``NATURAL_SCENES``), with a side of 40-100 % of the
    scene's shorter side at a random position, converted to gray and resized (antialiased).
    Descriptors: ``scene``, ``crop`` (row, column, side in source pixels, as a string).
    """
    import skimage.data
    from skimage.color import rgb2gray
    from skimage.transform import resize
    from sklearn.datasets import load_sample_images

    rng = check_random_state(random_state)
    samples = dict(zip(("china.jpg", "flower.jpg"), load_sample_images().images, strict=True))
    images, scenes, crops = [], [], []
    for _ in range(int(n_images)):
        scene = NATURAL_SCENES[rng.integers(len(NATURAL_SCENES))]
        photo = samples[scene] if scene in samples else getattr(skimage.data, scene)()
        gray = rgb2gray(photo[..., :3]) if photo.ndim == 3 else photo / 255.0
        side = int(rng.uniform(0.4, 1.0) * min(gray.shape))
        top, left = rng.integers(gray.shape[0] - side + 1), rng.integers(gray.shape[1] - side + 1)
        images.append(resize(gray[top : top + side, left : left + side], (size, size), anti_aliasing=True))
        scenes.append(scene)
        crops.append(f"{top},{left},{side}")
    return StimulusSet(np.clip(np.stack(images), 0, 1), {"scene": np.array(scenes), "crop": np.array(crops)})


def noise_images(n_images=200, *, size=227, random_state=None) -> StimulusSet:
    """Uniform white-noise images in [0, 1] (Figure 3's noise condition)."""
    rng = check_random_state(random_state)
    return StimulusSet(rng.uniform(0.0, 1.0, (int(n_images), size, size)).astype(np.float32))
