"""The Figure 4 grid: object geometry x label regime, several seeds per cell, planned tests.

The documentation's "Figure 4 grid: analysis plan" is the specification. Cells
(``grid_config.GRID_CELLS``): the training objects' geometry, ``bilateral`` or ``chiral``
(``stimuli.objects.build_object``), crossed with the label regimes ``original``,
``mirror_invariant``, ``mirror_sensitive`` and ``class_split`` (``networks.datasets.apply_regime``).
Only in bilateral x mirror_sensitive is the training yaw drawn from [0, 180)
(``grid_config.cell_yaw_range``). ``grid_network`` is one task: it trains one network
(resumable through its checkpoint) and measures every per-network metric of the plan on the
test objects, writing ``metrics.json`` and ``network.pt`` into its folder; ``figure4_grid`` runs
the missing tasks (``tasks.run_tasks``: joblib workers or a dask cluster; or all at once with
``train_grid_together``), then returns a ``GridResult``: the table of networks, the per-cell
summary (mean and 95% t-interval over seeds), the planned permutation tests (exact, two-sided,
Benjamini-Hochberg q over all of them) and the mirror match of each chiral category.

Unlike the other studies this one keeps files, in the folder it is given, because a grid of
networks must survive a killed run: a finished task (its ``metrics.json``) is never redone.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

import pandas as pd

from .._utils import atomic_path
from ..errors import InvalidArgumentError
from ..results import Result
from . import grid_statistics
from .grid_config import GridSettings, cell_yaw_range, task_name

if TYPE_CHECKING:
    import torch

    from .._typing import PathLike
    from ..networks.datasets import ImageData
    from ..networks.training import TrainResult
    from ..stimuli.base import StimulusSet
    from ..tasks import TaskOutcome

METRICS = (
    "face_fc1",
    "face_fc2",
    "active_fc1",
    "active_fc2",
    "val_accuracy",
    "heldout_accuracy",
    "conv4_equivariance",
    "fc1_invariance",
    "face_conv4_gap",
)
# Settings that decide a network and its metrics: a folder's finished tasks must share them.
_DECISIVE: tuple[str, ...] = (
    "n_per_class",
    "epochs",
    "n_heldout",
    "test_exemplars",
    "test_views",
    "test_seed",
    "test_size",
)
_DECISIVE += ("data_seed", "heldout_seed", "threads")


def training_images(
    settings: GridSettings,
    geometry: str,
    yaw_range: tuple[float, float],
    *,
    heldout: bool = False,
    out_dir: PathLike | None = None,
) -> ImageData:
    """The training (or held-out) ``ImageData`` of a geometry and yaw range, rendered once and cached.

    The cache file (``out_dir/data/*.pt``, tensors only) is named by every setting that
    decides it; it is written atomically, so tasks racing for it write the same bytes.
    """
    import torch

    from ..networks.datasets import ImageData, render_training_set

    n, seed = (settings.n_heldout, settings.heldout_seed) if heldout else (settings.n_per_class, settings.data_seed)
    options: dict[str, Any] = {"n_per_class": n, "geometry": geometry, "yaw_range": yaw_range, "random_state": seed}
    if out_dir is None:
        return render_training_set(**options)
    low, high = yaw_range
    file = (
        Path(out_dir)
        / "data"
        / f"{'heldout' if heldout else 'train'}_{geometry}_yaw{low:g}_{high:g}_n{n}_seed{seed}.pt"
    )
    if file.is_file():
        state = torch.load(file, map_location="cpu", weights_only=True)
        images = state["images"][:, None].expand(-1, 3, -1, -1).contiguous()
        return ImageData(images, state["labels"], int(state["n_classes"]), state["name"], state["elevation_deg"])
    data = render_training_set(**options)
    state = {"images": data.images[:, 0].contiguous(), "labels": data.labels, "n_classes": data.n_classes}
    state.update(name=data.name, elevation_deg=data.elevation_deg)
    with atomic_path(file) as tmp:
        torch.save(state, tmp)
    return data


def test_objects(settings: GridSettings, out_dir: PathLike | None = None) -> StimulusSet:
    """The test objects: ``render_objects`` of 9 categories x ``test_exemplars`` x views, cached as .npz."""
    from ..stimuli.io import load_stimuli
    from ..stimuli.objects import render_objects

    views = settings.test_views
    file = None
    if out_dir is not None:
        name = (
            f"test_objects_seed{settings.test_seed}_{settings.test_exemplars}x9x{len(views)}_{settings.test_size}px.npz"
        )
        file = Path(out_dir) / "data" / name
        if file.is_file():
            return load_stimuli(file)
    stimuli = render_objects(
        n_exemplars=settings.test_exemplars, views_deg=views, size=settings.test_size, random_state=settings.test_seed
    )
    if file is not None:
        stimuli.save(file)
    return stimuli


def grid_network(cell: Sequence[str], seed: int, settings: GridSettings, out_dir: PathLike) -> dict[str, Any]:
    """One task of the grid: train one network of ``cell`` and seed, measure it, write its files.

    In ``out_dir/networks/<task_name>/``: ``checkpoint.pt`` while training (a killed task
    resumes from it; removed once the task is done), ``network.pt`` (``save_network``) and
    ``metrics.json`` (written last, atomically: its presence marks the task done; a task
    whose ``metrics.json`` exists returns it without any work).

    Args:
        cell: (geometry, regime), one of ``GRID_CELLS``.
        seed: the network's seed (split, mirrored half, weights, batches).
        settings: ``GridSettings``.
        out_dir: the grid's folder.

    Returns:
        The metrics: cell, seed, ``METRICS`` (the plan's per-network metrics; NaN where a layer
        is silent on every test image), the index of fc1 and fc2 per test category, epochs and
        seconds (training, and the whole task).
    """
    import torch

    from ..networks.training import train

    began = time.perf_counter()
    folder = Path(out_dir) / "networks" / task_name(tuple(cell), seed)
    done = folder / "metrics.json"
    if done.is_file():
        return json.loads(done.read_text())
    threads = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        job = _training_job(cell, seed, settings, out_dir)
        result = train(device=settings.device, **job)
        return _finish(cell, seed, settings, out_dir, result, time.perf_counter() - began)
    finally:
        torch.set_num_threads(threads)  # as it was (a task run in the calling process)


def _training_job(cell: Sequence[str], seed: int, settings: GridSettings, out_dir: PathLike) -> dict[str, Any]:
    """``train``'s arguments for one network of the grid (its data, regime, epochs, seed, checkpoint)."""
    folder = Path(out_dir) / "networks" / task_name(tuple(cell), seed)
    data = training_images(settings, cell[0], cell_yaw_range(cell), out_dir=out_dir)
    return {"data": data, "regime": cell[1], "epochs": settings.epochs, "random_state": seed,
            "checkpoint": folder / "checkpoint.pt"}  # fmt: skip


def _finish(
    cell: Sequence[str], seed: int, settings: GridSettings, out_dir: PathLike, result: TrainResult, seconds: float
) -> dict[str, Any]:
    """Measure a trained network, write ``network.pt`` then ``metrics.json``, remove the checkpoint."""
    from ..networks.files import save_network
    from .grid_metrics import network_metrics

    began = time.perf_counter()
    geometry, regime = cell
    yaw_range = cell_yaw_range(cell)
    folder = Path(out_dir) / "networks" / task_name(cell, seed)
    heldout = training_images(settings, geometry, yaw_range, heldout=True, out_dir=out_dir)
    stimuli = test_objects(settings, out_dir)
    metrics: dict[str, Any] = {"geometry": geometry, "regime": regime, "seed": int(seed), "yaw_low": yaw_range[0]}
    metrics.update(yaw_high=yaw_range[1], n_classes=int(cast("torch.nn.Linear", result.network.fc3).out_features))
    metrics.update(network_metrics(result, stimuli, heldout, regime, device=settings.device))
    metrics.update(epochs=len(result.history), train_seconds=float(result.history["seconds"].sum()))
    metrics.update(settings=settings.to_dict(), task_seconds=seconds + time.perf_counter() - began)
    save_network(folder / "network.pt", result)
    with atomic_path(folder / "metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics, indent=1, allow_nan=True))
    (folder / "checkpoint.pt").unlink(missing_ok=True)
    return metrics


def train_grid_together(
    todo: Sequence[dict[str, Any]], settings: GridSettings, out_dir: PathLike, *, verbose: bool = True
) -> list[TaskOutcome]:
    """Train the networks of ``todo`` (``grid_network``'s task dicts) at once with ``train_many``, then measure each.

    Each network is bit-identical to ``grid_network``'s (``train_many`` runs ``train``'s loop),
    so the metrics are the same; on a GPU the networks share it, one CUDA stream each. Their
    checkpoints are ``train``'s: a killed call resumes every network where it was.

    Returns:
        ``TaskOutcome`` per task, in order (``raise_failures`` reads them).
    """
    import torch

    from ..networks.training_many import train_many
    from ..tasks import TaskOutcome

    began, threads = time.perf_counter(), torch.get_num_threads()
    torch.set_num_threads(settings.threads)  # as each task sets it: the same CPU arithmetic
    try:
        jobs = [_training_job(task["cell"], task["seed"], settings, out_dir) for task in todo]
        results = train_many(jobs, device=settings.device, verbose=verbose)
        seconds = (time.perf_counter() - began) / max(len(todo), 1)  # each network's share of the training
        outcomes: list[TaskOutcome] = []
        for task, result in zip(todo, results, strict=True):
            metrics = _finish(task["cell"], task["seed"], settings, out_dir, result, seconds)
            outcomes.append(TaskOutcome(task, metrics, seconds=metrics["task_seconds"]))
            _log(Path(out_dir), outcomes[-1])
    finally:
        torch.set_num_threads(threads)
    return outcomes


@dataclass(repr=False)
class GridResult(Result):
    """The Figure 4 grid's results.

    Attributes:
        networks: one row per network: ``geometry``, ``regime``, ``seed``, every metric of
            ``METRICS``, ``epochs``, ``train_seconds``, ``task_seconds``.
        summary: one row per (cell, metric): ``geometry``, ``regime``, ``metric``, ``mean``,
            ``ci_low``, ``ci_high`` (95% t-interval over seeds), ``n`` (seeds with a value).
        tests: one row per planned comparison and layer: ``layer``, ``cell_a``, ``cell_b``,
            ``mean_a``, ``mean_b``, ``difference`` (a - b), ``n_a``, ``n_b``, ``n_splits``,
            ``p`` (exact two-sided permutation test), ``q`` (Benjamini-Hochberg over all).
        mirror_match: per training category and geometry, the mirror test of rendered
            exemplars (r of the image at +yaw with the flipped image at -yaw): ``category``,
            ``geometry``, ``r_mean``, ``r_min``, ``r_max``, ``n``.
        settings: the ``GridSettings`` as plain values.
        computed: the tasks (``task_name``) trained in this call; the others were read back.
    """

    UNITS: ClassVar[dict[str, str]] = {"train_seconds": "seconds", "task_seconds": "seconds"}

    networks: pd.DataFrame
    summary: pd.DataFrame
    tests: pd.DataFrame
    mirror_match: pd.DataFrame
    settings: dict[str, Any]
    computed: list[str]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GridResult:
        """A ``GridResult`` from ``to_dict()``'s mapping (settings read from a .mat file as arrays become lists)."""
        data = dict(data)
        if isinstance(data.get("settings"), dict):
            data["settings"] = {k: v.tolist() if hasattr(v, "tolist") else v for k, v in data["settings"].items()}
        if data.get("computed") is not None:
            data["computed"] = [str(name) for name in data["computed"]]
        return super().from_dict(data)

    def _title(self) -> str:
        return f"{self.settings.get('scale')} grid, {len(self.networks)} networks"


def figure4_grid(
    settings: GridSettings, out_dir: PathLike, *, n_jobs: int = 1, scheduler: str | None = None,
    together: bool = False, verbose: bool = True,
) -> GridResult:  # fmt: skip
    """Run every missing network of the grid (one task each), then its tables and tests.

    Args:
        settings: ``GridSettings`` (``grid_settings("reduced")``, ...).
        out_dir: the grid's folder; a rerun skips finished tasks (resumable). A folder used
            with other deciding settings (``_DECISIVE``) is refused.
        n_jobs: worker processes (joblib; each task sets ``settings.threads`` torch threads).
        scheduler: None (joblib), ``"local"`` (a LocalCluster of ``n_jobs`` workers) or a dask
            scheduler's address (``tasks.run_tasks``).
        together: train the missing networks at once in this process (``train_grid_together``:
            ``train_many``, one CUDA stream each on a GPU) rather than as tasks; the same
            networks and metrics. ``n_jobs`` and ``scheduler`` then have no effect.
        verbose: progress bars.

    Returns:
        ``GridResult``.

    Raises:
        InvalidArgumentError: settings other than those the folder's networks were made with.
        TaskError: tasks failed (each listed; the finished ones are kept on disk).
    """
    from ..tasks import raise_failures, run_tasks

    if not isinstance(settings, GridSettings):
        raise InvalidArgumentError(f"Invalid value for 'settings': expected GridSettings, got {settings!r}")
    settings = settings.replaced()
    out_dir = Path(out_dir)
    _check_folder(settings, out_dir)
    todo: list[dict[str, Any]] = [
        {"cell": cell, "seed": seed, "settings": settings, "out_dir": str(out_dir)}
        for seed in settings.seeds  # seed by seed: an interrupted grid has every cell at fewer seeds
        for cell in settings.cells
        if not (out_dir / "networks" / task_name(cell, seed) / "metrics.json").is_file()
    ]
    if todo:  # every shared image set rendered once, before the workers start
        test_objects(settings, out_dir)
        for geometry, yaw_range in dict.fromkeys((t["cell"][0], cell_yaw_range(t["cell"])) for t in todo):
            for heldout in (False, True):
                training_images(settings, geometry, yaw_range, heldout=heldout, out_dir=out_dir)
    if together:
        outcomes = train_grid_together(todo, settings, out_dir, verbose=verbose) if todo else []
    else:
        options: dict[str, Any] = {"n_jobs": n_jobs, "scheduler": scheduler, "description": "grid networks"}
        options["verbose"] = verbose
        outcomes = run_tasks(grid_network, todo, on_done=lambda i, outcome: _log(out_dir, outcome), **options)
    raise_failures(outcomes, what="grid network")
    return collect_grid(settings, out_dir, computed=[task_name(t["cell"], t["seed"]) for t in todo])


def collect_grid(settings: GridSettings, out_dir: PathLike, *, computed: Iterable[str] = ()) -> GridResult:
    """The tables and tests of the finished networks in ``out_dir`` (nothing is trained).

    ``figure4_grid`` ends with it; called on its own it reports a grid that is still running
    or was interrupted (each cell with the seeds it has; ``summary`` and ``tests`` say n).

    Raises:
        InvalidArgumentError: no finished network of ``settings`` in ``out_dir``, or a folder
            made with other deciding settings.
    """
    settings, out_dir = settings.replaced(), Path(out_dir)
    _check_folder(settings, out_dir)
    files = [
        out_dir / "networks" / task_name(cell, seed) / "metrics.json"
        for cell in settings.cells
        for seed in settings.seeds
    ]
    rows = [json.loads(file.read_text()) for file in files if file.is_file()]
    if not rows:
        raise InvalidArgumentError(f"Invalid value for 'out_dir': no finished grid network in {out_dir}")
    networks = pd.DataFrame([{k: v for k, v in row.items() if k != "settings"} for row in rows])
    first = ["geometry", "regime", "seed", *METRICS, "epochs", "train_seconds", "task_seconds"]
    networks = networks[first + [c for c in networks.columns if c not in first]]
    summary = grid_statistics.cell_summary(networks, METRICS)
    tests = grid_statistics.planned_tests(networks)
    match = grid_statistics.mirror_match(n_exemplars=settings.match_exemplars, random_state=settings.test_seed)
    return GridResult(networks, summary, tests, match, settings.to_dict(), list(computed))


def _check_folder(settings: GridSettings, out_dir: Path) -> None:
    """Record the deciding settings in ``out_dir/grid_settings.json``; refuse a folder made with others."""
    file = out_dir / "grid_settings.json"
    now = {key: settings.to_dict()[key] for key in _DECISIVE}
    if file.is_file():
        old = json.loads(file.read_text())
        changed = [key for key in _DECISIVE if old.get(key) != now[key]]
        if changed:
            listed = "; ".join(f"{key}: {old.get(key)} vs {now[key]}" for key in changed)
            raise InvalidArgumentError(
                f"Invalid value for 'settings': {out_dir} holds networks made with other settings (folder vs now): "
                f"{listed}. Use the folder's settings or another folder"
            )
        return
    with atomic_path(file) as tmp:
        tmp.write_text(json.dumps(now, indent=1))


def _log(out_dir: Path, outcome: TaskOutcome) -> None:
    """One line per finished task in ``out_dir/grid_log.csv`` (task, ok, seconds, error)."""
    name = task_name(outcome.task["cell"], outcome.task["seed"])
    line = f"{time.strftime('%Y-%m-%dT%H:%M:%S')},{name},{outcome.ok},{outcome.seconds:.1f},{outcome.error or ''}\n"
    with open(out_dir / "grid_log.csv", "a") as file:
        file.write(line)
    if not outcome.ok:
        warnings.warn(f"grid network {name} failed: {outcome.error}", stacklevel=2)
