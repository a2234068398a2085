"""One ``run_<command>(args)`` per subcommand: the inputs the options name, one study, its files.

Each returns the exit status (0). The studies (``rsa_mirror.studies``) compute; ``write`` writes
and prints; nothing here is analysis.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

from .._utils import atomic_path
from ..symmetry import msvt_chance_level
from . import write
from .recordings import load_recordings, mirror_views, simulated_recordings

if TYPE_CHECKING:
    from ..networks.models import LoadedModel
    from ..stimuli.base import StimulusSet


def run_demo(args: argparse.Namespace) -> int:
    """``rsa-mirror demo``: the default study (see the package's command-line docstring)."""
    matplotlib.use("Agg")
    from neural_data import load_freiwald_tsao

    from ..networks.models import WeightsUnavailableError, check_weights
    from ..studies.demo import demo_networks, demo_study, patch_study
    from ..studies.figure6 import rendered_faces

    out = Path(args.out)
    if args.neural is None:
        if args.stimuli is not None:
            raise ValueError("--stimuli goes with --neural (the simulated recordings are compared with rendered faces)")
        folder = simulated_recordings("demo", args).save(out / "recordings")
        recordings = load_freiwald_tsao(folder)
        print(f"rsa-mirror demo: written to and read back from {folder}: layout {recordings.layout.describe()}")
    else:
        recordings = load_recordings("demo", args)
    write.write_layout(recordings, out / "layout.csv")
    if args.patches_only or (args.neural is not None and args.stimuli is None):
        patches = patch_study(recordings)
        write.write_patches(out, patches)
        if not args.patches_only:
            print("(recordings only: give --stimuli, the images shown, to compare them with AlexNet)")
        write.write_mat(args.mat, {"msvt_by_patch": patches.summary})
        return 0
    paired = mirror_views("demo", recordings, "the comparison with AlexNet")
    if args.stimuli is None:
        faces = rendered_faces(paired, size=227, random_state=args.seed)
        title = f"Rendered faces ({faces.descriptors['mesh'][0]})"
    else:
        faces = _stimuli(args).aligned_to(paired[paired.patches[0]].obs_descriptors)
        title = f"Stimuli {args.stimuli}"
    try:
        imagenet = check_weights("alexnet", "imagenet") is not None
    except WeightsUnavailableError as error:
        imagenet = False
        print(f"ImageNet weights unavailable ({str(error).split(',')[0]}): using an untrained AlexNet instead,")
        print("and beside it the shipped control network trained on rendered symmetric categories (no faces)")
    networks = demo_networks(imagenet=imagenet, seed=args.seed)
    result = demo_study(recordings, faces, networks, random_state=args.seed, normalize=args.normalize)
    write.write_patches(out, result.patches)
    write.write_layers(out, result.layers, faces, title=title)
    write.write_alignment(out, result.alignment, networks["AlexNet"])
    first = next(iter(result.layers.by_layer().values()))
    write.write_mat(
        args.mat, {"msvt_by_patch": result.patches.summary, "msvt_by_layer": first, "alignment": result.alignment}
    )
    return 0


def run_render(args: argparse.Namespace) -> int:
    """``rsa-mirror render``: a stimulus set to ``out/stimuli.npz`` with a contact sheet ``out/stimuli.png``."""
    matplotlib.use("Agg")
    from ..stimuli.faces import render_faces
    from ..stimuli.objects import render_objects
    from ..vis import plot_contact_sheet

    options: dict[str, Any] = {"size": args.size, "random_state": args.seed, "verbose": True}
    if args.set == "faces":
        stimuli = render_faces(n_identities=args.n_exemplars, **options)
    else:
        stimuli = render_objects(n_exemplars=args.n_exemplars, **options)
    path = stimuli.save(Path(args.out) / "stimuli.npz")
    write.save_figure(plot_contact_sheet(stimuli), Path(args.out) / "stimuli.png")
    print(f"{len(stimuli)} images ({args.set}) written to {path}; contact sheet {Path(args.out) / 'stimuli.png'}")
    return 0


def _stimuli(args: argparse.Namespace) -> StimulusSet:
    """The stimulus set of ``--stimuli``, a .mat one read with ``--stimuli-layout`` and ``--stimuli-names``."""
    from ..errors import FileFormatError
    from ..stimuli.io import load_stimuli

    options: dict[str, Any]
    if args.stimuli_layout is None and args.stimuli_names is None:
        options = {}
    elif Path(args.stimuli).suffix.lower() != ".mat":
        raise ValueError(f"--stimuli-layout and --stimuli-names describe a .mat --stimuli, not {args.stimuli}")
    else:
        options = {"layout": args.stimuli_layout, "names": args.stimuli_names}
    try:
        return load_stimuli(args.stimuli, **options)
    except FileFormatError as error:  # the library's argument names in command-line words
        text = str(error).replace("layout='", "--stimuli-layout '").replace("pass names=", "pass --stimuli-names")
        raise FileFormatError(text) from error


def run_projection_symmetry(args: argparse.Namespace) -> int:
    """``rsa-mirror projection-symmetry``: Figure 2—figure supplement 1 and the pixel-level index."""
    matplotlib.use("Agg")
    from ..projection_symmetry import projection_symmetry
    from ..stimuli.io import load_stimuli
    from ..stimuli.objects import render_objects

    if args.stimuli is not None:
        stimuli = load_stimuli(args.stimuli)
    else:
        stimuli = render_objects(n_exemplars=args.n_exemplars, size=args.size, random_state=args.seed, verbose=True)
    result = projection_symmetry(stimuli, angles_deg=args.angles)
    write.write_projection(args.out, result, stimuli)
    write.write_mat(args.mat, {"projection_symmetry": result})
    return 0


def run_fetch_face_mesh(args: argparse.Namespace) -> int:
    """``rsa-mirror fetch-face-mesh``: the menpo3d template face into the package's data folder."""
    from ..stimuli.faces import fetch_face_mesh

    print(f"face mesh written to {fetch_face_mesh(args.to, archive=args.archive)}")
    return 0


def _networks(args: argparse.Namespace) -> dict[str, LoadedModel]:
    """The network the options name and, unless it is untrained, an untrained one of the same kind."""
    from ..networks.models import load_model

    networks = [load_model(args.model, weights=args.weights, random_state=args.seed)]
    if args.weights != "untrained":
        networks.append(load_model(args.model, weights="untrained", random_state=args.seed))
    return {f"{args.model}, {network.weights}": network for network in networks}


def run_msvt(args: argparse.Namespace) -> int:
    """``rsa-mirror msvt``: Figure 2, the network and an untrained one."""
    matplotlib.use("Agg")
    from ..networks.models import INPUT_SIZE
    from ..stimuli.objects import render_objects
    from ..studies.figure2 import msvt_study

    networks = _networks(args)
    size, out = args.size or INPUT_SIZE.get(args.model, 224), Path(args.out)
    if args.stimuli is not None:
        stimuli = _stimuli(args)
        missing = [k for k in ("object", "category", "view_deg") if k not in stimuli.descriptors]
        if missing:
            raise ValueError(
                f"--stimuli {args.stimuli}: Figure 2 needs the descriptors object, category and view_deg; "
                f"missing {', '.join(missing)} (it has {', '.join(stimuli.descriptors) or 'none'})"
            )
    else:
        stimuli = render_objects(n_exemplars=args.n_exemplars, size=size, random_state=args.seed, verbose=True)
    result = msvt_study(networks, stimuli, device=args.device, batch_size=args.batch_size, verbose=True)
    write.write_mat(args.mat, write.write_msvt(out, result, stimuli))
    return 0


def run_equivariance(args: argparse.Namespace) -> int:
    """``rsa-mirror equivariance``: Figure 3, the network and an untrained one."""
    matplotlib.use("Agg")
    from ..networks.models import INPUT_SIZE
    from ..studies.figure3 import equivariance_study, figure3_images

    networks = _networks(args)
    size = args.size or INPUT_SIZE.get(args.model, 224)
    kinds = list(dict.fromkeys(args.images))
    if args.color and "objects" in kinds:
        raise ValueError("--color is for --images natural or noise (the rendered objects are gray)")
    image_sets = {
        kind: figure3_images(kind, args.n_images, size=size, color=args.color, random_state=args.seed) for kind in kinds
    }
    print(", ".join(f"{len(stimuli)} images ({kind})" for kind, stimuli in image_sets.items()))
    options: dict[str, Any] = {"device": args.device, "batch_size": args.batch_size, "verbose": True}
    result = equivariance_study(networks, image_sets, **options)
    write.write_mat(args.mat, {"equivariance": write.write_equivariance(args.out, result)})
    return 0


def run_align(args: argparse.Namespace) -> int:
    """``rsa-mirror align``: Figure 6 for one model against recorded or simulated patches."""
    matplotlib.use("Agg")
    from ..networks.models import INPUT_SIZE, check_weights, load_model
    from ..studies.figure6 import alignment_study, rendered_faces

    if args.neural is not None and args.stimuli is None:
        raise ValueError("--neural needs --stimuli: the images shown, with identity and view_deg descriptors")
    check_weights(args.model, args.weights)  # before any loading or rendering
    recordings = simulated_recordings("align", args) if args.simulate else load_recordings("align", args)
    recordings = mirror_views("align", recordings, "the comparison")
    write.write_layout(recordings, Path(args.out) / "layout.csv")
    if args.stimuli is not None:
        stimuli = _stimuli(args)
    else:
        stimuli = rendered_faces(recordings, size=INPUT_SIZE.get(args.model, 224), random_state=args.seed)
    model = load_model(args.model, weights=args.weights, random_state=args.seed)
    keys = ("n_bootstrap", "n_splits", "method", "normalize", "n_jobs", "device")
    options = {key: getattr(args, key) for key in keys}
    result = alignment_study(recordings, stimuli, model, random_state=args.seed, batch_size=args.batch_size, **options)
    write.write_alignment(args.out, result, model)
    write.write_mat(args.mat, result)
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    """``rsa-mirror sweep``: every preset layer of several networks against every patch; 3 if some network failed.

    Each network's RDMs are kept in ``out/rdms`` as its task ends; a rerun computes only the others.
    """
    matplotlib.use("Agg")
    from ..studies.figure6 import rendered_faces
    from ..studies.sweep import sweep_study
    from ..tasks import TaskError

    if args.neural is not None and args.stimuli is None:
        raise ValueError("--neural needs --stimuli: the images shown, with identity and view_deg descriptors")
    recordings = simulated_recordings("sweep", args) if args.simulate else load_recordings("sweep", args)
    recordings = mirror_views("sweep", recordings, "the comparison")
    write.write_layout(recordings, Path(args.out) / "layout.csv")
    stimuli = _stimuli(args) if args.stimuli is not None else rendered_faces(recordings, random_state=args.seed)
    keys = ("weights", "n_bootstrap", "n_splits", "method", "device", "batch_size", "threads", "scheduler", "n_jobs")
    options = {key: getattr(args, key) for key in keys}
    try:
        result = sweep_study(
            recordings, stimuli, args.models, random_state=args.seed, cache_dir=Path(args.out) / "rdms", **options
        )
    except TaskError as error:  # every network failed: their errors in command-line words
        raise TaskError(_cli_words(str(error))) from None
    write.write_sweep(args.out, result)
    write.write_mat(args.mat, {"sweep": result.summary(), "result": result})
    if result.failures:
        lines = "\n".join(f"  {_cli_words(failure)}" for failure in result.failures.values())
        print(
            f"rsa-mirror sweep: error: {len(result.failures)} of {len(args.models)} networks failed (the others were "
            f"compared and written):\n{lines}",
            file=sys.stderr,
        )
        return 3
    return 0


def _cli_words(text: str) -> str:
    """A task's error in command-line words (the weights' options as ``--weights``)."""
    return text.replace("weights=PATH", "--weights FILE").replace("weights='untrained'", "--weights untrained")


def run_train(args: argparse.Namespace) -> int:
    """``rsa-mirror train``: one control network, its history and its index per layer."""
    matplotlib.use("Agg")
    from ..networks.datasets import load_dataset
    from ..networks.files import save_network
    from ..stimuli.objects import render_objects
    from ..studies.figure4 import control_network_study
    from ..symmetry import summarize_msvt
    from ..vis import plot_control_networks, plot_training_curves

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_dataset(
        args.dataset, root=args.root, download=args.download, n_per_class=args.n_per_class, random_state=args.seed
    )
    objects = render_objects(n_exemplars=3, size=64, random_state=args.seed)
    options: dict[str, Any] = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "device": args.device,
    }
    options.update(regime=args.regime, variant=args.variant, patience=args.patience, random_state=args.seed)
    options.update(checkpoint=out / "checkpoint.pt", verbose=True)
    result = control_network_study(data, objects, **options)
    history, table = result.training.history, result.msvt
    save_network(out / "network.pt", result.training)
    write.write_csv(history, out / "history.csv", index=False)
    variant = ", released variant" if args.variant == "released" else ""
    label = f"{args.dataset}, {args.regime}{variant}, seed {args.seed}"
    write.save_figure(plot_training_curves({label: history}), out / "training_curves.png")
    write.write_csv(table, out / "msvt_by_object.csv", index=False)
    dashed = (label,) if args.regime == "mirror_sensitive" else ()
    figure = plot_control_networks({label: table}, dashed=dashed, chance_level=msvt_chance_level(9))
    write.save_figure(figure, out / "msvt_figure4.png")
    print(f"{label}: {len(history)} epochs, validation accuracy {history.iloc[-1].val_accuracy:.3f}")
    summary = summarize_msvt(table, by=("layer", "category")).msvt_mean.unstack("category")
    print(summary.to_string(float_format=lambda v: f"{v:.2f}"))
    print(f"Wrote {out / 'network.pt'}, history.csv, training_curves.png, msvt_by_object.csv, msvt_figure4.png")
    write.write_mat(args.mat, {"history": history, "msvt_by_object": table})
    return 0


