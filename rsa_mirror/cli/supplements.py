"""``rsa-mirror supplement NAME``: one of the paper's supplementary analyses, its table and figure.

NAME is one of ``SUPPLEMENTS``; each calls one study of ``rsa_mirror.studies.supplements`` or
``supplements_reflection`` on the network the options name beside an untrained one of the same
architecture, and writes ``<name>.csv`` (one row per value), ``<name>_summary.csv`` (mean, SEM,
median, quartiles per group) and ``<name>.png``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import matplotlib

from . import commands, write

if TYPE_CHECKING:
    import argparse

    import pandas as pd
    import torch
    from matplotlib.figure import Figure, SubFigure

    from .._typing import PathLike
    from ..networks.models import LoadedModel
    from ..stimuli.base import StimulusSet
    from ..studies.supplements import SupplementResult
    from ._parsing import AddCommand

# command-line name -> (paper's figure, file stem)
SUPPLEMENTS = {
    "pooling": ("Figure 2—figure supplement 6", "pooling"),
    "normalization": ("Figure 2—figure supplement 7", "normalization"),
    "shift": ("Figure 2—figure supplement 8", "shift"),
    "equivariance-distribution": ("Figure 3—figure supplement 1", "equivariance_distribution"),
    "category-invariance": ("Figure 3—figure supplement 2", "category_invariance"),
    "weight-symmetry": ("Figure 5—figure supplement 1", "weight_symmetry"),
}


def add_parser(command: AddCommand, parents: Sequence[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """The ``supplement`` subcommand (``command`` is ``main.build_parser``'s helper)."""
    sub = command("supplement", run_supplement, "the paper's supplementary analyses (pooling, shift, ...)", parents)
    sub.add_argument("name", choices=tuple(SUPPLEMENTS), help="which supplement")
    sub.add_argument("--n-exemplars", type=int, default=3, help="rendered exemplars per category (default 3)")
    sub.add_argument(
        "--offsets",
        type=int,
        nargs="+",
        default=[0, 0, 15, 15, 0, -30, 0, 30],
        help="shift: pairs of pixels down, right",
    )
    sub.add_argument("--fill", choices=("background", "wrap"), default="background", help="shift: uncovered pixels")
    sub.add_argument("--images", choices=("objects", "natural", "noise"), default="objects")
    sub.add_argument("--n-images", type=int, default=243, help="equivariance-distribution: images of --images")
    sub.add_argument("--method", choices=("full", "half"), default="full", help="weight-symmetry: full or half kernels")
    return sub


def _networks(args: argparse.Namespace) -> dict[str, LoadedModel]:
    """The network the options name and an untrained one of the same architecture."""
    from ..studies.figure5 import importance_network
    from ..studies.supplements_reflection import untrained_control

    if args.model != "control":
        return commands._networks(args)
    trained = importance_network("control", weights=None if args.weights == "imagenet" else args.weights)
    untrained = untrained_control(
        n_classes=cast("torch.nn.Linear", trained.module.fc3).out_features, random_state=args.seed
    )
    return {f"control, {trained.weights}": trained, f"control, {untrained.weights}": untrained}


def supplement_result(
    name: str,
    networks: Mapping[str, LoadedModel],
    *,
    stimuli: StimulusSet | Mapping[str, StimulusSet] | None = None,
    offsets: Sequence[Sequence[int]] = (),
    fill: str = "background",
    method: str = "full",
    **options: Any,
) -> tuple[SupplementResult, Figure | SubFigure]:
    """One supplement's study on ``networks`` and its figure: (result, ``Figure``).

    Args:
        name: a key of ``SUPPLEMENTS``.
        networks: label -> ``LoadedModel``.
        stimuli: the image set (rendered objects; for ``equivariance-distribution`` a mapping
            label -> ``StimulusSet``); unused by ``weight-symmetry``.
        offsets: shift: (pixels down, pixels right) pairs.
        fill: shift: uncovered pixels.
        method: weight-symmetry: ``"full"`` or ``"half"`` kernels.
        **options: ``device``, ``batch_size``, ``verbose`` of the study.
    """
    from .. import vis
    from ..studies import supplements as s2
    from ..studies import supplements_reflection as s35

    if name == "weight-symmetry":
        symmetry = s35.weight_symmetry_study(networks, transforms=("hflip", "vflip"), method=method)
        return symmetry, vis.plot_weight_symmetry(symmetry)
    if name == "equivariance-distribution":
        image_sets = cast("Mapping[str, StimulusSet]", stimuli)
        distribution = s35.equivariance_distribution_study(networks, image_sets, **options)
        return distribution, vis.plot_equivariance_distribution(distribution)
    objects = cast("StimulusSet", stimuli)
    if name == "pooling":
        pooling = s2.pooling_study(networks, objects, **options)
        return pooling, vis.plot_pooling(pooling)
    if name == "normalization":
        normalization = s2.normalization_study(networks, objects, **options)
        return normalization, vis.plot_normalization(normalization)
    if name == "shift":
        shift = s2.shift_study(networks, objects, offsets=list(offsets), fill=fill, **options)
        return shift, vis.plot_shift(shift)
    invariance = s35.category_invariance_study(networks, objects, **options)
    return invariance, vis.plot_category_invariance(invariance)


def write_supplement(out: PathLike, name: str, result: SupplementResult, figure: Figure | SubFigure) -> pd.DataFrame:
    """``<stem>.csv``, ``<stem>_summary.csv`` and ``<stem>.png`` of one supplement; returns the summary."""
    title, stem = SUPPLEMENTS[name]
    out = Path(out)
    summary = result.summary()
    write.write_csv(result.table, out / f"{stem}.csv", index=False)
    write.write_csv(summary, out / f"{stem}_summary.csv")
    figure.suptitle(title, fontsize=10)
    write.save_figure(figure, out / f"{stem}.png")
    return summary


def run_supplement(args: argparse.Namespace) -> int:
    """``rsa-mirror supplement NAME``: the study, ``<name>.csv``, ``<name>_summary.csv``, ``<name>.png``."""
    matplotlib.use("Agg")
    from ..networks.models import INPUT_SIZE
    from ..stimuli.objects import render_objects
    from ..studies.figure3 import figure3_images

    if args.name == "shift" and len(args.offsets) % 2:
        raise ValueError(f"--offsets takes pairs (pixels down, pixels right), got {len(args.offsets)} numbers")
    networks = _networks(args)
    size = args.size or (64 if args.model == "control" else INPUT_SIZE.get(args.model, 224))
    options = {"device": args.device, "batch_size": args.batch_size, "verbose": True}
    stimuli: StimulusSet | dict[str, StimulusSet] | None
    if args.name == "weight-symmetry":
        stimuli = None
    elif args.name == "equivariance-distribution":
        stimuli = {args.images: figure3_images(args.images, args.n_images, size=size, random_state=args.seed)}
    else:
        stimuli = render_objects(n_exemplars=args.n_exemplars, size=size, random_state=args.seed, verbose=True)
    offsets = list(zip(args.offsets[::2], args.offsets[1::2], strict=True))
    result, figure = supplement_result(
        args.name, networks, stimuli=stimuli, offsets=offsets, fill=args.fill, method=args.method, **options
    )
    summary = write_supplement(args.out, args.name, result, figure)
    title, stem = SUPPLEMENTS[args.name]
    out = Path(args.out)
    write.write_mat(args.mat, result)
    print(f"{title} ({', '.join(networks)}):")
    print(summary.to_string(float_format=lambda v: f"{v:.3f}", max_rows=60))
    print(f"Wrote {out / f'{stem}.csv'}, {out / f'{stem}_summary.csv'}, {out / f'{stem}.png'}")
    return 0
