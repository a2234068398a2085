"""Running the reproduction: content-keyed, resumable steps, then ``manifest.json`` and ``report.html``.

Each step's key is a SHA-256 of (step name, its settings, the package version, the hash of the
package's source code, the device, the hashes of its input files); its outputs go to
``DIR/steps/<step>-<key>/``. A step is written into a hidden temporary folder beside it, its
``step.json`` (the completion marker: caption, settings, wall time, the SHA-256 of every file
it wrote) last, and the folder is then renamed into place, so a folder under its final name is
always complete. A rerun reuses every complete folder whose key matches and whose files still
have their recorded hashes (a folder with a changed or missing file is computed again, and the
manifest says why) and computes the rest; temporaries of killed runs are removed. The steps
left to compute run as independent tasks through ``rsa_mirror.tasks.run_tasks`` (in this
process, on joblib workers, or on a dask.distributed cluster): a step that fails is recorded
with its error while the others finish.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import json
import os
import platform
import shutil
import sys
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._utils import _running, atomic_path, check_option, optional_import
from .._version import __version__
from ..errors import InvalidArgumentError, InvalidTypeError
from ..tasks import run_tasks
from .profiles import profile_settings
from .registry import STEPS, Step

if TYPE_CHECKING:
    from dask.distributed import Client

    from .._typing import PathLike
    from ..tasks import TaskOutcome

MARKER = "step.json"
LIBRARIES = ("numpy", "scipy", "pandas", "rsatoolbox", "torch", "torchvision", "matplotlib", "joblib", "dask",
             "distributed", "scikit-image", "scikit-learn")  # fmt: skip


@dataclass
class ReproduceResult:
    """What one ``reproduce`` call did.

    Attributes:
        out: the output folder.
        records: step name -> ``status`` (computed, reused, failed), ``key``, ``folder``,
            ``seconds`` (its computation's wall time), ``error``.
        manifest: path of ``manifest.json``.
        report: path of ``report.html``.
    """

    out: Path
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    manifest: Path | None = None
    report: Path | None = None

    @property
    def failed(self) -> list[str]:
        """Names of the steps that failed."""
        return [name for name, record in self.records.items() if record["status"] == "failed"]


def input_files(imagenet: bool) -> dict[str, Path | None]:
    """Input name -> file (or None where absent): ImageNet weights, the shipped control network, the face mesh."""
    from ..networks.files import SHIPPED_NETWORK
    from ..stimuli.faces import FACE_MESH_PATH

    weights = None
    if imagenet:
        from ..networks.models import check_weights

        weights = check_weights("alexnet", "imagenet")
    mesh = Path(FACE_MESH_PATH)
    return {
        "imagenet_weights": weights,
        "control_network": SHIPPED_NETWORK,
        "face_mesh": mesh if mesh.is_file() else None,
    }


def imagenet_cached() -> bool:
    """Whether AlexNet's ImageNet weights are in torchvision's cache (``load_model`` never downloads)."""
    from ..networks.models import WeightsUnavailableError, check_weights

    try:
        return check_weights("alexnet", "imagenet") is not None
    except (WeightsUnavailableError, FileNotFoundError):
        return False


def file_hash(path: PathLike | None) -> str | None:
    """SHA-256 of a file's bytes (None for no file)."""
    if path is None:
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_hash(folders: Iterable[PathLike]) -> str:
    """SHA-256 over the ``.py`` files under ``folders``: each one's path (relative to its folder's parent), bytes."""
    digest = hashlib.sha256()
    for folder in map(Path, folders):
        for file in sorted(folder.rglob("*.py")):
            digest.update(str(file.relative_to(folder.parent)).encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def code_hash() -> str:
    """``source_hash`` of the code the steps run: rsa_mirror, neural_data and matlab_bridge (computed once)."""
    import matlab_bridge
    import neural_data

    from .. import __file__ as package_file

    return source_hash(Path(module).parent for module in (package_file, neural_data.__file__, matlab_bridge.__file__))


def step_key(name: str, settings: dict[str, Any], input_hashes: Mapping[str, str | None], device: str) -> str:
    """The step's cache key: 16 hex digits of SHA-256 over its name, settings, version, code, device and inputs."""
    content = {"step": name, "settings": settings, "version": __version__, "code": code_hash(), "device": device,
               "inputs": input_hashes}  # fmt: skip
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def folder_hashes(folder: PathLike) -> dict[str, str | None]:
    """Relative path -> SHA-256 of every file under ``folder`` but the marker ``step.json``."""
    folder = Path(folder)
    files = sorted(path for path in folder.rglob("*") if path.is_file() and path.name != MARKER)
    return {str(path.relative_to(folder)): file_hash(path) for path in files}


def read_marker(folder: PathLike) -> tuple[dict[str, Any] | None, str | None]:
    """(marker, None) for an intact complete step folder; (None, None) for none; (marker, why) for a damaged one."""
    file = Path(folder) / MARKER
    if not file.is_file():
        return None, None
    try:
        marker = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return {}, f"its {MARKER} cannot be read ({error})"
    return marker, damage(folder, marker)


def damage(folder: PathLike, marker: Mapping[str, Any]) -> str | None:
    """Why a complete step folder cannot be reused (a file changed, missing or added), or None when intact."""
    recorded = marker.get("files")
    if recorded is None:
        return "its step.json records no file hashes"
    now = folder_hashes(folder)
    for name, digest in recorded.items():
        if name not in now:
            return f"{name} is missing"
        if now[name] != digest:
            return f"{name} changed since the step wrote it"
    added = sorted(set(now) - set(recorded))
    return f"{added[0]} was added after the step finished" if added else None


def execute_step(step: Step, settings: dict[str, Any], folder: PathLike, context: dict[str, Any]) -> dict[str, Any]:
    """Compute one step into ``folder`` (temporary folder, marker last, rename); returns its marker's content."""
    import matplotlib

    matplotlib.use("Agg")
    folder = Path(folder)
    tmp = folder.parent / f".{folder.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    scratch = folder.parent / f".{folder.name}.scratch"  # checkpoints a killed step resumes from
    began, cpu = time.perf_counter(), time.process_time()
    try:
        with open(tmp / "log.txt", "w") as log, contextlib.redirect_stdout(log):
            caption = step.run(settings, tmp, {**context, "scratch": scratch})
        marker = {
            "step": step.name, "title": step.title, "settings": settings, "caption": caption,
            "seconds": round(time.perf_counter() - began, 3), "cpu_seconds": round(time.process_time() - cpu, 3),
            "version": __version__, "context": context, "torch_threads": _torch_threads(),
            "files": folder_hashes(tmp),
        }  # fmt: skip
        with atomic_path(tmp / MARKER) as path:
            path.write_text(json.dumps(marker, indent=1, sort_keys=True))
        try:
            os.rename(tmp, folder)
        except OSError:  # another run completed the same step meanwhile: its folder stands
            if not (folder / MARKER).is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(scratch, ignore_errors=True)
    return marker


def _torch_threads() -> int | None:
    torch = sys.modules.get("torch")
    return None if torch is None else torch.get_num_threads()


def remove_orphans(steps_dir: PathLike) -> None:
    """Remove the temporary step folders of runs that are no longer running."""
    for tmp in Path(steps_dir).glob(".*.tmp"):
        pid = tmp.name.rsplit(".", 2)[-2]
        if not pid.isdigit() or not _running(int(pid)) or int(pid) == os.getpid():
            shutil.rmtree(tmp, ignore_errors=True)


def reproduce(
    profile: str = "smoke", out: PathLike = "rsa_mirror_reproduction", *, steps: Sequence[str] | None = None,
    scheduler: str | Client | None = None, n_jobs: int = 1, device: str = "auto",
    registry: Mapping[str, Step] | None = None, settings: dict[str, dict[str, Any]] | None = None,
    command: list[str] | None = None, verbose: bool = True,
) -> ReproduceResult:  # fmt: skip
    """Run every step (or ``steps``) of ``profile`` into ``out``; write ``manifest.json`` and ``report.html``.

    Args:
        profile: ``"smoke"``, ``"reduced"`` or ``"paper"`` (``profiles.PROFILES``).
        out: output folder (created; a rerun reuses its complete steps).
        steps: names of the steps to run (default every step of ``registry``), run in the
            registry's order.
        scheduler: None (in this process, or ``n_jobs`` joblib workers), ``"local"`` (a dask
            LocalCluster) or a dask scheduler's address, as in ``run_tasks``.
        n_jobs: worker processes.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ... for every network.
        registry: step name -> ``Step`` (default ``registry.STEPS``); settings come from the
            profile, ``{}`` for a step it does not list.
        settings: optional step name -> settings replacing the profile's for that step (they
            enter its key like the profile's).
        command: the command line recorded in the manifest (default ``sys.argv``).
        verbose: a progress bar over steps.

    Returns:
        ``ReproduceResult``; failed steps are in ``failed`` (nothing is raised for them).

    Raises:
        InvalidArgumentError: an unknown profile or step name.
        MissingDependencyError: torch is not installed (``pip install rsa_mirror[models]``).
    """
    from .report import write_report

    registry = STEPS if registry is None else registry
    settings_of = profile_settings(profile)
    if settings is not None:
        if not isinstance(settings, dict):
            raise InvalidTypeError(f"Invalid type for 'settings': expected a dict step -> settings, got {settings!r}")
        settings_of.update(copy.deepcopy(settings))
    names = list(registry) if steps is None else list(dict.fromkeys(steps))
    unknown = [name for name in names if name not in registry]
    if unknown:
        raise InvalidArgumentError(
            f"Invalid value for 'steps': unknown {', '.join(unknown)}; the steps are {', '.join(registry)}"
        )
    names = [name for name in registry if name in names]
    check_option("device", device.split(":")[0], ("auto", "cpu", "cuda", "mps"))
    out = Path(out)
    steps_dir = out / "steps"
    steps_dir.mkdir(parents=True, exist_ok=True)
    remove_orphans(steps_dir)
    began, started = time.perf_counter(), datetime.now(timezone.utc)
    optional_import("torch", "rsa-mirror reproduce")  # the networks of most steps
    imagenet = imagenet_cached()
    files = input_files(imagenet)
    hashes = {name: file_hash(path) for name, path in files.items()}
    context = {"device": device, "imagenet": imagenet}
    result, tasks = ReproduceResult(out), []
    task_steps: list[Step] = []
    for name in names:
        step, step_settings = registry[name], settings_of.get(name, {})
        inputs = {key: hashes.get(key) for key in step.inputs}
        key = step_key(name, step_settings, inputs, device)
        folder = steps_dir / f"{name}-{key}"
        record: dict[str, Any] = {"key": key, "folder": str(folder.relative_to(out)), "settings": step_settings}
        record["inputs"] = inputs
        marker, reason = read_marker(folder)
        if reason is not None:  # computed again under the same name (``execute_step`` renames it into place)
            warnings.warn(f"step {name}: {folder} is computed again: {reason}", stacklevel=2)
            shutil.rmtree(folder)
            record["recomputed_because"] = reason
        if marker is not None and reason is None:
            record.update(status="reused", seconds=marker["seconds"], error=None)
        else:
            record.update(status="pending", seconds=None, error=None)
            tasks.append({"step": step, "settings": step_settings, "folder": str(folder), "context": context})
            task_steps.append(step)
        result.records[name] = record

    def done(index: int, outcome: TaskOutcome) -> None:
        record = result.records[task_steps[index].name]
        if outcome.ok:
            record.update(status="computed", seconds=outcome.value["seconds"])
        else:
            record.update(status="failed", seconds=round(outcome.seconds, 3), error=outcome.error)
            record["traceback"] = outcome.details

    run_tasks(execute_step, tasks, n_jobs=n_jobs, scheduler=scheduler, description="steps", on_done=done,
              verbose=verbose)  # fmt: skip
    manifest = {
        "package": "rsa_mirror", "version": __version__, "profile": profile, "command": command or sys.argv,
        "started": started.isoformat(timespec="seconds"), "wall_seconds": round(time.perf_counter() - began, 3),
        "scheduler": scheduler, "n_jobs": n_jobs, "device": device, "imagenet_weights_cached": imagenet,
        "input_files": {name: {"path": None if path is None else str(path), "sha256": hashes[name]}
                        for name, path in files.items()},
        "libraries": library_versions(), "python": platform.python_version(), "platform": platform.platform(),
        "code_sha256": code_hash(),
        "seeds": {name: record["settings"].get("seed", record["settings"].get("seeds"))
                  for name, record in result.records.items()},
        "steps": result.records,
    }  # fmt: skip
    result.manifest = out / "manifest.json"
    with atomic_path(result.manifest) as path:
        path.write_text(json.dumps(manifest, indent=1, default=str))
    result.report = write_report(out, manifest, registry)
    return result


def library_versions() -> dict[str, str | None]:
    """Installed version of each of ``LIBRARIES`` (None where absent)."""
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions
