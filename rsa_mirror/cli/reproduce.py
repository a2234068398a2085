"""``rsa-mirror reproduce``: every figure and supplement study of the package in one run, one report.

Parses the options and calls ``rsa_mirror.reproduce.reproduce``; prints where the report,
the manifest and each step's files are, and which steps were reused, computed or failed. The
exit status is 0 when every step finished, 1 when any failed (after the others finished).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..reproduce.profiles import PROFILES, STEP_NAMES

if TYPE_CHECKING:
    from ._parsing import AddCommand

HELP = "reproduce the paper: every figure and supplement study, cached and resumable, into one report.html"


def add_parser(command: AddCommand, parents: Sequence[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """The ``reproduce`` subcommand (``command`` is ``main.build_parser``'s helper)."""
    sub = command("reproduce", run_reproduce, HELP, parents)
    sub.add_argument("--profile", choices=tuple(PROFILES), default="smoke", help="scale of every step")
    sub.add_argument("--out", type=Path, required=True, help="output folder (a rerun reuses its finished steps)")
    sub.add_argument(
        "--steps", nargs="+", choices=STEP_NAMES, default=None, metavar="STEP",
        help=f"only these steps (default: all): {', '.join(STEP_NAMES)}",
    )  # fmt: skip
    sub.add_argument(
        "--scheduler", default=None,
        help="local (a dask LocalCluster of --n-jobs workers) or a dask scheduler address (default: this process, "
        "or --n-jobs joblib workers)",
    )  # fmt: skip
    sub.add_argument("--n-jobs", type=int, default=1, help="worker processes (steps run in parallel)")
    return sub


def run_reproduce(args: argparse.Namespace) -> int:
    """``rsa-mirror reproduce``: run the steps, write manifest.json and report.html."""
    from ..reproduce.runner import reproduce

    result = reproduce(
        args.profile, args.out, steps=args.steps, scheduler=args.scheduler, n_jobs=args.n_jobs, device=args.device,
        command=_command(args), verbose=not args.quiet,
    )  # fmt: skip
    for name, record in result.records.items():
        seconds = "" if record["seconds"] is None else f" ({record['seconds']:.1f} s)"
        error = f": {record['error']}" if record["error"] else ""
        print(f"{name}: {record['status']}{seconds}, {result.out / record['folder']}{error}")
    print(f"Wrote {result.report} and {result.manifest}")
    if result.failed:
        print(
            f"rsa-mirror reproduce: {len(result.failed)} of {len(result.records)} steps failed "
            f"({', '.join(result.failed)}); the others finished (see {result.manifest})",
            file=sys.stderr,
        )
        return 1
    return 0


def _command(args: argparse.Namespace) -> list[str]:
    """The command line that reproduces this run (every option spelled out)."""
    command = ["rsa-mirror", "reproduce", "--profile", args.profile, "--out", str(args.out)]
    if args.steps:
        command += ["--steps", *args.steps]
    if args.scheduler:
        command += ["--scheduler", args.scheduler]
    return command + ["--n-jobs", str(args.n_jobs), "--device", args.device]
