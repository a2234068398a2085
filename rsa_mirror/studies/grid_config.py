"""The Figure 4 grid's settings: its cells, the ``GridSettings`` of a run and the plan's two presets.

``GRID_CELLS`` crosses the training objects' geometry (``bilateral``, ``chiral``) with the label
regimes (``original``, ``mirror_invariant``, ``mirror_sensitive``, ``class_split``);
``GRID_SCALES`` holds the plan's ``reduced`` and ``full`` presets and ``grid_settings`` one of them
with changes, checked; ``cell_yaw_range`` and ``task_name`` name a cell's training views and a
network's folder. ``figure4_grid`` runs the grid.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from .._utils import check_count, check_option
from ..errors import InvalidArgumentError
from ..stimuli.objects import PAPER_VIEWS_DEG

GRID_GEOMETRIES = ("bilateral", "chiral")
GRID_REGIMES = ("original", "mirror_invariant", "mirror_sensitive", "class_split")
GRID_CELLS = tuple((geometry, regime) for geometry in GRID_GEOMETRIES for regime in GRID_REGIMES)


@dataclass(frozen=True)
class GridSettings:
    """How large the grid is (``GRID_SCALES``: ``"reduced"`` and ``"full"``, the plan's numbers).

    Attributes:
        scale: the name of the preset it came from.
        n_per_class: training images per category (6 categories; 10% held for validation).
        epochs: training epochs of every network (no early stopping).
        seeds: network seeds of every cell.
        cells: the (geometry, regime) cells run.
        n_heldout: images per category of the held-out set (seeded apart, drawn like the
            training set of the cell).
        test_exemplars: exemplars per category of the test objects (9 categories).
        test_views: yaw of the test views, degrees.
        test_seed: seed of the test objects (no training set uses it).
        test_size: pixels of the rendered test images (resized to 32 x 32 for the network).
        data_seed: seed of every training set; ``heldout_seed``: of every held-out set.
        threads: torch CPU threads per task.
        match_exemplars: exemplars per category of the mirror test (``mirror_match``).
        device: where the networks train and run (``"auto"``, ``"cpu"``, ``"cuda"``).
    """

    scale: str
    n_per_class: int
    epochs: int
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    cells: tuple[tuple[str, str], ...] = GRID_CELLS
    n_heldout: int = 50
    test_exemplars: int = 25
    test_views: tuple[float, ...] = PAPER_VIEWS_DEG
    test_seed: int = 2025
    test_size: int = 64
    data_seed: int = 0
    heldout_seed: int = 1
    threads: int = 1
    match_exemplars: int = 5
    device: str = "auto"

    def replaced(self, **changes: Any) -> GridSettings:
        """A copy with ``changes`` (e.g. ``seeds=(0, 1)``), checked."""
        settings = dataclasses.replace(self, **changes)
        for name in ("n_per_class", "epochs", "n_heldout", "test_exemplars", "test_size", "threads", "match_exemplars"):
            check_count(name, getattr(settings, name))
        seeds = tuple(check_count("seeds", seed, minimum=0) for seed in settings.seeds)
        if not seeds or len(set(seeds)) < len(seeds):
            raise InvalidArgumentError(f"Invalid value for 'seeds': expected distinct seeds, got {settings.seeds!r}")
        cells = cast("tuple[tuple[str, str], ...]", tuple(tuple(cell) for cell in settings.cells))
        for cell in cells:
            if cell not in GRID_CELLS:
                raise InvalidArgumentError(f"Invalid value for 'cells': {cell!r} is not one of {GRID_CELLS}")
        views = tuple(float(v) for v in settings.test_views)
        return dataclasses.replace(settings, seeds=seeds, cells=cells, test_views=views)

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain values (lists for tuples)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


GRID_SCALES = {
    "reduced": GridSettings("reduced", n_per_class=300, epochs=20),
    "full": GridSettings("full", n_per_class=1000, epochs=30),
}


def grid_settings(scale: str = "reduced", **changes: Any) -> GridSettings:
    """The preset ``scale`` (``"reduced"`` or ``"full"``) with ``changes``, checked."""
    check_option("scale", scale, tuple(GRID_SCALES))
    return GRID_SCALES[scale].replaced(**changes)


def cell_yaw_range(cell: Sequence[str]) -> tuple[float, float]:
    """Training yaw range (degrees) of a cell: [0, 180) in bilateral x mirror_sensitive, else [-180, 180)."""
    if tuple(cell) not in GRID_CELLS:
        raise InvalidArgumentError(f"Invalid value for 'cell': {cell!r} is not one of {GRID_CELLS}")
    return (0.0, 180.0) if tuple(cell) == ("bilateral", "mirror_sensitive") else (-180.0, 180.0)


def task_name(cell: Sequence[str], seed: int) -> str:
    """The folder of one network under ``out_dir/networks``, e.g. ``bilateral_original_seed0``."""
    return f"{cell[0]}_{cell[1]}_seed{seed}"
