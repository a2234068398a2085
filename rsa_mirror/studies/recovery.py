"""Figure 6's machinery against a known answer: a simulated patch read out from one layer.

``recovery_study`` builds a "patch" whose responses are a noisy linear read-out of one known
layer (the source layer), runs the whole Figure 6 alignment (``brain_alignment``: bootstrap r
of every layer, split-half ceiling, Shapley split, paired tests) and records whether the best
layer is the source layer, and whether the source layer is not different from the best by the
paired test, over seeds and noise levels. ``RecoveryResult`` holds the table and its recovery
rates. NumPy only (the activations come in as arrays).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from rsatoolbox.data import Dataset

from .._utils import check_count, check_option, float_array, seed_sequence
from ..errors import DataError, InvalidArgumentError, InvalidTypeError
from ..results import Result
from .figure6 import brain_alignment

if TYPE_CHECKING:
    import numpy.typing as npt

    from .._typing import RandomState
    from .figure6 import AlignmentResult

PATCH = "simulated"


@dataclass(repr=False)
class RecoveryResult(Result):
    """Which layer Figure 6's alignment finds best for patches read out from a known layer.

    Attributes:
        table: one row per (noise level, seed): ``noise_sd`` (noise SD as a multiple of each
            neuron's signal SD over the stimuli), ``seed``, ``source_layer``, ``best_layer``
            (highest r on all stimuli), ``recovered`` (best == source), ``r_source``,
            ``r_best``, ``q_source_vs_best`` (Benjamini-Hochberg q of the source against the
            best layer; on a recovered row, of the source against the next best),
            ``not_different`` (recovered, or ``q_source_vs_best`` >= ``alpha``).
        layers: every layer compared, in order.
        n_neurons: simulated neurons per patch.
        n_bootstrap: stimulus resamples per alignment.
        n_splits: neuron splits per ceiling.
        alpha: the q level of ``not_different``.
    """

    table: pd.DataFrame
    layers: list
    n_neurons: int
    n_bootstrap: int
    n_splits: int
    alpha: float

    def summary(self) -> pd.DataFrame:
        """Per (source layer, noise level): ``n_seeds``, ``recovery_rate``, ``not_different_rate``, ``chance``.

        ``chance`` is 1 / the number of layers: the recovery rate of a best layer drawn at random.
        """
        groups = self.table.groupby(["source_layer", "noise_sd"], sort=False)
        frame = groups.agg(
            n_seeds=("seed", "size"), recovery_rate=("recovered", "mean"), not_different_rate=("not_different", "mean")
        ).reset_index()
        frame["chance"] = 1.0 / len(self.layers)
        return frame

    def _title(self) -> str:
        sources = ", ".join(dict.fromkeys(self.table.source_layer))
        return (
            f"source {sources}, {len(self.layers)} layers, {self.table.seed.nunique()} seeds, {self.n_neurons} neurons"
        )


def recovery_study(
    activations: Mapping[str, npt.ArrayLike],
    mirror_activations: Mapping[str, npt.ArrayLike],
    descriptors: Mapping[str, npt.ArrayLike],
    *,
    source_layer: str,
    n_neurons: int = 100,
    noise_levels: npt.ArrayLike = (0.5, 2.0, 8.0),
    n_seeds: int = 5,
    n_bootstrap: int = 200,
    n_splits: int = 20,
    alpha: float = 0.05,
    random_state: RandomState = 0,
    n_jobs: int | None = None,
) -> RecoveryResult:
    """Simulate patches read out from ``source_layer`` and check Figure 6 finds that layer best.

    For each seed, a read-out matrix W (units x ``n_neurons``, independent N(0, 1 / units)
    entries) maps the flattened activations of ``source_layer`` to a signal S = X W
    (n_stimuli x n_neurons), and standard Gaussian noise Z of the same shape is drawn; the
    patch at noise level k is S + k * sd * Z, with sd each neuron's SD of S over the stimuli
    (so k is the noise-to-signal SD ratio, and one seed's levels share W and Z). Each patch is
    compared with every layer by ``brain_alignment`` (plain 1 - Pearson RDMs, Pearson r), on
    resamples drawn afresh per seed and shared by that seed's noise levels.

    Args:
        activations: mapping layer -> (n_stimuli, ...) activations, every layer compared.
        mirror_activations: the same layers for the mirror images (for the Shapley split).
        descriptors: mapping name -> (n_stimuli,) values describing the rows (a recording's
            ``obs_descriptors``, e.g. with ``identity`` and ``view_deg``).
        source_layer: the layer the patches are read out from (a key of ``activations``).
        n_neurons: simulated neurons per patch (>= 4, for split-half ceilings).
        noise_levels: noise SD as multiples of the signal SD (each finite and >= 0).
        n_seeds: read-outs (and noise draws, and resamples) per noise level.
        n_bootstrap: stimulus resamples per alignment.
        n_splits: neuron splits per ceiling.
        alpha: q at or above which the source layer counts as not different from the best.
        random_state: an integer >= 0, a SeedSequence or a Generator (seed s uses the child
            streams ``(s, 0)`` for W and Z and ``(s, 1)`` for the resamples).
        n_jobs: as in ``brain_alignment``.

    Returns:
        ``RecoveryResult``.

    Raises:
        InvalidArgumentError: an unknown ``source_layer``, bad counts, empty or negative or
            non-finite ``noise_levels``, ``alpha`` outside (0, 1); and as ``brain_alignment``.
        InvalidTypeError: ``descriptors`` is not a mapping.
        DataError: a descriptor's length differs from the stimuli of the activations, or the
            read-out of the source layer has no variance over the stimuli.
    """
    check_option("source_layer", source_layer, list(activations) if isinstance(activations, Mapping) else [])
    n_neurons = check_count("n_neurons", n_neurons, minimum=4)
    n_seeds = check_count("n_seeds", n_seeds, minimum=1)
    levels = float_array("noise_levels", np.atleast_1d(noise_levels))
    if levels.ndim != 1 or not levels.size or not np.all(np.isfinite(levels)) or np.any(levels < 0):
        raise InvalidArgumentError(
            f"Invalid value for 'noise_levels': expected one or more finite values >= 0, got {noise_levels!r}"
        )
    if not 0.0 < float(alpha) < 1.0:
        raise InvalidArgumentError(f"Invalid value for 'alpha': expected a number in (0, 1), got {alpha!r}")
    source = np.asarray(activations[source_layer], dtype=np.float64)
    source = source.reshape(len(source), -1)
    rows = _check_descriptors(descriptors, len(source))
    if not np.any(np.ptp(source, axis=0) > 0):
        raise DataError(f"activations[{source_layer!r}] do not vary over the stimuli: a read-out would have no signal")
    options: dict[str, Any] = {"n_bootstrap": n_bootstrap, "n_splits": n_splits, "n_jobs": n_jobs}
    records = []
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed_sequence(random_state, seed, 0))
        readout = rng.standard_normal((source.shape[1], n_neurons)) / np.sqrt(source.shape[1])
        signal = source @ readout
        noise = rng.standard_normal(signal.shape)
        sd = signal.std(axis=0)
        patches = {
            level: Dataset(signal + level * sd * noise, obs_descriptors={k: v.copy() for k, v in rows.items()})
            for level in levels
        }
        resamples = seed_sequence(random_state, seed, 1)
        for level, dataset in patches.items():
            alignment = brain_alignment(
                activations, mirror_activations, {PATCH: dataset}, random_state=resamples, **options
            )
            records.append(_record(alignment, source_layer, float(level), seed, float(alpha)))
    table = pd.DataFrame(records)
    return RecoveryResult(table, list(activations), n_neurons, int(n_bootstrap), int(n_splits), float(alpha))


def _check_descriptors(descriptors: Mapping[str, npt.ArrayLike], n_stimuli: int) -> dict[str, npt.NDArray[Any]]:
    if not isinstance(descriptors, Mapping):
        raise InvalidTypeError(
            f"Invalid type for 'descriptors': expected a mapping name -> values per stimulus, got "
            f"{type(descriptors).__name__}"
        )
    rows = {str(k): np.asarray(v) for k, v in descriptors.items()}
    wrong = {k: len(v) for k, v in rows.items() if np.ndim(v) != 1 or len(v) != n_stimuli}
    if wrong:
        raise DataError(
            f"descriptors {sorted(wrong)} have lengths {list(wrong.values())}: expected {n_stimuli} values each "
            "(one per stimulus of the activations)"
        )
    return rows


def _record(alignment: AlignmentResult, source_layer: str, level: float, seed: int, alpha: float) -> dict[str, Any]:
    """One table row from an alignment of the simulated patch."""
    frame = alignment.summary()
    best = frame.layer[frame.best].iloc[0]
    row = frame[frame.layer == source_layer].iloc[0]
    recovered = best == source_layer
    r_best = float(frame.estimate[frame.best].iloc[0])
    q = float(row.q_vs_best)
    return {
        "noise_sd": level,
        "seed": seed,
        "source_layer": source_layer,
        "best_layer": best,
        "recovered": bool(recovered),
        "r_source": float(row.estimate),
        "r_best": r_best,
        "q_source_vs_best": q,
        "not_different": bool(recovered or q >= alpha),
    }
