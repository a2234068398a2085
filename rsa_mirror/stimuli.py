"""Stimulus sets: images with per-image descriptors.

Also their mirror images, luminance matching, and conversion to model input tensors.

Images are float32 in [0, 1], grayscale (n, H, W) or colour (n, 3, H, W), objects on a uniform
background of gray level ``background``. Descriptors (object, category, exemplar, view_deg,
identity, ...) are arrays of one value per image; views run left to right (negative yaw = the
viewer's left), so ``mirrored()`` negates ``view_deg``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._utils import NPY_READ_ERRORS, atomic_path, check_count, check_option, check_random_state, format_indices
from .errors import DataError, FileFormatError, InvalidArgumentError, InvalidTypeError

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
    maps = np.asarray(maps)
    if maps.ndim < 2:
        raise InvalidArgumentError(f"Invalid value for 'maps': expected an array (..., H, W), got shape {maps.shape}")
    if transform == "hflip":
        return maps[..., ::-1].copy()
    if transform == "vflip":
        return maps[..., ::-1, :].copy()
    if maps.shape[-1] != maps.shape[-2]:
        raise InvalidArgumentError(f"rot90 needs square maps, got height x width {maps.shape[-2:]}")
    return np.rot90(maps, k=1, axes=(-2, -1)).copy()


@dataclass
class StimulusSet:
    """Images plus one descriptor value per image.

    Integer images (uint8, uint16, int16, ...) are divided by their dtype's maximum
    (``np.iinfo(dtype).max``); float images must already lie in [0, 1].

    Attributes:
        images: float32 array (n, H, W) or (n, 3, H, W), values in [0, 1]; at least one image.
        descriptors: mapping name -> array of n values (e.g. ``object``, ``category``,
            ``view_deg``).
        background: gray level of the uniform background, in [0, 1].
        masks: optional boolean (n, H, W), True on the object (foreground). When absent, the
            foreground is every pixel that differs from ``background`` by more than 1/512.

    Raises:
        InvalidArgumentError: no images, a wrong shape, NaN or Inf, float values outside [0, 1]
            (the message gives the range found), negative integers, a background outside [0, 1],
            or descriptors or masks that do not match the images.
        InvalidTypeError: images that are not numbers, descriptors that are not a mapping.
    """

    images: np.ndarray
    descriptors: dict = field(default_factory=dict)
    background: float = 0.5
    masks: np.ndarray | None = None

    def __post_init__(self):
        self.images = _unit_images(self.images, "Invalid value for 'images'")
        if self.images.ndim not in (3, 4) or (self.images.ndim == 4 and self.images.shape[1] != 3):
            raise InvalidArgumentError(
                f"Invalid value for 'images': expected shape (n, H, W) or (n, 3, H, W), got {self.images.shape}"
            )
        n = len(self.images)
        if n == 0:
            raise InvalidArgumentError("Invalid value for 'images': a stimulus set needs at least one image, got 0")
        if 0 in self.images.shape[-2:]:
            raise InvalidArgumentError(
                f"Invalid value for 'images': expected images of at least 1 x 1 pixels, got {self.images.shape}"
            )
        if isinstance(self.background, (bool, np.bool_)) or not isinstance(self.background, (int, float, np.number)):
            raise InvalidTypeError(
                f"Invalid type for 'background': expected a gray level in [0, 1], got {self.background!r}"
            )
        if not 0.0 <= float(self.background) <= 1.0:
            raise InvalidArgumentError(
                f"Invalid value for 'background': expected a gray level in [0, 1], got {self.background!r}"
            )
        self.background = float(self.background)
        if not isinstance(self.descriptors, Mapping):
            raise InvalidTypeError(
                "Invalid type for 'descriptors': expected a mapping name -> values, got "
                f"{type(self.descriptors).__name__}"
            )
        self.descriptors = {k: _descriptor_array(v) for k, v in self.descriptors.items()}
        for key, values in self.descriptors.items():
            if values.shape[:1] != (n,):
                raise InvalidArgumentError(
                    f"descriptors[{key!r}] must have {n} values (one per image), got {values.shape}"
                )
        if self.masks is not None:
            self.masks = np.asarray(self.masks, dtype=bool)
            if self.masks.shape != (n, *self.images.shape[-2:]):
                raise InvalidArgumentError(
                    f"Invalid value for 'masks': expected shape {(n, *self.images.shape[-2:])}, got {self.masks.shape}"
                )

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
        keep[self._positions(indices)] = True
        for key, wanted in criteria.items():
            if key not in self.descriptors:
                names = ", ".join(self.descriptors) or "(none: the set has no descriptors)"
                raise InvalidArgumentError(f"Invalid descriptor {key!r}: expected one of {names}")
            matches = np.isin(self.descriptors[key], np.atleast_1d(wanted))
            if not (keep & matches).any():
                present = ", ".join(map(str, np.unique(self.descriptors[key][keep]).tolist()[:20]))
                raise InvalidArgumentError(
                    f"subset selects no image: no selected image has {key}={wanted!r} (values present: {present})"
                )
            keep &= matches
        if not keep.any():
            raise InvalidArgumentError("subset selects no image: 'indices' selects none")
        rows = np.flatnonzero(keep)
        return StimulusSet(
            self.images[rows],
            {k: v[rows] for k, v in self.descriptors.items()},
            self.background,
            None if self.masks is None else self.masks[rows],
        )

    def _positions(self, indices) -> np.ndarray:
        """Integer positions from None (all), positions or a boolean mask; checked against len(self)."""
        n = len(self)
        if indices is None:
            return np.arange(n)
        if isinstance(indices, slice):
            return np.arange(n)[indices]
        positions = np.asarray(indices)
        if positions.dtype == bool:
            if positions.shape != (n,):
                raise InvalidArgumentError(
                    f"Invalid value for 'indices': a boolean mask needs {n} values (one per image), got shape "
                    f"{positions.shape}"
                )
            return np.flatnonzero(positions)
        if positions.size == 0:
            raise InvalidArgumentError("Invalid value for 'indices': selects no image (an empty list)")
        if positions.dtype.kind not in "iu" or positions.ndim != 1:
            raise InvalidArgumentError(
                f"Invalid value for 'indices': expected a 1-D list of integer positions or a boolean mask, got "
                f"{positions.dtype} of shape {positions.shape}"
            )
        outside = np.flatnonzero((positions < -n) | (positions >= n))
        if len(outside):
            raise InvalidArgumentError(
                f"Invalid value for 'indices': positions {format_indices(positions[outside])} are outside the "
                f"{n} images (0 to {n - 1})"
            )
        return positions

    def aligned_to(self, descriptors, keys=("identity", "view_deg")) -> StimulusSet:
        """The images in the row order of another table (e.g. a recording's), matched on ``keys``.

        Args:
            descriptors: mapping key -> sequence, one value per wanted row (e.g. a Dataset's
                ``obs_descriptors``).
            keys: descriptors that identify an image together.

        Raises:
            DataError: a key is missing on either side, the rows' columns differ in length, two
                images share the same key values, or a row has no matching image.
        """
        if not isinstance(descriptors, Mapping):
            raise InvalidTypeError(
                f"Invalid type for 'descriptors': expected a mapping key -> values, got {type(descriptors).__name__}"
            )
        keys = (keys,) if isinstance(keys, str) else tuple(keys)
        if not keys:
            raise InvalidArgumentError("Invalid value for 'keys': expected at least one descriptor name")
        missing = [key for key in keys if key not in self.descriptors or key not in descriptors]
        if missing:
            raise DataError(f"both the stimulus set and the rows need descriptors {missing} to be matched")
        lengths = {key: len(np.atleast_1d(descriptors[key])) for key in keys}
        if len(set(lengths.values())) > 1:
            raise DataError(f"the rows' descriptors differ in length: {lengths}")
        lookup = {}
        for row, values in enumerate(zip(*(self.descriptors[k].tolist() for k in keys), strict=True)):
            if values in lookup:
                raise DataError(
                    f"images {lookup[values]} and {row} both have {dict(zip(keys, values, strict=True))}; "
                    f"the keys {list(keys)} must identify one image each"
                )
            lookup[values] = row
        wanted = list(zip(*(np.atleast_1d(descriptors[k]).tolist() for k in keys), strict=True))
        if not wanted:
            raise DataError("no rows to align the stimulus set to (the descriptors hold 0 values)")
        absent = [values for values in wanted if values not in lookup]
        if absent:
            raise DataError(
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
            raise DataError(f"images {empty[:10].tolist()} have no foreground pixels to match")
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

        Raises:
            InvalidArgumentError: a size below 1, indices outside the set or selecting nothing,
                ``mean``/``std`` that are not 3 numbers (std > 0), or an unknown device.
        """
        import torch

        from .activations import resolve_device

        size = check_count("size", size)
        device = None if device is None else resolve_device(device)
        if indices is not None:
            indices = indices if isinstance(indices, slice) else self._positions(indices)
        images = self.images if indices is None else self.images[indices]
        if len(images) == 0:
            raise InvalidArgumentError(f"Invalid value for 'indices': {indices!r} selects no image")
        return model_input(torch.from_numpy(np.ascontiguousarray(images)).to(device), size, mean, std)

    def save(self, path) -> Path:
        """Write the set to a compressed .npz file (atomically); ``load_stimuli`` reads it.

        Raises:
            InvalidArgumentError: ``path`` does not end in .npz, or a descriptor holds Python
                objects (which .npz cannot store without pickling).
        """
        path = Path(path)
        if path.suffix != ".npz":
            raise InvalidArgumentError(f"Invalid value for 'path': expected a .npz file, got {str(path)!r}")
        arrays = {"images": self.images, "background": np.float32(self.background)}
        if self.masks is not None:
            arrays["masks"] = self.masks
        for key, values in self.descriptors.items():
            if values.dtype.hasobject:
                raise InvalidArgumentError(
                    f"descriptors[{key!r}] holds Python objects (dtype object), which a .npz stores only as a "
                    "pickle (never loaded back): make it numbers or strings"
                )
            arrays[f"descriptor_{key}"] = values
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)
        return path


