"""What the commands write: tables, figures, arrays and .mat files, each atomically, and what they print.

One writer per study result, so that a command is: parse, call the study, call its writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._utils import atomic_path
from ..errors import InvalidTypeError
from ..symmetry import msvt_chance_level
from ..vis import plot_alignment, plot_msvt_by_layer, plot_rdms, plot_shapley

if TYPE_CHECKING:
    from matplotlib.figure import Figure, SubFigure

    from neural_data import Recordings

    from .._typing import PathLike
    from ..networks.models import LoadedModel
    from ..projection_symmetry import ProjectionSymmetryResult
    from ..results import Result
    from ..stimuli.base import StimulusSet
    from ..studies.figure2 import MsvtResult
    from ..studies.figure3 import EquivarianceResult
    from ..studies.figure5 import ImportanceResult
    from ..studies.figure6 import AlignmentResult
    from ..studies.patches import PatchResult
    from ..studies.sweep import SweepResult

# The demo's table of each network's index per layer.
DEMO_LAYER_TABLES = {"AlexNet": "msvt_by_layer.csv", "control network": "msvt_by_layer_control.csv"}


def write_csv(frame: pd.DataFrame, path: PathLike, **options: Any) -> None:
    """``frame`` to ``path`` as CSV, atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, **options)


def save_figure(figure: Figure | SubFigure, path: PathLike) -> None:
    """``figure`` to ``path`` (150 dpi), atomically, then closed."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):  # a SubFigure is saved as part of the figure holding it
        raise InvalidTypeError(f"Invalid type for 'figure': expected a matplotlib Figure, got {type(figure).__name__}")

    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=150)
    plt.close(figure)


def write_npz(path: PathLike, **arrays: Any) -> None:
    """Arrays to a compressed .npz file, atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as file:
        np.savez_compressed(file, **arrays)


def write_mat(path: PathLike | None, result: Result | pd.DataFrame | Mapping[str, Any]) -> None:
    """Write the results of a command to ``path`` (when --mat was given)."""
    if path is None:
        return
    from matlab_bridge import save_results

    save_results(path, result)
    print(f"Wrote {path} (MATLAB/Octave: r = rsa_mirror_load('{path}'))")


def write_layout(recordings: Recordings, path: PathLike) -> None:
    """The descriptors of every row used, one row per stimulus (StimulusLayout.from_table reads it)."""
    rows = recordings[recordings.patches[0]].obs_descriptors
    write_csv(pd.DataFrame({k: np.asarray(v) for k, v in rows.items()}), path, index=False)


def write_patches(out: Path, result: PatchResult) -> None:
    """A ``PatchResult``: msvt_by_identity.csv, msvt_summary.csv, patch_rdms.png, and the summary printed."""
    summary, n_views = result.summary, result.n_views
    write_csv(result.by_identity, out / "msvt_by_identity.csv", index=False)
    write_csv(summary, out / "msvt_summary.csv")
    titles = [f"{patch}: MSVT index {row.msvt_mean:.2f} ± {row.msvt_sem:.3f}" for patch, row in summary.iterrows()]
    save_figure(plot_rdms(result.rdms, titles=titles), out / "patch_rdms.png")
    left_out = summary["views_left_out"].iloc[0]
    print(f"Patch RDMs over all {result.rdms.n_cond} stimuli.")
    print(f"Mirror-symmetric viewpoint tuning index per patch (mean ± SEM over identities; {n_views} views", end="")
    print(f"; left out for want of a mirror view: {left_out}):" if left_out else "):")
    print(summary.drop(columns="views_left_out").to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"(a view-invariant representation gives {msvt_chance_level(n_views):.3f}, not 0: see msvt_chance_level)")
    print(f"Wrote {out / 'patch_rdms.png'}, {out / 'msvt_summary.csv'}, {out / 'msvt_by_identity.csv'}, layout.csv")


def write_layers(out: Path, result: MsvtResult, faces: StimulusSet, *, title: str) -> None:
    """The demo's ``MsvtResult`` (faces, object = identity): one table per network, msvt_by_layer.png."""
    import matplotlib.pyplot as plt

    summaries = result.by_layer()
    figure, axes = plt.subplots(
        1, len(summaries), figsize=(7.2 * len(summaries), 3.6), squeeze=False, layout="constrained"
    )
    n_views = len(np.unique(faces.descriptors["view_deg"]))
    csvs = [out / DEMO_LAYER_TABLES.get(name, f"msvt_by_layer_{name}.csv") for name in summaries]
    for ax, (name, summary), csv in zip(axes[0], summaries.items(), csvs, strict=True):
        weights = result.weights[name]
        write_csv(summary, csv)
        chance = msvt_chance_level(n_views)
        plot_msvt_by_layer({f"{name}, {weights}": summary}, chance_level=chance, ax=ax, over="identities")
        print(f"\n{title} through {name} ({weights}); index per layer (mean ± SEM over identities):")
        print(summary.drop(columns="views_left_out").to_string(float_format=lambda v: f"{v:.3f}"))
    n_identities = len(np.unique(faces.descriptors["identity"]))
    figure.suptitle(f"{title}, {n_identities} identities x {n_views} views", fontsize=10)
    save_figure(figure, out / "msvt_by_layer.png")
    print(f"Wrote {out / 'msvt_by_layer.png'}, {', '.join(str(csv) for csv in csvs)}")


