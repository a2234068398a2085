"""Figure 3: reflection invariance and equivariance across a network's layers, per image set.

``figure3_images`` makes the figure's three kinds of image set (rendered objects, natural
photographs, white noise; the last two gray or colour); ``equivariance_study`` measures
invariance (Eq. 2) and equivariance (Eq. 3) of every preset layer of each network on each set
(``measure_equivariance``, streamed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._utils import check_count, check_option
from ..errors import InvalidArgumentError, InvalidTypeError
from ..networks.activations import measure_equivariance
from ..results import Result
from ..stimuli.base import TRANSFORMS
from ..stimuli.objects import render_objects
from ..stimuli.photos import natural_images, noise_images

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._typing import RandomState
    from ..networks.models import LoadedModel
    from ..stimuli.base import StimulusSet

IMAGE_SETS = ("objects", "natural", "noise")
OBJECT_IMAGES = 81  # one exemplar of the rendered objects: 9 categories x 9 views


def check_object_count(n_images: int, *, name: str = "n_images") -> int:
    """``n_images`` if it is whole exemplars of the rendered objects (a multiple of 81), else InvalidArgumentError."""
    if n_images % OBJECT_IMAGES:
        below = max(OBJECT_IMAGES, n_images // OBJECT_IMAGES * OBJECT_IMAGES)
        above = (n_images // OBJECT_IMAGES + 1) * OBJECT_IMAGES
        nearest = f"{below}" if below == above else f"{below} or {above}"
        raise InvalidArgumentError(
            f"Invalid value for {name!r}: the rendered objects come in whole exemplars of {OBJECT_IMAGES} images "
            f"(9 categories x 9 views), so give a multiple of {OBJECT_IMAGES} (e.g. {nearest}), got {n_images}; "
            "natural and noise images take any count"
        )
    return n_images


def figure3_images(
    kind: str, n_images: int, *, size: int = 227, color: bool = False, random_state: RandomState = 0
) -> StimulusSet:
    """One of Figure 3's image sets: ``"objects"``, ``"natural"`` or ``"noise"``.

    ``objects``: the nine rendered categories, ``n_images // 81`` exemplars x 9 views (gray, as
    the paper's renders); ``natural``: ``natural_images``; ``noise``:
    ``noise_images``.

    Args:
        kind: which set.
        n_images: how many images (objects: a multiple of 81, whole exemplars of 9 categories x
            9 views).
        size: image side in pixels.
        color: RGB natural or noise images (n, 3, size, size) rather than gray. Gray is the
            default: the paper's methods say only "a sample of 2025 random noise images"; the
            authors' released noise images are colour.
        random_state: seed.

    Raises:
        InvalidArgumentError: an unknown ``kind``, a count below 1, a count of objects that is
            not a multiple of 81, or ``color`` for the rendered objects (gray only).
    """
    check_option("images", kind, IMAGE_SETS)
    check_option("color", color, (False, True))
    n_images, size = check_count("n_images", n_images), check_count("size", size)
    if kind == "objects":
        if color:
            raise InvalidArgumentError(
                "Invalid value for 'color': the rendered objects are gray; colour is for natural and noise images"
            )
        check_object_count(n_images)
        return render_objects(n_exemplars=n_images // OBJECT_IMAGES, size=size, random_state=random_state)
    make = natural_images if kind == "natural" else noise_images
    return make(n_images, size=size, color=color, random_state=random_state)


@dataclass(repr=False)
class EquivarianceResult(Result):
    """Figure 3's tables: ``"<network>, <image set>"`` -> ``measure_equivariance`` table.

    Attributes:
        tables: label -> DataFrame (layer, transform, measure, mean, sem, n_images).
    """

    tables: dict

    def combined(self) -> pd.DataFrame:
        """All tables in one, with a ``network`` column (the labels)."""
        return pd.concat([t.assign(network=label) for label, t in self.tables.items()], ignore_index=True)

    def _title(self) -> str:
        return ", ".join(self.tables)


def equivariance_study(
    networks: Mapping[str, LoadedModel],
    image_sets: Mapping[str, StimulusSet],
    *,
    transforms: Sequence[str] = TRANSFORMS,
    device: str = "auto",
    batch_size: int = 32,
    verbose: bool = False,
) -> EquivarianceResult:
    """Invariance and equivariance of every preset layer of each network on each image set.

    Args:
        networks: mapping label -> ``LoadedModel``.
        image_sets: mapping label -> ``StimulusSet``.
        transforms: as in ``measure_equivariance``.
        device: as in ``measure_equivariance``.
        batch_size: original images per forward pass.
        verbose: progress bars.

    Returns:
        ``EquivarianceResult`` with one table per (network, image set), labelled
        ``"<network>, <image set>"``, networks outermost.

    Raises:
        InvalidTypeError: ``networks`` or ``image_sets`` is not a non-empty mapping; and as
            ``measure_equivariance``.
    """
    for name, mapping in (("networks", networks), ("image_sets", image_sets)):
        if not isinstance(mapping, Mapping) or not mapping:
            raise InvalidTypeError(f"Invalid type for {name!r}: expected a non-empty mapping label -> value")
    options: dict[str, Any] = {"transforms": transforms, "device": device, "batch_size": batch_size, "verbose": verbose}
    tables = {
        f"{label}, {images}": measure_equivariance(network, stimuli, "all", **options)
        for label, network in networks.items()
        for images, stimuli in image_sets.items()
    }
    return EquivarianceResult(tables)
