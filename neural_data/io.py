"""Loading recordings in the layout labs hold them.

Freiwald-Tsao ``neural_vecs_<PATCH>.mat`` files (variable ``neural_vecs``, stimuli x neurons,
trial-averaged), or one .mat file holding a variable per patch, written by MATLAB, GNU Octave,
scipy, hdf5storage or h5py (every .mat version and plain HDF5: ``matlab_bridge.read_mat``).

How a file is read, in order:

1. **Variables.** Metadata vectors (``identity``, ``view``, ``view_deg``, ``yaw_deg``,
   ``yaw``, ``stimulus``, ``image``) describe the rows and are never read as patches; in a
   single file, the patches are the other numeric matrices (or those named in ``patches``).
2. **Layout** (``neural_data.layout``): the ``layout`` passed in, else the file's metadata,
   else the FIV default (said so in ``Recordings.layout.describe()``). When both a layout and
   metadata are there they must describe the same rows.
3. **Orientation.** Rows are stimuli. When both dimensions of a matrix fit the layout (a
   100 x 125 matrix under the FIV layout: 100 = 25 x 4 views), it is refused as ambiguous
   unless ``orientation`` says which, or the number of stimuli is fixed (by a layout table,
   metadata, an exact list of views, or the other patches of the same recordings).
4. **Checks**: numeric data, the same number of stimuli in every patch, finite responses,
   trial data of matching shape (NaN marks a missing trial), a folder written by one save.

Every problem is raised as ``RecordingFormatError`` naming the file, the variable and what is
wrong; loaders compute no statistics beyond the checks.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rsatoolbox.data import Dataset

from rsa_mirror._utils import check_option, format_indices
from rsa_mirror.errors import InvalidArgumentError, InvalidTypeError

from .errors import RecordingFormatError
from .layout import DEFAULT_SOURCE, METADATA_NAMES, StimulusLayout
from .recordings import Recordings
from .rows import agreeing_metadata, metadata_layout, orient, resolve_layout
from .saves import SAVE_ID, check_folder

if TYPE_CHECKING:
    from rsa_mirror._typing import PathLike

RESPONSES = "neural_vecs"
# Posterior to anterior: patches found in a folder are listed in this order, others after.
PATCH_ORDER = ("PL", "MLMF", "ML", "MF", "AL", "AF", "AM")
TRIALS = "neural_trials"
ORIENTATIONS = ("auto", "stimuli-by-neurons", "neurons-by-stimuli")


@dataclasses.dataclass
class _Patch:
    """One patch's matrices as found in its file, before orientation."""

    file: Path
    name: str
    responses: np.ndarray
    trials_name: str
    trials: np.ndarray | None


