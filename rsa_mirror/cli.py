"""The ``rsa-mirror`` command line: one subcommand per study.

``rsa-mirror demo --out DIR`` is the default study on embedded data: it simulates the three
face patches (MLMF, AL, AM), writes them in the Freiwald-Tsao lab layout and loads them back
through the same loader a lab uses, builds the patch RDMs, computes the mirror-symmetric
viewpoint tuning index per patch; then renders FIV-like faces (25 identities x 5 views),
feeds them through AlexNet (ImageNet weights when cached, else untrained, as it says) and
computes the index per layer; then compares every layer with every patch (Figure 6: stimulus
bootstrap, split-half noise ceilings, Shapley split into reflection-invariant and -sensitive
parts). Figures and tables go to DIR. ``--neural PATH`` runs the patch part on recordings of
your own (``--stimuli IMAGES`` adds the network part on the images shown); every command that
reads recordings takes the layout options (``--layout``, ``--order``, ``--n-identities``,
``--views``, ``--patches``, ``--orientation``), says the layout it used and writes it to
``layout.csv``. ``rsa-mirror align`` runs the comparison alone, for any model and recordings.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from ._utils import atomic_path
from .errors import RsaMirrorError


def main(argv=None) -> int:
    """Entry point of ``rsa-mirror``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="rsa-mirror", description=__doc__.split("\n\n")[0])
    debug_help = "show the whole traceback of an error"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    commands = parser.add_subparsers(dest="command", required=True)
    layout = _recordings_options()
    demo = commands.add_parser(
        "demo", parents=[layout], help="default study: patch RDMs and mirror-symmetry index per patch"
    )
    demo.add_argument("--out", type=Path, default=Path("rsa_mirror_demo"), help="output folder (created)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the simulated recordings (default 0)")
    demo.add_argument(
        "--neural",
        type=Path,
        default=None,
        help="folder of neural_vecs_<PATCH>.mat files (or one .mat) instead of simulated data; only the "
        "recordings are analysed unless --stimuli is given",
    )
    demo.add_argument(
        "--stimuli",
        type=Path,
        default=None,
        help="with --neural: the images shown (.npz, folder, .mat; descriptors identity and view_deg), "
        "to compare the recordings with AlexNet",
    )
    demo.add_argument("--patches-only", action="store_true", help="skip the rendered faces through AlexNet")
    mat_help = "also write the results to this .mat file (MATLAB/Octave: rsa_mirror_load)"
    demo.add_argument("--mat", type=Path, default=None, help=mat_help)
    render = commands.add_parser(
        "render", help="render the paper's 3D objects or FIV-like faces to a .npz stimulus set"
    )
    render.add_argument("--out", type=Path, required=True, help="output folder (created)")
    render.add_argument("--set", choices=("objects", "faces"), default="objects", help="what to render")
    render.add_argument("--n-exemplars", type=int, default=25, help="exemplars per category, or identities")
    render.add_argument("--size", type=int, default=227, help="image size in pixels")
    render.add_argument("--seed", type=int, default=0)
    commands.add_parser("fetch-face-mesh", help="download the menpo3d template face mesh (BSD-3-Clause) via pip")
    msvt = commands.add_parser("msvt", help="Figure 2: the index per layer and category, network vs untrained")
    equivariance = commands.add_parser("equivariance", help="Figure 3: invariance and equivariance per layer")
    for command in (msvt, equivariance):
        command.add_argument("--mat", type=Path, default=None, help=mat_help)
        command.add_argument("--out", type=Path, required=True, help="output folder (created)")
        command.add_argument("--model", default="alexnet", help="alexnet, vgg16, resnet50, convnext_tiny, vit_b_16")
        command.add_argument("--weights", default="imagenet", help="imagenet, untrained or a state-dict file")
        command.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
        command.add_argument("--batch-size", type=int, default=32)
        command.add_argument("--size", type=int, default=None, help="image size (default: the model's)")
        command.add_argument("--seed", type=int, default=0, help="seed of stimuli and of the untrained network")
    msvt.add_argument("--stimuli", type=Path, default=None, help=".npz stimulus set (default: render the objects)")
    msvt.add_argument("--n-exemplars", type=int, default=25, help="exemplars per category when rendering")
    equivariance.add_argument("--images", choices=("objects", "natural", "noise"), default="objects")
    equivariance.add_argument("--n-images", type=int, default=243)
    align = commands.add_parser(
        "align", parents=[layout], help="Figure 6: every layer vs every patch, bootstrap, noise ceilings, Shapley split"
    )
    source = align.add_mutually_exclusive_group(required=True)
    source.add_argument("--neural", type=Path, help="folder of neural_vecs_<PATCH>.mat files (or one .mat)")
    source.add_argument("--simulate", action="store_true", help="simulated MLMF/AL/AM recordings (seed --seed)")
    align.add_argument(
        "--stimuli", type=Path, default=None, help="stimulus set (.npz, folder, .mat) with identity and view_deg"
    )
    align.add_argument("--out", type=Path, required=True, help="output folder (created)")
    align.add_argument("--model", default="alexnet", help="alexnet, vgg16, resnet50, convnext_tiny, vit_b_16")
    align.add_argument("--weights", default="imagenet", help="imagenet, untrained or a state-dict file")
    align.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    align.add_argument("--batch-size", type=int, default=32)
    align.add_argument("--n-bootstrap", type=int, default=1000)
    align.add_argument("--n-splits", type=int, default=100, help="neuron splits per noise ceiling")
    align.add_argument("--method", choices=("pearson", "spearman", "tau-a"), default="pearson")
    align.add_argument("--seed", type=int, default=0)
    align.add_argument("--n-jobs", type=int, default=None, help="joblib workers (default: joblib's)")
    align.add_argument("--mat", type=Path, default=None, help=mat_help)
    training = commands.add_parser("train", help="Figure 4: train a control network, then its index per layer")
    training.add_argument("--dataset", choices=("digits", "rendered", "cifar10", "svhn"), default="digits")
    training.add_argument("--regime", choices=("original", "mirror_invariant", "mirror_sensitive"), default="original")
    training.add_argument("--seed", type=int, default=0)
    training.add_argument("--out", type=Path, required=True, help="output folder (a rerun resumes from its checkpoint)")
    training.add_argument("--epochs", type=int, default=None, help="default: the dataset's schedule (see README)")
    training.add_argument("--batch-size", type=int, default=None)
    training.add_argument("--lr", type=float, default=None)
    training.add_argument("--device", default="auto")
    training.add_argument("--root", type=Path, default=None, help="folder of torchvision's cifar10/svhn files")
    training.add_argument("--download", action="store_true", help="let torchvision download cifar10/svhn (internet)")
    training.add_argument("--n-per-class", type=int, default=1000, help="images per category of 'rendered'")
    training.add_argument("--mat", type=Path, default=None, help=mat_help)
    importance = commands.add_parser("importance", help="Figure 5: RISE maps of mirror-symmetric units, insertion")
    importance.add_argument("--out", type=Path, required=True, help="output folder (RISE checkpoints kept there)")
    importance.add_argument("--model", default="alexnet", help="a torchvision model, or control (rsa-mirror train)")
    importance.add_argument(
        "--weights",
        default=None,
        help="imagenet (default), untrained or a state-dict file; for --model control: shipped (default) or "
        "a network file written by rsa-mirror train",
    )
    importance.add_argument("--layer", default="fc6")
    importance.add_argument("--categories", nargs="+", default=["car", "face", "chair"])
    importance.add_argument("--n-exemplars", type=int, default=1)
    importance.add_argument("--n-masks", type=int, default=5000)
    importance.add_argument("--size", type=int, default=None, help="rendered image size (default 227; control 64)")
    importance.add_argument("--batch-size", type=int, default=256)
    importance.add_argument("--compile", action="store_true", help="torch.compile the RISE pass (large GPU runs)")
    importance.add_argument(
        "--index-units", choices=("selected", "layer"), default="selected", help="units of panel D's index"
    )
    importance.add_argument("--device", default="auto")
    importance.add_argument("--seed", type=int, default=0)
    importance.add_argument("--mat", type=Path, default=None, help=mat_help)
    export = commands.add_parser(
        "export-mat", parents=[layout], help="patch RDMs to a .mat file in the MATLAB RSA toolbox layout"
    )
    export_source = export.add_mutually_exclusive_group(required=True)
    export_source.add_argument("--neural", type=Path, help="folder of neural_vecs_<PATCH>.mat files (or one .mat)")
    export_source.add_argument("--simulate", action="store_true", help="simulated recordings (seed --seed)")
    export.add_argument("--seed", type=int, default=0)
    export.add_argument("--out", type=Path, required=True, help="the .mat file to write")
    export.add_argument("--format", choices=("v7", "v7.3"), default="v7")
    export.add_argument(
        "--mirror-views", action="store_true", help="only the views with a mirror view (default: every row)"
    )
    imported = commands.add_parser("import-mat", help="RDMs from a MATLAB .mat file to rsatoolbox's HDF5 format")
    imported.add_argument(
        "mat", type=Path, help=".mat file (struct array, 3-D stack, vectors, cell array; any version)"
    )
    imported.add_argument(
        "--variable", default=None, help="variable holding the RDMs (default: RDMs, RDM or the only one)"
    )
    imported.add_argument("--out", type=Path, required=True, help="rsatoolbox RDMs file to write (.hdf5)")
    for command in commands.choices.values():
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
    args = parser.parse_args(argv)
    try:
        _check_counts(args)
        if args.command == "render":
            return run_render(args.out, which=args.set, n=args.n_exemplars, size=args.size, seed=args.seed)
        if args.command in ("msvt", "equivariance"):
            return run_network_study(args)
        if args.command == "align":
            return run_align(args)
        if args.command in ("export-mat", "import-mat"):
            return run_mat_exchange(args)
        if args.command == "train":
            return run_train(args)
        if args.command == "importance":
            return run_importance(args)
        if args.command == "fetch-face-mesh":
            from .faces import fetch_face_mesh

            print(f"face mesh written to {fetch_face_mesh()}")
            return 0
        return run_demo(args)
    except (RsaMirrorError, OSError, ValueError) as error:  # bad input: one line, exit 2
        if args.debug:
            raise
        cli_message = getattr(error, "message", None)  # says it in command-line words (--weights untrained)
        text = (
            cli_message(cli=True)
            if callable(cli_message)
            else _with_options(str(error), commands.choices[args.command])
        )
        print(f"rsa-mirror {args.command}: error: {text}", file=sys.stderr)
        return 2
    except Exception as error:  # anything else is a bug
        if args.debug:
            raise
        print(
            f"rsa-mirror {args.command}: internal error ({type(error).__name__}: {error}); this is a bug in "
            "rsa_mirror: run again with --debug for the traceback, and report it",
            file=sys.stderr,
        )
        return 1


