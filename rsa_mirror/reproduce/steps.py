"""The steps of ``rsa-mirror reproduce``: one per figure and supplement study, each a study plus its files.

A step function, ``run(settings, out, context)``, calls the package's study functions (the same
ones the subcommands call, ``rsa_mirror.studies``), writes tables, figures and arrays into the
folder ``out`` (the runner makes it and moves it into place) with the command line's writers
(``rsa_mirror.cli.write``), and returns what the report's caption says: the networks, the
stimuli, the scale, and the tables and figures to show. ``context`` holds ``device`` and
``imagenet`` (whether AlexNet's ImageNet weights are cached).

Networks: AlexNet with ImageNet weights and an untrained AlexNet when the weights are cached;
else the shipped control network (trained on rendered symmetric categories) and an untrained
control network of the same architecture, with the untrained AlexNet where AlexNet is needed
(Figure 6 and the recovery study). ``registry.STEPS`` lists them in report order, each with
its heading and the paper's finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..cli import write
from ..cli.supplements import SUPPLEMENTS, supplement_result, write_supplement
from ..symmetry import msvt_chance_level

if TYPE_CHECKING:
    from neural_data import Recordings

    from ..networks.models import LoadedModel
    from ..stimuli.base import StimulusSet

#: A step's settings, its context (``device``, ``imagenet``, ``scratch``) and its caption.
Settings = dict[str, Any]
Caption = dict[str, Any]

NETWORK_NOTES = {
    "AlexNet, imagenet": "AlexNet, torchvision's ImageNet weights (IMAGENET1K_V1)",
    "AlexNet, untrained": "AlexNet, untrained (LeCun normal weights, seed {seed})",
    "control network, shipped": "the shipped control network (trained on rendered symmetric categories, no faces)",
    "control network, untrained": "an untrained control network (seed {seed})",
}


def network_pair(context: Settings, seed: int) -> dict[str, LoadedModel]:
    """A trained network and an untrained one of the same architecture (module docstring)."""
    from ..networks.models import load_model

    if context["imagenet"]:
        return {
            "AlexNet, imagenet": load_model("alexnet", weights="imagenet"),
            "AlexNet, untrained": load_model("alexnet", weights="untrained", random_state=seed),
        }
    return control_pair(seed)


def control_pair(seed: int) -> dict[str, LoadedModel]:
    """The shipped control network and an untrained control network (``untrained_control``)."""
    from ..networks.files import load_shipped_network
    from ..studies.supplements_reflection import untrained_control

    shipped = load_shipped_network()
    trained = shipped.loaded()
    n_classes = int(shipped.network.state_dict()["fc3.weight"].shape[0])
    untrained = untrained_control(n_classes=n_classes, random_state=seed)
    return {"control network, shipped": trained, "control network, untrained": untrained}


def alexnet(context: Settings, seed: int) -> tuple[str, LoadedModel]:
    """(label, AlexNet): ImageNet weights when cached, else untrained."""
    from ..networks.models import load_model

    if context["imagenet"]:
        return "AlexNet, imagenet", load_model("alexnet", weights="imagenet")
    return "AlexNet, untrained", load_model("alexnet", weights="untrained", random_state=seed)


def _notes(labels: Any, seed: int) -> list[str]:
    return [NETWORK_NOTES.get(label, label).format(seed=seed) for label in labels]


def _objects(settings: Settings) -> StimulusSet:
    from ..stimuli.objects import render_objects

    return render_objects(n_exemplars=settings["n_exemplars"], size=settings["size"], random_state=settings["seed"])


def _objects_text(settings: Settings) -> str:
    n = settings["n_exemplars"]
    return (
        f"rendered objects, {n} exemplar{'s' * (n > 1)} x 9 categories x 9 views (−90° to 90°), "
        f"{settings['size']} px, seed {settings['seed']}"
    )


def run_figure2(settings: Settings, out: Path, context: Settings) -> Caption:
    """Figure 2: the index per layer and category, the trained network against the untrained one."""
    from ..studies.figure2 import msvt_study

    networks, stimuli = network_pair(context, settings["seed"]), _objects(settings)
    result = msvt_study(networks, stimuli, device=context["device"])
    tables = write.write_msvt(out, result, stimuli)
    summary = tables["msvt_by_object"].groupby(["network", "layer", "category"], sort=False)["msvt"].mean()
    write.write_csv(summary.unstack("category").reset_index(), out / "msvt_summary.csv", index=False)
    shown = [["msvt_summary.csv", "Mean index over exemplars per network, layer and category"]]
    if "msvt_comparison" in tables:
        shown.append(["msvt_comparison.csv", "Trained vs untrained per layer x category (rank-sum, BH FDR)"])
    return {
        "networks": _notes(networks, settings["seed"]),
        "stimuli": _objects_text(settings),
        "scale": f"{len(stimuli)} images, Figure 2C's layers",
        "tables": shown,
        "figures": ["msvt_figure2.png", "view_rdms_figure2a.png"],
    }


def run_projection_symmetry(settings: Settings, out: Path, context: Settings) -> Caption:
    """Figure 2—figure supplement 1: the symmetry of each image's 2-D projection; the pixels' index."""
    from ..projection_symmetry import projection_symmetry

    stimuli = _objects(settings)
    write.write_projection(out, projection_symmetry(stimuli), stimuli)
    return {
        "networks": ["none (pixels)"],
        "stimuli": _objects_text(settings),
        "scale": f"{len(stimuli)} images, vertical axis",
        "tables": [
            ["projection_symmetry_by_view.csv", "Best vertical-axis symmetry score per category and view"],
            ["pixel_msvt_summary.csv", "Pixel-level index per category"],
        ],
        "figures": ["projection_symmetry.png"],
    }


def run_figure3(settings: Settings, out: Path, context: Settings) -> Caption:
    """Figure 3: invariance and equivariance per layer on rendered objects, natural and noise images."""
    from ..studies.figure3 import equivariance_study, figure3_images

    seed, size = settings["seed"], settings["size"]
    counts = {"objects": settings["n_objects"], "natural": settings["n_natural"], "noise": settings["n_noise"]}
    image_sets = {kind: figure3_images(kind, n, size=size, random_state=seed) for kind, n in counts.items()}
    networks = network_pair(context, seed)
    table = write.write_equivariance(out, equivariance_study(networks, image_sets, device=context["device"]))
    write.write_csv(table.round(6), out / "equivariance_rounded.csv", index=False)
    return {
        "networks": _notes(networks, seed),
        "stimuli": f"{counts['objects']} rendered objects, {counts['natural']} natural crops (scikit-image / "
        f"scikit-learn photographs), {counts['noise']} gray noise images; {size} px, seed {seed}",
        "scale": "h-flip, v-flip, 90° rotation; every preset layer",
        "tables": [["equivariance.csv", "Invariance and equivariance per network, image set, layer and transform"]],
        "figures": ["equivariance_figure3.png"],
    }


def run_figure4(settings: Settings, out: Path, context: Settings) -> Caption:
    """Figure 4: control networks trained here (a small ``control_experiment``) and the shipped one, on objects."""
    import torch

    from ..networks.datasets import load_dataset
    from ..networks.files import load_shipped_network
    from ..stimuli.objects import render_objects
    from ..studies.figure4 import control_experiment, control_msvt, faces_in_fc
    from ..vis import plot_control_networks, plot_training_curves

    seed = settings["seed"]
    objects = render_objects(n_exemplars=settings["test_exemplars"], size=settings["size"], random_state=seed + 2024)
    shipped = control_msvt(load_shipped_network(), objects, device=context["device"])
    names = sorted({dataset for dataset, _ in settings["runs"]})
    datasets = {name: load_dataset(name, n_per_class=settings["n_per_class"], random_state=seed) for name in names}
    runs = [tuple(run) for run in settings["runs"]]
    device = context["device"] if context["device"] != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    experiment = control_experiment(datasets, objects, runs=runs, seeds=settings["seeds"], device=device,
                                    epochs=settings["epochs"])  # fmt: skip
    msvt = pd.concat([shipped.assign(dataset="shipped (rendered)", regime="original", seed=0), experiment.msvt])
    write.write_csv(msvt, out / "msvt_by_object.csv", index=False)
    write.write_csv(experiment.histories, out / "histories.csv", index=False)
    faces = faces_in_fc(msvt)
    write.write_csv(faces, out / "faces_in_fc.csv", index=False)
    groups = msvt.groupby(["dataset", "regime", "layer", "category"], sort=False)["msvt"].mean()
    write.write_csv(groups.unstack("category").reset_index(), out / "msvt_summary.csv", index=False)
    tables = {f"{d}, {r}": rows for (d, r), rows in msvt.groupby(["dataset", "regime"], sort=False)}
    dashed = tuple(label for label in tables if label.endswith("mirror_sensitive"))
    write.save_figure(plot_control_networks(tables, dashed=dashed, chance_level=msvt_chance_level(9)),
                      out / "msvt_figure4.png")  # fmt: skip
    histories = {label: network.history for label, network in experiment.networks.items()}
    write.save_figure(plot_training_curves(histories), out / "training_curves.png")
    epochs = "each dataset's schedule" if settings["epochs"] is None else f"{settings['epochs']} epochs"
    return {
        "networks": [NETWORK_NOTES["control network, shipped"]]
        + [f"control network trained here on {d}, {r} labels (seeds {settings['seeds']})" for d, r in runs],
        "stimuli": f"rendered objects, {settings['test_exemplars']} exemplars x 9 categories x 9 views, "
        f"{settings['size']} px resized to 32, seed {seed + 2024} (never trained on)",
        "scale": f"{len(experiment.networks)} networks trained, {epochs}",
        "tables": [["faces_in_fc.csv", "Faces' index in fc1 and fc2 (mean and 95% t interval over seeds)"],
                   ["msvt_summary.csv", "Mean index per network, layer and category"]],
        "figures": ["msvt_figure4.png", "training_curves.png"],
    }  # fmt: skip


def run_figure4_grid(settings: Settings, out: Path, context: Settings) -> Caption:
    """The Figure 4 grid: object geometry x label regime, several seeds per cell, the planned tests.

    ``settings``: ``scale`` (a ``GRID_SCALES`` preset) and the preset's fields to change
    (``seeds``, ``n_per_class``, ``epochs``, ...), plus ``together`` (train the networks with
    ``train_many``). The networks train into the step's scratch folder, so a killed step resumes
    with the networks it had finished.
    """
    from ..cli.figure4_grid import write_grid
    from ..studies.grid import figure4_grid
    from ..studies.grid_config import grid_settings

    changes = {key: value for key, value in settings.items() if key not in ("scale", "together")}
    changes = {key: tuple(value) if isinstance(value, list) else value for key, value in changes.items()}
    grid = grid_settings(settings["scale"], device=context["device"], **changes)
    scratch = context.get("scratch") or out / "grid"
    result = figure4_grid(grid, scratch, together=settings.get("together", False), verbose=False)
    write_grid(out, result)
    networks = result.networks
    accuracy = networks.groupby("n_classes")["val_accuracy"].agg(["min", "max"]).round(2)
    trained = "; ".join(f"{k}-class regimes: val accuracy {row['min']}–{row['max']}" for k, row in accuracy.iterrows())
    return {
        "networks": [f"{len(networks)} control networks trained here: {len(grid.cells)} cells (bilateral or chiral "
                     f"training objects x original, mirror_invariant, mirror_sensitive, class_split labels) x seeds "
                     f"{list(grid.seeds)}; {trained}"],
        "stimuli": f"{grid.n_per_class} rendered training images per category (6 categories, 32 px), "
        f"{grid.n_heldout} held out; test objects {grid.test_exemplars} exemplar(s) x 9 categories x "
        f"{len(grid.test_views)} views, {grid.test_size} px, seed {grid.test_seed} (never trained on)",
        "scale": f"{grid.epochs} epoch{'s' * (grid.epochs > 1)} per network; the plan's {grid.scale} preset"
        + ("" if not changes else ", changed: " + ", ".join(f"{k} {v}" for k, v in sorted(changes.items()))),
        "tables": [["grid_summary.csv", "Per cell and metric: mean and 95% t-interval over seeds"],
                   ["grid_tests.csv", "The planned permutation tests of the face index (exact, BH q over all)"]],
        "figures": ["figure4_grid.png"],
    }  # fmt: skip


def run_figure5(settings: Settings, out: Path, context: Settings) -> Caption:
    """Figure 5: RISE maps of mirror-symmetric units, insertion, deletion and shuffled images."""
    from ..stimuli.objects import render_objects
    from ..studies.figure5 import importance_network, importance_study

    seed = settings["seed"]
    if context["imagenet"]:
        label, model, layer, size = "AlexNet, imagenet", importance_network("alexnet"), "fc6_pre", 227
        units = "selected"  # the paper's: each object's mirror units
    else:  # 128 fc1 units: the top 5% of an object's template-positive units are too few for an index
        label, model, layer, size = "control network, shipped", importance_network("control"), "fc1", 64
        units = "layer"
    stimuli = render_objects(categories=settings["categories"], n_exemplars=settings["n_exemplars"], size=size,
                             random_state=seed)  # fmt: skip
    result = importance_study(
        model, stimuli, layer, n_masks=settings["n_masks"], batch_size=settings["batch_size"],
        device=context["device"], random_state=seed, checkpoint_dir=context.get("scratch"), index_units=units,
    )  # fmt: skip
    write.write_importance(out, result, stimuli)
    similarity = result.similarity.groupby("threshold")[["r_insertion", "r_deletion"]].mean().reset_index()
    write.write_csv(similarity, out / "similarity_by_threshold.csv", index=False)
    return {
        "networks": _notes([label], seed),
        "stimuli": f"rendered {', '.join(settings['categories'])}, {settings['n_exemplars']} exemplar(s) each x 9 "
        f"views, {size} px, seed {seed}",
        "scale": f"layer {layer}, {settings['n_masks']} RISE masks per image, panel D's index over the {units} units",
        "tables": [["summary.csv", "Per object: mirror units, tuning kept by insertion / deletion / shuffling"],
                   ["similarity_by_threshold.csv", "Mean r of the best unit's tuning with its original tuning"]],
        "figures": ["figure5.png"],
    }  # fmt: skip


def _face_patches(settings: Settings) -> tuple[Recordings, StimulusSet]:
    """Simulated MLMF, AL, AM recordings (mirror-paired views) and FIV-like faces for their rows."""
    from neural_data import simulate_face_patches

    from ..studies.figure6 import rendered_faces

    recordings = simulate_face_patches(n_identities=settings["n_identities"], random_state=settings["seed"])
    faces = rendered_faces(recordings.mirror_views(), size=settings["size"], random_state=settings["seed"])
    return recordings, faces


def run_figure6(settings: Settings, out: Path, context: Settings) -> Caption:
    """Figure 6: every layer against every simulated face patch; bootstrap, ceilings, Shapley split."""
    from ..studies.figure6 import alignment_study
    from ..studies.patches import patch_study

    seed = settings["seed"]
    recordings, faces = _face_patches(settings)
    write.write_patches(out, patch_study(recordings))
    labels, model = alexnet(context, seed)
    models = {labels: model}
    if not context["imagenet"]:
        models.update(list(control_pair(seed).items())[:1])
    options = {"n_bootstrap": settings["n_bootstrap"], "n_splits": settings["n_splits"], "random_state": seed}
    shown, figures = [["msvt_summary.csv", "Index per simulated patch (mean ± SEM over identities)"]], []
    for label, network in models.items():
        folder = label.split(",")[0].replace(" ", "_")
        result = alignment_study(recordings.mirror_views(), faces, network, device=context["device"], **options)
        write.write_alignment(out / folder, result, network)
        summary = result.summary()
        best = summary.loc[summary.groupby("patch", sort=False)["estimate"].idxmax()]
        columns = ["patch", "layer", "estimate", "std", "ceiling_lower", "ceiling_upper", "invariant", "sensitive"]
        write.write_csv(best[columns], out / folder / "best_layers.csv", index=False)
        shown.append(
            [f"{folder}/best_layers.csv", f"{label}: best layer per patch (r, bootstrap SD, ceiling, Shapley)"]
        )
        figures.append(f"{folder}/alignment_figure6.png")
    return {
        "networks": _notes(models, seed),
        "stimuli": f"simulated MLMF, AL, AM recordings (neural_data.simulate_face_patches, seed {seed}), "
        f"{settings['n_identities']} identities x 5 views; FIV-like rendered faces, {settings['size']} px",
        "scale": f"{settings['n_bootstrap']} stimulus resamples, {settings['n_splits']} neuron splits per ceiling",
        "tables": shown,
        "figures": ["patch_rdms.png", *figures],
    }


@dataclass(frozen=True)
class SupplementStep:
    """The step function of one supplement (``name``: a key of ``cli.supplements.SUPPLEMENTS``)."""

    name: str

    def __call__(self, settings: Settings, out: Path, context: Settings) -> Caption:
        """Run the supplement's study on ``network_pair`` and write its table, summary and figure."""
        from ..studies.figure3 import figure3_images

        name, seed = self.name, settings.get("seed", 0)
        networks = network_pair(context, seed)
        options = {"device": context["device"], "verbose": False}
        stimuli: StimulusSet | dict[str, StimulusSet] | None
        if name == "weight-symmetry":
            stimuli, text = None, "none (the weights)"
        elif name == "equivariance-distribution":
            stimuli = {"natural": figure3_images("natural", settings["n_images"], size=settings["size"],
                                                 random_state=seed)}  # fmt: skip
            text = f"{settings['n_images']} natural crops, {settings['size']} px, seed {seed}"
        else:
            stimuli, text = _objects(settings), _objects_text(settings)
        offsets = [tuple(pair) for pair in settings.get("offsets", [])]
        result, figure = supplement_result(name, networks, stimuli=stimuli, offsets=offsets,
                                           method=settings.get("method", "full"), **options)  # fmt: skip
        summary = write_supplement(out, name, result, figure)
        stem = SUPPLEMENTS[name][1]
        shifts = f", offsets (down, right) {settings['offsets']} px" if offsets else ""
        return {
            "networks": _notes(networks, seed),
            "stimuli": text,
            "scale": f"{len(result.table)} values{shifts}",
            "tables": [[f"{stem}_summary.csv", f"Summary per group ({len(summary)} rows)"]],
            "figures": [f"{stem}.png"],
        }


