"""Images made from an importance map: insertion and deletion images, and the component shuffle.

``insertion_deletion`` keeps (or hides) the most important share of an object's pixels, ranked
as the paper's text says (``ranking="paper"``) or as the authors' released code does
(``"released"``); ``shuffle_components`` moves the kept connected components to random places,
so that local features stay and their arrangement goes (Figure 5D).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from ._utils import check_count, check_option, check_random_state, check_share, float_array
from .errors import DataError

if TYPE_CHECKING:
    from ._typing import RandomState

RANKINGS = ("paper", "released")

# MATLAB's strel('disk', 5) with its default 4-line decomposition, as the released code dilates
# the foreground: not the Euclidean disk of radius 5 (11 x 11, 81 pixels) but a 9 x 9 octagon
# of 69 pixels, |dy| <= 4, |dx| <= 4, |dy| + |dx| <= 6.
_OFFSETS = np.arange(-4, 5)
RELEASED_DILATION = (np.abs(_OFFSETS)[:, None] + np.abs(_OFFSETS)[None, :]) <= 6


def ranked_pixels(
    importance: npt.ArrayLike, foreground: npt.ArrayLike, fraction: float, *, ranking: str = "paper"
) -> npt.NDArray[np.bool_]:
    """The most important share of an object's pixels, as a bool mask.

    ``"paper"`` (the default), as the Methods say: "we sorted the pixels according to their
    absolute values in the importance map ... Due to the uniform gray background, we only
    considered foreground pixels": the round(``fraction`` x n) foreground pixels of largest
    ``|importance|`` (n foreground pixels).

    ``"released"``, as the authors' released code does (figure5C.m, figure5D.m; not in the
    text): the map's spatial mean (over the whole image) is subtracted, the foreground is
    dilated by MATLAB's ``strel('disk', 5)`` (``RELEASED_DILATION``, a 9 x 9 octagon), and the
    n pixels of the dilated foreground where the centred map is not 0 are ranked by its
    absolute value. The count is the released code's ``numpixels(100 q)`` with
    ``numpixels = round(linspace(0, n, 100))``: the 1-based entry P of that linspace is
    (P - 1) n / 99, so share q keeps round((100 q - 1) / 99 x n) pixels (MATLAB's round, half
    away from zero; 0 below q = 0.01): its "25%" is 24/99 = 24.2% of the pixels, its "10%"
    9/99 and its "90%" 89/99.

    Args:
        importance: (H, W) importance map.
        foreground: (H, W) bool, the object's pixels.
        fraction: share q of the (paper: foreground; released: dilated foreground) pixels
            kept, in [0, 1].
        ranking: ``"paper"`` or ``"released"``.

    Returns:
        (H, W) bool, the kept pixels. Ties keep the pixel later in row-major order first.

    Raises:
        InvalidArgumentError: ``fraction`` not in [0, 1], or an unknown ``ranking``.
        DataError: ``importance`` and ``foreground`` are not (H, W) arrays of one shape, or
            ``importance`` holds NaN.
    """
    check_option("ranking", ranking, RANKINGS)
    fraction = check_share("fraction", fraction, "[]")
    importance = float_array("importance", importance)
    foreground = np.asarray(foreground, dtype=bool)
    if importance.ndim != 2 or importance.shape != foreground.shape:
        raise DataError(
            f"importance and foreground must be (H, W) arrays of one shape, got {importance.shape} and "
            f"{foreground.shape}"
        )
    if np.isnan(importance).any():
        raise DataError("importance holds NaN")
    if ranking == "paper":
        region, score = foreground, np.abs(importance)
        n_keep = int(round(fraction * region.sum()))
    else:
        score = np.abs(importance - importance.mean())
        region = ndimage.binary_dilation(foreground, structure=RELEASED_DILATION) & (score != 0)
        n_keep = released_count(fraction, int(region.sum()))
    values = np.where(region, score, -np.inf)
    order = np.argsort(values, axis=None, kind="stable")[::-1][:n_keep]
    kept = np.zeros(importance.shape, dtype=bool)
    kept.flat[order] = True
    return kept


def released_count(fraction: float, n: int) -> int:
    """Pixels the released code keeps at share ``fraction`` of ``n``: round((100 q - 1) n / 99), in [0, n].

    MATLAB's round (half away from zero), of the entry 100 q of round(linspace(0, n, 100)).
    """
    return int(np.clip(np.floor((100 * fraction - 1) * n / 99 + 0.5), 0, n))


def insertion_deletion(
    image: npt.ArrayLike,
    importance: npt.ArrayLike,
    foreground: npt.ArrayLike,
    fraction: float,
    *,
    background: float = 0.5,
    ranking: str = "paper",
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """Insertion and deletion images at one threshold.

    Args:
        image: (H, W) grayscale.
        importance: (H, W) importance map.
        foreground: (H, W) bool, the object's pixels.
        fraction: share of the foreground pixels counted as most important (0.1 .. 0.9).
        background: gray of the hidden pixels.
        ranking: how pixels are ranked and counted, ``"paper"`` (``|importance|`` among the
            foreground pixels, the paper's text) or ``"released"`` (the authors' released
            code: mean subtracted, foreground dilated by 5 pixels, 24/99 for "25%"); see
            ``ranked_pixels``.

    Returns:
        (insertion, deletion, kept): insertion shows only the most important foreground
        pixels, deletion hides them; ``kept`` is their bool mask.

    Raises:
        InvalidArgumentError: ``fraction`` not in [0, 1], or an unknown ``ranking``.
        DataError: ``image``, ``importance`` and ``foreground`` are not (H, W) arrays of one shape,
            or ``importance`` holds NaN.
    """
    image = float_array("image", image)
    shapes = {"image": image.shape, "importance": np.shape(importance), "foreground": np.shape(foreground)}
    if image.ndim != 2 or len(set(shapes.values())) != 1:
        raise DataError(f"image, importance and foreground must be (H, W) arrays of one shape, got {shapes}")
    kept = ranked_pixels(importance, foreground, fraction, ranking=ranking)
    insertion = np.where(kept, image, background).astype(np.float32)
    deletion = np.where(kept, background, image).astype(np.float32)
    return insertion, deletion, kept


def shuffle_components(
    image: npt.ArrayLike,
    kept: npt.ArrayLike,
    *,
    background: float = 0.5,
    random_state: RandomState = None,
    max_tries: int = 1000,
) -> npt.NDArray[np.float32]:
    """The kept pixels' connected components moved to random places, without overlap, in the frame.

    Local features stay intact; their global arrangement is destroyed. Components are
    4-connected (``scipy.ndimage.label``'s default) and each moves whole: every pixel, with its
    value and its place relative to the others. (The authors' released shuffle_feature.m
    crops each component one pixel up and left of its bounding box, so the last row and column
    of its values are lost: a 5 x 5 block keeps 16 of its 25 values.) Components are placed
    largest first; one that finds no free place in ``max_tries`` draws keeps its position
    if that is free, else is dropped (rare; the count is not returned).

    Args:
        image: (H, W) grayscale.
        kept: (H, W) bool, the pixels to move (``insertion_deletion``'s ``kept``).
        background: gray of every other pixel.
        random_state: seed or ``np.random.Generator`` of the places.
        max_tries: draws of a place per component.

    Returns:
        (H, W) float32 image.

    Raises:
        InvalidArgumentError: ``max_tries`` < 1.
        DataError: ``image`` and ``kept`` are not (H, W) arrays of one shape.
    """
    max_tries = check_count("max_tries", max_tries, minimum=1)
    image, kept = float_array("image", image), np.asarray(kept, dtype=bool)
    if image.ndim != 2 or image.shape != kept.shape:
        raise DataError(f"image and kept must be (H, W) arrays of one shape, got {image.shape} and {kept.shape}")
    rng = check_random_state(random_state)
    labels, count = ndimage.label(kept)
    out = np.full(image.shape, background, dtype=np.float32)
    occupied = np.zeros(image.shape, dtype=bool)
    sizes = ndimage.sum(kept, labels, index=np.arange(1, count + 1))
    for index in np.argsort(sizes)[::-1] + 1:
        ys, xs = np.nonzero(labels == index)
        top, left = ys.min(), xs.min()
        height, width = ys.max() - top + 1, xs.max() - left + 1
        for _ in range(max_tries):
            y = rng.integers(0, image.shape[0] - height + 1)
            x = rng.integers(0, image.shape[1] - width + 1)
            target = (ys - top + y, xs - left + x)
            if not occupied[target].any():
                break
        else:
            target = (ys, xs)
            if occupied[target].any():
                continue
        out[target] = image[ys, xs]
        occupied[target] = True
    return out
