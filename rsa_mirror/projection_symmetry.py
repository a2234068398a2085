"""Symmetry of the 2-D projections (Figure 2—figure supplement 1) and the pixel-level index.

The paper explains why car and boat show mirror-symmetric viewpoint tuning already in the
pixels and the convolutional layers while the other bilateral categories do not: "we
quantified the symmetry of the various 3D objects in each category by analyzing their 2D
projections (Figure 2—figure supplement 1)". A left-right symmetric object "yields symmetric
2D projections only when the object is viewed frontally"; an object with a second, front-back
symmetry plane also in profile.

``reflection_symmetry`` scores each image: for every vertical reflection axis (at each pixel
column and between each two columns) the Pearson r between the image and its reflection about
that axis, over the pixels on the object in either; the best axis and its r. Tilted axes are an
option (``angles_deg``). ``pixel_msvt`` is the index of Eq. 1 with the pixels as units (the
"image" level of Figure 2C). ``projection_symmetry`` runs both on a rendered set and returns a
``ProjectionSymmetryResult`` (per-image scores, per-object pixel index, their category
summaries). numpy and scipy only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._utils import float_array, format_indices
from .errors import DataError, InvalidArgumentError, InvalidTypeError
from .results import Result
from .stimuli.base import StimulusSet, check_object_views
from .symmetry import msvt_by_object, summarize_msvt

IMAGES_PER_CHUNK = 64  # working memory ~ 64 x H x W complex128 spectra (53 MB at 227 x 227)


def reflection_symmetry(
    images: StimulusSet | npt.ArrayLike,
    *,
    masks: npt.ArrayLike | None = None,
    background: float = 0.5,
    angles_deg: float | Iterable[float] = (0.0,),
) -> pd.DataFrame:
    """Best reflection axis of each image, and the correlation of the image with its reflection there.

    For an axis at column position ``a`` (pixel centres at 0, 1, ..., W - 1; half-integer
    positions lie between two columns), the reflection maps column j to 2a - j; pixels mapped
    outside the frame are background. The score of the axis is the Pearson r between the image
    and its reflection over the pixels that are foreground in either (the background alone
    would make any two images alike). All 2W - 1 positions are searched, for every angle.

    Args:
        images: ``StimulusSet`` (its ``foreground`` and ``background`` are used; colour images
            are averaged over channels) or grayscale images (n, H, W) in any unit.
        masks: boolean (n, H, W), True on the object; default for an array: pixels differing
            from ``background`` by more than 1/512 (as ``StimulusSet.foreground``).
        background: gray level of the background of an array of images.
        angles_deg: tilts of the axis from vertical, in degrees (positive: counter-clockwise),
            each searched at every position; the image is rotated by the angle (bilinear,
            background filled in; masks nearest-neighbour) and vertical axes are searched. The
            default searches vertical axes only (what a yaw rotation of a left-right symmetric
            object can keep symmetric).

    Returns:
        DataFrame, one row per image: ``score`` (best r, in [-1, 1]; 1 for an image that is its
        own reflection about some axis), ``axis_px`` (column position of the best axis, in the
        frame rotated by ``angle_deg``), ``axis_offset_px`` (its distance from the image's
        central column, positive to the right) and ``angle_deg``; with the descriptors of a
        ``StimulusSet``.

    Raises:
        InvalidTypeError: images that are not numbers.
        DataError: not a finite (n, H, W) stack, masks of another shape, or an image without
            foreground (named).
        InvalidArgumentError: ``angles_deg`` not a non-empty list of distinct finite angles.
    """
    images, masks, descriptors = _images_and_masks(images, masks, background)
    angles = _check_angles(angles_deg)
    best = None
    for angle in angles:
        rotated, rotated_masks = _rotated(images, masks, angle)
        scores, axes = _best_vertical_axis(rotated, rotated_masks)
        found = pd.DataFrame({"score": scores, "axis_px": axes, "angle_deg": angle})
        if best is None:
            best = found
        else:
            better = found["score"].to_numpy() > best["score"].to_numpy()
            best.loc[better] = found.loc[better]
    assert best is not None  # angles is not empty
    width = images.shape[-1]
    best.insert(2, "axis_offset_px", best["axis_px"] - (width - 1) / 2)
    for key, values in reversed(list(descriptors.items())):
        best.insert(0, key, values)
    return best


def pixel_msvt(stimuli: StimulusSet) -> pd.DataFrame:
    """The mirror-symmetric viewpoint tuning index of every object with the pixels as units.

    The images as activations (one unit per pixel, and per channel for colour images), so each
    pixel is z-scored over the whole set as a network unit is (``msvt_by_object``); pixels
    constant over the set (the background) are left out.

    Args:
        stimuli: ``StimulusSet`` with ``object`` and ``view_deg`` descriptors (mirror-paired
            views), e.g. ``render_objects``.

    Returns:
        ``msvt_by_object`` table with ``name`` = ``"image"``.
    """
    check_object_views(stimuli)
    pixels = stimuli.images.reshape(len(stimuli), -1)
    return msvt_by_object({"image": pixels}, descriptors=stimuli.descriptors)


@dataclass(repr=False)
class ProjectionSymmetryResult(Result):
    """Figure 2—figure supplement 1: symmetry of each image, and the index of the pixels.

    Attributes:
        images: ``reflection_symmetry`` table (one row per image, with its descriptors).
        pixel_msvt: ``pixel_msvt`` table (one row per object).
        angles_deg: the axis tilts searched, in degrees.
    """

    images: pd.DataFrame
    pixel_msvt: pd.DataFrame
    angles_deg: np.ndarray

    UNITS = {"angles_deg": "degrees from vertical, counter-clockwise"}

    def by_view(self, *, key: str = "category") -> pd.DataFrame:
        """Mean best-axis score per ``key`` (rows, in order of appearance) and view (columns, ascending yaw)."""
        table = self.images.groupby([key, "view_deg"], sort=False)["score"].mean().unstack("view_deg")
        return table[sorted(table.columns)]

    def pixel_index(self, *, key: str = "category") -> pd.DataFrame:
        """The pixel-level index per ``key``: mean, SEM and count over objects (``summarize_msvt``)."""
        return summarize_msvt(self.pixel_msvt, by=(key,))

    def _title(self) -> str:
        return f"{len(self.images)} images, {len(self.pixel_msvt)} objects"


def projection_symmetry(
    stimuli: StimulusSet, *, angles_deg: float | Iterable[float] = (0.0,)
) -> ProjectionSymmetryResult:
    """Both analyses of Figure 2—figure supplement 1 on one stimulus set.

    Args:
        stimuli: ``StimulusSet`` with ``object`` and ``view_deg`` descriptors (and
            ``category`` for the per-category tables), e.g. ``render_objects()``.
        angles_deg: as in ``reflection_symmetry``.

    Returns:
        ``ProjectionSymmetryResult``; ``.by_view()`` is the 2—S1 table, ``.pixel_index()`` the
        pixel-level index per category.
    """
    check_object_views(stimuli)
    table = reflection_symmetry(stimuli, angles_deg=angles_deg)
    return ProjectionSymmetryResult(table, pixel_msvt(stimuli), np.asarray(_check_angles(angles_deg)))


def _images_and_masks(
    images: StimulusSet | npt.ArrayLike, masks: npt.ArrayLike | None, background: float
) -> tuple[np.ndarray, npt.NDArray[np.bool_], dict[str, Any]]:
    """(images (n, H, W) float64 minus background and zero off the object, masks, descriptors)."""
    descriptors: dict[str, Any] = {}
    if isinstance(images, StimulusSet):
        if masks is not None:
            raise InvalidArgumentError("Invalid value for 'masks': a StimulusSet brings its own (its foreground)")
        descriptors = dict(images.descriptors)
        masks, background = images.foreground, images.background
        images = images.images if images.images.ndim == 3 else images.images.mean(axis=1)
    values = float_array("images", images)
    if values.ndim != 3 or 0 in values.shape:
        raise DataError(f"images must be a grayscale stack (n, H, W), got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        bad = np.flatnonzero(~np.isfinite(values).all(axis=(1, 2)))
        raise DataError(f"images {format_indices(bad)} hold NaN or Inf")
    if isinstance(background, (bool, np.bool_)) or not isinstance(background, (int, float, np.number)):
        raise InvalidTypeError(f"Invalid type for 'background': expected a gray level, got {background!r}")
    if masks is None:
        masks = np.abs(values - background) > 1 / 512
    masks = np.asarray(masks, dtype=bool)
    if masks.shape != values.shape:
        raise DataError(f"masks must have the images' shape {values.shape}, got {masks.shape}")
    empty = ~masks.any(axis=(1, 2))
    if empty.any():
        raise DataError(f"images {format_indices(np.flatnonzero(empty))} have no foreground to reflect")
    return (values - background) * masks, masks, descriptors


def _check_angles(angles_deg: object) -> tuple[float, ...]:
    try:
        angles = np.asarray(angles_deg, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        angles = np.array([np.nan])
    if angles.size == 0 or not np.isfinite(angles).all() or len(np.unique(angles)) < angles.size:
        raise InvalidArgumentError(
            f"Invalid value for 'angles_deg': expected distinct finite angles in degrees (at least one), got "
            f"{angles_deg!r}"
        )
    return tuple(float(angle) for angle in angles)


def _rotated(values: np.ndarray, masks: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Images (background-subtracted) and masks rotated by ``angle`` degrees about the centre."""
    if angle == 0.0:
        return values, masks
    from scipy import ndimage

    options = {"axes": (2, 1), "reshape": False, "mode": "constant", "cval": 0.0}
    rotated_masks = ndimage.rotate(masks.astype(np.float64), angle, order=0, **options) > 0.5
    return ndimage.rotate(values, angle, order=1, **options) * rotated_masks, rotated_masks