# Count options, checked before any work; n_bootstrap needs two resamples for a standard deviation.
COUNTS = {
    "batch_size": 1, "n_bootstrap": 2, "n_splits": 1, "n_masks": 1, "n_exemplars": 1, "n_images": 1,
    "epochs": 1, "size": 1, "n_per_class": 1, "n_identities": 1,
}  # fmt: skip


def _check_counts(args):
    from ._utils import check_count

    for name, minimum in COUNTS.items():
        if getattr(args, name, None) is not None:
            check_count(name, getattr(args, name), minimum=minimum)


def _with_options(message, command) -> str:
    """A library message in command-line words: "Invalid value for 'n_masks'" gains "(--n-masks)"."""
    for action in command._actions:
        if action.option_strings and action.dest != "help":
            message = message.replace(f"'{action.dest}'", f"'{action.dest}' ({action.option_strings[-1]})", 1)
    return message


def _recordings_options() -> argparse.ArgumentParser:
    """Options of every command that reads recordings: how their rows are laid out."""
    from neural_data.io import ORIENTATIONS

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


def _stated_layout(args):
    """The layout the options state, or None (the files' metadata, else the FIV default)."""
    from neural_data import StimulusLayout

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


def _load_recordings(command, args):
    """Recordings from --neural with the layout options, the layout said in one line."""
    from neural_data import load_freiwald_tsao
    from neural_data.layout import DEFAULT_SOURCE

    recordings = load_freiwald_tsao(
        args.neural, patches=args.patches, layout=_stated_layout(args), orientation=args.orientation
    )
    default = recordings.layout.source == DEFAULT_SOURCE
    hint = " (state it with --layout, --order, --n-identities or --views)" if default else ""
    print(f"rsa-mirror {command}: recordings in {args.neural}: {recordings}")
    print(f"rsa-mirror {command}: layout {recordings.layout.describe()}{hint}")
    return recordings