def write_alignment(out: PathLike, result: AlignmentResult, model: LoadedModel) -> None:
    """An ``AlignmentResult``: alignment.csv, bootstrap_samples.npz, alignment_figure6.png, best layers printed."""
    import matplotlib.pyplot as plt

    out = Path(out)
    summary, comparison = result.summary(), result.comparison
    write_csv(summary, out / "alignment.csv", index=False)
    write_npz(
        out / "bootstrap_samples.npz",
        samples=comparison.samples,
        indices=comparison.indices,
        patches=np.array(comparison.brain_names),
        layers=np.array(comparison.model_names),
        shapley_samples=result.shapley.samples,
        components=np.array(result.shapley.component_names),
    )
    n_patches, n_bootstrap = len(comparison.brain_names), comparison.samples.shape[-1]
    figure, axes = plt.subplots(
        2, n_patches, figsize=(3.6 * n_patches, 6.8), sharey="row", squeeze=False, layout="constrained"
    )
    plot_alignment(comparison, axes=axes[0])
    plot_shapley(result.shapley, axes=axes[1])
    figure.suptitle(f"{model.name} ({model.weights}) vs face patches, {n_bootstrap} stimulus resamples", fontsize=10)
    save_figure(figure, out / "alignment_figure6.png")
    best = summary.loc[summary.groupby("patch", sort=False)["estimate"].idxmax()]
    columns = ["patch", "layer", "estimate", "std", "ceiling_lower", "ceiling_upper", "invariant", "sensitive"]
    columns += ["vs_best", "q_vs_best", "q_vs_ceiling"]
    print(
        f"\nModel-brain alignment ({model.name}, {model.weights}; {comparison.method} r of normalize="
        f"{comparison.normalize} RDMs, bootstrap SD, split-half ceiling"
    )
    print("bounds, Shapley parts of r, margin over the next best layer, FDR q of that and against the lower ceiling);")
    print("best layer per patch:")
    print(best[columns].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"Wrote {out / 'alignment.csv'}, {out / 'alignment_figure6.png'}, {out / 'bootstrap_samples.npz'}")


def write_sweep(out: PathLike, result: SweepResult) -> None:
    """A ``SweepResult``: sweep.csv, sweep_samples.npz, sweep.png, each network's best layer per patch printed."""
    from ..vis import plot_sweep

    out = Path(out)
    summary, comparison = result.summary(), result.comparison
    write_csv(summary, out / "sweep.csv", index=False)
    write_npz(
        out / "sweep_samples.npz",
        samples=comparison.samples,
        indices=comparison.indices,
        patches=np.array(comparison.brain_names),
        models=np.array(result.networks),
        layers=np.array(result.layers),
    )
    figure = plot_sweep(result)
    n_bootstrap = comparison.samples.shape[-1]
    figure.suptitle(f"Networks vs face patches ({comparison.method} r, {n_bootstrap} stimulus resamples)", fontsize=10)
    save_figure(figure, out / "sweep.png")
    best = summary[summary.best_of_model]
    cells = best.layer + " " + best.estimate.map("{:.3f}".format) + np.where(best.best, " *", "")
    table = pd.DataFrame({"model": best.model, "patch": best.patch, "cell": cells})
    print(f"\nModel-brain alignment, best layer of each network per patch ({comparison.method} r; * best overall):")
    pivot = table.pivot(index="model", columns="patch", values="cell")
    print(pivot.loc[list(result.weights), list(comparison.brain_names)].to_string())
    ceilings = summary.drop_duplicates("patch").set_index("patch")[["ceiling_lower", "ceiling_upper"]]
    print("noise ceilings (lower, upper):", ", ".join(f"{p} {lo:.3f}-{hi:.3f}" for p, (lo, hi) in ceilings.iterrows()))
    print(f"Wrote {out / 'sweep.csv'}, {out / 'sweep.png'}, {out / 'sweep_samples.npz'}")