def _unit_images(images, what, error=InvalidArgumentError, *, indexed=True) -> np.ndarray:
    """Images as float32 in [0, 1]: integer dtypes divided by their maximum, floats checked.

    Args:
        images: unsigned or signed integers (divided by ``np.iinfo(dtype).max``: 255 -> 1.0 for
            uint8, 65535 -> 1.0 for uint16; negative values are refused), booleans (0 or 1) or
            floats (kept; must lie in [0, 1]).
        what: how messages begin (the argument, or the file and its entry).
        error: the exception class raised for bad values.
        indexed: the first axis counts images (messages then name the bad ones).

    Raises:
        InvalidTypeError: not numbers (strings, objects, complex).
        ``error``: NaN or Inf, floats outside [0, 1], negative integers, or images of
            different shapes.
    """
    try:
        images = np.asarray(images)
    except ValueError as exc:  # a list of images of different shapes
        raise error(f"{what}: the images differ in shape; resize them to one size first") from exc
    kind = images.dtype.kind
    if kind not in "biuf":
        raise InvalidTypeError(f"{what}: expected numbers (integers, booleans or floats), got dtype {images.dtype}")
    if kind == "b" or images.size == 0:  # an empty set is refused by the caller, with its own words
        return images.astype(np.float32)
    rows = images.reshape(len(images), -1) if indexed and images.ndim >= 2 else images.reshape(1, -1)
    if kind in "iu":
        maximum = np.iinfo(images.dtype).max
        if kind == "i" and images.min() < 0:
            raise error(
                f"{what}: {images.dtype} images hold negative values (minimum {images.min()})"
                f"{_which(rows.min(axis=1) < 0, indexed)}; integer images are divided by their dtype's maximum "
                f"({maximum}) and need values >= 0"
            )
        exact = np.float32 if images.dtype.itemsize <= 2 else np.float64  # float32 holds 16-bit integers exactly
        return np.divide(images, maximum, dtype=exact).astype(np.float32, copy=False)
    with np.errstate(over="ignore"):
        images = images.astype(np.float32, copy=False)
    rows = images.reshape(rows.shape)
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        where = f"images {np.flatnonzero(~finite)[:10].tolist()} contain" if indexed else "the image contains"
        raise error(f"{what}: {where} NaN or Inf")
    if images.min() < 0.0 or images.max() > 1.0:
        outside = (rows.min(axis=1) < 0) | (rows.max(axis=1) > 1)
        raise error(
            f"{what}: float images must lie in [0, 1], got values in [{images.min():g}, {images.max():g}]"
            f"{_which(outside, indexed)}; divide 0-255 images by 255, or pass integer images (uint8, uint16, ...), "
            "which are divided by their dtype's maximum"
        )
    return images