def load_freiwald_tsao(
    path: PathLike,
    *,
    patches: str | Iterable[str] | None = None,
    layout: StimulusLayout | None = None,
    orientation: str = "auto",
) -> Recordings:
    """Load face-patch responses saved in the Freiwald-Tsao layout.

    Args:
        path: a folder holding ``neural_vecs_<PATCH>.mat`` files (each with variable
            ``neural_vecs`` of shape (n_stimuli, n_neurons) and optionally ``neural_trials``
            of shape (n_stimuli, n_neurons, n_trials) and metadata vectors), or a single file
            (.mat, .h5, .hdf5) holding one variable per patch, named ``<PATCH>`` or
            ``neural_vecs_<PATCH>`` (trial data: ``neural_trials_<PATCH>``), and optionally
            metadata vectors. A single ``neural_vecs_<PATCH>.mat`` file works too.
        patches: patch names to load (e.g. ``["MLMF", "AL", "AM"]``); default all found:
            for a folder posterior to anterior (PL, MLMF, ML, MF, AL, AF, AM), then any others
            alphabetically; for a single file every numeric matrix that is not metadata, in
            the file's order.
        layout: ``StimulusLayout`` giving identity and view of each row (a grid, or
            ``StimulusLayout.from_table(...)``); default the file's metadata vectors, else
            the FIV layout (25 identities x 8 views, view-major; a file may hold the first k
            views). ``recordings.layout.describe()`` says which was used.
        orientation: ``"auto"`` (rows are stimuli; a matrix whose both dimensions fit is
            refused), ``"stimuli-by-neurons"`` or ``"neurons-by-stimuli"`` (then every
            matrix, and the first two axes of trial data, are transposed).

    Returns:
        ``Recordings``: patch -> Dataset of trial-averaged responses (float64), with the layout
        of the rows present. Neurons with zero variance across stimuli are dropped with a
        warning listing them (their original column stays in
        ``channel_descriptors['neuron']``).

    Raises:
        FileNotFoundError: ``path`` or a requested patch file does not exist.
        RecordingFormatError: unreadable file; missing variable (listing those present);
            non-numeric data (naming char, cell and struct variables, and a struct's numeric
            fields); wrong number of dimensions; rows that fit no layout; a matrix whose
            orientation is ambiguous or reversed; patches with different numbers of stimuli
            (naming the files); metadata that disagree with ``layout`` or between files;
            NaN/Inf responses (naming neurons and stimuli); all neurons constant; trial data
            of the wrong shape; a folder mixing files of different saves.
    """
    check_option("orientation", orientation, ORIENTATIONS)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"no recordings at {path}: expected a folder of neural_vecs_<PATCH>.mat files or one .mat file"
        )
    if isinstance(patches, str):
        patches = [patches]
    if patches is not None and not list(patches):
        raise InvalidArgumentError("Invalid value for 'patches': expected patch names, got an empty list")
    if path.is_dir():
        found, metadata = _folder_patches(path, patches)
    else:
        found, metadata = _file_patches(path, patches)
    if layout is not None and not isinstance(layout, StimulusLayout):
        raise InvalidTypeError(f"layout must be a StimulusLayout (or None), got {type(layout).__name__}")
    stated = layout if layout is not None or metadata is not None else StimulusLayout(source=DEFAULT_SOURCE)
    oriented = orient(found, metadata if metadata is not None else stated, orientation)  # type: ignore[arg-type]
    n_stimuli = _common_stimuli(oriented)
    layout = resolve_layout(stated, metadata, n_stimuli)
    descriptors = layout.descriptors(n_stimuli)
    datasets: dict[str, Dataset] = {}
    trials: dict[str, np.ndarray] = {}
    for patch, (item, responses, trial_data) in oriented.items():
        _check_finite(item.file, item.name, responses)
        if trial_data is not None:
            if trial_data.shape[:2] != responses.shape:
                raise RecordingFormatError(
                    f"{item.file}: variable {item.trials_name!r} has shape {trial_data.shape}; expected "
                    f"{responses.shape + ('n_trials',)} to match {item.name!r}"
                )
            if np.isinf(trial_data).any():
                raise RecordingFormatError(f"{item.file}: variable {item.trials_name!r} contains Inf")
        keep = _informative_neurons(item.file, item.name, responses)
        datasets[patch] = Dataset(
            responses[:, keep],
            descriptors={"name": patch, "patch": patch, "source": str(item.file)},
            obs_descriptors={k: v.copy() for k, v in descriptors.items()},
            channel_descriptors={"neuron": np.flatnonzero(keep), "patch": np.full(keep.sum(), patch)},
        )
        if trial_data is not None:
            trials[patch] = trial_data[:, keep]
    return Recordings(datasets, trials=trials, layout=layout.present(n_stimuli))


# -- finding the patches ----------------------------------------------------------------------


def _folder_patches(folder: Path, patches: Iterable[str] | None) -> tuple[dict[str, _Patch], StimulusLayout | None]:
    files = sorted(folder.glob("neural_vecs_*.mat"))
    unnamed = [f for f in files if f.name == "neural_vecs_.mat"]
    if unnamed:
        raise RecordingFormatError(
            f"{unnamed[0]}: the file name names no patch; expected neural_vecs_<PATCH>.mat (e.g. neural_vecs_AL.mat)"
        )
    found = {f.name[len("neural_vecs_") : -len(".mat")]: f for f in files}
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
    items: dict[str, _Patch] = {}
    metadata: dict[Path, StimulusLayout | None] = {}
    save_ids: dict[Path, str | None] = {}
    for patch in wanted:
        file = found[patch]
        variables = _read(file)
        save_ids[file] = variables.get(SAVE_ID)
        if RESPONSES not in variables:
            raise RecordingFormatError(
                f"{file}: no variable {RESPONSES!r}; the file holds {_listing(variables) or 'no variables'}"
            )
        items[patch] = _patch(file, RESPONSES, variables, TRIALS)
        metadata[file] = metadata_layout(file, variables)
    check_folder(folder, files, save_ids)
    return items, agreeing_metadata(metadata)


