"""Images made from an importance map: insertion and deletion images, and the component shuffle.

``insertion_deletion`` keeps (or hides) the most important share of an object's pixels;
``shuffle_components`` moves the kept connected components to random places, so that local
features stay and their arrangement goes (Figure 5D).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ._utils import check_count, check_random_state, check_share, float_array
from .errors import DataError


def insertion_deletion(image, importance, foreground, fraction, *, background=0.5) -> tuple:
    """Insertion and deletion images at one threshold.

    Args:
        image: (H, W) grayscale.
        importance: (H, W) importance map.
        foreground: (H, W) bool, the object's pixels.
        fraction: share of the foreground pixels counted as most important (0.1 .. 0.9).
        background: gray of the hidden pixels.

    Returns:
        (insertion, deletion, kept): insertion shows only the most important foreground
        pixels, deletion hides them; ``kept`` is their bool mask.

    Raises:
        InvalidArgumentError: ``fraction`` not in [0, 1].
        DataError: ``image``, ``importance`` and ``foreground`` are not (H, W) arrays of one shape,
            or ``importance`` holds NaN.
    """
    fraction = check_share("fraction", fraction, "[]")
    image, importance = float_array("image", image), float_array("importance", importance)
    foreground = np.asarray(foreground, dtype=bool)
    shapes = {"image": image.shape, "importance": importance.shape, "foreground": foreground.shape}
    if image.ndim != 2 or len(set(shapes.values())) != 1:
        raise DataError(f"image, importance and foreground must be (H, W) arrays of one shape, got {shapes}")
    if np.isnan(importance).any():
        raise DataError("importance holds NaN")
    values = np.where(foreground, importance, -np.inf)
    n_keep = int(round(fraction * foreground.sum()))
    order = np.argsort(values, axis=None, kind="stable")[::-1][:n_keep]
    kept = np.zeros(image.shape, dtype=bool)
    kept.flat[order] = True
    insertion = np.where(kept, image, background).astype(np.float32)
    deletion = np.where(kept, background, image).astype(np.float32)
    return insertion, deletion, kept


def shuffle_components(image, kept, *, background=0.5, random_state=None, max_tries=1000) -> np.ndarray:
    """The kept pixels' connected components moved to random places, without overlap, in the frame.

    Local features stay intact; their global arrangement is destroyed. Components are placed
    largest first; one that finds no free place in ``max_tries`` draws keeps its position
    if that is free, else is dropped (rare; the count is not returned).

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