def _which(bad, indexed) -> str:
    """' (images 0, 3)' naming the flagged images of a stack, or '' for a single image."""
    return f" (images {format_indices(np.flatnonzero(bad))})" if indexed else ""


def _descriptor_array(values) -> np.ndarray:
    """One descriptor as an array; Python strings held as objects (pandas columns) become a string array."""
    values = np.asarray(values)
    if values.dtype == object and values.size and all(isinstance(v, str) for v in values.ravel()):
        return values.astype(str)
    return values


def load_stimuli(path, *, views_deg=None, background=0.5) -> StimulusSet:
    """Read a stimulus set from a .npz, a folder of images with a descriptor table, or a .mat.

    - ``.npz``: written by ``StimulusSet.save``.
    - A folder holding ``descriptors.csv``: one row per image, a column ``file`` (image path
      relative to the folder: PNG, JPEG, TIFF, ...) and any descriptor columns (``object``,
      ``category``, ``view_deg``, ...). Images are read as gray in [0, 1]; all must have the
      same size. ``background`` is their background gray level.
    - ``.mat`` in the layout of the paper's published stimuli: a cell array ``cm_imgs`` of
      objects x views (one gray image per cell, an integer type or double in [0, 1]),
      ``names`` (one name per object) and optionally ``cm_bw_masks`` (a binary mask per
      image). Views are ``views_deg`` (default: the paper's nine, -90..90, when there are
      nine). ``category`` is the name without its trailing exemplar number (``"car_07"`` ->
      ``"car"``).

    Integer images (uint8, uint16, int16, ...) are divided by their dtype's maximum
    (``np.iinfo(dtype).max``: 255 for uint8, 65535 for uint16); float images must already lie in
    [0, 1]. Arrays are never unpickled.

    Raises:
        FileNotFoundError: no such file or folder, or an image file listed but missing.
        FileFormatError: an unsupported, unreadable or inconsistent file, named with the image,
            variable or entry and the problem.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no stimulus file at {path}")
    if path.is_dir():
        return _load_image_folder(path, background)
    if path.stat().st_size == 0:
        raise FileFormatError(f"{path}: the stimulus file is empty (0 bytes)")
    if path.suffix.lower() == ".mat":
        return _load_cell_array_mat(path, views_deg, background)
    if path.suffix.lower() != ".npz":
        raise FileFormatError(
            f"{path}: unsupported stimulus file type {path.suffix or '(no suffix)'!r}; load_stimuli reads a .npz "
            "(written by StimulusSet.save), a .mat in the paper's cm_imgs layout, or a folder holding "
            "descriptors.csv and the images"
        )
    contents = _read_npz(path)
    if "images" not in contents:
        raise FileFormatError(f"{path}: no 'images' array; the file holds {', '.join(contents) or 'nothing'}")
    descriptors = {k.removeprefix("descriptor_"): v for k, v in contents.items() if k.startswith("descriptor_")}
    if "background" in contents:
        value = contents["background"]
        if value.shape != () or value.dtype.kind not in "iuf":
            raise FileFormatError(f"{path}: 'background' must be one number, got {value.dtype} of shape {value.shape}")
        background = float(value)
    return _stimulus_set(path, contents["images"], descriptors, background, contents.get("masks"))


def _read_npz(path) -> dict:
    """Every array of a .npz file, never unpickled; FileFormatError naming the file and the entry."""
    entry = None
    try:
        contents = np.load(path, allow_pickle=False)
        if isinstance(contents, np.lib.npyio.NpzFile):
            with contents:
                arrays = {}
                for entry in contents.files:
                    arrays[entry] = contents[entry]
                return arrays
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except NPY_READ_ERRORS as error:
        where = "" if entry is None else f" entry {entry!r}"
        raise FileFormatError(
            f"{path}{where}: cannot be read as a .npz file (truncated, corrupt, or pickled Python objects, which are "
            f"never loaded): {type(error).__name__}: {error}"
        ) from error
    raise FileFormatError(f"{path}: holds a single .npy array, not a .npz archive of named arrays")


def _stimulus_set(source, images, descriptors, background, masks=None) -> StimulusSet:
    """StimulusSet from a file's contents; its argument errors become FileFormatError naming ``source``."""
    try:
        return StimulusSet(images, descriptors, background, masks)
    except (InvalidArgumentError, InvalidTypeError, DataError) as error:
        raise FileFormatError(f"{source}: {error}") from error