def _file_patches(file: Path, patches: Iterable[str] | None) -> tuple[dict[str, _Patch], StimulusLayout | None]:
    variables = _read(file)
    single = re.fullmatch(r"neural_vecs_(.+)\.mat", file.name)
    chosen = patches is not None
    if patches is None:
        if single and RESPONSES in variables:
            patches = [single.group(1)]
        else:
            patches = _auto_patches(file, variables)
        if not patches:
            raise RecordingFormatError(
                f"{file}: no numeric matrix to read as a patch; the file holds {_listing(variables) or 'no variables'}"
            )
    items: dict[str, _Patch] = {}
    for patch in patches:
        if patch in METADATA_NAMES:
            raise RecordingFormatError(f"{file}: {patch!r} is a metadata name (one value per stimulus), not a patch")
        candidates = [f"{RESPONSES}_{patch}", patch] + ([RESPONSES] if single and single.group(1) == patch else [])
        name = next((n for n in candidates if n in variables), None)
        if name is None:
            raise RecordingFormatError(
                f"{file}: no variable for patch {patch!r} (looked for {' or '.join(candidates)}); "
                f"the file holds {_listing(variables) or 'no variables'}"
            )
        trials_name = TRIALS if name == RESPONSES else f"{TRIALS}_{patch}"
        items[patch] = _patch(file, name, variables, trials_name)
    used = {item.name for item in items.values()} | {item.trials_name for item in items.values()}
    ignored = [
        n
        for n, v in variables.items()
        if n not in used and n not in METADATA_NAMES and n != SAVE_ID and not _is_patch_candidate(n, v)
    ]
    if ignored and not chosen:
        warnings.warn(f"{file}: not read as patches: {_listing({n: variables[n] for n in ignored})}", stacklevel=3)
    return items, metadata_layout(file, variables)


def _auto_patches(file: Path, variables: Mapping[str, Any]) -> list[str]:
    """The patches of a single file: its numeric matrices, those with patch-like names first.

    When some matrices are named like patches (PL, MLMF, ML, MF, AL, AF, AM, or
    ``neural_vecs_<NAME>``), only those are read and the others are named in a warning; when
    none is, every matrix is read as a patch, with a warning listing them.
    """
    candidates = [n for n, v in variables.items() if _is_patch_candidate(n, v)]
    named = [n for n in candidates if n in PATCH_ORDER or n.startswith(RESPONSES + "_")]
    if named and len(named) < len(candidates):
        others = {n: variables[n] for n in candidates if n not in named}
        warnings.warn(
            f"{file}: reading the patches {', '.join(map(_patch_name, named))}; not the other matrices "
            f"{_listing(others)} (choose with patches=, command line --patches)",
            stacklevel=4,
        )
    elif candidates and not named:
        warnings.warn(
            f"{file}: no variable is named like a patch (PL, MLMF, ML, MF, AL, AF, AM, neural_vecs_<NAME>): reading "
            f"every matrix as a patch: {_listing({n: variables[n] for n in candidates})} (choose with patches=, "
            "command line --patches)",
            stacklevel=4,
        )
    return [_patch_name(n) for n in (named or candidates)]


def _is_patch_candidate(name: str, value: object) -> bool:
    if name in METADATA_NAMES or name == SAVE_ID or name.startswith(TRIALS):
        return False
    return isinstance(value, np.ndarray) and value.ndim == 2 and min(value.shape) > 1 and value.dtype.kind in "iuf"


def _patch_name(name: str) -> str:
    return name.removeprefix(RESPONSES + "_")


def _patch(file: Path, name: str, variables: Mapping[str, Any], trials_name: str) -> _Patch:
    responses = _numeric(file, name, variables[name], ndim=2)
    trials = None
    if trials_name in variables:
        trials = _numeric(file, trials_name, variables[trials_name], ndim=3)
    return _Patch(file, name, responses, trials_name, trials)