def _simulated_recordings(command, args):
    from neural_data import simulate_face_patches

    if any(getattr(args, key) is not None for key in ("layout", "order", "n_identities", "views", "patches")) or (
        args.orientation != "auto"
    ):
        raise ValueError(
            "the layout options (--layout, --order, --n-identities, --views, --patches, --orientation) go with --neural"
        )
    recordings = simulate_face_patches(random_state=args.seed)
    print(f"rsa-mirror {command}: simulated recordings (seed {args.seed}): layout {recordings.layout.describe()}")
    return recordings


def _mirror_views(command, recordings, purpose):
    """The recordings' mirror-paired views, saying which views are left out and why."""
    unpaired = recordings.unpaired_views()
    if unpaired:
        print(f"rsa-mirror {command}: {purpose} uses the views with a mirror view; left out: {', '.join(unpaired)}")
    return recordings.mirror_views()


def _write_layout(recordings, path):
    """The descriptors of every row used, one row per stimulus (StimulusLayout.from_table reads it)."""
    rows = recordings[recordings.patches[0]].obs_descriptors
    _write_csv(pd.DataFrame({k: np.asarray(v) for k, v in rows.items()}), path, index=False)


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
    _save_figure(figure, Path(out) / "stimuli.png")
    print(f"{len(stimuli)} images ({which}) written to {path}; contact sheet {Path(out) / 'stimuli.png'}")
    return 0