def _load_image_folder(folder, background) -> StimulusSet:
    import pandas as pd
    from skimage.color import rgb2gray
    from skimage.io import imread

    table_path = folder / "descriptors.csv"
    if not table_path.exists():
        raise FileNotFoundError(f"{folder}: no descriptors.csv (one row per image, a 'file' column and descriptors)")
    try:
        table = pd.read_csv(table_path, dtype={"file": str})
    except ValueError as error:  # empty, unparsable or not text
        raise FileFormatError(f"{table_path}: cannot be read as a CSV table ({error})") from error
    if "file" not in table.columns:
        raise FileFormatError(f"{table_path}: no 'file' column; columns are {', '.join(map(str, table.columns))}")
    if len(table) == 0:
        raise FileFormatError(f"{table_path}: lists no images (a header and no rows)")
    unnamed = [row for row, name in enumerate(table["file"]) if not isinstance(name, str) or not name.strip()]
    if unnamed:
        raise FileFormatError(f"{table_path}: rows {format_indices(unnamed)} have no file name in column 'file'")
    images = []
    for name in table["file"]:
        file = folder / name
        if not file.is_file():
            raise FileNotFoundError(f"{table_path} lists {name}, which is not in {folder}")
        try:
            image = np.asarray(imread(file))
        except Exception as error:  # each image reader has its own exceptions (PIL: OSError, SyntaxError, ...)
            raise FileFormatError(f"{file}: cannot be read as an image ({type(error).__name__}: {error})") from error
        if image.ndim == 3 and image.shape[-1] in (1, 2):  # gray, gray + alpha
            image = image[..., 0]
        if not (image.ndim == 2 or (image.ndim == 3 and image.shape[-1] in (3, 4))):
            raise FileFormatError(f"{file}: expected a gray or RGB(A) image, got an array of shape {image.shape}")
        image = _unit_images(image, str(file), FileFormatError, indexed=False)
        images.append(rgb2gray(image[..., :3]).astype(np.float32) if image.ndim == 3 else image)
    _check_same_size(images, list(table["file"]), folder)
    descriptors = {column: table[column].to_numpy() for column in table.columns if column != "file"}
    return _stimulus_set(table_path, np.stack(images), descriptors, background)


