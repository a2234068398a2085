"""The face patches' own RDMs and index (Freiwald & Tsao 2010, Fig. 1A; the demo's first part).

``patch_study`` builds one RDM per patch over every recorded row and the mirror-symmetric
viewpoint tuning index of every identity's view RDM; ``PatchResult`` holds them. NumPy only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from rsatoolbox.rdm import RDMs

from ..rdm import compute_rdms, mirror_paired
from ..results import Result, rdms_from_plain, rdms_to_dict
from ..symmetry import msvt_by_object, msvt_chance_level, summarize_msvt

if TYPE_CHECKING:
    from rsatoolbox.data import Dataset


@dataclass(repr=False)
class PatchResult(Result):
    """Patch RDMs over every recorded row and the index per patch.

    Attributes:
        rdms: rsatoolbox ``RDMs``, one per patch.
        by_identity: the index per patch and identity (``msvt_by_object``, column ``patch``).
        summary: per patch (index): ``n_neurons``, ``msvt_mean``, ``msvt_sem``, ``n_objects``,
            ``views_left_out``, ``chance_level``.
        n_views: mirror-paired views per identity.
    """

    rdms: RDMs
    by_identity: pd.DataFrame
    summary: pd.DataFrame
    n_views: int

    def to_dict(self) -> dict:
        """The fields, the RDMs as rsatoolbox's ``RDMs.to_dict()``."""
        return {**super().to_dict(), "rdms": rdms_to_dict(self.rdms)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PatchResult:
        """A ``PatchResult`` from ``to_dict()``'s mapping."""
        data = dict(data)
        if "rdms" in data:
            data["rdms"] = rdms_from_plain(data["rdms"])
        if isinstance(data.get("summary"), pd.DataFrame) and "patch" in data["summary"].columns:
            data["summary"] = data["summary"].set_index("patch")
        return super().from_dict(data)

    def _title(self) -> str:
        return f"{', '.join(self.summary.index)}: {self.rdms.n_cond} stimuli, {self.n_views} views"


def patch_study(recordings: Mapping[str, Dataset]) -> PatchResult:
    """One RDM per patch over every row, and the index of every identity's view RDM.

    Args:
        recordings: mapping patch -> rsatoolbox ``Dataset`` with ``identity`` and ``view_deg``
            (e.g. ``neural_data.Recordings``); views without a mirror view are left out of the
            index (and named in the summary), not of the RDMs.

    Returns:
        ``PatchResult``.
    """
    rdms = compute_rdms(recordings)
    table = msvt_by_object(recordings, object_key="identity").rename(columns={"name": "patch"})
    summary = summarize_msvt(table, by=("patch",))
    first = next(iter(recordings.values()))
    yaw = np.asarray(first.obs_descriptors["view_deg"], dtype=float)
    n_views = len(np.unique(yaw[mirror_paired(yaw)]))
    summary.insert(0, "n_neurons", [recordings[p].n_channel for p in summary.index])
    summary["chance_level"] = msvt_chance_level(n_views)
    return PatchResult(rdms, table, summary, n_views)