def run_importance(args: argparse.Namespace) -> int:
    """``rsa-mirror importance``: Figure 5 on rendered objects (resumable)."""
    matplotlib.use("Agg")
    from ..stimuli.objects import render_objects
    from ..studies.figure5 import importance_network, importance_study

    out = Path(args.out)
    model = importance_network(args.model, weights=args.weights, random_state=args.seed)
    size = args.size or (64 if args.model == "control" else 227)
    objects: dict[str, Any] = {"categories": args.categories, "n_exemplars": args.n_exemplars, "size": size}
    stimuli = render_objects(**objects, random_state=args.seed)
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
        ranking=args.ranking,
        verbose=True,
    )
    tables = write.write_importance(out, result, stimuli)
    summary = tables["summary"]
    print(f"{args.model} ({model.weights}), {args.layer}, {args.ranking} ranking: per object")
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    means = result.similarity.groupby("threshold")[["r_insertion", "r_deletion"]].mean()
    print(means.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"Wrote {out / 'figure5.png'}, summary.csv, tuning.csv, similarity.csv, msvt.csv, maps.npz, unit_maps.npz")
    write.write_mat(args.mat, tables)
    return 0


def run_export_mat(args: argparse.Namespace) -> int:
    """``rsa-mirror export-mat``: patch RDMs (every row, or the mirror-paired views) to a .mat file."""
    from matlab_bridge import save_rdms

    from ..rdm import compute_rdms

    recordings = simulated_recordings("export-mat", args) if args.simulate else load_recordings("export-mat", args)
    if args.mirror_views:
        recordings = mirror_views("export-mat", recordings, "--mirror-views")
    rdms = compute_rdms(recordings)
    save_rdms(args.out, rdms, format=args.format)
    layout = Path(args.out).with_suffix(".layout.csv")
    write.write_layout(recordings, layout)
    names = ", ".join(rdms.rdm_descriptors["name"])
    print(f"{rdms.n_rdm} RDMs ({names}; {rdms.n_cond} x {rdms.n_cond} stimuli) written to {args.out}")
    print(f"the stimulus of each row: {layout}")
    return 0


def run_import_mat(args: argparse.Namespace) -> int:
    """``rsa-mirror import-mat``: RDMs of a MATLAB .mat file to rsatoolbox's HDF5 format."""
    from matlab_bridge import load_rdms

    rdms = load_rdms(args.mat, variable=args.variable)
    with atomic_path(args.out) as tmp:
        rdms.save(str(tmp), file_type="hdf5", overwrite=True)
    names = rdms.rdm_descriptors.get("name", [str(i + 1) for i in range(rdms.n_rdm)])
    print(f"{rdms.n_rdm} RDMs of {rdms.n_cond} stimuli ({', '.join(map(str, names))}) read from {args.mat}")
    print(f"written to {args.out} (rsatoolbox.rdm.load_rdm reads it)")
    return 0