def _check_same_size(images, names, source):
    """FileFormatError naming the first image whose size differs from the first one's."""
    for image, name in zip(images, names, strict=True):
        if image.shape != images[0].shape:
            raise FileFormatError(
                f"{source}: images differ in size: {names[0]} is {' x '.join(map(str, images[0].shape))} pixels, "
                f"{name} is {' x '.join(map(str, image.shape))}; resize them to one size first"
            )


def _load_cell_array_mat(path, views_deg, background) -> StimulusSet:
    import re

    import scipy.io

    try:
        contents = scipy.io.loadmat(path)
    except Exception as error:  # scipy raises many kinds here (MatReadError, ValueError, NotImplementedError for v7.3)
        raise FileFormatError(
            f"{path}: cannot be read as a MATLAB .mat file ({type(error).__name__}: {error})"
        ) from error
    for variable in ("cm_imgs", "names"):
        if variable not in contents:
            present = ", ".join(k for k in contents if not k.startswith("__"))
            raise FileFormatError(
                f"{path}: no variable {variable!r} (the paper's stimulus layout); the file holds {present}"
            )
    cells = contents["cm_imgs"]
    names = [str(np.squeeze(name)) for name in np.ravel(contents["names"])]
    if cells.dtype != object or cells.ndim != 2 or cells.shape[0] != len(names):
        raise FileFormatError(
            f"{path}: 'cm_imgs' must be a cell array of {len(names)} objects x views, got {cells.dtype} {cells.shape}"
        )
    n_views = cells.shape[1]
    if views_deg is None:
        if n_views != 9:
            raise FileFormatError(
                f"{path}: {n_views} views per object; pass views_deg (yaw of each view, left to right)"
            )
        views_deg = np.linspace(-90.0, 90.0, 9)
    views = np.asarray(views_deg, dtype=float) if np.asarray(views_deg).dtype.kind in "iuf" else None
    if views is None or views.shape != (n_views,) or not np.all(np.isfinite(views)):
        raise InvalidArgumentError(
            f"Invalid value for 'views_deg': expected {n_views} finite yaws in degrees (one per view of {path}), got "
            f"{views_deg!r}"
        )
    cell_names = [
        f"cm_imgs{{{i + 1},{j + 1}}} ({names[i]}, view {j + 1})" for i in range(len(names)) for j in range(n_views)
    ]
    images = [
        _cell_image(cells[i, j], f"{path}: {cell_names[i * n_views + j]}")
        for i in range(len(names))
        for j in range(n_views)
    ]
    _check_same_size(images, cell_names, path)
    masks = None
    if "cm_bw_masks" in contents:
        cell_masks = contents["cm_bw_masks"]
        if cell_masks.dtype != object or cell_masks.shape != cells.shape:
            raise FileFormatError(
                f"{path}: 'cm_bw_masks' must be a cell array shaped like 'cm_imgs' {cells.shape}, got "
                f"{cell_masks.dtype} {cell_masks.shape}"
            )
        masks = [np.asarray(cell_masks[i, j], dtype=bool) for i in range(len(names)) for j in range(n_views)]
        for mask, image, name in zip(masks, images, cell_names, strict=True):
            if mask.shape != image.shape:
                raise FileFormatError(
                    f"{path}: cm_bw_masks{name.removeprefix('cm_imgs')} is {mask.shape}, its image {image.shape}"
                )
        masks = np.stack(masks)
    descriptors = {
        "object": np.repeat(names, n_views),
        "category": np.repeat([re.sub(r"[_\s-]*\d+$", "", name) for name in names], n_views),
        "view_deg": np.tile(views, len(names)),
    }
    return _stimulus_set(path, np.stack(images), descriptors, background, masks)


