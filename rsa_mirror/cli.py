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
import numpy as np

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
    render = commands.add_parser(
        "render", help="render the paper's 3D objects or FIV-like faces to a .npz stimulus set"
    )
    render.add_argument("--out", type=Path, required=True, help="output folder (created)")
    render.add_argument("--set", choices=("objects", "faces"), default="objects", help="what to render")
    render.add_argument("--n-exemplars", type=int, default=25, help="exemplars per category, or identities")
    render.add_argument("--size", type=int, default=227, help="image size in pixels")
    render.add_argument("--seed", type=int, default=0)
    commands.add_parser("fetch-face-mesh", help="download the menpo3d template face mesh (BSD-3-Clause) via pip")
    args = parser.parse_args(argv)
    try:
        if args.command == "render":
            return run_render(args.out, which=args.set, n=args.n_exemplars, size=args.size, seed=args.seed)
        if args.command == "fetch-face-mesh":
            from .faces import fetch_face_mesh

            print(f"face mesh written to {fetch_face_mesh()}")
            return 0
        return run_demo(args.out, seed=args.seed, neural=args.neural)
    except (OSError, ValueError, RuntimeError) as error:
        print(f"rsa-mirror: error: {error}", file=sys.stderr)
        return 1


def run_render(out, *, which="objects", n=25, size=227, seed=0) -> int:
    """Render a stimulus set to ``out/stimuli.npz`` with a contact sheet ``out/stimuli.png``."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .faces import render_faces
    from .render import render_objects

    if which == "faces":
        stimuli = render_faces(n_identities=n, size=size, random_state=seed, verbose=True)
    else:
        stimuli = render_objects(n_exemplars=n, size=size, random_state=seed, verbose=True)
    path = stimuli.save(Path(out) / "stimuli.npz")
    first = [
        np.flatnonzero(stimuli.descriptors["object"] == obj) for obj in dict.fromkeys(stimuli.descriptors["object"])
    ]
    rows = first[:: max(1, len(first) // 9)][:9]
    figure, axes = plt.subplots(len(rows), len(rows[0]), figsize=(1.2 * len(rows[0]), 1.2 * len(rows)), squeeze=False)
    for row_axes, indices in zip(axes, rows, strict=True):
        for ax, index in zip(row_axes, indices, strict=True):
            ax.imshow(stimuli.images[index], cmap="gray", vmin=0, vmax=1)
            ax.set_axis_off()
    with atomic_path(Path(out) / "stimuli.png") as tmp:
        figure.savefig(tmp, dpi=100)
    plt.close(figure)
    print(f"{len(stimuli)} images ({which}) written to {path}; contact sheet {Path(out) / 'stimuli.png'}")
    return 0


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
