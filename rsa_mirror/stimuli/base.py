"""Stimulus sets: images with one descriptor value per image, numpy only.

``StimulusSet`` holds the images, their descriptors and masks, and makes the sets the
analyses need from them: subsets, mirror images and other transforms, luminance matching, the
row order of a recording. Converting a set to network input lives with the networks
(``rsa_mirror.networks.models.model_input``); ``StimulusSet.to_tensor`` calls it.

Images are float32 in [0, 1], grayscale (n, H, W) or colour (n, 3, H, W), objects on a uniform
background of gray level ``background``. Descriptors (object, category, exemplar, view_deg,
identity, ...) are arrays of one value per image; views run left to right (negative yaw = the
viewer's left), so ``mirrored()`` negates ``view_deg``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .._typing import PathLike, Tensor
from .._utils import atomic_path, check_option, float_array, format_indices
from ..errors import DataError, InvalidArgumentError, InvalidTypeError

TRANSFORMS = ("hflip", "vflip", "rot90")


def transform_maps(maps: npt.ArrayLike, transform: str) -> np.ndarray:
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
    descriptors: dict[str, Any] = field(default_factory=dict)
    background: float = 0.5
    masks: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.images = unit_images(self.images, "Invalid value for 'images'")
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

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:  # one line (the image count, their shape, the descriptors' names), not every image
        return f"StimulusSet({len(self)} images, shape {self.images.shape}, descriptors {', '.join(self.descriptors)})"

    @property
    def foreground(self) -> np.ndarray:
        """True on the object: a boolean array (n, H, W)."""
        if self.masks is not None:
            return self.masks
        gray = self.images if self.images.ndim == 3 else self.images.mean(axis=1)
        return np.abs(gray - self.background) > 1 / 512

    def subset(self, indices: npt.ArrayLike | slice | None = None, **criteria: Any) -> StimulusSet:
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
        masks = None if self.masks is None else self.masks[rows]
        return StimulusSet(self.images[rows], {k: v[rows] for k, v in self.descriptors.items()}, self.background, masks)

    def _positions(self, indices: npt.ArrayLike | slice | None) -> np.ndarray:
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

    def aligned_to(self, descriptors: Mapping[str, Any], keys: Iterable[str] = ("identity", "view_deg")) -> StimulusSet:
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
        lookup: dict[tuple[Any, ...], int] = {}
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

    def transformed(self, transform: str) -> StimulusSet:
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

    def to_tensor(self, indices: npt.ArrayLike | slice | None = None, **options: Any) -> Tensor:
        """Model input: torch float32 (n, 3, size, size), resized and normalized (needs torch).

        Args:
            indices: which images (default all): a slice, indices or mask; convert batch by
                batch for large sets.
            **options: ``size`` (default 224), ``mean``, ``std`` (ImageNet's by default; None
                to skip normalizing) and ``device`` (default CPU), as in
                ``rsa_mirror.networks.models.images_to_input``.

        Raises:
            InvalidArgumentError: a size below 1, indices outside the set or selecting nothing,
                ``mean``/``std`` that are not 3 numbers (std > 0), or an unknown device.
        """
        from ..networks.models import images_to_input

        if indices is not None:
            indices = indices if isinstance(indices, slice) else self._positions(indices)
        images = self.images if indices is None else self.images[indices]
        if len(images) == 0:
            raise InvalidArgumentError(f"Invalid value for 'indices': {indices!r} selects no image")
        return images_to_input(images, **options)

    def save(self, path: PathLike) -> Path:
        """Write the set to a compressed .npz file (atomically); ``load_stimuli`` reads it.

        Raises:
            InvalidArgumentError: ``path`` does not end in .npz, or a descriptor holds Python
                objects (which .npz cannot store without pickling).
        """
        path = Path(path)
        if path.suffix != ".npz":
            raise InvalidArgumentError(f"Invalid value for 'path': expected a .npz file, got {str(path)!r}")
        arrays: dict[str, Any] = {"images": self.images, "background": np.float32(self.background)}
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


def gray_images(stimuli: StimulusSet | npt.ArrayLike) -> tuple[npt.NDArray[np.float32], float, np.ndarray | None]:
    """(images (n, H, W) float32, background, objects or None) from a StimulusSet or an array.

    Colour images are averaged over their channels; an array is taken as grayscale images on a
    background of 0.5, without objects.

    Raises:
        DataError: an array that is not a finite, non-empty (n, H, W) stack.
    """
    if isinstance(stimuli, StimulusSet):
        images = stimuli.images if stimuli.images.ndim == 3 else stimuli.images.mean(axis=1)
        objects = stimuli.descriptors.get("object")
        return np.ascontiguousarray(images, dtype=np.float32), float(stimuli.background), objects
    images = float_array("stimuli", stimuli, np.float32)
    if images.ndim != 3 or 0 in images.shape:
        raise DataError(f"images must be (n, H, W) grayscale, got shape {images.shape}")
    if not np.all(np.isfinite(images)):
        bad = np.flatnonzero(~np.isfinite(images).all(axis=(1, 2)))
        raise DataError(f"images {format_indices(bad)} hold NaN or Inf")
    return images, 0.5, None


def check_object_views(stimuli: object) -> None:
    """Raise unless ``stimuli`` is a ``StimulusSet`` with ``object`` and ``view_deg`` descriptors."""
    if not isinstance(stimuli, StimulusSet):
        raise InvalidTypeError(
            "Invalid type for 'stimuli': expected a StimulusSet with 'object' and 'view_deg' descriptors, "
            f"got {type(stimuli).__name__}"
        )
    missing = [key for key in ("object", "view_deg") if key not in stimuli.descriptors]
    if missing:
        raise DataError(f"stimuli need the descriptors {missing}; they have {sorted(stimuli.descriptors)}")


def unit_images(
    images: npt.ArrayLike, what: str, error: type[Exception] = InvalidArgumentError, *, indexed: bool = True
) -> npt.NDArray[np.float32]:
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
    rows: np.ndarray = images.reshape(len(images), -1) if indexed and images.ndim >= 2 else images.reshape(1, -1)
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


def _which(bad: np.ndarray, indexed: bool) -> str:
    """' (images 0, 3)' naming the flagged images of a stack, or '' for a single image."""
    return f" (images {format_indices(np.flatnonzero(bad))})" if indexed else ""


def _descriptor_array(values: object) -> np.ndarray:
    """One descriptor as an array; Python strings held as objects (pandas columns) become a string array."""
    values = np.asarray(values)
    if values.dtype == object and values.size and all(isinstance(v, str) for v in values.ravel()):
        return values.astype(str)
    return values


def _offset_hint(lookup: Mapping[tuple[Any, ...], int], wanted: list[tuple[Any, ...]], keys: tuple[str, ...]) -> str:
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
