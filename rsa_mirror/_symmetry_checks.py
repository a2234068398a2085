"""What Eq. 2 and 3 (``symmetry.invariance`` / ``equivariance``) check of their input.

Private helpers of ``symmetry``: the activations as a float64 copy, the unit statistics given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import numpy as np

from .errors import InvalidArgumentError, InvalidTypeError

if TYPE_CHECKING:
    import numpy.typing as npt

    from ._typing import FloatArray


def float_copy(name: str, values: object) -> FloatArray:
    """``values`` as a new float64 array, else InvalidTypeError naming ``name``."""
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidTypeError(
            f"Invalid type for {name!r}: expected a numeric array, got {type(values).__name__}"
        ) from None


def check_statistics(
    statistics: Sequence[Sequence[npt.ArrayLike]], unit_shape: tuple[int, ...]
) -> list[tuple[FloatArray, FloatArray]]:
    """``statistics`` as [(mean, sd), (mean, sd)] float64 arrays of ``unit_shape``, else raise."""
    try:
        pairs = [tuple(np.asarray(v, dtype=np.float64) for v in pair) for pair in statistics]
    except (TypeError, ValueError):
        pairs = []
    shapes = [tuple(v.shape for v in pair) for pair in pairs]
    if len(pairs) != 2 or any(shape != (unit_shape, unit_shape) for shape in shapes):
        raise InvalidArgumentError(
            f"Invalid value for 'statistics': expected ((mean, sd) of the originals, (mean, sd) of the transformed "
            f"images), each of the unit shape {unit_shape}, got shapes {shapes or type(statistics).__name__}"
        )
    return cast("list[tuple[FloatArray, FloatArray]]", pairs)  # two arrays each, checked above
