"""The ``rsa-mirror`` command line: one subcommand per study.

``rsa-mirror demo --out DIR`` is the default study on embedded data: it simulates the three
face patches (MLMF, AL, AM), writes them in the Freiwald-Tsao lab layout and loads them back
through the same loader a lab uses, builds the patch RDMs, computes the mirror-symmetric
viewpoint tuning index per patch; then renders FIV-like faces (25 identities x 5 views),
feeds them through AlexNet (ImageNet weights when cached, else untrained, as it says) and
computes the index per layer; then compares every layer with every patch (Figure 6: stimulus
bootstrap, split-half noise ceilings, Shapley split into reflection-invariant and -sensitive
parts). Figures and tables go to DIR. ``--neural PATH`` runs the patch part on recordings of
your own. ``rsa-mirror align`` runs the comparison alone, for any model and recordings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

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
        "align", help="Figure 6: every layer vs every patch, bootstrap, noise ceilings, Shapley split"
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
    export = commands.add_parser("export-mat", help="patch RDMs to a .mat file in the MATLAB RSA toolbox layout")
    export_source = export.add_mutually_exclusive_group(required=True)
    export_source.add_argument("--neural", type=Path, help="folder of neural_vecs_<PATCH>.mat files (or one .mat)")
    export_source.add_argument("--simulate", action="store_true", help="simulated recordings (seed --seed)")
    export.add_argument("--seed", type=int, default=0)
    export.add_argument("--out", type=Path, required=True, help="the .mat file to write")
    export.add_argument("--format", choices=("v7", "v7.3"), default="v7")
    imported = commands.add_parser("import-mat", help="RDMs from a MATLAB .mat file to rsatoolbox's HDF5 format")
    imported.add_argument(
        "mat", type=Path, help=".mat file (struct array, 3-D stack, vectors, cell array; any version)"
    )
    imported.add_argument(
        "--variable", default=None, help="variable holding the RDMs (default: RDMs, RDM or the only one)"
    )
    imported.add_argument("--out", type=Path, required=True, help="rsatoolbox RDMs file to write (.hdf5)")
    args = parser.parse_args(argv)
    try:
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
        return run_demo(args.out, seed=args.seed, neural=args.neural, network=not args.patches_only, mat=args.mat)
    except (OSError, ValueError, RuntimeError, TypeError) as error:
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


def run_demo(out, *, seed=0, neural=None, network=True, mat=None) -> int:
    """Run the default study and write its outputs to ``out`` (see the module docstring)."""
    matplotlib.use("Agg")
    from neural_data import load_freiwald_tsao, simulate_face_patches

    out = Path(out)
    simulated = neural is None
    if simulated:
        source = f"simulated recordings (seed {seed}), written to and read back from {out / 'recordings'}"
        neural = simulate_face_patches(random_state=seed).save(out / "recordings")
    else:
        source = f"recordings in {neural}"
    print(f"rsa-mirror demo: {source}")
    recordings = load_freiwald_tsao(neural).mirror_views()
    results = {"msvt_by_patch": _demo_patches(out, recordings)}
    if network:
        model, faces, results["msvt_by_layer"] = _demo_network(out, recordings, seed=seed)
        if simulated:  # the rendered faces stand in for the simulated recordings' stimuli
            options = {"n_bootstrap": 1000, "n_splits": 100, "method": "pearson", "n_jobs": None}
            alignment = _alignment_study(
                out, recordings, faces, model, seed=seed, device="auto", batch_size=32, **options
            )
            results["alignment"] = alignment
        else:
            print("(no alignment: your recordings' images are not the rendered faces; use rsa-mirror align --stimuli)")
    _write_mat(mat, results)
    return 0


def _demo_patches(out, recordings):
    """Patch RDMs and the index per patch: patch_rdms.png, msvt_summary.csv, msvt_by_identity.csv."""
    from . import compute_rdms, msvt_by_object, msvt_chance_level, summarize_msvt
    from .vis import plot_rdms

    rdms = compute_rdms(recordings)
    table = msvt_by_object(recordings, object_key="identity").rename(columns={"name": "patch"})
    summary = summarize_msvt(table, by=("patch",))
    n_views = len(set(recordings[recordings.patches[0]].obs_descriptors["view_deg"]))
    summary.insert(0, "n_neurons", [recordings[p].n_channel for p in summary.index])
    summary["chance_level"] = msvt_chance_level(n_views)
    _write_csv(table, out / "msvt_by_identity.csv", index=False)
    _write_csv(summary, out / "msvt_summary.csv")
    titles = [f"{patch}: MSVT index {row.msvt_mean:.2f} ± {row.msvt_sem:.3f}" for patch, row in summary.iterrows()]
    _save_figure(plot_rdms(rdms, titles=titles), out / "patch_rdms.png")
    print(f"Mirror-symmetric viewpoint tuning index per patch (mean ± SEM over identities; {n_views} views):")
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"(a view-invariant representation gives {msvt_chance_level(n_views):.3f}, not 0: see msvt_chance_level)")
    print(f"Wrote {out / 'patch_rdms.png'}, {out / 'msvt_summary.csv'}, {out / 'msvt_by_identity.csv'}")
    return summary


def _demo_network(out, recordings, *, seed=0):
    """Rendered FIV-like faces through AlexNet: the index per layer (msvt_by_layer.csv/.png).

    Without ImageNet weights the AlexNet is untrained, and the shipped control network (trained
    on rendered symmetric categories, no faces) is measured beside it, so that the figure still
    compares a trained with an untrained network (msvt_by_layer_control.csv).

    Returns the model and the faces (for the alignment that follows), and the summary table.
    """
    import matplotlib.pyplot as plt

    from . import load_model, model_view_rdms, msvt_by_object, msvt_chance_level, summarize_msvt
    from .vis import plot_msvt_by_layer

    faces = _rendered_faces(recordings, size=227, seed=seed)
    networks = []
    try:
        model = load_model("alexnet", weights="imagenet")
    except FileNotFoundError as error:
        print(f"ImageNet weights unavailable ({str(error).split(',')[0]}): using an untrained AlexNet instead,")
        print("and beside it the shipped control network trained on rendered symmetric categories (no faces)")
        from .training import load_shipped_network

        model = load_model("alexnet", weights="untrained", random_state=seed)
        networks.append(("control network", load_shipped_network().loaded(), out / "msvt_by_layer_control.csv"))
    networks.insert(0, ("AlexNet", model, out / "msvt_by_layer.csv"))
    figure, axes = plt.subplots(
        1, len(networks), figsize=(6.0 * len(networks), 3.6), squeeze=False, layout="constrained"
    )
    summaries = []
    for ax, (name, network, csv) in zip(axes[0], networks, strict=True):
        view_rdms = model_view_rdms(network, faces, "all", object_key="identity", device="auto")
        summary = summarize_msvt(msvt_by_object(view_rdms).rename(columns={"name": "layer"}), by=("layer",))
        _write_csv(summary, csv)
        plot_msvt_by_layer({f"{name}, {network.weights}": summary}, chance_level=msvt_chance_level(5), ax=ax)
        print(f"\nRendered faces through {name} ({network.weights}); index per layer (mean ± SEM over identities):")
        print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
        summaries.append(summary)
    figure.suptitle(f"Rendered faces ({faces.descriptors['mesh'][0]}), 25 identities x 5 views", fontsize=10)
    _save_figure(figure, out / "msvt_by_layer.png")
    print(f"Wrote {out / 'msvt_by_layer.png'}, {', '.join(str(csv) for _, _, csv in networks)}")
    summary = summaries[0]
    return model, faces, summary


def run_align(args) -> int:
    """``rsa-mirror align``: Figure 6 for one model against recorded or simulated patches."""
    matplotlib.use("Agg")
    from neural_data import load_freiwald_tsao, simulate_face_patches

    from . import load_model
    from .models import INPUT_SIZE
    from .stimuli import load_stimuli

    if args.simulate:
        recordings = simulate_face_patches(random_state=args.seed)
        print(f"rsa-mirror align: simulated recordings (seed {args.seed})")
    else:
        recordings = load_freiwald_tsao(args.neural).mirror_views()
        print(f"rsa-mirror align: recordings in {args.neural}")
    size = INPUT_SIZE.get(args.model, 224)
    if args.stimuli is not None:
        stimuli = load_stimuli(args.stimuli)
    elif args.simulate:
        stimuli = _rendered_faces(recordings, size=size, seed=args.seed)
    else:
        raise ValueError("--neural needs --stimuli: the images shown, with identity and view_deg descriptors")
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
        from neural_data import load_freiwald_tsao, simulate_face_patches

        if args.simulate:
            recordings = simulate_face_patches(random_state=args.seed)
        else:
            recordings = load_freiwald_tsao(args.neural).mirror_views()
        rdms = compute_rdms(recordings)
        save_rdms(args.out, rdms, format=args.format)
        names = ", ".join(rdms.rdm_descriptors["name"])
        print(f"{rdms.n_rdm} RDMs ({names}; {rdms.n_cond} stimuli) written to {args.out}")
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
