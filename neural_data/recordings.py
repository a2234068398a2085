"""Recorded face-patch populations in memory.

Owns the stimulus layout of a response matrix (``StimulusLayout``) and the ``Recordings``
container (patch name -> rsatoolbox ``Dataset``).

A Freiwald-Tsao response matrix has one row per stimulus and one column per neuron. Which
identity and view a row shows is a property of the lab's export; ``StimulusLayout`` says it
once, with the FIV default: 25 identities x 8 views, view-major (rows 0..24 are the 25
identities in the first view, rows 25..49 in the second, ...), views in the order

    left_profile (-90), left_half_profile (-45), frontal (0), right_half_profile (+45),
    right_profile (+90), up, down, back (180)

Yaw is in degrees, negative to the viewer's left, so the five yaw views run left to right;
``up`` and ``down`` are pitch views and have no yaw (NaN). A file may hold the first k views
of a layout (k = 1..8): 125 rows are the five yaw views, 175 add up and down (the rows used by
the EIG-faces reanalysis), 200 add back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io
from rsatoolbox.data import Dataset

from rsa_mirror._utils import atomic_path, check_option

FIV_VIEWS = (
    "left_profile",
    "left_half_profile",
    "frontal",
    "right_half_profile",
    "right_profile",
    "up",
    "down",
    "back",
)
FIV_YAW_DEG = (-90.0, -45.0, 0.0, 45.0, 90.0, np.nan, np.nan, 180.0)


@dataclass(frozen=True)
class StimulusLayout:
    """Which identity and view each row of a (stimuli x neurons) matrix shows.

    Attributes:
        n_identities: identities per view (25 in the FIV set).
        views: view labels in the file's order.
        yaw_deg: yaw of each view in degrees (NaN for views off the yaw circle, e.g. up/down).
        order: ``"view-major"`` (all identities of view 0, then of view 1, ...) or
            ``"identity-major"`` (all views of identity 0, then of identity 1, ...).
    """

    n_identities: int = 25
    views: tuple = FIV_VIEWS
    yaw_deg: tuple = FIV_YAW_DEG
    order: str = "view-major"

    def __post_init__(self):
        check_option("order", self.order, ("view-major", "identity-major"))
        if int(self.n_identities) < 1:
            raise ValueError(f"n_identities must be positive, got {self.n_identities}")
        if len(self.views) != len(self.yaw_deg) or not self.views:
            raise ValueError(
                f"views and yaw_deg must have the same non-zero length, got {self.views} and {self.yaw_deg}"
            )
        if len(set(self.views)) != len(self.views):
            raise ValueError(f"view labels must be unique, got {self.views}")

    @classmethod
    def from_yaw(cls, yaw_deg, *, n_identities=25, order="view-major") -> StimulusLayout:
        """Layout of yaw views only, labelled with the FIV names where they apply (else 'yaw+30')."""
        names = dict(zip(FIV_YAW_DEG[:5], FIV_VIEWS[:5], strict=True))
        yaw = tuple(float(v) for v in yaw_deg)
        return cls(n_identities, tuple(names.get(v, f"yaw{v:+g}") for v in yaw), yaw, order)

    def n_views_in(self, n_rows) -> int:
        """Number of the layout's views present in a file of ``n_rows`` rows.

        Raises:
            ValueError: ``n_rows`` is not n_identities x k for k = 1..len(views).
        """
        k, remainder = divmod(int(n_rows), self.n_identities)
        if remainder or not 1 <= k <= len(self.views):
            fits = ", ".join(str(self.n_identities * j) for j in range(1, len(self.views) + 1))
            raise ValueError(
                f"{n_rows} rows do not fit the layout of {self.n_identities} identities x views {list(self.views)} "
                f"({self.order}): expected one of {fits} rows"
            )
        return k

    def descriptors(self, n_rows) -> dict:
        """Per-row descriptors: ``stimulus`` (row index), ``identity``, ``view`` and ``view_deg``."""
        n_views = self.n_views_in(n_rows)
        view_index, identity = np.divmod(np.arange(n_rows), self.n_identities)
        if self.order == "identity-major":
            identity, view_index = np.divmod(np.arange(n_rows), n_views)
        return {
            "stimulus": np.arange(n_rows),
            "identity": identity,
            "view": np.asarray(self.views[:n_views])[view_index],
            "view_deg": np.asarray(self.yaw_deg[:n_views], dtype=float)[view_index],
        }


class Recordings(Mapping):
    """Face-patch responses: a read-only mapping patch name -> rsatoolbox ``Dataset``.

    Each Dataset holds trial-averaged responses, measurements of shape (n_stimuli, n_neurons),
    with ``obs_descriptors`` stimulus, identity, view, view_deg (identical across patches),
    ``channel_descriptors`` neuron (column in the source file, or simulation index), patch and,
    for simulated data, the ground truth of each neuron's tuning.

    Attributes:
        trials: mapping patch -> array (n_stimuli, n_neurons, n_trials) of single-trial
            responses, for the patches that have them (NaN marks a missing trial).
        layout: the ``StimulusLayout`` of the rows.
    """

    def __init__(self, datasets, *, trials=None, layout=None):
        self._datasets = dict(datasets)
        if not self._datasets:
            raise ValueError("Recordings need at least one patch")
        self.layout = layout if layout is not None else StimulusLayout()
        self.trials = dict(trials or {})
        first = next(iter(self._datasets.values()))
        for patch, dataset in self._datasets.items():
            if dataset.n_obs != first.n_obs:
                raise ValueError(f"patch {patch!r} has {dataset.n_obs} stimuli, expected {first.n_obs}")
        for patch, trial_data in self.trials.items():
            expected = self._datasets[patch].measurements.shape
            if np.ndim(trial_data) != 3 or np.shape(trial_data)[:2] != expected:
                raise ValueError(
                    f"trials[{patch!r}] must have shape (n_stimuli, n_neurons, n_trials) = {expected + ('n_trials',)}, "
                    f"got {np.shape(trial_data)}"
                )

    def __getitem__(self, patch) -> Dataset:
        try:
            return self._datasets[patch]
        except KeyError:
            raise KeyError(f"no patch {patch!r}; available: {', '.join(self._datasets)}") from None

    def __iter__(self):
        return iter(self._datasets)

    def __len__(self):
        return len(self._datasets)

    @property
    def patches(self) -> tuple:
        """Patch names in order."""
        return tuple(self._datasets)

    def __repr__(self):
        sizes = ", ".join(f"{p}: {d.n_channel} neurons" for p, d in self._datasets.items())
        n_trials = {p: t.shape[2] for p, t in self.trials.items()}
        trials = f", trials {n_trials}" if n_trials else ""
        return f"Recordings({next(iter(self._datasets.values())).n_obs} stimuli; {sizes}{trials})"

    def select_views(self, views) -> Recordings:
        """The same recordings restricted to some views (rows keep their order).

        Args:
            views: view labels to keep, e.g. the five yaw views
                ``neural_data.FIV_VIEWS[:5]`` of a 175-row FIV file.

        Returns:
            A new ``Recordings``; the layout keeps only those views.
        """
        first = next(iter(self._datasets.values()))
        labels = np.asarray(first.obs_descriptors["view"])
        unknown = [v for v in views if v not in set(labels.tolist())]
        if unknown:
            raise ValueError(f"Invalid view(s) {unknown}: expected among {list(dict.fromkeys(labels.tolist()))}")
        rows = np.isin(labels, list(views))
        datasets = {p: d.subset_obs("view", list(views)) for p, d in self._datasets.items()}
        trials = {p: t[rows] for p, t in self.trials.items()}
        index = [self.layout.views.index(v) for v in self.layout.views if v in views]
        layout = StimulusLayout(
            self.layout.n_identities,
            tuple(self.layout.views[i] for i in index),
            tuple(self.layout.yaw_deg[i] for i in index),
            self.layout.order,
        )
        return Recordings(datasets, trials=trials, layout=layout)

    def mirror_views(self) -> Recordings:
        """Only the views whose mirror view is present too (yaw v and -v, both finite).

        For a 175- or 200-row FIV file these are the five yaw views. Returns ``self`` when
        nothing is dropped.
        """
        dataset = next(iter(self._datasets.values()))
        yaw = dict(zip(dataset.obs_descriptors["view"], dataset.obs_descriptors["view_deg"], strict=True))
        present = {deg for deg in yaw.values() if np.isfinite(deg)}
        keep = [view for view, deg in yaw.items() if np.isfinite(deg) and -deg in present]
        return self if len(keep) == len(yaw) else self.select_views(keep)

    def save(self, folder) -> Path:
        """Write one ``neural_vecs_<PATCH>.mat`` per patch (the lab layout), atomically.

        Each file holds ``neural_vecs`` (n_stimuli x n_neurons, double) and, when trial data
        exist, ``neural_trials`` (n_stimuli x n_neurons x n_trials). Rows are written in this
        object's order, so ``load_freiwald_tsao(folder, layout=recordings.layout)`` reads them
        back. Channel ground truth is not part of the layout and is not written.

        Returns:
            The folder, as a ``Path``.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for patch, dataset in self._datasets.items():
            variables = {"neural_vecs": np.asarray(dataset.measurements, dtype=np.float64)}
            if patch in self.trials:
                variables["neural_trials"] = np.asarray(self.trials[patch], dtype=np.float64)
            with atomic_path(folder / f"neural_vecs_{patch}.mat") as tmp:
                scipy.io.savemat(tmp, variables, do_compression=True, oned_as="column")
        return folder
