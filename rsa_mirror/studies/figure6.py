"""Figure 6: every layer against every patch, with noise ceilings and the Shapley split.

``brain_alignment`` runs the three analyses on one set of stimulus resamples (bootstrap r per
layer and patch, split-half ceilings per patch, the reflection-invariant / -sensitive Shapley
split) from activations, with Figure 6's plain 1 - Pearson RDMs by default (``normalize``), and
paired tests between layers and against the ceiling (``AlignmentResult.pair_tests``);
``alignment_study`` starts from a network and images: it puts the
images in the recordings' row order, extracts the activations of the images and of their
mirror images, and runs ``brain_alignment``. ``rendered_faces`` renders FIV-like faces for the
identities and views of a recording.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from .._utils import check_count, check_option, check_random_state
from ..errors import DataError, InvalidArgumentError, InvalidTypeError
from ..inference import BootstrapResult, bootstrap_compare, split_half_ceiling
from ..pair_tests import TESTS, versus_best
from ..rdm import NORMALIZATIONS, compute_rdms
from ..resampling import METHODS, check_n_jobs, pattern_dict
from ..results import Result
from ..shapley import ShapleyResult, mirror_components, shapley_decomposition
from ..stimuli.faces import render_faces
from ..zscore_resampling import compare_zscored

if TYPE_CHECKING:
    import numpy.typing as npt
    from rsatoolbox.data import Dataset

    from .._typing import RandomState
    from ..networks.models import LoadedModel
    from ..stimuli.base import StimulusSet


@dataclass(repr=False)
class AlignmentResult(Result):
    """Figure 6: bootstrap comparison with ceilings, and its Shapley split, on shared resamples.

    Attributes:
        comparison: ``BootstrapResult`` of patches x layers, ``ceilings`` filled per patch.
        shapley: ``ShapleyResult`` of the mirror components on the same resamples.
    """

    NESTED: ClassVar[dict[str, type[Result]]] = {"comparison": BootstrapResult, "shapley": ShapleyResult}

    comparison: BootstrapResult
    shapley: ShapleyResult

    def summary(self, test: str = "percentile") -> pd.DataFrame:
        """One row per (patch, layer): r, bootstrap SD and 95% interval, ceiling, tests, Shapley parts.

        Columns: estimate, mean, std, ci_low, ci_high; ceiling_lower, ceiling_upper; ``best``
        (the layer of the patch with the highest r), ``vs_best``, ``p_vs_best``, ``q_vs_best``
        (the paired test against the best layer; on the best layer's row, against the next best:
        does it beat it), ``p_vs_ceiling``, ``q_vs_ceiling`` (against the lower ceiling); q is
        the Benjamini-Hochberg q over the layer pairs (or layers) of the patch; ``test``:
        ``"percentile"`` (default) or ``"t"`` (see ``pair_tests``); then the Shapley values and
        shares, and ``normalize`` (how the RDMs were built).
        """
        check_option("test", test, TESTS)
        frame = self.comparison.to_frame().rename(columns={"brain": "patch", "model": "layer"})
        frame = frame.drop(columns=["n_bootstrap", "method", "ci_level", "normalize"])
        for name, ceiling in self.comparison.ceilings.items():
            frame.loc[frame.patch == name, "ceiling_lower"] = ceiling.lower
            frame.loc[frame.patch == name, "ceiling_upper"] = ceiling.upper
        tests = versus_best(self.comparison, test=test)
        shapley = self.shapley.summary().drop(columns=["brain", "layer", "full"])
        frame = pd.concat([frame, tests, shapley], axis=1)
        frame["normalize"] = self.comparison.normalize
        return frame

    def pair_tests(self, level: float = 0.95, center: str = "estimate") -> pd.DataFrame:
        """Every layer against every other, per patch (``BootstrapResult.pair_tests``)."""
        return self.comparison.pair_tests(level=level, center=center)

    def ceiling_tests(self, level: float = 0.95, center: str = "estimate") -> pd.DataFrame:
        """Every layer against the lower noise ceiling, per patch (``BootstrapResult.ceiling_tests``)."""
        return self.comparison.ceiling_tests(level=level, center=center)

    def _title(self) -> str:
        c = self.comparison
        return (
            f"{len(c.model_names)} layers x {len(c.brain_names)} patches, {c.samples.shape[-1]} resamples, "
            f"normalize={c.normalize}"
        )


def brain_alignment(
    activations: Mapping[str, npt.ArrayLike],
    mirror_activations: Mapping[str, npt.ArrayLike],
    recordings: Mapping[str, Dataset],
    *,
    n_bootstrap: int = 1000,
    n_splits: int = 100,
    method: str = "pearson",
    normalize: str = "none",
    random_state: RandomState = None,
    n_jobs: int | None = None,
) -> AlignmentResult:
    """Compare every layer with every patch: bootstrap r, split-half ceilings, Shapley split.

    The RDMs are the paper's for Figure 6 by default: "We measured the dissimilarity between
    the representations of each image pair using 1 minus the Pearson correlation", and "from
    this sample, we calculated both the neural and model RDMs" (the unit normalization is stated
    "for the analyses described in Figures 2-4"). For those plain RDMs, resampling the cells of
    the full RDM is recomputing it on the sample.

    Args:
        activations: mapping layer -> (n_stimuli, ...) activations of the stimuli, in the row
            order of the recordings.
        mirror_activations: the same layers for the mirror images of those stimuli, same order.
        recordings: mapping patch -> rsatoolbox ``Dataset`` (stimuli x neurons), e.g.
            ``neural_data.Recordings``.
        n_bootstrap: stimulus resamples, shared by the comparison, the ceilings and Shapley.
        n_splits: random neuron splits per ceiling.
        method: as in ``bootstrap_compare`` (``"pearson"`` or ``"spearman"`` with
            ``normalize="zscore"``).
        normalize: ``"none"`` (default: plain 1 - Pearson RDMs of the activations and the
            responses) or ``"zscore"`` (units and neurons z-scored over the stimuli; within each
            resample over its drawn stimuli, repeats as drawn, and the RDMs recomputed, for the
            comparison, the ceilings and Shapley alike; exact, and about n_stimuli^2 / 2 x units
            x resamples multiply-adds: minutes for AlexNet at 125 stimuli).
        random_state: one seed for resamples and splits (bit-identical results).
        n_jobs: as in ``bootstrap_compare``.

    Returns:
        ``AlignmentResult``.

    Raises:
        InvalidArgumentError: ``n_bootstrap`` < 2, ``n_splits`` < 1, an unknown ``method`` or
            ``normalize`` (or ``"tau-a"`` with ``"zscore"``), a bad ``n_jobs``, or
            ``mirror_activations`` without some layer of ``activations`` (or
            with one it lacks).
        InvalidTypeError: an argument is not a non-empty mapping.
        DataError: a layer's activations and mirror activations differ in shape, or do not
            cover the recordings' stimuli; and as in ``compute_rdms`` and ``split_half_ceiling``.
    """
    method = check_option("method", method, METHODS)
    check_option("normalize", normalize, NORMALIZATIONS)
    if normalize == "zscore" and method == "tau-a":
        raise InvalidArgumentError(
            "Invalid value for 'method': normalize='zscore' recomputes the RDMs within each resample for 'pearson' "
            "or 'spearman', got 'tau-a'"
        )
    n_bootstrap = check_count("n_bootstrap", n_bootstrap, minimum=2)
    n_splits = check_count("n_splits", n_splits, minimum=1)
    n_jobs = check_n_jobs(n_jobs)
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
    brains = compute_rdms(dict(recordings), normalize=normalize)
    for layer in activations:
        if np.shape(activations[layer])[:1] != (brains.n_cond,):
            raise DataError(
                f"activations[{layer!r}] has shape {np.shape(activations[layer])}: expected "
                f"{brains.n_cond} stimuli (those of the recordings) in its first axis"
            )
    models = compute_rdms(dict(activations), descriptors=pattern_dict(brains), normalize=normalize)
    indices = rng.integers(0, brains.n_cond, size=(n_bootstrap, brains.n_cond))
    comparison = bootstrap_compare(models, brains, method=method, indices=indices, n_jobs=n_jobs)
    comparison.normalize = normalize
    if normalize == "zscore":  # the same resamples, every RDM recomputed within each
        comparison.estimate, comparison.samples = compare_zscored(
            activations, recordings, comparison.indices, method, n_jobs
        )
    for patch, dataset in recordings.items():
        comparison.ceilings[patch] = split_half_ceiling(
            dataset, n_splits=n_splits, random_state=rng, indices=comparison.indices, name=patch, normalize=normalize
        )
    components = {layer: mirror_components(activations[layer], mirror_activations[layer]) for layer in activations}
    brain = dict(recordings) if normalize == "zscore" else brains
    shapley = shapley_decomposition(
        components, brain, indices=comparison.indices, method=method, normalize=normalize, n_jobs=n_jobs
    )
    return AlignmentResult(comparison=comparison, shapley=shapley)


def alignment_study(
    recordings: Mapping[str, Dataset],
    stimuli: StimulusSet,
    model: LoadedModel,
    *,
    n_bootstrap: int = 1000,
    n_splits: int = 100,
    method: str = "pearson",
    normalize: str = "none",
    random_state: RandomState = 0,
    n_jobs: int | None = None,
    device: str = "auto",
    batch_size: int = 32,
) -> AlignmentResult:
    """Figure 6 for one network: its activations of ``stimuli`` and their mirror images vs ``recordings``.

    The stimuli are put in the recordings' row order (``StimulusSet.aligned_to`` on identity and
    view_deg), the activations of every preset layer are extracted for the images and for their
    mirror images (needs torch: ``pip install rsa_mirror[models]``), and ``brain_alignment``
    compares them with every patch.

    Args:
        recordings: mapping patch -> rsatoolbox ``Dataset`` (e.g. ``neural_data.Recordings``), all
            rows mirror-paired views.
        stimuli: ``StimulusSet`` with ``identity`` and ``view_deg``, covering the recordings' rows.
        model: ``LoadedModel``.
        n_bootstrap: as in ``brain_alignment``.
        n_splits: as in ``brain_alignment``.
        method: as in ``brain_alignment``.
        normalize: as in ``brain_alignment`` (default ``"none"``, the paper's Figure 6 RDMs).
        random_state: as in ``brain_alignment``.
        n_jobs: as in ``brain_alignment``.
        device: as in ``extract_activations``.
        batch_size: images per forward pass.

    Returns:
        ``AlignmentResult``.
    """
    from ..networks.activations import extract_activations

    rows = next(iter(recordings.values())).obs_descriptors
    stimuli = stimuli.aligned_to(rows)
    options: dict[str, Any] = {"device": device, "batch_size": batch_size}
    f_x = extract_activations(model, stimuli, "all", **options)
    f_gx = extract_activations(model, stimuli.mirrored(), "all", **options)
    options = {"n_bootstrap": n_bootstrap, "n_splits": n_splits, "method": method, "n_jobs": n_jobs}
    options["normalize"] = normalize
    return brain_alignment(f_x, f_gx, recordings, random_state=random_state, **options)


def rendered_faces(recordings: Mapping[str, Dataset], *, size: int = 227, random_state: RandomState = 0) -> StimulusSet:
    """FIV-like rendered faces (``render_faces``) for the identities and yaw views of ``recordings``."""
    patterns = next(iter(recordings.values())).obs_descriptors
    views = sorted(set(np.asarray(patterns["view_deg"]).tolist()))
    n_identities = len(set(np.asarray(patterns["identity"]).tolist()))
    return render_faces(n_identities=n_identities, views_deg=views, size=size, random_state=random_state)
