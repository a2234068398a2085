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

    def aligned_to(self, descriptors, keys=("identity", "view_deg")) -> StimulusSet:
        """The images in the row order of another table (e.g. a recording's), matched on ``keys``.

        Args:
            descriptors: mapping key -> sequence, one value per wanted row (e.g. a Dataset's
                ``obs_descriptors``).
            keys: descriptors that identify an image together.

        Raises:
            ValueError: a key is missing on either side, or a row has no matching image.
        """
        missing = [key for key in keys if key not in self.descriptors or key not in descriptors]
        if missing:
            raise ValueError(f"both the stimulus set and the rows need descriptors {missing} to be matched")
        lookup = {
            tuple(values): row
            for row, values in enumerate(zip(*(self.descriptors[k].tolist() for k in keys), strict=True))
        }
        wanted = list(zip(*(np.asarray(descriptors[k]).tolist() for k in keys), strict=True))
        absent = [values for values in wanted if values not in lookup]
        if absent:
            raise ValueError(
                f"no image with {dict(zip(keys, absent[0], strict=True))} ({len(absent)} rows unmatched)"
                + _offset_hint(lookup, wanted, keys)
            )
        rows = [lookup[values] for values in wanted]
        masks = None if self.masks is None else self.masks[rows]
        chosen = {key: np.asarray(value)[rows] for key, value in self.descriptors.items()}
        return StimulusSet(self.images[rows], chosen, self.background, masks)

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

    def to_tensor(self, indices=None, *, size=224, mean=IMAGENET_MEAN, std=IMAGENET_STD, device=None):
        """Model input: torch float32 (n, 3, size, size), resized and normalized.

        Args:
            indices: which images (default all): a slice, indices or mask; convert batch by
                batch for large sets.
            size: output height and width in pixels (224 for most torchvision models, 227 for
                the paper's AlexNet); resizing is bilinear with antialiasing.
            mean: per-channel mean subtracted (ImageNet's by default); None to skip normalizing.
            std: per-channel standard deviation divided by (ImageNet's by default).
            device: where the result lives (default CPU). The images are copied there as they
                are (one channel for grayscale) and converted there, so on a GPU the host sends
                a third of the bytes and does none of the resizing.
        """
        import torch

        images = self.images if indices is None else self.images[indices]
        return model_input(torch.from_numpy(np.ascontiguousarray(images)).to(device), size, mean, std)

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


