"""The recordings of a command: the layout options, loading or simulating, and saying what was read.

Every command that reads recordings takes the same options (``recordings_options``, an
argparse parent), states the layout it used in one line, and leaves out views without a
mirror view only where an analysis needs mirror pairs, naming them.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from neural_data import StimulusLayout, load_freiwald_tsao, simulate_face_patches
from neural_data.io import ORIENTATIONS
from neural_data.layout import DEFAULT_SOURCE

if TYPE_CHECKING:
    from neural_data import Recordings


def recordings_options() -> argparse.ArgumentParser:
    """Options of every command that reads recordings: how their rows are laid out."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group(
        "layout of the recordings (default: the files' metadata vectors, else the FIV layout: 25 identities x "
        "views, view-major)"
    )
    group.add_argument(
        "--layout",
        type=Path,
        default=None,
        help="CSV/TSV table, one row per recorded row in file order: identity, view and/or view_deg "
        "(optional stimulus, image)",
    )
    group.add_argument("--order", choices=("view-major", "identity-major"), default=None, help="row order of a grid")
    group.add_argument("--n-identities", type=int, default=None, help="identities of a grid (default 25)")
    group.add_argument(
        "--views", nargs="+", default=None, help="the file's views in row order: FIV names or yaw in degrees"
    )
    group.add_argument("--patches", nargs="+", default=None, help="patches to load (default: all found)")
    group.add_argument(
        "--orientation",
        choices=ORIENTATIONS,
        default="auto",
        help="auto: rows are stimuli, a matrix that fits both ways is refused",
    )
    return parent


def stated_layout(args: argparse.Namespace) -> StimulusLayout | None:
    """The layout the options state, or None (the files' metadata, else the FIV default)."""
    grid = {"--order": args.order, "--n-identities": args.n_identities, "--views": args.views}
    given = {flag: value for flag, value in grid.items() if value is not None}
    if args.layout is not None:
        if given:
            raise ValueError(f"--layout states the whole layout: drop {', '.join(given)}")
        return StimulusLayout.from_table(args.layout)
    if not given:
        return None
    order = "view-major" if args.order is None else args.order
    n_identities = 25 if args.n_identities is None else args.n_identities
    if args.views is not None:
        layout = StimulusLayout.from_views(args.views, n_identities=n_identities, order=order)
    else:
        layout = StimulusLayout(n_identities=n_identities, order=order)
    words = " ".join(f"{flag} {' '.join(map(str, v)) if isinstance(v, list) else v}" for flag, v in given.items())
    return dataclasses.replace(layout, source=f"the options {words}")


def load_recordings(command: str, args: argparse.Namespace) -> Recordings:
    """Recordings from --neural with the layout options, the layout said in one line."""
    recordings = load_freiwald_tsao(
        args.neural, patches=args.patches, layout=stated_layout(args), orientation=args.orientation
    )
    default = recordings.layout.source == DEFAULT_SOURCE
    hint = " (state it with --layout, --order, --n-identities or --views)" if default else ""
    print(f"rsa-mirror {command}: recordings in {args.neural}: {recordings}")
    print(f"rsa-mirror {command}: layout {recordings.layout.describe()}{hint}")
    return recordings


def simulated_recordings(command: str, args: argparse.Namespace) -> Recordings:
    """The simulated MLMF/AL/AM recordings of --seed (the layout options go with --neural only)."""
    if any(getattr(args, key) is not None for key in ("layout", "order", "n_identities", "views", "patches")) or (
        args.orientation != "auto"
    ):
        raise ValueError(
            "the layout options (--layout, --order, --n-identities, --views, --patches, --orientation) go with --neural"
        )
    recordings = simulate_face_patches(random_state=args.seed)
    print(f"rsa-mirror {command}: simulated recordings (seed {args.seed}): layout {recordings.layout.describe()}")
    return recordings


def mirror_views(command: str, recordings: Recordings, purpose: str) -> Recordings:
    """The recordings' mirror-paired views, saying which views are left out and why."""
    unpaired = recordings.unpaired_views()
    if unpaired:
        print(f"rsa-mirror {command}: {purpose} uses the views with a mirror view; left out: {', '.join(unpaired)}")
    return recordings.mirror_views()
