"""The ``rsa-mirror`` command line: one subcommand per study.

``rsa-mirror demo --out DIR`` is the default study on embedded data: it simulates the three
face patches (MLMF, AL, AM), writes them in the Freiwald-Tsao lab layout and loads them back
through the same loader a lab uses, builds the patch RDMs, computes the mirror-symmetric
viewpoint tuning index per patch, and writes a figure and summary tables. ``--neural PATH``
runs the same study on recordings of your own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

from ._utils import atomic_path


def main(argv=None) -> int:
    """Entry point of ``rsa-mirror``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="rsa-mirror", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="default study: patch RDMs and mirror-symmetry index per patch")
    demo.add_argument("--out", type=Path, default=Path("rsa_mirror_demo"), help="output folder (created)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the simulated recordings (default 0)")
    demo.add_argument(
        "--neural",
        type=Path,
        default=None,
        help="folder of neural_vecs_<PATCH>.mat files (or one .mat) instead of simulated data",
    )
    args = parser.parse_args(argv)
    try:
        return run_demo(args.out, seed=args.seed, neural=args.neural)
    except (OSError, ValueError) as error:
        print(f"rsa-mirror: error: {error}", file=sys.stderr)
        return 1


def run_demo(out, *, seed=0, neural=None) -> int:
    """Run the default study and write its outputs to ``out`` (see the module docstring)."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neural_data import load_freiwald_tsao, simulate_face_patches

    from . import compute_rdms, msvt_by_object, msvt_chance_level, summarize_msvt
    from .vis import plot_rdms

    out = Path(out)
    if neural is None:
        source = f"simulated recordings (seed {seed}), written to and read back from {out / 'recordings'}"
        neural = simulate_face_patches(random_state=seed).save(out / "recordings")
    else:
        source = f"recordings in {neural}"
    recordings = load_freiwald_tsao(neural).mirror_views()
    rdms = compute_rdms(recordings)
    table = msvt_by_object(recordings, object_key="identity").rename(columns={"name": "patch"})
    summary = summarize_msvt(table, by=("patch",))
    n_views = len(set(recordings[recordings.patches[0]].obs_descriptors["view_deg"]))
    summary.insert(0, "n_neurons", [recordings[p].n_channel for p in summary.index])
    summary["chance_level"] = msvt_chance_level(n_views)

    with atomic_path(out / "msvt_by_identity.csv") as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(out / "msvt_summary.csv") as tmp:
        summary.to_csv(tmp)
    titles = [f"{patch}: MSVT index {row.msvt_mean:.2f} ± {row.msvt_sem:.3f}" for patch, row in summary.iterrows()]
    figure = plot_rdms(rdms, titles=titles)
    with atomic_path(out / "patch_rdms.png") as tmp:
        figure.savefig(tmp, dpi=150)
    plt.close(figure)

    print(f"rsa-mirror demo: {source}")
    print(f"Mirror-symmetric viewpoint tuning index per patch (mean ± SEM over identities; {n_views} views):")
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"(a view-invariant representation gives {msvt_chance_level(n_views):.3f}, not 0: see msvt_chance_level)")
    print(f"Wrote {out / 'patch_rdms.png'}, {out / 'msvt_summary.csv'}, {out / 'msvt_by_identity.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
