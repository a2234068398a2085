"""A folder of recordings saved as one unit: the save manifest and its check.

``Recordings.save`` writes every patch file (each holding the save's id in the variable
``rsa_mirror_save_id``), removes the ``neural_vecs_*.mat`` files of earlier saves, and writes
the manifest ``rsa_mirror_save.json`` last: the save id, the patches and each file's SHA-256.
Each file is written atomically, the folder is not, so a save that is interrupted leaves a
folder that is recognisably unfinished, and the loaders refuse it:

- with a manifest, every ``neural_vecs_*.mat`` must be listed in it and match its checksum
  (an interrupted save leaves new files beside an old manifest);
- without one, no file may carry a save id (an interrupted first save).

A folder that no save wrote (a lab's own files) has neither and is read as it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rsa_mirror._utils import atomic_path

from .errors import RecordingFormatError

if TYPE_CHECKING:
    from rsa_mirror._typing import PathLike

MANIFEST = "rsa_mirror_save.json"
SAVE_ID = "rsa_mirror_save_id"
FORMAT = "rsa_mirror recordings save"


def sha256(path: PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: PathLike) -> dict[str, Any] | None:
    """The folder's manifest, or None when it has none.

    Raises:
        RecordingFormatError: a manifest that is not one (unreadable JSON, fields missing).
    """
    path = Path(folder) / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
            raise ValueError("not written by Recordings.save")
    except (ValueError, UnicodeDecodeError, AttributeError) as error:
        raise RecordingFormatError(f"{path}: not a readable recordings manifest ({error}); remove it") from None
    return manifest


def write_manifest(folder: PathLike, save_id: str, files: Mapping[str, tuple[PathLike, str]]) -> Path:
    """Write the manifest of a finished save atomically (``files``: patch -> (path, sha256 as written))."""
    manifest = {
        "format": FORMAT,
        "save_id": save_id,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "patches": list(files),
        "files": {Path(path).name: digest for path, digest in files.values()},
    }
    with atomic_path(Path(folder) / MANIFEST) as tmp:
        tmp.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return Path(folder) / MANIFEST


@contextlib.contextmanager
def save_lock(folder: PathLike) -> Iterator[None]:
    """Hold a lock on the folder itself while a save writes it (one save at a time; POSIX locks)."""
    try:
        import fcntl
    except ImportError:  # no POSIX locks: saves are then not serialised
        yield
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def written_by_a_save(folder: PathLike, path: PathLike) -> bool:
    """Whether ``path`` is a file a save wrote: it carries a save id, or matches the manifest's checksum."""
    from matlab_bridge import MatFormatError, read_mat

    manifest = read_manifest(folder) or {"files": {}}
    if manifest["files"].get(Path(path).name) == sha256(path):
        return True
    try:
        return SAVE_ID in read_mat(path)
    except MatFormatError:
        return False


def check_folder(folder: PathLike, files: Iterable[PathLike], save_ids: Mapping[Path, str | None]) -> None:
    """Refuse a folder whose recordings do not all come from one finished save (module docstring).

    Args:
        folder: the folder.
        files: every ``neural_vecs_*.mat`` in it (paths).
        save_ids: path -> save id read from that file (None when it holds none), for the
            files that were read.

    Raises:
        RecordingFormatError: naming the files that do not belong, and what to do.
    """
    manifest = read_manifest(folder)
    if manifest is None:
        saved = sorted(Path(f).name for f, save_id in save_ids.items() if save_id is not None)
        if saved:
            raise RecordingFormatError(
                f"{folder}: {', '.join(saved)} come from a save that did not finish (no {MANIFEST}): "
                "save the recordings again"
            )
        return
    stray = sorted(Path(f).name for f, save_id in save_ids.items() if save_id not in (None, manifest.get("save_id")))
    listed = manifest["files"]
    names = {Path(f).name: Path(f) for f in files}
    extra = sorted(set(names) - set(listed))
    missing = sorted(set(listed) - set(names))
    changed = sorted(
        name for name in set(names) & set(listed) if sha256(names[name]) != listed[name] and name not in stray
    )
    problems = []
    if stray:
        problems.append(f"{', '.join(stray)} were written by another save")
    if changed:
        problems.append(f"{', '.join(changed)} differ from the save recorded in {MANIFEST} (another save, or edited)")
    if extra:
        problems.append(f"{', '.join(extra)} are not part of that save")
    if missing:
        problems.append(f"{', '.join(missing)} of that save are missing")
    if problems:
        raise RecordingFormatError(
            f"{folder}: the files do not come from one finished save (id {manifest.get('save_id')}): "
            f"{'; '.join(problems)}. Save the recordings again, or remove {MANIFEST} and the files that do not "
            "belong"
        )
