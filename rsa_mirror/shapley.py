"""Shapley decomposition of model-brain correlations into additive parts of the activations.

``components`` split a layer's activations into parts that sum to them (``mirror_components``:
reflection-invariant and -sensitive; ``flip_group_components``: the four parts of the group
{identity, h-flip, v-flip, 180 degrees}); the value of a coalition of parts is the correlation
of its RDM with a brain RDM, and ``shapley_decomposition`` gives the exact Shapley values by
enumeration, per layer, brain RDM and stimulus resample (the resamples of ``inference``). RDMs
are plain 1 - Pearson by default, as Figure 6's; with ``normalize="zscore"`` the coalitions'
and the brains' RDMs are recomputed within each resample (``zscore_resampling``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeGuard

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._utils import check_count, check_option, check_random_state, float_array
from .errors import DataError, InvalidArgumentError, InvalidTypeError
from .rdm import NORMALIZATIONS, compute_rdms
from .resampling import METHODS, check_indices, check_n_jobs, compare, rdm_names, rdm_vectors
from .results import Result
from .zscore_resampling import compare_zscored

if TYPE_CHECKING:
    from rsatoolbox.data import Dataset
    from rsatoolbox.rdm import RDMs

    from ._typing import RandomState

# A component's share of r is its Shapley value divided by r: where |r| is below this the ratio
# says nothing (r = 0.005 with parts +0.2 and -0.195 gives shares of +40 and -39) and is NaN.
SHARE_MIN_ABS_R = 0.05


@dataclass(repr=False)
class ShapleyResult(Result):
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
        method: the correlation between RDMs.
        normalize: ``"none"`` (plain 1 - Pearson RDMs) or ``"zscore"`` (z-scored units, RDMs
            recomputed within each resample).
    """

    DIMS: ClassVar[dict] = {
        "values": ("brain", "layer", "component"),
        "full": ("brain", "layer"),
        "samples": ("brain", "layer", "component", "bootstrap"),
        "indices": ("bootstrap", "stimulus"),
        "degenerate": ("layer", "coalition"),
    }
    UNITS: ClassVar[dict] = {
        "values": "Shapley contribution to the model-brain correlation",
        "full": "correlation of the layer's full RDM with the brain RDM",
        "samples": "Shapley contribution in each stimulus resample",
        "indices": "stimulus drawn, 1-based, per resample",
        "degenerate": "true where a coalition (bit j = component j) is constant across stimuli",
    }
    ONE_BASED: ClassVar[tuple] = ("indices",)

    values: np.ndarray
    full: np.ndarray
    samples: np.ndarray | None
    indices: np.ndarray | None
    brain_names: list[str]
    layer_names: list[str]
    component_names: list[str]
    degenerate: np.ndarray
    method: str = "pearson"
    normalize: str = "none"

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

        Shares (value / full r) are NaN where ``|r| < SHARE_MIN_ABS_R`` (0.05), and the column
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

    def _title(self) -> str:
        n_samples = 0 if self.samples is None else self.samples.shape[-1]
        return (
            f"{', '.join(map(str, self.component_names))} of {len(self.layer_names)} layers x "
            f"{len(self.brain_names)} brain RDMs (normalize={self.normalize}), {n_samples} resamples"
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields: arrays (``samples`` and ``indices`` None without resamples) and label lists."""
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
            "normalize": self.normalize,
        }


def mirror_components(f_x: npt.ArrayLike, f_gx: npt.ArrayLike) -> dict[str, npt.NDArray[np.float64]]:
    """Reflection-invariant (f(x) + f(g(x))) / 2 and -sensitive (f(x) - f(g(x))) / 2 parts of f(x).

    Raises:
        InvalidTypeError: an argument is not numeric.
        DataError: ``f_x`` and ``f_gx`` differ in shape.
    """
    f_x, f_gx = float_array("f_x", f_x), float_array("f_gx", f_gx)
    if f_x.shape != f_gx.shape:
        raise DataError(
            f"activations of images and mirror images differ in shape: f_x {f_x.shape} vs f_gx {f_gx.shape}"
        )
    return {"invariant": (f_x + f_gx) / 2, "sensitive": (f_x - f_gx) / 2}


def flip_group_components(
    f_x: npt.ArrayLike, f_hflip: npt.ArrayLike, f_vflip: npt.ArrayLike, f_rot180: npt.ArrayLike
) -> dict[str, npt.NDArray[np.float64]]:
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
        name: float_array(name, a)
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
    return {name: sum(s * a for s, a in zip(sign, f.values(), strict=True)) / 4 for name, sign in signs.items()}  # type: ignore[misc]


def shapley_weights(n_players: int) -> npt.NDArray[np.float64]:
    """(2**n, n) matrix S such that phi = v @ S are the exact Shapley values of the game v.

    ``v`` holds the value of every coalition; coalition k contains player j when bit j of k is
    set (v[0] is the empty coalition). phi_j = sum over coalitions S without j of
    ``|S|! (n - |S| - 1)! / n! (v(S + j) - v(S))``.

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
    components: Mapping[str, Mapping[str, npt.ArrayLike]],
    brain_rdms: RDMs | Mapping[str, Dataset | npt.ArrayLike],
    *,
    n_bootstrap: int = 0,
    indices: npt.ArrayLike | None = None,
    random_state: RandomState = None,
    method: str = "pearson",
    normalize: str = "none",
    rtol: float = 1e-8,
    n_jobs: int | None = None,
) -> ShapleyResult:
    """Exact Shapley values of additive activation components, per layer, brain RDM and resample.

    The value of a coalition of components is the correlation between the RDM of their sum
    (``compute_rdms(normalize=normalize)``: 1 - Pearson) and the brain RDM; the empty coalition
    is worth 0, so the values sum to the full model-brain correlation.

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
        brain_rdms: rsatoolbox ``RDMs`` over the same stimuli, or a mapping patch -> responses
            (rsatoolbox ``Dataset`` or (n_stimuli, n_neurons) array) whose RDMs are built with
            the same ``normalize``; ``normalize="zscore"`` with resamples needs the responses
            (the brain RDMs are recomputed within each resample too).
        n_bootstrap: resamples shared by all layers and brain RDMs: 0 (the default) for point
            values only (``samples`` and ``indices`` of the result are then None) or at least 2.
        indices: (n_resamples >= 2, n_stimuli) resamples to use instead (e.g. a
            ``BootstrapResult``'s).
        random_state: seed of the resamples.
        method: correlation, as in ``bootstrap_compare`` (``"pearson"`` or ``"spearman"`` with
            ``normalize="zscore"``).
        normalize: ``"none"`` (default: plain 1 - Pearson RDMs, Figure 6's) or ``"zscore"``
            (units z-scored; within each resample over its drawn stimuli).
        rtol: relative variance (>= 0) under which a coalition counts as constant.
        n_jobs: as in ``bootstrap_compare``.

    Returns:
        ``ShapleyResult``.

    Raises:
        InvalidArgumentError: ``n_bootstrap`` (1 or negative), ``indices``, ``method``,
            ``normalize``, ``rtol`` or ``n_jobs`` cannot be used, or ``normalize="zscore"`` with
            resamples and ready brain RDMs.
        InvalidTypeError: ``components`` is not a mapping of mappings of numeric arrays, or
            ``brain_rdms`` is not an rsatoolbox ``RDMs``.
        DataError: components differ in names between layers or in shape within a layer,
            their stimuli are not those of the brain RDMs, they hold NaN or Inf, or every
            coalition is constant.
    """
    method = check_option("method", method, METHODS)
    check_option("normalize", normalize, NORMALIZATIONS)
    n_jobs = check_n_jobs(n_jobs)
    brain_patterns: dict[str, Any] | None = None  # set where the brain RDMs are computed here
    if isinstance(brain_rdms, Mapping):
        brain_patterns = dict(brain_rdms)
        brain_rdms = compute_rdms(brain_patterns, normalize=normalize)
    brains = rdm_vectors("brain_rdms", brain_rdms)
    n_stimuli = brain_rdms.n_cond
    if indices is not None:
        indices = check_indices(indices, n_stimuli)
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
    recompute = normalize == "zscore" and len(indices) > 0
    if recompute and (brain_patterns is None or method == "tau-a"):
        raise InvalidArgumentError(
            "Invalid value for 'normalize': 'zscore' recomputes every RDM within each resample, which needs the "
            "brain responses (a mapping patch -> Dataset, not RDMs) and method 'pearson' or 'spearman'"
        )
    layers, names = _check_components(components, n_stimuli)
    n_players, n_cells = len(names), n_stimuli * (n_stimuli - 1) // 2
    shape = (len(layers), 2**n_players - 1)  # coalition k + 1 in column k: bit j = component j
    vectors = np.zeros((shape[0] * shape[1], n_cells))  # degenerate coalitions stay constant: r = 0
    degenerate = np.zeros((len(layers), 2**n_players), dtype=bool)
    degenerate[:, 0] = True
    sample_parts = []
    for m, layer in enumerate(layers):  # one layer's coalitions in memory at a time
        parts = [np.asarray(components[layer][c]) for c in names]
        parts = [p.reshape(len(p), -1) for p in parts]
        scale = np.var(sum(parts), axis=0, dtype=np.float64).sum()
        for k in range(1, 2**n_players):
            total = sum(p for j, p in enumerate(parts) if k >> j & 1)
            if np.var(total, axis=0, dtype=np.float64).sum() <= rtol * scale:
                degenerate[m, k] = True
                continue
            coalition = " + ".join(str(c) for j, c in enumerate(names) if k >> j & 1)
            try:
                rdm = compute_rdms({layer: total}, normalize=normalize, flat_patterns="uncorrelated")
                if recompute:  # this coalition's correlations in every resample
                    options: dict[str, Any] = {"flat_patterns": "uncorrelated"}
                    sample_parts.append(
                        (
                            m * shape[1] + k - 1,
                            compare_zscored({layer: total}, brain_patterns, indices, method, n_jobs, **options)[1],  # type: ignore[arg-type]
                        )
                    )
            except DataError as error:
                raise DataError(f"Shapley coalition {coalition} of layer {layer!r}: {error}") from error
            vectors[m * shape[1] + k - 1] = rdm.dissimilarities[0]
    if degenerate[:, 1:].all():
        raise DataError("every coalition of components is constant across stimuli: nothing to decompose")
    estimate, samples = compare(vectors, brains, indices[:0] if recompute else indices, method, n_jobs)
    if recompute:
        samples = np.zeros((len(brains), len(vectors), len(indices)))  # degenerate coalitions: 0
        for column, part in sample_parts:
            samples[:, column] = part[:, 0]
    weights = shapley_weights(n_players)[1:]  # the empty coalition is worth 0

    def shapley(r: np.ndarray) -> np.ndarray:
        # (n_brain, n_layer * n_coalitions, ...) -> (n_brain, n_layer, n_players, ...)
        r = r.reshape(r.shape[0], *shape, *r.shape[2:])
        return np.moveaxis(np.tensordot(r, weights, axes=([2], [0])), -1, 2)

    has_samples = len(indices) > 0
    return ShapleyResult(
        values=shapley(estimate),
        full=estimate.reshape(-1, *shape)[:, :, -1],
        samples=shapley(samples) if has_samples else None,
        indices=indices if has_samples else None,
        brain_names=rdm_names(brain_rdms),
        layer_names=layers,
        component_names=names,
        degenerate=degenerate,
        method=method,
        normalize=normalize,
    )


def _check_components(components: object, n_stimuli: int) -> tuple[list[str], list[str]]:
    """(layers, component names) of a mapping layer -> component -> (n_stimuli, ...) finite numeric array."""
    if not isinstance(components, Mapping) or not components:
        raise InvalidTypeError(
            "Invalid type for 'components': expected a non-empty mapping layer -> mapping component name -> "
            f"activations, got {type(components).__name__}"
        )
    layers: list[str] = list(components)
    names: list[str] | None = None
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
    assert names is not None  # components is not empty
    return layers, names


def _is_number(value: object) -> TypeGuard[float | np.integer[Any] | np.floating[Any]]:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _is_zero(value: object) -> bool:
    return _is_number(value) and float(value).is_integer() and value == 0