def load_stimuli(path, *, views_deg=None, background=0.5) -> StimulusSet:
    """Read a stimulus set from a .npz, a folder of images with a descriptor table, or a .mat.

    - ``.npz``: written by ``StimulusSet.save``.
    - A folder holding ``descriptors.csv``: one row per image, a column ``file`` (image path
      relative to the folder: PNG, JPEG, TIFF, ...) and any descriptor columns (``object``,
      ``category``, ``view_deg``, ...). Images are read as gray in [0, 1]; all must have the
      same size. ``background`` is their background gray level.
    - ``.mat`` in the layout of the paper's published stimuli: a cell array ``cm_imgs`` of
      objects x views (one gray image per cell, uint8 or double), ``names`` (one name per
      object) and optionally ``cm_bw_masks`` (a binary mask per image). Views are
      ``views_deg`` (default: the paper's nine, -90..90, when there are nine). ``category``
      is the name without its trailing exemplar number (``"car_07"`` -> ``"car"``).

    Raises:
        FileNotFoundError: no such file or folder, or an image file listed but missing.
        ValueError: an unreadable or inconsistent file (named, with the problem).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no stimulus file at {path}")
    if path.is_dir():
        return _load_image_folder(path, background)
    if path.suffix == ".mat":
        return _load_cell_array_mat(path, views_deg, background)
    with np.load(path, allow_pickle=False) as contents:
        if "images" not in contents:
            raise ValueError(f"{path}: no 'images' array; the file holds {', '.join(contents.files)}")
        descriptors = {
            k.removeprefix("descriptor_"): contents[k] for k in contents.files if k.startswith("descriptor_")
        }
        masks = contents["masks"] if "masks" in contents else None
        background = float(contents["background"]) if "background" in contents else background
        return StimulusSet(contents["images"], descriptors, background, masks)


def _load_image_folder(folder, background) -> StimulusSet:
    import pandas as pd
    from skimage.color import rgb2gray
    from skimage.io import imread
    from skimage.util import img_as_float32

    table_path = folder / "descriptors.csv"
    if not table_path.exists():
        raise FileNotFoundError(f"{folder}: no descriptors.csv (one row per image, a 'file' column and descriptors)")
    table = pd.read_csv(table_path)
    if "file" not in table.columns:
        raise ValueError(f"{table_path}: no 'file' column; columns are {', '.join(table.columns)}")
    images = []
    for name in table["file"]:
        file = folder / name
        if not file.exists():
            raise FileNotFoundError(f"{table_path} lists {name}, which is not in {folder}")
        image = img_as_float32(imread(file))
        images.append(rgb2gray(image[..., :3]) if image.ndim == 3 else image)
    shapes = {image.shape for image in images}
    if len(shapes) > 1:
        raise ValueError(f"{folder}: images differ in size {sorted(shapes)}; resize them to one size first")
    descriptors = {column: table[column].to_numpy() for column in table.columns if column != "file"}
    return StimulusSet(np.stack(images), descriptors, background)


def _load_cell_array_mat(path, views_deg, background) -> StimulusSet:
    import re

    import scipy.io

    try:
        contents = scipy.io.loadmat(path)
    except Exception as error:
        raise ValueError(f"{path}: cannot be read as a MATLAB .mat file ({error})") from error
    for variable in ("cm_imgs", "names"):
        if variable not in contents:
            present = ", ".join(k for k in contents if not k.startswith("__"))
            raise ValueError(
                f"{path}: no variable {variable!r} (the paper's stimulus layout); the file holds {present}"
            )
    cells = contents["cm_imgs"]
    names = [str(np.squeeze(name)) for name in np.ravel(contents["names"])]
    if cells.dtype != object or cells.ndim != 2 or cells.shape[0] != len(names):
        raise ValueError(f"{path}: 'cm_imgs' must be a cell array of {len(names)} objects x views, got {cells.shape}")
    n_views = cells.shape[1]
    if views_deg is None:
        if n_views != 9:
            raise ValueError(f"{path}: {n_views} views per object; pass views_deg (yaw of each view, left to right)")
        views_deg = np.linspace(-90.0, 90.0, 9)
    if len(views_deg) != n_views:
        raise ValueError(f"views_deg has {len(views_deg)} values for {n_views} views")
    images = np.stack([_gray(cells[i, j]) for i in range(len(names)) for j in range(n_views)])
    masks = None
    if "cm_bw_masks" in contents:
        masks = np.stack(
            [np.asarray(contents["cm_bw_masks"][i, j], dtype=bool) for i in range(len(names)) for j in range(n_views)]
        )
    descriptors = {
        "object": np.repeat(names, n_views),
        "category": np.repeat([re.sub(r"[_\s-]*\d+$", "", name) for name in names], n_views),
        "view_deg": np.tile(np.asarray(views_deg, dtype=float), len(names)),
    }
    return StimulusSet(images, descriptors, background, masks)


def _gray(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 3:
        image = image[..., :3].mean(axis=-1)
    return image / 255.0 if image.dtype == np.uint8 or image.max() > 1.0 else image.astype(np.float64)


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


def model_input(batch, size, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """Images as a network takes them: 3 channels, ``size`` x ``size``, normalized.

    Args:
        batch: torch tensor (n, H, W) grayscale or (n, 3, H, W), values in [0, 1], on any device.
        size: output height and width (bilinear resizing with antialiasing when it differs).
        mean: per-channel mean subtracted; None to skip normalizing.
        std: per-channel standard deviation divided by.

    Returns:
        float32 tensor (n, 3, size, size) on the batch's device.
    """
    import torch

    if batch.ndim == 3:
        batch = batch[:, None].expand(-1, 3, -1, -1)
    if batch.shape[-2:] != (size, size):
        batch = torch.nn.functional.interpolate(
            batch, size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )
    if mean is not None:
        mean, std = (torch.tensor(v, device=batch.device).view(1, 3, 1, 1) for v in (mean, std))
        batch = (batch - mean) / std
    return batch.contiguous()


def _offset_hint(lookup, wanted, keys) -> str:
    """When every row matches once one numeric key is shifted by one, say so (0- vs 1-based labels)."""
    for k, key in enumerate(keys):
        for shift in (-1, 1):
            try:
                shifted = [(*values[:k], values[k] - shift, *values[k + 1 :]) for values in wanted]
            except TypeError:
                break
            if all(values in lookup for values in shifted):
                return (
                    f": every row's {key!r} is the stimulus set's {key!r} {'+' if shift > 0 else '-'} 1 (labels "
                    f"counted from {'1' if shift > 0 else '0'} on one side, from {'0' if shift > 0 else '1'} on the "
                    "other?); relabel one side to match"
                )
    return ""
