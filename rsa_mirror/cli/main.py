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
``layout.csv``. ``rsa-mirror align`` runs the comparison alone, for any model and recordings;
``rsa-mirror sweep`` runs it for every preset layer of several networks at once, one task per
network (joblib, or dask.distributed with ``--scheduler``), and exits with status 3 when some
network failed, after writing the others.
``rsa-mirror reproduce --profile smoke|reduced|paper --out DIR`` runs every figure and
supplement study into one self-contained ``DIR/report.html``, each step cached and resumable.

This module parses; each subcommand's ``run`` (``commands``) calls one study of
``rsa_mirror.studies`` and writes its files (``write``). Every subcommand takes ``--quiet`` (no
progress bars) and ``--debug`` (the whole traceback of an error); its ``--help`` shows each
option's default; while it runs, warnings print as one line, ``rsa-mirror: warning: ...``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from .._utils import check_count
from .._version import __version__
from ..errors import RsaMirrorError
from ..stimuli.io import MAT_LAYOUTS
from . import commands, figure4_grid, reproduce, supplements
from ._parsing import HelpFormatter, one_option, options_parent
from .recordings import recordings_options

# Count options, checked before any work; n_bootstrap needs two resamples for a standard deviation.
COUNTS = {
    "batch_size": 1, "n_bootstrap": 2, "n_splits": 1, "n_masks": 1, "n_exemplars": 1, "n_images": 1,
    "epochs": 1, "size": 1, "n_per_class": 1, "n_identities": 1, "n_jobs": 1, "threads": 1,
}  # fmt: skip
DEBUG_HELP = "show the whole traceback of an error"
MAT_HELP = "also write the results to this .mat file (MATLAB/Octave: rsa_mirror_load)"
MODEL_NAMES = ("alexnet", "vgg16", "resnet50", "convnext_tiny", "vit_b_16")  # networks.models.PRESETS
MODELS = ", ".join(MODEL_NAMES)
QUIET_HELP = "no progress bars (the results are still printed)"
# Commands whose --model may also be "control" (the control networks of rsa-mirror train).
CONTROL_MODEL = ("importance", "supplement")
# Figure 3's rendered objects come in whole exemplars: 9 categories x 9 views.
OBJECT_IMAGES_PER_EXEMPLAR = 81
NORMALIZE: dict[str, Any] = {
    "choices": ("none", "zscore"),
    "default": "none",
    "help": "Figure 6 RDMs: none = plain 1 - Pearson (the paper's, default); zscore = units z-scored within "
    "each resample, RDMs recomputed (exact, minutes)",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``rsa-mirror``; returns the exit status."""
    parser, commands_by_name = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare rsa-mirror: what it can do
        parser.print_help()
        return 0
    try:
        _check_counts(args)
        _check_model(args)
        _check_n_images(args)
        with _cli_warnings(), _progress_bars(not args.quiet):
            return args.run(args)
    except (RsaMirrorError, OSError, ValueError) as error:  # bad input: one line, exit 2
        if args.debug:
            raise
        cli_message = getattr(error, "message", None)  # says it in command-line words (--weights untrained)
        text = (
            cli_message(cli=True)
            if callable(cli_message)
            else _with_options(str(error), commands_by_name[args.command])
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


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """(the ``rsa-mirror`` parser, subcommand name -> its parser); each subcommand's ``run`` is a default."""
    description = __doc__.split("\n\n")[0].replace("``", "")
    parser = argparse.ArgumentParser(prog="rsa-mirror", description=description, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"rsa-mirror {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    parser.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    every = options_parent(  # options of every subcommand, placed before or after it
        ("--debug", {"action": "store_true", "default": argparse.SUPPRESS, "help": DEBUG_HELP}),
        ("--quiet", {"action": "store_true", "default": argparse.SUPPRESS, "help": QUIET_HELP}),
    )
    mat = one_option("--mat", type=Path, default=None, help=MAT_HELP)
    layout = recordings_options()
    device = one_option("--device", default="auto", help="auto, cpu, cuda, ...")
    network = options_parent(
        ("--model", {"default": "alexnet", "help": MODELS}),
        ("--weights", {"default": "imagenet", "help": "imagenet, untrained or a state-dict file"}),
        ("--batch-size", {"type": int, "default": 32, "help": "images per forward pass"}),
    )
    stimulus_file = options_parent(
        (
            "--stimuli-layout",
            {
                "choices": MAT_LAYOUTS,
                "default": None,
                "help": "layout of a .mat --stimuli's cm_imgs: released (the authors' file, rows (v-1)*E+e, one "
                "column per category) or objects_x_views (default: the one its shape fits)",
            },
        ),
        ("--stimuli-names", {"type": Path, "default": None, "help": ".mat file holding the names of a .mat --stimuli"}),
    )
    simulated = argparse.ArgumentParser(add_help=False)
    source = simulated.add_mutually_exclusive_group(required=True)
    source.add_argument("--neural", type=Path, help="folder of neural_vecs_<PATCH>.mat files (or one .mat)")
    source.add_argument("--simulate", action="store_true", help="simulated MLMF/AL/AM recordings (seed --seed)")

    def command(
        name: str,
        run: Callable[[argparse.Namespace], int],
        help: str,
        parents: Sequence[argparse.ArgumentParser] = (),
    ) -> argparse.ArgumentParser:
        sub = subparsers.add_parser(
            name, parents=[*parents, every], help=help, description=help, formatter_class=HelpFormatter
        )
        sub.set_defaults(run=run)
        return sub

    demo_help = "default study: patch RDMs and mirror-symmetry index per patch"
    demo = command("demo", commands.run_demo, demo_help, [layout, mat, stimulus_file])
    demo.add_argument("--out", type=Path, default=Path("rsa_mirror_demo"), help="output folder (created)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the simulated recordings")
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
    demo.add_argument("--normalize", **NORMALIZE)

    render_help = "render the paper's 3D objects or FIV-like faces to a .npz stimulus set"
    render = command("render", commands.run_render, render_help)
    render.add_argument("--out", type=Path, required=True, help="output folder (created)")
    render.add_argument("--set", choices=("objects", "faces"), default="objects", help="what to render")
    render.add_argument("--n-exemplars", type=int, default=25, help="exemplars per category, or identities")
    render.add_argument("--size", type=int, default=227, help="image size in pixels")
    render.add_argument("--seed", type=int, default=0, help="seed of the rendering")
    projection_help = "Figure 2-S1: symmetry of each image's 2-D projection, and the index of the pixels"
    projection = command("projection-symmetry", commands.run_projection_symmetry, projection_help, [mat])
    projection.add_argument("--out", type=Path, required=True, help="output folder (created)")
    projection.add_argument("--stimuli", type=Path, default=None, help=".npz stimulus set (default: render objects)")
    projection.add_argument("--n-exemplars", type=int, default=25, help="exemplars per category when rendering")
    projection.add_argument("--size", type=int, default=227, help="rendered image size in pixels")
    projection.add_argument("--seed", type=int, default=0, help="seed of the rendering")
    projection.add_argument(
        "--angles", type=float, nargs="+", default=[0.0], help="axis tilts from vertical searched, degrees"
    )
    fetch_help = "download the menpo3d template face mesh (BSD-3-Clause) from the package registry"
    fetch = command("fetch-face-mesh", commands.run_fetch_face_mesh, fetch_help)
    fetch.add_argument(
        "--to", type=Path, default=None, help="where to write it (default: the package, else the user data folder)"
    )
    fetch.add_argument("--archive", type=Path, default=None, help="a local menpo3d-0.8.6.tar.gz instead of downloading")

    figures = options_parent(
        ("--out", {"type": Path, "required": True, "help": "output folder (created)"}),
        ("--size", {"type": int, "default": None, "help": "image size (default: the model's)"}),
        ("--seed", {"type": int, "default": 0, "help": "seed of stimuli and of the untrained network"}),
    )
    figure2 = "Figure 2: the index per layer and category, network vs untrained"
    msvt = command("msvt", commands.run_msvt, figure2, [mat, figures, network, device, stimulus_file])
    msvt.add_argument(
        "--stimuli", type=Path, default=None, help="stimulus set (.npz, folder, .mat; default: render the objects)"
    )
    msvt.add_argument("--n-exemplars", type=int, default=25, help="exemplars per category when rendering")
    figure3 = "Figure 3: invariance and equivariance per layer"
    equivariance = command("equivariance", commands.run_equivariance, figure3, [mat, figures, network, device])
    equivariance.add_argument(
        "--images",
        choices=("objects", "natural", "noise"),
        nargs="+",
        default=["objects"],
        help="the image set, or several side by side (Figure 3's three: objects natural noise)",
    )
    equivariance.add_argument(
        "--n-images",
        type=int,
        default=243,
        help="images of --images (objects: a multiple of 81, 9 categories x 9 views)",
    )
    equivariance.add_argument(
        "--color", action="store_true", help="RGB natural or noise images (default gray, the paper's text)"
    )

    supplements.add_parser(command, [mat, figures, network, device])

    figure6 = "Figure 6: every layer vs every patch, bootstrap, noise ceilings, Shapley split"
    align = command("align", commands.run_align, figure6, [layout, simulated, network, device, mat, stimulus_file])
    align.add_argument(
        "--stimuli", type=Path, default=None, help="stimulus set (.npz, folder, .mat) with identity and view_deg"
    )
    align.add_argument("--out", type=Path, required=True, help="output folder (created)")
    align.add_argument("--n-bootstrap", type=int, default=1000, help="stimulus bootstrap resamples")
    align.add_argument("--n-splits", type=int, default=100, help="neuron splits per noise ceiling")
    align.add_argument("--method", choices=("pearson", "spearman", "tau-a"), default="pearson", help="RDM comparison")
    align.add_argument("--normalize", **NORMALIZE)
    align.add_argument("--seed", type=int, default=0, help="seed of resampling, simulation and rendering")
    align.add_argument("--n-jobs", type=int, default=None, help="joblib workers (default: joblib's)")

    sweep_help = "every preset layer of several networks vs every patch: a task per network, bootstrap, ceilings, tests"
    sweep = command("sweep", commands.run_sweep, sweep_help, [layout, simulated, device, mat, stimulus_file])
    sweep.add_argument(
        "--models",
        nargs="+",
        choices=MODEL_NAMES,
        default=list(MODEL_NAMES),
        metavar="MODEL",
        help=f"networks, any of {MODELS}",
    )
    sweep.add_argument("--weights", default="imagenet", help="imagenet, untrained or a state-dict file (every network)")
    sweep.add_argument(
        "--stimuli", type=Path, default=None, help="stimulus set (.npz, folder, .mat) with identity and view_deg"
    )
    sweep.add_argument("--out", type=Path, required=True, help="output folder (created)")
    sweep.add_argument("--n-bootstrap", type=int, default=1000, help="stimulus bootstrap resamples")
    sweep.add_argument("--n-splits", type=int, default=100, help="neuron splits per noise ceiling")
    sweep.add_argument("--method", choices=("pearson", "spearman", "tau-a"), default="pearson", help="RDM comparison")
    sweep.add_argument("--seed", type=int, default=0, help="seed of resampling, simulation, rendering, weights")
    sweep.add_argument("--batch-size", type=int, default=32, help="images per forward pass")
    sweep.add_argument(
        "--scheduler",
        default=None,
        help="where the networks run: local (a dask LocalCluster of --n-jobs worker processes, one GPU each "
        "where there are GPUs) or a dask scheduler's address, tcp://HOST:8786 (default: this process, or "
        "--n-jobs joblib workers)",
    )
    sweep.add_argument("--n-jobs", type=int, default=1, help="worker processes for the networks")
    sweep.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads per network task (default: torch's; dask workers use 1): equal counts give "
        "bit-identical CPU activations",
    )

    figure4 = "Figure 4: train a control network, then its index per layer"
    training = command("train", commands.run_train, figure4, [device, mat])
    variant_help = "paper (the Methods' text, default) or released (the authors' notebooks: see docs/differences.md)"
    training.add_argument(
        "--dataset", choices=("digits", "rendered", "cifar10", "svhn"), default="digits", help="training set"
    )
    training.add_argument(
        "--regime",
        choices=("original", "mirror_invariant", "mirror_sensitive", "class_split"),
        default="original",
        help="labels of mirrored images (class_split: 2K classes by the sign of the camera elevation; rendered only)",
    )
    training.add_argument("--variant", choices=("paper", "released"), default="paper", help=variant_help)
    training.add_argument("--patience", type=int, default=None, help="early stopping (0: none; default: the variant's)")
    training.add_argument("--seed", type=int, default=0, help="seed of data, weights and batches")
    training.add_argument("--out", type=Path, required=True, help="output folder (a rerun resumes from its checkpoint)")
    training.add_argument("--epochs", type=int, default=None, help="default: the dataset's schedule (docs/networks.md)")
    training.add_argument("--batch-size", type=int, default=None, help="default: the dataset's schedule")
    training.add_argument("--lr", type=float, default=None, help="learning rate (default: the dataset's schedule)")
    training.add_argument("--root", type=Path, default=None, help="folder of torchvision's cifar10/svhn files")
    training.add_argument("--download", action="store_true", help="let torchvision download cifar10/svhn (internet)")
    training.add_argument("--n-per-class", type=int, default=1000, help="images per category of 'rendered'")

    figure4_grid.add_parser(command, [device, mat])

    figure5 = "Figure 5: RISE maps of mirror-symmetric units, insertion"
    importance = command("importance", commands.run_importance, figure5, [device, mat])
    importance.add_argument("--out", type=Path, required=True, help="output folder (RISE checkpoints kept there)")
    importance.add_argument("--model", default="alexnet", help="a torchvision model, or control (rsa-mirror train)")
    importance.add_argument(
        "--weights",
        default=None,
        help="imagenet (default), untrained or a state-dict file; for --model control: shipped (default) or "
        "a network file written by rsa-mirror train",
    )
    importance.add_argument(
        "--layer", default="fc6_pre", help="a layer preset or module path (the paper maps fc6 before its ReLU: fc6_pre)"
    )
    importance.add_argument("--categories", nargs="+", default=["car", "face", "chair"], help="rendered categories")
    importance.add_argument("--n-exemplars", type=int, default=1, help="exemplars per category")
    importance.add_argument("--n-masks", type=int, default=5000, help="RISE masks per image")
    importance.add_argument("--size", type=int, default=None, help="rendered image size (default 227; control 64)")
    importance.add_argument("--batch-size", type=int, default=256, help="masked images per forward pass")
    importance.add_argument("--compile", action="store_true", help="torch.compile the RISE pass (large GPU runs)")
    importance.add_argument(
        "--index-units", choices=("selected", "layer"), default="selected", help="units of panel D's index"
    )
    importance.add_argument(
        "--ranking", choices=("paper", "released"), default="paper", help="pixel ranking (released: the authors' code)"
    )
    importance.add_argument("--seed", type=int, default=0, help="seed of masks and rendering")

    reproduce.add_parser(command, [device])

    export_help = "patch RDMs to a .mat file in the MATLAB RSA toolbox layout"
    export = command("export-mat", commands.run_export_mat, export_help, [layout, simulated])
    export.add_argument("--seed", type=int, default=0, help="seed of the simulated recordings")
    export.add_argument("--out", type=Path, required=True, help="the .mat file to write")
    export.add_argument("--format", choices=("v7", "v7.3"), default="v7", help=".mat file version")
    export.add_argument(
        "--mirror-views", action="store_true", help="only the views with a mirror view (default: every row)"
    )
    import_help = "RDMs from a MATLAB .mat file to rsatoolbox's HDF5 format"
    imported = command("import-mat", commands.run_import_mat, import_help)
    imported.add_argument(
        "mat", type=Path, help=".mat file (struct array, 3-D stack, vectors, cell array; any version)"
    )
    imported.add_argument(
        "--variable", default=None, help="variable holding the RDMs (default: RDMs, RDM or the only one)"
    )
    imported.add_argument("--out", type=Path, required=True, help="rsatoolbox RDMs file to write (.hdf5)")
    return parser, dict(subparsers.choices)


def _check_counts(args: argparse.Namespace) -> None:
    for name, minimum in COUNTS.items():
        if getattr(args, name, None) is not None:
            check_count(name, getattr(args, name), minimum=minimum)


def _with_options(message: str, command: argparse.ArgumentParser) -> str:
    """A library message in command-line words: "Invalid value for 'n_masks'" gains "(--n-masks)"."""
    for action in command._actions:
        if action.option_strings and action.dest != "help":
            message = message.replace(f"'{action.dest}'", f"'{action.dest}' ({action.option_strings[-1]})", 1)
    return message


def _check_model(args: argparse.Namespace) -> None:
    """An unknown ``--model`` is refused before any work, listing the names the command takes."""
    model = getattr(args, "model", None)
    names = MODEL_NAMES + (("control",) if args.command in CONTROL_MODEL else ())
    if model is not None and model not in names:
        raise ValueError(f"Invalid value for 'name' (--model): expected one of {', '.join(names)}, got {model!r}")


def _check_n_images(args: argparse.Namespace) -> None:
    """``--n-images`` of the rendered objects must be whole exemplars (81 images each), else refused."""
    uses = args.command == "equivariance" or getattr(args, "name", None) == "equivariance-distribution"
    images = getattr(args, "images", None)
    images = images if isinstance(images, list) else [images]
    if uses and "objects" in images and args.n_images % OBJECT_IMAGES_PER_EXEMPLAR:
        per = OBJECT_IMAGES_PER_EXEMPLAR
        below, above = max(per, args.n_images // per * per), (args.n_images // per + 1) * per
        nearest = f"{below}" if below == above else f"{below} or {above}"
        raise ValueError(
            f"--n-images {args.n_images}: the rendered objects come in whole exemplars of {per} images (9 categories "
            f"x 9 views), so give a multiple of {per} (e.g. {nearest}); natural and noise images take any count"
        )


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A warning as one line, without the source file and line it was raised in."""
    print(f"rsa-mirror: warning: {message}", file=sys.stderr if file is None else file)


@contextlib.contextmanager
def _cli_warnings() -> Iterator[None]:
    """Warnings printed as ``rsa-mirror: warning: ...`` while a command runs (the library's format is left alone)."""
    with warnings.catch_warnings():  # restores warnings.showwarning on the way out
        warnings.showwarning = _show_warning
        yield


@contextlib.contextmanager
def _progress_bars(show: bool) -> Iterator[None]:
    """With ``show`` False (``--quiet``), every tqdm progress bar of the command is disabled."""
    if show:
        yield
        return
    from tqdm import std

    original, init = vars(std.tqdm)["__init__"], std.tqdm.__init__

    def quiet(self: Any, *bar_args: Any, **options: Any) -> None:
        init(self, *bar_args, **{**options, "disable": True})

    std.tqdm.__init__ = quiet  # tqdm.auto's class derives from tqdm.std.tqdm
    try:
        yield
    finally:
        std.tqdm.__init__ = original