def _read(file: Path) -> dict[str, Any]:
    """The file's variables, metadata names in lower case (``Identity`` and ``identity`` are the same)."""
    from matlab_bridge import MatFormatError, read_mat

    try:
        variables = read_mat(file)
    except MatFormatError as error:
        raise RecordingFormatError(str(error)) from None
    renamed: dict[str, Any] = {}
    for name, value in variables.items():
        key = name.lower() if name.lower() in METADATA_NAMES else name
        if key in renamed:
            raise RecordingFormatError(f"{file}: holds the metadata variable {key!r} twice, in different case")
        renamed[key] = value
    return renamed


def _hierarchy_rank(patch: str) -> int:
    return PATCH_ORDER.index(patch) if patch in PATCH_ORDER else len(PATCH_ORDER)


def _common_stimuli(oriented: Mapping[str, tuple[_Patch, np.ndarray, np.ndarray | None]]) -> int:
    sizes = {
        item.file.name if item.name == RESPONSES else f"{item.file.name}:{item.name}": r.shape[0]
        for item, r, _ in oriented.values()
    }
    if len(set(sizes.values())) > 1:
        raise RecordingFormatError(
            "the patches have different numbers of stimuli ("
            + ", ".join(f"{name} {n}" for name, n in sizes.items())
            + "): all patches of one recording must share its stimuli"
        )
    return next(iter(sizes.values()))


def _numeric(file: Path, name: str, value: object, *, ndim: int) -> np.ndarray:
    if isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        raise RecordingFormatError(
            f"{file}: variable {name!r} must be a numeric matrix, got text (a char or cell of char)"
        )
    if isinstance(value, list) and value and isinstance(value[0], dict):
        raise RecordingFormatError(
            f"{file}: variable {name!r} must be a numeric matrix, got a struct with fields {_fields(value[0])}"
        )
    if isinstance(value, list):
        raise RecordingFormatError(f"{file}: variable {name!r} must be a numeric matrix, got a cell array")
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        raise RecordingFormatError(
            f"{file}: variable {name!r} must be a numeric matrix, got {array.dtype} (a cell, struct, char or "
            "logical array?)"
        )
    if array.ndim != ndim:
        expected = "(stimuli, neurons)" if ndim == 2 else "(stimuli, neurons, trials)"
        raise RecordingFormatError(f"{file}: variable {name!r} must have shape {expected}, got shape {array.shape}")
    return array.astype(np.float64)


def _listing(variables: Mapping[str, Any]) -> str:
    """The variables for a message: 'a' (125x60 float64), 'view' (cell of 125), 'data' (struct with ...)."""
    parts = []
    for name, value in variables.items():
        if isinstance(value, str):
            parts.append(f"'{name}' (text)")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            parts.append(f"'{name}' (struct with fields {_fields(value[0])})")
        elif isinstance(value, list):
            parts.append(f"'{name}' (cell of {len(value)})")
        else:
            array = np.asarray(value)
            parts.append(f"'{name}' ({'x'.join(map(str, array.shape))} {array.dtype})")
    return ", ".join(parts)


def _fields(struct: Mapping[str, Any]) -> str:
    numeric = [
        f"{k} {'x'.join(map(str, np.shape(v)))}"
        for k, v in struct.items()
        if isinstance(v, np.ndarray) and v.dtype.kind in "iuf"
    ]
    other = [k for k, v in struct.items() if not (isinstance(v, np.ndarray) and v.dtype.kind in "iuf")]
    text = f"numeric: {', '.join(numeric)}" if numeric else "none numeric"
    return text + (f"; other: {', '.join(other)}" if other else "") + " (save each patch as its own variable)"


def _check_finite(file: Path, name: str, responses: np.ndarray) -> None:
    bad = ~np.isfinite(responses)
    if bad.any():
        neurons, stimuli = np.flatnonzero(bad.any(0)), np.flatnonzero(bad.any(1))
        raise RecordingFormatError(
            f"{file}: variable {name!r} contains NaN or Inf for neurons (columns) {format_indices(neurons)} "
            f"at stimuli (rows) {format_indices(stimuli)}"
        )


def _informative_neurons(file: Path, name: str, responses: np.ndarray) -> np.ndarray:
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
