"""Mirror-symmetric units: which units of a layer have a mirror-symmetric view-tuning curve.

``select_mirror_units`` ranks the units of one object by their tuning curves (the paper's top 5%
of the template-positive units, or our reading of Baek et al. 2021); ``count_mirror_units``
counts them per object under two thresholds, on a network's responses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from ._utils import check_option, check_share, float_array
from .errors import DataError
from .stimuli.base import check_object_views, gray_images

if TYPE_CHECKING:
    import torch

    from .networks.models import LoadedModel
    from .stimuli.base import StimulusSet


def select_mirror_units(
    tuning: npt.ArrayLike,
    views_deg: npt.ArrayLike,
    *,
    fraction: float = 0.05,
    criterion: str = "strict",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Mirror-symmetric units of one object from their view-tuning curves.

    The strict criterion follows the Methods: "we correlated each unit's view tuning curve
    against a V-shaped tuning template ... and retained only the units with positive
    correlations. We then correlated each unit's view-tuning curve with its reflected
    counterpart. We selected the top 5% most mirror-symmetric units": 5% of the retained
    (template-positive) units, not of the layer: about 100 of AlexNet fc6's 4096 units in the
    authors' run (their released figure5D.m keeps the positive units above the 95th
    percentile of the reflection correlation). The caption of Figure 5D says "≈200 units",
    which 5% of all 4096 units would give (205).

    Args:
        tuning: (n_units, n_views) responses of each unit to the object's views.
        views_deg: (n_views,) yaw of each view, mirror-paired (-v and v both present).
        fraction: share of the template-positive units kept by the strict criterion (top 5%
            by default): ceil(``fraction`` x n_positive) units, at least one when any unit
            correlates positively with the template.
        criterion: ``"strict"`` (the paper's: the curve correlates positively with the V-shaped
            template ``|angle|``, then the top ``fraction`` of those units by the correlation of
            the curve with its mirror reversal) or ``"baek"`` (our reading of Baek et al. 2021:
            the curve correlates with its mirror reversal, one-sided p < ``alpha``, n_views
            points).
        alpha: significance level of the ``"baek"`` criterion.

    Returns:
        DataFrame of the selected units, best first: ``unit`` (index), ``r_template``,
        ``r_mirror``.

    Raises:
        InvalidArgumentError: ``criterion``, ``fraction`` (in (0, 1]) or ``alpha`` (in (0, 1)).
        DataError: ``tuning`` is not a finite (n_units, n_views) array matching ``views_deg``,
            fewer than 3 views, or views that are not mirror-paired.
    """
    check_option("criterion", criterion, ("strict", "baek"))
    fraction = check_share("fraction", fraction, "(]")
    alpha = check_share("alpha", alpha)
    tuning = float_array("tuning", tuning)
    views = float_array("views_deg", views_deg)
    if views.ndim != 1 or tuning.ndim != 2 or tuning.shape[1] != len(views):
        raise DataError(
            f"tuning must be (n_units, n_views) and views_deg (n_views,), got shapes {tuning.shape} and {views.shape}"
        )
    if len(views) < 3:
        raise DataError(f"mirror units need at least 3 views, got {views.tolist()}")
    for name, values in (("tuning", tuning), ("views_deg", views)):
        if not np.all(np.isfinite(values)):
            raise DataError(f"{name} holds NaN or Inf")
    order = np.argsort(views)
    curves = tuning[:, order]
    mirrored = curves[:, ::-1]  # views sorted, so reversal maps v to -v
    if not np.allclose(views[order], -views[order][::-1]):
        raise DataError(f"views must come in mirror pairs, got {views.tolist()}")
    r_template = _row_correlation(curves, np.abs(views[order])[None, :])
    r_mirror = _row_correlation(curves, mirrored)
    table = pd.DataFrame({"unit": np.arange(len(curves)), "r_template": r_template, "r_mirror": r_mirror})
    if criterion == "strict":
        candidates = table[table.r_template > 0].sort_values("r_mirror", ascending=False, kind="stable")
        n_keep = int(np.ceil(round(fraction * len(candidates), 9)))  # 0.05 * 60 is 3.0000000000000004
        return candidates.head(n_keep).reset_index(drop=True)
    n = curves.shape[1]
    t = table.r_mirror * np.sqrt((n - 2) / np.clip(1 - table.r_mirror**2, 1e-12, None))
    keep = stats.t.sf(t, n - 2) < alpha
    return table[keep].sort_values("r_mirror", ascending=False, kind="stable").reset_index(drop=True)


def count_mirror_units(
    model: LoadedModel | torch.nn.Module,
    stimuli: StimulusSet,
    layer: str | None,
    *,
    alpha: float = 0.05,
    device: str | torch.device = "auto",
) -> pd.DataFrame:
    """How many units of a layer are mirror-symmetric for each object, under two criteria.

    Counting needs thresholds rather than the top-5% rule of ``select_mirror_units``:
    ``baek``: the tuning curve correlates with its mirror reversal (one-sided p < ``alpha``);
    ``strict``: that, and the curve also correlates positively with the V-shaped template
    ``|angle|`` (so frontal-peaked, view-invariant-like curves do not count). Silent units (no
    response to any view of the object) count for neither.

    Returns:
        DataFrame per object: ``object``, ``category``, ``n_units``, ``n_baek``, ``n_strict``.

    Raises:
        InvalidArgumentError: ``alpha`` not in (0, 1).
        InvalidTypeError, DataError: ``stimuli`` is not a ``StimulusSet`` with ``object`` and
            ``view_deg`` descriptors.
    """
    from .networks.forward import unit_responses

    alpha = check_share("alpha", alpha)
    check_object_views(stimuli)
    images, _, objects = gray_images(stimuli)
    assert objects is not None  # check_object_views: the set has objects
    views = np.asarray(stimuli.descriptors["view_deg"], dtype=float)
    categories = np.asarray(stimuli.descriptors.get("category", objects))
    responses = unit_responses(model, images, layer, None, device=device)
    rows = []
    for obj in dict.fromkeys(objects):
        picked = np.flatnonzero(objects == obj)
        picked = picked[np.argsort(views[picked])]
        tuning = responses[:, picked]
        active = np.ptp(tuning, axis=1) > 0
        table = select_mirror_units(tuning, views[picked], criterion="baek", alpha=alpha)
        table = table[active[table.unit]]
        rows.append((obj, categories[picked[0]], len(tuning), len(table), int((table.r_template > 0).sum())))
    return pd.DataFrame(rows, columns=["object", "category", "n_units", "n_baek", "n_strict"])


def _row_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=1, keepdims=True)
    b = np.broadcast_to(b - b.mean(axis=1, keepdims=True), a.shape)
    denominator = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (a * b).sum(1) / np.where(denominator > 0, denominator, 1), 0.0)