def write_msvt(out: PathLike, result: MsvtResult, stimuli: StimulusSet) -> dict[str, pd.DataFrame]:
    """An ``MsvtResult`` (Figure 2): msvt_by_object.csv, msvt_comparison.csv (two networks), two figures.

    Returns:
        dict table name -> DataFrame written (``msvt_by_object``, and ``msvt_comparison``
        for two networks).
    """
    from ..vis import plot_msvt_categories, plot_view_rdms

    out = Path(out)
    combined = result.combined()
    write_csv(combined, out / "msvt_by_object.csv", index=False)
    comparison: pd.DataFrame | Literal[False] = (
        result.compare() if len(result.tables) == 2 else False
    )  # Figure 2-figure supplement 2B
    tables = {"msvt_by_object": combined}
    if comparison is not False:
        write_csv(comparison, out / "msvt_comparison.csv", index=False)
        tables["msvt_comparison"] = comparison
    chance = msvt_chance_level(len(np.unique(stimuli.descriptors["view_deg"])))
    figure = plot_msvt_categories(result.tables, layer_key="layer", chance_level=chance, comparison=comparison)
    save_figure(figure, out / "msvt_figure2.png")
    first = next(iter(result.view_rdms))  # Figure 2A: the first exemplar of each category, every layer
    examples = list(dict.fromkeys(combined.drop_duplicates("category")["object"]))
    panels = plot_view_rdms(result.view_rdms[first], objects=examples, msvt=result.tables[first], layer_key="layer")
    panels.suptitle(first, fontsize=9)
    save_figure(panels, out / "view_rdms_figure2a.png")
    summary = combined.groupby(["network", "layer", "category"], sort=False)["msvt"].mean().unstack("category")
    print(summary.to_string(float_format=lambda v: f"{v:.2f}"))
    if comparison is not False:
        first, second = result.tables
        print(
            f"{first} vs {second}: {int(comparison['significant'].sum())} of {len(comparison)} layer x category cells "
            f"differ (two-sided rank-sum over exemplars, BH FDR q < 0.05): {out / 'msvt_comparison.csv'}"
        )
    print(f"Wrote {out / 'msvt_by_object.csv'}, {out / 'msvt_figure2.png'}, {out / 'view_rdms_figure2a.png'}")
    return tables


def write_equivariance(out: PathLike, result: EquivarianceResult) -> pd.DataFrame:
    """An ``EquivarianceResult`` (Figure 3): equivariance.csv and equivariance_figure3.png; returns the table."""
    from ..vis import plot_equivariance

    combined, out = result.combined(), Path(out)
    write_csv(combined, out / "equivariance.csv", index=False)
    save_figure(plot_equivariance(result.tables), out / "equivariance_figure3.png")
    print(combined.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"Wrote {out / 'equivariance.csv'} and {out / 'equivariance_figure3.png'}")
    return combined


def write_projection(
    out: PathLike, result: ProjectionSymmetryResult, stimuli: StimulusSet
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A ``ProjectionSymmetryResult`` (Figure 2—S1): four tables and projection_symmetry.png; returns by_view, index."""
    from ..vis import plot_projection_symmetry

    out = Path(out)
    key = "category" if "category" in stimuli.descriptors else "object"
    by_view, pixel_index = result.by_view(key=key), result.pixel_index(key=key)
    write_csv(result.images, out / "projection_symmetry.csv", index=False)
    write_csv(by_view, out / "projection_symmetry_by_view.csv")
    write_csv(result.pixel_msvt, out / "pixel_msvt.csv", index=False)
    write_csv(pixel_index, out / "pixel_msvt_summary.csv")
    chance = msvt_chance_level(len(np.unique(stimuli.descriptors["view_deg"])))
    figure = plot_projection_symmetry(result, key=key, chance_level=chance)
    save_figure(figure, out / "projection_symmetry.png")
    print("Best vertical-axis score (mean over objects) per view:")
    print(by_view.to_string(float_format=lambda v: f"{v:.2f}"))
    print(f"Pixel-level index (chance {chance:.3f}):")
    print(pixel_index[["msvt_mean", "msvt_sem", "n_objects"]].to_string(float_format=lambda v: f"{v:.3f}"))
    written = ", ".join(str(out / name) for name in ("projection_symmetry.csv", "pixel_msvt_summary.csv"))
    print(f"Wrote {written}, {out / 'projection_symmetry.png'}")
    return by_view, pixel_index


def write_importance(out: PathLike, result: ImportanceResult, stimuli: StimulusSet) -> dict[str, pd.DataFrame]:
    """An ``ImportanceResult`` (Figure 5): summary, tuning, similarity, msvt CSVs, maps, figure5.png.

    Returns:
        dict table name -> DataFrame written.
    """
    from ..vis import plot_importance_study

    out = Path(out)
    tables = {"summary": result.summary(), "tuning": result.tuning, "similarity": result.similarity}
    tables["msvt"] = result.msvt
    for name, table in tables.items():
        write_csv(table, out / f"{name}.csv", index=False)
    for name in ("maps", "unit_maps"):  # population and best-unit maps, (n_views, H, W) per object
        write_npz(out / f"{name}.npz", **{str(k): v for k, v in getattr(result, name).items()})
    save_figure(plot_importance_study(result, stimuli), out / "figure5.png")
    return tables
