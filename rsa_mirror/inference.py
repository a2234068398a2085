"""Model-brain comparison (Figure 6): stimulus bootstrap, noise ceilings, Shapley decomposition.

Everything here correlates the upper triangles of RDMs over the same stimuli (rsatoolbox
``RDMs``). The stimulus bootstrap resamples stimuli with replacement and removes the cells that
pair a stimulus with a copy of itself (METHODS.md, "Brain alignment"). A resample drawn with
counts c (c_i = how often stimulus i was drawn) is then the set of the original cells (i, j),
i < j, each repeated c_i * c_j times, so every bootstrap correlation is a weighted correlation
over the original cells: all samples are a few matrix products, never a Python loop over
samples x RDM pairs (Kendall's tau-a, which has no such form, goes through rsatoolbox per
sample). The RDMs themselves are resampled, as rsatoolbox does, not recomputed on the sample.

Degenerate cases follow one rule: an RDM (or a Shapley coalition) with no variance over the
cells of a sample carries no information about which stimuli differ, and its correlation is 0,
never NaN; so does a resample that drew one stimulus only (it keeps no cell).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import joblib
import numpy as np
import pandas as pd
from rsatoolbox.rdm import RDMs
from threadpoolctl import threadpool_limits

from ._utils import check_count, check_option, check_random_state, format_indices
from .errors import DataError, InvalidArgumentError, InvalidTypeError
from .rdm import compute_rdms

METHODS = ("pearson", "spearman", "tau-a")
_RSATOOLBOX_METHOD = {"pearson": "corr", "spearman": "spearman", "tau-a": "tau-a"}
# about this many float64 values per working array (samples x cells); 4 M = 32 MiB
_CHUNK_VALUES = 4 * 2**20
_CHUNK_SAMPLES = 250  # resamples per task: four tasks at n_bootstrap=1000
# A component's share of r is its Shapley value divided by r: where |r| is below this the ratio
# says nothing (r = 0.005 with parts +0.2 and -0.195 gives shares of +40 and -39) and is NaN.
SHARE_MIN_ABS_R = 0.05


@dataclass
class BootstrapResult:
    """Correlations between brain and model RDMs on all stimuli and on bootstrap resamples.

    Attributes:
        estimate: (n_brain, n_model) correlation on all stimuli.
        samples: (n_brain, n_model, n_bootstrap) correlation in each resample.
        indices: (n_bootstrap, n_stimuli) int, the stimuli drawn in each resample (0-based):
            replaying them (here, in rsatoolbox or in MATLAB, adding 1) reproduces ``samples``.
        brain_names, model_names: labels of the rows and columns (patches, layers).
        method: ``"pearson"``, ``"spearman"`` or ``"tau-a"``.
        ceilings: patch name -> ``CeilingResult`` when computed with the same samples.
    """

    estimate: np.ndarray
    samples: np.ndarray
    indices: np.ndarray
    brain_names: list
    model_names: list
    method: str
    ceilings: dict = field(default_factory=dict)

    @property
    def mean(self) -> np.ndarray:
        """(n_brain, n_model) mean over resamples."""
        return self.samples.mean(axis=-1)

    @property
    def std(self) -> np.ndarray:
        """(n_brain, n_model) standard deviation over resamples (the paper's error bars)."""
        return self.samples.std(axis=-1, ddof=1)

    def interval(self, level=0.95) -> tuple:
        """Percentile interval over resamples: two (n_brain, n_model) arrays, low and high."""
        tail = 50 * (1 - level)
        low, high = np.percentile(self.samples, [tail, 100 - tail], axis=-1)
        return low, high

    def to_frame(self, level=0.95) -> pd.DataFrame:
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
        return frame

    def summary(self) -> pd.DataFrame:
        """Text table of r on all stimuli ± bootstrap SD [95% interval]: brains x models."""
        low, high = self.interval(0.95)
        cells = np.char.mod("%.3f", self.estimate) + " ± " + np.char.mod("%.3f", self.std)
        cells = cells + " [" + np.char.mod("%.3f", low) + ", " + np.char.mod("%.3f", high) + "]"
        return pd.DataFrame(cells, index=pd.Index(self.brain_names, name=self.method), columns=self.model_names)

    def to_dict(self) -> dict:
        """Plain arrays, lists and nested dicts (for JSON or .mat export)."""
        return {
            "estimate": self.estimate,
            "samples": self.samples,
            "indices": self.indices,
            "brain_names": list(self.brain_names),
            "model_names": list(self.model_names),
            "method": self.method,
            "ceilings": {name: c.to_dict() for name, c in self.ceilings.items()},
        }


@dataclass
class CeilingResult:
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

    def to_dict(self) -> dict:
        """Bounds, their spread and the per-split and per-resample values."""
        return {
            "name": self.name,
            "lower": self.lower,
            "upper": self.upper,
            "lower_std": self.lower_std,
            "upper_std": self.upper_std,
            "reliability": self.reliability,
            "samples": self.samples,
        }


def bootstrap_compare(
    model_rdms,
    brain_rdms,
    *,
    n_bootstrap=1000,
    method="pearson",
    random_state=None,
    indices=None,
    n_jobs=None,
    verbose=False,
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
    n_jobs = _check_n_jobs(n_jobs)
    models, brains = _vectors("model_rdms", model_rdms), _vectors("brain_rdms", brain_rdms)
    n = _common_stimuli(model_rdms, brain_rdms)
    if indices is None:
        n_bootstrap = check_count("n_bootstrap", n_bootstrap, minimum=2)
        indices = check_random_state(random_state).integers(0, n, size=(n_bootstrap, n))
    else:
        indices = _check_indices(indices, n)
    estimate, samples = _compare(models, brains, indices, method, n_jobs, verbose)
    return BootstrapResult(
        estimate=estimate,
        samples=samples,
        indices=indices,
        brain_names=_names(brain_rdms),
        model_names=_names(model_rdms),
        method=method,
    )


def _compare(models, brains, indices, method, n_jobs, verbose=False) -> tuple:
    """(estimate (n_brain, n_model), samples (n_brain, n_model, n_resamples)) of RDM vectors.

    ``indices`` (n_resamples, n_stimuli), checked; with no rows, ``samples`` is empty.
    """
    n = indices.shape[1]
    per_sample = models.shape[1] * (1 if method == "pearson" else 1 + len(models) + len(brains))
    with threadpool_limits(1, user_api="blas"):  # for the tasks run in threads of this process
        estimate = _correlate_samples(np.ones((1, n), dtype=np.int64), models, brains, method)[0]
        parts = joblib.Parallel(n_jobs=n_jobs, verbose=10 if verbose else 0)(
            joblib.delayed(_correlate_samples)(_counts(indices[chunk], n), models, brains, method)
            for chunk in _chunks(len(indices), per_sample)
        )
    samples = np.concatenate(parts).transpose(1, 2, 0) if parts else np.empty((len(brains), len(models), 0))
    return estimate, samples


def split_half_ceiling(dataset, *, n_splits=100, random_state=None, indices=None, name=None) -> CeilingResult:
    """Split-half noise ceiling of a population RDM (METHODS.md, "Brain alignment").

    Each split divides the neurons into two random halves (sizes differing by at most one),
    builds each half's RDM with ``compute_rdms``, correlates them (Pearson, upper triangle) and
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

    Returns:
        ``CeilingResult``.

    Raises:
        InvalidArgumentError: ``n_splits`` or ``indices`` cannot be used.
        DataError: the responses are not a finite numeric (n_stimuli >= 3, n_neurons) array
            with at least 4 neurons that vary, or a half of some split has no RDM (fewer than 2
            of its neurons vary, or a stimulus has the same z-score on all of them).
    """
    if name is None:
        name = getattr(dataset, "descriptors", {}).get("name", "data")
    name = str(name)
    n_splits = check_count("n_splits", n_splits, minimum=1)
    measurements = _float_array("dataset", getattr(dataset, "measurements", dataset))
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
        indices = _check_indices(indices, n_stimuli)
    rng = check_random_state(random_state)
    halves = []
    for split in range(n_splits):
        order = rng.permutation(n_neurons)
        half = {
            f"{name} (half 1)": measurements[:, order[: n_neurons // 2]],
            f"{name} (half 2)": measurements[:, order[n_neurons // 2 :]],
        }
        try:
            halves.append(compute_rdms(half).dissimilarities)
        except DataError as error:
            raise DataError(f"split-half ceiling of {name!r}, split {split}: {error}") from error
    halves = np.stack(halves)  # (n_splits, 2, n_cells)
    reliability = _spearman_brown(_paired_weighted_pearson(np.ones((1, halves.shape[2])), halves)[0])
    samples = None
    if indices is not None:
        parts = [
            _spearman_brown(_paired_weighted_pearson(_pair_weights(_counts(indices[chunk], n_stimuli)), halves))
            for chunk in _chunks(len(indices), halves.shape[2] * 4)
        ]
        samples = np.concatenate(parts).mean(axis=1)
    return CeilingResult(name=name, reliability=reliability, samples=samples)


def leave_one_out_ceiling(rdms, *, method="pearson") -> tuple:
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
    _vectors("rdms", rdms)
    if rdms.n_rdm < 2:
        raise InvalidArgumentError(
            f"Invalid value for 'rdms': the leave-one-out ceiling needs at least 2 RDMs, got {rdms.n_rdm}; "
            "use split_half_ceiling for one population"
        )
    lower, upper = boot_noise_ceiling(rdms, method=_RSATOOLBOX_METHOD[method])
    return float(lower), float(upper)


# -- Shapley decomposition -------------------------------------------------------------------


@dataclass
class ShapleyResult:
    """Shapley values of additive components of model activations for model-brain correlation.

    Attributes:
        values: (n_brain, n_layer, n_component) on all stimuli; they sum over components to
            ``full``.
        full: (n_brain, n_layer) correlation of each layer's full RDM with each brain RDM.
        samples: (n_brain, n_layer, n_component, n_bootstrap) within each resample, or None.
        indices: (n_bootstrap, n_stimuli) the resamples, or None.
        brain_names, layer_names, component_names: labels.
        degenerate: (n_layer, 2**n_component) True where a coalition's activations are
            constant across stimuli (its value is 0 by rule), column k = the coalition whose
            bit j is set when component j is in it.
    """

    values: np.ndarray
    full: np.ndarray
    samples: np.ndarray | None
    indices: np.ndarray | None
    brain_names: list
    layer_names: list
    component_names: list
    degenerate: np.ndarray
    method: str = "pearson"

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per (brain, layer, component): value, share of the full r, mean and std."""
        rows = []
        for b, brain in enumerate(self.brain_names):
            for m, layer in enumerate(self.layer_names):
                for c, component in enumerate(self.component_names):
                    row = {
                        "brain": brain,
                        "layer": layer,
                        "component": component,
                        "value": self.values[b, m, c],
                        "full": self.full[b, m],
                    }
                    if self.samples is not None:
                        row["mean"] = self.samples[b, m, c].mean()
                        row["std"] = self.samples[b, m, c].std(ddof=1)
                    rows.append(row)
        return pd.DataFrame(rows)

    def summary(self) -> pd.DataFrame:
        """One row per (brain, layer): the full r, each component's value and share of it.

        Shares (value / full r) are NaN where |r| < ``SHARE_MIN_ABS_R`` (0.05), and the column
        ``share_note`` says so on those rows (empty elsewhere).
        """
        brain, layer = np.meshgrid(self.brain_names, self.layer_names, indexing="ij")
        frame = pd.DataFrame({"brain": brain.ravel(), "layer": layer.ravel(), "full": self.full.ravel()})
        defined = np.abs(self.full) >= SHARE_MIN_ABS_R
        for c, component in enumerate(self.component_names):
            frame[component] = self.values[:, :, c].ravel()
            share = np.divide(self.values[:, :, c], self.full, out=np.full(self.full.shape, np.nan), where=defined)
            frame[f"{component}_share"] = share.ravel()
        frame["share_note"] = np.where(defined.ravel(), "", f"|r| < {SHARE_MIN_ABS_R:g}: shares undefined")
        return frame

    def to_dict(self) -> dict:
        """Plain arrays and lists (for JSON or .mat export)."""
        return {
            "values": self.values,
            "full": self.full,
            "samples": self.samples,
            "indices": self.indices,
            "brain_names": list(self.brain_names),
            "layer_names": list(self.layer_names),
            "component_names": list(self.component_names),
            "degenerate": self.degenerate,
            "method": self.method,
        }


def mirror_components(f_x, f_gx) -> dict:
    """Reflection-invariant (f(x) + f(g(x))) / 2 and -sensitive (f(x) - f(g(x))) / 2 parts of f(x).

    Raises:
        InvalidTypeError: an argument is not numeric.
        DataError: ``f_x`` and ``f_gx`` differ in shape.
    """
    f_x, f_gx = _float_array("f_x", f_x), _float_array("f_gx", f_gx)
    if f_x.shape != f_gx.shape:
        raise DataError(
            f"activations of images and mirror images differ in shape: f_x {f_x.shape} vs f_gx {f_gx.shape}"
        )
    return {"invariant": (f_x + f_gx) / 2, "sensitive": (f_x - f_gx) / 2}


def flip_group_components(f_x, f_hflip, f_vflip, f_rot180) -> dict:
    """The four components of f(x) under the group {identity, h-flip, v-flip, 180° rotation}.

    Each is (1/4) sum_g chi(g) f(g x) for one of the group's four characters chi, named by how
    the component behaves: ``invariant`` (even under every transform), ``hflip_odd`` (changes
    sign under the h-flip and the rotation), ``vflip_odd`` (under the v-flip and the rotation),
    ``rot_even`` (under both flips, not the rotation). They sum to f(x).

    Raises:
        InvalidTypeError: an argument is not numeric.
        DataError: the four arrays differ in shape.
    """
    f = {
        name: _float_array(name, a)
        for name, a in zip(("f_x", "f_hflip", "f_vflip", "f_rot180"), (f_x, f_hflip, f_vflip, f_rot180), strict=True)
    }
    shapes = {name: a.shape for name, a in f.items()}
    if len(set(shapes.values())) != 1:
        raise DataError(f"the activations of the four transforms differ in shape: {shapes}")
    signs = {
        "invariant": (1, 1, 1, 1),
        "hflip_odd": (1, -1, 1, -1),
        "vflip_odd": (1, 1, -1, -1),
        "rot_even": (1, -1, -1, 1),
    }
    return {name: sum(s * a for s, a in zip(sign, f.values(), strict=True)) / 4 for name, sign in signs.items()}


def shapley_weights(n_players) -> np.ndarray:
    """(2**n, n) matrix S such that phi = v @ S are the exact Shapley values of the game v.

    ``v`` holds the value of every coalition; coalition k contains player j when bit j of k is
    set (v[0] is the empty coalition). phi_j = sum over coalitions S without j of
    |S|! (n - |S| - 1)! / n! (v(S + j) - v(S)).

    Raises:
        InvalidArgumentError: ``n_players`` is not an integer >= 1.
    """
    n = check_count("n_players", n_players, minimum=1)
    weights = np.zeros((2**n, n))
    for k in range(2**n):
        size = bin(k).count("1")
        for j in range(n):
            if k >> j & 1:
                weight = math.factorial(size - 1) * math.factorial(n - size) / math.factorial(n)
                weights[k, j] += weight  # v(S + j) ...
                weights[k & ~(1 << j), j] -= weight  # ... - v(S)
    return weights


def shapley_decomposition(
    components,
    brain_rdms,
    *,
    n_bootstrap=0,
    indices=None,
    random_state=None,
    method="pearson",
    rtol=1e-8,
    n_jobs=None,
) -> ShapleyResult:
    """Exact Shapley values of additive activation components, per layer, brain RDM and resample.

    The value of a coalition of components is the correlation between the RDM of their sum
    (``compute_rdms``: z-scored units, 1 - Pearson) and the brain RDM; the empty coalition is
    worth 0, so the values sum to the full model-brain correlation.

    Degenerate rules: a coalition whose summed activations are constant across stimuli (total
    variance at most ``rtol`` times that of the full activations, e.g. the sensitive part for
    perfectly symmetric images, where rounding would otherwise be z-scored into a random RDM)
    has value 0, like the empty coalition; so does one whose RDM is constant within a resample.
    A stimulus whose pattern in a coalition is flat (the frontal view in the sensitive part,
    exactly zero there) is uncorrelated with every other stimulus (dissimilarity 1).

    Args:
        components: mapping layer -> mapping component name -> activations (n_stimuli, ...),
            the components summing to the layer's activations (``mirror_components``,
            ``flip_group_components`` or any additive split; same names in every layer, all
            components of a layer of the same shape).
        brain_rdms: rsatoolbox ``RDMs`` over the same stimuli.
        n_bootstrap: resamples shared by all layers and brain RDMs: 0 (the default) for point
            values only (``samples`` and ``indices`` of the result are then None) or at least 2.
        indices: (n_resamples >= 2, n_stimuli) resamples to use instead (e.g. a
            ``BootstrapResult``'s).
        random_state: seed of the resamples.
        method: correlation, as in ``bootstrap_compare``.
        rtol: relative variance (>= 0) under which a coalition counts as constant.
        n_jobs: as in ``bootstrap_compare``.

    Returns:
        ``ShapleyResult``.

    Raises:
        InvalidArgumentError: ``n_bootstrap`` (1 or negative), ``indices``, ``method``, ``rtol``
            or ``n_jobs`` cannot be used.
        InvalidTypeError: ``components`` is not a mapping of mappings of numeric arrays, or
            ``brain_rdms`` is not an rsatoolbox ``RDMs``.
        DataError: components differ in names between layers or in shape within a layer,
            their stimuli are not those of the brain RDMs, they hold NaN or Inf, or every
            coalition is constant.
    """
    method = check_option("method", method, METHODS)
    n_jobs = _check_n_jobs(n_jobs)
    brains = _vectors("brain_rdms", brain_rdms)
    n_stimuli = brain_rdms.n_cond
    if indices is not None:
        indices = _check_indices(indices, n_stimuli)
    elif _is_zero(n_bootstrap):
        indices = np.empty((0, n_stimuli), dtype=np.int64)
    else:
        try:
            n_bootstrap = check_count("n_bootstrap", n_bootstrap, minimum=2)
        except InvalidArgumentError:
            raise InvalidArgumentError(
                f"Invalid value for 'n_bootstrap': expected 0 (point values only) or an integer >= 2, "
                f"got {n_bootstrap!r}"
            ) from None
        indices = check_random_state(random_state).integers(0, n_stimuli, size=(n_bootstrap, n_stimuli))
    if not (_is_number(rtol) and 0 <= rtol < np.inf):
        raise InvalidArgumentError(f"Invalid value for 'rtol': expected a finite number >= 0, got {rtol!r}")
    layers, names = _check_components(components, n_stimuli)
    n_players, n_cells = len(names), n_stimuli * (n_stimuli - 1) // 2
    shape = (len(layers), 2**n_players - 1)  # coalition k + 1 in column k: bit j = component j
    vectors = np.zeros((shape[0] * shape[1], n_cells))  # degenerate coalitions stay constant: r = 0
    degenerate = np.zeros((len(layers), 2**n_players), dtype=bool)
    degenerate[:, 0] = True
    for m, layer in enumerate(layers):  # one layer's coalitions in memory at a time
        parts = [np.asarray(components[layer][c]) for c in names]
        parts = [p.reshape(len(p), -1) for p in parts]
        scale = np.var(sum(parts), axis=0, dtype=np.float64).sum()
        for k in range(1, 2**n_players):
            total = sum(p for j, p in enumerate(parts) if k >> j & 1)
            if np.var(total, axis=0, dtype=np.float64).sum() <= rtol * scale:
                degenerate[m, k] = True
                continue
            try:
                rdm = compute_rdms({layer: total}, flat_patterns="uncorrelated")
            except DataError as error:
                coalition = " + ".join(str(c) for j, c in enumerate(names) if k >> j & 1)
                raise DataError(f"Shapley coalition {coalition} of layer {layer!r}: {error}") from error
            vectors[m * shape[1] + k - 1] = rdm.dissimilarities[0]
    if degenerate[:, 1:].all():
        raise DataError("every coalition of components is constant across stimuli: nothing to decompose")
    estimate, samples = _compare(vectors, brains, indices, method, n_jobs)
    weights = shapley_weights(n_players)[1:]  # the empty coalition is worth 0

    def shapley(r):  # (n_brain, n_layer * n_coalitions, ...) -> (n_brain, n_layer, n_players, ...)
        r = r.reshape(r.shape[0], *shape, *r.shape[2:])
        return np.moveaxis(np.tensordot(r, weights, axes=([2], [0])), -1, 2)

    has_samples = len(indices) > 0
    return ShapleyResult(
        values=shapley(estimate),
        full=estimate.reshape(-1, *shape)[:, :, -1],
        samples=shapley(samples) if has_samples else None,
        indices=indices if has_samples else None,
        brain_names=_names(brain_rdms),
        layer_names=layers,
        component_names=names,
        degenerate=degenerate,
        method=method,
    )


def _check_components(components, n_stimuli) -> tuple:
    """(layers, component names) of a mapping layer -> component -> (n_stimuli, ...) finite numeric array."""
    if not isinstance(components, Mapping) or not components:
        raise InvalidTypeError(
            "Invalid type for 'components': expected a non-empty mapping layer -> mapping component name -> "
            f"activations, got {type(components).__name__}"
        )
    layers, names = list(components), None
    for layer, parts in components.items():
        if not isinstance(parts, Mapping) or not parts:
            raise InvalidTypeError(
                f"Invalid type for 'components': components[{layer!r}] must be a non-empty mapping component name "
                f"-> activations (n_stimuli, ...), got {type(parts).__name__}"
            )
        if names is None:
            names = list(parts)
        elif list(parts) != names:
            raise DataError(f"layer {layer!r} has components {list(parts)}, expected {names} (those of {layers[0]!r})")
        shapes = {}
        for component, values in parts.items():
            values = np.asarray(values)
            label = f"component {component!r} of layer {layer!r}"
            if not (np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer)):
                raise InvalidTypeError(
                    f"Invalid type for 'components': {label} must be numeric, got dtype {values.dtype}"
                )
            if values.ndim < 2 or values.shape[0] != n_stimuli:
                raise DataError(
                    f"{label} must have shape (n_stimuli={n_stimuli}, ...) (the stimuli of the brain RDMs), "
                    f"got {values.shape}"
                )
            if not np.isfinite(values).all():
                raise DataError(f"{label} holds NaN or Inf")
            shapes[component] = values.shape
        if len(set(shapes.values())) != 1:
            raise DataError(f"the components of layer {layer!r} differ in shape: {shapes}")
    return layers, names


# -- the vectorized core ---------------------------------------------------------------------


def _check_indices(indices, n) -> np.ndarray:
    """``indices`` as a new int64 (n_resamples >= 2, n) array of 0-based stimulus numbers, else raise."""
    expected = f"an integer array of shape (n_resamples >= 2, {n}), {n} being the number of stimuli"
    try:
        array = np.asarray(indices)
    except ValueError:
        raise InvalidArgumentError(f"Invalid value for 'indices': expected {expected}, got a ragged sequence") from None
    if array.ndim != 2 or len(array) < 2 or array.shape[1] != n or not np.issubdtype(array.dtype, np.integer):
        raise InvalidArgumentError(
            f"Invalid value for 'indices': expected {expected}, got a {array.dtype} array of shape {array.shape}"
        )
    bad = np.argwhere((array < 0) | (array >= n))
    if len(bad):
        resample, position = bad[0]
        raise InvalidArgumentError(
            f"Invalid value for 'indices': stimulus numbers must lie in [0, {n - 1}] (0-based), "
            f"got {array[resample, position]} (resample {resample}, position {position})"
        )
    return array.astype(np.int64)


def _counts(indices, n) -> np.ndarray:
    """(n_samples, n) how often each stimulus was drawn in each resample."""
    offsets = indices + n * np.arange(len(indices))[:, None]
    return np.bincount(offsets.ravel(), minlength=n * len(indices)).reshape(len(indices), n)


def _pair_weights(counts) -> np.ndarray:
    """(n_samples, n_cells) weight c_i c_j of each upper-triangle cell (i < j, row by row).

    Built cell-major (a transposed view is returned) so that each stimulus's block of cells is
    one contiguous write; BLAS takes the transposed layout as it is.
    """
    counts = np.ascontiguousarray(np.asarray(counts, dtype=np.float64).T)  # (n, n_samples)
    n = len(counts)
    weights = np.empty((n * (n - 1) // 2, counts.shape[1]))
    start = 0
    for i in range(n - 1):  # cells (i, i+1..n-1): one product per stimulus, not per sample
        np.multiply(counts[i + 1 :], counts[i], out=weights[start : start + n - 1 - i])
        start += n - 1 - i
    return weights.T


def _chunks(n_samples, values_per_sample) -> list:
    """Slices of at most ``_CHUNK_SAMPLES`` samples and about ``_CHUNK_VALUES`` values.

    The slicing never depends on the number of workers, so results are bit-identical whatever
    ``n_jobs`` or backend runs them.
    """
    step = max(1, min(_CHUNK_VALUES // max(1, values_per_sample), _CHUNK_SAMPLES))
    return [slice(start, min(start + step, n_samples)) for start in range(0, n_samples, step)]


def _correlate_samples(counts, models, brains, method) -> np.ndarray:
    """(n_samples, n_brain, n_model) weighted correlations for resamples with these counts.

    BLAS runs on one thread: its sums then do not depend on the thread count, so results are
    bit-identical under any joblib backend. The limit is process-wide; ``_compare`` sets it in
    the calling thread for the whole run, which covers tasks run in threads of that process
    (joblib's threading backend, an in-process Dask cluster); this one covers a task run in a
    worker process (loky, Dask worker processes, whose BLAS Dask starts on one thread).
    """
    with threadpool_limits(1, user_api="blas"):
        return _correlate(counts, models, brains, method)


def _correlate(counts, models, brains, method) -> np.ndarray:
    if method == "tau-a":
        return _tau_a_samples(counts, models, brains)
    weights = _pair_weights(counts)
    if method == "spearman":  # ranks of the expanded resample, per sample
        models, brains = _weighted_ranks(weights, models), _weighted_ranks(weights, brains)
    else:
        models, brains = np.broadcast_to(models, (1, *models.shape)), np.broadcast_to(brains, (1, *brains.shape))
    return _weighted_pearson(weights, models, brains)


def _weighted_pearson(weights, x, y) -> np.ndarray:
    """Weighted Pearson r of every row of y with every row of x, per sample.

    Args:
        weights: (n_samples, n_cells) non-negative.
        x: (n_samples or 1, n_x, n_cells).
        y: (n_samples or 1, n_y, n_cells).

    Returns:
        (n_samples, n_y, n_x); 0 where either side has no variance under the weights.
    """
    total = _total(weights)
    w = weights[:, None, :]
    x = x - x.mean(axis=-1, keepdims=True)  # centring first keeps the one-pass moments exact
    y = y - y.mean(axis=-1, keepdims=True)
    if len(x) == 1 and len(y) == 1:  # the same vectors in every sample: one matrix product
        x, y = x[0], y[0]
        pairs = (y[:, None, :] * x[None, :, :]).reshape(-1, x.shape[1])
        sums = (np.concatenate([x, y, x * x, y * y, pairs]) @ weights.T).T / total
        mean_x, mean_y, square_x, square_y, cross = np.split(sums, np.cumsum([len(x), len(y)] * 2), axis=1)
        cross = cross.reshape(len(weights), len(y), len(x)) * total[:, :, None]
    else:
        mean_x, mean_y = (w * x).sum(-1) / total, (w * y).sum(-1) / total
        square_x, square_y = (w * x * x).sum(-1) / total, (w * y * y).sum(-1) / total
        cross = np.matmul(w * y, np.swapaxes(x, 1, 2))
    cov = cross / total[:, :, None] - mean_y[:, :, None] * mean_x[:, None, :]
    return _safe_ratio(cov, (square_y - mean_y**2, square_y), (square_x - mean_x**2, square_x), outer=True)


def _paired_weighted_pearson(weights, pairs) -> np.ndarray:
    """(n_samples, n_pairs) weighted Pearson r within each pair; ``pairs`` (n_pairs, 2, n_cells)."""
    pairs = pairs - pairs.mean(axis=2, keepdims=True)
    total = _total(weights)
    a, b = pairs[:, 0], pairs[:, 1]
    mean_a, mean_b = weights @ a.T / total, weights @ b.T / total
    square_a, square_b = weights @ (a * a).T / total, weights @ (b * b).T / total
    cov = weights @ (a * b).T / total - mean_a * mean_b
    return _safe_ratio(cov, (square_a - mean_a**2, square_a), (square_b - mean_b**2, square_b))


def _total(weights) -> np.ndarray:
    """(n_samples, 1) total weight of each sample's cells; 1 where it has none (one stimulus drawn).

    A sample without cells then has zero means and variances, so its correlations are 0 by the
    rule for RDMs without variance, not 0 / 0.
    """
    total = weights.sum(axis=1)[:, None]
    return np.where(total > 0, total, 1.0)


def _safe_ratio(cov, moments_a, moments_b, outer=False) -> np.ndarray:
    """Correlation cov / sqrt(var_a var_b) from (variance, mean square) pairs; 0 where a variance vanishes.

    A variance counts as zero at or below 1e-12 of the mean square (rounding of a constant
    vector). ``outer``: a is (n_samples, n_a), b (n_samples, n_b) and cov (n_samples, n_a, n_b).
    """
    (var_a, square_a), (var_b, square_b) = moments_a, moments_b
    flat_a, flat_b = var_a <= 1e-12 * square_a, var_b <= 1e-12 * square_b
    var_a, var_b = np.where(flat_a, 1.0, var_a), np.where(flat_b, 1.0, var_b)
    if outer:
        var_a, var_b, flat_a, flat_b = var_a[:, :, None], var_b[:, None, :], flat_a[:, :, None], flat_b[:, None, :]
    r = cov / np.sqrt(var_a * var_b)
    return np.clip(np.where(flat_a | flat_b, 0.0, r), -1.0, 1.0)


def _weighted_ranks(weights, vectors) -> np.ndarray:
    """(n_samples, n_vectors, n_cells) average rank of each cell in each expanded resample.

    A cell of value v has rank L + (G + 1) / 2, with L the weight of cells below v and G the
    weight of cells equal to v (its own copies and ties): ``scipy.stats.rankdata`` of the
    expanded vector. The sort is done once per vector; the samples are vectorized.
    """
    ranks = np.empty((len(weights), *vectors.shape))
    for row, values in enumerate(vectors):
        order = np.argsort(values, kind="stable")
        new_value = np.r_[True, values[order][1:] != values[order][:-1]]
        group_weight = np.add.reduceat(weights[:, order], np.flatnonzero(new_value), axis=1)
        group_rank = np.cumsum(group_weight, axis=1) - (group_weight - 1) / 2
        ranks[:, row, order] = group_rank[:, np.cumsum(new_value) - 1]
    return ranks


def _tau_a_samples(counts, models, brains) -> np.ndarray:
    """Kendall's tau-a of rsatoolbox per resample (no weighted closed form): (n_samples, n_brain, n_model)."""
    from rsatoolbox.rdm import compare

    n = counts.shape[1]
    model_rdms, brain_rdms = RDMs(models), RDMs(brains)
    out = np.empty((len(counts), len(brains), len(models)))
    for s, c in enumerate(counts):
        sample = np.repeat(np.arange(n), c)
        m = model_rdms.subsample_pattern("index", sample)
        b = brain_rdms.subsample_pattern("index", sample)
        out[s] = np.nan_to_num(compare(m, b, method="tau-a"), nan=0.0).T
    return out


def _spearman_brown(r) -> np.ndarray:
    """2r / (1 + r), clipped to [-1, 1] (below r = -1/3 the formula leaves that range)."""
    r = np.clip(r, -1 + 1e-12, 1.0)
    return np.clip(2 * r / (1 + r), -1.0, 1.0)


# -- input checks ----------------------------------------------------------------------------


def _vectors(name, rdms) -> np.ndarray:
    if not isinstance(rdms, RDMs):
        raise InvalidTypeError(f"Invalid type for {name!r}: expected rsatoolbox RDMs, got {type(rdms).__name__}")
    vectors = np.asarray(rdms.get_vectors(), dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    if bad.size:
        raise DataError(f"{name} holds NaN or Inf in RDM(s) {bad.tolist()}")
    return vectors


def _float_array(name, values) -> np.ndarray:
    """``values`` as a float64 array (no copy when it is one), else InvalidTypeError naming ``name``."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidTypeError(
            f"Invalid type for {name!r}: expected a numeric array, got {type(values).__name__}"
        ) from None
    return array


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _is_zero(value) -> bool:
    return _is_number(value) and float(value).is_integer() and value == 0


def _check_n_jobs(n_jobs):
    if n_jobs is not None and (
        isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0
    ):
        raise InvalidArgumentError(
            f"Invalid value for 'n_jobs': expected None or a non-zero integer (-1: every CPU), got {n_jobs!r}"
        )
    return n_jobs


def _names(rdms) -> list:
    names = rdms.rdm_descriptors.get("name")
    return [str(v) for v in names] if names is not None else [str(i) for i in range(rdms.n_rdm)]


def _pattern_dict(rdms) -> dict:
    return {k: v for k, v in rdms.pattern_descriptors.items() if k != "index"}


def _common_stimuli(model_rdms, brain_rdms) -> int:
    if model_rdms.n_cond != brain_rdms.n_cond:
        raise DataError(
            f"model RDMs cover {model_rdms.n_cond} stimuli and brain RDMs {brain_rdms.n_cond}: "
            "they must be the same stimuli"
        )
    for key in ("identity", "view_deg", "object", "stimulus"):
        a, b = model_rdms.pattern_descriptors.get(key), brain_rdms.pattern_descriptors.get(key)
        if a is not None and b is not None and not np.array_equal(np.asarray(a), np.asarray(b)):
            first = int(np.flatnonzero(np.asarray(a) != np.asarray(b))[0])
            raise DataError(
                f"stimulus order differs between model and brain RDMs: {key!r} of stimulus {first} is "
                f"{np.asarray(a)[first]!r} vs {np.asarray(b)[first]!r}; reorder one of them"
            )
    return model_rdms.n_cond


# -- the whole Figure-6 comparison -----------------------------------------------------------


@dataclass
class AlignmentResult:
    """Figure 6: bootstrap comparison with ceilings, and its Shapley split, on shared resamples.

    Attributes:
        comparison: ``BootstrapResult`` of patches x layers, ``ceilings`` filled per patch.
        shapley: ``ShapleyResult`` of the mirror components on the same resamples.
    """

    comparison: BootstrapResult
    shapley: ShapleyResult

    def summary(self) -> pd.DataFrame:
        """One row per (patch, layer): r, bootstrap SD and 95% interval, ceiling, component values and shares."""
        frame = self.comparison.to_frame().rename(columns={"brain": "patch", "model": "layer"})
        frame = frame.drop(columns=["n_bootstrap", "method", "ci_level"])
        for name, ceiling in self.comparison.ceilings.items():
            frame.loc[frame.patch == name, "ceiling_lower"] = ceiling.lower
            frame.loc[frame.patch == name, "ceiling_upper"] = ceiling.upper
        shapley = self.shapley.summary().drop(columns=["brain", "layer", "full"])
        return pd.concat([frame, shapley], axis=1)

    def to_dict(self) -> dict:
        """Plain arrays, lists and nested dicts (for JSON or .mat export)."""
        return {"comparison": self.comparison.to_dict(), "shapley": self.shapley.to_dict()}


def brain_alignment(
    activations,
    mirror_activations,
    recordings,
    *,
    n_bootstrap=1000,
    n_splits=100,
    method="pearson",
    random_state=None,
    n_jobs=None,
) -> AlignmentResult:
    """Compare every layer with every patch: bootstrap r, split-half ceilings, Shapley split.

    Args:
        activations: mapping layer -> (n_stimuli, ...) activations of the stimuli, in the row
            order of the recordings.
        mirror_activations: the same layers for the mirror images of those stimuli, same order.
        recordings: mapping patch -> rsatoolbox ``Dataset`` (stimuli x neurons), e.g.
            ``neural_data.Recordings``.
        n_bootstrap: stimulus resamples, shared by the comparison, the ceilings and Shapley.
        n_splits: random neuron splits per ceiling.
        method: as in ``bootstrap_compare``.
        random_state: one seed for resamples and splits (bit-identical results).
        n_jobs: as in ``bootstrap_compare``.

    Returns:
        ``AlignmentResult``.

    Raises:
        InvalidArgumentError: ``n_bootstrap`` < 2, ``n_splits`` < 1, an unknown ``method``, a
            bad ``n_jobs``, or ``mirror_activations`` without some layer of ``activations`` (or
            with one it lacks).
        InvalidTypeError: an argument is not a non-empty mapping.
        DataError: a layer's activations and mirror activations differ in shape, or do not
            cover the recordings' stimuli; and as in ``compute_rdms`` and ``split_half_ceiling``.
    """
    method = check_option("method", method, METHODS)
    n_bootstrap = check_count("n_bootstrap", n_bootstrap, minimum=2)
    n_splits = check_count("n_splits", n_splits, minimum=1)
    n_jobs = _check_n_jobs(n_jobs)
    for label, mapping in (("activations", activations), ("mirror_activations", mirror_activations)):
        if not isinstance(mapping, Mapping) or not mapping:
            raise InvalidTypeError(
                f"Invalid type for {label!r}: expected a non-empty mapping layer -> array, got {type(mapping).__name__}"
            )
    if not isinstance(recordings, Mapping) or not recordings:
        raise InvalidTypeError(
            "Invalid type for 'recordings': expected a non-empty mapping patch -> rsatoolbox Dataset, "
            f"got {type(recordings).__name__}"
        )
    missing = [layer for layer in activations if layer not in mirror_activations]
    extra = [layer for layer in mirror_activations if layer not in activations]
    if missing or extra:
        raise InvalidArgumentError(
            f"Invalid value for 'mirror_activations': expected the layers of 'activations' {list(activations)}, "
            f"got {list(mirror_activations)} (missing: {missing}, not in activations: {extra})"
        )
    for layer in activations:
        shapes = np.shape(activations[layer]), np.shape(mirror_activations[layer])
        if shapes[0] != shapes[1]:
            raise DataError(
                f"activations[{layer!r}] and mirror_activations[{layer!r}] differ in shape: {shapes[0]} vs {shapes[1]}"
            )
    rng = check_random_state(random_state)
    brains = compute_rdms(dict(recordings))
    for layer in activations:
        if np.shape(activations[layer])[:1] != (brains.n_cond,):
            raise DataError(
                f"activations[{layer!r}] has shape {np.shape(activations[layer])}: expected "
                f"{brains.n_cond} stimuli (those of the recordings) in its first axis"
            )
    models = compute_rdms(dict(activations), descriptors=_pattern_dict(brains))
    comparison = bootstrap_compare(
        models, brains, n_bootstrap=n_bootstrap, method=method, random_state=rng, n_jobs=n_jobs
    )
    for patch, dataset in recordings.items():
        comparison.ceilings[patch] = split_half_ceiling(
            dataset, n_splits=n_splits, random_state=rng, indices=comparison.indices, name=patch
        )
    components = {layer: mirror_components(activations[layer], mirror_activations[layer]) for layer in activations}
    shapley = shapley_decomposition(components, brains, indices=comparison.indices, method=method, n_jobs=n_jobs)
    return AlignmentResult(comparison=comparison, shapley=shapley)