def _best_vertical_axis(values: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(best r (n,), its axis position (n,)) over the 2W - 1 vertical axes, in chunks of images."""
    n, _, width = values.shape
    scores, axes = np.empty(n), np.empty(n)
    for start in range(0, n, IMAGES_PER_CHUNK):
        part = slice(start, start + IMAGES_PER_CHUNK)
        r = _axis_correlations(values[part], masks[part].astype(np.float64))
        best = np.argmax(np.where(np.isnan(r), -np.inf, r), axis=1)
        scores[part] = r[np.arange(len(best)), best]
        axes[part] = best / 2.0
    return np.clip(scores, -1.0, 1.0), axes


def _axis_correlations(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(n, 2W - 1) Pearson r of each image with its reflection about the axis at k / 2, k = 0 .. 2W - 2.

    ``y`` is zero off the mask ``m``, so every sum over the union of the two foregrounds is a
    sum over the whole frame: the cross terms are autoconvolutions along the rows (FFT), the
    sums of the reflected image partial sums of column totals.
    """
    width = y.shape[-1]
    n_fft = 2 * width
    k = np.arange(2 * width - 1)
    cross = np.fft.irfft((np.fft.rfft(y, n_fft, axis=-1) ** 2).sum(axis=1), n_fft, axis=-1)[:, : k.size]
    overlap = np.fft.irfft((np.fft.rfft(m, n_fft, axis=-1) ** 2).sum(axis=1), n_fft, axis=-1)[:, : k.size]
    overlap = np.rint(overlap)  # a count of pixels
    low, high = np.maximum(0, k - width + 1), np.minimum(width - 1, k)  # columns whose mirror stays in frame

    def in_frame(column_totals: np.ndarray) -> np.ndarray:
        cumulative = np.concatenate([np.zeros((len(column_totals), 1)), np.cumsum(column_totals, axis=1)], axis=1)
        return cumulative[:, high + 1] - cumulative[:, low]

    s1, q1, c1 = y.sum(axis=(1, 2))[:, None], (y * y).sum(axis=(1, 2))[:, None], m.sum(axis=(1, 2))[:, None]
    s2, q2, c2 = in_frame(y.sum(axis=1)), in_frame((y * y).sum(axis=1)), in_frame(m.sum(axis=1))
    count = c1 + c2 - overlap
    with np.errstate(invalid="ignore", divide="ignore"):
        covariance = cross - s1 * s2 / count
        variances = (q1 - s1 * s1 / count) * (q2 - s2 * s2 / count)
        r = covariance / np.sqrt(variances)
    tolerance = 1e-9 * np.maximum(q1, 1e-300)
    flat = variances <= tolerance * tolerance
    identical = np.abs(q1 + q2 - 2 * cross) <= tolerance  # no variance, and the reflection equals the image
    r[flat] = np.where(identical[flat], 1.0, np.nan)
    return r
