"""Model-brain comparison (Figure 6): the stimulus bootstrap and noise ceilings.

Everything here correlates the upper triangles of RDMs over the same stimuli (rsatoolbox
``RDMs``). The stimulus bootstrap resamples stimuli with replacement and removes the cells that
pair a stimulus with a copy of itself (METHODS.md, "Brain alignment"); all resamples are
weighted correlations over the original cells, a few matrix products (``resampling``). The RDMs
themselves are resampled, as rsatoolbox does: for plain 1 - Pearson RDMs (Figure 6's,
``compute_rdms(normalize="none")``) that is recomputing them on the sample; RDMs of z-scored
units are recomputed within each resample by ``zscore_resampling``. Paired tests between layers
and against the ceiling are ``pair_tests``; the Shapley split of a correlation into parts of
the activations is ``shapley``.

Degenerate cases follow one rule: an RDM with no variance over the cells of a sample carries
no information about which stimuli differ, and its correlation is 0, never NaN; so does a
resample that drew one stimulus only (it keeps no cell).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import pair_tests
from ._utils import check_count, check_option, check_random_state, float_array, format_indices
from .errors import DataError, InvalidArgumentError
from .rdm import NORMALIZATIONS, compute_rdms
from .resampling import (
    METHODS,
    check_indices,
    check_n_jobs,
    chunks,
    common_stimuli,
    compare,
    pair_weights,
    paired_weighted_pearson,
    rdm_names,
    rdm_vectors,
    resample_counts,
    spearman_brown,
)
from .results import Result
from .zscore_resampling import zscored_split_half_samples

if TYPE_CHECKING:
    from rsatoolbox.data import Dataset
    from rsatoolbox.rdm import RDMs

    from ._typing import RandomState

_RSATOOLBOX_METHOD = {"pearson": "corr", "spearman": "spearman", "tau-a": "tau-a"}


@dataclass(repr=False)
class CeilingResult(Result):
    """Split-half noise ceiling of one population RDM.

    Attributes:
        name: the population (patch).
        reliability: (n_splits,) Spearman-Brown corrected split-half correlation (in [-1, 1]),
            all stimuli.
        samples: (n_bootstrap,) the mean corrected reliability within each resample, or None.

    The lower bound is the paper's: the corrected split-half reliability, i.e. the expected
    correlation between this RDM and an independent replicate of it. The upper bound is its
    square root: the expected correlation between this RDM and the noise-free RDM, which no
    model can exceed on average (a model equal to the true RDM reaches it). Both are averaged
    over splits; ``*_std`` give their spread over splits.
    """

    DIMS: ClassVar[dict] = {"reliability": ("split",), "samples": ("bootstrap",)}
    UNITS: ClassVar[dict] = {
        "reliability": "Spearman-Brown corrected split-half RDM correlation, per split",
        "samples": "mean corrected reliability in each stimulus resample",
    }
    DERIVED: ClassVar[tuple] = ("lower", "upper", "lower_std", "upper_std")

    name: str
    reliability: np.ndarray
    samples: np.ndarray | None = None

    @property
    def lower(self) -> float:
        """Mean corrected split-half reliability (the paper's ceiling)."""
        return float(self.reliability.mean())

    @property
    def upper(self) -> float:
        """Mean square root of the corrected reliability (negative reliabilities count as 0)."""
        return float(np.sqrt(np.clip(self.reliability, 0, None)).mean())

    @property
    def lower_std(self) -> float:
        """Standard deviation of the lower bound over splits."""
        return float(self.reliability.std(ddof=1)) if len(self.reliability) > 1 else 0.0

    @property
    def upper_std(self) -> float:
        """Standard deviation of the upper bound over splits."""
        upper = np.sqrt(np.clip(self.reliability, 0, None))
        return float(upper.std(ddof=1)) if len(upper) > 1 else 0.0

    def summary(self) -> pd.DataFrame:
        """One row: the population, both bounds and their spread over splits."""
        return pd.DataFrame([{k: v for k, v in self.to_dict().items() if np.isscalar(v)}])

    def to_dict(self) -> dict[str, Any]:
        """Bounds and their spread (``DERIVED``, recomputed by ``from_dict``), per-split and per-resample values."""
        return {
            "name": self.name,
            "lower": self.lower,
            "upper": self.upper,
            "lower_std": self.lower_std,
            "upper_std": self.upper_std,
            "reliability": self.reliability,
            "samples": self.samples,
        }

    def _title(self) -> str:
        return f"{self.name}: {self.lower:.3f}-{self.upper:.3f} over {len(self.reliability)} splits"


@dataclass(repr=False)
class BootstrapResult(Result):
    """Correlations between brain and model RDMs on all stimuli and on bootstrap resamples.

    Attributes:
        estimate: (n_brain, n_model) correlation on all stimuli.
        samples: (n_brain, n_model, n_bootstrap) correlation in each resample.
        indices: (n_bootstrap, n_stimuli) int, the stimuli drawn in each resample (0-based):
            replaying them (here, in rsatoolbox or in MATLAB, adding 1) reproduces ``samples``.
        brain_names, model_names: labels of the rows and columns (patches, layers).
        method: ``"pearson"``, ``"spearman"`` or ``"tau-a"``.
        ceilings: patch name -> ``CeilingResult`` when computed with the same samples.
        normalize: how the RDMs were built, ``"none"`` (plain 1 - Pearson, the cells
            resampled) or ``"zscore"`` (z-scored units, recomputed within each resample); None
            when the comparison was given ready RDMs (``bootstrap_compare``).
    """

    DIMS: ClassVar[dict] = {
        "estimate": ("brain", "model"),
        "samples": ("brain", "model", "bootstrap"),
        "indices": ("bootstrap", "stimulus"),
    }
    UNITS: ClassVar[dict] = {
        "estimate": "correlation between RDMs on all stimuli (see method)",
        "samples": "correlation in each stimulus resample",
        "indices": "stimulus drawn, 1-based, per resample",
    }
    ONE_BASED: ClassVar[tuple] = ("indices",)
    NESTED_DICTS: ClassVar[dict] = {"ceilings": CeilingResult}

    estimate: np.ndarray
    samples: np.ndarray
    indices: np.ndarray
    brain_names: list[str]
    model_names: list[str]
    method: str
    ceilings: dict[str, CeilingResult] = field(default_factory=dict)
    normalize: str | None = None

    @property
    def mean(self) -> np.ndarray:
        """(n_brain, n_model) mean over resamples."""
        return self.samples.mean(axis=-1)

    @property
    def std(self) -> np.ndarray:
        """(n_brain, n_model) standard deviation over resamples (the paper's error bars)."""
        return self.samples.std(axis=-1, ddof=1)

    def interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Percentile interval over resamples: two (n_brain, n_model) arrays, low and high."""
        tail = 50 * (1 - level)
        low, high = np.percentile(self.samples, [tail, 100 - tail], axis=-1)
        return low, high

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy table: one row per (brain, model) with estimate, mean, std and the interval."""
        low, high = self.interval(level)
        brain, model = np.meshgrid(self.brain_names, self.model_names, indexing="ij")
        frame = pd.DataFrame(
            {
                "brain": brain.ravel(),
                "model": model.ravel(),
                "estimate": self.estimate.ravel(),
                "mean": self.mean.ravel(),
                "std": self.std.ravel(),
                "ci_low": low.ravel(),
                "ci_high": high.ravel(),
            }
        )
        frame["n_bootstrap"], frame["method"], frame["ci_level"] = self.samples.shape[-1], self.method, level
        frame["normalize"] = self.normalize
        return frame

    def summary(self) -> pd.DataFrame:
        """Text table of r on all stimuli ± bootstrap SD [95% interval]: brains x models."""
        low, high = self.interval(0.95)
        cells = np.char.mod("%.3f", self.estimate) + " ± " + np.char.mod("%.3f", self.std)
        cells = cells + " [" + np.char.mod("%.3f", low) + ", " + np.char.mod("%.3f", high) + "]"
        label = self.method if self.normalize is None else f"{self.method}, normalize={self.normalize}"
        return pd.DataFrame(cells, index=pd.Index(self.brain_names, name=label), columns=self.model_names)

    def pair_tests(self, level: float = 0.95, center: str = "estimate") -> pd.DataFrame:
        """Every layer against every other on the same resamples (``pair_tests.layer_pair_table``)."""
        return pair_tests.layer_pair_table(self, level=level, center=center)

    def ceiling_tests(self, level: float = 0.95, center: str = "estimate") -> pd.DataFrame:
        """Every layer against the lower noise ceiling on the same resamples (``pair_tests.ceiling_table``)."""
        return pair_tests.ceiling_table(self, level=level, center=center)

    def to_dict(self) -> dict[str, Any]:
        """The fields: arrays, label lists, the method, and ``ceilings`` (patch -> ``CeilingResult``)."""
        return {
            "estimate": self.estimate,
            "samples": self.samples,
            "indices": self.indices,
            "brain_names": list(self.brain_names),
            "model_names": list(self.model_names),
            "method": self.method,
            "ceilings": dict(self.ceilings),
            "normalize": self.normalize,
        }

    def _title(self) -> str:
        built = "" if self.normalize is None else f" (normalize={self.normalize})"
        return (
            f"{self.method} r of {len(self.brain_names)} brain x {len(self.model_names)} model RDMs{built}, "
            f"{self.samples.shape[-1]} resamples"
        )


def bootstrap_compare(
    model_rdms: RDMs,
    brain_rdms: RDMs,
    *,
    n_bootstrap: int = 1000,
    method: str = "pearson",
    random_state: RandomState = None,
    indices: npt.ArrayLike | None = None,
    n_jobs: int | None = None,
    verbose: bool = False,
) -> BootstrapResult:
    """Correlate every brain RDM with every model RDM over stimulus resamples.

    One resample of the stimuli is shared by all RDMs in a sample; cells that pair a stimulus
    with a copy of itself are removed; the remaining upper-triangle cells are correlated.

    Args:
        model_rdms: rsatoolbox ``RDMs`` (e.g. one per layer) over n_stimuli.
        brain_rdms: rsatoolbox ``RDMs`` (e.g. one per patch) over the same stimuli, same order.
        n_bootstrap: number of resamples, at least 2 (a standard deviation needs two); ignored
            when ``indices`` is given.
        method: ``"pearson"`` (default), ``"spearman"`` (ranks of the resampled cells, ties
            averaged) or ``"tau-a"`` (rsatoolbox's, computed per resample: slow).
        random_state: None, int or ``np.random.Generator``; the same seed gives bit-identical
            results whatever ``n_jobs`` or joblib backend (loky, threading, Dask).
        indices: (n_resamples >= 2, n_stimuli) integer array of 0-based stimulus numbers, the
            resamples to replay instead of drawing new ones.
        n_jobs: joblib workers over chunks of resamples (None: joblib's default, which
            ``joblib.parallel_config`` sets, e.g. a Dask cluster); a non-zero integer.
        verbose: joblib progress messages.

    Returns:
        ``BootstrapResult``.

    Raises:
        InvalidArgumentError: ``method``, ``n_bootstrap``, ``n_jobs`` or ``indices`` (shape,
            dtype or a stimulus number out of range) cannot be used.
        InvalidTypeError: the RDMs are not rsatoolbox ``RDMs``.
        DataError: the RDMs differ in stimulus count or in their stimulus descriptors, or an
            RDM holds NaN or Inf.
    """
    method = check_option("method", method, METHODS)
    n_jobs = check_n_jobs(n_jobs)
    models, brains = rdm_vectors("model_rdms", model_rdms), rdm_vectors("brain_rdms", brain_rdms)
    n = common_stimuli(model_rdms, brain_rdms)
    if indices is None:
        n_bootstrap = check_count("n_bootstrap", n_bootstrap, minimum=2)
        indices = check_random_state(random_state).integers(0, n, size=(n_bootstrap, n))
    else:
        indices = check_indices(indices, n)
    estimate, samples = compare(models, brains, indices, method, n_jobs, verbose)
    return BootstrapResult(
        estimate=estimate,
        samples=samples,
        indices=indices,
        brain_names=rdm_names(brain_rdms),
        model_names=rdm_names(model_rdms),
        method=method,
    )


def split_half_ceiling(
    dataset: Dataset | npt.ArrayLike,
    *,
    n_splits: int = 100,
    random_state: RandomState = None,
    indices: npt.ArrayLike | None = None,
    name: str | None = None,
    normalize: str = "none",
) -> CeilingResult:
    """Split-half noise ceiling of a population RDM (METHODS.md, "Brain alignment").

    Each split divides the neurons into two random halves (sizes differing by at most one),
    builds each half's RDM with ``compute_rdms(normalize=normalize)``, correlates them (Pearson, upper triangle) and
    applies the Spearman-Brown correction 2r / (1 + r), clipped to [-1, 1] (it leaves that
    range for r < -1/3, halves that disagree).

    Args:
        dataset: rsatoolbox ``Dataset`` (n_stimuli x n_neurons), or an array of that shape.
        n_splits: random splits, at least 1.
        random_state: None, int or ``np.random.Generator``.
        indices: (n_resamples >= 2, n_stimuli) resamples (e.g. ``BootstrapResult.indices``):
            the ceiling is then also computed within each, with the same cell weighting as
            ``bootstrap_compare``, so the band and the bars share samples.
        name: label (default the Dataset's ``descriptors['name']``), named in every error.
        normalize: ``"none"`` (default: plain 1 - Pearson RDMs, as Figure 6) or ``"zscore"``
            (neurons z-scored; within each resample over its drawn stimuli, the half RDMs
            recomputed, as ``zscore_resampling`` does).

    Returns:
        ``CeilingResult``.

    Raises:
        InvalidArgumentError: ``n_splits``, ``indices`` or ``normalize`` cannot be used.
        DataError: the responses are not a finite numeric (n_stimuli >= 3, n_neurons) array
            with at least 4 neurons that vary, or a half of some split has no RDM (fewer than 2
            of its neurons vary, or a stimulus has the same z-score on all of them).
    """
    if name is None:
        name = getattr(dataset, "descriptors", {}).get("name", "data")
    name = str(name)
    n_splits = check_count("n_splits", n_splits, minimum=1)
    check_option("normalize", normalize, NORMALIZATIONS)
    measurements = float_array("dataset", getattr(dataset, "measurements", dataset))
    if measurements.ndim != 2:
        raise DataError(
            f"split-half ceiling of {name!r}: responses must be (n_stimuli, n_neurons), got shape {measurements.shape}"
        )
    n_stimuli, n_neurons = measurements.shape
    bad = ~np.isfinite(measurements)
    if bad.any():
        stimuli, neurons = (format_indices(np.flatnonzero(bad.any(axis=axis))) for axis in (1, 0))
        raise DataError(
            f"split-half ceiling of {name!r}: responses hold NaN or Inf at stimuli {stimuli} and neurons {neurons}"
        )
    varying = int(np.count_nonzero(np.ptp(measurements, axis=0) > 0)) if n_stimuli else 0
    if n_stimuli < 3 or varying < 4:
        raise DataError(
            f"split-half ceiling of {name!r} needs at least 3 stimuli and 4 neurons that vary across them, "
            f"got {n_stimuli} stimuli and {varying} of {n_neurons} neurons varying"
        )
    if indices is not None:
        indices = check_indices(indices, n_stimuli)
    rng = check_random_state(random_state)
    half_rdms: list[np.ndarray] = []
    parts: list[tuple[np.ndarray, ...]] = []
    for split in range(n_splits):
        order = rng.permutation(n_neurons)
        half = {
            f"{name} (half 1)": measurements[:, order[: n_neurons // 2]],
            f"{name} (half 2)": measurements[:, order[n_neurons // 2 :]],
        }
        try:
            half_rdms.append(compute_rdms(half, normalize=normalize).dissimilarities)
        except DataError as error:
            raise DataError(f"split-half ceiling of {name!r}, split {split}: {error}") from error
        parts.append(tuple(half.values()))
    halves = np.stack(half_rdms)  # (n_splits, 2, n_cells)
    reliability = spearman_brown(paired_weighted_pearson(np.ones((1, halves.shape[2])), halves)[0])
    samples = None
    if indices is not None and normalize == "zscore":
        try:
            samples = zscored_split_half_samples(parts, indices)
        except DataError as error:
            raise DataError(f"split-half ceiling of {name!r}: {error}") from error
    elif indices is not None:
        per_chunk = [
            spearman_brown(paired_weighted_pearson(pair_weights(resample_counts(indices[chunk], n_stimuli)), halves))
            for chunk in chunks(len(indices), halves.shape[2] * 4)
        ]
        samples = np.concatenate(per_chunk).mean(axis=1)
    return CeilingResult(name=name, reliability=reliability, samples=samples)


def leave_one_out_ceiling(rdms: RDMs, *, method: str = "pearson") -> tuple[float, float]:
    """The leave-one-out ceiling of rsatoolbox over several RDMs of one area (sessions, monkeys).

    Lower bound: mean correlation of each RDM with the mean of the others; upper bound: with the
    mean of all. Computed by ``rsatoolbox.inference.boot_noise_ceiling``.

    Returns:
        (lower, upper) floats.

    Raises:
        InvalidArgumentError: fewer than 2 RDMs (rsatoolbox would return (1.0, 1.0) silently;
            use ``split_half_ceiling`` on the population instead), or an unknown ``method``.
        InvalidTypeError: ``rdms`` is not an rsatoolbox ``RDMs``.
        DataError: an RDM holds NaN or Inf.
    """
    from rsatoolbox.inference import boot_noise_ceiling

    method = check_option("method", method, ("pearson", "spearman"))
    rdm_vectors("rdms", rdms)
    if rdms.n_rdm < 2:
        raise InvalidArgumentError(
            f"Invalid value for 'rdms': the leave-one-out ceiling needs at least 2 RDMs, got {rdms.n_rdm}; "
            "use split_half_ceiling for one population"
        )
    lower, upper = boot_noise_ceiling(rdms, method=_RSATOOLBOX_METHOD[method])
    return float(lower), float(upper)
