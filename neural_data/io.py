"""Loading recordings in the layout labs hold them.

Freiwald-Tsao ``neural_vecs_<PATCH>.mat`` files (variable ``neural_vecs``, stimuli x neurons,
trial-averaged), or one .mat file holding a variable per patch. MATLAB v7.3 (HDF5) files are
read with h5py.

Every problem with a file is raised as ``RecordingFormatError`` naming the file, the variable
and what is wrong; loaders compute no statistics beyond the checks.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

import h5py
import numpy as np
import scipy.io
from rsatoolbox.data import Dataset

from rsa_mirror._utils import format_indices

from .recordings import Recordings, StimulusLayout

RESPONSES = "neural_vecs"
# Posterior to anterior: patches found in a folder are listed in this order, others after.
PATCH_ORDER = ("PL", "MLMF", "ML", "MF", "AL", "AF", "AM")
TRIALS = "neural_trials"


class RecordingFormatError(ValueError):
    """A recording file that cannot be read as stimuli x neurons responses."""


def load_freiwald_tsao(path, *, patches=None, layout=None) -> Recordings:
    """Load face-patch responses saved in the Freiwald-Tsao layout.

    Args:
        path: a folder holding ``neural_vecs_<PATCH>.mat`` files (each with variable
            ``neural_vecs`` of shape (n_stimuli, n_neurons) and optionally ``neural_trials``
            of shape (n_stimuli, n_neurons, n_trials)), or a single .mat file holding one
            variable per patch, named ``<PATCH>`` or ``neural_vecs_<PATCH>`` (trial data:
            ``neural_trials_<PATCH>``). v5/v7 and v7.3 (HDF5) files are read.
        patches: patch names to load (e.g. ``["MLMF", "AL", "AM"]``); default all found:
            for a folder posterior to anterior (PL, MLMF, ML, MF, AL, AF, AM), then any others
            alphabetically; for a single file in the file's order.
        layout: ``StimulusLayout`` giving identity and view of each row; default the FIV
            layout (25 identities x 8 views, view-major; see ``neural_data.recordings``). A
            matrix whose row count is not n_identities x k (k = 1..n_views) is refused.

    Returns:
        ``Recordings``: patch -> Dataset of trial-averaged responses, with the layout of the
        views present (the first k of ``layout``). Neurons with zero
        variance across stimuli are dropped with a warning listing them (their original
        column stays in ``channel_descriptors['neuron']``).

    Raises:
        FileNotFoundError: ``path`` or a requested patch file does not exist.
        RecordingFormatError: unreadable file, missing variable, non-numeric data, wrong
            number of dimensions or rows, NaN/Inf responses (naming neurons and stimuli),
            all neurons constant, or trial data whose shape does not match.
    """
    layout = layout if layout is not None else StimulusLayout()
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"no recordings at {path}: expected a folder of neural_vecs_<PATCH>.mat files or one .mat file"
        )
    sources = _folder_sources(path, patches) if path.is_dir() else _file_sources(path, patches)
    datasets, trials = {}, {}
    for patch, (file, variables, responses_name, trials_name) in sources.items():
        responses = _numeric(file, responses_name, variables[responses_name], ndim=2)
        layout_descriptors = _check_rows(file, responses_name, responses, layout)
        _check_finite(file, responses_name, responses)
        trial_data = None
        if trials_name in variables:
            trial_data = _numeric(file, trials_name, variables[trials_name], ndim=3)
            if trial_data.shape[:2] != responses.shape:
                raise RecordingFormatError(
                    f"{file}: variable {trials_name!r} has shape {trial_data.shape}; expected "
                    f"{responses.shape + ('n_trials',)} to match {responses_name!r}"
                )
            if np.isinf(trial_data).any():
                raise RecordingFormatError(f"{file}: variable {trials_name!r} contains Inf")
        keep = _informative_neurons(file, responses_name, responses)
        datasets[patch] = Dataset(
            responses[:, keep],
            descriptors={"name": patch, "patch": patch, "source": str(file)},
            obs_descriptors=layout_descriptors,
            channel_descriptors={"neuron": np.flatnonzero(keep), "patch": np.full(keep.sum(), patch)},
        )
        if trial_data is not None:
            trials[patch] = trial_data[:, keep]
    n_views = layout.n_views_in(next(iter(datasets.values())).n_obs)
    present = dataclasses.replace(layout, views=layout.views[:n_views], yaw_deg=layout.yaw_deg[:n_views])
    return Recordings(datasets, trials=trials, layout=present)


def _folder_sources(folder, patches) -> dict:
    found = {re.fullmatch(r"neural_vecs_(.+)\.mat", f.name).group(1): f for f in folder.glob("neural_vecs_*.mat")}
    found = dict(sorted(found.items(), key=lambda item: (_hierarchy_rank(item[0]), item[0])))
    if not found:
        raise FileNotFoundError(f"no neural_vecs_<PATCH>.mat files in {folder}")
    wanted = list(found) if patches is None else list(patches)
    missing = [p for p in wanted if p not in found]
    if missing:
        raise FileNotFoundError(
            f"no file for patch(es) {missing} in {folder}: expected "
            f"{', '.join(f'neural_vecs_{p}.mat' for p in missing)}; found patches {', '.join(found)}"
        )
    sources = {}
    for patch in wanted:
        variables = _read_mat(found[patch])
        if RESPONSES not in variables:
            raise RecordingFormatError(
                f"{found[patch]}: no variable {RESPONSES!r}; the file holds {', '.join(variables) or 'no variables'}"
            )
        sources[patch] = (found[patch], variables, RESPONSES, TRIALS)
    return sources


def _hierarchy_rank(patch) -> int:
    return PATCH_ORDER.index(patch) if patch in PATCH_ORDER else len(PATCH_ORDER)


def _file_sources(file, patches) -> dict:
    variables = _read_mat(file)
    if patches is None:
        names = [n for n in variables if not n.startswith(TRIALS + "_") and np.ndim(variables[n]) == 2]
        patches = [n.removeprefix(RESPONSES + "_") for n in names]
        if not patches:
            raise RecordingFormatError(
                f"{file}: no 2-D variable to read as a patch; the file holds {', '.join(variables)}"
            )
    sources = {}
    for patch in patches:
        candidates = [f"{RESPONSES}_{patch}", patch]
        name = next((n for n in candidates if n in variables), None)
        if name is None:
            raise RecordingFormatError(
                f"{file}: no variable for patch {patch!r} (looked for {' or '.join(candidates)}); "
                f"the file holds {', '.join(variables) or 'no variables'}"
            )
        sources[patch] = (file, variables, name, f"{TRIALS}_{patch}")
    return sources


def _read_mat(file) -> dict:
    """All variables of a .mat file as arrays, in the orientation MATLAB shows them."""
    try:
        major, _ = scipy.io.matlab.matfile_version(str(file))
    except Exception as error:
        raise RecordingFormatError(f"{file}: not a readable MATLAB .mat file ({error})") from error
    if major == 2:
        return _read_mat73(file)
    try:
        contents = scipy.io.loadmat(str(file))
    except Exception as error:
        raise RecordingFormatError(f"{file}: cannot be read as a MATLAB .mat file ({error})") from error
    return {k: v for k, v in contents.items() if not k.startswith("__")}


def _read_mat73(file) -> dict:
    """Variables of a v7.3 (HDF5) file; MATLAB stores column-major, so arrays are transposed."""
    try:
        with h5py.File(file, "r") as handle:
            return {
                name: np.asarray(item).T
                for name, item in handle.items()
                if isinstance(item, h5py.Dataset) and not name.startswith("#")
            }
    except OSError as error:
        raise RecordingFormatError(f"{file}: cannot be read as a MATLAB v7.3 (HDF5) file ({error})") from error


def _numeric(file, name, array, *, ndim) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype.kind not in "iuf":
        raise RecordingFormatError(
            f"{file}: variable {name!r} must be a numeric matrix, got {array.dtype} (a cell, struct or char array?)"
        )
    if array.ndim != ndim:
        expected = "(stimuli, neurons)" if ndim == 2 else "(stimuli, neurons, trials)"
        raise RecordingFormatError(f"{file}: variable {name!r} must have shape {expected}, got shape {array.shape}")
    return array.astype(np.float64)


def _check_rows(file, name, responses, layout) -> dict:
    try:
        return layout.descriptors(responses.shape[0])
    except ValueError as error:
        try:
            layout.n_views_in(responses.shape[1])
            hint = " (the columns fit the layout: is it neurons x stimuli? then transpose it)"
        except ValueError:
            hint = ""
        raise RecordingFormatError(f"{file}: variable {name!r} of shape {responses.shape}: {error}{hint}") from None


def _check_finite(file, name, responses):
    bad = ~np.isfinite(responses)
    if bad.any():
        neurons, stimuli = np.flatnonzero(bad.any(0)), np.flatnonzero(bad.any(1))
        raise RecordingFormatError(
            f"{file}: variable {name!r} contains NaN or Inf for neurons (columns) {format_indices(neurons)} "
            f"at stimuli (rows) {format_indices(stimuli)}"
        )


def _informative_neurons(file, name, responses) -> np.ndarray:
    constant = np.ptp(responses, axis=0) == 0
    if constant.all():
        raise RecordingFormatError(f"{file}: variable {name!r}: every neuron has the same response to all stimuli")
    if constant.any():
        warnings.warn(
            f"{file}: dropping {constant.sum()} neuron(s) with zero variance across stimuli: "
            f"columns {format_indices(np.flatnonzero(constant))}",
            UserWarning,
            stacklevel=3,
        )
    return ~constant