def run_network_study(args) -> int:
    """``rsa-mirror msvt`` (Figure 2) and ``rsa-mirror equivariance`` (Figure 3)."""
    matplotlib.use("Agg")
    from . import load_model, measure_equivariance, model_view_rdms, msvt_by_object, msvt_chance_level
    from .models import INPUT_SIZE
    from .render import render_objects
    from .stimuli import load_stimuli, natural_images, noise_images
    from .vis import plot_equivariance, plot_msvt_categories, plot_view_rdms

    networks = [load_model(args.model, weights=args.weights, random_state=args.seed)]
    if args.weights != "untrained":
        networks.append(load_model(args.model, weights="untrained", random_state=args.seed))
    size = args.size or INPUT_SIZE.get(args.model, 224)
    out, options = Path(args.out), {"device": args.device, "batch_size": args.batch_size, "verbose": True}
    if args.command == "msvt":
        if args.stimuli is not None:
            stimuli = load_stimuli(args.stimuli)
            missing = [k for k in ("object", "category", "view_deg") if k not in stimuli.descriptors]
            if missing:
                raise ValueError(
                    f"--stimuli {args.stimuli}: Figure 2 needs the descriptors object, category and view_deg; "
                    f"missing {', '.join(missing)} (it has {', '.join(stimuli.descriptors) or 'none'})"
                )
        else:
            stimuli = render_objects(n_exemplars=args.n_exemplars, size=size, random_state=args.seed, verbose=True)
        tables, view_rdms = {}, {}
        for network in networks:
            view_rdms[network.weights] = model_view_rdms(network, stimuli, "all", **options)
            table = msvt_by_object(view_rdms[network.weights])
            tables[f"{args.model}, {network.weights}"] = table.rename(columns={"name": "layer"})
        combined = pd.concat([t.assign(network=label) for label, t in tables.items()], ignore_index=True)
        _write_csv(combined, out / "msvt_by_object.csv", index=False)
        _write_mat(args.mat, {"msvt_by_object": combined})
        n_views = len(np.unique(stimuli.descriptors["view_deg"]))
        figure = plot_msvt_categories(tables, layer_key="layer", chance_level=msvt_chance_level(n_views))
        _save_figure(figure, out / "msvt_figure2.png")
        first = networks[0].weights  # Figure 2A: the first exemplar of each category, every layer
        examples = list(dict.fromkeys(combined.drop_duplicates("category")["object"]))
        panels = plot_view_rdms(view_rdms[first], objects=examples, msvt=msvt_by_object(view_rdms[first]))
        panels.suptitle(f"{args.model}, {first}", fontsize=9)
        _save_figure(panels, out / "view_rdms_figure2a.png")
        summary = combined.groupby(["network", "layer", "category"], sort=False)["msvt"].mean().unstack("category")
        print(summary.to_string(float_format=lambda v: f"{v:.2f}"))
        print(f"Wrote {out / 'msvt_by_object.csv'}, {out / 'msvt_figure2.png'}, {out / 'view_rdms_figure2a.png'}")
        return 0
    if args.images == "objects":
        stimuli = render_objects(n_exemplars=max(1, args.n_images // 81), size=size, random_state=args.seed)
    else:
        make = natural_images if args.images == "natural" else noise_images
        stimuli = make(args.n_images, size=size, random_state=args.seed)
    tables = {
        f"{args.model}, {n.weights}, {args.images}": measure_equivariance(n, stimuli, "all", **options)
        for n in networks
    }
    combined = pd.concat([t.assign(network=label) for label, t in tables.items()], ignore_index=True)
    _write_csv(combined, out / "equivariance.csv", index=False)
    _write_mat(args.mat, {"equivariance": combined})
    _save_figure(plot_equivariance(tables), out / "equivariance_figure3.png")
    print(combined.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"Wrote {out / 'equivariance.csv'} and {out / 'equivariance_figure3.png'}")
    return 0


def run_demo(args) -> int:
    """Run the default study and write its outputs to ``args.out`` (see the module docstring)."""
    matplotlib.use("Agg")
    from neural_data import load_freiwald_tsao

    out = Path(args.out)
    if args.neural is None:
        if args.stimuli is not None:
            raise ValueError("--stimuli goes with --neural (the simulated recordings are compared with rendered faces)")
        folder = _simulated_recordings("demo", args).save(out / "recordings")
        recordings = load_freiwald_tsao(folder)
        print(f"rsa-mirror demo: written to and read back from {folder}: layout {recordings.layout.describe()}")
    else:
        recordings = _load_recordings("demo", args)
    _write_layout(recordings, out / "layout.csv")
    results = {"msvt_by_patch": _demo_patches(out, recordings)}
    if args.patches_only or (args.neural is not None and args.stimuli is None):
        if not args.patches_only:
            print("(recordings only: give --stimuli, the images shown, to compare them with AlexNet)")
        _write_mat(args.mat, results)
        return 0
    paired = _mirror_views("demo", recordings, "the comparison with AlexNet")
    if args.stimuli is None:
        faces = _rendered_faces(paired, size=227, seed=args.seed)
        title = f"Rendered faces ({faces.descriptors['mesh'][0]})"
    else:
        from .stimuli import load_stimuli

        faces = load_stimuli(args.stimuli).aligned_to(paired[paired.patches[0]].obs_descriptors)
        title = f"Stimuli {args.stimuli}"
    model, results["msvt_by_layer"] = _demo_network(out, faces, title=title, seed=args.seed)
    options = {"n_bootstrap": 1000, "n_splits": 100, "method": "pearson", "n_jobs": None}
    results["alignment"] = _alignment_study(
        out, paired, faces, model, seed=args.seed, device="auto", batch_size=32, **options
    )
    _write_mat(args.mat, results)
    return 0


def _demo_patches(out, recordings):
    """Patch RDMs (every row) and the index per patch: patch_rdms.png, msvt_summary.csv, msvt_by_identity.csv."""
    from . import compute_rdms, msvt_by_object, msvt_chance_level, summarize_msvt
    from .rdm import mirror_paired
    from .vis import plot_rdms

    rdms = compute_rdms(recordings)
    table = msvt_by_object(recordings, object_key="identity").rename(columns={"name": "patch"})
    summary = summarize_msvt(table, by=("patch",))
    yaw = np.asarray(recordings[recordings.patches[0]].obs_descriptors["view_deg"], dtype=float)
    n_views = len(np.unique(yaw[mirror_paired(yaw)]))
    summary.insert(0, "n_neurons", [recordings[p].n_channel for p in summary.index])
    summary["chance_level"] = msvt_chance_level(n_views)
    _write_csv(table, out / "msvt_by_identity.csv", index=False)
    _write_csv(summary, out / "msvt_summary.csv")
    titles = [f"{patch}: MSVT index {row.msvt_mean:.2f} ± {row.msvt_sem:.3f}" for patch, row in summary.iterrows()]
    _save_figure(plot_rdms(rdms, titles=titles), out / "patch_rdms.png")
    left_out = summary["views_left_out"].iloc[0]
    print(f"Patch RDMs over all {rdms.n_cond} stimuli.")
    print(f"Mirror-symmetric viewpoint tuning index per patch (mean ± SEM over identities; {n_views} views", end="")
    print(f"; left out for want of a mirror view: {left_out}):" if left_out else "):")
    print(summary.drop(columns="views_left_out").to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"(a view-invariant representation gives {msvt_chance_level(n_views):.3f}, not 0: see msvt_chance_level)")
    print(f"Wrote {out / 'patch_rdms.png'}, {out / 'msvt_summary.csv'}, {out / 'msvt_by_identity.csv'}, layout.csv")
    return summary


def _demo_network(out, faces, *, title, seed=0):
    """Faces through AlexNet: the index per layer (msvt_by_layer.csv/.png).

    Without ImageNet weights the AlexNet is untrained, and the shipped control network (trained
    on rendered symmetric categories, no faces) is measured beside it, so that the figure still
    compares a trained with an untrained network (msvt_by_layer_control.csv).

    Returns the model (for the alignment that follows) and the summary table.
    """
    import matplotlib.pyplot as plt

    from . import load_model, model_view_rdms, msvt_by_object, msvt_chance_level, summarize_msvt
    from .models import WeightsUnavailableError
    from .vis import plot_msvt_by_layer

    networks = []
    try:
        model = load_model("alexnet", weights="imagenet")
    except WeightsUnavailableError as error:
        print(f"ImageNet weights unavailable ({str(error).split(',')[0]}): using an untrained AlexNet instead,")
        print("and beside it the shipped control network trained on rendered symmetric categories (no faces)")
        from .training import load_shipped_network

        model = load_model("alexnet", weights="untrained", random_state=seed)
        networks.append(("control network", load_shipped_network().loaded(), out / "msvt_by_layer_control.csv"))
    networks.insert(0, ("AlexNet", model, out / "msvt_by_layer.csv"))
    figure, axes = plt.subplots(
        1, len(networks), figsize=(6.0 * len(networks), 3.6), squeeze=False, layout="constrained"
    )
    n_views = len(np.unique(faces.descriptors["view_deg"]))
    summaries = []
    for ax, (name, network, csv) in zip(axes[0], networks, strict=True):
        view_rdms = model_view_rdms(network, faces, "all", object_key="identity", device="auto")
        summary = summarize_msvt(msvt_by_object(view_rdms).rename(columns={"name": "layer"}), by=("layer",))
        _write_csv(summary, csv)
        plot_msvt_by_layer({f"{name}, {network.weights}": summary}, chance_level=msvt_chance_level(n_views), ax=ax)
        print(f"\n{title} through {name} ({network.weights}); index per layer (mean ± SEM over identities):")
        print(summary.drop(columns="views_left_out").to_string(float_format=lambda v: f"{v:.3f}"))
        summaries.append(summary)
    n_identities = len(np.unique(faces.descriptors["identity"]))
    figure.suptitle(f"{title}, {n_identities} identities x {n_views} views", fontsize=10)
    _save_figure(figure, out / "msvt_by_layer.png")
    print(f"Wrote {out / 'msvt_by_layer.png'}, {', '.join(str(csv) for _, _, csv in networks)}")
    return model, summaries[0]


def run_align(args) -> int:
    """``rsa-mirror align``: Figure 6 for one model against recorded or simulated patches."""
    matplotlib.use("Agg")
    from . import load_model
    from .models import INPUT_SIZE, check_weights
    from .stimuli import load_stimuli

    if args.neural is not None and args.stimuli is None:
        raise ValueError("--neural needs --stimuli: the images shown, with identity and view_deg descriptors")
    check_weights(args.model, args.weights)  # before any loading or rendering
    recordings = _simulated_recordings("align", args) if args.simulate else _load_recordings("align", args)
    recordings = _mirror_views("align", recordings, "the comparison")
    _write_layout(recordings, Path(args.out) / "layout.csv")
    size = INPUT_SIZE.get(args.model, 224)
    if args.stimuli is not None:
        stimuli = load_stimuli(args.stimuli)
    else:
        stimuli = _rendered_faces(recordings, size=size, seed=args.seed)
    model = load_model(args.model, weights=args.weights, random_state=args.seed)
    options = {
        key: getattr(args, key) for key in ("n_bootstrap", "n_splits", "method", "n_jobs", "device", "batch_size")
    }
    result = _alignment_study(args.out, recordings, stimuli, model, seed=args.seed, **options)
    _write_mat(args.mat, result)
    return 0


def _rendered_faces(recordings, *, size, seed):
    """FIV-like rendered faces for the identities and yaw views of the recordings."""
    from .faces import render_faces

    patterns = recordings[recordings.patches[0]].obs_descriptors
    views = sorted(set(np.asarray(patterns["view_deg"]).tolist()))
    n_identities = len(set(np.asarray(patterns["identity"]).tolist()))
    return render_faces(n_identities=n_identities, views_deg=views, size=size, random_state=seed)


def _alignment_study(
    out, recordings, stimuli, model, *, n_bootstrap, n_splits, method, seed, n_jobs, device, batch_size
):
    """Activations of the stimuli and their mirror images, then Figure 6: CSV, figure, samples."""
    import matplotlib.pyplot as plt

    from .activations import extract_activations
    from .inference import brain_alignment
    from .vis import plot_alignment, plot_shapley

    out = Path(out)
    stimuli = stimuli.aligned_to(recordings[recordings.patches[0]].obs_descriptors)
    options = {"device": device, "batch_size": batch_size}
    f_x = extract_activations(model, stimuli, "all", **options)
    f_gx = extract_activations(model, stimuli.mirrored(), "all", **options)
    result = brain_alignment(
        f_x,
        f_gx,
        recordings,
        n_bootstrap=n_bootstrap,
        n_splits=n_splits,
        method=method,
        random_state=seed,
        n_jobs=n_jobs,
    )
    del f_x, f_gx
    summary = result.summary()
    _write_csv(summary, out / "alignment.csv", index=False)
    comparison = result.comparison
    with atomic_path(out / "bootstrap_samples.npz") as tmp, open(tmp, "wb") as file:
        np.savez_compressed(
            file,
            samples=comparison.samples,
            indices=comparison.indices,
            patches=np.array(comparison.brain_names),
            layers=np.array(comparison.model_names),
            shapley_samples=result.shapley.samples,
            components=np.array(result.shapley.component_names),
        )
    n_patches = len(comparison.brain_names)
    figure, axes = plt.subplots(
        2, n_patches, figsize=(3.6 * n_patches, 6.8), sharey="row", squeeze=False, layout="constrained"
    )
    plot_alignment(comparison, axes=axes[0])
    plot_shapley(result.shapley, axes=axes[1])
    figure.suptitle(f"{model.name} ({model.weights}) vs face patches, {n_bootstrap} stimulus resamples", fontsize=10)
    _save_figure(figure, out / "alignment_figure6.png")
    best = summary.loc[summary.groupby("patch", sort=False)["estimate"].idxmax()]
    columns = [
        "patch",
        "layer",
        "estimate",
        "std",
        "ceiling_lower",
        "ceiling_upper",
        "invariant",
        "sensitive",
    ]
    print(f"\nModel-brain alignment ({model.name}, {model.weights}; {method} r, bootstrap SD, split-half ceiling")
    print("bounds, Shapley parts of r); best layer per patch:")
    print(best[columns].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"Wrote {out / 'alignment.csv'}, {out / 'alignment_figure6.png'}, {out / 'bootstrap_samples.npz'}")
    return result


def run_train(args) -> int:
    """``rsa-mirror train``: one control network, its history and its index per layer."""
    matplotlib.use("Agg")
    from . import msvt_chance_level, summarize_msvt
    from .render import render_objects
    from .training import control_msvt, load_dataset, save_network, train
    from .vis import plot_control_networks, plot_training_curves

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_dataset(
        args.dataset, root=args.root, download=args.download, n_per_class=args.n_per_class, random_state=args.seed
    )
    options = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr}
    result = train(
        data,
        regime=args.regime,
        random_state=args.seed,
        device=args.device,
        checkpoint=out / "checkpoint.pt",
        verbose=True,
        **options,
    )
    save_network(out / "network.pt", result)
    _write_csv(result.history, out / "history.csv", index=False)
    label = f"{args.dataset}, {args.regime}, seed {args.seed}"
    _save_figure(plot_training_curves({label: result.history}), out / "training_curves.png")
    objects = render_objects(n_exemplars=3, size=64, random_state=args.seed)
    table = control_msvt(result, objects, device=args.device)
    _write_csv(table, out / "msvt_by_object.csv", index=False)
    dashed = (label,) if args.regime == "mirror_sensitive" else ()
    figure = plot_control_networks({label: table}, dashed=dashed, chance_level=msvt_chance_level(9))
    _save_figure(figure, out / "msvt_figure4.png")
    last = result.history.iloc[-1]
    print(f"{label}: {len(result.history)} epochs, validation accuracy {last.val_accuracy:.3f}")
    summary = summarize_msvt(table, by=("layer", "category")).msvt_mean.unstack("category")
    print(summary.to_string(float_format=lambda v: f"{v:.2f}"))
    print(f"Wrote {out / 'network.pt'}, history.csv, training_curves.png, msvt_by_object.csv, msvt_figure4.png")
    _write_mat(args.mat, {"history": result.history, "msvt_by_object": table})
    return 0


def run_importance(args) -> int:
    """``rsa-mirror importance``: Figure 5 on rendered objects (resumable)."""
    matplotlib.use("Agg")
    from . import load_model
    from .importance import importance_study
    from .render import render_objects
    from .vis import plot_importance_study

    out = Path(args.out)
    if args.model == "control":
        from .training import load_network, load_shipped_network

        shipped = args.weights in (None, "shipped")
        model = (load_shipped_network() if shipped else load_network(args.weights)).loaded()
    else:
        model = load_model(args.model, weights=args.weights or "imagenet", random_state=args.seed)
    size = args.size or (64 if args.model == "control" else 227)
    categories, exemplars = args.categories, args.n_exemplars
    stimuli = render_objects(categories=categories, n_exemplars=exemplars, size=size, random_state=args.seed)
    result = importance_study(
        model,
        stimuli,
        args.layer,
        n_masks=args.n_masks,
        batch_size=args.batch_size,
        device=args.device,
        random_state=args.seed,
        checkpoint_dir=out / "rise_checkpoints",
        compile=args.compile,
        index_units=args.index_units,
        verbose=True,
    )
    for name in ("tuning", "similarity", "msvt", "summary"):
        table = result.summary() if name == "summary" else getattr(result, name)
        _write_csv(table, out / f"{name}.csv", index=False)
    for name in ("maps", "unit_maps"):  # population and best-unit maps, (n_views, H, W) per object
        with atomic_path(out / f"{name}.npz") as tmp, open(tmp, "wb") as file:
            np.savez_compressed(file, **{str(k): v for k, v in getattr(result, name).items()})
    _save_figure(plot_importance_study(result, stimuli), out / "figure5.png")
    print(f"{args.model} ({model.weights}), {args.layer}: per object")
    print(result.summary().to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(
        result.similarity.groupby("threshold")[["r_insertion", "r_deletion"]]
        .mean()
        .to_string(float_format=lambda v: f"{v:.3f}")
    )
    print(f"Wrote {out / 'figure5.png'}, summary.csv, tuning.csv, similarity.csv, msvt.csv, maps.npz, unit_maps.npz")
    tables = {"summary": result.summary(), "tuning": result.tuning, "similarity": result.similarity}
    _write_mat(args.mat, {**tables, "msvt": result.msvt})
    return 0


def run_mat_exchange(args) -> int:
    """``rsa-mirror export-mat`` (patch RDMs -> .mat) and ``import-mat`` (.mat RDMs -> rsatoolbox)."""
    from matlab_bridge import load_rdms, save_rdms

    from . import compute_rdms

    if args.command == "export-mat":
        recordings = (
            _simulated_recordings("export-mat", args) if args.simulate else _load_recordings("export-mat", args)
        )
        if args.mirror_views:
            recordings = _mirror_views("export-mat", recordings, "--mirror-views")
        rdms = compute_rdms(recordings)
        save_rdms(args.out, rdms, format=args.format)
        layout = Path(args.out).with_suffix(".layout.csv")
        _write_layout(recordings, layout)
        names = ", ".join(rdms.rdm_descriptors["name"])
        print(f"{rdms.n_rdm} RDMs ({names}; {rdms.n_cond} x {rdms.n_cond} stimuli) written to {args.out}")
        print(f"the stimulus of each row: {layout}")
        return 0
    rdms = load_rdms(args.mat, variable=args.variable)
    with atomic_path(args.out) as tmp:
        rdms.save(str(tmp), file_type="hdf5", overwrite=True)
    names = rdms.rdm_descriptors.get("name", [str(i + 1) for i in range(rdms.n_rdm)])
    print(f"{rdms.n_rdm} RDMs of {rdms.n_cond} stimuli ({', '.join(map(str, names))}) read from {args.mat}")
    print(f"written to {args.out} (rsatoolbox.rdm.load_rdm reads it)")
    return 0


def _write_mat(path, result):
    """Write the results of a command to ``path`` (when --mat was given)."""
    if path is None:
        return
    from matlab_bridge import save_results

    save_results(path, result)
    print(f"Wrote {path} (MATLAB/Octave: r = rsa_mirror_load('{path}'))")


def _write_csv(frame, path, **options):
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, **options)


def _save_figure(figure, path):
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=150)
    plt.close(figure)


if __name__ == "__main__":
    sys.exit(main())
