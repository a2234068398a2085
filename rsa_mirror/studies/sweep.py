"""The model sweep: every preset layer of several networks against every patch, in one comparison.

``sweep_study`` runs one task per network (``model_rdms``: load it, extract the activations of
every preset layer for the stimuli, build their plain 1 - Pearson RDMs) through
``tasks.run_tasks``: in this process, on joblib workers or on a dask.distributed cluster. Then
``compare_layers`` compares the layers of all networks with every patch at once, on one set
of stimulus resamples shared with the patches' split-half ceilings, and ``SweepResult.summary``
adds the paired tests: each layer against the best layer of the patch (over all networks) and
against its own network's best, and against the lower ceiling, with Benjamini-Hochberg q.

The comparison follows ``brain_alignment`` with ``normalize="none"`` (Figure 6's RDMs): the
same seed draws the same resamples, so a network's rows equal those of ``rsa-mirror align``.
It runs in the calling process (its resamples on the dask cluster through joblib when there
is one), so it does not depend on where the tasks ran; nor do the RDMs, where the same device
type computes the activations at the same CPU thread count (``threads``; torch's CPU kernels
round differently at other thread counts). A network whose task fails (an unknown name,
weights that are not on the machine, ...) is left out and named in ``SweepResult.failures``
with its inputs and error; the others are compared. With ``cache_dir`` each network's RDMs are
kept as they arrive, so a rerun with the same inputs computes only the networks missing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

import joblib
import numpy as np
import pandas as pd
from rsatoolbox.rdm import RDMs

from .._utils import atomic_path, check_count, check_option, check_random_state
from .._version import __version__
from ..errors import DataError, InvalidArgumentError, InvalidTypeError
from ..inference import BootstrapResult, bootstrap_compare, split_half_ceiling
from ..pair_tests import TESTS, versus_best
from ..rdm import compute_rdms
from ..resampling import METHODS, check_n_jobs, pattern_dict
from ..results import Result
from ..stimuli.base import StimulusSet
from ..tasks import TaskOutcome, dask_client, raise_failures, run_tasks

if TYPE_CHECKING:
    from rsatoolbox.data import Dataset

    from .._typing import PathLike, RandomState

# The networks of the registry (networks.models.PRESETS), in the order the sweep runs them.
SWEEP_MODELS = ("alexnet", "vgg16", "resnet50", "convnext_tiny", "vit_b_16")


@dataclass(repr=False)
class SweepResult(Result):
    """Every preset layer of every network against every patch, on shared resamples.

    Attributes:
        comparison: ``BootstrapResult`` of patches x layers (named ``network/layer``), the
            ``ceilings`` filled per patch.
        networks: the network of each layer (column of ``comparison``).
        layers: the preset layer name of each column.
        weights: network -> what its weights were (e.g. ``"untrained (LeCun normal, seed 0)"``).
        failures: network -> its task's inputs and error, for the networks left out.
    """

    NESTED: ClassVar[dict[str, type[Result]]] = {"comparison": BootstrapResult}

    comparison: BootstrapResult
    networks: list[str]
    layers: list[str]
    weights: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def summary(self, test: str = "percentile") -> pd.DataFrame:
        """One row per (patch, network, layer), patch by patch, the layers in network order.

        Columns: patch, model, layer, depth (the layer's position in its network, 0-based),
        relative_depth (depth / (layers of the network - 1)), estimate (r on all stimuli),
        mean, std (bootstrap SD), ci_low, ci_high (95% percentile interval), ceiling_lower,
        ceiling_upper; ``best`` (the highest r of the patch over all networks), ``vs_best``,
        ``p_vs_best``, ``q_vs_best`` (paired test against that layer; on its own row against
        the next best; q over all layer pairs of the patch); ``best_of_model``,
        ``vs_model_best``, ``p_vs_model_best``, ``q_vs_model_best`` (the same within the
        layer's network, q over its pairs); ``p_vs_ceiling``, ``q_vs_ceiling`` (against the
        lower ceiling, q over all layers of the patch); weights, method, n_bootstrap.
        ``test``: ``"percentile"`` (default) or ``"t"`` (``pair_tests``).
        """
        check_option("test", test, TESTS)
        c = self.comparison
        frame = c.to_frame().rename(columns={"brain": "patch"}).drop(columns=["model", "ci_level", "normalize"])
        n_layers = len(self.layers)
        depth = np.concatenate([np.arange(self.networks.count(n)) for n in dict.fromkeys(self.networks)])
        size = np.array([self.networks.count(n) for n in self.networks])
        frame.insert(1, "model", np.tile(self.networks, len(c.brain_names)))
        frame.insert(2, "layer", np.tile(self.layers, len(c.brain_names)))
        frame.insert(3, "depth", np.tile(depth, len(c.brain_names)))
        frame.insert(4, "relative_depth", np.tile(depth / np.maximum(size - 1, 1), len(c.brain_names)))
        for name, ceiling in c.ceilings.items():
            frame.loc[frame.patch == name, "ceiling_lower"] = ceiling.lower
            frame.loc[frame.patch == name, "ceiling_upper"] = ceiling.upper
        overall = versus_best(c, test=test)
        within = pd.DataFrame(index=frame.index, columns=["best_of_model", "vs_model_best", "p_vs_model_best"])
        within["q_vs_model_best"] = np.nan
        for network in dict.fromkeys(self.networks):
            columns = np.flatnonzero(np.asarray(self.networks) == network)
            part = dataclasses.replace(
                c,
                estimate=c.estimate[:, columns],
                samples=c.samples[:, columns],
                model_names=[c.model_names[i] for i in columns],
            )
            tests = versus_best(part, test=test)
            rows = (np.arange(len(c.brain_names))[:, None] * n_layers + columns[None]).ravel()
            within.iloc[rows, 0] = tests.best.to_numpy()
            within.iloc[rows, 1:] = tests[["vs_best", "p_vs_best", "q_vs_best"]].to_numpy()
        within = within.astype({"best_of_model": bool, **{k: float for k in list(within)[1:]}})
        ceiling = overall[["p_vs_ceiling", "q_vs_ceiling"]]
        frame = pd.concat([frame, overall.drop(columns=ceiling.columns), within, ceiling], axis=1)
        frame["weights"] = [self.weights.get(network, "") for network in frame.model]
        return frame[[*(k for k in frame if k not in ("method", "n_bootstrap")), "method", "n_bootstrap"]]

    def _title(self) -> str:
        c = self.comparison
        failed = f", {len(self.failures)} failed ({', '.join(self.failures)})" if self.failures else ""
        return (
            f"{len(dict.fromkeys(self.networks))} networks, {len(self.layers)} layers x {len(c.brain_names)} patches, "
            f"{c.samples.shape[-1]} resamples{failed}"
        )


def model_rdms(
    model: str,
    *,
    weights: PathLike,
    stimuli: StimulusSet,
    random_state: RandomState = 0,
    device: str = "auto",
    batch_size: int = 32,
    threads: int | None = None,
) -> dict[str, Any]:
    """One network's task: its plain 1 - Pearson RDMs of ``stimuli`` at every preset layer.

    Args:
        model: registry name (``networks.models.PRESETS``), e.g. ``"alexnet"``.
        weights: ``"imagenet"`` (from the torchvision cache), ``"untrained"`` or a state-dict file.
        stimuli: ``StimulusSet``, in the row order of the recordings.
        random_state: seed of untrained weights.
        device: as in ``extract_activations``.
        batch_size: images per forward pass.
        threads: torch CPU threads during the task (None: as torch has them where it runs).

    Returns:
        dict: ``rdms`` (rsatoolbox ``RDMs``, one per preset layer, in network order, named by
        the layer) and ``weights`` (what the weights were).

    Raises:
        As ``load_model`` (unknown name, weights unavailable) and ``extract_activations``.
    """
    import torch

    from ..networks.activations import extract_activations
    from ..networks.models import load_model

    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(check_count("threads", threads))
    try:
        loaded = load_model(model, weights=weights, random_state=random_state)
        activations = extract_activations(loaded, stimuli, "all", device=device, batch_size=batch_size)
    finally:
        torch.set_num_threads(before)
    vectors = [compute_rdms({name: activations.pop(name)}, normalize="none") for name in list(activations)]
    rdms = RDMs(
        np.concatenate([rdm.dissimilarities for rdm in vectors]),
        dissimilarity_measure="correlation",
        rdm_descriptors={"name": [rdm.rdm_descriptors["name"][0] for rdm in vectors]},
    )
    return {"rdms": rdms, "weights": loaded.weights}


def compare_layers(
    model_rdms: RDMs,
    recordings: Mapping[str, Dataset],
    *,
    n_bootstrap: int = 1000,
    n_splits: int = 100,
    method: str = "pearson",
    random_state: RandomState = None,
    n_jobs: int | None = None,
) -> BootstrapResult:
    """Every model RDM against every patch on shared stimulus resamples, with split-half ceilings.

    ``brain_alignment``'s comparison with ``normalize="none"``: the patches' plain 1 - Pearson
    RDMs; one generator draws the resamples ((n_bootstrap, n_stimuli) stimulus numbers), then
    each patch's neuron splits in turn, so the same seed gives the same numbers for a layer
    whatever other layers are compared beside it.

    Args:
        model_rdms: rsatoolbox ``RDMs`` over the recordings' stimuli, in their row order.
        recordings: mapping patch -> rsatoolbox ``Dataset`` (stimuli x neurons).
        n_bootstrap: stimulus resamples, at least 2.
        n_splits: random neuron splits per ceiling.
        method: ``"pearson"``, ``"spearman"`` or ``"tau-a"``.
        random_state: one seed for resamples and splits.
        n_jobs: as in ``bootstrap_compare`` (joblib, or the cluster ``joblib.parallel_config`` names).

    Returns:
        ``BootstrapResult`` of patches x model RDMs, ``ceilings`` filled, ``normalize="none"``.

    Raises:
        InvalidTypeError: ``model_rdms`` not ``RDMs``, ``recordings`` not a non-empty mapping.
        DataError: model RDMs over another number of stimuli than the recordings.
        InvalidArgumentError: as ``bootstrap_compare`` and ``split_half_ceiling``.
    """
    method = check_option("method", method, METHODS)
    n_bootstrap = check_count("n_bootstrap", n_bootstrap, minimum=2)
    n_splits = check_count("n_splits", n_splits, minimum=1)
    n_jobs = check_n_jobs(n_jobs)
    if not isinstance(model_rdms, RDMs):
        kind = type(model_rdms).__name__
        raise InvalidTypeError(f"Invalid type for 'model_rdms': expected rsatoolbox RDMs, got {kind}")
    if not isinstance(recordings, Mapping) or not recordings:
        raise InvalidTypeError(
            "Invalid type for 'recordings': expected a non-empty mapping patch -> rsatoolbox Dataset, "
            f"got {type(recordings).__name__}"
        )
    rng = check_random_state(random_state)
    brains = compute_rdms(dict(recordings), normalize="none")
    if model_rdms.n_cond != brains.n_cond:
        raise DataError(f"the model RDMs are over {model_rdms.n_cond} stimuli, the recordings {brains.n_cond}")
    models = RDMs(
        model_rdms.dissimilarities,
        dissimilarity_measure="correlation",
        rdm_descriptors={"name": list(model_rdms.rdm_descriptors["name"])},
        pattern_descriptors=pattern_dict(brains),
    )
    indices = rng.integers(0, brains.n_cond, size=(n_bootstrap, brains.n_cond))
    comparison = bootstrap_compare(models, brains, method=method, indices=indices, n_jobs=n_jobs)
    comparison.normalize = "none"
    for patch, dataset in recordings.items():
        comparison.ceilings[patch] = split_half_ceiling(
            dataset, n_splits=n_splits, random_state=rng, indices=indices, name=patch
        )
    return comparison


def sweep_study(
    recordings: Mapping[str, Dataset],
    stimuli: StimulusSet,
    models: Sequence[str] = SWEEP_MODELS,
    *,
    weights: PathLike = "untrained",
    n_bootstrap: int = 1000,
    n_splits: int = 100,
    method: str = "pearson",
    random_state: int = 0,
    device: str = "auto",
    batch_size: int = 32,
    threads: int | None = None,
    scheduler: str | None = None,
    n_jobs: int = 1,
    cache_dir: PathLike | None = None,
    verbose: bool = True,
) -> SweepResult:
    """Every preset layer of every network in ``models`` against every patch of ``recordings``.

    Args:
        recordings: mapping patch -> rsatoolbox ``Dataset`` (e.g. ``neural_data.Recordings``).
        stimuli: ``StimulusSet`` with ``identity`` and ``view_deg``, covering the recordings'
            rows (put in their order with ``StimulusSet.aligned_to``).
        models: registry names, one task each (default all five: ``SWEEP_MODELS``).
        weights: ``"untrained"`` (default; seeded by ``random_state``), ``"imagenet"`` or a file.
        n_bootstrap: stimulus resamples, shared by every layer and the ceilings.
        n_splits: neuron splits per ceiling.
        method: RDM comparison, as in ``bootstrap_compare``.
        random_state: seed of the resamples, the splits and untrained weights (an int >= 0).
        device: where the activations are computed (``"auto"``: a GPU where there is one).
        batch_size: images per forward pass.
        threads: torch CPU threads per task (None: torch's default where the task runs, which
            is one thread on dask workers); equal counts give bit-identical CPU activations.
        scheduler: None (this process, or ``n_jobs`` joblib workers), ``"local"`` (a
            ``LocalCluster`` of ``n_jobs`` worker processes, one GPU each where GPUs are
            visible) or a dask scheduler's address (``tasks.run_tasks``); with a cluster the
            resamples run on it too.
        n_jobs: workers for the tasks, and joblib workers of the resamples without a cluster.
        cache_dir: None, or a folder keeping each network's RDMs as its task ends
            (``<network>-<key>.npz``, written atomically; the key a SHA-256 of the package and
            torch versions, the network, weights (a file's size and time), seed, device,
            batch size, threads and the images): a rerun reads them instead of running those
            networks again; an unreadable entry is computed afresh, with a warning.
        verbose: progress bar over networks.

    Returns:
        ``SweepResult`` of the networks whose task finished (those that failed in ``failures``).

    Raises:
        InvalidTypeError: ``models`` not a non-empty sequence of names, ``stimuli`` not a
            ``StimulusSet``.
        InvalidArgumentError: a network named twice; bad counts or options (as ``compare_layers``).
        TaskError: every network's task failed (each named with its inputs and error).
        DataError: stimuli that do not cover the recordings' rows (``StimulusSet.aligned_to``).
    """
    if isinstance(models, str) or not models or not all(isinstance(m, str) for m in models):
        raise InvalidTypeError(f"Invalid type for 'models': expected a non-empty list of network names, got {models!r}")
    models = list(models)
    repeated = sorted({m for m in models if models.count(m) > 1})
    if repeated:
        raise InvalidArgumentError(f"Invalid value for 'models': {', '.join(repeated)} named more than once")
    method = check_option("method", method, METHODS)
    check_count("n_bootstrap", n_bootstrap, minimum=2)
    check_count("n_splits", n_splits, minimum=1)
    random_state = check_count("random_state", random_state, minimum=0)
    n_jobs = check_count("n_jobs", n_jobs)
    if not isinstance(recordings, Mapping) or not recordings:
        raise InvalidTypeError(
            "Invalid type for 'recordings': expected a non-empty mapping patch -> rsatoolbox Dataset, "
            f"got {type(recordings).__name__}"
        )
    if not isinstance(stimuli, StimulusSet):
        raise InvalidTypeError(f"Invalid type for 'stimuli': expected a StimulusSet, got {type(stimuli).__name__}")
    stimuli = stimuli.aligned_to(next(iter(recordings.values())).obs_descriptors)
    tasks: list[dict[str, Any]] = [
        {"model": model, "weights": weights, "random_state": random_state} for model in models
    ]
    shared: dict[str, Any] = {"stimuli": stimuli, "device": device, "batch_size": batch_size, "threads": threads}
    options: dict[str, Any] = {
        "n_bootstrap": n_bootstrap,
        "n_splits": n_splits,
        "method": method,
        "random_state": random_state,
    }
    files: list[Path | None] = [None if cache_dir is None else _cache_file(cache_dir, task, shared) for task in tasks]
    outcomes = [_cached(task, file) for task, file in zip(tasks, files, strict=True)]
    missing = [i for i, outcome in enumerate(outcomes) if outcome is None]

    def keep(index: int, outcome: TaskOutcome) -> None:  # in this process, as each network ends
        outcomes[missing[index]] = outcome
        file = files[missing[index]]
        if outcome.ok and file is not None:
            _write_cache(file, _value(outcome))

    with contextlib.ExitStack() as stack:
        client = None if scheduler is None or not missing else stack.enter_context(dask_client(scheduler, n_jobs))
        run_tasks(
            model_rdms,
            [tasks[i] for i in missing],
            shared=shared,
            n_jobs=n_jobs,
            scheduler=client,
            description="networks",
            on_done=keep,
            verbose=verbose,
        )
        ended = cast("list[TaskOutcome]", outcomes)  # run_tasks has filled in every missing one
        finished = [outcome for outcome in ended if outcome.ok]
        if not finished:
            raise_failures(ended, what="network task")
        names = [f"{o.task['model']}/{layer}" for o in finished for layer in _value(o)["rdms"].rdm_descriptors["name"]]
        vectors = np.concatenate([_value(o)["rdms"].dissimilarities for o in finished])
        rdms = RDMs(vectors, rdm_descriptors={"name": names})
        if client is not None:
            stack.enter_context(joblib.parallel_config(backend="dask"))
        comparison = compare_layers(rdms, recordings, n_jobs=-1 if client is not None else n_jobs, **options)
    return SweepResult(
        comparison=comparison,
        networks=[o.task["model"] for o in finished for _ in _value(o)["rdms"].rdm_descriptors["name"]],
        layers=[layer for o in finished for layer in _value(o)["rdms"].rdm_descriptors["name"]],
        weights={o.task["model"]: _value(o)["weights"] for o in finished},
        failures={o.task["model"]: f"{_inputs(o.task)}: {o.error}" for o in ended if not o.ok},
    )


def _value(outcome: TaskOutcome) -> dict[str, Any]:
    """What a network's task returned (``model_rdms``): ``rdms`` and ``weights``."""
    return cast("dict[str, Any]", outcome.value)


def _inputs(task: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in task.items())


def _cache_file(cache_dir: PathLike, task: Mapping[str, Any], shared: Mapping[str, Any]) -> Path:
    """Where a network's RDMs are kept: ``<network>-<16 hex digits of the inputs' SHA-256>.npz``."""
    if Path(cache_dir).exists() and not Path(cache_dir).is_dir():
        raise InvalidArgumentError(f"Invalid value for 'cache_dir': {cache_dir} is a file, not a folder")
    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = "none"
    weights = task["weights"]
    stamp = ""
    if weights not in ("imagenet", "untrained") and Path(weights).is_file():
        stamp = f"{Path(weights).stat().st_size}-{Path(weights).stat().st_mtime_ns}"
    stimuli = shared["stimuli"]
    digest = hashlib.sha256()
    context = [__version__, torch_version, task["model"], str(weights), stamp, task["random_state"]]
    context += [shared["device"], shared["batch_size"], shared["threads"], stimuli.images.shape]
    for part in context:
        digest.update(f"{part!r}\0".encode())
    digest.update(np.ascontiguousarray(stimuli.images).tobytes())
    return Path(cache_dir) / f"{task['model']}-{digest.hexdigest()[:16]}.npz"


def _cached(task: dict[str, Any], file: Path | None) -> TaskOutcome | None:
    """The outcome kept in ``file`` (None when there is none, or it cannot be read: then a warning)."""
    if file is None or not file.exists():
        return None
    try:
        with np.load(file, allow_pickle=False) as data:
            names, vectors, weights = [str(n) for n in data["layers"]], data["rdms"], str(data["weights"])
        if vectors.ndim != 2 or len(vectors) != len(names) or not np.isfinite(vectors).all():
            raise ValueError(f"RDMs of shape {vectors.shape} for {len(names)} layers")
    except Exception as error:  # noqa: BLE001 - a broken entry is recomputed, never trusted
        reason = f"{type(error).__name__}: {error}"
        warnings.warn(f"{file}: unreadable cache entry ({reason}); computing it again", stacklevel=3)
        return None
    rdms = RDMs(vectors, dissimilarity_measure="correlation", rdm_descriptors={"name": names})
    return TaskOutcome(task, {"rdms": rdms, "weights": weights})


def _write_cache(file: Path, value: Mapping[str, Any]) -> None:
    rdms = value["rdms"]
    with atomic_path(file) as tmp, open(tmp, "wb") as handle:
        layers = np.array(rdms.rdm_descriptors["name"])
        np.savez(handle, rdms=rdms.dissimilarities, layers=layers, weights=np.array(value["weights"]))