def _cell_image(image, where) -> np.ndarray:
    """One cell of cm_imgs as a gray float32 image in [0, 1] (integers scaled by their dtype's maximum)."""
    image = np.asarray(image)
    if image.dtype.kind not in "biuf" or image.size == 0:
        raise FileFormatError(f"{where}: expected a gray or RGB image, got {image.dtype} of shape {image.shape}")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[-1] in (3, 4))):
        raise FileFormatError(f"{where}: expected a gray or RGB image, got an array of shape {image.shape}")
    image = _unit_images(image, where, FileFormatError, indexed=False)
    return image[..., :3].mean(axis=-1) if image.ndim == 3 else image


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

    n_images, size = check_count("n_images", n_images), check_count("size", size)
    rng = check_random_state(random_state)
    samples = dict(zip(("china.jpg", "flower.jpg"), load_sample_images().images, strict=True))
    images, scenes, crops = [], [], []
    for _ in range(n_images):
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
    n_images, size = check_count("n_images", n_images), check_count("size", size)
    rng = check_random_state(random_state)
    return StimulusSet(rng.uniform(0.0, 1.0, (n_images, size, size)).astype(np.float32))


def model_input(batch, size, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """Images as a network takes them: 3 channels, ``size`` x ``size``, normalized.

    Args:
        batch: torch tensor (n, H, W) grayscale (expanded to 3 channels), (n, 3, H, W), or
            (n, 1, H, W) (kept one channel, for one-channel networks), values in [0, 1], on any
            device.
        size: output height and width (bilinear resizing with antialiasing when it differs).
        mean: per-channel mean subtracted (3 values); None to skip normalizing.
        std: per-channel standard deviation divided by (3 positive values).

    Returns:
        float32 tensor (n, 3, size, size) (or (n, 1, size, size)) on the batch's device.
    """
    import torch

    size = check_count("size", size)
    if batch.ndim not in (3, 4) or (batch.ndim == 4 and batch.shape[1] not in (1, 3)):
        raise InvalidArgumentError(
            f"Invalid value for 'batch': expected a tensor (n, H, W), (n, 1, H, W) or (n, 3, H, W), got shape "
            f"{tuple(batch.shape)}"
        )
    if mean is not None:
        mean, std = _normalization(mean, std)
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


def _normalization(mean, std) -> tuple:
    """(mean, std) as 3 floats each (std > 0), or InvalidArgumentError naming the one that is wrong."""
    checked = []
    for name, given in (("mean", mean), ("std", std)):
        try:
            values = np.asarray(given, dtype=float)
        except (TypeError, ValueError):
            values = np.full(1, np.nan)
        if values.shape != (3,) or not np.isfinite(values).all() or (name == "std" and (values <= 0).any()):
            allowed = "3 positive numbers (one per channel)" if name == "std" else "3 numbers (one per channel) or None"
            raise InvalidArgumentError(f"Invalid value for {name!r}: expected {allowed}, got {given!r}")
        checked.append(tuple(values.tolist()))
    return tuple(checked)


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
