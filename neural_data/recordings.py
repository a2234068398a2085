"""Recorded face-patch populations in memory: the ``Recordings`` container.

``Recordings`` maps patch names to rsatoolbox ``Dataset`` objects (stimuli x neurons) that
share one ``StimulusLayout`` (``neural_data.layout``), keeps single-trial responses beside
them, and writes them back in the lab layout, one folder per save (``neural_data.saves``).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rsatoolbox.data import Dataset

from rsa_mirror.errors import InvalidArgumentError

from .errors import RecordingFormatError
from .layout import StimulusLayout
from .saves import SAVE_ID, save_lock, sha256, write_manifest, written_by_a_save

if TYPE_CHECKING:
    from rsa_mirror._typing import PathLike


class Recordings(Mapping[str, Dataset]):
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

    def __init__(
        self,
        datasets: Mapping[str, Dataset],
        *,
        trials: Mapping[str, np.ndarray] | None = None,
        layout: StimulusLayout | None = None,
    ) -> None:
        self._datasets = dict(datasets)
        if not self._datasets:
            raise InvalidArgumentError("Recordings need at least one patch")
        self.layout = layout if layout is not None else StimulusLayout()
        self.trials = dict(trials or {})
        first = next(iter(self._datasets.values()))
        for patch, dataset in self._datasets.items():
            if dataset.n_obs != first.n_obs:
                raise InvalidArgumentError(f"patch {patch!r} has {dataset.n_obs} stimuli, expected {first.n_obs}")
        for patch, trial_data in self.trials.items():
            expected = self._datasets[patch].measurements.shape
            if np.ndim(trial_data) != 3 or np.shape(trial_data)[:2] != expected:
                raise InvalidArgumentError(
                    f"trials[{patch!r}] must have shape (n_stimuli, n_neurons, n_trials) = {expected + ('n_trials',)}, "
                    f"got {np.shape(trial_data)}"
                )

    def __getitem__(self, patch: str) -> Dataset:
        try:
            return self._datasets[patch]
        except KeyError:
            raise KeyError(f"no patch {patch!r}; available: {', '.join(self._datasets)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._datasets)

    def __len__(self) -> int:
        return len(self._datasets)

    @property
    def patches(self) -> tuple[str, ...]:
        """Patch names in order."""
        return tuple(self._datasets)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{p}: {d.n_channel} neurons" for p, d in self._datasets.items())
        n_trials = {p: t.shape[2] for p, t in self.trials.items()}
        trials = f", trials {n_trials}" if n_trials else ""
        return f"Recordings({next(iter(self._datasets.values())).n_obs} stimuli; {sizes}{trials})"

    def select_views(self, views: Collection[str]) -> Recordings:
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
            raise InvalidArgumentError(
                f"Invalid view(s) {unknown}: expected among {list(dict.fromkeys(labels.tolist()))}"
            )
        rows = np.isin(labels, list(views))
        datasets = {p: d.subset_obs("view", list(views)) for p, d in self._datasets.items()}
        trials = {p: t[rows] for p, t in self.trials.items()}
        return Recordings(datasets, trials=trials, layout=self.layout.select_views(views))

    def unpaired_views(self) -> tuple[str, ...]:
        """Views without a mirror view in these recordings (e.g. up, down, back), in row order."""
        from rsa_mirror.rdm import mirror_paired

        dataset = next(iter(self._datasets.values()))
        paired = mirror_paired(dataset.obs_descriptors["view_deg"])
        return tuple(dict.fromkeys(np.asarray(dataset.obs_descriptors["view"])[~paired].tolist()))

    def mirror_views(self) -> Recordings:
        """Only the views whose mirror view is present too (yaw v and -v, both finite).

        For a 175- or 200-row FIV file these are the five yaw views. Returns ``self`` when
        nothing is dropped.
        """
        unpaired = self.unpaired_views()
        if not unpaired:
            return self
        views = np.asarray(next(iter(self._datasets.values())).obs_descriptors["view"]).tolist()
        return self.select_views([v for v in dict.fromkeys(views) if v not in unpaired])

    def save(self, folder: PathLike) -> Path:
        """Write one ``neural_vecs_<PATCH>.mat`` per patch (the lab layout), as one save.

        Each file holds ``neural_vecs`` (n_stimuli x n_neurons, double), ``neural_trials``
        (n_stimuli x n_neurons x n_trials) when trial data exist, the save's id, and the layout
        as metadata vectors ``stimulus``, ``identity``, ``view`` (cell of text) and
        ``view_deg``, so that ``load_freiwald_tsao(folder)`` reads the rows back without being
        told the layout. Rows are written in this object's order. Channel ground truth is not
        part of the layout and is not written.

        The folder is written as a whole (``neural_data.saves``): one save at a time (a lock
        file), each file atomically, then the ``neural_vecs_*.mat`` files of an earlier save
        are removed and the manifest ``rsa_mirror_save.json`` (the checksum of each file as
        this save wrote it) is written last; a folder left by an interrupted save is refused
        by the loader, never read as a mix of two saves.

        Returns:
            The folder, as a ``Path``.

        Raises:
            RecordingFormatError: the folder holds ``neural_vecs_*.mat`` files that no save
                wrote (a lab's own files are never overwritten or removed).
        """
        from matlab_bridge import write_mat

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with save_lock(folder):
            earlier = sorted(folder.glob("neural_vecs_*.mat"))
            foreign = [f.name for f in earlier if not written_by_a_save(folder, f)]
            if foreign:
                raise RecordingFormatError(
                    f"{folder}: holds {', '.join(foreign)}, which no save wrote; save into another folder "
                    "(recordings of your own are never overwritten)"
                )
            save_id = uuid.uuid4().hex
            layout = _metadata_vectors(next(iter(self._datasets.values())).obs_descriptors)
            files: dict[str, tuple[Path, str]] = {}
            for patch, dataset in self._datasets.items():
                variables: dict[str, Any] = {
                    "neural_vecs": np.asarray(dataset.measurements, dtype=np.float64),
                    **layout,
                }
                if patch in self.trials:
                    variables["neural_trials"] = np.asarray(self.trials[patch], dtype=np.float64)
                variables[SAVE_ID] = save_id
                path = write_mat(folder / f"neural_vecs_{patch}.mat", variables)
                files[patch] = (path, sha256(path))
            for stale in earlier:
                if stale not in {path for path, _ in files.values()}:
                    stale.unlink()
            write_manifest(folder, save_id, files)
        return folder


def _metadata_vectors(descriptors: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The layout descriptors as MATLAB-friendly column vectors (numbers) or cells (text)."""
    variables: dict[str, np.ndarray] = {}
    for key in ("stimulus", "identity", "view", "view_deg"):
        values = np.asarray(descriptors[key])
        if values.dtype.kind in "biuf":
            variables[key] = values.astype(np.float64).reshape(-1, 1)
        else:
            variables[key] = np.array([str(v) for v in values], dtype=object).reshape(-1, 1)
    return variables