def run_recovery(settings: Settings, out: Path, context: Settings) -> Caption:
    """Recovery: patches read out from a known AlexNet layer, traced back by Figure 6's alignment."""
    from ..networks.activations import extract_activations
    from ..studies.recovery import recovery_study
    from ..vis import plot_recovery

    seed = settings["seed"]
    recordings, faces = _face_patches(settings)
    label, model = alexnet(context, seed)
    f_x = extract_activations(model, faces, "all", device=context["device"])
    f_gx = extract_activations(model, faces.mirrored(), "all", device=context["device"])
    keys = ("n_neurons", "noise_levels", "n_seeds", "n_bootstrap", "n_splits")
    results = [
        recovery_study(f_x, f_gx, faces.descriptors, source_layer=layer, random_state=seed,
                       **{key: settings[key] for key in keys})
        for layer in settings["source_layers"]
    ]  # fmt: skip
    table = pd.concat([result.table for result in results], ignore_index=True)
    summary = pd.concat([result.summary() for result in results], ignore_index=True)
    write.write_csv(table, out / "recovery.csv", index=False)
    write.write_csv(summary, out / "recovery_summary.csv", index=False)
    write.save_figure(plot_recovery(summary), out / "recovery.png")
    return {
        "networks": _notes([label], seed),
        "stimuli": f"FIV-like rendered faces, {settings['n_identities']} identities x 5 views, {settings['size']} px; "
        f"simulated patches of {settings['n_neurons']} neurons read out from {', '.join(settings['source_layers'])}",
        "scale": f"{settings['n_seeds']} seeds per noise level {settings['noise_levels']}, "
        f"{settings['n_bootstrap']} resamples, {settings['n_splits']} splits",
        "tables": [["recovery_summary.csv", "Recovery rate of the source layer per noise level (chance 1 / layers)"]],
        "figures": ["recovery.png"],
    }
