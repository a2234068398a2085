"""``rsa-mirror figure4 --grid``: the Figure 4 grid of control networks, its tables, tests and figure.

Runs ``studies.figure4_grid`` (every missing network, one task each, on joblib workers or a
dask cluster; a rerun resumes) and writes into ``--out``: ``grid_networks.csv`` (one row per
network), ``grid_summary.csv`` (mean and 95% t-interval per cell and metric),
``grid_tests.csv`` (the planned permutation tests with BH q), ``grid_mirror_match.csv`` (the
mirror test of each training category, bilateral and chiral) and ``figure4_grid.png``; the
networks and their metrics stay under ``--out/networks``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

from . import write

if TYPE_CHECKING:
    import argparse

    from .._typing import PathLike
    from ..studies.grid import GridResult
    from ._parsing import AddCommand


def add_parser(command: AddCommand, parents: Sequence[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """The ``figure4`` subcommand (``command`` is ``main.build_parser``'s helper)."""
    sub = command(
        "figure4", run_figure4, "Figure 4 grid: object geometry x label regime, seeds, planned tests", parents
    )
    sub.add_argument(
        "--grid", action="store_true", required=True, help="run the grid of the README's analysis plan (required)"
    )
    sub.add_argument("--scale", choices=("reduced", "full"), default="reduced", help="reduced (2 CPUs) or full (GPU)")
    sub.add_argument("--out", type=Path, required=True, help="output folder (a rerun resumes there)")
    sub.add_argument("--n-jobs", type=int, default=1, help="worker processes, one network each")
    sub.add_argument("--seeds", type=int, nargs="+", default=None, help="network seeds (default: 0 1 2 3 4)")
    sub.add_argument("--threads", type=int, default=1, help="torch CPU threads per worker")
    sub.add_argument(
        "--cells", nargs="+", default=None, help="GEOMETRY:REGIME cells (default: all 8, e.g. bilateral:original)"
    )
    sub.add_argument(
        "--tables-only", action="store_true", help="train nothing: the tables of the networks finished so far"
    )
    sub.add_argument(
        "--together",
        action="store_true",
        help="train the missing networks at once in this process (train_many; on a GPU one CUDA stream each); "
        "the same networks as tasks",
    )
    smaller = "(default: the scale's; other values depart from the plan)"
    sub.add_argument("--n-per-class", type=int, default=None, help=f"training images per category {smaller}")
    sub.add_argument("--epochs", type=int, default=None, help=f"training epochs {smaller}")
    sub.add_argument("--test-exemplars", type=int, default=None, help=f"test exemplars per category {smaller}")
    sub.add_argument(
        "--scheduler",
        default=None,
        help="run the networks on dask.distributed: 'local' (a LocalCluster of --n-jobs workers) or a scheduler "
        "address (tcp://host:8786); default: joblib workers",
    )
    return sub


def run_figure4(args: argparse.Namespace) -> int:
    """``rsa-mirror figure4 --grid``: the grid, then its tables, tests and figure."""
    matplotlib.use("Agg")
    from .._utils import check_count
    from ..studies.grid import collect_grid, figure4_grid
    from ..studies.grid_config import grid_settings

    n_jobs, threads = check_count("n_jobs", args.n_jobs), check_count("threads", args.threads)
    changes: dict[str, Any] = {"device": args.device, "threads": threads}
    if args.seeds is not None:
        changes["seeds"] = tuple(args.seeds)
    if args.cells is not None:
        changes["cells"] = tuple(tuple(cell.split(":", 1)) for cell in args.cells)
    for name in ("n_per_class", "epochs", "test_exemplars"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    settings = grid_settings(args.scale, **changes)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.tables_only:
        result = collect_grid(settings, out)
    else:
        options = {"n_jobs": n_jobs, "scheduler": args.scheduler, "together": args.together}
        result = figure4_grid(settings, out, verbose=not args.quiet, **options)
    write_grid(out, result)
    computed = len(result.computed)
    planned = len(settings.cells) * len(settings.seeds)
    done = f"{len(result.networks)} of {planned} networks"
    print(f"{args.scale} grid: {done} ({computed} trained now, the others read back)")
    faces = result.summary[result.summary.metric.isin(["face_fc1", "face_fc2"])]
    print(faces.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(result.tests.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(
        f"Wrote {out / 'grid_networks.csv'}, grid_summary.csv, grid_tests.csv, grid_mirror_match.csv, figure4_grid.png"
    )
    write.write_mat(args.mat, result)
    return 0


def write_grid(out: PathLike, result: GridResult) -> None:
    """The grid's four tables and its figure into the folder ``out`` (the module docstring's files)."""
    from ..symmetry import msvt_chance_level
    from ..vis import plot_figure4_grid

    out = Path(out)
    write.write_csv(result.networks, out / "grid_networks.csv", index=False)
    write.write_csv(result.summary, out / "grid_summary.csv", index=False)
    write.write_csv(result.tests, out / "grid_tests.csv", index=False)
    write.write_csv(result.mirror_match, out / "grid_mirror_match.csv", index=False)
    chance = msvt_chance_level(len(result.settings["test_views"]))
    write.save_figure(plot_figure4_grid(result, chance_level=chance), out / "figure4_grid.png")
